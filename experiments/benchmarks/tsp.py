"""TSP/ATSP benchmark: CE alone and CE with local search on TSPLIB instances.

Usage::

    python -m experiments.benchmarks.tsp [--instances berlin52 ftv33 ...] [--seeds 5]

For each instance and mode: best and mean tour length over the seeds, the mean gap to the
optimum, iterations and seconds. Prints a Markdown table, writes ``results/tsp.csv``, and
draws the best berlin52 tour and the transition matrix at a few iterations.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cem import CrossEntropyOptimizer
from experiments.benchmarks._table import RESULTS, markdown_table, write_csv
from problems.tsp import TSP

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "tsplib"
INSTANCES = ["berlin52", "eil51", "st70", "kroA100", "ftv33", "ry48p", "ft53"]


def load(name: str) -> TSP:
    for ext in ("tsp", "atsp"):
        if (SHARED / f"{name}.{ext}").is_file():
            return TSP.from_tsplib(SHARED / f"{name}.{ext}")
    return TSP.from_config(name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", nargs="+", default=INSTANCES)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=["none", "elite"])
    args = parser.parse_args(argv)
    rows, per_run = [], []
    for name in args.instances:
        tsp = load(name)
        for mode in args.modes:
            lengths, iters, secs = [], [], []
            for seed in range(args.seeds):
                snapshots: list[np.ndarray] = []
                start = time.perf_counter()
                opt = CrossEntropyOptimizer(
                    tsp, seed=seed, polish=mode, **tsp.default_options(),
                    callback=lambda o, s=snapshots: s.append(o.family.P.copy()),
                )  # fmt: skip
                res = opt.run()
                secs.append(time.perf_counter() - start)
                lengths.append(res.fun)
                iters.append(res.nit)
                per_run.append({"instance": name, "polish": mode, "seed": seed,
                                "length": res.fun, "optimum": tsp.known_optimum,
                                "iterations": res.nit, "seconds": round(secs[-1], 2)})  # fmt: skip
                if name == "berlin52" and seed == 0:
                    draw(tsp, res.x, snapshots, mode)
            best, mean = min(lengths), float(np.mean(lengths))
            rows.append({
                "instance": name, "n": tsp.n, "polish": mode, "seeds": args.seeds,
                "optimum": tsp.known_optimum, "best": best, "mean": round(mean, 1),
                "best_gap_%": round(100 * (best / tsp.known_optimum - 1), 2),
                "mean_gap_%": round(100 * (mean / tsp.known_optimum - 1), 2),
                "mean_iterations": float(np.mean(iters)),
                "mean_seconds": round(float(np.mean(secs)), 1),
            })  # fmt: skip
            print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    write_csv("tsp_runs", per_run)
    print(f"written: {write_csv('tsp', rows)}")


def draw(tsp: TSP, tour: np.ndarray, snapshots: list[np.ndarray], mode: str) -> None:
    from problems.tsp_plots import plot_tour, plot_transition_matrices

    fig = plot_tour(tsp, tour)
    fig.savefig(RESULTS / f"tsp_berlin52_{mode}_tour.png", dpi=110)
    picks = sorted({0, len(snapshots) // 4, len(snapshots) // 2, len(snapshots) - 1})
    fig = plot_transition_matrices([snapshots[k] for k in picks], [k + 1 for k in picks])
    fig.savefig(RESULTS / f"tsp_berlin52_{mode}_transitions.png", dpi=110)


if __name__ == "__main__":
    main()
