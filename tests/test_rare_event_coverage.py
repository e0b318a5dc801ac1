"""Coverage of the 95% confidence intervals over 200 seeded runs (slow).

An interval procedure is calibrated when it covers the exact value in 95% of runs; with 200
runs the binomial standard deviation of the coverage is 1.5%, so the accepted band 92-98% is
two standard deviations wide on each side. Over-wide intervals fail the upper bound, too-small
error bars (the symptom of degenerate likelihood ratios) the lower one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cem.problems.rare_events import BridgeNetwork, KOutOfN, LinearLimitState

RUNS = 200


def coverage(prob, **options) -> tuple[float, int]:
    """Fraction of the runs whose interval covers the exact value, and the untrusted runs."""
    exact, covered, untrusted = prob.exact(), 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(RUNS):
            res = prob.estimate(seed=seed, **options)
            covered += res.ci[0] <= exact <= res.ci[1]
            untrusted += not res.trusted
    return covered / RUNS, untrusted


@pytest.mark.slow
@pytest.mark.parametrize(
    ("prob", "options"),
    [
        (BridgeNetwork(3.0), {"conditional": True}),  # l = 2.06e-8
        (LinearLimitState(4.0, a=tuple(np.ones(100))), {"n_final": 70_000,
                                                        "mcmc_samples": 20_000}),
        (KOutOfN(10, 4, 0.001), {"n_final": 20_000}),  # Bernoulli family with floors
    ],
    ids=["bridge-2e-8-cmc", "linear-d100-improved-ce", "k-out-of-n-bernoulli"],
)  # fmt: skip
def test_intervals_cover_the_exact_value_in_92_to_98_percent(prob, options):
    cover, untrusted = coverage(prob, **options)
    assert 0.92 <= cover <= 0.98, (cover, untrusted)
