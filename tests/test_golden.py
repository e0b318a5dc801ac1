"""Golden files: the seeded histories and results of the shipped configs and of the README's
Python examples, recorded before a refactor. A refactor must not change one bit of them.

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


def _plain(value: Any) -> Any:
    """JSON-ready form of results: arrays to nested lists, numpy scalars to Python ones."""
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
        from cem.loop import CrossEntropyOptimizer

        cfg = load_config(path)
        if cfg.kind == "estimate":
            return _estimation(cfg.problem.estimate(**cfg.estimator))
        return _optimization(CrossEntropyOptimizer(cfg.problem, cfg.family, **cfg.options).run())

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


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    got = json.loads(json.dumps(CASES[name]()))
    if UPDATE:
        path.write_text(json.dumps(got, indent=1) + "\n", encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}; run with CEM_UPDATE_GOLDEN=1"
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got == want
