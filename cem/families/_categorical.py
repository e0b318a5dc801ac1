"""Independent categorical family for vectors of discrete choices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import entr, rel_entr

from cem.errors import ConfigError
from cem.families._base import Family, inverse_cdf, normalized_weights, weighted_cell_frequencies

__all__ = ["Categorical"]


class Categorical(Family):
    r"""Independent categorical coordinates, :math:`P(X_i = j) = p_{ij}`.

    Coordinate ``i`` takes values ``0 .. K_i - 1``; the numbers of categories
    ``K_i`` may differ. Probabilities are stored as a ``(d, max K_i)`` array padded
    with zeros.

    .. math:: f(x; p) = \prod_i p_{i, x_i}, \qquad
              \hat p_{ij} = \frac{\sum_k w_k [X_{ki} = j]}{\sum_k w_k}.

    Parameters
    ----------
    probs : array_like of shape (d, K) or sequence of 1-D arrays
        Row ``i`` gives the probabilities of coordinate ``i``; each row sums to 1.
    n_categories : array_like of int, optional
        ``K_i`` for each coordinate when ``probs`` is a padded 2-D array; inferred
        from a ragged sequence, or ``K`` for every coordinate.

    References
    ----------
    .. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004,
       Sec. 4.

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Categorical
    >>> fam = Categorical.uniform([2, 3])
    >>> fam.probs
    array([[0.5       , 0.5       , 0.        ],
           [0.33333333, 0.33333333, 0.33333333]])
    >>> fam.fit(np.array([[1, 2], [1, 0]])).probs
    array([[0. , 1. , 0. ],
           [0.5, 0. , 0.5]])
    """

    def __init__(
        self,
        probs: np.ndarray | Sequence[Sequence[float]],
        n_categories: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        if (isinstance(probs, np.ndarray) and probs.ndim == 2) or n_categories is not None:
            P = np.array(probs, dtype=float)
            if P.ndim != 2:
                raise ConfigError(f"Categorical probs must be 2-D, got shape {P.shape}")
            K = np.full(P.shape[0], P.shape[1]) if n_categories is None else n_categories
            K = np.asarray(K, dtype=np.int64)
        else:
            rows = [np.asarray(r, dtype=float).ravel() for r in probs]
            K = np.array([r.size for r in rows], dtype=np.int64)
            P = np.zeros((len(rows), int(K.max()) if len(rows) else 0))
            for i, r in enumerate(rows):
                P[i, : r.size] = r
        if P.shape[0] == 0 or K.shape != (P.shape[0],) or np.any(K < 1) or K.max() > P.shape[1]:
            raise ConfigError(
                "Categorical needs at least one coordinate and n_categories in 1..probs.shape[1]"
                f" per coordinate, got probs {P.shape} and n_categories {K.tolist()}"
            )
        padded = np.arange(P.shape[1]) >= K[:, None]
        if not np.all((P >= 0) & (P <= 1)) or np.any(P[padded] != 0):
            raise ConfigError("Categorical probs must lie in [0, 1] and be 0 beyond n_categories")
        if not np.allclose(P.sum(axis=1), 1.0, atol=1e-9):
            bad = int(np.argmax(np.abs(P.sum(axis=1) - 1.0)))
            raise ConfigError(f"Categorical probs row {bad} sums to {P[bad].sum()!r}, not 1")
        P = P / P.sum(axis=1, keepdims=True)
        P.flags.writeable = False
        K.flags.writeable = False
        self.probs = P
        self.n_categories = K

    @classmethod
    def uniform(cls, n_categories: Sequence[int] | np.ndarray) -> Categorical:
        """Uniform probabilities over ``K_i`` categories for each coordinate."""
        K = np.asarray(n_categories, dtype=np.int64)
        if K.ndim != 1 or K.size == 0 or np.any(K < 1):
            raise ConfigError(f"n_categories must be positive integers, got {n_categories!r}")
        P = (np.arange(K.max()) < K[:, None]) / K[:, None]
        return cls(P, K)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.probs.shape[0],)

    def params(self) -> dict[str, np.ndarray]:
        return {"probs": self.probs}

    def with_params(self, **params: np.ndarray) -> Categorical:
        return Categorical(params["probs"], self.n_categories)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        cdf = np.cumsum(self.probs, axis=1)
        u = rng.random((n, self.probs.shape[0], 1))
        return inverse_cdf(cdf[None, :, :], u, 2, self.n_categories - 1)

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> Categorical:
        X = np.asarray(X)
        w = normalized_weights(weights, X.shape[0])
        d, k = self.probs.shape
        if X.ndim != 2 or X.shape[1] != d:
            raise ConfigError(f"Categorical.fit expects X of shape (n, {d}), got {X.shape}")
        cells = np.arange(d) * k + X
        return Categorical(weighted_cell_frequencies(cells, w, (d, k)), self.n_categories)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.int64)
        with np.errstate(divide="ignore"):
            logp = np.log(self.probs)
        return logp[np.arange(self.probs.shape[0]), X].sum(axis=1)

    def _kl(self, q: Family) -> float:
        p = self
        assert isinstance(q, type(p))
        if not np.array_equal(p.n_categories, q.n_categories):
            raise ConfigError(
                f"KL divergence needs the same categories, got {p.n_categories.tolist()} and "
                f"{q.n_categories.tolist()}"
            )
        return float(np.sum(rel_entr(p.probs, q.probs)))

    def entropy(self) -> float:
        return float(entr(self.probs).sum())

    def mode(self) -> np.ndarray:
        return np.argmax(self.probs, axis=1)

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.all(self.probs.max(axis=1) >= 1.0 - tol))
