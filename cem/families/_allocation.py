"""Sequential allocation family: integer vectors with a fixed total (buffer allocations)."""

from __future__ import annotations

import numpy as np
from scipy.special import entr

from cem._checks import check_int
from cem.errors import ConfigError
from cem.families._base import Family, inverse_cdf, normalized_weights, weighted_cell_frequencies

__all__ = ["SequentialAllocation"]


class SequentialAllocation(Family):
    r"""Allocations :math:`b \in \{0..B\}^{d+1}` with :math:`\sum_i b_i = B`, drawn in order.

    Coordinate ``i < d`` is drawn from its categorical row :math:`p_i` restricted to the
    units still free, :math:`P(b_i = j) = p_{ij} / \sum_{l \le R_i} p_{il}` for
    :math:`j \le R_i = B - \sum_{l < i} b_l`; the last coordinate takes the rest. Every
    sample is feasible, and a degenerate family (each row a point mass on a feasible
    allocation) returns that allocation, so CE can concentrate on the optimum.

    The update is the weighted frequency of each value, as for independent categorical
    coordinates (the buffer-allocation update of Alon et al. 2005); it is the exact
    maximum-likelihood estimate whenever the restriction does not bind, and a close
    surrogate otherwise.

    Parameters
    ----------
    probs : array_like (d, B + 1)
        One row per freely drawn coordinate (the allocation has ``d + 1`` coordinates).
    total : int
        The budget ``B``.

    References
    ----------
    .. [1] G. Alon, D. P. Kroese, T. Raviv, R. Y. Rubinstein, "Application of the
       cross-entropy method to the buffer allocation problem in a simulation-based
       environment", Ann. Oper. Res. 134:137-151, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> fam = SequentialAllocation.uniform(n_parts=3, total=4)
    >>> X = fam.sample(5, np.random.default_rng(0))
    >>> X.sum(axis=1).tolist()
    [4, 4, 4, 4, 4]
    """

    def __init__(self, probs: np.ndarray, total: int) -> None:
        P = np.array(probs, dtype=float)
        total = check_int("total", total, 0)
        if P.ndim != 2 or P.shape[0] < 1 or P.shape[1] != total + 1:
            raise ConfigError(f"probs must have shape (d, {total + 1}), got {P.shape}")
        if not np.all((P >= 0) & (P <= 1)) or not np.allclose(P.sum(axis=1), 1.0, atol=1e-9):
            raise ConfigError("each row of probs must hold probabilities summing to 1")
        P = P / P.sum(axis=1, keepdims=True)
        P.flags.writeable = False
        self.probs, self.total = P, int(total)

    @classmethod
    def uniform(cls, n_parts: int, total: int) -> SequentialAllocation:
        """Uniform rows for an allocation of ``total`` units into ``n_parts`` parts."""
        if n_parts < 2:
            raise ConfigError(f"an allocation needs at least 2 parts, got {n_parts}")
        return cls(np.full((n_parts - 1, total + 1), 1.0 / (total + 1)), total)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.probs.shape[0] + 1,)

    def params(self) -> dict[str, np.ndarray]:
        return {"probs": self.probs}

    def with_params(self, **params: np.ndarray) -> SequentialAllocation:
        return SequentialAllocation(params["probs"], self.total)

    def _restricted(self, i: int, remaining: np.ndarray) -> np.ndarray:
        allowed = np.arange(self.total + 1)[None, :] <= remaining[:, None]
        w = self.probs[i][None, :] * allowed
        empty = w.sum(axis=1) <= 0
        w[empty] = allowed[empty]  # all mass outside the free units: uniform fallback
        return w / w.sum(axis=1, keepdims=True)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = self.probs.shape[0]
        X = np.zeros((n, d + 1), dtype=np.int64)
        remaining = np.full(n, self.total)
        for i in range(d):
            cdf = np.cumsum(self._restricted(i, remaining), axis=1)
            u = rng.random(n) * cdf[:, -1]
            X[:, i] = inverse_cdf(cdf, u[:, None], 1, remaining)
            remaining -= X[:, i]
        X[:, d] = remaining
        return X

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> SequentialAllocation:
        X = np.asarray(X, dtype=np.int64)
        w = normalized_weights(weights, X.shape[0])
        d, k = self.probs.shape
        cells = np.arange(d) * k + X[:, :d]
        return SequentialAllocation(weighted_cell_frequencies(cells, w, (d, k)), self.total)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.int64)
        rows = np.arange(X.shape[0])
        remaining = np.full(X.shape[0], self.total)
        logp = np.where(X.sum(axis=1) == self.total, 0.0, -np.inf)
        for i in range(self.probs.shape[0]):
            with np.errstate(divide="ignore"):
                logp += np.log(self._restricted(i, remaining)[rows, np.clip(X[:, i], 0, None)])
            remaining = remaining - X[:, i]
        return logp

    def entropy(self) -> float:
        return float(entr(self.probs).sum())

    def mode(self) -> np.ndarray:
        x = np.zeros(self.probs.shape[0] + 1, dtype=np.int64)
        remaining = self.total
        for i in range(self.probs.shape[0]):
            x[i] = int(np.argmax(self.probs[i, : remaining + 1]))
            remaining -= x[i]
        x[-1] = remaining
        return x

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.all(self.probs.max(axis=1) >= 1.0 - tol))
