r"""Network design: the most reliable network within a budget (Kroese, Hui & Nariai 2007).

Candidate links :math:`\ell = 1..L` join given nodes; link :math:`\ell` costs :math:`c_\ell`
and, once built, works with probability :math:`p_\ell` independently of the others. A design
is :math:`x \in \{0,1\}^L` (1 = build); the problem is

.. math:: \min_x\; Q(x) = P(K \text{ not connected by the working built links})
          \quad\text{s.t.}\quad \sum_\ell c_\ell x_\ell \le B,

solved by the CE method with a Bernoulli family over the links (:func:`cem.minimize`).

**Over-budget samples** are scored, not repaired or redrawn: a design that costs more than
:math:`B` scores :math:`2 + (c^\top x - B) / \sum_\ell c_\ell`, above every feasible
design (a feasible design that cannot connect the terminals at all scores in
:math:`[1, 2)` by its number of terminal components, one that can scores
:math:`Q(x) < 1`). The elite is then feasible as soon as at least a fraction
:math:`\rho` of the samples is, and before that the elite are the designs closest to the
budget, which pulls the family back towards feasibility. The sampling distribution stays
a plain product of Bernoullis, so the CE update is the usual elite frequency.

**Scoring.** With at most :data:`MAX_EXACT_LINKS` links (``mode="exact"``) the
unreliability of *every* design is tabulated once: the connectivity of all :math:`2^L` link
states, then one pass per link :math:`\ell` of

.. math:: h(x) = \begin{cases} p_\ell\, h(x, z_\ell = 1) + (1 - p_\ell)\, h(x, z_\ell = 0)
          & x_\ell = 1 \\ h(x, z_\ell = 0) & x_\ell = 0 \end{cases}

turns the table of :math:`1\{K \text{ connected}\}(z)` into :math:`R(x) = E[1\{\cdot\}(Z \wedge
x)]`; a batch is scored by indexing the table. Beyond that (``mode="simulate"``) the
score is a sample-average approximation: :math:`Q(x)` estimated from ``n_sim`` link-state
vectors drawn once (common random numbers, so the score is a deterministic function of
:math:`x` and designs are compared on the same draws). :meth:`NetworkDesign.reestimate`
then re-estimates the final candidates with fresh, independent turnip samples and
reports the best with its confidence interval.

References
----------
.. [1] D. P. Kroese, K.-P. Hui, S. Nariai, "Network reliability optimization via the
   cross-entropy method", IEEE Trans. Reliability 56(2):275-287, 2007.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from cem.errors import ConfigError
from cem.families import Bernoulli
from cem.problem import Problem
from cem.problems.network.model import Network
from cem.problems.network.reliability import permutation_monte_carlo
from cem.result import EstimateResult, OptimizeResult
from cem.toolkit import RNGLike, as_seed_sequence, child_seed

__all__ = ["MAX_EXACT_LINKS", "NetworkDesign"]

#: Designs are tabulated exactly up to this many candidate links (2**L table entries).
MAX_EXACT_LINKS = 20


class NetworkDesign(Problem):
    """Choose links within a budget to minimize the unreliability of the terminals.

    Parameters
    ----------
    links : sequence of (u, v, cost, reliability)
        The candidate links; ``reliability`` is the probability a built link works.
    budget : float
        The most the built links may cost.
    terminals : sequence of nodes or "all"
    mode : {"auto", "exact", "simulate"}
        ``"auto"``: exact up to :data:`MAX_EXACT_LINKS` links, else simulation.
    n_sim : int
        Link-state vectors of the sample-average score (simulation mode).
    seed : int
        Seed of those vectors (the score is deterministic given it).
    pos : dict, optional
        Node positions for :meth:`plot_solution` (default: a seeded spring layout).
    """

    sense = "min"
    family_types = (Bernoulli,)
    score_label = "unreliability"

    def __init__(
        self,
        links: Sequence[tuple[Any, Any, float, float]],
        budget: float,
        terminals: Sequence[Any] | str = "all",
        *,
        mode: str = "auto",
        n_sim: int = 2000,
        seed: int = 0,
        pos: dict[Any, tuple[float, float]] | None = None,
    ) -> None:
        if mode not in ("auto", "exact", "simulate"):
            raise ConfigError(f"mode must be 'auto', 'exact' or 'simulate', got {mode!r}")
        rows = [tuple(link) for link in links]
        if not rows or any(len(r) != 4 for r in rows):
            raise ConfigError("links must be a non-empty list of (u, v, cost, reliability)")
        self.links = rows
        self.cost = np.array([float(r[2]) for r in rows])
        self.p = np.array([float(r[3]) for r in rows])
        if np.any(self.cost < 0) or not np.all((self.p > 0) & (self.p < 1)):
            raise ConfigError("link costs must be >= 0 and reliabilities in (0, 1)")
        self.budget = float(budget)
        graph = nx.MultiGraph()
        graph.add_edges_from((u, v, {"index": k}) for k, (u, v, _, _) in enumerate(rows))
        self.network = Network(graph, 1.0 - self.p, terminals)
        self.L = len(rows)
        if mode == "auto":
            mode = "exact" if self.L <= MAX_EXACT_LINKS else "simulate"
        if mode == "exact" and self.L > MAX_EXACT_LINKS:
            raise ConfigError(f"exact mode tabulates 2**L designs; L={self.L} > {MAX_EXACT_LINKS}")
        self.mode, self.n_sim, self.seed = mode, int(n_sim), int(seed)
        self.pos = pos
        self._table = self._tabulate() if mode == "exact" else None
        if mode == "simulate":
            gen = np.random.Generator(np.random.PCG64(child_seed(as_seed_sequence(seed), 1)))
            self._Z = gen.random((self.n_sim, self.L)) < self.p

    # ------------------------------------------------------------------ scores
    def _tabulate(self) -> np.ndarray:
        """Unreliability of all 2**L designs, indexed by ``sum_l x_l 2**l``."""
        L = self.L
        codes = np.arange(1 << L, dtype=np.int64)
        conn = np.empty(1 << L)
        chunk = 1 << 15
        for lo in range(0, 1 << L, chunk):
            c = codes[lo : lo + chunk]
            conn[lo : lo + chunk] = self.network.connected((c[:, None] >> np.arange(L)) & 1)
        h = conn.reshape([2] * L)  # axis k is link L-1-k (C order, bit l of the code)
        for link in range(L):
            axis = L - 1 - link
            z0, z1 = np.take(h, 0, axis=axis), np.take(h, 1, axis=axis)
            h = np.stack([z0, self.p[link] * z1 + (1 - self.p[link]) * z0], axis=axis)
        return 1.0 - h.reshape(-1)

    def unreliability(self, X: np.ndarray) -> np.ndarray:
        """:math:`Q(x)` of each design: exact (table) or the sample-average estimate."""
        X = np.asarray(X) > 0.5
        if X.ndim == 1:
            X = X[None, :]
        if self._table is not None:
            return self._table[X.astype(np.int64) @ (np.int64(1) << np.arange(self.L))]
        N, S = X.shape[0], self.n_sim
        states = (X[:, None, :] & self._Z[None, :, :]).reshape(N * S, self.L)
        return 1.0 - self.network.connected(states).reshape(N, S).mean(axis=1)

    def score(self, X: np.ndarray) -> np.ndarray:
        """:math:`Q(x)` of a design that can connect the terminals; penalties otherwise.

        A design within budget whose built links cannot connect the terminals even when
        all work scores ``1 + (k - 1) / n``, ``k`` the number of components holding
        terminals; an over-budget design ``2 + excess / total cost``. Each penalty is
        graded, so the elite threshold keeps moving while no sample is good yet.
        """
        X = np.asarray(X, dtype=float)
        excess = X @ self.cost - self.budget
        out = 2.0 + excess / max(self.cost.sum(), 1e-300)
        ok = excess <= 1e-9 * max(1.0, abs(self.budget))
        if np.any(ok):
            Xok = X[ok] > 0.5
            lab = np.sort(self.network.components(Xok)[:, self.network.terminals], axis=1)
            parts = 1 + np.count_nonzero(np.diff(lab, axis=1), axis=1)
            q = self.unreliability(Xok)
            out[ok] = np.where(parts > 1, 1.0 + (parts - 1) / self.network.n, q)
        return out

    def polish(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local search: best of adding, removing or exchanging one link, until none helps.

        All designs move at once: their ``L + L**2`` neighbours are scored in one batch
        per round; a design stops when no neighbour scores strictly lower.
        """
        X = np.asarray(X, dtype=float).copy()
        s = np.asarray(scores, dtype=float).copy()
        L = self.L
        flips = np.eye(L, dtype=bool)
        i, j = np.triu_indices(L, k=1)
        swaps = flips[i] | flips[j]  # exchange = flip two links, one in and one out
        moves = np.concatenate([flips, swaps])
        active = np.arange(X.shape[0])
        while active.size:
            cur = X[active] > 0.5
            nb = cur[:, None, :] ^ moves[None, :, :]
            if len(moves) > L:  # keep exchanges that swap one built link for an unbuilt one
                keep = np.concatenate([np.ones((len(active), L), dtype=bool),
                                       cur[:, i] != cur[:, j]], axis=1)  # fmt: skip
            ns = self.score(nb.reshape(-1, L).astype(float)).reshape(len(active), -1)
            ns = np.where(keep, ns, np.inf)
            k = np.argmin(ns, axis=1)
            best = ns[np.arange(len(active)), k]
            better = best < s[active]
            rows = active[better]
            X[rows] = nb[better, k[better]].astype(float)
            s[rows] = best[better]
            active = rows
        return X, s

    def initial_family(self) -> Bernoulli:
        return Bernoulli(np.full(self.L, 0.5))

    def default_options(self) -> dict[str, Any]:
        """CE settings that find the exact optimum of 15-link instances (see the tests).

        With exact scores the best design is finished by :meth:`polish` (one round of
        neighbours is cheap there); with simulated scores it is not.
        """
        options: dict[str, Any] = {"n_samples": 300, "rho": 0.1, "alpha": 0.5, "stall_iters": 10}
        if self.mode == "exact":
            options["polish"] = "best"
        return options

    # ------------------------------------------------------------------ exact optimum
    def brute_force(self) -> tuple[np.ndarray, float]:
        """The design of least :meth:`score` among all ``2**L`` (exact mode only)."""
        if self._table is None:
            raise ConfigError("brute force needs the exact table (mode='exact')")
        codes = np.arange(1 << self.L, dtype=np.int64)
        X = ((codes[:, None] >> np.arange(self.L)) & 1).astype(float)
        s = self.score(X)
        k = int(np.argmin(s))
        return X[k], float(s[k])

    # ------------------------------------------------------------------ final estimates
    def design_network(self, x: np.ndarray) -> Network:
        """The network of the links built in ``x`` (every node kept)."""
        graph = nx.MultiGraph()
        graph.add_nodes_from(self.network.nodes)
        keep = np.flatnonzero(np.asarray(x) > 0.5)
        graph.add_edges_from((self.links[k][0], self.links[k][1], {"index": i})
                             for i, k in enumerate(keep))  # fmt: skip
        if graph.number_of_edges() == 0:
            graph.add_edge(*self.links[0][:2])  # an unbuilt link: it never works
            q = [1.0]
        else:
            q = (1.0 - self.p[keep]).tolist()
        terms = [self.network.nodes[t] for t in self.network.terminals]
        return Network(graph, q, terms if self.network.kind != "all-terminal" else "all")

    def reestimate(
        self,
        result: OptimizeResult,
        *,
        n_candidates: int = 5,
        n_final: int = 20_000,
        rng: RNGLike = None,
    ) -> tuple[np.ndarray, EstimateResult, list[tuple[np.ndarray, EstimateResult]]]:
        """Re-estimate the final candidates with fresh turnip samples; the best with its CI.

        The candidates are the run's best design, the final family's mode and the
        best-scoring distinct feasible designs among 20 ``n_samples`` draws from the final
        family, ``n_candidates`` in all. Each is estimated independently of the score's
        common random numbers with ``n_final`` turnip permutations.

        Returns
        -------
        x : ndarray
            The design with the smallest re-estimated unreliability.
        estimate : EstimateResult
            Its estimate and 95% confidence interval.
        all : list of (x, EstimateResult)
        """
        root = as_seed_sequence(rng)
        gen = np.random.Generator(np.random.PCG64(child_seed(root, 0)))
        pool = [np.asarray(result.x, dtype=float), result.family.mode()]
        draws = result.family.sample(20 * n_candidates, gen)
        pool += list(draws[np.argsort(self.score(draws), kind="stable")])
        seen, cands = set(), []
        for x in pool:
            key = x.astype(bool).tobytes()
            if key in seen or self.score(x[None])[0] > 1.0:
                continue
            seen.add(key)
            cands.append(x)
            if len(cands) == n_candidates:
                break
        out = []
        for k, x in enumerate(cands):
            est = permutation_monte_carlo(self.design_network(x), n_final=n_final,
                                          rng=child_seed(root, 1, k))  # fmt: skip
            out.append((x, est))
        best = min(out, key=lambda item: item[1].estimate)
        return best[0], best[1], out

    # ------------------------------------------------------------------ picture
    def most_likely_cut(self, x: np.ndarray) -> list[int]:
        """Indices of the built links of the most likely failure set of design ``x``.

        The minimal cut separating the terminals that maximizes
        :math:`\\prod_{\\ell \\in C} (1 - p_\\ell)`: a minimum cut with capacities
        :math:`-\\ln(1 - p_\\ell)`, over the first terminal against each other one.
        """
        built = np.flatnonzero(np.asarray(x) > 0.5)
        g = nx.Graph()
        g.add_nodes_from(range(self.network.n))
        for k in built:
            a, b = int(self.network.tails[k]), int(self.network.heads[k])
            w = -np.log1p(-self.p[k])
            cap = g[a][b]["capacity"] + w if g.has_edge(a, b) else w
            g.add_edge(a, b, capacity=cap)
        s = int(self.network.terminals[0])
        best: tuple[float, set[int]] = (np.inf, set())
        for t in self.network.terminals[1:]:
            value, (side, _) = nx.minimum_cut(g, s, int(t))
            if value < best[0]:
                best = (value, set(side))
        side = best[1]
        return [int(k) for k in built
                if (self.network.tails[k] in side) != (self.network.heads[k] in side)]  # fmt: skip

    def plot_solution(self, x: np.ndarray, ax: Any) -> None:
        """Candidate links (grey), built links (black), their most likely failure set (red)."""
        net = self.network
        pos = self.pos or nx.spring_layout(nx.Graph(net.graph), seed=self.seed)
        xy = np.array([pos[v] for v in net.nodes])
        built = np.asarray(x) > 0.5
        cut = set(self.most_likely_cut(x))
        for k in range(self.L):
            a, b = xy[net.tails[k]], xy[net.heads[k]]
            if k in cut:
                style = {"color": "tab:red", "lw": 2.5, "ls": "--", "zorder": 3}
            elif built[k]:
                style = {"color": "black", "lw": 2.0, "zorder": 2}
            else:
                style = {"color": "0.8", "lw": 0.8, "zorder": 1}
            ax.plot([a[0], b[0]], [a[1], b[1]], **style)
        term = np.zeros(net.n, dtype=bool)
        term[net.terminals] = True
        ax.scatter(*xy[~term].T, s=40, c="white", edgecolors="black", zorder=4)
        ax.scatter(*xy[term].T, s=80, c="tab:orange", edgecolors="black", zorder=4,
                   label="terminals")  # fmt: skip
        ax.plot([], [], color="tab:red", ls="--", label="most likely failure set")
        cost = float(np.asarray(x, dtype=float) @ self.cost)
        ax.set_title(f"design: {int(built.sum())} links, cost {cost:g} of {self.budget:g}")
        ax.legend(loc="best", fontsize=8)
        ax.set_axis_off()

    # ------------------------------------------------------------------ instances
    @classmethod
    def random(
        cls,
        n_nodes: int = 8,
        n_links: int = 15,
        budget_fraction: float = 0.5,
        terminals: Sequence[Any] | str = "all",
        reliability: tuple[float, float] = (0.8, 0.99),
        instance_seed: int = 0,
        **kwargs: Any,
    ) -> NetworkDesign:
        """A random instance: a spanning tree plus extra links on ``n_nodes`` nodes.

        Costs are uniform on [1, 10], reliabilities uniform on ``reliability``, and the
        budget is ``budget_fraction`` of the total cost; nodes lie at random points of
        the unit square (their positions draw the picture).
        """
        gen = np.random.default_rng(instance_seed)
        pairs = [(a, b) for a in range(n_nodes) for b in range(a + 1, n_nodes)]
        if not n_nodes - 1 <= n_links <= len(pairs):
            raise ConfigError(f"n_links must lie in [{n_nodes - 1}, {len(pairs)}], got {n_links}")
        perm = gen.permutation(n_nodes)
        tree = {
            tuple(sorted((int(perm[k]), int(perm[gen.integers(k)])))) for k in range(1, n_nodes)
        }
        rest = [pq for pq in pairs if pq not in tree]
        extra = [rest[k] for k in gen.choice(len(rest), n_links - len(tree), replace=False)]
        chosen = sorted(tree) + sorted(extra)
        cost = np.round(gen.uniform(1, 10, n_links), 1)
        rel = np.round(gen.uniform(*reliability, n_links), 3)
        links = [(a, b, float(c), float(r)) for (a, b), c, r in zip(chosen, cost, rel, strict=True)]
        pos = {v: tuple(gen.random(2)) for v in range(n_nodes)}
        return cls(links, budget_fraction * float(cost.sum()), terminals, pos=pos, **kwargs)

    @classmethod
    def from_config(
        cls,
        n_nodes: int = 8,
        n_links: int = 15,
        budget_fraction: float = 0.5,
        terminals: list[Any] | str = "all",
        instance_seed: int = 0,
        mode: str = "auto",
        n_sim: int = 2000,
        seed: int = 0,
        links: list[list[Any]] | None = None,
        budget: float | None = None,
    ) -> NetworkDesign:
        """Build from a config: explicit ``links`` and ``budget``, or a random instance."""
        if links is not None:
            if budget is None:
                raise ConfigError("a design with explicit links needs budget")
            rows = [tuple(r) for r in links]
            return cls(rows, budget, terminals, mode=mode, n_sim=n_sim, seed=seed)
        return cls.random(n_nodes, n_links, budget_fraction, terminals,
                          instance_seed=instance_seed, mode=mode, n_sim=n_sim,
                          seed=seed)  # fmt: skip

    def describe(self) -> str:
        return (f"network design: {self.L} candidate links, budget {self.budget:g}, "
                f"{self.network.kind}, {self.mode} scores")  # fmt: skip
