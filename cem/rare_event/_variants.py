r"""The robust variants of multilevel CE: conditional Monte Carlo, tied parameters and
screening, and the improved CE's samples of the zero-variance density.

References
----------
.. [1] R. Y. Rubinstein, P. W. Glynn, "How to deal with the curse of dimensionality of
   likelihood ratios in Monte Carlo simulation", Stoch. Models 25:547-568, 2009.
.. [2] J. C. C. Chan, D. P. Kroese, "Improved cross-entropy method for estimation",
   Stat. Comput. 22:1031-1040, 2012.
.. [3] D. P. Kroese, T. Taimre, Z. I. Botev, *Handbook of Monte Carlo Methods*, Wiley,
   2011, Sec. 9.4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cem._elite import check_scores
from cem.errors import (
    ConfigError,
)
from cem.families import Bernoulli, Exponential, Family, Gamma, Normal

#: Families of independent coordinates with one entry per coordinate in each parameter:
#: those that conditional Monte Carlo, tied parameters and screening can act on.
PRODUCT_FAMILIES: tuple[type[Family], ...] = (Bernoulli, Exponential, Gamma, Normal)


@dataclass(frozen=True)
class ConditionalHook:
    r"""Conditional Monte Carlo: :math:`P(\text{event} \mid X_G)` in closed form.

    The final run then averages :math:`P(S(X) \ge \gamma \mid X_G) \, W(X_G)` over
    importance samples of the coordinates :math:`G` only (the levels' family restricted to
    them), instead of :math:`I\{S(X) \ge \gamma\} W(X)`. Conditioning never increases the
    variance (Rao-Blackwell; Kroese, Taimre & Botev 2011, Sec. 9.4), and the remaining
    coordinates need not be sampled at all.

    Attributes
    ----------
    given : tuple of int
        The coordinates :math:`G` conditioned on.
    probability : callable
        ``probability(X_G) -> (N,)`` in [0, 1], ``X_G`` of shape ``(N, len(given))``.
    """

    given: tuple[int, ...]
    probability: Callable[[np.ndarray], np.ndarray]


def conditional_refit(
    hook: ConditionalHook, nominal: Family, v: Family, drawn: Family, X: np.ndarray
) -> Family:
    r"""Refit the conditioned coordinates' family to all of the last level's samples.

    The marginal of the zero-variance density on :math:`X_G` is
    :math:`f(x_G) P(\text{event} \mid x_G) / \ell`, so its CE fit uses every sample of the
    last level, weighted by :math:`W(x_G) P(\text{event} \mid x_G)`, instead of the elite
    only: no new score evaluation, much less noise.
    """
    Xg = np.ascontiguousarray(X[:, list(hook.given)])
    P = check_scores(hook.probability(Xg), Xg.shape[0], "raise")
    keep = P > 0
    if not np.any(keep):
        return v
    log_w = nominal.log_pdf(Xg[keep]) - drawn.log_pdf(Xg[keep]) + np.log(P[keep])
    return v.fit(Xg[keep], np.exp(log_w - np.max(log_w)))


def marginal(family: Family, given: tuple[int, ...]) -> Family:
    """The family of the coordinates ``given`` of a family with independent coordinates.

    Works for families whose parameters are all 1-D arrays over the coordinates
    (:class:`~cem.families.Exponential`, :class:`~cem.families.Gamma`,
    :class:`~cem.families.Normal`, :class:`~cem.families.Bernoulli`).
    """
    d = family.event_shape
    params = family.params()
    if not isinstance(family, PRODUCT_FAMILIES):
        raise ConfigError("conditional Monte Carlo needs a family with independent coordinates "
                          f"(Exponential, Gamma, Normal, Bernoulli), got {family!r}")  # fmt: skip
    idx = np.asarray(given, dtype=int)
    if idx.size == 0 or np.any((idx < 0) | (idx >= d[0])):
        raise ConfigError(f"conditional given must be coordinates in [0, {d[0]}), got {given!r}")
    return family.with_params(**{k: np.asarray(a)[idx] for k, a in params.items()})


def zero_variance_samples(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Family,
    target: float,
    sign: float,
    start: np.ndarray,
    budget: int,
    seed: np.random.SeedSequence,
) -> np.ndarray:
    r"""Samples of the zero-variance density :math:`g^*(x) \propto f(x; u) I\{S(x) \ge \gamma\}`.

    The improved CE of Chan & Kroese (2012) fits the importance family to samples of
    :math:`g^*` itself, unweighted, instead of to likelihood-ratio-weighted elite samples,
    whose weights degenerate in high dimension. The chains here are preconditioned
    Crank-Nicolson moves for a normal nominal :math:`N(m, \operatorname{diag}(s^2))`
    (Cotter, Roberts, Stuart & White 2013; the conditional sampling of Papaioannou,
    Betz, Zwirglmaier & Straub 2015),

    .. math:: x' = m + \rho (x - m) + \sqrt{1 - \rho^2}\, s \odot \xi, \qquad
              \xi \sim N(0, I),

    accepted when :math:`S(x') \ge \gamma`: the proposal is reversible with respect to the
    nominal, so :math:`g^*` is invariant. One chain starts from each point of ``start`` (the
    last level's elite, already in the event); :math:`\rho` adapts after each sweep towards
    an acceptance rate of 0.44. The first tenth of the sweeps is discarded as burn-in.

    Parameters
    ----------
    score : callable
        The vectorized score; ``sign * score`` is compared with ``target``.
    nominal : Normal
        The nominal family (diagonal normal).
    start : ndarray (n_chains, d)
        Points in the event.
    budget : int
        Score evaluations in total (``n_chains`` per sweep).

    References
    ----------
    .. [1] J. C. C. Chan, D. P. Kroese, "Improved cross-entropy method for estimation",
       Stat. Comput. 22:1031-1040, 2012.
    .. [2] I. Papaioannou, W. Betz, K. Zwirglmaier, D. Straub, "MCMC algorithms for subset
       simulation", Probab. Eng. Mech. 41:89-103, 2015.
    """
    if not isinstance(nominal, Normal):
        raise ConfigError(f"mcmc_samples needs a Normal nominal family, got {nominal!r}")
    rng = np.random.Generator(np.random.PCG64(seed))
    m, s = nominal.mean, nominal.sigma
    x = np.array(start, dtype=float)
    sweeps = max(1, budget // x.shape[0])
    rho, kept = 0.9, []
    for k in range(sweeps):
        prop = m + rho * (x - m) + math.sqrt(1 - rho**2) * s * rng.standard_normal(x.shape)
        ok = sign * check_scores(score(prop), x.shape[0], "raise") >= target
        x[ok] = prop[ok]
        if k >= sweeps // 10:
            kept.append(x.copy())
        rate = float(ok.mean())  # move 1 - rho towards an acceptance rate of 0.44
        rho = min(0.999, max(0.0, 1 - (1 - rho) * math.exp(rate - 0.44)))
    return np.concatenate(kept)


def tie_and_screen(v: Family, nominal: Family, tied: bool, screening: float) -> Family:
    r"""Tied parameters and screening for high dimensions (Rubinstein & Glynn 2009).

    The likelihood ratio of a product family over :math:`d` coordinates multiplies :math:`d`
    noisy factors, so its variance grows exponentially in the number of fitted parameters.
    Two remedies act on every per-coordinate parameter :math:`\theta_i` of the fitted family:

    - *tied*: :math:`\theta_i \leftarrow \frac1d \sum_j \theta_j`, the CE (maximum
      likelihood) update of one common parameter when the coordinates are exchangeable,
      for the means of :class:`~cem.families.Exponential`, :class:`~cem.families.Normal`
      (equal variances) and the probabilities of :class:`~cem.families.Bernoulli`;
    - *screening* :math:`\delta`: :math:`\theta_i \leftarrow u_i` (the nominal value)
      unless :math:`|\theta_i - u_i| > \delta\, s_i`, with :math:`s_i = |u_i|`, or 1 when
      :math:`u_i = 0` (a normal mean in standard space): only the bottleneck parameters,
      those that move, are updated.

    References
    ----------
    .. [1] R. Y. Rubinstein, P. W. Glynn, "How to deal with the curse of dimensionality of
       likelihood ratios in Monte Carlo simulation", Stoch. Models 25(4):547-568, 2009.
    """
    params, base, d = v.params(), nominal.params(), v.event_shape
    coords = {k: np.asarray(a, dtype=float) for k, a in params.items()}
    if not isinstance(v, PRODUCT_FAMILIES):
        raise ConfigError(f"tied and screening need a family with per-coordinate parameters "
                          f"(Exponential, Gamma, Normal, Bernoulli), got {v!r}")  # fmt: skip
    new = dict(params)
    for name, a in coords.items():
        if tied:
            a = np.full_like(a, a.mean())
        if screening and name in base and np.shape(base[name]) == d:
            u = np.asarray(base[name], dtype=float)
            scale = np.where(u != 0, np.abs(u), 1.0)
            a = np.where(np.abs(a - u) > screening * scale, a, u)
        new[name] = a
    return v.with_params(**new)
