"""Golden files: the seeded histories and results of the shipped configs and of the README's
Python examples, recorded before a refactor. A refactor must not change them.

Integers, strings, booleans, ``None`` and the shapes of lists are compared exactly; floats to
a relative tolerance of :data:`REL_TOL` (1e-9). The last bits of a float differ between CPUs
(SIMD paths of numpy's reductions and transcendental functions) and BLAS builds, so golden
files written on one machine would fail on another under exact comparison, while any real
change of an algorithm moves a history by far more than 1e-9 (a test below shows one).
Bit-for-bit identity is asserted where it must hold, on one machine in one process: the same
run across ``n_jobs`` (tests/test_parallel.py, tests/test_dask.py) and a resumed run against
an uninterrupted one (tests/test_cli.py, tests/test_loop.py).

Regenerate (only for an intended change, named in the commit message) with
``CEM_UPDATE_GOLDEN=1 pytest tests/test_golden.py``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
CONFIGS = sorted((ROOT / "configs").glob("*.toml"))
UPDATE = os.environ.get("CEM_UPDATE_GOLDEN") == "1"
#: Relative tolerance of a float against its golden value (see the module's docstring).
REL_TOL = 1e-9
#: Absolute tolerance, for values that converge to zero (the best score of a minimization
#: whose optimum is 0, as on Rosenbrock's function): their relative error is that of a
#: difference of nearly equal numbers, so it is bounded absolutely instead.
ABS_TOL = 1e-15


def mismatches(got: Any, want: Any, where: str = "") -> list[str]:
    """Where ``got`` differs from ``want``: exact for all but floats, floats to ``REL_TOL``.

    A float is also accepted for an integral golden float and vice versa only when both are
    floats in JSON (``1.0``); an integer stays an integer. The strings ``"nan"`` (how NaN
    is stored) compare as strings.
    """
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return [f"{where or '.'}: keys {sorted(got) if isinstance(got, dict) else got!r}"
                    f" != {sorted(want)}"]  # fmt: skip
        return [m for k in want for m in mismatches(got[k], want[k], f"{where}.{k}")]
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: length {len(got) if isinstance(got, list) else got!r}"
                    f" != {len(want)}"]  # fmt: skip
        return [m for i, (g, w) in enumerate(zip(got, want, strict=True))
                for m in mismatches(g, w, f"{where}[{i}]")]  # fmt: skip
    if isinstance(want, float) and type(got) is float:
        if math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return []
        return [f"{where}: {got!r} != {want!r} (relative difference "
                f"{abs(got - want) / max(abs(want), ABS_TOL):.3g} > {REL_TOL})"]  # fmt: skip
    if type(got) is not type(want) or got != want:
        return [f"{where}: {got!r} != {want!r}"]
    return []


#: Arrays of more numbers than this are pinned by a fingerprint (shape, sum, sum of squares,
#: least and largest value) instead of every number, to keep golden files small.
MAX_PINNED_NUMBERS = 10_000


def _fingerprint(a: np.ndarray) -> dict[str, Any]:
    x = a.astype(float)
    return {"shape": list(a.shape), "sum": float(x.sum()), "sum_sq": float((x * x).sum()),
            "min": float(x.min()), "max": float(x.max())}  # fmt: skip


def _plain(value: Any) -> Any:
    """JSON-ready form of results: arrays to nested lists (large ones to their fingerprint),
    numpy scalars to Python ones."""
    if isinstance(value, np.ndarray) and value.size > MAX_PINNED_NUMBERS:
        return _fingerprint(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


#: The history columns pinned here (the ``kl`` column, added later, is tested in
#: tests/test_information.py; ``seconds`` is wall-clock time).
GOLDEN_COLUMNS = ("t", "gamma", "best", "mean", "entropy", "evals")


def _optimization(res: Any) -> dict[str, Any]:
    history = [{k: rec[k] for k in GOLDEN_COLUMNS} for rec in res.history.to_dicts()]
    return _plain(
        {
            "x": res.x,
            "fun": res.fun,
            "nit": res.nit,
            "nfev": res.nfev,
            "stop": res.stop,
            "success": res.success,
            "known_optimum": res.known_optimum,
            "gap": res.gap,
            "family": res.family.params(),
            "history": history,
        }
    )


def _estimation(res: Any) -> dict[str, Any]:
    return _plain(
        {
            "estimate": res.estimate,
            "log_estimate": res.log_estimate,
            "std_error": res.std_error,
            "rel_error": res.rel_error,
            "ci": res.ci,
            "ess": res.ess,
            "hits": res.hits,
            "n_final": res.n_final,
            "evaluations": res.nfev,
            "levels": [{"t": lv.t, "gamma": lv.gamma, "params": lv.params} for lv in res.levels],
        }
    )


def _config_case(path: Path) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        from cem.config import load_config

        cfg = load_config(path)
        if cfg.kind == "estimate":
            return _estimation(cfg.problem.estimate(**cfg.estimator))
        cfg.engine.options["verbose"] = False  # the engine the config built, as cem run runs it
        return _optimization(cfg.engine.run())

    return run


def _readme_maxcut() -> dict[str, Any]:
    from cem import maximize
    from cem.problems.maxcut import MaxCut

    return _optimization(
        maximize(MaxCut.synthetic(n=400, m=200), n_samples=1000, rho=0.1, alpha=0.7, seed=1)
    )


def _bimodal(X: np.ndarray) -> np.ndarray:
    return np.exp(-((X[:, 0] - 2) ** 2)) + 0.8 * np.exp(-((X[:, 0] + 2) ** 2))


def _readme_bimodal() -> dict[str, Any]:
    from cem import maximize
    from cem.families import Normal

    return _optimization(maximize(_bimodal, Normal([-6.0], [10.0]), n_samples=100, n_elite=10,
                                  seed=0))  # fmt: skip


def _readme_ask_tell() -> dict[str, Any]:
    from cem import CrossEntropyOptimizer
    from cem.families import Normal

    opt = CrossEntropyOptimizer(_bimodal, Normal([-6.0], [10.0]), n_samples=100, n_elite=10,
                                seed=0)  # fmt: skip
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, _bimodal(X))
    return _optimization(opt.result())


def _readme_bridge() -> dict[str, Any]:
    from cem.families import Exponential
    from cem.rare_event import estimate_probability

    u = np.array([0.25, 0.4, 0.1, 0.3, 0.2])

    def shortest_path(X: np.ndarray) -> np.ndarray:
        return np.minimum.reduce(
            [X[:, 0] + X[:, 3], X[:, 0] + X[:, 2] + X[:, 4], X[:, 1] + X[:, 4],
             X[:, 1] + X[:, 2] + X[:, 3]]
        )  # fmt: skip

    return _estimation(estimate_probability(shortest_path, Exponential(u), 2.0, seed=0))


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    **{f"config_{p.stem}": _config_case(p) for p in CONFIGS},
    "readme_maxcut": _readme_maxcut,
    "readme_bimodal": _readme_bimodal,
    "readme_ask_tell": _readme_ask_tell,
    "readme_bridge": _readme_bridge,
}


#: Cases over ~20 s of CPU, checked in the slow tier (``-m slow``, run by ``.ci/run``): G1
#: with the tabu polish (about 25 s).
#: Cases over 5 s on two cores: the slow tier runs them.
SLOW_CASES = {"config_maxcut_G1", "config_flowline_pnh", "config_tsp_berlin52",
              "config_align_significance"}  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CASES else n for n in sorted(CASES)],
)
def test_golden(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    got = json.loads(json.dumps(CASES[name]()))
    if UPDATE:
        path.write_text(json.dumps(got, indent=1) + "\n", encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}; run with CEM_UPDATE_GOLDEN=1"
    want = json.loads(path.read_text(encoding="utf-8"))
    bad = mismatches(got, want)
    assert not bad, f"{len(bad)} differences from {path.name}, first: " + "; ".join(bad[:5])


def _floats(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every float of magnitude at least 1e-3 in a golden document."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _floats(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _floats(v, (*path, i))]
    return [path] if isinstance(value, float) and abs(value) >= 1e-3 else []


def _perturbed(doc: Any, path: tuple[Any, ...], factor: float) -> Any:
    doc = json.loads(json.dumps(doc))
    *head, last = path
    node = doc
    for key in head:
        node = node[key]
    node[last] *= factor
    return doc


@pytest.mark.parametrize("name", ["readme_bridge", "config_maxcut_tutorial", "readme_bimodal"])
def test_the_tolerance_catches_a_change_of_1e_6_and_passes_1e_13(name: str) -> None:
    """One stored float moved by 1e-6 relative fails the comparison; by 1e-13 it passes."""
    want = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    floats = _floats(want)
    assert floats
    for path in (floats[0], floats[len(floats) // 2], floats[-1]):
        assert mismatches(_perturbed(want, path, 1 + 1e-6), want)
        assert not mismatches(_perturbed(want, path, 1 + 1e-13), want)
    assert mismatches({"n": 3}, {"n": 3.0}) and mismatches([1, 2], [1, 2, 3])
    assert mismatches({"stop": "stall"}, {"stop": "max_iter"})


def test_a_real_change_of_the_algorithm_fails_the_golden_history() -> None:
    """The README's bimodal example with alpha 0.7 -> 0.7 + 1e-7 (a change far smaller than
    any real change of an update rule) no longer matches its golden file."""
    from cem import maximize
    from cem.families import Normal

    want = json.loads((GOLDEN / "readme_bimodal.json").read_text(encoding="utf-8"))
    same = _optimization(maximize(_bimodal, Normal([-6.0], [10.0]), n_samples=100,
                                  n_elite=10, seed=0))  # fmt: skip
    changed = _optimization(maximize(_bimodal, Normal([-6.0], [10.0]), n_samples=100,
                                     n_elite=10, alpha=0.7 + 1e-7, seed=0))  # fmt: skip
    assert not mismatches(json.loads(json.dumps(same)), want)
    assert mismatches(json.loads(json.dumps(changed)), want)
