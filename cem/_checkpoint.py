"""Checkpoints that hold data only: numpy arrays and JSON in one ``.npz`` file.

A checkpoint is read with ``numpy.load(allow_pickle=False)``: no object is
unpickled, so loading one runs no code. The family is not stored as an object: the
run's config builds the family (through the family registry, as at the start of the
run) and the checkpoint's arrays become its parameters (:meth:`Family.with_params`),
after their names, shapes and values have been checked.

Layout (format ``cem-checkpoint``, :data:`VERSION`):

- ``meta``: UTF-8 JSON as a ``uint8`` array: the format and version, the SHA-256 of
  the run's ``config.toml``, the family's class name, and the scalar state (``t``,
  evaluations, best score, the stall counters of ``stall_iters`` and ``stall_best``,
  stop reasons, elapsed seconds, seed entropy and spawn key, the history records);
- ``family.<name>``: the current family parameters;
- ``best_x``: the best point so far (absent before the first iteration);
- ``kept.rows`` and ``kept.scores``: with ``keep_elite``, the last elite's best rows and
  their scores (maximization sense), which compete again in the next iteration;
- ``recorded.<name>``: the recorded family parameters per iteration, stacked;
- for a rare-event estimation (:class:`~cem.rare_event.MultilevelEstimator`), ``meta``
  also holds ``levels`` (each level's ``t`` and ``gamma``, the effective sample sizes of
  the levels' weights and the number of failure regions seen), with the arrays
  ``level.<i>.<name>`` (the family after level ``i``) and ``last_elite`` (the last
  level's elite rows, where the final run's MCMC refit starts).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from cem._io import atomic_write_bytes
from cem.errors import CEMError, CheckpointError
from cem.families import Family
from cem.history import IterationRecord

__all__ = ["FORMAT", "VERSION", "read_checkpoint", "write_checkpoint"]

FORMAT = "cem-checkpoint"
VERSION = 2
_RECORD_FIELDS = tuple(f.name for f in fields(IterationRecord))


def write_checkpoint(
    path: str | Path,
    state: dict[str, Any],
    recorded: list[dict[str, np.ndarray]],
    config_sha256: str,
    levels: dict[str, Any] | None = None,
) -> None:
    """Write an optimizer state (:meth:`CrossEntropyOptimizer.state_dict`) atomically.

    ``levels`` is the rest of an estimation's state
    (:meth:`~cem.rare_event.MultilevelEstimator.state_dict`).
    """
    family: Family = state["family"]
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config_sha256": config_sha256,
        "family_type": type(family).__name__,
        "t": int(state["t"]),
        "evals": int(state["evals"]),
        "best_score": float(state["best_score"]),
        "stall": int(state["stall"]),
        "since_best": int(state.get("since_best", 0)),
        "stop": dict(state["stop"]),
        "elapsed": float(state["elapsed"]),
        "seed_entropy": int(state["seed_entropy"]),
        "seed_spawn_key": [int(k) for k in state["seed_spawn_key"]],
        "history": [asdict(r) for r in state["history"]],
        "n_recorded": len(recorded),
    }
    arrays = {f"family.{k}": np.asarray(v) for k, v in family.params().items()}
    if state["best_x"] is not None:
        arrays["best_x"] = np.asarray(state["best_x"])
    if state.get("kept") is not None:
        arrays["kept.rows"], arrays["kept.scores"] = (np.asarray(a) for a in state["kept"])
    if recorded:
        arrays.update({f"recorded.{k}": np.stack([p[k] for p in recorded]) for k in recorded[0]})
    if levels is not None:
        meta["levels"] = {
            "t": [int(lv.t) for lv in levels["levels"]],
            "gamma": [float(lv.gamma) for lv in levels["levels"]],
            "level_ess": [float(e) for e in levels["level_ess"]],
            "regions": int(levels["regions"]),
            "tied": [bool(b) for b in levels["tied"]],
        }
        for i, lv in enumerate(levels["levels"]):
            arrays.update({f"level.{i}.{k}": np.asarray(v) for k, v in lv.params.items()})
        if levels["last_elite"] is not None:
            arrays["last_elite"] = np.asarray(levels["last_elite"])
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    buf = io.BytesIO()
    save: Any = np.savez  # numpy's stub reads ** as its allow_pickle flag
    save(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def read_checkpoint(
    path: str | Path,
    family: Family,
    config_sha256: str,
    allow_config_change: bool = False,
) -> dict[str, Any]:
    """Read and verify a checkpoint; the family is ``family`` with the saved parameters.

    Parameters
    ----------
    path : path
        The ``checkpoint.npz``.
    family : Family
        The run's starting family, built from its config: it gives the kind, the
        options and the parameter shapes that the checkpoint must match.
    config_sha256 : str
        SHA-256 of the run's ``config.toml`` now.
    allow_config_change : bool
        Accept a checkpoint written under another config.

    Returns
    -------
    dict
        ``{"optimizer": state for load_state_dict, "params": recorded parameters,
        "config_changed": bool, "levels": an estimation's level state or None}``; the
        level state has ``levels`` as ``(t, gamma, params)`` tuples.

    Raises
    ------
    CheckpointError
        One line naming the file and what is wrong with it.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise CheckpointError(f"{path}: damaged or not a cem checkpoint ({_reason(exc)})") from None
    try:
        return _verified(arrays, family, config_sha256, allow_config_change, path)
    except CheckpointError:
        raise
    except (CEMError, KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    """What is wrong with a file, in one line, without numpy's advice to unpickle it."""
    text = " ".join(str(exc).split())
    if "pickle" in text.lower():
        return "it holds pickled objects, which cem never loads: a checkpoint is plain arrays"
    return f"{type(exc).__name__}: {text}"


def _verified(
    arrays: dict[str, np.ndarray],
    family: Family,
    config_sha256: str,
    allow_config_change: bool,
    path: Path,
) -> dict[str, Any]:
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: damaged checkpoint: {what}")

    raw = arrays.pop("meta", None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise bad("no metadata")
    meta = json.loads(raw.tobytes().decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise bad("not a cem checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta.get('version')!r}, this cem reads {VERSION}"
        )
    changed = meta.get("config_sha256") != config_sha256
    if changed and not allow_config_change:
        raise CheckpointError(
            f"{path.parent}/config.toml changed since the checkpoint was written; restore it, "
            "start a new run, or resume with cem resume --allow-config-change "
            "(allow_config_change=True in cem.runner.resume)"
        )
    if meta.get("family_type") != type(family).__name__:
        raise bad(f"family {meta.get('family_type')!r}, the config builds {type(family).__name__}")
    for key in arrays:
        if arrays[key].dtype.kind not in "biuf":
            raise bad(f"array {key!r} is not numeric")
    saved = _group(arrays, "family.")
    expected = family.params()
    if saved.keys() != expected.keys():
        raise bad(f"family parameters {sorted(saved)}, expected {sorted(expected)}")
    for k, v in saved.items():
        want = np.shape(expected[k])
        same = v.shape == want if family.fixed_shapes else v.shape[1:] == want[1:]
        if not same or not np.all(np.isfinite(v)):
            raise bad(f"family parameter {k!r} has shape {v.shape} or non-finite values")
    restored = family.with_params(**saved)
    t, evals, stall = (_count(meta, k, bad) for k in ("t", "evals", "stall"))
    history = [IterationRecord(**_record(r, bad)) for r in meta["history"]]
    if len(history) != t:
        raise bad(f"{len(history)} history records for t={t}")
    best_x = arrays.get("best_x")
    if (best_x is None) != (t == 0) or (best_x is not None and best_x.shape != family.event_shape):
        raise bad("best point missing or of the wrong shape")
    kept = _kept(arrays, family, bad)
    recorded = _group(arrays, "recorded.")
    n_rec = _count(meta, "n_recorded", bad)
    if recorded and (recorded.keys() != expected.keys() or
                     any(v.shape[:1] != (n_rec,) for v in recorded.values())):  # fmt: skip
        raise bad("recorded parameters do not match the family")
    params = [{k: recorded[k][i] for k in recorded} for i in range(n_rec)] if recorded else []
    best_score = float(meta["best_score"])
    if math.isnan(best_score) or not isinstance(meta["stop"], dict):
        raise bad("best score or stop reasons")
    state = {
        "t": t,
        "evals": evals,
        "family": restored,
        "history": history,
        "best_x": best_x,
        "kept": kept,
        "best_score": best_score,
        "stall": stall,
        "since_best": _count(meta, "since_best", bad) if "since_best" in meta else 0,
        "stop": {str(k): str(v) for k, v in meta["stop"].items()},
        "elapsed": float(meta["elapsed"]),
        "seed_entropy": _nonnegative_int(meta["seed_entropy"], bad),
        "seed_spawn_key": tuple(_nonnegative_int(k, bad) for k in meta["seed_spawn_key"]),
    }
    return {"optimizer": state, "params": params, "config_changed": changed,
            "levels": _levels(meta, arrays, family, bad)}  # fmt: skip


def _levels(
    meta: dict[str, Any], arrays: dict[str, np.ndarray], family: Family, bad: Any
) -> dict[str, Any] | None:
    """An estimation's level state from a checkpoint's metadata and arrays (or ``None``)."""
    info = meta.get("levels")
    if info is None:
        return None
    keys = {"t", "gamma", "level_ess", "regions"}
    if not isinstance(info, dict) or not keys <= set(info) <= keys | {"tied"}:
        raise bad("level metadata")
    t = [_nonnegative_int(v, bad) for v in info["t"]]
    numbers = [info["gamma"], info["level_ess"]]
    aligned = len(t) == len(info["gamma"]) == len(info["level_ess"])
    if not aligned or any(not isinstance(v, (int, float)) or isinstance(v, bool)
                          or not math.isfinite(v) for vs in numbers for v in vs):  # fmt: skip
        raise bad("level thresholds or effective sample sizes")
    names = family.fitted_params().keys()
    levels = []
    for i, (ti, gamma) in enumerate(zip(t, info["gamma"], strict=True)):
        params = _group(arrays, f"level.{i}.")
        if params.keys() != names or not all(np.all(np.isfinite(v)) for v in params.values()):
            raise bad(f"parameters of level {i}")
        levels.append((ti, float(gamma), params))
    elite = arrays.get("last_elite")
    if elite is not None and elite.shape[1:] != family.event_shape:
        raise bad("last elite of the wrong shape")
    tied = info.get("tied", [False, False])
    if not (isinstance(tied, list) and len(tied) == 2 and all(isinstance(b, bool) for b in tied)):
        raise bad("tied state")
    return {"levels": levels, "level_ess": [float(e) for e in info["level_ess"]],
            "regions": _nonnegative_int(info["regions"], bad), "last_elite": elite,
            "tied": tied}  # fmt: skip


def _kept(
    arrays: dict[str, np.ndarray], family: Family, bad: Any
) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows ``keep_elite`` carries to the next iteration, with their scores, or None."""
    rows, scores = arrays.get("kept.rows"), arrays.get("kept.scores")
    if rows is None and scores is None:
        return None
    if (rows is None or scores is None or rows.shape[1:] != family.event_shape
            or scores.shape != rows.shape[:1] or np.any(np.isnan(scores))):  # fmt: skip
        raise bad("kept rows or their scores")
    return rows, scores


def _group(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}


def _nonnegative_int(v: Any, bad: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise bad(f"expected a nonnegative integer, got {v!r}")
    return v


def _count(meta: dict[str, Any], key: str, bad: Any) -> int:
    return _nonnegative_int(meta.get(key), bad)


def _record(r: Any, bad: Any) -> dict[str, Any]:
    if not isinstance(r, dict) or tuple(r) != _RECORD_FIELDS:
        raise bad(f"history record {r!r}")
    out = {}
    for k, v in r.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad(f"history value {k}={v!r}")
        out[k] = int(v) if k in ("t", "evals") else float(v)
    return out
