"""Peak memory of one CE iteration on Gset G1 max-cut (800 nodes) at N = 1e5, 1e6, 1e7.

Usage::

    python -m experiments.benchmarks.memory [--sizes 100000 1000000 10000000] [--rho 0.01]
                                            [--materialized-up-to 100000]

Each measurement runs in a child process of its own and reports its peak resident set
size (``ru_maxrss``) after one iteration, and its size before (imports and the graph).
``step()`` keeps the N scores and the rows that may belong to the elite, one batch at
a time (:func:`cem._elite.sample_elite`); the materialized iteration (``ask()`` the
N x 800 matrix, then ``tell()``) runs too on the sizes up to ``--materialized-up-to``,
and the two must give the same gamma_t and the same fitted family to the bit.

The elite holds ``rho N`` rows of 800 float64 (6.4 kB each), so ``rho`` sets the
floor: 640 MB for 1e5 elite rows. Prints a Markdown table and writes
``experiments/benchmarks/results/memory.csv``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time

import numpy as np

from experiments.benchmarks._table import markdown_table, parse_args, write_csv


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


def child(n: int, rho: float, mode: str) -> dict:
    """One iteration in this process; its peak RSS and a digest of what it fitted."""
    from cem import CrossEntropyOptimizer
    from cem.problems.maxcut import MaxCut

    prob = MaxCut.from_config("G1")
    opt = CrossEntropyOptimizer(prob, n_samples=n, rho=rho, alpha=0.7, seed=0, max_iter=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "streaming":
        record = opt.step()
    else:
        X = opt.ask()
        record = opt.tell(X, prob.score(X))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    digest = hashlib.sha256(np.ascontiguousarray(opt.family.p).tobytes()).hexdigest()[:16]
    return {"before_kib": before, "peak_kib": peak, "seconds": seconds, "gamma": record.gamma,
            "best": record.best, "family_sha256": digest}  # fmt: skip


def measure(n: int, rho: float, mode: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.benchmarks.memory", "--child", str(n), mode,
         "--rho", str(rho)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return {"error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6, 10**7])
    parser.add_argument("--rho", type=float, default=0.01)
    parser.add_argument("--materialized-up-to", type=int, default=10**5)
    parser.add_argument("--child", nargs=2, metavar=("N", "MODE"), help=argparse.SUPPRESS)
    args = parse_args(parser, argv, quick={"sizes": [10**4], "materialized_up_to": 10**4})
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.rho, args.child[1])))
        return
    rows = []
    for n in args.sizes:
        modes = ["streaming"] + (["materialized"] if n <= args.materialized_up_to else [])
        results = {mode: measure(n, args.rho, mode) for mode in modes}
        same = ""
        if len(results) == 2 and not any("error" in r for r in results.values()):
            keys = ("gamma", "best", "family_sha256")
            same = all(results["streaming"][k] == results["materialized"][k] for k in keys)
        for mode, r in results.items():
            if "error" in r:
                rows.append({"N": n, "rho": args.rho, "path": mode, "peak_rss_MiB": "",
                             "before_MiB": "", "seconds": "", "gamma": "", "family_sha256": "",
                             "same_elite_as_materialized": r["error"]})  # fmt: skip
                continue
            rows.append({
                "N": n, "rho": args.rho, "path": mode, "peak_rss_MiB": _mib(r["peak_kib"]),
                "before_MiB": _mib(r["before_kib"]), "seconds": round(r["seconds"], 1),
                "gamma": r["gamma"], "family_sha256": r["family_sha256"],
                "same_elite_as_materialized": same if same != "" else "not run (N x d too large)",
            })  # fmt: skip
        print(markdown_table(rows[-len(results) :]), flush=True)
    print()
    print(markdown_table(rows))
    write_csv("memory", rows)


if __name__ == "__main__":
    main()
