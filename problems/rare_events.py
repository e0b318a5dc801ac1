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
from cem.families import Exponential, Family, FullNormal, Normal, NormalMixture
from cem.families._base import normalized_weights
from cem.rare_event import RareEventProblem

__all__ = [
    "BirthDeathWalk",
    "BridgeNetwork",
    "LinearLimitState",
    "MM1Overflow",
    "SeriesSystem",
    "SumOfExponentials",
    "bridge_probability",
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


class BridgeNetwork(RareEventProblem):
    r"""Shortest path through the CE tutorial's bridge network exceeding ``gamma``.

    .. math:: S(x) = \min(x_1 + x_4,\; x_1 + x_3 + x_5,\; x_2 + x_5,\; x_2 + x_3 + x_4),

    with independent :math:`X_j \sim \mathrm{Exp}` of means
    :math:`u = (0.25, 0.4, 0.1, 0.3, 0.2)`; the tutorial's threshold is :math:`\gamma = 2`.
    """

    family_types = (Exponential,)

    def __init__(self, gamma: float = 2.0, means: tuple[float, ...] = BRIDGE_MEANS) -> None:
        self.gamma, self.means = float(gamma), tuple(float(m) for m in means)
        if len(self.means) != 5:
            raise ConfigError(f"the bridge network has 5 edges, got {len(self.means)} means")

    def score(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.minimum.reduce([X[:, 0] + X[:, 3], X[:, 0] + X[:, 2] + X[:, 4],
                                  X[:, 1] + X[:, 4], X[:, 1] + X[:, 2] + X[:, 3]])  # fmt: skip

    def nominal_family(self) -> Exponential:
        return Exponential(np.array(self.means))

    def exact(self) -> float:
        return bridge_probability(self.gamma, self.means)

    def log_exact(self) -> float:
        return math.log(self.exact())


class SumOfExponentials(RareEventProblem):
    r"""Sum of ``n`` iid exponentials with mean ``mean`` exceeding ``gamma`` (Erlang tail)."""

    family_types = (Exponential,)

    def __init__(self, n: int = 10, gamma: float = 50.0, mean: float = 1.0) -> None:
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
        if arrival <= 0 or service <= 0 or arrival == service:
            raise ConfigError("arrival and service rates must be positive and different")
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
