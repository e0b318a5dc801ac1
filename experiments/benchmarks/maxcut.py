"""Max-cut benchmark on Gset graphs: CE alone and CE with 1-flip polish of the elite.

Usage::

    python -m experiments.benchmarks.maxcut [--graphs G1 G14] [--seeds 1] [--n-samples 1000]

Prints a Markdown table (best cut, gap to the best-known cut, iterations,
evaluations, seconds) and writes ``experiments/benchmarks/results/maxcut.csv``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cem import maximize
from cem.problems.maxcut import MaxCut
from experiments.benchmarks._table import markdown_table, parse_args, write_csv


def run(graphs: list[str], seeds: int, n_samples: int, rho: float, alpha: float) -> list[dict]:
    rows = []
    for name in graphs:
        prob = MaxCut.from_config(name)
        for polish in ("none", "elite"):
            for seed in range(seeds):
                start = time.perf_counter()
                res = maximize(
                    prob, n_samples=n_samples, rho=rho, alpha=alpha, polish=polish, seed=seed
                )
                seconds = time.perf_counter() - start
                rows.append(
                    {
                        "graph": name,
                        "nodes": prob.n,
                        "polish": polish,
                        "seed": seed,
                        "best_cut": res.fun,
                        "best_known": prob.known_optimum,
                        "gap_%": 100 * res.gap,
                        "iterations": res.nit,
                        "evaluations": res.nfev,
                        "seconds": round(seconds, 2),
                        "stop": res.stop_reason,
                    }
                )
                print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", nargs="+", default=["G1", "G14"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--rho", type=float, default=0.1)
    parser.add_argument("--alpha", type=float, default=0.7)
    args = parse_args(parser, argv, quick={"graphs": ["G1"], "seeds": 1})
    rows = run(args.graphs, args.seeds, args.n_samples, args.rho, args.alpha)
    print()
    print(markdown_table(summarize(rows)))
    print(f"written: {write_csv('maxcut', rows)}")


def summarize(rows: list[dict]) -> list[dict]:
    """One row per (graph, polish): best and mean cut over the seeds, mean gap, work."""
    out = []
    for key in dict.fromkeys((r["graph"], r["polish"]) for r in rows):
        group = [r for r in rows if (r["graph"], r["polish"]) == key]
        cuts = np.array([r["best_cut"] for r in group])
        out.append(
            {
                "graph": key[0],
                "polish": key[1],
                "seeds": len(group),
                "best_cut": float(cuts.max()),
                "mean_cut": float(cuts.mean()),
                "best_known": group[0]["best_known"],
                "mean_gap_%": float(np.mean([r["gap_%"] for r in group])),
                "mean_iterations": float(np.mean([r["iterations"] for r in group])),
                "mean_evaluations": float(np.mean([r["evaluations"] for r in group])),
                "mean_seconds": float(np.mean([r["seconds"] for r in group])),
            }
        )
    return out


if __name__ == "__main__":
    main()
