r"""Normal family truncated to a box, for continuous problems with bounds."""

from __future__ import annotations

import numpy as np
from scipy import stats

from cem.errors import ConfigError
from cem.families._base import Family
from cem.families._normal import Normal

__all__ = ["TruncatedNormal"]


class TruncatedNormal(Normal):
    r"""Independent normals truncated to the box :math:`[l_i, u_i]`.

    Coordinate :math:`i` has density

    .. math:: f(x_i) = \frac{\varphi((x_i - \mu_i)/\sigma_i)}
              {\sigma_i \, [\Phi((u_i - \mu_i)/\sigma_i) - \Phi((l_i - \mu_i)/\sigma_i)]},
              \qquad l_i \le x_i \le u_i,

    so every sample is feasible and no score is spent on points outside the bounds.

    The CE update sets :math:`(\mu, \sigma)` to the weighted mean and standard deviation
    of the elite, as for :class:`Normal` (the update used for box-constrained problems in
    [1]_). It is moment matching, not the truncated-normal maximum-likelihood estimate,
    which has no closed form; the two agree as :math:`\sigma` shrinks away from the
    bounds, and the update keeps :math:`\mu` inside the box (a mean of feasible points).

    Parameters
    ----------
    mean, sigma : array_like
        Location and scale of the untruncated normal (``sigma`` > 0 for sampling; a
        scalar is broadcast).
    low, high : array_like or float
        Bounds, ``low < high`` in every coordinate (infinite bounds are allowed).
    min_sigma : float, default 0.0
        Floor on ``sigma`` after each fit.

    References
    ----------
    .. [1] D. P. Kroese, S. Porotsky, R. Y. Rubinstein, "The cross-entropy method for
       continuous multi-extremal optimization", Methodol. Comput. Appl. Probab.
       8:383-407, 2006.

    Examples
    --------
    >>> import numpy as np
    >>> fam = TruncatedNormal([0.5, 0.5], 1.0, low=0.0, high=1.0)
    >>> X = fam.sample(1000, np.random.default_rng(0))
    >>> bool(X.min() >= 0.0 and X.max() <= 1.0)
    True
    """

    def __init__(
        self,
        mean: np.ndarray,
        sigma: np.ndarray | float,
        low: np.ndarray | float,
        high: np.ndarray | float,
        min_sigma: float = 0.0,
    ) -> None:
        super().__init__(mean, sigma, min_sigma)
        d = self.mean.size
        lo = np.broadcast_to(np.asarray(low, dtype=float), (d,)).copy()
        hi = np.broadcast_to(np.asarray(high, dtype=float), (d,)).copy()
        if np.isnan(lo).any() or np.isnan(hi).any() or not np.all(lo < hi):
            raise ConfigError(
                f"TruncatedNormal bounds must satisfy low < high in every coordinate, "
                f"got low={lo.tolist()}, high={hi.tolist()}"
            )
        lo.flags.writeable = False
        hi.flags.writeable = False
        self.low, self.high = lo, hi

    def with_params(self, **params: np.ndarray) -> TruncatedNormal:
        return TruncatedNormal(params["mean"], params["sigma"], self.low, self.high, self.min_sigma)

    def _standardized_bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = np.where(self.sigma > 0, self.sigma, 1.0)
        return (self.low - self.mean) / scale, (self.high - self.mean) / scale, scale

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        a, b, scale = self._standardized_bounds()
        draws = stats.truncnorm.rvs(
            a, b, loc=self.mean, scale=scale, size=(n, self.mean.size), random_state=rng
        )
        # a coordinate with sigma = 0 is the point mean, clipped into the box
        return np.where(self.sigma > 0, draws, np.clip(self.mean, self.low, self.high))

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> TruncatedNormal:
        return self.with_params(**Normal.fit(self, X, weights).params())

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        """Exact log density (``-inf`` outside the box); needs ``sigma > 0``."""
        a, b, scale = self._standardized_bounds()
        X = np.asarray(X, dtype=float)
        return stats.truncnorm.logpdf(X, a, b, loc=self.mean, scale=scale).sum(axis=1)

    def _kl(self, other: Family) -> float:
        """No closed form here (the truncation changes the normal's density)."""
        return float("nan")

    def entropy(self) -> float:
        a, b, scale = self._standardized_bounds()
        h = stats.truncnorm.entropy(a, b, loc=self.mean, scale=scale)
        return float(np.sum(np.where(self.sigma > 0, h, -np.inf)))

    def mode(self) -> np.ndarray:
        return np.clip(self.mean, self.low, self.high)
