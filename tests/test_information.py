"""Entropy, cross-entropy, KL divergence and log-loss against hand-computed values and their
identities; the KL divergence between families and its column in the history."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import integrate, stats
from scipy.special import expit
from scipy.special import softmax as softmax_rows

from cem import CrossEntropyOptimizer
from cem.errors import ConfigError
from cem.families import (
    Bernoulli,
    Categorical,
    Exponential,
    FullNormal,
    Normal,
    NormalMixture,
    TruncatedNormal,
)
from cem.history import History, IterationRecord
from cem.problems.classification.losses import (
    binary_cross_entropy,
    categorical_cross_entropy,
    cross_entropy,
    entropy,
    kl_divergence,
    log_loss,
    softmax_cross_entropy,
)


def family_kl_divergence(p, q):
    """The divergence method of the families, spelled as a function."""
    return p.kl_divergence(q)


# ---------------------------------------------------------------------- distributions
def test_hand_computed_values():
    assert entropy([0.5, 0.5], base=2) == pytest.approx(1.0)
    assert entropy([1.0, 0.0]) == 0.0
    assert entropy([0.25] * 4) == pytest.approx(np.log(4))
    assert entropy([0.25] * 4, base=2) == pytest.approx(2.0)
    # H(p, q) = -(0.5 log 0.25 + 0.5 log 0.75)
    assert cross_entropy([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        -(0.5 * np.log(0.25) + 0.5 * np.log(0.75))
    )
    # in bits: -(0.5 * -2 + 0.5 * log2 0.75) = 1 - 0.5 log2 0.75
    assert cross_entropy([0.5, 0.5], [0.25, 0.75], base=2) == pytest.approx(1 - 0.5 * np.log2(0.75))
    # D(p||q) = 0.5 log(0.5/0.25) + 0.5 log(0.5/0.75)
    assert kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        0.5 * np.log(2) + 0.5 * np.log(2 / 3)
    )
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    # q = 0 where p = 0 costs nothing
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2))


def test_rows_along_an_axis():
    P = np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]])
    np.testing.assert_allclose(entropy(P), [np.log(2), 0.0, stats.entropy([0.9, 0.1])])
    np.testing.assert_allclose(entropy(P.T, axis=0), entropy(P))


@st.composite
def distributions(draw, with_zeros: bool = False):
    """Two probability vectors over the same k outcomes (p may have zeros)."""
    k = draw(st.integers(2, 8))
    lo = 0.0 if with_zeros else 0.01
    p = draw(arrays(float, k, elements=st.floats(lo, 1.0)))
    q = draw(arrays(float, k, elements=st.floats(0.01, 1.0)))
    assume(p.sum() > 0)
    return p / p.sum(), q / q.sum()


@given(distributions(with_zeros=True))
@settings(max_examples=100, deadline=None)
def test_identities(pq):
    p, q = pq
    # H(p, p) = H(p); D(p || p) = 0
    assert cross_entropy(p, p) == pytest.approx(entropy(p), abs=1e-12)
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    # H(p, q) = H(p) + D(p || q), in nats and in bits
    assert cross_entropy(p, q) == pytest.approx(entropy(p) + kl_divergence(p, q), abs=1e-9)
    assert cross_entropy(p, q, base=2) == pytest.approx(
        entropy(p, base=2) + kl_divergence(p, q, base=2), abs=1e-9
    )
    # against scipy
    assert entropy(p) == pytest.approx(stats.entropy(p), abs=1e-12)
    assert kl_divergence(p, q) == pytest.approx(stats.entropy(p, q), abs=1e-12)


@given(distributions(with_zeros=True))
@settings(max_examples=100, deadline=None)
def test_kl_is_positive_unless_equal(pq):
    """D(p || q) >= 0 with equality iff p = q, quantified by Pinsker's inequality
    D >= ||p - q||_1^2 / 2 (Cover & Thomas 2006, Lemma 11.6.1)."""
    p, q = pq
    d = kl_divergence(p, q)
    gap = np.abs(p - q).sum()
    assert d >= 0.5 * gap**2 - 1e-12
    if gap > 1e-6:
        assert d > 0


def test_distribution_errors():
    with pytest.raises(ConfigError, match=r"p must sum to 1, got a sum of 1\.1"):
        entropy([0.5, 0.6])
    with pytest.raises(ConfigError, match=r"vector at 1 sums to 0\.9"):
        entropy([[0.5, 0.5], [0.5, 0.4]])
    with pytest.raises(ConfigError, match=r"\[0, 1\], got -0\.5 at index 2"):
        entropy([0.5, 1.0, -0.5])
    with pytest.raises(ConfigError, match="got nan"):
        entropy([np.nan, 1.0])
    with pytest.raises(ConfigError, match="same shape"):
        kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ConfigError, match="base"):
        entropy([0.5, 0.5], base=1)
    with pytest.raises(ConfigError, match="non-empty"):
        entropy([])


# ---------------------------------------------------------------------- log-loss
def test_log_loss_binary_and_multiclass():
    # -(log 0.8 + log 0.9) / 2
    assert log_loss([1, 0], [0.8, 0.1]) == pytest.approx(-(np.log(0.8) + np.log(0.9)) / 2)
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert log_loss([0, 2], P) == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2)
    assert log_loss([0, 1], [0.0, 0.0]) == np.inf
    assert log_loss([1, 0], [0.8, 0.1], sample_weight=[3, 1]) == pytest.approx(
        -(3 * np.log(0.8) + np.log(0.9)) / 4
    )
    # bits: -log2(0.5) = 1
    assert log_loss([1], [[0.5, 0.5]], base=2) == pytest.approx(1.0)
    # binary = categorical with columns (1 - p, p)
    assert binary_cross_entropy([1, 0], [0.8, 0.1]) == pytest.approx(
        categorical_cross_entropy([1, 0], [[0.2, 0.8], [0.9, 0.1]])
    )


def test_one_hot_and_soft_targets():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert categorical_cross_entropy(np.eye(3)[[0, 2]], P) == categorical_cross_entropy([0, 2], P)
    # soft target (0.5, 0.5, 0) on row 0: -(0.5 log 0.7 + 0.5 log 0.2)
    T = [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
    want = (-(0.5 * np.log(0.7) + 0.5 * np.log(0.2)) - np.log(0.8)) / 2
    assert categorical_cross_entropy(T, P) == pytest.approx(want)
    # soft binary target 0.25 on p = 0.5: log 2
    assert binary_cross_entropy([0.25], [0.5]) == pytest.approx(np.log(2))


def test_label_smoothing_and_class_weights_by_hand():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    # eps = 0.3, K = 3: targets 0.8 on the label and 0.1 elsewhere
    row0 = -(0.8 * np.log(0.7) + 0.1 * np.log(0.2) + 0.1 * np.log(0.1))
    row1 = -(0.1 * np.log(0.1) + 0.1 * np.log(0.1) + 0.8 * np.log(0.8))
    assert categorical_cross_entropy([0, 2], P, label_smoothing=0.3) == pytest.approx(
        (row0 + row1) / 2
    )
    # class weights 2 (class 0) and 5 (class 2): (2 * -log 0.7 + 5 * -log 0.8) / 7
    c = [2.0, 1.0, 5.0]
    assert categorical_cross_entropy([0, 2], P, class_weight=c) == pytest.approx(
        (-2 * np.log(0.7) - 5 * np.log(0.8)) / 7
    )
    # binary smoothing eps = 0.2: target 0.9 for label 1
    assert binary_cross_entropy([1], [0.8], label_smoothing=0.2) == pytest.approx(
        -(0.9 * np.log(0.8) + 0.1 * np.log(0.2))
    )
    assert binary_cross_entropy([1, 0], [0.8, 0.1], class_weight=[1, 3]) == pytest.approx(
        -(3 * np.log(0.8) + np.log(0.9)) / 4
    )
    # full smoothing makes the targets uniform: the loss is H(u, p)
    assert categorical_cross_entropy([0], P[:1], label_smoothing=1.0) == pytest.approx(
        cross_entropy(np.full(3, 1 / 3), P[0])
    )


logit_rows = st.integers(2, 6).flatmap(
    lambda k: st.tuples(
        arrays(float, (4, k), elements=st.floats(-30, 30)),
        arrays(np.int64, 4, elements=st.integers(0, k - 1)),
    )
)


@given(logit_rows, st.floats(0, 1), st.sampled_from([None, 2.0]))
@settings(max_examples=100, deadline=None)
def test_logits_equal_probabilities(zy, eps, base):
    Z, y = zy
    P = softmax_rows(Z, axis=1)
    a = categorical_cross_entropy(y, Z, from_logits=True, label_smoothing=eps, base=base)
    b = categorical_cross_entropy(y, P, label_smoothing=eps, base=base)
    assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
    # binary: against softplus, -log sigma(z) = log(1 + e^-z); the probability version
    # loses digits in 1 - sigma(z) for large z, so it is compared for |z| <= 10
    z, yb = Z[:, 0], (y > 0).astype(float)
    t = (1 - eps) * yb + eps / 2
    exact = np.mean(t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z))
    got = binary_cross_entropy(yb, z, from_logits=True, label_smoothing=eps)
    assert got == pytest.approx(exact, rel=1e-12, abs=1e-12)
    z = np.clip(z, -10, 10)
    assert binary_cross_entropy(yb, z, from_logits=True, label_smoothing=eps) == pytest.approx(
        binary_cross_entropy(yb, expit(z), label_smoothing=eps), rel=1e-9, abs=1e-9
    )


def test_log_loss_from_logits_is_stable():
    z = np.array([2.0, -1.0])
    p = 1 / (1 + np.exp(-z))
    assert log_loss([1, 0], z, from_logits=True) == pytest.approx(log_loss([1, 0], p))
    # Huge logits: finite, exact asymptotics instead of log(0).
    assert log_loss([0], [1000.0], from_logits=True) == pytest.approx(1000.0)
    assert log_loss([1], [-1000.0], from_logits=True) == pytest.approx(1000.0)
    assert log_loss([1, 0], [1000.0, -1000.0], from_logits=True) == 0.0
    assert log_loss([1], [[-1000.0, 1000.0, 0.0]], from_logits=True) == pytest.approx(0.0)
    assert log_loss([0], [[-1000.0, 1000.0, 0.0]], from_logits=True) == pytest.approx(2000.0)
    # smoothed targets put mass on the -1000 logit: finite, 0.05 * 2000 + 0.05 * 1000
    got = log_loss([1], [[-1000.0, 1000.0, 0.0]], from_logits=True, label_smoothing=0.15)
    assert got == pytest.approx(100.0 + 50.0)
    assert np.isfinite(softmax_cross_entropy([[1.0, 0.0]], [[-1000.0, 1000.0]])).all()


def test_batched_kernel_broadcasts():
    """Targets (n, K) against logits (B, n, K): the losses of B models at once."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(5, 7, 3))
    y = rng.integers(0, 3, 7)
    losses = softmax_cross_entropy(np.eye(3)[y], Z)
    assert losses.shape == (5, 7)
    for b in range(5):
        assert losses[b].mean() == pytest.approx(log_loss(y, Z[b], from_logits=True))


def test_log_loss_errors():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    with pytest.raises(ConfigError, match="labels"):
        log_loss([2], [0.5])
    with pytest.raises(ConfigError, match=r"labels must be integers in 0\.\.2, got 3"):
        log_loss([0, 3], P)
    with pytest.raises(ConfigError, match="labels"):
        log_loss([0.5, 1], P)
    with pytest.raises(ConfigError, match="from_logits"):
        log_loss([1], [1.5])
    with pytest.raises(ConfigError, match="shape"):
        log_loss([1, 0], [0.5])
    with pytest.raises(ConfigError, match=r"shape \(2,\)"):
        log_loss([0, 1, 2], P)
    with pytest.raises(ConfigError, match=r"shape \(2, 3\)"):
        log_loss(np.eye(2), P)
    with pytest.raises(ConfigError, match="row 1 sums to"):
        log_loss([0, 1], [[0.7, 0.3, 0.0], [0.5, 0.4, 0.0]])
    with pytest.raises(ConfigError, match=r"y_pred must hold probabilities in \[0, 1\]"):
        log_loss([0, 1], [[1.2, -0.2, 0.0], [0.5, 0.5, 0.0]])
    with pytest.raises(ConfigError, match="y_true must sum to 1"):
        log_loss([[0.5, 0.6, 0.0], [0.0, 0.0, 1.0]], P)
    with pytest.raises(ConfigError, match="logits must be finite"):
        log_loss([0], [[np.inf, 0.0]], from_logits=True)
    with pytest.raises(ConfigError, match="class_weight must be 3"):
        log_loss([0, 1], P, class_weight=[1.0, 2.0])
    with pytest.raises(ConfigError, match="label_smoothing"):
        log_loss([0, 1], P, label_smoothing=1.5)
    with pytest.raises(ConfigError, match="positive weight"):
        log_loss([0, 1], P, class_weight=[0.0, 0.0, 1.0])


# ---------------------------------------------------------------------- families
def _enumerated_kl(p, q, outcomes: np.ndarray) -> float:
    """D(p || q) by summing over every outcome with the families' own log_pdf."""
    lp, lq = p.log_pdf(outcomes), q.log_pdf(outcomes)
    return float(np.sum(np.exp(lp) * (lp - lq)))


def test_discrete_family_kl_against_enumeration():
    a, b = Bernoulli([0.2, 0.7, 0.5]), Bernoulli([0.4, 0.6, 0.9])
    cube = np.array(np.meshgrid(*[[0, 1]] * 3, indexing="ij")).reshape(3, -1).T.astype(float)
    assert family_kl_divergence(a, b) == pytest.approx(_enumerated_kl(a, b, cube), rel=1e-12)
    c = Categorical([[0.2, 0.8], [0.1, 0.3, 0.6]])
    d = Categorical([[0.5, 0.5], [0.3, 0.3, 0.4]])
    grid = np.array([[i, j] for i in range(2) for j in range(3)])
    assert family_kl_divergence(c, d) == pytest.approx(_enumerated_kl(c, d, grid), rel=1e-12)
    assert family_kl_divergence(Bernoulli([0.5]), Bernoulli([1.0])) == np.inf
    assert family_kl_divergence(Bernoulli([1.0]), Bernoulli([0.5])) == pytest.approx(np.log(2))


def test_continuous_family_kl_against_quadrature_and_each_other():
    # Normal: the diagonal formula equals FullNormal's with a diagonal covariance
    a, b = Normal([0.0, 1.0], [1.0, 0.5]), Normal([0.5, -1.0], [2.0, 0.7])
    fa, fb = FullNormal(a.mean, np.diag(a.sigma**2)), FullNormal(b.mean, np.diag(b.sigma**2))
    assert family_kl_divergence(a, b) == pytest.approx(family_kl_divergence(fa, fb), rel=1e-12)

    def quad_kl(p, q, lo, hi):
        def f(x):
            lp, lq = p.log_pdf(np.array([[x]])), q.log_pdf(np.array([[x]]))
            return float(np.exp(lp[0]) * (lp[0] - lq[0]))

        return integrate.quad(f, lo, hi, epsabs=1e-13, epsrel=1e-11)[0]

    n1, n2 = Normal([0.3], [0.8]), Normal([-1.0], [1.7])
    assert family_kl_divergence(n1, n2) == pytest.approx(quad_kl(n1, n2, -20, 20), rel=1e-8)
    e1, e2 = Exponential([2.0]), Exponential([0.5])
    assert family_kl_divergence(e1, e2) == pytest.approx(quad_kl(e1, e2, 0, np.inf), rel=1e-8)
    assert family_kl_divergence(Exponential([1.0, 2.0]), Exponential([1.0, 2.0])) == 0.0


def test_full_normal_kl_against_monte_carlo():
    """The closed form against the mean of log p - log q under p; 5 standard errors."""
    p = FullNormal([0.0, 1.0, -0.5], [[2.0, 0.6, 0.1], [0.6, 1.0, -0.3], [0.1, -0.3, 0.5]])
    q = FullNormal([0.5, 0.0, 0.0], [[1.0, -0.2, 0.0], [-0.2, 1.5, 0.4], [0.0, 0.4, 1.0]])
    X = p.sample(200_000, np.random.default_rng(0))
    ratio = p.log_pdf(X) - q.log_pdf(X)
    se = ratio.std(ddof=1) / np.sqrt(ratio.size)
    assert abs(family_kl_divergence(p, q) - ratio.mean()) < 5 * se


def test_family_kl_edge_cases():
    assert family_kl_divergence(Normal([1.0], 0.0), Normal([1.0], 0.0)) == 0.0
    assert family_kl_divergence(Normal([1.0], 0.0), Normal([2.0], 0.0)) == np.inf
    assert family_kl_divergence(Normal([1.0], 0.0), Normal([1.0], 1.0)) == np.inf
    assert family_kl_divergence(Normal([1.0], 1.0), Normal([1.0], 0.0)) == np.inf
    assert family_kl_divergence(FullNormal([0.0, 0.0], 1.0), FullNormal([0.0, 0.0], 1.0)) == 0.0
    singular = FullNormal([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]])
    assert family_kl_divergence(FullNormal([0.0, 0.0], 1.0), singular) == np.inf
    t = TruncatedNormal([0.0], [1.0], low=-1.0, high=1.0)
    assert np.isnan(family_kl_divergence(t, t))
    with pytest.raises(ConfigError, match="same kind and shape"):
        family_kl_divergence(Normal([0.0], 1.0), FullNormal([0.0], 1.0))
    with pytest.raises(ConfigError, match="same kind and shape"):
        family_kl_divergence(Normal([0.0], 1.0), Normal([0.0, 0.0], 1.0))


# ---------------------------------------------------------------------- the loop's column
def _sphere(X: np.ndarray) -> np.ndarray:
    return -np.sum((X - 1.0) ** 2, axis=1)


def test_history_records_the_kl_between_successive_families():
    families = []
    start = Normal(np.zeros(3), 5.0)
    opt = CrossEntropyOptimizer(
        _sphere, start, n_samples=100, rng=3, max_iter=8,
        callback=lambda o: families.append(o.family),
    )  # fmt: skip
    res = opt.run()
    want = [
        family_kl_divergence(f, g) for f, g in zip(families, [start, *families[:-1]], strict=True)
    ]
    assert res.history["kl"].tolist() == want
    assert np.all(res.history["kl"] > 0)


def test_kl_column_is_nan_without_a_closed_form():
    start = NormalMixture.standard(2, 1, spread=5.0)
    res = CrossEntropyOptimizer(_sphere, start, n_samples=100, rng=0, max_iter=3).run()
    assert np.isnan(res.history["kl"]).all()


def test_history_csv_with_and_without_the_kl_column(tmp_path):
    nan = float("nan")
    h = History([IterationRecord(1, 2.0, 3.0, 1.0, 0.5, 100, 0.01, kl=0.25),
                 IterationRecord(2, 2.5, 3.5, 1.5, 0.4, 200, 0.02)])  # fmt: skip
    h.to_csv(tmp_path / "history.csv")
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == (
        "t,gamma,best,mean,entropy,kl,evals,seconds"
    )
    again = History.read_csv(tmp_path / "history.csv")
    assert again == h  # a NaN equals a NaN
    assert again["kl"][0] == 0.25 and np.isnan(again["kl"][1])
    old = "t,gamma,best,mean,entropy,evals,seconds\n1,2.0,3.0,1.0,0.5,100,0.01\n"
    (tmp_path / "old.csv").write_text(old)
    read = History.read_csv(tmp_path / "old.csv")
    assert read[0].evals == 100 and np.isnan(read[0].kl)
    assert read == History([IterationRecord(1, 2.0, 3.0, 1.0, 0.5, 100, 0.01, kl=nan)])
    assert read != History([IterationRecord(1, 2.0, 3.0, 1.0, 0.5, 100, 0.01, kl=0.0)])
