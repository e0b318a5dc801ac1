r"""The elite of an iteration without its ``N x d`` sample matrix.

With :math:`N_e` the elite size, :math:`\gamma_t` is the :math:`N_e`-th largest score
(in the maximization sense) and the elite is every sample with :math:`S \ge \gamma_t`,
ties included. A sample whose score is below the :math:`N_e`-th largest score of its
own batch has at least :math:`N_e` samples strictly above it, so it is below
:math:`\gamma_t` too. Each batch therefore keeps only its rows at or above its own
:math:`N_e`-th largest score (every row when it has at most :math:`N_e`), and
:class:`EliteCandidates` prunes the kept rows against the running :math:`N_e`-th
largest score of those seen so far, which can only rise. An iteration holds its
``N`` scores, :math:`O(N_e)` rows and one batch at a time, and selects exactly the
elite of the materialized iteration, in the same row order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cem._parallel import BatchRunner, batch_args
from cem.errors import InvalidScoreError

__all__ = [
    "EliteCandidates",
    "check_scores",
    "elite_threshold",
    "level_threshold",
    "sample_elite",
    "signed_scores",
]


def check_scores(
    scores: Any, n: int, nan_policy: str = "raise", *, can_rank_nan: bool = True
) -> np.ndarray:
    """Validate a score array: float, shape ``(n,)``, NaN handled by ``nan_policy``.

    With ``nan_policy="worst"`` NaN scores are returned as NaN and ranked last by
    the loop; with ``"raise"`` (the default) they raise, and the message suggests
    ``nan_policy="worst"`` when ``can_rank_nan`` (not for importance sampling, where a
    NaN cannot be counted as a miss without bias).

    Raises
    ------
    InvalidScoreError
        Wrong shape, complex, text or other non-numeric values, or NaN under
        ``nan_policy="raise"``.
    """
    kind = _score_kind(scores)
    if kind is not None:
        raise InvalidScoreError(f"scores must be real numeric values, got {kind}")
    try:
        s = np.asarray(scores, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidScoreError(f"scores must be numeric, got {type(scores).__name__}") from exc
    if s.shape != (n,):
        raise InvalidScoreError(
            f"the score function must return an array of shape ({n},) for {n} samples, "
            f"got shape {s.shape}"
        )
    nan = np.isnan(s)
    if nan.any() and nan_policy == "raise":
        first = int(np.argmax(nan))
        raise InvalidScoreError(
            f"the score function returned NaN for {int(nan.sum())} of {n} samples "
            f"(first at row {first}); fix the objective"
            + (" or pass nan_policy='worst'" if can_rank_nan else "")
        )
    return s


def _score_kind(scores: Any) -> str | None:
    """What is wrong with the type of a score array (complex, text, ...), or ``None``."""
    a = np.asarray(scores) if not isinstance(scores, np.ndarray) else scores
    if a.dtype.kind in "biuf":
        return None
    if a.dtype.kind == "O":
        bad = [v for v in a.ravel() if not isinstance(v, (int, float, np.integer, np.floating))]
        return None if not bad else f"a {type(bad[0]).__name__} value {bad[0]!r}"
    return {"c": "complex numbers", "U": "strings", "S": "bytes"}.get(
        a.dtype.kind, f"dtype {a.dtype}"
    )


def signed_scores(raw: np.ndarray, sign: float) -> np.ndarray:
    """Scores in the maximization sense, NaN ranked last (``-inf``); a new array."""
    s = sign * raw
    s[np.isnan(s)] = -np.inf
    return s


def elite_threshold(s: np.ndarray, n_elite: int) -> float:
    """The ``n_elite``-th largest value of ``s`` (:math:`\\gamma_t` in the maximization sense)."""
    k = s.shape[0] - n_elite
    return float(np.partition(s, k)[k])


def level_threshold(s: np.ndarray, n_elite: int, cap: float, previous: float | None) -> float:
    r"""The level :math:`\gamma_t = \min(\gamma, \hat q_{1-\rho})` of multilevel CE, made
    to progress.

    ``s`` are all the iteration's scores in the maximization sense, ``cap`` the final
    level :math:`\gamma`, ``previous`` the last level (``None`` at the first). With
    discrete scores the :math:`(1 - \rho)` quantile can equal the previous level (or, at
    the first level, the smallest score, so that every sample is elite) for many levels in
    a row. Then :math:`\gamma_t` is raised to the smallest observed score above it, the
    adaptive remedy of Rubinstein & Kroese (2004, Sec. 3.5, modified Algorithm 3.4.1 with
    a smaller :math:`\rho` whenever the level stalls).

    References
    ----------
    .. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004.
    """
    ordered = np.sort(s)
    g = float(ordered[s.size - n_elite])
    floor = float(ordered[0]) if previous is None else previous
    if g <= floor:
        above = ordered[ordered > floor]
        if above.size:
            g = float(above[0])
    return min(cap, g)


def _kept_rows(s: np.ndarray, n_elite: int, cap: float = np.inf) -> np.ndarray | None:
    """Rows of one batch that may belong to the elite (``None``: all of them)."""
    if s.shape[0] <= n_elite:
        return None
    keep = s >= min(elite_threshold(s, n_elite), cap)
    return None if keep.all() else np.flatnonzero(keep)


def _elite_batch(
    score: Callable[[np.ndarray], Any],
    family: Any,
    n: int,
    rng: np.random.Generator,
    n_elite: int,
    sign: float,
    cap: float = np.inf,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """One batch: its raw scores, and the rows (with their indices) that may be elite."""
    X = family.sample(n, rng)
    raw = check_scores(score(X), n, "worst")
    rows = _kept_rows(signed_scores(raw, sign), n_elite, cap)
    return raw, rows, X if rows is None else X[rows]


class EliteCandidates:
    r"""Rows that may still belong to the elite, pruned as batches arrive in order.

    Parameters
    ----------
    n_elite : int
        The elite size :math:`N_e`.
    cap : float, optional
        Rows scoring at least ``cap`` are always kept: the elite of a level capped at
        :math:`\gamma` (:func:`level_threshold`) holds every one of them.
    """

    def __init__(self, n_elite: int, cap: float = np.inf) -> None:
        self.n_elite, self.cap = n_elite, cap
        self.rows: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []
        self.count = 0
        self.floor = -np.inf  # a lower bound of gamma_t

    def add(self, X: np.ndarray, s: np.ndarray) -> None:
        """Add the next batch's kept rows ``X`` with their signed scores ``s``."""
        if self.floor > -np.inf:
            keep = s >= self.floor
            if not keep.all():
                X, s = X[keep], s[keep]
        self.rows.append(X)
        self.scores.append(s)
        self.count += s.shape[0]
        if self.count > self.n_elite + max(self.n_elite // 4, 1):
            self._prune()

    def _prune(self) -> None:
        self.floor = min(elite_threshold(np.concatenate(self.scores), self.n_elite), self.cap)
        for i, s in enumerate(self.scores):
            keep = s >= self.floor
            if not keep.all():
                self.rows[i], self.scores[i] = self.rows[i][keep], s[keep]
        self.count = sum(s.shape[0] for s in self.scores)

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows at or above :math:`\\gamma_t` and their signed scores, in sample order.

        The pieces are copied into one array and released one by one, so the copy
        never holds the elite twice.
        """
        if self.count > self.n_elite:
            self._prune()  # the floor is now gamma_t itself
        if len(self.rows) == 1:
            return self.rows[0], self.scores[0]
        pieces, self.rows = self.rows, []
        X = np.empty((self.count, *pieces[0].shape[1:]), dtype=pieces[0].dtype)
        s = np.concatenate(self.scores)
        start = 0
        while pieces:
            piece = pieces.pop(0)
            X[start : start + piece.shape[0]] = piece
            start += piece.shape[0]
            del piece
        self.rows, self.scores = [X], [s]
        return X, s


def sample_elite(
    runner: BatchRunner,
    family: Any,
    n: int,
    seed: np.random.SeedSequence,
    t: int,
    *,
    n_elite: int,
    sign: float,
    batch_size: int | None = None,
    cap: float = np.inf,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample and score iteration ``t``'s batches, keeping only rows that may be elite.

    Rows scoring at least ``cap`` (maximization sense) are kept whatever their rank.

    Returns
    -------
    raw : ndarray, shape (n,)
        Every sample's score, as the objective returned it (NaN kept).
    X : ndarray
        A superset of the elite's rows, in sample order (every row of a
        small iteration).
    s : ndarray
        Their scores in the maximization sense, NaN as ``-inf``.

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Bernoulli
    >>> runner = BatchRunner(lambda X: X.sum(axis=1))
    >>> raw, X, s = sample_elite(runner, Bernoulli(np.full(50, 0.5)), 10_000,
    ...                          np.random.SeedSequence(1), 1, n_elite=100, sign=1.0)
    >>> raw.shape, X.shape[0] >= 100, bool(np.all(s >= np.sort(raw)[-100]))
    ((10000,), True, True)
    """
    n_elite = min(n_elite, n)
    args = [(runner.score, *a, n_elite, sign, cap)
            for a in batch_args(family, n, seed, t, batch_size)]  # fmt: skip
    raws, kept = [], EliteCandidates(n_elite, cap)
    for raw, rows, X in runner.map(_elite_batch, t, args):
        s = signed_scores(raw, sign)
        kept.add(X, s if rows is None else s[rows])
        raws.append(raw)
    X, s = kept.candidates()
    return (raws[0] if len(raws) == 1 else np.concatenate(raws)), X, s
