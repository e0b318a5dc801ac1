"""``keep_elite``: the best rows of an elite compete in the next iteration's selection."""

from __future__ import annotations

import numpy as np
import pytest

from cem import CrossEntropyOptimizer, maximize
from cem._checkpoint import read_checkpoint, write_checkpoint
from cem.errors import ConfigError
from cem.families import Bernoulli
from cem.problems.maxcut import MaxCut


def _history(res):
    return [(r.t, r.gamma, r.best, r.mean, r.entropy, r.evals) for r in res.history]


def test_off_by_default_and_zero_is_the_plain_loop():
    prob = MaxCut.synthetic(n=40, m=20, seed=0)
    plain = maximize(prob, n_samples=300, seed=5, max_iter=6)
    zero = maximize(prob, n_samples=300, seed=5, max_iter=6, keep_elite=0)
    assert _history(plain) == _history(zero)
    np.testing.assert_array_equal(plain.x, zero.x)


def test_the_kept_rows_join_the_next_selection():
    prob = MaxCut.synthetic(n=40, m=20, seed=1)
    opt = CrossEntropyOptimizer(prob, n_samples=200, rho=0.05, seed=2, keep_elite=3,
                                polish="elite", stall_iters=None)  # fmt: skip
    best_of_elite = []
    for _ in range(6):
        kept = opt.kept
        opt.step()
        X_elite = opt.elite[0]
        s_elite = prob.score(X_elite)
        best_of_elite.append(s_elite.max())
        # the kept rows are the best distinct rows of the elite, with their own scores
        X_kept, s_kept = opt.kept
        _, first = np.unique(X_elite, axis=0, return_index=True)
        assert len({row.tobytes() for row in X_kept}) == X_kept.shape[0] == min(3, first.size)
        np.testing.assert_allclose(s_kept, prob.score(X_kept), rtol=1e-12)
        top = np.sort(s_elite[first])[::-1][: X_kept.shape[0]]
        np.testing.assert_allclose(np.sort(s_kept)[::-1], top, rtol=1e-12)
        if kept is not None:  # the polish never worsens a row, so the elite keeps its best
            assert s_elite.max() >= kept[1].max() - 1e-9
    assert np.all(np.diff(best_of_elite) >= -1e-9)


def test_resume_is_exact_with_kept_rows(tmp_path):
    prob = MaxCut.synthetic(n=40, m=20, seed=0)
    kw = dict(n_samples=300, seed=5, stall_iters=None, keep_elite=4)
    full = maximize(prob, max_iter=10, **kw)
    first = CrossEntropyOptimizer(prob, max_iter=4, **kw)
    first.run()
    second = CrossEntropyOptimizer(prob, max_iter=10, **{**kw, "seed": 0})
    second.load_state_dict(first.state_dict())
    res = second.run()
    assert _history(res) == _history(full)
    np.testing.assert_array_equal(res.x, full.x)
    # through a checkpoint file, as cem resume reads it
    path = tmp_path / "checkpoint.npz"
    write_checkpoint(path, first.state_dict(), [], "digest")
    third = CrossEntropyOptimizer(prob, max_iter=10, **{**kw, "seed": 0})
    third.load_state_dict(read_checkpoint(path, first.family, "digest")["optimizer"])
    assert _history(third.run()) == _history(full)


def test_keep_elite_is_for_optimizations():
    prob = MaxCut.synthetic(n=10, m=5, seed=0)
    with pytest.raises(ConfigError, match="keep_elite"):
        CrossEntropyOptimizer(prob, nominal=Bernoulli(np.full(10, 0.5)), keep_elite=2)
    opt = CrossEntropyOptimizer(prob, n_samples=50, keep_elite=2, seed=0)
    X = opt.ask()
    with pytest.raises(ConfigError, match="keep_elite=2"):
        opt.tell(X, prob.score(X), weights=np.ones(50))
    with pytest.raises(ConfigError, match="keep_elite"):
        CrossEntropyOptimizer(prob, keep_elite=-1)
