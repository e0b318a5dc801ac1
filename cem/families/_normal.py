"""Multivariate normal families: diagonal and full covariance."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cem.errors import ConfigError
from cem.families._base import Family, normalized_weights

__all__ = ["Normal", "FullNormal"]

_LOG_2PI_E = np.log(2.0 * np.pi * np.e)


def _as_vector(name: str, value: ArrayLike, d: int | None = None) -> np.ndarray:
    arr = np.array(value, dtype=float)
    if arr.ndim == 0 and d is not None:
        arr = np.full(d, float(arr))
    if arr.ndim != 1 or arr.size == 0 or (d is not None and arr.size != d):
        want = f"length {d}" if d is not None else "a non-empty 1-D array"
        raise ConfigError(f"{name} must be {want}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be finite")
    return arr


def _check_floor(min_sigma: float) -> float:
    min_sigma = float(min_sigma)
    if not (min_sigma >= 0 and np.isfinite(min_sigma)):
        raise ConfigError(f"min_sigma must be a finite number >= 0, got {min_sigma!r}")
    return min_sigma


def _check_inject(inject: float) -> float:
    inject = float(inject)
    if not (inject >= 0 and np.isfinite(inject)):
        raise ConfigError(f"inject must be a finite number >= 0, got {inject!r}")
    return inject


class Normal(Family):
    r"""Normal family with independent coordinates, :math:`X_i \sim N(\mu_i, \sigma_i^2)`.

    The weighted maximum-likelihood (CE) update is the weighted mean and the
    weighted (biased, ``1/sum w``) standard deviation of the elite,

    .. math:: \hat\mu = \frac{\sum_k w_k X_k}{\sum_k w_k}, \qquad
              \hat\sigma_i^2 = \frac{\sum_k w_k (X_{ki} - \hat\mu_i)^2}{\sum_k w_k},

    after which :math:`\sigma_i` is raised to ``min_sigma`` if it falls below it.

    Parameters
    ----------
    mean : array_like, shape (d,)
    sigma : array_like or float
        Standard deviations, > 0 (a scalar is broadcast to ``d`` coordinates).
    min_sigma : float, default 0.0
        Floor applied to the standard deviations after each fit; a positive floor
        keeps the search alive on noisy objectives.
    learn_sigma : bool, default True
        When False, :meth:`fit` updates the mean only (a mean-shift family). That is
        the CE family of choice for rare events in standard normal space: fitting the
        variance to a thin tail region gives a light-tailed importance density whose
        likelihood ratios have infinite variance.
    inject : float, default 0.0
        Weight :math:`c` of the mean-shift injection: :meth:`fit` adds
        :math:`c\,\delta_i^2`, with :math:`\delta = \hat\mu - \mu` the move of the
        mean from this family's, to :math:`\hat\sigma_i^2`. With :math:`c = 1` this is
        the elite's spread about the previous mean (as in the rank-:math:`\mu` update of
        CMA-ES [2]_): while the mean travels, the variance cannot collapse; once it
        settles, :math:`\delta \to 0` and the plain CE update is recovered.

    Notes
    -----
    Under the dynamic smoothing rule of [1]_ the loop smooths ``sigma`` with
    :math:`\beta_t = \beta - \beta (1 - 1/t)^q` instead of ``alpha``
    (``scale_params = ("sigma",)``), which prevents premature collapse.

    References
    ----------
    .. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
       cross-entropy method", Ann. Oper. Res. 134:19-67, 2005, Sec. 3.4 and 4.
    .. [2] N. Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772, 2016,
       Sec. 3.2 (estimating the covariance about the previous mean, versus EMNA).

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Normal
    >>> Normal([0.0, 1.0], 2.0).fit(np.array([[1.0, 1.0], [3.0, 1.0]])).sigma
    array([1., 0.])
    """

    scale_params = ("sigma",)

    def __init__(
        self,
        mean: ArrayLike,
        sigma: ArrayLike,
        min_sigma: float = 0.0,
        learn_sigma: bool = True,
        inject: float = 0.0,
    ):
        self.learn_sigma = bool(learn_sigma)
        self.inject = _check_inject(inject)
        mu = _as_vector("Normal mean", mean)
        sd = _as_vector("Normal sigma", sigma, mu.size)
        self.min_sigma = _check_floor(min_sigma)
        if np.any(sd < 0):
            raise ConfigError("Normal sigma must be >= 0")
        sd = np.maximum(sd, self.min_sigma)
        mu.flags.writeable = False
        sd.flags.writeable = False
        self.mean, self.sigma = mu, sd

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.mean.shape

    def params(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "sigma": self.sigma}

    def with_params(self, **params: np.ndarray) -> Normal:
        return Normal(
            params["mean"], params["sigma"], self.min_sigma, self.learn_sigma, self.inject
        )

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.mean + self.sigma * rng.standard_normal((n, self.mean.size))

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> Normal:
        X = np.asarray(X, dtype=float)
        w = normalized_weights(weights, X.shape[0])
        mean = w @ X
        if not self.learn_sigma:
            sigma = self.sigma
        elif self.inject:
            shift = mean - self.mean
            sigma = np.sqrt(w @ (X - mean) ** 2 + self.inject * shift**2)
        else:
            sigma = np.sqrt(w @ (X - mean) ** 2)
        return self.with_params(mean=mean, sigma=sigma)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        z = (np.asarray(X, dtype=float) - self.mean) / self.sigma
        return (
            -0.5 * np.sum(z**2, axis=1)
            - np.sum(np.log(self.sigma))
            - 0.5 * self.mean.size * np.log(2 * np.pi)
        )

    def _kl(self, q: Family) -> float:
        r""":math:`\sum_i \log(\sigma_{qi}/\sigma_{pi}) + (\sigma_{pi}^2 + \Delta\mu_i^2)
        / (2 \sigma_{qi}^2) - 1/2`; two equal point masses are at divergence 0."""
        p = self
        assert isinstance(q, type(p))
        sp, sq, dm = p.sigma, q.sigma, p.mean - q.mean
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.log(sq / sp) + (sp**2 + dm**2) / (2.0 * sq**2) - 0.5
        points = (sp == 0) & (sq == 0)
        terms = np.where(points, np.where(dm == 0, 0.0, np.inf), terms)
        terms = np.where(~points & ((sp == 0) | (sq == 0)), np.inf, terms)
        return float(np.sum(terms))

    def entropy(self) -> float:
        with np.errstate(divide="ignore"):
            return float(0.5 * self.mean.size * _LOG_2PI_E + np.sum(np.log(self.sigma)))

    def mode(self) -> np.ndarray:
        return self.mean.copy()

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.max(self.sigma) <= tol)


class FullNormal(Family):
    r"""Multivariate normal family with a full covariance matrix, :math:`N(\mu, \Sigma)`.

    .. math:: \hat\mu = \frac{\sum_k w_k X_k}{\sum_k w_k}, \qquad
              \hat\Sigma = \frac{\sum_k w_k (X_k - \hat\mu)(X_k - \hat\mu)^\top}{\sum_k w_k}.

    The eigenvalues of :math:`\hat\Sigma` are raised to ``min_sigma**2`` when they fall
    below it, so the covariance stays positive semi-definite (definite if the floor
    is positive).

    Parameters
    ----------
    mean : array_like, shape (d,)
    cov : array_like, shape (d, d) or float
        Symmetric positive semi-definite covariance; a scalar means ``cov * I``.
    min_sigma : float, default 0.0
        Floor on the standard deviation along every principal axis.
    inject : float, default 0.0
        Weight :math:`c` of the mean-shift injection: :meth:`fit` adds
        :math:`c\,\delta\delta^\top` (:math:`\delta = \hat\mu - \mu`) to
        :math:`\hat\Sigma`; :math:`c = 1` gives the elite's scatter about the previous
        mean, which stretches the covariance along the direction of progress [2]_.

    References
    ----------
    .. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004,
       Sec. 5.
    .. [2] N. Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772, 2016,
       Sec. 3.2.

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import FullNormal
    >>> FullNormal(np.zeros(2), 1.0).fit(np.array([[1.0, 1.0], [-1.0, -1.0]])).cov
    array([[1., 1.],
           [1., 1.]])
    """

    scale_params = ("cov",)

    def __init__(
        self,
        mean: ArrayLike,
        cov: ArrayLike,
        min_sigma: float = 0.0,
        inject: float = 0.0,
    ):
        self.inject = _check_inject(inject)
        mu = _as_vector("FullNormal mean", mean)
        d = mu.size
        C = np.array(cov, dtype=float)
        if C.ndim == 0:
            C = C * np.eye(d)
        if C.shape != (d, d) or not np.all(np.isfinite(C)):
            raise ConfigError(f"FullNormal cov must be a finite ({d}, {d}) matrix, got {C.shape}")
        if not np.allclose(C, C.T, rtol=1e-10, atol=1e-14 * max(1.0, np.abs(C).max())):
            raise ConfigError("FullNormal cov must be symmetric")
        self.min_sigma = _check_floor(min_sigma)
        C = 0.5 * (C + C.T)
        eigval, eigvec = np.linalg.eigh(C)
        if eigval.min() < -1e-10 * max(1.0, eigval.max()):
            raise ConfigError("FullNormal cov must be positive semi-definite")
        floor = self.min_sigma**2
        if eigval.min() < floor:
            eigval = np.maximum(eigval, floor)
            C = (eigvec * eigval) @ eigvec.T
        eigval = np.maximum(eigval, 0.0)
        self._factor = eigvec * np.sqrt(eigval)  # cov = factor @ factor.T
        self._eigval, self._eigvec = eigval, eigvec
        mu.flags.writeable = False
        C.flags.writeable = False
        self.mean, self.cov = mu, C

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.mean.shape

    def params(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "cov": self.cov}

    def with_params(self, **params: np.ndarray) -> FullNormal:
        return FullNormal(params["mean"], params["cov"], self.min_sigma, self.inject)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.mean + rng.standard_normal((n, self.mean.size)) @ self._factor.T

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> FullNormal:
        X = np.asarray(X, dtype=float)
        w = normalized_weights(weights, X.shape[0])
        mean = w @ X
        centred = X - mean
        cov = centred.T @ (w[:, None] * centred)
        if self.inject:
            shift = mean - self.mean
            cov = cov + self.inject * np.outer(shift, shift)
        return FullNormal(mean, cov, self.min_sigma, self.inject)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        z = (np.asarray(X, dtype=float) - self.mean) @ self._eigvec
        with np.errstate(divide="ignore"):
            log_det = np.sum(np.log(self._eigval))
            quad = np.sum(z**2 / self._eigval, axis=1)
        return -0.5 * (quad + log_det + self.mean.size * np.log(2 * np.pi))

    def _kl(self, q: Family) -> float:
        r""":math:`\frac12 [\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) + \Delta\mu^\top \Sigma_q^{-1}
        \Delta\mu - d + \log\det\Sigma_q - \log\det\Sigma_p]`; with a singular covariance
        the divergence is 0 for equal families, infinite when only one of them is
        singular, and NaN (not evaluated) when both are."""
        p = self
        assert isinstance(q, type(p))
        if p == q:
            return 0.0
        vp = np.linalg.eigvalsh(p.cov)
        vq, U = np.linalg.eigh(q.cov)
        singular_p, singular_q = vp.min() <= 0, vq.min() <= 0
        if singular_p or singular_q:
            return float("nan") if singular_p and singular_q else float("inf")
        A = U.T @ p.cov @ U  # Sigma_p in the eigenbasis of Sigma_q
        z = U.T @ (p.mean - q.mean)
        quad = np.sum(np.diag(A) / vq) + np.sum(z**2 / vq)
        return float(0.5 * (quad - p.mean.size + np.sum(np.log(vq)) - np.sum(np.log(vp))))

    def entropy(self) -> float:
        with np.errstate(divide="ignore"):
            return float(0.5 * (self.mean.size * _LOG_2PI_E + np.sum(np.log(self._eigval))))

    def mode(self) -> np.ndarray:
        return self.mean.copy()

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.sqrt(self._eigval.max()) <= tol)
