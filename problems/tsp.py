r"""The travelling salesman problem, symmetric (TSP) and asymmetric (ATSP).

Minimize the length of a closed tour :math:`\sum_k d_{t_k t_{k+1}} + d_{t_{n-1} t_0}` over
permutations :math:`t`, sampled from a :class:`~cem.families.TransitionMatrix`.
The optional local search (``polish``) is 2-opt plus or-opt for symmetric instances and
or-opt (moving a segment of 1 to 3 cities, orientation kept) for asymmetric ones; every
round applies the best improving move of each tour, all tours at once.

Default CE settings follow the literature for the TSP (de Boer et al. 2005, Sec. 3.3 and
4.3; Rubinstein & Kroese 2004, Ch. 4): ``N = 5 n^2`` and ``rho = 0.01``. The smoothing is
slower than the tutorial's ``alpha = 0.7`` and the stall window longer (``alpha = 0.3``,
``d = 10``): on ftv33, ``alpha = 0.7, d = 5`` fixed the transition matrix prematurely in 3
of 3 seeds (gaps 6.6-7.2%), while ``alpha = 0.3, d = 10`` reached the optimum in 2 of 3.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.
.. [2] G. A. Croes, "A method for solving traveling-salesman problems", Oper. Res.
   6(6):791-812, 1958 (2-opt).
.. [3] I. Or, *Traveling salesman-type combinatorial problems and their relation to the
   logistics of regional blood banking*, PhD thesis, Northwestern University, 1976 (or-opt).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from cem.errors import ConfigError
from cem.families import TransitionMatrix
from cem.problem import Problem
from problems.tsplib import bundled_instance_path, load_optima, read_tsplib, tour_length

__all__ = ["TSP", "or_opt", "two_opt"]


def _reverse_segments(tours: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Reverse positions ``i+1 .. j`` of each tour (row-wise ``i < j``)."""
    k = np.arange(tours.shape[1])[None, :]
    inside = (k > i[:, None]) & (k <= j[:, None])
    idx = np.where(inside, i[:, None] + 1 + j[:, None] - k, k)
    return np.take_along_axis(tours, idx, axis=1)


def two_opt(d: np.ndarray, tours: np.ndarray, lengths: np.ndarray, max_rounds: int = 10_000):
    r"""Best-improvement 2-opt on every tour at once (symmetric distances).

    Replacing edges :math:`(a_i, b_i)` and :math:`(a_j, b_j)` (with :math:`a_k = t_k`,
    :math:`b_k = t_{k+1}`) by :math:`(a_i, a_j)` and :math:`(b_i, b_j)` reverses the
    path between them and changes the length by
    :math:`d_{a_i a_j} + d_{b_i b_j} - d_{a_i b_i} - d_{a_j b_j}`.

    Returns the improved tours and their lengths.
    """
    tours, lengths = tours.copy(), np.asarray(lengths, dtype=float).copy()
    n = tours.shape[1]
    upper = np.triu(np.ones((n, n), dtype=bool), 2)
    upper[0, n - 1] = False  # those two edges are adjacent through the closing edge
    active = np.arange(tours.shape[0])
    for _ in range(max_rounds):
        if active.size == 0:
            break
        a = tours[active]
        b = np.roll(a, -1, axis=1)
        delta = (d[a[:, :, None], a[:, None, :]] + d[b[:, :, None], b[:, None, :]]
                 - d[a, b][:, :, None] - d[a, b][:, None, :])  # fmt: skip
        delta = np.where(upper, delta, 0.0)
        flat = delta.reshape(len(active), -1).argmin(axis=1)
        gain = delta.reshape(len(active), -1)[np.arange(len(active)), flat]
        improving = gain < -1e-9
        active, flat, gain = active[improving], flat[improving], gain[improving]
        if active.size == 0:
            break
        i, j = np.divmod(flat, n)
        tours[active] = _reverse_segments(tours[active], i, j)
        lengths[active] += gain
    return tours, lengths


def or_opt(d: np.ndarray, tours: np.ndarray, lengths: np.ndarray, max_rounds: int = 10_000):
    r"""Best-improvement or-opt on every tour at once (any distances, orientation kept).

    A segment :math:`s_1..s_L` (``L`` = 1, 2, 3) between :math:`p` and :math:`q` moves
    between consecutive cities :math:`a, b` elsewhere in the tour; the length changes by
    :math:`d_{pq} + d_{a s_1} + d_{s_L b} - d_{p s_1} - d_{s_L q} - d_{ab}`.

    Returns the improved tours and their lengths.
    """
    tours, lengths = tours.copy(), np.asarray(lengths, dtype=float).copy()
    n = tours.shape[1]
    pos = np.arange(n)
    active = np.arange(tours.shape[0])
    for _ in range(max_rounds):
        if active.size == 0:
            break
        t = tours[active]
        best_gain = np.zeros(len(active))
        best = np.zeros((len(active), 3), dtype=np.int64)  # (L, i, j)
        for L in (1, 2, 3):
            i = pos[: n - L + 1]  # segment start (no wrap)
            p, s1 = t[:, (i - 1) % n], t[:, i]
            sL, q = t[:, i + L - 1], t[:, (i + L) % n]
            a, b = t, np.roll(t, -1, axis=1)  # insertion between positions j and j+1
            delta = (d[p, q] - d[p, s1] - d[sL, q])[:, :, None] + (
                d[a[:, None, :], s1[:, :, None]] + d[sL[:, :, None], b[:, None, :]]
                - d[a, b][:, None, :]
            )  # fmt: skip
            j = pos[None, :]
            invalid = ((j >= i[:, None] - 1) & (j <= i[:, None] + L - 1)) | (
                (i[:, None] == 0) & (j == n - 1)
            )
            delta = np.where(invalid[None], 0.0, delta)
            flat = delta.reshape(len(active), -1).argmin(axis=1)
            gain = delta.reshape(len(active), -1)[np.arange(len(active)), flat]
            better = gain < best_gain
            best_gain = np.where(better, gain, best_gain)
            best[better] = np.column_stack([np.full(better.sum(), L), *np.divmod(flat[better], n)])
        improving = best_gain < -1e-9
        active, best, best_gain = active[improving], best[improving], best_gain[improving]
        if active.size == 0:
            break
        L, i, j = best.T
        k = pos[None, :].astype(float)
        in_seg = (k >= i[:, None]) & (k < (i + L)[:, None])
        keys = np.where(in_seg, j[:, None] + (k - i[:, None] + 1) / (L[:, None] + 1), k)
        order = np.argsort(keys, axis=1, kind="stable")
        tours[active] = np.take_along_axis(tours[active], order, axis=1)
        lengths[active] += best_gain
    return tours, lengths


class TSP(Problem):
    """Shortest closed tour through all cities (minimize).

    Parameters
    ----------
    distances : array_like (n, n) or networkx.Graph
        Distances ``d[i, j]`` from city ``i`` to city ``j``; for a graph, the edge
        attribute ``"weight"`` (a directed graph gives an ATSP). A graph must be
        complete: a missing edge has no distance and raises.
    known_optimum : float, optional
    coords : array_like (n, 2), optional
        City coordinates, for plots.
    name : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> tsp = TSP(np.array([[0, 1, 5], [2, 0, 1], [1, 9, 0]]))
    >>> tsp.symmetric, tsp.score(np.array([[0, 1, 2]])).tolist()
    (False, [3.0])
    """

    sense = "min"

    def __init__(
        self,
        distances: Any,
        known_optimum: float | None = None,
        coords: np.ndarray | None = None,
        name: str | None = None,
    ) -> None:
        d = self._as_matrix(distances)
        self.n = d.shape[0]
        self.distances = d
        self.symmetric = bool(np.array_equal(d, d.T))
        self.known_optimum = None if known_optimum is None else float(known_optimum)
        self.coords = None if coords is None else np.asarray(coords, dtype=float)
        self.name = name or f"{'tsp' if self.symmetric else 'atsp'}-{self.n}"

    @staticmethod
    def _as_matrix(distances: Any) -> np.ndarray:
        if isinstance(distances, nx.Graph):
            n = distances.number_of_nodes()
            missing = n * (n - 1) // (1 if distances.is_directed() else 2)
            missing -= distances.number_of_edges()
            if n < 3 or missing > 0:
                raise ConfigError(
                    f"the graph must be complete with at least 3 nodes to hold a tour through "
                    f"every city; it has {n} nodes and lacks {missing} edges"
                )
            d = nx.to_numpy_array(distances, weight="weight", nonedge=np.nan)
        else:
            d = np.asarray(distances, dtype=float)
        if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 3:
            raise ConfigError(f"distances must be a square matrix with n >= 3, got {d.shape}")
        off = ~np.eye(d.shape[0], dtype=bool)
        if not np.all(np.isfinite(d[off])) or np.any(d[off] < 0):
            raise ConfigError("distances must be finite and nonnegative off the diagonal")
        d = d.copy()
        np.fill_diagonal(d, 0.0)
        return d

    @classmethod
    def from_tsplib(cls, path: str | os.PathLike[str], known_optimum: float | None = None) -> TSP:
        """A TSPLIB ``.tsp``/``.atsp`` file; the optimum is looked up when bundled."""
        inst = read_tsplib(path)
        if inst.distances is None:
            raise ConfigError(f"{Path(path).name} holds no distances (a tour file?)")
        if known_optimum is None:
            known_optimum = load_optima().get(inst.name)
        return cls(inst.distances, known_optimum, inst.coords, inst.name)

    @classmethod
    def from_config(cls, instance: str = "br17", file: str | None = None) -> TSP:
        """Build from config keys: a bundled TSPLIB name (``"br17"``, ``"ftv33"``,
        ``"berlin52"``, ``"eil51"``), or ``file`` = a TSPLIB path."""
        if file is not None:
            if not isinstance(file, str):
                raise ConfigError(f"file must be a path string, got {file!r}")
            return cls.from_tsplib(file)
        if not isinstance(instance, str):
            raise ConfigError(f"instance must be a string, got {instance!r}")
        return cls.from_tsplib(bundled_instance_path(instance))

    def initial_family(self) -> TransitionMatrix:
        """The uniform transition matrix."""
        return TransitionMatrix.uniform(self.n)

    def default_options(self) -> dict[str, Any]:
        """Default CE settings: ``N = 5 n^2``, ``rho = 0.01``, ``alpha = 0.3``, ``d = 10``."""
        return {"n_samples": 5 * self.n**2, "rho": 0.01, "alpha": 0.3, "stall_iters": 10}

    def score(self, X: np.ndarray) -> np.ndarray:
        """Tour lengths of a batch ``(N, n)`` of permutations."""
        tours = np.asarray(X, dtype=np.int64)
        if tours.ndim != 2 or tours.shape[1] != self.n:
            raise ConfigError(f"tours must have shape (N, {self.n}), got {tours.shape}")
        return tour_length(self.distances, tours).astype(float)

    def polish(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """2-opt then or-opt until neither improves (or-opt only for an ATSP)."""
        tours, lengths = np.asarray(X, dtype=np.int64), np.asarray(scores, dtype=float)
        while True:
            before = lengths.copy()
            if self.symmetric:
                tours, lengths = two_opt(self.distances, tours, lengths)
            tours, lengths = or_opt(self.distances, tours, lengths)
            if np.all(lengths >= before - 1e-9):
                return tours, lengths

    def describe(self) -> str:
        opt = f", optimum {self.known_optimum:g}" if self.known_optimum is not None else ""
        kind = "symmetric TSP" if self.symmetric else "asymmetric TSP"
        return f"{kind} {self.name} ({self.n} cities{opt})"
