r"""An importance density with a component per minimal cut, beside a fitted proposal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cem.errors import ConfigError
from cem.families import Bernoulli, DefensiveMixture, Family
from cem.toolkit import inverse_cdf

__all__ = ["CutComponents", "CutMixture"]


class CutMixture(DefensiveMixture):
    r"""A fitted proposal :math:`p` mixed with one component per minimal cut.

    .. math:: g(x) = (1 - \lambda)\, p(x) + \lambda \sum_c \pi_c\, f(x \mid A_c),
              \qquad \pi_c = \frac{Q_c}{\sum_{c'} Q_{c'}},

    with :math:`f` the nominal product of :math:`\mathrm{Ber}(q_e)`, :math:`A_c` the
    event that every edge of cut :math:`c` fails, :math:`Q_c = \prod_{e \in c} q_e` its
    nominal probability and :math:`f(x \mid A_c) = f(x) I_{A_c}(x) / Q_c` (the cut's
    edges failed, the others nominal). The cut part is the mixture importance density of
    a union of events (Owen, Maximov & Chertkov 2019): its likelihood ratio on the union
    of the :math:`A_c` is

    .. math:: \frac{f(x)}{g(x)} \le \frac{\sum_c Q_c}{\lambda\, n(x)}, \qquad
              n(x) = \#\{c : x \in A_c\} \ge 1,

    so every cut is sampled in proportion to its share of the union bound, whichever of
    them a product-form proposal happens to favour: a product of Bernoulli distributions
    cannot put its mass on several disjoint minimal cuts at once, and a CE fit then covers
    one or two of them and misses the rest with no weight to show it. The proposal covers
    the failures that contain none of the listed cuts.

    Parameters
    ----------
    nominal : Bernoulli
        The edges' nominal failure probabilities :math:`q_e` (``X_e = 1``: edge ``e`` fails).
    cuts : sequence of arrays of int
        The edge indices of each cut (:func:`minimal_cuts`).
    proposal : Family
        The fitted importance family (e.g. the CE ladder's Bernoulli).
    weight : float
        :math:`\lambda \in (0, 1)`, the fraction of samples drawn from the cut part.

    Notes
    -----
    A defensive mixture (:class:`cem.families.DefensiveMixture`) whose fixed part is the cut
    components (:class:`CutComponents`): :meth:`sample` draws
    :math:`M \sim \mathrm{Bin}(n, \lambda)` samples from the cut part and the rest from the
    proposal; :meth:`fit` refits the proposal only.

    References
    ----------
    .. [1] A. B. Owen, Y. Maximov, M. Chertkov, "Importance sampling the union of rare
       events with an application to power systems analysis", Electron. J. Stat.
       13:231-254, 2019.
    """

    def __init__(
        self, nominal: Bernoulli, cuts: Sequence[np.ndarray], proposal: Family, weight: float
    ) -> None:
        if not 0.0 < float(weight) < 1.0:
            raise ConfigError(f"cuts weight must be in (0, 1), got {weight!r}")
        super().__init__(CutComponents(nominal, cuts), proposal, weight)

    def cuts_failed(self, X: np.ndarray) -> np.ndarray:
        """:math:`n(x)`, the number of the listed cuts whose edges all fail, per row."""
        assert isinstance(self.nominal, CutComponents)
        return self.nominal.cuts_failed(X)

    def __repr__(self) -> str:
        assert isinstance(self.nominal, CutComponents)
        return (f"CutMixture({self.weight:g} over {len(self.nominal.cdf)} cuts + "
                f"{self.proposal!r})")  # fmt: skip


class CutComponents(Family):
    r"""The cut part of :class:`CutMixture`: :math:`\sum_c \pi_c f(x \mid A_c)`.

    A fixed family (:meth:`fit` returns it unchanged): a cut :math:`c` drawn with
    probability :math:`\pi_c = Q_c / \sum_{c'} Q_{c'}`, its edges failed, the other edges
    nominal. Its density is :math:`f(x)\, n(x) / \sum_c Q_c`.
    """

    def __init__(self, nominal: Bernoulli, cuts: Sequence[np.ndarray]) -> None:
        if not cuts:
            raise ConfigError("CutMixture needs at least one cut")
        m = nominal.event_shape[0]
        self.incidence = np.zeros((len(cuts), m))
        for i, c in enumerate(cuts):
            self.incidence[i, np.asarray(c, dtype=np.intp)] = 1.0
        self.sizes = self.incidence.sum(axis=1)
        with np.errstate(divide="ignore"):
            log_q = self.incidence @ np.log(nominal.p)  # log Q_c
        self.log_total = float(np.logaddexp.reduce(log_q))
        self.cdf = np.cumsum(np.exp(log_q - log_q.max()))
        self.base = nominal

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.base.event_shape

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def with_params(self, **params: np.ndarray) -> CutComponents:
        return self

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        X = self.base.sample(n, rng)
        u = rng.random(n) * self.cdf[-1]
        which = inverse_cdf(self.cdf[None, :], u[:, None], 1, len(self.cdf) - 1)
        return np.maximum(X, self.incidence[which])  # the drawn cut's edges fail

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> CutComponents:
        return self

    def cuts_failed(self, X: np.ndarray) -> np.ndarray:
        """:math:`n(x)`, the number of the listed cuts whose edges all fail, per row."""
        return np.sum((np.asarray(X) > 0.5) @ self.incidence.T >= self.sizes, axis=1)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        with np.errstate(divide="ignore"):
            return self.base.log_pdf(X) + np.log(self.cuts_failed(X)) - self.log_total

    def entropy(self) -> float:
        """Not in closed form (NaN)."""
        return float("nan")

    def mode(self) -> np.ndarray:
        """The nominal's mode with the most probable cut's edges failed."""
        likeliest = int(np.argmax(np.diff(self.cdf, prepend=0.0)))
        return np.maximum(self.base.mode(), self.incidence[likeliest])

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return False
