"""Plug-in problems for cem, and the registry that names them for configs.

A problem is registered by a name and a ``"module:attribute"`` path to a callable
(a class or a factory) that takes the config's ``[problem]`` keys as keyword
arguments. Adding a built-in problem is one line in :data:`BUILTIN`. Third-party
packages add problems through the ``cem.problems`` entry-point group, and a config
may name any ``"module:Class"`` directly.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from cem.errors import ConfigError

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "available_problems", "create_problem", "resolve"]

ENTRY_POINT_GROUP = "cem.problems"

#: Built-in problems: name -> "module:callable".
BUILTIN: dict[str, str] = {
    "maxcut": "problems.maxcut:MaxCut.from_config",
    "bimodal": "problems.continuous:Bimodal",
    "sphere": "problems.continuous:Sphere",
    "rosenbrock": "problems.continuous:Rosenbrock",
    "rastrigin": "problems.continuous:Rastrigin",
    "tsp": "problems.tsp:TSP.from_config",
    "buffer_allocation": "problems.buffer_allocation:BufferAllocation.from_config",
    "flowline_pnh": "problems.buffer_allocation:FlowLinePNH",
    "bridge_network": "problems.rare_events:BridgeNetwork",
    "sum_of_exponentials": "problems.rare_events:SumOfExponentials",
    "linear_limit_state": "problems.rare_events:LinearLimitState",
    "mm1_overflow": "problems.rare_events:MM1Overflow",
    "series_system": "problems.rare_events:SeriesSystem",
}


def _load(path: str) -> Callable[..., Any]:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"problem path must look like 'package.module:Class', got {path!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import module {module_name!r} for problem {path!r}: {exc}"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"problem {path!r} is not callable")
    return obj


def _plugins() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_problems() -> dict[str, str]:
    """Registered problem names (built-in and plug-in) → ``"module:callable"`` paths."""
    found = dict(BUILTIN)
    for name, ep in _plugins().items():
        found.setdefault(name, ep.value)
    return found


def resolve(name: str) -> Callable[..., Any]:
    """The factory of a registered name or of a ``"module:Class"`` path.

    Raises
    ------
    ConfigError
        For an unknown name; the message lists the registered ones.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"problem name must be a non-empty string, got {name!r}")
    if ":" in name:
        return _load(name)
    if name in BUILTIN:
        return _load(BUILTIN[name])
    plugins = _plugins()
    if name in plugins:
        return plugins[name].load()
    known = ", ".join(sorted(available_problems()))
    raise ConfigError(f"unknown problem {name!r}; registered problems: {known}")


def create_problem(name: str, **params: Any) -> Any:
    """Build a problem from its registered name (or path) and keyword parameters.

    Unknown parameter names raise :class:`ConfigError` listing the accepted ones.
    """
    factory = resolve(name)
    sig = inspect.signature(factory)
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    accepted = [p for p in sig.parameters if p not in ("self", "cls")]
    unknown = [k for k in params if k not in accepted]
    if unknown and not takes_kwargs:
        raise ConfigError(
            f"problem {name!r} has no parameter {unknown[0]!r}; accepted: {', '.join(accepted)}"
        )
    try:
        sig.bind(**params)
    except TypeError as exc:
        raise ConfigError(f"problem {name!r}: {exc}") from None
    return factory(**params)
