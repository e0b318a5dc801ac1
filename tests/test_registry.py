"""The registries: every family can be named in a config, plug-ins come through entry
points, and a family the problem cannot score is refused in one line."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from cem._cli import main
from cem.config import load_config
from cem.errors import ConfigError
from cem.registry import (
    FAMILIES,
    PROBLEMS,
    available_families,
    available_problems,
    resolve,
    resolve_family,
)

#: One config per registered family: (family name, [problem] section, [family] keys).
FAMILY_CONFIGS = {
    "bernoulli": ('name = "maxcut"\ninstance = "tutorial5"', "p = 0.5"),
    "categorical": ('name = "flowline_pnh"\nn_units = 200\nwarmup = 20',
                    "n_categories = [18, 18, 19]"),
    "normal": ('name = "sphere"\ndim = 3', "mean = 1.0\nsigma = 2.0"),
    "full_normal": ('name = "sphere"\ndim = 3', "mean = 1.0\ncov = 4.0"),
    "truncated_normal": ('name = "sphere"\ndim = 3',
                         "mean = 0.5\nsigma = 1.0\nlow = -1.0\nhigh = 2.0"),
    "normal_mixture": ('name = "sphere"\ndim = 2',
                       "weights = [0.5, 0.5]\nmeans = [[-1.0, 0.0], [1.0, 0.0]]\n"
                       "sigmas = [[1.0, 1.0], [1.0, 1.0]]"),
    "exponential": ('name = "bridge_network"\ngamma = 1.5', "mean = 0.5"),
    "gamma": ('name = "bridge_network"\ngamma = 1.5\nfamily = "gamma"', "shape = 2.0\nscale = 0.5"),
    "transition_matrix": ('name = "tsp"\ninstance = "br17"', ""),
    "node_placement": ('name = "tsp"\ninstance = "br17"', ""),
    "sequential_allocation": ('name = "buffer_allocation"\nline = "balanced4"\ntotal = 10\n'
                              "n_units = 300\nwarmup = 30", "total = 10"),
    "birth_death_walk": ('name = "mm1_overflow"\nlevel = 8', "p = 0.5\nlevel = 8"),
}  # fmt: skip


def _write(tmp_path: Path, name: str, problem: str, family: str, section: str) -> Path:
    path = tmp_path / f"{name}.toml"
    body = f"[problem]\n{problem}\n\n[family]\ntype = {name!r}\n{family}\n"
    if section == "estimator":
        body += "\n[estimator]\nn_samples = 200\nn_final = 2000\nmax_levels = 3\nseed = 0\n"
        # three levels may not reach the event: the run is still a run (exit 0)
        body += "\n[output]\nfail_untrusted = false\n"
    else:
        body += "\n[optimizer]\nn_samples = 400\nmax_iter = 2\nseed = 0\n"
    path.write_text(body.replace("'", '"'), encoding="utf-8")
    return path


def test_every_builtin_family_has_a_config_case():
    assert set(FAMILY_CONFIGS) == set(FAMILIES)


@pytest.mark.parametrize("name", sorted(FAMILY_CONFIGS))
def test_every_family_can_be_named_in_a_config_and_runs(tmp_path, name):
    problem, family = FAMILY_CONFIGS[name]
    section = "estimator" if name in ("exponential", "gamma", "birth_death_walk") else "optimizer"
    path = _write(tmp_path, name, problem, family, section)
    cfg = load_config(path)
    assert type(cfg.family) is resolve_family(name) or isinstance(
        cfg.family, getattr(resolve_family(name), "__self__", type(None))
    )
    # the figure is not what is tested here (it takes most of a small run's time)
    argv = [
        "run",
        str(path),
        "--out",
        str(tmp_path / "run"),
        "--quiet",
        "--set",
        "output.plots=false",
    ]
    assert main(argv) == 0


def test_family_keys_are_checked_against_the_signature(tmp_path):
    path = _write(tmp_path, "normal", 'name = "sphere"\ndim = 2', "mu = 1.0", "optimizer")
    with pytest.raises(ConfigError, match=r"has no parameter 'mu'; accepted: mean, sigma"):
        load_config(path)


@pytest.mark.parametrize(
    ("problem", "family", "message"),
    [
        ('name = "maxcut"\ninstance = "tutorial5"', 'type = "normal"',
         r"problem MaxCut cannot score samples of a Normal family; accepted families: Bernoulli"),
        ('name = "tsp"\ninstance = "br17"', 'type = "bernoulli"',
         r"problem TSP cannot score samples of a Bernoulli family; accepted families: "
         r"TransitionMatrix, NodePlacement"),
        ('name = "sphere"\ndim = 3', 'type = "normal"\nmean = [0.0, 0.0]',
         r"mean must have shape \(3,\)"),
    ],
)  # fmt: skip
def test_a_mismatched_family_is_refused_by_validate_in_one_line(
    tmp_path, capsys, problem, family, message
):
    path = tmp_path / "bad.toml"
    path.write_text(f"[problem]\n{problem}\n\n[family]\n{family}\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cem: error: [family]")
    assert re.search(message, err)


def test_a_mismatched_family_is_refused_by_the_python_api():
    import numpy as np

    from cem import maximize
    from cem.families import Normal
    from cem.problems.maxcut import MaxCut

    with pytest.raises(ConfigError, match="MaxCut cannot score samples of a Normal family"):
        maximize(MaxCut.tutorial(), Normal(np.zeros(5), 1.0), rng=0)


@pytest.fixture
def plugin_distribution(tmp_path, monkeypatch):
    """An installed distribution that registers a family and a problem by entry points."""
    (tmp_path / "cem_plugin_demo.py").write_text(
        textwrap.dedent(
            '''
            import numpy as np

            from cem.families import Normal
            from cem.problems.continuous import Sphere


            class WideNormal(Normal):
                """A Normal family whose sigma never falls below 0.1."""

                def __init__(self, mean: np.ndarray, sigma: np.ndarray) -> None:
                    super().__init__(mean, sigma, min_sigma=0.1)

                def with_params(self, **params):
                    return WideNormal(params["mean"], params["sigma"])


            class Shifted(Sphere):
                """The sphere centred at 1."""

                def score(self, X):
                    return super().score(X - 1.0)
            '''
        ),
        encoding="utf-8",
    )
    info = tmp_path / "cem_plugin_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cem-plugin-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[cem.families]\nwide_normal = cem_plugin_demo:WideNormal\n\n"
        "[cem.problems]\nshifted_sphere = cem_plugin_demo:Shifted\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("cem_plugin_demo", None)


def test_plugin_family_and_problem_are_used_from_a_config(plugin_distribution, tmp_path, capsys):
    assert "wide_normal" in available_families()
    path = tmp_path / "plugin.toml"
    path.write_text(
        '[problem]\nname = "shifted_sphere"\ndim = 2\n\n'
        '[family]\ntype = "wide_normal"\nmean = 0.0\nsigma = 3.0\n\n'
        "[optimizer]\nn_samples = 100\nmax_iter = 30\nseed = 0\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert type(cfg.family).__name__ == "WideNormal"
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0, (
        capsys.readouterr().err
    )


def test_unknown_names_list_the_registered_ones():
    with pytest.raises(ConfigError, match=r"registered problems: .*maxcut"):
        resolve("nosuch")
    with pytest.raises(ConfigError, match=r"registered families: .*bernoulli"):
        resolve_family("nosuch")
    assert set(PROBLEMS) <= set(available_problems())
