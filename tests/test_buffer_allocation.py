"""Production lines and buffer allocation: simulator versus exact Markov chain, and CE."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cem import maximize
from cem.errors import ConfigError
from cem.families import SequentialAllocation
from cem.problems.buffer_allocation import BufferAllocation, FlowLinePNH, compositions
from cem.problems.buffer_allocation.production_line import (
    LineSpec,
    exact_throughput,
    simulate_throughput,
    two_machine_throughput,
)


@pytest.mark.parametrize(("mu1", "mu2", "b"), [(1, 2, 0), (2, 1, 3), (1, 1, 2), (1.5, 1.2, 5)])
def test_ctmc_equals_two_machine_closed_form(mu1, mu2, b):
    exact = exact_throughput(LineSpec((mu1, mu2)), [b])
    assert exact == pytest.approx(two_machine_throughput(mu1, mu2, b), rel=1e-10)


def test_two_machine_closed_form_by_hand():
    # b = 0, mu1 = mu2 = 1: K = 2 -> throughput 2/3 (states 0, 1, 2 equally likely).
    assert two_machine_throughput(1.0, 1.0, 0) == pytest.approx(2 / 3)


LINES = [
    (LineSpec((1.0, 1.5)), [[0], [2]]),
    (LineSpec((1.2, 0.8)), [[1], [4]]),
    (LineSpec((1.0, 1.0, 1.0)), [[0, 0], [1, 2], [3, 1]]),
    (LineSpec((1.0, 0.7, 1.3), (0.1, 0.0, 0.05), (0.5, 1.0, 0.4)), [[2, 2], [0, 3]]),
    # four machines: the largest chains (the slow tier)
    pytest.param(
        LineSpec((1.0, 1.2, 0.9, 1.1), (0.05, 0.1, 0.0, 0.02), (0.5, 0.6, 1.0, 0.4)),
        [[1, 2, 0]],
        marks=pytest.mark.slow,
    ),
    pytest.param(LineSpec((0.9, 1.0, 1.1, 1.0)), [[2, 2, 2]], marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("spec", "allocations"), LINES)
def test_simulation_agrees_with_the_exact_chain(spec, allocations):
    """11 allocations on 6 lines: |simulated - exact| <= 3 SE (batch means)."""
    rng = np.random.default_rng(np.random.SeedSequence(4242))
    thr, se = simulate_throughput(spec, np.array(allocations), 40_000, 1000, rng, return_se=True)
    for a, t, s in zip(allocations, thr, se, strict=True):
        assert abs(t - exact_throughput(spec, a)) <= 3 * s
        assert s < 0.01 * t


def test_deterministic_reliable_line_runs_at_the_bottleneck_rate():
    spec = LineSpec((1.0, 0.5, 2.0), processing="deterministic")
    thr = simulate_throughput(spec, np.array([[0, 0], [3, 1]]), 2000, 100, np.random.default_rng(0))
    np.testing.assert_allclose(thr, 0.5, rtol=1e-9)


def test_common_random_numbers_rows_equal_single_runs():
    spec = LineSpec((1.0, 0.9, 1.1), (0.05, 0.05, 0.05), (0.5, 0.5, 0.5))
    allocations = np.array([[0, 3], [2, 1], [5, 0]])
    batch = simulate_throughput(spec, allocations, 3000, 100, np.random.default_rng(7))
    for a, t in zip(allocations, batch, strict=True):
        single = simulate_throughput(spec, a[None], 3000, 100, np.random.default_rng(7))
        assert single[0] == t


def test_line_bad_input():
    with pytest.raises(ConfigError, match="mu must hold at least 2 positive rates"):
        LineSpec((1.0, 0.0))
    with pytest.raises(ConfigError, match="failure_rates must be 2 numbers >= 0"):
        LineSpec((1.0, 1.0), (0.1,))
    spec = LineSpec((1.0, 1.0, 1.0))
    with pytest.raises(ConfigError, match="buffers must be >= 0"):
        simulate_throughput(spec, np.array([[1, -1]]), 100, 10, np.random.default_rng(0))
    with pytest.raises(ConfigError, match=r"shape \(N, 2\) for 3 machines"):
        simulate_throughput(spec, np.array([[1, 1, 1]]), 100, 10, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="unknown line 'nope'"):
        BufferAllocation("nope")


@given(st.integers(2, 6), st.integers(0, 15), st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_allocation_samples_are_feasible(parts, total, seed):
    rng = np.random.default_rng(seed)
    P = rng.random((parts - 1, total + 1)) * (rng.random((parts - 1, total + 1)) < 0.5)
    P[P.sum(axis=1) == 0, 0] = 1.0
    fam = SequentialAllocation(P / P.sum(axis=1, keepdims=True), total)
    X = fam.sample(50, rng)
    assert np.all(X >= 0) and np.all(X.sum(axis=1) == total)
    assert np.all(np.isfinite(fam.log_pdf(X)))


def test_allocation_family_fit_degenerate_and_log_pdf():
    fam = SequentialAllocation.uniform(3, 4)
    X = np.array([[1, 2, 1], [1, 3, 0], [0, 4, 0]])
    w = np.array([1.0, 1.0, 2.0])
    fitted = fam.fit(X, w)
    np.testing.assert_allclose(fitted.probs[0], [0.5, 0.5, 0, 0, 0])
    np.testing.assert_allclose(fitted.probs[1], [0, 0, 0.25, 0.25, 0.5])
    point = SequentialAllocation(np.eye(5)[[1, 2]], 4)
    assert point.is_degenerate()
    assert np.all(point.sample(10, np.random.default_rng(0)) == [1, 2, 1])
    # Probabilities of all 15 compositions sum to one.
    assert np.exp(fam.log_pdf(compositions(4, 3))).sum() == pytest.approx(1.0)


def _ce_run(seed: int):
    prob = BufferAllocation("balanced4", 10, n_units=5000, seed=seed)
    res = maximize(prob, n_samples=100, rho=0.1, alpha=0.7, seed=seed)
    return prob, res, prob.select_best(np.array([res.x, res.family.mode()]), replications=10)


@pytest.mark.slow  # over 5 s
def test_ce_finds_the_exact_optimal_allocation_fast():
    prob, _res, sel = _ce_run(0)
    best, value = prob.exact_optimum()
    assert best.tolist() == [3, 4, 3]  # enumeration of all 66 allocations with the CTMC
    np.testing.assert_array_equal(sel.allocation, best)
    assert sel.ci[0] <= value <= sel.ci[1]


@pytest.mark.slow
def test_ce_finds_the_exact_optimal_allocation_in_8_of_10_seeds():
    hits = covered = 0
    for seed in range(10):
        prob, _, sel = _ce_run(seed)
        best, _value = prob.exact_optimum()
        hits += sel.allocation.tolist() == best.tolist()
        covered += sel.ci[0] <= prob.exact(sel.allocation) <= sel.ci[1]
    assert hits >= 8 and covered >= 8


def test_same_result_for_any_n_jobs():
    prob = BufferAllocation("balanced4", 6, n_units=500, warmup=50, seed=3)
    a = maximize(prob, n_samples=60, batch_size=20, seed=1, max_iter=3)
    b = maximize(prob, n_samples=60, batch_size=20, seed=1, max_iter=3, n_jobs=2)
    assert a.history["gamma"].tolist() == b.history["gamma"].tolist()
    np.testing.assert_array_equal(a.x, b.x)


@pytest.mark.slow  # over 10 s
def test_pnh_tabulated_optimum_is_the_enumeration():
    from cem.problems.buffer_allocation.problem import PNH_OPTIMUM, _pnh_enumeration

    design, value = _pnh_enumeration(20, 20, tabulated=False)
    assert design == PNH_OPTIMUM[20, 20][0]
    assert value == pytest.approx(PNH_OPTIMUM[20, 20][1], rel=1e-12)


@pytest.mark.slow  # over 10 s
def test_pnh_flow_line_optimum_by_enumeration_and_ce():
    prob = FlowLinePNH(seed=1)
    design, value = prob.exact_optimum()
    # The published optima (6, 7, 7, 12, 8) and (7, 7, 6, 8, 12) have throughput 5.776.
    assert design.tolist() in ([6, 7, 7, 12, 8], [7, 7, 6, 8, 12])
    assert value == pytest.approx(5.7761, abs=1e-4)
    assert prob.exact(np.array([6, 7, 7, 12, 8])) == pytest.approx(value)
    res = maximize(prob, n_samples=500, rho=0.05, alpha=0.7, seed=1)
    sel = prob.select_best(np.array([res.x, res.family.mode()]))
    assert sel.exact >= 0.99 * value  # within 1% of the optimum
    assert sel.ci[0] <= sel.exact <= sel.ci[1]


def test_per_line_rates_equal_separate_specs():
    rates = np.array([[1.0, 2.0], [2.0, 1.0]])
    unit = LineSpec((1.0, 1.0))
    both = simulate_throughput(unit, np.array([[1], [1]]), 2000, 100, np.random.default_rng(3),
                               rates=rates)  # fmt: skip
    for k in range(2):
        one = simulate_throughput(LineSpec(tuple(rates[k])), np.array([[1]]), 2000, 100,
                                  np.random.default_rng(3))  # fmt: skip
        assert one[0] == pytest.approx(both[k], rel=1e-12)


def test_power_iteration_agrees_with_the_direct_solve(monkeypatch):
    import cem.problems.buffer_allocation.production_line as production_line

    spec = LineSpec((1.0, 1.2, 0.9, 1.1), (0.05, 0.1, 0.0, 0.02), (0.5, 0.6, 1.0, 0.4))
    direct = exact_throughput(spec, [2, 3, 1])
    monkeypatch.setattr(production_line, "DIRECT_STATES", 0)
    assert exact_throughput(spec, [2, 3, 1]) == pytest.approx(direct, rel=1e-10, abs=0)
    stuck = sp.csr_matrix(np.array([[0.0, 1.0], [3.0, 0.0]]))  # far from uniform
    with pytest.raises(ConfigError, match="did not converge in 3 sweeps"):
        production_line.stationary_distribution(stuck, max_sweeps=3)
