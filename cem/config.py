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
    dir = "runs"         # parent of run directories (default: runs/ in the working directory)
    plots = true
    formats = ["png"]    # figure formats: any of "png", "pdf", "svg"
    checkpoint = true
    fail_untrusted = true  # cem run/resume exit with status 3 on an untrusted estimate

A study config (:mod:`cem.study`) adds a ``[study]`` section, which a single run
(``cem run``) leaves aside.

A rare-event problem (:class:`cem.rare_event.RareEventProblem`) takes ``[estimator]``
(keys of :data:`cem.options.ESTIMATOR_OPTIONS`) instead of ``[optimizer]``; its
``[family]`` is the importance family the levels start from.
The command line's ``--seed``, ``--n-jobs`` and ``--max-iter`` go to whichever of the
two sections the problem uses (``--max-iter`` caps the levels of an estimation).

Every mistake raises :class:`~cem.errors.ConfigError` with one message naming the
key, what was given and what is accepted. A config is data: validating it runs no
code from it (a ``"module:Class"`` name is imported only with ``allow_import=True``),
every value is checked against the type its factory declares (no string is read as
a number, no float as an integer, no NaN as a threshold), integers must fit in 64
bits, and the memory that building the problem and one iteration would take is
checked against :func:`cem._memory.memory_limit` before anything is allocated.
Paths in a config file (``[problem] file`` and other ``*_file``/``*_path`` keys,
``[output] dir``) are relative to the config file's folder.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cem._checks import is_int, is_real
from cem._io import read_text
from cem._jobs import Estimation, Job, Optimization, job_class
from cem.errors import CEMError, ConfigError, ResourceLimitError
from cem.families import Family
from cem.options import (
    OUTPUT_OPTIONS,
    validate_table,
)
from cem.problem import Problem, check_family, check_family_type
from cem.rare_event import RareEventProblem
from cem.registry import (
    available_families,
    bind_parameters,
    resolve,
    resolve_family,
)
from cem.rundir import CONFIG

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "SECTIONS",
    "STUDY_SECTION",
    "ExperimentConfig",
    "apply_overrides",
    "build_family",
    "build_problem",
    "check_types",
    "load_run_config",
    "load_config",
    "parse_config",
    "read_raw",
]

SECTIONS = ("problem", "family", "optimizer", "estimator", "output")
#: A study's section (:mod:`cem.study`), which a single run leaves aside.
STUDY_SECTION = "study"
#: Deepest nesting of arrays and tables a config may have.
MAX_DEPTH = 16
_INT64 = 2**63 - 1


@dataclass
class ExperimentConfig:
    """A validated config: the problem and family built, the run's job with its engine."""

    raw: dict[str, Any]
    problem: Problem | RareEventProblem
    family: Family
    output: dict[str, Any]
    job: Job
    source: Path | None = None

    @property
    def kind(self) -> str:
        """``"optimize"`` or ``"estimate"`` (a rare-event probability)."""
        return "estimate" if isinstance(self.job, Estimation) else "optimize"

    @property
    def run_options(self) -> dict[str, Any]:
        """The resolved options of the run: ``[optimizer]`` or ``[estimator]``."""
        return self.job.options

    @property
    def options(self) -> dict[str, Any]:
        """The resolved ``[optimizer]`` options (empty for an estimation)."""
        return self.job.options if isinstance(self.job, Optimization) else {}

    @property
    def estimator(self) -> dict[str, Any] | None:
        """The resolved ``[estimator]`` options (``None`` for an optimization)."""
        return self.job.options if isinstance(self.job, Estimation) else None

    @property
    def engine(self) -> Any:
        """The run's engine, built and so validated, not yet run."""
        return self.job.engine


def load_config(
    path: str | Path,
    overrides: list[str] | None = None,
    cli: dict[str, Any] | None = None,
    *,
    allow_import: bool = False,
) -> ExperimentConfig:
    """Read, override (``section.key=value``) and validate a TOML config file.

    Relative paths in the file resolve against the file's folder; those given in
    ``overrides`` against the working directory. ``allow_import`` lets ``[problem]
    name`` and ``[family] type`` be ``"module:Class"`` paths (importing runs code).
    """
    path = Path(path)
    raw = read_raw(path)
    # paths given on the command line: relative to the working directory
    raw = _relative_to(apply_overrides(raw, overrides or []), Path.cwd())
    cfg = parse_config(raw, cli, allow_import=allow_import)
    cfg.source = path
    return cfg


def read_raw(path: str | Path) -> dict[str, Any]:
    """The TOML of a config file, unvalidated, with its relative paths joined to its folder.

    Raises
    ------
    ConfigError
        For a missing file, a file that is not TOML, integers beyond 64 bits or nesting
        deeper than :data:`MAX_DEPTH`.
    """
    path = Path(path)
    _check_path_text(str(path), "config file")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(read_text(path, "config file"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested deeper than Python can read") from None
    _check_values(raw)
    return _relative_to(raw, path.parent.absolute())


def _check_path_text(text: str, what: str) -> None:
    if "\x00" in text:
        raise ConfigError(f"{what} {text!r} contains a NUL byte")


def _is_path_key(section: str, key: str) -> bool:
    if section == "output":
        return key == "dir"
    return section == "problem" and (key == "file" or key.endswith(("_file", "_path")))


def _relative_to(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``raw`` with its relative path values joined to ``folder`` (the config's folder)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for section, table in out.items():
        if not isinstance(table, dict):
            continue
        for key, value in table.items():
            if isinstance(value, str) and _is_path_key(section, key) and value:
                _check_path_text(value, f"[{section}] {key}")
                p = Path(value).expanduser()
                table[key] = str(p if p.is_absolute() else folder / p)
    return out


def _check_values(value: Any, where: str = "", depth: int = 0) -> None:
    """Refuse integers beyond 64 bits and nesting deeper than :data:`MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise ConfigError(f"{where or 'the config'} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_values(v, f"{where}.{k}" if where else str(k), depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_values(v, where, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT64:
        raise ConfigError(f"{where}: the integer {value} is beyond the 64-bit range")


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
    _check_values(raw)
    return raw


def parse_config(
    raw: dict[str, Any], cli: dict[str, Any] | None = None, *, allow_import: bool = False
) -> ExperimentConfig:
    """Validate a config dictionary and build its problem and family.

    ``cli`` holds the command line's ``seed``, ``n_jobs`` and ``max_iter``, applied to
    ``[optimizer]`` or ``[estimator]`` according to the problem. ``allow_import`` lets
    names be ``"module:Class"`` paths (see :meth:`cem.registry.Registry.resolve`).

    Everything ``cem run`` checks before its first sample is checked here, so
    ``cem validate`` accepts exactly the configs that ``cem run`` starts.
    """
    _check_values(raw)
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    for name, value in raw.items():
        if name not in (*SECTIONS, STUDY_SECTION):
            raise ConfigError(
                f"unknown section [{name}]; accepted sections: "
                + ", ".join(f"[{s}]" for s in (*SECTIONS, STUDY_SECTION))
            )
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table (a section), got {value!r}")
    if "problem" not in raw:
        raise ConfigError("missing section [problem] (with name = a registered problem)")
    problem = build_problem(raw["problem"], allow_import)
    output = _output(raw)
    job = job_class(problem)
    other = "optimizer" if job.section == "estimator" else "estimator"
    if other in raw:
        raise ConfigError(
            f"[{other}] does not apply to the {job.what} of {raw['problem']['name']!r}; "
            f"use [{job.section}]"
        )
    family = build_family(raw.get("family"), problem, allow_import=allow_import)
    given = dict(raw.get(job.section, {}))
    return ExperimentConfig(raw, problem, family, output, job.build(problem, family, given, cli))


def _output(raw: dict[str, Any]) -> dict[str, Any]:
    try:
        output = validate_table(raw.get("output", {}), OUTPUT_OPTIONS, "key")
    except ConfigError as exc:
        raise ConfigError(f"[output] {exc}") from None
    output["formats"] = list(output["formats"])
    return output


def build_problem(
    section: dict[str, Any], allow_import: bool = False
) -> Problem | RareEventProblem:
    """The problem of a ``[problem]`` section: ``name`` (a registered name, or a
    ``"module:Class"`` path with ``allow_import``) and the factory's parameters, each checked
    against the factory's signature (:func:`check_types`) before it is called.

    Raises
    ------
    ConfigError
        Naming ``[problem]``, the key and what is accepted.
    ResourceLimitError
        When the problem would exceed the memory limit.
    """
    params = dict(section)
    name = params.pop("name", None)
    if name is None:
        raise ConfigError("[problem] needs name = a registered problem or 'module:Class'")
    if not isinstance(name, str):
        raise ConfigError(f"[problem] name must be a string, got {name!r}")
    try:
        factory = resolve(name, allow_import)
        bind_parameters(factory, params, f"problem {name!r}")
        check_types(factory, params, name)
        problem = factory(**params)
    except ResourceLimitError as exc:
        raise ResourceLimitError(f"[problem] {exc}") from None
    except CEMError as exc:
        raise ConfigError(f"[problem] {exc}") from None
    except FileNotFoundError as exc:
        raise ConfigError(f"[problem] file not found: {exc}") from None
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise ConfigError(f"[problem] {name}: {exc.strerror or exc}{where}") from None
    except MemoryError:
        raise ResourceLimitError(f"[problem] {name}: out of memory building the problem") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"[problem] {name}: {exc}") from None
    if not isinstance(problem, (Problem, RareEventProblem)):
        raise ConfigError(f"[problem] {name!r} did not build a cem.Problem")
    return problem


_SCALARS = {
    "int": ("an integer", is_int),
    "float": ("a finite number", is_real),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "None": ("omitted", lambda v: v is None),
}
_SEQUENCE = re.compile(r"(?:tuple|list|Sequence)\[(int|float)(?:, \.\.\.)?\]")


def _list_of(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """A check of a list (or tuple) whose every item passes ``ok``."""
    return lambda v: isinstance(v, (list, tuple)) and all(ok(x) for x in v)


def check_types(factory: Any, params: dict[str, Any], label: str) -> None:
    """Check config values against the types the factory's signature declares.

    Parameters annotated ``int``, ``float``, ``bool``, ``str`` (or a union of them with
    ``None``), or a sequence of ``int``/``float``, take only values of that type: an
    integer is not a float written ``2.5``, a number is never a string, a ``float`` is
    finite. Other annotations are left to the factory.

    Raises
    ------
    ConfigError
        Naming ``label``, the key, the expected type and the value.
    """
    sig = inspect.signature(factory)
    for key, value in params.items():
        p = sig.parameters.get(key)
        if p is None or p.annotation is p.empty:
            continue
        ann = (
            p.annotation
            if isinstance(p.annotation, str)
            else getattr(p.annotation, "__name__", str(p.annotation))
        )
        parts = [a.strip() for a in ann.split("|")]
        checks: list[tuple[str, Callable[[Any], bool]]] = []
        for part in parts:
            if part in _SCALARS:
                checks.append(_SCALARS[part])
                continue
            m = _SEQUENCE.fullmatch(part)
            if m is None:
                checks = []
                break
            what, ok = _SCALARS[m.group(1)]
            checks.append((f"a list of {what.removeprefix('an ').removeprefix('a ')}s",
                           _list_of(ok)))  # fmt: skip
        if checks and not any(ok(value) for _, ok in checks):
            accepted = " or ".join(what for what, _ in checks)
            raise ConfigError(f"{label}: {key} must be {accepted}, got {value!r}")


def _broadcast(key: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A ``[family]`` array parameter of the given shape; a scalar is broadcast to it."""
    flat = np.asarray(value, dtype=object).ravel() if isinstance(value, list) else [value]
    if not all(is_real(v) for v in flat):
        raise ConfigError(
            f"[family] {key} must be a finite number or an array of finite numbers, got {value!r}"
        )
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"[family] {key} must be a number or an array, got {value!r}") from None
    if arr.ndim == 0:
        arr = np.full(shape, float(arr))
    if arr.shape != shape:
        raise ConfigError(f"[family] {key} must have shape {shape}, got {arr.shape}")
    return arr


def build_family(
    section: dict[str, Any] | None,
    problem: Problem | RareEventProblem,
    *,
    allow_import: bool = False,
) -> Family:
    """The family of a ``[family]`` section, or the problem's default.

    ``type`` names a registered family (:data:`cem.registry.FAMILIES`, or a plug-in of
    the ``cem.families`` entry-point group); the other keys are the parameters of its
    factory, checked against its signature. A parameter that the problem's default family
    also has must have its shape, and a scalar given for it is broadcast to that shape; a
    required parameter that is not given is taken from the default family when it has one
    of that name; other values go to the factory as they are. The family must be of a kind the
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
        factory = resolve_family(kind, allow_import)
    except ConfigError as exc:
        raise ConfigError(f"[family] {exc}") from None
    label = f"[family] type {kind!r}"
    made = getattr(factory, "__self__", factory)  # a classmethod factory: its class
    try:
        if isinstance(made, type) and issubclass(made, Family):
            check_family_type(problem, made)
    except ConfigError as exc:
        raise ConfigError(f"[family] {exc}") from None
    supplied = _defaults_for(factory, params, default)
    bind_parameters(factory, {**params, **supplied}, label)
    check_types(factory, params, label)
    defaults = default.params() if default is not None else {}
    for key, value in list(params.items()):
        if key in defaults and np.ndim(defaults[key]) > 0:
            params[key] = _broadcast(key, value, np.shape(defaults[key]))
    params.update(supplied)
    try:
        family = factory(**params)
    except CEMError as exc:
        msg = str(exc)
        raise ConfigError(msg if msg.startswith("[family]") else f"{label}: {msg}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{label}: {exc}") from None
    if not isinstance(family, Family):
        raise ConfigError(f"{label} did not build a cem Family")
    try:
        check_family(problem, family)
    except ConfigError as exc:
        raise ConfigError(f"[family] {exc}") from None
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


def load_run_config(run_dir: Path, *, allow_import: bool = False) -> ExperimentConfig:
    """The resolved config of a run directory, validated as :func:`load_config` validates."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a run directory: no config.toml")
    return load_config(path, allow_import=allow_import)
