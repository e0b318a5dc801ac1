"""tied="auto": a plain nominal of >= 20 identical coordinates is tied when the score
treats them alike."""

import numpy as np
from scipy import stats

from cem.families import Exponential
from cem.rare_event import MultilevelEstimator


def test_plain_100_dimensional_exponential_sum_is_tied_and_right():
    gamma = float(stats.gamma.isf(1e-15, 100))
    est = MultilevelEstimator(lambda X: X.sum(1), Exponential(np.ones(100)), gamma,
                              n_final=20_000, rng=0)  # fmt: skip
    res = est.run()
    assert est.options["tied"] and res.trusted
    assert abs(res.estimate - 1e-15) <= 3 * res.std_error


def test_a_score_of_a_few_coordinates_keeps_separate_parameters():
    est = MultilevelEstimator(lambda X: X[:, :3].sum(1), Exponential(np.ones(50)), 25.0,
                              n_final=20_000, rng=0)  # fmt: skip
    res = est.run()
    assert not est.options["tied"]
    assert abs(res.estimate - stats.gamma.sf(25.0, 3)) <= 3 * res.std_error


def test_tied_false_is_kept():
    est = MultilevelEstimator(lambda X: X.sum(1), Exponential(np.ones(30)), 60.0,
                              n_final=2000, tied=False, rng=0)  # fmt: skip
    est.run()
    assert est.options["tied"] is False


def test_the_tying_decision_survives_a_resume():
    def make():
        return MultilevelEstimator(lambda X: X.sum(1), Exponential(np.ones(30)), 80.0,
                                   n_final=2000, rng=3)  # fmt: skip

    whole = make().run()
    first = make()
    first.optimizer.step()
    state = first.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    assert resumed.options["tied"] and not resumed.auto_tie
    res = resumed.run()
    assert res.estimate == whole.estimate
