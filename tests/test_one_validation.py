"""`cem validate` and `cem run` share one validation path: the engine that validation builds
is the one the run runs, so every error a run can raise before its first iteration,
`cem validate` raises too, with the same message."""

from __future__ import annotations

import textwrap

import pytest

import cem._loop
import cem.options
import cem.rare_event._driver
from cem._cli import main

MAXCUT = """\
[problem]
name = "maxcut"
instance = "synthetic"
n = 20
m = 10
"""
BRIDGE = """\
[problem]
name = "bridge_network"
gamma = 2.0
"""
SPHERE = """\
[problem]
name = "sphere"
dim = 3
"""

#: Configs each refused before the first iteration, and a part of the message.
BAD = {
    "unknown optimizer key": (MAXCUT + "[optimizer]\nn_sample = 10\n", "n_sample"),
    "rho out of (0, 1)": (MAXCUT + "[optimizer]\nrho = 1.5\n", "rho must be"),
    "n_elite above n_samples": (
        MAXCUT + "[optimizer]\nn_samples = 10\nn_elite = 20\n",
        "n_elite must be at most",
    ),
    "budget below one iteration": (
        MAXCUT + "[optimizer]\nn_samples = 100\nmax_evals = 50\n",
        "max_evals=50 is below",
    ),
    "timeout without workers": (MAXCUT + "[optimizer]\nbatch_timeout = 5.0\n", "needs workers"),
    "a backend without generators": (
        MAXCUT + "[optimizer]\nbackend = 'multiprocessing'\n",
        "multiprocessing",
    ),
    "polish without a local search": (
        SPHERE + "[optimizer]\npolish = 'elite'\n",
        "needs a problem with a local search",
    ),
    "an iteration above the memory limit": (
        SPHERE + "[optimizer]\nn_samples = 10000000000\n",
        "n_samples=10000000000",
    ),
    "a degenerate family": (
        SPHERE + "[family]\ntype = 'normal'\nmean = 0.0\nsigma = 0.0\n",
        "degenerate from the start",
    ),
    "a family of the wrong kind": (
        MAXCUT + "[family]\ntype = 'normal'\nmean = 0.0\nsigma = 1.0\n",
        "[family]",
    ),
    "unknown estimator key": (BRIDGE + "[estimator]\nn_final2 = 10\n", "n_final2"),
    "a final run above the memory limit": (
        BRIDGE + "[estimator]\nn_final = 100000000000\n",
        "n_final=100000000000",
    ),
    "estimator options for an optimization": (
        MAXCUT + "[estimator]\nrho = 0.1\n",
        "[estimator] does not apply",
    ),
    "optimizer options for an estimation": (
        BRIDGE + "[optimizer]\nrho = 0.1\n",
        "[optimizer] does not apply",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_validate_refuses_what_run_refuses_with_the_same_message(case, tmp_path, capsys):
    text, part = BAD[case]
    path = tmp_path / "c.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    validated = capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 2
    ran = capsys.readouterr().err
    assert part in validated and validated == ran
    assert not (tmp_path / "run").exists(), "a refused config wrote a run directory"


def _count(monkeypatch, owner, name):
    calls = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


@pytest.mark.parametrize(
    "text",
    [
        MAXCUT + "[optimizer]\nn_samples = 200\nmax_iter = 3\n",
        BRIDGE + "[estimator]\nn_samples = 500\nn_final = 2000\n",
    ],
)
def test_a_run_builds_its_engine_once(text, tmp_path, monkeypatch):
    """The run uses the engine its validation built: the optimizer is constructed once, and
    the options resolved once."""
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    built = _count(monkeypatch, cem._loop.CrossEntropyOptimizer, "__init__")
    levels = _count(monkeypatch, cem.rare_event._driver.MultilevelEstimator, "__init__")
    resolved = _count(monkeypatch, cem._loop, "resolve_options")
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet", "--seed", "1"]) in (
        0,
        3,
    )
    assert (len(built), len(resolved)) == (1, 1)
    assert len(levels) == ("bridge" in text)
    assert (tmp_path / "run" / "result.json").is_file()
