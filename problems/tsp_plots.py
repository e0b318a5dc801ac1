"""Pictures for the TSP: the best tour on the map, and the transition matrix concentrating."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cem.plotting import _pyplot
from problems.tsp import TSP

__all__ = ["plot_tour", "plot_transition_matrices"]


def plot_tour(problem: TSP, tour: np.ndarray, ax: Any | None = None) -> Any:
    """Cities and the closed route; the title gives the length and the gap to the optimum."""
    if problem.coords is None:
        raise ValueError(f"{problem.name} has no city coordinates to draw")
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 5.5), constrained_layout=True)
    else:
        fig = ax.figure
    tour = np.asarray(tour)
    xy = problem.coords[np.r_[tour, tour[:1]]]
    ax.plot(xy[:, 0], xy[:, 1], "-", color="tab:blue", lw=1.2, zorder=1)
    ax.scatter(problem.coords[:, 0], problem.coords[:, 1], s=18, color="k", zorder=2)
    ax.scatter(*problem.coords[tour[0]], s=60, color="tab:red", zorder=3, label="start")
    length = float(problem.score(tour[None])[0])
    title = f"{problem.name}: tour length {length:g}"
    if problem.known_optimum:
        gap = 100 * (length - problem.known_optimum) / problem.known_optimum
        title += f" (optimum {problem.known_optimum:g}, gap {gap:.2f}%)"
    ax.set(title=title, xlabel="x", ylabel="y", aspect="equal")
    ax.legend(loc="best", fontsize="small")
    return fig


def plot_transition_matrices(matrices: Sequence[np.ndarray], iterations: Sequence[int]) -> Any:
    """Heat maps of the transition matrix P at a few iterations, side by side."""
    plt = _pyplot()
    k = len(matrices)
    fig, axes = plt.subplots(1, k, figsize=(3.3 * k + 1, 3.4), constrained_layout=True)
    axes = np.atleast_1d(axes)
    for ax, P, t in zip(axes, matrices, iterations, strict=True):
        image = ax.imshow(P, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        ax.set(title=f"iteration {t}", xlabel="to city j", ylabel="from city i")
    fig.colorbar(image, ax=list(axes), label="transition probability $P_{ij}$")
    fig.suptitle("The CE transition matrix concentrates on a tour")
    return fig
