r"""The travelling salesman problem, symmetric (TSP) and asymmetric (ATSP).

Minimize the length of a closed tour :math:`\sum_k d_{t_k t_{k+1}} + d_{t_{n-1} t_0}` over
permutations :math:`t`, sampled from a :class:`~cem.families.TransitionMatrix`.
The optional local search (``polish``) is 2-opt plus or-opt for symmetric instances and
or-opt (moving a segment of 1 to 3 cities, orientation kept) for asymmetric ones; every
round applies the best improving move of each tour, all tours at once. The memetic
strategy (``strategy="memetic"``) uses instead the neighbour-list search of
:mod:`cem.problems.tsp.search` (2-opt and segment exchange, don't-look bits) followed by
an iterated local search whose kicks restart a random segment: a CE over the polished
elite, in the spirit of memetic algorithms (Moscato 1989) and of iterated local search.

Default CE settings (:meth:`TSP.default_options`) follow the literature for the TSP
(de Boer et al. 2005, Sec. 3.3 and 4.3; Rubinstein & Kroese 2004, Ch. 4): a sample size
proportional to the number of free parameters, ``N = 5 n^2`` (capped so that a batch of
tours stays near 40 MB), and ``rho = 0.01``. The smoothing is slower than the tutorial's
``alpha = 0.7`` and the stall window longer (``alpha = 0.3``, ``d = 10``): on ftv33,
``alpha = 0.7, d = 5`` fixed the transition matrix prematurely in 3 of 3 seeds (gaps
6.6-7.2%), while ``alpha = 0.3, d = 10`` reached the optimum in 2 of 3.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.
.. [2] G. A. Croes, "A method for solving traveling-salesman problems", Oper. Res.
   6(6):791-812, 1958 (2-opt).
.. [3] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004, Ch. 4.
.. [4] I. Or, *Traveling salesman-type combinatorial problems and their relation to the
   logistics of regional blood banking*, PhD thesis, Northwestern University, 1976 (or-opt).
.. [5] P. Moscato, "On evolution, search, optimization, genetic algorithms and martial
   arts: towards memetic algorithms", Caltech C3P Report 826, 1989.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from cem.errors import ConfigError
from cem.families import NodePlacement, TransitionMatrix
from cem.problem import Problem
from cem.problems.tsp.search import NeighbourSearch
from cem.problems.tsp.tsplib import bundled_instance_path, listed_optimum, read_tsplib, tour_length

__all__ = ["TSP", "or_opt", "two_opt"]

#: Cap on ``N * n`` (tour entries per iteration) for the default sample size.
_MAX_ENTRIES = 5_000_000
#: Tours polished together hold at most this many ``(n, n)`` move entries.
_POLISH_ENTRIES = 2_000_000
#: Most rounds of iterated local search per polish of the memetic strategy.
_MAX_KICKS = 32
#: The memetic strategy stops when its best tour has not improved for this many rounds of
#: iterated local search per city (the polishes of the iterations added up).
_STALL_ROUNDS = {True: 2, False: 3}  # symmetric, asymmetric


def _others(nodes: Any, v: Any) -> int:
    """Number of ``nodes`` other than ``v`` (neighbours without the self-loop)."""
    return len(set(nodes) - {v})


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
    Segments are runs of consecutive positions of the array (they do not wrap past the
    last position); every round applies each tour's best improving move.

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


def _start_at_zero(tours: np.ndarray) -> np.ndarray:
    """Each tour rotated to start at city 0."""
    shift = np.argmax(tours == 0, axis=1)
    idx = (np.arange(tours.shape[1])[None, :] + shift[:, None]) % tours.shape[1]
    return np.take_along_axis(tours, idx, axis=1)


#: The choices of ``TSP(strategy=...)``: the default options of the literature's CE, or
#: a smaller sample whose elite is polished every iteration.
STRATEGIES = ("ce", "memetic")


class TSP(Problem):
    r"""Shortest closed tour through all cities (minimize).

    Parameters
    ----------
    distances : array_like (n, n) or networkx.Graph
        Distances ``d[i, j]`` from city ``i`` to city ``j``, finite and nonnegative off the
        diagonal (the diagonal is ignored and set to 0). A symmetric matrix gives a TSP,
        any other an ATSP. For a graph, the edge attribute ``"weight"`` (default 1) in the
        order of ``graph.nodes``; a directed graph gives an ATSP. The graph must be
        complete: a missing edge raises :class:`~cem.errors.ConfigError` (it is not read
        as an infinite distance); the message says when no tour is possible at all (a
        node with fewer than two neighbours, or no way into or out of a node). To forbid
        an edge, give it a large weight. Node attributes ``"pos"`` become :attr:`coords`.
    known_optimum : float, optional
    coords : array_like (n, 2), optional
        City coordinates, for plots.
    name : str, optional
    family : {"transition", "placement"}, default "transition"
        The starting family of :meth:`initial_family`: a
        :class:`~cem.families.TransitionMatrix` or a
        :class:`~cem.families.NodePlacement` (city 0 fixed at position 0).
    strategy : {"ce", "memetic"}, default "ce"
        Which :meth:`default_options` and :meth:`polish`: the literature's CE settings
        (with the full 2-opt / or-opt neighbourhood when a polish is asked for), or a
        small sample whose elite gets a neighbour-list local search and iterated local
        search (:mod:`cem.problems.tsp.search`) every iteration.

    Notes
    -----
    The score of a tour :math:`t` is :math:`S(t) = \sum_{k=0}^{n-1} d_{t_k t_{k+1}}` with
    :math:`t_n = t_0`.

    Examples
    --------
    >>> import numpy as np
    >>> tsp = TSP(np.array([[0, 1, 5], [2, 0, 1], [1, 9, 0]]))
    >>> tsp.symmetric, tsp.score(np.array([[0, 1, 2]])).tolist()
    (False, [3.0])
    """

    sense = "min"
    family_types = (TransitionMatrix, NodePlacement)
    score_label = "tour length"
    search_keys = ("family", "strategy")

    def __init__(
        self,
        distances: Any,
        known_optimum: float | None = None,
        coords: np.ndarray | None = None,
        name: str | None = None,
        family: str = "transition",
        strategy: str = "ce",
    ) -> None:
        if family not in ("transition", "placement"):
            raise ConfigError(f"family must be 'transition' or 'placement', got {family!r}")
        if strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be 'ce' or 'memetic', got {strategy!r}")
        self.strategy = strategy
        if coords is None and isinstance(distances, nx.Graph):
            pos = [distances.nodes[v].get("pos") for v in distances.nodes]
            coords = None if any(p is None for p in pos) else np.asarray(pos, dtype=float)
        d = self._as_matrix(distances)
        self.n = d.shape[0]
        self.distances = d
        self.symmetric = bool(np.array_equal(d, d.T))
        self.known_optimum = None if known_optimum is None else float(known_optimum)
        #: How :attr:`known_optimum` was matched when it is not certain ("" otherwise).
        self.optimum_note = ""
        if coords is not None:
            coords = np.asarray(coords, dtype=float)
            if coords.shape != (self.n, 2):
                raise ConfigError(f"coords must have shape ({self.n}, 2), got {coords.shape}")
        self.coords = coords
        self.family = family
        #: Rounds of the memetic polish's iterated local search, and the kicks each tour
        #: gets per round (the best is kept): ``min(ceil(n / 4), 32)`` rounds of 2.
        self.kicks = min(-(-self.n // 4), _MAX_KICKS)
        self.tries = 2
        self._search: NeighbourSearch | None = None
        self.name = name or f"{'tsp' if self.symmetric else 'atsp'}-{self.n}"

    @staticmethod
    def _graph_matrix(g: nx.Graph) -> np.ndarray:
        n = g.number_of_nodes()
        if n < 3:
            raise ConfigError(f"distances: a tour needs at least 3 cities, the graph has {n}")
        loops = nx.number_of_selfloops(g)
        missing = n * (n - 1) // (1 if g.is_directed() else 2) - (g.number_of_edges() - loops)
        if missing > 0:
            if g.is_directed():
                deg = {
                    v: min(_others(g.successors(v), v), _others(g.predecessors(v), v)) for v in g
                }
                need, what = 1, "an edge in and an edge out"
            else:
                deg = {v: _others(g.neighbors(v), v) for v in g}
                need, what = 2, "two neighbours"
            stuck = [v for v, k in deg.items() if k < need]
            connected = (nx.is_strongly_connected(g) if g.is_directed()
                         else nx.is_connected(g))  # fmt: skip
            if stuck or not connected:
                why = (f"node {stuck[0]!r} lacks {what}" if stuck
                       else "the graph is not (strongly) connected")  # fmt: skip
                raise ConfigError(f"distances: the graph has no tour through every city ({why})")
            raise ConfigError(
                f"distances: the graph must be complete; it has {n} nodes and lacks {missing} "
                "edges (missing edges are not read as infinite distances: add them with a "
                "large weight to forbid them)"
            )
        return nx.to_numpy_array(g, weight="weight", nonedge=np.nan)

    @classmethod
    def _as_matrix(cls, distances: Any) -> np.ndarray:
        if isinstance(distances, nx.Graph):
            d = cls._graph_matrix(distances)
        else:
            try:
                d = np.asarray(distances, dtype=float)
            except (TypeError, ValueError):
                raise ConfigError(
                    "distances must be a numeric matrix or a networkx graph"
                ) from None
        if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 3:
            raise ConfigError(f"distances must be a square matrix with n >= 3, got shape {d.shape}")
        off = ~np.eye(d.shape[0], dtype=bool)
        if np.isnan(d[off]).any():
            i, j = np.argwhere(np.isnan(d) & off)[0]
            raise ConfigError(f"distances must not hold NaN; d[{i}, {j}] is NaN")
        if not np.all(np.isfinite(d[off])):
            i, j = np.argwhere(~np.isfinite(d) & off)[0]
            raise ConfigError(f"distances must be finite; d[{i}, {j}] = {d[i, j]}")
        if np.any(d[off] < 0):
            i, j = np.argwhere((d < 0) & off)[0]
            raise ConfigError(f"distances must be nonnegative; d[{i}, {j}] = {d[i, j]:g}")
        d = d.copy()
        np.fill_diagonal(d, 0.0)
        return d

    @classmethod
    def from_tsplib(
        cls,
        path: str | os.PathLike[str],
        known_optimum: float | None = None,
        family: str = "transition",
        strategy: str = "ce",
    ) -> TSP:
        """A TSPLIB ``.tsp``/``.atsp`` file.

        Unless given, the optimum is the one listed for the instance's ``NAME`` in the
        bundled ``OPTIMA.csv`` or in an ``OPTIMA.csv`` beside the file (columns ``name``
        and ``optimum``, optionally ``sha256``; see :mod:`cem.problems.optima`): where a
        ``sha256`` is listed for the name, only an instance with that content gets the
        optimum (:func:`cem.problems.tsp.tsplib.listed_optimum`); a name listed without one
        attaches its optimum by name, and :meth:`describe` says so.

        Raises
        ------
        DataFormatError
            For a malformed instance file, or a malformed ``OPTIMA.csv`` beside it (naming
            the file and line).
        """
        inst = read_tsplib(path)
        if inst.distances is None:
            raise ConfigError(f"{Path(path).name} holds no distances (a tour file?)")
        note = ""
        if known_optimum is None:
            found = listed_optimum(inst, [Path(path).parent / "OPTIMA.csv"])
            if found is not None:
                known_optimum, note = found.value, found.note
        prob = cls(inst.distances, known_optimum, inst.coords, inst.name, family, strategy)
        prob.optimum_note = note
        return prob

    @classmethod
    def from_config(
        cls,
        instance: str = "br17",
        file: str | None = None,
        family: str = "transition",
        strategy: str = "ce",
    ) -> TSP:
        """Build from ``[problem]`` config keys.

        Parameters
        ----------
        instance : str, default "br17"
            A bundled TSPLIB instance: ``"br17"``, ``"ftv33"``, ``"berlin52"``, ``"eil51"``.
        file : str, optional
            Path of any TSPLIB ``.tsp``/``.atsp`` file; overrides ``instance``.
        family : {"transition", "placement"}, default "transition"
        strategy : {"ce", "memetic"}, default "ce"
            The default options (see :meth:`TSP.default_options`).
        """
        if file is not None:
            if not isinstance(file, str):
                raise ConfigError(f"file must be a path string, got {file!r}")
            return cls.from_tsplib(file, family=family, strategy=strategy)
        if not isinstance(instance, str):
            raise ConfigError(f"instance must be a string, got {instance!r}")
        return cls.from_tsplib(bundled_instance_path(instance), family=family, strategy=strategy)

    def initial_family(self) -> TransitionMatrix | NodePlacement:
        """The uniform family: ``P_ij = 1/(n-1)`` off the diagonal (transitions), or city 0
        at position 0 and uniform placements elsewhere."""
        if self.family == "placement":
            return NodePlacement.uniform(self.n, first=0)
        return TransitionMatrix.uniform(self.n)

    def default_options(self) -> dict[str, Any]:
        """Default CE settings.

        ``strategy="ce"``, from the literature (see the module notes):
        ``n_samples = min(5 n^2, max(1000, 5e6 / n))``, ``rho = 0.01``, ``alpha = 0.3``,
        ``stall_iters = 10``.

        ``strategy="memetic"``: the local search does the fine work, so the sample only
        has to feed it: ``polish = "elite"`` on ``n_samples = 400`` with ``rho = 0.025``
        (an elite of 10 tours, each polished by :attr:`kicks` rounds of :attr:`tries`
        kicks of iterated local search), ``keep_elite = 5`` (the five best polished tours
        compete again in the next iteration, and their search goes on there), and the run
        stops when the best tour has not improved for ``ceil(2 n / kicks)`` iterations
        (``ceil(3 n / kicks)`` on an ATSP; ``stall_best``), that is for 2 (3) rounds of
        iterated local search per city, or when ``gamma_t`` stalls as long. The smoothing
        is ``alpha = 0.9`` on a symmetric instance, whose polished elite is reliable enough
        for a sharp ``P``, and ``alpha = 0.3`` on an ATSP, whose weaker search (segment
        exchange only) needs the exploration (ry48p with ``alpha = 0.9``: 0 of 5 seeds
        optimal).

        Measured with ``experiments/benchmarks/tsp_memetic.py`` (5 seeds, process CPU
        seconds): a short polish every iteration, resumed from the kept tours, beats a
        long one. Random Euclidean n = 500 at 60 s, mean gap to LKH's tour by ``(kicks,
        tries)`` (with the 3-opt reversals then in the search): 125 rounds of 8, 0.35%;
        125 of 2, 0.39% (4 seeds); 31 of 2, 0.36% (worst 0.76%), and 0.17% (worst 0.23%)
        without the reversals (:attr:`search`). n = 200: LKH's tour on 4 of 5 seeds, at
        most 0.10% above it, in 19-32 s. On berlin52, ft53, ry48p and kroA100 the optimum
        comes in 0.1-1.1 s on every seed, and the stall window of 2 (3) rounds per city
        ends the run by 3.3 s (with 10 (15) rounds per city: up to 15 s, and no run more
        optimal). A larger sample costs sampling and local search from tours the sampler
        spoils (once ``P`` is concentrated, a tour that runs into visited cities takes a
        near-random edge), time better spent on the iterated search; a smaller one is no
        better either: 200 samples give 29 iterations in 60 s instead of 15, and a mean
        gap of 0.50% against 0.36% (n = 500, with the reversals).
        """
        if self.strategy == "memetic":
            alpha = 0.9 if self.symmetric else 0.3
            stall = -(-_STALL_ROUNDS[self.symmetric] * self.n // self.kicks)
            return {"polish": "elite", "n_samples": 400, "rho": 0.025, "alpha": alpha,
                    "stall_iters": stall, "stall_best": stall, "keep_elite": 5}  # fmt: skip
        n_samples = min(5 * self.n**2, max(1000, _MAX_ENTRIES // self.n))
        return {"n_samples": n_samples, "rho": 0.01, "alpha": 0.3, "stall_iters": 10}

    def score(self, X: np.ndarray) -> np.ndarray:
        """Tour lengths of a batch ``(N, n)`` of permutations."""
        tours = np.asarray(X, dtype=np.int64)
        if tours.ndim != 2 or tours.shape[1] != self.n:
            raise ConfigError(f"tours must have shape (N, {self.n}), got {tours.shape}")
        return np.asarray(tour_length(self.distances, tours), dtype=float)

    def polish(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local search on a batch of tours, returned rotated to start at city 0 like
        sampled ones.

        ``strategy="ce"``: :func:`two_opt` then :func:`or_opt` over the whole
        neighbourhood until neither improves (or-opt only for an ATSP, where reversing a
        path changes its length).

        ``strategy="memetic"``: :meth:`NeighbourSearch.optimize
        <cem.problems.tsp.search.NeighbourSearch.optimize>` (2-opt on a symmetric
        instance and segment exchange, with neighbour lists; see :attr:`search`), then
        :attr:`kicks` rounds of iterated local search
        (:meth:`~cem.problems.tsp.search.NeighbourSearch.iterate`).
        The kicks draw from a generator seeded by the tours themselves, so the polish
        stays a function of its input (the loop polishes each distinct tour once).
        """
        tours, lengths = np.asarray(X, dtype=np.int64), np.asarray(scores, dtype=float)
        if self.strategy == "memetic":
            return self._memetic_polish(tours, lengths)
        step = max(1, _POLISH_ENTRIES // self.n**2)  # bounds the (tours, n, n) move arrays
        parts = [
            self._polish_block(tours[s : s + step], lengths[s : s + step])
            for s in range(0, tours.shape[0], step)
        ]
        if not parts:
            return tours, lengths
        return np.concatenate([t for t, _ in parts]), np.concatenate([v for _, v in parts])

    @property
    def search(self) -> NeighbourSearch:
        """The neighbour-list local search of the memetic polish (made on first use).

        Without the 3-opt moves that reverse a path (``k_reversal=0``): under iterated
        local search they cost more than they find. Random Euclidean n = 500, 6 tours
        searched for 40 CPU seconds, two seeds: 1.8 times as many kicks and a mean gap to
        LKH of 0.61% against 0.87% with them; the memetic runs of 60 s, 5 seeds: mean gap
        0.17% (worst 0.23%) against 0.36% (worst 0.76%).
        """
        if self._search is None:
            k_exchange = 6 if self.symmetric else 12
            self._search = NeighbourSearch(self.distances, self.symmetric,
                                           k_exchange=k_exchange, k_reversal=0)  # fmt: skip
        return self._search

    def _memetic_polish(
        self, tours: np.ndarray, lengths: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        digest = hashlib.blake2b(np.ascontiguousarray(tours).tobytes(), digest_size=16).digest()
        rng = np.random.default_rng(np.frombuffer(digest, dtype=np.uint32))
        tours, lengths = self.search.optimize(tours, lengths)
        tours, lengths = self.search.iterate(tours, lengths, self.kicks, rng, self.tries)
        return _start_at_zero(tours), lengths

    def _polish_block(
        self, tours: np.ndarray, lengths: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        while True:
            before = lengths.copy()
            if self.symmetric:
                tours, lengths = two_opt(self.distances, tours, lengths)
            tours, lengths = or_opt(self.distances, tours, lengths)
            if np.all(lengths >= before - 1e-9):
                break
        return _start_at_zero(tours), lengths

    def plot_solution(self, x: np.ndarray, ax: Any) -> None:
        """Draw the tour ``x`` on the map (:func:`cem.problems.tsp.plots.plot_tour`)."""
        from cem.problems.tsp.plots import plot_tour

        plot_tour(self, x, ax)

    def format_solution(self, x: np.ndarray) -> str:
        """The tour as city numbers (0-based, as in the distance matrix), long ones elided."""
        tour = [str(int(c)) for c in np.asarray(x).ravel()]
        if len(tour) > 24:
            tour = [*tour[:16], "...", *tour[-4:]]
        return f"tour of {self.n} cities: " + " ".join(tour) + " (back to the first)"

    def describe(self) -> str:
        opt = f", optimum {self.known_optimum:g}" if self.known_optimum is not None else ""
        opt += f" ({self.optimum_note})" if opt and self.optimum_note else ""
        kind = "symmetric TSP" if self.symmetric else "asymmetric TSP"
        return f"{kind} {self.name} ({self.n} cities{opt})"
