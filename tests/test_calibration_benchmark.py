"""The calibration benchmark's --quick form: no bad run of any method is trusted."""

import pytest


@pytest.mark.slow
def test_calibration_quick_has_no_bad_and_trusted_run():
    from experiments.benchmarks import calibration

    rows = calibration.main(["--quick"])
    assert rows and all(r["bad_trusted"] == 0 for r in rows)
    assert all(r["disagree"] == 0 for r in rows)
