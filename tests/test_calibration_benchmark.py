"""The calibration benchmark's --quick form: no bad run of any method is trusted."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_calibration_quick_has_no_bad_and_trusted_run():
    subprocess.run([sys.executable, "-m", "experiments.benchmarks.calibration", "--quick"],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    path = ROOT / "experiments" / "benchmarks" / "results" / "calibration_quick.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["bad_trusted"] == "0" and r["disagree"] == "0" for r in rows)
