"""Studies: one config run over the cells of a settings grid times a list of seeds.

A study config is an ordinary config with a ``[study]`` section (:data:`STUDY_OPTIONS`)::

    [study]
    seeds = "1-20"                          # or a list of integers
    [study.grid]                            # axes crossed with each other
    "estimator.rho" = [0.01, 0.05, 0.1]
    [study.zip]                             # axes zipped with each other, crossed with the grid
    "estimator.n_samples" = [500, 1000]
    "estimator.n_final" = [20000, 100000]

Every cell of the grid and every seed is an ordinary run directory,
``<study>/runs/<cell>/seed-<seed>``, written by :func:`cem.runner.run_experiment`: it can be
resumed, replotted with ``cem plot`` and inspected alone. ``study.json`` in the study
directory records what the study is (the config, the cells, the seeds and their SHA-256), so
that a study directory is never reused for another study and ``cem resume STUDY`` continues a
killed study: finished runs are kept, a run with a checkpoint continues from it, and since
each run's result depends on its config and seed only, the resumed study ends with exactly
the results of an uninterrupted one.

**Parallelism.** The runs are the unit of parallelism: ``n_jobs`` runs at once in joblib
worker processes, or as many as a Dask cluster runs (``dask=True``, with an active
``dask.distributed.Client``). A study never nests parallelism: every run samples its batches
in its own process (``n_jobs = 1``, no ``backend``), whatever its config says, since a run's
result is the same for any ``n_jobs``; a config's other value is replaced with a note.

**Limits.** Before anything is written, every cell is validated as ``cem validate`` would,
with the memory limit (:func:`cem.toolkit.memory_limit`) shared among the runs that run at
once, and the disk the runs would take is estimated and compared with the free space
(or ``CEM_DISK_LIMIT``).
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import re
import shutil
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from joblib import Parallel, delayed

from cem._checks import is_int
from cem._io import atomic_write_text, read_text
from cem._jobs import MAX_RECORDED_PARAMS
from cem._memory import LIMIT_ENV, format_bytes, memory_limit, parse_size
from cem._parallel import backend_config
from cem._study_plan import FORMAT, STUDY_FILE, Cell, Study
from cem._study_summary import run_line, write_summaries
from cem.config import (
    SECTIONS,
    STUDY_SECTION,
    _relative_to,
    apply_overrides,
    parse_config,
    read_raw,
)
from cem.errors import CEMError, CEMWarning, ConfigError, ResourceLimitError, RunInterrupted
from cem.options import STUDY_OPTIONS, all_tables, validate_table
from cem.rundir import CHECKPOINT, CONFIG, RESULT, new_run_dir, read_timing, write_timing
from cem.runner import resume, run_experiment

__all__ = [
    "DISK_LIMIT_ENV",
    "STUDY_FILE",
    "STUDY_OPTIONS",
    "Cell",
    "Study",
    "check_study",
    "is_study_dir",
    "load_study",
    "parse_seeds",
    "read_study",
    "resume_study",
    "run_study",
]

#: Environment variable capping the disk a study may plan to write (bytes, or K/M/G/T).
DISK_LIMIT_ENV = "CEM_DISK_LIMIT"
#: Share of the free disk space a study may plan to write when no limit is set.
DISK_FRACTION = 0.9
#: Iterations (levels) per run assumed by the disk estimate, at most.
DISK_STEPS = 100
#: Bytes of a figure, for the disk estimate.
FIGURE_BYTES = 150_000
#: Options of a run that the study sets itself (seeds, in-process batches).
_STUDY_OWNED = ("seed", "n_jobs", "backend", "batch_timeout", "verbose")


# ---------------------------------------------------------------------- reading a study


def parse_seeds(spec: str | Sequence[int]) -> list[int]:
    """The seeds of ``"1-20"``, ``"1,3,8-9"`` or a list of integers, in the order given.

    Raises
    ------
    ConfigError
        For a range that goes down (``"5-1"``), an empty list, a negative or repeated
        seed, or text that is not a seed list.
    """
    if isinstance(spec, str):
        seeds: list[int] = []
        for part in spec.replace(" ", "").split(","):
            m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if m is None:
                raise ConfigError(f"seeds {spec!r}: {part!r} is not a seed or a range "
                                  "such as 1-20")  # fmt: skip
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            if hi < lo:
                raise ConfigError(f"seeds {spec!r}: the range {part} is empty (it goes down); "
                                  f"write {hi}-{lo}")  # fmt: skip
            if hi - lo >= 1_000_000:
                raise ConfigError(f"seeds {spec!r}: the range {part} has more than a million "
                                  "seeds")  # fmt: skip
            seeds.extend(range(lo, hi + 1))
    else:
        seeds = list(spec)
        if not all(is_int(s) and s >= 0 for s in seeds):
            raise ConfigError(f"seeds must be nonnegative integers, got {spec!r}")
    if not seeds:
        raise ConfigError("seeds: the list of seeds is empty")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ConfigError(f"seeds {spec!r}: seed {repeated[0]} is listed twice")
    return seeds


def parse_grid_arg(text: str) -> tuple[str, list[Any]]:
    """``"optimizer.rho=0.01,0.05"`` -> ``("optimizer.rho", [0.01, 0.05])``.

    Each value is read as a TOML value (a bare word as a string); commas inside brackets
    or quotes do not split.
    """
    key, sep, values = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--grid expects section.key=value1,value2,..., got {text!r}")
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(values):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(values[start:i])
            start = i + 1
    parts.append(values[start:])
    items = [p for p in (p.strip() for p in parts) if p]
    parsed = [apply_overrides({}, [f"v.v={p}"])["v"]["v"] for p in items]
    return key.strip(), parsed


def _check_key(key: str, where: str) -> None:
    """Refuse a grid key that no config section has, or one that the study sets itself."""
    section, dot, name = key.partition(".")
    if not dot or not name or section not in SECTIONS:
        raise ConfigError(f"{where} {key!r}: expected section.key with a section among "
                          f"{', '.join(SECTIONS)}")  # fmt: skip
    tables = all_tables()
    if section in tables and name not in tables[section]:
        raise ConfigError(f"{where} {key!r}: unknown key of [{section}]; accepted: "
                          f"{', '.join(tables[section])}")  # fmt: skip
    if section in ("optimizer", "estimator") and name in _STUDY_OWNED:
        what = "the study's seeds" if name == "seed" else "the study (runs sample in-process)"
        raise ConfigError(f"{where} {key!r}: set by {what}, not an axis")


def _axes(table: Any, where: str) -> dict[str, list[Any]]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of 'section.key' = [values], got {table!r}")
    for key, values in table.items():
        _check_key(key, where)
        if not isinstance(values, list):
            raise ConfigError(f"{where} {key!r} must be a list of values, got {values!r}")
        if not values:
            raise ConfigError(f"{where} {key!r} is empty: an axis needs at least one value")
    return dict(table)


def _instances(patterns: Sequence[str], folder: Path) -> list[str]:
    """Instance files of ``patterns`` (paths or globs relative to ``folder``), sorted per
    pattern, as absolute paths."""
    files: list[str] = []
    for pattern in patterns:
        p = Path(pattern).expanduser()
        full = str(p if p.is_absolute() else folder / p)
        found = sorted(glob.glob(full)) if glob.has_magic(full) else [full]
        if not found or not all(Path(f).is_file() for f in found):
            raise ConfigError(f"[study] instances: {pattern!r} matches no file")
        files.extend(f for f in found if f not in files)
    if not files:
        raise ConfigError("[study] instances is empty: list at least one instance file")
    return files


def _shown(key: str, value: Any) -> Any:
    if isinstance(value, str) and key.partition(".")[2].endswith(("file", "_path")):
        return Path(value).name
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML writes it
    return value


def _cells(crossed: dict[str, list[Any]], zipped: dict[str, list[Any]]) -> list[Cell]:
    """The cells of the crossed axes times the zipped group, the first axis outermost."""
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise ConfigError(
            "[study] zip: the zipped axes have different lengths ("
            + ", ".join(f"{k}: {len(v)}" for k, v in zipped.items())
            + ")"
        )
    both = sorted(set(crossed) & set(zipped))
    if both:
        raise ConfigError(f"[study] {both[0]!r} is both a crossed and a zipped axis")
    group = [dict(zip(zipped, vals, strict=True)) for vals in zip(*zipped.values(), strict=True)]
    combos = [dict(zip(crossed, vals, strict=True))
              for vals in itertools.product(*crossed.values())]  # fmt: skip
    if zipped:
        combos = [{**c, **z} for c in combos for z in group]
    short = {k: k.partition(".")[2] for k in [*crossed, *zipped]}
    if len(set(short.values())) < len(short):
        short = {k: k for k in short}
    cells = []
    for k, values in enumerate(combos):
        shown = {key: _shown(key, v) for key, v in values.items()}
        label = ",".join(f"{short[key]}={v}" for key, v in shown.items()) or "base"
        cells.append(Cell(label, values, shown, k))
    if len({c.label for c in cells}) < len(cells):
        cells = [Cell(c.label + f"#{c.index}", c.values, c.shown, c.index) for c in cells]
    return cells


def load_study(
    path: str | Path,
    *,
    seeds: str | None = None,
    grid: Sequence[str] = (),
    zip_grid: bool = False,
    instances: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    quick: bool = False,
    allow_import: bool = False,
) -> Study:
    """Read a study config (a config with or without ``[study]``) and the command line's
    additions.

    Parameters
    ----------
    path : path
        The config file.
    seeds : str, optional
        ``"1-20"``: replaces ``[study] seeds``.
    grid : sequence of str
        ``"section.key=v1,v2"`` axes, crossed with each other (zipped with ``zip_grid``)
        and with the config's grid; an axis of the same key replaces the config's.
    instances : sequence of str, optional
        Instance files (relative to the working directory): replace ``[study] instances``.
    overrides : sequence of str
        ``section.key=value`` overrides of every cell, as ``cem run --set``; those of
        ``study.key`` override the config's ``[study]`` section.
    quick : bool
        Apply the config's ``[study.quick]`` table (a short form of the study).

    Raises
    ------
    ConfigError
        One line naming the key: an unknown ``[study]`` key, an empty axis, an axis that
        is not a config key, zipped axes of different lengths, a seed list such as
        ``"5-1"``, an instance pattern that matches no file.
    """
    path = Path(path)
    own = [o for o in overrides if o.strip().startswith(f"{STUDY_SECTION}.")]
    overrides = [o for o in overrides if o not in own]
    raw = apply_overrides(read_raw(path), own)  # --set study.seeds='"1-3"'
    given = raw.pop(STUDY_SECTION, {})
    if not isinstance(given, dict):
        raise ConfigError(f"[study] must be a table (a section), got {given!r}")
    try:
        options = validate_table(given, STUDY_OPTIONS, "[study] key")
    except ConfigError as exc:
        raise ConfigError(f"[study] {exc}") from None
    if quick:
        q = options["quick"]
        if not q:
            raise ConfigError(f"{path}: --quick needs a [study.quick] table in the config")
        extra = sorted(set(q) - {"seeds", "grid", "zip", "instances", "set"})
        if extra:
            raise ConfigError(f"[study.quick] unknown key {extra[0]!r}; accepted: seeds, "
                              "grid, zip, instances, set")  # fmt: skip
        options.update({k: v for k, v in q.items() if k != "set"})
        options["set"] = {**options["set"], **q.get("set", {})}
        options = validate_table(options, STUDY_OPTIONS, "[study.quick] key")
    folder = path.parent.absolute()
    for key, value in options["set"].items():
        _check_key(key, "[study] set")
        section, _, name = key.partition(".")
        raw = _relative_to({**raw, section: {**raw.get(section, {}), name: value}}, folder)
    raw = _relative_to(apply_overrides(raw, list(overrides)), Path.cwd())
    crossed = _axes(options["grid"], "[study] grid")
    zipped = _axes(options["zip"], "[study] zip")
    for axes in (crossed, zipped):
        for key, values in axes.items():  # paths in the file: relative to its folder
            section, _, name = key.partition(".")
            axes[key] = [_relative_to({section: {name: v}}, folder)[section][name]
                         for v in values]  # fmt: skip
    if grid:
        cli = dict(parse_grid_arg(g) for g in grid)
        cli = _axes(cli, "--grid")
        for key, values in cli.items():
            section, _, name = key.partition(".")
            cli[key] = [_relative_to({section: {name: v}}, Path.cwd())[section][name]
                        for v in values]  # fmt: skip
        target = zipped if zip_grid else crossed
        for key in cli:
            crossed.pop(key, None)
            zipped.pop(key, None)
        target.update(cli)
    files = (_instances(instances, Path.cwd()) if instances is not None
             else _instances(options["instances"], folder) if options["instances"]
             else [])  # fmt: skip
    if files:
        if "problem.file" in crossed or "problem.file" in zipped:
            raise ConfigError("[study] instances and a 'problem.file' axis cannot both be given")
        for axes in (crossed, zipped):  # files replace bundled names
            axes.pop("problem.instance", None)
        raw.get("problem", {}).pop("instance", None)
        crossed = {"problem.file": files, **crossed}
    options["seeds"] = parse_seeds(seeds if seeds is not None else options["seeds"])
    parent = raw.get("output", {}).get("dir", "runs")
    base, replaced = _base(raw, options)
    return Study(base, _cells(crossed, zipped), options["seeds"], options, str(path),
                 allow_import, replaced, str(parent), quick)  # fmt: skip


def _base(raw: dict[str, Any], options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The config every cell starts from: the study's own options removed, the runs'
    figures as ``run_figures`` says, checkpoints on."""
    base = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    replaced = {}
    for section in ("optimizer", "estimator"):
        for name in _STUDY_OWNED:
            value = base.get(section, {}).pop(name, None)
            if name in ("n_jobs", "backend", "batch_timeout") and value not in (None, 1):
                replaced[f"{section}.{name}"] = value
    output = base.setdefault("output", {})
    output.pop("dir", None)
    output.update(plots=options["run_figures"], checkpoint=True)
    return base, replaced


# ---------------------------------------------------------------------- checks


@contextmanager
def _memory_share(k: int) -> Iterator[None]:
    """The memory limit divided among ``k`` runs at once, while the cells are validated."""
    if k <= 1:
        yield
        return
    old = os.environ.get(LIMIT_ENV)
    os.environ[LIMIT_ENV] = str(memory_limit() // k)
    try:
        yield
    finally:
        if old is None:
            del os.environ[LIMIT_ENV]
        else:
            os.environ[LIMIT_ENV] = old


def _run_bytes(cfg: Any) -> int:
    """Estimated bytes of one run directory: history, checkpoint and arrays (the family's
    parameters per iteration), levels, figures."""
    o = cfg.run_options
    steps = min(int(o.get("max_iter") or o.get("max_levels") or DISK_STEPS), DISK_STEPS)
    numbers = sum(int(getattr(v, "size", 1)) for v in cfg.family.params().values())
    recorded = numbers if numbers <= MAX_RECORDED_PARAMS else 0
    per_step = 200 + 2 * 8 * recorded + (25 * numbers if cfg.kind == "estimate" else 0)
    figures = FIGURE_BYTES * len(cfg.output["formats"]) if cfg.output["plots"] else 0
    return 20_000 + steps * per_step + 8 * numbers + figures


def _disk_limit(out: Path) -> tuple[int, str]:
    text = os.environ.get(DISK_LIMIT_ENV)
    if text:
        try:
            return parse_size(text), f"the disk limit {DISK_LIMIT_ENV}"
        except ConfigError:
            raise ConfigError(f"{DISK_LIMIT_ENV} must be a number of bytes, optionally with "
                              f"K, M, G or T, got {text!r}") from None  # fmt: skip
    parent = Path(out).absolute()
    while not parent.exists():
        parent = parent.parent
    free = shutil.disk_usage(parent).free
    return int(DISK_FRACTION * free), f"{DISK_FRACTION:.0%} of the free space on {parent}"


def check_study(study: Study, out: Path, concurrent: int = 1) -> None:
    """Validate every cell as ``cem validate`` would, and the disk its unfinished runs need
    (in the study directory ``out``).

    With ``concurrent`` runs at once, each may plan ``1/concurrent`` of the memory limit.

    Raises
    ------
    ConfigError, ResourceLimitError
        Naming the cell: a value the config refuses, a run above its share of the memory
        limit, the runs together above the disk limit.
    """
    if not study.cells:
        raise ConfigError("the study has no cells")
    total = 20 * FIGURE_BYTES
    for cell in study.cells:
        where = "" if not cell.values else f"cell {cell.label}: "
        try:
            with _memory_share(concurrent):
                cfg = parse_config(study.raw_for(cell), {"seed": study.seeds[0]},
                                   allow_import=study.allow_import)  # fmt: skip
        except ResourceLimitError as exc:
            share = f" (with {concurrent} runs at once, each plans 1/{concurrent} of the " \
                    "memory limit)" if concurrent > 1 else ""  # fmt: skip
            raise ResourceLimitError(f"study {where}{exc}{share}") from None
        except CEMError as exc:
            raise ConfigError(f"study {where}{exc}") from None
        pending = sum(not _finished(study.run_dir(out, cell, seed)) for seed in study.seeds)
        total += _run_bytes(cfg) * pending
    limit, what = _disk_limit(out)
    if total > limit:
        n = sum(not _finished(study.run_dir(out, c, s)) for c, s in study.runs)
        raise ResourceLimitError(
            f"the study's {n} runs to do would write about {format_bytes(total)}, above "
            f"{what} ({format_bytes(limit)}); fewer cells or seeds, or [study] run_figures = "
            "false"
        )


# ---------------------------------------------------------------------- study directories


def is_study_dir(path: str | Path) -> bool:
    """Whether ``path`` is a study directory (holds :data:`STUDY_FILE`)."""
    return (Path(path) / STUDY_FILE).is_file()


def read_study(study_dir: str | Path) -> Study:
    """The study of a study directory."""
    path = Path(study_dir) / STUDY_FILE
    try:
        data = json.loads(read_text(path, "study file"))
    except FileNotFoundError:
        raise ConfigError(f"{study_dir} is not a study directory: no {STUDY_FILE}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: damaged ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a study file of format {FORMAT}")
    try:
        study = Study.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: damaged ({type(exc).__name__}: {exc})") from None
    if study.digest != data.get("sha256"):
        raise ConfigError(f"{path}: its sha256 does not match its content (edited by hand?)")
    return study


def _claim(out: Path, study: Study) -> bool:
    """Create the study directory, or accept the existing one of the same study; returns
    whether it existed. Another study's directory, or any other non-empty folder, is refused."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"study directory {out} exists and is not a directory")
    if is_study_dir(out):
        other = read_study(out)
        if other.digest != study.digest:
            raise ConfigError(
                f"study directory {out} belongs to another study (other config, grid or "
                f"seeds: {STUDY_FILE} differs); choose another --out, or continue that study "
                f"with: cem resume {out}"
            )
        return True
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} exists and is not a study directory (no {STUDY_FILE}); "
                          "choose another --out")  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / STUDY_FILE, json.dumps(study.to_json(), indent=1) + "\n")
    return False


def _default_dir(study: Study) -> Path:
    """A new ``<[output] dir>/<config>-study-<date>-<time>`` (``runs/`` by default;
    ``-quick-study`` for a quick form)."""
    stem = Path(study.source).stem if study.source else "study"
    return new_run_dir(Path(study.parent), f"{stem}-{'quick-' if study.quick else ''}study")


# ---------------------------------------------------------------------- running


def _run_one(run_dir: str, raw: dict[str, Any], seed: int, allow_import: bool) -> str:
    """Run (or continue, or keep) one run of a study; returns its directory.

    A run is finished when its ``timing.json`` (its CPU and wall seconds, written last) is
    there. An unfinished run with a checkpoint continues from it (:func:`cem.runner.resume`);
    any other starts afresh (also one killed while it wrote its results). cem's warnings
    (an untrusted interval, ...) are in the run's result and the study's table, not
    repeated on the terminal.
    """
    path = Path(run_dir)
    if _finished(path):
        return run_dir
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CEMWarning)
        try:
            midway = not (path / RESULT).is_file() and (path / CHECKPOINT).is_file()
            if midway and (path / CONFIG).is_file():
                resume(path, quiet=True, allow_import=allow_import)
            else:
                cfg = parse_config(raw, {"seed": seed}, allow_import=allow_import)
                run_experiment(cfg, out=path, force=True, quiet=True)
        except CEMError as exc:
            raise CEMError(f"run {path.parent.name}/{path.name}: {exc}") from None
    write_timing(path, {"cpu_seconds": time.process_time() - cpu,
                        "wall_seconds": time.perf_counter() - wall})  # fmt: skip
    return run_dir


def _finished(run_dir: Path) -> bool:
    return read_timing(run_dir) is not None


def _results(tasks: list[tuple[str, dict[str, Any], int, bool]], n_jobs: int,
             dask: bool) -> Iterator[str]:  # fmt: skip
    """The run directories of ``tasks`` as each run finishes: in this process, in joblib
    worker processes, or on Dask."""
    if n_jobs == 1 and not dask:
        for task in tasks:
            yield _run_one(*task)
        return
    with backend_config("dask" if dask else "loky"):
        parallel = Parallel(n_jobs=-1 if dask else n_jobs, return_as="generator_unordered")
        yield from parallel(delayed(_run_one)(*task) for task in tasks)


def _eta(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    s = round(seconds)
    hours = f"{s // 3600}:{s % 3600 // 60:02d}" if s >= 3600 else f"{s // 60}"
    return f"{hours}:{s % 60:02d}"


def _execute(
    study: Study,
    study_dir: Path,
    *,
    n_jobs: int | None = None,
    dask: bool = False,
    quiet: bool = False,
    stream: IO[str] | None = None,
) -> dict[str, Path]:
    """Run every unfinished run of a claimed study directory, then write the summaries and
    figures (:func:`cem._study_summary.write_summaries`); returns the files written."""
    stream = stream or sys.stderr
    n_jobs = study.options["n_jobs"] if n_jobs is None else n_jobs
    pending = [(cell, seed) for cell, seed in study.runs
               if not _finished(study.run_dir(study_dir, cell, seed))]  # fmt: skip
    total, done = len(study.runs), len(study.runs) - len(pending)
    if not quiet:
        how = "on Dask" if dask else f"{n_jobs} at once" if n_jobs != 1 else "one at a time"
        n_cells, n_seeds = len(study.cells), len(study.seeds)
        print(f"study {study_dir}: {total} runs ({n_cells} cell{'s' * (n_cells != 1)} x "
              f"{n_seeds} seed{'s' * (n_seeds != 1)}), {done} done, {len(pending)} to run, {how}",
              file=stream, flush=True)  # fmt: skip
        for key, value in study.replaced.items():
            print(
                f"note: {key}={value!r} is not used: a study runs each run's batches in "
                "its own process (the result is the same for any n_jobs)",
                file=stream,
            )
    cells = {cell.dirname: cell for cell in study.cells}
    raws = {cell.dirname: study.raw_for(cell) for cell in study.cells}
    tasks = [(str(study.run_dir(study_dir, c, s)), raws[c.dirname], s, study.allow_import)
             for c, s in pending]  # fmt: skip
    start, finished = time.perf_counter(), 0
    try:
        for run_dir in _results(tasks, n_jobs, dask):
            finished += 1
            if not quiet:
                elapsed = time.perf_counter() - start
                eta = elapsed / finished * (len(pending) - finished)
                cell = cells[Path(run_dir).parent.name]
                print(f"[{done + finished:>{len(str(total))}}/{total} ETA {_eta(eta)}] "
                      f"{cell.label} seed {Path(run_dir).name[5:]}: {run_line(Path(run_dir))}",
                      file=stream, flush=True)  # fmt: skip
    except KeyboardInterrupt:
        raise RunInterrupted(
            f"study interrupted after {done + finished} of {total} runs; the finished runs "
            f"and the checkpoints are kept (cem resume {study_dir})"
        ) from None
    except CEMError as exc:
        raise CEMError(
            f"{exc} (study {study_dir}: the finished runs are kept; fix the "
            f"cause and continue with cem resume {study_dir})"
        ) from None
    return write_summaries(study, study_dir)


def _concurrency(n_jobs: int, dask: bool) -> int:
    if dask:
        return 1  # each Dask worker has the memory of its own machine
    return (os.cpu_count() or 1) if n_jobs < 0 else n_jobs


def run_study(
    study: Study,
    out: str | Path | None = None,
    *,
    n_jobs: int | None = None,
    dask: bool = False,
    quiet: bool = False,
    stream: IO[str] | None = None,
) -> tuple[Path, dict[str, Path]]:
    """Check a study, claim its directory and run it; returns the directory and the files
    of the summaries and figures.

    Parameters
    ----------
    study : Study
        From :func:`load_study`.
    out : path, optional
        The study directory (default: a new one under ``runs/``). A directory of the same
        study is continued; another study's directory is refused.
    n_jobs : int, optional
        Runs at once (default: ``[study] n_jobs``); ``-1`` for every core.
    dask : bool
        Run the runs on the Dask cluster of the active ``dask.distributed.Client``.
    """
    n_jobs = study.options["n_jobs"] if n_jobs is None else n_jobs
    if n_jobs == 0 or not is_int(n_jobs):
        raise ConfigError(f"n_jobs must be a nonzero integer, got {n_jobs!r}")
    target = Path(out) if out is not None else None
    check_study(study, target or Path(study.parent), _concurrency(n_jobs, dask))
    if target is None:
        target = _default_dir(study)
    existed = _claim(target, study)
    if existed and not quiet:
        print(f"continuing the study in {target}", file=stream or sys.stderr)
    return target, _execute(study, target, n_jobs=n_jobs, dask=dask, quiet=quiet, stream=stream)


def resume_study(
    study_dir: str | Path,
    *,
    n_jobs: int | None = None,
    dask: bool = False,
    quiet: bool = False,
    stream: IO[str] | None = None,
    allow_import: bool = False,
) -> tuple[Path, dict[str, Path]]:
    """Continue a killed study: finished runs are kept, the others continue from their
    checkpoints or start; then the summaries and figures are written again.

    ``allow_import`` lets the study's config name ``"module:Class"`` paths (importing runs
    code); it is the caller's to give, as for :func:`cem.runner.resume`: ``study.json`` does
    not carry it.
    """
    study_dir = Path(study_dir)
    study = read_study(study_dir)
    study.allow_import = allow_import
    n_jobs = study.options["n_jobs"] if n_jobs is None else n_jobs
    check_study(study, study_dir, _concurrency(n_jobs, dask))
    return study_dir, _execute(study, study_dir, n_jobs=n_jobs, dask=dask, quiet=quiet,
                              stream=stream)  # fmt: skip
