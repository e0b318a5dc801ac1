r"""Adaptive variance scaling and the anticipated mean shift of AMaLGaM.

A maximum-likelihood Gaussian update shrinks the variance faster than the mean moves on a
slope, and the search stalls before it reaches the optimum. AMaLGaM (Bosman, Grahl &
Thierens [1]_ [2]_) keeps the CE update of the mean and covariance and adds two
mechanisms, which :class:`VarianceScaling` carries out for the ``method="auto"`` preset of
:class:`~cem.families.Normal` and :class:`~cem.families.FullNormal`:

**Covariance smoothing.** :math:`\Sigma_t = (1 - \eta_\Sigma)\Sigma_{t-1} + \eta_\Sigma
\hat\Sigma_t` with the ML covariance :math:`\hat\Sigma_t` of the elite about its mean
(for :class:`~cem.families.Normal` the standard deviations are smoothed); the mean is
not smoothed.

**Adaptive variance scaling (AVS) with the SDR trigger.** Samples are drawn from
:math:`N(\mu_t, c_t \Sigma_t)`. An iteration *improves* when an elite row beats the best
score before it. With :math:`\bar x` the average of the improving rows and :math:`L` the
Cholesky factor of the unscaled :math:`\Sigma_{t-1}` they were drawn around, the
standard-deviation ratio is :math:`\mathrm{SDR} = \max_i |(L^{-1}(\bar x -
\mu_{t-1}))_i|`. Then

- improvement: the no-improvement stretch resets, :math:`c \leftarrow \max(c, 1)`, and
  :math:`c \leftarrow c / \eta_{dec}` if :math:`\mathrm{SDR} > \theta_{SDR} = 1`
  (improvements far from the mean: the search is on a slope);
- no improvement: the stretch grows while :math:`c \le 1`; once :math:`c > 1` or the
  stretch reaches :math:`25 + d` iterations, :math:`c \leftarrow \eta_{dec} c`
  (:math:`\eta_{dec} = 0.9`); below that :math:`c` is held at 1.

So :math:`c` rises on a slope and falls at an optimum, and :math:`c < 10^{-10}` ends the
run (stop ``"scaling"``), as does a covariance whose condition number exceeds
:math:`10^{14}` (stop ``"condition"``, the ``conditioncov`` rule of CMA-ES): on a rugged
basin the improvements never stop, so the multiplier stays at 1 while the narrowest
axes collapse, and without that rule a run would spend its budget polishing one local
optimum to the last digit before a restart could try another.

**Anticipated mean shift (AMS).** :math:`\delta_t = (1 - \eta_{shift})\delta_{t-1} +
\eta_{shift}(\mu_t - \mu_{t-1})`; a fraction :math:`\alpha_{AMS} = \tau N / (2 (N - 1))` of
every batch is moved by :math:`\delta_{AMS} c_t \delta_t` with :math:`\delta_{AMS} = 2`
(:class:`cem._sampling.MovedSampler`): where those rows are selected, the mean travels
further along the direction of progress.

The learning rates depend on the selection size :math:`|S| = N_e` and the dimension
:math:`d` ([2]_, Table 1; :func:`learning_rates`).

References
----------
.. [1] P. A. N. Bosman, J. Grahl, D. Thierens, "Enhancing the performance of
   maximum-likelihood Gaussian EDAs using anticipated mean shift", PPSN X, LNCS 5199,
   133-143, 2008.
.. [2] P. A. N. Bosman, J. Grahl, D. Thierens, "AMaLGaM IDEAs in noiseless black-box
   optimization benchmarking", GECCO 2009 BBOB workshop, 2247-2254; and "Benchmarking
   parameter-free AMaLGaM on functions with and without noise", Evol. Comput.
   21(3):445-469, 2013.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cem.families import Family, FullNormal, Normal

__all__ = ["VarianceScaling", "condition_number", "learning_rates"]

#: Threshold of the standard-deviation ratio above which the multiplier rises.
SDR_THRESHOLD = 1.0
#: Factor by which the multiplier falls (and, inverted, rises).
ETA_DEC = 0.9
#: Length of the anticipated mean shift, in shifts of the mean.
DELTA_AMS = 2.0
#: The multiplier below which the run has converged.
MIN_MULTIPLIER = 1e-10
#: The condition number of the covariance above which the run has converged (as
#: CMA-ES's ``conditioncov``): its narrowest axes no longer change the score.
MAX_CONDITION = 1e14


def learning_rates(n_elite: int, dim: int, full: bool) -> tuple[float, float]:
    r""":math:`(\eta_\Sigma, \eta_{shift})` of parameter-free AMaLGaM [2]_.

    .. math:: \eta_\Sigma = 1 - e^{-1.1 |S|^{1.2} / d^{a}}, \qquad
              \eta_{shift} = 1 - e^{-1.2 |S|^{0.31} / d^{0.5}},

    with :math:`a = 1.6` for a full covariance and :math:`a = 0.7` for independent
    coordinates.

    Examples
    --------
    >>> [round(v, 3) for v in learning_rates(17, 5, True)]
    [0.919, 0.725]
    """
    a = 1.6 if full else 0.7
    eta_sigma = 1.0 - math.exp(-1.1 * n_elite**1.2 / dim**a)
    eta_shift = 1.0 - math.exp(-1.2 * n_elite**0.31 / dim**0.5)
    return eta_sigma, eta_shift


@dataclass
class VarianceScaling:
    """The state of AVS and AMS for one run (one restart) of a Normal family.

    Parameters
    ----------
    n_samples, n_elite : int
        :math:`N` and :math:`|S|`.
    dim : int
    full : bool
        Whether the family has a full covariance.

    Attributes
    ----------
    multiplier : float
        The distribution multiplier :math:`c_t` (1 at the start).
    base : Family or None
        The unscaled family :math:`N(\\mu_t, \\Sigma_t)`; ``None`` before the first update.
    shift : ndarray or None
        :math:`\\delta_t`, the smoothed move of the mean.
    """

    n_samples: int
    n_elite: int
    dim: int
    full: bool
    multiplier: float = 1.0
    no_improvement: int = 0
    base: Family | None = None
    shift: np.ndarray | None = None
    eta_sigma: float = field(init=False)
    eta_shift: float = field(init=False)

    def __post_init__(self) -> None:
        self.eta_sigma, self.eta_shift = learning_rates(self.n_elite, self.dim, self.full)

    @property
    def ams_fraction(self) -> float:
        r""":math:`\alpha_{AMS} = \tau N / (2 (N - 1))`, :math:`\tau = N_e / N`."""
        return 0.5 * self.n_elite / max(self.n_samples - 1, 1)

    @property
    def max_no_improvement(self) -> int:
        """Iterations without improvement before the multiplier falls below 1: 25 + d."""
        return 25 + self.dim

    def ams_shift(self) -> np.ndarray | None:
        r"""The move :math:`\delta_{AMS} c_t \delta_t` of the shifted rows (``None``: none)."""
        if self.shift is None:
            return None
        return DELTA_AMS * self.multiplier * self.shift

    def update(self, previous: Family, fitted: Family, improving: np.ndarray | None) -> Family:
        """The family to sample next: the smoothed fit scaled by the updated multiplier.

        Parameters
        ----------
        previous : Family
            The family this iteration sampled from (scaled), for its mean.
        fitted : Family
            The ML fit to the elite.
        improving : ndarray or None
            The elite rows that beat the best score before this iteration (``None`` or
            empty: no improvement).
        """
        base = self.base if self.base is not None else previous
        self._update_multiplier(base, improving)
        scale = "cov" if self.full else "sigma"
        smoothed = fitted.smooth(base, {"*": 1.0, scale: self.eta_sigma})
        move = smoothed.mode() - base.mode()
        self.shift = (
            self.eta_shift * move
            if self.shift is None
            else (1.0 - self.eta_shift) * self.shift + self.eta_shift * move
        )
        self.base = smoothed
        return scaled(smoothed, self.multiplier)

    def _update_multiplier(self, base: Family, improving: np.ndarray | None) -> None:
        if improving is not None and improving.shape[0]:
            self.no_improvement = 0
            self.multiplier = max(self.multiplier, 1.0)
            if standard_deviation_ratio(base, improving.mean(axis=0)) > SDR_THRESHOLD:
                self.multiplier /= ETA_DEC
            return
        if self.multiplier <= 1.0:
            self.no_improvement += 1
        if self.multiplier > 1.0 or self.no_improvement >= self.max_no_improvement:
            self.multiplier *= ETA_DEC
        if self.multiplier < 1.0 and self.no_improvement < self.max_no_improvement:
            self.multiplier = 1.0


def standard_deviation_ratio(family: Family, x: np.ndarray) -> float:
    r""":math:`\max_i |(L^{-1}(x - \mu))_i|`, :math:`LL^\top` the family's covariance.

    ``inf`` when a standard deviation is 0 and ``x`` is off the mean along it.
    """
    diff = x - family.mode()
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(family, FullNormal):
            try:
                z = np.linalg.solve(np.linalg.cholesky(family.cov), diff)
            except np.linalg.LinAlgError:
                z = (diff @ family._eigvec) / np.sqrt(family._eigval)
        else:
            assert isinstance(family, Normal)
            z = diff / family.sigma
    z = np.where(diff == 0, 0.0, z)
    return float(np.max(np.abs(z)))


def condition_number(family: Family) -> float:
    """The ratio of the largest to the smallest variance along the family's principal axes."""
    if isinstance(family, FullNormal):
        eigval = family._eigval
    else:
        assert isinstance(family, Normal)
        eigval = family.sigma**2
    low = float(eigval.min())
    return float(eigval.max()) / low if low > 0 else np.inf


def scaled(family: Family, multiplier: float) -> Family:
    """``family`` with its covariance multiplied by ``multiplier``."""
    if multiplier == 1.0:
        return family
    if isinstance(family, FullNormal):
        return family.with_params(mean=family.mean, cov=multiplier * family.cov)
    assert isinstance(family, Normal)
    return family.with_params(mean=family.mean, sigma=math.sqrt(multiplier) * family.sigma)
