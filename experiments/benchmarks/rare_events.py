"""Efficiency of CE importance sampling versus crude Monte Carlo at equal CPU time.

Usage::

    python -m experiments.benchmarks.rare_events

For each problem: the exact probability, the CE-IS estimate with its relative error (RE)
and CPU seconds at the default budget (N = 1000 per level, N1 = 1e5), and crude Monte
Carlo given the same CPU time. The work-normalized relative error RE * sqrt(CPU s) of
both is compared (ratio = crude / CE; larger is better for CE), and its square, the ratio
of work-normalized variances (the usual "efficiency" of importance sampling). Where crude MC sees no
event it is reported as "no hit" and the ratio uses crude MC's theoretical RE
sqrt((1 - l) / (N l)) at the exact l. Writes ``results/rare_events.csv``.
"""

from __future__ import annotations

import math
import time

from cem.rare_event import crude_monte_carlo
from experiments.benchmarks._table import markdown_table, write_csv
from problems.rare_events import (
    BridgeNetwork,
    LinearLimitState,
    MM1Overflow,
    SeriesSystem,
    SumOfExponentials,
)

#: Crude Monte Carlo is capped at this many samples (memory and time).
CRUDE_CAP = 50_000_000


def problems() -> list[tuple[str, object]]:
    return [
        ("bridge network, gamma = 2", BridgeNetwork(2.0)),
        ("bridge network, gamma = 3", BridgeNetwork(3.0)),
        ("sum of 10 exponentials, l = 1e-6", SumOfExponentials.with_probability(10, 1e-6)),
        ("sum of 50 exponentials, l = 1e-12", SumOfExponentials.with_probability(50, 1e-12)),
        ("linear limit state, beta = 4", LinearLimitState(4.0)),
        ("linear limit state, beta = 8", LinearLimitState(8.0)),
        ("M/M/1 overflow, rho = 0.5, L = 20", MM1Overflow(1.0, 2.0, 20)),
        ("series system (mixture), beta = 3.5", SeriesSystem(3.5)),
        ("series system (single normal), beta = 3.5", SeriesSystem(3.5, mixture=False)),
    ]


def main() -> None:
    rows = []
    for label, prob in problems():
        exact = prob.exact()
        start = time.process_time()
        ce = prob.estimate(seed=0)
        ce_cpu = time.process_time() - start
        pilot = 100_000
        start = time.process_time()
        crude_monte_carlo(prob.score, prob.nominal_family(), prob.gamma, n_samples=pilot, seed=1)
        per_sample = (time.process_time() - start) / pilot
        n_crude = int(min(CRUDE_CAP, max(pilot, ce_cpu / per_sample)))
        start = time.process_time()
        crude = crude_monte_carlo(prob.score, prob.nominal_family(), prob.gamma,
                                  n_samples=n_crude, seed=2)  # fmt: skip
        crude_cpu = time.process_time() - start
        crude_re = (
            crude.rel_error if not crude.no_hit else math.sqrt((1 - exact) / (n_crude * exact))
        )
        wn_ce = ce.rel_error * math.sqrt(ce_cpu)
        wn_crude = crude_re * math.sqrt(crude_cpu)
        rows.append({
            "problem": label,
            "exact": f"{exact:.6g}",
            "ce_estimate": f"{ce.estimate:.6g}",
            "ce_error_in_se": round((ce.estimate - exact) / ce.std_error, 2),
            "ce_RE": round(ce.rel_error, 4),
            "ce_cpu_s": round(ce_cpu, 2),
            "crude_N": n_crude,
            "crude_estimate": "no hit" if crude.no_hit else f"{crude.estimate:.6g}",
            "crude_RE": round(crude_re, 4) if not crude.no_hit else f"no hit ({crude_re:.3g})",
            "crude_cpu_s": round(crude_cpu, 2),
            "wnre_ratio": round(wn_crude / wn_ce, 1),
            "variance_ratio": f"{(wn_crude / wn_ce) ** 2:.3g}",
        })  # fmt: skip
        print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    print(f"written: {write_csv('rare_events', rows)}")


if __name__ == "__main__":
    main()
