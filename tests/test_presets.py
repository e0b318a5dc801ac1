"""The method="auto" preset and the mean-shift injection of the Normal families."""

from __future__ import annotations

import numpy as np
import pytest

from cem import CrossEntropyOptimizer, minimize
from cem._presets import apply_method, auto_options
from cem.errors import ConfigError
from cem.families import FullNormal, Normal
from cem.problems.continuous import Rosenbrock, Sphere


def test_injection_is_the_spread_about_the_previous_mean():
    rng = np.random.default_rng(0)
    X = rng.normal(2.0, 0.5, size=(40, 3))
    old = np.array([0.0, 1.0, -1.0])
    diag = Normal(old, 1.0, inject=1.0).fit(X)
    np.testing.assert_allclose(diag.mean, X.mean(axis=0))
    np.testing.assert_allclose(diag.sigma**2, np.mean((X - old) ** 2, axis=0))
    full = FullNormal(old, 1.0, inject=1.0).fit(X)
    np.testing.assert_allclose(full.cov, (X - old).T @ (X - old) / len(X))
    half = FullNormal(old, 1.0, inject=0.5).fit(X)
    shift = X.mean(axis=0) - old
    np.testing.assert_allclose(half.cov, np.cov(X.T, bias=True) + 0.5 * np.outer(shift, shift))
    assert Normal(old, 1.0).fit(X).inject == 0.0
    np.testing.assert_allclose(Normal(old, 1.0).fit(X).sigma, X.std(axis=0), rtol=1e-14)


def test_bad_injection_names_the_argument():
    with pytest.raises(ConfigError, match=r"inject must be a finite number >= 0, got -1\.0"):
        Normal([0.0], 1.0, inject=-1.0)


def test_auto_derives_the_sample_from_the_dimension():
    assert auto_options(20) == {"n_samples": 24, "n_elite": 8, "alpha": 1.0, "keep_elite": 1}
    assert auto_options(5) == {"n_samples": 16, "n_elite": 5, "alpha": 1.0, "keep_elite": 1}
    opt = CrossEntropyOptimizer(Sphere(dim=30), rng=0)
    assert opt.options["n_samples"] == 28 and opt.n_elite == 9
    assert opt.scaling is not None and opt.family is opt.initial_family


def test_explicit_options_keep_the_classic_update():
    prob = Sphere(dim=3)
    for given in ({"n_samples": 300}, {"alpha": 0.9}, {"keep_elite": 2}, {"method": "classic"}):
        opt = CrossEntropyOptimizer(prob, rng=0, **given)
        assert opt.family is prob.initial_family()
        assert opt.scaling is None and opt.sampler is opt.family
    options = {"method": "auto", "n_samples": 1000, "rho": 0.1, "n_elite": None,
               "alpha": 0.7, "beta": None, "q": 5.0, "keep_elite": 0}  # fmt: skip
    fam = Normal([0.0], 1.0)
    assert apply_method(options, fam)[0]["n_samples"] == 8
    assert apply_method({**options, "method": None}, fam) == ({**options, "method": None}, fam)


def test_auto_reaches_the_sphere_20_target_within_2e4_evaluations():
    res = minimize(Sphere(dim=20), rng=1, max_evals=20_000, target=1e-8)
    assert res.fun <= 1e-8 and res.nfev <= 20_000


@pytest.mark.slow
def test_auto_rosenbrock_10_median_below_1e_2_at_1e5_evaluations():
    values = [minimize(Rosenbrock(dim=10), rng=s, max_evals=100_000).fun for s in range(5)]
    assert np.median(values) <= 1e-2
