r"""Diagnostics of importance-sampling weights: can the error bar be trusted?

An importance-sampling estimate :math:`\hat\ell = \frac1N \sum_k Y_k`, :math:`Y_k = I_k W_k`
(:math:`I_k` the event's indicator, :math:`W_k` the likelihood ratio), comes with the
standard error :math:`s(Y) / \sqrt N`. When the weights are heavy-tailed that standard error
is itself wildly noisy, typically far too small: the run has not yet seen the rare large
weights that carry the mean. Three numbers computed from the same samples reveal it:

- the **effective sample size** of the hits' weights (Kong 1992; Owen 2013, Sec. 9.3)

  .. math:: \mathrm{ESS} = \frac{(\sum_k W_k)^2}{\sum_k W_k^2},

  the number of equally weighted hits the estimate is worth;
- the **largest weight's share** :math:`\max_k W_k / \sum_k W_k`, a direct view of
  degeneracy (Chatterjee & Diaconis 2018);
- the **relative variance of the variance** of the :math:`Y_k`, as in MCNP's statistical
  checks (Pederson, Forster & Booth 1997),

  .. math:: \mathrm{VOV} = \frac{\sum_k (Y_k - \bar Y)^4}{\big(\sum_k (Y_k - \bar Y)^2\big)^2}
            - \frac1N,

  the estimated relative variance of :math:`\widehat{\operatorname{Var}}(\hat\ell)`. It is
  small (:math:`\approx \kappa / N`, :math:`\kappa` the kurtosis) when the fourth moment is
  finite and well sampled, and close to 1 when one sample dominates. MCNP's rule of thumb is
  VOV < 0.1.

:func:`check_estimate` turns them into a verdict, with advice, that
:func:`cem.rare_event.estimate_probability` raises as a
:class:`~cem.errors.DegenerateWeightsWarning`.

References
----------
.. [1] A. B. Owen, *Monte Carlo theory, methods and examples*, 2013, Ch. 9
   (effective sample sizes of importance sampling).
.. [2] S. P. Pederson, R. A. Forster, T. E. Booth, "Confidence interval procedures for
   Monte Carlo transport simulations", Nucl. Sci. Eng. 127:54-77, 1997 (the VOV).
.. [3] S. Chatterjee, P. Diaconis, "The sample size required in importance sampling",
   Ann. Appl. Probab. 28:1099-1135, 2018.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_VOV",
    "MAX_WEIGHT_SHARE",
    "MIN_ESS",
    "MIN_LEVEL_ESS",
    "WeightDiagnostics",
    "check_estimate",
    "ess",
    "weight_diagnostics",
]

#: Largest acceptable relative variance of the variance (MCNP's check).
MAX_VOV = 0.1
#: Largest acceptable share of the sum of the hits' weights held by one sample.
MAX_WEIGHT_SHARE = 0.1
#: Smallest acceptable effective sample size of the final run's hits.
MIN_ESS = 30.0
#: Smallest acceptable effective fraction of a level's elite (ESS / elite size): below it
#: the level's fit rests on a handful of samples.
MIN_LEVEL_ESS = 0.01


def ess(weights: np.ndarray) -> float:
    r"""Effective sample size :math:`(\sum w)^2 / \sum w^2` (0 for no weights)."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        return 0.0
    w = w / np.max(w)
    return float(w.sum() ** 2 / np.sum(w**2))


@dataclass(frozen=True)
class WeightDiagnostics:
    """Diagnostics of the final importance-sampling run (see the module docstring).

    Attributes
    ----------
    ess : float
        Effective sample size of the hits' weights.
    max_weight_share : float
        Largest hit weight over the sum of the hits' weights (1 with one hit, NaN with none).
    vov : float
        Relative variance of the variance of :math:`Y_k = I_k W_k` (NaN with no hit).
    hits, n : int
        Samples in the event, and samples in the run.
    """

    ess: float
    max_weight_share: float
    vov: float
    hits: int
    n: int


def weight_diagnostics(log_w_hits: np.ndarray, n: int) -> WeightDiagnostics:
    """Diagnostics from the log likelihood ratios of the hits of a run of ``n`` samples.

    The misses contribute :math:`Y_k = 0`. Weights are scaled by their maximum first, so
    the diagnostics (all scale-free) are exact when the weights underflow.
    """
    h = int(log_w_hits.size)
    if h == 0:
        return WeightDiagnostics(0.0, math.nan, math.nan, 0, n)
    w = np.exp(log_w_hits - np.max(log_w_hits))
    mean = w.sum() / n
    d_hit = w - mean
    m2 = np.sum(d_hit**2) + (n - h) * mean**2
    m4 = np.sum(d_hit**4) + (n - h) * mean**4
    vov = float(m4 / m2**2 - 1.0 / n) if m2 > 0 else 0.0
    return WeightDiagnostics(ess(w), float(1.0 / w.sum()), max(vov, 0.0), h, n)


def check_estimate(
    diag: WeightDiagnostics,
    level_ess: list[float] | tuple[float, ...] = (),
    lost_support: bool = False,
) -> str:
    """Why the estimate's error bar cannot be trusted, with advice; ``""`` when it can.

    Parameters
    ----------
    diag : WeightDiagnostics
        Of the final run.
    level_ess : sequence of float
        Effective fraction (ESS / elite size) of each level's elite weights.
    lost_support : bool
        Whether the last level's family gives zero density to some of the nominal's
        outcomes (the estimate then misses that part of the event, with no weight to show).
    """
    reasons = []
    if lost_support:
        reasons.append("the importance family gives zero density to outcomes the nominal "
                       "family produces")  # fmt: skip
    if diag.hits == 0:
        reasons.append("no sample of the final run hit the event")
    else:
        if diag.vov > MAX_VOV:
            reasons.append(f"relative variance of the variance {diag.vov:.3g} > {MAX_VOV}")
        if diag.max_weight_share > MAX_WEIGHT_SHARE:
            reasons.append(f"one sample holds {diag.max_weight_share:.0%} of the weight")
        if diag.ess < MIN_ESS:
            reasons.append(f"effective sample size {diag.ess:.3g} < {MIN_ESS:g}")
    weak = [t for t, f in enumerate(level_ess, 1) if f < MIN_LEVEL_ESS]
    if weak:
        reasons.append(f"level {weak[0]} rests on {level_ess[weak[0] - 1]:.2%} of its elite "
                       "(ESS)")  # fmt: skip
    if not reasons:
        return ""
    return (
        "degenerate likelihood ratios: " + "; ".join(reasons) + ". The standard error and "
        "the interval cannot be trusted. Try: more samples per level (n_samples); a family "
        "with fewer free parameters (a tied or mean-shift family, screening); a defensive "
        "mixture (defensive=0.1); floors on Bernoulli probabilities (min_p, max_p); a "
        "mixture family when the event has several failure regions"
    )
