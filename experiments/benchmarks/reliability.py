"""Network unreliability: crude MC, PMC, the turnip and CE importance sampling against exact values.

Usage::

    python -m experiments.benchmarks.reliability

Three tables, written to ``results/``:

1. ``reliability.csv``: for the dodecahedron s-t (vertices 0 and 15 of
   ``networkx.dodecahedral_graph``, at distance 5), the 5x5 grid s-t (opposite corners 0
   and 24) and the 5x5 grid all-terminal, with every edge failing with probability
   q = 1e-1 ... 1e-4: the exact Q (frontier DP) and its ratio to the small-q asymptote
   F_c q^c (c the minimum cut size, F_c the number of minimum cuts: 2 q^3 for the
   dodecahedron s-t), then per method the estimate, its
   distance to Q in standard errors, the relative error RE, CPU seconds and the
   work-normalized relative variance RE^2 * CPU s (smaller is better). Budgets: PMC and
   the turnip 10^4 permutations, CE 5000 samples per rung and 10^5 final samples; crude
   Monte Carlo gets the turnip's CPU time (its per-sample cost timed on 10^5 samples).
2. ``reliability_connectivity.csv``: the vectorized connectivity test against one
   networkx call per sample, on 20 000 random edge states (q = 0.3).
3. ``reliability_design.csv``: CE network design; the 15-link instance of
   ``configs/reliability_design.toml`` over 10 seeds against the brute-force optimum, and
   the 30-link instance of ``configs/reliability_design30.toml`` with its re-estimated
   unreliability and 95% CI (picture: ``results/reliability_design30.png``).

CPU time is ``time.process_time()`` with one BLAS thread.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from cem import minimize
from cem.problems.network.design import NetworkDesign
from cem.problems.network.exact import unreliability_polynomial
from cem.problems.network.reliability import NetworkReliability
from experiments.benchmarks._table import RESULTS, markdown_table, write_csv

QS = (1e-1, 1e-2, 1e-3, 1e-4)
#: (label, NetworkReliability keyword arguments)
INSTANCES = [
    ("dodecahedron s-t", {"network": "dodecahedron", "terminals": [0, 15]}),
    ("grid 5x5 s-t", {"network": "grid", "rows": 5, "cols": 5, "terminals": [0, 24]}),
    ("grid 5x5 all-terminal", {"network": "grid", "rows": 5, "cols": 5, "terminals": "all"}),
]
#: method -> estimate() options
BUDGETS = {
    "pmc": {"n_final": 10_000},
    "turnip": {"n_final": 10_000},
    "ce": {"n_samples": 5000, "n_final": 100_000},
}
PILOT = 100_000


def _row(
    label: str, q: float, exact: float, asym: float, method: str, res: Any, cpu: float
) -> dict[str, object]:
    se = res.std_error
    return {
        "network": label,
        "q": q,
        "exact": f"{exact:.6g}",
        "exact_over_Fc_qc": f"{exact / asym:.6f}",
        "method": method,
        "samples": res.n_final,
        "estimate": f"{res.estimate:.6g}" if res.hits else "no hit",
        "error_in_se": round((res.estimate - exact) / se, 2) if se > 0 else "",
        "RE": round(res.rel_error, 4) if math.isfinite(res.rel_error) else "inf",
        "cpu_s": round(cpu, 3),
        "wn_rel_var": f"{res.rel_error**2 * cpu:.3g}" if math.isfinite(res.rel_error) else "inf",
    }


def estimators() -> list[dict[str, object]]:
    rows = []
    for label, kwargs in INSTANCES:
        for q in QS:
            prob = NetworkReliability(q=q, **kwargs)
            exact = prob.exact()
            asym = _asymptote(prob, q)
            cpu_of = {}
            for method, options in BUDGETS.items():
                start = time.process_time()
                res = prob.estimate(method=method, rng=1, **options)
                cpu_of[method] = time.process_time() - start
                rows.append(_row(label, q, exact, asym, method, res, cpu_of[method]))
                print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
            start = time.process_time()
            prob.estimate(method="crude", n_final=PILOT, rng=2)
            per_sample = (time.process_time() - start) / PILOT
            n_crude = max(2, int(cpu_of["turnip"] / per_sample))
            start = time.process_time()
            res = prob.estimate(method="crude", n_final=n_crude, rng=3)
            cpu = time.process_time() - start
            rows.append(_row(label, q, exact, asym, "crude", res, cpu))
            print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def _asymptote(prob: NetworkReliability, q: float) -> float:
    """The small-q asymptote F_c q^c (c the minimum cut size, F_c the number of such cuts)."""
    poly = unreliability_polynomial(prob.network)
    return poly.counts[poly.min_cut] * q**poly.min_cut


def connectivity() -> list[dict[str, object]]:
    rows = []
    for label, kwargs in INSTANCES:
        net = NetworkReliability(q=0.3, **kwargs).network
        W = np.random.default_rng(0).random((20_000, net.m)) > 0.3
        start = time.process_time()
        fast = net.connected(W)
        t_fast = time.process_time() - start
        start = time.process_time()
        slow = net.connected_networkx(W)
        t_slow = time.process_time() - start
        assert np.array_equal(fast, slow)
        rows.append({"network": label, "samples": W.shape[0],
                     "vectorized_s": round(t_fast, 3), "networkx_s": round(t_slow, 3),
                     "speedup": round(t_slow / t_fast, 1)})  # fmt: skip
    return rows


def design() -> list[dict[str, object]]:
    rows = []
    small = NetworkDesign.random(8, 15, 0.4, terminals="all", instance_seed=0)
    x_opt, best = small.brute_force()
    start = time.process_time()
    found = [minimize(small, seed=s) for s in range(10)]
    cpu = (time.process_time() - start) / 10
    hits = sum(abs(r.fun - best) <= 1e-12 for r in found)
    rows.append({"instance": "15 links, exact scores", "optimum": f"{best:.6g}",
                 "found": f"{hits}/10 seeds", "design": "".join(str(int(v)) for v in x_opt),
                 "unreliability": f"{best:.6g}", "ci95": "(exact)",
                 "cpu_s_per_run": round(cpu, 2)})  # fmt: skip
    big = NetworkDesign.random(12, 30, 0.5, terminals="all", instance_seed=0, n_sim=500)
    start = time.process_time()
    res = minimize(big, seed=0, n_samples=200)
    x, est, _ = big.reestimate(res, n_final=20_000, rng=1)
    cpu = time.process_time() - start
    rows.append({"instance": "30 links, simulated scores", "optimum": "unknown",
                 "found": f"score {res.fun:.4g} on the common draws",
                 "design": "".join(str(int(v)) for v in x),
                 "unreliability": f"{est.estimate:.6g}",
                 "ci95": f"[{est.ci[0]:.6g}, {est.ci[1]:.6g}]",
                 "cpu_s_per_run": round(cpu, 2)})  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    big.plot_solution(x, ax)
    fig.savefig(RESULTS / "reliability_design30.png", dpi=100)
    plt.close(fig)
    return rows


def main() -> None:
    with threadpool_limits(1):
        rows = estimators()
        print()
        print(markdown_table(rows))
        print(f"written: {write_csv('reliability', rows)}")
        conn = connectivity()
        print()
        print(markdown_table(conn))
        print(f"written: {write_csv('reliability_connectivity', conn)}")
        des = design()
        print()
        print(markdown_table(des))
        print(f"written: {write_csv('reliability_design', des)}")


if __name__ == "__main__":
    main()
