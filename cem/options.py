"""The table of optimizer options: defaults, documentation and validation.

One table serves the Python API (:class:`cem.CrossEntropyOptimizer` keyword
arguments), the ``[optimizer]`` section of TOML configs and the command-line help,
so the three can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cem.checks import is_int, is_real
from cem.errors import ConfigError
from cem.parallel import backend_config

__all__ = [
    "OPTIONS",
    "Option",
    "all_tables",
    "check_budget",
    "elite_size",
    "options_table",
    "resolve_options",
    "validate_table",
]


@dataclass(frozen=True)
class Option:
    """One optimizer option: its default, accepted values and one-line documentation."""

    name: str
    default: Any
    doc: str
    accepted: str
    check: Callable[[Any], bool]
    optional: bool = False

    def validate(self, value: Any) -> Any:
        """Return ``value`` if accepted, else raise :class:`ConfigError` naming the option."""
        if value is None and self.optional:
            return None
        ok = False
        try:
            ok = bool(self.check(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ConfigError(f"{self.name} must be {self.accepted}, got {value!r}")
        return value


OPTIONS: dict[str, Option] = {
    o.name: o
    for o in [
        Option("n_samples", 1000, "samples drawn per iteration (N)", "an integer >= 1",
               lambda v: is_int(v) and v >= 1),
        Option("rho", 0.1, "elite fraction: gamma_t is the (1 - rho) sample quantile",
               "a number in (0, 1)", lambda v: is_real(v) and 0 < v < 1),
        Option("n_elite", None, "number of elite samples; overrides rho when given",
               "an integer in [1, n_samples] or None", lambda v: is_int(v) and v >= 1,
               optional=True),
        Option("alpha", 0.7, "smoothing weight of the new parameters", "a number in (0, 1]",
               lambda v: is_real(v) and 0 < v <= 1),
        Option("beta", None, "dynamic smoothing of scale parameters: "
               "beta_t = beta - beta * (1 - 1/t)**q", "a number in (0, 1] or None",
               lambda v: is_real(v) and 0 < v <= 1, optional=True),
        Option("q", 5.0, "exponent q of the dynamic smoothing rule", "a number > 0",
               lambda v: is_real(v) and v > 0),
        Option("max_iter", 1000, "stop after this many iterations", "an integer >= 1",
               lambda v: is_int(v) and v >= 1),
        Option("stall_iters", 5, "stop when gamma_t is unchanged for this many iterations (d)",
               "an integer >= 1 or None", lambda v: is_int(v) and v >= 1, optional=True),
        Option("stall_best", None, "stop when the best score has not improved for this many "
               "iterations", "an integer >= 1 or None", lambda v: is_int(v) and v >= 1,
               optional=True),
        Option("gamma_tol", 0.0, "|gamma_t - gamma_{t-1}| <= gamma_tol counts as unchanged",
               "a number >= 0", lambda v: is_real(v) and v >= 0),
        Option("degenerate_tol", 1e-6, "stop when the family is degenerate to this tolerance",
               "a number >= 0 or None", lambda v: is_real(v) and v >= 0, optional=True),
        Option("max_evals", None, "stop before the evaluation budget would be exceeded",
               "an integer >= 1 or None", lambda v: is_int(v) and v >= 1, optional=True),
        Option("target", None, "stop when the best score reaches this value",
               "a finite number or None", is_real, optional=True),
        Option("max_time", None, "stop after this many wall-clock seconds",
               "a number > 0 or None", lambda v: is_real(v) and v > 0, optional=True),
        Option("nan_policy", "raise", "what a NaN score does: raise an error, or count as worst",
               "'raise' or 'worst'", lambda v: v in ("raise", "worst")),
        Option("polish", "none", "apply the problem's local search to the elite or the final best",
               "'none', 'elite' or 'best'", lambda v: v in ("none", "elite", "best")),
        Option("keep_elite", 0, "the best distinct rows of an iteration's (polished) elite "
               "join the next iteration's elite candidates (an elitist, (mu + lambda) step)",
               "an integer >= 0", lambda v: is_int(v) and v >= 0),
        Option("method", None, "preset: 'auto' derives the sampling and smoothing options "
               "from the dimension (continuous problems' default), 'classic' keeps the table's",
               "'auto', 'classic' or None", lambda v: v in ("auto", "classic"), optional=True),
        Option("restarts", None, "restart a converged run with twice the samples and elite "
               "('ipop') until max_evals is spent; the best over all restarts is returned",
               "'ipop' or None", lambda v: v == "ipop", optional=True),
        Option("bounds", None, "box [lower, upper] for the Normal families (each a number or one "
               "per coordinate); samples are projected into it (cem.sampling)",
               "a pair [lower, upper] or None",
               lambda v: isinstance(v, (list, tuple)) and len(v) == 2, optional=True),
        Option("seed", None, "seed of the run's SeedSequence (None draws fresh entropy)",
               "a nonnegative integer or None", lambda v: is_int(v) and v >= 0, optional=True),
        Option("n_jobs", 1, "joblib workers for sampling and scoring (-1: all cores)",
               "a nonzero integer", lambda v: is_int(v) and v != 0),
        Option("batch_size", None, "samples per batch (None: max(256, min(ceil(N/16), 2**22/d)))",
               "an integer >= 1 or None", lambda v: is_int(v) and v >= 1, optional=True),
        Option("backend", None, "joblib backend name (e.g. 'loky', 'threading', 'dask')",
               "a string or None", lambda v: isinstance(v, str) and v != "", optional=True),
        Option("batch_timeout", None, "seconds to wait for a batch from a worker (None: no limit)",
               "a number > 0 or None", lambda v: is_real(v) and v > 0, optional=True),
        Option("verbose", False, "print the iteration table: every iteration (true), every "
               "k-th one and the last (an integer k), or nothing (false)",
               "true, false or an integer k >= 0",
               lambda v: isinstance(v, bool) or (is_int(v) and v >= 0)),
    ]
}  # fmt: skip


def validate_table(
    given: Mapping[str, Any], table: Mapping[str, Option], kind: str
) -> dict[str, Any]:
    """The defaults of ``table`` updated with ``given``, every value validated.

    Raises
    ------
    ConfigError
        For an unknown name (the message names ``kind`` and lists the known names), an
        unaccepted value, or a ``backend`` that joblib cannot use.
    """
    unknown = sorted(set(given) - set(table))
    if unknown:
        raise ConfigError(f"unknown {kind} {unknown[0]!r}; accepted: {', '.join(table)}")
    resolved = {name: opt.default for name, opt in table.items()}
    for name, value in given.items():
        resolved[name] = table[name].validate(value)
    if resolved.get("backend") is not None:
        with backend_config(resolved["backend"]):
            pass  # an unusable joblib backend fails here, before any sample is drawn
    return resolved


def resolve_options(given: Mapping[str, Any]) -> dict[str, Any]:
    """The optimizer's defaults updated with ``given``, validated (:func:`validate_table`).

    Raises
    ------
    ConfigError
        For an unknown name (the message lists the known ones), an unaccepted value,
        ``n_elite`` above ``n_samples``, a joblib backend that cannot be used, or a
        ``batch_timeout`` without workers.
    """
    resolved = validate_table(given, OPTIONS, "optimizer option")
    if resolved["n_elite"] is not None and resolved["n_elite"] > resolved["n_samples"]:
        raise ConfigError(
            f"n_elite must be at most n_samples={resolved['n_samples']}, got {resolved['n_elite']}"
        )
    if resolved["restarts"] is not None and resolved["max_evals"] is None:
        raise ConfigError(
            f"restarts={resolved['restarts']!r} needs max_evals, the budget the restarts share"
        )
    in_process = resolved["n_jobs"] == 1 and resolved["backend"] is None
    if resolved["batch_timeout"] is not None and in_process:
        raise ConfigError(
            f"batch_timeout={resolved['batch_timeout']!r} needs workers (n_jobs or backend): "
            "a batch running in this process cannot be interrupted"
        )
    return resolved


def check_budget(options: Mapping[str, Any]) -> None:
    """Refuse an evaluation budget ``max_evals`` below one iteration's ``n_samples``.

    Raises
    ------
    ConfigError
        Naming both values: such a run would end before its first iteration, with no
        solution to report.
    """
    n, budget = options["n_samples"], options["max_evals"]
    if budget is not None and budget < n:
        raise ConfigError(
            f"max_evals={budget} is below one iteration's n_samples={n}: no iteration fits "
            "the budget; raise max_evals or lower n_samples"
        )


def elite_size(options: Mapping[str, Any]) -> int:
    """:math:`N_e`: ``n_elite`` when given, else :math:`\\lceil \\rho N \\rceil` (at least 1)."""
    return int(options["n_elite"] or max(1, math.ceil(options["rho"] * options["n_samples"])))


def options_table(table: Mapping[str, Option] | None = None) -> str:
    """A table of options as Markdown: name, default, accepted values, meaning.

    ``table`` defaults to the optimizer's :data:`OPTIONS`; :func:`all_tables` gives every
    table by its config section.
    """
    rows = ["| option | default | accepted | meaning |", "| --- | --- | --- | --- |"]
    for o in (OPTIONS if table is None else table).values():
        cells = (f"`{o.name}`", f"`{o.default!r}`", o.accepted, o.doc)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def all_tables() -> dict[str, Mapping[str, Option]]:
    """Every options table, by the config section it validates."""
    from cem.rare_event import ESTIMATOR_OPTIONS

    return {"optimizer": OPTIONS, "estimator": ESTIMATOR_OPTIONS}
