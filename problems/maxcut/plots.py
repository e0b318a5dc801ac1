r"""Pictures for max-cut: the partition a cut vector :math:`x \in \{0, 1\}^n` makes.

Small graphs (at most :data:`MAX_DRAWN_NODES` nodes) are drawn as graphs: the nodes on a
circle, side 0 on the left half and side 1 on the right, so that the cut edges are the
chords that cross the middle (drawn in colour, width proportional to the weight) and the
uncut edges stay on their half (grey). Larger graphs are drawn as their weight matrix with
the nodes ordered by side: the two off-diagonal blocks hold exactly the cut weight.

Matplotlib uses the Agg backend when no display is available.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from cem.errors import ConfigError
from cem.plotting import figure_and_axes
from cem.problems.maxcut.problem import MaxCut

__all__ = ["MAX_DRAWN_NODES", "plot_partition"]

#: Graphs with more nodes are drawn as their reordered weight matrix.
MAX_DRAWN_NODES = 60


def plot_partition(problem: MaxCut, x: np.ndarray, ax: Any | None = None) -> Any:
    """Draw the partition ``x`` of the problem's graph; the title gives the cut weight.

    Parameters
    ----------
    problem : MaxCut
    x : array_like (n,)
        0/1 side of each node.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.shape != (problem.n,) or not np.all((x == 0) | (x == 1)):
        raise ConfigError(f"x must be a 0/1 vector of length {problem.n}")
    fig, ax = figure_and_axes(ax, (6, 5.5))
    side = x.astype(bool)
    cut = float(problem.score(x[None])[0])
    if problem.n <= MAX_DRAWN_NODES:
        _draw_graph(ax, problem, side)
    else:
        _draw_matrix(ax, problem, side)
    title = f"{problem.name}: cut weight {cut:g}  ({int((~side).sum())} | {int(side.sum())} nodes)"
    if problem.known_optimum:
        title += f"\nknown optimum {problem.known_optimum:g}"
    ax.set_title(title)
    return fig


def _draw_graph(ax: Any, problem: MaxCut, side: np.ndarray) -> None:
    n = problem.n
    weights: Any = problem.weights
    W = weights.toarray() if sp.issparse(weights) else weights
    xy = np.empty((n, 2))
    for s, (start, stop) in enumerate(((0.6, 1.4), (-0.4, 0.4))):  # left, right half-circle
        nodes = np.flatnonzero(side == bool(s))
        angle = np.pi * np.linspace(start, stop, len(nodes) + 2)[1:-1]
        xy[nodes] = np.c_[np.cos(angle), np.sin(angle)]
    i, j = np.nonzero(np.triu(W))
    w = W[i, j]
    crossing = side[i] != side[j]
    width = 0.5 + 2.5 * w / w.max() if w.size else w
    for mask, color, z in ((~crossing, "0.75", 1), (crossing, "tab:red", 2)):
        for a, b, lw in zip(i[mask], j[mask], width[mask], strict=True):
            ax.plot(*xy[[a, b]].T, color=color, lw=lw, zorder=z, solid_capstyle="round")
    ax.plot([], [], color="tab:red", label="cut edge")
    ax.plot([], [], color="0.75", label="uncut edge")
    for s, color in ((False, "tab:blue"), (True, "tab:orange")):
        nodes = np.flatnonzero(side == s)
        ax.scatter(
            *xy[nodes].T, s=160, color=color, edgecolor="k", zorder=3, label=f"side {int(s)}"
        )
        for v in nodes:
            ax.annotate(str(v + 1), xy[v], ha="center", va="center", fontsize="x-small", zorder=4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(loc="upper center", ncol=2, fontsize="small", bbox_to_anchor=(0.5, 0.0))


def _draw_matrix(ax: Any, problem: MaxCut, side: np.ndarray) -> None:
    order = np.r_[np.flatnonzero(~side), np.flatnonzero(side)]
    W: Any = problem.weights
    W = (W[order][:, order]).toarray() if sp.issparse(W) else W[np.ix_(order, order)]
    image = ax.imshow(W, cmap="Greys", interpolation="nearest")
    k = int((~side).sum()) - 0.5
    ax.axhline(k, color="tab:red", lw=1)
    ax.axvline(k, color="tab:red", lw=1)
    ax.set(
        xlabel="node, side 0 then side 1 (off-diagonal blocks: the cut)",
        ylabel="node, side 0 then side 1",
    )
    ax.figure.colorbar(image, ax=ax, label="weight $c_{ij}$", shrink=0.8)
