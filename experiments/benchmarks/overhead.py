"""The optimizer's own CPU time per evaluation, with a trivial objective.

Usage::

    python -m experiments.benchmarks.overhead [--dim 20] [--sizes 100 1000] [--evals 200000]
                                              [--xem-python PATH]

A d-dimensional Normal search distribution with ``N`` samples per iteration and the
objective ``S(x) = -|x|^2`` (vectorized, about 0.03 us per sample). For each optimizer
the CPU time (``time.process_time``, one BLAS thread) of a run of ``evals / N``
iterations is divided by the number of evaluations, and the objective's own time
(measured alone on batches of the same shape) is subtracted.

Compared, in the same run when installed:

- cem (:class:`cem.CrossEntropyOptimizer`, diagonal :class:`cem.families.Normal`);
- pycma (``cma``, CMA-ES with population ``N``, ask/tell on the whole population);
- the PyPI package ``cross-entropy-method`` (per-sample API, diagonal Normal written
  as its docs ask). It installs a top-level module ``cem`` that would shadow ours, so
  it runs in a subprocess of its own interpreter (``--xem-python``, default
  ``$CEM_XEM_PYTHON``); the row names the ``cem`` module file it imported. Without an
  interpreter that has it, its rows say so.

Prints a Markdown table and writes ``experiments/benchmarks/results/overhead.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from experiments.benchmarks._table import markdown_table, parse_args, write_csv


def objective(X: np.ndarray) -> np.ndarray:
    return -np.einsum("ij,ij->i", X, X)


def objective_seconds(n: int, d: int, calls: int) -> float:
    """CPU seconds of ``calls`` objective calls on ``(n, d)`` batches."""
    X = np.random.default_rng(0).standard_normal((n, d))
    start = time.process_time()
    for _ in range(calls):
        objective(X)
    return time.process_time() - start


def run_cem(n: int, d: int, iters: int) -> tuple[float, int]:
    from cem import CrossEntropyOptimizer
    from cem.families import Normal

    opt = CrossEntropyOptimizer(
        objective, Normal(np.zeros(d), 1.0), n_samples=n, rho=0.1, alpha=0.7, seed=0,
        max_iter=iters, stall_iters=None, degenerate_tol=None,
    )  # fmt: skip
    start = time.process_time()
    res = opt.run()
    return time.process_time() - start, res.nfev


def run_pycma(n: int, d: int, iters: int) -> tuple[float, int] | None:
    try:
        import cma
    except ImportError:
        return None
    es = cma.CMAEvolutionStrategy(
        np.zeros(d), 1.0,
        {"popsize": n, "seed": 1, "verbose": -9, "maxiter": iters, "tolfun": 0, "tolx": 0,
         "tolfunhist": 0, "tolflatfitness": 10**9, "tolstagnation": 10**9},
    )  # fmt: skip
    start = time.process_time()
    evals = 0
    for _ in range(iters):
        X = es.ask()
        es.tell(X, list(-objective(np.asarray(X))))  # pycma minimizes
        evals += n
    return time.process_time() - start, evals


#: Run in the other interpreter: the PyPI package's documented way to use it (subclass
#: ``CEM`` with do_sample, pdf and update_sample_distribution), a diagonal Normal.
XEM_SCRIPT = r"""
import json, sys, time
import numpy as np
import cem
from cem import CEM

n, d, iters = map(int, sys.argv[1:4])
rng = np.random.default_rng(0)

class NormalCEM(CEM):
    def do_sample(self, dist):
        return rng.normal(dist[0], dist[1])
    def pdf(self, x, dist):
        z = (x - dist[0]) / dist[1]
        return float(np.exp(-0.5 * np.sum(z * z)) / np.prod(dist[1]))
    def update_sample_distribution(self, samples, weights):
        S = np.asarray(samples)
        return [S.mean(axis=0), S.std(axis=0) + 1e-12]

opt = NormalCEM([np.zeros(d), np.ones(d)], batch_size=n, ref_mode="none", ref_alpha=0.1,
                min_batch_update=0.1)
start = time.process_time()
for _ in range(iters):
    for _ in range(n):
        x, _w = opt.sample()
        opt.update(float(np.dot(x, x)), save=False)  # it selects the lowest scores
print(json.dumps({"cpu": time.process_time() - start, "evals": n * iters,
                  "module": cem.__file__}))
"""


def run_xem(python: str | None, n: int, d: int, iters: int) -> tuple[float, int, str] | str:
    if not python:
        return "no interpreter with cross-entropy-method (--xem-python)"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [python, "-c", XEM_SCRIPT, str(n), str(d), str(iters)],
        capture_output=True, text=True, env=env, cwd="/", check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed: {last}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if "cross" not in out["module"] and "site-packages/cem/" not in out["module"]:
        return f"imported the wrong cem: {out['module']}"
    return out["cpu"], out["evals"], out["module"]


def row(name: str, n: int, d: int, cpu: float, evals: int, obj: float, note: str) -> dict:
    return {
        "optimizer": name,
        "N": n,
        "d": d,
        "evaluations": evals,
        "cpu_s": round(cpu, 3),
        "us_per_eval": round(1e6 * cpu / evals, 2),
        "overhead_us_per_eval": round(1e6 * (cpu - obj) / evals, 2),
        "note": note,
    }


def skipped(name: str, n: int, d: int, why: str) -> dict:
    empty = {"evaluations": "", "cpu_s": "", "us_per_eval": "", "overhead_us_per_eval": ""}
    return {**row(name, n, d, 0.0, 1, 0.0, why), **empty}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--evals", type=int, default=200_000, help="evaluations per run")
    parser.add_argument("--xem-python", default=os.environ.get("CEM_XEM_PYTHON"))
    args = parse_args(parser, argv, quick={"sizes": [100], "evals": 20_000})
    d, rows = args.dim, []
    with threadpool_limits(limits=1):
        for n in args.sizes:
            iters = max(1, args.evals // n)
            obj = objective_seconds(n, d, iters)
            runners: list[tuple[str, Callable[[], tuple[float, int] | None]]] = [
                ("cem", lambda n=n, iters=iters: run_cem(n, d, iters)),
                ("pycma", lambda n=n, iters=iters: run_pycma(n, d, iters)),
            ]
            for name, runner in runners:
                out = runner()
                if out is None:
                    rows.append(skipped(name, n, d, "not installed"))
                    continue
                note = "diagonal Normal" if name == "cem" else "CMA-ES (full covariance)"
                rows.append(row(name, n, d, *out, obj, note))
            xem = run_xem(args.xem_python, n, d, iters)
            if isinstance(xem, str):
                rows.append(skipped("cross-entropy-method", n, d, xem))
            else:
                cpu, evals, module = xem
                rows.append(row("cross-entropy-method", n, d, cpu, evals, obj,
                                f"per-sample API; its cem from {module}"))  # fmt: skip
    print(markdown_table(rows))
    print(f"\n{sys.platform}, one BLAS thread; CPU time per evaluation minus the objective's.")
    write_csv("overhead", rows)


if __name__ == "__main__":
    main()
