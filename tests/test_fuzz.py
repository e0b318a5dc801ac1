"""Generated malformed configs, instance files and API calls: each is refused cleanly.

The generator derives most cases from the code's own tables (every registered
problem's signature, every optimizer and estimator option) and adds hand-written
instance files and hostile names. Every case is malformed, so each must raise one of
cem's own errors (a :class:`cem.errors.CEMError`): anything else is a traceback, and
a return is a silent acceptance. A sample also goes through the command line, where
``validate`` and ``run`` must both answer with exit code 2 and one line. The memory
limit is lowered for the suite, and the peak of traced allocations must stay below it.
"""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cem._cli import main
from cem.config import load_config
from cem.errors import CEMError
from cem.options import OPTIONS
from cem.registry import PROBLEMS, resolve
from cem.rundir import dump_toml

LIMIT = 256 * 1024**2
NAN, INF = math.nan, math.inf
BIG = 2**64
#: Names that would run code if imported and called.
HOSTILE = ["os:system", "subprocess:call", "builtins:exec", "builtins:eval", "shutil:rmtree",
           "importlib:import_module", "pickle:loads", "os:remove", "nosuch.module:Thing",
           "cem.problems.maxcut:MaxCut"]  # fmt: skip

# ---------------------------------------------------------------------- generator
_BAD_BY_TYPE: dict[str, list[Any]] = {
    "int": [2.5, "3", True, NAN, [1], {"a": 1}, BIG, -BIG],
    "float": ["1.5", True, NAN, INF, -INF, [1.0], {"a": 1}],
    "str": [5, 1.5, True, ["a"]],
    "bool": [1, "true", 0.0],
    "tuple[float, ...]": ["1,2", [1.0, "a"], [NAN], 5, [True]],
    "float | Sequence[float]": ["x", [NAN], True, [[1.0]]],
}


def _bad_values(annotation: str) -> list[Any]:
    parts = [a.strip() for a in annotation.split("|") if a.strip() != "None"]
    key = " | ".join(parts)
    if key in _BAD_BY_TYPE:
        return _BAD_BY_TYPE[key]
    return _BAD_BY_TYPE.get(parts[0], []) if len(parts) == 1 else []


def problem_param_cases() -> Iterator[tuple[str, dict]]:
    """Every typed parameter of every registered problem, given values of other types."""
    import inspect

    for name in PROBLEMS:
        for key, p in inspect.signature(resolve(name)).parameters.items():
            if isinstance(p.annotation, str):
                for value in _bad_values(p.annotation):
                    yield f"{name}.{key}={value!r}", {"problem": {"name": name, key: value}}


#: Values of the right type but out of range, per problem.
SEMANTIC = {
    "maxcut": [{"n": 1}, {"n": -5}, {"n": 10, "m": 0}, {"n": 10, "m": 10}, {"n": 10, "m": 3},
               {"seed": -1}, {"instance": "nope"}, {"instance": "G999"}, {"instance": "gset"},
               {"instance": "gset", "file": "missing.txt"}, {"instance": "gset", "file": "."},
               {"n": 10**6}, {"n": 100_000}, {"unknown_key": 1}],
    "tsp": [{"instance": "nope"}, {"family": "ants"}, {"file": "missing.tsp"}, {"file": "."},
            {"file": ""}, {"unknown_key": 1}],
    "buffer_allocation": [{"total": -1}, {"total": 10**6}, {"line": "nope"},
                          {"warmup": 5000, "n_units": 5000}, {"n_units": -1}, {"seed": -3}],
    "flowline_pnh": [{"rate_budget": 2}, {"buffer_budget": 1}, {"n_units": 1},
                     {"warmup": 10, "n_units": 10}, {"seed": -1}, {"n_units": 10**9}],
    "mm1_overflow": [{"level": 1}, {"level": 0}, {"level": -4}, {"arrival": 2.0, "service": 2.0},
                     {"arrival": -1.0}, {"service": 0.0}],
    "sum_of_exponentials": [{"n": 0}, {"n": -2}, {"mean": 0.0}, {"mean": -1.0}, {"n": 10**12}],
    "bridge_network": [{"means": [1.0, 2.0]}, {"means": []}],
    "linear_limit_state": [{"a": [0.0, 0.0, 0.0]}, {"a": []}],
    "sphere": [{"dim": 0}, {"dim": -1}, {"dim": 10**12}, {"dim": 10**5, "full_covariance": True},
               {"shift": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0]}],
    "rosenbrock": [{"dim": 0}, {"dim": 10**12}],
    "rastrigin": [{"dim": -3}, {"dim": 10**11}],
}  # fmt: skip


def semantic_cases() -> Iterator[tuple[str, dict]]:
    for name, variants in SEMANTIC.items():
        for v in variants:
            yield f"{name}:{v}", {"problem": {"name": name, **v}}


OPTION_BAD: dict[str, list[Any]] = {
    "n_samples": [0, -1, 2.5, "100", True, NAN, 10**12, BIG],
    "rho": [0, 1, 1.5, -0.1, "0.1", NAN, INF, True],
    "n_elite": [0, -1, 1.5, "5", 10**6],
    "alpha": [0, 1.5, -1, "0.7", NAN],
    "beta": [0, 2, "x", NAN],
    "q": [0, -1, "5", INF],
    "max_iter": [0, -1, 1.5, "10", True],
    "stall_iters": [0, -2, 2.5, "5"],
    "gamma_tol": [-1, NAN, "0", INF],
    "degenerate_tol": [-1, NAN, "1e-6"],
    "max_evals": [0, -5, 1.5, "100"],
    "target": [NAN, INF, "28", True],
    "max_time": [0, -1, NAN, "10"],
    "nan_policy": ["omit", 1, True],
    "polish": ["yes", True, 1],
    "keep_elite": [-1, 2.5, "3", True],
    "seed": [-1, 1.5, "1", True],  # (any Python int seeds a SeedSequence; TOML: 64 bits)
    "n_jobs": [0, 1.5, "2", True],
    "batch_size": [0, -1, 2.5, "256"],
    "batch_timeout": [0, -1, NAN, "5", True],
    "method": ["fast", 1, True],
    "stall_best": [0, -1, 2.5, "10", True],
    "restarts": ["bipop", 1, True],
    "bounds": [5, "x", [1, 2, 3], True],
    "backend": ["", 5, "nosuchbackend", True],
    "verbose": [-1, 2.5, "yes"],
    "n_sample": [100],
    "lr": [0.1],
}
ESTIMATOR_BAD: dict[str, list[Any]] = {
    "rho": [0, 1, "0.1", NAN],
    "n_samples": [1, 0, "100", 10**12, 2.5],
    "n_final": [1, 10**13, "x", -5],
    "max_levels": [0, 1.5, "3"],
    "alpha": [0, 2, NAN],
    "seed": [-1, "1", BIG],
    "n_jobs": [0, "1"],
    "batch_size": [0, "1"],
    "levels": [3],
}


def option_cases() -> Iterator[tuple[str, dict]]:
    assert set(OPTIONS) <= set(OPTION_BAD), "every optimizer option needs bad values"
    for key, values in OPTION_BAD.items():
        for v in values:
            problem = {"name": "maxcut", "instance": "tutorial5"}
            yield f"optimizer.{key}={v!r}", {"problem": problem, "optimizer": {key: v}}
    yield "polish on a problem without local search", {
        "problem": {"name": "sphere"}, "optimizer": {"polish": "elite"}}  # fmt: skip
    for key, values in ESTIMATOR_BAD.items():
        for v in values:
            yield f"estimator.{key}={v!r}", {
                "problem": {"name": "bridge_network"}, "estimator": {key: v}}  # fmt: skip
    yield "[optimizer] on a rare event", {"problem": {"name": "mm1_overflow"}, "optimizer": {}}
    yield "[estimator] on optimization", {"problem": {"name": "sphere"}, "estimator": {}}


FAMILY_BAD = [
    {"type": "bernoulli", "p": "0.5"}, {"type": "bernoulli", "p": [0.5] * 4},
    {"type": "bernoulli", "p": NAN}, {"type": "bernoulli", "p": 1.5},
    {"type": "bernoulli", "p": -0.1}, {"type": "bernoulli", "p": True},
    {"type": "bernoulli", "p": ["a"] * 5}, {"type": "bernoulli", "p": {"x": 1}},
    {"type": "bernoulli", "min_p": "0.1"}, {"type": "bernoulli", "min_p": NAN},
    {"type": "bernoulli", "foo": 1}, {"type": "nosuch"}, {"type": 5}, {"p": 0.5},
    {"type": "normal"}, {"type": "os:system", "command": "true"},
    {"type": "cem.families._bernoulli:Bernoulli", "p": 0.5},
    {"type": "bernoulli", "p": [[0.5] * 5]}, {"type": "bernoulli", "p": [INF] * 5},
]  # fmt: skip
NORMAL_BAD = [
    {"type": "normal", "sigma": -1.0}, {"type": "normal", "sigma": "1"},
    {"type": "normal", "mean": [1.0, 2.0, 3.0]}, {"type": "normal", "mean": NAN},
    {"type": "normal", "sigma": 0.0}, {"type": "bernoulli", "p": 0.5},
]  # fmt: skip


def family_cases() -> Iterator[tuple[str, dict]]:
    for fam in FAMILY_BAD:
        yield f"family {fam}", {"problem": {"name": "maxcut", "instance": "tutorial5"},
                                "family": fam}  # fmt: skip
    for fam in NORMAL_BAD:
        yield f"family {fam}", {"problem": {"name": "sphere"}, "family": fam}


def structure_cases() -> Iterator[tuple[str, dict]]:
    yield "no [problem]", {"optimizer": {"n_samples": 10}}
    yield "unknown section", {"problem": {"name": "sphere"}, "optimiser": {}}
    yield "no name", {"problem": {"instance": "G1"}}
    for name in [5, "", ["maxcut"], {"a": 1}, True, "nosuch", "MaxCut"]:
        yield f"name={name!r}", {"problem": {"name": name}}
    for name in HOSTILE:
        yield f"import {name}", {"problem": {"name": name, "command": "touch PWNED"}}
        yield f"import {name} as family", {
            "problem": {"name": "sphere"}, "family": {"type": name, "path": "."}}  # fmt: skip
    for key, value in [("dir", 5), ("plots", "yes"), ("checkpoint", 1), ("where", "x"),
                       ("dir", ["runs"])]:  # fmt: skip
        yield f"output.{key}={value!r}", {"problem": {"name": "sphere"}, "output": {key: value}}
    for section in ("problem", "optimizer", "family", "output"):
        deep: Any = 1
        for _ in range(40):
            deep = [deep]
        body = {"name": "sphere"} if section == "problem" else {}
        yield f"deep {section}", {"problem": {"name": "sphere"}, section: {**body, "x": deep}}
        yield f"int64 {section}", {"problem": {"name": "sphere"}, section: {**body, "x": BIG}}
        yield f"seed {section}", {"problem": {"name": "sphere"}, "optimizer": {"seed": BIG}}
        yield f"-int64 {section}", {"problem": {"name": "sphere"}, section: {**body, "x": -BIG}}


TOML_TEXT = [
    "[problem\nname = 'sphere'", "[problem]\nname = 'sphere'\nname = 'tsp'", "x",
    "[problem]\nname = sphere", "", "[problem]\n" + "a = [" * 3000 + "]" * 3000,
    "[problem]\nname = 'sphere'\ndim = 1__0", "[problem]\nname = 'sphere'\ndim = 0x",
    "[problem]\nname = 'sphere'\n[problem]\ndim = 3", "[[problem]]\nname = 'sphere'",
    "problem = 'sphere'", "[problem]\nname = \"sph\x00ere\"",
    "[problem]\nname = 'sphere'\ndim = 99999999999999999999999999",
    "[problem]\nname = 'maxcut'\ninstance = 'gset'\nfile = \"a\\u0000b\"",
    "[problem]\nname = 'sphere'\n[output]\ndir = \"r\\u0000s\"",
]  # fmt: skip
TOML_BYTES = [b"\xff\xfe[problem]", b"[problem]\nname = '\xc3\x28'", b"\x00" * 64,
              bytes(range(256))]  # fmt: skip

# ------------------------------------------------------------------ instance files
GSET_OK = "3 2\n1 2 1\n2 3 1\n"
GSET_BAD = [
    "", "3\n", "a b\n", "3 2\n1 2 1\n", "3 2\n1 2 1\n2 3 1\n1 3 1\n", "3 2\n1 1 1\n2 3 1\n",
    "3 2\n1 2 1\n1 2 1\n", "3 2\n1 2 1\n2 1 1\n", "3 2\n1 4 1\n2 3 1\n", "3 2\n0 2 1\n2 3 1\n",
    "3 2\n-1 2 1\n2 3 1\n", "3 2\n1 2 x\n2 3 1\n", "3 2\n1 2 nan\n2 3 1\n",
    "3 2\n1 2 inf\n2 3 1\n", "3 2\n1 2 1e308\n2 3 1e308\n", "3 2\n1 2\n2 3 1\n",
    "3 2\n1 2 1 5\n2 3 1\n", "3 2\n1.5 2 1\n2 3 1\n", "1 0\n", "-3 0\n", "100000000000 0\n",
    "3 -1\n", "3 2.5\n1 2 1\n2 3 1\n", "3 2 7\n1 2 1\n2 3 1\n", "99999999999999999999 0\n",
    "3 2\n1 2 1\n2 3 -inf\n", "3 3\n1 2 1\n2 3 1\n3 1 1\n1 3 2\n",
]  # fmt: skip
GSET_BYTES = [b"\xff\xfe3 2\n", b"3 2\n1 2 \xff\n2 3 1\n"]

_COORDS = "\n".join(f"{i + 1} {x} {y}" for i, (x, y) in
                    enumerate([(0, 0), (3, 0), (3, 4), (0, 4), (1, 1)]))  # fmt: skip
TSP_OK = f"NAME : t5\nTYPE : TSP\nDIMENSION : 5\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n{_COORDS}\nEOF\n"  # noqa: E501


def _explicit(weights: str, dim: int = 3, fmt: str = "FULL_MATRIX") -> str:
    return (f"NAME : e\nTYPE : ATSP\nDIMENSION : {dim}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
            f"EDGE_WEIGHT_FORMAT : {fmt}\nEDGE_WEIGHT_SECTION\n{weights}\nEOF\n")  # fmt: skip


TSP_BAD = [
    TSP_OK.replace("DIMENSION : 5\n", ""), TSP_OK.replace("DIMENSION : 5", "DIMENSION : x"),
    TSP_OK.replace("DIMENSION : 5", "DIMENSION : 1"),
    TSP_OK.replace("DIMENSION : 5", "DIMENSION : 2.5"),
    TSP_OK.replace("DIMENSION : 5", "DIMENSION : 1000000000"),
    TSP_OK.replace("DIMENSION : 5", "DIMENSION : 1" + "0" * 30),
    TSP_OK.replace("DIMENSION : 5", "DIMENSION : 6"), TSP_OK.replace("5 1 1", "6 1 1"),
    TSP_OK.replace("5 1 1", "5 a 1"), TSP_OK.replace("5 1 1", "5 nan 1"),
    TSP_OK.replace("5 1 1", "5 inf 1"), TSP_OK.replace("5 1 1", "5 1"),
    TSP_OK.replace("5 1 1", "5 1 1 1"), TSP_OK.replace("EUC_2D", "MAN_2D"),
    TSP_OK.replace("NODE_COORD_SECTION", "DISPLAY_DATA_SECTION"),
    TSP_OK.replace("TYPE : TSP\n", "garbage line\n"), TSP_OK.replace("5 1 1", "0 1 1"),
    TSP_OK.replace("DIMENSION : 5", "DIMENSION : -5"),
    _explicit("0 1 2 1 0 3 2 3", fmt="FULL_MATRIX"), _explicit("0 1 2 1 0 3 2 3 0 9"),
    _explicit("0 1 x 1 0 3 2 3 0"), _explicit("0 1 nan 1 0 3 2 3 0"),
    _explicit("0 1 inf 1 0 3 2 3 0"), _explicit("0 -1 2 1 0 3 2 3 0"),
    _explicit("0 1 2 1 0 3 2 3 0", fmt="BOGUS"), _explicit("0 1 2 1 0 3 2 3 0", fmt=""),
    _explicit("1 2", fmt="UPPER_ROW"), _explicit("1 2 3 4", fmt="LOWER_ROW"),
    _explicit("0 1 2 1 0 3 2 3 0", dim=2),
    "NAME : e\nTYPE : ATSP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_FORMAT : "
    "FULL_MATRIX\nEOF\n",
    "NAME : t\nTYPE : TOUR\nDIMENSION : 3\nTOUR_SECTION\n1\n2\n3\n-1\nEOF\n",
    "NAME : t\nTYPE : TOUR\nDIMENSION : 3\nTOUR_SECTION\n1\n2\n2\n-1\nEOF\n", "", "EOF\n",
    TSP_OK.replace("NODE_COORD_SECTION", "NODE_COORD_SECTION\n1 0 0").replace("5 1 1\n", ""),
    "NAME : t2\nTYPE : TSP\nDIMENSION : 2\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n"
    "1 0 0\n2 1 1\nEOF\n",
]  # fmt: skip
TSP_BYTES = [b"\xff\xfe\x00NAME", b"NAME : \xff\nDIMENSION : 3\n"]


# ---------------------------------------------------------------------- harness
class Tally:
    """Outcomes of the cases: refusals, tracebacks and silent acceptances."""

    def __init__(self) -> None:
        self.count = 0
        self.tracebacks: list[str] = []
        self.accepted: list[str] = []

    def check(self, label: str, call: Callable[[], Any], allowed: tuple[type, ...] = ()) -> None:
        self.count += 1
        try:
            call()
        except CEMError:
            return
        except allowed:
            return
        except Exception as exc:  # what the suite counts as a traceback
            self.tracebacks.append(f"{label}: {type(exc).__name__}: {exc}"[:300])
            return
        self.accepted.append(label)

    def assert_clean(self) -> None:
        assert not self.tracebacks, "\n".join(self.tracebacks)
        assert not self.accepted, "accepted: " + "\n".join(self.accepted)


def config_cases() -> Iterator[tuple[str, dict]]:
    yield from problem_param_cases()
    yield from semantic_cases()
    yield from option_cases()
    yield from family_cases()
    yield from structure_cases()


@pytest.fixture
def limited(monkeypatch, tmp_path):
    monkeypatch.setenv("CEM_MEMORY_LIMIT", str(LIMIT))
    monkeypatch.chdir(tmp_path)
    _warm_up(tmp_path)  # imports happen before tracing: only the cases are measured
    tracemalloc.start()
    yield tmp_path
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < LIMIT, f"peak traced allocation {peak} bytes, above the limit {LIMIT}"


def _warm_up(folder: Path) -> None:
    import cem.rare_event  # noqa: F401

    for name in PROBLEMS:
        try:
            load_config(_write(folder, "warm.toml", f'[problem]\nname = "{name}"\n'))
        except CEMError:  # the production lines need more than the suite's limit
            pass
    for text in (GSET_OK, TSP_OK):
        _write(folder, "warm.txt", text)
        for problem in ('name = "maxcut"\ninstance = "gset"', 'name = "tsp"'):
            try:
                load_config(_write(folder, "warm.toml", f'[problem]\n{problem}\nfile = "warm.txt"'))
            except CEMError:
                pass
    main(["validate", str(folder / "warm.toml")])


def _write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _one_line_refusal(argv: list[str], capsys) -> str | None:
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err.strip()
    if code != 2 or len(err.splitlines()) != 1 or not err.startswith("cem: error: "):
        return f"{argv}: exit {code}, stderr {err[:200]!r}"
    return None


# ---------------------------------------------------------------------- tests
@pytest.mark.slow  # over 5 s
def test_malformed_configs_and_instance_files_are_refused(limited, capsys):
    tally = Tally()
    folder = limited / "cases"
    folder.mkdir()
    files: list[Path] = []
    for k, (label, raw) in enumerate(config_cases()):
        path = _write(folder, f"c{k}.toml", dump_toml(raw))
        files.append(path)
        tally.check(label, lambda p=path: load_config(p))
    for k, text in enumerate(TOML_TEXT + TOML_BYTES):
        path = _write(folder, f"t{k}.toml", text)
        files.append(path)
        tally.check(f"toml {text[:40]!r}", lambda p=path: load_config(p))
    for kind, cases, ext, problem in [
        ("gset", GSET_BAD + GSET_BYTES, "txt", {"name": "maxcut", "instance": "gset"}),
        ("tsplib", TSP_BAD + TSP_BYTES, "tsp", {"name": "tsp"}),
    ]:
        (folder / kind).mkdir()
        for k, text in enumerate(cases):
            _write(folder / kind, f"i{k}.{ext}", text)
            # a path relative to the config file's folder
            raw = {"problem": {**problem, "file": f"{kind}/i{k}.{ext}"}}
            path = _write(folder, f"{kind}{k}.toml", dump_toml(raw))
            files.append(path)
            tally.check(f"{kind} {text[:60]!r}", lambda p=path: load_config(p))
    tally.assert_clean()
    assert tally.count >= 500, tally.count
    assert not (folder / "PWNED").exists() and not Path("PWNED").exists()

    failures = []
    for path in files[::10]:  # validate and run agree, on one line each
        for argv in (["validate", str(path)], ["run", str(path), "--out", str(path) + ".run"]):
            failures.append(_one_line_refusal(argv, capsys))
    assert [f for f in failures if f] == []


def test_valid_instance_files_are_accepted(limited):
    """The fuzz cases above are malformed relative to these, which load."""
    (limited / "ok.txt").write_text(GSET_OK)
    (limited / "ok.tsp").write_text(TSP_OK)
    (limited / "ok.atsp").write_text(_explicit("0 1 2 1 0 3 2 3 0"))
    gset = '[problem]\nname = "maxcut"\ninstance = "gset"\nfile = "ok.txt"'
    (limited / "g.toml").write_text(gset)
    (limited / "t.toml").write_text('[problem]\nname = "tsp"\nfile = "ok.tsp"')
    (limited / "a.toml").write_text('[problem]\nname = "tsp"\nfile = "ok.atsp"')
    assert load_config(limited / "g.toml").problem.n == 3
    assert load_config(limited / "t.toml").problem.n == 5
    assert load_config(limited / "a.toml").problem.n == 3


# ------------------------------------------------------------------ API calls
def _api_cases() -> Iterator[tuple[str, Callable[[], Any], tuple[type, ...]]]:
    from cem import CrossEntropyOptimizer, maximize
    from cem.config import build_problem
    from cem.families import Bernoulli, Exponential, Normal
    from cem.problems.maxcut import MaxCut, read_gset
    from cem.problems.rare_events import MM1Overflow, SumOfExponentials
    from cem.problems.tsp import TSP
    from cem.problems.tsp.tsplib import read_tsplib
    from cem.rare_event import estimate_probability
    from cem.registry import resolve_family

    def onemax(X):
        return X.sum(axis=1)

    fam = Bernoulli(np.full(8, 0.5))
    for key, values in OPTION_BAD.items():
        for v in values:
            yield (f"optimizer {key}={v!r}",
                   lambda k=key, v=v: CrossEntropyOptimizer(onemax, fam, **{k: v}), ())  # fmt: skip
    scores = {
        "complex": lambda X: X.sum(axis=1) + 1j,
        "strings": lambda X: np.array([str(v) for v in X.sum(axis=1)]),
        "object strings": lambda X: np.array(["1"] * len(X), dtype=object),
        "bytes": lambda X: np.array([b"1"] * len(X)),
        "wrong shape": lambda X: X,
        "scalar": lambda X: 1.0,
        "None": lambda X: None,
        "dict": lambda X: {"a": 1},
        "short": lambda X: X.sum(axis=1)[:-1],
        "nan": lambda X: np.full(len(X), np.nan),
        "datetimes": lambda X: np.array(["2020-01-01"] * len(X), dtype="datetime64[D]"),
    }
    for name, fn in scores.items():
        yield (f"scores {name}", lambda fn=fn: maximize(fn, fam, n_samples=50, max_iter=2,
                                                       seed=0), ())  # fmt: skip
        yield (f"tell {name}", lambda fn=fn: _tell(fn, fam), ())
    exp = Exponential(np.ones(2))
    for gamma in [NAN, INF, -INF, "1", None, True, [1.0]]:
        yield (f"estimate gamma={gamma!r}", lambda g=gamma: estimate_probability(
            lambda X: X.sum(axis=1), exp, g, n_final=100, rng=0), ())  # fmt: skip
    for opts in [{"n_samples": 10**12}, {"n_final": 10**13}, {"rho": 2.0}, {"direction": "gt"}]:
        yield (f"estimate {opts}", lambda o=opts: estimate_probability(
            lambda X: X.sum(axis=1), exp, 5.0, rng=0, **o), ())  # fmt: skip
    for kw in [{"level": 2.5}, {"level": "20"}, {"level": 1}, {"arrival": NAN},
               {"arrival": "1"}, {"service": INF}, {"level": np.float64(20.0)}]:  # fmt: skip
        yield f"MM1Overflow{kw}", lambda kw=kw: MM1Overflow(**kw), ()
    for kw in [{"n": 0}, {"n": 10**12}, {"n": 2.5}, {"gamma": NAN}, {"mean": -1.0}]:
        yield f"SumOfExponentials{kw}", lambda kw=kw: SumOfExponentials(**kw), ()
    sym = np.ones((3, 3)) - np.eye(3)
    for label, w in [("asymmetric", np.triu(sym)), ("nan", sym * np.nan), ("1 node", [[0.0]]),
                     ("3d", np.zeros((2, 2, 2))), ("diagonal", np.ones((3, 3))),
                     ("overflow", sym * 1e308), ("strings", [["a"]])]:  # fmt: skip
        yield f"MaxCut {label}", lambda w=w: MaxCut(w), ()
    inf = np.where(sym > 0, np.inf, 0.0)
    for label, d in [("negative", -sym), ("nan", sym * np.nan), ("2x2", np.ones((2, 2))),
                     ("inf", inf), ("ragged", [[0, 1], [1]])]:  # fmt: skip
        yield f"TSP {label}", lambda d=d: TSP(d), ()
    yield "MaxCut.synthetic n=10**6", lambda: MaxCut.synthetic(10**6), ()
    for reader in (read_gset, read_tsplib):
        for p in ["no/such/file", "."]:
            yield f"{reader.__name__}({p})", lambda r=reader, p=p: r(p), (FileNotFoundError,)
    for name in HOSTILE:
        yield (
            f"create_problem({name})",
            lambda n=name: build_problem({"name": n, "command": "true"}),
            (),
        )
        yield f"resolve_family({name})", lambda n=name: resolve_family(n), ()
    for bad in [[1.5, 0.5], [NAN], [-0.1], "0.5"]:
        yield f"Bernoulli({bad!r})", lambda b=bad: Bernoulli(b), ()
    for mean, sigma in [([0.0], -1.0), ([NAN], 1.0), ([0.0], NAN), ([0.0, 1.0], [1.0])]:
        yield f"Normal({mean}, {sigma})", lambda m=mean, s=sigma: Normal(m, s), ()


def _tell(fn: Callable[[np.ndarray], Any], fam: Any) -> None:
    from cem import CrossEntropyOptimizer

    opt = CrossEntropyOptimizer(lambda X: X.sum(axis=1), fam, n_samples=50, seed=0)
    X = opt.ask()
    opt.tell(X, fn(X))


def test_bad_api_calls_raise_cem_errors(limited):
    import warnings

    tally = Tally()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, call, allowed in _api_cases():
            tally.check(label, call, allowed)
    tally.assert_clean()
    assert tally.count >= 100, tally.count
