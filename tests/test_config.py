"""Config validation: every malformed config gets one clear line and exit code 2."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from cem._cli import main
from cem.config import apply_overrides, parse_config
from cem.errors import ConfigError
from cem.options import OPTIONS
from cem.rundir import dump_toml

BASE = {
    "problem": {"name": "maxcut", "instance": "tutorial5"},
    "optimizer": {"n_samples": 50, "seed": 0},
    "output": {"plots": False},
}

# Values no option accepts, and values some options reject.
NEVER_VALID = ["abc", [1, 2], {"a": 1}, float("nan")]
NUMERIC_BAD = [-1, 0, -0.5, 1e400, True]


def _option_cases():
    for name, opt in OPTIONS.items():
        candidates = NEVER_VALID + NUMERIC_BAD + [1.5, 2, 1e9]
        for value in candidates:
            if value is not None:
                try:
                    opt.validate(value)
                    continue  # accepted by this option: not a malformed case
                except ConfigError:
                    pass
            yield f"optimizer-{name}-{value!r}", {"optimizer": {name: value}}


def _other_cases():
    yield "no-problem", {"problem": None}
    yield "problem-not-table", {"problem": 5}
    yield "problem-no-name", {"problem": ("replace", {"instance": "tutorial5"})}
    for name in ["nosuch", "", 5, "nosuch.module:Cls", "cem:nothing", "os:sep", "maxcut:"]:
        yield f"problem-name-{name!r}", {"problem": {"name": name}}
    bad_params = [
        ("instance", "petersen"), ("instance", 3), ("instance", "G999"), ("n", "abc"),
        ("n", -4), ("n", 10**12), ("m", 1.5), ("seed", -1), ("colour", "red"),
        ("instance", "gset"), ("fix_first", [1]),
    ]  # fmt: skip
    for key, value in bad_params:
        yield f"problem-{key}-{value!r}", {"problem": {"name": "maxcut", key: value}}
    yield "gset-missing-file", {"problem": {"name": "maxcut", "instance": "gset",
                                            "file": "/nonexistent/G1.txt"}}  # fmt: skip
    for section in ["optimiser", "problems", "extra", "Output"]:
        yield f"section-{section}", {section: {"x": 1}}
    for key in ["N", "elite", "smoothing", "iterations", "seeds", "jobs"]:
        yield f"optimizer-unknown-{key}", {"optimizer": {key: 1}}
    yield "optimizer-not-table", {"optimizer": 3}
    yield "n_elite-above-N", {"optimizer": {"n_samples": 10, "n_elite": 11}}
    family_cases = [
        {"type": "gaussian"}, {"type": 1}, {"p": 0.5}, {"type": "bernoulli", "p": 2.0},
        {"type": "bernoulli", "p": [0.5, 0.5]}, {"type": "bernoulli", "q": 0.5},
        {"type": "bernoulli", "p": "half"}, {"type": "normal", "sigma": -1.0},
        {"type": "normal", "mean": [1.0, 2.0]}, {"type": "categorical"},
        {"type": "full_normal", "cov": [[1.0, 2.0]]}, {"type": "bernoulli", "p": float("nan")},
    ]  # fmt: skip
    for k, fam in enumerate(family_cases):
        yield f"family-{k}", {"family": fam}
    for key, value in [("dir", 5), ("plots", "yes"), ("checkpoint", 1), ("where", "x")]:
        yield f"output-{key}", {"output": {key: value}}
    yield "estimator-for-optimizer", {"estimator": {"rho": 0.1}}
    rare = {"name": "bridge_network", "gamma": 2.0}
    for key, value in [("rho", 1.5), ("n_final", 1), ("n_samples", "many"), ("alpha", 0),
                       ("levels", 3), ("seed", -2), ("max_levels", 0)]:  # fmt: skip
        yield f"estimator-{key}-{value!r}", {"problem": ("replace", rare), "optimizer": None,
                                             "estimator": {key: value}}  # fmt: skip
    yield "rare-with-optimizer", {"problem": ("replace", rare), "optimizer": {"rho": 0.1}}
    yield "rare-bad-param", {"problem": ("replace", {**rare, "edges": 5}), "optimizer": None}


def _merge(base, change):
    cfg = {k: dict(v) for k, v in base.items()}
    for section, values in change.items():
        if values is None:
            cfg.pop(section, None)
        elif isinstance(values, tuple):
            cfg[section] = values[1]
        elif isinstance(values, dict) and isinstance(cfg.get(section), dict):
            cfg[section].update(values)
        else:
            cfg[section] = values
    return cfg


CASES = list(itertools.chain(_option_cases(), _other_cases()))


def _write(tmp_path: Path, cfg: dict) -> Path:
    lines = []
    for section, values in cfg.items():
        if isinstance(values, dict):
            lines.append(dump_toml({section: values}))
        else:
            lines.append(f"{section} = {values!r}\n")
    path = tmp_path / "bad.toml"
    path.write_text("".join(lines))
    return path


def test_there_are_at_least_200_cases():
    assert len(CASES) >= 200


@pytest.mark.parametrize(("label", "change"), CASES, ids=[c[0] for c in CASES])
def test_malformed_config_exits_2_with_one_line(label, change, tmp_path, capsys):
    cfg = _merge(BASE, change)
    path = _write(tmp_path, cfg)
    out = tmp_path / "run"
    for argv in (["validate", str(path)], ["run", str(path), "--out", str(out)]):
        assert main(argv) == 2, label
        err = capsys.readouterr().err
        assert err.startswith("cem: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err
    assert not out.exists(), "a run started"


@pytest.mark.parametrize(
    "text",
    ["[problem\nname = 1", "not toml at all = = =", "\x00\x01", ""],
)
def test_unparsable_or_empty_files(text, tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.startswith("cem: error: ")


def test_missing_config_file(capsys):
    assert main(["run", "/nonexistent/config.toml"]) == 2
    assert "config file not found: /nonexistent/config.toml" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        # the same path as the in-process tests above (and the README check runs the CLI in
        # processes); each process takes 1-4 s to start
        *(pytest.param(argv, marks=pytest.mark.slow) for argv in (
            ["validate", "{cfg}", "--set", "optimizer.rho=2"],
            ["run", "{cfg}", "--set", "optimizer.bogus=1"],
            ["run", "{cfg}", "--set", "norho"],
            ["run", "{cfg}", "--seed", "-3"])),
    ],
)  # fmt: skip
def test_bad_overrides_in_a_real_process(argv, tmp_path):
    cfg = tmp_path / "ok.toml"
    cfg.write_text(dump_toml(BASE))
    cmd = [sys.executable, "-m", "cem._cli", *[a.format(cfg=cfg) for a in argv]]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("cem: error: ") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_messages_name_key_value_and_accepted():
    with pytest.raises(ConfigError, match=r"\[optimizer\] rho must be a number in \(0, 1\), got 2"):
        parse_config(_merge(BASE, {"optimizer": {"rho": 2}}))
    with pytest.raises(ConfigError, match=r"unknown section \[optimiser\]; accepted sections"):
        parse_config(_merge(BASE, {"optimiser": {}}))
    with pytest.raises(ConfigError, match=r"has no parameter 'colour'; accepted: instance, n"):
        parse_config(_merge(BASE, {"problem": {"colour": 1}}))
    with pytest.raises(ConfigError, match=r"unknown problem 'nosuch'; registered problems: "):
        parse_config({"problem": {"name": "nosuch"}})


def test_overrides_parse_toml_values():
    raw = apply_overrides(BASE, ["optimizer.rho=0.05", "problem.instance=synthetic",
                                 "optimizer.verbose=true"])  # fmt: skip
    assert raw["optimizer"]["rho"] == 0.05 and raw["optimizer"]["verbose"] is True
    assert raw["problem"]["instance"] == "synthetic"
    assert BASE["optimizer"] == {"n_samples": 50, "seed": 0}


def test_family_section_broadcasts_scalars():
    cfg = parse_config(_merge(BASE, {"family": {"type": "bernoulli", "p": 0.25}}))
    assert cfg.family.p.tolist() == [0.25] * 5
