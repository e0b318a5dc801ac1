"""The ``cem`` command line: run, resume, plot, validate, problems, options.

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

from cem import __version__
from cem.errors import CEMError, ConfigError
from cem.result import EstimateResult, OptimizeResult, Result

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


def _summary(run_dir: Path, result: Result) -> str:
    if isinstance(result, EstimateResult):
        return f"{result.summary()}\nresults: {run_dir}"
    assert isinstance(result, OptimizeResult)
    lines = [f"best score: {result.fun:.10g}"]
    if result.known_optimum is not None and result.gap is not None:
        lines.append(f"known optimum: {result.known_optimum:.10g}  (gap {100 * result.gap:.4g}%)")
    lines.append(
        f"stopped: {result.message}  after {result.nit} iterations, {result.nfev} evaluations"
    )
    lines.append(f"results: {run_dir}")
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    from cem.config import load_config
    from cem.runner import run_experiment

    with _dask_client(args.dask):
        cfg = load_config(args.config, args.set, _cli_values(args), allow_import=args.allow_import)
        run_dir, result = run_experiment(cfg, out=args.out, force=args.force, quiet=args.quiet)
    if not args.quiet:
        print(_summary(run_dir, result))
    return 0


def _cmd_resume(args: argparse.Namespace) -> int:
    from cem.runner import resume

    with _dask_client(args.dask):
        run_dir, result = resume(
            Path(args.run_dir), quiet=args.quiet, allow_import=args.allow_import
        )
    if not args.quiet:
        print(_summary(run_dir, result))
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from cem.plotting import plot_runs

    out = args.out or Path(args.run_dirs[0]) / (
        "convergence.png" if len(args.run_dirs) == 1 else "comparison.png"
    )
    print(plot_runs(args.run_dirs, out))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from cem.config import load_config

    with _dask_client(args.dask):
        cfg = load_config(args.config, args.set, _cli_values(args), allow_import=args.allow_import)
    from cem.options import all_tables

    what = "optimization" if cfg.kind == "optimize" else "rare-event estimation"
    print(f"{args.config}: valid ({cfg.problem.describe()}; {what}, family {cfg.family!r})")
    section = "optimizer" if cfg.kind == "optimize" else "estimator"
    options = cfg.options if cfg.kind == "optimize" else cfg.estimator
    assert options is not None
    table = all_tables()[section]
    changed = [f"{k}={v!r}" for k, v in options.items() if v != table[k].default]
    print(f"[{section}] {', '.join(changed) or 'all defaults'}")
    return 0


def _cmd_problems(args: argparse.Namespace) -> int:
    from cem.registry import available_problems, resolve

    for name, path in sorted(available_problems().items()):
        try:
            factory = resolve(name)
            owner = getattr(factory, "__self__", None)  # a classmethod factory: its class
            doc = inspect.getdoc(owner if isinstance(owner, type) else factory) or ""
            doc = re.sub(r":math:`([^`]*)`", r"\1", doc).replace("``", "").splitlines()
            params = [p for p in inspect.signature(factory).parameters if p not in ("self", "cls")]
        except CEMError as exc:
            doc, params = [f"(cannot load: {exc})"], []
        print(f"{name:<20} {doc[0] if doc else path}")
        if params:
            print(f"{'':<20} parameters: {', '.join(params)}")
    return 0


def _cmd_options(args: argparse.Namespace) -> int:
    from cem.options import all_tables, options_table

    for k, (section, table) in enumerate(all_tables().items()):
        print(f"{'' if k == 0 else chr(10)}[{section}]\n\n{options_table(table)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cem", description="The cross-entropy method: run and inspect experiments."
    )
    parser.add_argument("--version", action="version", version=f"cem {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_dask(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--dask",
            nargs="?",
            const="",
            metavar="ADDRESS",
            help="run the batches on Dask: the scheduler at ADDRESS, or the one Dask's "
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
        p.add_argument("--seed", type=int, help="seed of the run (overrides [optimizer] seed)")
        p.add_argument("--n-jobs", type=int, dest="n_jobs", help="joblib workers")
        p.add_argument("--max-iter", type=int, dest="max_iter", help="iteration cap")
        add_dask(p)
        p.add_argument(
            "--set",
            action="append",
            metavar="SECTION.KEY=VALUE",
            help="override a config value (TOML syntax), e.g. optimizer.rho=0.05",
        )

    p = sub.add_parser("run", help="run an experiment config")
    p.add_argument("config", help="TOML config file")
    add_overrides(p)
    p.add_argument("--out", type=Path, help="run directory (default: a new one under runs/)")
    p.add_argument("--force", action="store_true", help="reuse an existing --out directory")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("resume", help="continue an interrupted run from its checkpoint")
    p.add_argument("run_dir")
    p.add_argument("--quiet", action="store_true")
    add_dask(p)
    add_allow_import(p)
    p.set_defaults(func=_cmd_resume)

    p = sub.add_parser("plot", help="redraw the plots of one or more runs (overlaid)")
    p.add_argument("run_dirs", nargs="+")
    p.add_argument("--out", type=Path, help="PNG file to write")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("validate", help="check a config without running it")
    p.add_argument("config")
    add_overrides(p)
    p.set_defaults(func=_cmd_validate)

    sub.add_parser("problems", help="list the registered problems").set_defaults(func=_cmd_problems)
    sub.add_parser("options", help="list the options of every config section").set_defaults(
        func=_cmd_options
    )
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
    except KeyboardInterrupt:
        print("cem: interrupted", file=sys.stderr)
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
