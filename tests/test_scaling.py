"""AMaLGaM's variance scaling under method="auto", IPOP restarts and box bounds."""

from __future__ import annotations

import numpy as np
import pytest

from cem import CrossEntropyOptimizer, minimize
from cem._sampling import MovedSampler
from cem._scaling import ETA_DEC, VarianceScaling, condition_number, learning_rates
from cem.errors import ConfigError
from cem.families import Bernoulli, FullNormal, Normal


def _multipliers(objective, family, iterations, seed=0):
    opt = CrossEntropyOptimizer(objective, family, sense="min", method="auto", rng=seed,
                                degenerate_tol=None, stall_iters=None)  # fmt: skip
    out = []
    for _ in range(iterations):
        opt.step()
        out.append(opt.scaling.multiplier)
    return np.array(out), opt


@pytest.mark.parametrize("kind", [Normal, FullNormal])
def test_multiplier_rises_on_a_slope(kind):
    # A linear function has no optimum: every iteration improves far from the mean.
    c, _ = _multipliers(lambda X: X.sum(axis=1), kind(np.zeros(4), 1.0), 30)
    assert c[-1] >= ETA_DEC**-20  # raised on at least 20 of 30 iterations


@pytest.mark.parametrize("kind", [Normal, FullNormal])
def test_multiplier_falls_at_an_optimum(kind):
    # On the sphere from its optimum the improvements come from near the mean; once
    # they stop for 25 + d iterations the multiplier falls geometrically below 1.
    c, opt = _multipliers(lambda X: np.round(np.sum(X**2, axis=1), 2),
                          kind(np.zeros(4), 1.0), 120)  # fmt: skip
    assert c.max() <= 1.0 / ETA_DEC**3
    assert c[-1] < 1e-2
    assert opt.stop().keys() <= {"scaling", "condition"}  # converged rules only


def test_update_follows_the_avs_rules():
    vs = VarianceScaling(20, 7, 2, full=False)
    fam = Normal(np.zeros(2), 1.0)
    fitted = Normal(np.ones(2), 0.5)
    vs.update(fam, fitted, np.array([[3.0, 0.0]]))  # SDR = 3 > 1
    assert vs.multiplier == pytest.approx(1 / ETA_DEC) and vs.no_improvement == 0
    vs.update(fam, fitted, None)  # c > 1 without improvement: falls
    assert vs.multiplier == pytest.approx(1.0)
    for _ in range(vs.max_no_improvement - 1):
        vs.update(fam, fitted, None)
    assert vs.multiplier == 1.0
    vs.update(fam, fitted, None)
    assert vs.multiplier == pytest.approx(ETA_DEC)
    eta_sigma, eta_shift = learning_rates(7, 2, False)
    assert vs.base.sigma == pytest.approx(np.full(2, 0.5))  # eta applied to the first base
    assert 0 < eta_sigma <= 1 and 0 < eta_shift <= 1


def test_anticipated_shift_moves_a_fraction_of_each_batch():
    sampler = MovedSampler(Normal(np.zeros(3), 1e-12), np.full(3, 5.0), 0.25)
    X = sampler.sample(8, np.random.default_rng(0))
    np.testing.assert_allclose(X[:2], 5.0)
    np.testing.assert_allclose(X[2:], 0.0, atol=1e-9)


def test_auto_full_normal_solves_a_rotated_ellipsoid():
    rng = np.random.default_rng(3)
    R = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    scales = 10.0 ** np.arange(5)

    def ellipsoid(X):
        return np.sum(scales * ((X - 1) @ R) ** 2, axis=1)

    res = minimize(ellipsoid, FullNormal(np.zeros(5), 4.0), method="auto", rng=0,
                   max_evals=20_000, target=1e-8)  # fmt: skip
    assert res.fun <= 1e-8


def _rastrigin(X):
    return 10 * X.shape[1] + np.sum(X**2 - 10 * np.cos(2 * np.pi * X), axis=1)


def test_ipop_restarts_double_the_sample_and_keep_the_best():
    res = minimize(_rastrigin, FullNormal(np.full(3, 2.0), 4.0), method="auto", rng=2,
                   restarts="ipop", max_evals=20_000)  # fmt: skip
    sizes = [r["n_samples"] for r in res.restarts]
    assert len(sizes) >= 3 and sizes == [sizes[0] * 2**k for k in range(len(sizes))]
    assert res.nfev <= 20_000 and res.history["evals"][-1] == res.nfev
    starts = [r["t"] for r in res.restarts]
    assert starts == sorted(starts) and all(r["after"] for r in res.restarts[1:])
    assert res.fun == pytest.approx(res.history["best"].min())
    assert "max_evals" in res.stop


def test_restarts_need_a_budget_and_a_resumed_run_matches():
    with pytest.raises(ConfigError, match="restarts='ipop' needs max_evals"):
        CrossEntropyOptimizer(_rastrigin, Normal(np.zeros(2), 1.0), restarts="ipop")
    kwargs = dict(sense="min", method="auto", rng=4, restarts="ipop", max_evals=3000)
    whole = CrossEntropyOptimizer(_rastrigin, Normal(np.zeros(2), 2.0), **kwargs).run()
    first = CrossEntropyOptimizer(_rastrigin, Normal(np.zeros(2), 2.0), **kwargs)
    while len(first.restarts) < 2:  # run into the second start, then checkpoint
        fired = first.stop()
        assert not fired or first.restart(fired)
        first.step()
    resumed = CrossEntropyOptimizer(_rastrigin, Normal(np.zeros(2), 2.0), **kwargs)
    resumed.load_state_dict(first.state_dict())
    again = resumed.run()
    assert again.fun == whole.fun and len(again.history) == len(whole.history)
    for column in ("gamma", "best", "mean", "entropy", "evals"):  # all but the seconds
        np.testing.assert_array_equal(again.history[column], whole.history[column])
    assert again.restarts == whole.restarts


@pytest.mark.parametrize("kind", [Normal, FullNormal])
def test_bounds_project_samples_and_reach_an_optimum_on_a_face(kind):
    res = minimize(
        lambda X: np.sum((X - 3.0) ** 2, axis=1),
        kind(np.zeros(3), 1.0),
        bounds=[-1.0, [2.0, 2.0, 5.0]],
        method="auto",
        rng=0,
        max_evals=5000,
    )
    np.testing.assert_allclose(res.x, [2.0, 2.0, 3.0], atol=1e-3)


def test_bounds_errors_name_the_option():
    with pytest.raises(ConfigError, match="bounds is an option of the Normal"):
        minimize(lambda X: X.sum(axis=1), Bernoulli(np.full(3, 0.5)), bounds=[0, 1])
    with pytest.raises(ConfigError, match="coordinate 1 is 4, outside"):
        minimize(lambda X: X.sum(axis=1), Normal([0.0, 4.0], 1.0), bounds=[-1, 1])
    with pytest.raises(ConfigError, match="lower <= upper"):
        minimize(lambda X: X.sum(axis=1), Normal([0.0, 0.0], 1.0), bounds=[1, -1])
    with pytest.raises(ConfigError, match=r"bounds must be a pair \[lower, upper\]"):
        minimize(lambda X: X.sum(axis=1), Normal([0.0], 1.0), bounds=[1])


def test_an_ill_conditioned_covariance_ends_a_start():
    assert condition_number(Normal(np.zeros(2), [1.0, 1e-8])) == pytest.approx(1e16)
    assert condition_number(FullNormal(np.zeros(2), np.diag([1.0, 1e-4]))) == pytest.approx(1e4)
    opt = CrossEntropyOptimizer(lambda X: X.sum(axis=1), Normal(np.zeros(2), 1.0),
                                method="auto", rng=0)  # fmt: skip
    assert "condition" not in opt.stop()
    opt.family = Normal(np.zeros(2), [1.0, 1e-8])
    assert "condition" in opt.stop()
    classic = CrossEntropyOptimizer(lambda X: X.sum(axis=1), Normal(np.zeros(2), [1.0, 1e-8]))
    assert "condition" not in classic.stop()  # a rule of the auto preset only


def test_auto_with_bounds_is_the_same_run_for_any_n_jobs():
    def run(n_jobs):
        return minimize(_rastrigin, FullNormal(np.full(3, 1.0), 4.0), method="auto", rng=5,
                        restarts="ipop", max_evals=3000, bounds=[-2, 2], n_jobs=n_jobs,
                        batch_size=8)  # fmt: skip

    one, two = run(1), run(2)
    assert one.fun == two.fun and np.array_equal(one.x, two.x)
    np.testing.assert_array_equal(one.history["gamma"], two.history["gamma"])
    assert np.all(np.abs(one.x) <= 2)
