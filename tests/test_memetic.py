"""The stall_best stopping rule and the TSP memetic strategy."""

from __future__ import annotations

import numpy as np
import pytest

from cem import CrossEntropyOptimizer, minimize
from cem.errors import ConfigError
from cem.problems.continuous import Sphere
from cem.problems.tsp import TSP


def test_stall_best_fires_after_the_given_iterations_without_improvement():
    opt = CrossEntropyOptimizer(
        lambda X: np.zeros(len(X)), Sphere(dim=2).initial_family(), n_samples=20,
        stall_best=3, stall_iters=None, rng=0,
    )  # fmt: skip
    res = opt.run()  # a flat score never improves on the first best
    assert res.nit == 4 and "stall_best" in res.stop and res.success
    state = opt.state_dict()
    assert state["since_best"] == 3


def test_stall_best_is_off_by_default_and_validated():
    assert CrossEntropyOptimizer(Sphere(dim=2), rng=0).options["stall_best"] is None
    with pytest.raises(ConfigError, match="stall_best must be an integer >= 1 or None, got 0"):
        CrossEntropyOptimizer(Sphere(dim=2), stall_best=0)


@pytest.mark.slow
def test_memetic_tsp_reaches_the_berlin52_optimum():
    tsp = TSP.from_config("berlin52", strategy="memetic")
    options = tsp.default_options()
    assert options["polish"] == "elite" and options["n_samples"] == 400
    res = minimize(tsp, rng=0)
    assert res.fun == tsp.known_optimum == 7542


def test_strategy_is_validated_and_ce_keeps_the_literature_defaults():
    assert TSP.from_config("br17").default_options()["n_samples"] == 5 * 17**2
    with pytest.raises(ConfigError, match="strategy must be 'ce' or 'memetic', got 'lkh'"):
        TSP.from_config("br17", strategy="lkh")
