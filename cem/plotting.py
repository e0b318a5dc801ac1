"""Figures of CE runs: convergence, gap to the optimum, entropy, parameters, the solution.

Plots are drawn from what a run writes (``history.csv``, ``result.json``,
``arrays.npz``), so they can be redrawn and overlaid after the runs (``cem plot``).
Every figure can be written in several formats at once (``[output] formats``, e.g.
``["png", "pdf"]``); vector formats keep the lines sharp in a paper. Without a
display, matplotlib's non-interactive Agg backend is selected.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np

from cem._io import atomic_write_bytes
from cem.errors import CEMError, ConfigError
from cem.history import History
from cem.options import FORMATS
from cem.registry import resolve
from cem.rundir import (
    PARAM_PREFIX,
    RunRecord,
    read_config,
    read_levels,
    read_result,
    read_run,
)

__all__ = [
    "FORMATS",
    "figure_and_axes",
    "integer_ticks",
    "pyplot",
    "figure_text",
    "plot_convergence",
    "plot_levels",
    "plot_parameter_heatmap",
    "plot_records",
    "plot_runs",
    "save_figure",
]

#: The x axes of convergence plots: history column and axis label.
_X_AXES = {"iteration": ("t", "iteration t"), "evals": ("evals", "score evaluations")}


def pyplot() -> Any:
    """:mod:`matplotlib.pyplot`, on the Agg backend when there is no display."""
    import matplotlib

    headless = sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
    if headless and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: An interpreted-text role of reST, ``:math:`x```, ``:class:`~cem.Problem```.
_ROLE = re.compile(r":(?P<role>[a-z]+(?::[a-z]+)?):`(?P<body>[^`]*)`")


def figure_text(text: str) -> str:
    r"""``text`` without reST markup, for a title or label: what a reader should see.

    Docstrings and problem descriptions are written for Sphinx; a figure would show
    their markup literally. A ``math`` role becomes matplotlib mathtext (``$x = 1$``; the
    formula without its backslashes when mathtext cannot typeset it), a cross-reference
    role its target's last name (``Bernoulli`` for ``~cem.families.Bernoulli``; the
    whole path without the ``~``; the text of ``text <target>``), and a literal in
    double or single backquotes its content. :func:`save_figure` applies it to every
    text of a figure.

    Examples
    --------
    >>> figure_text("Rosenbrock's valley (minimize; optimum 0 at :math:`x = 1`).")
    "Rosenbrock's valley (minimize; optimum 0 at $x = 1$)."
    >>> figure_text("a :class:`~cem.families.Bernoulli` family over ``n`` nodes")
    'a Bernoulli family over n nodes'
    """

    def role(m: re.Match[str]) -> str:
        body = m["body"]
        if m["role"] == "math":
            return _mathtext(body)
        named = re.fullmatch(r"(.*?)\s*<[^<>]*>", body)
        if named and named[1]:
            return named[1]
        return body[1:].rsplit(".", 1)[-1] if body.startswith("~") else body

    text = _ROLE.sub(role, text)
    text = re.sub(r"``([^`]*)``", r"\1", text)
    return re.sub(r"`([^`]*)`_?", r"\1", text)


def _mathtext(formula: str) -> str:
    """``$formula$`` when matplotlib's mathtext typesets it, else the plain formula."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(f"${formula}$")
    except ValueError:
        formula = re.sub(r"\\(?:text|mathrm)\{([^{}]*)\}", r"\1", formula)
        return re.sub(r"\\([A-Za-z]+)", r"\1", formula).replace("{", "").replace("}", "")
    return f"${formula}$"


def _plain_figure(fig: Any) -> None:
    """Every text of ``fig`` (titles, labels, legends, annotations) through :func:`figure_text`."""
    from matplotlib.text import Text

    for artist in fig.findobj(Text):
        text = artist.get_text()
        if "`" in text:
            artist.set_text(figure_text(text))


def figure_and_axes(ax: Any | None, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """``(figure, axes)``: the figure of ``ax``, or a new figure of ``figsize`` with one axes.

    Every drawing function of cem and of the problem suite takes an optional ``ax`` this way.
    """
    if ax is not None:
        return ax.figure, ax
    return pyplot().subplots(figsize=figsize, constrained_layout=True)


def integer_ticks(axis: Any) -> None:
    """Integer tick labels only (iterations, levels, seeds) on a matplotlib ``axis``."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def save_figure(
    fig: Any, out: str | os.PathLike[str], formats: Sequence[str] | None = None, dpi: int = 150
) -> list[Path]:
    """Write ``fig`` once per format, atomically, and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    out : path
        The file name; its suffix is replaced by each format's. Without ``formats``,
        the suffix itself names the format (``.png`` when there is none).
    formats : sequence of {"png", "pdf", "svg"}, optional

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.
    """
    out = Path(out)
    if formats is None:
        formats = [out.suffix.lstrip(".").lower() or "png"]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(f"figure formats must be among {', '.join(FORMATS)}, got {bad!r}")
    _plain_figure(fig)
    written = []
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi)
        written.append(atomic_write_bytes(out.with_suffix(f".{fmt}"), buf.getvalue()))
    pyplot().close(fig)
    return written


def convergence_panels(known_optimum: float | None) -> int:
    """Number of axes :func:`plot_convergence` draws on: 3 with a known optimum, else 2."""
    return 2 if known_optimum is None else 3


def plot_convergence(
    runs: Sequence[tuple[str, History]],
    known_optimum: float | None = None,
    axes: Sequence[Any] | None = None,
    *,
    x: Literal["iteration", "evals"] = "iteration",
    score_label: str = "score",
    restarts: Sequence[Sequence[dict[str, Any]]] | None = None,
) -> Any:
    r"""Draw the best score and :math:`\gamma_t`, the gap to the optimum, and the entropy.

    Parameters
    ----------
    runs : sequence of (label, History)
        One or more runs, overlaid.
    known_optimum : float, optional
        Drawn as a dashed line under the best-so-far line (which stays visible when it
        reaches the optimum), and adds a panel with the relative gap
        :math:`|\text{best}_t - s^*| / |s^*|` on a log scale (the absolute gap when
        :math:`s^* = 0`); the iteration where the optimum is reached is marked.
    axes : sequence of matplotlib axes, optional
        :func:`convergence_panels` of them: score, [gap,] entropy.
    x : {"iteration", "evals"}
        The x axis: iterations or score evaluations.
    score_label : str
        What the score is (``problem.score_label``, e.g. "tour length").
    restarts : sequence of sequences of dict, optional
        Per run, its starts (``OptimizeResult.restarts``: ``t`` and ``evals`` of each);
        every start after the first is drawn as a vertical line on each panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if x not in _X_AXES:
        raise ConfigError(f"x must be 'iteration' or 'evals', got {x!r}")
    column, xlabel = _X_AXES[x]
    plt = pyplot()
    n_panels = convergence_panels(known_optimum)
    if axes is None:
        fig, axes = plt.subplots(
            1, n_panels, figsize=(4.4 * n_panels, 3.6), constrained_layout=True
        )
    elif len(axes) != n_panels:
        raise ConfigError(f"plot_convergence needs {n_panels} axes here, got {len(axes)}")
    fig = axes[0].figure
    ax_score, ax_entropy = axes[0], axes[-1]
    ax_gap = axes[1] if known_optimum is not None else None
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    if known_optimum is not None:
        ax_score.axhline(
            known_optimum,
            color="0.55",
            ls="--",
            lw=1.0,
            zorder=1,
            label=f"known optimum {known_optimum:g}",
        )
    for k, (label, history) in enumerate(runs):
        c = colors[k % len(colors)]
        t = history[column]
        best = history["best"]
        prefix = f"{label}: " if len(runs) > 1 else ""
        ax_score.plot(
            t, best, color=c, lw=2.2, zorder=3, drawstyle="steps-post", label=f"{prefix}best so far"
        )
        ax_score.plot(
            t,
            history["gamma"],
            color=c,
            lw=1,
            ls=":",
            marker=".",
            ms=4,
            zorder=2,
            label=f"{prefix}elite threshold $\\gamma_t$",
        )
        ax_entropy.plot(t, history["entropy"], color=c, lw=1.5, label=label)
        if ax_gap is not None and known_optimum is not None:
            _plot_gap(ax_gap, t, best, history["gamma"], known_optimum, c, prefix, k)
    ax_score.set(xlabel=xlabel, ylabel=score_label, title=f"{score_label.capitalize()} per {x}")
    ax_score.legend(fontsize="small")
    ax_entropy.set(xlabel=xlabel, ylabel="entropy (nats)", title="Entropy of the family")
    if ax_gap is not None:
        ax_gap.set_xlabel(xlabel)
    if len(runs) > 1:
        ax_entropy.legend(fontsize="small")
    for k, starts in enumerate(restarts or []):
        for j, r in enumerate(starts[1:]):
            at = r["t"] if x == "iteration" else r["evals"]
            for ax in axes:
                ax.axvline(
                    at,
                    color=colors[k % len(colors)],
                    ls="--",
                    lw=0.8,
                    alpha=0.6,
                    label="restart" if j == 0 and ax is ax_score and k == 0 else None,
                )
    if restarts and any(len(r) > 1 for r in restarts):
        ax_score.legend(fontsize="small")
    spans = [(h[column][0], h[column][-1]) for _, h in runs if len(h)]
    for ax in axes:
        ax.grid(alpha=0.3)
        integer_ticks(ax.xaxis)
        if spans:  # the same x range on every panel, even where a gap is zero (not drawn)
            low, high = min(a for a, _ in spans), max(b for _, b in spans)
            pad = 0.03 * (high - low) or 0.5
            ax.set_xlim(low - pad, high + pad)
    return fig


#: Vertical step, in axes fraction, between the "optimum at t" labels of overlaid runs.
_LABEL_STEP = 0.07


def _plot_gap(
    ax: Any,
    t: np.ndarray,
    best: np.ndarray,
    gamma: np.ndarray,
    optimum: float,
    color: str,
    prefix: str,
    row: int = 0,
) -> None:
    """Relative gap of the best score and of gamma_t, log scale; zero gaps are marked.

    The label "optimum at t" of the ``row``-th overlaid run is stacked above those of the
    earlier runs (:data:`_LABEL_STEP` apart), so labels of runs that reach the optimum at
    the same or nearby iterations never print on top of each other.
    """
    scale = abs(optimum) if optimum != 0 else 1.0
    gaps = {
        "best so far": np.abs(best - optimum) / scale,
        "$\\gamma_t$": np.abs(gamma - optimum) / scale,
    }
    for (name, gap), style in zip(gaps.items(), ("-", ":"), strict=True):
        shown = np.where(gap > 0, gap, np.nan)
        ax.semilogy(
            t,
            shown,
            color=color,
            ls=style,
            lw=2.0 if style == "-" else 1.0,
            marker="" if style == "-" else ".",
            ms=4,
            drawstyle="steps-post" if style == "-" else "default",
            label=f"{prefix}{name}",
        )
    reached = np.flatnonzero(gaps["best so far"] == 0)
    if reached.size:
        t0 = t[reached[0]]
        ax.axvline(t0, color=color, lw=1, ls="--")
        left = t0 <= 0.5 * (t[0] + t[-1])  # the label on the side with room
        ax.annotate(
            f"{prefix}optimum at {t0:g}",
            xy=(t0, 0.02 + _LABEL_STEP * row),
            xycoords=("data", "axes fraction"),
            xytext=(4 if left else -4, 0),
            textcoords="offset points",
            ha="left" if left else "right",
            fontsize="small",
            color=color,
        )
    what = "relative gap" if optimum != 0 else "gap"
    ax.set(ylabel=f"{what} to the optimum (log)", title="Gap to the known optimum")
    ax.legend(fontsize="small")


def plot_parameter_heatmap(
    values: np.ndarray,
    name: str = "p",
    ax: Any | None = None,
    axes_names: tuple[Sequence[str], str] | None = None,
) -> Any:
    """Heat map of a family parameter over iterations (rows: iterations, columns: coordinates).

    For a Bernoulli family this is the CE tutorial's max-cut figure: the
    probabilities converge to 0 or 1, revealing the cut.

    Parameters
    ----------
    values : ndarray (T, n) or (T, k, m)
        The parameter at each of ``T`` iterations. A matrix parameter (one categorical
        row per coordinate) is drawn as ``k`` blocks of ``m`` columns side by side,
        separated by white lines.
    name : str
        The parameter's name (colour bar).
    ax : matplotlib axes, optional
    axes_names : (sequence of str, str), optional
        For a matrix parameter: the name of each of its ``k`` rows (on the top axis, e.g.
        "buffer 1") and what its columns index (the bottom axis, e.g. "size"), as
        :meth:`cem.Problem.parameter_axes` gives them. Default: "coordinate i" and
        "category".
    """
    values = np.asarray(values, dtype=float)
    blocks = values.shape[1] if values.ndim == 3 else 0
    values = values.reshape(len(values), -1)
    fig, ax = figure_and_axes(ax, (9, 3.6))
    image = ax.imshow(
        values,
        aspect="auto",
        cmap="viridis",
        interpolation="nearest",
        vmin=0.0,
        vmax=max(1.0, float(values.max())),
        extent=(0.5, values.shape[1] + 0.5, len(values) + 0.5, 0.5),
    )
    ax.set(ylabel="iteration t", title=f"Family parameter {name} per iteration")
    if blocks:
        _block_axes(ax, blocks, values.shape[1] // blocks, axes_names)
    else:
        ax.set_xlabel("coordinate (node)")
        integer_ticks(ax.xaxis)
    integer_ticks(ax.yaxis)
    fig.colorbar(image, ax=ax, label=name)
    return fig


def _block_axes(
    ax: Any, blocks: int, width: int, axes_names: tuple[Sequence[str], str] | None
) -> None:
    """Label ``blocks`` side-by-side blocks of ``width`` columns: names on top, index below."""
    rows, column = axes_names or ([f"coordinate {i + 1}" for i in range(blocks)], "category")
    if len(rows) != blocks:
        raise ConfigError(f"axes_names needs {blocks} row names, got {len(rows)}")
    starts = 1 + width * np.arange(blocks)
    for edge in starts[1:] - 0.5:
        ax.axvline(edge, color="white", lw=2)
    shown = sorted({0, width // 2}) if blocks > 1 else sorted({0, width // 2, width - 1})
    ax.set_xticks((starts[:, None] + np.array(shown)).ravel(), [str(j) for j in shown] * blocks)
    ax.set_xlabel(f"{column}, 0..{width - 1} in each block")
    top = ax.secondary_xaxis("top")
    top.set_xticks(starts + 0.5 * (width - 1), list(rows))
    top.tick_params(length=0)


def _estimation_summary(run_dir: Path) -> tuple[Any, float, float | None] | None:
    """``(result, gamma, exact)`` for :func:`plot_levels` from an estimation's run directory
    (its ``result.json`` and ``levels.csv``), or ``None`` for an optimization's."""
    levels, summary = read_levels(run_dir), read_result(run_dir)
    if levels is None or "estimate" not in summary:
        return None
    result = SimpleNamespace(levels=levels, estimate=summary["estimate"],
                             ci=tuple(summary["ci95"]), rel_error=summary["rel_error"])  # fmt: skip
    return result, float(summary["gamma"]), summary.get("exact")


def _run_identity(run_dir: Path) -> tuple[str, dict[str, Any], str]:
    """``(kind, problem, described)`` of a run directory: "estimation" or "optimization",
    the ``[problem]`` table of its resolved config without the keys that only choose how
    the problem is searched (:attr:`cem.Problem.search_keys`), and ``result.json``'s
    description of the problem."""
    result = read_result(run_dir)
    table = read_config(run_dir).get("problem", {})
    table = dict(table) if isinstance(table, dict) else {}
    try:
        factory = resolve(str(table.get("name", "")))
        owner = getattr(factory, "__self__", factory)  # a classmethod factory: its class
        search_keys = tuple(getattr(owner, "search_keys", ()))
    except CEMError:
        search_keys = ()
    problem = {k: v for k, v in table.items() if k not in search_keys}
    kind = "estimation" if "estimate" in result else "optimization"
    return kind, problem, str(result.get("problem", ""))


def _shown(table: dict[str, Any], key: str) -> str:
    return repr(table[key]) if key in table else "unset"


def _check_comparable(run_dirs: Sequence[Path]) -> None:
    """Refuse to overlay runs of different problems, or estimations with optimizations."""
    if len(run_dirs) < 2:
        return
    (first, kind0, problem0, described0), *others = [(d, *_run_identity(d)) for d in run_dirs]
    for d, kind, problem, described in others:
        if kind != kind0:
            raise ConfigError(
                f"cannot overlay an {kind0} ({first}) with an {kind} ({d}); plot them separately"
            )
        differ = [
            f"problem.{k} ({_shown(problem0, k)} vs {_shown(problem, k)})"
            for k in sorted(set(problem0) | set(problem), key=lambda k: (k != "name", k))
            if problem0.get(k) != problem.get(k)
        ]
        if not differ and described != described0:
            differ = [f"the problem ({described0!r} vs {described!r})"]
        if differ:
            raise ConfigError(
                f"cannot overlay runs of different problems: {first} and {d} differ in "
                f"{', '.join(differ)}; plot them separately"
            )


def plot_runs(
    run_dirs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    formats: Sequence[str] | None = None,
    x: Literal["iteration", "evals"] = "iteration",
    problem: Any = None,
) -> list[Path]:
    """Draw the convergence of one or more run directories into ``out`` (atomic).

    A single estimation is drawn as :func:`plot_levels` draws it at the end of its run
    (the levels and the estimate's interval). A single run also gets the heat map of its
    parameters over iterations (Bernoulli or Categorical families) and the picture of its
    best solution when the problem draws one (:meth:`cem.Problem.plot_solution`: a tour,
    a partition).

    Parameters
    ----------
    run_dirs : sequence of paths
        Run directories written by ``cem run``; several are overlaid.
    out : path
        Output file; with ``formats``, its suffix is replaced by each format's.
    formats : sequence of {"png", "pdf", "svg"}, optional
        Default: the suffix of ``out``.
    x : {"iteration", "evals"}
        The x axis of the convergence panels.
    problem : Problem, optional
        The single run's problem, for the picture of its solution and the names of its
        parameters (``cem plot`` rebuilds it from the run's ``config.toml``).

    Returns
    -------
    list of Path
        The files written.
    """
    if len(run_dirs) == 1:
        estimation = _estimation_summary(Path(run_dirs[0]))
        if estimation is not None:
            result, gamma, exact = estimation
            return plot_levels(result, gamma, out, exact=exact, formats=formats)
    _check_comparable([Path(d) for d in run_dirs])
    return plot_records([read_run(Path(d)) for d in run_dirs], out, formats=formats, x=x,
                        problem=problem)  # fmt: skip


def plot_records(
    records: Sequence[RunRecord],
    out: str | os.PathLike[str],
    *,
    formats: Sequence[str] | None = None,
    x: Literal["iteration", "evals"] = "iteration",
    problem: Any = None,
) -> list[Path]:
    """Draw the convergence of runs held in memory (:class:`cem.rundir.RunRecord`) into
    ``out``, as :func:`plot_runs` draws run directories; ``problem`` is the single run's,
    for its parameter axes and the picture of its solution."""
    plt = pyplot()
    runs = [(r.name, r.history, r.result, r.arrays) for r in records]
    known = next(
        (r[2]["known_optimum"] for r in runs if r[2].get("known_optimum") is not None), None
    )
    label = next((r[2]["score_label"] for r in runs if r[2].get("score_label")), "score")
    heat = solution = None
    if len(runs) == 1:
        arrays = runs[0][3]
        heat = next(
            (
                (k[len(PARAM_PREFIX) :], v)
                for k, v in arrays.items()
                if k in (PARAM_PREFIX + "p", PARAM_PREFIX + "probs")
            ),
            None,
        )
        if "x" in arrays and problem is not None and getattr(problem, "can_plot", False):
            solution = (problem, arrays["x"])
    n = convergence_panels(known)
    starts = [r[2].get("restarts") or [] for r in runs]
    if heat is None and solution is None:
        fig = plot_convergence([(r[0], r[1]) for r in runs], known, x=x, score_label=label,
                               restarts=starts)  # fmt: skip
    else:
        tall = solution is not None and heat is None
        fig = plt.figure(figsize=(4.4 * n, 3.6 + (5.4 if tall else 3.8)), constrained_layout=True)
        grid = fig.add_gridspec(2, n, height_ratios=(3.6, 5.4 if tall else 3.8))
        plot_convergence(
            [(r[0], r[1]) for r in runs],
            known,
            [fig.add_subplot(grid[0, k]) for k in range(n)],
            x=x,
            score_label=label,
            restarts=starts,
        )
        if heat is not None:
            width = n - 1 if solution is not None else n
            names = problem.parameter_axes(heat[0]) if problem is not None else None
            plot_parameter_heatmap(heat[1], heat[0], fig.add_subplot(grid[1, :width]), names)
        if solution is not None:
            ax = fig.add_subplot(grid[1, n - 1] if heat is not None else grid[1, :])
            solution[0].plot_solution(solution[1], ax)
    if len(runs) == 1 and runs[0][2].get("problem"):
        fig.suptitle(runs[0][2]["problem"])
    return save_figure(fig, out, formats)


def plot_levels(
    result: Any,
    gamma: float,
    out: str | os.PathLike[str],
    exact: float | None = None,
    formats: Sequence[str] | None = None,
) -> list[Path]:
    r"""The levels :math:`\gamma_t` of a multilevel CE estimation, and the estimate's CI.

    Left: :math:`\gamma_t` per level rising to the threshold :math:`\gamma`. Right: the
    estimate with its 95% confidence interval, beside the exact value when known.

    Returns
    -------
    list of Path
        The files written (see :func:`save_figure`).
    """
    plt = pyplot()
    fig, (ax, ax_est) = plt.subplots(
        1, 2, figsize=(9, 3.6), width_ratios=(2, 1), constrained_layout=True
    )
    t = [lv.t for lv in result.levels]
    ax.plot(t, [lv.gamma for lv in result.levels], "o-", label="level $\\gamma_t$")
    ax.axhline(gamma, color="0.4", ls="--", lw=1, label=f"threshold $\\gamma$ = {gamma:g}")
    ax.set(xlabel="level t", ylabel="$\\gamma_t$", title="Multilevel CE levels")
    integer_ticks(ax.xaxis)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    low, high = result.ci
    ax_est.errorbar(
        [0],
        [result.estimate],
        yerr=[[result.estimate - low], [high - result.estimate]],
        fmt="o",
        capsize=6,
        color="tab:blue",
        label=f"estimate, 95% CI (RE {result.rel_error:.3g})",
    )
    if exact is not None:
        ax_est.axhline(exact, color="k", ls="--", lw=1, label=f"exact {exact:.4g}")
    ax_est.set(xlim=(-1, 1), xticks=[], ylabel="probability")
    ax_est.set_title(f"Estimate {result.estimate:.4g}", pad=16)
    ax_est.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax_est.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.02))
    ax_est.grid(alpha=0.3, axis="y")
    return save_figure(fig, out, formats)
