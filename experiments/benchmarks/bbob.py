"""cem against pycma on COCO's ``bbob`` suite, in the same run, logged for ``cocopp``.

Usage::

    python -m experiments.benchmarks.bbob --dims 5 20 --instances 1-5   # the full table
    python -m experiments.benchmarks.bbob --quick      # 6 functions, d = 2 and 5, instance 1
    python -m experiments.benchmarks.bbob --from results/bbob_d5.csv results/bbob_d20.csv

Needs the ``bench`` extra (``pip install '.[bench]'``: ``coco-experiment`` for ``cocoex``,
and ``cma``). Each problem (function, dimension, instance) is solved by

- ``cem``: :func:`cem.minimize` with ``FullNormal(x0, sigma0**2 I)``, ``method="auto"`` (the
  AMaLGaM-style update of :mod:`cem._scaling`) and ``restarts="ipop"`` under ``max_evals``;
  a start also ends when gamma_t moves by at most 1e-11 for 5 iterations (``gamma_tol``,
  as pycma's ``tolfun = 1e-11``) or the largest standard deviation falls below 1e-10
  (``degenerate_tol``);
- ``pycma``: ``cma.fmin2`` (CMA-ES with its defaults) with IPOP restarts
  (``restarts=9, incpopsize=2``) under the same ``maxfevals``;

both from COCO's ``initial_solution`` x0 with sigma0 = 2, with a budget of
``budget`` x d evaluations (default 10^4 d), stopped once COCO's final target
(f_opt + 1e-8) is hit. Each solver writes through its own COCO observer into
``results/bbob/exdata/<solver>/`` (``python -m cocopp`` on those two folders draws
the ECDFs of runtimes and the ERT tables), and this script writes its own table
(``results/bbob.md``, one row per run in ``results/bbob.csv``, and the ECDF of runtimes
to 1e-8 in ``results/bbob.png``):

- functions solved per dimension: reached 1e-8 on every instance;
- per function: ERT to 1e-8 of each solver and the ratio cem / pycma, where
  ERT = (evaluations of all runs, up to the hit for a successful one) / (successes);
- CPU seconds per evaluation of each solver (``time.process_time``, the COCO function
  evaluation included).

``--tag NAME`` names the outputs ``bbob_NAME.*`` (to run dimensions in separate
processes), and ``--from CSV...`` rebuilds the table from such files without running (a
run found again in a later file replaces the earlier one, so ``--solvers cem`` can be
rerun against the kept pycma rows); the merged rows are written as ``bbob_TAG.csv``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from cem._io import atomic_write_text  # noqa: E402
from experiments.benchmarks._table import RESULTS, markdown_table, parse_args, write_csv  # noqa: E402

SOLVERS = ("cem", "pycma")
SIGMA0 = 2.0
#: The functions of the quick form: separable, ill-conditioned, rotated, multimodal.
QUICK_FUNCTIONS = "1,2,3,8,10,15"


class Tracked:
    """A COCO problem as an objective that notes the evaluation at which the final target
    (f_opt + 1e-8) was first hit."""

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.hit_at: int | None = None

    def __call__(self, x: np.ndarray) -> float:
        f = self.problem(x)
        if self.hit_at is None and self.problem.final_target_hit:
            self.hit_at = int(self.problem.evaluations)
        return f

    def batch(self, X: np.ndarray) -> np.ndarray:
        """Scores of the rows of ``X`` (COCO evaluates one point at a time)."""
        return np.array([self(x) for x in X])


def run_cem(f: Tracked, x0: np.ndarray, budget: int, seed: int) -> None:
    from cem import minimize
    from cem.families import FullNormal

    minimize(f.batch, FullNormal(x0, SIGMA0**2), method="auto", restarts="ipop",
             max_evals=budget, max_iter=10**7, degenerate_tol=1e-10, gamma_tol=1e-11, rng=seed,
             callback=lambda _: f.hit_at is not None)  # fmt: skip


def run_pycma(f: Tracked, x0: np.ndarray, budget: int, seed: int) -> None:
    import cma

    options = {"maxfevals": budget, "verbose": -9, "seed": seed + 1,
               "termination_callback": lambda _: f.hit_at is not None}  # fmt: skip
    cma.fmin2(f, x0, SIGMA0, options, restarts={"maxrestarts": 9, "maxfevals": budget},
              incpopsize=2)  # fmt: skip


RUNNERS: dict[str, Callable[[Tracked, np.ndarray, int, int], None]] = {
    "cem": run_cem,
    "pycma": run_pycma,
}


def run(dims: Sequence[int], functions: str, instances: str, budget: int,
        solvers: Sequence[str], out: Path) -> list[dict[str, object]]:  # fmt: skip
    """Solve every problem with every solver; one row per (solver, problem)."""
    import cma
    import cocoex

    import cem

    cocoex.utilities.MiniPrint = None  # type: ignore[attr-defined]
    selection = (f"dimensions:{','.join(map(str, dims))} function_indices:{functions} "
                 f"instance_indices:{instances}")  # fmt: skip
    suite = cocoex.Suite("bbob", "", selection)
    versions = {"cem": cem.__version__, "pycma": cma.__version__}
    here = Path.cwd()
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(out)  # the observers write into exdata/ of the working directory
    try:
        observers = {
            s: cocoex.Observer(
                "bbob",
                f'result_folder: {s} algorithm_name: {s} algorithm_info: "{s} {versions[s]}"',
            )
            for s in solvers
        }
        return _solve_all(suite, observers, solvers, budget)
    finally:
        os.chdir(here)


def _solve_all(suite: Any, observers: dict[str, Any], solvers: Sequence[str],
               budget: int) -> list[dict[str, object]]:  # fmt: skip
    rows: list[dict[str, object]] = []
    for index in range(len(suite)):
        for solver in solvers:
            problem = suite.get_problem(index, observers[solver])
            f = Tracked(problem)
            d = problem.dimension
            start = time.process_time()
            RUNNERS[solver](f, np.array(problem.initial_solution), budget * d, index)
            cpu = time.process_time() - start
            rows.append({"solver": solver, "dim": d, "function": problem.id_function,
                         "instance": problem.id_instance, "hit": f.hit_at is not None,
                         "evals_to_target": f.hit_at if f.hit_at is not None else -1,
                         "evals": int(problem.evaluations), "cpu_s": cpu})  # fmt: skip
            print(f"{problem.id:>22} {solver:>6}: "
                  f"{'hit at ' + str(f.hit_at) if f.hit_at else 'missed'} "
                  f"({problem.evaluations} evaluations, {cpu:.2f} s)", flush=True)  # fmt: skip
            problem.free()
    suite.free()
    return rows


def ert(rows: Sequence[dict[str, Any]]) -> float:
    """Expected running time: evaluations of all runs (to the hit for a successful one)
    over the number of successes (``inf`` without one)."""
    hits = sum(1 for r in rows if r["hit"])
    spent = sum(int(r["evals_to_target"]) if r["hit"] else int(r["evals"]) for r in rows)
    return spent / hits if hits else math.inf


def tables(rows: Sequence[dict[str, Any]]) -> str:
    """The Markdown report: solved functions per dimension, then ERT per function."""
    solvers = [s for s in SOLVERS if any(r["solver"] == s for r in rows)]
    dims = sorted({int(r["dim"]) for r in rows})
    groups: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["solver"], int(r["dim"]), int(r["function"])), []).append(r)
    summary, detail = [], []
    for d in dims:
        functions = sorted({f for (_, dd, f) in groups if dd == d})
        line: dict[str, object] = {"d": d, "functions": len(functions)}
        for s in solvers:
            solved = [f for f in functions if all(r["hit"] for r in groups.get((s, d, f), []))
                      and groups.get((s, d, f))]  # fmt: skip
            pairs = sum(r["hit"] for f in functions for r in groups.get((s, d, f), []))
            runs = sum(len(groups.get((s, d, f), [])) for f in functions)
            evals = sum(int(r["evals"]) for f in functions for r in groups.get((s, d, f), []))
            cpu = sum(float(r["cpu_s"]) for f in functions for r in groups.get((s, d, f), []))
            line[f"{s} solved"] = f"{len(solved)} ({', '.join(f'f{f}' for f in solved)})"
            line[f"{s} runs hit"] = f"{pairs}/{runs}"
            line[f"{s} CPU s/eval"] = f"{cpu / max(evals, 1):.2e}"
        summary.append(line)
        for f in functions:
            row: dict[str, object] = {"d": d, "f": f}
            erts = {s: ert(groups.get((s, d, f), [])) for s in solvers}
            for s in solvers:
                hits = sum(r["hit"] for r in groups.get((s, d, f), []))
                row[f"{s} ERT"] = f"{erts[s]:.3g} ({hits}/{len(groups.get((s, d, f), []))})"
            if len(solvers) == 2:
                a, b = erts[solvers[0]], erts[solvers[1]]
                row["ratio cem/pycma"] = f"{a / b:.2f}" if math.isfinite(a + b) else "-"
            detail.append(row)
    return (
        "Functions solved to 1e-8 on every instance (runs hit: (function, instance) pairs):\n\n"
        + markdown_table(summary)
        + "\n\nERT to 1e-8 in evaluations (successful runs / runs):\n\n"
        + markdown_table(detail)
        + "\n"
    )


def ecdf_figure(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """ECDF of runtimes, one panel per dimension: the fraction of (function, instance) runs
    that reached 1e-8 within x evaluations per dimension (COCO's runtime ECDF at the final
    target), for all functions and for the multimodal ones (f15-f24) apart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cem.plotting import save_figure

    dims = sorted({int(r["dim"]) for r in rows})
    fig, axes = plt.subplots(1, len(dims), figsize=(5.2 * len(dims), 3.8), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    for ax, d in zip(axes[0], dims, strict=True):
        for solver, color in zip(SOLVERS, ("C0", "C1"), strict=True):
            for subset, ls in (("all", "-"), ("f15-f24", ":")):
                runs = [r for r in rows if r["solver"] == solver and int(r["dim"]) == d
                        and (subset == "all" or int(r["function"]) >= 15)]  # fmt: skip
                if not runs:
                    continue
                hits = np.sort([int(r["evals_to_target"]) / d for r in runs if r["hit"]])
                frac = np.arange(1, hits.size + 1) / len(runs)
                ax.step(np.r_[1, hits], np.r_[0, frac], where="post", color=color, ls=ls,
                        label=f"{solver} ({subset}, {hits.size}/{len(runs)})")  # fmt: skip
        ax.set(xscale="log", ylim=(0, 1), xlabel="evaluations / d",
               ylabel="fraction of runs at 1e-8", title=f"bbob, d = {d}")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return save_figure(fig, path)[0]


def read_rows(paths: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of the CSVs ``paths``; a run in a later file replaces the same run before."""
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for p in paths:
        with open(p, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                key = (r["solver"], r["dim"], r["function"], r["instance"])
                rows[key] = {**r, "hit": r["hit"] == "True"}
    return list(rows.values())


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--functions", default="1-24", help="COCO function indices, e.g. 1-24")
    parser.add_argument("--instances", default="1-5", help="COCO instance indices, e.g. 1-5")
    parser.add_argument("--budget", type=int, default=10_000, help="evaluations per dimension")
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    parser.add_argument("--tag", default="", help="outputs bbob_TAG.* instead of bbob.*")
    parser.add_argument("--from", dest="sources", nargs="+", help="tables from these CSVs")
    args = parse_args(parser, argv, {"functions": QUICK_FUNCTIONS, "dims": [2, 5],
                                     "instances": "1", "budget": 1000})  # fmt: skip
    base = "bbob" + (f"_{args.tag}" if args.tag else "")
    name = base + ("_quick" if args.quick else "")
    if args.sources:
        rows = read_rows(args.sources)
        write_csv(base, rows)
    else:
        try:
            import cma  # noqa: F401
            import cocoex  # noqa: F401
        except ImportError as exc:
            raise SystemExit(
                f"bbob needs the bench extra (pip install '.[bench]'): {exc}"
            ) from None
        out = RESULTS / name
        rows = run(args.dims, args.functions, args.instances, args.budget, args.solvers, out)
        write_csv(base, rows)
    text = tables(rows)
    atomic_write_text(RESULTS / f"{name}.md", text)
    ecdf_figure(rows, RESULTS / f"{name}.png")
    print(text)
    return text


if __name__ == "__main__":
    main()
