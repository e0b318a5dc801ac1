r"""Standard continuous test functions for the Normal families.

Every function is vectorized over a batch ``(N, d) -> (N,)``.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005, Sec. 3.4 (bimodal example).
.. [2] H. H. Rosenbrock, "An automatic method for finding the greatest or least value
   of a function", Comput. J. 3(3):175-184, 1960.
.. [3] L. A. Rastrigin, *Systems of extremal control*, Nauka, 1974.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import brentq

from cem.errors import ConfigError
from cem.families import Family, FullNormal, Normal, NormalMixture, TruncatedNormal
from cem.problem import Problem
from cem.toolkit import ITERATION_COPIES, MIN_BATCH, check_int, require

__all__ = ["Bimodal", "Sphere", "Rosenbrock", "Rastrigin"]


def _start(dim: int, mean: float | Sequence[float], sigma: float, full: bool) -> Family:
    require(f"dim={dim}", 8.0 * (dim * dim if full else 2 * dim))
    mu = np.broadcast_to(np.asarray(mean, dtype=float), (dim,)).copy()
    return FullNormal(mu, sigma**2) if full else Normal(mu, sigma)


def _check_dim(dim: int) -> int:
    """``dim``, refused (naming it) when the problem and one smallest batch of samples
    (:data:`cem._parallel.MIN_BATCH` rows, :data:`cem._memory.ITERATION_COPIES` copies) would
    not fit in memory: no run of that dimension could then take a single step."""
    check_int("dim", dim, 1)
    require(f"[problem] dim={dim}", 8.0 * dim * (3 + MIN_BATCH * ITERATION_COPIES))
    return dim


def _as_batch(X: np.ndarray, dim: int) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != dim:
        raise ConfigError(f"expected X of shape (N, {dim}), got {X.shape}")
    return X


#: The families whose samples are real vectors.
CONTINUOUS_FAMILIES = (Normal, FullNormal, TruncatedNormal, NormalMixture)


class _Continuous(Problem):
    """A continuous test function: the ``method="auto"`` preset by default."""

    family_types = CONTINUOUS_FAMILIES
    score_label = "S(x)"

    def default_options(self) -> dict[str, Any]:
        """``method="auto"``: sample size, elite and smoothing from the dimension
        (:mod:`cem._presets`), unless the user sets them."""
        return {"method": "auto"}


class Bimodal(_Continuous):
    r"""The CE tutorial's 1-D bimodal function (maximize).

    .. math:: S(x) = e^{-(x-2)^2} + 0.8\, e^{-(x+2)^2}

    The global maximum is near :math:`x = 2` (:math:`S \approx 1`); a local one is near
    :math:`x = -2`. The default start :math:`N(-6, 10^2)` lies beyond the local bump.
    """

    sense = "max"
    #: The global maximizer, the root of :math:`S'` near 2 (about :math:`2 - 3.6 \cdot 10^{-7}`).
    maximizer = float(
        brentq(
            lambda x: (x - 2) * np.exp(-((x - 2) ** 2)) + 0.8 * (x + 2) * np.exp(-((x + 2) ** 2)),
            1.5,
            2.5,
            xtol=1e-15,
        )
    )
    known_optimum = float(np.exp(-((maximizer - 2) ** 2)) + 0.8 * np.exp(-((maximizer + 2) ** 2)))

    def __init__(self, mean: float = -6.0, sigma: float = 10.0) -> None:
        self.mean, self.sigma = mean, sigma

    def score(self, X: np.ndarray) -> np.ndarray:
        x = _as_batch(X, 1)[:, 0]
        return np.exp(-((x - 2) ** 2)) + 0.8 * np.exp(-((x + 2) ** 2))

    def initial_family(self) -> Normal:
        return Normal([self.mean], [self.sigma])


class Sphere(_Continuous):
    r"""Shifted sphere :math:`S(x) = \sum_i (x_i - c_i)^2` (minimize; optimum 0 at ``c``)."""

    sense = "min"
    known_optimum = 0.0

    def __init__(
        self,
        dim: int = 5,
        shift: float | Sequence[float] = 1.0,
        mean: float = 0.0,
        sigma: float = 10.0,
        full_covariance: bool = False,
    ) -> None:
        self.dim = _check_dim(dim)
        self.shift = np.broadcast_to(np.asarray(shift, dtype=float), (dim,)).copy()
        self.family = _start(dim, mean, sigma, full_covariance)

    def score(self, X: np.ndarray) -> np.ndarray:
        return np.sum((_as_batch(X, self.dim) - self.shift) ** 2, axis=1)

    def initial_family(self) -> Family:
        return self.family


class Rosenbrock(_Continuous):
    r"""Rosenbrock's valley (minimize; optimum 0 at :math:`x = 1`).

    .. math:: S(x) = \sum_{i=1}^{d-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
    """

    sense = "min"
    known_optimum = 0.0

    def __init__(
        self, dim: int = 2, mean: float = 0.0, sigma: float = 2.0, full_covariance: bool = True
    ) -> None:
        self.dim = _check_dim(dim)
        if dim < 2:
            raise ConfigError(f"Rosenbrock needs dim >= 2, got {dim}")
        self.family = _start(dim, mean, sigma, full_covariance)

    def score(self, X: np.ndarray) -> np.ndarray:
        X = _as_batch(X, self.dim)
        a, b = X[:, :-1], X[:, 1:]
        return np.sum(100.0 * (b - a**2) ** 2 + (1.0 - a) ** 2, axis=1)

    def initial_family(self) -> Family:
        return self.family


class Rastrigin(_Continuous):
    r"""Rastrigin's function (minimize; optimum 0 at the origin, many local minima).

    .. math:: S(x) = 10 d + \sum_i \left(x_i^2 - 10 \cos(2 \pi x_i)\right)
    """

    sense = "min"
    known_optimum = 0.0

    def __init__(self, dim: int = 5, mean: float = 3.0, sigma: float = 5.0) -> None:
        self.dim = _check_dim(dim)
        self.family = _start(dim, mean, sigma, False)

    def score(self, X: np.ndarray) -> np.ndarray:
        X = _as_batch(X, self.dim)
        return 10.0 * self.dim + np.sum(X**2 - 10.0 * np.cos(2 * np.pi * X), axis=1)

    def initial_family(self) -> Family:
        return self.family
