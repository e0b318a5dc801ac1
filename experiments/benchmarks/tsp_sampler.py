"""Throughput of the vectorized tour sampler versus a per-tour Python loop.

Usage::

    python -m experiments.benchmarks.tsp_sampler

For n = 52 and n = 100 at N = 5 n^2 tours: tours per second of
:meth:`cem.families.TransitionMatrix.sample` (all tours advanced together) and of a
straightforward loop that builds one tour at a time (timed on a subset and extrapolated),
and their ratio, measured in the same run. Writes ``results/tsp_sampler.csv``.
"""

from __future__ import annotations

import time

import numpy as np

from cem.families import TransitionMatrix
from experiments.benchmarks._table import markdown_table, write_csv


def loop_sampler(P: np.ndarray, n_tours: int, rng: np.random.Generator) -> np.ndarray:
    """One tour at a time: mask visited cities, renormalize, draw the next city."""
    m = P.shape[0]
    tours = np.zeros((n_tours, m), dtype=np.int64)
    for k in range(n_tours):
        unvisited = np.ones(m, dtype=bool)
        unvisited[0] = False
        current = 0
        for step in range(1, m):
            w = P[current] * unvisited
            current = int(rng.choice(m, p=w / w.sum()))
            tours[k, step] = current
            unvisited[current] = False
    return tours


def main() -> None:
    rows = []
    rng = np.random.default_rng(0)
    for n in (52, 100):
        P = rng.random((n, n))
        np.fill_diagonal(P, 0)
        fam = TransitionMatrix(P / P.sum(axis=1, keepdims=True))
        N = 5 * n**2
        start = time.perf_counter()
        fam.sample(N, rng)
        vec = N / (time.perf_counter() - start)
        subset = 500
        start = time.perf_counter()
        loop_sampler(fam.P, subset, rng)
        loop = subset / (time.perf_counter() - start)
        rows.append({"n": n, "N": N, "vectorized_tours_per_s": round(vec),
                     "loop_tours_per_s": round(loop), "ratio": round(vec / loop, 1)})  # fmt: skip
    print(markdown_table(rows))
    print(f"written: {write_csv('tsp_sampler', rows)}")


if __name__ == "__main__":
    main()
