"""Mixture of diagonal normal distributions, for events with several failure regions."""

from __future__ import annotations

import copy
import math

import numpy as np
from scipy.special import logsumexp

from cem.errors import ConfigError
from cem.families._base import Family, inverse_cdf, normalized_weights

__all__ = ["DefensiveMixture", "NormalMixture"]


class NormalMixture(Family):
    r"""Mixture of ``K`` normal components with diagonal covariances.

    .. math:: f(x) = \sum_{c=1}^K \pi_c \prod_i \phi\!\left(\frac{x_i - \mu_{ci}}
              {\sigma_{ci}}\right) \frac{1}{\sigma_{ci}}

    The CE update maximizes the weighted log-likelihood with the EM algorithm
    (``em_iterations`` steps), started deterministically from the weighted elite by
    farthest-point selection of ``K`` centres, so that a run stays reproducible. A
    single normal family fitted to elite samples from two separate failure regions
    lands between them and starves one region; the mixture keeps one component on
    each (Kurtz & Song 2013; Geyer, Papaioannou & Straub 2019).

    Parameters
    ----------
    weights : array_like (K,)
    means : array_like (K, d)
    sigmas : array_like (K, d)
    min_sigma : float, default 1e-3
        Floor on every standard deviation.
    em_iterations : int, default 50
    learn_sigma : bool, default True
        When False the EM updates weights and means only and every component keeps
        the standard deviations of the first one (a mixture of mean shifts, the sound
        choice in standard normal space; see :class:`~cem.families.Normal`).
    max_components : int, optional
        Choose the number of components at each fit: EM is run for
        :math:`K = 1, 2, \dots` up to :math:`K_{\max}`, and the search stops at the first
        :math:`K` that does not lower the weighted Bayesian information criterion,

        .. math:: \mathrm{BIC}_K = -2 n_e \sum_k \bar w_k \log f_K(X_k)
                  + p_K \log n_e,

        with :math:`\bar w` the normalized weights, :math:`n_e = 1 / \sum_k \bar w_k^2`
        their effective sample size and :math:`p_K` the free parameters (Schwarz 1978;
        the weighted form as in Geyer, Papaioannou & Straub 2019). The number of
        components may change between fits, so smoothing (``alpha < 1``) does not apply.

    References
    ----------
    .. [1] N. Kurtz, J. Song, "Cross-entropy-based adaptive importance sampling using
       Gaussian mixture", Structural Safety 42:35-44, 2013.
    .. [2] S. Geyer, I. Papaioannou, D. Straub, "Cross entropy-based importance sampling
       using Gaussian densities revisited", Structural Safety 76:15-27, 2019.
    """

    scale_params = ("sigmas",)

    def __init__(
        self,
        weights: np.ndarray,
        means: np.ndarray,
        sigmas: np.ndarray,
        min_sigma: float = 1e-3,
        em_iterations: int = 50,
        learn_sigma: bool = True,
        max_components: int | None = None,
    ) -> None:
        self.learn_sigma = bool(learn_sigma)
        if max_components is not None and not (
            isinstance(max_components, int) and max_components >= 1
        ):
            raise ConfigError(f"max_components must be an integer >= 1 or None, got "
                              f"{max_components!r}")  # fmt: skip
        self.max_components = max_components
        pi = np.array(weights, dtype=float)
        mu = np.array(means, dtype=float)
        sd = np.array(sigmas, dtype=float)
        if mu.ndim != 2 or pi.shape != (mu.shape[0],) or sd.shape != mu.shape:
            raise ConfigError(
                f"NormalMixture needs weights (K,), means (K, d), sigmas (K, d); got "
                f"{pi.shape}, {mu.shape}, {sd.shape}"
            )
        if np.any(pi < 0) or not np.isclose(pi.sum(), 1.0) or np.any(sd <= 0):
            raise ConfigError("mixture weights must be >= 0 and sum to 1; sigmas must be > 0")
        self.min_sigma, self.em_iterations = float(min_sigma), int(em_iterations)
        sd = np.maximum(sd, self.min_sigma)
        for a in (pi, mu, sd):
            a.flags.writeable = False
        self.weights, self.means, self.sigmas = pi / pi.sum(), mu, sd

    @property
    def fixed_shapes(self) -> bool:
        return self.max_components is None

    @classmethod
    def standard(
        cls,
        n_components: int,
        dim: int,
        spread: float = 1.0,
        learn_sigma: bool = True,
        max_components: int | None = None,
    ) -> NormalMixture:
        """Equal components at the origin with standard deviation ``spread``."""
        return cls(np.full(n_components, 1 / n_components), np.zeros((n_components, dim)),
                   np.full((n_components, dim), spread), learn_sigma=learn_sigma,
                   max_components=max_components)  # fmt: skip

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.means.shape[1],)

    def params(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "means": self.means, "sigmas": self.sigmas}

    def with_params(self, **params: np.ndarray) -> NormalMixture:
        return self._new(params["weights"], params["means"], params["sigmas"])

    def _new(self, weights: np.ndarray, means: np.ndarray, sigmas: np.ndarray) -> NormalMixture:
        return NormalMixture(weights, means, sigmas, self.min_sigma, self.em_iterations,
                             self.learn_sigma, self.max_components)  # fmt: skip

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        cdf = np.cumsum(self.weights)
        comp = inverse_cdf(cdf[None, :], rng.random(n)[:, None], 1, len(self.weights) - 1)
        return self.means[comp] + self.sigmas[comp] * rng.standard_normal((n, self.means.shape[1]))

    def _component_logpdf(self, X: np.ndarray) -> np.ndarray:
        z = (X[:, None, :] - self.means[None]) / self.sigmas[None]
        return (-0.5 * np.sum(z**2, axis=2) - np.sum(np.log(self.sigmas), axis=1)[None]
                - 0.5 * X.shape[1] * np.log(2 * np.pi))  # fmt: skip

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        with np.errstate(divide="ignore"):
            return logsumexp(self._component_logpdf(X) + np.log(self.weights)[None], axis=1)

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> NormalMixture:
        X = np.asarray(X, dtype=float)
        w = normalized_weights(weights, X.shape[0])
        if self.max_components is None:
            return self._em(X, w, len(self.weights))
        n_e = 1.0 / float(w @ w)
        d = X.shape[1]
        best, best_bic = self, math.inf
        for K in range(1, self.max_components + 1):
            mix = self._em(X, w, K)
            k_used = int(np.sum(mix.weights > 0))
            n_par = (k_used - 1) + k_used * d * (2 if self.learn_sigma else 1)
            bic = -2 * n_e * float(w @ mix.log_pdf(X)) + n_par * math.log(n_e)
            if bic >= best_bic:  # the first K that does not improve ends the search
                break
            best, best_bic = mix, bic
        return best

    def _em(self, X: np.ndarray, w: np.ndarray, K: int) -> NormalMixture:
        """``K`` components by weighted EM from a farthest-point start."""
        centres = [int(np.argmax(w))]
        for _ in range(1, K):  # farthest-point start: deterministic, spreads the components
            dist = np.min(((X[:, None, :] - X[centres][None]) ** 2).sum(axis=2), axis=1)
            centres.append(int(np.argmax(dist * (w > 0))))
        spread = np.sqrt(w @ (X - w @ X) ** 2) + self.min_sigma
        if not self.learn_sigma:
            spread = self.sigmas[0]
        mix = self._new(np.full(K, 1 / K), X[centres], np.tile(spread, (K, 1)))
        for _ in range(self.em_iterations):
            with np.errstate(divide="ignore"):
                logr = mix._component_logpdf(X) + np.log(mix.weights)[None]
            resp = np.exp(logr - logsumexp(logr, axis=1, keepdims=True)) * w[:, None]
            mass = resp.sum(axis=0)
            keep = mass > 1e-12
            mass, resp = mass[keep], resp[:, keep]
            mu = (resp.T @ X) / mass[:, None]
            if self.learn_sigma:
                sd = np.sqrt(np.maximum((resp.T @ X**2) / mass[:, None] - mu**2, 0.0))
                sd = np.maximum(sd, self.min_sigma)  # a component on a single point
            else:
                sd = np.tile(spread, (len(mass), 1))
            mix = self._new(mass / mass.sum(), mu, sd)
        if len(mix.weights) < K:  # a component lost all mass: park it on the heaviest one
            extra = K - len(mix.weights)
            j = int(np.argmax(mix.weights))
            mix = self._new(
                np.r_[mix.weights, np.zeros(extra)],
                np.r_[mix.means, np.tile(mix.means[j], (extra, 1))],
                np.r_[mix.sigmas, np.tile(mix.sigmas[j], (extra, 1))],
            )
        return mix

    def entropy(self) -> float:
        """Entropy of the component with the largest weight plus the mixing entropy (a bound)."""
        comp = 0.5 * np.log(2 * np.pi * np.e) * self.means.shape[1] + np.log(self.sigmas).sum(1)
        pi = self.weights[self.weights > 0]
        return float(self.weights @ comp - np.sum(pi * np.log(pi)))

    def mode(self) -> np.ndarray:
        return self.means[int(np.argmax(self.weights))].copy()

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.max(self.sigmas) <= tol)


class DefensiveMixture(Family):
    r"""Defensive mixture :math:`g = \lambda f + (1 - \lambda) q` of the nominal and a proposal.

    The likelihood ratio of the nominal :math:`f` against it is bounded,

    .. math:: \frac{f(x)}{\lambda f(x) + (1 - \lambda) q(x)} \le \frac1\lambda,

    so the importance-sampling estimator has finite variance (at most :math:`1/\lambda` times
    crude Monte Carlo's, Hesterberg 1995, Theorem 1) whatever the proposal :math:`q` does,
    while it loses at most a factor :math:`1/(1 - \lambda)` in variance where :math:`q` is good.

    The fixed part need not be the nominal itself: any family of the same sample space whose
    likelihood ratio to the nominal is bounded on the event plays the same part (the cut
    components of :class:`cem.problems.network.cuts.CutMixture`).

    Parameters
    ----------
    nominal, proposal : Family
        Families of the same sample space: the fixed part and the fitted one.
    weight : float
        :math:`\lambda \in (0, 1)`, the fraction of samples drawn from the nominal.

    Notes
    -----
    :meth:`sample` draws :math:`M \sim \mathrm{Bin}(n, \lambda)` samples from the nominal
    and the rest from the proposal (the order does not matter to an average).
    :meth:`fit` refits the proposal and keeps the nominal and :math:`\lambda`.

    References
    ----------
    .. [1] T. Hesterberg, "Weighted average importance sampling and defensive mixture
       distributions", Technometrics 37(2):185-194, 1995.
    """

    def __init__(self, nominal: Family, proposal: Family, weight: float) -> None:
        if not 0.0 < float(weight) < 1.0:
            raise ConfigError(f"defensive weight must be in (0, 1), got {weight!r}")
        if nominal.event_shape != proposal.event_shape:
            raise ConfigError(
                f"nominal and proposal sample shapes differ: {nominal.event_shape} vs "
                f"{proposal.event_shape}"
            )
        self.nominal, self.proposal, self.weight = nominal, proposal, float(weight)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.proposal.event_shape

    def params(self) -> dict[str, np.ndarray]:
        return self.proposal.params()

    def with_params(self, **params: np.ndarray) -> DefensiveMixture:
        return self._with(self.proposal.with_params(**params))

    def _with(self, proposal: Family) -> DefensiveMixture:
        """This mixture with another proposal (a subclass keeps its class and fixed part)."""
        new = copy.copy(self)
        new.proposal = proposal
        return new

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        m = int(rng.binomial(n, self.weight))
        return np.concatenate([self.nominal.sample(m, rng), self.proposal.sample(n - m, rng)])

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> DefensiveMixture:
        return self._with(self.proposal.fit(X, weights))

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.logaddexp(
                np.log(self.weight) + self.nominal.log_pdf(X),
                np.log1p(-self.weight) + self.proposal.log_pdf(X),
            )

    def entropy(self) -> float:
        """The proposal's entropy (the mixture's has no closed form)."""
        return self.proposal.entropy()

    def mode(self) -> np.ndarray:
        return self.proposal.mode()

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return False

    def __repr__(self) -> str:
        return f"DefensiveMixture({self.weight:g} nominal + {self.proposal!r})"
