r"""Neighbour-list local search for tours, vectorized over a batch of tours.

The memetic TSP strategy polishes its elite with the search of :class:`NeighbourSearch`:

- **2-opt** (symmetric instances only): remove edges :math:`(a, a^+)` and
  :math:`(c, c^+)`, add :math:`(a, c)` and :math:`(a^+, c^+)` (the path between is
  reversed), :math:`\Delta = d_{ac} + d_{a^+c^+} - d_{aa^+} - d_{cc^+}`; and the mirror
  move through the predecessors :math:`a^-, c^-`. The new edge :math:`(a, c)` joins a
  city to one of its ``k`` nearest neighbours (Johnson & McGeoch 1997, Sec. 3).
- **Segment exchange** ("or-3opt", valid for any distances, no path is reversed): the
  tour :math:`a\,A\,B\,c^+ \dots` with consecutive paths :math:`A = a^+ \dots b` and
  :math:`B = b^+ \dots c` becomes :math:`a\,B\,A\,c^+ \dots`, so

  .. math:: \Delta = d_{a b^+} + d_{c a^+} + d_{b c^+} - d_{a a^+} - d_{b b^+} - d_{c c^+}.

  It holds or-opt (Or 1976; a short :math:`A` or :math:`B` moved elsewhere) and the
  double bridge. The three new edges play symmetric roles (relabelling the three cut
  points gives the same move), so evaluating from every city :math:`a` the moves whose
  first two new edges :math:`(a, b^+)`, :math:`(c, a^+)` are neighbour-list edges finds
  every move in which any two of the three new edges are.

Every round evaluates the moves from the *active* cities of every tour (don't-look bits,
Bentley 1992: a city whose moves do not improve goes to sleep until an edge next to it
changes) and applies each tour's best improving move; the work per round is
proportional to the number of active cities, not to ``n``. The local optimum reached has
no improving 2-opt or segment-exchange move within the neighbour lists.

:meth:`NeighbourSearch.iterate` escapes those optima by iterated local search (Lourenço,
Martin & Stützle 2003; Johnson & McGeoch 1997, Sec. 3.4): a random *local double bridge*
(a segment exchange whose three new edges join cities near a random city), local search
from its endpoints, and the new tour is kept when it is no longer than the old one.

References
----------
.. [1] D. S. Johnson, L. A. McGeoch, "The traveling salesman problem: a case study in
   local optimization", in *Local Search in Combinatorial Optimization*, Wiley, 1997,
   215-310.
.. [2] J. L. Bentley, "Fast algorithms for geometric traveling salesman problems", ORSA
   J. Comput. 4(4):387-411, 1992 (neighbour lists, don't-look bits).
.. [3] H. R. Lourenço, O. C. Martin, T. Stützle, "Iterated local search", in *Handbook of
   Metaheuristics*, Kluwer, 2003, 321-353.
.. [4] I. Or, *Traveling salesman-type combinatorial problems and their relation to the
   logistics of regional blood banking*, PhD thesis, Northwestern University, 1976.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NeighbourSearch", "neighbour_lists"]

#: Improvements smaller than this are rounding noise.
_EPS = 1e-9


def neighbour_lists(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest cities of every city: ``(out, into)``, each ``(n, k)``.

    ``out[a]`` holds the cities ``c`` with the smallest ``d[a, c]``, ``into[a]`` those
    with the smallest ``d[c, a]`` (the same lists for symmetric distances); ties go to
    the smaller index. ``k`` is capped at ``n - 1``.
    """
    n = d.shape[0]
    k = min(k, n - 1)
    far = np.where(np.eye(n, dtype=bool), np.inf, d)
    out = np.argsort(far, axis=1, kind="stable")[:, :k]
    into = np.argsort(far.T, axis=1, kind="stable")[:, :k]
    return out, into


def _first_per_row(rows: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``rows`` sorted ascending: the distinct rows and, for each, the index of its
    smallest value (the first one on ties)."""
    order = np.lexsort((values, rows))
    first = np.ones(order.size, dtype=bool)
    first[1:] = rows[order[1:]] != rows[order[:-1]]
    pick = order[first]
    return rows[pick], pick


class NeighbourSearch:
    r"""2-opt and segment-exchange local search with neighbour lists, over many tours.

    Parameters
    ----------
    d : ndarray (n, n)
        Distances, zero diagonal.
    symmetric : bool
        Whether ``d`` is symmetric; 2-opt (which reverses a path) is used only then.
    k : int, default 8
        Neighbour-list length for 2-opt.
    k_exchange : int, default 6
        Neighbour-list length for each of the two listed edges of a segment exchange
        (``k_exchange**2`` moves per city).
    kick_span : int, default 50
        Longest path a double-bridge kick moves (capped at ``n // 3``).

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).uniform(size=(30, 2))
    >>> d = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    >>> search = NeighbourSearch(d, symmetric=True)
    >>> tours = np.array([np.random.default_rng(s).permutation(30) for s in range(4)])
    >>> lengths = d[tours, np.roll(tours, -1, axis=1)].sum(axis=1)
    >>> better, new = search.optimize(tours, lengths)
    >>> recomputed = d[better, np.roll(better, -1, axis=1)].sum(axis=1)
    >>> bool(np.all(new < lengths)), bool(np.allclose(new, recomputed))
    (True, True)
    """

    def __init__(
        self,
        d: np.ndarray,
        symmetric: bool,
        k: int = 8,
        k_exchange: int = 6,
        kick_span: int = 50,
    ) -> None:
        self.d = np.asarray(d, dtype=float)
        self.n = self.d.shape[0]
        self.symmetric = symmetric
        self.out, self.into = neighbour_lists(self.d, max(k, k_exchange))
        self.k, self.k_exchange = min(k, self.n - 1), min(k_exchange, self.n - 1)
        self.kick_span = max(1, min(kick_span, self.n // 3))

    # ------------------------------------------------------------------ moves
    def _moves(self, tours, pos, b, a):
        """Best move from each active ``(tour b, city a)``: its change of length and its
        cut positions ``(kind, p, q, r)`` (kind 0: 2-opt reversing ``p+1..q``, ``r = q``; kind 1:
        segment exchange with ``a`` at ``p``, ``b^+`` at ``q``, ``c`` at ``r``)."""
        d, n = self.d, self.n
        i = pos[b, a]
        a_next = tours[b, (i + 1) % n]
        m = a.size
        best = np.zeros(m)
        kind = np.full(m, -1)
        cut = np.zeros((m, 3), dtype=np.int64)
        if self.symmetric and self.k:
            c = self.out[a, : self.k]
            j = pos[b[:, None], c]
            bb = b[:, None]
            for step in (1, -1):  # through the successors, then the predecessors
                a2 = tours[b, (i + step) % n]
                c2 = tours[bb, (j + step) % n]
                delta = (d[a[:, None], c] + d[a2[:, None], c2]
                         - d[a, a2][:, None] - d[c, c2])  # fmt: skip
                arg = delta.argmin(axis=1)
                gain = delta[np.arange(m), arg]
                better = gain < best
                e1 = (i if step == 1 else i - 1) % n
                e2 = (j[np.arange(m), arg] if step == 1 else j[np.arange(m), arg] - 1) % n
                best = np.where(better, gain, best)
                kind = np.where(better, 0, kind)
                lo, hi = np.minimum(e1, e2), np.maximum(e1, e2)
                cut[better] = np.column_stack([lo, hi, hi])[better]
        kx = self.k_exchange
        x = self.out[a, :kx]  # b^+
        y = self.into[a_next, :kx]  # c
        rx = (pos[b[:, None], x] - i[:, None]) % n
        ry = (pos[b[:, None], y] - i[:, None]) % n
        xb = tours[b[:, None], (pos[b[:, None], x] - 1) % n]  # b, before b^+
        yn = tours[b[:, None], (pos[b[:, None], y] + 1) % n]  # c^+, after c
        delta = (
            (d[a[:, None], x] - d[a, a_next][:, None] - d[xb, x])[:, :, None]
            + (d[y, a_next[:, None]] - d[y, yn])[:, None, :]
            + d[xb[:, :, None], yn[:, None, :]]
        )
        valid = (rx[:, :, None] >= 2) & (rx[:, :, None] <= ry[:, None, :])
        delta = np.where(valid, delta, 0.0).reshape(m, -1)
        arg = delta.argmin(axis=1)
        gain = delta[np.arange(m), arg]
        better = gain < best
        best = np.where(better, gain, best)
        kind = np.where(better, 1, kind)
        u, v = np.divmod(arg, kx)
        cut[better] = np.column_stack([i, (i + rx[np.arange(m), u]) % n,
                                       (i + ry[np.arange(m), v]) % n])[better]  # fmt: skip
        return best, kind, cut

    def _span(self, kind, cut):
        """The positions ``lo..hi`` (no wrap past the array's end) that each move rearranges,
        and the length ``first`` of its first block.

        A 2-opt reverses ``p+1..q``. A segment exchange turns the cyclic order of its three
        paths :math:`A, B, R` (:math:`R` from :math:`c^+` round to :math:`a`) into
        :math:`B, A, R`, which is the same cycle as :math:`A, R, B` and :math:`R, B, A`:
        swapping any two consecutive paths. The two swapped are those that follow the
        path holding the array's last position, so they sit side by side in the array and
        every other position keeps its city.
        """
        n = self.n
        p, q, r = cut.T
        lo, hi, first = p + 1, q, np.zeros_like(p)
        ex = kind == 1
        if ex.any():
            starts = np.column_stack([p[ex] + 1, q[ex], r[ex] + 1]) % n
            len_a, len_b = (q[ex] - p[ex] - 1) % n, (r[ex] - q[ex]) % n + 1
            sizes = np.column_stack([len_a, len_b, n - len_a - len_b])
            last = np.argmax((n - 1 - starts) % n < sizes, axis=1)  # path holding n - 1
            rows = np.arange(starts.shape[0])
            one, two = (last + 1) % 3, (last + 2) % 3
            lo[ex] = starts[rows, one]
            first[ex] = sizes[rows, one]
            hi[ex] = lo[ex] + sizes[rows, one] + sizes[rows, two] - 1
        return lo, hi, first

    def _apply(self, tours, pos, rows, kind, cut):
        """Apply the moves, ``rows[m]`` being the tour of move ``m``; the moves of one tour
        must rearrange disjoint position spans (:meth:`_span`). Returns the cities next to
        a changed edge, ``(len(rows), 7)``."""
        n = self.n
        p, q, r = cut.T
        old = tours[rows]
        ends = np.column_stack([old[np.arange(rows.size), c % n] for c in
                                (p, p + 1, q - 1, q, q + 1, r, r + 1)])  # fmt: skip
        lo, hi, first = self._span(kind, cut)
        size = hi - lo + 1
        at = np.repeat(rows, size)
        k = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size - lo, size)  # positions
        lo_k, hi_k, first_k = (np.repeat(v, size) for v in (lo, hi, first))
        second_k = hi_k - lo_k + 1 - first_k
        swapped = np.where(k < lo_k + second_k, k + first_k, k - second_k)
        src = np.where(np.repeat(kind == 0, size), lo_k + hi_k - k, swapped)
        cities = tours[at, src]
        tours[at, k] = cities
        pos[at, cities] = k
        return ends

    def _disjoint(self, b, gain, kind, cut, improving):
        """Improving moves to apply together: for each tour its best one, then greedily
        (best first) every further one whose edges ``lo-1 .. hi`` (edge ``e`` joins
        positions ``e`` and ``e+1``; edge ``-1`` is edge ``n-1``) meet none chosen, so the
        moves commute and their changes of length add up. Returns indices into ``b``."""
        n = self.n
        lo, hi, _ = self._span(kind[improving], cut[improving])
        order = np.lexsort((gain[improving], b[improving]))
        cand, lo, hi = improving[order], lo[order], hi[order]
        covered = np.zeros((int(b.max()) + 1, n + 1), dtype=bool)  # column n: never set
        chosen = []
        while cand.size:
            rows, first = _first_per_row(b[cand], np.arange(cand.size))
            chosen.append(cand[first])
            size = hi[first] - lo[first] + 2
            edges = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size - lo[first] + 1, size)
            covered[np.repeat(rows, size), edges % n] = True
            seen = np.zeros((covered.shape[0], n + 1), dtype=np.int64)
            np.cumsum(covered[:, :n], axis=1, out=seen[:, 1:])
            rb = b[cand]
            hit = seen[rb, hi + 1] - seen[rb, np.maximum(lo - 1, 0)] > 0
            hit |= (lo == 0) & covered[rb, n - 1]
            hit[first] = True
            cand, lo, hi = cand[~hit], lo[~hit], hi[~hit]
        return np.concatenate(chosen)

    # ------------------------------------------------------------------ search
    def optimize(
        self,
        tours: np.ndarray,
        lengths: np.ndarray,
        active: np.ndarray | None = None,
        exhaustive: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Local search to a local optimum of every tour, all tours together.

        Parameters
        ----------
        tours : ndarray (B, n)
            Permutations of ``0..n-1``.
        lengths : ndarray (B,)
            Their lengths.
        active : ndarray (B, n) of bool, optional
            Cities to examine first (default: all of them).
        exhaustive : bool, default True
            When every city sleeps, examine all of them once more, until a sweep of all
            the cities finds no improving move: the result is then a true local optimum
            (a change far from a sleeping city can make one of its moves improving).
            ``False`` stops as soon as every city sleeps (the usual don't-look bits).

        Returns
        -------
        tours, lengths
            The improved tours (copies) and their lengths.
        """
        tours = np.array(tours, dtype=np.int64)
        lengths = np.array(lengths, dtype=float)
        B, n = tours.shape
        pos = np.empty_like(tours)
        pos[np.arange(B)[:, None], tours] = np.arange(n)
        full = active is None
        active = np.ones((B, n), dtype=bool) if full else active.copy()
        swept = full  # whether the current sleep started from a sweep of every city
        while True:
            b, a = np.nonzero(active)
            if b.size == 0:
                if swept or not exhaustive:
                    break
                active[:], swept = True, True  # a move far away can wake a sleeping city
                continue
            gain, kind, cut = self._moves(tours, pos, b, a)
            asleep = gain > -_EPS
            active[b[asleep], a[asleep]] = False
            if asleep.all():
                continue
            swept = False
            pick = self._disjoint(b, gain, kind, cut, np.flatnonzero(~asleep))
            ends = self._apply(tours, pos, b[pick], kind[pick], cut[pick])
            np.add.at(lengths, b[pick], gain[pick])
            active[b[pick][:, None], ends] = True
        return tours, lengths

    def kick(
        self, tours: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A random local double bridge on each tour.

        From a random city :math:`a`, the segment exchange whose :math:`b^+` and
        :math:`c` are two random cities of :math:`a`'s neighbour list (in tour order), so
        the three new edges join cities near :math:`a`; when one of the two is
        :math:`a^+`, paths of random lengths up to ``kick_span`` instead.

        Returns the kicked tours, the change of each length, and the cities next to the
        new edges of each tour, ``(B, 7)``.
        """
        tours = np.array(tours, dtype=np.int64)
        B, n = tours.shape
        rows = np.arange(B)
        pos = np.empty_like(tours)
        pos[rows[:, None], tours] = np.arange(n)
        p = rng.integers(0, n, size=B)
        near = self.out[tours[rows, p]]
        u = rng.integers(0, near.shape[1], size=B)
        v = (u + rng.integers(1, near.shape[1], size=B)) % near.shape[1]
        ru, rv = ((pos[rows, near[rows, w]] - p) % n for w in (u, v))
        la = rng.integers(1, self.kick_span + 1, size=B)
        lb = rng.integers(1, self.kick_span + 1, size=B)
        far = np.minimum(ru, rv) < 2
        q = p + np.where(far, 1 + la, np.minimum(ru, rv))
        r = p + np.where(far, la + lb, np.maximum(ru, rv))
        a, a1, x0, x, y, y1 = (tours[rows, s % n] for s in (p, p + 1, q - 1, q, r, r + 1))
        d = self.d
        delta = d[a, x] + d[y, a1] + d[x0, y1] - d[a, a1] - d[x0, x] - d[y, y1]
        ends = self._apply(tours, pos, rows, np.ones(B, dtype=np.int64),
                           np.column_stack([p, q % n, r % n]))  # fmt: skip
        return tours, delta, ends

    def iterate(
        self, tours: np.ndarray, lengths: np.ndarray, kicks: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Iterated local search: ``kicks`` rounds of :meth:`kick` and :meth:`optimize`
        from the kicked cities, keeping a tour's new local optimum when it is no longer.

        The input tours should be local optima (from :meth:`optimize`)."""
        tours = np.array(tours, dtype=np.int64)
        lengths = np.array(lengths, dtype=float)
        B, n = tours.shape
        for _ in range(kicks):
            kicked, delta, ends = self.kick(tours, rng)
            active = np.zeros((B, n), dtype=bool)
            active[np.arange(B)[:, None], ends] = True
            new, new_len = self.optimize(kicked, lengths + delta, active, exhaustive=False)
            keep = new_len <= lengths + _EPS
            tours[keep], lengths[keep] = new[keep], new_len[keep]
        return tours, lengths
