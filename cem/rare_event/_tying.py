r"""Automatic tying of the importance family's parameters in high dimension.

With a plain nominal family of :math:`d` independent, identically distributed coordinates
(``Exponential(np.ones(100))``, say) the CE levels fit :math:`d` parameters of each kind, and
the likelihood ratio of the final run multiplies :math:`d` noisy factors: its variance grows
like :math:`e^{\|\delta\|^2}` with :math:`\delta` the fitted parameters' noise, and in
:math:`d = 100` at :math:`\ell = 10^{-15}` the estimates are biased low with far too small
error bars. When the score treats the coordinates alike, one common value of each parameter
(*tying*, Rubinstein & Glynn 2009) is the CE optimum and removes that noise.

Whether the score treats them alike is a question the first level's elite answers: the
weighted log-likelihood of the separate fit :math:`\hat\theta` against the tied fit
:math:`\bar\theta`,

.. math:: \Lambda = 2\, \mathrm{ESS} \sum_k \tilde w_k
          \big(\log f(X_k; \hat\theta) - \log f(X_k; \bar\theta)\big),

(:math:`\tilde w` the normalized likelihood-ratio weights of the elite) is, when the
coordinates are exchangeable, approximately :math:`\chi^2` with :math:`p (d - 1)` degrees of
freedom (:math:`p` parameters per coordinate; Wilks 1938). The levels are tied when
:math:`\Lambda` stays below its 0.999 quantile: a score that singles out some coordinates
keeps its separate parameters.

References
----------
.. [1] R. Y. Rubinstein, P. W. Glynn, "How to deal with the curse of dimensionality of
   likelihood ratios in Monte Carlo simulation", Stoch. Models 25(4):547-568, 2009.
.. [2] S. S. Wilks, "The large-sample distribution of the likelihood ratio for testing
   composite hypotheses", Ann. Math. Stat. 9(1):60-62, 1938.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from cem.families import Family
from cem.rare_event._diagnostics import ess

__all__ = ["AUTO_TIE_DIM", "TIE_LEVEL", "identical_coordinates", "tying_holds"]

#: Smallest number of identically distributed coordinates for which ``tied="auto"`` tests
#: whether to tie (below it the separate parameters' noise costs little).
AUTO_TIE_DIM = 20
#: Quantile of the chi-square distribution below which the tied fit is kept.
TIE_LEVEL = 0.999


def identical_coordinates(nominal: Family) -> bool:
    """Whether every per-coordinate parameter of ``nominal`` is the same on all of its
    :data:`AUTO_TIE_DIM` or more coordinates (a 1-D event shape)."""
    shape = nominal.event_shape
    if len(shape) != 1 or shape[0] < AUTO_TIE_DIM:
        return False
    params = [np.asarray(a, dtype=float) for a in nominal.params().values()]
    return all(a.shape == shape and np.all(a == a[0]) for a in params)


def tying_holds(separate: Family, tied: Family, X: np.ndarray, weights: np.ndarray) -> bool:
    r"""The likelihood-ratio test of the module docstring: does the tied fit explain the
    elite ``X`` (weights ``weights``) as well as the separate one, up to noise?"""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = float(w @ (separate.log_pdf(X) - tied.log_pdf(X)))
    if not np.isfinite(gain):
        return False
    d = separate.event_shape[0]
    df = sum(np.size(a) - 1 for a in separate.params().values() if np.shape(a) == (d,))
    return 2.0 * ess(w) * gain <= float(stats.chi2.ppf(TIE_LEVEL, max(df, 1)))
