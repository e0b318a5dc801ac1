"""The neighbour-list local search of the memetic TSP polish, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cem import minimize
from cem.problems.tsp import TSP
from cem.problems.tsp.search import NeighbourSearch, neighbour_lists


def _length(d: np.ndarray, tour: np.ndarray) -> float:
    return float(d[tour, np.roll(tour, -1)].sum())


def _euclidean(n: int, seed: int) -> np.ndarray:
    xy = np.random.default_rng(seed).uniform(0, 100, size=(n, 2))
    return np.rint(np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1)))


def _asymmetric(n: int, seed: int) -> np.ndarray:
    d = np.random.default_rng(seed).integers(1, 100, size=(n, n)).astype(float)
    np.fill_diagonal(d, 0)
    return d


def _two_opt_moves(tour: np.ndarray):
    """Every 2-opt move: (removed edges' positions i < j, the new tour)."""
    n = tour.size
    for i, j in itertools.combinations(range(n), 2):
        if j - i >= 2 and not (i == 0 and j == n - 1):
            yield (i, j), np.concatenate([tour[: i + 1], tour[i + 1 : j + 1][::-1], tour[j + 1 :]])


def _exchange_moves(tour: np.ndarray):
    """Every segment exchange a A B c+ -> a B A c+: ((i, j, k), the new tour)."""
    n = tour.size
    for i in range(n):
        for j in range(i + 2, n):
            for k in range(j, n):
                new = np.concatenate(
                    [tour[: i + 1], tour[j : k + 1], tour[i + 1 : j], tour[k + 1 :]]
                )
                yield (i, j, k), new


def test_neighbour_lists_are_the_nearest_in_each_direction():
    d = _asymmetric(9, 0)
    out, into = neighbour_lists(d, 3)
    for a in range(9):
        others = [c for c in range(9) if c != a]
        assert sorted(d[a, out[a]]) == sorted(d[a, others])[:3]
        assert sorted(d[into[a], a]) == sorted(d[others, a])[:3]
    assert neighbour_lists(d, 50)[0].shape == (9, 8)  # capped at n - 1


@pytest.mark.parametrize("symmetric", [True, False])
def test_each_move_changes_the_length_by_its_delta(symmetric):
    """The delta the search applies equals the recomputed length difference, move by move."""
    n = 14
    d = _euclidean(n, 1) if symmetric else _asymmetric(n, 1)
    search = NeighbourSearch(d, symmetric, k=5, k_exchange=4)
    tours = np.array([np.random.default_rng(s).permutation(n) for s in range(6)])
    lengths = np.array([_length(d, t) for t in tours])
    active = np.ones((6, n), dtype=bool)
    pos = np.argsort(tours, axis=1)
    b, a = np.nonzero(active)
    gain, kind, cut = search._moves(tours, pos, b, a)
    for m in np.flatnonzero(gain < 0):
        t, p = tours[b[m] : b[m] + 1].copy(), pos[b[m] : b[m] + 1].copy()
        search._apply(t, p, np.array([0]), kind[m : m + 1], cut[m : m + 1])
        assert sorted(t[0]) == list(range(n))
        assert np.argsort(t[0]).tolist() == p[0].tolist()
        assert _length(d, t[0]) == pytest.approx(lengths[b[m]] + gain[m])
    kinds = set(kind[gain < 0].tolist())
    assert kinds == ({0, 1, 2, 3, 4} if symmetric else {1})  # reversals only if symmetric


def test_symmetric_local_optimum_has_no_improving_listed_move():
    """After optimize: no 2-opt move adding a neighbour-list edge improves, and no segment
    exchange with two of its three new edges in the lists improves (brute force)."""
    n = 24
    d = _euclidean(n, 2)
    search = NeighbourSearch(d, True, k=5, k_exchange=4)
    start = np.array([np.random.default_rng(s).permutation(n) for s in range(3)])
    tours, lengths = search.optimize(start, [_length(d, t) for t in start])
    near2 = {(a, c) for a in range(n) for c in search.out[a, :5]}
    near2 |= {(c, a) for a, c in near2}
    out = {(a, c) for a in range(n) for c in search.out[a, :4]}
    into = {(c, a) for a in range(n) for c in search.into[a, :4]}
    for tour, length in zip(tours, lengths, strict=True):
        assert length == _length(d, tour) and sorted(tour) == list(range(n))
        for (i, j), new in _two_opt_moves(tour):
            added = {(tour[i], tour[j]), (tour[i + 1], tour[(j + 1) % n])}
            if added & near2:
                assert _length(d, new) >= length - 1e-9
        for (i, j, k), new in _exchange_moves(tour):
            a, a1, b, x, y, y1 = (tour[c % n] for c in (i, i + 1, j - 1, j, k, k + 1))
            pairs = [((a, x), (y, a1)), ((b, y1), (a, x)), ((y, a1), (b, y1))]
            if any(p in out and q in into for p, q in pairs):
                assert _length(d, new) >= length - 1e-9


def test_asymmetric_search_keeps_orientation_and_reaches_an_exchange_optimum():
    n = 12
    d = _asymmetric(n, 3)
    search = NeighbourSearch(d, False, k_exchange=n)  # full lists: every exchange
    start = np.array([np.random.default_rng(s).permutation(n) for s in range(3)])
    tours, lengths = search.optimize(start, [_length(d, t) for t in start])
    for tour, length in zip(tours, lengths, strict=True):
        assert length == _length(d, tour) < np.inf
        assert min(_length(d, new) for _, new in _exchange_moves(tour)) >= length


def test_kick_reorders_a_window_of_consecutive_positions_with_its_delta():
    n, w = 30, 5
    d = _asymmetric(n, 4)
    search = NeighbourSearch(d, False, kick_span=w)
    tours = np.array([np.random.default_rng(s).permutation(n) for s in range(40)])
    kicked, delta, ends = search.kick(tours, np.random.default_rng(0))
    assert ends.shape == (40, w + 2)
    moved = 0
    for old, new, dl, e in zip(tours, kicked, delta, ends, strict=True):
        assert sorted(new) == list(range(n))
        assert _length(d, new) == pytest.approx(_length(d, old) + dl)
        start = int(np.flatnonzero(old == e[0])[0]) + 1  # the window follows e[0]
        window = (start + np.arange(w)) % n
        assert sorted(new[window]) == sorted(old[window]) == sorted(e[1:-1])
        assert old[(start + w) % n] == e[-1]
        outside = np.setdiff1d(np.arange(n), window)
        assert np.array_equal(new[outside], old[outside])
        moved += not np.array_equal(new, old)
    assert moved >= 35  # a window of 5 keeps its order with probability 1/120


def test_kick_window_is_capped_for_small_tours():
    d = _asymmetric(9, 1)
    assert NeighbourSearch(d, False).kick_span == 2  # n // 4, at least 2
    assert NeighbourSearch(_asymmetric(400, 1), False, kick_span=60).kick_span == 60


def test_iterated_search_never_lengthens_and_is_reproducible():
    d = _euclidean(40, 5)
    search = NeighbourSearch(d, True)
    start = np.array([np.random.default_rng(s).permutation(40) for s in range(4)])
    tours, lengths = search.optimize(start, [_length(d, t) for t in start])
    runs = [search.iterate(tours, lengths, 30, np.random.default_rng(7)) for _ in range(2)]
    assert np.array_equal(runs[0][0], runs[1][0])
    assert np.all(runs[0][1] <= lengths)
    assert runs[0][1].tolist() == [_length(d, t) for t in runs[0][0]]


def test_brute_force_optimum_of_a_small_instance_is_found():
    """On 8 cities every tour can be listed: the iterated search reaches the optimum."""
    d = _asymmetric(8, 6)
    best = min(_length(d, np.array((0, *p))) for p in itertools.permutations(range(1, 8)))
    search = NeighbourSearch(d, False)
    start = np.array([np.random.default_rng(s).permutation(8) for s in range(4)])
    tours, lengths = search.optimize(start, [_length(d, t) for t in start])
    _, lengths = search.iterate(tours, lengths, 50, np.random.default_rng(0))
    assert lengths.min() == best


def test_memetic_polish_is_a_function_of_its_input():
    tsp = TSP(_euclidean(30, 8), strategy="memetic")
    rest = [np.random.default_rng(s).permutation(np.arange(1, 30)) for s in range(3)]
    tours = np.array([[0, *r] for r in rest])
    first = tsp.polish(tours, tsp.score(tours))
    again = tsp.polish(tours, tsp.score(tours))
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert np.all(first[0][:, 0] == 0) and np.array_equal(first[1], tsp.score(first[0]))
    assert np.all(first[1] < tsp.score(tours))


@pytest.mark.parametrize("symmetric", [True, False])
def test_disjoint_moves_applied_together_add_their_deltas(symmetric):
    n = 60
    d = _euclidean(n, 9) if symmetric else _asymmetric(n, 9)
    search = NeighbourSearch(d, symmetric)
    tours = np.array([np.random.default_rng(s).permutation(n) for s in range(5)])
    lengths = np.array([_length(d, t) for t in tours])
    pos = np.argsort(tours, axis=1)
    b, a = np.nonzero(np.ones_like(tours, dtype=bool))
    gain, kind, cut = search._moves(tours, pos, b, a)
    pick = search._disjoint(b, gain, kind, cut, np.flatnonzero(gain < 0))
    assert np.bincount(b[pick]).max() > 1  # several moves in one tour
    search._apply(tours, pos, b[pick], kind[pick], cut[pick])
    expected = lengths + np.bincount(b[pick], weights=gain[pick], minlength=5)
    assert [_length(d, t) for t in tours] == pytest.approx(expected.tolist())
    assert np.array_equal(np.argsort(tours, axis=1), pos)


@pytest.mark.parametrize("n", [3, 4, 5, 7])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("keep_elite", [0, 2])
def test_memetic_strategy_solves_tiny_instances_exactly(n, symmetric, keep_elite):
    """Down to 3 cities (kicks and spans degenerate): the optimum by enumeration, also
    with kept tours (which the elite may then hold several copies of)."""
    d = _asymmetric(n, n)
    if symmetric:
        d = d + d.T
    best = min(_length(d, np.array((0, *p))) for p in itertools.permutations(range(1, n)))
    tsp = TSP(d, strategy="memetic")
    assert minimize(tsp, rng=0, max_iter=3, keep_elite=keep_elite).fun == best
