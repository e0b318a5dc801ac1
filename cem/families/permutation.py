r"""Node-transition family for tours (permutations), as in the CE method for the TSP.

A tour of ``n`` cities is generated from a transition matrix :math:`P` (rows sum to 1,
zero diagonal): start at city 0 (fixing the start removes the ``n`` rotations of each
tour), and at each step go from the current city :math:`i` to an unvisited city
:math:`j` with probability

.. math:: \frac{P_{ij}}{\sum_{k \text{ unvisited}} P_{ik}}.

All tours of a batch advance together, one position per step (``n - 1`` vectorized
steps). The CE update is the weighted frequency of each transition in the elite tours,
closing edge included:

.. math:: \hat P_{ij} = \frac{\sum_k w_k [\text{tour } k \text{ goes } i \to j]}{\sum_k w_k}.

References
----------
.. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004, Sec. 4.7.
.. [2] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005, Sec. 3.3.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr

from cem.errors import ConfigError
from cem.families._base import Family, normalized_weights

__all__ = ["TransitionMatrix"]


class TransitionMatrix(Family):
    """Tours sampled from a node-transition matrix ``P`` with visited cities masked out.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Nonnegative, zero diagonal, rows summing to 1.

    Notes
    -----
    A row whose unvisited mass is zero (possible once ``P`` has concentrated) falls
    back to a uniform choice among the unvisited cities, so sampling never fails.
    :meth:`entropy` is the sum of the row entropies of ``P``, a measure of how far
    the family is from degenerate (not the entropy of the tour distribution).

    Examples
    --------
    >>> import numpy as np
    >>> fam = TransitionMatrix.uniform(5)
    >>> tours = fam.sample(3, np.random.default_rng(0))
    >>> tours.shape, bool(np.all(np.sort(tours, axis=1) == np.arange(5)))
    ((3, 5), True)
    """

    def __init__(self, P: np.ndarray) -> None:
        P = np.array(P, dtype=float)
        if P.ndim != 2 or P.shape[0] != P.shape[1] or P.shape[0] < 2:
            raise ConfigError(f"transition matrix P must be square with n >= 2, got {P.shape}")
        if not np.all((P >= 0) & (P <= 1)):
            raise ConfigError("transition matrix P must hold probabilities in [0, 1]")
        if np.any(np.diag(P) != 0):
            raise ConfigError("transition matrix P must have a zero diagonal")
        sums = P.sum(axis=1)
        if not np.allclose(sums, 1.0, atol=1e-9):
            bad = int(np.argmax(np.abs(sums - 1.0)))
            raise ConfigError(f"row {bad} of transition matrix P sums to {sums[bad]!r}, not 1")
        P = P / sums[:, None]
        P.flags.writeable = False
        self.P = P

    @classmethod
    def uniform(cls, n: int) -> TransitionMatrix:
        """Every other city equally likely: ``P_ij = 1/(n-1)`` for ``i != j``."""
        return cls((1.0 - np.eye(n)) / (n - 1))

    @property
    def n(self) -> int:
        return self.P.shape[0]

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.n,)

    def params(self) -> dict[str, np.ndarray]:
        return {"P": self.P}

    def with_params(self, **params: np.ndarray) -> TransitionMatrix:
        return TransitionMatrix(params["P"])

    #: Tours built together; a block's working arrays stay in the CPU cache.
    block = 2048

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` tours starting at city 0, a block of tours advanced together.

        Each tour keeps its unvisited cities in a compact row; the chosen city is swapped
        with the row's last entry and the row shortens by one, so step ``k`` costs
        ``O(m - k)`` per tour and a tour ``O(m^2 / 2)``.
        """
        return np.concatenate(
            [self._sample_block(min(self.block, n - s), rng) for s in range(0, n, self.block)]
            or [np.zeros((0, self.n), dtype=np.int64)]
        )

    def _sample_block(self, n: int, rng: np.random.Generator) -> np.ndarray:
        # Layout (candidates, tours): every operation runs along the contiguous tour axis.
        m = self.n
        flat = self.P.ravel()
        tours = np.zeros((m, n), dtype=np.int64)
        remaining = np.tile(np.arange(1, m)[:, None], (1, n))
        cols = np.arange(n)
        current = np.zeros(n, dtype=np.int64)
        for step in range(1, m):
            cdf = flat.take(remaining + current * m)
            for i in range(1, cdf.shape[0]):  # running sum, vectorized over the tours
                cdf[i] += cdf[i - 1]
            empty = cdf[-1] <= 0
            if empty.any():
                cdf[:, empty] = np.arange(1.0, cdf.shape[0] + 1)[:, None]
            u = rng.random(n) * cdf[-1]
            k = np.minimum((cdf <= u).sum(axis=0), cdf.shape[0] - 1)
            current = remaining[k, cols]
            tours[step] = current
            remaining[k, cols] = remaining[-1]
            remaining = remaining[:-1]
        return tours.T.copy()

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> TransitionMatrix:
        tours = np.asarray(X, dtype=np.int64)
        m = self.n
        if tours.ndim != 2 or tours.shape[1] != m:
            raise ConfigError(f"tours must have shape (N, {m}), got {tours.shape}")
        w = normalized_weights(weights, tours.shape[0])
        flat = (tours * m + np.roll(tours, -1, axis=1)).ravel()
        counts = np.bincount(flat, weights=np.repeat(w, m), minlength=m * m).reshape(m, m)
        return TransitionMatrix(np.minimum(counts, 1.0))

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        """Log probability of each tour under the masked sequential sampler (start at 0)."""
        tours = np.asarray(X, dtype=np.int64)
        n, m = tours.shape
        rows = np.arange(n)
        unvisited = np.ones((n, m), dtype=bool)
        unvisited[rows, tours[:, 0]] = False
        logp = np.where(tours[:, 0] == 0, 0.0, -np.inf)
        for step in range(1, m):
            cur, nxt = tours[:, step - 1], tours[:, step]
            weights = self.P[cur] * unvisited
            total = weights.sum(axis=1)
            uniform = total <= 0
            num = np.where(uniform, 1.0, weights[rows, nxt])
            den = np.where(uniform, unvisited.sum(axis=1), total)
            with np.errstate(divide="ignore"):
                logp = logp + np.log(num) - np.log(den)
            unvisited[rows, nxt] = False
        return logp

    def entropy(self) -> float:
        return float(entr(self.P).sum())

    def mode(self) -> np.ndarray:
        """The greedy tour: from city 0, always the most probable unvisited city."""
        m = self.n
        tour = [0]
        unvisited = np.ones(m, dtype=bool)
        unvisited[0] = False
        for _ in range(m - 1):
            row = np.where(unvisited, self.P[tour[-1]], -1.0)
            nxt = int(np.argmax(row))
            tour.append(nxt)
            unvisited[nxt] = False
        return np.array(tour)

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.all(self.P.max(axis=1) >= 1.0 - tol))
