r"""The Keith-Kroese family of edit-graph paths: a Markov chain of moves over the lattice.

At each node :math:`(i, j)` of the edit graph a path takes a move
:math:`x \in \{\text{pair}, \text{gap in } b, \text{gap in } a\}`
(:mod:`~cem.problems.alignment.moves`) with probability :math:`p_{ij}(x)`; a path starts
at :math:`(0, 0)` and ends at :math:`(m, n)`. Moves that would leave the lattice or the
band are impossible (on the last row only gaps in :math:`a` remain, on the last column
only gaps in :math:`b`), so every path is a global alignment. With :math:`V_{ij}(x)` the
weighted number of elite paths that take move :math:`x` at :math:`(i, j)`, the CE update
is the weighted maximum-likelihood estimate of a Markov chain, shrunk towards the
previous parameters by a pseudo-count :math:`c` (``prior``):

.. math:: \hat p_{ij}(x) = \frac{V_{ij}(x) + c\, p_{ij}(x)}{\sum_y V_{ij}(y) + c},

so that a node visited by a small share of the elite does not jump to a point mass (a
node no elite path visits keeps its probabilities). The loop's smoothing
:math:`\alpha` applies on top.

A *band* keeps row :math:`i` to the columns ``lo[i] .. lo[i] + width - 1`` (by default
all): parameters and work are :math:`O(m \cdot \text{width})` instead of :math:`O(mn)`.
All :math:`N` paths of a batch are drawn together: one vectorized step per move
(at most :math:`m + n` steps), no loop over the samples.

References
----------
.. [1] J. Keith, D. P. Kroese, "Sequence alignment by rare event simulation",
   Proceedings of the 2002 Winter Simulation Conference, 320-327, 2002.
.. [2] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004
   (Markov chain families, Ch. 4).
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr, expit

from cem.errors import ConfigError
from cem.families import Family, normalized_weights
from cem.problems.alignment.moves import END, GAP_A, GAP_B, PAIR, positions
from cem.toolkit import check_int, is_real

__all__ = ["EditGraphPaths", "allowed_moves", "diagonal_band"]


def diagonal_band(m: int, n: int, half_width: int | None) -> tuple[np.ndarray, int]:
    """``(lo, width)`` of the band of ``half_width`` columns either side of the line from
    :math:`(0, 0)` to :math:`(m, n)`; all columns when ``half_width`` is None."""
    if half_width is None or 2 * half_width + 1 >= n + 1:
        return np.zeros(m + 1, dtype=np.int64), n + 1
    W = 2 * int(half_width) + 1
    centre = np.rint(np.arange(m + 1) * (n / m)).astype(np.int64)
    lo = np.clip(centre - half_width, 0, n + 1 - W)
    if np.any(np.diff(lo) > W - 1):
        raise ConfigError(
            f"band = {half_width} is too narrow for sequences of lengths {m} and {n}: a path "
            f"must be able to step between rows; use band >= {int(np.ceil(n / m / 2)) + 1}"
        )
    return lo, W


def allowed_moves(lo: np.ndarray, width: int, m: int, n: int) -> np.ndarray:
    """Which moves each node of the band may take, ``(m + 1, width, 3)`` booleans.

    Raises
    ------
    ConfigError
        When the band leaves a node other than :math:`(m, n)` without a move.
    """
    W = width
    i = np.arange(m + 1)[:, None]
    j = lo[:, None] + np.arange(W)[None, :]
    inside = j <= n
    nxt = np.append(lo[1:], lo[-1])[:, None]
    down = (i < m) & inside
    pair = down & (j < n) & (j + 1 >= nxt) & (j + 1 < nxt + W)
    gap_b = down & (j >= nxt) & (j < nxt + W)
    gap_a = inside & (j < n) & (j + 1 < lo[:, None] + W)
    allowed = np.stack([pair, gap_b, gap_a], axis=2)
    stuck = inside & ~allowed.any(axis=2) & ~((i == m) & (j == n))
    if stuck.any():
        r, k = np.argwhere(stuck)[0]
        raise ConfigError(f"the band leaves node ({r}, {lo[r] + k}) without a move")
    return allowed


class EditGraphPaths(Family):
    r"""Paths through the edit graph drawn from a Markov chain of moves (Keith & Kroese 2002).

    Parameters
    ----------
    probs : array (m + 1, width, 3)
        :math:`p_{ij}(x)` of node :math:`(i, \text{lo}_i + k)` at ``[i, k]``; impossible
        moves must have probability 0 (they are checked).
    lo : int array (m + 1,)
        The band (:func:`diagonal_band`); all zeros with ``width = n + 1`` for no band.
    n : int
        The length of the second sequence.
    prior : float, default 0.0
        The pseudo-count :math:`c` of the update (in units of the elite's total weight).

    Examples
    --------
    >>> import numpy as np
    >>> fam = EditGraphPaths.initial(3, 4)
    >>> X = fam.sample(2, np.random.default_rng(0))
    >>> X.shape
    (2, 7)
    """

    def __init__(self, probs: np.ndarray, lo: np.ndarray, n: int, prior: float = 0.0) -> None:
        P = np.array(probs, dtype=float)
        lo = np.asarray(lo, dtype=np.int64)
        if P.ndim != 3 or P.shape[2] != 3 or lo.shape != (P.shape[0],):
            raise ConfigError(f"probs must have shape (m + 1, width, 3), got {P.shape}")
        if not is_real(prior) or prior < 0:
            raise ConfigError(f"prior must be a number >= 0, got {prior!r}")
        self.m, self.n, self.width = P.shape[0] - 1, check_int("n", n, 1), P.shape[1]
        self.lo, self.prior = lo, float(prior)
        self.allowed = allowed_moves(lo, self.width, self.m, self.n)
        if np.any(P[~self.allowed] != 0) or np.any(P < 0):
            raise ConfigError("probs must be >= 0, and 0 on the moves that leave the band")
        live = self.allowed.any(axis=2)
        total = P.sum(axis=2)
        if not np.allclose(total[live], 1.0, atol=1e-9):
            raise ConfigError("the move probabilities of each node must sum to 1")
        P[live] /= total[live][:, None]
        P.flags.writeable = False
        lo.flags.writeable = False
        self.probs = P

    @classmethod
    def initial(
        cls,
        m: int,
        n: int,
        band: int | None = None,
        diagonal: float = 1 / 3,
        pull: float | None = None,
        prior: float = 0.0,
    ) -> EditGraphPaths:
        r"""The starting family: at every node a pair with probability ``diagonal``, the
        rest split between the two gaps so as to pull the path back towards the line
        :math:`j = i n / m`: :math:`p(\text{gap in } b) \propto \sigma((j - i n/m) / \tau)`,
        :math:`\tau` = ``pull`` columns (no pull when None: an even split).

        ``diagonal = 1/3`` without pull is the uniform chain of Keith & Kroese.
        """
        m, n = check_int("length of a", m, 1), check_int("length of b", n, 1)
        if not is_real(diagonal) or not 0 < diagonal < 1:
            raise ConfigError(f"diagonal must be a number in (0, 1), got {diagonal!r}")
        if pull is not None and (not is_real(pull) or pull <= 0):
            raise ConfigError(f"pull must be a number > 0 or None, got {pull!r}")
        if band is not None:
            band = check_int("band", band, 1)
        lo, W = diagonal_band(m, n, band)
        allowed = allowed_moves(lo, W, m, n)
        j = lo[:, None] + np.arange(W)[None, :]
        offset = j - np.arange(m + 1)[:, None] * (n / m)
        down = 0.5 if pull is None else expit(offset / pull)
        gaps = 1.0 - diagonal
        P = (
            np.stack(
                np.broadcast_arrays(np.full(j.shape, diagonal), gaps * down, gaps * (1.0 - down)),
                axis=2,
            )
            * allowed
        )
        live = allowed.any(axis=2)
        P[live] /= P[live].sum(axis=1, keepdims=True)
        return cls(P, lo, n, prior)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.m + self.n,)

    def params(self) -> dict[str, np.ndarray]:
        return {"probs": self.probs}

    def with_params(self, **params: np.ndarray) -> EditGraphPaths:
        return EditGraphPaths(params["probs"], self.lo, self.n, self.prior)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        m, nb, lo = self.m, self.n, self.lo
        cdf = np.cumsum(self.probs, axis=2)[:, :, :2].copy()
        cdf[self.probs[:, :, 2] == 0, 1] = 1.0  # draws never reach an impossible move
        cdf[(self.probs[:, :, 1] == 0) & (self.probs[:, :, 2] == 0), 0] = 1.0
        X = np.full((n, m + nb), END, dtype=np.int8)
        i = np.zeros(n, dtype=np.int64)
        j = np.zeros(n, dtype=np.int64)
        for t in range(m + nb):
            live = (i < m) | (j < nb)
            if not live.any():
                break
            c = cdf[i, j - lo[i]]
            u = rng.random(n)
            move = (u >= c[:, 0]).astype(np.int8) + (u >= c[:, 1])
            move[~live] = END
            X[:, t] = move
            i += (move == PAIR) | (move == GAP_B)
            j += (move == PAIR) | (move == GAP_A)
        return X

    def _cells(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.m + self.n:
            raise ConfigError(
                f"EditGraphPaths expects X of shape (N, {self.m + self.n}), got {X.shape}"
            )
        i, j = positions(X)
        rows, steps = np.nonzero(X != END)
        ii = i[rows, steps]
        k = j[rows, steps] - self.lo[ii]
        return rows, (ii * self.width + k) * 3, X[rows, steps].astype(np.int64)

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> EditGraphPaths:
        w = normalized_weights(weights, np.asarray(X).shape[0])
        rows, node, move = self._cells(X)
        counts = np.bincount(node + move, weights=w[rows], minlength=self.probs.size)
        V = counts.reshape(self.probs.shape) + self.prior * self.probs
        total = V.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            P = np.where(total > 0, V / total, self.probs)
        return EditGraphPaths(P * self.allowed, self.lo, self.n, self.prior)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        rows, node, move = self._cells(X)
        with np.errstate(divide="ignore"):
            logp = np.log(self.probs.ravel()[node + move])
        return np.bincount(rows, weights=logp, minlength=np.asarray(X).shape[0])

    def visit_probabilities(self) -> np.ndarray:
        r"""The probability that a path visits each node, ``(m + 1, width)``: pushed
        forward along anti-diagonals, :math:`\pi_{\text{succ}} \mathrel{+}= \pi_v p_v(x)`."""
        m, W, lo = self.m, self.width, self.lo
        i = np.repeat(np.arange(m + 1), W)
        k = np.tile(np.arange(W), m + 1)
        j = lo[i] + k
        step = {PAIR: (1, 1), GAP_B: (1, 0), GAP_A: (0, 1)}
        succ = np.full((i.size, 3), -1, dtype=np.int64)
        allowed = self.allowed.reshape(-1, 3)
        for mv, (di, dj) in step.items():
            ok = allowed[:, mv]
            ti = i[ok] + di
            succ[ok, mv] = ti * W + (j[ok] + dj - lo[ti])
        order = np.argsort(i + j, kind="stable")
        bounds = np.searchsorted((i + j)[order], np.arange(m + self.n + 2))
        visit = np.zeros(i.size)
        visit[0] = 1.0
        P = self.probs.reshape(-1, 3)
        for d in range(m + self.n):
            cells = order[bounds[d] : bounds[d + 1]]
            for mv in step:
                ok = succ[cells, mv] >= 0
                src = cells[ok]
                visit[succ[src, mv]] += visit[src] * P[src, mv]
        return visit.reshape(m + 1, W)

    def entropy(self) -> float:
        r"""The entropy of the path, :math:`\sum_v \pi_v H(p_v)` (exact for a Markov chain)."""
        return float((self.visit_probabilities() * entr(self.probs).sum(axis=2)).sum())

    def _greedy(self) -> tuple[np.ndarray, float]:
        x = np.full(self.m + self.n, END, dtype=np.int8)
        i = j = t = 0
        logp = 0.0
        while i < self.m or j < self.n:
            p = self.probs[i, j - self.lo[i]]
            mv = int(np.argmax(p))
            logp += float(np.log(p[mv]))
            x[t], t = mv, t + 1
            i += mv in (PAIR, GAP_B)
            j += mv in (PAIR, GAP_A)
        return x, logp

    def mode(self) -> np.ndarray:
        """The greedy path: the most probable move at each node it reaches."""
        return self._greedy()[0]

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        """Whether the greedy path has probability at least ``1 - tol``."""
        return bool(self._greedy()[1] >= np.log1p(-tol))
