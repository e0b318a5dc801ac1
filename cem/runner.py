"""Run directories: resolved config, checkpoints after every iteration, results and plots.

A run directory holds

- ``config.toml``: the config with every option resolved, the seed and the cem version;
- ``checkpoint.npz``: the optimizer state after the last finished iteration, written
  atomically (:mod:`cem.checkpoint`: arrays and JSON, no pickle, so a run directory
  from someone else runs no code when resumed);
- ``history.csv``, ``result.json`` (the scalars), ``arrays.npz`` (the best point ``x``
  and, for small families, the family parameters per iteration as ``family.<name>``)
  and the figure ``convergence.<format>`` (``[output] formats``) at the end;
- for a rare-event estimation, the history of its levels (``history.csv``) and
  ``levels.csv`` (one column per parameter coordinate); its checkpoint after every level
  also holds the levels' records (:class:`~cem.rare_event.MultilevelEstimator`).

Since iteration ``t`` draws from generators spawned from ``(seed, t)`` only, a run
resumed from its checkpoint ends with exactly the result of an uninterrupted run.
The checkpoint records the SHA-256 of ``config.toml``: a run whose config was edited
since is resumed only on request (``allow_config_change=True``), which
``result.json`` then records.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

import cem
from cem.checkpoint import read_checkpoint, write_checkpoint
from cem.config import ExperimentConfig, dump_toml
from cem.errors import BatchError, CEMError, ConfigError, ResourceLimitError, RunInterrupted
from cem.io import atomic_write_bytes, atomic_write_text, remove_stale_temps
from cem.loop import CrossEntropyOptimizer
from cem.problem import Problem
from cem.progress import ProgressBar
from cem.rare_event import MultilevelEstimator, RareEventProblem
from cem.result import EstimateResult, OptimizeResult, Result, gap_kind
from cem.rundir import (
    ARRAYS,
    CHECKPOINT,
    CONFIG,
    FIGURE,
    HISTORY,
    LEVELS,
    PARAM_PREFIX,
    RESULT,
    RUN_FILES,
)

__all__ = [
    "CHECKPOINT",
    "config_digest",
    "load_run_config",
    "new_run_dir",
    "resume",
    "run_experiment",
    "write_results",
]

#: Family parameters are recorded per iteration when they hold at most this many numbers.
MAX_RECORDED_PARAMS = 100_000


def new_run_dir(parent: Path, stem: str) -> Path:
    """A fresh ``parent/<stem>-<YYYYmmdd-HHMMSS>`` directory (a suffix avoids collisions)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        path = parent / (f"{stem}-{stamp}" + (f"-{k}" if k else ""))
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise ConfigError(f"cannot create a new run directory under {parent}")


def _claim(out: Path, force: bool) -> Path:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"run directory {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"run directory {out} already exists; pass --force to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out, RUN_FILES)
    return out


def config_digest(run_dir: Path) -> str:
    """SHA-256 of a run directory's ``config.toml``, as the checkpoint records it."""
    return hashlib.sha256((Path(run_dir) / CONFIG).read_bytes()).hexdigest()


def _resolved(cfg: ExperimentConfig, seed: int) -> dict[str, dict[str, Any]]:
    section = "optimizer" if cfg.kind == "optimize" else "estimator"
    options = dict(cfg.run_options, seed=seed)
    raw = {
        "problem": dict(cfg.raw["problem"]),
        section: options,
        "output": dict(cfg.output),
    }
    if "family" in cfg.raw:
        raw["family"] = dict(cfg.raw["family"])
    return raw


class _Recorder:
    """Callback that records family parameters and writes the checkpoint each iteration."""

    def __init__(
        self,
        run_dir: Path,
        checkpoint: bool,
        params: list[dict[str, np.ndarray]],
        digest: str,
        bar: ProgressBar | None = None,
    ):
        self.run_dir, self.checkpoint, self.params, self.bar = run_dir, checkpoint, params, bar
        self.digest = digest

    def __call__(self, opt: CrossEntropyOptimizer) -> None:
        fam = opt.family.params()
        if opt.family.fixed_shapes and sum(np.size(v) for v in fam.values()) <= MAX_RECORDED_PARAMS:
            self.params.append({k: np.array(v) for k, v in fam.items()})
        if self.checkpoint:
            write_checkpoint(self.run_dir / CHECKPOINT, opt.state_dict(), self.params, self.digest)
        if self.bar is not None:
            self.bar(opt)


class _LevelRecorder(_Recorder):
    """Callback of an estimation: the checkpoint after every level, with the levels' state."""

    def __call__(self, est: MultilevelEstimator) -> None:  # type: ignore[override]
        if self.checkpoint:
            state = est.state_dict()
            write_checkpoint(self.run_dir / CHECKPOINT, state["optimizer"], self.params,
                             self.digest, levels=state)  # fmt: skip
        if self.bar is not None:
            self.bar(est.optimizer)


def _execute(
    cfg: ExperimentConfig,
    run_dir: Path,
    state: dict[str, Any] | None,
    quiet: bool,
    stream: IO[str] | None,
    extra: dict[str, Any] | None = None,
) -> OptimizeResult:
    params: list[dict[str, np.ndarray]] = list(state["params"]) if state else []
    # The table as the config says (run_experiment makes every iteration the default).
    options = dict(cfg.options, verbose=False if quiet else cfg.options["verbose"])
    bar = _progress_bar(options, quiet)
    recorder = _Recorder(run_dir, cfg.output["checkpoint"], params, config_digest(run_dir), bar)
    assert isinstance(cfg.problem, Problem)
    opt = CrossEntropyOptimizer(
        cfg.problem, cfg.family, callback=recorder, progress=bar.stream(stream), **options
    )
    if state is not None:
        opt.load_state_dict(state["optimizer"])
    result = _guarded(opt.run, bar, lambda: f"iteration {opt.t + 1}",
                      lambda: _kept(cfg, run_dir, "iteration", opt.t))  # fmt: skip
    write_results(run_dir, result, params, cfg, plots=cfg.output["plots"], extra=extra)
    return result


def _progress_bar(options: dict[str, Any], quiet: bool) -> ProgressBar:
    bar = ProgressBar(options, file=None if quiet else sys.stderr)
    bar.enabled = bar.enabled and not quiet
    return bar


T = TypeVar("T")


def _guarded(run: Callable[[], T], bar: ProgressBar, where: Callable[[], str],
             kept: Callable[[], str]) -> T:  # fmt: skip
    """``run()``; an unexpected exception becomes the one-line error of :func:`_run_failure`
    (``where()`` the run was, what of it is ``kept()``). The progress bar is removed."""
    try:
        return run()
    except KeyboardInterrupt:
        raise RunInterrupted(f"interrupted at {where()}; {kept()}") from None
    except Exception as exc:
        if isinstance(exc, CEMError) and not isinstance(exc, BatchError):
            raise
        if isinstance(exc, OSError) and exc.filename is not None:
            raise  # the file system's own error (a full disk, ...), reported as such
        raise _run_failure(exc, where(), kept()) from exc
    finally:
        bar.close()


def _kept(cfg: ExperimentConfig, run_dir: Path, step: str, done: int) -> str:
    """What an interrupted run keeps after ``done`` finished iterations or levels."""
    if cfg.output["checkpoint"] and done > 0:
        return f"the checkpoint after {step} {done} is kept (cem resume {run_dir})"
    return "no checkpoint was written"


def _run_failure(exc: BaseException, where: str, kept: str) -> CEMError:
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


def write_results(
    run_dir: Path,
    result: OptimizeResult,
    params: list[dict[str, np.ndarray]],
    cfg: ExperimentConfig,
    plots: bool = True,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write ``history.csv``, ``result.json``, ``arrays.npz`` and the convergence figure.

    ``extra`` adds keys to ``result.json`` (e.g. that a resume accepted an edited config).
    """
    result.history.to_csv(run_dir / HISTORY)
    x = None if result.x is None else np.asarray(result.x)
    assert isinstance(cfg.problem, Problem)  # an optimization's problem
    _write_summary(run_dir, cfg, result, {
        "sense": result.sense,
        "score_label": getattr(cfg.problem, "score_label", "score"),
        "best_score": result.fun,
        "solution": None if x is None else cfg.problem.format_solution(x),
        "x": None if x is None or x.size > MAX_RECORDED_PARAMS else x.tolist(),
        "known_optimum": result.known_optimum,
        "gap": result.gap,
        "gap_kind": None if result.gap is None else gap_kind(result.known_optimum),
        "stop": result.stop,
        **(extra or {}),
    })  # fmt: skip
    arrays = {} if result.x is None else {"x": np.asarray(result.x)}
    if params:
        arrays.update({PARAM_PREFIX + k: np.stack([p[k] for p in params]) for k in params[0]})
    if arrays:
        buf = io.BytesIO()
        save: Any = np.savez_compressed  # numpy's stub reads ** as its allow_pickle flag
        save(buf, **arrays)
        atomic_write_bytes(run_dir / ARRAYS, buf.getvalue())
    if x is not None and hasattr(cfg.problem, "write_solution"):
        cfg.problem.write_solution(x, run_dir)  # the problem's own files (an alignment)
    if plots:
        from cem.plotting import plot_runs

        plot_runs([run_dir], run_dir / FIGURE, formats=cfg.output["formats"],
                  problem=cfg.problem)  # fmt: skip


def _write_summary(
    run_dir: Path, cfg: ExperimentConfig, result: Result, specific: dict[str, Any]
) -> None:
    """Write ``result.json``: the keys every result shares, then the kind's own ones."""
    options = cfg.run_options
    summary = {
        "problem": cfg.problem.describe(),
        **specific,
        "status": result.status,
        "message": result.message,
        "success": result.success,
        "nit": result.nit,
        "nfev": result.nfev,
        "seconds": result.seconds,
        "seed": options["seed"],
        "config_sha256": config_digest(run_dir),
        "cem_version": cem.__version__,
    }
    atomic_write_text(run_dir / RESULT, json.dumps(summary, indent=2) + "\n")


def run_experiment(
    cfg: ExperimentConfig,
    *,
    out: Path | None = None,
    force: bool = False,
    quiet: bool = False,
    stream: IO[str] | None = None,
) -> tuple[Path, Result]:
    """Run a validated config in a new run directory; returns the directory and the result."""
    options = cfg.run_options
    seed = options["seed"]
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(2, np.uint64)[0] % 2**63)
        options["seed"] = seed
    if cfg.kind == "optimize" and "verbose" not in cfg.raw.get("optimizer", {}):
        options["verbose"] = True  # a config run prints its table unless it says otherwise
    if out is not None:
        run_dir = _claim(Path(out), force)
    else:
        stem = cfg.source.stem if cfg.source is not None else "run"
        run_dir = new_run_dir(Path(cfg.output["dir"]), stem)
    header = f"resolved by cem {cem.__version__}; rerun with: cem run config.toml"
    atomic_write_text(run_dir / CONFIG, dump_toml(_resolved(cfg, seed), header))
    if cfg.kind == "estimate":
        return run_dir, _estimate(cfg, run_dir, _estimator(cfg), quiet, stream)
    return run_dir, _execute(cfg, run_dir, None, quiet, stream)


def _estimator(cfg: ExperimentConfig) -> MultilevelEstimator | None:
    """The config's multilevel estimator, or ``None`` for a method without levels."""
    problem = cfg.problem
    assert isinstance(problem, RareEventProblem)
    try:
        return problem.estimator(family=cfg.family, **cfg.run_options)
    except NotImplementedError:
        return None


def _estimate(
    cfg: ExperimentConfig,
    run_dir: Path,
    est: MultilevelEstimator | None,
    quiet: bool,
    stream: IO[str] | None,
    extra: dict[str, Any] | None = None,
) -> EstimateResult:
    """Run (or continue) the estimator ``est``, checkpointed after every level (``None``:
    the problem's method without levels); write ``result.json``, ``history.csv``,
    ``levels.csv`` and the plot."""
    problem = cfg.problem
    assert isinstance(problem, RareEventProblem)
    o = cfg.run_options
    bar = _progress_bar({"max_iter": o["max_levels"], "max_evals": None,
                         "max_time": o["max_time"]}, quiet)  # fmt: skip
    if est is not None:
        est.callback = _LevelRecorder(run_dir, cfg.output["checkpoint"], [],
                                      config_digest(run_dir), bar)  # fmt: skip
    run = est.run if est is not None else lambda: problem.estimate(family=cfg.family, **o)
    levels = est.levels if est is not None else []
    result = _guarded(run, bar, lambda: "the estimation",
                      lambda: _kept(cfg, run_dir, "level", len(levels)))  # fmt: skip
    if est is not None:
        result.history.to_csv(run_dir / HISTORY)
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
    _write_summary(run_dir, cfg, result, {
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
    atomic_write_text(run_dir / LEVELS, _levels_csv(result.levels))
    if cfg.output["plots"]:
        from cem.plotting import plot_levels

        plot_levels(result, problem.gamma, run_dir / FIGURE, exact=exact,
                    formats=cfg.output["formats"])  # fmt: skip
    return result


def _levels_csv(levels: list[Any]) -> str:
    """The level table as CSV: ``t``, ``gamma``, then one column per parameter coordinate.

    A parameter ``mean`` of shape ``(5,)`` gives the columns ``mean[0]`` .. ``mean[4]``; a
    matrix ``cov`` gives ``cov[i,j]``; a scalar keeps its name. Floats keep every digit.
    A parameter whose shape changes between levels (a mixture that chooses its number of
    components) gets the columns of its largest shape, empty where a level has fewer.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    shapes = {k: tuple(np.max([np.shape(lv.params[k]) for lv in levels], axis=0))
              for k in levels[0].params} if levels else {}  # fmt: skip
    header = ["t", "gamma"]
    for name, shape in shapes.items():
        header += [name if not shape else f"{name}[{','.join(map(str, i))}]"
                   for i in np.ndindex(*shape)]  # fmt: skip
    writer.writerow(header)
    for lv in levels:
        row: list[Any] = [lv.t, repr(float(lv.gamma))]
        for k, shape in shapes.items():
            a = np.asarray(lv.params[k], dtype=float)
            row += [repr(float(a[i])) if all(j < n for j, n in zip(i, a.shape, strict=True))
                    else "" for i in np.ndindex(*shape)]  # fmt: skip
        writer.writerow(row)
    return buf.getvalue()


def load_run_config(run_dir: Path, *, allow_import: bool = False) -> ExperimentConfig:
    """The resolved config of a run directory."""
    from cem.config import load_config

    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a run directory: no config.toml")
    return load_config(path, allow_import=allow_import)


def resume(
    run_dir: Path,
    *,
    quiet: bool = False,
    stream: IO[str] | None = None,
    allow_import: bool = False,
    allow_config_change: bool = False,
    config: ExperimentConfig | None = None,
) -> tuple[Path, Result]:
    """Continue an interrupted run (an optimization or an estimation) from its last checkpoint.

    Parameters
    ----------
    run_dir : path
        The run directory.
    allow_import : bool, default False
        Let the run's config name ``"module:Class"`` paths (importing runs code).
    allow_config_change : bool, default False
        Continue although ``config.toml`` changed since the checkpoint was written;
        ``result.json`` then says so (``"resumed_with_changed_config": true``).
    config : ExperimentConfig, optional
        The run's config, when the caller has loaded it already
        (:func:`load_run_config`); read from the run directory otherwise.

    Raises
    ------
    CheckpointError
        For a damaged checkpoint, one of another format, or one of another config.
    """
    run_dir = Path(run_dir)
    cfg = config or load_run_config(run_dir, allow_import=allow_import)
    est = _estimator(cfg) if cfg.kind == "estimate" else None
    if cfg.kind == "estimate" and est is None:
        raise ConfigError(f"{run_dir} is an estimation without levels to resume "
                          f"({cfg.problem.describe()}); run it again instead")  # fmt: skip
    remove_stale_temps(run_dir, RUN_FILES)
    path = run_dir / CHECKPOINT
    if not path.is_file():
        old = (
            " (checkpoint.pkl is an old pickle checkpoint, never loaded)"
            if (run_dir / "checkpoint.pkl").exists()
            else ""
        )
        raise ConfigError(f"{run_dir} has no {CHECKPOINT} to resume from{old}")
    family = cfg.family if est is None else est.start
    state = read_checkpoint(path, family, config_digest(run_dir), allow_config_change)
    step = "iteration" if est is None else "level"
    if est is not None and state["levels"] is None:
        raise ConfigError(f"{path} is the checkpoint of an optimization, not of an estimation")
    if not quiet:
        print(f"resuming {run_dir} after {step} {state['optimizer']['t']}", file=sys.stderr)
    extra = {"resumed_with_changed_config": True} if state["config_changed"] else None
    if est is not None:
        est.load_state_dict({"optimizer": state["optimizer"], **state["levels"]})
        return run_dir, _estimate(cfg, run_dir, est, quiet, stream, extra)
    return run_dir, _execute(cfg, run_dir, state, quiet, stream, extra)
