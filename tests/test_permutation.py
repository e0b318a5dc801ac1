"""Tour families: the masked sequential samplers, their CE update, log_pdf and checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cem.errors import ConfigError
from cem.families import NodePlacement, TransitionMatrix


def random_stochastic(rng: np.random.Generator, n: int, sparse: bool, diagonal: bool):
    """A random row-stochastic matrix; sparse ones have many zeros (zero-mass fallbacks)."""
    P = rng.random((n, n)) * (rng.random((n, n)) < (0.3 if sparse else 1.0))
    if not diagonal:
        np.fill_diagonal(P, 0)
    empty = np.flatnonzero(P.sum(axis=1) == 0)
    P[empty, (empty + 1) % n] = 1.0
    return P / P.sum(axis=1, keepdims=True)


def is_permutation_batch(tours: np.ndarray, n: int) -> bool:
    return bool(np.array_equal(np.sort(tours, axis=1), np.tile(np.arange(n), (len(tours), 1))))


def naive_log_pdf(P: np.ndarray, tour: np.ndarray, by_position: bool) -> float:
    """Per-tour product of masked, renormalized probabilities (plain Python)."""
    n = len(tour)
    unused = set(range(n))
    logp = 0.0
    steps = range(n) if by_position else range(1, n)
    if not by_position:
        unused.discard(int(tour[0]))
    for k in steps:
        row = P[k] if by_position else P[tour[k - 1]]
        mass = sum(row[j] for j in unused)
        logp += np.log(row[tour[k]] / mass) if mass > 0 else -np.log(len(unused))
        unused.discard(int(tour[k]))
    return logp


# ------------------------------------------------------------------ TransitionMatrix


@given(st.integers(2, 15), st.integers(1, 50), st.integers(0, 2**32 - 1), st.booleans())
@settings(max_examples=60, deadline=None)
def test_sampler_yields_permutations_from_node_0(n, count, seed, sparse):
    rng = np.random.default_rng(seed)
    fam = TransitionMatrix(random_stochastic(rng, n, sparse, diagonal=False))
    tours = fam.sample(count, rng)
    assert tours.shape == (count, n) and tours.dtype == np.int64
    assert is_permutation_batch(tours, n)
    assert np.all(tours[:, 0] == 0)


def test_sampler_spans_blocks_and_handles_zero_tours():
    fam = TransitionMatrix.uniform(6)
    rng = np.random.default_rng(0)
    assert fam.sample(0, rng).shape == (0, 6)
    tours = fam.sample(5000, rng)  # more than one block of 2048 tours
    assert is_permutation_batch(tours, 6)
    assert len({tuple(t) for t in tours}) == 120  # all 5! tours from city 0 appear


def test_degenerate_matrix_returns_its_tour():
    tour = np.array([0, 3, 1, 4, 2])
    P = np.zeros((5, 5))
    P[tour, np.roll(tour, -1)] = 1.0
    fam = TransitionMatrix(P)
    assert fam.is_degenerate() and fam.entropy() == 0.0
    assert np.all(fam.sample(20, np.random.default_rng(0)) == tour)
    np.testing.assert_array_equal(fam.mode(), tour)
    assert fam.log_pdf(tour[None])[0] == 0.0


def test_zero_unvisited_mass_falls_back_to_uniform():
    # Row 1 only leads back to city 0, already visited: the next city is uniform on {2, 3}.
    P = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0.5, 0, 0, 0.5], [0.5, 0, 0.5, 0]])
    fam = TransitionMatrix(P)
    tours = fam.sample(4000, np.random.default_rng(1))
    assert np.all(tours[:, 1] == 1)
    share = np.mean(tours[:, 2] == 2)
    assert abs(share - 0.5) <= 4 * np.sqrt(0.25 / 4000)
    np.testing.assert_allclose(fam.log_pdf(np.array([[0, 1, 2, 3]])), [np.log(0.5)])


def test_empirical_transitions_match_exact_probabilities():
    rng = np.random.default_rng(np.random.SeedSequence(12345))
    n = 5
    P = random_stochastic(rng, n, sparse=False, diagonal=False)
    N = 100_000
    tours = TransitionMatrix(P).sample(N, rng)
    # First step from city 0: exactly P[0, j]; binomial standard error per city.
    first = np.bincount(tours[:, 1], minlength=n) / N
    se = np.sqrt(P[0] * (1 - P[0]) / N)
    assert np.all(np.abs(first - P[0]) <= 4 * se + 1e-12)
    # Second step by hand: after 0 -> 1, city 0 and 1 are masked, so
    # P(t1 = 1, t2 = 2) = P[0,1] P[1,2] / (P[1,2] + P[1,3] + P[1,4]) = P[0,1] P[1,2] / (1 - P[1,0])
    exact = P[0, 1] * P[1, 2] / (P[1, 2] + P[1, 3] + P[1, 4])
    assert exact == pytest.approx(P[0, 1] * P[1, 2] / (1 - P[1, 0]))
    freq = np.mean((tours[:, 1] == 1) & (tours[:, 2] == 2))
    assert abs(freq - exact) <= 4 * np.sqrt(exact * (1 - exact) / N)


@pytest.mark.parametrize(
    ("family", "by_position"), [(TransitionMatrix, False), (NodePlacement, True)]
)
@given(st.integers(3, 8), st.integers(0, 2**32 - 1), st.booleans())
@settings(max_examples=30, deadline=None)
def test_log_pdf_equals_naive_product(family, by_position, n, seed, sparse):
    rng = np.random.default_rng(seed)
    fam = family(random_stochastic(rng, n, sparse, diagonal=by_position))
    tours = fam.sample(15, rng)
    naive = [naive_log_pdf(fam.P, t, by_position=by_position) for t in tours]
    np.testing.assert_allclose(fam.log_pdf(tours), naive, rtol=1e-12, atol=1e-12)


def test_log_pdf_sums_to_one_over_all_tours():
    rng = np.random.default_rng(3)
    fam = TransitionMatrix(random_stochastic(rng, 6, sparse=True, diagonal=False))
    perms = np.array([(0, *p) for p in itertools.permutations(range(1, 6))])
    assert np.exp(fam.log_pdf(perms)).sum() == pytest.approx(1.0)
    assert fam.log_pdf(np.array([[1, 0, 2, 3, 4, 5]]))[0] == -np.inf  # must start at 0


@given(st.integers(3, 9), st.integers(1, 20), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_fit_equals_weighted_transition_counts(n, count, seed):
    rng = np.random.default_rng(seed)
    tours = np.array([rng.permutation(n) for _ in range(count)])
    w = rng.random(count) + 0.1
    expected = np.zeros((n, n))
    for t, wk in zip(tours, w, strict=True):
        for k in range(n):
            expected[t[k], t[(k + 1) % n]] += wk  # closing edge included
    np.testing.assert_allclose(TransitionMatrix.uniform(n).fit(tours, w).P, expected / w.sum())
    np.testing.assert_allclose(
        TransitionMatrix.uniform(n).fit(tours).P,
        TransitionMatrix.uniform(n).fit(tours, np.ones(count)).P,
    )


def test_smoothing_mode_entropy():
    n = 6
    tour = np.array([0, 2, 4, 1, 5, 3])
    fitted = TransitionMatrix.uniform(n).fit(tour[None])
    smoothed = fitted.smooth(TransitionMatrix.uniform(n), 0.7)
    assert isinstance(smoothed, TransitionMatrix)
    np.testing.assert_allclose(smoothed.P, 0.7 * fitted.P + 0.3 * TransitionMatrix.uniform(n).P)
    np.testing.assert_array_equal(smoothed.mode(), tour)
    assert not smoothed.is_degenerate(1e-3) and smoothed.is_degenerate(0.25)
    assert TransitionMatrix.uniform(n).entropy() == pytest.approx(n * np.log(n - 1))


def test_transition_matrix_bad_input_names_the_argument():
    with pytest.raises(ConfigError, match=r"zero diagonal.*P\[0, 0\]"):
        TransitionMatrix(np.full((3, 3), 1 / 3))
    with pytest.raises(ConfigError, match=r"row 0 of transition matrix P sums to 0\.4,"):
        TransitionMatrix(np.array([[0, 0.2, 0.2], [0.5, 0, 0.5], [0.5, 0.5, 0]]))
    with pytest.raises(ConfigError, match="transition matrix P must be a square"):
        TransitionMatrix(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match=r"P must hold probabilities.*NaN"):
        TransitionMatrix(np.array([[0, np.nan], [1, 0]]))
    with pytest.raises(ConfigError, match="probabilities"):
        TransitionMatrix(np.array([[0, 1.5, -0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]))
    with pytest.raises(ConfigError, match=r"tours must have shape \(N, 3\)"):
        TransitionMatrix.uniform(3).fit(np.zeros((2, 4), dtype=int))
    with pytest.raises(ConfigError, match="n >= 2"):
        TransitionMatrix.uniform(1)


# ------------------------------------------------------------------ NodePlacement


@given(st.integers(2, 12), st.integers(1, 40), st.integers(0, 2**32 - 1), st.booleans())
@settings(max_examples=50, deadline=None)
def test_placement_sampler_yields_permutations(n, count, seed, sparse):
    rng = np.random.default_rng(seed)
    fam = NodePlacement(random_stochastic(rng, n, sparse, diagonal=True))
    assert is_permutation_batch(fam.sample(count, rng), n)


def test_placement_first_position_and_degenerate():
    fam = NodePlacement.uniform(5, first=0)
    tours = fam.sample(200, np.random.default_rng(0))
    assert np.all(tours[:, 0] == 0) and is_permutation_batch(tours, 5)
    tour = np.array([0, 3, 1, 4, 2])
    P = np.zeros((5, 5))
    P[np.arange(5), tour] = 1.0
    point = NodePlacement(P)
    assert point.is_degenerate() and not fam.is_degenerate()
    assert np.all(point.sample(10, np.random.default_rng(0)) == tour)
    np.testing.assert_array_equal(point.mode(), tour)


def test_placement_first_step_and_second_step_frequencies():
    rng = np.random.default_rng(7)
    n, N = 4, 100_000
    P = random_stochastic(rng, n, sparse=False, diagonal=True)
    tours = NodePlacement(P).sample(N, rng)
    first = np.bincount(tours[:, 0], minlength=n) / N
    assert np.all(np.abs(first - P[0]) <= 4 * np.sqrt(P[0] * (1 - P[0]) / N) + 1e-12)
    exact = P[0, 2] * P[1, 3] / (1 - P[1, 2])  # city 2 first, then city 3 (2 masked)
    freq = np.mean((tours[:, 0] == 2) & (tours[:, 1] == 3))
    assert abs(freq - exact) <= 4 * np.sqrt(exact * (1 - exact) / N)


@given(st.integers(3, 7), st.integers(0, 2**32 - 1), st.booleans())
@settings(max_examples=30, deadline=None)
def test_placement_fit_equals_weighted_position_counts(n, seed, sparse):
    rng = np.random.default_rng(seed)
    fam = NodePlacement(random_stochastic(rng, n, sparse, diagonal=True))
    tours = fam.sample(12, rng)
    w = rng.random(12) + 0.1
    expected = np.zeros((n, n))
    for t, wk in zip(tours, w, strict=True):
        expected[np.arange(n), t] += wk
    np.testing.assert_allclose(fam.fit(tours, w).P, expected / w.sum())


def test_placement_log_pdf_sums_to_one():
    fam = NodePlacement(random_stochastic(np.random.default_rng(2), 5, True, diagonal=True))
    perms = np.array(list(itertools.permutations(range(5))))
    assert np.exp(fam.log_pdf(perms)).sum() == pytest.approx(1.0)


def test_placement_bad_input():
    with pytest.raises(ConfigError, match="row 1 of node-placement matrix P sums to"):
        NodePlacement(np.array([[0.5, 0.5], [0.2, 0.2]]))
    with pytest.raises(ConfigError, match="first must be a city"):
        NodePlacement.uniform(3, first=3)
