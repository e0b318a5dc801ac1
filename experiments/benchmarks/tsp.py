"""TSP/ATSP benchmark: CE alone and CE with local search on TSPLIB instances.

Usage::

    python -m experiments.benchmarks.tsp [--instances berlin52 ftv33 ...] [--seeds 5]
                                         [--modes none elite] [--jobs 2]

Instances are read from the ``tsplib`` folder of ``$CEM_DATA_DIR`` when it is set or,
failing that, from the bundled ones; an instance found in neither is
skipped with a message. Every (instance, mode, seed) run uses the instance's
:meth:`~problems.tsp.TSP.default_options` (``N = 5 n^2``, ``rho = 0.01``, ``alpha = 0.3``,
``d = 10``); ``polish="elite"`` applies 2-opt + or-opt (symmetric) or or-opt (asymmetric)
to the elite tours of every iteration. Runs are spread over ``--jobs`` processes; the
seconds are each run's own wall-clock time.

For each instance and mode: best and mean tour length over the seeds, the gaps to the
optimum, the mean number of iterations and seconds. Prints a Markdown table, writes
``results/tsp.csv`` (and the single runs to ``results/tsp_runs.csv``), and draws the best
berlin52 tour of seed 0 and its transition matrix at a few iterations.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cem import CrossEntropyOptimizer
from cem.problems.tsp import TSP
from cem.problems.tsp.tsplib import DATA_DIR
from experiments.benchmarks._table import (
    DATA_ENV,
    RESULTS,
    data_dir,
    markdown_table,
    parse_args,
    write_csv,
)

INSTANCES = ["berlin52", "eil51", "st70", "kroA100", "ftv33", "ry48p", "ft53"]
#: Instance whose seed-0 run is drawn.
DRAWN = "berlin52"


def find(name: str) -> Path | None:
    """Path of a TSPLIB instance in ``$CEM_DATA_DIR/tsplib``, else among the bundled ones."""
    for folder in [f for f in (data_dir("tsplib"), DATA_DIR) if f is not None]:
        for ext in ("tsp", "atsp"):
            if (folder / f"{name}.{ext}").is_file():
                return folder / f"{name}.{ext}"
    return None


def run_one(path: Path, mode: str, seed: int, keep: bool) -> dict[str, Any]:
    """One CE run; with ``keep``, also the best tour and the transition matrix per iteration."""
    tsp = TSP.from_tsplib(path)
    snapshots = [tsp.initial_family().P] if keep else []

    def callback(opt: CrossEntropyOptimizer) -> None:
        if keep:
            snapshots.append(opt.family.P.copy())

    start = time.perf_counter()
    opt = CrossEntropyOptimizer(
        tsp, seed=seed, polish=mode, callback=callback, **tsp.default_options()
    )
    res = opt.run()
    return {
        "length": res.fun,
        "iterations": res.nit,
        "seconds": time.perf_counter() - start,
        "tour": res.x if keep else None,
        "snapshots": snapshots,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", nargs="+", default=INSTANCES)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..SEEDS-1 (default 5)")
    parser.add_argument("--modes", nargs="+", default=["none", "elite"], choices=["none", "elite"])
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    args = parse_args(parser, argv, quick={"instances": ["berlin52", "ftv33"], "seeds": 1})

    found: dict[str, Path] = {}
    for name in args.instances:
        path = find(name)
        if path is None:
            print(f"skipping {name}: not bundled, and not in ${DATA_ENV}/tsplib")
        else:
            found[name] = path
    size = {name: TSP.from_tsplib(path).n for name, path in found.items()}
    tasks = sorted(
        ((name, mode, seed) for name in found for mode in args.modes for seed in range(args.seeds)),
        key=lambda task: (-size[task[0]], task[1] == "none"),  # longest runs first
    )
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            task: pool.submit(run_one, found[task[0]], task[1], task[2],
                              task[0] == DRAWN and task[2] == 0)
            for task in tasks
        }  # fmt: skip
        rows, per_run = [], []
        for name in found:
            tsp = TSP.from_tsplib(found[name])
            for mode in args.modes:
                runs = [futures[(name, mode, seed)].result() for seed in range(args.seeds)]
                for seed, r in enumerate(runs):
                    per_run.append({"instance": name, "polish": mode, "seed": seed,
                                    "length": r["length"], "optimum": tsp.known_optimum,
                                    "iterations": r["iterations"],
                                    "seconds": round(r["seconds"], 2)})  # fmt: skip
                    if r["tour"] is not None:
                        draw(tsp, r["tour"], r["snapshots"], mode)
                rows.append(summary(tsp, mode, runs))
                print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    write_csv("tsp_runs", per_run)
    print(f"written: {write_csv('tsp', rows)}")


def summary(tsp: TSP, mode: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One table row: best, mean, gaps, iterations and seconds over the seeds."""
    lengths = [r["length"] for r in runs]
    best, mean = min(lengths), float(np.mean(lengths))
    opt = tsp.known_optimum

    def gap(x: float) -> float | None:
        return None if opt is None else round(100 * (x / opt - 1), 2)

    return {
        "instance": tsp.name, "n": tsp.n, "kind": "TSP" if tsp.symmetric else "ATSP",
        "polish": mode, "seeds": len(runs), "optimum": opt, "best": best,
        "mean": round(mean, 1), "best_gap_%": gap(best), "mean_gap_%": gap(mean),
        "worst_gap_%": gap(max(lengths)),
        "mean_iterations": round(float(np.mean([r["iterations"] for r in runs])), 1),
        "mean_seconds": round(float(np.mean([r["seconds"] for r in runs])), 1),
    }  # fmt: skip


def draw(tsp: TSP, tour: np.ndarray, snapshots: list[np.ndarray], mode: str) -> None:
    """Save the tour and the transition matrices at four iterations as PNG files."""
    from cem.problems.tsp.plots import plot_tour, plot_transition_matrices

    fig = plot_tour(tsp, tour)
    fig.savefig(RESULTS / f"tsp_{tsp.name}_{mode}_tour.png", dpi=110)
    last = len(snapshots) - 1
    picks = sorted({0, last // 4, last // 2, last})
    fig = plot_transition_matrices([snapshots[k] for k in picks], picks, order=tour)
    fig.savefig(RESULTS / f"tsp_{tsp.name}_{mode}_transitions.png", dpi=110)


if __name__ == "__main__":
    main()
