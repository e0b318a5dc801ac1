"""Experiment configs: TOML files read with the standard library and validated.

A config has four sections::

    [problem]            # required: name = registered name or "package.module:Class"
    name = "maxcut"
    instance = "synthetic"   # every other key is a parameter of the problem's factory

    [family]             # optional override of the problem's starting family
    type = "bernoulli"   # a registered family: cem.registry.FAMILIES or a plug-in
    p = 0.5              # scalars are broadcast to the problem's dimension

    [optimizer]          # keys of cem.options.OPTIONS
    n_samples = 1000

    [output]             # optional
    dir = "runs"         # parent folder of run directories
    plots = true
    formats = ["png"]    # figure formats: any of "png", "pdf", "svg"
    checkpoint = true

A rare-event problem (:class:`cem.rare_event.RareEventProblem`) takes ``[estimator]``
(keys of :data:`cem.rare_event.ESTIMATOR_OPTIONS`) instead of ``[optimizer]``; its
``[family]`` is the importance family the levels start from.
The command line's ``--seed``, ``--n-jobs`` and ``--max-iter`` go to whichever of the
two sections the problem uses (``--max-iter`` caps the levels of an estimation).

Every mistake raises :class:`~cem.errors.ConfigError` with one message naming the
key, what was given and what is accepted.
"""

from __future__ import annotations

import inspect
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cem.errors import CEMError, ConfigError
from cem.families import Family
from cem.options import resolve_options, validate_table
from cem.problem import Problem, check_family
from cem.rare_event import ESTIMATOR_OPTIONS, RareEventProblem
from cem.registry import available_families, bind_parameters, create_problem, resolve_family

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "SECTIONS",
    "ExperimentConfig",
    "apply_overrides",
    "build_family",
    "dump_toml",
    "load_config",
    "parse_config",
]

SECTIONS = ("problem", "family", "optimizer", "estimator", "output")
OUTPUT_KEYS = {"dir": str, "plots": bool, "formats": list, "checkpoint": bool}


@dataclass
class ExperimentConfig:
    """A validated config: the problem built, the family, the optimizer options."""

    raw: dict[str, Any]
    problem: Problem | RareEventProblem
    family: Family
    options: dict[str, Any]
    output: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    estimator: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        """``"optimize"`` or ``"estimate"`` (a rare-event probability)."""
        return "optimize" if self.estimator is None else "estimate"


def load_config(
    path: str | Path, overrides: list[str] | None = None, cli: dict[str, Any] | None = None
) -> ExperimentConfig:
    """Read, override (``section.key=value``) and validate a TOML config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    cfg = parse_config(apply_overrides(raw, overrides or []), cli)
    cfg.source = path
    return cfg


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides; values are parsed as TOML values."""
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for item in overrides:
        key, sep, text = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()  # a bare word is taken as a string
        raw.setdefault(section, {})
        if not isinstance(raw[section], dict):
            raise ConfigError(f"--set {item!r}: [{section}] is not a section")
        raw[section][name] = value
    return raw


def parse_config(raw: dict[str, Any], cli: dict[str, Any] | None = None) -> ExperimentConfig:
    """Validate a config dictionary and build its problem and family.

    ``cli`` holds the command line's ``seed``, ``n_jobs`` and ``max_iter``, applied to
    ``[optimizer]`` or ``[estimator]`` according to the problem.
    """
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"unknown section [{name}]; accepted sections: "
                + ", ".join(f"[{s}]" for s in SECTIONS)
            )
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table (a section), got {value!r}")
    if "problem" not in raw:
        raise ConfigError("missing section [problem] (with name = a registered problem)")
    problem = _build_problem(raw["problem"])
    output = _output(raw)
    if isinstance(problem, RareEventProblem):
        if "optimizer" in raw:
            raise ConfigError(
                f"[optimizer] does not apply to the rare-event problem "
                f"{raw['problem']['name']!r}; use [estimator]"
            )
        given = dict(raw.get("estimator", {}))
        given.update({("max_levels" if k == "max_iter" else k): v for k, v in cli.items()})
        try:
            estimator = validate_table(given, ESTIMATOR_OPTIONS, "key")
        except ConfigError as exc:
            raise ConfigError(f"[estimator] {exc}") from None
        family = build_family(raw.get("family"), problem)
        return ExperimentConfig(raw, problem, family, {}, output, estimator=estimator)
    if "estimator" in raw:
        raise ConfigError("[estimator] applies to rare-event problems only; use [optimizer]")
    family = build_family(raw.get("family"), problem)
    optimizer = {**problem.default_options(), **raw.get("optimizer", {}), **cli}
    try:
        options = resolve_options(optimizer)
    except ConfigError as exc:
        raise ConfigError(f"[optimizer] {exc}") from None
    return ExperimentConfig(raw, problem, family, options, output)


def _output(raw: dict[str, Any]) -> dict[str, Any]:
    from cem.plotting import FORMATS

    output = {"dir": "runs", "plots": True, "formats": ["png"], "checkpoint": True}
    for key, value in raw.get("output", {}).items():
        if key not in OUTPUT_KEYS:
            raise ConfigError(f"unknown key [output] {key!r}; accepted: {', '.join(OUTPUT_KEYS)}")
        if not isinstance(value, OUTPUT_KEYS[key]):
            raise ConfigError(
                f"[output] {key} must be a {OUTPUT_KEYS[key].__name__}, got {value!r}"
            )
        if key == "formats" and (not value or not set(value) <= set(FORMATS)):
            raise ConfigError(
                f"[output] formats must be a non-empty list of {', '.join(map(repr, FORMATS))}, "
                f"got {value!r}"
            )
        output[key] = value
    return output


def _build_problem(section: dict[str, Any]) -> Problem | RareEventProblem:
    params = dict(section)
    name = params.pop("name", None)
    if name is None:
        raise ConfigError("[problem] needs name = a registered problem or 'module:Class'")
    if not isinstance(name, str):
        raise ConfigError(f"[problem] name must be a string, got {name!r}")
    try:
        problem = create_problem(name, **params)
    except CEMError as exc:
        raise ConfigError(f"[problem] {exc}") from None
    except FileNotFoundError as exc:
        raise ConfigError(f"[problem] file not found: {exc}") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"[problem] {name}: {exc}") from None
    if not isinstance(problem, (Problem, RareEventProblem)):
        raise ConfigError(f"[problem] {name!r} did not build a cem.Problem")
    return problem


def _broadcast(key: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A ``[family]`` array parameter: a scalar is broadcast to ``shape``."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"[family] {key} must be a number or an array, got {value!r}") from None
    if arr.ndim == 0:
        arr = np.full(shape, float(arr))
    if arr.shape != shape:
        raise ConfigError(f"[family] {key} must have shape {shape}, got {arr.shape}")
    return arr


def _array_parameters(factory: Any) -> set[str]:
    """The factory's parameters annotated as arrays (``np.ndarray`` in the annotation)."""
    sig = inspect.signature(factory)
    return {name for name, p in sig.parameters.items() if "ndarray" in str(p.annotation)}


def build_family(section: dict[str, Any] | None, problem: Problem | RareEventProblem) -> Family:
    """The family of a ``[family]`` section, or the problem's default.

    ``type`` names a registered family (:data:`cem.registry.FAMILIES`, or a plug-in of
    the ``cem.families`` entry-point group); the other keys are the parameters of its
    factory, checked against its signature. A scalar given for an array parameter is
    broadcast to the shape of the default family's parameter of that name, else to the
    problem's event shape; a required parameter that is not given is taken from the
    default family when it has one of that name. The family must be of a kind the
    problem accepts (:func:`cem.problem.check_family`).
    """
    default: Family | None
    try:
        default = (
            problem.importance_family()
            if isinstance(problem, RareEventProblem)
            else problem.initial_family()
        )
    except CEMError as exc:
        if section is None:
            raise ConfigError(f"[family] is required: {exc}") from None
        default = None
    if section is None:
        assert default is not None
        return default
    params = dict(section)
    kind = params.pop("type", None)
    if not isinstance(kind, str):
        raise ConfigError(
            f"[family] type must be one of {', '.join(available_families())}, got {kind!r}"
        )
    try:
        factory = resolve_family(kind)
    except ConfigError as exc:
        raise ConfigError(f"[family] {exc}") from None
    label = f"[family] type {kind!r}"
    bind_parameters(factory, {**params, **_defaults_for(factory, params, default)}, label)
    defaults = default.params() if default is not None else {}
    shape = default.event_shape if default is not None else _shape_from(params)
    arrays = _array_parameters(factory)
    for key, value in list(params.items()):
        if key in arrays:
            target = np.shape(defaults[key]) if key in defaults else shape
            params[key] = _broadcast(key, value, tuple(target))
    params.update(_defaults_for(factory, params, default))
    try:
        family = factory(**params)
    except CEMError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith("[family]") else f"{label}: {msg}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{label}: {exc}") from None
    if not isinstance(family, Family):
        raise ConfigError(f"{label} did not build a cem Family")
    check_family(problem, family)
    return family


def _defaults_for(factory: Any, params: dict[str, Any], default: Family | None) -> dict[str, Any]:
    """Required parameters missing from ``params`` that the default family can supply."""
    if default is None:
        return {}
    have = default.params()
    out = {}
    for name, p in inspect.signature(factory).parameters.items():
        if p.default is p.empty and name not in params and name in have:
            out[name] = np.array(have[name])
    return out


def _shape_from(params: dict[str, Any]) -> tuple[int, ...]:
    lengths = [np.size(v) for v in params.values() if np.ndim(v) == 1]
    if not lengths:
        raise ConfigError("[family] needs array parameters: the problem has no default family")
    return (lengths[0],)


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
