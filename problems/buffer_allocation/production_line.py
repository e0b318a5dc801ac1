r"""Unreliable production lines: a vectorized simulator and an exact Markov-chain oracle.

Model (Alon, Kroese, Raviv & Rubinstein 2005): ``m`` machines in series, infinite supply
before the first and infinite demand after the last, buffers ``b_1 .. b_{m-1}`` between
consecutive machines (``b_i`` places between machine ``i`` and ``i + 1``, not counting the
machines), **blocking after service**: a machine that finishes a part while the next
buffer is full keeps the part and waits. Machine ``i`` processes a part in an
exponential (rate :math:`\mu_i`) or deterministic (:math:`1/\mu_i`) time; while busy it
fails at rate :math:`f_i` (operation-dependent failures) and a repair takes an
exponential time of rate :math:`r_i`. A failure suspends the part, which resumes after
the repair, so the part's *effective* processing time is

.. math:: Z' = Z + \sum_{j=1}^{K} R_j, \qquad K \mid Z \sim \mathrm{Poisson}(f Z),
          \quad R_j \sim \mathrm{Exp}(r).

**Simulation** uses the departure-time recursion with blocking after service: with
:math:`D_{k,i}` the time part ``k`` leaves machine ``i`` (:math:`D_{k,0} = 0`),

.. math::
    S_{k,i} = \max(D_{k,i-1}, D_{k-1,i}), \qquad
    D_{k,i} = \max(S_{k,i} + Z'_{k,i},\; D_{k - b_i - 1, i+1})

(part ``k`` can leave when part ``k - b_i - 1`` has left the next machine; ``D_{k,m}`` has
no blocking term). All ``N`` allocations of a batch are simulated at once, with common
random numbers: the draws :math:`Z'_{k,i}` are the same for every allocation.
Throughput is :math:`(n - w) / (D_{n,m} - D_{w,m})` after ``w`` warm-up parts.

**Exact throughput** of a small exponential line comes from its continuous-time Markov
chain: each machine is idle (starved), working, down or blocked, and each buffer holds
``0 .. b_i`` parts; the stationary distribution :math:`\pi Q = 0` is solved with sparse
LU, and the throughput is :math:`\mu_m P(\text{machine } m \text{ working})`.

References
----------
.. [1] G. Alon, D. P. Kroese, T. Raviv, R. Y. Rubinstein, "Application of the cross-entropy
   method to the buffer allocation problem in a simulation-based environment",
   Ann. Oper. Res. 134:137-151, 2005.
.. [2] J. A. Buzacott, J. G. Shanthikumar, *Stochastic Models of Manufacturing Systems*,
   Prentice Hall, 1993 (two-machine lines).
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import MatrixRankWarning, spsolve

from cem.errors import ConfigError
from cem.toolkit import check_int, require

__all__ = [
    "LineSpec",
    "exact_throughput",
    "simulate_throughput",
    "simulation_bytes",
    "stationary_distribution",
    "two_machine_throughput",
]

IDLE, WORKING, DOWN, BLOCKED = 0, 1, 2, 3


@dataclass(frozen=True)
class LineSpec:
    """Machines of a production line: processing rates, failure and repair rates.

    Parameters
    ----------
    mu : sequence of float
        Processing rates (> 0), one per machine.
    failure_rates, repair_rates : sequence of float, optional
        Failure rates (>= 0; 0 = reliable) and repair rates (> 0 where failures occur).
    processing : {"exponential", "deterministic"}
    """

    mu: tuple[float, ...]
    failure_rates: tuple[float, ...] = ()
    repair_rates: tuple[float, ...] = ()
    processing: Literal["exponential", "deterministic"] = "exponential"

    def __post_init__(self) -> None:
        mu = tuple(float(v) for v in self.mu)
        m = len(mu)
        if m < 2 or not all(v > 0 and np.isfinite(v) for v in mu):
            raise ConfigError(f"mu must hold at least 2 positive rates, got {self.mu!r}")
        f = tuple(float(v) for v in (self.failure_rates or (0.0,) * m))
        r = tuple(float(v) for v in (self.repair_rates or (1.0,) * m))
        if len(f) != m or any(v < 0 for v in f):
            raise ConfigError(f"failure_rates must be {m} numbers >= 0, got {self.failure_rates!r}")
        if len(r) != m or any(ri <= 0 for fi, ri in zip(f, r, strict=True) if fi > 0):
            raise ConfigError(
                f"repair_rates must be {m} numbers, > 0 where failures occur, got "
                f"{self.repair_rates!r}"
            )
        if self.processing not in ("exponential", "deterministic"):
            raise ConfigError(
                f"processing must be 'exponential' or 'deterministic', got {self.processing!r}"
            )
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "failure_rates", f)
        object.__setattr__(self, "repair_rates", r)

    @property
    def m(self) -> int:
        return len(self.mu)


def _check_buffers(spec: LineSpec, buffers: np.ndarray) -> np.ndarray:
    b = np.asarray(buffers)
    if b.ndim == 1:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != spec.m - 1:
        raise ConfigError(
            f"buffers must have shape (N, {spec.m - 1}) for {spec.m} machines, got {b.shape}"
        )
    if not np.issubdtype(b.dtype, np.integer) and not np.all(np.mod(b, 1) == 0):
        raise ConfigError("buffers must be whole numbers")
    b = b.astype(np.int64)
    if np.any(b < 0):
        raise ConfigError("buffers must be >= 0")
    return b


def effective_times(spec: LineSpec, n_units: int, rng: np.random.Generator) -> np.ndarray:
    """Effective processing times ``(n_units, m)``: processing plus repairs during it."""
    mu = np.array(spec.mu)
    if spec.processing == "exponential":
        Z = rng.standard_exponential((n_units, spec.m)) / mu
    else:
        Z = np.tile(1.0 / mu, (n_units, 1))
    f, r = np.array(spec.failure_rates), np.array(spec.repair_rates)
    if np.any(f > 0):
        count = rng.poisson(Z * f)
        Z = Z + rng.gamma(np.maximum(count, 1e-300), 1.0 / r) * (count > 0)
    return Z


def simulation_bytes(m: int, n_units: int) -> int:
    """Bytes :func:`simulate_throughput` needs per line: its departure times and draws."""
    return 8 * (int(n_units) + 1) * (int(m) + 2)


def simulate_throughput(
    spec: LineSpec,
    buffers: np.ndarray,
    n_units: int,
    warmup: int,
    rng: np.random.Generator,
    *,
    return_se: bool = False,
    n_batches: int = 20,
    rates: np.ndarray | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Throughput of ``N`` allocations of the same line, simulated together (CRN).

    Parameters
    ----------
    spec : LineSpec
    buffers : array_like (N, m - 1) of int
    n_units : int
        Parts produced in total; the first ``warmup`` are discarded.
    rng : numpy.random.Generator
        The draws do not depend on ``N``: row ``j`` equals a one-line run of allocation
        ``j`` with the same generator state.
    return_se : bool
        Also return standard errors by batch means over ``n_batches`` batches of parts.
    rates : array_like (N, m), optional
        Processing rates per line, replacing ``spec.mu`` (reliable lines only); the
        common random numbers are then the unit-rate draws, divided by each line's rates.

    Returns
    -------
    throughput : ndarray (N,)
    se : ndarray (N,), when ``return_se``
    """
    b = _check_buffers(spec, buffers)
    check_int("n_units", n_units, 1)
    check_int("warmup", warmup, 0, n_units - 1)
    N, m = b.shape[0], spec.m
    require(f"n_units={n_units} for {N} lines", N * simulation_bytes(m, n_units))
    if rates is None:
        Z = effective_times(spec, n_units, rng)[:, :, None]
    else:
        rates = np.asarray(rates, dtype=float)
        if rates.shape != (N, m) or not np.all(rates > 0):
            raise ConfigError(f"rates must be positive with shape ({N}, {m}), got {rates.shape}")
        if any(spec.failure_rates):
            raise ConfigError("per-line rates are supported for reliable lines only")
        unit = LineSpec((1.0,) * m, processing=spec.processing)
        Z = effective_times(unit, n_units, rng)[:, :, None] / rates.T[None]
    ring = int(b.max()) + 2
    hist = np.zeros((m, ring, N))  # hist[i, k % ring] = D[k, i] (0 for k < 1)
    cols = np.arange(N)
    prev = np.zeros((m, N))  # D[k-1, i]
    out = np.empty((n_units + 1, N))
    out[0] = 0.0
    for k in range(1, n_units + 1):
        upstream = np.zeros(N)  # D[k, 0] = 0: infinite supply
        for i in range(m):
            done = np.maximum(upstream, prev[i]) + Z[k - 1, i]  # Z broadcasts over lines
            if i < m - 1:
                lag = k - b[:, i] - 1
                blocked_until = np.where(lag >= 1, hist[i + 1, lag % ring, cols], 0.0)
                done = np.maximum(done, blocked_until)
            hist[i, k % ring] = done
            prev[i] = done
            upstream = done
        out[k] = upstream
    horizon = out[n_units] - out[warmup]
    thr = (n_units - warmup) / horizon
    if not return_se:
        return thr
    edges = np.linspace(warmup, n_units, n_batches + 1).astype(int)
    rates = np.diff(edges)[:, None] / np.diff(out[edges], axis=0)
    return thr, rates.std(axis=0, ddof=1) / np.sqrt(n_batches)


def _successors(state, spec: LineSpec, caps: tuple[int, ...]):
    """(rate, next state, departure) transitions of the line's CTMC from ``state``."""
    status, buf = state
    m = spec.m
    out = []
    for i in range(m):
        if status[i] == WORKING:
            s, b = list(status), list(buf)
            _finish(i, s, b, caps)
            out.append((spec.mu[i], (tuple(s), tuple(b)), i == m - 1))
            if spec.failure_rates[i] > 0:
                s = list(status)
                s[i] = DOWN
                out.append((spec.failure_rates[i], (tuple(s), buf), False))
        elif status[i] == DOWN:
            s = list(status)
            s[i] = WORKING
            out.append((spec.repair_rates[i], (tuple(s), buf), False))
    return out


def _finish(i: int, s: list[int], b: list[int], caps: tuple[int, ...]) -> None:
    """Machine ``i`` completes its part: pass it on (or block), then pull new work."""
    m = len(s)
    if i < m - 1:
        if s[i + 1] == IDLE:
            s[i + 1] = WORKING
        elif b[i] < caps[i]:
            b[i] += 1
        else:
            s[i] = BLOCKED
            return
    _pull(i, s, b, caps)


def _pull(i: int, s: list[int], b: list[int], caps: tuple[int, ...]) -> None:
    """Machine ``i`` is free: take a part from upstream and unblock the chain above."""
    if i == 0:
        s[0] = WORKING
        return
    if b[i - 1] > 0:
        b[i - 1] -= 1
        s[i] = WORKING
        if s[i - 1] == BLOCKED:  # the blocked machine's part moves into the freed place
            b[i - 1] += 1
            _pull(i - 1, s, b, caps)
    elif s[i - 1] == BLOCKED:  # buffer empty (b = 0 or drained): take the part directly
        s[i] = WORKING
        _pull(i - 1, s, b, caps)
    else:
        s[i] = IDLE


def exact_throughput(spec: LineSpec, buffers: np.ndarray) -> float:
    """Exact long-run throughput of a line with exponential processing (CTMC).

    States reachable from the empty line are enumerated breadth-first, the generator
    is assembled as a sparse matrix, and the stationary distribution
    (:math:`\\pi Q = 0, \\sum \\pi = 1`) found by :func:`stationary_distribution`; the
    throughput is the stationary rate of departures from the last machine.
    """
    if spec.processing != "exponential":
        raise ConfigError("exact_throughput needs processing='exponential'")
    caps = tuple(int(v) for v in _check_buffers(spec, buffers)[0])
    bound = min(4.0**spec.m * math.prod(c + 1.0 for c in caps), MAX_STATES)
    require(f"the exact solver's Markov chain (buffers {list(caps)})", bound * _BYTES_PER_STATE)
    start = ((WORKING,) + (IDLE,) * (spec.m - 1), (0,) * (spec.m - 1))
    index = {start: 0}
    queue = deque([start])
    rows, cols, rates = [], [], []
    departures = []
    while queue:
        state = queue.popleft()
        k = index[state]
        for rate, nxt, departs in _successors(state, spec, caps):
            if nxt not in index:
                index[nxt] = len(index)
                queue.append(nxt)
            rows.append(k)
            cols.append(index[nxt])
            rates.append(rate)
            if departs:
                departures.append((k, rate))
        if len(index) > MAX_STATES:
            raise ConfigError("the line's Markov chain is too large for the exact solver")
    n = len(index)
    pi = stationary_distribution(sp.coo_matrix((rates, (rows, cols)), shape=(n, n)).tocsr())
    states, rate = np.array(departures).T
    return float(pi[states.astype(np.int64)] @ rate)


#: The exact solver refuses chains with more states.
MAX_STATES = 2_000_000
#: Memory per enumerated state (the state tuple, its index entry and transitions).
_BYTES_PER_STATE = 1_000

#: Chains with at most this many states are solved directly (sparse LU); larger ones
#: by power iteration, since the LU of a multi-buffer line fills in.
DIRECT_STATES = 5_000
#: Power iteration stops when the L1 norm of pi P - pi falls below this.
POWER_TOL = 1e-13


def stationary_distribution(R: sp.csr_matrix, max_sweeps: int = 1_000_000) -> np.ndarray:
    r"""Stationary distribution of an irreducible CTMC with off-diagonal rates ``R``.

    Up to :data:`DIRECT_STATES` states: the balance equations :math:`\pi Q = 0` of states
    :math:`1..n-1` with :math:`\pi_0 = 1`, a sparse LU solve (no dense normalization
    row), then :math:`\sum \pi = 1`. Beyond: power iteration on the uniformized chain
    :math:`P = I + Q / \Lambda`, :math:`\Lambda = 1.01 \max_i q_i` (aperiodic through
    its self-loops), until :math:`\|\pi P - \pi\|_1 <` :data:`POWER_TOL`.

    A singular direct solve (state 0 transient, so :math:`\pi_0 = 0`) falls back on
    the power iteration; no NaN is ever returned.

    Raises
    ------
    ConfigError
        If the power iteration has not converged after ``max_sweeps`` sweeps, or
        its iterates are not finite.
    """
    n = R.shape[0]
    out = np.asarray(R.sum(axis=1)).ravel()
    if n <= DIRECT_STATES:
        A = (R - sp.diags(out)).T.tocsc()
        pi = np.ones(n)
        with warnings.catch_warnings():
            warnings.simplefilter("error", MatrixRankWarning)
            try:
                pi[1:] = spsolve(A[1:, 1:], -A[1:, 0].toarray().ravel())
            except MatrixRankWarning:
                pi[:] = np.nan  # state 0 is transient: pi_0 = 1 cannot normalize
        pi = pi / pi.sum()
        if np.all(np.isfinite(pi)) and pi.min() >= -1e-12:
            return np.maximum(pi, 0.0)
        # A singular or indefinite direct solve falls back on the power iteration,
        # which needs only one closed class, not a recurrent state 0.
    lam = 1.01 * out.max()
    PT = (R.T / lam + sp.diags(1.0 - out / lam)).tocsr()
    pi = np.full(n, 1.0 / n)
    for _ in range(max_sweeps):
        new = PT @ pi
        if not np.all(np.isfinite(new)):
            raise ConfigError("the stationary distribution is not finite (rates out of range?)")
        if np.abs(new - pi).sum() < POWER_TOL:
            return new / new.sum()
        pi = new
    raise ConfigError(f"the stationary distribution did not converge in {max_sweeps} sweeps")


def two_machine_throughput(mu1: float, mu2: float, b: int) -> float:
    r"""Closed form for two reliable exponential machines and a buffer of ``b`` places.

    The number of parts past machine 1 and not yet out of machine 2 (buffer, machine 2,
    and a blocked part on machine 1) is a birth-death chain on :math:`0..K` with
    :math:`K = b + 2`, births at :math:`\mu_1` and deaths at :math:`\mu_2`; with
    :math:`\rho = \mu_1/\mu_2` the throughput is
    :math:`\mu_2 (1 - \pi_0) = \mu_1 (1 - \rho^{K}) / (1 - \rho^{K+1})`
    (:math:`\mu_1 K / (K + 1)` when :math:`\rho = 1`).
    """
    K = int(b) + 2
    rho = mu1 / mu2
    if np.isclose(rho, 1.0):
        return mu1 * K / (K + 1)
    return mu1 * (1 - rho**K) / (1 - rho ** (K + 1))
