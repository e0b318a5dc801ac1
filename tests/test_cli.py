"""The command line: runs, results directories, plots, plug-ins and config errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from cem._cli import main
from cem.history import History

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs").glob("*.toml"))
RUN_FILES = ("config.toml", "history.csv", "result.json", "convergence.png", "checkpoint.npz")
ESTIMATE_FILES = ("config.toml", "levels.csv", "result.json", "convergence.png")
#: For the tests of runs whose figure is not what they test (it is most of a small run's time).
NO_FIGURE = ("--set", "output.plots=false")


#: Shipped configs whose three iterations take over 5 s on two cores (the slow tier runs them,
#: and their golden files guard them).
SLOW_CONFIGS = {
    "maxcut_G1",
    "tsp_berlin52",
    "flowline_pnh",
    "buffer_allocation",
    "align_significance",
}


@pytest.mark.parametrize(
    "config",
    [pytest.param(c, marks=pytest.mark.slow) if c.stem in SLOW_CONFIGS else c for c in CONFIGS],
    ids=[c.stem for c in CONFIGS],
)
def test_every_shipped_config_runs(config, tmp_path):
    """Each shipped config runs and writes its files (the figures of every shipped config are
    tested in tests/test_figures.py)."""
    out = tmp_path / "run"
    status = main(["run", str(config), "--out", str(out), "--max-iter", "3", "--quiet",
                   *NO_FIGURE])  # fmt: skip
    if "[estimator]" in config.read_text():
        for name in ESTIMATE_FILES:
            assert (out / name).is_file() == (name != "convergence.png"), name
        result = json.loads((out / "result.json").read_text())
        assert result["nit"] <= 3
        # exit status 3 exactly when the capped levels gave an untrusted estimate
        assert status == (0 if result["trusted"] else 3)
        assert result["success"] == result["trusted"] or not result["success"]
    else:
        assert status == 0
        for name in RUN_FILES:
            assert (out / name).is_file() == (name != "convergence.png"), name
        assert len(History.read_csv(out / "history.csv")) <= 3


def test_rare_event_config_matches_the_exact_value(tmp_path):
    out = tmp_path / "run"
    cfg = str(REPO / "configs" / "rare_bridge_network.toml")
    assert main(["run", cfg, "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert abs(result["error_in_se"]) <= 3 and result["rel_error"] <= 0.05
    assert main(["resume", str(out), "--quiet"]) == 0  # from the last level: the same run
    again = json.loads((out / "result.json").read_text())
    assert again["estimate"] == result["estimate"] and again["nfev"] == result["nfev"]


@pytest.mark.slow  # a full run; its golden file and the README check run it too
def test_tutorial_config_reaches_the_known_optimum(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(REPO / "configs" / "maxcut_tutorial.toml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[:3] == ["t", "gamma_t", "best"]
    assert "known optimum: 40000" in printed
    result = json.loads((out / "result.json").read_text())
    assert result["best_score"] == result["known_optimum"] == 40000.0
    assert result["gap"] == 0.0 and result["seed"] == 1
    assert (out / "convergence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    resolved = (out / "config.toml").read_text()
    assert "n_samples = 1000" in resolved and "seed = 1" in resolved


def test_seed_is_recorded_when_drawn(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[problem]\nname = "maxcut"\ninstance = "tutorial5"\n[optimizer]\nn_samples = 50\n'
    )
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out), "--quiet", *NO_FIGURE]) == 0
    seed = json.loads((out / "result.json").read_text())["seed"]
    assert isinstance(seed, int)
    again = tmp_path / "again"
    assert main(["run", str(out / "config.toml"), "--out", str(again), "--quiet", *NO_FIGURE]) == 0
    assert (again / "history.csv").read_text().split("\n")[1].split(",")[:5] == (
        (out / "history.csv").read_text().split("\n")[1].split(",")[:5]
    )


def test_existing_run_directory_is_not_overwritten(tmp_path, capsys):
    cfg = str(REPO / "configs" / "maxcut_tutorial5.toml")
    out = tmp_path / "run"
    assert main(["run", cfg, "--out", str(out), "--quiet", *NO_FIGURE]) == 0
    assert main(["run", cfg, "--out", str(out), "--quiet", *NO_FIGURE]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["run", cfg, "--out", str(out), "--quiet", "--force", *NO_FIGURE]) == 0


def test_default_run_directories_are_new_and_timestamped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = str(REPO / "configs" / "maxcut_tutorial5.toml")
    assert main(["run", cfg, "--quiet", *NO_FIGURE]) == 0
    assert main(["run", cfg, "--quiet", *NO_FIGURE]) == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all(r.name.startswith("maxcut_tutorial5-") for r in runs)


def test_plot_overlays_runs(tmp_path):
    cfg = str(REPO / "configs" / "maxcut_tutorial5.toml")
    for seed in (1, 2):
        main(["run", cfg, "--out", str(tmp_path / f"r{seed}"), "--seed", str(seed), "--quiet",
              *NO_FIGURE])  # fmt: skip
    out = tmp_path / "cmp.png"
    assert main(["plot", str(tmp_path / "r1"), str(tmp_path / "r2"), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert main(["plot", str(tmp_path / "missing")]) == 2


def test_validate_problems_and_options(capsys):
    assert main(["validate", str(REPO / "configs" / "maxcut_G1.toml")]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["problems"]) == 0
    listing = capsys.readouterr().out
    for name in ("maxcut", "bimodal", "rosenbrock"):
        assert name in listing
    assert "parameters: instance, n, m, seed, file, fix_first" in listing
    assert main(["options"]) == 0
    assert "| `rho` | `0.1` |" in capsys.readouterr().out


PLUGIN = textwrap.dedent(
    """
    import time
    import numpy as np
    from cem import Problem
    from cem.families import Bernoulli
    from cem.problems.maxcut import MaxCut

    class OneMax(Problem):
        '''Number of ones in a binary vector.'''
        sense = "max"
        def __init__(self, dim=10):
            self.dim = dim
            self.known_optimum = float(dim)
        def score(self, X):
            return X.sum(axis=1)
        def initial_family(self):
            return Bernoulli(np.full(self.dim, 0.5))

    class SlowCut(MaxCut):
        '''The synthetic max-cut, slowed down to be interrupted.'''
        def __init__(self, delay=0.05):
            other = MaxCut.synthetic(n=60, m=30, seed=3)
            super().__init__(other.weights, known_optimum=other.known_optimum)
            self.delay = delay
        def score(self, X):
            time.sleep(self.delay)
            return super().score(X)
    """
)


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "cemplugin_demo.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_module_class_problem_path(plugin_dir, tmp_path):
    cfg = tmp_path / "onemax.toml"
    cfg.write_text('[problem]\nname = "cemplugin_demo:OneMax"\ndim = 12\n[optimizer]\nseed = 0\n')
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 2  # importing needs opt-in
    assert main(["run", str(cfg), "--out", str(out), "--quiet", "--allow-import"]) == 0
    assert json.loads((out / "result.json").read_text())["best_score"] == 12.0


def _history_without_seconds(run_dir: Path) -> list[tuple]:
    return [(r.t, r.gamma, r.best, r.mean, r.entropy, r.evals)
            for r in History.read_csv(run_dir / "history.csv")]  # fmt: skip


@pytest.mark.slow  # over 5 s
def test_killed_run_resumes_to_the_identical_result(plugin_dir, tmp_path):
    cfg = tmp_path / "slow.toml"
    cfg.write_text(
        '[problem]\nname = "cemplugin_demo:SlowCut"\n'
        "[optimizer]\nn_samples = 300\nseed = 7\nmax_iter = 14\nstall_iters = 50\n"
    )
    reference = tmp_path / "reference"
    assert main(["run", str(cfg), "--out", str(reference), "--quiet", "--allow-import", "--set",
                 "problem.delay=0.0"]) == 0  # fmt: skip

    killed = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(plugin_dir), *sys.path]))
    argv = ["run", str(cfg), "--out", str(killed), "--quiet", "--allow-import"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cem._cli", *argv],
        env=env,
        cwd=tmp_path,  # the installed cem, not the source tree (where cem.problems is not)
    )
    import time

    deadline = time.monotonic() + 60
    t = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with np.load(killed / "checkpoint.npz", allow_pickle=False) as npz:
                t = json.loads(npz["meta"].tobytes())["t"]
        except (OSError, ValueError, KeyError):
            t = 0
        if t >= 4:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert proc.returncode == -9, "the run finished before it could be killed"
    assert 4 <= t < 14
    assert not (killed / "result.json").exists()
    assert main(["resume", str(killed), "--quiet"]) == 2  # importing needs opt-in
    assert main(["resume", str(killed), "--quiet", "--allow-import"]) == 0
    assert _history_without_seconds(killed) == _history_without_seconds(reference)
    a = json.loads((killed / "result.json").read_text())
    b = json.loads((reference / "result.json").read_text())
    assert (a["best_score"], a["status"]) == (b["best_score"], b["status"])
    with np.load(killed / "arrays.npz") as xa, np.load(reference / "arrays.npz") as xb:
        assert np.array_equal(xa["x"], xb["x"])


def test_resume_errors(tmp_path):
    assert main(["resume", str(tmp_path)]) == 2


def _history_without_seconds(run_dir: Path) -> list[list[str]]:
    lines = (run_dir / "history.csv").read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name != "seconds"]
    return [[row.split(",")[i] for i in keep] for row in lines]


@pytest.mark.slow  # over 10 s
def test_dask_flag_runs_on_a_local_cluster_with_the_same_result(tmp_path):
    pytest.importorskip("distributed")
    config = str(REPO / "configs" / "maxcut_tutorial.toml")
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert main(["run", config, "--out", str(local), "--quiet", "--max-iter", "3"]) == 0
    argv = ["run", config, "--out", str(remote), "--quiet", "--max-iter", "3", "--dask"]
    assert main(argv) == 0
    assert 'backend = "dask"' in (remote / "config.toml").read_text()
    assert _history_without_seconds(local) == _history_without_seconds(remote)


def test_dask_backend_without_a_client_says_how(tmp_path, capsys):
    pytest.importorskip("distributed")
    config = str(REPO / "configs" / "maxcut_tutorial.toml")
    assert main(["validate", config, "--set", 'optimizer.backend="dask"']) == 2
    assert "--dask" in capsys.readouterr().err
