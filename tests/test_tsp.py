"""TSP: TSPLIB reading, the transition-matrix family, tour lengths and local search."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cem import minimize
from cem.errors import ConfigError, DataFormatError
from cem.families import TransitionMatrix
from problems.tsp import TSP, or_opt, two_opt
from problems.tsplib import distance_matrix, load_optima, read_tsplib, tour_length

# ---------------------------------------------------------------- TSPLIB files


@pytest.mark.parametrize("name", ["berlin52", "eil51", "st70", "kroA100"])
def test_published_optimal_tours_have_their_length(shared_data, name):
    folder = shared_data / "tsplib"
    inst = read_tsplib(folder / f"{name}.tsp")
    tour = read_tsplib(folder / f"{name}.opt.tour").tour
    assert tour_length(inst.distances, tour) == load_optima(folder / "OPTIMA.csv")[name]


@pytest.mark.parametrize(
    ("name", "n"), [("br17", 17), ("ftv33", 34), ("ftv35", 36), ("ry48p", 48), ("ft53", 53)]
)
def test_atsp_files_parse_with_dimension_and_zero_diagonal(shared_data, name, n):
    d = read_tsplib(shared_data / "tsplib" / f"{name}.atsp").distances
    assert d.shape == (n, n) and np.all(np.diag(d) == 0) and not np.array_equal(d, d.T)


def held_karp(d: np.ndarray) -> int:
    """Exact ATSP optimum by dynamic programming over subsets (vectorized over subsets)."""
    n = d.shape[0]
    m = n - 1  # city 0 is the start
    full = 1 << m
    cost = np.full((full, m), np.inf)
    cost[1 << np.arange(m), np.arange(m)] = d[0, 1:]
    masks = np.arange(full)
    popcount = np.array([bin(s).count("1") for s in range(full)])
    for size in range(2, m + 1):
        subset = masks[popcount == size]
        for j in range(m):
            has_j = subset[(subset >> j) & 1 == 1]
            prev = has_j & ~(1 << j)
            # cost[prev, k] + d[k+1, j+1] over k in prev
            cand = cost[prev] + d[1:, j + 1][None, :]
            cost[has_j, j] = cand.min(axis=1)
    return int(np.min(cost[full - 1] + d[1:, 0]))


def test_br17_optimum_is_39_by_held_karp(shared_data):
    d = read_tsplib(shared_data / "tsplib" / "br17.atsp").distances
    assert held_karp(d) == 39 == load_optima(shared_data / "tsplib" / "OPTIMA.csv")["br17"]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_weight_types_by_hand(tmp_path):
    coords = "NODE_COORD_SECTION\n1 0 0\n2 3 4.4\n3 0 10\nEOF\n"
    head = "NAME:  small\nTYPE : TSP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : {}\n"
    euc = read_tsplib(_write(tmp_path, "e.tsp", head.format("EUC_2D") + coords)).distances
    # |12| = sqrt(9 + 19.36) = 5.325 -> 5; |13| = 10; |23| = sqrt(9 + 31.36) = 6.353 -> 6
    assert euc.tolist() == [[0, 5, 10], [5, 0, 6], [10, 6, 0]]
    ceil = read_tsplib(_write(tmp_path, "c.tsp", head.format("CEIL_2D") + coords)).distances
    assert ceil.tolist() == [[0, 6, 10], [6, 0, 7], [10, 7, 0]]
    att = read_tsplib(_write(tmp_path, "a.tsp", head.format("ATT") + coords)).distances
    # r12 = sqrt(28.36/10) = 1.684, nint 2 >= r -> 2; r13 = sqrt(10) = 3.162, nint 3 < r -> 4;
    # r23 = sqrt(40.36/10) = 2.009, nint 2 < r -> 3
    assert att.tolist() == [[0, 2, 4], [2, 0, 3], [4, 3, 0]]


def test_geo_by_hand(tmp_path):
    # Two points on the equator, 1 degree and 30 minutes (x = 1.30 -> 1.5 degrees) apart:
    # lat = 0, lon = PI*1.5/180 with PI = 3.141592; d = int(6378.388 * lon + 1).
    text = "NAME: g\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: GEO\nNODE_COORD_SECTION\n"
    text += "1 0.0 0.0\n2 0.0 1.30\n3 0.0 -1.30\nEOF\n"
    d = read_tsplib(_write(tmp_path, "g.tsp", text)).distances
    lon = 3.141592 * 1.5 / 180
    assert d[0, 1] == int(6378.388 * lon + 1.0) == 167
    assert d[1, 2] == int(6378.388 * 2 * lon + 1.0) == 334


@pytest.mark.parametrize(
    ("fmt", "tokens"),
    [
        ("FULL_MATRIX", "0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0"),
        ("UPPER_ROW", "1 2 3\n4 5\n6"),
        ("LOWER_ROW", "1\n2 4\n3 5 6"),
        ("UPPER_DIAG_ROW", "0 1 2 3 0 4 5 0 6 0"),
        ("LOWER_DIAG_ROW", "0 1 0 2 4 0 3 5 6 0"),
    ],
)
def test_explicit_formats(tmp_path, fmt, tokens):
    text = (f"NAME: x\nTYPE: TSP\nDIMENSION: 4\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
            f"EDGE_WEIGHT_FORMAT: {fmt}\nEDGE_WEIGHT_SECTION\n{tokens}\nEOF\n")  # fmt: skip
    d = read_tsplib(_write(tmp_path, "x.tsp", text)).distances
    assert d.tolist() == [[0, 1, 2, 3], [1, 0, 4, 5], [2, 4, 0, 6], [3, 5, 6, 0]]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("NAME: b\nTYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
         "1 0 0\n2 abc 1\nEOF\n", r"bad\.tsp, line 7: expected 3 numbers 'id x y'"),
        ("NAME: b\nTYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n",
         r"DIMENSION must come before"),
        ("NAME: b\nTYPE: ATSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
         "EDGE_WEIGHT_FORMAT: FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\n3 0 4\n",
         r"needs 9 weights, found 6"),
        ("NAME: b\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: MAN_2D\n",
         r"unsupported EDGE_WEIGHT_TYPE 'MAN_2D'; supported: EUC_2D"),
        ("NAME: b\nTYPE: TOUR\nDIMENSION: 3\nTOUR_SECTION\n1\n2\n2\n-1\n",
         r"line 4: expected a permutation of 1\.\.3"),
        ("NAME: b\nthis is not a header\n", r"line 2: expected a header line"),
    ],
)  # fmt: skip
def test_malformed_files_name_the_file_and_line(tmp_path, text, match):
    with pytest.raises(DataFormatError, match=match):
        read_tsplib(_write(tmp_path, "bad.tsp", text))


def test_distance_matrix_rejects_unknown_type():
    with pytest.raises(ConfigError, match="supported"):
        distance_matrix(np.zeros((2, 2)), "XRAY")


@given(st.integers(3, 12), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_tour_length_equals_naive_sum(n, seed):
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 100, (n, n))
    tours = np.array([rng.permutation(n) for _ in range(5)])
    naive = [sum(d[t[k], t[(k + 1) % n]] for k in range(n)) for t in tours]
    assert tour_length(d, tours).tolist() == naive


# ---------------------------------------------------------------- the family


@given(st.integers(2, 15), st.integers(1, 50), st.integers(0, 2**32 - 1), st.booleans())
@settings(max_examples=60, deadline=None)
def test_sampler_yields_permutations_from_node_0(n, count, seed, sparse):
    rng = np.random.default_rng(seed)
    P = rng.random((n, n)) * (rng.random((n, n)) < (0.3 if sparse else 1.0))
    np.fill_diagonal(P, 0)
    empty = np.flatnonzero(P.sum(axis=1) == 0)
    P[empty, (empty + 1) % n] = 1.0  # sparse rows exercise the zero-mass fallback
    fam = TransitionMatrix(P / P.sum(axis=1, keepdims=True))
    tours = fam.sample(count, rng)
    assert np.array_equal(np.sort(tours, axis=1), np.tile(np.arange(n), (count, 1)))
    assert np.all(tours[:, 0] == 0)


def test_degenerate_matrix_returns_its_tour():
    tour = np.array([0, 3, 1, 4, 2])
    P = np.zeros((5, 5))
    P[tour, np.roll(tour, -1)] = 1.0
    fam = TransitionMatrix(P)
    assert fam.is_degenerate()
    assert np.all(fam.sample(20, np.random.default_rng(0)) == tour)
    np.testing.assert_array_equal(fam.mode(), tour)


def test_empirical_transitions_match_exact_probabilities():
    rng = np.random.default_rng(np.random.SeedSequence(12345))
    n = 5
    P = rng.random((n, n))
    np.fill_diagonal(P, 0)
    P /= P.sum(axis=1, keepdims=True)
    N = 100_000
    tours = TransitionMatrix(P).sample(N, rng)
    first = np.bincount(tours[:, 1], minlength=n) / N
    se = np.sqrt(P[0] * (1 - P[0]) / N)
    assert np.all(np.abs(first - P[0]) <= 4 * se + 1e-12)
    # Second step, by hand: P(t1 = 1, t2 = 2) = P[0,1] * P[1,2] / (1 - P[1,0]).
    exact = P[0, 1] * P[1, 2] / (1 - P[1, 0])
    freq = np.mean((tours[:, 1] == 1) & (tours[:, 2] == 2))
    assert abs(freq - exact) <= 4 * np.sqrt(exact * (1 - exact) / N)


def test_log_pdf_equals_naive_product():
    rng = np.random.default_rng(3)
    n = 6
    P = rng.random((n, n))
    np.fill_diagonal(P, 0)
    fam = TransitionMatrix(P / P.sum(axis=1, keepdims=True))
    tours = fam.sample(20, rng)
    naive = []
    for t in tours:
        logp, unvisited = 0.0, set(range(1, n))
        for a, b in itertools.pairwise(t):
            logp += np.log(fam.P[a, b] / sum(fam.P[a, k] for k in unvisited))
            unvisited.discard(b)
        naive.append(logp)
    np.testing.assert_allclose(fam.log_pdf(tours), naive)
    # All tours together have probability one.
    perms = np.array([(0, *p) for p in itertools.permutations(range(1, n))])
    assert np.exp(fam.log_pdf(perms)).sum() == pytest.approx(1.0)


@given(st.integers(3, 9), st.integers(1, 20), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_fit_equals_weighted_transition_counts(n, count, seed):
    rng = np.random.default_rng(seed)
    tours = np.array([rng.permutation(n) for _ in range(count)])
    w = rng.random(count) + 0.1
    expected = np.zeros((n, n))
    for t, wk in zip(tours, w, strict=True):
        for k in range(n):
            expected[t[k], t[(k + 1) % n]] += wk
    np.testing.assert_allclose(TransitionMatrix.uniform(n).fit(tours, w).P, expected / w.sum())


def test_family_bad_input():
    with pytest.raises(ConfigError, match="zero diagonal"):
        TransitionMatrix(np.full((3, 3), 1 / 3))
    with pytest.raises(ConfigError, match="row 0"):
        TransitionMatrix(np.array([[0, 0.2, 0.2], [0.5, 0, 0.5], [0.5, 0.5, 0]]))
    with pytest.raises(ConfigError, match="square"):
        TransitionMatrix(np.zeros((2, 3)))


# ---------------------------------------------------------------- problem and search


@pytest.mark.parametrize("seed", range(10))
def test_br17_optimum_found_by_ce_alone(seed):
    tsp = TSP.from_config("br17")
    assert tsp.known_optimum == 39
    assert minimize(tsp, seed=seed, **tsp.default_options()).fun == 39.0


def test_two_opt_reaches_a_local_optimum():
    rng = np.random.default_rng(0)
    xy = rng.random((30, 2)) * 100
    d = distance_matrix(xy, "EUC_2D").astype(float)
    tours = np.array([rng.permutation(30) for _ in range(8)])
    new, lengths = two_opt(d, tours, tour_length(d, tours))
    np.testing.assert_allclose(lengths, tour_length(d, new))
    assert np.all(np.sort(new, axis=1) == np.arange(30))
    for t, length in zip(new, lengths, strict=True):  # no improving 2-opt move remains
        for i in range(30):
            for j in range(i + 2, 30):
                if i == 0 and j == 29:
                    continue
                cand = np.r_[t[: i + 1], t[i + 1 : j + 1][::-1], t[j + 1 :]]
                assert tour_length(d, cand) >= length - 1e-9


def test_or_opt_reaches_a_local_optimum_on_an_atsp():
    rng = np.random.default_rng(1)
    n = 12
    d = rng.integers(1, 100, (n, n)).astype(float)
    tours = np.array([rng.permutation(n) for _ in range(6)])
    new, lengths = or_opt(d, tours, tour_length(d, tours))
    np.testing.assert_allclose(lengths, tour_length(d, new))
    for t, length in zip(new, lengths, strict=True):
        for L in (1, 2, 3):
            for i in range(n - L + 1):
                seg, rest = t[i : i + L], np.r_[t[:i], t[i + L :]]
                for j in range(len(rest) + 1):
                    cand = np.r_[rest[:j], seg, rest[j:]]
                    assert tour_length(d, cand) >= length - 1e-9


def test_tsp_from_graph_and_bad_input():
    g = nx.complete_graph(4)
    for u, v in g.edges:
        g[u][v]["weight"] = u + v
    tsp = TSP(g)
    assert tsp.symmetric and tsp.n == 4
    g.remove_edge(0, 1)
    with pytest.raises(ConfigError, match=r"complete.*lacks 1 edges"):
        TSP(g)
    with pytest.raises(ConfigError, match="square"):
        TSP(np.zeros((3, 4)))
    with pytest.raises(ConfigError, match="nonnegative"):
        TSP(np.array([[0, -1, 1], [1, 0, 1], [1, 1, 0]]))
    with pytest.raises(ConfigError, match="finite"):
        TSP(np.array([[0, np.nan, 1], [1, 0, 1], [1, 1, 0]]))
    with pytest.raises(ConfigError, match="bundled: berlin52, br17, eil51, ftv33"):
        TSP.from_config("nowhere")


def test_polish_keeps_permutations_and_improves():
    tsp = TSP.from_config("ftv33")
    X = tsp.initial_family().sample(10, np.random.default_rng(0))
    Y, s = tsp.polish(X, tsp.score(X))
    np.testing.assert_allclose(s, tsp.score(Y))
    assert np.all(s <= tsp.score(X)) and np.all(np.sort(Y, axis=1) == np.arange(34))
