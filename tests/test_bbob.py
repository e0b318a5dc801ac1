"""The quick form of the BBOB benchmark (experiments/benchmarks/bbob.py), when COCO is installed."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cocoex")
pytest.importorskip("cma")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "benchmarks" / "results"


def test_quick_bbob_runs_both_solvers_and_writes_the_table():
    done = subprocess.run([sys.executable, "-m", "experiments.benchmarks.bbob", "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cem solved" in done.stdout and "ratio cem/pycma" in done.stdout
    with open(RESULTS / "bbob_quick.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 6 * 2  # two solvers, six functions, d = 2 and 5, one instance
    assert all(r["hit"] == "True" for r in rows if r["function"] == "1")  # the sphere
    assert (RESULTS / "bbob_quick" / "exdata").is_dir()  # the COCO observers' output


def test_ert_counts_every_run_over_the_successes():
    sys.path.insert(0, str(ROOT))
    from experiments.benchmarks.bbob import ert

    runs = [{"hit": True, "evals_to_target": 100, "evals": 120},
            {"hit": False, "evals_to_target": -1, "evals": 1000}]  # fmt: skip
    assert ert(runs) == 1100
    assert math.isinf(ert(runs[1:]))
