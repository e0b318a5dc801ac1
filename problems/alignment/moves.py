r"""Alignments as paths through the edit graph, coded as rows of moves.

The edit graph of :math:`a` (length :math:`m`) and :math:`b` (length :math:`n`) has the
nodes :math:`(i, j)`, :math:`0 \le i \le m`, :math:`0 \le j \le n`; a global alignment is
a path from :math:`(0, 0)` to :math:`(m, n)` of three kinds of moves:

- :data:`PAIR` ``(i, j) -> (i+1, j+1)``: :math:`a_i` aligned with :math:`b_j`;
- :data:`GAP_B` ``(i, j) -> (i+1, j)``: :math:`a_i` against a gap in :math:`b`;
- :data:`GAP_A` ``(i, j) -> (i, j+1)``: :math:`b_j` against a gap in :math:`a`.

A path has between :math:`\max(m, n)` and :math:`m + n` moves; a batch of paths is an
``(N, m + n)`` integer array padded at the end with :data:`END`. :func:`path_scores`
scores a whole batch at once; a local alignment's score is that of the path's best
sub-path that starts with a pair (the Smith-Waterman score restricted to the path).
"""

from __future__ import annotations

import numpy as np

from cem.problems.alignment.scoring import Scoring

__all__ = [
    "END",
    "GAP_A",
    "GAP_B",
    "PAIR",
    "aligned_strings",
    "embed",
    "path_scores",
    "positions",
    "row_spans",
    "step_scores",
]

PAIR, GAP_B, GAP_A, END = 0, 1, 2, 3


def positions(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The node ``(i, j)`` each move leaves from, two ``(N, L)`` arrays."""
    X = np.asarray(X)
    di = (X == PAIR) | (X == GAP_B)
    dj = (X == PAIR) | (X == GAP_A)
    i = np.cumsum(di, axis=1, dtype=np.int64) - di
    j = np.cumsum(dj, axis=1, dtype=np.int64) - dj
    return i, j


def step_scores(X: np.ndarray, a: np.ndarray, b: np.ndarray, scoring: Scoring) -> np.ndarray:
    r"""The score of each move, ``(N, L)``: :math:`s(a_i, b_j)` for a pair,
    :math:`-(g_o + g_e)` for a gap's first letter, :math:`-g_e` for the others, 0 for
    :data:`END`."""
    X = np.asarray(X)
    i, j = positions(X)
    pair = X == PAIR
    sub = scoring.matrix[a[np.minimum(i, a.size - 1)], b[np.minimum(j, b.size - 1)]]
    prev = np.concatenate([np.full((X.shape[0], 1), END, dtype=X.dtype), X[:, :-1]], axis=1)
    gap = (X == GAP_A) | (X == GAP_B)
    opens = gap & (prev != X)
    return np.where(pair, sub, 0.0) - gap * scoring.gap_extend - opens * scoring.gap_open


def path_scores(X: np.ndarray, a: np.ndarray, b: np.ndarray, scoring: Scoring) -> np.ndarray:
    r"""Scores of a batch of paths, ``(N,)``.

    Global: the sum of :func:`step_scores`. Local: with prefix sums :math:`P_t` of the
    step scores, :math:`\max(0, \max_{s < t,\, x_s = \text{PAIR}} P_t - P_s)`: the best
    sub-path that starts with a pair (so that its first gap is charged its opening).
    """
    steps = step_scores(X, a, b, scoring)
    if not scoring.local:
        return steps.sum(axis=1)
    P = np.cumsum(steps, axis=1)
    before = P - steps  # P_s: the sum before move s
    start = np.where(np.asarray(X) == PAIR, before, np.inf)
    lowest = np.minimum.accumulate(start, axis=1)
    with np.errstate(invalid="ignore"):
        gain = np.where(np.isfinite(lowest), P - lowest, 0.0)
    return np.maximum(gain.max(axis=1), 0.0)


def local_span(x: np.ndarray, a: np.ndarray, b: np.ndarray, scoring: Scoring) -> tuple[int, int]:
    """The moves ``[s, t)`` of a path's best local sub-path (empty when it scores 0)."""
    steps = step_scores(x[None], a, b, scoring)[0]
    P = np.cumsum(steps)
    before = P - steps
    start = np.where(np.asarray(x) == PAIR, before, np.inf)
    best, span = 0.0, (0, 0)
    low, low_at = np.inf, 0
    for t in range(len(x)):
        if start[t] < low:
            low, low_at = start[t], t
        if np.isfinite(low) and P[t] - low > best:
            best, span = P[t] - low, (low_at, t + 1)
    return span


def row_spans(X: np.ndarray, m: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each path and row ``i``, the first and last column it visits, ``(N, m + 1)`` each."""
    X = np.asarray(X)
    N = X.shape[0]
    i, j = positions(X)
    down = (X == PAIR) | (X == GAP_B)
    rows, steps = np.nonzero(down)
    first = np.zeros((N, m + 1), dtype=np.int64)
    last = np.full((N, m + 1), n, dtype=np.int64)
    enter = j[rows, steps] + (X[rows, steps] == PAIR)
    first[rows, i[rows, steps] + 1] = enter
    last[rows, i[rows, steps]] = j[rows, steps]
    return first, last


def embed(moves: np.ndarray, start: tuple[int, int], m: int, n: int) -> np.ndarray:
    """A full path of length ``m + n`` through a sub-path ``moves`` that starts at node
    ``start``: pairs then gaps before it, pairs then gaps after it, :data:`END` padding."""
    i0, j0 = start
    body = np.asarray(moves, dtype=np.int8)
    body = body[body != END]
    i1 = i0 + int(np.sum((body == PAIR) | (body == GAP_B)))
    j1 = j0 + int(np.sum((body == PAIR) | (body == GAP_A)))

    def straight(di: int, dj: int) -> np.ndarray:
        d = min(di, dj)
        return np.array([PAIR] * d + [GAP_B] * (di - d) + [GAP_A] * (dj - d), dtype=np.int8)

    path = np.concatenate([straight(i0, j0), body, straight(m - i1, n - j1)])
    out = np.full(m + n, END, dtype=np.int8)
    out[: path.size] = path
    return out


def aligned_strings(x: np.ndarray, a: str, b: str, span: tuple[int, int] | None = None):
    """The two gapped rows of a path (``-`` for gaps), over its moves ``span`` (all by
    default); also the 1-based start of each row in its sequence."""
    x = np.asarray(x)
    i, j = positions(x[None])
    s, t = span if span is not None else (0, int(np.sum(x != END)))
    top, bottom = [], []
    for k in range(s, t):
        mv, ii, jj = int(x[k]), int(i[0, k]), int(j[0, k])
        top.append(a[ii] if mv in (PAIR, GAP_B) else "-")
        bottom.append(b[jj] if mv in (PAIR, GAP_A) else "-")
    start = (int(i[0, s]) + 1, int(j[0, s]) + 1) if t > s else (1, 1)
    return "".join(top), "".join(bottom), start
