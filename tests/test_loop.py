"""The generic loop: reproducibility, ask/tell, stopping rules and bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest

from cem import CrossEntropyOptimizer, maximize, minimize
from cem._parallel import batch_sizes, default_batch_size
from cem.errors import CEMWarning, ConfigError, InvalidScoreError
from cem.families import Bernoulli, Normal
from cem.problems.continuous import Sphere
from cem.problems.maxcut import MaxCut


def _without_seconds(history):
    return [(r.t, r.gamma, r.best, r.mean, r.entropy, r.evals) for r in history]


@pytest.mark.parametrize(("n_jobs", "backend"), [(2, None), (-1, None), (2, "threading")])
def test_same_seed_same_run_for_any_n_jobs(n_jobs, backend):
    prob = MaxCut.synthetic(n=60, m=30, seed=2)
    kw = dict(n_samples=1000, batch_size=128, seed=11, max_iter=6)
    serial = maximize(prob, **kw)
    parallel = maximize(prob, n_jobs=n_jobs, backend=backend, **kw)
    assert _without_seconds(serial.history) == _without_seconds(parallel.history)
    np.testing.assert_array_equal(serial.x, parallel.x)
    np.testing.assert_array_equal(serial.family.p, parallel.family.p)


def test_different_seeds_differ_and_seed_none_draws_entropy():
    prob = MaxCut.synthetic(n=60, m=30, seed=2)
    a = maximize(prob, n_samples=200, seed=1, max_iter=2)
    b = maximize(prob, n_samples=200, seed=2, max_iter=2)
    assert _without_seconds(a.history) != _without_seconds(b.history)
    c = maximize(prob, n_samples=200, max_iter=1)
    assert isinstance(c.seed, int)


def test_batches_depend_on_n_only():
    assert batch_sizes(1000) == [256, 256, 256, 232]
    assert default_batch_size(100_000) == 6250
    assert sum(batch_sizes(12345, 1000)) == 12345
    with pytest.raises(ConfigError, match="batch_size"):
        batch_sizes(10, 0)


def test_ask_tell_equals_run():
    prob = Sphere(dim=3)
    run = minimize(prob, n_samples=300, seed=4, max_iter=8)
    opt = CrossEntropyOptimizer(prob, n_samples=300, seed=4, max_iter=8)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, prob.score(X))
    res = opt.result()
    assert _without_seconds(res.history) == _without_seconds(run.history)
    np.testing.assert_array_equal(res.x, run.x)


def test_state_dict_resume_is_exact():
    prob = MaxCut.synthetic(n=40, m=20, seed=0)
    full = maximize(prob, n_samples=300, seed=5, max_iter=10, stall_iters=None)
    first = CrossEntropyOptimizer(prob, n_samples=300, seed=5, max_iter=4, stall_iters=None)
    first.run()
    state = first.state_dict()
    second = CrossEntropyOptimizer(prob, n_samples=300, seed=0, max_iter=10, stall_iters=None)
    second.load_state_dict(state)
    res = second.run()
    assert _without_seconds(res.history) == _without_seconds(full.history)
    np.testing.assert_array_equal(res.x, full.x)


def test_elite_threshold_and_minimization_sense():
    """gamma_t is the ceil(rho N)-th best score, in the problem's own sense."""
    opt = CrossEntropyOptimizer(lambda X: X[:, 0], Normal([0.0], [1.0]), sense="min",
                                n_samples=10, rho=0.3, seed=0)  # fmt: skip
    X = np.arange(10.0)[:, None]
    rec = opt.tell(X, X[:, 0])
    assert rec.gamma == 2.0  # the 3rd smallest
    assert rec.best == 0.0
    np.testing.assert_allclose(opt.family.mean, [0.7 * 1.0 + 0.3 * 0.0])  # mean of 0, 1, 2


def test_stopping_rules_report_their_reason():
    prob = Sphere(dim=2)
    res = minimize(prob, n_samples=100, max_evals=450, seed=0, stall_iters=None)
    assert res.nfev == 400 and res.stop_reason == "max_evals" and not res.success
    res = minimize(prob, n_samples=100, target=1.0, seed=0, stall_iters=None)
    assert res.stop_reason == "target" and res.fun <= 1.0 and res.success
    res = minimize(prob, n_samples=100, max_iter=3, seed=0, stall_iters=None)
    assert res.nit == 3 and res.stop_reason == "max_iter"
    res = minimize(prob, n_samples=100, seed=0, callback=lambda opt: opt.t == 2)
    assert res.nit == 2 and "callback" in res.stop
    res = minimize(prob, n_samples=100, seed=0, max_time=1e-9)
    assert res.nit == 1 and "max_time" in res.stop
    res = maximize(MaxCut.tutorial(), n_samples=50, seed=0, stall_iters=3, degenerate_tol=None)
    assert res.stop_reason == "stall"
    assert res.history["gamma"][-1] == res.history["gamma"][-4]


def test_verbose_prints_a_table():
    out = io.StringIO()
    CrossEntropyOptimizer(MaxCut.tutorial(), n_samples=50, seed=0, verbose=True,
                          progress=out).run()  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["t", "gamma_t", "best", "mean", "entropy", "evals", "seconds"]
    assert lines[1].split()[0] == "1"


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"rho": 0.0}, r"rho must be a number in \(0, 1\), got 0.0"),
        ({"rho": 1.5}, r"rho must be a number in \(0, 1\)"),
        ({"n_samples": 0}, r"n_samples must be an integer >= 1, got 0"),
        ({"n_samples": 2.5}, r"n_samples must be an integer"),
        ({"n_samples": 10, "n_elite": 11}, r"n_elite must be at most n_samples=10, got 11"),
        ({"alpha": 0.0}, r"alpha must be a number in \(0, 1\]"),
        ({"alpha": 1.01}, r"alpha must be a number in \(0, 1\]"),
        ({"nan_policy": "ignore"}, r"nan_policy must be 'raise' or 'worst'"),
        ({"rhoo": 0.1}, r"unknown optimizer option 'rhoo'"),
        ({"polish": "elite"}, r"polish='elite' needs a problem with a local search"),
    ],
)
def test_bad_options_name_the_argument(options, match):
    with pytest.raises(ConfigError, match=match):
        CrossEntropyOptimizer(Sphere(dim=2), **options)


def test_nan_and_wrong_shape_scores():
    fam = Normal([0.0], [1.0])

    def with_nan(X):
        s = X[:, 0].copy()
        s[3] = np.nan
        return s

    with pytest.raises(InvalidScoreError, match=r"NaN for 2 of 300 samples \(first at row 3\)"):
        maximize(with_nan, fam, n_samples=300, seed=0)
    res = maximize(with_nan, fam, n_samples=300, seed=0, nan_policy="worst", max_iter=3)
    assert np.isfinite(res.fun)
    with pytest.raises(InvalidScoreError, match=r"shape \(300,\).*got shape \(300, 1\)"):
        maximize(lambda X: X, fam, n_samples=300, seed=0, batch_size=300)
    with pytest.raises(InvalidScoreError, match="numeric"):
        maximize(lambda X: ["a"] * len(X), fam, n_samples=20, seed=0)
    opt = CrossEntropyOptimizer(lambda X: X[:, 0], fam, n_samples=20, seed=0)
    with pytest.raises(InvalidScoreError, match=r"shape \(20,\)"):
        opt.tell(opt.ask(), np.zeros(9))
    with pytest.raises(ConfigError, match=r"X must have shape \(N, 1\)"):
        opt.tell(np.zeros((20, 2)), np.zeros(20))


def test_single_sample_elite_warns():
    with pytest.warns(CEMWarning, match=r"single sample \(n_samples=5, rho=0.1\)"):
        CrossEntropyOptimizer(Sphere(dim=2), n_samples=5)


def test_sense_conflicts_and_missing_family():
    with pytest.raises(ConfigError, match="minimization problem"):
        maximize(Sphere(dim=2))
    with pytest.raises(ConfigError, match="needs a family"):
        maximize(lambda X: X.sum(1))
    with pytest.raises(ConfigError, match="family must be a cem Family"):
        CrossEntropyOptimizer(lambda X: X.sum(1), family="bernoulli")


def test_non_vectorized_callable_and_polish_best():
    from cem import FunctionProblem

    prob = FunctionProblem(lambda x: float(x.sum()), Bernoulli(np.full(5, 0.5)), vectorized=False)
    res = maximize(prob, n_samples=50, seed=0)
    assert res.fun == 5.0
    polished = maximize(MaxCut.synthetic(n=30, m=15, seed=0), n_samples=50, seed=0, max_iter=2,
                        polish="best")  # fmt: skip
    assert polished.fun >= maximize(MaxCut.synthetic(n=30, m=15, seed=0), n_samples=50, seed=0,
                                    max_iter=2).fun  # fmt: skip


def test_elite_polish_runs_once_per_distinct_candidate():
    class Counting(MaxCut):
        def polish(self, X, scores):
            self.rows.append(X.shape[0])
            return super().polish(X, scores)

    prob = Counting.synthetic(n=12, m=6, seed=0)
    prob.rows = []
    opt = CrossEntropyOptimizer(prob, n_samples=400, rho=0.1, seed=3, max_iter=15, polish="elite")
    res = opt.run()
    # the family concentrates: late elites are many copies of a few cuts, polished once each
    assert prob.rows[-1] < 40
    assert len(prob.rows) == res.nit
    # and the polished elite is what a polish of every copy gives
    X = np.repeat(np.eye(12)[:3], 5, axis=0)
    s = prob.score(X)
    X_all, s_all = MaxCut.polish(prob, X, s)
    X_once, s_once = opt._polish_distinct(X, s)
    np.testing.assert_array_equal(X_all, X_once)
    np.testing.assert_array_equal(s_all, s_once)


def test_unusable_backend_is_a_config_error():
    prob = MaxCut.synthetic(n=20, m=10, seed=0)
    with pytest.raises(ConfigError, match=r"backend='nope' cannot be used: .*loky"):
        CrossEntropyOptimizer(prob, n_samples=600, n_jobs=2, backend="nope")


def test_dask_backend_gives_the_same_run():
    distributed = pytest.importorskip("distributed")
    prob = MaxCut.synthetic(n=60, m=30, seed=2)
    kw = dict(n_samples=1000, batch_size=128, seed=11, max_iter=4)
    serial = maximize(prob, **kw)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        remote = maximize(prob, n_jobs=-1, backend="dask", **kw)
    assert _without_seconds(serial.history) == _without_seconds(remote.history)
    np.testing.assert_array_equal(serial.x, remote.x)


@pytest.mark.parametrize(("n_jobs", "backend"), [(2, None), (2, "threading")])
def test_same_run_when_scores_use_multithreaded_blas(n_jobs, backend):
    # 256 x 400 by 400 x 400 products: large enough for BLAS to split them over threads,
    # which changes their last bits unless every batch runs single-threaded
    prob = MaxCut.synthetic(n=400, m=200, seed=0)
    kw = dict(n_samples=1000, seed=1, max_iter=2)
    serial, parallel = maximize(prob, **kw), maximize(prob, n_jobs=n_jobs, backend=backend, **kw)
    assert _without_seconds(serial.history) == _without_seconds(parallel.history)
