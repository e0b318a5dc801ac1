"""Dask: a LocalCluster of two worker processes gives the run of n_jobs=1, survives a
killed worker, reports a failing batch in one line, and receives the problem once."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest

from cem import CrossEntropyOptimizer, maximize
from cem.errors import BatchError
from cem.problems.maxcut import MaxCut

distributed = pytest.importorskip("distributed")
#: A local cluster of two worker processes takes seconds to start and to stop: the slow tier
#: runs these tests (.ci/run runs it on every landing).
pytestmark = pytest.mark.slow

KW = dict(n_samples=600, batch_size=100, seed=3, max_iter=3, stall_iters=None)


def _history(res):
    return [(r.t, r.gamma, r.best, r.mean, r.entropy, r.evals) for r in res.history]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
        silence_logs=40,
    )  # fmt: skip
    with cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def problem():
    return MaxCut.synthetic(n=200, m=100, seed=1)


@pytest.fixture(scope="module")
def serial(problem):
    return maximize(problem, **KW)


def test_same_history_as_n_jobs_1_and_problem_sent_once(client, problem, serial):
    opt = CrossEntropyOptimizer(problem, backend="dask", n_jobs=-1, **KW)
    res = opt.run()
    assert _history(res) == _history(serial)
    np.testing.assert_array_equal(res.x, serial.x)
    np.testing.assert_array_equal(res.family.p, serial.family.p)
    runner = opt.batch_runner
    batches = KW["max_iter"] * KW["n_samples"] // KW["batch_size"]
    problem_bytes = len(pickle.dumps(problem))
    assert runner.bytes_scattered >= problem_bytes  # once per run
    # each batch carries the family, its size and seed, not the 200 x 200 matrix
    assert runner.bytes_sent / batches < problem_bytes / 20


class KillsItsWorkerOnce(MaxCut):
    """Max-cut whose first scoring in a worker ends that worker's process."""

    marker: str = ""

    def score(self, X):
        if not os.path.exists(self.marker):
            Path(self.marker).touch()
            os._exit(1)
        return super().score(X)


def test_a_killed_worker_is_recovered(client, problem, serial, tmp_path):
    killer = KillsItsWorkerOnce(problem.weights)
    killer.marker = str(tmp_path / "killed")
    res = maximize(killer, backend="dask", n_jobs=-1, **KW)
    assert Path(killer.marker).exists()
    assert _history(res) == _history(serial)


def _fails_on_batch_2(X):
    if X.shape[0] == 77:
        raise ValueError("the simulator\ndiverged")
    return X.sum(axis=1)


def test_an_objective_that_raises_is_one_line_naming_iteration_and_batch(client, problem):
    start = np.full(problem.n, 0.5)
    with pytest.raises(BatchError) as info:
        # batches of 100, 100, 77: the third (batch 2) raises, in iteration 1
        maximize(_fails_on_batch_2, family_of(start), backend="dask", n_samples=277,
                 batch_size=100, seed=0)  # fmt: skip
    err = info.value
    assert str(err) == "iteration 1, batch 2: ValueError: the simulator diverged"
    assert (err.iteration, err.batch, err.kind) == (1, 2, "ValueError")
    assert isinstance(err.original, ValueError)
    assert "_fails_on_batch_2" in err.remote_traceback


def family_of(p):
    from cem.families import Bernoulli

    return Bernoulli(p)


def _slow(X):
    time.sleep(1.5)
    return X.sum(axis=1)


def test_batch_timeout(client, problem):
    with pytest.raises(BatchError, match=r"iteration 1, batch 0: TimeoutError: .*0\.2 seconds"):
        maximize(_slow, family_of(np.full(5, 0.5)), backend="dask", n_samples=100,
                 batch_timeout=0.2, seed=0)  # fmt: skip


class KillsTwoWorkers(MaxCut):
    """Max-cut whose first two scorings (in whichever workers) end their worker processes."""

    folder: str = ""

    def score(self, X):
        for k in range(2):
            try:
                os.close(os.open(os.path.join(self.folder, f"killed{k}"), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            os._exit(1)
        return super().score(X)


def test_two_workers_killed_in_quick_succession_are_survived(client, problem, serial, tmp_path):
    """Both workers holding the scattered problem die; it is sent again to the restarted
    workers and the run ends with the history of n_jobs=1."""
    killer = KillsTwoWorkers(problem.weights)
    killer.folder = str(tmp_path)
    res = maximize(killer, backend="dask", n_jobs=-1, **KW)
    assert (tmp_path / "killed0").exists() and (tmp_path / "killed1").exists()
    assert _history(res) == _history(serial)
