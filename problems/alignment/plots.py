r"""Pictures of pairwise alignment by CE: the edit graph converging onto the optimal path.

:func:`plot_path_convergence` draws, for a few iterations, the probability
:math:`\pi_{ij}` that a path of the family visits node :math:`(i, j)`
(:meth:`~cem.problems.alignment.paths.EditGraphPaths.visit_probabilities`) as a heat map
over the edit graph, with the optimal path of the dynamic program overlaid, and beside
them the elite threshold and best score per iteration against the optimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cem.plotting import pyplot
from cem.problems.alignment.moves import END, positions
from cem.problems.alignment.pairwise import PairwiseAlignment
from cem.problems.alignment.paths import EditGraphPaths

__all__ = ["full_grid", "plot_path_convergence"]


def full_grid(family: EditGraphPaths) -> np.ndarray:
    """The visit probabilities on the whole ``(m + 1, n + 1)`` grid (0 outside the band)."""
    pi = family.visit_probabilities()
    grid = np.zeros((family.m + 1, family.n + 1))
    i = np.repeat(np.arange(family.m + 1), family.width)
    j = (family.lo[:, None] + np.arange(family.width)[None, :]).ravel()
    ok = j <= family.n
    grid[i[ok], j[ok]] = pi.ravel()[ok]
    return grid


def plot_path_convergence(
    problem: PairwiseAlignment,
    families: Sequence[EditGraphPaths],
    iterations: Sequence[int],
    gamma: Sequence[float],
    best: Sequence[float],
) -> Any:
    """A row of heat maps (one per entry of ``iterations``, of ``families[t - 1]``) and the
    score panel of ``gamma`` and ``best`` per iteration; returns the figure."""
    plt = pyplot()
    k = len(iterations)
    fig, axes = plt.subplots(1, k + 1, figsize=(3.2 * (k + 1), 3.4), constrained_layout=True)
    opt = problem.optimum
    if opt is not None:
        x = np.full(problem.m + problem.n, END, dtype=np.int8)
        body = opt.moves[opt.moves != END]
        x[: body.size] = body
        oi, oj = positions(x[None])
        live = x != END
        oi, oj = oi[0][live] + opt.start[0], oj[0][live] + opt.start[1]
    for ax, t in zip(axes[:k], iterations, strict=True):
        image = ax.imshow(full_grid(families[t - 1]), cmap="viridis", vmin=0, vmax=1,
                          aspect="auto", origin="upper", interpolation="nearest")  # fmt: skip
        if opt is not None:
            ax.plot(oj, oi, color="tab:red", lw=0.8, label="optimal path (DP)")
        ax.set_title(f"iteration {t}")
        ax.set_xlabel(f"position in {problem.names[1]}")
        ax.set_ylabel(f"position in {problem.names[0]}")
    fig.colorbar(image, ax=axes[k - 1], label="visit probability")
    if opt is not None:
        axes[0].legend(loc="lower left", fontsize=7)
    ax = axes[k]
    steps = np.arange(1, len(best) + 1)
    ax.plot(steps, gamma, label="elite threshold")
    ax.plot(steps, best, label="best so far")
    if problem.known_optimum is not None:
        ax.axhline(problem.known_optimum, color="tab:red", ls="--", lw=0.8, label="optimum")
    ax.set_xlabel("iteration t")
    ax.set_ylabel(problem.score_label)
    ax.legend(fontsize=7)
    fig.suptitle(problem.describe())
    return fig
