r"""The generic cross-entropy iteration, with an ask/tell interface.

One iteration (de Boer et al. 2005, Algorithm 2.1 / 3.1):

1. draw :math:`X_1..X_N \sim f(\cdot; v_{t-1})` and score them;
2. :math:`\gamma_t` = the :math:`(1-\rho)` sample quantile of the scores (in the
   problem's sense), i.e. the ``N_e``-th best score with ``N_e = ceil(rho N)``;
3. fit :math:`\tilde v_t` to the elite :math:`\{X_k : S(X_k) \ge \gamma_t\}` by
   maximum likelihood (the CE step), weighted by likelihood ratios
   :math:`W_k = f(X_k; u) / f(X_k; v_{t-1})` when a nominal family :math:`f(\cdot; u)`
   is given: :math:`\tilde v_t = \operatorname{argmax}_v \sum_{k \in E} W_k \log f(X_k; v)`;
4. smooth :math:`v_t = \alpha \tilde v_t + (1 - \alpha) v_{t-1}` (scale parameters
   optionally with :math:`\beta_t = \beta - \beta (1 - 1/t)^q`);
5. record :math:`\gamma_t`, the scores, the entropy of :math:`f(\cdot; v_t)` and its KL
   divergence :math:`D(f(\cdot; v_t) \| f(\cdot; v_{t-1}))` from the previous family;
6. stop when a rule fires.

With a nominal family and a ``level`` :math:`\gamma`, step 2 becomes
:math:`\gamma_t = \min(\gamma, \hat q_{1-\rho})` (:func:`cem._elite.level_threshold`) and
the run stops when :math:`\gamma_t = \gamma`: the levels of multilevel CE importance
sampling (de Boer et al. 2005, Algorithm 2.1), which :mod:`cem.rare_event` drives.

Two options make the iteration memetic. ``polish="elite"`` replaces the elite by the
problem's local search of it before step 3 (the family is fitted to local optima).
``keep_elite = K`` adds, in step 2, the ``K`` best distinct rows of the last (polished)
elite to the new samples, ranked with them: a :math:`(\mu + \lambda)` selection
(Schwefel 1981) in which the best solutions found survive, so a local search continues
from them instead of starting again from fresh samples. The kept rows count in
:math:`\gamma_t` and in the fit, not in the sample mean or ``nfev``.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.
.. [2] H.-P. Schwefel, *Numerical Optimization of Computer Models*, Wiley, 1981.
"""

from __future__ import annotations

import copy
import math
import sys
import time
import warnings
from collections.abc import Callable
from typing import IO, Any, Literal

import numpy as np

from cem._checks import is_real
from cem._elite import (
    check_scores,
    elite_threshold,
    level_threshold,
    sample_elite,
    signed_scores,
)
from cem._memory import iteration_bytes, require
from cem._parallel import BatchRunner, sample_batches
from cem._presets import apply_method, auto_applies
from cem._sampling import MovedSampler, box_bounds, check_in_box
from cem._scaling import MAX_CONDITION, MIN_MULTIPLIER, VarianceScaling, condition_number
from cem._seeding import RNGLike, root_seed
from cem.errors import CEMWarning, ConfigError, DegenerateWeightsWarning, InvalidScoreError
from cem.families import Family, FullNormal, Normal
from cem.history import History, IterationRecord
from cem.options import check_budget, elite_size, resolve_options
from cem.problem import Problem, as_problem, check_family
from cem.result import OptimizeResult

__all__ = ["CrossEntropyOptimizer", "check_scores", "maximize", "minimize", "optimize"]

#: Criteria that mean the search converged (the others are budgets).
_CONVERGED = {"stall", "stall_best", "degenerate", "scaling", "condition", "target", "level"}
#: Criteria after which ``restarts`` starts the search again.
_RESTARTABLE = {"stall", "stall_best", "degenerate", "scaling", "condition"}


class CrossEntropyOptimizer:
    r"""Cross-entropy optimizer over any :class:`~cem.families.Family`.

    Use :meth:`run` for a complete run, or drive it yourself with :meth:`ask` and
    :meth:`tell` (for example around an external simulator), checking :meth:`stop`.

    Parameters
    ----------
    problem : Problem or callable
        The objective. A callable takes an ``(N, ...)`` batch and returns ``(N,)``.
    family : Family, optional
        The starting family; defaults to ``problem.initial_family()``.
    sense : {"max", "min"}, optional
        Required to agree with ``problem.sense``; sets the sense of a callable
        (default ``"max"``).
    callback : callable, optional
        ``callback(optimizer)`` after every iteration; returning ``True`` stops.
    progress : file-like, optional
        Where ``verbose`` writes its per-iteration table (default ``sys.stdout``).
    rng : None, int, SeedSequence or Generator
        The run's randomness (SPEC 7, :func:`cem._parallel.as_seed_sequence`). A seeded
        run gives the same result to the bit for any ``n_jobs`` and backend.
    nominal : Family, optional
        The nominal family :math:`f(\cdot; u)` of importance sampling: each update then
        weights the elite by the likelihood ratios :math:`f(X_k; u) / f(X_k; v_{t-1})`
        (computed in log space, scaled by their maximum). All of them 0 or NaN stops the
        run (``"weights"``) with a :class:`~cem.errors.DegenerateWeightsWarning`.
    level : float, optional
        The final level :math:`\gamma` of multilevel CE: :math:`\gamma_t` is capped at it
        (and raised past a stalled quantile, :func:`cem._elite.level_threshold`); reaching
        it stops the run (``"level"``).
    constrain : callable, optional
        ``constrain(family) -> family`` after every update, e.g. tied or screened
        parameters (:func:`cem.rare_event.tie_and_screen`).
    **options
        See :data:`cem.options.OPTIONS` (``n_samples``, ``rho``, ``n_elite``,
        ``alpha``, ``beta``, ``q``, stopping rules, ``n_jobs``, ...); ``seed`` is the
        configs' spelling of an integer ``rng``.

    References
    ----------
    .. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
       cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from cem import CrossEntropyOptimizer
    >>> from cem.families import Normal
    >>> opt = CrossEntropyOptimizer(lambda X: -np.sum((X - 1) ** 2, axis=1),
    ...                             Normal(np.zeros(2), 5.0), n_samples=200, rng=1)
    >>> res = opt.run()
    >>> bool(np.allclose(res.x, 1, atol=1e-3))
    True
    """

    def __init__(
        self,
        problem: Problem | Callable[[np.ndarray], Any],
        family: Family | None = None,
        *,
        sense: Literal["max", "min"] | None = None,
        callback: Callable[[CrossEntropyOptimizer], bool | None] | None = None,
        progress: IO[str] | None = None,
        rng: RNGLike = None,
        nominal: Family | None = None,
        level: float | None = None,
        constrain: Callable[[Family], Family] | None = None,
        **options: Any,
    ) -> None:
        self.problem = as_problem(problem, family, sense)
        #: The options as given, resolved against the table, before ``method`` applies.
        self.resolved_options = resolve_options({**self.problem.default_options(), **options})
        start = family if family is not None else self.problem.initial_family()
        auto = auto_applies(self.resolved_options, start)
        self.options, self.family = apply_method(dict(self.resolved_options), start)
        #: The starting family, to which a restart returns.
        self.initial_family = self.family
        check_family(self.problem, self.family)
        n = self.options["n_samples"]
        check_budget(self.options)
        self.n_elite = elite_size(self.options)
        #: AMaLGaM's variance scaling and mean shift under ``method="auto"`` (else None).
        self.scaling = self._new_scaling() if auto else None
        self._box = self._check_bounds(nominal)
        extra = getattr(self.problem, "score_bytes_per_sample", 0)
        d = math.prod(self.family.event_shape)
        require(f"n_samples={n} of {d} coordinates each (the problem's size)", iteration_bytes(
            n, self.family.event_shape, per_sample=extra, n_elite=self.n_elite,
            batch_size=self.options["batch_size"]))  # fmt: skip
        if self.options["polish"] != "none" and not self.problem.can_polish:
            raise ConfigError(
                f"polish={self.options['polish']!r} needs a problem with a local search; "
                f"{type(self.problem).__name__} has none (use polish='none')"
            )
        self.sign = 1.0 if self.problem.sense == "max" else -1.0
        if level is not None and not is_real(level):
            raise ConfigError(f"level must be a finite number, got {level!r}")
        self.nominal, self.level, self.constrain = nominal, level, constrain
        self._cap = np.inf if level is None else self.sign * float(level)
        self.seed = root_seed(rng, self.options["seed"])
        self.callback, self.progress = callback, progress
        if self.options["keep_elite"] and (nominal is not None or level is not None):
            raise ConfigError(
                f"keep_elite={self.options['keep_elite']} is for an optimization: it cannot "
                "be combined with nominal or level (the kept rows have no CE weight)"
            )
        if self.n_elite == 1:
            warnings.warn(
                f"the elite holds a single sample (n_samples={n}, rho={self.options['rho']}); "
                "the first fit collapses the family onto it. Raise n_samples or rho.",
                CEMWarning,
                stacklevel=2,
            )
        self.t = 0
        self.evals = 0
        self.history = History()
        self.best_x: np.ndarray | None = None
        self.best_score = -np.inf  # internal, maximization sense
        self._stall = 0
        self._since_best = 0  # iterations since the best score last improved
        self._stop: dict[str, str] = {}
        self._elapsed = 0.0
        self._started: float | None = None
        self._runner: BatchRunner | None = None
        #: The last iteration's raw scores ``(N,)`` and its elite: rows and CE weights
        #: (``None`` for an unweighted fit).
        self.scores: np.ndarray | None = None
        self.elite: tuple[np.ndarray, np.ndarray | None] | None = None
        #: The best distinct rows of the last elite and their scores (maximization
        #: sense), candidates of the next elite (``keep_elite``).
        self.kept: tuple[np.ndarray, np.ndarray] | None = None
        #: One entry per start of the search (``restarts``): its first iteration, the
        #: evaluations before it, its ``n_samples`` and the criteria that ended the last.
        self.restarts: list[dict[str, Any]] = [{"t": 1, "evals": 0, "n_samples": n, "after": ""}]

    def _new_scaling(self) -> VarianceScaling:
        full = isinstance(self.family, FullNormal)
        return VarianceScaling(self.options["n_samples"], self.n_elite,
                               self.family.event_shape[0], full)  # fmt: skip

    def _check_bounds(self, nominal: Family | None) -> tuple[np.ndarray, np.ndarray] | None:
        bounds = self.options["bounds"]
        if bounds is None:
            return None
        if type(self.family) not in (Normal, FullNormal):
            raise ConfigError(
                f"bounds is an option of the Normal and FullNormal families, not of "
                f"{type(self.family).__name__} (TruncatedNormal takes its own bounds)"
            )
        if nominal is not None:
            raise ConfigError("bounds cannot be combined with nominal: the projected samples "
                              "have no density")  # fmt: skip
        lower, upper = box_bounds(bounds, self.family.event_shape[0])
        check_in_box(self.family, lower, upper)
        return lower, upper

    @property
    def sampler(self) -> Family | MovedSampler:
        """What the next iteration samples from: the family, or the family moved by the
        anticipated mean shift and projected into ``bounds`` (:mod:`cem._sampling`)."""
        if self.scaling is None and self._box is None:
            return self.family
        shift = None if self.scaling is None else self.scaling.ams_shift()
        fraction = 0.0 if self.scaling is None else self.scaling.ams_fraction
        lower, upper = self._box if self._box is not None else (None, None)
        return MovedSampler(self.family, shift, fraction, lower, upper)

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> np.ndarray:
        """Samples of the next iteration, ``(n_samples, *event_shape)``.

        They are the same samples that :meth:`run` would score.
        """
        self._start_clock()
        o = self.options
        return sample_batches(self.sampler, o["n_samples"], self.seed, self.t + 1,
                              batch_size=o["batch_size"], runner=self.batch_runner)  # fmt: skip

    def tell(self, X: np.ndarray, scores: Any, weights: Any = None) -> IterationRecord:
        """Update the family from scored samples; returns the iteration's record.

        Parameters
        ----------
        X : ndarray, shape (N, ...)
            The samples (usually those of :meth:`ask`).
        scores : array_like, shape (N,)
            Their scores.
        weights : array_like, shape (N,), optional
            Nonnegative finite weights of the samples in the CE step, e.g. likelihood
            ratios :math:`f(X_k; u) / g(X_k)` of samples drawn from another density
            :math:`g`. They replace those computed from ``nominal``.
        """
        self._start_clock()
        X = np.asarray(X)
        if X.ndim < 1 or X.shape[1:] != self.family.event_shape:
            raise ConfigError(
                f"X must have shape (N, {', '.join(map(str, self.family.event_shape))}), "
                f"got {X.shape}"
            )
        raw = self._checked(scores, X.shape[0])
        if weights is not None:
            weights = np.asarray(weights, dtype=float)
            if weights.shape != raw.shape or not np.all(np.isfinite(weights) & (weights >= 0)):
                raise ConfigError(f"weights must be {raw.shape[0]} finite nonnegative numbers, "
                                  f"got shape {weights.shape}")  # fmt: skip
            if self.options["keep_elite"]:
                keep = self.options["keep_elite"]
                raise ConfigError(f"weights cannot be given with keep_elite={keep} "
                                  "(the kept rows have none)")  # fmt: skip
        return self._update(X, signed_scores(raw, self.sign), raw, weights)

    def _update(
        self, X: np.ndarray, s: np.ndarray, raw: np.ndarray, weights: np.ndarray | None = None
    ) -> IterationRecord:
        """The CE update from the rows ``X`` (every elite row among them) of an iteration.

        ``s`` are their scores in the maximization sense (NaN as ``-inf``), ``raw`` the
        scores of all the iteration's samples as the objective returned them, ``weights``
        the rows' own CE weights (:meth:`tell`).
        """
        infinite = np.sum(self.sign * raw == np.inf)
        if infinite:
            warnings.warn(
                f"iteration {self.t + 1}: the score function returned "
                f"{'+' if self.sign > 0 else '-'}inf for {int(infinite)} samples "
                "(an overflow?); they rank best",
                CEMWarning,
                stacklevel=3,
            )
        if self.kept is not None:  # keep_elite: the last elite's best rows compete again
            X, s = np.concatenate([X, self.kept[0]]), np.concatenate([s, self.kept[1]])
        n_elite = min(self.n_elite, s.shape[0])
        if self.level is None:
            gamma = elite_threshold(s, n_elite)
        else:
            last = self.sign * self.history[-1].gamma if len(self.history) else None
            gamma = level_threshold(signed_scores(raw, self.sign), n_elite, self._cap, last)
        if gamma == -np.inf:
            raise InvalidScoreError("every score of the elite is NaN or infinitely bad")
        elite = s >= gamma
        X_elite, s_elite = (X, s) if elite.all() else (X[elite], s[elite])
        if weights is not None:
            weights = weights[elite]
        if self.options["polish"] == "elite":
            X_elite, s_elite = self._polish_distinct(X_elite, s_elite)
        if self.options["keep_elite"]:
            _, first = np.unique(X_elite, axis=0, return_index=True)
            best = first[np.argsort(-s_elite[first], kind="stable")[: self.options["keep_elite"]]]
            self.kept = (np.array(X_elite[best]), np.array(s_elite[best]))
        self.t += 1
        self.evals += raw.shape[0]
        k = int(np.argmax(s_elite))
        self._since_best += 1
        before = self.best_score
        if s_elite[k] > self.best_score:
            self.best_score, self.best_x = float(s_elite[k]), np.array(X_elite[k])
            self._since_best = 0
        previous = self.family
        if weights is None and self.nominal is not None:
            weights = self._likelihood_ratios(X_elite)
        self.scores, self.elite = raw, (X_elite, weights)
        if weights is not None and not np.any(weights > 0):
            warnings.warn(f"iteration {self.t}: the likelihood ratios of the elite are all 0 "
                          "or NaN (the family has collapsed); the run stops here",
                          DegenerateWeightsWarning, stacklevel=3)  # fmt: skip
            self._stop["weights"] = "the elite's likelihood ratios are all 0 or NaN"
        else:
            fitted = self.family.fit(X_elite, weights)
            if self.scaling is not None:
                improving = X_elite[s_elite > before] if before > -np.inf else None
                self.family = self.scaling.update(self.family, fitted, improving)
            else:
                alpha = self._alpha(self.t)
                self.family = fitted if alpha == 1.0 else fitted.smooth(self.family, alpha)
            if self.constrain is not None:
                self.family = self.constrain(self.family)
        if gamma >= self._cap:
            self._stop["level"] = f"gamma_t reached the level {self.level!r}"
        finite = raw[np.isfinite(raw)]
        record = IterationRecord(
            t=self.t,
            gamma=float(self.sign * gamma),
            best=float(self.sign * self.best_score),
            mean=float(finite.mean()) if finite.size else float("nan"),
            entropy=self.family.entropy(),
            kl=self.family.kl_divergence(previous),
            evals=self.evals,
            seconds=self._elapsed + time.perf_counter() - (self._started or 0.0),
        )
        self._update_stall(record)
        self.history.append(record)
        self._print(record)
        if self.callback is not None and self.callback(self):
            self._stop["callback"] = "the callback asked to stop"
        return record

    def _likelihood_ratios(self, X: np.ndarray) -> np.ndarray:
        r""":math:`W_k = f(X_k; u) / f(X_k; v_{t-1})` scaled by their maximum (0/0 as 0)."""
        assert self.nominal is not None
        with np.errstate(invalid="ignore"):
            log_w = self.nominal.log_pdf(X) - self.family.log_pdf(X)
        log_w = np.where(np.isnan(log_w), -np.inf, log_w)  # 0/0: both densities underflow
        if not np.any(log_w > -np.inf):
            return np.zeros(log_w.shape)
        return np.exp(log_w - np.max(log_w))

    def _polish_distinct(self, X: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""The problem's local search on each distinct row of ``X`` once.

        A concentrated family draws the same candidate many times, and ties at
        :math:`\gamma_t` can put most of them in the elite; polishing each distinct one
        once (the local search is deterministic) and copying the result keeps the cost
        at the number of distinct elite candidates.
        """
        distinct, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
        polished, scores = self.problem.polish(distinct, self.sign * s[first])
        scores = self.sign * check_scores(scores, distinct.shape[0], "raise")
        inverse = inverse.reshape(-1)
        return np.asarray(polished)[inverse], scores[inverse]

    # ------------------------------------------------------------------ stopping
    def stop(self) -> dict[str, str]:
        """The stopping criteria that hold now, name → explanation (empty: go on)."""
        o = self.options
        fired = dict(self._stop)
        if self.t >= o["max_iter"]:
            fired["max_iter"] = f"reached max_iter={o['max_iter']} iterations"
        if o["stall_iters"] is not None and self._stall >= o["stall_iters"]:
            fired["stall"] = f"gamma_t unchanged for {o['stall_iters']} iterations"
        if o["stall_best"] is not None and self._since_best >= o["stall_best"]:
            fired["stall_best"] = f"the best score unchanged for {o['stall_best']} iterations"
        if o["degenerate_tol"] is not None and self.family.is_degenerate(o["degenerate_tol"]):
            fired["degenerate"] = f"the family is degenerate (tol={o['degenerate_tol']})"
        if o["target"] is not None and self.t and self.best_score >= self.sign * o["target"]:
            fired["target"] = f"the best score reached target={o['target']}"
        if o["max_evals"] is not None and self.evals + o["n_samples"] > o["max_evals"]:
            fired["max_evals"] = f"another iteration would exceed max_evals={o['max_evals']}"
        if o["max_time"] is not None and self.t and self.history[-1].seconds >= o["max_time"]:
            fired["max_time"] = f"ran for max_time={o['max_time']} seconds"
        if self.scaling is not None and self.scaling.multiplier < MIN_MULTIPLIER:
            fired["scaling"] = f"the variance multiplier fell below {MIN_MULTIPLIER:g}"
        if self.scaling is not None and condition_number(self.family) > MAX_CONDITION:
            fired["condition"] = f"the covariance's condition number exceeds {MAX_CONDITION:g}"
        return fired

    def restart(self, fired: dict[str, str]) -> bool:
        """Start the search again after the convergence criteria ``fired``, if ``restarts``.

        ``restarts="ipop"`` doubles ``n_samples`` (and a given ``n_elite``) and returns to
        the starting family (and a fresh variance scaling), keeping the best so far, the
        history, the iteration count and the evaluations, with the seed stream going on
        at the next iteration. It does not restart after a budget or another criterion,
        nor when one iteration of the larger sample would exceed ``max_evals`` (which then
        ends the run). Returns whether it restarted.
        """
        o = self.options
        if o["restarts"] is None or not fired or not fired.keys() <= _RESTARTABLE:
            return False
        n = 2 * o["n_samples"]
        if self.evals + n > o["max_evals"]:
            self._stop["max_evals"] = (f"a restart with n_samples={n} would exceed "
                                       f"max_evals={o['max_evals']}")  # fmt: skip
            return False
        elite = None if o["n_elite"] is None else 2 * o["n_elite"]
        self.options = {**o, "n_samples": n, "n_elite": elite}
        self.n_elite = elite_size(self.options)
        self.family = self.initial_family
        self.scaling = self._new_scaling() if self.scaling is not None else None
        self._stall = self._since_best = 0
        self.kept = None
        self.restarts.append({"t": self.t + 1, "evals": self.evals, "n_samples": n,
                              "after": ", ".join(fired)})  # fmt: skip
        return True

    # ------------------------------------------------------------------ run
    def step(self) -> IterationRecord:
        """One iteration: sample and score in batches, keep the rows that may be elite, update.

        Only the scores of all ``N`` samples and the rows that may belong to the elite
        are kept (:func:`cem._elite.sample_elite`), never the ``N x d`` sample matrix;
        the update is that of :meth:`tell` on all the samples, to the bit.
        """
        self._start_clock()
        o = self.options
        raw, X, s = sample_elite(
            self.batch_runner, self.sampler, o["n_samples"], self.seed, self.t + 1,
            n_elite=self.n_elite, sign=self.sign, batch_size=o["batch_size"], cap=self._cap,
        )  # fmt: skip
        return self._update(X, s, self._checked(raw, raw.shape[0]))

    def _checked(self, scores: Any, n: int) -> np.ndarray:
        return check_scores(
            scores, n, self.options["nan_policy"], can_rank_nan=self.nominal is None
        )

    def run(self) -> OptimizeResult:
        """Iterate until a stopping rule fires; returns :meth:`result`."""
        if self.options["verbose"]:
            self._print_header()
        try:
            while True:
                fired = self.stop()
                if fired and not self.restart(fired):
                    break
                self.step()
        finally:
            self.close()
        if len(self.history):
            self._print(self.history[-1], final=True)
        return self.result()

    @property
    def batch_runner(self) -> BatchRunner:
        """The :class:`~cem._parallel.BatchRunner` of this run, made on first use."""
        if self._runner is None:
            o = self.options
            self._runner = BatchRunner(
                self.problem.score,
                n_jobs=o["n_jobs"],
                backend=o["backend"],
                batch_timeout=o["batch_timeout"],
            )
        return self._runner

    def close(self) -> None:
        """Release what the workers hold for this run (the optimizer stays usable)."""
        if self._runner is not None:
            self._runner.close()

    def result(self) -> OptimizeResult:
        """The result so far (best point, score, stop reason, history, final family)."""
        fired = self.stop()
        x, best = self.best_x, self.best_score
        if self.options["polish"] == "best" and x is not None:
            xs, ss = self.problem.polish(x[None], np.array([self.sign * best]))
            ss = self.sign * check_scores(ss, 1, "raise")
            if ss[0] >= best:
                x, best = np.array(xs[0]), float(ss[0])
        fun = float(self.sign * best) if x is not None else None
        known = self.problem.known_optimum
        gap = None
        if known is not None and fun is not None:
            gap = abs(fun - known) / abs(known) if known != 0 else abs(fun - known)
        return OptimizeResult(
            x=x,
            fun=fun,
            nit=self.t,
            nfev=self.evals,
            stop=fired,
            status=next(iter(fired), "not stopped"),
            message="; ".join(fired.values()) or "not stopped",
            success=bool(_CONVERGED & fired.keys()) and x is not None,
            seconds=self.history[-1].seconds if len(self.history) else 0.0,
            family=self.family,
            history=self.history,
            known_optimum=known,
            gap=gap,
            sense=self.problem.sense,
            seed=self.seed.entropy,
            **({"restarts": list(self.restarts)} if self.options["restarts"] else {}),
        )

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run exactly (see :meth:`load_state_dict`).

        The random state is implied by the root seed and ``t``: iteration ``t``'s
        generators are its children (:func:`cem._parallel.child_seed`).
        """
        return {
            "t": self.t,
            "evals": self.evals,
            "family": self.family,
            "history": list(self.history.records),
            "best_x": self.best_x,
            "best_score": self.best_score,
            "stall": self._stall,
            "since_best": self._since_best,
            "kept": self.kept,
            "scaling": copy.deepcopy(self.scaling),
            "restarts": list(self.restarts),
            "n_samples": self.options["n_samples"],
            "n_elite": self.options["n_elite"],
            "stop": dict(self._stop),
            "elapsed": self._elapsed
            + (time.perf_counter() - self._started if self._started is not None else 0.0),
            "seed_entropy": self.seed.entropy,
            "seed_spawn_key": tuple(self.seed.spawn_key),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict`."""
        self.t, self.evals = int(state["t"]), int(state["evals"])
        self.family = state["family"]
        self.history = History(state["history"])
        self.best_x, self.best_score = state["best_x"], float(state["best_score"])
        self._stall, self._stop = int(state["stall"]), dict(state["stop"])
        self._since_best = int(state.get("since_best", 0))
        self.kept = state.get("kept")
        self.scaling = state.get("scaling", self.scaling)
        self.restarts = list(state.get("restarts", self.restarts))
        if "n_samples" in state:
            self.options = {**self.options, "n_samples": int(state["n_samples"]),
                            "n_elite": state["n_elite"]}  # fmt: skip
            self.n_elite = elite_size(self.options)
        self._elapsed, self._started = float(state["elapsed"]), None
        self.seed = np.random.SeedSequence(
            state["seed_entropy"], spawn_key=tuple(state.get("seed_spawn_key", ()))
        )

    # ------------------------------------------------------------------ helpers
    def _alpha(self, t: int) -> float | dict[str, float]:
        o = self.options
        if o["beta"] is None or not self.family.scale_params:
            return o["alpha"]
        beta_t = o["beta"] - o["beta"] * (1.0 - 1.0 / t) ** o["q"]
        return {"*": o["alpha"], **{name: beta_t for name in self.family.scale_params}}

    def _update_stall(self, record: IterationRecord) -> None:
        if self.history.records:
            unchanged = abs(record.gamma - self.history[-1].gamma) <= self.options["gamma_tol"]
            self._stall = self._stall + 1 if unchanged else 0

    def _start_clock(self) -> None:
        if self._started is None:
            self._started = time.perf_counter()

    _HEADER = (
        f"{'t':>5} {'gamma_t':>14} {'best':>14} {'mean':>14} {'entropy':>10} {'evals':>10}"
        f" {'seconds':>8}"
    )

    def _print_header(self) -> None:
        print(self._HEADER, file=self.progress or sys.stdout, flush=True)

    def _print_every(self) -> int:
        """The table's period: ``verbose`` as an int k (``True`` is 1, ``False`` is 0)."""
        return int(self.options["verbose"])

    def _print(self, r: IterationRecord, final: bool = False) -> None:
        """Print ``r`` when ``verbose = k`` asks: iteration 1, every k-th, and the last.

        ``final`` marks the end of a run: the last record is printed unless it already was.
        """
        k = self._print_every()
        if not k:
            return
        due = r.t == 1 or r.t % k == 0
        if final == due:  # printed when it was told, or not due and now the last
            return
        print(
            f"{r.t:>5} {r.gamma:>14.6g} {r.best:>14.6g} {r.mean:>14.6g} {r.entropy:>10.4g}"
            f" {r.evals:>10} {r.seconds:>8.2f}",
            file=self.progress or sys.stdout,
            flush=True,
        )


def optimize(
    problem: Problem | Callable[[np.ndarray], Any],
    family: Family | None = None,
    **options: Any,
) -> OptimizeResult:
    """Run the CE method on ``problem`` in its own sense (``problem.sense``).

    Parameters
    ----------
    problem : Problem or callable
    family : Family, optional
        Starting family (default ``problem.initial_family()``).
    **options
        Optimizer options (:data:`cem.options.OPTIONS`), plus ``callback`` and
        ``sense`` as in :class:`~cem._loop.CrossEntropyOptimizer`.

    Returns
    -------
    OptimizeResult
    """
    return CrossEntropyOptimizer(problem, family, **options).run()


def maximize(
    problem: Problem | Callable[[np.ndarray], Any],
    family: Family | None = None,
    **options: Any,
) -> OptimizeResult:
    r"""Maximize ``problem`` with the CE method.

    Examples
    --------
    >>> import numpy as np
    >>> from cem import maximize
    >>> from cem.families import Normal
    >>> S = lambda X: np.exp(-(X[:, 0] - 2) ** 2) + 0.8 * np.exp(-(X[:, 0] + 2) ** 2)
    >>> res = maximize(S, Normal([-6.0], [10.0]), n_samples=100, n_elite=10, seed=0)
    >>> round(float(res.x[0]), 3)
    2.0
    """
    return CrossEntropyOptimizer(problem, family, sense="max", **options).run()


def minimize(
    problem: Problem | Callable[[np.ndarray], Any],
    family: Family | None = None,
    **options: Any,
) -> OptimizeResult:
    """Minimize ``problem`` with the CE method (see :func:`maximize`)."""
    return CrossEntropyOptimizer(problem, family, sense="min", **options).run()
