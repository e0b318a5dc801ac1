"""Sequence alignment: CE over edit-graph paths against the exact dynamic program.

Usage::

    python -m experiments.benchmarks.alignment [--quick] [--pairs 50] [--settings ...]

Pairwise table (``results/alignment_pairwise.csv``): 50 seeded pairs (ancestor length
uniform in 100..500, divergence uniform in 0.10..0.30, indel fraction 0.2, mean indel
length 2), cycling through DNA (+1/-1) and BLOSUM62, global and local, linear (DNA 2,
protein 4 per letter) and affine gaps (DNA 5/2, protein 10/1). For each pair and
setting: the exact optimum (DP), the CE result, the relative gap, iterations, and CE and
DP CPU seconds. Settings:

- ``ce+tube``: the problem's defaults (N = 200, rho = 0.05, the tube search of radius 4
  on the elite, ``keep_elite = 2``, stop after 8 iterations without improvement);
- ``ce``: the chain alone, no local search (N = 1000, rho = 0.02);
- ``tube only``: one iteration of ``ce+tube``: the tube search from 10 paths of the
  starting family, without any CE update (what the local search does by itself).

Summary (``results/alignment_summary.csv``): per setting, the pairs that reach the
optimum, those within 1%, the worst gap and the CPU seconds of CE and DP.

Figure (``results/alignment_paths.png``, ``--figure``): the bundled DNA pair of
``configs/align_pair.toml`` aligned by the chain alone (no local search, N = 1000,
rho = 0.02), the visit probabilities of the edit graph at a few iterations with the
optimal path overlaid, and the scores per iteration.

Significance (``results/alignment_significance.csv``, ``--significance``): the tail
P(S >= s) of the ungapped local score of two i.i.d. uniform sequences of 100 letters over
20 letters scoring +1/-1 (lambda = ln 19, K = 0.853, H = 2.65), s = 6, 9, 12 (about 1e-4,
1e-8, 1e-12), by multilevel CE from the planted-segment family at the Karlin-Altschul tilt
(N = 1000 per level, 20 000 final samples), over ``--seeds`` seeds: the Karlin-Altschul
value with and without the edge correction, the mean estimate, the median relative
error, how often the 95% interval covers each Karlin-Altschul value, how often the
diagnostics trust the estimate, and the CPU seconds; at s = 6 also crude Monte Carlo of
2 x 10^5 samples.

CPU time is ``time.process_time()`` with one BLAS thread.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from cem import CrossEntropyOptimizer, maximize
from cem.problems.alignment.dp import align
from cem.problems.alignment.pairwise import PairwiseAlignment
from cem.problems.alignment.scoring import Scoring, blosum62, dna_scoring
from cem.problems.alignment.simulate import mutate, random_sequence
from experiments.benchmarks._table import RESULTS, markdown_table, parse_args, write_csv

SEED = 2026
#: setting -> (PairwiseAlignment keywords, optimizer options over the problem's defaults)
SETTINGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "ce+tube": ({}, {}),
    "ce": ({"polish_radius": 0}, {"n_samples": 1000, "rho": 0.02}),
    "tube only": ({}, {"max_iter": 1}),
}


def pairs(count: int, seed: int = SEED) -> list[tuple[int, Scoring, str, str, float]]:
    """The seeded test pairs: ``(index, scoring, a, b, divergence)``."""
    out = []
    for k, child in enumerate(np.random.SeedSequence(seed).spawn(count)):
        rng = np.random.default_rng(child)
        length, d = int(rng.integers(100, 501)), float(rng.uniform(0.1, 0.3))
        protein, mode, affine = k % 2 == 1, ("global", "local")[(k // 2) % 2], (k // 4) % 2 == 1
        if protein:
            gaps = {"gap_open": 10, "gap_extend": 1} if affine else {"gap_extend": 4}
            sc = blosum62(mode=mode, **gaps)
            letters = sc.alphabet[:20]
        else:
            gaps = {"gap_open": 5, "gap_extend": 2} if affine else {"gap_extend": 2}
            sc = dna_scoring(1, -1, mode=mode, **gaps)
            letters = sc.alphabet
        a = random_sequence(rng, length, letters)
        b, _ = mutate(rng, a, letters, d)
        out.append((k, sc, a, b, d))
    return out


def pairwise(count: int, settings: list[str]) -> tuple[list[dict], list[dict]]:
    rows, summary = [], []
    cases = pairs(count)
    dp_seconds = {}
    for k, sc, a, b, _ in cases:
        pr = PairwiseAlignment(a, b, sc, oracle=False)
        t0 = time.process_time()
        dp_seconds[k] = (align(pr.a, pr.b, sc).score, time.process_time() - t0)
    for setting in settings:
        keywords, options = SETTINGS[setting]
        gaps, hits, ce_s = [], 0, []
        for k, sc, a, b, d in cases:
            t0 = time.process_time()
            pr = PairwiseAlignment(a, b, sc, oracle=False, **keywords)
            res = maximize(pr, rng=k, **{**pr.default_options(), **options})
            cpu = time.process_time() - t0
            opt, dp_cpu = dp_seconds[k]
            gap = (opt - res.fun) / abs(opt) if opt else 0.0
            hits += res.fun >= opt
            gaps.append(gap)
            ce_s.append(cpu)
            rows.append({
                "setting": setting, "pair": k, "matrix": sc.name, "mode": sc.mode,
                "gaps": "affine" if sc.affine else "linear", "m": len(a), "n": len(b),
                "divergence": round(d, 3), "dp_optimum": opt, "ce_score": res.fun,
                "gap_pct": round(100 * gap, 3), "iterations": res.nit,
                "ce_cpu_s": round(cpu, 3), "dp_cpu_s": round(dp_cpu, 4),
            })  # fmt: skip
            print(rows[-1], flush=True)
        summary.append({
            "setting": setting, "pairs": len(cases), "optimum_reached": hits,
            "within_1pct": int(np.sum(np.array(gaps) <= 0.01)),
            "worst_gap_pct": round(100 * max(gaps), 3),
            "ce_cpu_s_median": round(float(np.median(ce_s)), 3),
            "ce_cpu_s_total": round(float(np.sum(ce_s)), 2),
            "dp_cpu_s_median": round(float(np.median([v[1] for v in dp_seconds.values()])), 4),
            "dp_cpu_s_total": round(float(np.sum([v[1] for v in dp_seconds.values()])), 3),
        })  # fmt: skip
    return rows, summary


def significance(seeds: int) -> list[dict]:
    """The significance table of the module notes."""
    import warnings

    from cem.problems.alignment.significance import LocalScoreTail
    from cem.rare_event import crude_monte_carlo

    rows = []
    for s in (6, 9, 12):
        pr = LocalScoreTail(100, 100, float(s))
        ka = pr.karlin_altschul()
        edge, plain = ka.tail(s, 100, 100), ka.tail(s, 100, 100, edge=False)
        results, cpu = [], []
        for seed in range(seeds):
            t0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(pr.estimate(rng=seed, n_samples=1000, n_final=20_000))
            cpu.append(time.process_time() - t0)

        def covers(value: float, results: list = results) -> int:
            return sum(r.ci[0] <= value <= r.ci[1] for r in results)

        rows.append({
            "s": s, "ka_edge": f"{edge:.4g}", "ka_no_edge": f"{plain:.4g}",
            "mean_estimate": f"{np.mean([r.estimate for r in results]):.4g}",
            "median_RE": round(float(np.median([r.rel_error for r in results])), 3),
            "covers_ka_edge": f"{covers(edge)}/{seeds}",
            "covers_ka_no_edge": f"{covers(plain)}/{seeds}",
            "trusted": f"{sum(bool(r.trusted) for r in results)}/{seeds}",
            "cpu_s_each": round(float(np.mean(cpu)), 2),
            "method": "ce-is, planted segment",
        })  # fmt: skip
        print(rows[-1], flush=True)
        if s == 6:
            t0 = time.process_time()
            res = crude_monte_carlo(
                pr.score, pr.nominal_family(), pr.gamma, n_samples=200_000, rng=0
            )
            rows.append({
                "s": s, "ka_edge": f"{edge:.4g}", "ka_no_edge": f"{plain:.4g}",
                "mean_estimate": f"{res.estimate:.4g}", "median_RE": round(res.rel_error, 3),
                "covers_ka_edge": f"{int(res.ci[0] <= edge <= res.ci[1])}/1",
                "covers_ka_no_edge": f"{int(res.ci[0] <= plain <= res.ci[1])}/1",
                "trusted": "", "cpu_s_each": round(time.process_time() - t0, 2),
                "method": "crude, 2e5 samples",
            })  # fmt: skip
            print(rows[-1], flush=True)
    return rows


def figure() -> None:
    """The convergence figure of the module notes."""
    from cem.plotting import save_figure
    from cem.problems.alignment.plots import plot_path_convergence

    pr = PairwiseAlignment.from_config(gap_open=5, gap_extend=2, polish_radius=0)
    families = []

    def keep(opt: CrossEntropyOptimizer) -> None:
        families.append(opt.family)

    options = {**pr.default_options(), "n_samples": 1000, "rho": 0.02}
    opt = CrossEntropyOptimizer(pr, callback=keep, rng=0, **options)
    res = opt.run()
    h = res.history
    shown = sorted({1, 3, max(1, len(families) // 2), len(families)})
    fig = plot_path_convergence(pr, families, shown, [r.gamma for r in h], [r.best for r in h])
    print(save_figure(fig, RESULTS / "alignment_paths.png"), res.fun, pr.known_optimum)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50, help="number of seeded pairs")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--figure", action="store_true", help="draw the convergence figure")
    parser.add_argument("--significance", action="store_true", help="the significance table")
    parser.add_argument("--seeds", type=int, default=20, help="seeds of the significance table")
    parser.add_argument("--no-pairwise", action="store_true", help="skip the pairwise tables")
    args = parse_args(parser, argv, {"pairs": 6, "settings": ["ce+tube"], "seeds": 2})
    if args.figure:
        figure()
    if args.significance:
        with threadpool_limits(1):
            sig = significance(args.seeds)
        print(markdown_table(sig))
        print(write_csv("alignment_significance", sig))
    if args.no_pairwise:
        return
    with threadpool_limits(1):
        rows, summary = pairwise(args.pairs, args.settings)
    print(markdown_table(summary))
    tag = "" if args.settings == list(SETTINGS) else "_" + "_".join(
        s.replace(" ", "_").replace("+", "_") for s in args.settings)  # fmt: skip
    print(write_csv(f"alignment_pairwise{tag}", rows))
    print(write_csv(f"alignment_summary{tag}", summary))


if __name__ == "__main__":
    main()
