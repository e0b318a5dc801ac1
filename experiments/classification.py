"""Classifiers trained by the CE method on the cross-entropy loss, next to L-BFGS.

The same models (softmax, and a network with one hidden layer of 5 tanh units) and the same
objective (mean cross-entropy + (l2/2)||W||^2, l2 = 1/n) are minimized by the CE method
(the problem's default settings: N = 10 x the family's parameters, i.e. 20 D for the
diagonal Normal family, rho = 0.1, alpha = 0.7, stop when every standard deviation is
below 1e-4; and once with a full-covariance Normal family) and by scipy's L-BFGS with the
analytic gradient. Data:
Fisher's Iris (all 150 examples, and a seeded stratified 70/30 split for held-out
accuracy), and two Gaussian classes (400 examples, separation 2, Bayes accuracy 0.841).

For each run the table gives the objective and its relative gap to the best L-BFGS value,
the training log-loss (no penalty) and accuracy, the held-out log-loss and accuracy, the
evaluations (CE: losses of sampled parameter vectors; L-BFGS: loss-and-gradient calls),
iterations and CPU seconds (one BLAS thread). A tanh network is not convex: its L-BFGS
reference is the best of 5 seeded starts.

Usage::

    python -m experiments.classification [--seeds 5]

Writes ``experiments/results/classification.csv``, ``classification.md``,
``classification_loss.png`` (training loss per iteration) and
``classification_regions.png`` (decision regions on the petal measurements).
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

from cem import CrossEntropyOptimizer
from cem._io import atomic_write_bytes, atomic_write_text
from cem._parallel import single_threaded_blas
from cem.problems.classification import Classification
from cem.problems.classification.data import (
    LabelledData,
    load_iris,
    train_test_split,
    two_gaussians,
)
from experiments.benchmarks._table import markdown_table

RESULTS = Path(__file__).resolve().parent / "results"
LBFGS_STARTS = 5


def _row(
    case: str, problem: Classification, test: LabelledData | None, method: str, seed: Any,
    x: np.ndarray, fun: float, evals: int, iters: int, seconds: float,
) -> dict[str, Any]:  # fmt: skip
    return {
        "case": case,
        "method": method,
        "seed": seed,
        "objective": float(fun),
        "gap": float("nan"),
        "train_logloss": problem.log_loss(x),
        "train_acc": problem.accuracy(x),
        "test_logloss": problem.log_loss(x, test) if test is not None else float("nan"),
        "test_acc": problem.accuracy(x, test) if test is not None else float("nan"),
        "evals": int(evals),
        "iters": int(iters),
        "cpu_s": round(seconds, 3),
    }


def _recorder(trace: list[float]) -> Any:
    """A scipy callback (new style: the parameter is named ``intermediate_result``)."""

    def callback(intermediate_result: Any) -> None:
        trace.append(float(intermediate_result.fun))

    return callback


class _CountingObjective:
    """Shadows ``problem.value_and_gradient`` to record the loss of every call."""

    def __init__(self, problem: Classification) -> None:
        self.values: list[float] = []
        self.method = problem.value_and_gradient
        problem.value_and_gradient = self  # type: ignore[method-assign]

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self.method(x)
        self.values.append(value)
        return value, grad


def run_case(
    case: str, problem: Classification, test: LabelledData | None, seeds: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """L-BFGS (best of the starts) and CE (one run per seed) on one problem."""
    rows: list[dict[str, Any]] = []
    traces: dict[str, Any] = {"lbfgs": None, "ce": []}
    starts = 1 if not problem.hidden else LBFGS_STARTS
    best: Any = None
    for s in range(starts):
        trace: list[float] = []
        calls = _CountingObjective(problem)
        t0 = time.process_time()
        res = problem.minimize_lbfgs(rng=s, callback=_recorder(trace))
        cpu = time.process_time() - t0
        del problem.value_and_gradient  # back to the method
        rows.append(_row(case, problem, test, "L-BFGS", s, res.x, res.fun, res.nfev, res.nit, cpu))
        if best is None or res.fun < best.fun:
            best, traces["lbfgs"] = res, (trace, calls.values)
    for s in range(seeds):
        t0 = time.process_time()
        res = CrossEntropyOptimizer(problem, rng=s).run()
        cpu = time.process_time() - t0
        rows.append(_row(case, problem, test, "CE", s, res.x, res.fun, res.nfev, res.nit, cpu))
        traces["ce"].append(res)
    for r in rows:
        r["gap"] = r["objective"] / best.fun - 1.0
    traces["best"] = best
    return rows, traces


def plot_loss(traces: dict[str, Any], out: Path) -> None:
    """Objective minus the L-BFGS optimum per iteration and per evaluation (log scale)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    f_star = traces["best"].fun
    per_iteration, per_call = (np.asarray(v) - f_star for v in traces["lbfgs"])
    for k, res in enumerate(traces["ce"]):
        h = res.history
        label = "CE, best so far" if k == 0 else None
        for ax, x in zip(axes, (h["t"], h["evals"]), strict=True):
            ax.plot(x, h["best"] - f_star, color="C0", lw=1, alpha=0.8, label=label)
            ax.plot(x, h["gamma"] - f_star, color="C0", lw=0.6, ls=":",
                    label="CE, elite threshold $\\gamma_t$" if k == 0 else None)  # fmt: skip
    n_per_iter = traces["ce"][0].nfev / traces["ce"][0].nit
    axes[0].plot(np.arange(1, per_iteration.size + 1), per_iteration, color="C3", lw=1.5,
                 marker=".", label="L-BFGS")  # fmt: skip
    axes[1].plot(np.arange(1, per_call.size + 1), np.minimum.accumulate(per_call), color="C3",
                 lw=1.5, marker=".", label="L-BFGS (loss + gradient calls)")  # fmt: skip
    for ax, xlabel in zip(axes, ("iteration", "evaluations"), strict=True):
        ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel="training objective − L-BFGS optimum")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    axes[0].set_title(f"Iris softmax: training loss per iteration (CE: {n_per_iter:.0f} per it.)")
    axes[1].set_title("... per evaluation")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())


def plot_regions(problem: Classification, traces: dict[str, Any], out: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), constrained_layout=True)
    problem.plot_solution(traces["ce"][0].x, axes[0])
    axes[0].set_title(f"CE method (seed 0): {axes[0].get_title().lower()}")
    problem.plot_solution(traces["best"].x, axes[1])
    axes[1].set_title(f"L-BFGS: {axes[1].get_title().lower()}")
    fig.suptitle("Iris softmax: decision regions on the petal measurements "
                 "(sepal measurements at their means)")  # fmt: skip
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CE's mean and worst over seeds next to the L-BFGS reference, per case."""
    out = []
    for case in dict.fromkeys(r["case"] for r in rows):
        for method in ("L-BFGS", "CE"):
            rs = [r for r in rows if r["case"] == case and r["method"] == method]
            best = min(rs, key=lambda r: r["objective"])
            out.append({
                "case": case,
                "method": method if len(rs) == 1 else f"{method} ({len(rs)} runs)",
                "objective": best["objective"] if method == "L-BFGS" else float(
                    np.mean([r["objective"] for r in rs])),
                "max gap": max(r["gap"] for r in rs),
                "train log-loss": float(np.mean([r["train_logloss"] for r in rs])),
                "train acc": float(np.mean([r["train_acc"] for r in rs])),
                "test acc": float(np.mean([r["test_acc"] for r in rs])),
                "evals": float(np.mean([r["evals"] for r in rs])),
                "CPU s": float(np.mean([r["cpu_s"] for r in rs])),
            })  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="CE runs per case (seeds 0..)")
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args(argv)

    iris = load_iris()
    iris_train, iris_test = train_test_split(iris, 0.3, rng=args.split_seed)
    syn_train, syn_test = train_test_split(two_gaussians(400, 2, 2.0, rng=0), 0.3,
                                           rng=args.split_seed)  # fmt: skip
    cases = [
        ("iris softmax (all 150)", Classification.iris(), None),
        ("iris softmax (70/30 split)", Classification(iris_train, plot_features=(2, 3)), iris_test),
        (
            "iris softmax, full covariance (all 150)",
            Classification.iris(full_covariance=True),
            None,
        ),
        ("iris network h=5 (70/30 split)", Classification(iris_train, hidden=5), iris_test),
        ("two Gaussians softmax (70/30 split)", Classification(syn_train), syn_test),
    ]
    matplotlib.use("Agg")
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    with single_threaded_blas():
        for k, (name, problem, test) in enumerate(cases):
            case_rows, traces = run_case(name, problem, test, args.seeds)
            rows += case_rows
            if k == 0:
                plot_loss(traces, RESULTS / "classification_loss.png")
                plot_regions(problem, traces, RESULTS / "classification_regions.png")

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(RESULTS / "classification.csv", buf.getvalue())
    table = markdown_table(summarize(rows))
    text = "\n".join([
        "# Classifiers trained by the CE method and by L-BFGS on the same objective",
        "",
        "Objective: mean cross-entropy + (l2/2)||W||², l2 = 1/n. CE: the problem's default "
        "settings (N = 10 x family parameters, rho = 0.1, alpha = 0.7, stop at sigma < 1e-4), "
        "seeds "
        f"0..{args.seeds - 1}; 'max gap' is the worst relative gap to the best L-BFGS "
        f"objective; accuracies are means over runs. Split seed {args.split_seed}.",
        "",
        table,
        "",
        "Every run: `classification.csv`.",
    ])  # fmt: skip
    atomic_write_text(RESULTS / "classification.md", text + "\n")
    print(table)


if __name__ == "__main__":
    main()
