"""Entropy, cross-entropy, KL divergence and log-loss against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from cem.errors import ConfigError
from cem.information import cross_entropy, entropy, kl_divergence, log_loss


def test_hand_computed_values():
    assert entropy([0.5, 0.5], base=2) == pytest.approx(1.0)
    assert entropy([1.0, 0.0]) == 0.0
    assert entropy([0.25] * 4) == pytest.approx(np.log(4))
    # H(p, q) = -(0.5 log 0.25 + 0.5 log 0.75)
    assert cross_entropy([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        -(0.5 * np.log(0.25) + 0.5 * np.log(0.75))
    )
    # D(p||q) = 0.5 log(0.5/0.25) + 0.5 log(0.5/0.75)
    assert kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        0.5 * np.log(2) + 0.5 * np.log(2 / 3)
    )
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf


probs = st.integers(2, 8).flatmap(
    lambda k: st.tuples(
        arrays(float, k, elements=st.floats(0.01, 1.0)),
        arrays(float, k, elements=st.floats(0.01, 1.0)),
    )
)


@given(probs)
@settings(max_examples=100, deadline=None)
def test_identities(pq):
    p, q = pq[0] / pq[0].sum(), pq[1] / pq[1].sum()
    assert kl_divergence(p, q) >= -1e-12
    assert kl_divergence(p, q) == pytest.approx(cross_entropy(p, q) - entropy(p), abs=1e-9)
    assert entropy(p) == pytest.approx(stats.entropy(p))
    assert kl_divergence(p, q) == pytest.approx(stats.entropy(p, q))


def test_log_loss_binary_and_multiclass():
    # -(log 0.8 + log 0.9) / 2
    assert log_loss([1, 0], [0.8, 0.1]) == pytest.approx(-(np.log(0.8) + np.log(0.9)) / 2)
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert log_loss([0, 2], P) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)
    assert log_loss([0, 1], [0.0, 0.0]) == np.inf
    assert log_loss([1, 0], [0.8, 0.1], sample_weight=[3, 1]) == pytest.approx(
        -(3 * np.log(0.8) + np.log(0.9)) / 4
    )


def test_log_loss_from_logits_is_stable():
    z = np.array([2.0, -1.0])
    p = 1 / (1 + np.exp(-z))
    assert log_loss([1, 0], z, from_logits=True) == pytest.approx(log_loss([1, 0], p))
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    soft = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert log_loss([2, 0], logits, from_logits=True) == pytest.approx(log_loss([2, 0], soft))
    # Huge logits: finite, exact asymptotics instead of log(0).
    assert log_loss([0], [1000.0], from_logits=True) == pytest.approx(1000.0)
    assert log_loss([1], [[-1000.0, 1000.0, 0.0]], from_logits=True) == pytest.approx(0.0)
    assert log_loss([0], [[-1000.0, 1000.0, 0.0]], from_logits=True) == pytest.approx(2000.0)


def test_bad_input():
    with pytest.raises(ConfigError, match="sum to 1"):
        entropy([0.5, 0.6])
    with pytest.raises(ConfigError, match="labels"):
        log_loss([2], [0.5])
    with pytest.raises(ConfigError, match="from_logits"):
        log_loss([1], [1.5])
    with pytest.raises(ConfigError, match="shape"):
        log_loss([1, 0], [0.5])
