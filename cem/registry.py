"""Names for configs: the registries of problems and of sampling families.

A name maps to a ``"module:attribute"`` path to a callable: for a problem, a class or
factory that takes the config's ``[problem]`` keys as keyword arguments; for a family,
a class or factory that takes the ``[family]`` keys. Built-ins are one line each in
:data:`PROBLEMS` and :data:`FAMILIES`; third-party packages add their own through the
``cem.problems`` and ``cem.families`` entry-point groups, for example in their
``pyproject.toml``::

    [project.entry-points."cem.problems"]
    knapsack = "mypackage.knapsack:Knapsack"

    [project.entry-points."cem.families"]
    beta = "mypackage.families:Beta"

A config may also name any ``"module:Class"`` path directly, but importing a module
runs its code, and configs are data: such a path is resolved only with
``allow_import=True`` (``cem run --allow-import``). Registered names and installed
plug-ins need no opt-in.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from cem.errors import ConfigError

__all__ = [
    "FAMILIES",
    "FAMILY_GROUP",
    "PROBLEMS",
    "PROBLEM_GROUP",
    "Registry",
    "available_families",
    "available_problems",
    "bind_parameters",
    "family_registry",
    "problem_registry",
    "resolve",
    "resolve_family",
]

PROBLEM_GROUP = "cem.problems"
FAMILY_GROUP = "cem.families"

#: Built-in problems: name -> "module:callable".
PROBLEMS: dict[str, str] = {
    "maxcut": "cem.problems.maxcut:MaxCut.from_config",
    "bimodal": "cem.problems.continuous:Bimodal",
    "sphere": "cem.problems.continuous:Sphere",
    "rosenbrock": "cem.problems.continuous:Rosenbrock",
    "rastrigin": "cem.problems.continuous:Rastrigin",
    "tsp": "cem.problems.tsp:TSP.from_config",
    "buffer_allocation": "cem.problems.buffer_allocation:BufferAllocation.from_config",
    "flowline_pnh": "cem.problems.buffer_allocation:FlowLinePNH",
    "bridge_network": "cem.problems.rare_events:BridgeNetwork",
    "sum_of_exponentials": "cem.problems.rare_events:SumOfExponentials",
    "linear_limit_state": "cem.problems.rare_events:LinearLimitState",
    "mm1_overflow": "cem.problems.rare_events:MM1Overflow",
    "series_system": "cem.problems.rare_events:SeriesSystem",
    "classification": "cem.problems.classification:Classification.from_config",
    "network_reliability": "cem.problems.network.reliability:NetworkReliability",
    "network_design": "cem.problems.network.design:NetworkDesign.from_config",
    "four_branch_system": "cem.problems.rare_events:FourBranchSystem",
    "k_out_of_n": "cem.problems.rare_events:KOutOfN",
    "align_pair": "cem.problems.alignment.pairwise:PairwiseAlignment.from_config",
    "align_significance": "cem.problems.alignment.significance:LocalScoreTail.from_config",
}

#: Built-in families: the ``[family] type`` -> "module:callable".
FAMILIES: dict[str, str] = {
    "bernoulli": "cem.families:Bernoulli",
    "categorical": "cem.families:Categorical.uniform",
    "normal": "cem.families:Normal",
    "full_normal": "cem.families:FullNormal",
    "truncated_normal": "cem.families:TruncatedNormal",
    "normal_mixture": "cem.families:NormalMixture",
    "exponential": "cem.families:Exponential",
    "gamma": "cem.families:Gamma",
    "transition_matrix": "cem.families:TransitionMatrix",
    "node_placement": "cem.families:NodePlacement",
    "sequential_allocation": "cem.families:SequentialAllocation",
    "birth_death_walk": "cem.problems.rare_events:BirthDeathWalk",
}


def _load(path: str, what: str) -> Callable[..., Any]:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"{what} path must look like 'package.module:Class', got {path!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import module {module_name!r} for {what} {path!r}: {exc}"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"{what} {path!r} is not callable")
    return obj


class Registry:
    """Names of one kind (problems or families): built-ins plus an entry-point group.

    Parameters
    ----------
    what, plural : str
        ``"problem"`` or ``"family"`` and their plurals, for messages.
    builtin : dict
        Name -> ``"module:callable"``.
    group : str
        The entry-point group third-party packages register into.
    """

    def __init__(self, what: str, plural: str, builtin: dict[str, str], group: str) -> None:
        self.what, self.plural, self.builtin, self.group = what, plural, builtin, group

    def _plugins(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=self.group)}

    def available(self) -> dict[str, str]:
        """Registered names (built-in first, then plug-ins) -> ``"module:callable"``."""
        found = dict(self.builtin)
        for name, ep in self._plugins().items():
            found.setdefault(name, ep.value)
        return found

    def resolve(self, name: str, allow_import: bool = False) -> Callable[..., Any]:
        """The factory of a registered name or of a ``"module:Class"`` path.

        Parameters
        ----------
        name : str
            A registered name, or a ``"module:Class"`` path.
        allow_import : bool, default False
            Whether a ``"module:Class"`` path may be imported (which runs the
            module's code). Without it such a path raises before any import.

        Raises
        ------
        ConfigError
            For an unknown name (the message lists the registered ones), or a
            ``"module:Class"`` path without ``allow_import``.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{self.what} name must be a non-empty string, got {name!r}")
        if ":" in name:
            if not allow_import:
                raise ConfigError(
                    f"{self.what} {name!r} is a 'module:attribute' path, and importing it "
                    "would run its code; pass --allow-import (allow_import=True) if you "
                    "trust it, or use a registered name"
                )
            return _load(name, self.what)
        if name in self.builtin:
            return _load(self.builtin[name], self.what)
        plugins = self._plugins()
        if name in plugins:
            return _load(plugins[name].value, self.what)
        known = ", ".join(sorted(self.available()))
        raise ConfigError(f"unknown {self.what} {name!r}; registered {self.plural}: {known}")


problem_registry = Registry("problem", "problems", PROBLEMS, PROBLEM_GROUP)
family_registry = Registry("family", "families", FAMILIES, FAMILY_GROUP)


def available_problems() -> dict[str, str]:
    """Registered problem names (built-in and plug-in) -> ``"module:callable"`` paths."""
    return problem_registry.available()


def available_families() -> dict[str, str]:
    """Registered family names (built-in and plug-in) -> ``"module:callable"`` paths."""
    return family_registry.available()


def resolve(name: str, allow_import: bool = False) -> Callable[..., Any]:
    """The factory of a registered problem name or ``"module:Class"`` path (see
    :meth:`Registry.resolve` for ``allow_import``)."""
    return problem_registry.resolve(name, allow_import)


def resolve_family(name: str, allow_import: bool = False) -> Callable[..., Any]:
    """The factory of a registered family name or ``"module:Class"`` path (see
    :meth:`Registry.resolve` for ``allow_import``)."""
    return family_registry.resolve(name, allow_import)


def bind_parameters(factory: Callable[..., Any], params: dict[str, Any], label: str) -> None:
    """Check ``params`` against the factory's signature.

    Raises
    ------
    ConfigError
        For a name the factory does not take (the message lists the accepted ones) or
        a missing required parameter; ``label`` names the factory in the message.
    """
    sig = inspect.signature(factory)
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    accepted = [p for p in sig.parameters if p not in ("self", "cls")]
    unknown = [k for k in params if k not in accepted]
    if unknown and not takes_kwargs:
        raise ConfigError(
            f"{label} has no parameter {unknown[0]!r}; accepted: {', '.join(accepted)}"
        )
    try:
        sig.bind(**params)
    except TypeError as exc:
        raise ConfigError(f"{label}: {exc}") from None
