"""The command line explains itself; the progress bar and the iteration table's period."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from cem import CrossEntropyOptimizer
from cem._cli import _parser, main
from cem._progress import ProgressBar, budget_fraction
from cem.problems.maxcut import MaxCut


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


@pytest.mark.parametrize("name", list(_commands()))
def test_every_argument_is_documented_and_every_command_has_examples(name, capsys):
    parser = _commands()[name]
    for action in parser._actions:
        assert action.help and action.help.strip(), f"cem {name}: {action.dest} has no help"
    assert parser.epilog and "example" in parser.epilog
    with pytest.raises(SystemExit) as stop:
        main([name, "--help"] if name else ["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for action in parser._actions:
        shown = action.option_strings[-1] if action.option_strings else action.metavar
        assert (shown or action.dest) in text


def test_problems_listing_has_no_raw_markup(capsys):
    assert main(["problems"]) == 0
    text = capsys.readouterr().out
    for markup in ("\\sum", ":math:", "``", "\\ge", "|a|"):
        assert markup not in text


def test_an_estimation_summary_is_printed_once(tmp_path, capsys):
    cfg = tmp_path / "b.toml"
    cfg.write_text('[problem]\nname = "bridge_network"\n'
                   "[estimator]\nn_samples = 500\nn_final = 1000\nseed = 0\n"
                   "[output]\nplots = false\n")  # fmt: skip
    trusted = main(["run", str(cfg), "--out", str(tmp_path / "run")]) == 0  # else status 3
    assert json.loads((tmp_path / "run" / "result.json").read_text())["trusted"] is trusted
    summaries = [t for t in capsys.readouterr().out.splitlines() if t.startswith("ce-is: ")]
    assert len(summaries) == 1 and "estimate " in summaries[0]


@pytest.mark.parametrize(
    ("t", "evals", "seconds", "options", "expected"),
    [
        (10, 0, 0.0, {"max_iter": 100}, 0.1),
        (10, 800, 0.0, {"max_iter": 100, "max_evals": 1000}, 0.8),
        (10, 800, 9.0, {"max_iter": 100, "max_evals": 1000, "max_time": 10.0}, 0.9),
        (200, 0, 0.0, {"max_iter": 100}, 1.0),
    ],
)
def test_budget_fraction_is_the_largest_budget_spent(t, evals, seconds, options, expected):
    assert budget_fraction(t, evals, seconds, options) == pytest.approx(expected)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_progress_bar_on_a_terminal_and_none_elsewhere(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    term, table = _Terminal(), io.StringIO()
    bar = ProgressBar({"max_iter": 4}, file=term, delay=0.0)
    CrossEntropyOptimizer(MaxCut.tutorial(), n_samples=50, seed=0, max_iter=4, stall_iters=None,
                          verbose=True, callback=bar, progress=bar.stream(table)).run()  # fmt: skip
    bar.close()
    drawn = term.getvalue()
    assert "[" + "#" * 30 + "] 100.0%  t=4" in drawn and "25.0%" in drawn
    assert drawn.endswith("\r\033[K")  # cleared at the end
    assert [line.split()[0] for line in table.getvalue().splitlines()] == ["t", "1", "2", "3", "4"]
    quiet = io.StringIO()  # not a terminal: nothing is drawn
    ProgressBar({"max_iter": 4}, file=quiet, delay=0.0).update(0.5, 2)
    assert quiet.getvalue() == ""


def test_tqdm_progress_bar(tmp_path):
    pytest.importorskip("tqdm")
    term = _Terminal()
    bar = ProgressBar({"max_iter": 10}, file=term, delay=0.0)
    bar.update(0.3, 3)
    bar.write("a table line", io.StringIO())
    bar.close()
    assert "30%" in term.getvalue()


@pytest.mark.parametrize(("verbose", "printed"), [(True, [1, 2, 3, 4, 5, 6, 7]), (3, [1, 3, 6, 7]),
                                                   (5, [1, 5, 7]), (False, [])])  # fmt: skip
def test_verbose_k_prints_every_kth_iteration_and_the_last(verbose, printed):
    out = io.StringIO()
    res = CrossEntropyOptimizer(MaxCut.tutorial(), n_samples=50, seed=0, max_iter=7,
                                stall_iters=None, verbose=verbose, progress=out).run()  # fmt: skip
    assert res.nit == 7
    rows = [int(line.split()[0]) for line in out.getvalue().splitlines()[1:]]
    assert rows == printed
