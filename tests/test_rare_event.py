"""Rare-event estimation against exact probabilities.

Every statistical check uses a fixed seed and a tolerance of 3 of the estimator's own
standard errors, so a biased estimator would fail it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cem.errors import ConfigError, InvalidScoreError, NotRareWarning
from cem.families import Bernoulli, Exponential, Normal
from cem.problems.rare_events import (
    BRIDGE_EXACT,
    BRIDGE_MEANS,
    BridgeNetwork,
    LinearLimitState,
    MM1Overflow,
    SeriesSystem,
    SumOfExponentials,
    bridge_probability,
)
from cem.rare_event import crude_monte_carlo, estimate_probability


def within_3se(result, exact: float) -> bool:
    return abs(result.estimate - exact) <= 3 * result.std_error


def test_bridge_exact_value_cross_checked_by_conditional_monte_carlo():
    """Second way: average the closed-form P(x4, x5 large | x1, x2, x3) over 1e6 draws."""
    u = np.array(BRIDGE_MEANS)
    rng = np.random.default_rng(np.random.SeedSequence(2005))
    for g in (1.0, 1.5):
        x = rng.standard_exponential((1_000_000, 3)) * u[:3]
        a4 = np.maximum.reduce([g - x[:, 0], g - x[:, 1] - x[:, 2], np.zeros(len(x))])
        a5 = np.maximum.reduce([g - x[:, 0] - x[:, 2], g - x[:, 1], np.zeros(len(x))])
        values = np.exp(-a4 / u[3] - a5 / u[4])
        se = values.std() / np.sqrt(len(values))
        assert abs(values.mean() - bridge_probability(g)) <= 3 * se  # the tabulated value


@pytest.mark.slow
@pytest.mark.parametrize("gamma", sorted(BRIDGE_EXACT))
def test_bridge_table_equals_the_quadrature(gamma):
    """The tabulated exact values are the quadrature's (which the test above checks by MC)."""
    computed = bridge_probability(gamma, tabulated=False)
    assert BRIDGE_EXACT[gamma] == pytest.approx(computed, rel=1e-12)


def test_bridge_exact_differs_from_the_quoted_ce_estimate():
    exact = bridge_probability(2.0)
    assert f"{exact:.4e}" != "1.3393e-05" and 1.33e-5 < exact < 1.35e-5


@pytest.mark.parametrize("gamma", [1.0, 1.5, 2.0, 3.0])
def test_bridge_network_ladder(gamma):
    prob = BridgeNetwork(gamma)
    res = prob.estimate(seed=11)
    assert within_3se(res, prob.exact())
    assert res.levels[-1].gamma == gamma


def test_bridge_default_budget_relative_error():
    res = BridgeNetwork(2.0).estimate(seed=3)  # N = 1000 per level, N1 = 1e5
    assert res.rel_error <= 0.05
    assert res.n_final == 100_000 and res.nfev == 1000 * len(res.levels) + 100_000


@pytest.mark.parametrize(("n", "p"), [(2, 1e-3), (10, 1e-6), (30, 1e-9), (100, 1e-12)])
def test_sum_of_exponentials(n, p):
    prob = SumOfExponentials.with_probability(n, p)
    assert prob.exact() == pytest.approx(p, rel=1e-9)
    res = prob.estimate(seed=5, n_final=50_000)
    assert within_3se(res, prob.exact())


@pytest.mark.parametrize("beta", [2.0, 4.0, 6.0, 8.0])
def test_linear_limit_state(beta):
    prob = LinearLimitState(beta, a=(1.0, -2.0, 0.5))
    res = prob.estimate(seed=7, n_final=20_000)
    assert within_3se(res, stats.norm.sf(beta))


def test_probabilities_below_the_double_range_stay_finite_in_log_space():
    # Far tails need more samples per level: the elite mean's noise costs exp(|offset|^2).
    prob = LinearLimitState(40.0)  # Phi(-40) ~ 3.7e-350 underflows a double
    res = prob.estimate(seed=1, n_samples=5000, n_final=20_000)
    assert res.estimate == 0.0 and math.isfinite(res.log_estimate) and res.hits > 0
    # The relative error comes from the scaled weights: compare in log space within 3 RE.
    exact = prob.log_exact()
    assert math.isfinite(exact) and 0 < res.rel_error < 0.2
    assert abs(math.expm1(exact - res.log_estimate)) <= 3 * res.rel_error
    near = LinearLimitState(37.0).estimate(seed=1, n_samples=5000, n_final=20_000)  # 5.7e-300
    assert near.estimate > 0 and within_3se(near, math.exp(LinearLimitState(37.0).log_exact()))


def test_mm1_overflow():
    prob = MM1Overflow(arrival=1.0, service=2.0, level=20)
    rho, L = 0.5, 20
    assert prob.exact() == pytest.approx((1 - rho) * rho ** (L - 1) / (1 - rho**L))
    res = prob.estimate(seed=2, n_final=50_000)
    assert within_3se(res, prob.exact())
    assert res.family.p > 0.5  # tilted towards the rates swapped


def test_two_failure_regions_with_a_mixture():
    prob = SeriesSystem(3.5)
    res = prob.estimate(seed=4, n_final=50_000)
    assert within_3se(res, prob.exact())
    means = res.family.means
    # One component on each failure region.
    assert means[:, 0].max() > 3 and means[:, 1].max() > 3


def test_same_seed_same_estimate_for_any_n_jobs():
    prob = BridgeNetwork(2.0)
    a = prob.estimate(seed=9, n_final=20_000, batch_size=5000)
    b = prob.estimate(seed=9, n_final=20_000, batch_size=5000, n_jobs=2)
    assert a.estimate == b.estimate and a.std_error == b.std_error


def test_crude_monte_carlo_and_no_hit():
    prob = BridgeNetwork(1.0)
    res = crude_monte_carlo(prob.score, prob.nominal_family(), 1.0, n_samples=400_000, rng=0)
    assert within_3se(res, prob.exact()) and res.method == "crude"
    none = crude_monte_carlo(prob.score, prob.nominal_family(), 3.0, n_samples=10_000, rng=0)
    assert none.no_hit and none.estimate == 0.0 and "no hit" in none.summary()


def test_table_and_direction_le():
    res = estimate_probability(lambda X: X[:, 0], Normal([0.0], 1.0, learn_sigma=False), -4.0,
                               direction="le", seed=0, n_final=20_000)  # fmt: skip
    assert within_3se(res, stats.norm.cdf(-4.0))
    table = res.format_table()
    assert table.splitlines()[0].split()[:2] == ["t", "gamma_t"]
    assert "estimate" in table.splitlines()[-1] and "95% CI" in table


def test_bad_input():
    fam = Exponential(np.ones(2))
    score = lambda X: X.sum(axis=1)  # noqa: E731
    with pytest.warns(NotRareWarning, match="not rare"):
        estimate_probability(score, fam, 0.5, seed=0, n_final=1000)
    with pytest.raises(ConfigError, match="support does not cover"):
        estimate_probability(lambda X: X.sum(1), Bernoulli([0.5, 0.5]), 2.0,
                             family=Bernoulli([0.0, 0.5]), seed=0)  # fmt: skip
    with pytest.raises(ConfigError, match="Exponential means must be finite and > 0"):
        Exponential([1.0, 0.0])

    def with_nan(X):
        s = X.sum(axis=1)
        s[7] = np.nan
        return s

    with pytest.raises(
        InvalidScoreError, match=r"NaN for 4 of 1000 samples \(first at row 7\); fix the objective$"
    ):
        estimate_probability(with_nan, fam, 20.0, seed=0)
    with pytest.raises(ConfigError, match=r"rho must be a number in \(0, 1\)"):
        estimate_probability(score, fam, 20.0, rho=1.0)
    with pytest.raises(ConfigError, match="direction must be"):
        estimate_probability(score, fam, 20.0, direction=">=")


@pytest.mark.slow
def test_confidence_interval_coverage():
    """200 seeded repetitions at l ~ 1e-6: the 95% CI covers the exact value 93-97% of runs."""
    prob = SumOfExponentials.with_probability(10, 1e-6)
    covered = 0
    for rep in range(200):
        res = prob.estimate(seed=1000 + rep, n_final=5_000)
        covered += res.ci[0] <= prob.exact() <= res.ci[1]
    assert 186 <= covered <= 194


def test_bridge_given_x1_x2_integrates_x3_out():
    # P(event | x1, x2) is the mean over x3 of P(event | x1, x2, x3): Gauss-Laguerre
    # quadrature in x3 is exact to ~1e-3 on these piecewise-smooth integrands only, so
    # compare with a fine trapezoid sum over a grid split at the kinks instead.
    full, reduced = BridgeNetwork(2.0), BridgeNetwork(2.0, given=(0, 1))
    rng = np.random.default_rng(4)
    for x1, x2 in [*rng.exponential(1.5, (6, 2)), (2.5, 0.3), (0.3, 2.5), (1.0, 1.0)]:
        x3 = np.linspace(0.0, 4.0, 400_001)
        p = full.conditional_probability(np.c_[np.full_like(x3, x1), np.full_like(x3, x2), x3])
        dens = np.exp(-x3 / 0.1) / 0.1
        y = p * dens
        numeric = float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x3)))
        got = reduced.conditional_probability(np.array([[x1, x2]]))[0]
        assert got == pytest.approx(numeric, rel=1e-6, abs=1e-300)


def test_scores_are_split_into_batches_as_the_samples_are(monkeypatch):
    """The final run's scores are checked batch by batch with the batches the samples were
    cut into (their size depends on the dimension)."""
    import cem._parallel

    monkeypatch.setattr(cem._parallel, "MAX_BATCH_NUMBERS", 2**12)
    prob = LinearLimitState(4.0, a=tuple(np.ones(10)))
    res = prob.estimate(seed=0, n_final=20_000, tied=True)
    assert abs(res.estimate - prob.exact()) <= 3 * res.std_error


def test_bridge_gamma_family_conditioned_on_x1_x2_is_right():
    prob = BridgeNetwork(2.0, given=(0, 1), family="gamma")
    res = prob.estimate(seed=0, conditional=True, defensive=0.1, n_final=20_000)
    assert res.method == "ce-cmc" and abs(res.estimate - prob.exact()) <= 3 * res.std_error
