"""Multilevel CE as a driver over the CE optimizer: ask/tell with likelihood-ratio weights,
the levels' history and stopping rules, and an estimation killed mid-run that resumes to
the identical result."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from cem import CrossEntropyOptimizer
from cem._cli import main
from cem._jobs import _LevelRecorder
from cem.errors import ConfigError, NotRareWarning
from cem.families import Exponential, Normal
from cem.rare_event import MultilevelEstimator, estimate_probability
from cem.runner import resume

U = np.array([0.25, 0.4, 0.1, 0.3, 0.2])


def shortest_path(X: np.ndarray) -> np.ndarray:
    return np.minimum.reduce(
        [X[:, 0] + X[:, 3], X[:, 0] + X[:, 2] + X[:, 4], X[:, 1] + X[:, 4],
         X[:, 1] + X[:, 2] + X[:, 3]]
    )  # fmt: skip


@pytest.mark.filterwarnings("ignore::cem.errors.DegenerateWeightsWarning")  # n_final = 1000
def test_ask_tell_with_likelihood_ratios_gives_the_estimators_levels():
    """Driving the optimizer by hand, with weights f(x; u) / f(x; v) passed to tell and
    the level capped by hand, reproduces the estimator's levels to the bit."""
    nominal = Exponential(U)
    est = MultilevelEstimator(shortest_path, nominal, 2.0, n_samples=1000, n_final=1000, rng=5)
    res = est.run()
    # n_elite = N: every row told is elite, so the caller chooses the elite
    opt = CrossEntropyOptimizer(shortest_path, nominal, rng=5, n_samples=1000, n_elite=1000,
                                alpha=1.0, stall_iters=None, degenerate_tol=None)  # fmt: skip
    for level in res.levels:
        X = opt.ask()
        s = shortest_path(X)
        gamma_t = min(2.0, np.sort(s)[-100])
        elite = s >= gamma_t
        log_w = nominal.log_pdf(X[elite]) - opt.family.log_pdf(X[elite])
        opt.tell(X[elite], s[elite], weights=np.exp(log_w - log_w.max()))
        assert gamma_t == level.gamma
        assert np.array_equal(opt.family.params()["mean"], level.params["mean"])
    assert len(res.history) == res.nit == len(res.levels)
    assert res.history["gamma"][-1] == 2.0
    assert res.nfev == 1000 * res.nit + 1000


def test_tell_rejects_bad_weights():
    opt = CrossEntropyOptimizer(lambda X: X.sum(1), Normal(np.zeros(2), 1.0), n_samples=50, rng=0)
    X = opt.ask()
    for bad in (np.ones(3), -np.ones(50), np.full(50, np.nan)):
        with pytest.raises(ConfigError, match="weights must be 50 finite nonnegative"):
            opt.tell(X, X.sum(1), weights=bad)
    with pytest.raises(ConfigError, match="level must be a finite number"):
        CrossEntropyOptimizer(lambda X: X.sum(1), Normal(np.zeros(2), 1.0), level=np.nan)


def test_levels_stop_on_callback_and_max_time_then_the_final_run():
    calls = []

    def stop_after_one(est):
        calls.append(len(est.levels))
        return True

    with pytest.warns(Warning):
        res = estimate_probability(shortest_path, Exponential(U), 2.0, n_final=2000, rng=1,
                                   callback=stop_after_one)  # fmt: skip
    assert calls == [1] and res.levels_status == "stopped" and res.nit == 1 and not res.trusted
    assert res.status == "untrusted" and res.success is False
    assert "stopped" in res.message and res.nfev == 1000 + 2000
    with pytest.warns(NotRareWarning, match="max_levels=2"):
        res = estimate_probability(shortest_path, Exponential(U), 2.0, n_final=2000, rng=1,
                                   max_levels=2)  # fmt: skip
    assert res.levels_status == "max_levels" and res.nit == 2


@pytest.fixture
def bridge_config(tmp_path):
    cfg = tmp_path / "bridge.toml"
    cfg.write_text(
        '[problem]\nname = "bridge_network"\ngamma = 3.0\n'
        "[estimator]\nn_samples = 1000\nn_final = 5000\nseed = 7\n"
        "[output]\nplots = false\nfail_untrusted = false\n"
    )
    return cfg


@pytest.mark.filterwarnings("ignore::cem.errors.DegenerateWeightsWarning")  # n_final = 5000
def test_killed_estimation_resumes_to_the_identical_result(bridge_config, tmp_path, monkeypatch):
    full = tmp_path / "full"
    assert main(["run", str(bridge_config), "--out", str(full), "--quiet"]) == 0
    levels = json.loads((full / "result.json").read_text())["nit"]
    assert levels >= 3

    record = _LevelRecorder.__call__

    def killed_after_level_2(self, est):
        record(self, est)
        if len(est.levels) == 2:
            raise KeyboardInterrupt

    killed = tmp_path / "killed"
    monkeypatch.setattr(_LevelRecorder, "__call__", killed_after_level_2)
    assert main(["run", str(bridge_config), "--out", str(killed), "--quiet"]) == 130
    monkeypatch.setattr(_LevelRecorder, "__call__", record)
    assert (killed / "checkpoint.npz").is_file() and not (killed / "result.json").exists()
    _, result = resume(killed, quiet=True)
    a, b = (json.loads((d / "result.json").read_text()) for d in (full, killed))
    for key in ("estimate", "log_estimate", "std_error", "ess", "hits", "nit", "nfev",
                "level_ess", "vov", "status"):  # fmt: skip
        assert a[key] == b[key], key
    assert (full / "levels.csv").read_text() == (killed / "levels.csv").read_text()
    ha, hb = ((d / "history.csv").read_text().splitlines() for d in (full, killed))
    assert [r.split(",")[:5] for r in ha] == [r.split(",")[:5] for r in hb]
    assert result.nit == levels


@pytest.fixture
def pmc_run(tmp_path):
    """The run directory of a network reliability estimate by permutation Monte Carlo: an
    estimation without levels."""
    cfg = tmp_path / "pmc.toml"
    cfg.write_text('[problem]\nname = "network_reliability"\nnetwork = "bridge"\nq = 0.01\n'
                   'method = "pmc"\n[estimator]\nn_final = 1000\nseed = 1\n'
                   "[output]\nplots = false\n")  # fmt: skip
    out = tmp_path / "r"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    return out


def test_resume_refuses_an_estimation_without_levels(pmc_run, capsys):
    out = pmc_run
    assert main(["resume", str(out)]) == 2
    assert "without levels to resume" in capsys.readouterr().err


def test_a_mixture_that_changes_its_number_of_components_is_checkpointed(tmp_path):
    """A NormalMixture with max_components may fit fewer components than it started with:
    its checkpoint and levels.csv keep every level."""
    from cem._checkpoint import read_checkpoint, write_checkpoint
    from cem.families import NormalMixture
    from cem.rare_event import LevelRecord
    from cem.rundir import LEVELS, write_levels

    start = NormalMixture.standard(3, 2, max_components=3)
    est = MultilevelEstimator(lambda X: X.sum(1), Normal(np.zeros(2), 1.0), 5.0, family=start,
                              n_final=100, rng=0)  # fmt: skip
    est.optimizer.step()  # one level, recorded by the estimator
    two = NormalMixture([0.5, 0.5], [[1.0, 2.0], [3.0, 4.0]], [[1.0, 1.0], [1.0, 1.0]],
                        max_components=3)  # fmt: skip
    est.optimizer.family = two  # as if the fit had chosen two components
    est.levels.append(LevelRecord(2, 2.0, two.params()))
    est.level_ess.append(0.9)
    state = est.state_dict()
    write_checkpoint(tmp_path / "c.npz", state["optimizer"], [], "x", levels=state)
    back = read_checkpoint(tmp_path / "c.npz", start, "x")
    assert back["optimizer"]["family"] == two
    assert back["levels"]["levels"][1][2]["means"].shape == (2, 2)
    fixed = NormalMixture.standard(3, 2)
    with pytest.raises(Exception, match="damaged checkpoint: family parameter"):
        read_checkpoint(tmp_path / "c.npz", fixed, "x")
    three = LevelRecord(3, 2.5, start.params())
    write_levels(tmp_path, [est.levels[1], three])
    rows = list(csv.reader(io.StringIO((tmp_path / LEVELS).read_text())))
    assert len({len(r) for r in rows}) == 1 and "means[2,1]" in rows[0]  # the largest K
    assert rows[1][-1] == "" and rows[2][-1] != ""


@pytest.mark.parametrize("conditional", [False, True])
def test_an_estimation_driven_by_ask_and_tell_equals_run(conditional):
    """An external simulator drives the estimation: every level and the final run by
    ask/tell, with the same samples and the same result as run()."""
    from cem.problems.rare_events import BridgeNetwork

    prob = BridgeNetwork(2.0)
    options = {"n_final": 3000, "rng": 4, "conditional": conditional}
    want = prob.estimator(**options).run()
    est = prob.estimator(**options)
    result = None
    while result is None:
        X = est.ask()
        final = est.optimizer.stop()
        result = est.tell(X, None if final and conditional else prob.score(X))
    assert len(est.levels) == want.nit
    for key in ("estimate", "std_error", "ess", "hits", "nfev", "status", "method"):
        assert result[key] == want[key], key
    with pytest.raises(ConfigError, match="final run's"):
        est.tell(X, np.zeros(len(X)) if conditional else None)


def test_warnings_name_the_callers_line():
    """A warning raised deep inside a level or the final run names the user's call."""
    with pytest.warns(NotRareWarning) as record:
        estimate_probability(shortest_path, Exponential(U), 2.0, n_final=2000, rng=1,
                             max_levels=1)  # fmt: skip
    assert {w.filename for w in record} == {__file__}


def test_samples_per_level_fit_the_dimension():
    """N = max(1000, 25 d) by default: enough elite per fitted coordinate in d = 100."""
    from cem.rare_event import level_samples

    assert level_samples(None, Normal(np.zeros(100), 1.0)) == 2500
    assert level_samples(None, Exponential(U)) == 1000
    assert level_samples(300, Normal(np.zeros(100), 1.0)) == 300
    est = MultilevelEstimator(lambda X: X.sum(1), Normal(np.zeros(100), 1.0), 40.0, rng=0)
    assert est.optimizer.options["n_samples"] == 2500


def test_cem_plot_redraws_an_estimations_levels(pmc_run, tmp_path, monkeypatch):
    """`cem plot` on an estimation draws its levels and interval, as the run did, also for
    a method without levels (no history)."""
    import cem.plotting

    drawn = []
    real = cem.plotting.plot_levels
    monkeypatch.setattr(cem.plotting, "plot_levels",
                        lambda *a, **k: drawn.append(a) or real(*a, **k))  # fmt: skip
    out = pmc_run
    assert not (out / "history.csv").exists()
    assert main(["plot", str(out), "--out", str(tmp_path / "levels.png")]) == 0
    result, gamma = drawn[-1][:2]
    summary = json.loads((out / "result.json").read_text())
    assert result.estimate == summary["estimate"] and gamma == summary["gamma"]
    assert (tmp_path / "levels.png").is_file()


@pytest.mark.filterwarnings("ignore::cem.errors.DegenerateWeightsWarning")  # n_final = 5000
def test_a_crafted_estimation_checkpoint_is_refused(bridge_config, tmp_path, capsys):
    """The levels' part of a checkpoint from someone else is data, checked before use."""
    out = tmp_path / "run"
    assert main(["run", str(bridge_config), "--out", str(out), "--quiet"]) == 0
    path = out / "checkpoint.npz"
    good = dict(np.load(path))
    meta = json.loads(good["meta"].tobytes())

    def with_levels(**changes):
        m = {**meta, "levels": {**meta["levels"], **changes}}
        return {**good, "meta": np.frombuffer(json.dumps(m).encode(), dtype=np.uint8)}

    crafted = [
        with_levels(level_ess=meta["levels"]["level_ess"] + [1.0]),  # one more than levels
        with_levels(gamma=[float("nan")] * len(meta["levels"]["gamma"])),
        with_levels(t="123"),
        {**good, "last_elite": np.zeros((3, 2))},  # 2 coordinates, the bridge has 5
        {k: v for k, v in good.items() if k != "level.0.mean"},
    ]
    for arrays in crafted:
        np.savez(path, **arrays)
        assert main(["resume", str(out), "--quiet"]) == 2
        assert "damaged checkpoint" in capsys.readouterr().err


def test_validate_refuses_conditional_monte_carlo_without_a_hook(capsys):
    from pathlib import Path

    cfg = Path(__file__).resolve().parents[1] / "configs" / "rare_k_out_of_n.toml"
    assert main(["validate", str(cfg), "--set", "estimator.conditional=true"]) == 2
    assert "KOutOfN defines no conditional_probability" in capsys.readouterr().err
