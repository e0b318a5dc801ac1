"""Classifiers trained by the CE method on the cross-entropy loss, against L-BFGS on the same
objective; the model's loss and gradient against independent computations; the data loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from scipy.special import ndtr

import cem.problems.classification.problem as classification
from cem import CrossEntropyOptimizer, minimize
from cem._cli import main
from cem.config import build_problem, load_config
from cem.errors import ConfigError, DataFormatError
from cem.problems.classification import Classification, helmert_contrasts
from cem.problems.classification.data import (
    LabelledData,
    load_csv,
    load_iris,
    train_test_split,
    two_gaussians,
)
from cem.problems.classification.losses import categorical_cross_entropy

REPO = Path(__file__).resolve().parents[1]
IRIS_CONFIG = REPO / "configs" / "iris_softmax.toml"


# ---------------------------------------------------------------------- acceptance
def test_iris_softmax_by_ce_matches_lbfgs():
    """The shipped config (seed 0, CE settings derived from the dimension): the CE
    method's objective and training log-loss within 2% of L-BFGS's optimum, accuracy
    >= 0.96. L-BFGS's point is the global minimum: the objective is convex and its
    gradient (checked below against finite differences) vanishes there."""
    cfg = load_config(IRIS_CONFIG)
    problem = cfg.problem
    assert isinstance(problem, Classification)
    ref = problem.minimize_lbfgs()
    assert ref.success and np.max(np.abs(ref.jac)) < 1e-8
    res = CrossEntropyOptimizer(problem, cfg.family, **cfg.options).run()
    assert res.status == "degenerate"
    assert ref.fun - 1e-12 <= res.fun <= 1.02 * ref.fun
    assert abs(problem.log_loss(res.x) - problem.log_loss(ref.x)) <= 0.02 * problem.log_loss(ref.x)
    assert problem.accuracy(res.x) >= 0.96
    # the config spells out the problem's own defaults
    assert {k: cfg.options[k] for k in problem.default_options()} == problem.default_options()


def test_full_covariance_family_reaches_the_optimum():
    """With a FullNormal family (N = 10 x its 65 parameters) the CE method learns the
    correlations of the weights and stops, with every standard deviation below 1e-4,
    at the L-BFGS optimum to 1e-4 (the diagonal family stalls near 1e-3)."""
    problem = Classification.iris(full_covariance=True)
    assert problem.default_options()["n_samples"] == 10 * (10 + 55)
    ref = problem.minimize_lbfgs()
    res = minimize(problem, rng=0)
    assert res.status == "degenerate"
    assert ref.fun - 1e-12 <= res.fun <= (1 + 1e-4) * ref.fun


def test_ce_on_two_gaussians_matches_lbfgs():
    problem = Classification.synthetic(n=200, dim=2, separation=2.0, rng=0)
    ref = problem.minimize_lbfgs()
    res = minimize(problem, rng=0)
    assert ref.fun - 1e-12 <= res.fun <= 1.02 * ref.fun


def test_fitted_softmax_reaches_the_bayes_accuracy():
    """Two N(-+u, I) classes: the Bayes accuracy is Phi(1) for separation 2. A logistic
    fit on 4000 examples is within 4 binomial standard errors of it on 20000 new ones
    (plus 0.005 for the fit's excess risk); a sign or scaling error would fail."""
    problem = Classification.synthetic(n=4000, dim=2, separation=2.0, rng=1)
    x = problem.minimize_lbfgs().x
    test = two_gaussians(20_000, dim=2, separation=2.0, rng=2)
    bayes = float(ndtr(1.0))
    se = np.sqrt(bayes * (1 - bayes) / test.labels.size)
    assert abs(problem.accuracy(x, test) - bayes) <= 4 * se + 0.005


# ---------------------------------------------------------------------- the model
def _reference_objective(problem: Classification, x: np.ndarray) -> float:
    """The objective from the checked log-loss of the classification losses and a per-layer
    loop."""
    A = (problem.data.features - problem.data.features.mean(0)) / problem.data.features.std(0)
    at, penalty = 0, 0.0
    for j, (i, o) in enumerate(problem.layers):
        W = x[at : at + i * o].reshape(i, o)
        b = x[at + i * o : at + i * o + o]
        at += i * o + o
        penalty += np.sum(W**2)
        A = A @ W + b
        if j < len(problem.layers) - 1:
            A = np.tanh(A)
    A = A @ problem.contrasts
    loss = categorical_cross_entropy(
        problem.data.labels, A, from_logits=True,
        label_smoothing=problem.label_smoothing, class_weight=problem.class_weight,
    )  # fmt: skip
    return loss + 0.5 * problem.l2 * penalty


@pytest.mark.parametrize("hidden", [0, 4])
def test_score_against_reference_and_batched(hidden, monkeypatch):
    problem = Classification.iris(
        hidden=hidden, l2=0.05, label_smoothing=0.1, class_weight=[1.0, 2.0, 0.5]
    )
    X = np.random.default_rng(0).normal(size=(7, problem.dim))
    scores = problem.score(X)
    want = [_reference_objective(problem, x) for x in X]
    np.testing.assert_allclose(scores, want, rtol=1e-12)
    np.testing.assert_allclose(problem.score(X[3:4]), scores[3:4], rtol=1e-14)
    monkeypatch.setattr(classification, "_CHUNK_FLOATS", 1000)  # chunks of 2 or 1 models
    np.testing.assert_allclose(problem.score(X), scores, rtol=1e-14)


@pytest.mark.parametrize("hidden", [0, 3])
def test_gradient_against_finite_differences(hidden):
    problem = Classification.iris(hidden=hidden, label_smoothing=0.05, class_weight=[1, 2, 3])
    x = np.random.default_rng(1).normal(size=problem.dim)
    value, grad = problem.value_and_gradient(x)
    assert value == pytest.approx(problem.score(x[None])[0], rel=1e-14)
    h = 1e-6
    E = np.eye(problem.dim) * h
    numeric = (problem.score(x + E) - problem.score(x - E)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_network_lbfgs_and_predictions():
    problem = Classification.iris(hidden=3)
    res = problem.minimize_lbfgs(rng=0, gtol=1e-5)
    assert res.fun < problem.score(np.zeros((1, problem.dim)))[0]
    P = problem.predict_proba(res.x)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(problem.predict(res.x), P.argmax(axis=1))
    # new features go through the training standardization
    np.testing.assert_allclose(problem.predict_proba(res.x, problem.data.features), P)


def test_defaults_follow_the_dimension():
    problem = Classification.iris()
    assert problem.dim == (4 + 1) * 2 and problem.l2 == pytest.approx(1 / 150)
    assert problem.default_options()["n_samples"] == 20 * problem.dim
    # sigma_0^2 * (penalized weights) = 2 log K / l2: the ball holding every minimizer
    assert problem.sigma**2 * 8 == pytest.approx(2 * np.log(3) / problem.l2)
    assert problem.initial_family().sigma.tolist() == [problem.sigma] * 10
    # L(0) = log K, the bound's premise
    assert problem.score(np.zeros((1, 10)))[0] == pytest.approx(np.log(3))
    net = Classification.iris(hidden=5)
    assert net.dim == 5 * 5 + 6 * 2


def test_plot_solution_draws_regions_and_examples():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problem = Classification.iris()
    x = problem.minimize_lbfgs().x
    fig, ax = plt.subplots()
    problem.plot_solution(x, ax, resolution=40)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["setosa", "versicolor", "virginica"]
    assert ax.get_xlabel() == "petal_length" and ax.get_ylabel() == "petal_width"
    plt.close(fig)


def test_problem_errors():
    iris = load_iris()
    for kwargs, match in [
        ({"hidden": -1}, "hidden"),
        ({"l2": -0.1}, "l2"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"class_weight": [1.0, 2.0]}, "class_weight"),
        ({"sigma": 0.0}, "sigma"),
        ({"plot_features": (0, 4)}, "plot_features"),
    ]:
        with pytest.raises(ConfigError, match=match):
            Classification(iris, **kwargs)
    problem = Classification(iris)
    with pytest.raises(ConfigError, match=r"shape \(B, 10\)"):
        problem.score(np.zeros((2, 15)))
    with pytest.raises(ConfigError, match=r"features must have shape \(n, 4\)"):
        problem.predict(np.zeros(10), np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="2 classes"):
        problem.accuracy(np.zeros(10), two_gaussians(10))


def test_contrasts_lose_nothing():
    """Q Q^T = I and Q 1 = 0; and the minimum over the K - 1 contrasts equals the minimum
    of the usual K-column model, found here by L-BFGS with finite differences on the
    checked log-loss of cem.problems.classification.losses."""
    for k in (2, 3, 7):
        Q = helmert_contrasts(k)
        np.testing.assert_allclose(Q @ Q.T, np.eye(k - 1), atol=1e-15)
        np.testing.assert_allclose(Q.sum(axis=1), 0.0, atol=1e-15)
    problem = Classification.iris()
    A, y, lam = problem.inputs, problem.data.labels, problem.l2

    def full(theta: np.ndarray) -> float:
        W, b = theta[:12].reshape(4, 3), theta[12:]
        return categorical_cross_entropy(y, A @ W + b, from_logits=True) + 0.5 * lam * np.sum(W**2)

    ref = scipy.optimize.minimize(full, np.zeros(15), method="BFGS", options={"gtol": 1e-9})
    assert problem.minimize_lbfgs().fun == pytest.approx(ref.fun, rel=1e-9)


# ---------------------------------------------------------------------- registry and CLI
def test_registered_for_configs(tmp_path):
    assert (
        build_problem({"name": "classification"}).describe().startswith("softmax classifier, iris")
    )
    syn = build_problem(
        {"name": "classification", "data": "synthetic", "n": 50, "n_features": 3, "hidden": 2}
    )
    assert syn.data.features.shape == (50, 3) and syn.dim == 4 * 2 + 3 * 1
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n0,1,5\n1,0,7\n2,2,5\n")
    assert (
        build_problem({"name": "classification", "file": str(path), "label": "y"}).data.n_classes
        == 2
    )
    with pytest.raises(ConfigError, match="'iris' or 'synthetic'"):
        build_problem({"name": "classification", "data": "mnist"})


def test_cem_run_prints_and_plots_the_loss(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(IRIS_CONFIG), "--out", str(out), "--max-iter", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["t", "gamma_t", "best", "mean"]
    assert [line.split()[0] for line in lines[1:4]] == ["1", "2", "3"]
    assert (out / "convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = (out / "history.csv").read_text().splitlines()[0]
    assert header == "t,gamma,best,mean,entropy,kl,evals,seconds"


# ---------------------------------------------------------------------- data
def test_iris_is_fishers():
    iris = load_iris()
    assert iris.features.shape == (150, 4)
    np.testing.assert_allclose(iris.features.mean(axis=0), [5.843, 3.057, 3.758, 1.199], atol=6e-4)
    assert np.bincount(iris.labels).tolist() == [50, 50, 50]
    # rows 35 and 38 (1-based) are Fisher's, not the UCI copy's
    assert iris.features[34].tolist() == [4.9, 3.1, 1.5, 0.2]
    assert iris.features[37].tolist() == [4.9, 3.6, 1.4, 0.1]


def test_load_csv_reads_numbers_and_maps_labels(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("# a comment\n\nx,label,z\n1.5,7,2\n-1,3,0.5\n2e1,7,1\n")
    data = load_csv(path, label="label")
    assert data.features.tolist() == [[1.5, 2.0], [-1.0, 0.5], [20.0, 1.0]]
    assert data.labels.tolist() == [1, 0, 1] and data.class_names == ("3", "7")
    assert data.feature_names == ("x", "z")
    assert load_csv(path, label=1).labels.tolist() == [1, 0, 1]
    bare = tmp_path / "bare.csv"
    bare.write_text("1,2,0\n3,4,1\n")
    assert load_csv(bare).feature_names == ("x0", "x1")


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("a,y\n1,0\nhello,1\n", DataFormatError, r"line 3, column 1: expected a number"),
        ("a,y\n1,0\nnan,1\n", DataFormatError, "finite number"),
        ("a,y\n1,0\n1,1,2\n", DataFormatError, "line 3: expected 2 fields, got 3"),
        ("a,y\n1,0\n2,0.5\n", DataFormatError, "must hold integers, got 0.5"),
        ("a,y\n1,0\n2,0\n", DataFormatError, "one class"),
        ("a,y\n", DataFormatError, "no data rows"),
        ("a,y\n1,0\n2,1\n3,1\n", DataFormatError, "more than max_rows=2"),
        ("a,b\n1,0\n2,1\n", ConfigError, "no column 'y'; columns: a, b"),
    ],
)
def test_load_csv_errors(tmp_path, text, error, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(error, match=match):
        load_csv(path, label="y", max_rows=2)


def test_load_csv_size_limit_and_missing_file(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,y\n" + "1,0\n2,1\n" * 100)
    with pytest.raises(ConfigError, match="more than max_bytes=100"):
        load_csv(path, max_bytes=100)
    with pytest.raises(ConfigError, match="no CSV file"):
        load_csv(tmp_path / "missing.csv")


def test_train_test_split_is_seeded_stratified_and_disjoint():
    iris = load_iris()
    train, test = train_test_split(iris, 0.3, rng=5)
    assert np.bincount(test.labels).tolist() == [15, 15, 15]
    assert len(train.labels) == 105

    def rows(*parts: LabelledData) -> list[tuple]:
        return sorted(
            (*x, y) for d in parts for x, y in zip(d.features.tolist(), d.labels, strict=True)
        )

    assert rows(train, test) == rows(iris)  # a partition of the examples
    again, _ = train_test_split(iris, 0.3, rng=5)
    np.testing.assert_array_equal(again.features, train.features)
    with pytest.raises(ConfigError, match="empty training or test part"):
        train_test_split(iris, 0.001)


def test_labelled_data_checks():
    with pytest.raises(ConfigError, match=r"every value 0\.\.K-1"):
        LabelledData(np.zeros((3, 1)), np.array([0, 0, 2]), ("x",), ("a", "b", "c"))
    with pytest.raises(ConfigError, match="finite"):
        LabelledData(np.array([[np.nan], [0.0]]), np.array([0, 1]), ("x",), ("a", "b"))
