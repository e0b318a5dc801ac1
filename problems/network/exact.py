r"""Exact unreliability: full enumeration and a frontier-based dynamic program.

With one failure probability :math:`q` for every edge, the unreliability is a polynomial,
returned here in the *failure-count form*

.. math:: Q(q) = \sum_{i=0}^{m} F_i \, q^i (1-q)^{m-i},

where :math:`F_i` is the number of sets of :math:`i` failed edges that disconnect the
terminals (integers, exact). Every term is nonnegative, so evaluating :math:`Q` at a small
:math:`q` loses no digits to cancellation, and the small-:math:`q` asymptote is
:math:`Q \sim F_c q^c` with :math:`c` the size of a minimum cut (:math:`F_c` minimum cuts).
:meth:`Polynomial.monomial` gives the coefficients in powers of :math:`q` when wanted.
With per-edge :math:`q_e` the same dynamic program returns the probability itself.

The frontier DP processes the edges in a fixed order (a breadth-first numbering of the
nodes, edges sorted by their later endpoint). Its state is the partition of the *frontier*
(processed nodes with unprocessed edges) into components of the working edges so far,
with the number of terminals each component holds. Each edge doubles the states (fails:
state kept, working: its endpoints' components merged) and equal states are added up. A
node leaving the frontier may close a component: one holding every terminal means the
terminals are connected whatever the remaining edges do (dropped); one holding only some of
them means they never will be (added to :math:`Q`, the remaining edges free). The number of
states is bounded by the Bell number of the frontier width: a few thousand for the
dodecahedron or a 5x5 grid.

References
----------
.. [1] C. J. Colbourn, *The Combinatorics of Network Reliability*, Oxford, 1987, Ch. 3.
.. [2] G. Hardy, C. Lucet, N. Limnios, "K-terminal network reliability measures with binary
   decision diagrams", IEEE Trans. Reliability 56(3):506-515, 2007.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from cem.errors import ConfigError
from cem.problems.network.model import Network

__all__ = [
    "MAX_ENUMERATION_EDGES",
    "Polynomial",
    "enumerate_unreliability",
    "exact_unreliability",
    "unreliability_polynomial",
]

#: Full enumeration visits 2**m edge states.
MAX_ENUMERATION_EDGES = 20


@dataclass(frozen=True)
class Polynomial:
    r"""The unreliability :math:`Q(q) = \sum_i F_i q^i (1-q)^{m-i}` of a network.

    Attributes
    ----------
    counts : tuple of int
        :math:`F_0, \dots, F_m`: the numbers of disconnecting failure sets by size.
    """

    counts: tuple[int, ...]

    @property
    def m(self) -> int:
        """The number of edges (the polynomial's degree bound)."""
        return len(self.counts) - 1

    @property
    def min_cut(self) -> int:
        """The size :math:`c` of a minimum cut: the first nonzero :math:`F_i`."""
        return next(i for i, f in enumerate(self.counts) if f)

    def __call__(self, q: float | np.ndarray) -> np.ndarray | float:
        r""":math:`Q(q)`, summed from the smallest term up; ``q`` a number or an array."""
        qa = np.asarray(q, dtype=float)[..., None]
        i = np.arange(self.m + 1)
        F = np.array([float(f) for f in self.counts])
        terms = F * qa**i * (1.0 - qa) ** (self.m - i)
        out = np.sort(terms, axis=-1).sum(axis=-1)
        return float(out) if out.ndim == 0 else out

    def monomial(self) -> tuple[int, ...]:
        r"""Integer coefficients :math:`a_k` of :math:`Q(q) = \sum_k a_k q^k`."""
        a = [0] * (self.m + 1)
        for i, f in enumerate(self.counts):
            if f:
                for j in range(self.m - i + 1):  # (1 - q)^(m - i)
                    a[i + j] += f * math.comb(self.m - i, j) * (-1) ** j
        return tuple(a)


def enumerate_unreliability(net: Network) -> Polynomial | float:
    """Exact unreliability by visiting all :math:`2^m` edge states (:math:`m \\le 20`).

    Returns a :class:`Polynomial` when every edge has the same ``q``, else the probability.
    """
    m = net.m
    if m > MAX_ENUMERATION_EDGES:
        raise ConfigError(f"enumeration visits 2**m states; m={m} > {MAX_ENUMERATION_EDGES}")
    same = bool(np.all(net.q == net.q[0]))
    counts = np.zeros(m + 1, dtype=np.int64)
    total = 0.0
    bits = np.arange(m, dtype=np.int64)
    chunk = 1 << 16
    with np.errstate(divide="ignore"):
        log_q, log_p = np.log(net.q), np.log1p(-net.q)
    for start in range(0, 1 << m, chunk):
        codes = np.arange(start, min(start + chunk, 1 << m), dtype=np.int64)
        failed = ((codes[:, None] >> bits) & 1).astype(bool)
        down = ~net.connected(~failed)
        if same:
            counts += np.bincount(failed[down].sum(axis=1), minlength=m + 1)
        else:
            F = failed[down]
            total += float(np.exp(np.where(F, log_q, log_p).sum(axis=1)).sum())
    if same:
        return Polynomial(tuple(int(c) for c in counts))
    return total


def _order(net: Network) -> list[int]:
    """Edges ordered by a breadth-first numbering of their endpoints (later endpoint first)."""
    adj: list[list[int]] = [[] for _ in range(net.n)]
    for a, b in zip(net.tails.tolist(), net.heads.tolist(), strict=True):
        adj[a].append(b)
        adj[b].append(a)
    rank = [-1] * net.n
    k = 0
    for root in [int(net.terminals[0]), *range(net.n)]:
        if rank[root] >= 0:
            continue
        rank[root], queue = k, deque([root])
        k += 1
        while queue:
            v = queue.popleft()
            for w in adj[v]:
                if rank[w] < 0:
                    rank[w], k = k, k + 1
                    queue.append(w)
    ends = zip(net.tails.tolist(), net.heads.tolist(), strict=True)
    keys = [(max(rank[a], rank[b]), min(rank[a], rank[b]), e) for e, (a, b) in enumerate(ends)]
    return [e for *_, e in sorted(keys)]


def _canonical(labels: list[int], terms: dict[int, int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Relabel components by first occurrence; terminal counts in the new label order."""
    new: dict[int, int] = {}
    out = []
    for lab in labels:
        if lab not in new:
            new[lab] = len(new)
        out.append(new[lab])
    counts = [0] * len(new)
    for old, k in new.items():
        counts[k] = terms.get(old, 0)
    return tuple(out), tuple(counts)


def _frontier_dp(net: Network, polynomial: bool) -> Polynomial | float:
    """The frontier DP; polynomial counts (one ``q``) or the probability (per-edge ``q``)."""
    if net.directed:
        raise ConfigError(
            f"the frontier DP is for undirected networks; use enumeration (m <= "
            f"{MAX_ENUMERATION_EDGES}) for a directed one, got m={net.m}"
        )
    m, n_term = net.m, net.terminals.size
    is_term = np.zeros(net.n, dtype=bool)
    is_term[net.terminals] = True
    if any(not np.any((net.tails == t) | (net.heads == t)) for t in net.terminals):
        # an isolated terminal: every edge state disconnects
        return Polynomial(tuple(math.comb(m, i) for i in range(m + 1))) if polynomial else 1.0
    order = _order(net)
    last: dict[int, int] = {}
    for step, e in enumerate(order):
        last[int(net.tails[e])] = last[int(net.heads[e])] = step
    binom = [np.array([math.comb(r, j) for j in range(r + 1)], dtype=object) for r in range(m + 1)]
    # A state's value: integer failure-set counts by size (polynomial) or a probability.
    zero: Any = np.zeros(m + 1, dtype=object) if polynomial else 0.0
    one: Any = zero.copy() if polynomial else 1.0
    if polynomial:
        one[0] = 1
    frontier: list[int] = []
    states: dict[tuple[tuple[int, ...], tuple[int, ...]], Any] = {((), ()): one}
    failed: Any = zero
    for step, e in enumerate(order):
        a, b = int(net.tails[e]), int(net.heads[e])
        for v in (a, b):
            if v not in frontier:
                frontier.append(v)
                states = {((*lab, len(cnt)), (*cnt, int(is_term[v]))): val
                          for (lab, cnt), val in states.items()}  # fmt: skip
        ia, ib = frontier.index(a), frontier.index(b)
        q = float(net.q[e])
        nxt: dict[tuple[tuple[int, ...], tuple[int, ...]], Any] = {}
        for (lab, cnt), val in states.items():
            if polynomial:
                down = np.concatenate([[0], val[:-1]])
                up = val
            else:
                down, up = val * q, val * (1.0 - q)
            nxt[(lab, cnt)] = nxt.get((lab, cnt), zero) + down
            la, lb = lab[ia], lab[ib]
            if la != lb:
                merged = [la if x == lb else x for x in lab]
                terms = {k: c for k, c in enumerate(cnt)}
                terms[la] += terms.pop(lb)
                key = _canonical(merged, terms)
            else:
                key = (lab, cnt)
            nxt[key] = nxt.get(key, zero) + up
        states = nxt
        leaving = [v for v in (a, b) if last[v] == step]
        for v in dict.fromkeys(leaving):
            i = frontier.index(v)
            frontier.pop(i)
            nxt = {}
            for (lab, cnt), val in states.items():
                comp = lab[i]
                rest = lab[:i] + lab[i + 1 :]
                if comp not in rest and cnt[comp] > 0:  # a component with terminals closes
                    if cnt[comp] < n_term:
                        free = m - step - 1  # the remaining edges may do anything
                        if polynomial:
                            failed = failed + np.convolve(val, binom[free])[: m + 1]
                        else:
                            failed = failed + val
                    continue  # cnt == n_term: connected whatever comes next
                key = _canonical(list(rest), {k: c for k, c in enumerate(cnt)})
                nxt[key] = nxt.get(key, zero) + val
            states = nxt
    if polynomial:
        return Polynomial(tuple(int(c) for c in failed))
    return float(failed)


def unreliability_polynomial(net: Network) -> Polynomial:
    """The :class:`Polynomial` of an undirected network (frontier DP; the ``q`` are ignored)."""
    result = _frontier_dp(net, polynomial=True)
    assert isinstance(result, Polynomial)
    return result


def exact_unreliability(net: Network) -> float:
    """The exact unreliability :math:`Q` at the network's own ``q``.

    Undirected networks use the frontier DP (the polynomial when all ``q`` are equal);
    directed networks full enumeration, up to :data:`MAX_ENUMERATION_EDGES` edges.
    """
    same = bool(np.all(net.q == net.q[0]))
    if net.directed:
        result = enumerate_unreliability(net)
        return float(result(net.q[0])) if isinstance(result, Polynomial) else float(result)
    if same:
        return float(unreliability_polynomial(net)(net.q[0]))
    result = _frontier_dp(net, polynomial=False)
    assert isinstance(result, float)
    return result
