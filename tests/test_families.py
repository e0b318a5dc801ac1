"""Families: the CE update is the weighted MLE; smoothing, entropy and bounds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from cem.errors import ConfigError
from cem.families import Bernoulli, Categorical, FullNormal, Normal

weights_st = st.integers(2, 30).flatmap(
    lambda n: st.tuples(
        st.just(n), arrays(float, n, elements=st.floats(0.01, 10.0)), st.integers(0, 2**32 - 1)
    )
)


@given(weights_st, st.integers(1, 6))
@settings(max_examples=50, deadline=None)
def test_bernoulli_fit_is_weighted_mean(nws, d):
    n, w, seed = nws
    X = (np.random.default_rng(seed).random((n, d)) < 0.5).astype(float)
    np.testing.assert_allclose(Bernoulli(np.full(d, 0.5)).fit(X, w).p, w @ X / w.sum())


@given(weights_st, st.lists(st.integers(1, 5), min_size=1, max_size=4))
@settings(max_examples=50, deadline=None)
def test_categorical_fit_is_weighted_frequency(nws, ks):
    n, w, seed = nws
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, k, n) for k in ks])
    fitted = Categorical.uniform(ks).fit(X, w)
    for i, k in enumerate(ks):
        expected = [w[X[:, i] == j].sum() / w.sum() for j in range(k)]
        np.testing.assert_allclose(fitted.probs[i, :k], expected, atol=1e-12)
        assert np.all(fitted.probs[i, k:] == 0)


@given(weights_st, st.integers(1, 4))
@settings(max_examples=50, deadline=None)
def test_normal_fits_are_weighted_moments(nws, d):
    n, w, seed = nws
    X = np.random.default_rng(seed).normal(size=(n, d)) * 3 + 1
    mean = w @ X / w.sum()
    cov = np.cov(X, rowvar=False, aweights=w, bias=True).reshape(d, d)
    diag = Normal(np.zeros(d), 1.0).fit(X, w)
    full = FullNormal(np.zeros(d), 1.0).fit(X, w)
    np.testing.assert_allclose(diag.mean, mean, atol=1e-12)
    np.testing.assert_allclose(diag.sigma, np.sqrt(np.diag(cov)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(full.mean, mean, atol=1e-12)
    np.testing.assert_allclose(full.cov, cov, rtol=1e-9, atol=1e-12)


def test_unweighted_fit_equals_uniform_weights():
    X = np.random.default_rng(0).normal(size=(50, 3))
    a = Normal(np.zeros(3), 1.0).fit(X)
    b = Normal(np.zeros(3), 1.0).fit(X, np.full(50, 7.0))
    np.testing.assert_allclose(a.mean, b.mean)
    np.testing.assert_allclose(a.sigma, b.sigma)


def test_smoothing_by_hand():
    new, old = Bernoulli([1.0, 0.0, 0.5]), Bernoulli([0.5, 0.5, 0.5])
    np.testing.assert_allclose(new.smooth(old, 0.7).p, [0.85, 0.15, 0.5])
    np.testing.assert_allclose(new.smooth(old, 1.0).p, new.p)
    n_new, n_old = Normal([2.0], [1.0]), Normal([0.0], [3.0])
    s = n_new.smooth(n_old, {"*": 0.5, "sigma": 0.25})
    np.testing.assert_allclose(s.mean, [1.0])  # 0.5*2 + 0.5*0
    np.testing.assert_allclose(s.sigma, [2.5])  # 0.25*1 + 0.75*3
    f = FullNormal([0.0, 0.0], np.diag([4.0, 1.0])).smooth(FullNormal([2.0, 2.0], 0.0), 0.5)
    np.testing.assert_allclose(f.mean, [1.0, 1.0])
    np.testing.assert_allclose(f.cov, np.diag([2.0, 0.5]))
    with pytest.raises(ConfigError, match="cannot smooth"):
        new.smooth(n_old, 0.5)


def test_entropy_by_hand():
    assert Bernoulli([0.5, 0.5, 0.0]).entropy() == pytest.approx(2 * np.log(2))
    assert Categorical.uniform([4, 2]).entropy() == pytest.approx(np.log(4) + np.log(2))
    assert Normal([0.0], [1.0]).entropy() == pytest.approx(0.5 * np.log(2 * np.pi * np.e))
    # 0.5 * log((2 pi e)^2 * det) with det = 4
    assert FullNormal([0.0, 0.0], np.diag([4.0, 1.0])).entropy() == pytest.approx(
        np.log(2 * np.pi * np.e) + 0.5 * np.log(4.0)
    )
    assert Normal([0.0, 0.0], [2.0, 0.5]).entropy() == pytest.approx(
        np.log(2 * np.pi * np.e) + np.log(2.0) + np.log(0.5)
    )


def test_log_pdf_matches_scipy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 3))
    mean, sigma = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, 3.0])
    expected = stats.norm.logpdf(X, mean, sigma).sum(axis=1)
    np.testing.assert_allclose(Normal(mean, sigma).log_pdf(X), expected)
    cov = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.5]])
    np.testing.assert_allclose(
        FullNormal(mean, cov).log_pdf(X), stats.multivariate_normal(mean, cov).logpdf(X)
    )
    p = np.array([0.2, 0.7, 0.5])
    B = (rng.random((10, 3)) < 0.5).astype(float)
    np.testing.assert_allclose(Bernoulli(p).log_pdf(B), stats.bernoulli.logpmf(B, p).sum(axis=1))
    cat = Categorical([[0.2, 0.8], [0.1, 0.3, 0.6]])
    C = np.array([[0, 2], [1, 1]])
    np.testing.assert_allclose(cat.log_pdf(C), np.log([0.2 * 0.6, 0.8 * 0.3]))


@pytest.mark.parametrize(
    "family",
    [
        Bernoulli([0.1, 0.5, 0.9]),
        Categorical([[0.2, 0.8, 0.0], [0.1, 0.3, 0.6]], n_categories=[2, 3]),
        Normal([1.0, -2.0], [0.5, 3.0]),
        FullNormal([1.0, -2.0], [[1.0, 0.8], [0.8, 2.0]]),
    ],
)
def test_sampling_matches_parameters_and_round_trips_through_fit(family):
    """The fit of many samples recovers the parameters within 5 standard errors."""
    n = 40_000
    X = family.sample(n, np.random.default_rng(np.random.SeedSequence(2024)))
    assert X.shape == (n, *family.event_shape)
    fitted = family.fit(X)
    for name, value in family.params().items():
        got = fitted.params()[name]
        # Crude bound: every parameter here is a mean of bounded-variance terms.
        scale = max(1.0, float(np.max(np.abs(value))))
        assert np.max(np.abs(got - value)) < 5 * 3 * scale / np.sqrt(n), name


def test_bounds_and_floors():
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        Bernoulli([0.5, 1.2])
    with pytest.raises(ConfigError, match="sums to"):
        Categorical([[0.5, 0.6]])
    with pytest.raises(ConfigError, match="sigma"):
        Normal([0.0], [-1.0])
    with pytest.raises(ConfigError, match="positive semi-definite"):
        FullNormal([0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]])
    X = np.ones((5, 2))
    assert np.all(Normal([0.0, 0.0], 1.0, min_sigma=1e-3).fit(X).sigma == 1e-3)
    full = FullNormal([0.0, 0.0], 1.0, min_sigma=1e-2).fit(X)
    np.testing.assert_allclose(np.linalg.eigvalsh(full.cov), [1e-4, 1e-4])
    p = Bernoulli([0.5]).fit(np.array([[1.0], [1.0]])).p
    assert 0.0 <= p[0] <= 1.0


def test_degeneracy_and_mode():
    assert Bernoulli([0.0, 1.0]).is_degenerate()
    assert not Bernoulli([0.0, 0.4]).is_degenerate()
    np.testing.assert_array_equal(Bernoulli([0.2, 0.9]).mode(), [0.0, 1.0])
    assert Categorical([[1.0, 0.0]]).is_degenerate()
    np.testing.assert_array_equal(Categorical([[0.3, 0.7], [0.9, 0.1]]).mode(), [1, 0])
    assert Normal([3.0], [1e-9]).is_degenerate(1e-6)
    assert not FullNormal([3.0, 1.0], np.diag([1e-14, 1.0])).is_degenerate(1e-6)
    np.testing.assert_array_equal(Normal([3.0], [1.0]).mode(), [3.0])


def test_fit_rejects_bad_weights():
    X = np.zeros((3, 2))
    with pytest.raises(ConfigError, match="shape"):
        Bernoulli([0.5, 0.5]).fit(X, np.ones(2))
    with pytest.raises(ConfigError, match="nonnegative"):
        Bernoulli([0.5, 0.5]).fit(X, np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ConfigError, match="positive sum"):
        Bernoulli([0.5, 0.5]).fit(X, np.zeros(3))
