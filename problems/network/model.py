r"""Networks with unreliable edges: the model and a vectorized connectivity test.

A :class:`Network` is a graph whose edges fail independently, edge :math:`e` with
probability :math:`q_e`, and a terminal set :math:`K`. The network's *unreliability* is

.. math:: Q = P(K \text{ is not connected by the working edges}),

the *reliability* :math:`R = 1 - Q`. ``K`` may be two nodes (s-t), any subset (K-terminal)
or every node (all-terminal). In a directed graph, "connected" means that the first
terminal (the source) reaches every other terminal along working arcs.

Edge states are passed as an ``(N, |E|)`` array of booleans (``True`` = working);
:meth:`Network.connected` tests all ``N`` rows at once: the set of nodes reached from the
first terminal grows, sweep after sweep, by every node with a reached neighbour over a
working edge (arc), until it stops changing; the terminals are connected iff all are
reached. Each sweep is a numpy reduction over an ``(N, n, max degree)`` boolean array,
so the work is vectorized over the samples and the number of sweeps is at most the
longest shortest path. :meth:`Network.components` labels all components the same way:
every node starts with its own index and takes the smallest label among itself and its
neighbours, then jumps pointers (``label <- label[label]``) until the fixed point.

References
----------
.. [1] C. J. Colbourn, *The Combinatorics of Network Reliability*, Oxford, 1987.
.. [2] I. B. Gertsbakh, Y. Shpungin, *Models of Network Reliability*, CRC Press, 2010.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from cem.errors import ConfigError

__all__ = ["NETWORKS", "Network", "builtin_network", "dodecahedron_terminals"]


def _incidence(n: int, tails: np.ndarray, heads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Padded incidence of each node: ``(n, d)`` arrays of edge index and neighbour.

    For an arc ``tail -> head`` the head lists the tail (labels flow along the arc).
    Missing slots point to a dummy edge ``m`` (never working) and to the node itself.
    """
    m = tails.size
    lists: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for e in range(m):
        lists[int(heads[e])].append((e, int(tails[e])))
    d = max(1, max(len(x) for x in lists))
    edge = np.full((n, d), m, dtype=np.intp)
    nbr = np.repeat(np.arange(n, dtype=np.intp)[:, None], d, axis=1)
    for v, items in enumerate(lists):
        for k, (e, w) in enumerate(items):
            edge[v, k], nbr[v, k] = e, w
    return edge, nbr


class Network:
    """A graph with independently failing edges and a terminal set.

    Parameters
    ----------
    graph : networkx.Graph or networkx.DiGraph
        The network; parallel edges of a multigraph are kept. Nodes may be any
        hashables; they are numbered ``0..n-1`` in ``graph``'s node order.
    q : float or array_like, optional
        Failure probability of every edge (one number) or per edge in ``graph.edges``
        order. Default: the edge attribute ``attr``.
    terminals : sequence of nodes or "all", optional
        The terminal set ``K``; ``"all"`` (the default) for all-terminal reliability.
        In a directed graph the first terminal is the source.
    attr : str
        Edge attribute holding ``q_e`` when ``q`` is not given.

    Notes
    -----
    Edges are numbered in ``graph.edges`` order, or by their ``"index"`` attribute when
    every edge has one (so a multigraph's edges keep the order they were listed in).

    Attributes
    ----------
    n, m : int
        Numbers of nodes and edges.
    tails, heads : ndarray of int, shape (m,)
        Edge endpoints as node indices.
    q : ndarray, shape (m,)
        Failure probabilities.
    terminals : ndarray of int
        Terminal node indices.
    directed : bool
    """

    def __init__(
        self,
        graph: nx.Graph,
        q: float | Sequence[float] | np.ndarray | None = None,
        terminals: Sequence[Hashable] | str = "all",
        attr: str = "q",
    ) -> None:
        if not isinstance(graph, nx.Graph):
            raise ConfigError(f"graph must be a networkx graph, got {type(graph).__name__}")
        self.graph = graph
        self.nodes = list(graph.nodes)
        index = {v: i for i, v in enumerate(self.nodes)}
        edges = list(graph.edges(data=True))
        if edges and all("index" in d for _, _, d in edges):
            edges.sort(key=lambda edge: edge[2]["index"])
        self.n, self.m = len(self.nodes), len(edges)
        if self.m == 0:
            raise ConfigError("the network has no edges")
        self.directed = graph.is_directed()
        self.tails = np.array([index[a] for a, _, _ in edges], dtype=np.intp)
        self.heads = np.array([index[b] for _, b, _ in edges], dtype=np.intp)
        if q is None:
            missing = [(a, b) for a, b, d in edges if attr not in d]
            if missing:
                raise ConfigError(f"edge {missing[0]} has no attribute {attr!r}; pass q")
            q = [d[attr] for _, _, d in edges]
        qa = np.broadcast_to(np.asarray(q, dtype=float), (self.m,)).copy()
        if not np.all((qa >= 0) & (qa <= 1)):
            raise ConfigError(f"failure probabilities q must lie in [0, 1], got {q!r}")
        self.q = qa
        if isinstance(terminals, str):
            if terminals != "all":
                raise ConfigError(f"terminals must be a list of nodes or 'all', got {terminals!r}")
            term = list(range(self.n))
        else:
            unknown = [t for t in terminals if t not in index]
            if unknown:
                raise ConfigError(f"terminal {unknown[0]!r} is not a node of the graph")
            term = list(dict.fromkeys(index[t] for t in terminals))
        if len(term) < 2:
            raise ConfigError(f"need at least two distinct terminals, got {terminals!r}")
        self.terminals = np.array(term, dtype=np.intp)
        heads = self.heads if self.directed else np.concatenate([self.heads, self.tails])
        tails = self.tails if self.directed else np.concatenate([self.tails, self.heads])
        edge, self._nbr = _incidence(self.n, tails, heads)
        # undirected: arc e + m is edge e read backwards, and the dummy 2m becomes m
        self._edge = edge if self.directed else np.where(edge >= self.m, edge - self.m, edge)

    # ------------------------------------------------------------------ construction
    def with_q(self, q: float | np.ndarray) -> Network:
        """The same graph and terminals with other failure probabilities."""
        return Network(self.graph, q, [self.nodes[t] for t in self.terminals])

    @property
    def kind(self) -> str:
        """``"s-t"``, ``"K-terminal"`` or ``"all-terminal"``."""
        if self.terminals.size == self.n:
            return "all-terminal"
        return "s-t" if self.terminals.size == 2 else "K-terminal"

    def describe(self) -> str:
        """One line: size, kind and the range of ``q``."""
        qs = f"q = {self.q[0]:g}" if np.all(self.q == self.q[0]) else (
            f"q in [{self.q.min():g}, {self.q.max():g}]")  # fmt: skip
        graph = "directed network" if self.directed else "network"
        return f"{graph} with {self.n} nodes, {self.m} edges, {self.kind}, {qs}"

    # ------------------------------------------------------------------ connectivity
    def components(self, working: np.ndarray) -> np.ndarray:
        """Component labels ``(N, n)`` of each row of edge states (undirected graphs).

        Two nodes have the same label iff the working edges connect them; the label
        is the smallest node index of the component.
        """
        if self.directed:
            raise ConfigError("components are defined for undirected networks only")
        W = self._states(working)
        N = W.shape[0]
        dtype = np.int16 if self.n < 2**15 else np.intp
        closed = ~np.concatenate([W, np.zeros((N, 1), dtype=bool)], axis=1)[:, self._edge]
        lab = np.broadcast_to(np.arange(self.n, dtype=dtype), (N, self.n)).copy()
        rows = np.arange(N)  # rows not yet at their fixed point
        while rows.size:
            cur = lab[rows]
            cand = cur[:, self._nbr]  # (rows, n, d)
            cand[closed[rows]] = self.n
            new = np.minimum(cur, cand.min(axis=2))
            new = np.take_along_axis(new, new, axis=1)
            moved = (new != cur).any(axis=1)
            lab[rows] = new
            rows = rows[moved]
        return lab

    def reached(self, working: np.ndarray) -> np.ndarray:
        """Nodes reached from the first terminal, ``(N, n)`` booleans (directed or not)."""
        W = self._states(working)
        N = W.shape[0]
        Wpad = np.concatenate([W, np.zeros((N, 1), dtype=bool)], axis=1)
        open_ = Wpad[:, self._edge]
        reach = np.zeros((N, self.n), dtype=bool)
        reach[:, self.terminals[0]] = True
        while True:
            new = reach | np.any(open_ & reach[:, self._nbr], axis=2)
            if np.array_equal(new, reach):
                return reach
            reach = new

    def connected(self, working: np.ndarray) -> np.ndarray:
        """Whether the working edges connect the terminals, for each row: ``(N,)`` bool.

        Parameters
        ----------
        working : array_like, shape (N, m) or (m,)
            Edge states, true (or nonzero) for a working edge.
        """
        return np.asarray(self.reached(working)[:, self.terminals].all(axis=1))

    def connected_networkx(self, working: np.ndarray) -> np.ndarray:
        """The same test one row at a time with networkx (the slow reference)."""
        W = self._states(working)
        out = np.empty(W.shape[0], dtype=bool)
        graph_type = nx.DiGraph if self.directed else nx.Graph
        s = int(self.terminals[0])
        for k, row in enumerate(W):
            g = graph_type()
            g.add_nodes_from(range(self.n))
            g.add_edges_from(zip(self.tails[row].tolist(), self.heads[row].tolist(), strict=True))
            if self.directed:
                seen = nx.descendants(g, s) | {s}
                out[k] = all(int(t) in seen for t in self.terminals)
            else:
                seen = nx.node_connected_component(g, s)
                out[k] = all(int(t) in seen for t in self.terminals)
        return out

    def _states(self, working: np.ndarray) -> np.ndarray:
        W = np.asarray(working)
        if W.ndim == 1:
            W = W[None, :]
        if W.ndim != 2 or W.shape[1] != self.m:
            raise ConfigError(f"edge states must have shape (N, {self.m}), got {W.shape}")
        return W.astype(bool, copy=False)

    # ------------------------------------------------------------------ cuts
    def min_cut_size(self) -> int:
        """The smallest number of edges whose failure disconnects the terminals."""
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n))
        for a, b in zip(self.tails.tolist(), self.heads.tolist(), strict=True):
            for x, y in [(a, b)] if self.directed else [(a, b), (b, a)]:
                cap = g[x][y]["capacity"] + 1 if g.has_edge(x, y) else 1
                g.add_edge(x, y, capacity=cap)
        s = int(self.terminals[0])
        return int(min(nx.maximum_flow_value(g, s, int(t)) for t in self.terminals[1:]))


def _grid(rows: int = 5, cols: int = 5) -> nx.Graph:
    return nx.convert_node_labels_to_integers(nx.grid_2d_graph(rows, cols), ordering="sorted")


def _bridge() -> nx.Graph:
    """The five-edge bridge: s=0, t=3, edges 0-1, 0-2, 1-2, 1-3, 2-3."""
    return nx.Graph([(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)])


#: Built-in classic networks: name -> (factory of the graph from its size keywords, default
#: s-t terminals).
NETWORKS: dict[str, Any] = {
    "bridge": _bridge,
    "dodecahedron": nx.dodecahedral_graph,
    "grid": _grid,
    "complete": lambda n=5: nx.complete_graph(n),
}


def dodecahedron_terminals() -> tuple[int, int]:
    """Two vertices at distance 5 (antipodal) in :func:`networkx.dodecahedral_graph`: (0, 15)."""
    g = nx.dodecahedral_graph()
    far = [v for v, d in nx.single_source_shortest_path_length(g, 0).items() if d == 5]
    return 0, min(far)


def _default_terminals(name: str, graph: nx.Graph) -> list[Hashable]:
    nodes = list(graph.nodes)
    if name == "dodecahedron":
        return list(dodecahedron_terminals())
    if name == "bridge":
        return [0, 3]
    return [nodes[0], nodes[-1]]


def _read_edgelist(path: str | Path, directed: bool) -> nx.Graph:
    """Read ``u v [q]`` lines (``#`` comments); a third column sets the edge's ``q``."""
    graph: nx.Graph = nx.MultiDiGraph() if directed else nx.MultiGraph()
    text = Path(path).read_text(encoding="utf-8")
    for k, line in enumerate(text.splitlines(), 1):
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        if len(parts) not in (2, 3):
            raise ConfigError(f"{path}:{k}: expected 'u v [q]', got {line!r}")
        u, v = (int(p) if p.lstrip("-").isdigit() else p for p in parts[:2])
        attrs = {"index": graph.number_of_edges()}
        if len(parts) == 3:
            attrs["q"] = float(parts[2])
        graph.add_edge(u, v, **attrs)
    return graph


def builtin_network(
    name: str,
    q: float | Sequence[float] | None = None,
    terminals: Iterable[Hashable] | str | None = None,
    *,
    size: dict[str, int] | None = None,
    path: str | Path | None = None,
    directed: bool = False,
) -> Network:
    """A classic network by name, or one read from an edge-list file.

    Parameters
    ----------
    name : {"bridge", "dodecahedron", "grid", "complete", "file"}
        ``"grid"`` takes ``size={"rows": r, "cols": c}`` (nodes numbered row by row),
        ``"complete"`` takes ``size={"n": n}``; ``"file"`` reads ``path``, one edge
        ``u v [q]`` per line.
    q : float or sequence, optional
        Failure probabilities (for a file, default: its third column).
    terminals : nodes, "all", or None
        Default: the classic pair (the dodecahedron's antipodal vertices 0 and 15, the
        bridge's 0 and 3), else the first and the last node.
    """
    if name == "file":
        if path is None:
            raise ConfigError("network 'file' needs path = an edge-list file")
        graph = _read_edgelist(path, directed)
    elif name in NETWORKS:
        graph = NETWORKS[name](**(size or {}))
        if directed:
            graph = graph.to_directed()
    else:
        known = ", ".join([*NETWORKS, "file"])
        raise ConfigError(f"unknown network {name!r}; built-in networks: {known}")
    if terminals is None:
        terminals = _default_terminals(name, graph)
    term = terminals if isinstance(terminals, str) else list(terminals)
    if q is None and name != "file":
        raise ConfigError(f"network {name!r} needs q = the edges' failure probability")
    if isinstance(q, float) and not math.isfinite(q):
        raise ConfigError(f"q must be finite, got {q!r}")
    return Network(graph, q, term)
