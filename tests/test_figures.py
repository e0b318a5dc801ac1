"""Figures: panels, labels, integer ticks, formats, the solutions' pictures, the levels."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from cem import CrossEntropyOptimizer, plotting
from cem._cli import main
from cem.config import load_config
from cem.errors import ConfigError
from cem.history import History, IterationRecord
from cem.plotting import (
    convergence_panels,
    figure_text,
    plot_convergence,
    plot_levels,
    plot_runs,
    pyplot,
    save_figure,
)
from cem.problems.maxcut import MaxCut
from cem.problems.maxcut.plots import MAX_DRAWN_NODES
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
    pyplot().close(fig)


def test_convergence_against_evaluations_and_without_optimum():
    h = _history([1.0, 2.0], [0.5, 1.5])
    fig = plot_convergence([("a", h), ("b", h)], x="evals")
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel() == "score evaluations"
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [100, 200]
    with pytest.raises(ConfigError, match="x must be 'iteration' or 'evals'"):
        plot_convergence([("a", h)], x="seconds")
    with pytest.raises(ConfigError, match="needs 3 axes"):
        plot_convergence([("a", h)], 2.0, axes=fig.axes)
    pyplot().close(fig)


def test_save_figure_writes_each_format(tmp_path):
    plt = pyplot()
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
    fig, ax = pyplot().subplots()
    prob.plot_solution(x, ax)
    assert f"cut weight {prob.score(x[None])[0]:g}" in ax.get_title()
    with pytest.raises(ConfigError, match="0/1 vector"):
        prob.plot_solution(np.full(n, 0.5), ax)
    pyplot().close(fig)


def test_tsp_tour_picture():
    prob = TSP.from_config(instance="br17")
    fig, ax = pyplot().subplots()
    prob.plot_solution(np.arange(prob.n), ax)
    assert "tour length" in ax.get_title()
    pyplot().close(fig)


@pytest.mark.slow  # over 5 s
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


# --------------------------------------------------------------- figures a reader can trust
CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))
#: What reST markup looks like in a figure: a role (":math:`x`") or any backquote.
MARKUP = re.compile(r":[a-z]+:`|`")


@pytest.fixture
def drawn(monkeypatch):
    """The figures :func:`cem.plotting.save_figure` writes, kept for inspection."""
    figures = []
    original = plotting.save_figure

    def keep(fig, *args, **kwargs):
        figures.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(plotting, "save_figure", keep)
    return figures


def _texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _one_iteration(cfg, tmp_path, *extra):
    out = tmp_path / cfg.stem
    main(["run", str(cfg), "--out", str(out), "--quiet", "--max-iter", "1", *extra])
    return out


@pytest.mark.parametrize(
    "text, plain",
    [
        ("optimum 0 at :math:`x = 1`.", "optimum 0 at $x = 1$."),
        (r"gap :math:`\lceil n \rceil_{\text{x}` end", "gap lceil n rceil_x end"),
        ("a :class:`~cem.families.Bernoulli` and :func:`cem.plotting.figure_text`",
         "a Bernoulli and cem.plotting.figure_text"),
        ("see :ref:`the guide <guide>`, ``n`` and `rho`", "see the guide, n and rho"),
        ("no markup: 50% of $\\gamma_t$", "no markup: 50% of $\\gamma_t$"),
    ],
)  # fmt: skip
def test_figure_text_drops_rest_markup(text, plain):
    assert figure_text(text) == plain


def test_every_shipped_problem_description_is_plain_in_a_figure():
    for path in CONFIGS:
        described = load_config(path).problem.describe()
        assert not MARKUP.search(figure_text(described)), (path.name, described)


def test_rosenbrock_figure_title_is_mathtext_not_rest(tmp_path, drawn):
    _one_iteration(Path(__file__).resolve().parents[1] / "configs" / "rosenbrock.toml", tmp_path)
    (fig,) = drawn
    assert fig._suptitle.get_text() == "Rosenbrock's valley (minimize; optimum 0 at $x = 1$)."
    assert not any(MARKUP.search(t) for t in _texts(fig))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_no_shipped_config_figure_shows_rest_markup(path, tmp_path, drawn):
    # One iteration (one level) is enough: titles and labels do not depend on the length;
    # a short tabu search where max-cut polishes with one.
    maxcut = load_config(path).raw["problem"]["name"] == "maxcut"
    _one_iteration(path, tmp_path, *(["--set", "problem.tabu_iters=50"] if maxcut else []))
    assert drawn, f"{path.name} drew no figure"
    texts = [t for fig in drawn for t in _texts(fig)]
    assert texts and not [t for t in texts if MARKUP.search(t)]


def _tiny_run(tmp_path, name, problem, section="optimizer", n=50):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f"[problem]\n{problem}\n[{section}]\nn_samples = {n}\nseed = 0\n"
                   '[output]\nplots = false\n')  # fmt: skip
    out = tmp_path / name
    main(["run", str(cfg), "--out", str(out), "--quiet"])
    assert (out / "result.json").is_file()
    return out


def test_plot_refuses_to_overlay_different_problems_or_kinds(tmp_path, capsys):
    five = _tiny_run(tmp_path, "five", 'name = "maxcut"\ninstance = "tutorial5"')
    tabu = _tiny_run(tmp_path, "tabu", 'name = "maxcut"\ninstance = "tutorial5"\n'
                     'local_search = "tabu"\ntabu_iters = 20')  # fmt: skip
    synth = _tiny_run(tmp_path, "synth", 'name = "maxcut"\ninstance = "synthetic"\nn = 20')
    bridge = _tiny_run(tmp_path, "bridge", 'name = "bridge_network"\ngamma = 2.0',
                       section="estimator", n=200)  # fmt: skip
    # The same graph searched two ways is one problem: overlaid.
    assert plot_runs([five, tabu], tmp_path / "ok.png") == [tmp_path / "ok.png"]
    with pytest.raises(ConfigError, match="different problems") as info:
        plot_runs([five, synth], tmp_path / "no.png")
    message = str(info.value)
    assert str(five) in message and str(synth) in message and "problem.instance" in message
    with pytest.raises(ConfigError, match="cannot overlay an optimization") as info:
        plot_runs([five, bridge], tmp_path / "no.png")
    assert str(bridge) in str(info.value)
    capsys.readouterr()
    assert main(["plot", str(five), str(bridge), "--out", str(tmp_path / "no.png")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "estimation" in err and str(bridge) in err
    assert not (tmp_path / "no.png").exists()


def test_overlaid_optimum_labels_do_not_overlap():
    runs = [(name, _history([20.0, 26.0, 28.0, 28.0], [18.0, 24.0, 27.0, 28.0]))
            for name in ("run a", "run b", "run c")]  # fmt: skip
    fig = plot_convergence(runs, 28.0)
    gap = fig.axes[1]
    labels = [t for t in gap.texts if "optimum at" in t.get_text()]
    assert sorted(t.get_text() for t in labels) == [f"run {c}: optimum at 3" for c in "abc"]
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in labels]
    assert all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    pyplot().close(fig)


def test_atsp_without_coordinates_is_drawn_as_its_distance_matrix():
    br17 = TSP.from_config(instance="br17")  # 17 cities, 6 distinct positions in any map
    tour = np.r_[0, np.arange(16, 0, -1)]
    fig, ax = pyplot().subplots()
    br17.plot_solution(tour, ax)
    (image,) = ax.get_images()
    assert image.get_array().shape == (17, 17)
    assert "distance matrix of the 17 cities" in ax.get_title()
    steps = ax.collections[0].get_offsets()  # (column, row) = (to, from) of each step
    assert np.array_equal(steps, np.c_[np.roll(tour, -1), tour])
    assert ax.get_xlabel() == "to city j" and ax.get_ylabel() == "from city i"
    pyplot().close(fig)


def test_symmetric_layout_without_coordinates_says_how_many_points_it_shows():
    d = np.array([[0, 0, 3, 4], [0, 0, 3, 4], [3, 3, 0, 5], [4, 4, 5, 0]], dtype=float)
    fig, ax = pyplot().subplots()
    TSP(d, name="twins").plot_solution(np.arange(4), ax)
    assert "city (4 at 3 distinct points)" in [t.get_text() for t in ax.get_legend().texts]
    pyplot().close(fig)


@pytest.mark.slow  # a full run and its figure
def test_buffer_allocation_figure_labels_buffers_and_sizes_and_names_the_allocation(
    tmp_path, drawn
):
    root = Path(__file__).resolve().parents[1]
    out = _one_iteration(root / "configs" / "buffer_allocation.toml", tmp_path)
    with np.load(out / "arrays.npz") as arrays:
        x = tuple(int(v) for v in arrays["x"])
    (fig,) = drawn
    heat = next(ax for ax in fig.axes if ax.get_title().startswith("Family parameter probs"))
    assert heat.get_xlabel() == "buffer size (places), 0..10 in each block"
    top = next(ax for ax in heat.child_axes)
    assert [t.get_text() for t in top.get_xticklabels()] == ["buffer 1", "buffer 2"]
    bars = next(ax for ax in fig.axes if ax.get_title().startswith("Allocation found"))
    assert bars.get_title().splitlines()[0] == f"Allocation found {x}"
    assert [p.get_height() for p in bars.patches] == list(x)
    assert bars.get_xlabel().startswith("buffer") and bars.get_ylabel() == "buffer size (places)"
