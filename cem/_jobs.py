"""The two kinds of run a config describes: an optimization and a rare-event estimation.

A config's ``[problem]`` decides the kind: a :class:`cem.rare_event.RareEventProblem` is
estimated (:class:`Estimation`, its ``[estimator]`` section), any other problem optimized
(:class:`Optimization`, its ``[optimizer]`` section). Each class knows its section, builds
its engine (:meth:`Job.build`: the engine's own checks are the validation, so ``cem
validate`` accepts exactly what ``cem run`` starts), records its checkpoints, runs the
engine into a run directory (:meth:`Job.run`, through :mod:`cem.rundir`), draws its figure
and sums up its result. The runner and the command line hold no branch on the kind.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, ClassVar, TypeVar

import numpy as np

from cem._loop import CrossEntropyOptimizer
from cem._progress import ProgressBar
from cem._version import __version__
from cem.errors import BatchError, CEMError, ConfigError, ResourceLimitError, RunInterrupted
from cem.families import Family
from cem.options import ESTIMATOR_OPTIONS, OPTIONS, Option, validate_table
from cem.plotting import plot_levels, plot_records
from cem.problem import Problem
from cem.rare_event import MultilevelEstimator, RareEventProblem
from cem.result import EstimateResult, OptimizeResult, Result, gap_kind
from cem.rundir import (
    CHECKPOINT,
    FIGURE,
    PARAM_PREFIX,
    RunRecord,
    config_digest,
    read_checkpoint,
    write_arrays,
    write_checkpoint,
    write_history,
    write_levels,
    write_result,
)

__all__ = ["Estimation", "Job", "Optimization", "UNTRUSTED_EXIT", "job_class"]

#: Family parameters are recorded per iteration when they hold at most this many numbers.
MAX_RECORDED_PARAMS = 100_000
#: Exit status of ``cem run``/``cem resume`` for an estimate whose interval is untrusted.
UNTRUSTED_EXIT = 3

T = TypeVar("T")
J = TypeVar("J", bound="Job")


def _fresh_seed(seed: int | None) -> int:
    """The run's seed: the given one, or 63 bits of fresh entropy (written to the run's
    ``config.toml``, so that the run can be repeated and resumed)."""
    if seed is not None:
        return seed
    return int(np.random.SeedSequence().generate_state(2, np.uint64)[0] % 2**63)


class Job:
    """A validated run of one kind: its problem, family, resolved options and engine."""

    #: The config section of the kind's options.
    section: ClassVar[str]
    #: The kind's options table.
    table: ClassVar[dict[str, Option]]
    #: What one step of the engine is called ("iteration", "level").
    step: ClassVar[str]
    #: The kind, as ``cem validate`` names it.
    what: ClassVar[str]

    def __init__(self, problem: Any, family: Family, options: dict[str, Any], engine: Any):
        self.problem, self.family, self.options, self.engine = problem, family, options, engine

    @classmethod
    def build(
        cls: type[J], problem: Any, family: Family, given: dict[str, Any], cli: dict[str, Any]
    ) -> J:
        """The job of ``problem`` and ``family`` with the section's values ``given`` and the
        command line's ``seed``, ``n_jobs``, ``max_iter``; its errors name the section."""
        try:
            return cls._build(problem, family, given, cli)
        except (ConfigError, ResourceLimitError) as exc:
            message = str(exc)
            if message.startswith("["):
                raise
            raise type(exc)(f"[{cls.section}] {message}") from None

    @classmethod
    def _build(
        cls: type[J], problem: Any, family: Family, given: dict[str, Any], cli: dict[str, Any]
    ) -> J:
        raise NotImplementedError

    # ------------------------------------------------------------------ running
    def run(
        self,
        run_dir: Path,
        output: dict[str, Any],
        *,
        state: dict[str, Any] | None = None,
        quiet: bool = False,
        stream: IO[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Result:
        """Run (or, from a checkpoint's ``state``, continue) the engine in ``run_dir``; write
        the history, ``result.json`` (with ``extra``), the kind's files and the figure."""
        raise NotImplementedError

    def read_state(self, run_dir: Path, allow_config_change: bool) -> dict[str, Any]:
        """The checkpoint of ``run_dir``, checked against this job's family and config."""
        path = Path(run_dir) / CHECKPOINT
        if not path.is_file():
            old = (" (checkpoint.pkl is an old pickle checkpoint, never loaded)"
                   if (Path(run_dir) / "checkpoint.pkl").exists() else "")  # fmt: skip
            raise ConfigError(f"{run_dir} has no {CHECKPOINT} to resume from{old}")
        return read_checkpoint(run_dir, self._start(), allow_config_change)

    def _start(self) -> Family:
        return self.family

    def _guarded(self, run: Callable[[], T], bar: ProgressBar, where: Callable[[], str],
                 kept: Callable[[], str]) -> T:  # fmt: skip
        """``run()``; an unexpected exception becomes the one-line error of
        :func:`run_failure` (``where()`` the run was, what of it is ``kept()``). The progress
        bar is removed."""
        try:
            return run()
        except KeyboardInterrupt:
            raise RunInterrupted(f"interrupted at {where()}; {kept()}") from None
        except Exception as exc:
            if isinstance(exc, CEMError) and not isinstance(exc, BatchError):
                raise
            if isinstance(exc, OSError) and exc.filename is not None:
                raise  # the file system's own error (a full disk, ...), reported as such
            raise run_failure(exc, where(), kept()) from exc
        finally:
            bar.close()

    def _kept(self, output: dict[str, Any], run_dir: Path, done: int) -> str:
        """What an interrupted run keeps after ``done`` finished iterations or levels."""
        if output["checkpoint"] and done > 0:
            return f"the checkpoint after {self.step} {done} is kept (cem resume {run_dir})"
        return "no checkpoint was written"

    def _write_summary(self, run_dir: Path, result: Result, specific: dict[str, Any]
                       ) -> dict[str, Any]:  # fmt: skip
        """Write ``result.json``: the keys every result shares, then the kind's own ones."""
        summary = {
            "problem": self.problem.describe(),
            **specific,
            "status": result.status,
            "message": result.message,
            "success": result.success,
            "nit": result.nit,
            "nfev": result.nfev,
            "seconds": result.seconds,
            "seed": self.options["seed"],
            "config_sha256": config_digest(run_dir),
            "cem_version": __version__,
        }
        write_result(run_dir, summary)
        return summary

    # ------------------------------------------------------------------ reporting
    def summary_lines(self, result: Result) -> list[str]:
        """What the run found, in the problem's terms, for the end of ``cem run``."""
        raise NotImplementedError

    def exit_status(self, result: Result, output: dict[str, Any]) -> int:
        """The exit status of ``cem run``/``cem resume`` for ``result``: 0 by default."""
        return 0


def _progress_bar(options: dict[str, Any], quiet: bool) -> ProgressBar:
    bar = ProgressBar(options, file=None if quiet else sys.stderr)
    bar.enabled = bar.enabled and not quiet
    return bar


def run_failure(exc: BaseException, where: str, kept: str) -> CEMError:
    """One-line error for an exception of a run: where, what, and what is kept of the run.

    A :class:`~cem.errors.BatchError` (the objective raised in a batch) keeps its
    iteration, batch and original exception; anything else is named by ``where``.
    """
    if isinstance(exc, BatchError) and exc.kind == "MemoryError":
        where = f"iteration {exc.iteration}, batch {exc.batch}"
        return ResourceLimitError(f"{where}: out of memory in the score function; {kept}")
    if isinstance(exc, BatchError):
        return BatchError(exc.iteration, exc.batch, exc.kind, f"{exc.reason}; {kept}",
                          exc.original, exc.remote_traceback)  # fmt: skip
    if isinstance(exc, MemoryError):
        return ResourceLimitError(f"{where}: out of memory in the run; {kept}")
    message = " ".join(str(exc).split())
    return CEMError(f"{where}: the run raised {type(exc).__name__}: {message}; {kept}")


class _Recorder:
    """Callback that records family parameters and writes the checkpoint each iteration."""

    def __init__(self, run_dir: Path, checkpoint: bool, params: list[dict[str, np.ndarray]],
                 bar: ProgressBar | None = None):  # fmt: skip
        self.run_dir, self.checkpoint, self.params, self.bar = run_dir, checkpoint, params, bar

    def __call__(self, opt: CrossEntropyOptimizer) -> None:
        fam = opt.family.params()
        if opt.family.fixed_shapes and sum(np.size(v) for v in fam.values()) <= MAX_RECORDED_PARAMS:
            self.params.append({k: np.array(v) for k, v in fam.items()})
        if self.checkpoint:
            write_checkpoint(self.run_dir, opt.state_dict(), self.params)
        if self.bar is not None:
            self.bar(opt)


class _LevelRecorder(_Recorder):
    """Callback of an estimation: the checkpoint after every level, with the levels' state."""

    def __call__(self, est: MultilevelEstimator) -> None:  # type: ignore[override]
        if self.checkpoint:
            state = est.state_dict()
            write_checkpoint(self.run_dir, state["optimizer"], self.params, levels=state)
        if self.bar is not None:
            self.bar(est.optimizer)


class Optimization(Job):
    """An optimization: :class:`~cem.CrossEntropyOptimizer` on a :class:`~cem.Problem`."""

    section = "optimizer"
    table = OPTIONS
    step = "iteration"
    what = "optimization"
    engine: CrossEntropyOptimizer

    @classmethod
    def _build(cls, problem: Any, family: Family, given: dict[str, Any], cli: dict[str, Any]
               ) -> Optimization:  # fmt: skip
        merged = {**given, **cli}
        if "verbose" not in given:
            merged["verbose"] = True  # a config run prints its table unless it says otherwise
        merged["seed"] = _fresh_seed(merged.get("seed"))
        engine = CrossEntropyOptimizer(problem, family, **merged)
        tol = engine.options["degenerate_tol"]
        if tol is not None and family.is_degenerate(tol):
            raise ConfigError(
                f"[family] {family!r} is degenerate from the start (degenerate_tol={tol}): "
                "the run would stop before its first iteration"
            )
        return cls(problem, family, engine.resolved_options, engine)

    def run(self, run_dir: Path, output: dict[str, Any], *, state: dict[str, Any] | None = None,
            quiet: bool = False, stream: IO[str] | None = None,
            extra: dict[str, Any] | None = None) -> OptimizeResult:  # fmt: skip
        params: list[dict[str, np.ndarray]] = list(state["params"]) if state else []
        verbose = False if quiet else self.options["verbose"]
        bar = _progress_bar(dict(self.options, verbose=verbose), quiet)
        opt = self.engine  # built by the validation, not yet run
        opt.callback = _Recorder(run_dir, output["checkpoint"], params, bar)
        opt.progress, opt.options["verbose"] = bar.stream(stream), verbose
        if state is not None:
            opt.load_state_dict(state["optimizer"])
        result = self._guarded(opt.run, bar, lambda: f"iteration {opt.t + 1}",
                               lambda: self._kept(output, run_dir, opt.t))  # fmt: skip
        self._write(run_dir, result, params, output, extra)
        return result

    def _write(self, run_dir: Path, result: OptimizeResult, params: list[dict[str, np.ndarray]],
               output: dict[str, Any], extra: dict[str, Any] | None) -> None:  # fmt: skip
        """Write ``history.csv``, ``result.json``, ``arrays.npz`` and the figure (drawn from
        the result in memory)."""
        write_history(run_dir, result.history)
        x = None if result.x is None else np.asarray(result.x)
        problem: Problem = self.problem
        summary = self._write_summary(run_dir, result, {
            "sense": result.sense,
            "score_label": getattr(problem, "score_label", "score"),
            "best_score": result.fun,
            "solution": None if x is None else problem.format_solution(x),
            "x": None if x is None or x.size > MAX_RECORDED_PARAMS else x.tolist(),
            "known_optimum": result.known_optimum,
            "gap": result.gap,
            "gap_kind": None if result.gap is None else gap_kind(result.known_optimum),
            "stop": result.stop,
            **({"restarts": result.restarts} if "restarts" in result else {}),
            **(extra or {}),
        })  # fmt: skip
        arrays = {} if x is None else {"x": x}
        if params:
            arrays.update({PARAM_PREFIX + k: np.stack([p[k] for p in params]) for k in params[0]})
        write_arrays(run_dir, arrays)
        if x is not None:
            problem.write_solution(x, run_dir)  # the problem's own files (an alignment)
        if output["plots"]:
            record = RunRecord(run_dir.name, result.history, summary, arrays)
            plot_records([record], run_dir / FIGURE, formats=output["formats"], problem=problem)

    def summary_lines(self, result: Result) -> list[str]:
        assert isinstance(result, OptimizeResult)
        lines = [f"best score: {result.fun:.10g}"]
        if result.x is not None:
            lines.append(f"solution: {self.problem.format_solution(np.asarray(result.x))}")
        if result.known_optimum is not None and result.gap is not None:
            gap = (f"absolute gap {result.gap:.4g}" if gap_kind(result.known_optimum) == "absolute"
                   else f"gap {100 * result.gap:.4g}%")  # fmt: skip
            lines.append(f"known optimum: {result.known_optimum:.10g}  ({gap})")
        lines.append(
            f"stopped: {result.message}  after {result.nit} iterations, {result.nfev} evaluations"
        )
        return lines


class Estimation(Job):
    """A rare-event estimation: the levels of :class:`~cem.rare_event.MultilevelEstimator`
    and its final run, or the problem's own method without levels (``engine`` ``None``)."""

    section = "estimator"
    table = ESTIMATOR_OPTIONS
    step = "level"
    what = "rare-event estimation"
    engine: MultilevelEstimator | None
    problem: RareEventProblem

    @classmethod
    def _build(cls, problem: Any, family: Family, given: dict[str, Any], cli: dict[str, Any]
               ) -> Estimation:  # fmt: skip
        given = {**given, **{("max_levels" if k == "max_iter" else k): v for k, v in cli.items()}}
        options = validate_table(given, ESTIMATOR_OPTIONS, "key")
        options["seed"] = _fresh_seed(options["seed"])
        try:
            engine = problem.estimator(family=family, **options)
        except NotImplementedError:  # a method without levels checks its options itself
            engine = None
        return cls(problem, family, options, engine)

    def _start(self) -> Family:
        assert self.engine is not None
        return self.engine.start

    def read_state(self, run_dir: Path, allow_config_change: bool) -> dict[str, Any]:
        if self.engine is None:
            raise ConfigError(f"{run_dir} is an estimation without levels to resume "
                              f"({self.problem.describe()}); run it again instead")  # fmt: skip
        state = super().read_state(run_dir, allow_config_change)
        if state["levels"] is None:
            raise ConfigError(f"{Path(run_dir) / CHECKPOINT} is the checkpoint of an "
                              "optimization, not of an estimation")  # fmt: skip
        return state

    def run(self, run_dir: Path, output: dict[str, Any], *, state: dict[str, Any] | None = None,
            quiet: bool = False, stream: IO[str] | None = None,
            extra: dict[str, Any] | None = None) -> EstimateResult:  # fmt: skip
        problem, est, o = self.problem, self.engine, self.options
        bar = _progress_bar({"max_iter": o["max_levels"], "max_evals": None,
                             "max_time": o["max_time"]}, quiet)  # fmt: skip
        if est is not None:
            est.callback = _LevelRecorder(run_dir, output["checkpoint"], [], bar)
            if state is not None:
                est.load_state_dict({"optimizer": state["optimizer"], **state["levels"]})
        run = est.run if est is not None else lambda: problem.estimate(family=self.family, **o)
        levels = est.levels if est is not None else []
        result = self._guarded(run, bar, lambda: "the estimation",
                               lambda: self._kept(output, run_dir, len(levels)))  # fmt: skip
        if est is not None:
            write_history(run_dir, result.history)
        if not quiet:
            print(result.format_table(), file=stream or sys.stdout, flush=True)
        try:
            exact = problem.exact()
        except NotImplementedError:
            exact = None
        # What the problem knows, for the summary: the exact value and the error in SEs.
        result["exact"] = exact
        result["error_in_se"] = (None if exact is None or not result.std_error
                                 else (result.estimate - exact) / result.std_error)  # fmt: skip
        self._write_summary(run_dir, result, {
            "gamma": problem.gamma,
            "estimate": result.estimate,
            "log_estimate": result.log_estimate,
            "std_error": result.std_error,
            "rel_error": result.rel_error,
            "ci95": list(result.ci),
            "ess": result.ess,
            "hits": result.hits,
            "n_final": result.n_final,
            **{k: None if math.isnan(result[k]) else result[k]  # NaN with too few hits
               for k in ("max_weight_share", "vov", "pareto_k")},
            "level_ess": result.level_ess.tolist(),
            "trusted": result.trusted,
            "diagnostics": result.diagnostics,
            "exact": exact,
            "error_in_se": result.error_in_se,
            **(extra or {}),
        })  # fmt: skip
        write_levels(run_dir, result.levels)
        if output["plots"]:
            plot_levels(result, problem.gamma, run_dir / FIGURE, exact=exact,
                        formats=output["formats"])  # fmt: skip
        return result

    def summary_lines(self, result: Result) -> list[str]:
        """The exact value and the verdict (the level table printed already sums up the rest)."""
        assert isinstance(result, EstimateResult)
        lines = []
        if result.get("exact") is not None:
            off = result.get("error_in_se")
            within = "" if off is None else f"  (the estimate is {off:+.2f} standard errors off)"
            lines.append(f"exact value: {result.exact:.6g}{within}")
        if not result.get("trusted", True):
            lines.append(f"untrusted: {result.diagnostics}")
        return lines

    def exit_status(self, result: Result, output: dict[str, Any]) -> int:
        """:data:`UNTRUSTED_EXIT` for an untrusted estimate unless ``[output] fail_untrusted
        = false``."""
        untrusted = not result.get("trusted", True)
        return UNTRUSTED_EXIT if untrusted and output["fail_untrusted"] else 0


def job_class(problem: Any) -> type[Job]:
    """The kind of run of ``problem``: :class:`Estimation` for a rare-event problem."""
    return Estimation if isinstance(problem, RareEventProblem) else Optimization
