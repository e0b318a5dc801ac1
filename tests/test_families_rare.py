"""Families used for likelihood ratios: exact log densities and weighted-MLE updates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from cem.families import Exponential, Gamma, Normal, NormalMixture


@given(st.integers(2, 30), st.integers(1, 5), st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_exponential_fit_is_weighted_mean(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.exponential(2.0, (n, d))
    w = rng.random(n) + 0.01
    np.testing.assert_allclose(Exponential(np.ones(d)).fit(X, w).mean, w @ X / w.sum())


@given(arrays(float, 3, elements=st.floats(0.1, 10)), st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_exponential_log_pdf_matches_scipy(mean, seed):
    X = np.random.default_rng(seed).exponential(1.0, (5, 3))
    expected = stats.expon.logpdf(X, scale=mean).sum(axis=1)
    np.testing.assert_allclose(Exponential(mean).log_pdf(X), expected)
    assert Exponential(mean).log_pdf(-X)[0] == -np.inf


def test_mean_shift_normal_keeps_sigma():
    X = np.random.default_rng(0).normal(5.0, 0.1, (100, 2))
    fam = Normal(np.zeros(2), 1.0, learn_sigma=False).fit(X)
    np.testing.assert_array_equal(fam.sigma, [1.0, 1.0])
    assert abs(fam.mean[0] - 5.0) < 0.05


def test_mixture_log_pdf_and_fit():
    mix = NormalMixture([0.3, 0.7], [[0.0, 0.0], [3.0, -1.0]], [[1.0, 2.0], [0.5, 0.5]])
    X = np.random.default_rng(1).normal(size=(7, 2))
    dens = 0.3 * stats.multivariate_normal([0, 0], np.diag([1, 4])).pdf(X) + 0.7 * (
        stats.multivariate_normal([3, -1], np.diag([0.25, 0.25])).pdf(X)
    )
    np.testing.assert_allclose(mix.log_pdf(X), np.log(dens))
    sample = mix.sample(40_000, np.random.default_rng(2))
    fitted = NormalMixture.standard(2, 2).fit(sample)
    order = np.argsort(fitted.means[:, 0])
    np.testing.assert_allclose(fitted.weights[order], [0.3, 0.7], atol=0.02)
    np.testing.assert_allclose(fitted.means[order], mix.means, atol=0.05)
    np.testing.assert_allclose(fitted.sigmas[order], mix.sigmas, atol=0.05)


@pytest.mark.parametrize("d", [1, 3, 5, 9])
def test_exponential_log_pdf_sums_rows_as_numpy_does(d):
    # the column-by-column sum of short rows must equal numpy's reduction to the bit
    rng = np.random.default_rng(d)
    mean = rng.uniform(0.1, 3.0, d)
    X = rng.exponential(1.0, (1000, d)) * mean * 1.7
    expected = -np.sum(np.log(mean)) - np.sum(X / mean, axis=1)
    assert np.array_equal(Exponential(mean).log_pdf(X), expected)


@given(arrays(float, 3, elements=st.floats(0.2, 10)), arrays(float, 3, elements=st.floats(0.1, 5)),
       st.integers(0, 2**32 - 1))  # fmt: skip
@settings(max_examples=30, deadline=None)
def test_gamma_log_pdf_matches_scipy(shape, scale, seed):
    X = np.random.default_rng(seed).gamma(2.0, 1.0, (5, 3))
    expected = stats.gamma.logpdf(X, shape, scale=scale).sum(axis=1)
    np.testing.assert_allclose(Gamma(shape, scale).log_pdf(X), expected, rtol=1e-10)
    assert Gamma(shape, scale).log_pdf(-X)[0] == -np.inf


def test_gamma_fit_is_the_weighted_maximum_likelihood_estimate():
    rng = np.random.default_rng(3)
    X = rng.gamma(3.0, 0.5, (400, 2))
    w = rng.random(400)
    fit = Gamma(1.0, np.ones(2)).fit(X, w)
    for i in range(2):  # scipy's likelihood, weighted by repeating nothing: compare scores
        k, theta = fit.shape[i], fit.scale[i]
        loglik = lambda a, b, x=X[:, i]: w @ stats.gamma.logpdf(x, a, scale=b)  # noqa: E731
        best = loglik(k, theta)
        for dk, dt in [(1.01, 1), (0.99, 1), (1, 1.01), (1, 0.99)]:
            assert loglik(k * dk, theta * dt) < best
    # the mean is the weighted mean, as for every natural exponential family in x
    np.testing.assert_allclose(fit.shape * fit.scale, w @ X / w.sum())


def test_gamma_with_shape_one_is_the_exponential_family():
    X = np.random.default_rng(0).exponential(1.0, (50, 3))
    mean = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(Gamma(1.0, mean).log_pdf(X), Exponential(mean).log_pdf(X))


def test_gamma_scale_floor_gives_the_constrained_fit():
    from scipy import special

    X = np.random.default_rng(0).gamma(50.0, 0.1, size=(20_000, 1))
    fit = Gamma(1.0, np.ones(1), min_scale=np.ones(1)).fit(X)
    assert fit.scale[0] == 1.0  # the floor; psi(k) = mean log x - log theta there
    assert abs(special.digamma(fit.shape[0]) - np.log(X).mean()) < 1e-10
    assert np.array_equal(fit.min_scale, np.ones(1))


def test_exponential_mean_floor():
    X = np.random.default_rng(0).exponential([0.5, 3.0], size=(1000, 2))
    fit = Exponential(np.ones(2), min_mean=np.ones(2)).fit(X)
    assert fit.mean[0] == 1.0 and fit.mean[1] > 2.5
