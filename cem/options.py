"""The tables of options: defaults, documentation and validation.

One table per config section: :data:`OPTIONS` (``[optimizer]``, the keyword arguments of
:class:`cem.CrossEntropyOptimizer`), :data:`ESTIMATOR_OPTIONS` (``[estimator]``, those of
:func:`cem.rare_event.estimate_probability`), :data:`OUTPUT_OPTIONS` (``[output]``, what a
run directory holds) and :data:`STUDY_OPTIONS` (``[study]``, the seeds and settings of
:mod:`cem.study`). Each table serves the
Python API, the validation of TOML configs, ``cem options`` and the documentation, so
they can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cem._checks import is_int, is_real
from cem._parallel import backend_config
from cem.errors import ConfigError

__all__ = [
    "ESTIMATOR_OPTIONS",
    "FORMATS",
    "OPTIONS",
    "OUTPUT_OPTIONS",
    "STUDY_OPTIONS",
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
               "per coordinate); samples are projected into it",
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


def _int_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: is_int(v) and v >= low


def _is_hook(value: Any) -> bool:
    """A :class:`cem.rare_event.ConditionalHook`: coordinates and a probability function."""
    return isinstance(getattr(value, "given", None), tuple) and callable(
        getattr(value, "probability", None)
    )


#: Options of :func:`cem.rare_event.estimate_probability` that configs may set (``[estimator]``).
ESTIMATOR_OPTIONS: dict[str, Option] = {
    o.name: o
    for o in [
        Option("rho", 0.1, "elite fraction per level", "a number in (0, 1)",
               lambda v: is_real(v) and 0 < v < 1),
        Option("n_samples", None, "samples per level (N); None: max(1000, 25 d) for d "
               "coordinates", "an integer >= 2 or None", _int_at_least(2), optional=True),
        Option("n_final", 100_000, "samples of the final importance-sampling run (N1)",
               "an integer >= 2", _int_at_least(2)),
        Option("max_levels", 100, "cap on the number of levels", "an integer >= 1",
               _int_at_least(1)),
        Option("alpha", 1.0, "smoothing weight of the new parameters", "a number in (0, 1]",
               lambda v: is_real(v) and 0 < v <= 1),
        Option("defensive", 0.0, "fraction of the final run drawn from the nominal "
               "(defensive mixture, Hesterberg 1995)", "a number in [0, 1)",
               lambda v: is_real(v) and 0 <= v < 1),
        Option("conditional", False, "conditional Monte Carlo in the final run: true for "
               "the problem's conditional_probability, or a ConditionalHook",
               "true, false or a ConditionalHook",
               lambda v: isinstance(v, bool) or _is_hook(v)),
        Option("tied", "auto", "one common value of each parameter for all coordinates "
               "(exchangeable coordinates); auto: when the levels start from a nominal of "
               ">= 20 identically distributed coordinates and the first level's elite passes "
               "the likelihood-ratio test of cem.rare_event", "true, false or 'auto'",
               lambda v: isinstance(v, bool) or v == "auto"),
        Option("screening", 0.0, "keep a coordinate's parameters at the nominal unless they "
               "move by more than this relative amount (Rubinstein & Glynn 2009)",
               "a number >= 0", lambda v: is_real(v) and v >= 0),
        Option("mcmc_samples", 0, "score evaluations of the MCMC sampler of the zero-variance "
               "density whose samples refit the family after the levels (improved CE, Chan & "
               "Kroese 2012); 0 for none", "an integer >= 0", _int_at_least(0)),
        Option("seed", None, "seed of the run", "a nonnegative integer or None",
               _int_at_least(0), optional=True),
        OPTIONS["max_time"],
        OPTIONS["n_jobs"],
        OPTIONS["batch_size"],
        OPTIONS["backend"],
    ]
}  # fmt: skip


#: File formats a figure can be written in.
FORMATS = ("png", "pdf", "svg")

#: The ``[output]`` section of a config: what a run directory holds.
OUTPUT_OPTIONS: dict[str, Option] = {
    o.name: o
    for o in [
        Option("dir", "runs", "parent of the run directories (relative to the config file)",
               "a non-empty string", lambda v: isinstance(v, str) and v != ""),
        Option("plots", True, "write the figure of the run", "true or false",
               lambda v: isinstance(v, bool)),
        Option("formats", ["png"], "formats of the figure",
               f"a non-empty list of {', '.join(map(repr, FORMATS))}",
               lambda v: isinstance(v, list) and bool(v) and set(v) <= set(FORMATS)),
        Option("checkpoint", True, "write the checkpoint after every iteration or level "
               "(cem resume)", "true or false", lambda v: isinstance(v, bool)),
        Option("fail_untrusted", True, "cem run and cem resume exit with status 3 on an "
               "estimate whose diagnostics fail", "true or false",
               lambda v: isinstance(v, bool)),
    ]
}  # fmt: skip


def _is_seeds(v: Any) -> bool:
    if isinstance(v, str):
        return True  # read by parse_seeds, whose message names the mistake
    return isinstance(v, list) and len(v) > 0 and all(is_int(s) and s >= 0 for s in v)


def _is_axes(v: Any) -> bool:
    return isinstance(v, dict)


def _is_paths(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(s, str) and s for s in v)


def _is_gaps(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(is_real(g) and g >= 0 for g in v)


#: The ``[study]`` section of a study config (:mod:`cem.study`).
STUDY_OPTIONS: dict[str, Option] = {
    o.name: o
    for o in [
        Option("seeds", "1-10", "the seeds of every cell: a range '1-20', a list '1,3,8-9' "
               "or a TOML list of integers", "a seed list such as '1-20' or [1, 2, 3]",
               _is_seeds),
        Option("grid", {}, "axes crossed with each other: 'section.key' = [values, ...]",
               "a table of 'section.key' = [values]", _is_axes),
        Option("zip", {}, "axes zipped with each other (equal lengths), crossed with the grid",
               "a table of 'section.key' = [values]", _is_axes),
        Option("instances", [], "instance files (or glob patterns) as an axis of "
               "[problem] file; an OPTIMA.csv or BEST_KNOWN.csv beside them gives the optimum",
               "a list of paths", _is_paths),
        Option("set", {}, "overrides of every cell: 'section.key' = value",
               "a table of 'section.key' = value", _is_axes),
        Option("n_jobs", 1, "runs at once in joblib worker processes (-1: all cores); each "
               "run samples its batches in its own process", "a nonzero integer",
               lambda v: is_int(v) and v != 0),
        Option("success_gap", 0.0, "a run succeeds when its relative gap to the known "
               "optimum is at most this (or when it reached its target)", "a number >= 0",
               lambda v: is_real(v) and v >= 0),
        Option("targets", [0.1, 0.03, 0.01, 0.003, 0.001, 0.0], "relative gaps of the ECDF "
               "figure's targets (to the known optimum, else to the study's best score)",
               "a non-empty list of numbers >= 0", _is_gaps),
        Option("figures", True, "draw the study's figures", "true or false",
               lambda v: isinstance(v, bool)),
        Option("run_figures", False, "draw every run's own convergence figure (cem plot "
               "draws it later)", "true or false", lambda v: isinstance(v, bool)),
        Option("latex", False, "also write the summary as a LaTeX table (summary.tex)",
               "true or false", lambda v: isinstance(v, bool)),
        Option("quick", {}, "a quick form of the study for 'cem study --quick': any of seeds, "
               "grid, zip, instances and set, replacing the study's ('set' is merged)",
               "a table", _is_axes),
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
    return {"optimizer": OPTIONS, "estimator": ESTIMATOR_OPTIONS, "output": OUTPUT_OPTIONS,
            "study": STUDY_OPTIONS}  # fmt: skip
