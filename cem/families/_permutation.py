r"""Families of tours (permutations) for the CE method on the TSP and other ordering problems.

Two parametrizations from the CE book (Rubinstein & Kroese 2004, Sec. 4.7), both sampled
sequentially with the cities already used masked out and the remaining probabilities
renormalized:

- :class:`TransitionMatrix` (node transitions): :math:`P_{ij}` is the probability of going
  from city :math:`i` to city :math:`j`; tours start at city 0.
- :class:`NodePlacement` (node placements): :math:`P_{kj}` is the probability of placing
  city :math:`j` at position :math:`k` of the tour.

All tours of a batch advance together, one position per step, so a batch costs ``n``
vectorized steps and no Python loop over the tours.

References
----------
.. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method: A Unified Approach to
   Combinatorial Optimization, Monte-Carlo Simulation and Machine Learning*, Springer, 2004,
   Sec. 4.7 (Algorithms 4.7.1 and 4.7.2, trajectory generation by node transitions and by
   node placements).
.. [2] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005, Sec. 3.3 and 4.3.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
from scipy.special import entr

from cem._checks import is_int
from cem.errors import ConfigError
from cem.families._base import Family, inverse_cdf, normalized_weights, weighted_cell_frequencies

__all__ = ["NodePlacement", "TransitionMatrix"]

#: Tours built together; a block's working arrays stay in the CPU cache.
_BLOCK = 2048


def _check_stochastic(P: np.ndarray, what: str, zero_diagonal: bool) -> np.ndarray:
    """Validate a square row-stochastic matrix and return it renormalized, read-only."""
    P = np.array(P, dtype=float)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or P.shape[0] < 2:
        raise ConfigError(f"{what} P must be a square matrix with n >= 2, got shape {P.shape}")
    if not np.all((P >= 0) & (P <= 1)):
        raise ConfigError(f"{what} P must hold probabilities in [0, 1] (NaN is not accepted)")
    if zero_diagonal and np.any(np.diag(P) != 0):
        bad = int(np.flatnonzero(np.diag(P))[0])
        raise ConfigError(
            f"{what} P must have a zero diagonal (no move from a city to itself); "
            f"P[{bad}, {bad}] = {float(P[bad, bad]):g}"
        )
    sums = P.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-9):
        bad = int(np.argmax(np.abs(sums - 1.0)))
        raise ConfigError(f"row {bad} of {what} P sums to {float(sums[bad]):.12g}, not 1")
    P = P / sums[:, None]
    P.flags.writeable = False
    return P


def _check_tours(X: np.ndarray, m: int) -> np.ndarray:
    tours = np.asarray(X)
    if tours.ndim != 2 or tours.shape[1] != m:
        raise ConfigError(f"tours must have shape (N, {m}), got {tours.shape}")
    return tours.astype(np.int64, copy=False)


def _inverse_cdf(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r"""One draw per column of ``w`` (candidates x tours), proportional to the column.

    The running sum (inverse CDF) is taken in place, one candidate row at a time along the
    contiguous tour axis. With one uniform :math:`U_k` per tour, the drawn candidate is the
    number of cumulative sums :math:`\le U_k \sum_i w_{ik}`. A column without mass draws
    uniformly among its candidates.
    """
    cdf = w
    for i in range(1, cdf.shape[0]):  # running sum, vectorized over the tours
        cdf[i] += cdf[i - 1]
    empty = cdf[-1] <= 0
    if empty.any():
        cdf[:, empty] = np.arange(1.0, cdf.shape[0] + 1)[:, None]
    u = rng.random(cdf.shape[1]) * cdf[-1]
    return inverse_cdf(cdf, u, 0, cdf.shape[0] - 1)


def _masked_log_prob(rows: np.ndarray, chosen: np.ndarray, unvisited: np.ndarray) -> np.ndarray:
    """Log of ``rows[k, chosen_k]`` renormalized over the unvisited entries (uniform if none)."""
    weights = rows * unvisited
    total = weights.sum(axis=1)
    uniform = total <= 0
    num = np.where(uniform, 1.0, weights[np.arange(len(chosen)), chosen])
    den = np.where(uniform, unvisited.sum(axis=1), total)
    with np.errstate(divide="ignore"):
        return np.log(num) - np.log(den)


class _TourMatrix(Family):
    r"""Shared part of the tour families: an ``(n, n)`` matrix ``P`` and tours of ``n`` cities.

    Subclasses give ``_sample_block`` (one block of tours) and ``_cells`` (the flat index
    into ``P`` of each entry a tour uses); the CE update is the weighted frequency of each
    cell in the elite, :math:`\hat P = \sum_i w_i \, [\text{tour } i \text{ uses the cell}]`.
    """

    P: np.ndarray

    @abstractmethod
    def __init__(self, P: np.ndarray) -> None:
        """A family of tours of ``n`` cities from its ``(n, n)`` matrix ``P``."""

    @property
    def n(self) -> int:
        """Number of cities."""
        return self.P.shape[0]

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.n,)

    def params(self) -> dict[str, np.ndarray]:
        return {"P": self.P}

    def with_params(self, **params: np.ndarray) -> _TourMatrix:
        return type(self)(params["P"])

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` tours, shape ``(n, self.n)`` of int64, in blocks that advance together."""
        blocks = [self._sample_block(min(_BLOCK, n - s), rng) for s in range(0, n, _BLOCK)]
        return np.concatenate(blocks) if blocks else np.zeros((0, self.n), dtype=np.int64)

    @abstractmethod
    def _sample_block(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` tours, built together."""

    @abstractmethod
    def _cells(self, tours: np.ndarray) -> np.ndarray:
        """Flat indices into ``P`` of the cells each tour uses, shape ``(N, n)``."""

    @abstractmethod
    def _rows(self, step: int, previous: np.ndarray) -> np.ndarray:
        """Unnormalized probabilities of each city at ``step``, one row per tour, given
        the city each tour placed at ``step - 1`` (``previous``; ignored at step 0)."""

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        r"""Log probability of each tour under the masked sequential sampler,
        :math:`\sum_k \log (r_{k, t_k} / \sum_{l \in U_k} r_{k l})` with :math:`r_k` the
        step's row of ``P`` and :math:`U_k` the cities not yet placed (a uniform step where
        that mass is zero); ``-inf`` for a tour that the family cannot draw."""
        tours = _check_tours(X, self.n)
        n, m = tours.shape
        rows = np.arange(n)
        unvisited = np.ones((n, m), dtype=bool)
        logp = np.zeros(n)
        for step in range(m):
            nxt = tours[:, step]
            previous = tours[:, step - 1] if step else nxt
            logp = logp + _masked_log_prob(self._rows(step, previous), nxt, unvisited)
            unvisited[rows, nxt] = False
        return logp

    def mode(self) -> np.ndarray:
        """The greedy tour: each step takes its most probable city not yet placed."""
        m = self.n
        tour = np.zeros(m, dtype=np.int64)
        unused = np.ones(m, dtype=bool)
        for step in range(m):
            row = self._rows(step, tour[step - 1 : step] if step else tour[:1])[0]
            tour[step] = np.argmax(np.where(unused, row, -1.0))
            unused[tour[step]] = False
        return tour

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> _TourMatrix:
        tours = _check_tours(X, self.n)
        m = self.n
        w = normalized_weights(weights, tours.shape[0])
        return type(self)(weighted_cell_frequencies(self._cells(tours), w, (m, m)))

    def entropy(self) -> float:
        """Sum of the row entropies of ``P`` in nats (a proxy; see the class notes)."""
        return float(entr(self.P).sum())

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        """Whether every row of ``P`` has an entry of probability at least ``1 - tol``."""
        return bool(np.all(self.P.max(axis=1) >= 1.0 - tol))


class TransitionMatrix(_TourMatrix):
    r"""Tours from a node-transition matrix ``P``, visited cities masked out.

    A tour :math:`t = (t_0, \dots, t_{n-1})` starts at :math:`t_0 = 0`; fixing the start
    removes the ``n`` rotations of each closed tour, which would otherwise split the
    probability of one tour over ``n`` equivalent sequences. At step :math:`k` the next
    city is drawn from the current city's row restricted to the unvisited set
    :math:`U_k`:

    .. math:: \Pr(t_{k} = j \mid t_0..t_{k-1}) = \frac{P_{t_{k-1} j}}
              {\sum_{l \in U_k} P_{t_{k-1} l}}, \qquad j \in U_k.

    When the unvisited mass is zero (possible once ``P`` has concentrated), the step
    falls back to a uniform choice in :math:`U_k`, so sampling never fails.

    The CE update (weighted maximum likelihood of the *unmasked* transition model, as in
    the CE book) is the weighted frequency of each transition in the elite tours, the
    closing edge :math:`t_{n-1} \to t_0` included:

    .. math:: \hat P_{ij} = \frac{\sum_k w_k\, [\text{tour } k \text{ goes } i \to j]}
              {\sum_k w_k}.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Probabilities in [0, 1], zero diagonal, rows summing to 1.

    Notes
    -----
    :meth:`entropy` is the sum of the row entropies
    :math:`-\sum_{ij} P_{ij} \log P_{ij}`: a measure of how far the transition rows are
    from degenerate. It is an upper bound on (a proxy for), not the entropy of, the
    distribution of the sampled tours, whose masking removes choices.
    :meth:`log_pdf` is exact for the masked sampler.

    References
    ----------
    .. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004,
       Sec. 4.7, Algorithm 4.7.1.
    .. [2] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
       cross-entropy method", Ann. Oper. Res. 134:19-67, 2005, Sec. 3.3.

    Examples
    --------
    >>> import numpy as np
    >>> fam = TransitionMatrix.uniform(5)
    >>> tours = fam.sample(3, np.random.default_rng(0))
    >>> tours.shape, bool(np.all(np.sort(tours, axis=1) == np.arange(5)))
    ((3, 5), True)
    >>> bool(np.all(tours[:, 0] == 0))
    True
    """

    def __init__(self, P: np.ndarray) -> None:
        self.P = _check_stochastic(P, "transition matrix", zero_diagonal=True)

    @classmethod
    def uniform(cls, n: int) -> TransitionMatrix:
        """Every other city equally likely: ``P_ij = 1/(n-1)`` for ``i != j``."""
        if not is_int(n) or n < 2:
            raise ConfigError(f"a transition matrix needs n >= 2 cities, got n={n!r}")
        return cls((1.0 - np.eye(n)) / (n - 1))

    def _sample_block(self, n: int, rng: np.random.Generator) -> np.ndarray:
        # Tours start at city 0. Each tour keeps its unvisited cities in a compact column;
        # the chosen city is swapped with the column's last entry and the column shortens
        # by one, so step k costs O(n - k) per tour. Layout (candidates, tours): every
        # operation runs along the contiguous tour axis.
        m = self.n
        flat = self.P.ravel()
        tours = np.zeros((m, n), dtype=np.int64)
        remaining = np.tile(np.arange(1, m)[:, None], (1, n))
        cols = np.arange(n)
        current = np.zeros(n, dtype=np.int64)
        for step in range(1, m):
            k = _inverse_cdf(flat.take(remaining + current * m), rng)
            current = remaining[k, cols]
            tours[step] = current
            remaining[k, cols] = remaining[-1]
            remaining = remaining[:-1]
        return tours.T.copy()

    def _cells(self, tours: np.ndarray) -> np.ndarray:
        return tours * self.n + np.roll(tours, -1, axis=1)  # transitions t_k -> t_{k+1}

    def _rows(self, step: int, previous: np.ndarray) -> np.ndarray:
        # step 0 is city 0; then the row of the city just left
        if step == 0:
            return np.broadcast_to(np.eye(1, self.n), (len(previous), self.n))
        return self.P[previous]


class NodePlacement(_TourMatrix):
    r"""Tours from a node-placement matrix ``P[position, city]``, used cities masked out.

    Position :math:`k = 0, \dots, n-1` receives city :math:`j` among the unused cities
    :math:`U_k` with probability

    .. math:: \Pr(t_k = j \mid t_0..t_{k-1}) = \frac{P_{kj}}{\sum_{l \in U_k} P_{kl}},

    uniform in :math:`U_k` when that mass is zero. The CE update is the weighted
    frequency of city :math:`j` at position :math:`k` in the elite tours,
    :math:`\hat P_{kj} = \sum_i w_i [t^{(i)}_k = j] / \sum_i w_i`.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Probabilities in [0, 1], rows (positions) summing to 1.

    Notes
    -----
    For a closed tour, use :meth:`uniform` with ``first=0``: row 0 is then the point mass
    on city 0, which removes the rotation symmetry as :class:`TransitionMatrix` does, and
    the CE update keeps it. :meth:`entropy` is the sum of the row entropies (a proxy, as
    for :class:`TransitionMatrix`); :meth:`log_pdf` is exact for the masked sampler.

    References
    ----------
    .. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004,
       Sec. 4.7, Algorithm 4.7.2 (node placements).

    Examples
    --------
    >>> import numpy as np
    >>> fam = NodePlacement.uniform(4, first=0)
    >>> fam.P[0].tolist(), fam.P[1].round(3).tolist()
    ([1.0, 0.0, 0.0, 0.0], [0.0, 0.333, 0.333, 0.333])
    >>> tours = fam.sample(2, np.random.default_rng(1))
    >>> bool(np.all(tours[:, 0] == 0))
    True
    """

    def __init__(self, P: np.ndarray) -> None:
        self.P = _check_stochastic(P, "node-placement matrix", zero_diagonal=False)

    @classmethod
    def uniform(cls, n: int, first: int | None = None) -> NodePlacement:
        """Uniform placements; with ``first``, position 0 always holds that city."""
        if not is_int(n) or n < 2:
            raise ConfigError(f"a node-placement matrix needs n >= 2 cities, got n={n!r}")
        if first is None:
            return cls(np.full((n, n), 1.0 / n))
        if not 0 <= first < n:
            raise ConfigError(f"first must be a city in 0..{n - 1}, got {first!r}")
        P = np.full((n, n), 1.0 / (n - 1))
        P[:, first] = 0.0
        P[0] = 0.0
        P[0, first] = 1.0
        return cls(P)

    def _sample_block(self, n: int, rng: np.random.Generator) -> np.ndarray:
        m = self.n
        tours = np.zeros((m, n), dtype=np.int64)
        remaining = np.tile(np.arange(m)[:, None], (1, n))
        cols = np.arange(n)
        for step in range(m):
            k = _inverse_cdf(self.P[step].take(remaining), rng)
            tours[step] = remaining[k, cols]
            remaining[k, cols] = remaining[-1]
            remaining = remaining[:-1]
        return tours.T.copy()

    def _cells(self, tours: np.ndarray) -> np.ndarray:
        return np.arange(self.n) * self.n + tours  # city t_k at position k

    def _rows(self, step: int, previous: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.P[step], (len(previous), self.n))  # position step's row
