"""Figures: panels, labels, integer ticks, formats, the solutions' pictures, the levels."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from matplotlib.ticker import MaxNLocator

from cem import CrossEntropyOptimizer
from cem.cli import main
from cem.errors import ConfigError
from cem.history import History, IterationRecord
from cem.plotting import (
    _pyplot,
    convergence_panels,
    plot_convergence,
    plot_levels,
    plot_runs,
    save_figure,
)
from cem.problems.maxcut import MaxCut
from cem.problems.maxcut_plots import MAX_DRAWN_NODES
from cem.problems.rare_events import BridgeNetwork
from cem.problems.tsp import TSP

PNG, PDF, SVG = b"\x89PNG\r\n\x1a\n", b"%PDF", b"<?xml"


def _history(best, gamma):
    return History([IterationRecord(t + 1, g, b, g, 1.0 / (t + 1), 100 * (t + 1), 0.1 * t)
                    for t, (b, g) in enumerate(zip(best, gamma, strict=True))])  # fmt: skip


def test_convergence_with_a_known_optimum_has_a_log_gap_panel():
    h = _history([20.0, 26.0, 28.0, 28.0], [18.0, 24.0, 27.0, 28.0])
    fig = plot_convergence([("run", h)], 28.0, score_label="cut weight")
    score, gap, _entropy = fig.axes
    assert convergence_panels(28.0) == 3 and convergence_panels(None) == 2
    assert score.get_ylabel() == "cut weight" and gap.get_yscale() == "log"
    assert all(isinstance(ax.xaxis.get_major_locator(), MaxNLocator) for ax in fig.axes)
    assert all(float(t).is_integer() for t in score.get_xticks())
    best = next(line for line in score.get_lines() if line.get_label() == "best so far")
    optimum = next(line for line in score.get_lines() if "optimum" in line.get_label())
    assert best.get_zorder() > optimum.get_zorder()  # visible where it meets the optimum
    best_gap = next(line for line in gap.get_lines() if line.get_label() == "best so far")
    assert np.allclose(best_gap.get_ydata(), [8 / 28, 2 / 28, np.nan, np.nan], equal_nan=True)
    assert any("optimum at 3" in t.get_text() for t in gap.texts)
    _pyplot().close(fig)


def test_convergence_against_evaluations_and_without_optimum():
    h = _history([1.0, 2.0], [0.5, 1.5])
    fig = plot_convergence([("a", h), ("b", h)], x="evals")
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel() == "score evaluations"
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [100, 200]
    with pytest.raises(ConfigError, match="x must be 'iteration' or 'evals'"):
        plot_convergence([("a", h)], x="seconds")
    with pytest.raises(ConfigError, match="needs 3 axes"):
        plot_convergence([("a", h)], 2.0, axes=fig.axes)
    _pyplot().close(fig)


def test_save_figure_writes_each_format(tmp_path):
    plt = _pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    paths = save_figure(fig, tmp_path / "f.png", ["png", "pdf", "svg"])
    assert [p.name for p in paths] == ["f.png", "f.pdf", "f.svg"]
    for path, magic in zip(paths, (PNG, PDF, SVG), strict=True):
        assert path.read_bytes().startswith(magic)
    with pytest.raises(ConfigError, match="formats must be among png, pdf, svg"):
        save_figure(plt.figure(), tmp_path / "f.jpg")


@pytest.mark.parametrize("n", [5, MAX_DRAWN_NODES + 1])
def test_maxcut_partition_picture(n):
    prob = MaxCut.tutorial() if n == 5 else MaxCut.synthetic(n=n, m=n - n // 2)
    x = np.r_[np.zeros(n // 2), np.ones(n - n // 2)]
    assert prob.can_plot
    fig, ax = _pyplot().subplots()
    prob.plot_solution(x, ax)
    assert f"cut weight {prob.score(x[None])[0]:g}" in ax.get_title()
    with pytest.raises(ConfigError, match="0/1 vector"):
        prob.plot_solution(np.full(n, 0.5), ax)
    _pyplot().close(fig)


def test_tsp_tour_picture():
    prob = TSP.from_config(instance="br17")
    fig, ax = _pyplot().subplots()
    prob.plot_solution(np.arange(prob.n), ax)
    assert "tour length" in ax.get_title()
    _pyplot().close(fig)


def test_run_directory_figure_with_the_solution_in_two_formats(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[problem]\nname = "maxcut"\ninstance = "tutorial5"\n'
                   "[optimizer]\nn_samples = 100\nseed = 0\nverbose = 3\n"
                   '[output]\nformats = ["png", "pdf"]\n')  # fmt: skip
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    table = [line.split()[0] for line in printed[1:] if line.split()[0].isdigit()]
    result = json.loads((out / "result.json").read_text())
    last = str(result["nit"])
    assert table == sorted({"1", *(str(t) for t in range(3, result["nit"] + 1, 3)), last}, key=int)
    assert "best_x" not in result and result["score_label"] == "cut weight"
    with np.load(out / "arrays.npz") as arrays:
        assert arrays["x"].tolist() in ([0, 0, 1, 1, 1], [1, 1, 0, 0, 0])
        assert arrays["family.p"].shape == (result["nit"], 5)
    assert (out / "convergence.png").read_bytes().startswith(PNG)
    assert (out / "convergence.pdf").read_bytes().startswith(PDF)
    # Redrawn by `cem plot`, against evaluations, as SVG: the problem comes from config.toml.
    assert main(["plot", str(out), "--out", str(tmp_path / "again.svg"), "--x", "evals"]) == 0
    assert (tmp_path / "again.svg").read_bytes().startswith(SVG)
    assert plot_runs([out, out], tmp_path / "two.png") == [tmp_path / "two.png"]


def test_bad_output_formats_are_refused(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[problem]\nname = "maxcut"\ninstance = "tutorial5"\n'
                   '[output]\nformats = ["png", "jpg"]\n')  # fmt: skip
    assert main(["validate", str(cfg)]) == 2


def test_levels_csv_has_one_column_per_coordinate_and_the_figure_its_ci(tmp_path):
    cfg = tmp_path / "bridge.toml"
    cfg.write_text('[problem]\nname = "bridge_network"\ngamma = 2.0\n'
                   "[estimator]\nn_samples = 1000\nn_final = 2000\nseed = 0\n"
                   '[output]\nformats = ["png", "svg"]\nfail_untrusted = false\n')  # fmt: skip
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 0
    with open(out / "levels.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["t", "gamma", *(f"mean[{i}]" for i in range(5))]
    assert all(len(r) == 7 for r in rows) and float(rows[-1][1]) == 2.0
    assert (out / "convergence.svg").read_bytes().startswith(SVG)


def test_plot_levels_draws_the_interval_and_the_exact_value(tmp_path):
    prob = BridgeNetwork(1.0)
    res = prob.estimate(seed=0, n_final=2000)
    (path,) = plot_levels(res, 1.0, tmp_path / "levels.pdf", exact=prob.exact())
    assert path.read_bytes().startswith(PDF)


def test_the_tutorial_figure_is_reproduced_by_the_optimizer_callback():
    params = []
    opt = CrossEntropyOptimizer(MaxCut.tutorial(), n_samples=100, seed=0,
                                callback=lambda o: params.append(o.family.p.copy()))  # fmt: skip
    res = opt.run()
    assert len(params) == res.nit and np.array_equal(params[-1].round(), [0, 0, 1, 1, 1])
