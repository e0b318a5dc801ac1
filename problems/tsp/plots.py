r"""Pictures for the TSP: a tour on the map, and the CE distribution concentrating.

:func:`plot_tour` draws the cities and a closed route, titled with its length and the gap
to the optimum; an asymmetric instance without coordinates is drawn as its distance matrix
with the tour as a path through it (:func:`plot_tour_matrix`). :func:`plot_transition_matrices`
draws heat maps of the transition matrix :math:`P` at a few iterations: the uniform start,
the spread-out middle and the (nearly) degenerate end, where each row holds one transition
of probability close to 1.

Matplotlib uses the Agg backend when no display is available.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from cem.errors import ConfigError
from cem.plotting import figure_and_axes, pyplot
from cem.problems.tsp.problem import TSP

__all__ = [
    "MAX_NUMBERED_STEPS",
    "city_layout",
    "plot_tour",
    "plot_tour_matrix",
    "plot_transition_matrices",
]


def city_layout(problem: TSP) -> tuple[np.ndarray, bool]:
    r"""City positions: the problem's coordinates, or a classical MDS layout.

    Without coordinates (explicit-matrix instances such as the ATSP files), the cities are
    placed by classical multidimensional scaling of the symmetrized distances
    :math:`\bar d = (d + d^\top)/2`: with :math:`J = I - \frac1n 1 1^\top` and
    :math:`B = -\frac12 J \bar d^{\,2} J`, the positions are the two leading eigenvectors
    of :math:`B` scaled by the square roots of their eigenvalues (Torgerson 1952).

    Returns
    -------
    xy : ndarray (n, 2)
    from_coords : bool
        Whether ``xy`` are the problem's own coordinates.
    """
    if problem.coords is not None:
        return problem.coords, True
    d = 0.5 * (problem.distances + problem.distances.T)
    n = d.shape[0]
    J = np.eye(n) - 1.0 / n
    B = -0.5 * J @ (d**2) @ J
    vals, vecs = np.linalg.eigh(B)
    top = np.argsort(vals)[::-1][:2]
    return vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0)), False


def _checked_tour(problem: TSP, tour: np.ndarray) -> np.ndarray:
    tour = np.asarray(tour, dtype=np.int64)
    if tour.shape != (problem.n,) or not np.array_equal(np.sort(tour), np.arange(problem.n)):
        raise ConfigError(f"tour must be a permutation of 0..{problem.n - 1}")
    return tour


def _tour_title(problem: TSP, tour: np.ndarray) -> str:
    length = float(problem.score(tour[None])[0])
    title = f"{problem.name}: tour length {length:g}"
    if problem.known_optimum:
        gap = 100 * (length - problem.known_optimum) / problem.known_optimum
        title += f"\noptimum {problem.known_optimum:g}, gap {gap:.2f}%"
    return title


def plot_tour(problem: TSP, tour: np.ndarray, ax: Any | None = None) -> Any:
    """The tour: on the map, or through the distance matrix of an asymmetric instance.

    With coordinates, the cities and the closed route (arrows when the instance is
    asymmetric). An asymmetric instance without coordinates (the ATSP files) has no
    map: it is drawn by :func:`plot_tour_matrix`. A symmetric one without coordinates
    is laid out by :func:`city_layout` (classical MDS), which only suggests the
    geometry; the legend says how many distinct positions the cities take (cities at
    distance 0 from each other share one). The title gives the length and the gap to
    the optimum.

    Parameters
    ----------
    problem : TSP
    tour : array_like (n,)
        A permutation of the cities.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure
    """
    tour = _checked_tour(problem, tour)
    if problem.coords is None and not problem.symmetric:
        return plot_tour_matrix(problem, tour, ax)
    fig, ax = figure_and_axes(ax, (7, 6))
    xy, real = city_layout(problem)
    route = xy[np.r_[tour, tour[:1]]]
    if problem.symmetric:
        ax.plot(route[:, 0], route[:, 1], "-", color="tab:blue", lw=1.4, zorder=1)
    else:
        for a, b in itertools.pairwise(route):
            ax.annotate(
                "", xy=b, xytext=a, zorder=1,
                arrowprops={"arrowstyle": "-|>", "color": "tab:blue", "lw": 1.2,
                            "shrinkA": 4, "shrinkB": 4, "mutation_scale": 10},
            )  # fmt: skip
    distinct = len(np.unique(np.round(xy, 9), axis=0))
    cities = f"city ({problem.n} at {distinct} distinct points)" if distinct < problem.n else "city"
    ax.scatter(xy[:, 0], xy[:, 1], s=22, color="k", zorder=2, label=cities)
    ax.scatter(*xy[tour[0]], s=80, color="tab:red", zorder=3, label=f"start (city {tour[0]})")
    ax.set_title(_tour_title(problem, tour))
    if real:
        ax.set(xlabel="x", ylabel="y")
    else:
        ax.set(xlabel="MDS axis 1 (layout from distances)", ylabel="MDS axis 2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.9)
    return fig


#: Up to this many cities, :func:`plot_tour_matrix` numbers the tour's steps.
MAX_NUMBERED_STEPS = 40


def plot_tour_matrix(problem: TSP, tour: np.ndarray, ax: Any | None = None) -> Any:
    """The tour as a path through the distance matrix (rows: from, columns: to).

    Every city is drawn, whatever its distances (a map of an asymmetric instance
    without coordinates would merge cities, e.g. br17's 17 cities into 6 points): the
    grey cells are the distances :math:`d_{ij}`, and the tour's step ``k`` from city
    :math:`t_k` to :math:`t_{k+1}` marks the cell (row :math:`t_k`, column
    :math:`t_{k+1}`); the marks are joined in the order of the tour (along the column to
    the diagonal cell of city :math:`t_{k+1}`, then along its row), numbered for up to
    :data:`MAX_NUMBERED_STEPS` cities, and the first step is red. The title gives the
    length, the gap to the optimum, and what is drawn.

    Parameters
    ----------
    problem : TSP
    tour : array_like (n,)
        A permutation of the cities.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    tour = _checked_tour(problem, tour)
    fig, ax = figure_and_axes(ax, (7, 6))
    n = problem.n
    d = np.where(np.eye(n, dtype=bool), np.nan, problem.distances)
    image = ax.imshow(d, cmap="Greys", interpolation="nearest", alpha=0.6)
    rows, cols = tour, np.roll(tour, -1)
    # From the cell (t_k, t_k+1) down or up its column to the diagonal (city t_k+1), then
    # along that row to the next step's cell: the path a reader follows through the matrix.
    path_x = np.repeat(cols, 2)
    path_y = np.column_stack([rows, cols]).ravel()
    ax.plot(np.r_[path_x, path_x[:1]], np.r_[path_y, path_y[:1]], "-", color="tab:blue",
            lw=0.9, alpha=0.7, zorder=2)  # fmt: skip
    ax.scatter(cols, rows, s=36, color="tab:blue", zorder=3, label="tour step (from row to column)")
    ax.scatter(cols[:1], rows[:1], s=70, color="tab:red", zorder=4,
               label=f"first step (from city {tour[0]})")  # fmt: skip
    if n <= MAX_NUMBERED_STEPS:
        for k, (i, j) in enumerate(zip(rows, cols, strict=True)):
            ax.annotate(str(k + 1), (j, i), xytext=(4, 3), textcoords="offset points",
                        fontsize="x-small", color="tab:blue")  # fmt: skip
    ax.set(xlabel="to city j", ylabel="from city i")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{_tour_title(problem, tour)}\ndistance matrix of the {n} cities "
                 "(no coordinates); the tour's steps marked", fontsize="medium")  # fmt: skip
    fig.colorbar(image, ax=ax, label="distance $d_{ij}$", shrink=0.8)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize="small")
    return fig


def plot_transition_matrices(
    matrices: Sequence[np.ndarray],
    iterations: Sequence[int],
    order: np.ndarray | None = None,
) -> Any:
    r"""Heat maps of the transition matrix :math:`P` at a few iterations, side by side.

    Parameters
    ----------
    matrices : sequence of (n, n) arrays
        Transition matrices (e.g. ``optimizer.family.P`` saved by a callback).
    iterations : sequence of int
        The iteration of each matrix, for the panel titles.
    order : array_like (n,), optional
        Reorder rows and columns by this tour (e.g. the best tour found): a matrix
        concentrated on that tour is then the band just above the diagonal (plus the
        closing corner), which makes convergence easy to see.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The colour scale is logarithmic from :math:`10^{-3}` to 1, so that the uniform start
    (:math:`1/(n-1)`) and the small probabilities left late in the run stay visible.
    Each panel's title gives the mean over rows of :math:`\max_j P_{ij}` (1 when
    degenerate) and the sum of the row entropies.
    """
    from matplotlib.colors import LogNorm
    from scipy.special import entr

    if len(matrices) != len(iterations) or not matrices:
        raise ConfigError("matrices and iterations must be non-empty and of the same length")
    plt = pyplot()
    k = len(matrices)
    fig, axes = plt.subplots(1, k, figsize=(3.4 * k + 1.2, 4.0), constrained_layout=True)
    axes = np.atleast_1d(axes)
    norm = LogNorm(vmin=1e-3, vmax=1.0)
    image = None
    for ax, P, t in zip(axes, matrices, iterations, strict=True):
        P = np.asarray(P, dtype=float)
        if order is not None:
            idx = np.asarray(order, dtype=np.int64)
            P = P[np.ix_(idx, idx)]
        image = ax.imshow(np.maximum(P, 1e-3), cmap="viridis", norm=norm, interpolation="nearest")
        ax.set_title(
            f"iteration {t}\nmean row max {P.max(axis=1).mean():.2f}, entropy {entr(P).sum():.1f}",
            fontsize="medium",
        )
        which = "position in best tour" if order is not None else "city"
        ax.set(xlabel=f"to ({which})", ylabel=f"from ({which})")
    fig.colorbar(image, ax=list(axes), label="$P_{ij}$ (log scale)", shrink=0.85)
    fig.suptitle("The CE transition matrix concentrates on a tour", fontsize="large")
    return fig
