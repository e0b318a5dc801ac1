"""Efficiency of CE importance sampling versus crude Monte Carlo at equal CPU time.

Usage::

    python -m experiments.benchmarks.rare_events
    python -m experiments.benchmarks.rare_events --match "gamma = 2" --repeats 20

``--match`` runs the problems whose label contains the text and only prints the table.

For each problem and method: the exact probability, the estimate with its relative error (RE)
and CPU seconds, and crude Monte Carlo given the same CPU time. The work-normalized relative
error RE * sqrt(CPU s) of both is compared (``wnre_ratio`` = crude / method; larger is better
for the method), and its square, the ratio of work-normalized variances (the usual
"efficiency" of importance sampling). ``trusted`` counts the runs that raised no
DegenerateWeightsWarning; ``max_abs_z`` is the largest |estimate - exact| / SE over the runs.

A method's RE is the mean over ``REPEATS`` seeded runs, its CPU time their median (the
machine is shared; the median resists a run slowed by other work). Crude MC's RE is its
exact value sqrt((1 - l) / (N l)) at the exact l, with N the number of samples it draws in
the method's CPU time (per-sample cost: the median of three timed runs of 10^6 samples); the
estimate of a crude run of that size is shown, "no hit" where it sees no event. CPU time is
``time.process_time()`` with one BLAS thread. Writes ``results/rare_events.csv``.

Methods (options of :func:`cem.rare_event.estimate_probability`): ``ce-is`` the default
multilevel CE; ``cmc`` conditional Monte Carlo in the final run (``conditional = true``),
given x1, x2, x3 unless the method names the edges (``cmc given x1, x2``: x3 integrated out
too, :func:`cem.problems.rare_events.bridge_given_x1_x2`), with the gamma importance family
where it says so (:class:`cem.families.Gamma`, 20% of the final run from the nominal);
``defensive`` 10% of the final run from the nominal; ``tied`` one common parameter for all
coordinates; ``ice`` the improved CE, the family refitted to 2e4 MCMC samples of the
zero-variance density; ``mixture`` a normal-mixture family (one component per failure region).
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from cem.errors import DegenerateWeightsWarning
from cem.problems.rare_events import (
    BridgeNetwork,
    FourBranchSystem,
    KOutOfN,
    LinearLimitState,
    MM1Overflow,
    SeriesSystem,
    SumOfExponentials,
)
from cem.rare_event import crude_monte_carlo
from experiments.benchmarks._table import markdown_table, parse_args, write_csv

#: Crude Monte Carlo is capped at this many samples (memory and time).
CRUDE_CAP = 50_000_000
#: Crude Monte Carlo samples timed for the per-sample cost.
PILOT = 1_000_000
#: Seeded runs per problem and method, averaged for RE and CPU time.
REPEATS = 5

ICE = {"n_final": 70_000, "mcmc_samples": 20_000}  # 1e5 evaluations in total


def cases() -> list[tuple[str, Any, str, dict[str, Any]]]:
    """(label, problem, method, options)."""
    lls100 = LinearLimitState(4.0, a=tuple(np.ones(100)))
    lls1000 = LinearLimitState(4.0, a=tuple(np.ones(1000)))
    return [
        ("bridge network, gamma = 2", BridgeNetwork(2.0), "ce-is", {}),
        ("bridge network, gamma = 2", BridgeNetwork(2.0), "cmc", {"conditional": True}),
        ("bridge network, gamma = 2", BridgeNetwork(2.0), "cmc, N1 = 1e6",
         {"conditional": True, "n_final": 1_000_000}),
        ("bridge network, gamma = 2", BridgeNetwork(2.0, given=(0, 1)), "cmc given x1, x2",
         {"conditional": True}),
        ("bridge network, gamma = 2", BridgeNetwork(2.0, family="gamma"), "cmc, gamma family",
         {"conditional": True, "defensive": 0.2}),
        ("bridge network, gamma = 2", BridgeNetwork(2.0, given=(0, 1), family="gamma"),
         "cmc given x1, x2, gamma family", {"conditional": True, "defensive": 0.2}),
        ("bridge network, gamma = 2", BridgeNetwork(2.0), "defensive", {"defensive": 0.1}),
        ("bridge network, gamma = 3", BridgeNetwork(3.0), "ce-is", {}),
        ("bridge network, gamma = 3", BridgeNetwork(3.0), "cmc", {"conditional": True}),
        ("sum of 10 exponentials, l = 1e-6", SumOfExponentials.with_probability(10, 1e-6),
         "tied", {}),
        ("sum of 50 exponentials, l = 1e-12", SumOfExponentials.with_probability(50, 1e-12),
         "tied", {}),
        ("sum of 1000 exponentials, l = 1e-12",
         SumOfExponentials.with_probability(1000, 1e-12), "tied", {"n_final": 20_000}),
        ("linear limit state, beta = 4", LinearLimitState(4.0), "ce-is", {}),
        ("linear limit state, beta = 8", LinearLimitState(8.0), "ce-is", {}),
        ("linear limit state d = 100, beta = 4", lls100, "ce-is", {"n_final": 90_000}),
        ("linear limit state d = 100, beta = 4", lls100, "ice", ICE),
        ("linear limit state d = 100, beta = 4", lls100, "tied", {"n_final": 90_000,
                                                                   "tied": True}),
        ("linear limit state d = 1000, beta = 4", lls1000, "ice",
         {"n_final": 50_000, "mcmc_samples": 50_000}),
        ("linear limit state d = 1000, beta = 4", lls1000, "tied", {"n_final": 90_000,
                                                                    "tied": True}),
        ("M/M/1 overflow, rho = 0.5, L = 20", MM1Overflow(1.0, 2.0, 20), "ce-is", {}),
        ("series system, beta = 3.5", SeriesSystem(3.5), "mixture", {}),
        ("series system, beta = 3.5", SeriesSystem(3.5, mixture=False), "ce-is", {}),
        ("four-branch system, c = 5, k = 8", FourBranchSystem(5.0, 8.0), "mixture", {}),
        ("four-branch system, c = 5, k = 8", FourBranchSystem(5.0, 8.0, mixture=False),
         "ce-is", {"max_levels": 30}),
        ("10 components, 4 fail, q = 1e-3", KOutOfN(10, 4, 0.001), "floors", {}),
        ("10 components, 4 fail, q = 1e-3", KOutOfN(10, 4, 0.001, 0.0, 1.0), "ce-is", {}),
    ]  # fmt: skip


def crude_batch(prob: Any) -> int:
    """Crude Monte Carlo batch size: at most 10^7 numbers in memory at once."""
    return max(1000, min(100_000, 10_000_000 // int(np.prod(prob.nominal_family().event_shape))))


def crude_cost(prob: Any) -> float:
    """CPU seconds per crude Monte Carlo sample: the median of three timed pilot runs.

    The pilot has 10^6 samples, fewer in high dimension (at most 10^8 numbers drawn).
    """
    pilot = min(PILOT, 100_000_000 // int(np.prod(prob.nominal_family().event_shape)))
    times = []
    for rep in range(3):
        start = time.process_time()
        crude_monte_carlo(prob.score, prob.nominal_family(), prob.gamma,
                          direction=prob.direction, n_samples=pilot, rng=REPEATS + rep,
                          batch_size=crude_batch(prob))  # fmt: skip
        times.append(time.process_time() - start)
    return float(np.median(times)) / pilot


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--match", help="only the problems whose label contains this text")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="seeded runs per method")
    args = parse_args(parser, argv, quick={"repeats": 1, "match": "bridge network, gamma = 3"})
    repeats = args.repeats
    rows = []
    costs: dict[str, float] = {}
    for label, prob, method, options in cases():
        if args.match and args.match not in label:
            continue
        exact = prob.exact()
        runs, times = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for seed in range(repeats):
                start = time.process_time()
                runs.append(prob.estimate(seed=seed, **options))
                times.append(time.process_time() - start)
        cpu = float(np.median(times))
        re = sum(r.rel_error for r in runs) / repeats
        if label not in costs:
            costs[label] = crude_cost(prob)
        n_equal = int(min(CRUDE_CAP, cpu / costs[label]))
        crude = crude_monte_carlo(prob.score, prob.nominal_family(), prob.gamma,
                                  direction=prob.direction, n_samples=max(n_equal, 2),
                                  rng=REPEATS + 1, batch_size=crude_batch(prob))  # fmt: skip
        crude_re = math.sqrt((1 - exact) / (n_equal * exact))
        ratio = crude_re / re if re > 0 else math.nan
        zs = [abs(r.estimate - exact) / r.std_error if r.std_error > 0 else math.inf
              for r in runs]  # fmt: skip
        rows.append({
            "problem": label,
            "method": method,
            "exact": f"{exact:.6g}",
            "estimate": f"{runs[0].estimate:.6g}",
            "max_abs_z": round(max(zs), 2),
            "trusted": f"{sum(r.trusted for r in runs)}/{repeats}",
            "RE": f"{re:.3g}",
            "evaluations": runs[0].nfev,
            "cpu_s": round(cpu, 3),
            "crude_N": n_equal,
            "crude_RE": f"{crude_re:.3g}",
            "crude_estimate": "no hit" if crude.no_hit else f"{crude.estimate:.6g}",
            "wnre_ratio": f"{ratio:.3g}",
            "variance_ratio": f"{ratio**2:.3g}",
        })  # fmt: skip
        print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(markdown_table(rows))
    if not args.match:
        print(f"written: {write_csv('rare_events', rows)}")


if __name__ == "__main__":
    warnings.simplefilter("ignore", DegenerateWeightsWarning)
    with threadpool_limits(1):
        main()
