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


def test_memetic_polish_is_short_and_the_stall_window_counts_rounds_per_city():
    xy = np.random.default_rng(3).uniform(size=(130, 2))
    d = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    tsp, small = TSP(d, strategy="memetic"), TSP(d[:50, :50], strategy="memetic")
    options = tsp.default_options()
    assert tsp.kicks == 32 and tsp.tries == 2 and options["keep_elite"] == 5
    assert options["stall_best"] == options["stall_iters"] == 9  # ceil(2 * 130 / 32)
    assert small.kicks == 13 and small.default_options()["stall_best"] == 8  # ceil(100 / 13)
    skew = TSP(d[:50, :50] + np.triu(np.ones((50, 50))), strategy="memetic")
    assert not skew.symmetric and skew.default_options()["stall_best"] == 12  # ceil(150 / 13)


def test_memetic_tsp_with_kept_tours_is_reproducible_and_elitist():
    xy = np.random.default_rng(4).uniform(size=(40, 2))
    d = np.rint(1000 * np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)))
    tsp = TSP(d, strategy="memetic")
    tsp.kicks = 4  # a short polish, continued from the kept tours
    runs = [CrossEntropyOptimizer(tsp, rng=7, keep_elite=3, max_iter=5) for _ in range(2)]
    best_of_elite = []
    for opt in runs:
        best_of_elite.append([])
        while not opt.stop():
            opt.step()
            best_of_elite[-1].append(tsp.score(opt.elite[0]).min())
    assert best_of_elite[0] == best_of_elite[1]
    assert np.all(np.diff(best_of_elite[0]) <= 0)  # the kept tours never get longer
    np.testing.assert_array_equal(runs[0].result().x, runs[1].result().x)
