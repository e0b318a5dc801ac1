r"""Rare-event problems with exact answers, for :func:`cem.rare_event.estimate_probability`.

Each problem gives a vectorized score ``S(X) -> (N,)``, the nominal family, a threshold
``gamma`` and its exact probability :math:`\ell = P(S(X) \ge \gamma)`:

- :class:`BridgeNetwork`: the CE tutorial's shortest path through a bridge network of five
  exponential edges (exact value by integrating two edges out in closed form and the rest
  numerically);
- :class:`SumOfExponentials`: :math:`P(X_1 + \dots + X_n \ge \gamma)`, an Erlang tail;
- :class:`LinearLimitState`: :math:`P(a^\top Z \ge \beta \|a\|) = \Phi(-\beta)`;
- :class:`MM1Overflow`: the M/M/1 queue reaching level ``L`` before emptying;
- :class:`SeriesSystem`: two failure regions, :math:`P(\max(Z_1, Z_2) \ge \beta)`.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005, Sec. 2 (bridge network).
.. [2] D. P. Kroese, T. Taimre, Z. I. Botev, *Handbook of Monte Carlo Methods*, Wiley, 2011.
.. [3] N. Kurtz, J. Song, "Cross-entropy-based adaptive importance sampling using Gaussian
   mixture", Structural Safety 42:35-44, 2013 (series systems).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from scipy import integrate, stats

from cem.errors import ConfigError
from cem.families import (
    Bernoulli,
    Exponential,
    Family,
    FullNormal,
    Gamma,
    Normal,
    NormalMixture,
)
from cem.rare_event import RareEventProblem
from cem.toolkit import is_int, is_real, normalized_weights, require

__all__ = [
    "BirthDeathWalk",
    "BridgeNetwork",
    "FourBranchSystem",
    "KOutOfN",
    "LinearLimitState",
    "MM1Overflow",
    "SeriesSystem",
    "SumOfExponentials",
    "bridge_given_x1_x2",
    "bridge_probability",
    "four_branch_probability",
]


BRIDGE_MEANS = (0.25, 0.4, 0.1, 0.3, 0.2)


def _bridge_inner(x1: float, x2: float, g: float, u: np.ndarray) -> float:
    """:math:`E[P(S \\ge g \\mid x_1, x_2, X_3)]`: x4, x5 and x3 integrated in closed form.

    Given x1, x2, x3 the event is ``x4 >= a4`` and ``x5 >= a5`` with
    ``a4 = max(g - x1, g - x2 - x3, 0)`` and ``a5 = max(g - x1 - x3, g - x2, 0)``, so the
    conditional probability is ``exp(-a4/u4 - a5/u5)``; between the breakpoints of the
    maxima it is ``exp(linear in x3)``, integrated exactly against the density of x3.
    """
    u3, u4, u5 = u[2], u[3], u[4]
    pts = sorted({p for p in (x1 - x2, x2 - x1, g - x2, g - x1) if p > 0} | {0.0})
    edges = [*pts, math.inf]
    total = 0.0
    for a, b in itertools.pairwise(edges):
        mid = a + 1.0 if b == math.inf else 0.5 * (a + b)
        k4 = int(np.argmax([g - x1, g - x2 - mid, 0.0]))
        k5 = int(np.argmax([g - x1 - mid, g - x2, 0.0]))
        a4 = (g - x1, g - x2 - a, 0.0)[k4]
        a5 = (g - x1 - a, g - x2, 0.0)[k5]
        ea = math.exp(-a / u3 - a4 / u4 - a5 / u5)
        slope = -1 / u3 + (1 / u4 if k4 == 1 else 0.0) + (1 / u5 if k5 == 0 else 0.0)
        if b == math.inf:
            total += -ea / slope
        elif abs(slope) < 1e-14:
            total += ea * (b - a)
        else:
            total += ea * math.expm1(slope * (b - a)) / slope
    return total / u3


#: :func:`bridge_probability` at the tutorial's means for the thresholds the configs, tests
#: and benchmarks use, computed once by the quadrature below (2-4 s each) and checked
#: against it by a slow test (``tests/test_rare_event.py``).
BRIDGE_EXACT = {
    1.0: 0.007833547041402305,
    1.5: 0.00033408910929867827,
    2.0: 1.3424597497642324e-05,
    3.0: 2.0579049129407355e-08,
}


@functools.lru_cache(maxsize=64)
def bridge_probability(
    gamma: float, means: tuple[float, ...] = BRIDGE_MEANS, *, tabulated: bool = True
) -> float:
    """Exact :math:`P(S(X) \\ge \\gamma)` for the bridge network (relative accuracy ~1e-10).

    x3, x4, x5 are integrated in closed form (:func:`_bridge_inner`); x1 and x2 by adaptive
    quadrature split at the kinks ``x1 = gamma`` and ``x2 in {gamma, gamma - x1}``. At the
    tutorial's means, the values of :data:`BRIDGE_EXACT` are returned without integrating
    unless ``tabulated=False``.
    """
    if tabulated and tuple(means) == BRIDGE_MEANS and float(gamma) in BRIDGE_EXACT:
        return BRIDGE_EXACT[float(gamma)]
    u = np.asarray(means, dtype=float)
    g = float(gamma)
    opts = {"epsabs": 0.0, "epsrel": 1e-12, "limit": 200}

    def f2(x2: float, x1: float) -> float:
        return _bridge_inner(x1, x2, g, u) * math.exp(-x1 / u[0] - x2 / u[1]) / (u[0] * u[1])

    def f1(x1: float) -> float:
        pts = sorted(p for p in {g, g - x1} if p > 0)
        head = 0.0
        if pts:
            head = integrate.quad(f2, 0, pts[-1], args=(x1,), points=pts[:-1] or None, **opts)[0]
        return head + integrate.quad(f2, pts[-1] if pts else 0.0, math.inf, args=(x1,), **opts)[0]

    return integrate.quad(f1, 0, g, **opts)[0] + integrate.quad(f1, g, math.inf, **opts)[0]


def bridge_given_x1_x2(X_given: np.ndarray, gamma: float, means: tuple[float, ...]) -> np.ndarray:
    r""":math:`P(S \ge \gamma \mid x_1, x_2)` for the bridge network, in closed form.

    Given :math:`x_1, x_2, x_3` the event is :math:`x_4 \ge a_4`, :math:`x_5 \ge a_5`
    (:meth:`BridgeNetwork.conditional_probability`). With :math:`m = \min(x_1, x_2)`,
    :math:`D = |x_1 - x_2|` and :math:`b = (\gamma - m)^+`, one of the two thresholds does not
    depend on :math:`x_3`: when :math:`x_1 \ge x_2`, :math:`a_5 = b` and
    :math:`a_4 = (b - \min(x_3, D))^+` (swap 4 and 5 otherwise). Call :math:`u_c` the mean of
    the edge with the constant threshold and :math:`u_v` the other; integrating
    :math:`x_3 \sim \mathrm{Exp}(u_3)` over :math:`[0, s)`, :math:`[s, D)` and
    :math:`[D, \infty)` with :math:`s = \min(D, b)`:

    .. math:: P = e^{-b/u_c} \Big[ e^{-b/u_v} \frac{e^{\kappa s} - 1}{\kappa u_3}
              + e^{-s/u_3} - e^{-D/u_3} + e^{-D/u_3 - (b - D)^+/u_v} \Big],
              \qquad \kappa = \frac1{u_v} - \frac1{u_3}.

    Three of the five exponentials are integrated out, against one for
    :math:`P(\cdot \mid x_1, x_2, x_3)`.
    """
    x1, x2 = np.asarray(X_given, dtype=float).T
    u3 = means[2]
    first = x1 >= x2
    u_c = np.where(first, means[4], means[3])
    u_v = np.where(first, means[3], means[4])
    b = np.maximum(gamma - np.minimum(x1, x2), 0.0)
    D = np.abs(x1 - x2)
    s = np.minimum(D, b)
    kappa = 1.0 / u_v - 1.0 / u3
    # kappa = 0 (u_v = u3): the integral's limit s / u3
    safe = np.where(kappa == 0.0, 1.0, kappa)
    ramp = np.where(kappa == 0.0, s / u3, np.expm1(safe * s) / (safe * u3))
    tail_d = np.exp(-D / u3)
    inner = (np.exp(-b / u_v) * ramp + np.exp(-s / u3) - tail_d
             + tail_d * np.exp(-np.maximum(b - D, 0.0) / u_v))  # fmt: skip
    return np.exp(-b / u_c) * inner


class BridgeNetwork(RareEventProblem):
    r"""Shortest path through the CE tutorial's bridge network exceeding ``gamma``.

    .. math:: S(x) = \min(x_1 + x_4,\; x_1 + x_3 + x_5,\; x_2 + x_5,\; x_2 + x_3 + x_4),

    with independent :math:`X_j \sim \mathrm{Exp}` of means
    :math:`u = (0.25, 0.4, 0.1, 0.3, 0.2)`; the tutorial's threshold is :math:`\gamma = 2`.

    Parameters
    ----------
    gamma : float
    means : tuple of 5 floats
    given : (0, 1, 2) or (0, 1)
        The edges the conditional Monte Carlo option (``conditional = true``) conditions
        on: :math:`P(S \ge \gamma \mid x_1, x_2, x_3)` or
        :math:`P(S \ge \gamma \mid x_1, x_2)` (:func:`bridge_given_x1_x2`).
    family : {"exponential", "gamma"}
        The importance family: :class:`~cem.families.Exponential` (the tutorial's) or
        :class:`~cem.families.Gamma`. The zero-variance density of :math:`(x_1, x_2)`
        given the event piles up where both are just below :math:`\gamma`; a gamma
        family puts its mode there, an exponential one cannot (use a defensive mixture in
        the final run with the gamma family).
    """

    family_types = (Exponential, Gamma)

    def __init__(
        self,
        gamma: float = 2.0,
        means: tuple[float, ...] = BRIDGE_MEANS,
        given: tuple[int, ...] = (0, 1, 2),
        family: str = "exponential",
    ) -> None:
        self.gamma, self.means = float(gamma), tuple(float(m) for m in means)
        if len(self.means) != 5:
            raise ConfigError(f"the bridge network has 5 edges, got {len(self.means)} means")
        if tuple(given) not in ((0, 1, 2), (0, 1)):
            raise ConfigError(f"given must be (0, 1, 2) or (0, 1), got {given!r}")
        if family not in ("exponential", "gamma"):
            raise ConfigError(f"family must be 'exponential' or 'gamma', got {family!r}")
        self.conditioned_on, self.family = tuple(given), family

    def score(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.minimum.reduce([X[:, 0] + X[:, 3], X[:, 0] + X[:, 2] + X[:, 4],
                                  X[:, 1] + X[:, 4], X[:, 1] + X[:, 2] + X[:, 3]])  # fmt: skip

    def nominal_family(self) -> Exponential:
        return Exponential(np.array(self.means))

    def importance_family(self) -> Family:
        """The exponential or gamma family, means (scales) floored at the nominal means.

        The event is increasing in every edge length, so its CE-optimal exponential tilt has
        :math:`E[X_j \\mid S \\ge \\gamma] \\ge u_j` (Harris-FKG): a fitted mean below the
        nominal is noise, and its likelihood ratios have infinite variance once it falls
        below half the nominal (the bias of plain CE at :math:`\\ell \approx 10^{-12}`:
        the fitted mean of :math:`x_3` at a fifth of the nominal's, estimates 10-50% low
        with too small error bars). A gamma scale at least the nominal mean keeps the right
        tail at least as heavy as the nominal's (:class:`~cem.families.Gamma`).
        """
        u = np.array(self.means)
        if self.family == "gamma":
            return Gamma(1.0, u, min_scale=u)
        return Exponential(u, min_mean=u)

    def conditional_probability(self, X_given: np.ndarray) -> np.ndarray:
        r"""P(S >= gamma | x1, x2, x3) = exp(-a4/u4 - a5/u5) (the ``conditional`` option).

        Given :math:`x_1, x_2, x_3` the event is :math:`x_4 \ge a_4` and :math:`x_5 \ge a_5`
        with :math:`a_4 = (\gamma - \min(x_1, x_2 + x_3))^+` and
        :math:`a_5 = (\gamma - \min(x_1 + x_3, x_2))^+`, independent exponential tails.
        With ``given = (0, 1)``, :func:`bridge_given_x1_x2`.
        """
        if self.conditioned_on == (0, 1):
            return bridge_given_x1_x2(X_given, self.gamma, self.means)
        x1, x2, x3 = np.asarray(X_given, dtype=float).T
        g, u = self.gamma, self.means
        a4 = np.maximum(g - np.minimum(x1, x2 + x3), 0.0)
        a5 = np.maximum(g - np.minimum(x1 + x3, x2), 0.0)
        return np.exp(-a4 / u[3] - a5 / u[4])

    def exact(self) -> float:
        return bridge_probability(self.gamma, self.means)

    def log_exact(self) -> float:
        return math.log(self.exact())


class SumOfExponentials(RareEventProblem):
    r"""Sum of ``n`` iid exponentials with mean ``mean`` exceeding ``gamma`` (Erlang tail)."""

    family_types = (Exponential,)

    def __init__(self, n: int = 10, gamma: float = 50.0, mean: float = 1.0) -> None:
        if not is_int(n) or n < 1:
            raise ConfigError(f"n must be an integer >= 1, got {n!r}")
        if not (is_real(gamma) and is_real(mean)) or mean <= 0:
            raise ConfigError(f"gamma and mean must be finite, mean > 0, got {gamma!r}, {mean!r}")
        require(f"n={n}", 16.0 * n)
        self.n, self.gamma, self.mean = int(n), float(gamma), float(mean)

    @classmethod
    def with_probability(cls, n: int, probability: float, mean: float = 1.0) -> SumOfExponentials:
        """The threshold whose exact tail probability is ``probability``."""
        return cls(n, float(stats.gamma.isf(probability, n, scale=mean)), mean)

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float).sum(axis=1)

    def nominal_family(self) -> Exponential:
        return Exponential(np.full(self.n, self.mean))

    def importance_family(self) -> Exponential:
        """One common mean for the ``n`` iid coordinates (the exact CE optimum's form)."""
        return Exponential(np.full(self.n, self.mean), tied=True)

    def log_exact(self) -> float:
        return float(stats.gamma.logsf(self.gamma, self.n, scale=self.mean))


class LinearLimitState(RareEventProblem):
    r"""Linear limit state in standard normal space: P(a·Z >= beta ‖a‖) = Phi(-beta).

    The probability :math:`P(a^\top Z / \|a\| \ge \beta)` is exactly :math:`\Phi(-\beta)`.
    The importance family is a mean-shift normal (unit variance kept), the CE-optimal
    family for this event.
    """

    family_types = (Normal, FullNormal, NormalMixture)

    def __init__(self, beta: float = 4.0, a: tuple[float, ...] = (1.0, 1.0, 1.0)) -> None:
        self.gamma = float(beta)
        self.a = np.asarray(a, dtype=float)
        if self.a.ndim != 1 or not np.any(self.a != 0):
            raise ConfigError("a must be a non-zero vector")

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) @ self.a / np.linalg.norm(self.a)

    def nominal_family(self) -> Normal:
        return Normal(np.zeros(self.a.size), 1.0)

    def importance_family(self) -> Normal:
        return Normal(np.zeros(self.a.size), 1.0, learn_sigma=False)

    def log_exact(self) -> float:
        return float(stats.norm.logsf(self.gamma))


class SeriesSystem(RareEventProblem):
    r"""Two failure regions: P(max(Z1, Z2) >= beta) = 1 - Phi(beta)^2 for a series system.

    The exact value is :math:`P(\max(Z_1, Z_2) \ge \beta) = 1 - \Phi(\beta)^2`.

    A single normal family fitted to elite samples from both regions lands between them
    or on one of them, and then misses the other (an underestimate); the default importance
    family here is a two-component :class:`NormalMixture` of unit-variance components.
    """

    family_types = (Normal, FullNormal, NormalMixture)

    def __init__(self, beta: float = 3.5, mixture: bool = True) -> None:
        self.gamma, self.mixture = float(beta), bool(mixture)

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.max(np.asarray(X, dtype=float), axis=1)

    def nominal_family(self) -> Normal:
        return Normal(np.zeros(2), 1.0)

    def importance_family(self) -> Family:
        if self.mixture:
            return NormalMixture.standard(2, 2, learn_sigma=False)
        return Normal(np.zeros(2), 1.0, learn_sigma=False)

    def log_exact(self) -> float:
        return float(np.log(-np.expm1(2 * stats.norm.logcdf(self.gamma))))


def _ray_failure_intervals(theta: float, c: float, k: float) -> list[tuple[float, float]]:
    r"""The radii ``r >= 0`` at which ``r (cos theta, sin theta)`` fails, as merged intervals.

    Each branch of :class:`FourBranchSystem` along the ray is a quadratic
    :math:`A r^2 + B r + C \le 0` with :math:`A \ge 0`, hence one interval (or none).
    """
    u, w = math.cos(theta), math.sin(theta)
    a = 0.1 * (u - w) ** 2
    s = (u + w) / math.sqrt(2.0)
    branches = [(a, -s, c), (a, s, c), (0.0, u - w, k / math.sqrt(2.0)),
                (0.0, w - u, k / math.sqrt(2.0))]  # fmt: skip
    spans = []
    for qa, qb, qc in branches:
        if qa > 1e-14:
            disc = qb * qb - 4 * qa * qc
            if disc > 0:
                root = math.sqrt(disc)
                lo, hi = (-qb - root) / (2 * qa), (-qb + root) / (2 * qa)
                if hi > 0:
                    spans.append((max(lo, 0.0), hi))
        elif qb < 0:  # linear (qc > 0): fails beyond -qc / qb
            spans.append((-qc / qb, math.inf))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


@functools.lru_cache(maxsize=16)
def four_branch_probability(c: float = 3.0, k: float = 6.0) -> float:
    r"""Exact failure probability of :class:`FourBranchSystem` by integration along rays.

    In polar coordinates :math:`Z = R (\cos\theta, \sin\theta)` with
    :math:`\theta \sim U(0, 2\pi)` independent of :math:`R^2 \sim \chi^2_2`, so that
    :math:`P(R \in [a, b]) = e^{-a^2/2} - e^{-b^2/2}`; along each ray the failure set is a
    union of intervals with closed-form ends (:func:`_ray_failure_intervals`):

    .. math:: p_f = \frac{1}{2\pi} \int_0^{2\pi} \sum_{[a, b]}
              \left(e^{-a^2/2} - e^{-b^2/2}\right) d\theta,

    integrated by adaptive quadrature (relative accuracy about 1e-10).
    """

    def along(theta: float) -> float:
        return sum(math.exp(-lo * lo / 2) - (0.0 if hi == math.inf else math.exp(-hi * hi / 2))
                   for lo, hi in _ray_failure_intervals(theta, c, k))  # fmt: skip

    # The integrand has kinks where the branches' roots appear or merge; split at the
    # symmetry axes (multiples of pi/4) and let quad refine the rest.
    edges = np.linspace(0.0, 2 * math.pi, 9)
    total = sum(integrate.quad(along, lo, hi, epsabs=0.0, epsrel=1e-11, limit=500)[0]
                for lo, hi in itertools.pairwise(edges))  # fmt: skip
    return total / (2 * math.pi)


class FourBranchSystem(RareEventProblem):
    r"""The four-branch series system of structural reliability, with its exact value.

    Failure when :math:`g(z) \le 0`, :math:`z \in \mathbb{R}^2` standard normal, with

    .. math:: g(z) = \min\Big\{c + \tfrac{(z_1 - z_2)^2}{10} \mp \tfrac{z_1 + z_2}{\sqrt2},
              \; \pm(z_1 - z_2) + \tfrac{k}{\sqrt2}\Big\},

    four failure regions (two curved, two flat) around the origin; the score is
    :math:`S = -g` and the event :math:`S \ge 0`. The classical instance is ``c = 3``,
    ``k = 6`` or ``7``; larger ``c`` and ``k`` make it rarer. The exact value comes from
    :func:`four_branch_probability` (no Monte Carlo).

    A single normal family cannot cover four regions; the default importance family is a
    :class:`NormalMixture` of four unit-variance components.

    References
    ----------
    .. [1] P. H. Waarts, *Structural reliability using finite element methods*, PhD thesis,
       TU Delft, 2000.
    .. [2] N. Kurtz, J. Song, "Cross-entropy-based adaptive importance sampling using
       Gaussian mixture", Structural Safety 42:35-44, 2013.
    """

    family_types = (Normal, FullNormal, NormalMixture)
    gamma = 0.0

    def __init__(self, c: float = 3.0, k: float = 6.0, mixture: bool = True) -> None:
        self.c, self.k, self.mixture = float(c), float(k), bool(mixture)

    def score(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        d = X[:, 0] - X[:, 1]
        s = (X[:, 0] + X[:, 1]) / math.sqrt(2.0)
        curve = self.c + 0.1 * d**2
        flat = self.k / math.sqrt(2.0)
        return -np.minimum.reduce([curve - s, curve + s, d + flat, flat - d])

    def nominal_family(self) -> Normal:
        return Normal(np.zeros(2), 1.0)

    def importance_family(self) -> Family:
        if self.mixture:
            return NormalMixture.standard(4, 2, learn_sigma=False)
        return Normal(np.zeros(2), 1.0, learn_sigma=False)

    def exact(self) -> float:
        return four_branch_probability(self.c, self.k)

    def log_exact(self) -> float:
        return math.log(self.exact())


class KOutOfN(RareEventProblem):
    r"""A k-out-of-n system: ``n`` components fail independently with probability ``q``.

    :math:`X_i = 1` when component :math:`i` fails; the system fails when at least ``k`` do,
    :math:`S(X) = \sum_i X_i \ge k`, with exact probability the binomial tail
    :math:`\ell = P(\mathrm{Bin}(n, q) \ge k)`. The nominal family is
    ``Bernoulli(q)``; the importance family floors and caps the fitted probabilities at
    ``min_p`` and ``max_p`` (:class:`~cem.families.Bernoulli`, default 0.05 and 0.95), so
    that no component's failure probability collapses to 0 (which drops part of the event
    from the final run) or to a value so small that the samples needing that component
    carry weights too rare to be seen.
    """

    family_types = (Bernoulli,)

    def __init__(
        self, n: int = 10, k: int = 4, q: float = 0.001, min_p: float = 0.05, max_p: float = 0.95
    ) -> None:
        if not (0 < q < 1 and 1 <= k <= n):
            raise ConfigError(f"need 0 < q < 1 and 1 <= k <= n, got q={q}, k={k}, n={n}")
        self.n, self.k, self.q = int(n), int(k), float(q)
        self.min_p, self.max_p = float(min_p), float(max_p)
        self.gamma = float(k)

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float).sum(axis=1)

    def nominal_family(self) -> Bernoulli:
        return Bernoulli(np.full(self.n, self.q))

    def importance_family(self) -> Bernoulli:
        return Bernoulli(np.full(self.n, self.q), self.min_p, self.max_p)

    def log_exact(self) -> float:
        return float(stats.binom.logsf(self.k - 1, self.n, self.q))


class BirthDeathWalk(Family):
    r"""The embedded jump chain of an M/M/1 queue, stopped at 0 or ``level``.

    ``X`` holds ``max_steps`` steps of :math:`\pm 1` (up with probability ``p``); the walk
    starts at ``start`` and only the steps until it first hits 0 or ``level`` count in
    the likelihood, :math:`\log f = U \log p + D \log(1 - p)` with ``U`` up and ``D`` down
    steps before absorption. Changing ``p`` is the exponential tilting of the rates
    :math:`\lambda' = p(\lambda + \mu)`, :math:`\mu' = (1 - p)(\lambda + \mu)`. The CE
    update for the level event "reach :math:`\gamma_t` before 0" counts the steps until
    each elite path first reaches its highest level:
    :math:`\hat p = \sum_k w_k U'_k / \sum_k w_k (U'_k + D'_k)` (the steps after the peak
    say nothing about reaching it). The estimator stays unbiased whatever ``p`` is, since
    its likelihood ratio uses the whole stopped path.
    """

    def __init__(self, p: float, level: int, start: int = 1, max_steps: int | None = None):
        p_arr = np.asarray(p, dtype=float).reshape(-1)
        if p_arr.size != 1 or not 0 < p_arr[0] < 1:
            raise ConfigError(f"the up probability p must be in (0, 1), got {p!r}")
        if not 0 < start < level:
            raise ConfigError(f"need 0 < start < level, got start={start}, level={level}")
        self.p, self.level, self.start = float(p_arr[0]), int(level), int(start)
        self.max_steps = int(max_steps or 10 * level)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.max_steps,)

    def params(self) -> dict[str, np.ndarray]:
        return {"p": np.array([self.p])}

    def with_params(self, **params: np.ndarray) -> BirthDeathWalk:
        return BirthDeathWalk(float(params["p"][0]), self.level, self.start, self.max_steps)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.where(rng.random((n, self.max_steps)) < self.p, 1, -1).astype(np.int8)

    def stopped(
        self, X: np.ndarray, until_peak: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(up steps, down steps, highest level) of each walk until absorption.

        With ``until_peak`` the steps are counted until the walk first reaches its
        highest level instead.
        """
        steps = np.asarray(X, dtype=np.int64)
        path = self.start + np.cumsum(steps, axis=1)
        absorbed = (path <= 0) | (path >= self.level)
        tau = np.where(absorbed.any(axis=1), absorbed.argmax(axis=1) + 1, steps.shape[1])
        alive = np.arange(steps.shape[1])[None, :] < tau[:, None]
        masked = np.where(alive, path, self.start)
        highest = np.maximum(np.max(masked, axis=1), self.start)
        if until_peak:
            peak = np.where(highest > self.start, np.argmax(masked, axis=1) + 1, 0)
            alive = np.arange(steps.shape[1])[None, :] < peak[:, None]
            tau = peak
        ups = np.sum((steps > 0) & alive, axis=1)
        return ups, tau - ups, highest

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> BirthDeathWalk:
        w = normalized_weights(weights, np.asarray(X).shape[0])
        ups, downs, _ = self.stopped(X, until_peak=True)
        if w @ (ups + downs) <= 0:
            return self
        p = float(w @ ups / (w @ (ups + downs)))
        return self.with_params(p=np.array([min(max(p, 1e-12), 1 - 1e-12)]))

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        ups, downs, _ = self.stopped(X)
        return ups * math.log(self.p) + downs * math.log1p(-self.p)

    def entropy(self) -> float:
        return float(stats.bernoulli.entropy(self.p))

    def mode(self) -> np.ndarray:
        return np.full(self.max_steps, 1 if self.p >= 0.5 else -1, dtype=np.int8)

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return min(self.p, 1 - self.p) <= tol


class MM1Overflow(RareEventProblem):
    r"""M/M/1 queue: the number in system reaches ``level`` before the queue empties.

    Starting with one customer, with arrival rate :math:`\lambda` and service rate
    :math:`\mu` (:math:`\rho = \lambda / \mu \ne 1`), gambler's ruin gives

    .. math:: \ell = \frac{(1 - \rho) \rho^{L-1}}{1 - \rho^L}.

    Paths are simulated step by step on the embedded jump chain, all paths of a batch
    together; the CE family tilts the up probability (:class:`BirthDeathWalk`), whose
    optimum swaps the two rates.
    """

    family_types = (BirthDeathWalk,)

    def __init__(self, arrival: float = 1.0, service: float = 2.0, level: int = 20) -> None:
        if not (is_real(arrival) and is_real(service)) or arrival <= 0 or service <= 0:
            raise ConfigError(
                f"arrival and service must be finite rates > 0, got {arrival!r} and {service!r}"
            )
        if arrival == service:
            raise ConfigError("arrival and service rates must be different")
        if not is_int(level) or level < 2:
            raise ConfigError(f"level must be an integer >= 2, got {level!r}")
        self.arrival, self.service, self.level = float(arrival), float(service), int(level)
        self.gamma = float(level)
        self._family = BirthDeathWalk(arrival / (arrival + service), self.level)

    def score(self, X: np.ndarray) -> np.ndarray:
        return self._family.stopped(X)[2].astype(float)

    def nominal_family(self) -> BirthDeathWalk:
        return self._family

    def log_exact(self) -> float:
        r, L = self.arrival / self.service, self.level
        return math.log(abs(1 - r)) + (L - 1) * math.log(r) - math.log(abs(1 - r**L))
