"""Minimal cuts and the cut-mixture importance density of network CE."""

import itertools
import warnings

import numpy as np

from cem.families import Bernoulli
from cem.problems.network.cuts import CutMixture, minimal_cuts
from cem.problems.network_model import builtin_network
from cem.problems.network_reliability import NetworkReliability


def test_minimal_cuts_of_the_bridge():
    net = builtin_network("bridge", 0.1)
    cuts = {tuple(sorted(c.tolist())) for c in minimal_cuts(net)}
    # the two terminals' stars and the two cuts through the middle edge
    assert len(cuts) == 4 and [len(c) for c in sorted(cuts, key=len)] == [2, 2, 3, 3]
    for c in cuts:
        working = np.ones(net.m, dtype=bool)
        working[list(c)] = False
        assert not net.connected(working)[0]
        for e in c:  # minimal: restoring any edge reconnects
            working[e] = True
            assert net.connected(working)[0]
            working[e] = False


def test_complete_graph_minimum_cuts_are_the_vertex_stars():
    net = builtin_network("complete", 1e-3, "all", size={"n": 6})
    cuts = minimal_cuts(net)
    assert len(cuts) == 6 and all(len(c) == 5 for c in cuts)


def test_cut_mixture_is_a_normalized_density_and_samples_it():
    net = builtin_network("bridge", 0.1)
    g = CutMixture(Bernoulli(net.q), minimal_cuts(net), Bernoulli(np.full(5, 0.3)), 0.5)
    X = np.array(list(itertools.product([0, 1], repeat=5)), dtype=float)
    p = np.exp(g.log_pdf(X))
    assert abs(p.sum() - 1.0) < 1e-12
    S = g.sample(200_000, np.random.default_rng(0))
    freq = (S @ (2 ** np.arange(4, -1, -1))).astype(int)
    counts = np.bincount(freq, minlength=32) / S.shape[0]
    se = np.sqrt(p * (1 - p) / S.shape[0])
    assert np.all(np.abs(counts - p) <= 4 * se + 1e-12)


def test_k6_all_terminal_several_minimum_cuts_estimated_within_its_error_bar():
    # Six vertex-star minimum cuts of the same size: a product family covers one or two
    # of them; the cut components cover all six.
    prob = NetworkReliability("complete", 1e-3, "all", n=6, method="ce")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = prob.estimate(rng=0, n_final=20_000)
    assert not caught and res.trusted and res.success
    assert abs(res.estimate - prob.exact()) <= 3 * res.std_error
