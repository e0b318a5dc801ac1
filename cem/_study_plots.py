"""The figures of a study, drawn from its run directories.

- ``convergence.<format>`` (optimizations): per cell, the median of the best score so far
  against score evaluations over the seeds, with the interquartile band; the gap to the
  known optimum on a log scale when the runs know it (a gap of 0 drawn at the floor
  named on the axis).
- ``ecdf.<format>`` (optimizations): per cell, as COCO draws it (Hansen et al. 2021), the
  fraction of (run, target) pairs whose target was reached within a number of evaluations,
  for a ladder of targets, relative gaps :math:`\\tau` (``[study] targets``) to the known
  optimum or else to the best score of the whole study.
- ``estimates.<format>`` (estimations): per cell, every seed's estimate with its 95%
  interval, against the exact value when the problem knows it.

N. Hansen, A. Auger, D. Brockhoff, T. Tušar, "Anytime performance assessment in blackbox
optimization benchmarking", *IEEE Trans. Evolutionary Computation* 26:1293–1305, 2022.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cem.plotting import integer_ticks, pyplot, save_figure
from cem.rundir import read_history, read_result

if TYPE_CHECKING:
    from cem.study import Study

__all__ = ["draw_study", "gap_curve", "quartile_bands", "target_hits"]


def gap_curve(best: np.ndarray, reference: float) -> np.ndarray:
    r""":math:`|b - s^*| / |s^*|`, or :math:`|b - s^*|` for :math:`s^* = 0`."""
    diff = np.abs(np.asarray(best, dtype=float) - reference)
    return diff if reference == 0 else diff / abs(reference)


def quartile_bands(
    curves: Sequence[tuple[np.ndarray, np.ndarray]], grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 25th, 50th and 75th percentiles over runs of step curves ``(evals, value)`` at
    ``grid``; a run contributes from its first record on, and a point counts where at
    least half of the runs have started (NaN elsewhere)."""
    values = np.full((len(curves), grid.size), np.nan)
    for k, (evals, y) in enumerate(curves):
        idx = np.searchsorted(evals, grid, side="right") - 1
        ok = idx >= 0
        values[k, ok] = np.asarray(y, dtype=float)[idx[ok]]
    started = np.sum(~np.isnan(values), axis=0) >= max(1, len(curves) / 2)
    out = np.full((3, grid.size), np.nan)
    if started.any():
        out[:, started] = np.nanpercentile(values[:, started], [25, 50, 75], axis=0)
    return out[0], out[1], out[2]


def target_hits(evals: np.ndarray, gaps: np.ndarray, targets: Sequence[float]) -> np.ndarray:
    """Evaluations at which the gap first reached each target (``inf``: never)."""
    hits = np.full(len(targets), np.inf)
    for k, tau in enumerate(targets):
        reached = np.flatnonzero(np.asarray(gaps) <= tau)
        if reached.size:
            hits[k] = evals[reached[0]]
    return hits


def _runs(study: Study, study_dir: Path, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The optimizations' histories, with their cell, sense and known optimum."""
    cells = {c.label: c for c in study.cells}
    out = []
    for row in rows:
        if row["kind"] != "optimize":
            continue
        run_dir = study.run_dir(study_dir, cells[row["cell"]], row["seed"])
        history = read_history(run_dir)
        sense = read_result(run_dir).get("sense", "max")
        out.append({"cell": row["cell"], "evals": history["evals"], "best": history["best"],
                    "sense": sense, "optimum": row["known_optimum"]})  # fmt: skip
    return out


def _formats(study: Study) -> list[str]:
    return list(study.base.get("output", {}).get("formats", ["png"]))


def _convergence(study: Study, runs: list[dict[str, Any]], out: Path) -> Path:
    plt = pyplot()
    known = all(r["optimum"] is not None for r in runs)
    gaps = [gap_curve(r["best"], r["optimum"]) for r in runs] if known else []
    positive = [g[g > 0].min() for g in gaps if np.any(g > 0)]
    floor = min(positive) / 10 if positive else 1e-12
    fig, ax = plt.subplots(figsize=(7.5, 4.8), constrained_layout=True)
    for k, cell in enumerate(c.label for c in study.cells):
        padded: list[np.ndarray | None] = list(gaps) if gaps else [None] * len(runs)
        mine = [(r, g) for r, g in zip(runs, padded, strict=True) if r["cell"] == cell]
        if not mine:
            continue
        curves = [(r["evals"], r["best"] if g is None else np.maximum(g, floor)) for r, g in mine]
        grid = np.unique(np.concatenate([c[0] for c in curves]))
        q25, median, q75 = quartile_bands(curves, grid)
        color = f"C{k % 10}"
        ax.step(grid, median, where="post", color=color, label=f"{cell} ({len(mine)} runs)")
        ax.fill_between(grid, q25, q75, step="post", color=color, alpha=0.25, linewidth=0)
    ax.set_xlabel("score evaluations")
    if known:
        ax.set_yscale("log")
        ax.set_ylabel(f"gap to the known optimum (0 drawn at {floor:.1g})")
    else:
        ax.set_ylabel("best score so far")
    ax.set_title("median and interquartile band over the seeds")
    ax.legend(fontsize="small")
    return save_figure(fig, out, _formats(study))[0]


def _ecdf(study: Study, runs: list[dict[str, Any]], out: Path) -> Path:
    plt = pyplot()
    targets = list(study.options["targets"])
    if all(r["optimum"] is not None for r in runs):
        refs, what = [r["optimum"] for r in runs], "the known optimum"
    else:
        best = [float(np.max(r["best"]) if r["sense"] == "max" else np.min(r["best"]))
                for r in runs]  # fmt: skip
        overall = max(best) if runs[0]["sense"] == "max" else min(best)
        refs, what = [overall] * len(runs), "the study's best score"
    fig, ax = plt.subplots(figsize=(7.5, 4.8), constrained_layout=True)
    for k, cell in enumerate(c.label for c in study.cells):
        mine = [(r, ref) for r, ref in zip(runs, refs, strict=True) if r["cell"] == cell]
        if not mine:
            continue
        hits = np.concatenate([target_hits(r["evals"], gap_curve(r["best"], ref), targets)
                               for r, ref in mine])  # fmt: skip
        finite = np.sort(hits[np.isfinite(hits)])
        top = max(float(r["evals"][-1]) for r, _ in mine)
        x = np.r_[finite, top] if finite.size else np.array([top])
        y = np.r_[np.arange(1, finite.size + 1), finite.size] / hits.size
        ax.step(x, y, where="post", color=f"C{k % 10}", label=cell)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("score evaluations")
    ax.set_ylabel("fraction of (run, target) pairs reached")
    ladder = ", ".join(f"{t:g}" for t in targets)
    ax.set_title(f"ECDF of the evaluations to reach the targets\nrelative gap to {what} "
                 f"<= {ladder}", fontsize="medium")  # fmt: skip
    ax.legend(fontsize="small")
    return save_figure(fig, out, _formats(study))[0]


def _estimates(study: Study, rows: Sequence[dict[str, Any]], out: Path) -> Path:
    plt = pyplot()
    cells = [c.label for c in study.cells if any(r["cell"] == c.label for r in rows)]
    ncol = min(3, len(cells))
    nrow = math.ceil(len(cells) / ncol)
    exacts = {r["exact"] for r in rows}
    same = len(exacts) == 1 and None not in exacts  # one exact value: one scale for all cells
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False,
                             sharey=same, constrained_layout=True)  # fmt: skip
    for ax, cell in zip(axes.flat, cells, strict=False):
        mine = [r for r in rows if r["cell"] == cell]
        seeds = np.array([r["seed"] for r in mine])
        est = np.array([r["estimate"] for r in mine])
        err = np.array([[r["estimate"] - r["ci_low"] for r in mine],
                        [r["ci_high"] - r["estimate"] for r in mine]])  # fmt: skip
        ax.errorbar(seeds, est, yerr=err, fmt="o", markersize=3, capsize=2,
                    label="estimate, 95% CI")  # fmt: skip
        exact = mine[0]["exact"]
        title = cell
        if exact is not None:
            ax.axhline(exact, color="k", linestyle="--", linewidth=1, label="exact")
            covered = sum(bool(r["covered"]) for r in mine)
            title += f": {covered}/{len(mine)} intervals cover the exact value"
        ax.set_title(title, fontsize="small")
        ax.set_xlabel("seed")
        integer_ticks(ax.xaxis)
        ax.set_ylabel("probability")
    for ax in list(axes.flat)[len(cells) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize="small")
    return save_figure(fig, out, _formats(study))[0]


def draw_study(study: Study, study_dir: Path, rows: Sequence[dict[str, Any]]) -> dict[str, Path]:
    """Draw the study's figures from its run directories; returns them by name."""
    written = {}
    runs = _runs(study, Path(study_dir), rows)
    if runs:
        written["convergence"] = _convergence(study, runs, Path(study_dir) / "convergence.png")
        written["ecdf"] = _ecdf(study, runs, Path(study_dir) / "ecdf.png")
    estimates = [r for r in rows if r["kind"] == "estimate"]
    if estimates:
        written["estimates"] = _estimates(study, estimates, Path(study_dir) / "estimates.png")
    return written
