"""Network reliability: connectivity, exact polynomial, estimators against exact values."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from cem.errors import ConfigError
from cem.problems.network.exact import (
    Polynomial,
    enumerate_unreliability,
    exact_unreliability,
    unreliability_polynomial,
)
from cem.problems.network.model import Network, builtin_network, dodecahedron_terminals
from cem.problems.network.pmc import hypoexponential_tail
from cem.problems.network.reliability import NetworkReliability


def _random_cases(count: int) -> list[Network]:
    """Random connected-ish small graphs, |E| <= 16, s-t, K-terminal and all-terminal."""
    rng = np.random.default_rng(20240611)
    out = []
    for k in range(count):
        n = int(rng.integers(4, 9))
        m = int(rng.integers(n, min(16, n * (n - 1) // 2) + 1))
        g = nx.gnm_random_graph(n, m, seed=int(rng.integers(2**31)))
        kind = k % 3
        if kind == 0:
            terminals: list[int] | str = [0, n - 1]
        elif kind == 1:
            terminals = sorted(rng.choice(n, size=3, replace=False).tolist())
        else:
            terminals = "all"
        out.append(Network(g, rng.uniform(0.05, 0.6, m), terminals))
    return out


CASES = _random_cases(24)


def test_connectivity_matches_networkx():
    rng = np.random.default_rng(0)
    nets = [*CASES[:6], builtin_network("dodecahedron", 0.3, directed=True),
            builtin_network("grid", 0.3, "all", size={"rows": 3, "cols": 4})]  # fmt: skip
    for net in nets:
        W = rng.random((300, net.m)) > 0.35
        np.testing.assert_array_equal(net.connected(W), net.connected_networkx(W))


@pytest.mark.parametrize("k", range(len(CASES)))
def test_frontier_dp_equals_enumeration(k):
    net = CASES[k]
    poly_dp = unreliability_polynomial(net)
    poly_enum = enumerate_unreliability(net.with_q(0.3))
    assert poly_dp == poly_enum  # integer counts, exactly
    assert abs(exact_unreliability(net) - enumerate_unreliability(net)) <= 1e-12


def test_bridge_closed_form():
    q = 0.13
    p = 1 - q
    reliability = 2 * p**2 + 2 * p**3 - 5 * p**4 + 2 * p**5
    net = builtin_network("bridge", q)
    assert exact_unreliability(net) == pytest.approx(1 - reliability, rel=1e-12)
    poly = unreliability_polynomial(net)
    assert poly.counts == (0, 0, 2, 8, 5, 1)
    # the monomial form of Q = 1 - R(1 - q)
    coeffs = poly.monomial()
    assert sum(c * q**i for i, c in enumerate(coeffs)) == pytest.approx(1 - reliability)


def test_dodecahedron_polynomial_and_asymptote():
    s, t = dodecahedron_terminals()
    g = nx.dodecahedral_graph()
    assert nx.shortest_path_length(g, s, t) == 5
    poly = unreliability_polynomial(builtin_network("dodecahedron", 1e-4))
    assert poly.min_cut == 3 and poly.counts[3] == 2  # the two vertex cuts at s and t
    for q in (1e-3, 1e-4):
        assert poly(q) / (2 * q**3) == pytest.approx(1.0, abs=40 * q)
    assert all(f <= math.comb(30, i) for i, f in enumerate(poly.counts))


def test_polynomial_evaluates_arrays():
    poly = Polynomial((0, 0, 2, 8, 5, 1))
    qs = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(poly(qs), [0.0, 0.5, 1.0])


def test_hypoexponential_tail_closed_forms():
    lam = np.array([[5.0, 3.0, 1.5, 0.0]])
    b = np.array([3])
    exact = sum(
        math.exp(-lam[0, i]) * math.prod(lam[0, j] / (lam[0, j] - lam[0, i])
                                         for j in range(3) if j != i)
        for i in range(3)
    )  # fmt: skip
    assert hypoexponential_tail(lam, b)[0] == pytest.approx(exact, rel=1e-10)
    # equal rates: Erlang(3, 40) tail at 1, about 1.9e-15, keeps its relative accuracy
    erl = np.array([[40.0, 40.0, 40.0]])
    want = math.exp(-40) * (1 + 40 + 40**2 / 2)
    assert hypoexponential_tail(erl, np.array([3]))[0] == pytest.approx(want, rel=1e-9)
    assert hypoexponential_tail(erl, np.array([-1]))[0] == 1.0


@pytest.mark.parametrize("method", ["turnip", "pmc", "ce"])
def test_estimators_within_three_standard_errors(method):
    prob = NetworkReliability("dodecahedron", q=1e-3)
    res = prob.estimate(method=method, n_final=4000, rng=7)
    assert res.std_error > 0 and res.success == res.trusted
    assert abs(res.estimate - prob.exact()) < 3 * res.std_error


def test_crude_sees_no_failure_where_turnip_is_accurate():
    prob = NetworkReliability("dodecahedron", q=1e-4)
    turnip = prob.estimate(method="turnip", n_final=5000, rng=0)
    crude = prob.estimate(method="crude", n_final=5000, rng=0)
    assert turnip.rel_error < 0.1
    assert crude.no_hit and crude.estimate == 0.0


def test_crude_within_three_standard_errors():
    prob = NetworkReliability("grid", q=0.1, terminals="all", rows=3, cols=3)
    res = prob.estimate(method="crude", n_final=20_000, rng=1)
    assert abs(res.estimate - prob.exact()) < 3 * res.std_error


def test_turnip_is_seeded():
    prob = NetworkReliability("bridge", q=0.01)
    a = prob.estimate(n_final=500, rng=3)
    b = prob.estimate(n_final=500, seed=3)
    assert a.estimate == b.estimate


def test_errors():
    with pytest.raises(ConfigError, match="method"):
        NetworkReliability("bridge", q=0.1, method="splitting")
    with pytest.raises(ConfigError, match="unknown network"):
        NetworkReliability("petersen", q=0.1)
    with pytest.raises(ConfigError, match="terminal"):
        NetworkReliability("bridge", q=0.1, terminals=[0])
    with pytest.raises(ConfigError, match=r"q must lie in \[0, 1\]"):
        NetworkReliability("bridge", q=1.5)
    with pytest.raises(ConfigError, match="undirected"):
        NetworkReliability("bridge", q=0.1, directed=True).estimate(n_final=10)


def test_edge_list_file(tmp_path):
    path = tmp_path / "bridge.txt"
    path.write_text("# s=0, t=3\n0 1 0.1\n0 2 0.1\n1 2 0.1\n1 3 0.1\n2 3 0.1\n")
    prob = NetworkReliability("file", path=str(path), terminals=[0, 3])
    assert prob.exact() == pytest.approx(NetworkReliability("bridge", q=0.1).exact(), rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("q", [1e-1, 1e-2, 1e-3, 1e-4])
@pytest.mark.parametrize("method", ["turnip", "pmc", "ce"])
def test_dodecahedron_acceptance(q, method):
    """Every estimator within 3 SE of the exact value, q from 1e-1 to 1e-4."""
    prob = NetworkReliability("dodecahedron", q=q)
    res = prob.estimate(method=method, n_final=20_000, rng=11)
    assert abs(res.estimate - prob.exact()) < 3 * res.std_error


@pytest.mark.parametrize("method", ["turnip", "ce"])
def test_heterogeneous_k_terminal(method):
    """Per-edge q on a 4x4 grid, three terminals: estimate against the frontier DP."""
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4), ordering="sorted")
    q = np.random.default_rng(5).uniform(1e-3, 1e-2, g.number_of_edges())
    prob = NetworkReliability(Network(g, q, [0, 6, 15]))
    res = prob.estimate(method=method, n_final=4000, rng=2)
    assert abs(res.estimate - prob.exact()) < 3 * res.std_error
