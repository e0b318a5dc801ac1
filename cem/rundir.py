"""The run directory: its files, their writers and their readers.

A run directory holds

- ``config.toml``: the config with every option resolved, the seed and the cem version;
- ``checkpoint.npz``: the state after the last finished iteration or level, written
  atomically (arrays and JSON, no pickle, so a run directory from someone else runs no code
  when resumed);
- ``history.csv``: one row per iteration (or level);
- ``result.json``: the result's scalars and the solution;
- ``arrays.npz`` (an optimization): the best point ``x`` and, for small families, the
  family parameters per iteration as ``family.<name>``;
- ``levels.csv`` (an estimation): ``t``, ``gamma`` and one column per parameter coordinate;
- the figure ``convergence.<format>`` in each of ``[output] formats``.

This module is the one owner of that layout: the runner writes through the ``write_*``
functions, :mod:`cem.plotting` and studies read through the ``read_*`` ones, and
:data:`RUN_FILES`, the files whose stale temporaries a new or resumed run removes, is the
list of what the writers write.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from cem._checkpoint import read_checkpoint as _read_checkpoint
from cem._checkpoint import write_checkpoint as _write_checkpoint
from cem._io import atomic_write_bytes, atomic_write_text, read_text, remove_stale_temps
from cem.errors import ConfigError, DataFormatError
from cem.families import Family
from cem.history import History
from cem.options import FORMATS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "ARRAYS",
    "CHECKPOINT",
    "CONFIG",
    "FIGURE",
    "HISTORY",
    "LEVELS",
    "PARAM_PREFIX",
    "RESULT",
    "RUN_FILES",
    "TIMING",
    "RunRecord",
    "claim_run_dir",
    "config_digest",
    "dump_toml",
    "new_run_dir",
    "read_arrays",
    "read_checkpoint",
    "read_config",
    "read_history",
    "read_levels",
    "read_result",
    "read_run",
    "read_timing",
    "remove_stale",
    "write_arrays",
    "write_checkpoint",
    "write_config",
    "write_history",
    "write_levels",
    "write_result",
    "write_timing",
]

#: The resolved config, with the seed and the cem version.
CONFIG = "config.toml"
#: The state after the last finished iteration or level.
CHECKPOINT = "checkpoint.npz"
#: One row per iteration (or level).
HISTORY = "history.csv"
#: The result's scalars and the solution, as JSON.
RESULT = "result.json"
#: The best point ``x`` and the family's parameters per iteration (an optimization).
ARRAYS = "arrays.npz"
#: The levels of an estimation, one column per parameter coordinate.
LEVELS = "levels.csv"
#: The figure's name, without its suffix.
FIGURE = "convergence"
#: The CPU and wall seconds of a run of a study (:mod:`cem.study`), written when it ends.
TIMING = "timing.json"
#: Prefix of the family's parameters per iteration in :data:`ARRAYS`.
PARAM_PREFIX = "family."

_WRITTEN: list[str] = []
F = TypeVar("F", bound=Callable[..., Any])


def _writes(*names: str) -> Callable[[F], F]:
    """Record the files a writer writes: :data:`RUN_FILES` is made of them."""

    def record(writer: F) -> F:
        _WRITTEN.extend(names)
        return writer

    return record


@_writes(CONFIG)
def write_config(run_dir: Path, resolved: dict[str, dict[str, Any]], header: str) -> None:
    """Write the resolved config (:func:`cem.config.dump_toml`) as ``config.toml``."""
    atomic_write_text(Path(run_dir) / CONFIG, dump_toml(resolved, header))


@_writes(CHECKPOINT)
def write_checkpoint(run_dir: Path, state: dict[str, Any], params: list[dict[str, np.ndarray]],
                     *, levels: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Write the optimizer's ``state`` (and an estimation's ``levels``) as the checkpoint,
    stamped with the digest of ``config.toml`` (:func:`config_digest`)."""
    _write_checkpoint(Path(run_dir) / CHECKPOINT, state, params, config_digest(run_dir),
                      levels=levels)  # fmt: skip


@_writes(HISTORY)
def write_history(run_dir: Path, history: History) -> None:
    """Write ``history.csv`` (:meth:`cem.history.History.to_csv`)."""
    history.to_csv(Path(run_dir) / HISTORY)


@_writes(RESULT)
def write_result(run_dir: Path, summary: dict[str, Any]) -> None:
    """Write ``result.json``."""
    atomic_write_text(Path(run_dir) / RESULT, json.dumps(summary, indent=2) + "\n")


@_writes(ARRAYS)
def write_arrays(run_dir: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays.npz`` (compressed, no pickled objects); nothing when ``arrays`` is empty."""
    if not arrays:
        return
    buf = io.BytesIO()
    save: Any = np.savez_compressed  # numpy's stub reads ** as its allow_pickle flag
    save(buf, **arrays)
    atomic_write_bytes(Path(run_dir) / ARRAYS, buf.getvalue())


@_writes(LEVELS)
def write_levels(run_dir: Path, levels: Sequence[Any]) -> None:
    """Write ``levels.csv``: ``t``, ``gamma``, then one column per parameter coordinate.

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
    atomic_write_text(Path(run_dir) / LEVELS, buf.getvalue())


@_writes(TIMING)
def write_timing(run_dir: Path, timing: dict[str, Any]) -> None:
    """Write ``timing.json``: a finished run of a study, its CPU and wall seconds."""
    atomic_write_text(Path(run_dir) / TIMING, json.dumps(timing, indent=2) + "\n")


# The figure, in each format (written by cem.plotting.save_figure through the runner).
_WRITTEN.extend(f"{FIGURE}.{fmt}" for fmt in FORMATS)

#: Every file a run writes atomically: their stale temporaries are removed on resume.
RUN_FILES: tuple[str, ...] = tuple(_WRITTEN)


def config_digest(run_dir: Path) -> str:
    """SHA-256 of a run directory's ``config.toml``, as the checkpoint records it."""
    return hashlib.sha256((Path(run_dir) / CONFIG).read_bytes()).hexdigest()


def read_checkpoint(run_dir: Path, family: Family, allow_config_change: bool = False) -> Any:
    """The checkpoint of ``run_dir`` (:func:`cem._checkpoint.read_checkpoint`), checked
    against the digest of its ``config.toml``."""
    return _read_checkpoint(Path(run_dir) / CHECKPOINT, family, config_digest(run_dir),
                            allow_config_change)  # fmt: skip


def read_config(run_dir: Path) -> dict[str, Any]:
    """The resolved config of a run directory as a TOML table (``{}`` when unreadable)."""
    try:
        table = tomllib.loads(read_text(Path(run_dir) / CONFIG, "run config"))
    except DataFormatError:
        raise  # too large to be what it claims: said, not taken for a missing file
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def read_history(run_dir: Path) -> History:
    """``history.csv`` of a finished run."""
    path = Path(run_dir) / HISTORY
    if not path.is_file():
        raise ConfigError(f"{run_dir} has no history.csv (is it a finished run directory?)")
    return History.read_csv(path)


def read_result(run_dir: Path) -> dict[str, Any]:
    """``result.json`` (``{}`` when missing or unreadable)."""
    try:
        summary = json.loads(read_text(Path(run_dir) / RESULT, "result"))
    except DataFormatError:
        raise  # too large to be what it claims: said, not taken for a missing file
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def read_timing(run_dir: Path) -> dict[str, Any] | None:
    """``timing.json`` of a finished run of a study (``None`` when it is missing)."""
    try:
        timing = json.loads(read_text(Path(run_dir) / TIMING, "timing"))
    except DataFormatError:
        raise  # too large to be what it claims: said, not taken for a missing file
    except (OSError, ValueError):
        return None
    return timing if isinstance(timing, dict) else None


def read_arrays(run_dir: Path) -> dict[str, np.ndarray]:
    """``arrays.npz`` (``{}`` when missing); pickled objects are refused."""
    path = Path(run_dir) / ARRAYS
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@dataclass(frozen=True)
class LevelRow:
    """One row of ``levels.csv``: the level and its threshold."""

    t: int
    gamma: float


def read_levels(run_dir: Path) -> list[LevelRow] | None:
    """The levels of an estimation's ``levels.csv`` (``None`` when there is none)."""
    path = Path(run_dir) / LEVELS
    if not path.is_file():
        return None
    rows = csv.DictReader(io.StringIO(read_text(path, "level table"), newline=""))
    return [LevelRow(int(row["t"]), float(row["gamma"])) for row in rows]


@dataclass
class RunRecord:
    """What a figure or a study needs of a run: its name, history, result and arrays."""

    name: str
    history: History
    result: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def read_run(run_dir: Path) -> RunRecord:
    """The :class:`RunRecord` of a finished run directory."""
    run_dir = Path(run_dir)
    return RunRecord(run_dir.name, read_history(run_dir), read_result(run_dir),
                     read_arrays(run_dir))  # fmt: skip


def new_run_dir(parent: Path, stem: str) -> Path:
    """A fresh ``parent/<stem>-<YYYYmmdd-HHMMSS>`` directory (a suffix avoids collisions)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        path = Path(parent) / (f"{stem}-{stamp}" + (f"-{k}" if k else ""))
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise ConfigError(f"cannot create a new run directory under {parent}")


def claim_run_dir(out: Path, force: bool) -> Path:
    """``out`` as a run directory: created, or emptied of stale temporaries when ``force``
    lets an existing one be written over."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"run directory {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"run directory {out} already exists; pass --force to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    return out


def remove_stale(run_dir: Path) -> None:
    """Remove the temporaries that an interrupted write of :data:`RUN_FILES` left behind."""
    remove_stale_temps(Path(run_dir), RUN_FILES)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(v) for v in np.asarray(value).tolist()) + "]"
    if isinstance(value, np.generic):
        return _toml_value(value.item())
    raise ConfigError(f"cannot write {value!r} to TOML")


def dump_toml(data: dict[str, dict[str, Any]], header: str = "") -> str:
    """Write a two-level dictionary as TOML; ``None`` values are written as comments."""
    lines = [f"# {line}" for line in header.splitlines()]
    for section, values in data.items():
        lines.append(f"\n[{section}]")
        for key, value in values.items():
            if value is None:
                lines.append(f"# {key} = (none)")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines).lstrip("\n") + "\n"
