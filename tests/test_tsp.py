"""TSP: TSPLIB reading, the transition-matrix family, tour lengths and local search."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cem import minimize
from cem.errors import ConfigError, DataFormatError
from cem.families import NodePlacement, TransitionMatrix
from cem.problems.tsp import TSP, or_opt, two_opt
from cem.problems.tsp.tsplib import (
    bundled_instance_path,
    distance_matrix,
    load_optima,
    read_tsplib,
    tour_length,
)

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


# ---------------------------------------------------------------- problem and search
@pytest.mark.slow  # statistical: ten runs
def test_br17_optimum_found_by_ce_alone_in_9_of_10_seeds():
    # Literature settings (N = 5 n^2, rho = 0.01), not tuned on these seeds.
    tsp = TSP.from_config("br17")
    assert tsp.known_optimum == 39
    opts = tsp.default_options()
    assert opts["n_samples"] == 5 * 17**2 and opts["rho"] == 0.01
    found = [minimize(tsp, seed=seed, **opts).fun for seed in range(10)]
    assert sum(f == 39.0 for f in found) >= 9, found


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


def test_tsp_from_graph():
    g = nx.complete_graph(4)
    for u, v in g.edges:
        g[u][v]["weight"] = u + v
        g.nodes[u]["pos"] = (u, 0.0)
        g.nodes[v]["pos"] = (v, 0.0)
    tsp = TSP(g)
    assert tsp.symmetric and tsp.n == 4 and tsp.distances[1, 3] == 4
    np.testing.assert_array_equal(tsp.coords, [[0, 0], [1, 0], [2, 0], [3, 0]])
    dg = nx.complete_graph(4, create_using=nx.DiGraph)
    for u, v in dg.edges:
        dg[u][v]["weight"] = 10 * u + v
    atsp = TSP(dg)
    assert not atsp.symmetric and atsp.distances[2, 1] == 21 and atsp.distances[1, 2] == 12


def test_graph_errors_say_whether_a_tour_exists():
    g = nx.complete_graph(5)
    g.remove_edge(0, 1)
    with pytest.raises(ConfigError, match=r"distances: the graph must be complete.*lacks 1 edges"):
        TSP(g)
    path = nx.path_graph(5)  # the end nodes have a single neighbour: no Hamiltonian cycle
    with pytest.raises(ConfigError, match=r"no tour through every city \(node 0 lacks two"):
        TSP(path)
    two = nx.disjoint_union(nx.complete_graph(3), nx.complete_graph(3))
    with pytest.raises(ConfigError, match=r"no tour through every city.*not .*connected"):
        TSP(two)
    dg = nx.complete_graph(4, create_using=nx.DiGraph)
    dg.remove_edges_from([(0, k) for k in range(1, 4)])  # no way out of node 0
    with pytest.raises(ConfigError, match="node 0 lacks an edge in and an edge out"):
        TSP(dg)
    with pytest.raises(ConfigError, match="at least 3 cities"):
        TSP(nx.complete_graph(2))


def test_distance_matrix_bad_input_names_the_argument():
    with pytest.raises(ConfigError, match="distances must be a square matrix"):
        TSP(np.zeros((3, 4)))
    with pytest.raises(ConfigError, match=r"distances must be nonnegative; d\[0, 1\] = -1"):
        TSP(np.array([[0, -1, 1], [1, 0, 1], [1, 1, 0]]))
    with pytest.raises(ConfigError, match=r"distances must not hold NaN; d\[0, 1\]"):
        TSP(np.array([[0, np.nan, 1], [1, 0, 1], [1, 1, 0]]))
    with pytest.raises(ConfigError, match=r"distances must be finite; d\[2, 0\] = inf"):
        TSP(np.array([[0, 1, 1], [1, 0, 1], [np.inf, 1, 0]]))
    with pytest.raises(ConfigError, match="numeric matrix"):
        TSP([["a", "b", "c"]] * 3)
    with pytest.raises(ConfigError, match=r"coords must have shape \(3, 2\)"):
        TSP(np.ones((3, 3)), coords=np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="bundled: berlin52, br17, eil51, ftv33"):
        TSP.from_config("nowhere")
    with pytest.raises(ConfigError, match="family must be"):
        TSP.from_config("br17", family="ants")
    with pytest.raises(ConfigError, match=r"tours must have shape \(N, 17\)"):
        TSP.from_config("br17").score(np.zeros((2, 5), dtype=int))


def test_diagonal_is_ignored_and_score_is_tour_length():
    d = np.array([[9, 1, 5], [2, 9, 1], [1, 9, 9]])
    tsp = TSP(d)
    assert np.all(np.diag(tsp.distances) == 0) and tsp.known_optimum is None
    assert tsp.score(np.array([[0, 1, 2], [0, 2, 1], [1, 2, 0]])).tolist() == [3.0, 16.0, 3.0]


def test_default_options_follow_the_literature_and_cap_n_samples():
    assert TSP.from_config("berlin52").default_options() == {
        "n_samples": 5 * 52**2, "rho": 0.01, "alpha": 0.3, "stall_iters": 10,
    }  # fmt: skip
    big = TSP(np.ones((400, 400)))
    assert big.default_options()["n_samples"] == 5_000_000 // 400 < 5 * 400**2


def test_node_placement_family_solves_br17_with_polish():
    tsp = TSP.from_config("br17", family="placement")
    fam = tsp.initial_family()
    assert isinstance(fam, NodePlacement) and np.all(fam.P[0] == np.eye(17)[0])
    assert minimize(tsp, seed=0, polish="elite", **tsp.default_options()).fun == 39.0


def test_configs_build_the_problem():
    from cem.config import load_config

    configs = Path(__file__).resolve().parents[1] / "configs"
    br17 = load_config(configs / "tsp_br17.toml")
    assert br17.problem.n == 17 and br17.options["n_samples"] == 5 * 17**2
    berlin = load_config(configs / "tsp_berlin52.toml")
    assert berlin.problem.known_optimum == 7542 and berlin.options["polish"] == "elite"


@pytest.mark.slow  # figures; the default tier draws one of each kind elsewhere
def test_plots_draw(tmp_path):
    from cem.problems.tsp.plots import city_layout, plot_tour, plot_transition_matrices

    berlin = TSP.from_config("berlin52")
    tour = read_tsplib(bundled_instance_path("berlin52").with_suffix(".opt.tour")).tour
    fig = plot_tour(berlin, tour)
    assert "gap 0.00%" in fig.axes[0].get_title()
    fig.savefig(tmp_path / "tour.png")
    ftv = TSP.from_config("ftv33")  # no coordinates: MDS layout, arrows
    xy, real = city_layout(ftv)
    assert xy.shape == (34, 2) and not real
    plot_tour(ftv, np.arange(34)).savefig(tmp_path / "atsp.png")
    fam = TransitionMatrix.uniform(34)
    mats = [fam.P, fam.fit(np.arange(34)[None]).P]
    plot_transition_matrices(mats, [0, 9], order=np.arange(34)).savefig(tmp_path / "P.png")
    with pytest.raises(ConfigError, match="permutation"):
        plot_tour(ftv, np.zeros(34, dtype=int))


def test_polish_keeps_permutations_and_improves():
    tsp = TSP.from_config("ftv33")
    X = tsp.initial_family().sample(10, np.random.default_rng(0))
    Y, s = tsp.polish(X, tsp.score(X))
    np.testing.assert_allclose(s, tsp.score(Y))
    assert np.all(s <= tsp.score(X)) and np.all(np.sort(Y, axis=1) == np.arange(34))
    assert np.all(Y[:, 0] == 0)  # rotated to start at city 0, like sampled tours


def test_symmetric_polish_is_a_two_opt_and_or_opt_local_optimum():
    tsp = TSP.from_config("eil51")
    X = tsp.initial_family().sample(4, np.random.default_rng(5))
    Y, s = tsp.polish(X, tsp.score(X))
    np.testing.assert_allclose(s, tsp.score(Y))
    _, s2 = two_opt(tsp.distances, Y, s)
    _, s3 = or_opt(tsp.distances, Y, s)
    np.testing.assert_array_equal(s2, s)
    np.testing.assert_array_equal(s3, s)


def test_polish_in_blocks_equals_one_block(monkeypatch):
    import cem.problems.tsp.problem as tsp_module

    tsp = TSP.from_config("eil51")
    X = tsp.initial_family().sample(7, np.random.default_rng(2))
    whole = tsp.polish(X, tsp.score(X))
    monkeypatch.setattr(tsp_module, "_POLISH_ENTRIES", 2 * 51**2)  # blocks of 2 tours
    blocks = tsp.polish(X, tsp.score(X))
    np.testing.assert_array_equal(whole[0], blocks[0])
    np.testing.assert_array_equal(whole[1], blocks[1])
