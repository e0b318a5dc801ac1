"""Efficiency of CE importance sampling versus crude Monte Carlo at equal CPU time.

Usage::

    python -m experiments.benchmarks.rare_events

For each problem: the exact probability, the CE-IS estimate with its relative error (RE)
and CPU seconds at the default budget (N = 1000 per level, N1 = 1e5), and crude Monte
Carlo given the same CPU time. The work-normalized relative error RE * sqrt(CPU s) of
both is compared (ratio = crude / CE; larger is better for CE), and its square, the ratio
of work-normalized variances (the usual "efficiency" of importance sampling).

CE's RE and CPU time are means over ``REPEATS`` seeded runs (a single run takes a few
hundredths of a second, too short to time alone). Crude MC's RE is its exact value
sqrt((1 - l) / (N l)) at the exact l, with N the number of samples it draws in CE's CPU
time (per-sample cost timed on 10^6 samples); the estimate of a crude run of that size
is shown, "no hit" where it sees no event. Writes ``results/rare_events.csv``.
"""

from __future__ import annotations

import math
import time

from cem.problems.rare_events import (
    BridgeNetwork,
    LinearLimitState,
    MM1Overflow,
    SeriesSystem,
    SumOfExponentials,
)
from cem.rare_event import crude_monte_carlo
from experiments.benchmarks._table import markdown_table, write_csv

#: Crude Monte Carlo is capped at this many samples (memory and time).
CRUDE_CAP = 50_000_000
#: Crude Monte Carlo samples timed for the per-sample cost.
PILOT = 1_000_000
#: Seeded CE runs per problem, averaged for its RE and CPU time.
REPEATS = 5


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
        runs = [prob.estimate(seed=seed) for seed in range(REPEATS)]
        ce_cpu = (time.process_time() - start) / REPEATS
        ce = runs[0]
        ce_re = sum(r.rel_error for r in runs) / REPEATS
        start = time.process_time()
        crude_monte_carlo(prob.score, prob.nominal_family(), prob.gamma,
                          n_samples=PILOT, rng=REPEATS)  # fmt: skip
        per_sample = (time.process_time() - start) / PILOT
        n_equal = int(min(CRUDE_CAP, ce_cpu / per_sample))
        crude = crude_monte_carlo(prob.score, prob.nominal_family(), prob.gamma,
                                  n_samples=n_equal, rng=REPEATS + 1)  # fmt: skip
        crude_re = math.sqrt((1 - exact) / (n_equal * exact))
        ratio = crude_re / ce_re  # both at CE's CPU time
        rows.append({
            "problem": label,
            "exact": f"{exact:.6g}",
            "ce_estimate": f"{ce.estimate:.6g}",
            "ce_error_in_se": round((ce.estimate - exact) / ce.std_error, 2),
            "ce_RE": round(ce_re, 4),
            "ce_cpu_s": round(ce_cpu, 3),
            "crude_N": n_equal,
            "crude_RE": f"{crude_re:.3g}",
            "crude_estimate": "no hit" if crude.no_hit else f"{crude.estimate:.6g}",
            "wnre_ratio": f"{ratio:.3g}",
            "variance_ratio": f"{ratio**2:.3g}",
        })  # fmt: skip
        print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    print(f"written: {write_csv('rare_events', rows)}")


if __name__ == "__main__":
    main()
