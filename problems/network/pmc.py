r"""Permutation Monte Carlo and the turnip (Elperin, Gertsbakh & Lomonosov 1991).

Give every edge an exponential *birth time* :math:`Y_e \sim \mathrm{Exp}(\lambda_e)` with
:math:`\lambda_e = -\ln q_e`, so that :math:`P(Y_e > 1) = q_e`: at time 1 the born edges
are exactly the working ones, and :math:`Q = P(\tau > 1)` where :math:`\tau` is the time at
which the born edges first connect the terminals (the *construction process*).

Condition on the order :math:`\pi` in which the edges are born. The process moves through
states :math:`0, 1, \dots, b-1` until the terminals connect; in state :math:`j` it waits an
:math:`\mathrm{Exp}(\Lambda_j)` time independently of the rest, so :math:`\tau` is
hypoexponential and

.. math:: g(\pi) = P(\tau > 1 \mid \pi) = P\Big(\sum_{j<b} \mathrm{Exp}(\Lambda_j) > 1\Big)

is known exactly; :math:`\hat Q = \frac1N \sum_k g(\pi_k)` is unbiased with a smaller
variance than crude Monte Carlo.

- **PMC**: a state is each birth; :math:`\Lambda_j` is the total rate of the unborn edges.
- **Turnip** (the merge process with irrelevant edges dropped): a state is each *merge* of
  two components; :math:`\Lambda_j` is the total rate of the edges joining two different
  components, since edges inside a component change nothing. Fewer, faster states; for a
  fixed graph its relative error stays bounded as :math:`q \to 0`.

The tail :math:`P(\sum_j \mathrm{Exp}(\Lambda_j) > 1)` is computed by *uniformization*: with
:math:`c \ge \max_j \Lambda_j`, the chain jumps at the events of a Poisson(:math:`c`)
process and moves to the next state with probability :math:`\Lambda_j / c`, so

.. math:: g = \sum_{k \ge 0} e^{-c} \frac{c^k}{k!} \, s_k,

:math:`s_k` the probability of not having left the last state after :math:`k` jumps. Every
term is nonnegative (no cancellation, unlike the closed form
:math:`\sum_i e^{-\Lambda_i} \prod_{j \ne i} \Lambda_j / (\Lambda_j - \Lambda_i)`), so
probabilities like :math:`10^{-12}` keep their relative accuracy. The sum is truncated when
the Poisson tail times :math:`s_k` is below :math:`10^{-13}` of the partial sum.

Everything is vectorized over the ``N`` samples; the loops run over the edges and over the
uniformization steps.

References
----------
.. [1] T. Elperin, I. Gertsbakh, M. Lomonosov, "Estimation of network reliability using
   graph evolution models", IEEE Trans. Reliability 40(5):572-581, 1991.
.. [2] I. B. Gertsbakh, Y. Shpungin, *Models of Network Reliability*, CRC Press, 2010, Ch. 9.
.. [3] K.-P. Hui, N. Bean, M. Kraetzl, D. P. Kroese, "The cross-entropy method for network
   reliability estimation", Ann. Oper. Res. 134:101-118, 2005.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from cem.errors import ConfigError
from cem.problems.network.model import Network

__all__ = ["birth_rates", "hypoexponential_tail", "merge_stages"]


def birth_rates(net: Network) -> np.ndarray:
    r"""Edge birth rates :math:`\lambda_e = -\ln q_e` (0 for an edge that always fails)."""
    if np.any(net.q <= 0):
        raise ConfigError("permutation Monte Carlo needs every q_e > 0 (contract the "
                          "edges that never fail first)")  # fmt: skip
    if net.directed:
        raise ConfigError("permutation Monte Carlo and the turnip are for undirected networks")
    return -np.log(net.q)


def merge_stages(
    net: Network, times: np.ndarray, turnip: bool, rates: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""The states' rates :math:`\Lambda_j` for each row of edge birth times.

    Parameters
    ----------
    net : Network
    times : ndarray, shape (N, m)
        Birth times; only their order within a row matters (``inf``: never born).
    turnip : bool
        Merge states (turnip) instead of birth states (PMC).
    rates : ndarray, shape (m,), optional
        The :math:`\lambda_e` the states' rates are sums of (default :func:`birth_rates`).

    Returns
    -------
    Lam : ndarray, shape (N, S)
        :math:`\Lambda_0, \Lambda_1, \dots` per row, padded with zeros.
    stages : ndarray of int, shape (N,)
        :math:`b`, the number of states before the terminals connect; ``-1`` for a row
        that never connects (:math:`g = 1`).
    """
    lam = birth_rates(net) if rates is None else rates
    N = times.shape[0]
    order = np.argsort(times, axis=1, kind="stable")
    born_time = np.take_along_axis(times, order, axis=1)
    lab = np.broadcast_to(np.arange(net.n, dtype=np.intp), (N, net.n)).copy()
    S = net.n - 1 if turnip else net.m
    Lam = np.zeros((N, S))
    stages = np.zeros(N, dtype=np.intp)
    done = np.zeros(N, dtype=bool)
    unborn = np.full(N, lam.sum())
    rows = np.arange(N)
    for i in range(net.m):
        e = order[:, i]
        lu, lv = lab[rows, net.tails[e]], lab[rows, net.heads[e]]
        live = ~done & np.isfinite(born_time[:, i])
        if turnip:
            cross = lab[:, net.tails] != lab[:, net.heads]
            current = cross.astype(float) @ lam
            stage = live & (lu != lv)
        else:
            current = unborn
            stage = live
        Lam[rows[stage], stages[stage]] = current[stage]
        stages += stage
        unborn = unborn - lam[e]
        merge = live & (lu != lv)
        if np.any(merge):
            sub = lab[merge]
            sub[sub == lv[merge, None]] = -1
            sub = np.where(sub == -1, lu[merge, None], sub)
            lab[merge] = sub
            term = lab[merge][:, net.terminals]
            done[merge] = (term == term[:, :1]).all(axis=1)
        if done.all():
            break
    stages[~done] = -1
    return Lam, stages


def hypoexponential_tail(Lam: np.ndarray, stages: np.ndarray, t: float = 1.0) -> np.ndarray:
    r""":math:`P(\sum_{j < b} \mathrm{Exp}(\Lambda_j) > t)` per row, by uniformization.

    ``stages`` gives :math:`b` per row (``-1``: the sum is infinite, probability 1).
    """
    N, S = Lam.shape
    out = np.ones(N)
    ok = stages >= 0
    if not np.any(ok):
        return out
    L, b = Lam[ok], stages[ok]
    c = float(L.max()) * t
    if c == 0.0:
        out[ok] = (b > 0).astype(float)
        return out
    active = np.arange(S) < b[:, None]
    move = np.where(active, L * t / c, 0.0)
    mass = np.zeros((L.shape[0], S + 1))
    mass[:, 0] = 1.0
    mass[b == 0, 0] = 0.0  # already connected: tau = 0
    total = np.zeros(L.shape[0])
    k = 0
    while True:
        s_k = np.where(active, mass[:, :S], 0.0).sum(axis=1)
        log_w = stats.poisson.logpmf(k, c)
        total += math.exp(log_w) * s_k
        if k > c:
            tail = math.exp(float(stats.poisson.logsf(k, c)))
            if np.all(tail * s_k <= 1e-13 * total):
                break
        flow = mass[:, :S] * move
        mass[:, :S] -= flow
        mass[:, 1:] += flow
        k += 1
    out[ok] = total
    return out
