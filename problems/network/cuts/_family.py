r"""An importance density with a component per minimal cut, beside a fitted proposal."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cem.errors import ConfigError
from cem.families import Bernoulli, Family
from cem.toolkit import inverse_cdf

__all__ = ["CutMixture"]


class CutMixture(Family):
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
    :meth:`sample` draws :math:`M \sim \mathrm{Bin}(n, \lambda)` samples from the cut part
    and the rest from the proposal; :meth:`fit` refits the proposal only.

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
        self.nominal, self.proposal, self.weight = nominal, proposal, float(weight)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.proposal.event_shape

    def params(self) -> dict[str, np.ndarray]:
        return self.proposal.params()

    def with_params(self, **params: np.ndarray) -> CutMixture:
        return self._with(self.proposal.with_params(**params))

    def _with(self, proposal: Family) -> CutMixture:
        new = object.__new__(CutMixture)
        new.__dict__.update(self.__dict__, proposal=proposal)
        return new

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        k = int(rng.binomial(n, self.weight))
        X = self.nominal.sample(k, rng)
        u = rng.random(k) * self.cdf[-1]
        which = inverse_cdf(self.cdf[None, :], u[:, None], 1, len(self.cdf) - 1)
        X = np.maximum(X, self.incidence[which])  # the drawn cut's edges fail
        return np.concatenate([X, self.proposal.sample(n - k, rng)])

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> CutMixture:
        return self._with(self.proposal.fit(X, weights))

    def cuts_failed(self, X: np.ndarray) -> np.ndarray:
        """:math:`n(x)`, the number of the listed cuts whose edges all fail, per row."""
        return np.sum((np.asarray(X) > 0.5) @ self.incidence.T >= self.sizes, axis=1)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        n_cut = self.cuts_failed(X)
        with np.errstate(divide="ignore"):
            log_cut = self.nominal.log_pdf(X) + np.log(n_cut) - self.log_total
            return np.logaddexp(np.log(self.weight) + log_cut,
                                np.log1p(-self.weight) + self.proposal.log_pdf(X))  # fmt: skip

    def entropy(self) -> float:
        """The proposal's entropy (the mixture's has no closed form)."""
        return self.proposal.entropy()

    def mode(self) -> np.ndarray:
        return self.proposal.mode()

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CutMixture({self.weight:g} over {len(self.cdf)} cuts + {self.proposal!r})"
