r"""Rare-event probabilities by multilevel cross-entropy importance sampling.

Estimate :math:`\ell = P_u(S(X) \ge \gamma)` for :math:`X \sim f(\cdot; u)` (the nominal
family). Multilevel CE (de Boer et al. 2005, Algorithm 2.1): starting from
:math:`v_0 = u`, at level :math:`t`

1. draw :math:`X_1..X_N \sim f(\cdot; v_{t-1})`;
2. :math:`\gamma_t = \min(\gamma, \hat q_{1-\rho})`, the :math:`(1-\rho)` sample quantile
   of the scores, capped at :math:`\gamma`;
3. refit on the elite :math:`\{S(X_k) \ge \gamma_t\}` with likelihood-ratio weights
   :math:`W_k = f(X_k; u) / f(X_k; v_{t-1})`:
   :math:`v_t = \operatorname{argmax}_v \sum_k W_k \log f(X_k; v)`;
4. stop when :math:`\gamma_t = \gamma`.

Then a final importance-sampling run of :math:`N_1` samples from :math:`v_T`:

.. math:: \hat\ell = \frac{1}{N_1} \sum_{k=1}^{N_1} I\{S(X_k) \ge \gamma\} W_k, \qquad
          \widehat{SE} = \frac{s(I W)}{\sqrt{N_1}}, \qquad RE = \widehat{SE} / \hat\ell.

Likelihood ratios are handled in log space and the estimate is also returned as its
logarithm, so probabilities far below the smallest double (about 1e-308) stay finite.

Every result carries diagnostics of its weights (:mod:`cem.rare_diagnostics`: effective
sample sizes of the final run and of each level, the largest weight's share, the relative
variance of the variance, the Pareto tail index) and, when they say the interval cannot be
trusted, :class:`~cem.errors.DegenerateWeightsWarning` says why and what to try. The robust
estimators are options (and ``[estimator]`` config keys):

- ``defensive``: the final density mixes in a fraction of the nominal (Hesterberg 1995);
- ``tied`` and ``screening``: fewer free parameters in high dimension (Rubinstein & Glynn
  2009); :class:`~cem.families.Bernoulli` floors and ceilings (``min_p``, ``max_p``) are
  family parameters;
- ``mcmc_samples``: the improved CE of Chan & Kroese (2012), the family refitted to MCMC
  samples of the zero-variance density (:func:`zero_variance_samples`);
- ``conditional``: conditional Monte Carlo in the final run (:class:`ConditionalHook`);
- :class:`~cem.families.NormalMixture` with ``max_components`` for several failure regions.

Discrete scores whose quantile stalls are handled by raising the level to the next
observed score (:func:`cem.elite.level_threshold`).

The levels are the iterations of :class:`~cem.loop.CrossEntropyOptimizer` with
likelihood-ratio weights (:class:`MultilevelEstimator`): an estimation has the
optimizer's batches, stopping rules (``max_levels``, ``max_time``, a callback), history
and state, so that a run directory of an estimation is checkpointed after every level
and continued with ``cem resume`` to the same result.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.
.. [2] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004, Ch. 3.
.. [3] D. P. Kroese, T. Taimre, Z. I. Botev, *Handbook of Monte Carlo Methods*, Wiley,
   2011, Sec. 9.7 and 13.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cem.checks import check_int, is_int, is_real
from cem.elite import check_scores
from cem.errors import (
    CEMWarning,
    ConfigError,
    DegenerateWeightsWarning,
    InvalidScoreError,
    NotRareWarning,
    warn_caller,
)
from cem.families import Bernoulli, Exponential, Family, FullNormal, Gamma, Normal
from cem.families.mixture import DefensiveMixture
from cem.loop import CrossEntropyOptimizer
from cem.memory import iteration_bytes, require
from cem.options import OPTIONS, Option, validate_table
from cem.parallel import (
    RNGLike,
    as_seed_sequence,
    batch_sizes,
    child_seed,
    sample_and_score,
    sample_batches,
)
from cem.rare_diagnostics import (
    WeightDiagnostics,
    check_estimate,
    count_regions,
    ess,
    weight_diagnostics,
)
from cem.rare_tying import identical_coordinates, tying_holds
from cem.result import EstimateResult, level_line

__all__ = [
    "ESTIMATOR_OPTIONS",
    "ConditionalHook",
    "LevelRecord",
    "MultilevelEstimator",
    "RareEventProblem",
    "crude_monte_carlo",
    "estimate_probability",
    "tie_and_screen",
]

_Z95 = 1.959963984540054


#: Families of independent coordinates with one entry per coordinate in each parameter:
#: those that conditional Monte Carlo, tied parameters and screening can act on.
PRODUCT_FAMILIES: tuple[type[Family], ...] = (Bernoulli, Exponential, Gamma, Normal)

#: Largest dimension in which the first level's elite is searched for several failure
#: regions (:func:`cem.rare_diagnostics.count_regions`); above it 100 elite points say
#: little and the search costs more than the level.
MAX_REGION_DIM = 20


def _int_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: is_int(v) and v >= low


@dataclass(frozen=True)
class ConditionalHook:
    r"""Conditional Monte Carlo: :math:`P(\text{event} \mid X_G)` in closed form.

    The final run then averages :math:`P(S(X) \ge \gamma \mid X_G) \, W(X_G)` over
    importance samples of the coordinates :math:`G` only (the levels' family restricted to
    them), instead of :math:`I\{S(X) \ge \gamma\} W(X)`. Conditioning never increases the
    variance (Rao-Blackwell; Kroese, Taimre & Botev 2011, Sec. 9.4), and the remaining
    coordinates need not be sampled at all.

    Attributes
    ----------
    given : tuple of int
        The coordinates :math:`G` conditioned on.
    probability : callable
        ``probability(X_G) -> (N,)`` in [0, 1], ``X_G`` of shape ``(N, len(given))``.
    """

    given: tuple[int, ...]
    probability: Callable[[np.ndarray], np.ndarray]


#: Options of :func:`estimate_probability` that configs may set (``[estimator]``).
ESTIMATOR_OPTIONS: dict[str, Option] = {
    o.name: o
    for o in [
        Option("rho", 0.1, "elite fraction per level", "a number in (0, 1)",
               lambda v: is_real(v) and 0 < v < 1),
        Option("n_samples", None, "samples per level (N); None: max(1000, 25 d) for d "
               "coordinates", "an integer >= 2 or None", _int_at_least(2), optional=True),
        Option("n_final", 100_000, "samples of the final importance-sampling run (N1)",
               "an integer >= 2", _int_at_least(2)),
        Option("max_levels", 100, "cap on the number of levels", "an integer >= 1",
               _int_at_least(1)),
        Option("alpha", 1.0, "smoothing weight of the new parameters", "a number in (0, 1]",
               lambda v: is_real(v) and 0 < v <= 1),
        Option("defensive", 0.0, "fraction of the final run drawn from the nominal "
               "(defensive mixture, Hesterberg 1995)", "a number in [0, 1)",
               lambda v: is_real(v) and 0 <= v < 1),
        Option("conditional", False, "conditional Monte Carlo in the final run: true for "
               "the problem's conditional_probability, or a ConditionalHook",
               "true, false or a ConditionalHook",
               lambda v: isinstance(v, (bool, ConditionalHook))),
        Option("tied", "auto", "one common value of each parameter for all coordinates "
               "(exchangeable coordinates); auto: when the levels start from a nominal of "
               ">= 20 identically distributed coordinates and the first level's elite passes "
               "the likelihood-ratio test of cem.rare_tying", "true, false or 'auto'",
               lambda v: isinstance(v, bool) or v == "auto"),
        Option("screening", 0.0, "keep a coordinate's parameters at the nominal unless they "
               "move by more than this relative amount (Rubinstein & Glynn 2009)",
               "a number >= 0", lambda v: is_real(v) and v >= 0),
        Option("mcmc_samples", 0, "score evaluations of the MCMC sampler of the zero-variance "
               "density whose samples refit the family after the levels (improved CE, Chan & "
               "Kroese 2012); 0 for none", "an integer >= 0", _int_at_least(0)),
        Option("seed", None, "seed of the run", "a nonnegative integer or None",
               _int_at_least(0), optional=True),
        OPTIONS["max_time"],
        OPTIONS["n_jobs"],
        OPTIONS["batch_size"],
        OPTIONS["backend"],
    ]
}  # fmt: skip


@dataclass(frozen=True)
class LevelRecord:
    """One level of the multilevel CE: its threshold and the fitted family's parameters."""

    t: int
    gamma: float
    params: dict[str, np.ndarray]


def level_samples(n_samples: int | None, family: Family) -> int:
    r"""Samples per level: ``n_samples``, or by default :math:`N = \max(1000, 25 d)` for a
    family of :math:`d` coordinates.

    The CE rule of thumb sizes :math:`N` to the number of parameters fitted (de Boer et al.
    2005, Sec. 3); with likelihood-ratio weights the elite :math:`\rho N` must hold a few
    effective samples per coordinate, or the fitted parameters' noise multiplies the
    final run's variance by about :math:`e^{\|\delta\|^2}`. Measured on the linear limit
    state in :math:`d = 100` at :math:`\beta = 4` with the mean-shift family (8 seeds,
    about :math:`10^5` evaluations): :math:`N = 1000` gives an RMS relative error of 0.115
    (6 of 8 runs warned), :math:`N = 2500` gives 0.011 (none warned).
    """
    if n_samples is not None:
        return n_samples
    return max(1000, 25 * math.prod(family.event_shape))


def _signed(direction: str) -> float:
    if direction not in ("ge", "le"):
        raise ConfigError(f"direction must be 'ge' (S >= gamma) or 'le' (S <= gamma), got "
                          f"{direction!r}")  # fmt: skip
    return 1.0 if direction == "ge" else -1.0


def _covers(nominal: Family, family: Family, seed: np.random.SeedSequence) -> bool:
    """Whether ``family`` gives positive density wherever the nominal has mass.

    Bernoulli families are compared parameter by parameter (a probability at 0 or 1 that
    the nominal does not share); other families on 1000 nominal samples.
    """
    if isinstance(nominal, Bernoulli) and isinstance(family, Bernoulli):
        return not bool(np.any(((family.p == 0) & (nominal.p > 0))
                               | ((family.p == 1) & (nominal.p < 1))))  # fmt: skip
    rng = np.random.Generator(np.random.PCG64(child_seed(seed, 2**31)))
    X = nominal.sample(1000, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        logq = family.log_pdf(X)
    return bool(np.all(np.isfinite(logq)))


def _check_support(nominal: Family, family: Family, seed: np.random.SeedSequence) -> None:
    """Reject an importance family that gives zero density where the nominal has mass."""
    if not _covers(nominal, family, seed):
        raise ConfigError(
            "the importance family gives zero density to points the nominal family produces "
            "(its support does not cover the nominal); e.g. a Bernoulli p of 0 or 1 where "
            "the nominal p is strictly between"
        )


def _scores(
    parts: list[np.ndarray], n: int, batch_size: int | None, sign: float, family: Family
) -> np.ndarray:
    """The batches' scores checked and joined, times ``sign``; the batches are those
    :func:`cem.parallel.batch_args` cuts for samples of ``family``."""
    sizes = batch_sizes(n, batch_size, math.prod(family.event_shape))
    return sign * np.concatenate(
        [check_scores(p, nb, "raise") for p, nb in zip(parts, sizes, strict=True)]
    )


def _final_estimate(log_w_hits: np.ndarray, n: int) -> tuple[float, float, float, float]:
    """(log estimate, estimate, standard error, relative error) from the hits' log weights.

    The weights are scaled by their maximum :math:`e^c` first, so the relative error and the
    log estimate are exact even when :math:`e^c` underflows.
    """
    if log_w_hits.size == 0:
        return -math.inf, 0.0, 0.0, math.inf
    c = float(np.max(log_w_hits))
    w = np.exp(log_w_hits - c)  # scaled weights of the hits; misses contribute 0
    mean = w.sum() / n
    sd = math.sqrt(max((np.sum(w**2) / n - mean**2) * n / (n - 1), 0.0))
    rel = sd / (mean * math.sqrt(n))
    scale = math.exp(c)
    return c + math.log(mean), mean * scale, sd / math.sqrt(n) * scale, rel


class MultilevelEstimator:
    r"""Multilevel CE importance sampling, as a driver over the CE optimizer.

    The levels are the iterations of a :class:`~cem.loop.CrossEntropyOptimizer` with the
    nominal family (each elite weighted by its likelihood ratios) and the final level
    :math:`\gamma` (:func:`cem.elite.level_threshold`): the elite → fit → smooth step is the
    optimizer's own, and so are its batches, its stopping rules (``max_levels`` is its
    ``max_iter``, ``max_time``, the callback), its history and its state. This class keeps
    what the levels mean for the estimate (their records, the effective sample sizes of
    their weights, the failure regions seen at the first level) and then runs the final
    importance-sampling run (:meth:`finish`).

    Parameters are those of :func:`estimate_probability`; ``callback(estimator)`` runs
    after every level (returning ``True`` stops the levels, the final run is still made).

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Exponential
    >>> est = MultilevelEstimator(lambda X: X.sum(axis=1), Exponential(np.ones(2)), 20.0,
    ...                           n_final=20_000, rng=0)
    >>> res = est.run()
    >>> len(est.levels) == res.nit == len(res.history), res.method
    (True, 'ce-is')
    """

    def __init__(
        self,
        score: Callable[[np.ndarray], np.ndarray],
        nominal: Family,
        gamma: float,
        *,
        direction: Literal["ge", "le"] = "ge",
        family: Family | None = None,
        rng: RNGLike = None,
        callback: Callable[[MultilevelEstimator], bool | None] | None = None,
        verbose: bool = False,
        **options: Any,
    ) -> None:
        o = validate_table(options, ESTIMATOR_OPTIONS, "estimator option")
        if o["conditional"] is True:
            raise ConfigError(
                "conditional=True needs a RareEventProblem with a conditional "
                "probability; pass a ConditionalHook(given, probability)"
            )
        if not is_real(gamma):
            raise ConfigError(f"gamma must be a finite number, got {gamma!r}")
        self.sign = _signed(direction)
        self.score, self.nominal, self.gamma = score, nominal, float(gamma)
        self.options, self.callback, self.verbose = o, callback, verbose
        self.start = nominal if family is None else family
        # tied="auto": decided by the first level's elite (_constrain), else not tied.
        self.auto_tie = (o["tied"] == "auto" and not o["screening"]
                         and _same_law(self.start, nominal)
                         and isinstance(nominal, PRODUCT_FAMILIES)
                         and identical_coordinates(nominal))  # fmt: skip
        o["tied"] = o["tied"] is True
        o["n_samples"] = level_samples(o["n_samples"], self.start)
        require(f"n_final={o['n_final']}", iteration_bytes(o["n_final"], self.start.event_shape))
        self.optimizer = CrossEntropyOptimizer(
            score, self.start, sense="max" if self.sign > 0 else "min", rng=rng,
            nominal=nominal, level=gamma, callback=self._on_level,
            constrain=self._constrain if o["tied"] or o["screening"] or self.auto_tie else None,
            n_samples=o["n_samples"], rho=o["rho"], alpha=o["alpha"], max_iter=o["max_levels"],
            max_time=o["max_time"], seed=o["seed"], n_jobs=o["n_jobs"],
            batch_size=o["batch_size"], backend=o["backend"], method="classic",
            stall_iters=None, degenerate_tol=None, nan_policy="raise",
        )  # fmt: skip
        if family is not None:
            _check_support(nominal, family, self.seed)
        self.levels: list[LevelRecord] = []
        self.level_ess: list[float] = []
        self.regions = 1  # failure regions seen at the first level (one-component families)
        self.last_elite: np.ndarray | None = None  # the last level's elite rows
        self._final: _FinalRun | None = None

    @property
    def seed(self) -> np.random.SeedSequence:
        """The run's root seed."""
        return self.optimizer.seed

    def _constrain(self, v: Family) -> Family:
        o = self.options
        if self.auto_tie:
            assert self.optimizer.elite is not None
            X, weights = self.optimizer.elite
            tied = tie_and_screen(v, self.nominal, True, 0.0)
            o["tied"] = weights is not None and tying_holds(v, tied, X, weights)
            self.auto_tie = False
        return tie_and_screen(v, self.nominal, o["tied"], o["screening"])

    def _on_level(self, opt: CrossEntropyOptimizer) -> bool | None:
        """Record the level the optimizer just finished; then the user's callback."""
        assert opt.elite is not None and opt.scores is not None
        X_elite, weights = opt.elite
        if weights is None or not np.any(weights > 0):
            return None  # the optimizer stops on degenerate weights; no level to record
        t = opt.t
        self.level_ess.append(ess(weights) / weights.size)
        if t == 1:
            if _same_law(self.start, self.nominal) and np.median(self.sign * opt.scores) >= (
                self.sign * self.gamma
            ):
                warn_caller(
                    f"gamma={self.gamma!r} is on the likely side of the median of S under the "
                    "nominal family: the event is not rare, crude Monte Carlo suffices",
                    NotRareWarning,
                )
            if (isinstance(self.nominal, Normal) and isinstance(self.start, (Normal, FullNormal))
                    and X_elite.shape[1] <= MAX_REGION_DIM):  # fmt: skip
                self.regions = count_regions(X_elite, np.asarray(self.nominal.sigma))
        self.levels.append(LevelRecord(t, opt.history[-1].gamma, _params(opt.family)))
        self.last_elite = X_elite
        if self.verbose:
            print(level_line(self.levels[-1], header=t == 1), flush=True)
        return self.callback(self) if self.callback is not None else None

    def run(self) -> EstimateResult:
        """Run the levels until a stopping rule fires, then :meth:`finish`."""
        opt = self.optimizer
        try:
            while not opt.stop():
                opt.step()
            return self.finish()
        finally:
            opt.close()

    def status(self) -> str:
        """How the levels ended: ``"done"`` (the level reached :math:`\\gamma`),
        ``"degenerate"``, ``"max_levels"``, ``"stopped"`` (``max_time`` or the callback)."""
        fired = self.optimizer.stop()
        if "level" in fired:
            return "done"
        if "weights" in fired:
            return "degenerate"
        return "max_levels" if "max_iter" in fired else "stopped"

    def final_family(self) -> Family:
        r"""The final run's importance density, made once the levels have stopped.

        The last level's family; with ``mcmc_samples`` refitted to samples of the
        zero-variance density (which costs score evaluations); with ``conditional`` the
        conditioned coordinates' family, refitted to all of the last level's samples
        (:func:`_conditional_refit`); with ``defensive`` the defensive mixture.
        """
        if self._final is not None:
            return self._final.family
        o, opt, nominal = self.options, self.optimizer, self.nominal
        start = time.perf_counter()
        status = self.status()
        if status == "max_levels":
            warn_caller(f"gamma_t did not reach gamma in max_levels={o['max_levels']} levels; "
                        "the final run samples from the last level's family",
                        NotRareWarning)  # fmt: skip
        levels, level_ess = list(self.levels), list(self.level_ess)
        evaluations, v = opt.evals, opt.family
        if o["mcmc_samples"] and status == "done":
            assert self.last_elite is not None
            chains = zero_variance_samples(self.score, nominal, self.sign * self.gamma,
                                           self.sign, self.last_elite, o["mcmc_samples"],
                                           child_seed(self.seed, 2**31 + 1))  # fmt: skip
            evaluations += o["mcmc_samples"]
            v = v.fit(chains)
            if o["tied"] or o["screening"]:
                v = self._constrain(v)
            levels.append(LevelRecord(len(levels) + 1, self.gamma, _params(v)))
            level_ess.append(1.0)  # the refit's samples are unweighted
        lost_support = not _covers(nominal, v, self.seed)
        hook = o["conditional"]
        if hook:
            marginal_v = _marginal(v, hook.given)
            if status == "done" and not o["mcmc_samples"]:
                v = self._conditional_refit(hook, levels, marginal_v)
            else:
                v = marginal_v
            nominal = _marginal(nominal, hook.given)
        if o["defensive"] > 0:
            v = DefensiveMixture(nominal, v, o["defensive"])
        self._final = _FinalRun(v, nominal, levels, level_ess, evaluations, status,
                                lost_support, start)  # fmt: skip
        return v

    def finish(self) -> EstimateResult:
        """The final importance-sampling run from :meth:`final_family`, and the result."""
        v = self.final_family()
        o, hook = self.options, self.options["conditional"]
        n_final, batch_size = o["n_final"], o["batch_size"]
        X, parts = sample_and_score(v, hook.probability if hook else self.score, n_final,
                                    self.seed, 0, batch_size=batch_size,
                                    runner=self.optimizer.batch_runner)  # fmt: skip
        return self._estimate(X, _scores(parts, n_final, batch_size, 1.0, v))

    def ask(self) -> np.ndarray:
        """The samples to score next: the next level's, or once the levels have stopped,
        the final run's (of the conditioned coordinates only, with ``conditional``).

        They are those :meth:`run` would score.
        """
        if not self.optimizer.stop():
            return self.optimizer.ask()
        o = self.options
        runner = self.optimizer.batch_runner
        return sample_batches(self.final_family(), o["n_final"], self.seed, 0,
                              batch_size=o["batch_size"], runner=runner)  # fmt: skip

    def tell(self, X: np.ndarray, scores: Any = None) -> EstimateResult | None:
        """Score the samples of :meth:`ask`: a level (returns ``None``), or the final run
        (returns the result).

        With ``conditional`` the final run's values are the hook's probabilities, computed
        here: pass ``scores=None``.
        """
        if not self.optimizer.stop():
            self.optimizer.tell(X, scores)
            return None
        self.final_family()
        X, hook = np.asarray(X), self.options["conditional"]
        if (scores is None) != bool(hook):
            raise ConfigError("the final run's scores: pass the score of every sample"
                              if not hook else "with conditional Monte Carlo the final run's "
                              "values are the hook's: pass scores=None")  # fmt: skip
        values = hook.probability(X) if hook else scores
        return self._estimate(X, check_scores(values, self.options["n_final"], "raise"))

    def _estimate(self, X: np.ndarray, values: np.ndarray) -> EstimateResult:
        """The result from the final run's samples and their scores (hook probabilities)."""
        fin, o, opt = self._final, self.options, self.optimizer
        assert fin is not None
        v, nominal, hook, n_final = fin.family, fin.nominal, o["conditional"], o["n_final"]
        if hook:  # Y = P(event | X_given) W(X_given)
            if np.any((values < 0) | (values > 1)):
                raise InvalidScoreError("the conditional probability hook returned values "
                                        "outside [0, 1]")  # fmt: skip
            hits = values > 0
            with np.errstate(divide="ignore"):
                log_y = np.log(values[hits])
        else:
            hits = self.sign * values >= self.sign * self.gamma
            log_y = 0.0
        log_w = nominal.log_pdf(X[hits]) - v.log_pdf(X[hits]) + log_y
        if np.any(np.isnan(log_w)):
            raise InvalidScoreError("likelihood ratios are NaN: check the families' log_pdf")
        log_est, est, se, rel = _final_estimate(log_w, n_final)
        diag = weight_diagnostics(log_w, n_final)
        seconds = (opt.history[-1].seconds if len(opt.history) else 0.0) + (
            time.perf_counter() - fin.started
        )
        res = _result(log_est, est, se, rel, diag, n_final, fin.levels, fin.evaluations + n_final,
                      seconds, "ce-cmc" if hook else "ce-is", v, fin.status)  # fmt: skip
        res["history"] = opt.history
        # After an MCMC refit the final family no longer rests on the levels' weights.
        refit = bool(o["mcmc_samples"]) and fin.status == "done"
        return _diagnose(res, diag, fin.level_ess, fin.lost_support, fin.status, self.regions,
                         fin.level_ess[-1:] if refit else None)  # fmt: skip

    def _conditional_refit(
        self, hook: ConditionalHook, levels: list[LevelRecord], v: Family
    ) -> Family:
        """:func:`_conditional_refit` on the last level's samples, drawn again from their
        seed (no score is evaluated)."""
        o, start = self.options, self.start
        drawn = start.with_params(**levels[-2].params) if len(levels) > 1 else start
        X = sample_batches(drawn, o["n_samples"], self.seed, levels[-1].t,
                           batch_size=o["batch_size"],
                           runner=self.optimizer.batch_runner)  # fmt: skip
        return _conditional_refit(hook, _marginal(self.nominal, hook.given), v,
                                  _marginal(drawn, hook.given), X)  # fmt: skip

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state (:meth:`CrossEntropyOptimizer.state_dict`) and the levels'."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "levels": list(self.levels),
            "level_ess": list(self.level_ess),
            "regions": self.regions,
            "last_elite": self.last_elite,
            "tied": (self.options["tied"], self.auto_tie),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict` (levels as records or tuples)."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.levels = [lv if isinstance(lv, LevelRecord) else LevelRecord(*lv)
                       for lv in state["levels"]]  # fmt: skip
        self.level_ess = [float(e) for e in state["level_ess"]]
        self.regions = int(state["regions"])
        self.last_elite = state["last_elite"]
        if "tied" in state:
            self.options["tied"], self.auto_tie = (bool(b) for b in state["tied"])


@dataclass(frozen=True)
class _FinalRun:
    """What an estimation's final run starts from (:meth:`MultilevelEstimator.final_family`)."""

    family: Family
    nominal: Family  # of the conditioned coordinates only, with conditional Monte Carlo
    levels: list[LevelRecord]
    level_ess: list[float]
    evaluations: int  # before the final run
    status: str
    lost_support: bool
    started: float  # perf_counter() when the levels ended


def _same_law(family: Family, nominal: Family) -> bool:
    """Whether ``family`` samples as ``nominal`` does: the same kind and the same values of
    the nominal's parameters (floors such as ``min_mean`` aside)."""
    if type(family) is not type(nominal):
        return False
    mine = family.params()
    return all(k in mine and np.array_equal(mine[k], a) for k, a in nominal.params().items())


def _params(family: Family) -> dict[str, np.ndarray]:
    """The fitted parameters a level records (floors, which no fit moves, left out)."""
    return {k: np.array(a) for k, a in family.fitted_params().items()}


def estimate_probability(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Family,
    gamma: float,
    *,
    direction: Literal["ge", "le"] = "ge",
    family: Family | None = None,
    rng: RNGLike = None,
    callback: Callable[[MultilevelEstimator], bool | None] | None = None,
    verbose: bool = False,
    **options: Any,
) -> EstimateResult:
    """Estimate ``P(S(X) >= gamma)`` (or ``<=``) under ``nominal`` by multilevel CE-IS.

    Parameters
    ----------
    score : callable
        Vectorized ``S(X) -> (N,)``.
    nominal : Family
        The distribution of ``X``; its ``log_pdf`` must be exact (normalised).
    gamma : float
        The threshold.
    direction : {"ge", "le"}
        ``"ge"`` for ``S >= gamma``, ``"le"`` for ``S <= gamma``.
    family : Family, optional
        Starting importance family (default: the nominal); for example a
        :class:`~cem.families.NormalMixture` for events with several failure regions.
    rng : None, int, SeedSequence or Generator
        The run's randomness (SPEC 7, :func:`cem.parallel.as_seed_sequence`); the same
        integer gives the same result for any ``n_jobs``.
    callback : callable, optional
        ``callback(estimator)`` after every level (a :class:`MultilevelEstimator`);
        returning ``True`` ends the levels (the final run is still made).
    verbose : bool
        Print the level table.
    **options
        :data:`ESTIMATOR_OPTIONS`: ``rho``, ``n_samples`` (per level), ``n_final`` (the
        final run's ``N1``), ``max_levels``, ``max_time`` (seconds for the levels),
        ``alpha``, ``n_jobs``, ``batch_size``,
        ``backend``; the robust estimators ``defensive`` (fraction of the nominal in the
        final run), ``tied``, ``screening``, ``mcmc_samples`` and ``conditional`` (a
        :class:`ConditionalHook`); ``seed`` is the configs' spelling of an integer ``rng``.

    Returns
    -------
    EstimateResult
        With the diagnostics ``ess``, ``max_weight_share``, ``vov``, ``pareto_k``,
        ``level_ess`` (ESS over elite size, per level), ``trusted`` and ``diagnostics``
        (the verdict of :func:`cem.rare_diagnostics.check_estimate`, ``""`` when trusted).

    Warns
    -----
    NotRareWarning
        When gamma is below the median of S under the nominal family.
    DegenerateWeightsWarning
        When the diagnostics say the standard error and interval cannot be trusted.

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Exponential
    >>> res = estimate_probability(lambda X: X.sum(axis=1), Exponential(np.ones(2)), 20.0,
    ...                            n_final=20_000, rng=0)
    >>> exact = 21 * np.exp(-20.0)  # P(Erlang(2) >= 20)
    >>> bool(abs(res.estimate - exact) < 3 * res.std_error)
    True
    """
    est = MultilevelEstimator(score, nominal, gamma, direction=direction, family=family,
                              rng=rng, callback=callback, verbose=verbose, **options)  # fmt: skip
    return est.run()


def _conditional_refit(
    hook: ConditionalHook, nominal: Family, v: Family, drawn: Family, X: np.ndarray
) -> Family:
    r"""Refit the conditioned coordinates' family to all of the last level's samples.

    The marginal of the zero-variance density on :math:`X_G` is
    :math:`f(x_G) P(\text{event} \mid x_G) / \ell`, so its CE fit uses every sample of the
    last level, weighted by :math:`W(x_G) P(\text{event} \mid x_G)`, instead of the elite
    only: no new score evaluation, much less noise.
    """
    Xg = np.ascontiguousarray(X[:, list(hook.given)])
    P = check_scores(hook.probability(Xg), Xg.shape[0], "raise")
    keep = P > 0
    if not np.any(keep):
        return v
    log_w = nominal.log_pdf(Xg[keep]) - drawn.log_pdf(Xg[keep]) + np.log(P[keep])
    return v.fit(Xg[keep], np.exp(log_w - np.max(log_w)))


def _marginal(family: Family, given: tuple[int, ...]) -> Family:
    """The family of the coordinates ``given`` of a family with independent coordinates.

    Works for families whose parameters are all 1-D arrays over the coordinates
    (:class:`~cem.families.Exponential`, :class:`~cem.families.Gamma`,
    :class:`~cem.families.Normal`, :class:`~cem.families.Bernoulli`).
    """
    d = family.event_shape
    params = family.params()
    if not isinstance(family, PRODUCT_FAMILIES):
        raise ConfigError("conditional Monte Carlo needs a family with independent coordinates "
                          f"(Exponential, Gamma, Normal, Bernoulli), got {family!r}")  # fmt: skip
    idx = np.asarray(given, dtype=int)
    if idx.size == 0 or np.any((idx < 0) | (idx >= d[0])):
        raise ConfigError(f"conditional given must be coordinates in [0, {d[0]}), got {given!r}")
    return family.with_params(**{k: np.asarray(a)[idx] for k, a in params.items()})


def zero_variance_samples(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Family,
    target: float,
    sign: float,
    start: np.ndarray,
    budget: int,
    seed: np.random.SeedSequence,
) -> np.ndarray:
    r"""Samples of the zero-variance density :math:`g^*(x) \propto f(x; u) I\{S(x) \ge \gamma\}`.

    The improved CE of Chan & Kroese (2012) fits the importance family to samples of
    :math:`g^*` itself, unweighted, instead of to likelihood-ratio-weighted elite samples,
    whose weights degenerate in high dimension. The chains here are preconditioned
    Crank-Nicolson moves for a normal nominal :math:`N(m, \operatorname{diag}(s^2))`
    (Cotter, Roberts, Stuart & White 2013; the conditional sampling of Papaioannou,
    Betz, Zwirglmaier & Straub 2015),

    .. math:: x' = m + \rho (x - m) + \sqrt{1 - \rho^2}\, s \odot \xi, \qquad
              \xi \sim N(0, I),

    accepted when :math:`S(x') \ge \gamma`: the proposal is reversible with respect to the
    nominal, so :math:`g^*` is invariant. One chain starts from each point of ``start`` (the
    last level's elite, already in the event); :math:`\rho` adapts after each sweep towards
    an acceptance rate of 0.44. The first tenth of the sweeps is discarded as burn-in.

    Parameters
    ----------
    score : callable
        The vectorized score; ``sign * score`` is compared with ``target``.
    nominal : Normal
        The nominal family (diagonal normal).
    start : ndarray (n_chains, d)
        Points in the event.
    budget : int
        Score evaluations in total (``n_chains`` per sweep).

    References
    ----------
    .. [1] J. C. C. Chan, D. P. Kroese, "Improved cross-entropy method for estimation",
       Stat. Comput. 22:1031-1040, 2012.
    .. [2] I. Papaioannou, W. Betz, K. Zwirglmaier, D. Straub, "MCMC algorithms for subset
       simulation", Probab. Eng. Mech. 41:89-103, 2015.
    """
    if not isinstance(nominal, Normal):
        raise ConfigError(f"mcmc_samples needs a Normal nominal family, got {nominal!r}")
    rng = np.random.Generator(np.random.PCG64(seed))
    m, s = nominal.mean, nominal.sigma
    x = np.array(start, dtype=float)
    sweeps = max(1, budget // x.shape[0])
    rho, kept = 0.9, []
    for k in range(sweeps):
        prop = m + rho * (x - m) + math.sqrt(1 - rho**2) * s * rng.standard_normal(x.shape)
        ok = sign * check_scores(score(prop), x.shape[0], "raise") >= target
        x[ok] = prop[ok]
        if k >= sweeps // 10:
            kept.append(x.copy())
        rate = float(ok.mean())  # move 1 - rho towards an acceptance rate of 0.44
        rho = min(0.999, max(0.0, 1 - (1 - rho) * math.exp(rate - 0.44)))
    return np.concatenate(kept)


def tie_and_screen(v: Family, nominal: Family, tied: bool, screening: float) -> Family:
    r"""Tied parameters and screening for high dimensions (Rubinstein & Glynn 2009).

    The likelihood ratio of a product family over :math:`d` coordinates multiplies :math:`d`
    noisy factors, so its variance grows exponentially in the number of fitted parameters.
    Two remedies act on every per-coordinate parameter :math:`\theta_i` of the fitted family:

    - *tied*: :math:`\theta_i \leftarrow \frac1d \sum_j \theta_j`, the CE (maximum
      likelihood) update of one common parameter when the coordinates are exchangeable,
      for the means of :class:`~cem.families.Exponential`, :class:`~cem.families.Normal`
      (equal variances) and the probabilities of :class:`~cem.families.Bernoulli`;
    - *screening* :math:`\delta`: :math:`\theta_i \leftarrow u_i` (the nominal value)
      unless :math:`|\theta_i - u_i| > \delta\, s_i`, with :math:`s_i = |u_i|`, or 1 when
      :math:`u_i = 0` (a normal mean in standard space): only the bottleneck parameters,
      those that move, are updated.

    References
    ----------
    .. [1] R. Y. Rubinstein, P. W. Glynn, "How to deal with the curse of dimensionality of
       likelihood ratios in Monte Carlo simulation", Stoch. Models 25(4):547-568, 2009.
    """
    params, base, d = v.params(), nominal.params(), v.event_shape
    coords = {k: np.asarray(a, dtype=float) for k, a in params.items()}
    if not isinstance(v, PRODUCT_FAMILIES):
        raise ConfigError(f"tied and screening need a family with per-coordinate parameters "
                          f"(Exponential, Gamma, Normal, Bernoulli), got {v!r}")  # fmt: skip
    new = dict(params)
    for name, a in coords.items():
        if tied:
            a = np.full_like(a, a.mean())
        if screening and name in base and np.shape(base[name]) == d:
            u = np.asarray(base[name], dtype=float)
            scale = np.where(u != 0, np.abs(u), 1.0)
            a = np.where(np.abs(a - u) > screening * scale, a, u)
        new[name] = a
    return v.with_params(**new)


def _diagnose(
    res: EstimateResult,
    diag: WeightDiagnostics,
    level_ess: list[float],
    lost_support: bool,
    status: str,
    regions: int = 1,
    checked_levels: list[float] | None = None,
) -> EstimateResult:
    """Add the diagnostics to ``res``; warn when they say the interval cannot be trusted.

    ``checked_levels`` are the level ESS fractions the verdict looks at (default: all).
    """
    checked = level_ess if checked_levels is None else checked_levels
    verdict = check_estimate(diag, checked, lost_support, status == "done", regions)
    res.update(level_ess=np.array(level_ess), trusted=not verdict, diagnostics=verdict,
               levels_status=res.status)  # fmt: skip
    if verdict:
        # An interval that cannot be trusted is no success, whatever the levels did.
        res.update(success=False, status="untrusted",
                   message=f"{res.message}; untrusted: {verdict}")  # fmt: skip
        warn_caller(verdict, DegenerateWeightsWarning)
    return res


def _result(
    log_est: float,
    est: float,
    se: float,
    rel: float,
    diag: WeightDiagnostics,
    n: int,
    levels: list[LevelRecord],
    evaluations: int,
    seconds: float,
    method: str,
    family: Family | None,
    status: str = "done",
) -> EstimateResult:
    if est > 1.0:
        warn_caller(
            f"the importance-sampling estimate {est:.6g} exceeds 1: the likelihood ratios "
            "are unreliable (too few samples or a poor family); reported as 1, not a success",
            CEMWarning,
        )
        est, log_est, hits_ok = 1.0, 0.0, False
    else:
        hits_ok = diag.hits > 0
    ci = (max(0.0, est - _Z95 * se), min(1.0, est + _Z95 * se))
    message = {
        "done": "final importance-sampling run finished",
        "max_levels": "gamma_t did not reach gamma within max_levels; final run done anyway",
        "degenerate": "the levels' likelihood ratios collapsed; final run done anyway",
        "stopped": "the levels were stopped (max_time or the callback) before gamma; "
        "final run done anyway",
    }[status]
    if diag.hits == 0:
        message += "; no sample hit the event"
    return EstimateResult(
        estimate=est, log_estimate=log_est, std_error=se, rel_error=rel, ci=ci, ess=diag.ess,
        max_weight_share=diag.max_weight_share, vov=diag.vov, pareto_k=diag.pareto_k,
        hits=diag.hits, n_final=n, levels=levels, nit=len(levels), nfev=evaluations,
        seconds=seconds, method=method, family=family, status=status, message=message,
        success=hits_ok, level_ess=np.array([]), trusted=hits_ok, diagnostics="",
    )  # fmt: skip


def crude_monte_carlo(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Family,
    gamma: float,
    *,
    direction: Literal["ge", "le"] = "ge",
    n_samples: int = 1_000_000,
    rng: RNGLike = None,
    n_jobs: int = 1,
    batch_size: int | None = None,
    backend: str | None = None,
) -> EstimateResult:
    r"""Crude Monte Carlo estimate of the same probability.

    :math:`\hat\ell = H / N` with :math:`SE = \sqrt{\hat\ell (1 - \hat\ell) / N}`.
    With no hit the estimate is 0 and ``no_hit`` is true.
    """
    sign = _signed(direction)
    n_samples = check_int("n_samples", n_samples, 2)
    start = time.perf_counter()
    root = as_seed_sequence(rng)
    batch_size = batch_size or 100_000
    _, parts = sample_and_score(nominal, score, n_samples, root, 0, batch_size=batch_size,
                                n_jobs=n_jobs, backend=backend)  # fmt: skip
    hits = int(np.sum(_scores(parts, n_samples, batch_size, sign, nominal) >= sign * gamma))
    p = hits / n_samples
    se = math.sqrt(p * (1 - p) / n_samples)
    log_est = math.log(p) if hits else -math.inf
    rel = se / p if hits else math.inf
    diag = weight_diagnostics(np.zeros(hits), n_samples)  # every weight is 1
    return _result(log_est, p, se, rel, diag, n_samples, [], n_samples,
                   time.perf_counter() - start, "crude", nominal)  # fmt: skip


class RareEventProblem:
    r"""A rare event :math:`\{S(X) \ge \gamma\}` (or :math:`\le`) under a nominal family.

    Subclasses give the vectorized :meth:`score`, the :meth:`nominal_family` and
    ``gamma``, and :meth:`log_exact` when the probability has a closed form; the
    estimators of this module do the rest.
    """

    #: The threshold :math:`\gamma`.
    gamma: float
    #: ``"ge"`` for :math:`S \ge \gamma`, ``"le"`` for :math:`S \le \gamma`.
    direction: Literal["ge", "le"] = "ge"
    #: The family classes whose samples :meth:`score` understands.
    family_types: tuple[type[Family], ...] = (Family,)

    def score(self, X: np.ndarray) -> np.ndarray:
        """The performance :math:`S(X)` of each row, shape ``(N,)``."""
        raise NotImplementedError

    def nominal_family(self) -> Family:
        """The distribution of :math:`X`, with an exact (normalised) ``log_pdf``."""
        raise NotImplementedError

    def importance_family(self) -> Family:
        """The family the CE levels start from and refit (default: the nominal)."""
        return self.nominal_family()

    def exact(self) -> float:
        r"""The exact probability, :math:`\exp` of :meth:`log_exact`."""
        return math.exp(self.log_exact())

    def log_exact(self) -> float:
        """The logarithm of the exact probability, where a closed form exists."""
        raise NotImplementedError

    def estimate(
        self, family: Family | None = None, rng: RNGLike = None, **options: Any
    ) -> EstimateResult:
        """:func:`estimate_probability` with this problem's families and options.

        ``family`` replaces :meth:`importance_family` as the levels' starting family.
        """
        return self.estimator(family, rng, **options).run()

    def estimator(
        self,
        family: Family | None = None,
        rng: RNGLike = None,
        callback: Callable[[MultilevelEstimator], bool | None] | None = None,
        **options: Any,
    ) -> MultilevelEstimator:
        """The :class:`MultilevelEstimator` of :meth:`estimate`, not yet run.

        Raises
        ------
        NotImplementedError
            When the problem estimates by another method, without levels.
        """
        if family is None:
            family = self.importance_family()
        if options.get("conditional") is True:
            if not self.conditioned_on:
                raise ConfigError(f"conditional = true: {type(self).__name__} defines no "
                                  "conditional_probability")  # fmt: skip
            options["conditional"] = ConditionalHook(self.conditioned_on,
                                                     self.conditional_probability)  # fmt: skip
        return MultilevelEstimator(
            self.score, self.nominal_family(), self.gamma, direction=self.direction,
            family=family, rng=rng, callback=callback, **options,
        )  # fmt: skip

    #: The coordinates :meth:`conditional_probability` conditions on.
    conditioned_on: tuple[int, ...] = ()

    def conditional_probability(self, X_given: np.ndarray) -> np.ndarray:
        r""":math:`P(\text{event} \mid X_G)` for rows ``X_given`` of the coordinates
        :attr:`conditioned_on`, in closed form (the ``conditional = true`` option)."""
        raise NotImplementedError(f"{type(self).__name__} has no conditional probability")

    def describe(self) -> str:
        """A one-line description: the class's first doc line and gamma."""
        first = (type(self).__doc__ or type(self).__name__).strip().splitlines()[0]
        return f"{first.replace('``', '').rstrip('.')} (gamma = {self.gamma:g})"
