"""The ``cem`` command line: run, resume, study, plot, validate, problems, options.

Every user mistake (a config key, a missing file, a bad value, a damaged checkpoint,
an unwritable folder, an objective that raises) ends with one line ``cem: error: ...``
on standard error and exit code 2, never a traceback; set ``CEM_TRACEBACK=1`` to see
the full traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cem import __version__
from cem.config import STUDY_SECTION, ExperimentConfig, load_config, load_run_config
from cem.errors import CEMError, ConfigError, RunInterrupted
from cem.options import FORMATS, all_tables, options_table
from cem.plotting import plot_runs
from cem.registry import available_problems, resolve
from cem.result import Result
from cem.runner import resume, run_experiment
from cem.study import check_study, is_study_dir, load_study, resume_study, run_study

__all__ = ["TRACEBACK_ENV", "main"]

#: Environment variable that makes errors show their full traceback.
TRACEBACK_ENV = "CEM_TRACEBACK"


def _cli_values(args: argparse.Namespace) -> dict[str, int | str | None]:
    values = {k: getattr(args, k, None) for k in ("seed", "n_jobs", "max_iter")}
    if getattr(args, "dask", None) is not None:  # all of the cluster unless --n-jobs says
        values.update(backend="dask", n_jobs=-1 if values["n_jobs"] is None else values["n_jobs"])
    return values


@contextlib.contextmanager
def _dask_client(address: str | None) -> Iterator[None]:
    """With ``--dask``: a ``dask.distributed.Client`` for the command's duration.

    An empty ``address`` lets Dask choose: the scheduler named by its configuration
    (e.g. ``DASK_SCHEDULER_ADDRESS``), else a local cluster on this machine.
    """
    if address is None:
        yield
        return
    try:
        import distributed
    except ImportError:
        raise ConfigError(
            "--dask needs the dask extra: pip install 'cem-framework[dask]'"
        ) from None
    try:
        client = distributed.Client(address or None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--dask: cannot reach the Dask scheduler {address!r}: {exc}") from None
    with client:
        yield


def _summary(run_dir: Path, result: Result, cfg: ExperimentConfig) -> str:
    """The lines after a run: what it found, in the problem's terms, and where it is."""
    return "\n".join([*cfg.job.summary_lines(result), f"results: {run_dir}"])


def _cmd_run(args: argparse.Namespace) -> int:

    with _dask_client(args.dask):
        cfg = load_config(args.config, args.set, _cli_values(args), allow_import=args.allow_import)
        run_dir, result = run_experiment(cfg, out=args.out, force=args.force, quiet=args.quiet)
    if not args.quiet:
        print(_summary(run_dir, result, cfg))
    return cfg.job.exit_status(result, cfg.output)


def _cmd_resume(args: argparse.Namespace) -> int:
    if is_study_dir(args.run_dir):
        with _dask_client(args.dask):
            study_dir, files = resume_study(
                Path(args.run_dir), n_jobs=args.n_jobs, dask=args.dask is not None,
                quiet=args.quiet, allow_import=args.allow_import,
            )  # fmt: skip
        return _study_done(study_dir, files, args.quiet)
    with _dask_client(args.dask):
        cfg = load_run_config(Path(args.run_dir), allow_import=args.allow_import)
        run_dir, result = resume(Path(args.run_dir), quiet=args.quiet, config=cfg,
                                 allow_config_change=args.allow_config_change)  # fmt: skip
    if not args.quiet:
        print(_summary(run_dir, result, cfg))
    return cfg.job.exit_status(result, cfg.output)


def _cmd_study(args: argparse.Namespace) -> int:
    study = load_study(args.config, seeds=args.seeds, grid=args.grid or (), zip_grid=args.zip,
                       instances=args.instances, overrides=args.set or (), quick=args.quick,
                       allow_import=args.allow_import)  # fmt: skip
    if args.latex:
        study.options["latex"] = True
    with _dask_client(args.dask):
        study_dir, files = run_study(study, args.out, n_jobs=args.n_jobs,
                                     dask=args.dask is not None, quiet=args.quiet)  # fmt: skip
    return _study_done(study_dir, files, args.quiet)


def _study_done(study_dir: Path, files: dict[str, Path], quiet: bool) -> int:
    """Print the study's summary table and where its files are."""
    if not quiet:
        print(files["markdown"].read_text(encoding="utf-8"))
        print(f"study: {study_dir}  ({', '.join(p.name for p in files.values())})")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:

    out = args.out or Path(args.run_dirs[0]) / (
        "convergence.png" if len(args.run_dirs) == 1 else "comparison.png"
    )
    problem = None
    if len(args.run_dirs) == 1:  # its solution's picture needs the problem
        try:
            problem = load_run_config(Path(args.run_dirs[0])).problem
        except (CEMError, OSError):
            problem = None
    for path in plot_runs(args.run_dirs, out, formats=args.formats, x=args.x, problem=problem):
        print(path)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:

    with _dask_client(args.dask):
        cfg = load_config(args.config, args.set, _cli_values(args), allow_import=args.allow_import)

    job = cfg.job
    print(f"{args.config}: valid ({cfg.problem.describe()}; {job.what}, family {cfg.family!r})")
    changed = [f"{k}={v!r}" for k, v in job.options.items() if v != job.table[k].default]
    print(f"[{job.section}] {', '.join(changed) or 'all defaults'}")
    if STUDY_SECTION in cfg.raw:  # a study config: its cells too, as cem study checks them
        study = load_study(args.config, overrides=args.set or (), allow_import=args.allow_import)
        check_study(study, Path("runs"))
        print(f"[study] {len(study.cells)} cells x {len(study.seeds)} seeds = "
              f"{len(study.runs)} runs, every cell valid")  # fmt: skip
    return 0


#: LaTeX commands of docstrings and their plain-text forms, for terminal output.
_LATEX = {"sum": "Σ", "ge": ">=", "le": "<=", "top": "ᵀ", "cdot": "·", "|": "‖",
          "infty": "∞", "gamma": "γ", "rho": "ρ", "alpha": "α", "beta": "β", "ell": "ℓ",
          "Phi": "Φ", "max": "max", "min": "min", "dots": "...", "ne": "!="}  # fmt: skip


def _plain_text(doc: str) -> str:
    """A docstring without reST markup or LaTeX: ``:math:`\\sum_i x_i``` -> ``Σ_i x_i``."""
    doc = re.sub(r":(?:math|func|class|meth|data|attr|mod):`~?([^`]*)`", r"\1", doc)
    doc = doc.replace("``", "")
    doc = re.sub(r"\\([A-Za-z]+|\|)", lambda m: _LATEX.get(m.group(1), m.group(1)), doc)
    return re.sub(r"[{}]", "", doc)


def _cmd_problems(args: argparse.Namespace) -> int:

    for name, path in sorted(available_problems().items()):
        try:
            factory = resolve(name)
            owner = getattr(factory, "__self__", None)  # a classmethod factory: its class
            doc = inspect.getdoc(owner if isinstance(owner, type) else factory) or ""
            lines = _plain_text(doc).splitlines()
            params = [p for p in inspect.signature(factory).parameters if p not in ("self", "cls")]
        except CEMError as exc:
            lines, params = [f"(cannot load: {exc})"], []
        print(f"{name:<20} {lines[0] if lines else path}")
        if params:
            print(f"{'':<20} parameters: {', '.join(params)}")
    return 0


def _cmd_options(args: argparse.Namespace) -> int:

    for k, (section, table) in enumerate(all_tables().items()):
        print(f"{'' if k == 0 else chr(10)}[{section}]\n\n{options_table(table)}")
    return 0


_EPILOG = """\
examples:
  cem run configs/maxcut_tutorial.toml                  run a config; results under runs/
  cem run configs/tsp_br17.toml --seed 3 --set optimizer.rho=0.02
  cem resume runs/tsp_br17-20261124-101500              continue after an interruption
  cem plot runs/a runs/b --out comparison.pdf           overlay runs, as PDF
  cem validate configs/maxcut_G1.toml                   check a config without running it
  cem study configs/studies/bridge_rho.toml             seeds x settings: tables and figures
  cem problems                                          the registered problems
  cem options                                           the optimizer and estimator options

'cem COMMAND --help' documents each command."""

_COMMAND_EPILOGS = {
    "run": """\
examples:
  cem run configs/maxcut_tutorial.toml
  cem run configs/tsp_berlin52.toml --out runs/berlin52 --set 'output.formats=["png", "pdf"]'
  cem run configs/rare_bridge_network.toml --seed 1 --n-jobs 2
  cem run configs/tsp_br17.toml --set optimizer.verbose=10     every 10th iteration

The run directory gets config.toml (resolved, with the seed), history.csv, result.json,
arrays.npz (the best point and the family parameters), checkpoint.npz and the figure
convergence.<format>; an estimation writes the history of its levels, levels.csv
(the family after each level) and no arrays.npz.""",
    "resume": """\
examples:
  cem resume runs/tsp_br17-20261124-101500
  cem resume runs/br17 --allow-config-change        after editing runs/br17/config.toml

A resumed run (an optimization, or an estimation after its last finished level)
ends exactly as the uninterrupted one would have. A study directory (written by
'cem study') continues its unfinished runs and writes its tables and figures again.""",
    "study": """\
examples:
  cem study configs/studies/bridge_rho.toml              the config's [study] seeds and grid
  cem study configs/rare_bridge_network.toml --seeds 1-20 --grid estimator.rho=0.01,0.05,0.1
  cem study configs/tsp_br17.toml --seeds 1-5 --instances my/*.atsp --n-jobs 2
  cem study configs/studies/maxcut_tutorial.toml --quick the config's [study.quick] form
  cem resume runs/bridge_rho-study-20261124-101500       continue a killed study

Each cell x seed is an ordinary run directory, <study>/runs/<cell>/seed-<seed>; the study
writes study.json, runs.csv (one row per run), summary.csv and summary.md (one row per
cell; summary.tex with --latex) and its figures (convergence, ecdf or estimates).""",
    "plot": """\
examples:
  cem plot runs/maxcut_tutorial-20261124-101500         redraw convergence.png
  cem plot runs/a runs/b --out comparison.pdf           overlay two runs
  cem plot runs/a --x evals --format png --format svg   against evaluations, two formats""",
    "validate": """\
example:
  cem validate configs/maxcut_G1.toml --set optimizer.rho=0.05""",
    "problems": """\
example:
  cem problems        name, one-line description and the config keys of each problem""",
    "options": """\
example:
  cem options         the [optimizer] and [estimator] options with defaults and meaning""",
}


def _parser() -> argparse.ArgumentParser:
    """The ``cem`` argument parser: every argument has a help text, every command examples."""
    parser = argparse.ArgumentParser(
        prog="cem",
        description="The cross-entropy method: run, resume, plot and check experiment configs.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"cem {__version__}",
        help="print the version and exit",
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        title="commands",
        help="one of the commands below; 'cem COMMAND --help' documents it",
    )

    def command(name: str, summary: str, func: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=_COMMAND_EPILOGS[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    def add_dask(p: argparse.ArgumentParser, what: str = "the batches") -> None:
        p.add_argument(
            "--dask",
            nargs="?",
            const="",
            metavar="ADDRESS",
            help=f"run {what} on Dask: the scheduler at ADDRESS, or the one Dask's "
            "configuration names (DASK_SCHEDULER_ADDRESS), or a local cluster "
            "(needs the dask extra)",
        )

    def add_allow_import(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--allow-import",
            action="store_true",
            dest="allow_import",
            help="let the config name 'module:Class' problems and families "
            "(importing a module runs its code: only for configs you trust)",
        )

    def add_overrides(p: argparse.ArgumentParser) -> None:
        add_allow_import(p)
        p.add_argument(
            "--seed", type=int, metavar="INT", help="seed of the run (overrides the config's seed)"
        )
        p.add_argument(
            "--n-jobs",
            type=int,
            dest="n_jobs",
            metavar="INT",
            help="joblib workers sampling and scoring the batches (-1: all cores)",
        )
        p.add_argument(
            "--max-iter",
            type=int,
            dest="max_iter",
            metavar="INT",
            help="iteration cap (the level cap of an estimation)",
        )
        add_dask(p)
        p.add_argument(
            "--set",
            action="append",
            metavar="SECTION.KEY=VALUE",
            help="override a config value, the value in TOML syntax, e.g. optimizer.rho=0.05 "
            "(repeatable)",
        )

    def add_quiet(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--quiet",
            action="store_true",
            help="print nothing (no iteration table, progress bar or summary)",
        )

    p = command("run", "run an experiment config in a new run directory", _cmd_run)
    p.add_argument("config", help="TOML experiment config (see the configs/ folder)")
    add_overrides(p)
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="run directory (default: a new <config>-<date>-<time> under the "
        "config's [output] dir, runs/)",
    )
    p.add_argument(
        "--force", action="store_true", help="write into --out even if it exists and is not empty"
    )
    add_quiet(p)

    p = command("resume", "continue an interrupted run from its checkpoint", _cmd_resume)
    p.add_argument("run_dir", help="run directory written by 'cem run' (holds checkpoint.npz)")
    add_quiet(p)
    add_dask(p, "the batches (for a study: the runs)")
    add_allow_import(p)
    p.add_argument(
        "--allow-config-change",
        action="store_true",
        help="continue although config.toml was edited since the checkpoint (result.json "
        "records it as resumed_with_changed_config)",
    )

    p.add_argument(
        "--n-jobs",
        type=int,
        dest="n_jobs",
        metavar="INT",
        help="for a study: runs at once (default: the study's n_jobs)",
    )

    p = command("study", "run a config over seeds and a grid of settings, with tables "
                "and figures", _cmd_study)  # fmt: skip
    p.add_argument("config", help="TOML config, with or without a [study] section")
    p.add_argument(
        "--seeds",
        metavar="LIST",
        help="seeds of every cell, e.g. 1-20 or 1,3,8-9 (default: [study] seeds)",
    )
    p.add_argument("--grid", action="append", metavar="SECTION.KEY=V1,V2,...",
                   help="an axis of the grid, values in TOML syntax (repeatable; axes are "
                   "crossed, and with the config's [study.grid])")  # fmt: skip
    p.add_argument(
        "--zip",
        action="store_true",
        help="zip the --grid axes (equal lengths) instead of crossing them",
    )
    p.add_argument("--instances", nargs="+", metavar="FILE",
                   help="instance files as an axis of [problem] file (an OPTIMA.csv or "
                   "BEST_KNOWN.csv beside them gives the optimum)")  # fmt: skip
    p.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override a value of every cell, in TOML syntax (repeatable)",
    )
    p.add_argument("--n-jobs", type=int, dest="n_jobs", metavar="INT",
                   help="runs at once in worker processes (-1: all cores; default: [study] "
                   "n_jobs); each run samples its batches in its own process")  # fmt: skip
    add_dask(p, "the runs")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="study directory (default: a new runs/<config>-study-<date>-<time>); "
                   "a directory of the same study is continued, of another refused")  # fmt: skip
    p.add_argument(
        "--quick",
        action="store_true",
        help="the config's quick form ([study.quick]): a check in seconds",
    )
    p.add_argument("--latex", action="store_true", help="also write summary.tex")
    add_quiet(p)
    add_allow_import(p)

    p = command("plot", "redraw the figure of one run, or overlay several runs", _cmd_plot)
    p.add_argument(
        "run_dirs",
        nargs="+",
        metavar="RUN_DIR",
        help="run directories written by 'cem run'; several are overlaid",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="figure file; its suffix names the format (default: convergence.png "
        "in the run directory, comparison.png in the first one for several)",
    )
    p.add_argument(
        "--format",
        action="append",
        dest="formats",
        choices=FORMATS,
        help="write this format (repeatable; default: the suffix of --out)",
    )
    p.add_argument(
        "--x",
        choices=("iteration", "evals"),
        default="iteration",
        help="x axis: iterations or score evaluations (default: %(default)s)",
    )

    p = command("validate", "check a config without running it", _cmd_validate)
    p.add_argument("config", help="TOML experiment config to check")
    add_overrides(p)

    command("problems", "list the registered problems and their config keys", _cmd_problems)
    command("options", "list the options of every config section", _cmd_options)
    return parser


def _one_line(exc: BaseException) -> str:
    """The message of a user-causable failure, on one line."""
    if isinstance(exc, CEMError):
        return str(exc)
    if isinstance(exc, OSError):
        names = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
        what = exc.strerror or f"{type(exc).__name__}: {exc}"
        return f"{what}: {' -> '.join(names)}" if names else what
    if isinstance(exc, MemoryError):
        return (
            "out of memory; lower n_samples or the problem size (cem estimates and limits "
            "the memory of a run; see CEM_MEMORY_LIMIT)"
        )
    if isinstance(exc, RecursionError):
        return "input nested too deeply"
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return f"a path contains a NUL byte ({exc})"
    return f"{type(exc).__name__}: {exc} (unexpected; set {TRACEBACK_ENV}=1 for the traceback)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cem`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    show = os.environ.get(TRACEBACK_ENV, "") not in ("", "0")
    try:
        return int(args.func(args))
    except KeyboardInterrupt as exc:
        print(f"cem: {exc}" if isinstance(exc, RunInterrupted) else "cem: interrupted",
              file=sys.stderr)  # fmt: skip
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which has exited
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if show:
            raise
        message = " ".join(_one_line(exc).split())
        print(f"cem: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
