"""Network design: exact tables, penalties, CE against brute force, re-estimation."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

from cem import minimize
from cem.errors import ConfigError
from cem.problems.network.design import NetworkDesign
from cem.problems.network.exact import exact_unreliability

matplotlib.use("Agg")


def test_table_equals_exact_unreliability_of_each_design():
    design = NetworkDesign.random(6, 9, 0.6, instance_seed=1)
    for bits in itertools.islice(itertools.product([0, 1], repeat=9), 3, None, 37):
        x = np.array(bits, dtype=float)
        net = design.design_network(x)
        want = exact_unreliability(net)
        assert design.unreliability(x)[0] == pytest.approx(want, abs=1e-12)


def test_simulated_score_agrees_with_the_table():
    exact = NetworkDesign.random(6, 9, 0.6, instance_seed=2, mode="exact")
    sim = NetworkDesign.random(6, 9, 0.6, instance_seed=2, mode="simulate", n_sim=4000)
    x = np.ones((1, 9))
    q = exact.unreliability(x)[0]
    se = np.sqrt(q * (1 - q) / 4000)
    assert abs(sim.unreliability(x)[0] - q) < 4 * se
    np.testing.assert_array_equal(sim.score(x), sim.score(x))  # common random numbers


def test_penalties_order_designs():
    design = NetworkDesign.random(6, 9, 0.6, instance_seed=0)
    X = np.stack([np.ones(9), np.zeros(9), design.brute_force()[0]])
    s = design.score(X)
    assert s[0] > 2.0  # over budget
    assert 1.0 <= s[1] < 2.0  # feasible, cannot connect the terminals
    assert s[2] < 1.0


def test_ce_finds_the_exact_optimum_in_nine_of_ten_seeds():
    """A 15-link all-terminal instance, every design tabulated: CE against brute force."""
    design = NetworkDesign.random(8, 15, 0.4, instance_seed=0)
    _, best = design.brute_force()
    found = [minimize(design, seed=s).fun for s in range(10)]
    assert sum(abs(f - best) <= 1e-12 for f in found) >= 9


def test_polish_never_worsens():
    design = NetworkDesign.random(8, 15, 0.4, instance_seed=0)
    X = design.initial_family().sample(20, np.random.default_rng(0))
    s = design.score(X)
    Xp, sp = design.polish(X, s)
    assert np.all(sp <= s)
    np.testing.assert_allclose(design.score(Xp), sp)


def test_reestimate_and_plot():
    design = NetworkDesign.random(7, 12, 0.5, instance_seed=4, mode="simulate", n_sim=300)
    res = minimize(design, seed=0, n_samples=100, max_iter=8)
    x, est, everyone = design.reestimate(res, n_candidates=3, n_final=2000, rng=0)
    assert est.ci[0] <= est.estimate <= est.ci[1]
    assert min(e.estimate for _, e in everyone) == est.estimate
    exact = NetworkDesign.random(7, 12, 0.5, instance_seed=4).unreliability(x)[0]
    assert abs(est.estimate - exact) < 4 * est.std_error
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    design.plot_solution(x, ax)
    cut = design.most_likely_cut(x)
    assert cut and all(x[k] > 0.5 for k in cut)
    plt.close(fig)


def test_errors():
    with pytest.raises(ConfigError, match="mode"):
        NetworkDesign([(0, 1, 1.0, 0.9)], 1.0, mode="fast")
    with pytest.raises(ConfigError, match="reliabilities"):
        NetworkDesign([(0, 1, 1.0, 1.0)], 1.0)
    with pytest.raises(ConfigError, match="exact mode"):
        NetworkDesign.random(12, 30, mode="exact")
