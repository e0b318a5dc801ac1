"""Runs of configs: a run directory per run, checkpoints after every iteration, resume.

The layout of a run directory is :mod:`cem.rundir`'s; this module runs a validated config
(:class:`cem.config.ExperimentConfig`, whose job holds the engine) into one and continues an
interrupted run from its checkpoint. Since iteration ``t`` draws from generators spawned from
``(seed, t)`` only, a run resumed from its checkpoint ends with exactly the result of an
uninterrupted run. The checkpoint records the SHA-256 of ``config.toml``: a run whose config
was edited since is resumed only on request (``allow_config_change=True``, ``cem resume
--allow-config-change``), which ``result.json`` then records.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

from cem._version import __version__
from cem.config import ExperimentConfig, load_run_config
from cem.result import Result
from cem.rundir import claim_run_dir, new_run_dir, remove_stale, write_config

__all__ = ["resume", "run_experiment"]


def _resolved(cfg: ExperimentConfig) -> dict[str, dict[str, Any]]:
    """The config as the run resolved it: every option, the seed, the output section."""
    raw = {"problem": dict(cfg.raw["problem"]), cfg.job.section: dict(cfg.job.options),
           "output": dict(cfg.output)}  # fmt: skip
    if "family" in cfg.raw:
        raw["family"] = dict(cfg.raw["family"])
    return raw


def run_experiment(
    cfg: ExperimentConfig,
    *,
    out: Path | None = None,
    force: bool = False,
    quiet: bool = False,
    stream: IO[str] | None = None,
) -> tuple[Path, Result]:
    """Run a validated config in a new run directory; returns the directory and the result.

    ``out`` names the directory (refused when it holds files, unless ``force``); by default
    it is ``<[output] dir>/<config stem>-<date>-<time>``.
    """
    if out is not None:
        run_dir = claim_run_dir(Path(out), force)
    else:
        stem = cfg.source.stem if cfg.source is not None else "run"
        run_dir = new_run_dir(Path(cfg.output["dir"]), stem)
    header = f"resolved by cem {__version__}; rerun with: cem run config.toml"
    write_config(run_dir, _resolved(cfg), header)
    return run_dir, cfg.job.run(run_dir, cfg.output, quiet=quiet, stream=stream)


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
        (:func:`cem.config.load_run_config`); read from the run directory otherwise.

    Raises
    ------
    CheckpointError
        For a damaged checkpoint, one of another format, or one of another config.
    """
    run_dir = Path(run_dir)
    cfg = config or load_run_config(run_dir, allow_import=allow_import)
    remove_stale(run_dir)
    state = cfg.job.read_state(run_dir, allow_config_change)
    if not quiet:
        print(f"resuming {run_dir} after {cfg.job.step} {state['optimizer']['t']}",
              file=sys.stderr)  # fmt: skip
    extra = {"resumed_with_changed_config": True} if state["config_changed"] else None
    return run_dir, cfg.job.run(run_dir, cfg.output, state=state, quiet=quiet, stream=stream,
                                extra=extra)  # fmt: skip
