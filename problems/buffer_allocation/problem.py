r"""The buffer allocation problem: maximize a production line's throughput by simulation.

Distribute ``B`` buffer places over the ``m - 1`` gaps of a line (:math:`\sum_i b_i = B`)
to maximize the throughput, which only a simulation can estimate (Alon, Kroese, Raviv &
Rubinstein 2005; the CE tutorial's noisy example).

Design choices:

- **Family**: :class:`~cem.families.SequentialAllocation` draws ``b_1, b_2, ...`` in turn,
  each restricted to the units still free, the last gap taking the rest. Every sample is
  feasible (no rejection), and the family can degenerate onto a single allocation.
- **Noise**: :meth:`BufferAllocation.score` simulates a whole batch at once with common
  random numbers from a fixed stream (``seed``), the same for every call: the objective
  CE optimizes is a sample-average approximation whose value for an allocation does not
  depend on the other rows, so runs are reproducible for any ``n_jobs`` and batch split.
- **Final answer**: :meth:`BufferAllocation.select_best` re-simulates the best distinct
  candidates with independent streams and more replications and reports the throughput
  with a 95% confidence interval (and the exact CTMC throughput for small lines).

References
----------
.. [1] G. Alon, D. P. Kroese, T. Raviv, R. Y. Rubinstein, "Application of the cross-entropy
   method to the buffer allocation problem in a simulation-based environment",
   Ann. Oper. Res. 134:137-151, 2005.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from cem.errors import ConfigError
from cem.families import Categorical, SequentialAllocation
from cem.problem import Problem
from cem.problems.buffer_allocation.production_line import (
    LineSpec,
    exact_throughput,
    simulate_throughput,
    simulation_bytes,
)
from cem.toolkit import check_int

__all__ = ["INSTANCES", "BufferAllocation", "FlowLinePNH", "Selection", "compositions"]

#: Named lines: processing, failure and repair rates.
INSTANCES: dict[str, LineSpec] = {
    "balanced4": LineSpec((1.0, 1.0, 1.0, 1.0)),
    "balanced6": LineSpec((1.0,) * 6),
    "unreliable6": LineSpec((1.0,) * 6, (0.05,) * 6, (0.5,) * 6),
}


#: Above this many allocations, :attr:`BufferAllocation.known_optimum` is not enumerated.
MAX_ENUMERATED = 5000


def compositions(total: int, parts: int) -> np.ndarray:
    """All vectors of ``parts`` nonnegative integers summing to ``total`` (stars and bars)."""
    rows = []
    for cut in itertools.combinations(range(total + parts - 1), parts - 1):
        rows.append(np.diff((-1, *cut, total + parts - 1)) - 1)
    return np.array(rows, dtype=np.int64)


@dataclass(frozen=True)
class Selection:
    """The allocation chosen by re-simulation, with its throughput and 95% CI."""

    allocation: np.ndarray
    throughput: float
    half_width: float
    exact: float | None
    candidates: int

    @property
    def ci(self) -> tuple[float, float]:
        return (self.throughput - self.half_width, self.throughput + self.half_width)


class BufferAllocation(Problem):
    """Maximize the throughput of a production line over buffer allocations with sum ``B``.

    Parameters
    ----------
    spec : LineSpec or str
        The line, or the name of one of :data:`INSTANCES`.
    total : int
        The number ``B`` of buffer places to allocate.
    n_units, warmup : int
        Parts simulated per evaluation, and discarded warm-up parts.
    seed : int
        Seed of the common-random-number stream of the objective.
    """

    sense = "max"
    family_types = (SequentialAllocation,)
    score_label = "throughput"

    def __init__(
        self,
        spec: LineSpec | str = "balanced4",
        total: int = 10,
        n_units: int = 5000,
        warmup: int = 500,
        seed: int = 0,
    ) -> None:
        if isinstance(spec, str):
            if spec not in INSTANCES:
                raise ConfigError(f"unknown line {spec!r}; known: {', '.join(INSTANCES)}")
            spec = INSTANCES[spec]
        check_int("total", total, 0, 1000)
        for name, v in (("n_units", n_units), ("warmup", warmup), ("seed", seed)):
            check_int(name, v, 0)
        if warmup >= n_units:
            raise ConfigError(f"warmup must be below n_units={n_units}, got {warmup}")
        self.spec, self.total = spec, total
        self.n_units, self.warmup, self.seed = n_units, warmup, seed
        self._exact: dict[tuple[int, ...], float] = {}
        self._optimum: float | None = None

    @classmethod
    def from_config(
        cls,
        line: str = "balanced4",
        total: int = 10,
        n_units: int = 5000,
        warmup: int = 500,
        seed: int = 0,
    ) -> BufferAllocation:
        """Build from config keys (``line`` names one of :data:`INSTANCES`)."""
        return cls(line, total, n_units, warmup, seed)

    @property
    def known_optimum(self) -> float | None:  # type: ignore[override]
        """The best simulated throughput over all allocations, when there are at most
        :data:`MAX_ENUMERATED` of them (``None`` above).

        The objective is the simulation with its fixed common random numbers, so this is
        the optimum of the function CE maximizes, found by scoring every composition of
        ``B`` into ``m - 1`` buffers (66 for the bundled 4-machine line with ``B = 10``).
        """
        count = math.comb(self.total + self.spec.m - 2, self.spec.m - 2)
        if self._optimum is None and count <= MAX_ENUMERATED:
            self._optimum = float(np.max(self.score(compositions(self.total, self.spec.m - 1))))
        return self._optimum

    def format_solution(self, x: np.ndarray) -> str:
        """The allocation, with its exact throughput when the Markov chain gives it."""
        allocation = tuple(int(v) for v in np.asarray(x).ravel())
        exact = self.exact(np.array(allocation))
        text = f"allocation {allocation} of B = {self.total} places over the buffers"
        return text if exact is None else f"{text}; exact throughput {exact:.6g}"

    @property
    def score_bytes_per_sample(self) -> int:
        """Memory the simulation of one allocation takes (:mod:`cem._memory`)."""
        return simulation_bytes(self.spec.m, self.n_units)

    def initial_family(self) -> SequentialAllocation:
        return SequentialAllocation.uniform(self.spec.m - 1, self.total)

    def score(self, X: np.ndarray) -> np.ndarray:
        """Simulated throughputs, common random numbers shared by all rows and calls."""
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.spec.m - 1 or np.any(X.sum(axis=1) != self.total):
            raise ConfigError(
                f"allocations must have shape (N, {self.spec.m - 1}) and sum to {self.total}"
            )
        rng = np.random.default_rng(np.random.SeedSequence(self.seed))
        throughput = simulate_throughput(self.spec, X, self.n_units, self.warmup, rng)
        assert isinstance(throughput, np.ndarray)
        return throughput

    def exact(self, allocation: np.ndarray) -> float | None:
        """Exact throughput by the CTMC, for exponential lines of at most 4 machines."""
        if self.spec.m > 4 or self.spec.processing != "exponential":
            return None
        key = tuple(int(v) for v in allocation)
        if key not in self._exact:
            self._exact[key] = exact_throughput(self.spec, np.array(key))
        return self._exact[key]

    def exact_optimum(self) -> tuple[np.ndarray, float]:
        """The optimal allocation and throughput by enumeration (small lines only)."""
        if self.spec.m > 4 or self.spec.processing != "exponential":
            raise ConfigError("exact_optimum needs an exponential line of at most 4 machines")
        values = {tuple(a): self.exact(a) or 0.0 for a in compositions(self.total, self.spec.m - 1)}
        best = max(values, key=lambda a: values[a])
        return np.array(best), values[best]

    def select_best(
        self, candidates: np.ndarray, replications: int = 10, n_units: int | None = None,
        seed: int = 1,
    ) -> Selection:  # fmt: skip
        """Re-simulate the distinct candidates with independent streams; pick the best.

        Each candidate gets ``replications`` independent runs (CRN across candidates
        within a replication); the chosen one is reported with a 95% t-interval.
        """
        cands = np.unique(np.atleast_2d(np.asarray(candidates, dtype=np.int64)), axis=0)
        n_units = n_units or 2 * self.n_units
        root = np.random.SeedSequence(seed)
        runs = np.array([
            simulate_throughput(self.spec, cands, n_units, self.warmup, np.random.default_rng(s))
            for s in root.spawn(replications)
        ])  # fmt: skip
        mean = runs.mean(axis=0)
        k = int(np.argmax(mean))
        half = stats.t.ppf(0.975, replications - 1) * runs[:, k].std(ddof=1) / np.sqrt(replications)
        return Selection(cands[k], float(mean[k]), float(half), self.exact(cands[k]), len(cands))

    def parameter_axes(self, name: str) -> tuple[list[str], str] | None:
        """The rows of the family's ``probs`` are buffers 1..m-2 (the last takes the
        rest), its columns the buffer sizes 0..B."""
        if name != "probs":
            return None
        return [f"buffer {i + 1}" for i in range(self.spec.m - 2)], "buffer size (places)"

    def plot_solution(self, x: np.ndarray, ax: Any) -> None:
        """Bars of the allocation ``x`` (places per buffer), titled with the allocation
        and its throughput (simulated with the objective's stream; exact when known)."""
        x = np.asarray(x, dtype=np.int64).reshape(-1)
        if x.shape != (self.spec.m - 1,) or x.sum() != self.total or np.any(x < 0):
            raise ConfigError(
                f"x must be an allocation of {self.total} places over {self.spec.m - 1} buffers"
            )
        buffers = np.arange(1, len(x) + 1)
        ax.bar(buffers, x, color="tab:blue")
        for i, b in zip(buffers, x, strict=True):
            ax.annotate(str(b), (i, b), xytext=(0, 2), textcoords="offset points", ha="center")
        throughput = float(self.score(x[None])[0])
        exact = self.exact(x)
        value = f"simulated throughput {throughput:.4g}"
        value += "" if exact is None else f" (exact {exact:.4g})"
        ax.set(xlabel="buffer (between machines i and i + 1)", ylabel="buffer size (places)",
               xticks=buffers, ylim=(0, max(1, int(x.max())) * 1.15),
               title=f"Allocation found {tuple(int(v) for v in x)}\n{value}")  # fmt: skip

    def describe(self) -> str:
        return (f"buffer allocation: {self.spec.m} machines, B = {self.total}, "
                f"{self.n_units} parts per simulation")  # fmt: skip


#: :func:`_pnh_enumeration` for the published budgets ``R = B = 20``, computed once by the
#: enumeration (10-30 s) and checked against it by a slow test
#: (``tests/test_buffer_allocation.py``).
PNH_OPTIMUM: dict[tuple[int, int], tuple[tuple[int, ...], float]] = {
    (20, 20): ((6, 7, 7, 12, 8), 5.776121751463532),
}


@functools.lru_cache(maxsize=8)
def _pnh_enumeration(
    rate_budget: int, buffer_budget: int, *, tabulated: bool = True
) -> tuple[tuple[int, ...], float]:
    """The best design and its exact throughput over all designs; :data:`PNH_OPTIMUM`
    when tabulated (unless ``tabulated=False``)."""
    if tabulated and (rate_budget, buffer_budget) in PNH_OPTIMUM:
        return PNH_OPTIMUM[rate_budget, buffer_budget]
    best: tuple[tuple[int, ...], float] = ((), -1.0)
    for r1 in range(1, rate_budget - 1):
        for r2 in range(1, rate_budget - r1):
            spec = LineSpec((float(r1), float(r2), float(rate_budget - r1 - r2)))
            for b2 in range(1, buffer_budget):
                value = exact_throughput(spec, np.array([b2 - 1, buffer_budget - b2 - 1]))
                if value > best[1]:
                    best = ((r1, r2, rate_budget - r1 - r2, b2, buffer_budget - b2), value)
    return best


class FlowLinePNH(Problem):
    r"""The three-station flow line of Pichitlamken, Nelson & Hong (2006) (maximize).

    Choose integer service rates :math:`r_1 + r_2 + r_3 \le R` and buffer sizes
    :math:`b_2 + b_3 \le B` (``R = B = 20``) of a three-station exponential line with
    blocking after service, where :math:`b_i` counts the places at station ``i``
    including the job in service, to maximize the throughput. More capacity never lowers
    the throughput, so both budgets are spent in full. With this convention the exact
    Markov-chain throughput of the published optima (6, 7, 7, 12, 8) and
    (7, 7, 6, 8, 12) is 5.7761, which enumeration of all 3249 candidates confirms as the
    maximum (:meth:`exact_optimum`).

    The CE family is :class:`~cem.families.Categorical` over :math:`(r_1, r_2, b_2)`
    (index ``j`` meaning the value ``j + 1``); :math:`r_3` and :math:`b_3` take the rest,
    and a candidate with :math:`r_1 + r_2 \ge R` scores 0 (rejection by the worst score).

    References
    ----------
    .. [1] J. Pichitlamken, B. L. Nelson, L. J. Hong, "A sequential procedure for
       neighborhood selection-of-the-best in optimization via simulation", European J.
       Oper. Res. 173(1):283-298, 2006.
    """

    sense = "max"
    family_types = (Categorical,)
    score_label = "throughput"

    def __init__(self, n_units: int = 10_000, warmup: int = 500, seed: int = 0,
                 rate_budget: int = 20, buffer_budget: int = 20) -> None:  # fmt: skip
        checks = (("n_units", n_units, 2), ("warmup", warmup, 0), ("seed", seed, 0),
                  ("rate_budget", rate_budget, 3), ("buffer_budget", buffer_budget, 2))  # fmt: skip
        for name, v, low in checks:
            check_int(name, v, low)
        if warmup >= n_units:
            raise ConfigError(f"warmup must be below n_units={n_units}, got {warmup}")
        self.n_units, self.warmup, self.seed = n_units, warmup, seed
        self.R, self.B = rate_budget, buffer_budget

    @property
    def known_optimum(self) -> float:  # type: ignore[override]
        return _pnh_enumeration(self.R, self.B)[1]

    def exact_optimum(self) -> tuple[np.ndarray, float]:
        """The optimal design ``(r1, r2, r3, b2, b3)`` and throughput, by enumeration."""
        design, value = _pnh_enumeration(self.R, self.B)
        return np.array(design), value

    @property
    def score_bytes_per_sample(self) -> int:
        """Memory the simulation of one design takes (:mod:`cem._memory`)."""
        return simulation_bytes(3, self.n_units)

    def initial_family(self) -> Categorical:
        return Categorical.uniform([self.R - 2, self.R - 2, self.B - 1])

    def parameter_axes(self, name: str) -> tuple[list[str], str] | None:
        """The rows of the family's ``probs`` are ``r1``, ``r2``, ``b2``; column ``j`` is the
        value ``j + 1``."""
        if name != "probs":
            return None
        return ["rate r1", "rate r2", "buffer b2"], "value - 1"

    def decode(self, X: np.ndarray) -> np.ndarray:
        """Designs ``(r1, r2, r3, b2, b3)`` of category indices ``(N, 3)``."""
        X = np.asarray(X, dtype=np.int64) + 1
        return np.column_stack([X[:, 0], X[:, 1], self.R - X[:, 0] - X[:, 1], X[:, 2],
                                self.B - X[:, 2]])  # fmt: skip

    def _simulate(self, designs: np.ndarray, n_units: int, rng: np.random.Generator):
        spec = LineSpec((1.0, 1.0, 1.0))
        return simulate_throughput(spec, designs[:, 3:] - 1, n_units, self.warmup, rng,
                                   rates=designs[:, :3].astype(float))  # fmt: skip

    def score(self, X: np.ndarray) -> np.ndarray:
        designs = self.decode(X)
        feasible = designs[:, 2] >= 1
        out = np.zeros(len(designs))
        if feasible.any():
            rng = np.random.default_rng(np.random.SeedSequence(self.seed))
            out[feasible] = self._simulate(designs[feasible], self.n_units, rng)
        return out

    def exact(self, design: np.ndarray) -> float:
        r1, r2, r3, b2, b3 = (int(v) for v in design)
        return exact_throughput(
            LineSpec((float(r1), float(r2), float(r3))), np.array([b2 - 1, b3 - 1])
        )

    def select_best(self, candidates: np.ndarray, replications: int = 10, seed: int = 1):
        """Re-simulate distinct feasible designs (category indices) independently; pick one."""
        designs = np.unique(self.decode(np.atleast_2d(candidates)), axis=0)
        designs = designs[designs[:, 2] >= 1]
        runs = np.array([self._simulate(designs, 2 * self.n_units, np.random.default_rng(s))
                         for s in np.random.SeedSequence(seed).spawn(replications)])  # fmt: skip
        k = int(np.argmax(runs.mean(axis=0)))
        half = stats.t.ppf(0.975, replications - 1) * runs[:, k].std(ddof=1) / np.sqrt(replications)
        return Selection(designs[k], float(runs[:, k].mean()), float(half),
                         self.exact(designs[k]), len(designs))  # fmt: skip
