"""Independent Bernoulli family for binary vectors."""

from __future__ import annotations

import numpy as np
from scipy.special import entr, rel_entr

from cem.errors import ConfigError
from cem.families._base import Family, normalized_weights

__all__ = ["Bernoulli"]


class Bernoulli(Family):
    r"""Independent Bernoulli coordinates, :math:`X_i \sim \mathrm{Ber}(p_i)`.

    .. math:: f(x; p) = \prod_{i=1}^d p_i^{x_i} (1 - p_i)^{1 - x_i}

    The weighted maximum-likelihood (CE) update is the weighted frequency of ones,

    .. math:: \hat p_i = \frac{\sum_k w_k X_{ki}}{\sum_k w_k}.

    Parameters
    ----------
    p : array_like, shape (d,)
        Success probabilities in [0, 1]. A coordinate with ``p_i`` in {0, 1} is fixed
        (the max-cut tutorial fixes node 1 this way).
    min_p, max_p : float, default 0 and 1
        Floor and ceiling of every fitted probability: :meth:`fit` returns
        :math:`\min(\max(\hat p_i, p_{\min}), p_{\max})`. With ``0 < min_p`` and
        ``max_p < 1`` no coordinate can collapse to a point mass, which keeps the
        likelihood ratios of importance sampling bounded (a fitted 0 where the nominal
        is positive makes the estimator miss part of the event).

    Notes
    -----
    Samples are float64 arrays of zeros and ones, so that linear-algebra scores
    (``X @ C``) run through BLAS without overflow.

    References
    ----------
    .. [1] R. Y. Rubinstein, "The cross-entropy method for combinatorial and continuous
       optimization", Methodol. Comput. Appl. Probab. 1:127-190, 1999.

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Bernoulli
    >>> fam = Bernoulli(np.full(3, 0.5))
    >>> X = fam.sample(4, np.random.default_rng(0))
    >>> X.shape
    (4, 3)
    >>> Bernoulli([0.5, 0.5]).fit(np.array([[1.0, 0.0], [1.0, 1.0]])).p
    array([1. , 0.5])
    """

    def __init__(self, p: np.ndarray, min_p: float = 0.0, max_p: float = 1.0) -> None:
        p = np.array(p, dtype=float)
        if p.ndim != 1 or p.size == 0:
            raise ConfigError(f"Bernoulli p must be a non-empty 1-D array, got shape {p.shape}")
        if not np.all((p >= 0.0) & (p <= 1.0)):
            raise ConfigError("Bernoulli p must lie in [0, 1] (NaN is not accepted)")
        if not 0.0 <= min_p <= max_p <= 1.0:
            raise ConfigError(
                f"Bernoulli bounds must satisfy 0 <= min_p <= max_p <= 1, got "
                f"min_p={min_p!r}, max_p={max_p!r}"
            )
        p.flags.writeable = False
        self.p = p
        self.min_p, self.max_p = float(min_p), float(max_p)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.p.shape

    def params(self) -> dict[str, np.ndarray]:
        return {"p": self.p}

    def with_params(self, **params: np.ndarray) -> Bernoulli:
        return Bernoulli(params["p"], self.min_p, self.max_p)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return (rng.random((n, self.p.size)) < self.p).astype(float)

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> Bernoulli:
        X = np.asarray(X, dtype=float)
        w = normalized_weights(weights, X.shape[0])
        return self.with_params(p=np.clip(w @ X, self.min_p, self.max_p))

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        with np.errstate(divide="ignore"):
            log_p, log_q = np.log(self.p), np.log1p(-self.p)
        return np.where(X > 0.5, log_p, log_q).sum(axis=1)

    def _kl(self, q: Family) -> float:
        p = self
        assert isinstance(q, type(p))
        return float(np.sum(rel_entr(p.p, q.p) + rel_entr(1.0 - p.p, 1.0 - q.p)))

    def entropy(self) -> float:
        return float(np.sum(entr(self.p) + entr(1.0 - self.p)))

    def mode(self) -> np.ndarray:
        return (self.p > 0.5).astype(float)

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.all(np.minimum(self.p, 1.0 - self.p) <= tol))
