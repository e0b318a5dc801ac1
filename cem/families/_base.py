"""The :class:`Family` interface shared by every sampling distribution."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from cem.errors import ConfigError

__all__ = ["Family", "inverse_cdf", "normalized_weights", "weighted_cell_frequencies"]


def normalized_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    """Return ``weights / weights.sum()`` as float64, or uniform weights when ``None``.

    Raises
    ------
    ConfigError
        If the weights are not ``n`` finite, nonnegative numbers with a positive sum.
    """
    if n < 1:
        raise ConfigError("fit needs at least one sample, got X with 0 rows")
    if weights is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ConfigError(f"weights must have shape ({n},) to match X, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ConfigError("weights must be finite and nonnegative")
    total = w.sum()
    if total <= 0:
        raise ConfigError("weights must have a positive sum")
    return w / total


def weighted_cell_frequencies(
    cells: np.ndarray, weights: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    r"""The CE update of a table of probabilities: the weighted frequency of each cell.

    Sample :math:`k` uses the cells ``cells[k]`` (flat indices into a ``shape`` table:
    coordinate :math:`i` taking value :math:`j`, or a tour going from :math:`i` to
    :math:`j`), so with normalized weights :math:`w`

    .. math:: \hat P_{ij} = \sum_k w_k \, [\text{sample } k \text{ uses cell } (i, j)].

    Rounding can lift a sum of weights a hair above 1; it is capped at 1.
    """
    m = cells.shape[1]
    counts = np.bincount(
        cells.ravel(), weights=np.repeat(weights, m), minlength=shape[0] * shape[1]
    )
    return np.minimum(counts.reshape(shape), 1.0)


def inverse_cdf(cdf: np.ndarray, u: np.ndarray, axis: int, last: Any) -> np.ndarray:
    r"""Draws by inversion: the number of cumulative sums at or below ``u``, capped at ``last``.

    With running sums :math:`c_0 \le c_1 \le \dots` of (unnormalized) weights and a
    uniform :math:`u` on :math:`[0, c_{\text{end}})`, the draw is
    :math:`\#\{j : c_j \le u\}`, which is :math:`j` with probability proportional to
    weight :math:`j`. ``cdf`` and ``u`` broadcast against each other; ``axis`` is the
    axis of the sums; ``last`` (the largest valid index, an array or a number) guards
    against rounding at the top end.
    """
    return np.minimum((cdf <= u).sum(axis=axis), last)


class Family(ABC):
    r"""A parametric family :math:`f(\cdot; v)` of sampling distributions.

    Families are immutable: :meth:`fit` and :meth:`smooth` return new objects.
    Parameters are numpy arrays listed by :meth:`params`; :meth:`with_params`
    builds a family of the same kind from such a dictionary, which is what
    checkpoints and smoothing use.

    The CE update is the weighted maximum-likelihood fit

    .. math:: v_{t} = \operatorname{argmax}_v \sum_k w_k \log f(X_k; v),

    over the elite samples :math:`X_k` with weights :math:`w_k` (1 in
    optimization, likelihood ratios in rare-event estimation), followed by
    smoothing :math:`v_t \leftarrow \alpha v_t + (1 - \alpha) v_{t-1}`.

    References
    ----------
    .. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial
       on the cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.
    """

    #: Names of the parameters that measure spread (smoothed with ``beta_t``
    #: under the dynamic smoothing rule).
    scale_params: ClassVar[tuple[str, ...]] = ()

    #: Names of parameters that no fit changes (floors such as ``min_mean``): kept by
    #: :meth:`with_params`, left out of :meth:`fitted_params`.
    fixed_params: ClassVar[tuple[str, ...]] = ()

    def fitted_params(self) -> dict[str, np.ndarray]:
        """:meth:`params` without the :attr:`fixed_params`: what a level records."""
        return {k: v for k, v in self.params().items() if k not in self.fixed_params}

    @property
    def fixed_shapes(self) -> bool:
        """Whether :meth:`fit` keeps the shape of every parameter (a mixture that chooses
        its number of components does not: only the leading axis may change)."""
        return True

    # ------------------------------------------------------------------ abstract
    @property
    @abstractmethod
    def event_shape(self) -> tuple[int, ...]:
        """Shape of one sample; :meth:`sample` returns ``(n, *event_shape)``."""

    @abstractmethod
    def params(self) -> dict[str, np.ndarray]:
        """The parameters as a name → array dictionary (copies are not made)."""

    @abstractmethod
    def with_params(self, **params: np.ndarray) -> Family:
        """A family of the same kind and options with the given parameters."""

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` independent samples, an array of shape ``(n, *event_shape)``."""

    @abstractmethod
    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> Family:
        """Weighted maximum-likelihood estimate from samples ``X`` (the CE update)."""

    @abstractmethod
    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        """Log density (or log mass) of each row of ``X``, shape ``(n,)``."""

    @abstractmethod
    def entropy(self) -> float:
        """Shannon entropy in nats (differential entropy for continuous families)."""

    def kl_divergence(self, other: Family) -> float:
        r"""Kullback-Leibler divergence :math:`D(f_p \| f_q)` of this family, :math:`f_p`, from
        ``other``, :math:`f_q`.

        Closed forms (sums over independent coordinates):

        - Bernoulli: :math:`\sum_i p_i \log\frac{p_i}{q_i} + (1-p_i)\log\frac{1-p_i}{1-q_i}`;
        - Categorical: :math:`\sum_i \sum_j p_{ij} \log(p_{ij} / q_{ij})`;
        - Normal: :math:`\sum_i \log\frac{\sigma_{qi}}{\sigma_{pi}}
          + \frac{\sigma_{pi}^2 + (\mu_{pi} - \mu_{qi})^2}{2\sigma_{qi}^2} - \frac12`;
        - FullNormal: :math:`\frac12 [\operatorname{tr}(\Sigma_q^{-1}\Sigma_p)
          + \Delta\mu^\top\Sigma_q^{-1}\Delta\mu - d + \log\frac{\det\Sigma_q}{\det\Sigma_p}]`;
        - Exponential (means :math:`\theta`): :math:`\sum_i \frac{\theta_{pi}}{\theta_{qi}}
          - 1 - \log\frac{\theta_{pi}}{\theta_{qi}}`.

        A family class gives its closed form by overriding :meth:`_kl`; the optimizer records
        the divergence between successive iterations.

        Parameters
        ----------
        other : Family
            A family of the same class and event shape (:math:`f_q`).

        Returns
        -------
        float
            In nats; ``inf`` when :math:`f_p` puts mass where :math:`f_q` has none; NaN
            when the class has no closed form here (mixtures, permutation families,
            truncated normals, ...).

        Raises
        ------
        ConfigError
            Families of different classes or shapes.

        Examples
        --------
        >>> from cem.families import Normal
        >>> Normal([1.0], 1.0).kl_divergence(Normal([0.0], 1.0))  # (mu_p - mu_q)^2 / 2
        0.5
        """
        if type(self) is not type(other) or self.event_shape != other.event_shape:
            raise ConfigError(
                f"KL divergence needs two families of the same kind and shape, got "
                f"{type(self).__name__}{self.event_shape} and "
                f"{type(other).__name__}{other.event_shape}"
            )
        return self._kl(other)

    def _kl(self, other: Family) -> float:
        """The closed form of :meth:`kl_divergence` for ``other`` of this class (NaN: none)."""
        return float("nan")

    @abstractmethod
    def mode(self) -> np.ndarray:
        """The most probable point, shape ``event_shape``."""

    @abstractmethod
    def is_degenerate(self, tol: float = 1e-3) -> bool:
        """Whether the family has (numerically) collapsed onto a single point."""

    # ---------------------------------------------------------------- concrete
    def smooth(self, previous: Family, alpha: float | Mapping[str, float]) -> Family:
        r"""Smoothed parameters :math:`\alpha v_{new} + (1 - \alpha) v_{prev}`.

        Parameters
        ----------
        previous : Family
            The family of the previous iteration (same kind and shape).
        alpha : float or mapping
            Weight of ``self`` (the freshly fitted family) in ``(0, 1]``; a mapping
            gives a weight per parameter name, missing names use ``alpha["*"]``
            (default 1).

        Returns
        -------
        Family
            A family of the same kind. Convex combinations keep probabilities in
            [0, 1] and variances positive.
        """
        if type(previous) is not type(self):
            raise ConfigError(
                f"cannot smooth a {type(self).__name__} with a {type(previous).__name__}"
            )
        new, old = self.params(), previous.params()
        smoothed: dict[str, Any] = {}
        for name, value in new.items():
            a = _alpha_for(alpha, name)
            smoothed[name] = a * value + (1.0 - a) * old[name] if a != 1.0 else value
        return self.with_params(**smoothed)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}{tuple(np.shape(v))}" for k, v in self.params().items())
        return f"{type(self).__name__}({shapes})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Family)
        a, b = self.params(), other.params()
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)

    __hash__ = None  # type: ignore[assignment]


def _alpha_for(alpha: float | Mapping[str, float], name: str) -> float:
    if isinstance(alpha, Mapping):
        return float(alpha.get(name, alpha.get("*", 1.0)))
    return float(alpha)
