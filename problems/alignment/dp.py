r"""Exact alignment by dynamic programming, vectorized along rows: the oracle and the baseline.

Gotoh's three-state recursion over the edit graph: :math:`M_{ij}` (the best path into
:math:`(i, j)` ending with a pair), :math:`X_{ij}` (ending with :math:`a_i` against a gap)
and :math:`Y_{ij}` (ending with :math:`b_j` against a gap), :math:`H = \max(M, X, Y)`:

.. math::

   M_{ij} &= \max(H_{i-1,j-1}, 0_{\text{local}}) + s(a_i, b_j), \\
   X_{ij} &= \max(X_{i-1,j} - g_e,\; \max(M, Y)_{i-1,j} - g_o - g_e), \\
   Y_{ij} &= \max_{k < j} \big(\max(M, X)_{ik} - g_o - g_e (j - k)\big).

:math:`M` and :math:`X` need only the previous row; the row's own dependency in
:math:`Y` is a running maximum, :math:`Y_{ij} = -g_o - g_e j + \max_{k<j}(G_{ik} + g_e k)`
with :math:`G = \max(M, X)`, so each row is a handful of numpy operations
(``np.maximum.accumulate``) over the whole row and over a batch of problems at once. The
global score is :math:`H_{mn}` (from :math:`M_{00} = 0`); the local score is
:math:`\max(0, \max_{ij} M_{ij})`. A gap in one sequence may directly follow a gap in
the other (two gaps, each charged its opening), as in the path family.

A *band* restricts row :math:`i` to the columns ``lo[i] .. lo[i] + width - 1``: the
same recursion over fewer cells, the exact optimum over the paths inside the band. It
is what the tube search of :meth:`cem.problems.alignment.pairwise.PairwiseAlignment.polish`
uses, and with ``lo = 0, width = n + 1`` it is the full dynamic program.

References
----------
.. [1] O. Gotoh, "An improved algorithm for matching biological sequences", J. Mol.
   Biol. 162:705-708, 1982.
.. [2] K.-M. Chao, W. R. Pearson, W. Miller, "Aligning two sequences within a specified
   diagonal band", CABIOS 8:481-487, 1992.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cem.problems.alignment.moves import END, GAP_A, GAP_B, PAIR
from cem.problems.alignment.scoring import Scoring
from cem.toolkit import require

__all__ = ["DPResult", "align", "banded_dp", "dp_bytes"]

_STATES = (PAIR, GAP_B, GAP_A)  # M, X, Y emit these moves


@dataclass(frozen=True)
class DPResult:
    """An optimal alignment: its ``score``, its ``moves`` (from node ``start``; the whole
    path for a global alignment) and the ``start`` node."""

    score: float
    moves: np.ndarray
    start: tuple[int, int]


def dp_bytes(batch: int, m: int, width: int, traceback: bool = True) -> int:
    """Bytes the three state tables take (all rows kept for the traceback)."""
    rows = (m + 1) if traceback else 2
    return 3 * 8 * int(batch) * rows * int(width)


def _gather(prev: np.ndarray, idx: np.ndarray) -> np.ndarray:
    W = prev.shape[1]
    ok = (idx >= 0) & (idx < W)
    return np.where(ok, np.take_along_axis(prev, np.clip(idx, 0, W - 1), axis=1), -np.inf)


def banded_dp(
    A: np.ndarray,
    B: np.ndarray,
    scoring: Scoring,
    lo: np.ndarray | None = None,
    width: int | None = None,
    traceback: bool = True,
    key: str = "sequences",
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Optimal scores (and paths) of a batch of problems, each within its band.

    Parameters
    ----------
    A, B : int arrays (batch or 1, m) and (batch or 1, n)
        Encoded sequences; a single row is shared by the batch.
    scoring : Scoring
    lo : int array (batch or 1, m + 1) or (m + 1,), optional
        First column of each row's band (nondecreasing, ``lo[:, 0] = 0``); default 0.
    width : int, optional
        Cells per row; default ``n + 1`` (the full table).
    traceback : bool
        Whether to return one optimal path per problem.
    key : str
        Names the input in the memory error.

    Returns
    -------
    scores : (batch,)
    moves : (batch, m + n) int8 or None
        The optimal sub-path from ``starts`` (:data:`END` padded); global: from (0, 0).
    starts : (batch, 2) or None
    """
    A, B = np.atleast_2d(A), np.atleast_2d(B)
    m, n = A.shape[1], B.shape[1]
    lo = np.zeros((1, m + 1), dtype=np.int64) if lo is None else np.atleast_2d(lo)
    batch = max(A.shape[0], B.shape[0], lo.shape[0])
    lo = np.broadcast_to(lo.astype(np.int64), (batch, m + 1))
    W = n + 1 if width is None else int(width)
    require(f"{key} ({m} x {n} letters, band width {W})", dp_bytes(batch, m, W, traceback))
    local, o, e, S = scoring.local, scoring.gap_open, scoring.gap_extend, scoring.matrix
    ks = np.arange(W)
    bidx = np.arange(batch)[:, None] % B.shape[0]
    aidx = np.arange(batch) % A.shape[0]
    tables = np.full((3, batch, m + 1, W), -np.inf) if traceback else None

    def horizontal(G: np.ndarray, valid: np.ndarray) -> np.ndarray:
        run = np.maximum.accumulate(G + e * ks, axis=1)
        Y = np.full_like(G, -np.inf)
        Y[:, 1:] = run[:, :-1] - o - e * ks[1:]
        return np.where(valid, Y, -np.inf)

    cols = lo[:, 0][:, None] + ks
    valid = cols <= n
    M = np.full((batch, W), -np.inf)
    X = np.full((batch, W), -np.inf)
    if not local:
        M[cols == 0] = 0.0
    Y = horizontal(M, valid) if not local else np.full((batch, W), -np.inf)
    best = np.full(batch, -np.inf)
    best_at = np.zeros((batch, 2), dtype=np.int64)
    if tables is not None:
        tables[:, :, 0] = M, X, Y
    for i in range(1, m + 1):
        cols = lo[:, i][:, None] + ks
        valid = cols <= n
        kv = ks + (lo[:, i] - lo[:, i - 1])[:, None]
        H = np.maximum(np.maximum(M, X), Y)
        diag = _gather(H, kv - 1)
        if local:
            diag = np.maximum(diag, 0.0)
        sub = S[A[aidx, i - 1][:, None], B[bidx, np.clip(cols - 1, 0, n - 1)]]
        M_new = np.where(valid & (cols >= 1), diag + sub, -np.inf)
        X = np.where(valid, np.maximum(_gather(X, kv) - e,
                                       _gather(np.maximum(M, Y), kv) - o - e), -np.inf)  # fmt: skip
        M = M_new
        Y = horizontal(np.maximum(M, X), valid)
        if tables is not None:
            tables[:, :, i] = M, X, Y
        if local:
            k = np.argmax(M, axis=1)
            row_best = M[np.arange(batch), k]
            better = row_best > best
            best = np.where(better, row_best, best)
            best_at[better] = np.stack([np.full(batch, i), k], axis=1)[better]
    if local:
        scores = np.maximum(best, 0.0)
        end_row, end_k = best_at[:, 0], best_at[:, 1]
        state = np.zeros(batch, dtype=np.int64)
    else:
        end_row = np.full(batch, m)
        end_k = n - lo[:, m]
        final = np.stack([M, X, Y])[:, np.arange(batch), end_k]
        scores = final.max(axis=0)
        state = np.argmax(final, axis=0)
    if tables is None:
        return scores, None, None
    moves, starts = _traceback(tables, lo, A, B, aidx, bidx[:, 0], scoring, scores,
                               end_row, end_k, state)  # fmt: skip
    return scores, moves, starts


def _traceback(tables, lo, A, B, aidx, bidx, scoring, scores, row, k, state):
    """One optimal path per problem, walked back from its end cell (vectorized over the batch).

    At each cell the predecessor whose value plus the move's score gives the cell's value
    is followed, preferring pair, then gap in ``b``, then gap in ``a``."""
    M, X, Y = tables
    batch, m1, _ = M.shape
    m, n = m1 - 1, B.shape[1]
    o, e, S, local = scoring.gap_open, scoring.gap_extend, scoring.matrix, scoring.local
    buf = np.full((batch, m + n), END, dtype=np.int8)
    count = np.zeros(batch, dtype=np.int64)
    active = scores > 0 if local else np.ones(batch, dtype=bool)
    i, kk, st = row.copy(), k.copy(), state.copy()
    tol = 1e-9 * max(1.0, float(np.max(np.abs(S))))
    b = np.arange(batch)
    for _ in range(m + n):
        j = lo[b, i] + kk
        if not local:
            active &= ~((i == 0) & (j == 0))
        if not active.any():
            break
        r = b[active]
        ii, jj, ss, kr = i[r], j[r], st[r], kk[r]
        buf[r, count[r]] = np.asarray(_STATES)[ss]
        count[r] += 1
        value = tables[ss, r, ii, kr]
        nst, ni, nk = ss.copy(), ii.copy(), kr.copy()
        # a pair: from (i-1, j-1)
        p = ss == 0
        if p.any():
            pr, pi, pj = r[p], ii[p], jj[p]
            v = value[p] - S[A[aidx[pr], pi - 1], B[bidx[pr], pj - 1]]
            pk = pj - 1 - lo[pr, pi - 1]
            cand = np.stack([_cell(T, pr, pi - 1, pk) for T in (M, X, Y)])
            nst[p] = np.argmax(np.abs(cand - v) <= tol, axis=0)
            ni[p], nk[p] = pi - 1, pk
            if local:
                done = v <= tol
                active[pr[done]] = False
        # a gap in b: from (i-1, j)
        g = ss == 1
        if g.any():
            gr, gi, gj = r[g], ii[g], jj[g]
            gk = gj - lo[gr, gi - 1]
            stay = np.abs(_cell(X, gr, gi - 1, gk) - e - value[g]) <= tol
            from_m = np.abs(_cell(M, gr, gi - 1, gk) - o - e - value[g]) <= tol
            nst[g] = np.where(stay, 1, np.where(from_m, 0, 2))
            ni[g], nk[g] = gi - 1, gk
        # a gap in a: from (i, j-1)
        h = ss == 2
        if h.any():
            hr, hi, hk = r[h], ii[h], kr[h] - 1
            stay = np.abs(_cell(Y, hr, hi, hk) - e - value[h]) <= tol
            from_m = np.abs(_cell(M, hr, hi, hk) - o - e - value[h]) <= tol
            nst[h] = np.where(stay, 2, np.where(from_m, 0, 1))
            nk[h] = hk
        st[r], i[r], kk[r] = nst, ni, nk
    starts = np.stack([i, lo[b, i] + kk], axis=1)
    if local:  # the walk stopped after the first pair: its node is one back
        starts = np.where((scores > 0)[:, None], starts, 0)
    moves = np.full_like(buf, END)
    for r in range(batch):  # reverse each walk (a copy per problem, not per sample)
        moves[r, : count[r]] = buf[r, : count[r]][::-1]
    return moves, starts


def _cell(T: np.ndarray, r: np.ndarray, i: np.ndarray, k: np.ndarray) -> np.ndarray:
    ok = (k >= 0) & (k < T.shape[2]) & (i >= 0)
    return np.where(ok, T[r, np.maximum(i, 0), np.clip(k, 0, T.shape[2] - 1)], -np.inf)


def align(a: np.ndarray, b: np.ndarray, scoring: Scoring, key: str = "sequences") -> DPResult:
    """The optimal alignment of two encoded sequences (full table; :func:`banded_dp`).

    Raises
    ------
    ResourceLimitError
        When the tables would exceed the memory limit (naming ``key``), before
        allocating them.

    Examples
    --------
    >>> from cem.problems.alignment.scoring import dna_scoring
    >>> sc = dna_scoring(1, -1, gap_extend=2)
    >>> res = align(sc.encode("GATTACA"), sc.encode("GATACA"), sc)
    >>> res.score
    4.0
    """
    scores, moves, starts = banded_dp(a[None], b[None], scoring, key=key)
    assert moves is not None and starts is not None  # traceback=True
    return DPResult(float(scores[0]), moves[0], (int(starts[0, 0]), int(starts[0, 1])))
