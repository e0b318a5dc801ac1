"""Max-cut: exact cut values, the tutorial's instances, Gset parsing, polish."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from cem import maximize
from cem.errors import ConfigError, DataFormatError
from cem.problems.maxcut import MaxCut, read_gset, tutorial_matrix


def brute_force_cuts(C: np.ndarray) -> np.ndarray:
    n = C.shape[0]
    X = np.array(list(itertools.product([0, 1], repeat=n)), dtype=float)
    naive = [sum(C[i, j] for i in range(n) for j in range(i + 1, n) if x[i] != x[j]) for x in X]
    return X, np.array(naive)


def test_scores_equal_naive_cut_values_dense_sparse_and_networkx():
    rng = np.random.default_rng(3)
    C = np.triu(rng.integers(0, 5, size=(7, 7)) * (rng.random((7, 7)) < 0.4), 1).astype(float)
    C = C + C.T
    X, naive = brute_force_cuts(C)
    for weights in (C, sp.csr_array(C), nx.from_numpy_array(C)):
        np.testing.assert_array_equal(MaxCut(weights).score(X), naive)


def test_tutorial_five_node_optimum_is_28():
    X, values = brute_force_cuts(tutorial_matrix())
    assert values.max() == 28
    best = X[values == 28]
    # {1,2} | {3,4,5} and its complement
    assert sorted(map(tuple, best)) == [(0, 0, 1, 1, 1), (1, 1, 0, 0, 0)]


@pytest.mark.parametrize("seed", range(10))
def test_tutorial_five_node_found_every_time(seed):
    res = maximize(MaxCut.tutorial(), n_samples=100, rho=0.1, alpha=0.7, seed=seed)
    assert res.fun == 28.0
    np.testing.assert_array_equal(res.x, [0, 0, 1, 1, 1])


def test_synthetic_matrix_structure_and_known_optimum():
    prob = MaxCut.synthetic(n=40, m=20, seed=5)
    W = prob.weights
    assert np.all(W[:20, 20:] == 1) and np.all(np.diag(W) == 0)
    assert np.all((W[:20, :20] >= 0) & (W[:20, :20] < 1))
    x = np.r_[np.zeros(20), np.ones(20)]
    assert prob.score(x[None])[0] == prob.known_optimum == 400.0
    # No single move or random cut beats the planted one.
    rng = np.random.default_rng(0)
    X = (rng.random((2000, 40)) < 0.5).astype(float)
    assert prob.score(X).max() < 400.0


def test_synthetic_small_found_exactly():
    prob = MaxCut.synthetic(n=100, m=50, seed=0)
    hits = [
        maximize(prob, n_samples=1000, rho=0.1, alpha=0.7, seed=s).fun == prob.known_optimum
        for s in range(3)
    ]
    assert all(hits)


@pytest.mark.slow  # statistical, over 5 s
def test_synthetic_400_found_in_nine_of_ten_seeds():
    prob = MaxCut.synthetic(n=400, m=200, seed=0)
    hits = sum(
        maximize(prob, n_samples=1000, rho=0.1, alpha=0.7, seed=s).fun == 40000.0 for s in range(10)
    )
    assert hits >= 9


def test_polish_reaches_a_one_flip_local_optimum():
    prob = MaxCut.synthetic(n=30, m=15, seed=1)
    X = prob.initial_family().sample(50, np.random.default_rng(0))
    Y, s = prob.polish(X, prob.score(X))
    np.testing.assert_allclose(s, prob.score(Y))
    assert np.all(s >= prob.score(X))
    assert np.all(Y[:, 0] == 0)
    S = 2 * Y - 1
    gains = S * (S @ prob.weights)
    assert np.all(gains[:, 1:] <= 1e-9)


def test_polish_sparse_equals_dense():
    g = MaxCut.from_config("G14")
    assert sp.issparse(g.weights)
    X = g.initial_family().sample(20, np.random.default_rng(1))
    Y, s = g.polish(X, g.score(X))
    np.testing.assert_array_equal(s, g.score(Y))
    dense = MaxCut(g.weights.toarray())
    dense.weights = g.weights.toarray()
    Y2, s2 = dense.polish(X, dense.score(X))
    np.testing.assert_array_equal(Y, Y2)
    np.testing.assert_array_equal(s, s2)


def test_bundled_gset_header_and_best_known(shared_data):
    g = MaxCut.from_config("G1")
    assert g.n == 800 and g.known_optimum == 11624
    W = read_gset(shared_data / "gset" / "G1.txt")
    assert W.nnz == 2 * 19176
    assert (abs(W - g.weights) > 0).sum() == 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("3 2\n1 2 1\n2 x 1\n", r"bad\.txt, line 3: expected an edge 'i j w'"),
        ("3 2\n1 2 1\n", r"announces 2 edges, the file has 1"),
        ("3 x\n", r"line 1: expected header 'n m'"),
        ("3 1\n1 4 1\n", r"line 2: vertices must be distinct and in 1..3"),
        ("3 1\n2 2 1\n", r"line 2: vertices must be distinct"),
        ("3 1\n1 2 1 7\n", r"line 2: expected an edge"),
    ],
)
def test_malformed_gset_names_the_line(tmp_path, text, match):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DataFormatError, match=match):
        read_gset(path)


def test_bad_weights_and_instances():
    with pytest.raises(ConfigError, match="symmetric"):
        MaxCut(np.array([[0, 1], [2, 0]]))
    with pytest.raises(ConfigError, match="zero diagonal"):
        MaxCut(np.eye(3))
    with pytest.raises(ConfigError, match="undirected"):
        MaxCut(nx.DiGraph([(0, 1)]))
    with pytest.raises(ConfigError, match="bundled: G1, G14"):
        MaxCut.from_config("G99")
    with pytest.raises(ConfigError, match="instance must be"):
        MaxCut.from_config("petersen")
    with pytest.raises(ConfigError, match=r"shape \(N, 5\)"):
        MaxCut.tutorial().score(np.zeros((2, 4)))
