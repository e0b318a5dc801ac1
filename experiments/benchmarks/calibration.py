"""Calibration of the rare-event estimators: are the estimates right, and do they say so?

Usage::

    python -m experiments.benchmarks.calibration                  # every class, 50 seeds
    python -m experiments.benchmarks.calibration --classes network --seeds 100
    python -m experiments.benchmarks.calibration --quick          # a few cells, 4 seeds
    python -m experiments.benchmarks.calibration --summarize calibration --output methods

Classes of cases whose exact answer the project computes itself:

- ``bridge``: the CE tutorial's bridge network (:class:`~cem.problems.rare_events.BridgeNetwork`)
  for five mean vectors at three depths (exact by quadrature,
  :func:`~cem.problems.rare_events.bridge_probability`);
- ``sum``: sums of d = 5 ... 100 iid exponentials (exact: the Erlang tail), with the
  plain code (``estimate_probability(lambda X: X.sum(1), Exponential(np.ones(d)), gamma)``)
  and with the problem's tied family;
- ``linear``: linear limit states in d = 2 ... 100 to beta = 8 (exact: Phi(-beta)), with the
  plain normal family and the problem's mean-shift family;
- ``network``: complete graphs K5 ... K8 all-terminal, the 5x5 grid and the dodecahedron
  two-terminal and random graphs, q = 1e-2 ... 1e-4 (exact by the frontier DP of
  :mod:`cem.problems.network_exact`), with CE and the turnip.

Every cell runs ``--seeds`` seeded estimations and reports: the bias of the estimates
(mean of estimate / exact - 1, with its standard error), the coverage of the reported
95% intervals, ``spread_se`` (the spread of the estimates over the mean reported standard
error: 1 when the error bars are honest), the number of *bad* runs (|z| > 4, an estimate
of 0, or a relative error above 50%) and of bad runs that were nevertheless ``trusted``,
the fraction trusted, the warning hit rate (bad runs warned / bad runs) and false-alarm
rate (good runs warned / good runs), and ``disagree``: runs whose warnings, ``trusted`` and
``success`` do not tell the same story (a warning on a trusted run, none on an untrusted
one, or more than one warning of one cause). Writes ``results/calibration.csv`` (and a
Markdown copy, ``calibration.md``, with the totals per class and method: cells, runs, bad
and bad-and-trusted runs, warning hit and false-alarm rates, and how many of the cells
where the method is trusted in at least 90% of the runs have a coverage in [92%, 98%], and
the coverage pooled over those cells: with 50 seeds a cell's coverage has a standard error
of 3 points, so a calibrated method leaves [92%, 98%] in about a quarter of its cells).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from threadpoolctl import threadpool_limits

from cem.errors import CEMWarning
from cem.families import Exponential, Normal
from cem.problems.network.model import Network
from cem.problems.network.reliability import NetworkReliability
from cem.problems.rare_events import BridgeNetwork, LinearLimitState, SumOfExponentials
from cem.rare_event import estimate_probability
from cem.result import EstimateResult
from cem.toolkit import atomic_write_text
from experiments.benchmarks._table import RESULTS, markdown_table, parse_args, write_csv

CLASSES = ("bridge", "sum", "linear", "network")
SEEDS = 50

#: Mean vectors of the bridge's five edges and, for each, the thresholds gamma at which
#: the exact probability is about 1e-4, 1e-8 and 1e-12 (found once by a secant search on
#: the quadrature; the exact value is computed again for every cell).
BRIDGE = {
    (0.25, 0.4, 0.1, 0.3, 0.2): (1.688, 3.112, 4.529),  # the tutorial's
    (1.0, 1.0, 0.3, 0.2, 0.1): (4.733, 9.338, 13.943),
    (1.0, 1.0, 1.0, 1.0, 1.0): (6.164, 11.095, 15.883),
    (0.5, 1.0, 0.5, 1.0, 0.5): (4.173, 7.454, 10.649),
    (0.2, 0.2, 1.0, 0.2, 0.2): (1.295, 2.296, 3.263),
}


@dataclass(frozen=True)
class Cell:
    """One case and one method: ``run(seed)`` gives an estimate of ``exact``."""

    cls: str
    case: str
    method: str
    exact: float
    run: Callable[[int], EstimateResult]


def bridge_cells(match: str) -> list[Cell]:
    cells = []
    for means, gammas in BRIDGE.items():
        for gamma in gammas:
            case = f"bridge u={means}, gamma={gamma:g}"
            if match not in case:
                continue
            exp_prob = BridgeNetwork(gamma, means)
            gam_prob = BridgeNetwork(gamma, means, family="gamma")
            exact = exp_prob.exact()
            cells += [
                Cell("bridge", case, "ce", exact, lambda s, p=exp_prob: p.estimate(rng=s)),
                Cell("bridge", case, "cmc", exact,
                     lambda s, p=exp_prob: p.estimate(rng=s, conditional=True)),
                Cell("bridge", case, "cmc-gamma", exact,
                     lambda s, p=gam_prob: p.estimate(rng=s, conditional=True, defensive=0.2)),
            ]  # fmt: skip
    return cells


def sum_cells(match: str) -> list[Cell]:
    cells = []
    for d in (5, 20, 100):
        for depth in (1e-6, 1e-15):
            case = f"sum of {d} exponentials, l={depth:g}"
            if match not in case:
                continue
            prob = SumOfExponentials.with_probability(d, depth)
            exact = prob.exact()

            def plain(s: int, d: int = d, g: float = prob.gamma) -> EstimateResult:
                return estimate_probability(lambda X: X.sum(1), Exponential(np.ones(d)), g, rng=s)

            cells += [
                Cell("sum", case, "plain", exact, plain),
                Cell("sum", case, "tied", exact, lambda s, p=prob: p.estimate(rng=s)),
            ]
    return cells


def linear_cells(match: str) -> list[Cell]:
    cells = []
    for d in (2, 10, 100):
        for beta in (4.0, 8.0):
            case = f"linear limit state d={d}, beta={beta:g}"
            if match not in case:
                continue
            prob = LinearLimitState(beta, tuple(np.linspace(1.0, 2.0, d)))  # not exchangeable
            exact = prob.exact()

            def plain(s: int, p: LinearLimitState = prob) -> EstimateResult:
                return p.estimate(Normal(np.zeros(p.a.size), 1.0), rng=s)

            cells += [
                Cell("linear", case, "plain", exact, plain),
                Cell("linear", case, "mean-shift", exact, lambda s, p=prob: p.estimate(rng=s)),
            ]
    return cells


def random_graph(n: int, m: int, seed: int) -> nx.Graph:
    """A connected random graph G(n, m) with minimum degree 2 (the first such draw)."""
    for k in range(1000):
        g = nx.gnm_random_graph(n, m, seed=seed * 1000 + k)
        if nx.is_connected(g) and min(d for _, d in g.degree) >= 2:
            return g
    raise RuntimeError(f"no connected G({n}, {m}) with minimum degree 2 in 1000 draws")


def network_cells(match: str) -> list[Cell]:
    nets: list[tuple[str, NetworkReliability, tuple[float, ...]]] = []
    for n, qs in ((5, (1e-2, 1e-4)), (6, (1e-2, 1e-3, 1e-4)), (7, (1e-4,)), (8, (1e-4,))):
        nets.append((f"K{n} all-terminal", NetworkReliability("complete", 0.1, "all", n=n), qs))
    nets += [
        ("grid 5x5 s-t", NetworkReliability("grid", 0.1, [0, 24], rows=5, cols=5), (1e-2, 1e-4)),
        ("dodecahedron s-t", NetworkReliability("dodecahedron", 0.1), (1e-2, 1e-4)),
    ]
    for k in range(2):
        g = random_graph(10, 20, k)
        nets.append((f"random G(10, 20) #{k} s-t", NetworkReliability(Network(g, 0.1, [0, 9])),
                     (1e-2, 1e-4)))  # fmt: skip
    cells = []
    for label, base, qs in nets:
        for q in qs:
            case = f"{label}, q={q:g}"
            if match not in case:
                continue
            prob = NetworkReliability(base.network.with_q(q))
            exact = prob.exact()
            cells += [
                Cell("network", case, "ce", exact,
                     lambda s, p=prob: p.estimate(rng=s, method="ce")),
                Cell("network", case, "turnip", exact,
                     lambda s, p=prob: p.estimate(rng=s, method="turnip", n_final=10_000)),
            ]  # fmt: skip
    return cells


BUILDERS = {"bridge": bridge_cells, "sum": sum_cells, "linear": linear_cells,
            "network": network_cells}  # fmt: skip


def _one(cell: Cell, seed: int) -> dict[str, Any]:
    """One seeded run: its error, whether it is bad, trusted, warned, and consistent."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cell.run(seed)
    ours = [w for w in caught if issubclass(w.category, CEMWarning)]
    causes = [(w.category, str(w.message)) for w in ours]
    est, se = res.estimate, res.std_error
    z = (est - cell.exact) / se if se > 0 else (0.0 if est == cell.exact else math.inf)
    err = est / cell.exact - 1.0
    bad = abs(z) > 4 or est == 0 or res.rel_error > 0.5 or not math.isfinite(z)
    warned = bool(ours)
    consistent = (
        warned == (not res.trusted)
        and res.success == res.trusted
        and len(set(causes)) == len(causes)
    )
    return {"err": err, "z": z, "se_rel": se / cell.exact, "bad": bad,
            "trusted": bool(res.trusted), "warned": warned, "consistent": consistent}  # fmt: skip


def summarize(cell: Cell, runs: list[dict[str, Any]], seconds: float) -> dict[str, object]:
    n = len(runs)
    err = np.array([r["err"] for r in runs])
    z = np.array([r["z"] for r in runs])
    se = np.array([r["se_rel"] for r in runs])
    bad = np.array([r["bad"] for r in runs])
    trusted = np.array([r["trusted"] for r in runs])
    warned = np.array([r["warned"] for r in runs])
    rate = lambda k, m: f"{k}/{m}" if m else "-"  # noqa: E731
    return {
        "class": cell.cls,
        "case": cell.case,
        "method": cell.method,
        "exact": f"{cell.exact:.4g}",
        "runs": n,
        "bias": f"{err.mean():+.3f} ± {err.std(ddof=1) / math.sqrt(n):.3f}",
        "coverage": round(float(np.mean(np.abs(z) <= 1.959964)), 3),
        "spread_se": round(float(err.std(ddof=1) / se.mean()), 2) if se.mean() > 0 else math.inf,
        "bad": int(bad.sum()),
        "bad_trusted": int(np.sum(bad & trusted)),
        "trusted": round(float(trusted.mean()), 3),
        "warn_hit": rate(int(np.sum(bad & warned)), int(bad.sum())),
        "false_alarm": rate(int(np.sum(~bad & warned)), int(np.sum(~bad))),
        "disagree": int(sum(not r["consistent"] for r in runs)),
        "sec_per_run": round(seconds / n, 3),
    }


def _fraction(text: object) -> tuple[int, int]:
    """``"k/m"`` as ``(k, m)``; ``"-"`` (no run of that kind) as ``(0, 0)``."""
    k, _, m = str(text).partition("/")
    return (int(k), int(m)) if m else (0, 0)


def by_method(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Totals per class and method over the cells: the acceptance criteria's view."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        t = out.setdefault((str(r["class"]), str(r["method"])), {
            "class": r["class"], "method": r["method"], "cells": 0, "runs": 0, "bad": 0,
            "bad_trusted": 0, "hit": [0, 0], "alarm": [0, 0], "disagree": 0,
            "trusted_cells": 0, "calibrated_cells": 0, "covered": [0.0, 0]})  # fmt: skip
        t["cells"] += 1
        t["runs"] += int(r["runs"])
        for key in ("bad", "bad_trusted", "disagree"):
            t[key] += int(r[key])
        for key, col in (("hit", "warn_hit"), ("alarm", "false_alarm")):
            k, m = _fraction(r[col])
            t[key][0] += k
            t[key][1] += m
        if float(r["trusted"]) >= 0.9:
            t["trusted_cells"] += 1
            t["calibrated_cells"] += 0.92 <= float(r["coverage"]) <= 0.98
            t["covered"][0] += float(r["coverage"]) * int(r["runs"])
            t["covered"][1] += int(r["runs"])
    summary = []
    for t in out.values():
        (hk, hm), (ak, am), (ck, cm) = t.pop("hit"), t.pop("alarm"), t.pop("covered")
        summary.append({**t, "pooled_coverage": round(ck / cm, 3) if cm else "-",
                        "warn_hit": f"{hk}/{hm}" if hm else "-",
                        "false_alarm": f"{ak}/{am} ({ak / am:.1%})" if am else "-"})  # fmt: skip
    return summary


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--classes",
        default=",".join(CLASSES),
        help=f"comma-separated classes among {', '.join(CLASSES)}",
    )
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeded runs per cell")
    parser.add_argument("--match", default="", help="only the cases containing this text")
    parser.add_argument("--output", default="calibration", help="results file name")
    parser.add_argument("--summarize", default="",
                        help="only total the per-method view of these comma-separated "
                        "results files (names in results/, without .csv)")  # fmt: skip
    args = parse_args(parser, argv, quick={"seeds": 4, "match": "q=0.001"})  # fmt: skip
    if args.summarize:
        rows = []
        for name in args.summarize.split(","):
            with (RESULTS / f"{name}.csv").open(newline="") as f:
                rows += list(csv.DictReader(f))
        summary = by_method(rows)
        print(markdown_table(summary))
        print(f"written: {write_csv(args.output, summary)}")
        return summary
    rows = []
    for cls in args.classes.split(","):
        if cls not in BUILDERS:
            raise SystemExit(f"--classes: unknown class {cls!r}; known: {', '.join(CLASSES)}")
        for cell in BUILDERS[cls](args.match):
            start = time.process_time()
            runs = [_one(cell, seed) for seed in range(args.seeds)]
            rows.append(summarize(cell, runs, time.process_time() - start))
            print(markdown_table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    table = markdown_table(rows) + "\n\n" + markdown_table(by_method(rows))
    print(table)
    path = write_csv(args.output, rows)
    atomic_write_text(path.with_suffix(".md"), table + "\n")
    print(f"written: {path}")
    return rows


if __name__ == "__main__":
    with threadpool_limits(1):
        main()
