"""The tables of a study: one tidy row per run, one summary per cell, Markdown and LaTeX.

``runs.csv`` has one row per run (cells outer, seeds inner): the cell, its settings (one
column per grid key), the seed, and from the run directory the best score, its gap to a
known optimum and the success, or for an estimation the estimate, its standard error,
relative error and 95% interval, the exact value when the problem knows it, the error
:math:`\\hat\\ell - \\ell`, the error in standard errors and whether the interval covers
:math:`\\ell`; then iterations (levels), evaluations, the stop reason, CPU and wall seconds.
Floats keep every digit, so two studies can be compared to the bit (the CPU and wall
seconds aside, :data:`WALL_CLOCK`).

``summary.csv`` and ``summary.md`` have one row per cell. For an optimization: the mean,
median, interquartile range, minimum and maximum of the best score and the success rate;
for an estimation: the mean estimate, the *empirical* relative error of one run's estimate,
:math:`\\mathrm{sd}(\\hat\\ell_1, \\dots, \\hat\\ell_R) / \\overline{\\hat\\ell}`, beside the mean
*reported* relative error (an honest error bar has the two close), and the coverage of the
exact value by the runs' 95% intervals with its binomial standard error
:math:`\\sqrt{c (1 - c) / R}` (near 0.95 for an honest interval).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cem._io import atomic_write_text
from cem._study_plots import draw_study
from cem.rundir import RESULT, read_result, read_timing

if TYPE_CHECKING:
    from cem.study import Cell, Study

__all__ = [
    "CELL_TABLE",
    "RUNS_TABLE",
    "WALL_CLOCK",
    "cell_summary",
    "latex_table",
    "markdown_table",
    "run_line",
    "run_rows",
    "to_csv",
    "write_summaries",
]

#: The tidy table of the runs and the table of the cells, in the study directory.
RUNS_TABLE = "runs.csv"
CELL_TABLE = "summary.csv"
#: Columns that measure time and so differ between two executions of one study.
WALL_CLOCK = ("cpu_seconds", "wall_seconds")
_KIND_COLUMNS = {
    "optimize": ("best", "known_optimum", "gap", "success"),
    "estimate": ("estimate", "std_error", "rel_error", "ci_low", "ci_high", "exact", "error",
                 "error_in_se", "covered", "trusted"),
}  # fmt: skip
_TAIL = ("iterations", "evaluations", "stop", *WALL_CLOCK)


def run_row(run_dir: Path, cell: Cell, seed: int, success_gap: float) -> dict[str, Any]:
    """The tidy row of one finished run (see the module's docstring)."""
    res, timing = read_result(run_dir), read_timing(run_dir) or {}
    row: dict[str, Any] = {"cell": cell.label, **cell.shown, "seed": seed}
    if "estimate" in res:
        est, exact = res["estimate"], res.get("exact")
        low, high = res["ci95"]
        row.update(kind="estimate", estimate=est, std_error=res["std_error"],
                   rel_error=res["rel_error"], ci_low=low, ci_high=high, exact=exact,
                   error=None if exact is None else est - exact,
                   error_in_se=res.get("error_in_se"),
                   covered=None if exact is None else bool(low <= exact <= high),
                   trusted=res.get("trusted"))  # fmt: skip
    else:
        gap = res.get("gap")
        success = (gap <= success_gap if gap is not None
                   else True if res.get("status") == "target" else None)  # fmt: skip
        row.update(kind="optimize", best=res["best_score"], known_optimum=res.get("known_optimum"),
                   gap=gap, success=success)  # fmt: skip
    row.update(iterations=res.get("nit"), evaluations=res.get("nfev"), stop=res.get("status"),
               cpu_seconds=timing.get("cpu_seconds"), wall_seconds=res.get("seconds"))  # fmt: skip
    return row


def run_rows(study: Study, study_dir: Path) -> list[dict[str, Any]]:
    """The rows of every finished run, cells outer and seeds inner."""
    gap = study.options["success_gap"]
    return [run_row(study.run_dir(study_dir, cell, seed), cell, seed, gap)
            for cell, seed in study.runs
            if (study.run_dir(study_dir, cell, seed) / RESULT).is_file()]  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` as CSV with ``columns``; floats keep every digit, ``None`` is empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(c)) for c in columns])
    return buf.getvalue()


def _columns(study: Study, kinds: Sequence[str]) -> list[str]:
    cols = ["cell", *study.axes, "seed", "kind"]
    for kind in ("optimize", "estimate"):
        if kind in kinds:
            cols += _KIND_COLUMNS[kind]
    return cols + list(_TAIL)


def _stats(values: Sequence[float], name: str) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    q25, median, q75 = np.percentile(a, [25, 50, 75])
    return {f"{name}_mean": float(a.mean()), f"{name}_median": float(median),
            f"{name}_q25": float(q25), f"{name}_q75": float(q75),
            f"{name}_min": float(a.min()), f"{name}_max": float(a.max())}  # fmt: skip


def _rate(flags: Sequence[bool | None]) -> float | None:
    known = [bool(f) for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def _same(values: Sequence[Any]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else None


def cell_summary(cell: Cell, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The summary of one cell's rows (see the module's docstring)."""
    n = len(rows)
    out: dict[str, Any] = {"cell": cell.label, **cell.shown, "kind": rows[0]["kind"], "runs": n}
    if out["kind"] == "estimate":
        est = [r["estimate"] for r in rows]
        mean = float(np.mean(est))
        out.update(_stats(est, "estimate"))
        out["exact"] = _same([r["exact"] for r in rows])
        out["empirical_re"] = (float(np.std(est, ddof=1) / abs(mean))
                               if n > 1 and mean != 0 else None)  # fmt: skip
        out["reported_re_mean"] = float(np.mean([r["rel_error"] for r in rows]))
        cover = _rate([r["covered"] for r in rows])
        out["coverage"] = cover
        out["coverage_se"] = None if cover is None else math.sqrt(cover * (1 - cover) / n)
        out["trusted_rate"] = _rate([r["trusted"] for r in rows])
    else:
        out.update(_stats([r["best"] for r in rows], "best"))
        out["known_optimum"] = _same([r["known_optimum"] for r in rows])
        out["success_rate"] = _rate([r["success"] for r in rows])
    out["iterations_median"] = float(np.median([r["iterations"] for r in rows]))
    out["evaluations_median"] = float(np.median([r["evaluations"] for r in rows]))
    cpu = [r["cpu_seconds"] for r in rows if r["cpu_seconds"] is not None]
    out["cpu_seconds_mean"] = float(np.mean(cpu)) if cpu else None
    return out


def _g(v: Any, fmt: str = ".6g") -> str:
    return "—" if v is None else format(v, fmt)


def _view(summary: dict[str, Any]) -> dict[str, str]:
    """The columns a reader sees of a cell's summary, formatted."""
    s, n = summary, summary["runs"]
    if s["kind"] == "estimate":
        cover = s["coverage"]
        return {
            "cell": s["cell"], "runs": str(n), "mean estimate": _g(s["estimate_mean"]),
            "exact": _g(s["exact"]), "empirical RE": _g(s["empirical_re"], ".3f"),
            "mean reported RE": _g(s["reported_re_mean"], ".3f"),
            "CI coverage": "—" if cover is None else
            f"{round(cover * n)}/{n} ({100 * cover:.0f}% ± {100 * s['coverage_se']:.0f})",
            "trusted": "—" if s["trusted_rate"] is None else f"{100 * s['trusted_rate']:.0f}%",
            "evaluations": _g(s["evaluations_median"], ".0f"),
        }  # fmt: skip
    rate = s["success_rate"]
    return {
        "cell": s["cell"], "runs": str(n), "mean": _g(s["best_mean"]),
        "median": _g(s["best_median"]),
        "IQR": f"{_g(s['best_q25'])} – {_g(s['best_q75'])}",
        "min": _g(s["best_min"]), "max": _g(s["best_max"]), "optimum": _g(s["known_optimum"]),
        "success": "—" if rate is None else f"{round(rate * n)}/{n}",
        "evaluations": _g(s["evaluations_median"], ".0f"),
    }  # fmt: skip


def markdown_table(summaries: Sequence[dict[str, Any]]) -> str:
    """The cells' summaries as Markdown tables, one per kind (optimization, estimation)."""
    tables = []
    for kind in ("optimize", "estimate"):
        views = [_view(s) for s in summaries if s["kind"] == kind]
        if views:
            head = list(views[0])
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(v[h].replace("|", "\\|") for h in head) + " |"
                      for v in views]  # fmt: skip
            tables.append("\n".join(lines))
    return "\n\n".join(tables) + "\n"


def _latex_cell(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("±", r"$\pm$"), ("–", "--"),
                 ("—", "---")):  # fmt: skip
        text = text.replace(a, b)
    return text


def latex_table(summaries: Sequence[dict[str, Any]]) -> str:
    """The cells' summaries as LaTeX ``tabular`` environments (booktabs rules)."""
    tables = []
    for kind in ("optimize", "estimate"):
        views = [_view(s) for s in summaries if s["kind"] == kind]
        if views:
            head = list(views[0])
            lines = [r"\begin{tabular}{l" + "r" * (len(head) - 1) + "}", r"\toprule",
                     " & ".join(_latex_cell(h) for h in head) + r" \\", r"\midrule"]  # fmt: skip
            lines += [" & ".join(_latex_cell(v[h]) for h in head) + r" \\" for v in views]
            lines += [r"\bottomrule", r"\end{tabular}"]
            tables.append("\n".join(lines))
    return "\n\n".join(tables) + "\n"


def run_line(run_dir: Path) -> str:
    """One line on a finished run: what it found, its cost."""
    res = read_result(run_dir)
    seconds = f"{res.get('seconds', 0):.2f} s"
    if "estimate" in res:
        exact, (low, high) = res.get("exact"), res["ci95"]
        where = ("" if exact is None else
                 f", exact {'inside' if low <= exact <= high else 'outside'} the 95% CI "
                 f"({res['error_in_se']:+.2f} SE)")  # fmt: skip
        trust = "" if res.get("trusted", True) else ", untrusted"
        return (f"estimate {res['estimate']:.4g} (RE {res['rel_error']:.3f}){where}, "
                f"{res['nfev']} evaluations, {seconds}{trust}")  # fmt: skip
    gap = "" if res.get("gap") is None else f" (gap {res['gap']:.3g})"
    return (f"best {res['best_score']:.10g}{gap}, {res['nit']} iterations, {res['nfev']} "
            f"evaluations, {seconds} ({res.get('status')})")  # fmt: skip


def write_summaries(study: Study, study_dir: Path) -> dict[str, Path]:
    """Write ``runs.csv``, ``summary.csv``, ``summary.md`` (``summary.tex`` with ``[study]
    latex``) and the figures (:mod:`cem._study_plots`); returns them by name."""
    rows = run_rows(study, study_dir)
    kinds = sorted({r["kind"] for r in rows})
    written = {"runs": Path(study_dir) / RUNS_TABLE}
    atomic_write_text(written["runs"], to_csv(rows, _columns(study, kinds)))
    summaries = [cell_summary(cell, cell_rows) for cell in study.cells
                 if (cell_rows := [r for r in rows if r["cell"] == cell.label])]  # fmt: skip
    columns = list(dict.fromkeys(k for s in summaries for k in s))
    written["summary"] = Path(study_dir) / CELL_TABLE
    atomic_write_text(written["summary"], to_csv(summaries, columns))
    written["markdown"] = Path(study_dir) / "summary.md"
    atomic_write_text(written["markdown"], markdown_table(summaries))
    if study.options["latex"]:
        written["latex"] = Path(study_dir) / "summary.tex"
        atomic_write_text(written["latex"], latex_table(summaries))
    if study.options["figures"] and rows:
        written.update(draw_study(study, study_dir, rows))
    return written
