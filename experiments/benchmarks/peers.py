"""cem against the libraries our users already know, on the same cases, seeds and budgets.

Usage::

    python -m experiments.benchmarks.peers                # under 10 minutes on 2 cores
    python -m experiments.benchmarks.peers --full         # more seeds, longer budgets
    python -m experiments.benchmarks.peers --cases continuous maxcut
    python -m experiments.benchmarks.peers --quick        # a smoke run of every kind, for CI

Cases and peers (install them with ``pip install '.[bench]'``; a missing peer is reported
and skipped):

- ``continuous``: shifted sphere d = 5 and 20, Rosenbrock d = 10, Rastrigin d = 10 and the
  CE tutorial's 1-D bimodal function, from the same start (mean, sigma). cem's defaults
  (``method="auto"``) with a diagonal and a full-covariance Normal, pycma, nevergrad's
  ``NaiveIsoEMNA`` and the PyPI package ``cross-entropy-method`` (Greenberg 2022) with a
  diagonal Gaussian. The latter installs a top-level module ``cem`` that shadows ours, so
  it runs in its own environment (``--xent-python``, default ``$CEM_XENT_PYTHON``) through
  a subprocess that reports the file of the ``cem`` it imported. Reported: the best value
  after 10^4 and 10^5 evaluations, and the evaluations to reach the target 1e-8.
- ``rare``: P(g(U) <= 0) in standard normal space: linear limit states (d = 2, 10;
  beta = 3.5, 5), R - S with normal resistance and load, and the four-branch system (c = 3,
  k = 7; exact value by integration along rays,
  :func:`cem.problems.rare_events.four_branch_probability`). cem's multilevel CE-IS
  (mean-shift Normal; for the four-branch system a four-component mixture and rho = 0.5,
  see :func:`run_rare`) against OpenTURNS' ``StandardSpaceCrossEntropyImportanceSampling``,
  each with 1000 samples per level, repeated :data:`RARE_REPEATS` times: relative error
  against the exact value, calibration (spread of the estimates over the repeats / the
  mean reported coefficient of variation) with its 95% bootstrap interval, and the
  work-normalized relative variance per evaluation (RE^2 x evaluations) and per CPU second
  (RE^2 x seconds).
- ``maxcut``: Gset G1, G11, G14 (``$CEM_DATA_DIR/gset``), at equal CPU: cem with the tabu
  polish, greedy construction + 1-flip restarts, nevergrad's ``DiscreteOnePlusOne``.
- ``tsp``: TSPLIB berlin52, ft53, ry48p, kroA100 (``$CEM_DATA_DIR/tsplib``) and seeded
  random Euclidean instances (n = 200, 500): cem (``strategy="memetic"``: CE whose elite
  gets the neighbour-list 2-opt / segment-exchange search and iterated local search of
  ``cem.problems.tsp.search``, stopped at a CPU cap), LKH through ``elkai`` (the reference) and
  python-tsp's 2-opt local search. Reported: the gap to the optimum (to LKH's tour on the
  random instances) and the CPU ratio to LKH.

The default run has one seed per case with CPU caps (10 s per continuous run, whose values
at 10^5 evaluations are then NaN if the cap came first; 10 s for max-cut and TSP), and
leaves out the random TSP instances; ``--full`` runs 10 seeds without caps, 5 seeds at 30 s
(max-cut) and 60 s (TSP). Both run 100 repeats per rare-event case: the calibration is a
ratio of two spreads, whose relative standard error from 30 repeats is about 13%, too
coarse to tell 0.8 from 1. Every task
runs in a worker process with one BLAS thread and is timed with
``time.process_time()``; tasks are interleaved tool by tool on the same seed. ``--quick``
is a smoke run for CI (the first case of each kind, 1 s caps, 3 rare-event repeats, written
as ``peers_quick.*``): it shows that every path runs, not how the tools compare. Writes
``results/peers.md`` (header: machine, CPU count, package versions), ``results/peers.csv``
(one row per run) and ``results/peers.png``; a run of some of the cases (``--cases``)
writes ``peers_<cases>.md``, ``.csv`` and ``.png`` instead, leaving the full tables alone.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from cem._io import atomic_write_text  # noqa: E402
from experiments.benchmarks._table import RESULTS, data_dir, markdown_table, write_csv  # noqa: E402

#: peer label -> (distribution name, import name)
PEERS = {"pycma": ("cma", "cma"), "nevergrad": ("nevergrad", "nevergrad"),
         "openturns": ("openturns", "openturns"), "elkai": ("elkai", "elkai"),
         "python-tsp": ("python-tsp", "python_tsp")}  # fmt: skip
XENT_ENV = "CEM_XENT_PYTHON"
#: The kinds of cases, in the order of the report.
KINDS = ("continuous", "rare", "maxcut", "tsp")


# ---------------------------------------------------------------------- continuous
#: name -> (dimension, start mean, start sigma); every function is minimized, optimum 0.
CONTINUOUS = {
    "sphere-5": (5, 0.0, 10.0),
    "sphere-20": (20, 0.0, 10.0),
    "rosenbrock-10": (10, 0.0, 2.0),
    "rastrigin-10": (10, 3.0, 5.0),
    "bimodal-1": (1, -6.0, 10.0),
}
TARGET = 1e-8
#: The test functions, written once for both environments (this one and the PyPI CE's).
FUNCTIONS_SRC = '''
import numpy as np
def objective(name):
    kind = name.split("-")[0]
    if kind == "sphere":
        return lambda X: np.sum((X - 1.0) ** 2, axis=1)
    if kind == "rosenbrock":
        return lambda X: np.sum(100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2
                                + (1.0 - X[:, :-1]) ** 2, axis=1)
    if kind == "rastrigin":
        return lambda X: 10.0 * X.shape[1] + np.sum(X**2 - 10.0 * np.cos(2 * np.pi * X), axis=1)
    top = 1.0 + 0.8 * np.exp(-16.0)  # S at x = 2, within 1e-12 of the maximum
    return lambda X: np.maximum(top - np.exp(-(X[:, 0] - 2) ** 2)
                                - 0.8 * np.exp(-(X[:, 0] + 2) ** 2), 0.0)

class Tracker:
    """Counts evaluations; the best value after each checkpoint and the first hit."""
    def __init__(self, f, checkpoints, target):
        self.f, self.checkpoints, self.target = f, checkpoints, target
        self.evals, self.best, self.at, self.hit = 0, np.inf, {}, None
        self.cap = None  # process CPU second at which to stop (quick runs)
    def __call__(self, X):
        if self.cap is not None and __import__("time").process_time() > self.cap:
            raise TimeoutError("CPU cap")
        X = np.atleast_2d(np.asarray(X, dtype=float))
        v = self.f(X)
        run = np.minimum.accumulate(np.minimum(v, self.best))
        idx = self.evals + np.arange(1, len(v) + 1)
        for c in self.checkpoints:
            inside = idx <= c
            if inside.any():
                self.at[c] = float(run[inside][-1])
        if self.hit is None and np.any(run <= self.target):
            self.hit = int(idx[np.argmax(run <= self.target)])
        self.evals += len(v)
        self.best = float(run[-1])
        return v
'''
_ns: dict[str, Any] = {}
exec(FUNCTIONS_SRC, _ns)  # one source of truth for both environments
objective, Tracker = _ns["objective"], _ns["Tracker"]

#: The PyPI cross-entropy-method package as an optimizer: a diagonal Gaussian, elite
#: fraction 0.1, elite weights 1 (``ref_mode='none'``), N = 100 per update.
XENT_SRC = (
    FUNCTIONS_SRC
    + """
import json, sys
import cem
spec = json.loads(sys.stdin.read())
class Gauss(cem.CEM):
    def do_sample(self, phi):
        return phi[0] + phi[1] * np.random.standard_normal(phi[0].size)
    def pdf(self, x, phi):
        return 1.0
    def likelihood_ratio(self, x, use_original_dist=False):
        return 1.0
    def update_sample_distribution(self, samples, weights):
        S = np.array(samples)
        return (S.mean(axis=0), S.std(axis=0))
np.random.seed(spec["seed"])
d, budget = spec["dim"], spec["budget"]
track = Tracker(objective(spec["case"]), spec["checkpoints"], spec["target"])
opt = Gauss((np.full(d, spec["mean"]), np.full(d, spec["sigma"])), batch_size=spec["n"],
            ref_mode="none", min_batch_update=0.1)
start = __import__("time").process_time()
while track.evals < budget:
    x, _ = opt.sample()
    opt.update(float(track(x[None])[0]), save=False)
own = __import__("importlib.metadata").metadata.distribution("cross-entropy-method")
print(json.dumps({"cem_file": cem.__file__, "at": track.at, "hit": track.hit,
                  "package_file": str(own.locate_file("cem/__init__.py")),
                  "cpu_s": __import__("time").process_time() - start}))
"""
)


def _continuous_cem(case: str, seed: int, budget: int, full: bool, track: Any) -> None:
    from cem import minimize
    from cem.families import FullNormal, Normal

    d, m, s = CONTINUOUS[case]
    fam = FullNormal(np.full(d, m), s**2) if full else Normal(np.full(d, m), s)
    minimize(track, fam, method="auto", rng=seed, max_evals=budget)


def _continuous_pycma(case: str, seed: int, budget: int, track: Any) -> None:
    import cma

    d, m, s = CONTINUOUS[case]
    if d == 1:  # pycma needs d >= 2: a dummy coordinate that the function ignores
        es = cma.CMAEvolutionStrategy([m, 0.0], s, {"seed": seed + 1, "verbose": -9,
                                                    "maxfevals": budget})  # fmt: skip
        while not es.stop():
            X = np.array(es.ask())
            es.tell(list(X), list(track(X[:, :1])))
        return
    es = cma.CMAEvolutionStrategy(
        np.full(d, m), s, {"seed": seed + 1, "verbose": -9, "maxfevals": budget}
    )
    while not es.stop():
        X = np.array(es.ask())
        es.tell(list(X), list(track(X)))


def _continuous_emna(case: str, seed: int, budget: int, track: Any) -> None:
    import nevergrad as ng

    d, m, s = CONTINUOUS[case]
    param = ng.p.Array(init=np.full(d, m)).set_mutation(sigma=s)
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.registry["NaiveIsoEMNA"](parametrization=param, budget=budget)
    for _ in range(budget):
        cand = opt.ask()
        opt.tell(cand, float(track(cand.value[None])[0]))
        if track.best <= TARGET * 1e-6:
            break


def run_continuous(
    tool: str, case: str, seed: int, budget: int, xent: str | None, cap: float | None = None
) -> dict:
    checkpoints = [c for c in (10_000, 100_000) if c <= budget]
    row = {"case": case, "tool": tool, "seed": seed}
    d, m, s = CONTINUOUS[case]
    if tool == "cross-entropy-method":
        spec = {"case": case, "dim": d, "mean": m, "sigma": s, "seed": seed, "budget": budget,
                "n": 100, "checkpoints": checkpoints, "target": TARGET}  # fmt: skip
        # -I: isolated mode, so neither the working directory nor PYTHONPATH can put our
        # cem first on the child's path
        out = subprocess.run([xent, "-I", "-c", XENT_SRC], input=json.dumps(spec), text=True,
                             capture_output=True, check=True)  # fmt: skip
        res = json.loads(out.stdout)
        if Path(res["cem_file"]).resolve() != Path(res["package_file"]).resolve():
            raise RuntimeError(f"the peer imported {res['cem_file']}, not the PyPI package")
        at = {int(k): v for k, v in res["at"].items()}
        return {**row, **_continuous_values(at, res["hit"], checkpoints),
                "cpu_s": res["cpu_s"], "evals": budget, "imported": res["cem_file"]}  # fmt: skip
    track = Tracker(objective(case), checkpoints, TARGET)
    start = time.process_time()
    track.cap = None if cap is None else start + cap
    capped = False
    try:
        imported = _continuous_tool(tool, case, seed, budget, track)
    except TimeoutError:
        imported, capped = "stopped at the CPU cap", True
    cpu = time.process_time() - start
    for c in checkpoints:  # a run that stopped by itself keeps its best; a capped one: NaN
        if not capped or track.evals >= c:
            track.at.setdefault(c, track.best)
    return {**row, **_continuous_values(track.at, track.hit, checkpoints), "cpu_s": cpu,
            "evals": track.evals, "imported": imported}  # fmt: skip


def _continuous_tool(tool: str, case: str, seed: int, budget: int, track: Any) -> str:
    if tool.startswith("cem"):
        import cem

        if not hasattr(cem, "CrossEntropyOptimizer"):
            raise RuntimeError(f"imported {cem.__file__}, not this project's cem")
        _continuous_cem(case, seed, budget, "full" in tool, track)
        return cem.__file__
    if tool == "pycma":
        _continuous_pycma(case, seed, budget, track)
    else:
        _continuous_emna(case, seed, budget, track)
    return ""


def _continuous_values(at: dict[int, float], hit: int | None, checkpoints: list[int]) -> dict:
    out = {f"best@{c:.0e}": at.get(c, math.nan) for c in (10_000, 100_000)}
    out["evals_to_1e-8"] = hit if hit is not None else math.nan
    return out


# ---------------------------------------------------------------------- rare events
#: Seeded repeats per rare-event case and tool.
RARE_REPEATS = 100
#: Bootstrap resamples of the calibration's interval.
BOOTSTRAP = 2000


def four_branch(U: np.ndarray) -> np.ndarray:
    """The four-branch series system (c = 3, k = 7); failure when g <= 0."""
    x1, x2 = U[:, 0], U[:, 1]
    r2 = math.sqrt(2.0)
    return np.min([3 + 0.1 * (x1 - x2) ** 2 - (x1 + x2) / r2,
                   3 + 0.1 * (x1 - x2) ** 2 + (x1 + x2) / r2,
                   (x1 - x2) + 7 / r2, (x2 - x1) + 7 / r2], axis=0)  # fmt: skip


def rare_cases() -> dict[str, tuple[int, Callable[[np.ndarray], np.ndarray], float]]:
    """name -> (dimension, limit state g(U), exact P(g <= 0))."""
    from cem.problems.rare_events import four_branch_probability

    cases: dict[str, tuple[int, Callable, float]] = {}
    for d in (2, 10):
        for beta in (3.5, 5.0):
            cases[f"linear d={d} beta={beta:g}"] = (
                d, lambda U, b=beta: b - U.sum(axis=1) / math.sqrt(U.shape[1]),
                float(stats.norm.sf(beta)))  # fmt: skip
    # R ~ N(7, 1), S ~ N(2, 1): P(R - S <= 0) = Phi(-5/sqrt(2))
    cases["R-S"] = (2, lambda U: (7 + U[:, 0]) - (2 + U[:, 1]), float(stats.norm.sf(5 / 2**0.5)))
    cases["four-branch"] = (2, four_branch, four_branch_probability(3.0, 7.0))
    return cases


def run_rare(tool: str, case: str, seed: int) -> dict:
    d, g, exact = rare_cases()[case]
    count = [0]

    def counted(U: np.ndarray) -> np.ndarray:
        count[0] += len(U)
        return g(np.asarray(U, dtype=float))

    start = time.process_time()
    if tool == "cem":
        from cem.families import Normal, NormalMixture
        from cem.rare_event import estimate_probability

        rho = 0.1
        if case == "four-branch":
            # Each failure region must reach the elite before the levels pass it by: with
            # rho = 0.1 the first level's 100 elite often hold no sample of the two flat
            # branches (a fifth of the probability), no component goes there, and the
            # estimate misses them (calibration 2.3 over 100 runs). rho = 0.5 raises the
            # level in smaller steps, and every region keeps a component.
            fam = NormalMixture.standard(4, 2, spread=1.0, learn_sigma=False)
            rho = 0.5
        else:
            fam = Normal(np.zeros(d), 1.0, learn_sigma=False)
        res = estimate_probability(lambda U: counted(U), Normal(np.zeros(d), 1.0), 0.0,
                                   direction="le", family=fam, rng=seed, n_samples=1000,
                                   n_final=10_000, rho=rho)  # fmt: skip
        est, cov = res.estimate, res.rel_error
    else:
        import openturns as ot

        f = ot.PythonFunction(d, 1, func_sample=lambda X: counted(np.asarray(X))[:, None])
        event = ot.ThresholdEvent(
            ot.CompositeRandomVector(f, ot.RandomVector(ot.Normal(d))), ot.LessOrEqual(), 0.0
        )
        ot.RandomGenerator.SetSeed(seed)
        algo = ot.StandardSpaceCrossEntropyImportanceSampling(event, 0.1)
        algo.setMaximumOuterSampling(1000)
        algo.setBlockSize(1)
        algo.run()
        r = algo.getResult()
        est, cov = r.getProbabilityEstimate(), r.getCoefficientOfVariation()
    cpu = time.process_time() - start
    return {"case": case, "tool": tool, "seed": seed, "estimate": float(est), "exact": exact,
            "reported_cov": float(cov), "evals": count[0], "cpu_s": cpu}  # fmt: skip


# ---------------------------------------------------------------------- max-cut
def _maxcut_problem(name: str) -> Any:
    from cem.problems.maxcut import MaxCut, bundled_gset, gset_best_known

    folder = data_dir("gset")
    path = folder / f"{name}.txt" if folder and (folder / f"{name}.txt").is_file() else None
    if path is None:
        try:
            path = bundled_gset(name)
        except Exception:
            return None
    return MaxCut.from_gset(path, gset_best_known(name))


def _greedy_restarts(prob: Any, seed: int, budget: float, start: float) -> float:
    """Randomized greedy cuts (nodes in random order, each on its better side), then
    1-flip descent, 16 at a time, until the CPU budget is spent; the best cut."""
    rng = np.random.default_rng(seed)
    W = prob.weights.toarray() if hasattr(prob.weights, "toarray") else prob.weights
    best, rows = -np.inf, 16
    while time.process_time() - start < budget:
        order = np.argsort(rng.random((rows, prob.n)), axis=1)
        S = np.zeros((rows, prob.n))
        CS = np.zeros((rows, prob.n))
        r = np.arange(rows)
        for k in range(prob.n):
            i = order[:, k]
            side = np.where(CS[r, i] > 0, -1.0, 1.0)  # opposite the placed neighbours' sum
            side[CS[r, i] == 0] = rng.choice([-1.0, 1.0], size=int(np.sum(CS[r, i] == 0)))
            S[r, i] = side
            CS += side[:, None] * W[i]
        X = (S > 0).astype(float)
        _, s = prob.one_flip(X, prob.score(X))
        best = max(best, float(s.max()))
    return best


def _ng_discrete(prob: Any, seed: int, budget: float, start: float) -> float:
    import nevergrad as ng

    param = ng.p.Choice([0, 1], repetitions=prob.n)
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.registry["DiscreteOnePlusOne"](parametrization=param, budget=10**9)
    best = -np.inf
    while time.process_time() - start < budget:
        cand = opt.ask()
        v = float(prob.score(np.asarray(cand.value, dtype=float)[None])[0])
        best = max(best, v)
        opt.tell(cand, -v)
    return best


def run_maxcut(tool: str, case: str, seed: int, budget: float) -> dict:
    from cem import maximize

    prob = _maxcut_problem(case)
    start = time.process_time()
    if tool == "cem (tabu)":
        prob.set_local_search("tabu")
        last = [start]

        def cpu_cap(opt: Any) -> bool:  # stop before the next iteration would overrun
            now = time.process_time()
            step, last[0] = now - last[0], now
            return now - start + 1.5 * step > budget

        cut = maximize(prob, rng=seed, callback=cpu_cap).fun
    elif tool == "greedy + 1-flip restarts":
        cut = _greedy_restarts(prob, seed, budget, start)
    else:
        cut = _ng_discrete(prob, seed, budget, start)
    return {"case": case, "tool": tool, "seed": seed, "cut": cut, "best_known":
            prob.known_optimum, "gap_%": 100 * (prob.known_optimum - cut) / prob.known_optimum,
            "cpu_s": time.process_time() - start}  # fmt: skip


# ---------------------------------------------------------------------- TSP
def tsp_problem(case: str) -> Any:
    from cem.problems.tsp import TSP

    if case.startswith("random-"):
        n = int(case.split("-")[1])
        xy = np.random.default_rng(n).uniform(0, 1000, size=(n, 2))
        D = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
        return TSP(D, coords=xy, name=case)
    folder = data_dir("tsplib")
    for ext in ("tsp", "atsp"):
        if folder is not None and (folder / f"{case}.{ext}").is_file():
            return TSP.from_tsplib(folder / f"{case}.{ext}")
    from cem.problems.tsp.tsplib import DATA_DIR

    for ext in ("tsp", "atsp"):
        if (DATA_DIR / f"{case}.{ext}").is_file():
            return TSP.from_tsplib(DATA_DIR / f"{case}.{ext}")
    return None


def run_tsp(tool: str, case: str, seed: int, cap: float) -> dict:
    from cem import minimize

    prob = tsp_problem(case)
    D = np.asarray(prob.distances, dtype=float)
    start = time.process_time()
    if tool == "cem":
        last = [start]

        def cpu_cap(opt: Any) -> bool:
            now = time.process_time()
            step, last[0] = now - last[0], now
            return now - start + 1.5 * step > cap

        prob.strategy = "memetic"  # polish="elite" on a sample sized for it (TSP docs)
        length = minimize(prob, rng=seed, callback=cpu_cap).fun
    elif tool == "elkai (LKH)":
        import elkai

        tour = list(elkai.DistanceMatrix(D.astype(int).tolist()).solve_tsp())
        closed = np.array(tour if tour[0] == tour[-1] else [*tour, tour[0]])
        assert len(set(tour)) == prob.n, "elkai returned no tour through every city"
        length = float(D[closed[:-1], closed[1:]].sum())
    else:
        from python_tsp.heuristics import solve_tsp_local_search

        x0 = list(np.random.default_rng(seed).permutation(prob.n))
        x0 = x0[x0.index(0) :] + x0[: x0.index(0)]
        _, length = solve_tsp_local_search(D, x0=x0, max_processing_time=cap)
    return {"case": case, "tool": tool, "seed": seed, "length": float(length),
            "optimum": prob.known_optimum, "cpu_s": time.process_time() - start}  # fmt: skip


# ---------------------------------------------------------------------- driver
def available() -> dict[str, str | None]:
    """Installed peer packages and their versions (None: missing)."""
    out: dict[str, str | None] = {}
    for label, (dist, module) in PEERS.items():
        out[label] = (importlib.metadata.version(dist)
                     if importlib.util.find_spec(module) is not None else None)  # fmt: skip
    return out


def xent_python(path: str | None) -> tuple[str | None, str | None]:
    """The interpreter of the PyPI ``cross-entropy-method`` environment and its version."""
    path = path or os.environ.get(XENT_ENV)
    if not path or not Path(path).is_file():
        return None, None
    code = "import importlib.metadata as m; print(m.version('cross-entropy-method'))"
    out = subprocess.run([path, "-c", code], capture_output=True, text=True, check=False)
    return (path, out.stdout.strip()) if out.returncode == 0 else (None, None)


def tasks(cases: list[str], quick: bool, peers: dict[str, str | None], xent: str | None,
          smoke: bool = False) -> list[tuple[Callable, tuple]]:  # fmt: skip
    """The runs of a benchmark: ``quick`` is the default run, ``smoke`` the CI form."""
    seeds = 1 if quick else 10
    cap = 1.0 if smoke else 10.0 if quick else None  # CPU seconds per continuous run
    first = (lambda names: list(names)[:1]) if smoke else list
    out: list[tuple[Callable, tuple]] = []
    if "continuous" in cases:
        tools = ["cem (diagonal)", "cem (full)"]
        tools += ["pycma"] * bool(peers["pycma"]) + ["NaiveIsoEMNA"] * bool(peers["nevergrad"])
        tools += ["cross-entropy-method"] * bool(xent)
        for case in first(CONTINUOUS):
            for seed in range(seeds):
                out += [(run_continuous, (t, case, seed, 100_000, xent, cap)) for t in tools]
    if "rare" in cases:
        tools = ["cem"] + ["OpenTURNS"] * bool(peers["openturns"])
        for case in first(rare_cases()):
            for seed in range(3 if smoke else RARE_REPEATS):
                out += [(run_rare, (t, case, seed)) for t in tools]
    if "maxcut" in cases:
        tools = ["cem (tabu)", "greedy + 1-flip restarts"]
        tools += ["nevergrad DiscreteOnePlusOne"] * bool(peers["nevergrad"])
        for case in first(("G1", "G14", "G11")):
            if _maxcut_problem(case) is None:
                print(f"max-cut: {case} not found (set CEM_DATA_DIR), skipped")
                continue
            for seed in range(1 if quick else 5):
                budget = 1.0 if smoke else 10.0 if quick else 30.0
                out += [(run_maxcut, (t, case, seed, budget)) for t in tools]
    if "tsp" in cases:
        tools = ["cem"] + ["elkai (LKH)"] * bool(peers["elkai"])
        tools += ["python-tsp 2-opt"] * bool(peers["python-tsp"])
        scale = () if quick else ("random-200", "random-500")  # 60 s per run: --full only
        for case in first(("berlin52", "ft53", "ry48p", "kroA100", *scale)):
            if tsp_problem(case) is None:
                print(f"TSP: {case} not found (set CEM_DATA_DIR), skipped")
                continue
            for seed in range(1 if quick else 5):
                budget = 1.0 if smoke else 10.0 if quick else 60.0
                out += [(run_tsp, (t, case, seed, budget)) for t in tools]
    return out


def _call(task: tuple[Callable, tuple]) -> dict:
    fn, args = task
    return {"kind": fn.__name__[4:], **fn(*args)}


def summarize(rows: list[dict]) -> dict[str, list[dict]]:
    """One row per (case, tool) for each kind of case."""
    tables: dict[str, list[dict]] = {}
    for kind in dict.fromkeys(r["kind"] for r in rows):
        group_rows = [r for r in rows if r["kind"] == kind]
        table = []
        for key in dict.fromkeys((r["case"], r["tool"]) for r in group_rows):
            g = [r for r in group_rows if (r["case"], r["tool"]) == key]
            table.append({"case": key[0], "tool": key[1], "runs": len(g), **_stats(kind, g)})
        tables[kind] = table
    return tables


def _stats(kind: str, g: list[dict]) -> dict:
    cpu = float(np.mean([r["cpu_s"] for r in g]))
    if kind == "continuous":
        hits = [r["evals_to_1e-8"] for r in g if not math.isnan(r["evals_to_1e-8"])]
        return {"median best@1e4": float(np.median([r["best@1e+04"] for r in g])),
                "median best@1e5": float(np.median([r["best@1e+05"] for r in g])),
                "median evals": float(np.median([r["evals"] for r in g])),
                "success (1e-8)": f"{len(hits)}/{len(g)}",
                "median evals to 1e-8": float(np.median(hits)) if hits else math.nan,
                "mean CPU s": cpu}  # fmt: skip
    if kind == "rare":
        est = np.array([r["estimate"] for r in g])
        exact = g[0]["exact"]
        re = float(np.sqrt(np.mean((est - exact) ** 2)) / exact)
        evals = float(np.mean([r["evals"] for r in g]))
        covs = np.array([r["reported_cov"] for r in g])
        lo, hi = calibration_interval(est, covs)
        return {"exact": exact, "mean estimate": float(est.mean()),
                "RE (rms vs exact)": re, "calibration": calibration(est, covs),
                "calibration 95% CI": f"[{lo:.3g}, {hi:.3g}]", "evals": evals,
                "RE^2 x evals": re**2 * evals, "RE^2 x CPU s": re**2 * cpu,
                "mean CPU s": cpu}  # fmt: skip
    if kind == "maxcut":
        return {
            "best_known": g[0]["best_known"],
            "mean cut": float(np.mean([r["cut"] for r in g])),
            "mean gap %": float(np.mean([r["gap_%"] for r in g])),
            "mean CPU s": cpu,
        }
    return {"mean length": float(np.mean([r["length"] for r in g])), "mean CPU s": cpu}


def calibration(estimates: np.ndarray, covs: np.ndarray) -> float:
    """Spread of the estimates over the repeats (their CoV) / the mean reported CoV.

    1 when the reported error bars are honest; above 1 they understate the error.
    """
    return float(estimates.std(ddof=1) / estimates.mean() / covs.mean())


def calibration_interval(
    estimates: np.ndarray, covs: np.ndarray, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`calibration` (runs resampled in pairs).

    :data:`BOOTSTRAP` resamples with a fixed seed; the percentile interval does not
    assume normal estimates, which matters when a few runs miss part of the event.
    """
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(estimates), (BOOTSTRAP, len(estimates)))
    e, c = estimates[idx], covs[idx]
    ratios = e.std(axis=1, ddof=1) / e.mean(axis=1) / c.mean(axis=1)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def add_ratios(tables: dict[str, list[dict]]) -> None:
    """TSP: the gap to the optimum (LKH's tour where none is known) and CPU / LKH's."""
    rows = tables.get("tsp", [])
    lkh = {r["case"]: r for r in rows if r["tool"] == "elkai (LKH)"}
    for r in rows:
        ref = lkh.get(r["case"])
        opt = ref["mean length"] if ref else math.nan
        r["gap % (to optimum or LKH)"] = 100 * (r["mean length"] - opt) / opt
        r["CPU / LKH"] = r["mean CPU s"] / ref["mean CPU s"] if ref else math.nan


def header(peers: dict[str, str | None], xent_version: str | None, wall: float) -> str:
    import numpy

    import cem

    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                  .splitlines() if ln.startswith("model name")), platform.processor())  # fmt: skip
    versions = [f"cem {cem.__version__}", f"numpy {numpy.__version__}"]
    versions += [f"{k} {v}" if v else f"{k} (missing: skipped)" for k, v in peers.items()]
    versions.append(f"cross-entropy-method {xent_version}" if xent_version
                    else "cross-entropy-method (no environment: skipped)")  # fmt: skip
    return (f"Machine: {platform.machine()}, {model}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, {platform.system()}. One BLAS thread, CPU seconds "
            f"from time.process_time(); wall time of the run {wall / 60:.1f} min.\n\n"
            f"Packages: {', '.join(versions)}.")  # fmt: skip


def plot(tables: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k in KINDS if k in tables]
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 4.2), squeeze=False)
    spec = {"continuous": ("median best@1e5", "best value at 1e5 evaluations", True),
            "rare": ("RE^2 x evals", "work-normalized variance / evaluation", True),
            "maxcut": ("mean gap %", "gap to best-known cut (%)", False),
            "tsp": ("gap % (to optimum or LKH)", "gap to optimum / LKH (%)", False)}  # fmt: skip
    for ax, kind in zip(axes[0], kinds, strict=True):
        key, label, log = spec[kind]
        rows = tables[kind]
        cases = list(dict.fromkeys(r["case"] for r in rows))
        tools = list(dict.fromkeys(r["tool"] for r in rows))
        width = 0.8 / len(tools)
        for k, tool in enumerate(tools):
            vals = [next((r[key] for r in rows if r["case"] == c and r["tool"] == tool), np.nan)
                    for c in cases]  # fmt: skip
            vals = [max(v, 1e-16) if log else v for v in vals]
            ax.bar(np.arange(len(cases)) + k * width, vals, width, label=tool)
        if log:
            ax.set_yscale("log")
        ax.set_xticks(np.arange(len(cases)) + 0.4 - width / 2, cases, rotation=35, ha="right",
                      fontsize=7)  # fmt: skip
        ax.set_title(kind)
        ax.set_ylabel(label)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    smoke = "a smoke run for CI: the first case of each kind, 1 s budgets"
    mode.add_argument("--quick", action="store_true", help=smoke)
    mode.add_argument("--full", action="store_true", help="more seeds, the full budgets")
    parser.add_argument("--cases", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--xent-python", help=f"python of the cross-entropy-method environment "
                        f"(default ${XENT_ENV})")  # fmt: skip
    args = parser.parse_args(argv)
    quick = not args.full
    peers = available()
    for name, version in peers.items():
        if version is None:
            print(f"peer {name} is not installed: skipped (pip install '.[bench]')")
    xent, xent_version = xent_python(args.xent_python)
    if xent is None:
        print(f"cross-entropy-method: no environment (set {XENT_ENV}): skipped")
    wall = time.perf_counter()
    todo = tasks(args.cases, quick, peers, xent, smoke=args.quick)
    print(f"{len(todo)} runs on {args.jobs} processes", flush=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(_call, todo, chunksize=1))
    tables = summarize(rows)
    add_ratios(tables)
    kind_of_run = "smoke" if args.quick else "default" if quick else "full"
    text = [f"# cem and its peers ({kind_of_run} run)", "",
            header(peers, xent_version, time.perf_counter() - wall)]  # fmt: skip
    for kind, table in tables.items():
        text += ["", f"## {kind}", "", markdown_table(table)]
    report = "\n".join(text) + "\n"
    print(report)
    name = "peers" if set(args.cases) == set(KINDS) else "_".join(["peers", *args.cases])
    name += "_quick" if args.quick else ""
    atomic_write_text(RESULTS / f"{name}.md", report)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print(f"written: {write_csv(name, [{k: r.get(k, '') for k in keys} for r in rows])}")
    plot(tables, RESULTS / f"{name}.png")
    print(f"written: {RESULTS / f'{name}.md'}, {RESULTS / f'{name}.png'}")


if __name__ == "__main__":
    sys.exit(main())
