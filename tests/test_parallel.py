"""Batches: the streaming elite equals the materialized one, failing batches name
themselves, the automatic in-process choice and timeouts, batch sizes."""

from __future__ import annotations

import tempfile
import time

import joblib
import numpy as np
import pytest

from cem import CrossEntropyOptimizer, maximize
from cem._elite import EliteCandidates, elite_threshold
from cem._parallel import BatchRunner, batch_sizes, default_batch_size
from cem.errors import BatchError, ConfigError
from cem.families import Bernoulli, Normal
from cem.problems.maxcut import MaxCut


def _history(res):
    return [(r.t, r.gamma, r.best, r.mean, r.entropy, r.evals) for r in res.history]


def _materialized(problem, family, **kw):
    """The reference: ask() the whole N x d matrix, tell() it with all its scores."""
    opt = CrossEntropyOptimizer(problem, family, **kw)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, opt.problem.score(X))
    return opt.result()


@pytest.mark.parametrize(
    ("kw", "score"),
    [
        # integer scores: many ties at gamma_t, elite larger than a batch
        (dict(n_samples=1000, batch_size=64, rho=0.2), lambda X: X.sum(axis=1)),
        # elite smaller than a batch, minimization
        (dict(n_samples=900, batch_size=256, n_elite=10), lambda X: -X[:, :4].sum(axis=1)),
        # NaN scores counted as worst
        (dict(n_samples=500, batch_size=100, nan_policy="worst"),
         lambda X: np.where(X[:, 0] > 0.5, np.nan, X.sum(axis=1))),
    ],
)  # fmt: skip
def test_streaming_elite_equals_the_materialized_iteration(kw, score):
    family = Bernoulli(np.full(12, 0.5))
    kw = dict(kw, seed=7, max_iter=6, stall_iters=None)
    streamed = maximize(score, family, **kw)
    reference = _materialized(score, family, **kw)
    assert _history(streamed) == _history(reference)
    np.testing.assert_array_equal(streamed.x, reference.x)
    np.testing.assert_array_equal(streamed.family.p, reference.family.p)


def test_streaming_keeps_the_elite_polish_and_best_so_far():
    prob = MaxCut.synthetic(n=40, m=20, seed=3)
    kw = dict(n_samples=600, batch_size=50, rho=0.05, seed=2, max_iter=4, polish="elite")
    streamed = maximize(prob, **kw)
    reference = _materialized(prob, None, **kw)
    assert _history(streamed) == _history(reference)
    np.testing.assert_array_equal(streamed.x, reference.x)


def test_elite_candidates_keep_exactly_the_rows_at_or_above_gamma():
    rng = np.random.default_rng(0)
    for n_elite, n, batch in [(5, 200, 7), (50, 300, 40), (300, 300, 64), (1, 50, 50)]:
        s = rng.integers(0, 12, size=n).astype(float)  # heavy ties
        X = np.arange(n)[:, None]
        kept = EliteCandidates(n_elite)
        for lo in range(0, n, batch):
            sb = s[lo : lo + batch]
            gb = elite_threshold(sb, min(n_elite, sb.size))
            rows = np.flatnonzero(sb >= gb) if sb.size > n_elite else np.arange(sb.size)
            kept.add(X[lo : lo + batch][rows], sb[rows])
        Xc, sc = kept.candidates()
        gamma = np.sort(s)[::-1][n_elite - 1]
        assert elite_threshold(sc, n_elite) == gamma
        np.testing.assert_array_equal(Xc[sc >= gamma, 0], np.flatnonzero(s >= gamma))


def test_an_objective_that_raises_names_iteration_and_batch():
    calls = []

    def fails_in_iteration_2(X):
        calls.append(1)
        if len(calls) == 6:  # 4 batches per iteration: iteration 2, batch 1
            raise KeyError("missing input")
        return X[:, 0]

    with pytest.raises(BatchError) as info:
        maximize(fails_in_iteration_2, Normal([0.0], [1.0]), n_samples=1000, seed=0)
    assert str(info.value) == "iteration 2, batch 1: KeyError: 'missing input'"
    assert isinstance(info.value.original, KeyError)
    assert info.value.__cause__ is None  # one line, not a chain of tracebacks


def _raises_on_the_last_batch(X):
    if X.shape[0] == 88:
        raise RuntimeError("boom")
    return X[:, 0]


def test_an_objective_that_raises_in_a_joblib_worker():
    # batches of 256, 256 and 88 (worker processes: see test_dask.py)
    with pytest.raises(BatchError, match=r"^iteration 1, batch 2: RuntimeError: boom$"):
        maximize(_raises_on_the_last_batch, Normal([0.0], [1.0]), n_samples=600, seed=0,
                 batch_size=256, backend="threading", n_jobs=2)  # fmt: skip


def _slow(X):
    time.sleep(0.04)
    return X[:, 0]


@pytest.mark.slow  # times a pool against in-process batches
def test_workers_only_when_they_pay_off():
    cheap = CrossEntropyOptimizer(lambda X: X[:, 0], Normal([0.0], [1.0]), n_samples=2048,
                                  seed=1, max_iter=2, n_jobs=2)  # fmt: skip
    cheap.run()
    assert not cheap.batch_runner.use_workers
    # eight batches of >= 40 ms: more than 0.25 s in-process, so the workers take over
    # (threads here, to keep the test quick; joblib's default is worker processes)
    slow = CrossEntropyOptimizer(_slow, Normal([0.0], [1.0]), n_samples=2048, seed=1,
                                 max_iter=2, n_jobs=2)  # fmt: skip
    with joblib.parallel_config(backend="threading"):
        res = slow.run()
    assert slow.batch_runner.use_workers
    serial = maximize(_slow, Normal([0.0], [1.0]), n_samples=2048, seed=1, max_iter=2)
    assert _history(res) == _history(serial)


@pytest.mark.slow  # over 5 s
def test_worker_processes_load_the_problem_from_one_file_per_run(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    prob = MaxCut.synthetic(n=60, m=30, seed=2)
    kw = dict(n_samples=1000, batch_size=128, seed=11, max_iter=3)
    serial = maximize(prob, **kw)
    files = []

    def seen(_opt):
        files.append(list(tmp_path.iterdir()))

    opt = CrossEntropyOptimizer(prob, n_jobs=2, backend="loky", callback=seen, **kw)
    res = opt.run()
    assert [len(f) for f in files] == [1, 1, 1]  # one file, written once, for the whole run
    assert _history(res) == _history(serial)
    np.testing.assert_array_equal(res.x, serial.x)
    assert opt.batch_runner._shared is None  # the file is removed at the end of the run
    assert not list(tmp_path.glob("cem-objective-*"))


def test_batch_timeout():
    def stuck(X):
        time.sleep(0.5)
        return X[:, 0]

    with pytest.raises(BatchError, match=r"TimeoutError: no result within batch_timeout=0.05"):
        maximize(stuck, Normal([0.0], [1.0]), n_samples=20, seed=0, backend="threading",
                 n_jobs=2, batch_timeout=0.05)  # fmt: skip
    with pytest.raises(ConfigError, match=r"batch_timeout=1\.0 needs workers"):
        maximize(stuck, Normal([0.0], [1.0]), batch_timeout=1.0)
    with pytest.raises(ConfigError, match="batch_timeout"):
        BatchRunner(stuck, batch_timeout=1.0)


def test_batches_bounded_in_numbers_and_independent_of_workers():
    assert default_batch_size(10**7, 800) == 2**22 // 800
    assert default_batch_size(100_000, 800) == 5242
    assert default_batch_size(100_000, 20) == 6250  # as before: ceil(N / 16)
    assert default_batch_size(1000, 10**6) == 256
    assert sum(batch_sizes(10**6, None, 800)) == 10**6
