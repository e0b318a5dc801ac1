"""Time to the optimum and scale of the memetic TSP strategy, 5 seeds per case.

Usage::

    python -m experiments.benchmarks.tsp_memetic [--seeds 5] [--jobs 2]
                                                 [--cases berlin52 ft53 ...]

Each run is ``cem.minimize`` on ``TSP(..., strategy="memetic")`` with the problem's
defaults (:meth:`~cem.problems.tsp.TSP.default_options`: 400 samples, an elite of 10
polished by the neighbour-list 2-opt / segment-exchange search and
``min(ceil(n / 4), 32)`` rounds of 2 segment-restart kicks, the 5 best polished tours kept
for the next iteration, stopped when the best tour has not improved for 2 rounds per city,
3 on an ATSP), under a CPU cap: 10 s on the TSPLIB instances (berlin52, ft53, ry48p, kroA100 from
``$CEM_DATA_DIR/tsplib``), 60 s on the seeded random Euclidean instances with n = 200 and
500 (the instances of :mod:`experiments.benchmarks.peers`, whose ``run_tsp`` runs each
case). The gap is to the published optimum, or to LKH's tour (``elkai``, one run) on the
random instances. Process CPU seconds, one BLAS thread. Writes
``results/tsp_memetic.csv`` (one row per run) and ``results/tsp_memetic.md``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

from cem._io import atomic_write_text  # noqa: E402
from experiments.benchmarks._table import RESULTS, markdown_table, parse_args, write_csv  # noqa: E402
from experiments.benchmarks.peers import run_tsp, tsp_problem  # noqa: E402

#: Case -> CPU cap in seconds (the acceptance budgets).
CASES = {"berlin52": 10.0, "ft53": 10.0, "ry48p": 10.0, "kroA100": 10.0,
         "random-200": 60.0, "random-500": 60.0}  # fmt: skip


def reference(case: str) -> tuple[float, str]:
    """The published optimum, else LKH's tour length (elkai)."""
    known = tsp_problem(case).known_optimum
    if known is not None:
        return known, "optimum"
    return run_tsp("elkai (LKH)", case, 0, 0.0)["length"], "LKH"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..SEEDS-1 (default 5)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parse_args(parser, argv, quick={"seeds": 1})
    cases = [c for c in args.cases if tsp_problem(c) is not None]
    for c in set(args.cases) - set(cases):
        print(f"{c}: not found (set CEM_DATA_DIR), skipped")
    wall = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        refs = dict(zip(cases, pool.map(reference, cases), strict=True))
        todo = [(case, seed) for case in sorted(cases, key=lambda c: -CASES[c])
                for seed in range(args.seeds)]  # fmt: skip
        runs = pool.map(run_tsp, ["cem"] * len(todo), *zip(*todo, strict=True),
                        [CASES[c] for c, _ in todo])  # fmt: skip
        rows = []
        for (case, seed), r in zip(todo, runs, strict=True):
            ref, kind = refs[case]
            rows.append({"case": case, "seed": seed, "length": r["length"], "reference": ref,
                         "reference_kind": kind, "gap_%": round(100 * (r["length"] / ref - 1), 3),
                         "cpu_s": round(r["cpu_s"], 2), "cap_s": CASES[case]})  # fmt: skip
            print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    rows.sort(key=lambda r: (list(CASES).index(r["case"]), r["seed"]))
    summary = []
    for case in [c for c in CASES if c in cases]:
        g = [r for r in rows if r["case"] == case]
        gaps, cpu = [r["gap_%"] for r in g], [r["cpu_s"] for r in g]
        summary.append({"case": case, "seeds": len(g), "reference": g[0]["reference"],
                        "at reference": sum(x <= 0 for x in gaps), "mean gap %":
                        round(float(np.mean(gaps)), 3), "worst gap %": max(gaps),
                        "mean CPU s": round(float(np.mean(cpu)), 2), "max CPU s": max(cpu),
                        "cap s": CASES[case]})  # fmt: skip
    text = ["# Memetic TSP: time to the optimum and scale", "",
            f"Machine: {platform.machine()}, {platform.processor() or platform.system()}, "
            f"Python {platform.python_version()}; one BLAS thread, process CPU seconds; "
            f"{args.jobs} worker processes, wall time {time.perf_counter() - wall:.0f} s.", "",
            markdown_table(summary), "", "## Runs", "", markdown_table(rows)]  # fmt: skip
    report = "\n".join(text) + "\n"
    print(report)
    atomic_write_text(RESULTS / "tsp_memetic.md", report)
    print(f"written: {write_csv('tsp_memetic', rows)}, {RESULTS / 'tsp_memetic.md'}")


if __name__ == "__main__":
    main()
