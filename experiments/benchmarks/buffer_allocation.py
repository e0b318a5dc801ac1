"""Buffer allocation benchmark: simulator speed, parallel speed-up, allocations found.

Usage::

    python -m experiments.benchmarks.buffer_allocation

1. Simulation speed in line-units per second (lines x parts): the batch simulator, all
   allocations advanced together, versus a per-line Python loop over the same recursion;
   both estimate the same throughput (checked against each other).
2. A CE run with ``n_jobs = 1`` and ``n_jobs = 2`` (identical results, speed-up ratio;
   the worker pool is started once beforehand, as in a session that runs several jobs).
3. The allocation CE finds on the balanced 4-machine line (B = 10) with its exact
   throughput and the enumerated optimum, and on 6-machine lines (B = 20), re-simulated
   (20 runs of 5 x 10^4 parts) and checked against the exact CTMC throughput.
4. The "bowl" on the balanced 6-machine line, from the exact CTMC (``--no-exact``
   skips it): the equal split, CE's allocation, and
   allocations with more or less buffer in the middle, for B = 20 and B = 22. Buffer in
   the middle is worth more than at the ends: end-heavy allocations lose most, and the
   units that do not split evenly go to the middle buffers. Near-equal allocations differ
   by less than a simulation of 10^4 parts resolves.

Prints Markdown tables and writes ``results/buffer_allocation.csv`` (and
``results/buffer_allocation_bowl.csv``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cem import maximize
from cem.problems.buffer_allocation import INSTANCES, BufferAllocation
from cem.problems.buffer_allocation.production_line import (
    LineSpec,
    effective_times,
    exact_throughput,
    simulate_throughput,
)
from experiments.benchmarks._table import markdown_table, parse_args, write_csv


def loop_simulation(spec: LineSpec, buffers: np.ndarray, Z: np.ndarray, warmup: int) -> float:
    """One line, one part and one machine at a time (the straightforward way)."""
    n_units, m = Z.shape
    D = [[0.0] * m for _ in range(n_units + 1)]
    for k in range(1, n_units + 1):
        upstream = 0.0
        for i in range(m):
            done = max(upstream, D[k - 1][i]) + Z[k - 1, i]
            if i < m - 1:
                lag = k - int(buffers[i]) - 1
                if lag >= 1:
                    done = max(done, D[lag][i + 1])
            D[k][i] = done
            upstream = done
    return (n_units - warmup) / (D[n_units][m - 1] - D[warmup][m - 1])


def speed(rows: list[dict]) -> None:
    spec = LineSpec((1.0,) * 6, (0.05,) * 6, (0.5,) * 6)
    rng = np.random.default_rng(0)
    N, n_units = 1000, 10_000
    alloc = np.array([np.random.default_rng(k).multinomial(20, np.full(5, 0.2)) for k in range(N)])
    start = time.perf_counter()
    thr = simulate_throughput(spec, alloc, n_units, 500, rng)
    vec_s = time.perf_counter() - start
    Z = effective_times(spec, n_units, np.random.default_rng(0))
    lines = 20
    start = time.perf_counter()
    loop = [loop_simulation(spec, alloc[j], Z, 500) for j in range(lines)]
    loop_s = (time.perf_counter() - start) / lines
    assert np.allclose(loop, thr[:lines]), "the two simulators disagree"
    vec_rate, loop_rate = N * n_units / vec_s, n_units / loop_s
    rows.append({"measure": "simulation line-units/s (6 machines, 1e4 parts)",
                 "n_jobs=1 or loop": f"{loop_rate:.3g} (per-line loop)",
                 "vectorized or n_jobs=2": f"{vec_rate:.3g} (batch of {N})",
                 "ratio": round(vec_rate / loop_rate, 1)})  # fmt: skip


def parallel(rows: list[dict]) -> None:
    prob = BufferAllocation("unreliable6", 20, n_units=4000, warmup=400, seed=0)
    opts = dict(n_samples=400, rho=0.1, alpha=0.7, seed=0, batch_size=100, max_iter=8)
    times, results = [], []
    maximize(prob, n_jobs=2, **dict(opts, max_iter=1))  # start the worker pool once
    for n_jobs in (1, 2):
        start = time.perf_counter()
        results.append(maximize(prob, n_jobs=n_jobs, **opts))
        times.append(time.perf_counter() - start)
    same = results[0].history["gamma"].tolist() == results[1].history["gamma"].tolist()
    rows.append({"measure": "CE run, 8 iterations x 400 allocations (seconds)",
                 "n_jobs=1 or loop": round(times[0], 2),
                 "vectorized or n_jobs=2": round(times[1], 2),
                 "ratio": round(times[0] / times[1], 2)})  # fmt: skip
    print(f"n_jobs=1 and n_jobs=2 give identical histories: {same}")


#: Allocations of the balanced 6-machine line whose exact throughput is computed.
BOWL = {
    20: ([4, 4, 4, 4, 4], [3, 4, 6, 4, 3], [3, 5, 4, 5, 3], [5, 4, 2, 4, 5], [2, 5, 6, 5, 2]),
    22: ([4, 4, 5, 5, 4], [4, 5, 4, 5, 4], [4, 4, 6, 4, 4], [5, 4, 4, 4, 5]),
}


def bowl(found: list[int]) -> list[dict]:
    """Exact throughput of equal, middle-heavy and end-heavy allocations (balanced6)."""
    spec = INSTANCES["balanced6"]
    rows = []
    for total, allocs in BOWL.items():
        cands = [*allocs, found] if total == sum(found) and found not in allocs else allocs
        values = [exact_throughput(spec, np.array(a)) for a in cands]
        for a, v in sorted(zip(cands, values, strict=True), key=lambda r: -r[1]):
            rows.append({"B": total, "allocation": a, "exact throughput": f"{v:.6f}",
                         "CE found it": "yes" if a == found else "",
                         "below best %": round(100 * (1 - v / max(values)), 3)})  # fmt: skip
    return rows


def allocations(six_machine_lines: tuple[str, ...] = ("balanced6", "unreliable6")) -> list[dict]:
    rows = []
    prob = BufferAllocation("balanced4", 10, n_units=5000, seed=0)
    res = maximize(prob, n_samples=100, rho=0.1, alpha=0.7, seed=0)
    sel = prob.select_best(np.array([res.x, res.family.mode()]), replications=10)
    best, value = prob.exact_optimum()
    rows.append({"line": "balanced 4 machines, B = 10", "allocation": sel.allocation.tolist(),
                 "throughput (95% CI)": f"{sel.throughput:.4f} ± {sel.half_width:.4f}",
                 "exact": f"{sel.exact:.6f}", "enumerated optimum": f"{best.tolist()} {value:.6f}",
                 "iterations": res.nit})  # fmt: skip
    for line in six_machine_lines:
        prob = BufferAllocation(line, 20, n_units=10_000, warmup=1000, seed=0)
        res = maximize(prob, n_samples=300, rho=0.1, alpha=0.7, seed=0)
        sel = prob.select_best(
            np.array([res.x, res.family.mode()]), replications=20, n_units=50_000
        )
        exact = exact_throughput(prob.spec, sel.allocation)  # CTMC by power iteration
        rows.append({"line": f"{line}, B = 20", "allocation": sel.allocation.tolist(),
                     "throughput (95% CI)": f"{sel.throughput:.4f} ± {sel.half_width:.4f}",
                     "exact": f"{exact:.6f}", "enumerated optimum": "—",
                     "iterations": res.nit})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-exact", action="store_true", help="skip the exact bowl table")
    parser.add_argument("--no-parallel", action="store_true", help="skip the n_jobs=2 run")
    six = ["balanced6", "unreliable6"]
    parser.add_argument("--lines", nargs="*", default=six, choices=six, help="6-machine lines")
    args = parse_args(parser, argv, quick={"no_exact": True, "no_parallel": True, "lines": []})
    rows: list[dict] = []
    speed(rows)
    if not args.no_parallel:
        parallel(rows)
    print(markdown_table(rows))
    found = allocations(tuple(args.lines))
    print()
    print(markdown_table(found))
    path = write_csv("buffer_allocation", [*rows, *({"measure": r["line"], "n_jobs=1 or loop": "",
              "vectorized or n_jobs=2": str(r["allocation"]), "ratio": r["throughput (95% CI)"]}
              for r in found)])  # fmt: skip
    print(f"written: {path}")
    if not args.no_exact and len(found) > 1:
        table = bowl(found[1]["allocation"])
        print()
        print(markdown_table(table))
        print(f"written: {write_csv('buffer_allocation_bowl', table)}")


if __name__ == "__main__":
    main()
