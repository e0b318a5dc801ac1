"""The truncated normal family: support, exact density, CE update, bounded optimization."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from cem import maximize
from cem.config import build_family
from cem.errors import ConfigError
from cem.families import Normal, TruncatedNormal
from cem.problems.continuous import Sphere


def test_samples_stay_in_the_box_with_the_truncated_moments():
    fam = TruncatedNormal([0.3, -1.0], [0.5, 2.0], low=[0.0, -2.0], high=[1.0, np.inf])
    n = 100_000
    X = fam.sample(n, np.random.default_rng(0))
    assert X.shape == (n, 2)
    assert np.all(X >= fam.low) and np.all(X <= fam.high)
    a, b = (fam.low - fam.mean) / fam.sigma, (fam.high - fam.mean) / fam.sigma
    mean, var = stats.truncnorm.stats(a, b, loc=fam.mean, scale=fam.sigma, moments="mv")
    assert np.all(np.abs(X.mean(axis=0) - mean) <= 4 * np.sqrt(var / n))


def test_log_pdf_is_a_normalized_density_and_minus_inf_outside():
    fam = TruncatedNormal([0.3], [0.5], 0.0, 1.0)
    total, _ = integrate.quad(lambda x: np.exp(fam.log_pdf(np.array([[x]]))[0]), 0.0, 1.0)
    assert total == pytest.approx(1.0, abs=1e-10)
    assert np.all(fam.log_pdf(np.array([[-0.1], [1.1]])) == -np.inf)
    two = TruncatedNormal([0.3, 2.0], [0.5, 1.0], [0.0, 1.0], [1.0, 4.0])
    x = np.array([[0.2, 1.5]])
    one_by_one = [
        TruncatedNormal([m], [s], [lo], [hi]).log_pdf(x[:, [i]])[0]
        for i, (m, s, lo, hi) in enumerate(zip(two.mean, two.sigma, two.low, two.high, strict=True))
    ]
    assert two.log_pdf(x)[0] == pytest.approx(sum(one_by_one), rel=1e-12)


def test_fit_is_the_weighted_elite_mean_and_std_and_keeps_bounds():
    rng = np.random.default_rng(3)
    fam = TruncatedNormal(np.zeros(3), 1.0, -1.0, 2.0)
    X = fam.sample(50, rng)
    w = rng.random(50)
    fitted = fam.fit(X, w)
    mean = w @ X / w.sum()
    np.testing.assert_allclose(fitted.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(fitted.sigma, np.sqrt(w @ (X - mean) ** 2 / w.sum()), rtol=1e-12)
    assert isinstance(fitted, TruncatedNormal)
    np.testing.assert_array_equal(fitted.low, fam.low)
    np.testing.assert_array_equal(fitted.high, fam.high)
    smoothed = fitted.smooth(fam, 0.7)
    np.testing.assert_allclose(smoothed.mean, 0.7 * fitted.mean + 0.3 * fam.mean)
    assert isinstance(smoothed, TruncatedNormal)


def test_entropy_mode_and_collapse():
    wide = TruncatedNormal([0.5], [1e6], 0.0, 2.0)
    assert wide.entropy() == pytest.approx(np.log(2.0), abs=1e-9)  # uniform on [0, 2]
    fam = TruncatedNormal([3.0, 0.2], [1.0, 0.1], 0.0, 1.0)
    np.testing.assert_array_equal(fam.mode(), [1.0, 0.2])
    point = TruncatedNormal([1.5], [0.0], 0.0, 1.0)
    np.testing.assert_array_equal(point.sample(4, np.random.default_rng(0)), np.ones((4, 1)))
    assert point.is_degenerate() and point.entropy() == -np.inf


@pytest.mark.parametrize(
    ("low", "high"), [(1.0, 0.0), (0.0, 0.0), (np.nan, 1.0), ([0.0, 2.0], [1.0, 1.0])]
)
def test_bad_bounds_name_low_and_high(low, high):
    with pytest.raises(ConfigError, match="low < high"):
        TruncatedNormal([0.5, 0.5], 1.0, low, high)


def test_optimum_on_the_boundary_is_reached_inside_the_box():
    # maximize -|x - 1.2|^2 over [0, 1]^3: the optimum is the corner x = 1
    def score(X):
        return -np.sum((X - 1.2) ** 2, axis=1)

    res = maximize(score, TruncatedNormal(np.full(3, 0.5), 0.5, 0.0, 1.0), seed=0, max_iter=200)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-3)
    assert np.all(res.x <= 1.0)
    free = maximize(score, Normal(np.full(3, 0.5), 0.5), seed=0, max_iter=200)
    assert np.all(free.x > 1.1)  # without the box the search leaves it


def test_config_builds_a_truncated_normal():
    fam = build_family(
        {"type": "truncated_normal", "mean": 0.5, "sigma": 1.0, "low": 0.0, "high": 1.0},
        Sphere(dim=2),
    )
    assert isinstance(fam, TruncatedNormal) and fam.low.tolist() == [0.0, 0.0]
    with pytest.raises(ConfigError, match=r"\[family\].*low < high"):
        build_family({"type": "truncated_normal", "low": 1.0, "high": 0.0}, Sphere(dim=2))
