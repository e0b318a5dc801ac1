"""Trust and safety: no code from data, resume integrity, one-line errors, intact data."""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest

import cem._io
from cem import CrossEntropyOptimizer, maximize
from cem._checkpoint import read_checkpoint
from cem._cli import main
from cem.config import load_config
from cem.errors import (
    BatchError,
    CEMWarning,
    CheckpointError,
    ConfigError,
    DataFormatError,
    ResourceLimitError,
)
from cem.families import Bernoulli, Normal
from cem.problems.buffer_allocation.production_line import exact_throughput, stationary_distribution
from cem.problems.maxcut import MaxCut, bundled_gset, read_gset
from cem.problems.tsp import TSP
from cem.problems.tsp.tsplib import bundled_instance_path, read_tsplib
from cem.runner import resume

SMALL = """[problem]
name = "maxcut"
instance = "synthetic"
n = 20
[optimizer]
n_samples = 60
seed = 3
max_iter = 4
stall_iters = 50
[output]
plots = false
"""


class Exploit:
    """Unpickling this touches a file: what a hostile checkpoint would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def one_line_error(capsys, argv: list[str], code: int = 2) -> str:
    capsys.readouterr()
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("cem: error: "), err
    return err


@pytest.fixture
def run_dir(tmp_path, capsys) -> Path:
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out), "--quiet", "--max-iter", "2"]) == 0
    # a run cut short: its checkpoint after iteration 2 and its results are there
    (out / "result.json").unlink()
    return out


# ------------------------------------------------------------------ 1. no code from data
def test_crafted_checkpoint_runs_no_code(run_dir, tmp_path, capsys):
    marker = tmp_path / "PWNED"
    arrays = dict(np.load(run_dir / "checkpoint.npz"))
    arrays["family.p"] = np.array([Exploit(marker)], dtype=object)
    np.savez(run_dir / "checkpoint.npz", **arrays)  # an object array: a pickle inside
    err = one_line_error(capsys, ["resume", str(run_dir)])
    assert "damaged" in err and not marker.exists()
    (run_dir / "checkpoint.npz").unlink()
    (run_dir / "checkpoint.pkl").write_bytes(pickle.dumps(Exploit(marker)))
    err = one_line_error(capsys, ["resume", str(run_dir)])
    assert "checkpoint.pkl" in err and "never loaded" in err and not marker.exists()


@pytest.mark.parametrize("where", ["problem", "family"])
def test_crafted_config_runs_no_code(tmp_path, capsys, where, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    hostile = f'name = "os:system"\ncommand = "touch {marker}"'
    text = (f"[problem]\n{hostile}\n" if where == "problem"
            else f'[problem]\nname = "sphere"\n[family]\ntype = "os:system"\ncommand = "touch {marker}"\n')  # fmt: skip  # noqa: E501
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    for argv in (["validate", str(cfg)], ["run", str(cfg), "--out", str(tmp_path / "r")]):
        assert "--allow-import" in one_line_error(capsys, argv)
    assert not marker.exists()
    with pytest.raises(ConfigError, match="allow_import"):
        load_config(cfg)


# ------------------------------------------------------------------ 4. resume integrity
def test_resume_continues_to_the_uninterrupted_result(run_dir, tmp_path):
    stale = run_dir / ".checkpoint.npz.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    resume(run_dir, quiet=True)
    assert not stale.exists()
    full = tmp_path / "full"
    assert main(["run", str(tmp_path / "small.toml"), "--out", str(full), "--quiet",
                 "--max-iter", "2"]) == 0  # fmt: skip
    a, b = (json.loads((d / "result.json").read_text()) for d in (run_dir, full))
    assert a["best_score"] == b["best_score"] and a["seed"] == b["seed"] == 3
    assert a["config_sha256"] == b["config_sha256"]
    with np.load(run_dir / "arrays.npz") as xa, np.load(full / "arrays.npz") as xb:
        assert np.array_equal(xa["x"], xb["x"])


def test_resume_after_a_config_edit(run_dir, capsys):
    cfg = run_dir / "config.toml"
    cfg.write_text(cfg.read_text().replace("n_samples = 60", "n_samples = 61"))
    err = one_line_error(capsys, ["resume", str(run_dir)])
    assert "config.toml changed" in err
    _, result = resume(run_dir, quiet=True, allow_config_change=True)
    summary = json.loads((run_dir / "result.json").read_text())
    assert summary["resumed_with_changed_config"] is True and result.nit >= 2


def _mutations(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    meta = json.loads(arrays["meta"].tobytes())

    def with_meta(**changes):
        m = {**meta, **changes}
        return {**arrays, "meta": np.frombuffer(json.dumps(m).encode(), dtype=np.uint8)}

    def without(key):
        return {k: v for k, v in arrays.items() if k != key}

    p = arrays["family.p"]
    return {
        "version": with_meta(version=1),
        "format": with_meta(format="other"),
        "family type": with_meta(family_type="Normal"),
        "t": with_meta(t=7),
        "negative t": with_meta(t=-1),
        "history": with_meta(history=[]),
        "history values": with_meta(history=[{"t": "x"}] * meta["t"]),
        "seed": with_meta(seed_entropy=-5),
        "spawn key": with_meta(seed_spawn_key=["a"]),
        "best score": with_meta(best_score="high"),
        "stop": with_meta(stop=[1]),
        "meta not json": {**arrays, "meta": np.frombuffer(b"{not json", dtype=np.uint8)},
        "meta not bytes": {**arrays, "meta": np.zeros(3)},
        "no meta": without("meta"),
        "no family": without("family.p"),
        "no best_x": without("best_x"),
        "p shape": {**arrays, "family.p": p[:-1]},
        "p nan": {**arrays, "family.p": np.full_like(p, np.nan)},
        "p above 1": {**arrays, "family.p": p + 2},
        "p text": {**arrays, "family.p": p.astype(str)},
        "extra param": {**arrays, "family.q": p},
        "best_x shape": {**arrays, "best_x": arrays["best_x"][:3]},
        "recorded": {**arrays, "recorded.p": arrays["recorded.p"][:1]},
    }


def test_damaged_checkpoints_are_refused_in_one_line(run_dir, capsys):
    path = run_dir / "checkpoint.npz"
    good = path.read_bytes()
    arrays = dict(np.load(path))
    family = load_config(run_dir / "config.toml").family
    cases = 0
    accepted = []
    for label, mutated in _mutations(arrays).items():
        np.savez(path, **mutated)
        try:
            read_checkpoint(path, family, "", allow_config_change=True)
            accepted.append(label)
        except CheckpointError:
            pass
        cases += 1
    assert accepted == []
    rng = np.random.default_rng(0)
    for cut in [0, 1, 10, 100, len(good) // 2, len(good) - 1]:
        path.write_bytes(good[:cut])
        one_line_error(capsys, ["resume", str(run_dir)])
        cases += 1
    for _ in range(10):  # flipped bytes: refused, or still a valid zip of valid arrays
        data = bytearray(good)
        data[int(rng.integers(len(data)))] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            read_checkpoint(path, family, "", allow_config_change=True)
        except CheckpointError:
            pass
        cases += 1
    assert cases >= 35
    path.write_bytes(good)
    assert main(["resume", str(run_dir), "--quiet"]) == 0


# ------------------------------------------------------------------ 5. one line
def test_os_errors_are_one_line(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out in [afile, afile / "sub", tmp_path / ("x" * 300), "a\x00b"]:
        one_line_error(capsys, ["run", str(cfg), "--out", str(out), "--force", "--quiet"])
    assert "not a directory" in one_line_error(capsys, ["run", str(cfg), "--out", str(afile),
                                                        "--force"])  # fmt: skip
    for code, text in [(errno.EACCES, "Permission denied"), (errno.ENOSPC, "No space left"),
                       (errno.EROFS, "Read-only file system")]:  # fmt: skip

        def refuse(path, data, code=code):
            raise OSError(code, os.strerror(code), str(path))

        monkeypatch.setattr("cem.rundir.atomic_write_text", refuse)
        err = one_line_error(capsys, ["run", str(cfg), "--out", str(tmp_path / f"r{code}")])
        assert text in err
    monkeypatch.setenv("CEM_TRACEBACK", "1")
    with pytest.raises(OSError):
        main(["run", str(cfg), "--out", str(tmp_path / "rt")])


class Failing(MaxCut):
    """A problem whose score function raises in its fourth call."""

    calls = 0

    def score(self, X):
        Failing.calls += 1
        if Failing.calls == 4:
            raise KeyError("no such simulator state")
        return super().score(X)


def test_an_objective_that_raises(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(
        __import__("cem.registry").registry.PROBLEMS, "failing", "test_safety:Failing.from_config"
    )
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    cfg = tmp_path / "f.toml"
    cfg.write_text(SMALL.replace('"maxcut"', '"failing"').replace("n_samples = 60",
                                                                 "n_samples = 600\nbatch_size = 200"))  # fmt: skip  # noqa: E501
    Failing.calls = 0
    err = one_line_error(capsys, ["run", str(cfg), "--out", str(tmp_path / "r"), "--quiet"])
    assert "iteration 2, batch 0: KeyError: 'no such simulator state'" in err
    assert "the checkpoint after iteration 1 is kept" in err
    assert (tmp_path / "r" / "checkpoint.npz").is_file()
    Failing.calls = 0  # the Python API keeps the original exception, type and message
    with pytest.raises(BatchError, match=r"^iteration 2, batch 0: KeyError") as info:
        maximize(Failing.synthetic(20), n_samples=600, batch_size=200, seed=0)
    assert isinstance(info.value.original, KeyError)


def test_memory_errors_are_one_line(capsys, monkeypatch, tmp_path):
    g1 = tmp_path / "g1.toml"
    g1.write_text(
        '[problem]\nname = "maxcut"\ninstance = "G1"\n[optimizer]\nn_samples = 10000000\n'
    )
    err = one_line_error(capsys, ["validate", str(g1)])
    assert "n_samples=10000000 of 800 coordinates each (the problem's size) needs about" in err
    assert "GiB" in err
    big = tmp_path / "big.toml"
    big.write_text('[problem]\nname = "maxcut"\nn = 100000\n')
    assert "n=100000 needs about" in one_line_error(capsys, ["validate", str(big)])
    monkeypatch.setenv("CEM_MEMORY_LIMIT", "1T")  # raising the limit lets validate pass
    assert main(["validate", str(g1)]) == 0

    def oom(self, X):
        raise MemoryError

    monkeypatch.setattr(MaxCut, "score", oom)
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    err = one_line_error(capsys, ["run", str(cfg), "--out", str(tmp_path / "r")])
    assert "iteration 1, batch 0: out of memory" in err


# ------------------------------------------------------------------ 6. instance data
def test_gset_duplicates_and_self_loops_are_refused(tmp_path):
    for body, what in [("1 2 1\n2 1 3\n", "given twice"), ("1 1 1\n2 3 1\n", "distinct")]:
        path = tmp_path / "g.txt"
        path.write_text(f"3 2\n{body}")
        with pytest.raises(DataFormatError, match=what):
            read_gset(path)


def test_known_optimum_only_for_the_listed_content(tmp_path):
    assert MaxCut.from_gset(bundled_gset("G1")).known_optimum == 11624
    lines = bundled_gset("G1").read_text().splitlines()
    lines[5] = lines[5].rsplit(" ", 1)[0] + " -1"  # one weight changed, same name
    (tmp_path / "G1.txt").write_text("\n".join(lines) + "\n")
    assert MaxCut.from_gset(tmp_path / "G1.txt").known_optimum is None
    shutil.copy(bundled_instance_path("berlin52"), tmp_path / "berlin52.tsp")
    assert TSP.from_tsplib(tmp_path / "berlin52.tsp").known_optimum == 7542
    text = (tmp_path / "berlin52.tsp").read_text().replace("\n1 565.0 575.0", "\n1 566.0 575.0")
    (tmp_path / "berlin52.tsp").write_text(text)
    assert TSP.from_tsplib(tmp_path / "berlin52.tsp").known_optimum is None


def test_explicit_weights_are_kept_exactly(tmp_path):
    path = tmp_path / "e.atsp"
    path.write_text("NAME : e\nTYPE : ATSP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
                    "EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n"
                    "0 1.5 2.25\n1 0 3\n2 3.75 0\nEOF\n")  # fmt: skip
    d = read_tsplib(path).distances
    assert d.dtype == float and d[0, 1] == 1.5 and d[0, 2] == 2.25 and d[2, 1] == 3.75
    path.write_text(path.read_text().replace("1.5", "1").replace("2.25", "2").replace("3.75", "3"))
    assert read_tsplib(path).distances.dtype == np.int64


def test_scores_that_overflow_are_reported():
    with pytest.raises(ConfigError, match="overflows"):
        MaxCut(np.array([[0, 1e308], [1e308, 0]]))
    with pytest.warns(CEMWarning, match="inf for"):
        maximize(lambda X: np.where(X[:, 0] > 0.5, np.inf, 1.0), Bernoulli(np.full(3, 0.5)),
                 n_samples=50, max_iter=1, seed=0)  # fmt: skip


def test_singular_production_line_chain_gives_no_nan():
    # state 0 transient: 0 -> 1 at rate 1, then 1 <-> 2 with rates 2 and 3
    R = np.zeros((3, 3))
    R[0, 1], R[1, 2], R[2, 1] = 1.0, 2.0, 3.0
    import scipy.sparse as sp

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pi = stationary_distribution(sp.csr_matrix(R))
    assert pi == pytest.approx([0.0, 0.6, 0.4], abs=1e-10)
    from cem.problems.buffer_allocation.production_line import LineSpec

    with warnings.catch_warnings():  # the design that was singular in the PNH enumeration
        warnings.simplefilter("error")
        th = exact_throughput(LineSpec((8.0, 1.0, 11.0)), [18, 0])
    assert np.isfinite(th) and 0.98 < th < 1.0


# ------------------------------------------------------------------ 7. paths, umask
def test_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    (folder / "graphs").mkdir(parents=True)
    (folder / "graphs" / "g.txt").write_text("3 2\n1 2 1\n2 3 1\n")
    (folder / "c.toml").write_text(
        '[problem]\nname = "maxcut"\ninstance = "gset"\nfile = "graphs/g.txt"\n'
        '[output]\ndir = "out"\nplots = false\n'
        "[optimizer]\nmax_iter = 1\nseed = 0\nn_samples = 20\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["run", "project/c.toml", "--quiet"]) == 0
    runs = list((folder / "out").iterdir())
    assert len(runs) == 1 and not (tmp_path / "out").exists()
    # the resolved config names the file absolutely: the run directory resumes anywhere
    assert str(folder / "graphs" / "g.txt") in (runs[0] / "config.toml").read_text()


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_outputs_respect_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        cem._io.atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o666 & ~mask


# ------------------------------------------------------------------ 8. API edges
def test_numpy_integers_are_accepted_wherever_an_int_is():
    from cem.problems.continuous import Sphere
    from cem.problems.rare_events import MM1Overflow, SumOfExponentials

    assert MaxCut.from_config(n=np.int64(10), seed=np.int32(1)).n == 10
    assert Sphere(dim=np.int64(3)).dim == 3
    assert SumOfExponentials(n=np.int16(4)).n == 4 and MM1Overflow(level=np.int64(5)).level == 5
    res = maximize(lambda X: X.sum(axis=1), Bernoulli(np.full(4, 0.5)), n_samples=np.int64(50),
                   max_iter=np.int32(2), seed=np.uint8(1))  # fmt: skip
    assert res.nit == 2


def test_a_family_degenerate_from_the_start_is_no_success():
    res = CrossEntropyOptimizer(lambda X: -np.sum(X**2, axis=1), Normal(np.zeros(2), 0.0)).run()
    assert res.nit == 0 and res.success is False and "degenerate" in res.message


def test_probability_estimates_stay_in_the_unit_interval():
    from cem.rare_event._diagnostics import weight_diagnostics
    from cem.rare_event._final import make_result

    diag = weight_diagnostics(np.log(np.full(5, 27.0)), 100)  # five hits of weight 27
    with pytest.warns(CEMWarning, match="exceeds 1"):
        res = make_result(0.3, 1.35, 0.4, 0.3, diag, 100, [], 100, 0.1, "ce-is", Bernoulli([0.5]))
    assert res.estimate == 1.0 and 0 <= res.ci[0] <= res.ci[1] <= 1 and res.success is False


class FailingBridge(__import__("cem.problems.rare_events").problems.rare_events.BridgeNetwork):
    """A rare-event problem whose score function raises."""

    def score(self, X):
        raise ArithmeticError("diverged")


def test_an_estimation_whose_score_raises(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(
        __import__("cem.registry").registry.PROBLEMS, "failing_bridge", "test_safety:FailingBridge"
    )
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    cfg = tmp_path / "b.toml"
    cfg.write_text('[problem]\nname = "failing_bridge"\n[estimator]\nseed = 1\n')
    err = one_line_error(capsys, ["run", str(cfg), "--out", str(tmp_path / "r")])
    assert "iteration 1, batch 0: ArithmeticError: diverged" in err


def test_numpy_integers_in_families_and_estimators():
    from cem.families import Categorical, Exponential
    from cem.families._permutation import NodePlacement
    from cem.rare_event import crude_monte_carlo

    i = np.int64
    assert Categorical.uniform([i(3), i(2)]).event_shape == (2,)
    assert NodePlacement.uniform(i(5), first=i(0)).event_shape == (5,)
    res = crude_monte_carlo(lambda X: X.sum(axis=1), Exponential(np.ones(2)), 3.0,
                            n_samples=i(1000), rng=i(0))  # fmt: skip
    assert 0 <= res.estimate <= 1


def test_a_full_disk_during_the_run(tmp_path, capsys, monkeypatch):
    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("cem._checkpoint.atomic_write_bytes", full)
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    err = one_line_error(capsys, ["run", str(cfg), "--out", str(tmp_path / "r")])
    assert "No space left on device" in err and "checkpoint.npz" in err


def test_a_lost_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    distributed = pytest.importorskip("distributed")

    def lost(*args, **kwargs):
        raise distributed.comm.core.CommClosedError("in <TCP (closed)>: Stream is closed")

    monkeypatch.setattr("cem._parallel.BatchRunner.map", lost)
    cfg = tmp_path / "small.toml"
    cfg.write_text(SMALL)
    err = one_line_error(capsys, ["run", str(cfg), "--out", str(tmp_path / "r")])
    assert "iteration 1: the run raised CommClosedError" in err


def test_paths_given_with_set_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "g.txt").write_text("3 2\n1 2 1\n2 3 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.toml").write_text('[problem]\nname = "maxcut"\ninstance = "gset"\n')
    monkeypatch.chdir(tmp_path)
    cfg = load_config("sub/c.toml", ["problem.file=g.txt"])
    assert cfg.raw["problem"]["file"] == str(tmp_path / "g.txt") and cfg.problem.n == 3


def test_the_memory_estimate_follows_the_streaming_iteration(monkeypatch, tmp_path):
    # The optimizer keeps one batch and the elite candidates, not the N x d samples: G1 at
    # N = 10^7 fits in 4 GiB with an elite of 10^5 rows, and not with one of 10^6.
    from cem._memory import iteration_bytes

    monkeypatch.setenv("CEM_MEMORY_LIMIT", str(4 * 2**30))
    small_elite = iteration_bytes(10**7, (800,), n_elite=10**5)
    assert 2 * 10**5 * 800 * 8 < small_elite < 2 * 2**30
    assert iteration_bytes(10**7, (800,), n_elite=10**6) > 2 * 10**6 * 800 * 8
    assert iteration_bytes(10**7, (800,)) == 3 * 10**7 * 800 * 8  # every sample at once
    base = '[problem]\nname = "maxcut"\ninstance = "G1"\n[optimizer]\nn_samples = 10000000\n'
    (tmp_path / "a.toml").write_text(base + "rho = 0.01\n")
    (tmp_path / "b.toml").write_text(base + "rho = 0.1\n")
    assert load_config(tmp_path / "a.toml").options["rho"] == 0.01
    with pytest.raises(ResourceLimitError, match=r"n_samples=10000000 of 800 coordinates"):
        load_config(tmp_path / "b.toml")


def test_files_too_large_to_be_what_they_claim_are_refused_before_they_are_read(
    tmp_path, monkeypatch, capsys
):
    """A config, a result or a history of someone else's that is many times larger than any
    written by cem ends in one line naming the file, not in an exhausted memory."""
    import cem._io
    from cem._cli import main
    from cem.errors import DataFormatError
    from cem.rundir import read_result

    monkeypatch.setattr(cem._io, "MAX_TEXT_BYTES", 1000)
    config = tmp_path / "big.toml"
    config.write_text('[problem]\nname = "sphere"\n' + "# padding\n" * 200)
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "big.toml" in err and "MiB" in err
    (tmp_path / "result.json").write_text('{"x": "' + "y" * 2000 + '"}')
    with pytest.raises(DataFormatError, match="result"):
        read_result(tmp_path)  # said, not taken for a missing file
