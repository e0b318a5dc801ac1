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

import itertools
from dataclasses import dataclass

import numpy as np

from cem.errors import ConfigError
from cem.families import SequentialAllocation
from cem.problem import Problem
from problems.production_line import LineSpec, exact_throughput, simulate_throughput

__all__ = ["INSTANCES", "BufferAllocation", "Selection", "compositions"]

#: Named lines: processing, failure and repair rates.
INSTANCES: dict[str, LineSpec] = {
    "balanced4": LineSpec((1.0, 1.0, 1.0, 1.0)),
    "balanced6": LineSpec((1.0,) * 6),
    "unreliable6": LineSpec((1.0,) * 6, (0.05,) * 6, (0.5,) * 6),
}


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
        if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= 1000:
            raise ConfigError(f"total must be an integer in [0, 1000], got {total!r}")
        for name, v in (("n_units", n_units), ("warmup", warmup), ("seed", seed)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {v!r}")
        if warmup >= n_units:
            raise ConfigError(f"warmup must be below n_units={n_units}, got {warmup}")
        self.spec, self.total = spec, total
        self.n_units, self.warmup, self.seed = n_units, warmup, seed
        self._exact: dict[tuple[int, ...], float] = {}

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
        return simulate_throughput(self.spec, X, self.n_units, self.warmup, rng)

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
        best = max(compositions(self.total, self.spec.m - 1), key=lambda a: self.exact(a))
        return best, float(self.exact(best))

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
        from scipy import stats

        half = stats.t.ppf(0.975, replications - 1) * runs[:, k].std(ddof=1) / np.sqrt(replications)
        return Selection(cands[k], float(mean[k]), float(half), self.exact(cands[k]), len(cands))

    def describe(self) -> str:
        return (f"buffer allocation: {self.spec.m} machines, B = {self.total}, "
                f"{self.n_units} parts per simulation")  # fmt: skip
