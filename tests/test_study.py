"""Studies: cells x seeds as run directories, resumed to the same bits, the same CSV for any
number of workers or a Dask cluster, summaries, figures, and one-line errors for bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cem._jobs
import cem.errors
from cem._cli import main
from cem._study_summary import WALL_CLOCK
from cem.errors import ConfigError, RunInterrupted
from cem.study import (
    check_study,
    load_study,
    parse_grid_arg,
    parse_seeds,
    resume_study,
    run_study,
)

ROOT = Path(__file__).resolve().parents[1]
BRIDGE = ROOT / "configs" / "studies" / "bridge_rho.toml"
#: The acceptance study, 3 values of rho, with small samples; 20 seeds in the slow tier.
SMALL = ["estimator.n_samples=200", "estimator.n_final=500"]
SEEDS, ACCEPTANCE_SEEDS = "1-3", "1-20"
TSPLIB = ROOT / "problems" / "data" / "tsplib"


def _table(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV without the wall-clock columns."""
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return [{k: v for k, v in r.items() if k not in WALL_CLOCK} for r in rows]


def _study(seeds=SEEDS, figures=False):
    study = load_study(BRIDGE, seeds=seeds, overrides=SMALL)
    study.options["figures"] = figures
    return study


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted study of 3 seeds, in this process."""
    return run_study(_study(), tmp_path_factory.mktemp("ref") / "study", quiet=True)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, silence_logs=40)  # fmt: skip
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.slow
def test_sixty_run_directories_csv_summary_and_figure(tmp_path):
    study_dir, files = run_study(_study(ACCEPTANCE_SEEDS, figures=True), tmp_path / "s",
                                 quiet=True)  # fmt: skip
    runs = sorted(study_dir.glob("runs/*/seed-*"))
    assert len(runs) == 60 and all((r / "result.json").is_file() for r in runs)
    assert sorted(p.name for p in study_dir.glob("runs/*")) == [
        "00-rho=0.01", "01-rho=0.05", "02-rho=0.1"]  # fmt: skip
    rows = _table(files["runs"])
    assert len(rows) == 60 and [r["seed"] for r in rows[:3]] == ["1", "2", "3"]
    assert {r["estimator.rho"] for r in rows} == {"0.01", "0.05", "0.1"}
    for r in rows:  # the coverage column is what the interval and the exact value say
        low, high, exact = float(r["ci_low"]), float(r["ci_high"]), float(r["exact"])
        assert r["covered"] == ("true" if low <= exact <= high else "false")
    summary = list(csv.DictReader(io.StringIO(files["summary"].read_text(encoding="utf-8"))))
    assert [s["runs"] for s in summary] == ["20", "20", "20"]
    cover = [float(s["coverage"]) for s in summary]
    first = [r for r in rows if r["estimator.rho"] == "0.01"]
    assert cover[0] == sum(r["covered"] == "true" for r in first) / 20
    est = np.array([float(r["estimate"]) for r in first])
    assert float(summary[0]["empirical_re"]) == pytest.approx(est.std(ddof=1) / est.mean())
    assert "CI coverage" in files["markdown"].read_text(encoding="utf-8")
    assert files["estimates"].is_file() and files["estimates"].stat().st_size > 10_000


def test_killed_halfway_and_resumed_gives_the_same_csv(reference, tmp_path, monkeypatch):
    calls = {"n": 0}
    original = cem._jobs._LevelRecorder.__call__

    def interrupting(self, est):
        original(self, est)  # the level's checkpoint is written, then the study is killed
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt

    monkeypatch.setattr(cem._jobs._LevelRecorder, "__call__", interrupting)
    with pytest.raises(RunInterrupted, match="cem resume"):
        run_study(_study(), tmp_path / "s", quiet=True)
    monkeypatch.setattr(cem._jobs._LevelRecorder, "__call__", original)
    runs = list((tmp_path / "s").glob("runs/*/seed-*"))
    done = [r for r in runs if (r / "result.json").is_file()]
    midway = [r for r in runs if not (r / "result.json").is_file()]
    assert 1 < len(done) < 8 and len(midway) == 1  # killed inside a run
    assert (midway[0] / "checkpoint.npz").is_file()
    _, files = resume_study(tmp_path / "s", quiet=True)
    assert _table(files["runs"]) == _table(reference[1]["runs"])


@pytest.mark.slow  # over 5 s: two worker processes start
def test_n_jobs_2_gives_the_same_csv(reference, tmp_path):
    _, files = run_study(_study(), tmp_path / "s", n_jobs=2, quiet=True)
    assert _table(files["runs"]) == _table(reference[1]["runs"])


@pytest.mark.slow  # over 5 s: a local cluster starts
def test_dask_cluster_gives_the_same_csv(reference, dask_client, tmp_path):
    _, files = run_study(_study(), tmp_path / "s", dask=True, quiet=True)
    assert _table(files["runs"]) == _table(reference[1]["runs"])


@pytest.mark.slow
def test_twenty_seeds_same_csv_in_process_with_two_workers_and_on_dask(dask_client, tmp_path):
    _, serial = run_study(_study(ACCEPTANCE_SEEDS), tmp_path / "a", quiet=True)
    _, pool = run_study(_study(ACCEPTANCE_SEEDS), tmp_path / "b", n_jobs=2, quiet=True)
    _, cluster = run_study(_study(ACCEPTANCE_SEEDS), tmp_path / "c", dask=True, quiet=True)
    assert _table(serial["runs"]) == _table(pool["runs"]) == _table(cluster["runs"])
    assert len(_table(serial["runs"])) == 60


def test_seed_lists_and_grid_values():
    assert parse_seeds("1-3,7") == [1, 2, 3, 7]
    assert parse_seeds([4, 2]) == [4, 2]
    assert parse_grid_arg("problem.terminals=[0, 15],[1, 2]") == (
        "problem.terminals", [[0, 15], [1, 2]])  # fmt: skip
    assert parse_grid_arg("optimizer.polish=none,elite") == ("optimizer.polish", ["none", "elite"])
    for bad, match in [("5-1", "goes down"), ("1,1", "twice"), ("a", "not a seed"), ([], "empty")]:
        with pytest.raises(ConfigError, match=match):
            parse_seeds(bad)


def test_crossed_and_zipped_axes(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(BRIDGE.read_text(encoding="utf-8") + """
[study.zip]
"estimator.n_samples" = [200, 400]
"estimator.n_final" = [500, 1000]
""", encoding="utf-8")  # fmt: skip
    study = load_study(cfg, seeds="1-2", grid=["problem.gamma=1.5,2.0"])
    assert len(study.cells) == 3 * 2 * 2 and len(study.runs) == 24
    assert study.cells[0].label == "rho=0.01,gamma=1.5,n_samples=200,n_final=500"
    assert {(c.values["estimator.n_samples"], c.values["estimator.n_final"])
            for c in study.cells} == {(200, 500), (400, 1000)}  # fmt: skip
    zipped = load_study(BRIDGE, grid=["estimator.rho=0.1,0.2", "problem.gamma=1.5,2.0"],
                        zip_grid=True)  # fmt: skip
    assert [c.label for c in zipped.cells] == ["rho=0.1,gamma=1.5", "rho=0.2,gamma=2.0"]


def test_instances_are_an_axis_with_their_optima(tmp_path):
    for name in ("br17.atsp", "ftv33.atsp"):
        shutil.copy(TSPLIB / name, tmp_path / name)
    study = load_study(ROOT / "configs" / "tsp_br17.toml", seeds="1-2",
                       instances=[str(tmp_path / "*.atsp")],
                       overrides=["optimizer.n_samples=300", "optimizer.max_iter=4"])  # fmt: skip
    assert [c.label for c in study.cells] == ["file=br17.atsp", "file=ftv33.atsp"]
    _, files = run_study(study, tmp_path / "s", quiet=True)
    rows = _table(files["runs"])
    assert [r["known_optimum"] for r in rows] == ["39.0", "39.0", "1286.0", "1286.0"]
    assert all(r["success"] in ("true", "false") for r in rows)
    assert files["convergence"].is_file() and files["ecdf"].is_file()
    text = files["markdown"].read_text(encoding="utf-8")
    assert "| file=br17.atsp | 2 |" in text and "success" in text


def _bad(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("cem: error: ") and "\n" not in err, err
    return err


@pytest.mark.parametrize(
    ("extra", "env", "match"),
    [
        (["--grid", "estimator.rho="], {}, "is empty"),
        (["--grid", "estimator.rhoo=0.1"], {}, "unknown key of [estimator]"),
        (["--grid", "optimiser.rho=0.1"], {}, "expected section.key"),
        (["--seeds", "5-1"], {}, "goes down"),
        (["--n-jobs", "2"], {"CEM_MEMORY_LIMIT": "8M"}, "1/2 of the memory limit"),
        ([], {"CEM_DISK_LIMIT": "100K"}, "would write about"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(extra, env, match, tmp_path, capsys,
                                                  monkeypatch):  # fmt: skip
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "s"
    err = _bad(["study", str(BRIDGE), "--out", str(out), *extra], capsys)
    assert match in err
    assert not out.exists()


def test_a_directory_of_another_study_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "s"
    quick = ["--set", "estimator.n_final=300", "--set", "estimator.n_samples=200", "--quiet"]
    assert main(["study", str(BRIDGE), "--out", str(out), "--seeds", "1", *quick]) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    err = _bad(["study", str(BRIDGE), "--out", str(out), "--seeds", "2", *quick], capsys)
    assert "belongs to another study" in err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine", encoding="utf-8")
    err = _bad(["study", str(BRIDGE), "--out", str(tmp_path / "other"), *quick], capsys)
    assert "not a study directory" in err


def test_cli_study_prints_progress_and_table_and_resume_dispatches(tmp_path, capsys):
    out = tmp_path / "s"
    argv = ["study", str(BRIDGE), "--quick", "--out", str(out), "--latex",
            "--set", "estimator.n_final=300", "--set", "estimator.n_samples=200"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "9 runs (3 cells x 3 seeds)" in captured.err
    assert "[9/9 ETA 0:00] rho=0.1 seed 3: estimate " in captured.err
    assert "| rho=0.05 | 3 |" in captured.out and (out / "summary.tex").is_file()
    assert main(["resume", str(out)]) == 0
    assert "9 done, 0 to run" in capsys.readouterr().err


def test_study_options_replace_a_configs_workers_with_a_note(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text(BRIDGE.read_text(encoding="utf-8").replace(
        "n_final = 100000", "n_final = 300\nn_jobs = 2"), encoding="utf-8")  # fmt: skip
    study = load_study(cfg, seeds="1", overrides=["estimator.n_samples=200"])
    assert study.replaced == {"estimator.n_jobs": 2}
    run_study(study, tmp_path / "s")
    assert "estimator.n_jobs=2 is not used" in capsys.readouterr().err
    config = next((tmp_path / "s").glob("runs/*/seed-1/config.toml")).read_text(encoding="utf-8")
    assert "n_jobs = 1" in config and "seed = 1" in config
    assert json.loads((tmp_path / "s" / "study.json").read_text())["format"] == "cem-study/1"


@pytest.mark.slow
def test_full_bridge_study_killed_by_a_signal_resumes_to_the_same_csv(tmp_path):
    """The acceptance study at the tutorial's sizes (N = 1000, N1 = 1e5), killed with SIGKILL
    once 30 runs are done, then resumed; against an uninterrupted study."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "cem._cli", "study", str(BRIDGE), "--quiet"]
    subprocess.run([*cmd, "--out", str(tmp_path / "ref")], check=True, env=env)
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path / "s")], env=env)
    while len(list((tmp_path / "s").glob("runs/*/seed-*/result.json"))) < 30:
        assert proc.poll() is None, "the study ended before it was killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "s" / "runs.csv").exists()
    subprocess.run([sys.executable, "-m", "cem._cli", "resume", str(tmp_path / "s"), "--quiet"],
                   check=True, env=env)  # fmt: skip
    assert _table(tmp_path / "s" / "runs.csv") == _table(tmp_path / "ref" / "runs.csv")


STUDIES = sorted((ROOT / "configs" / "studies").glob("*.toml"))


@pytest.mark.parametrize("config", STUDIES, ids=[c.stem for c in STUDIES])
def test_every_study_config_and_its_quick_form_are_valid(config, tmp_path):
    full, quick = load_study(config), load_study(config, quick=True)
    assert len(full.runs) >= 10 and len(quick.runs) <= 9
    for study in (full, quick):
        check_study(study, tmp_path)


def test_validate_checks_the_cells_of_a_study_config(capsys):
    assert main(["validate", str(BRIDGE)]) == 0
    assert "[study] 3 cells x 20 seeds = 60 runs, every cell valid" in capsys.readouterr().out
    _bad(["validate", str(BRIDGE), "--set", 'study.grid={"estimator.rho" = [2.0]}'], capsys)


def test_a_failing_run_names_itself_and_the_study_keeps_the_others(tmp_path, monkeypatch):
    import cem.study

    real = cem.study.parse_config

    def failing(raw, cli=None, **kw):
        if cli and cli.get("seed") == 2:
            raise ConfigError("the simulator is down")
        return real(raw, cli, **kw)

    monkeypatch.setattr(cem.study, "parse_config", failing)
    with pytest.raises(cem.errors.CEMError, match=r"run 00-rho=0.01/seed-2: the simulator is"):
        run_study(_study(), tmp_path / "s", quiet=True)
    assert (tmp_path / "s" / "runs" / "00-rho=0.01" / "seed-1" / "result.json").is_file()
    monkeypatch.setattr(cem.study, "parse_config", real)
    _, files = resume_study(tmp_path / "s", quiet=True)
    assert len(_table(files["runs"])) == 9


def test_an_optimum_table_beside_a_users_instance_gives_the_gaps(tmp_path):
    cities = "\n".join(f"{k + 1} {x} {y}" for k, (x, y) in
                       enumerate([(0, 0), (0, 10), (10, 10), (10, 0), (5, -3)]))  # fmt: skip
    (tmp_path / "tiny5.tsp").write_text(
        "NAME: tiny5\nTYPE: TSP\nDIMENSION: 5\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
        f"{cities}\nEOF\n", encoding="utf-8")  # fmt: skip
    (tmp_path / "OPTIMA.csv").write_text("name,optimum\ntiny5,42\n", encoding="utf-8")
    study = load_study(ROOT / "configs" / "tsp_br17.toml", seeds="1",
                       instances=[str(tmp_path / "tiny5.tsp")],
                       overrides=["optimizer.n_samples=100", "optimizer.max_iter=2"])  # fmt: skip
    study.options["figures"] = False
    _, files = run_study(study, tmp_path / "s", quiet=True)
    (row,) = _table(files["runs"])
    assert row["problem.file"] == "tiny5.tsp" and row["known_optimum"] == "42.0"


@pytest.mark.filterwarnings("ignore::cem.errors.DegenerateWeightsWarning")
def test_cem_run_of_a_study_config_runs_its_base_config_once(tmp_path):
    out = tmp_path / "run"
    argv = ["run", str(BRIDGE), "--out", str(out), "--quiet", "--seed", "1",
            "--set", "estimator.n_final=500", "--set", "estimator.n_samples=200"]  # fmt: skip
    assert main(argv) in (0, 3)  # 3: an untrusted estimate
    assert "[study]" not in (out / "config.toml").read_text(encoding="utf-8")
    assert json.loads((out / "result.json").read_text())["seed"] == 1


def test_a_study_directory_cannot_grant_itself_code_imports(tmp_path, capsys):
    """study.json is data: a study directory from someone else whose file says
    ``"allow_import": true`` and whose config names a module does not import it on resume."""
    out = tmp_path / "s"
    assert main(["study", str(BRIDGE), "--quick", "--out", str(out), "--quiet"]) == 0
    path = out / "study.json"
    data = json.loads(path.read_text())
    data["base"]["problem"]["name"] = "os:system"
    data["allow_import"] = True
    from cem._study_plan import Study

    data["sha256"] = Study.from_json(data).digest  # a forger can recompute the digest
    path.write_text(json.dumps(data))
    for run in (out / "runs").rglob("timing.json"):
        run.unlink()  # every run to do again
    assert main(["resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "os:system" in err and "--allow-import" in err
