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

Every result carries diagnostics of its weights (:mod:`cem.rare_event._diagnostics`: effective
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
observed score (:func:`cem._elite.level_threshold`).

The levels are the iterations of :class:`~cem._loop.CrossEntropyOptimizer` with
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

from cem._checks import is_real
from cem._elite import check_scores
from cem._loop import CrossEntropyOptimizer
from cem._memory import iteration_bytes, require
from cem._parallel import sample_and_score, sample_batches
from cem._seeding import RNGLike, child_seed
from cem.errors import (
    ConfigError,
    InvalidScoreError,
    NotRareWarning,
    warn_caller,
)
from cem.families import Bernoulli, Family, FullNormal, Normal
from cem.families._mixture import DefensiveMixture
from cem.options import ESTIMATOR_OPTIONS, validate_table
from cem.rare_event._diagnostics import (
    count_regions,
    ess,
    weight_diagnostics,
)
from cem.rare_event._final import (
    LevelRecord,
    diagnose,
    final_estimate,
    joined_scores,
    make_result,
    signed,
)
from cem.rare_event._tying import identical_coordinates, tying_holds
from cem.rare_event._variants import (
    PRODUCT_FAMILIES,
    ConditionalHook,
    conditional_refit,
    marginal,
    tie_and_screen,
    zero_variance_samples,
)
from cem.result import EstimateResult, level_line

__all__ = ["MultilevelEstimator", "estimate_probability", "level_samples"]

#: Largest dimension in which the first level's elite is searched for several failure
#: regions (:func:`cem.rare_event._diagnostics.count_regions`); above it 100 elite points say
#: little and the search costs more than the level.
MAX_REGION_DIM = 20


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


class MultilevelEstimator:
    r"""Multilevel CE importance sampling, as a driver over the CE optimizer.

    The levels are the iterations of a :class:`~cem._loop.CrossEntropyOptimizer` with the
    nominal family (each elite weighted by its likelihood ratios) and the final level
    :math:`\gamma` (:func:`cem._elite.level_threshold`): the elite → fit → smooth step is the
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
        self.sign = signed(direction)
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
        (:func:`~cem.rare_event._variants.conditional_refit`); with ``defensive`` the defensive
        mixture.
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
            marginal_v = marginal(v, hook.given)
            if status == "done" and not o["mcmc_samples"]:
                v = self._conditional_refit(hook, levels, marginal_v)
            else:
                v = marginal_v
            nominal = marginal(nominal, hook.given)
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
        return self._estimate(X, joined_scores(parts, n_final, batch_size, 1.0, v))

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
        log_est, est, se, rel = final_estimate(log_w, n_final)
        diag = weight_diagnostics(log_w, n_final)
        seconds = (opt.history[-1].seconds if len(opt.history) else 0.0) + (
            time.perf_counter() - fin.started
        )
        res = make_result(log_est, est, se, rel, diag, n_final, fin.levels,
                          fin.evaluations + n_final, seconds, "ce-cmc" if hook else "ce-is", v,
                          fin.status)  # fmt: skip
        res["history"] = opt.history
        # After an MCMC refit the final family no longer rests on the levels' weights.
        refit = bool(o["mcmc_samples"]) and fin.status == "done"
        return diagnose(res, diag, fin.level_ess, fin.lost_support, fin.status, self.regions,
                         fin.level_ess[-1:] if refit else None)  # fmt: skip

    def _conditional_refit(
        self, hook: ConditionalHook, levels: list[LevelRecord], v: Family
    ) -> Family:
        """:func:`~cem.rare_event._variants.conditional_refit` on the last level's samples,
        drawn again from their seed (no score is evaluated)."""
        o, start = self.options, self.start
        drawn = start.with_params(**levels[-2].params) if len(levels) > 1 else start
        X = sample_batches(drawn, o["n_samples"], self.seed, levels[-1].t,
                           batch_size=o["batch_size"],
                           runner=self.optimizer.batch_runner)  # fmt: skip
        return conditional_refit(hook, marginal(self.nominal, hook.given), v,
                                  marginal(drawn, hook.given), X)  # fmt: skip

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
        The run's randomness (SPEC 7, :func:`cem._parallel.as_seed_sequence`); the same
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
        (the verdict of :func:`cem.rare_event._diagnostics.check_estimate`, ``""`` when trusted).

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
