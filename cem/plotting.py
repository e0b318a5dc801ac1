"""Convergence plots: gamma_t and the best score, entropy, and parameter heat maps.

Plots are drawn from what a run writes (``history.csv``, ``result.json``,
``params.npz``), so they can be redrawn and overlaid after the runs (``cem plot``).
Without a display, matplotlib's non-interactive Agg backend is selected.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cem.errors import ConfigError
from cem.history import History
from cem.io import atomic_write_bytes

__all__ = ["plot_convergence", "plot_levels", "plot_parameter_heatmap", "plot_runs"]


def _pyplot() -> Any:
    import matplotlib

    headless = sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
    if headless and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_convergence(
    runs: Sequence[tuple[str, History]],
    known_optimum: float | None = None,
    axes: Sequence[Any] | None = None,
) -> Any:
    r"""Draw :math:`\gamma_t` and the best score per iteration, and the family entropy.

    Parameters
    ----------
    runs : sequence of (label, History)
        One or more runs, overlaid.
    known_optimum : float, optional
        Drawn as a horizontal dashed line.
    axes : two matplotlib axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    else:
        fig = axes[0].figure
    ax_score, ax_entropy = axes
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, history) in enumerate(runs):
        c = colors[k % len(colors)]
        t = history["t"]
        prefix = f"{label}: " if len(runs) > 1 else ""
        ax_score.plot(t, history["best"], color=c, lw=2, label=f"{prefix}best so far")
        ax_score.plot(t, history["gamma"], color=c, lw=1, ls=":", marker=".",
                      label=f"{prefix}elite threshold $\\gamma_t$")  # fmt: skip
        ax_entropy.plot(t, history["entropy"], color=c, lw=1.5, label=label)
    if known_optimum is not None:
        ax_score.axhline(known_optimum, color="k", ls="--", lw=1,
                         label=f"known optimum ({known_optimum:g})")  # fmt: skip
    ax_score.set(xlabel="iteration t", ylabel="score", title="Convergence of the CE method")
    ax_score.legend(fontsize="small")
    ax_score.grid(alpha=0.3)
    ax_entropy.set(xlabel="iteration t", ylabel="entropy (nats)",
                   title="Entropy of the sampling family")  # fmt: skip
    if len(runs) > 1:
        ax_entropy.legend(fontsize="small")
    ax_entropy.grid(alpha=0.3)
    return fig


def plot_parameter_heatmap(values: np.ndarray, name: str = "p", ax: Any | None = None) -> Any:
    """Heat map of a parameter vector over iterations (rows: iterations, columns: coordinates).

    For a Bernoulli family this is the CE tutorial's max-cut figure: the
    probabilities converge to 0 or 1, revealing the cut. Matrices are flattened.
    """
    plt = _pyplot()
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(11, 3.8), constrained_layout=True)
    else:
        fig = ax.figure
    image = ax.imshow(values, aspect="auto", cmap="viridis", interpolation="nearest",
                      vmin=0.0, vmax=max(1.0, float(values.max())),
                      extent=(0.5, values.shape[1] + 0.5, len(values) + 0.5, 0.5))  # fmt: skip
    ax.set(xlabel="coordinate (node)", ylabel="iteration t",
           title=f"Family parameter {name} per iteration")  # fmt: skip
    fig.colorbar(image, ax=ax, label=name)
    return fig


def _read_run(run_dir: Path) -> tuple[History, dict[str, Any], dict[str, np.ndarray]]:
    if not (run_dir / "history.csv").is_file():
        raise ConfigError(f"{run_dir} has no history.csv (is it a finished run directory?)")
    history = History.read_csv(run_dir / "history.csv")
    result_path = run_dir / "result.json"
    result = json.loads(result_path.read_text()) if result_path.is_file() else {}
    params: dict[str, np.ndarray] = {}
    if (run_dir / "params.npz").is_file():
        with np.load(run_dir / "params.npz") as data:
            params = {k: data[k] for k in data.files}
    return history, result, params


def plot_runs(run_dirs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Draw the convergence of one or more run directories into ``out`` (PNG, atomic).

    A single run whose family is Bernoulli or Categorical also gets the heat map of
    its parameters over iterations.
    """
    plt = _pyplot()
    runs = [(Path(d).name, *_read_run(Path(d))) for d in run_dirs]
    known = next((r[2].get("known_optimum") for r in runs if r[2].get("known_optimum")), None)
    heat = None
    if len(runs) == 1:
        params = runs[0][3]
        heat = next(((k, v) for k, v in params.items() if k in ("p", "probs")), None)
    if heat is not None:
        fig = plt.figure(figsize=(11, 8), constrained_layout=True)
        grid = fig.add_gridspec(2, 2)
        axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
        plot_convergence([(r[0], r[1]) for r in runs], known, axes)
        plot_parameter_heatmap(heat[1], heat[0], fig.add_subplot(grid[1, :]))
    else:
        fig = plot_convergence([(r[0], r[1]) for r in runs], known)
    if len(runs) == 1 and runs[0][2].get("problem"):
        fig.suptitle(runs[0][2]["problem"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(out, buf.getvalue())


def plot_levels(
    result: Any, gamma: float, out: str | os.PathLike[str], exact: float | None = None
) -> Path:
    """The levels gamma_t of a multilevel CE estimation reaching gamma, and the estimate."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    t = [lv.t for lv in result.levels]
    ax.plot(t, [lv.gamma for lv in result.levels], "o-", label="level $\\gamma_t$")
    ax.axhline(gamma, color="k", ls="--", lw=1, label=f"threshold $\\gamma$ = {gamma:g}")
    ax.set(xlabel="level t", ylabel="$\\gamma_t$",
           title=f"Multilevel CE: estimate {result.estimate:.4g} (RE {result.rel_error:.3g})"
           + (f", exact {exact:.4g}" if exact is not None else ""))  # fmt: skip
    ax.legend()
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(out, buf.getvalue())
