"""Wall time of a CE run in-process, with two joblib workers and on a two-worker Dask cluster.

Usage::

    python -m experiments.benchmarks.parallel [--iters 6] [--cost-ms 1.0]

Two objectives:

- cheap: Gset G1 max-cut (800 nodes), N = 1000, the vectorized cut of
  :class:`cem.problems.maxcut.MaxCut` (about 0.1 ms per sample);
- expensive: a stand-in for a simulator that burns ``--cost-ms`` of CPU per sample
  (N = 1000 in batches of 100, 20-dimensional Normal family).

Each is run with ``n_jobs=1``; ``n_jobs=2`` as a user would write it (joblib's default
backend: the runner stays in-process while an iteration takes less than 0.1 s
in-process, else uses worker processes); ``n_jobs=2, backend="loky"`` (worker
processes forced); and a Dask ``LocalCluster`` of 2 worker processes with one thread
each. Every run gives the same history to the bit (checked). The pool and the cluster
are started before the clock starts (their start-up is reported apart). For Dask, the
bytes sent to the workers per iteration (per-batch task arguments) and once per run
(the problem, scattered to every worker) are reported, with what sending the problem
with every batch would have cost.

Prints a Markdown table and writes ``experiments/benchmarks/results/parallel.csv``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import time

import numpy as np

from cem import CrossEntropyOptimizer
from cem.families import Normal
from cem.problem import Problem
from cem.problems.maxcut import MaxCut
from experiments.benchmarks._table import markdown_table, parse_args, write_csv


class Simulator(Problem):
    """``-|x|^2`` after ``cost_ms`` of busy CPU per sample (a simulation stand-in)."""

    sense = "max"

    def __init__(self, dim: int = 20, cost_ms: float = 1.0) -> None:
        self.dim, self.cost = dim, cost_ms / 1000.0

    def initial_family(self) -> Normal:
        return Normal(np.zeros(self.dim), 2.0)

    def score(self, X: np.ndarray) -> np.ndarray:
        out = np.empty(X.shape[0])
        for i, x in enumerate(X):  # one simulation per sample
            end = time.process_time() + self.cost
            while time.process_time() < end:
                pass
            out[i] = -float(x @ x)
        return out


def _history(res) -> list[tuple]:
    return [(r.t, r.gamma, r.best, r.mean, r.entropy, r.evals) for r in res.history]


def timed(problem: Problem, options: dict) -> tuple[float, object, CrossEntropyOptimizer]:
    opt = CrossEntropyOptimizer(problem, **options)
    start = time.perf_counter()
    res = opt.run()
    return time.perf_counter() - start, res, opt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=6)
    parser.add_argument("--cost-ms", type=float, default=1.0)
    args = parse_args(parser, argv, quick={"iters": 2, "cost_ms": 0.2})
    import distributed

    cases = [
        ("cheap: G1 max-cut", MaxCut.from_config("G1"), dict(n_samples=1000)),
        (f"expensive: {args.cost_ms:g} ms/sample", Simulator(cost_ms=args.cost_ms),
         dict(n_samples=1000, batch_size=100)),
    ]  # fmt: skip
    modes = [
        ("n_jobs=1", dict(n_jobs=1)),
        ("n_jobs=2 (default backend)", dict(n_jobs=2)),
        ("n_jobs=2, loky", dict(n_jobs=2, backend="loky")),
        ("Dask LocalCluster, 2 processes", dict(n_jobs=-1, backend="dask")),
    ]
    start = time.perf_counter()
    CrossEntropyOptimizer(Simulator(cost_ms=0), n_samples=512, max_iter=1, n_jobs=2,
                          backend="loky").run()  # fmt: skip
    loky_start = time.perf_counter() - start
    start = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, silence_logs=40)  # fmt: skip
    client = distributed.Client(cluster)
    dask_start = time.perf_counter() - start
    rows = []
    with cluster, client:
        for name, problem, base in cases:
            base = dict(base, seed=0, max_iter=args.iters, stall_iters=None, degenerate_tol=None)
            serial_seconds, serial, _ = timed(problem, dict(base, n_jobs=1))
            for mode, extra in modes:
                if extra == {"n_jobs": 1}:
                    seconds, res, opt = serial_seconds, serial, None
                else:
                    seconds, res, opt = timed(problem, dict(base, **extra))
                row = {
                    "objective": name, "mode": mode, "seconds": round(seconds, 2),
                    "speed-up vs n_jobs=1": round(serial_seconds / seconds, 2),
                    "same history": _history(res) == _history(serial),
                    "Dask bytes per iteration": "", "Dask bytes once per run": "",
                    "bytes per iteration if the problem went with every batch": "",
                }  # fmt: skip
                if opt is not None and extra.get("backend") == "dask":
                    runner = opt.batch_runner
                    batches = -(-base["n_samples"] // (base.get("batch_size") or 256))
                    per_iter = runner.bytes_sent / res.nit
                    row["Dask bytes per iteration"] = round(per_iter)
                    row["Dask bytes once per run"] = runner.bytes_scattered
                    row["bytes per iteration if the problem went with every batch"] = round(
                        per_iter + batches * len(pickle.dumps(problem))
                    )
                rows.append(row)
                print(markdown_table(rows[-1:]), flush=True)
    print()
    print(markdown_table(rows))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nloky pool start-up {loky_start:.1f} s, Dask cluster start-up {dask_start:.1f} s "
          f"(not in the times above); load average {load} on {os.cpu_count()} cores")  # fmt: skip
    for row in rows:
        row["load average"] = load
    write_csv("parallel", rows)


if __name__ == "__main__":
    main()
