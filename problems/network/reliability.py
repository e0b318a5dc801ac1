r"""Network unreliability: the rare-event problem and its estimators.

:class:`NetworkReliability` is the rare event :math:`\{K \text{ disconnected}\}` of a
:class:`~cem.problems.network.model.Network`: :math:`X_e = 1` when edge :math:`e` fails,
:math:`X_e \sim \mathrm{Ber}(q_e)` independently (the nominal family),
:math:`S(X) = 1\{K \text{ not connected}\}` and :math:`\gamma = 1`, so

.. math:: Q = P(S(X) \ge 1).

Estimators (``method``), each returning :class:`~cem.result.EstimateResult`:

``"crude"``
    :func:`cem.rare_event.crude_monte_carlo` with ``n_final`` samples.
``"ce"``
    CE importance sampling over the edge-failure probabilities
    (:func:`ce_importance_sampling`): a Bernoulli importance family fitted by the
    rare-event engine along a ladder of failure probabilities.
``"pmc"``, ``"turnip"``
    Permutation Monte Carlo and the turnip (:mod:`cem.problems.network.pmc`) with
    ``n_final`` permutations: conditional Monte Carlo with an exact conditional
    probability, the best of these for highly reliable networks.

The exact value (:meth:`NetworkReliability.exact`) comes from the frontier DP of
:mod:`cem.problems.network.exact`.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cem.errors import CEMWarning, ConfigError
from cem.families import Bernoulli, Family
from cem.options import validate_table
from cem.problems.network.cuts import CutMixture, minimal_cuts
from cem.problems.network.exact import exact_unreliability
from cem.problems.network.model import Network, builtin_network
from cem.problems.network.pmc import birth_rates, hypoexponential_tail, merge_stages
from cem.rare_event import (
    ESTIMATOR_OPTIONS,
    LevelRecord,
    RareEventProblem,
    crude_monte_carlo,
    estimate_probability,
    estimate_result,
)
from cem.result import EstimateResult
from cem.toolkit import RNGLike, check_int, child_seed, is_real, root_seed, sample_and_score

__all__ = [
    "METHODS",
    "NetworkReliability",
    "ce_importance_sampling",
    "permutation_monte_carlo",
]

#: Estimators of :meth:`NetworkReliability.estimate`.
METHODS = ("crude", "ce", "pmc", "turnip")

#: Smallest weight of the cut components worth mixing in (:class:`CutMixture`).
MIN_CUT_WEIGHT = 0.05

#: Failure probabilities tried, in order, for the first rung of the CE ladder.
_START_Q = (0.3, 0.5, 0.7, 0.9)


def _disconnected(net: Network) -> Callable[[np.ndarray], np.ndarray]:
    def score(X: np.ndarray) -> np.ndarray:
        return (~net.connected(np.asarray(X) < 0.5)).astype(float)

    return score


def ce_importance_sampling(
    net: Network,
    *,
    rng: RNGLike = None,
    ratio: float = 0.5,
    min_p: float = 0.05,
    max_p: float = 0.5,
    cuts: float = 0.5,
    verbose: bool = False,
    **options: Any,
) -> EstimateResult:
    r"""CE importance sampling of :math:`Q` with a Bernoulli family over the edges.

    With a 0/1 score and tiny :math:`q`, the multilevel CE has no levels to climb (every
    nominal sample scores 0). This runs the rare-event engine along a *ladder* of
    nominal failure probabilities
    :math:`q^{(0)} > q^{(1)} > \dots > q^{(K)} = q`, geometric with ratio ``ratio``
    (per edge :math:`q_e^{(k)} = q_e^{(0)} (q_e / q_e^{(0)})^{k/K}`). :math:`q^{(0)}` is the
    first of 0.3, 0.5, 0.7, 0.9 (not below :math:`q_e`) under which a pilot of
    ``n_samples`` sees the network fail at least a fraction ``rho`` of the time. Rung :math:`k`
    calls :func:`~cem.rare_event.estimate_probability` with nominal
    :math:`\mathrm{Ber}(q^{(k)})`, starting from the family fitted at rung :math:`k-1`, so
    every rung's event is frequent under its starting family and its fit (the
    likelihood-ratio-weighted failure frequency of each edge among the failed networks)
    is the CE-optimal product family for :math:`q^{(k)}`. The last rung's final run of
    ``n_final`` samples is the estimate.

    The fitted probabilities are kept in ``[min(q^{(k)}, min_p), max_p]``. The floor keeps
    an edge from never failing; the ceiling (default 1/2) keeps one minimal cut from
    taking over: a product of Bernoulli distributions cannot put its mass on two disjoint
    minimal cuts at once (the CE optimum gives each edge of two equally likely cuts a
    failure probability of about 1/2), and a noisy rung that lets one cut fail almost
    surely makes the others rare, so later rungs see them less and less and the estimate
    ends up missing their share, with a too-small standard error. With the ceiling at 1/2
    the cuts' edges stay at the ceiling together. (Measured on the dodecahedron s-t at
    :math:`q = 10^{-1}, 10^{-2}, 10^{-4}`: with a ceiling of 0.95 about one run in
    twenty-five collapsed onto one cut; none of 72 did with 1/2.)

    Parameters
    ----------
    net : Network
    rng : None, int, SeedSequence or Generator
    ratio : float in (0, 1)
        The ladder's ratio: gentler (closer to 1) is safer and costs more rungs.
    min_p, max_p : float
        Floor (capped at the rung's nominal) and ceiling of the fitted probabilities.
        A ceiling above 1/2 lets the fit collapse onto one minimal cut (see above).
    verbose : bool
    **options
        :data:`cem.rare_event.ESTIMATOR_OPTIONS` of each rung (``n_samples``, ``rho``,
        ``alpha``, ``n_jobs``, ...); ``n_final`` is the last rung's final run (the
        intermediate rungs' final runs draw 2 samples). Each rung runs one CE level
        (its event is frequent under its starting family), so ``max_levels`` caps the
        number of rungs (a steeper ladder).

    References
    ----------
    .. [1] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004,
       Ch. 3 (CE for rare events; multilevel and parameter ladders).
    .. [2] K.-P. Hui, N. Bean, M. Kraetzl, D. P. Kroese, "The cross-entropy method for
       network reliability estimation", Ann. Oper. Res. 134:101-118, 2005.
    """
    if not 0.0 < ratio < 1.0:
        raise ConfigError(f"ratio must lie in (0, 1), got {ratio!r}")
    if not (is_real(cuts) and 0.0 <= cuts < 1.0):
        raise ConfigError(f"cuts must be a number in [0, 1), got {cuts!r}")
    seed = options.pop("seed", None)
    o = validate_table({"n_samples": 5000, **options}, ESTIMATOR_OPTIONS, "estimator option")
    root = root_seed(rng, seed)
    o["seed"] = None
    n_final = o.pop("n_final")
    start = time.perf_counter()
    score = _disconnected(net)
    q = net.q
    pilot = np.random.Generator(np.random.PCG64(child_seed(root, 2**20)))
    U = pilot.random((o["n_samples"], net.m))
    q0 = np.maximum(q, _START_Q[-1])
    for s in _START_Q:
        if np.mean(score(U < np.maximum(q, s))) >= o["rho"]:
            q0 = np.maximum(q, s)
            break
    span = float(np.max(np.log(q0 / np.maximum(q, 1e-300))))
    n_rungs = min(max(2, math.ceil(span / math.log(1.0 / ratio)) + 1), o.pop("max_levels"))
    family = None
    levels, level_ess, status, evaluations = [], [], "done", o["n_samples"]
    for k in range(n_rungs):
        w = k / (n_rungs - 1) if n_rungs > 1 else 1.0
        qk = q0 ** (1 - w) * q**w
        with warnings.catch_warnings():
            # A rung's own final run (2 samples) is not the estimate: only its level counts.
            warnings.simplefilter("ignore", CEMWarning)
            rung = estimate_probability(
                score, Bernoulli(qk), 1.0, family=family, rng=child_seed(root, k),
                verbose=verbose, n_final=2, max_levels=1, **o,
            )  # fmt: skip
        levels += [LevelRecord(k + 1, lv.gamma, lv.params) for lv in rung.levels]
        level_ess += list(rung.level_ess)
        status = status if rung.levels_status == "done" else rung.levels_status
        evaluations += rung.nfev
        low = min(float(qk.min()), min_p)  # the first rung's fit is unbounded: clip it too
        family = Bernoulli(np.clip(rung.family.p, low, max_p), min_p=low, max_p=max_p)
    nominal = Bernoulli(q)
    run = functools.partial(_failures, score, nominal, batch_size=o["batch_size"],
                            n_jobs=o["n_jobs"], backend=o["backend"])  # fmt: skip
    assert family is not None  # n_rungs >= 2
    final: Family = family
    cut_sets = minimal_cuts(net) if cuts > 0 else None
    if cut_sets is not None:
        # A pilot from the proposal: the listed cuts' share of the failure weight.
        n_pilot = max(1000, n_final // 10)
        X, log_w = run(family, n_pilot, child_seed(root, 2**20 + 2))
        mixture = CutMixture(nominal, cut_sets, family, cuts)
        w = np.exp(log_w - np.max(log_w)) if log_w.size else np.ones(0)
        share = float(w[mixture.cuts_failed(X) > 0].sum() / w.sum()) if w.size else 1.0
        weight = round(cuts * share, 2)
        evaluations += n_pilot
        if weight >= MIN_CUT_WEIGHT:
            final = CutMixture(nominal, cut_sets, family, weight)
    X, log_w = run(final, n_final, child_seed(root, 2**20 + 1))
    # The cut components cover every listed failure region whatever the rungs fitted, so
    # the rungs' weights only tune the proposal's share: the final run's weights judge it.
    return estimate_result(log_w, n_final, method="ce-is", seconds=time.perf_counter() - start,
                           family=final, levels=levels, evaluations=evaluations + n_final,
                           status=status, level_ess=level_ess,
                           checked_levels=[] if final is not family else None)  # fmt: skip


def _failures(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Bernoulli,
    family: Family,
    n: int,
    seed: np.random.SeedSequence,
    **batches: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``family``: the failed networks and their log likelihood ratios."""
    X, parts = sample_and_score(family, score, n, seed, 0, **batches)
    X = X[np.concatenate(parts) >= 1.0]
    return X, nominal.log_pdf(X) - family.log_pdf(X)


def permutation_monte_carlo(
    net: Network,
    *,
    turnip: bool = True,
    n_final: int = 10_000,
    rng: RNGLike = None,
    seed: int | None = None,
    batch_size: int = 10_000,
) -> EstimateResult:
    r"""Permutation Monte Carlo or the turnip: :math:`\hat Q = \frac1N \sum_k g(\pi_k)`.

    See :mod:`cem.problems.network.pmc`. The standard error is
    :math:`s(g)/\sqrt N`; ``ess`` is :math:`(\sum g)^2 / \sum g^2`, ``hits`` the number
    of permutations with :math:`g > 0` (all of them).

    Parameters
    ----------
    net : Network
        Undirected, every :math:`q_e > 0`.
    turnip : bool
        The turnip (merge process without irrelevant edges) instead of plain PMC.
    n_final : int
        Permutations :math:`N`.
    rng, seed
        The run's randomness (``seed`` is the configs' spelling).
    batch_size : int
        Permutations per vectorized batch (batch ``b`` uses stream ``(0, b)``).
    """
    n_final = check_int("n_final", n_final, 2)
    start = time.perf_counter()
    root = root_seed(rng, seed)
    lam = birth_rates(net)
    parts = []
    for b, lo in enumerate(range(0, n_final, batch_size)):
        size = min(batch_size, n_final - lo)
        gen = np.random.Generator(np.random.PCG64(child_seed(root, 0, b)))
        with np.errstate(divide="ignore"):
            times = gen.standard_exponential((size, net.m)) / lam
        parts.append(hypoexponential_tail(*merge_stages(net, times, turnip, lam)))
    g = np.concatenate(parts)
    # The conditional probabilities g_k are the estimator's terms Y_k (I_k W_k in IS).
    return estimate_result(np.log(g[g > 0]), n_final, method="turnip" if turnip else "pmc",
                           seconds=time.perf_counter() - start)  # fmt: skip


class NetworkReliability(RareEventProblem):
    r"""Unreliability of a network: ``P(terminals not connected)``, edges failing independently.

    Parameters
    ----------
    network : str or Network
        A built-in name (``"bridge"``, ``"dodecahedron"``, ``"grid"``, ``"complete"``), or
        ``"file"`` with ``path`` (edge list ``u v [q]``), or a :class:`Network`.
    q : float or list of float
        Edge failure probabilities (one for all, or per edge).
    terminals : list of nodes or "all", optional
        Default: the network's classic pair (the dodecahedron's antipodal 0 and 15).
    rows, cols, n : int, optional
        Size of a grid (``rows`` x ``cols``) or of a complete graph (``n``).
    path : str, optional
        Edge-list file for ``network = "file"``.
    directed : bool
        Arcs instead of edges (``crude`` and ``ce`` only; exact by enumeration).
    method : {"turnip", "pmc", "ce", "crude"}
        The estimator :meth:`estimate` runs (``n_final`` samples; ``seed``).

    Examples
    --------
    >>> from cem.problems.network.reliability import NetworkReliability
    >>> prob = NetworkReliability("dodecahedron", q=1e-3)
    >>> res = prob.estimate(n_final=4000, rng=1)
    >>> bool(abs(res.estimate - prob.exact()) < 3 * res.std_error)
    True
    """

    gamma = 1.0
    direction = "ge"
    family_types = (Bernoulli,)

    def __init__(
        self,
        network: str | Network = "dodecahedron",
        q: float | Sequence[float] | None = None,
        terminals: Sequence[Hashable] | str | None = None,
        *,
        rows: int | None = None,
        cols: int | None = None,
        n: int | None = None,
        path: str | Path | None = None,
        directed: bool = False,
        method: str = "turnip",
    ) -> None:
        if method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        self.method = method
        if isinstance(network, Network):
            self.network = network if q is None else network.with_q(np.asarray(q, dtype=float))
            return
        size = {k: v for k, v in {"rows": rows, "cols": cols, "n": n}.items() if v is not None}
        self.network = builtin_network(network, q, terminals, size=size, path=path,
                                       directed=directed)  # fmt: skip

    def score(self, X: np.ndarray) -> np.ndarray:
        """1 where the failed edges (``X == 1``) disconnect the terminals, else 0."""
        return _disconnected(self.network)(X)

    def nominal_family(self) -> Bernoulli:
        return Bernoulli(self.network.q)

    def exact(self) -> float:
        return exact_unreliability(self.network)

    def log_exact(self) -> float:
        return math.log(self.exact())

    def estimate(
        self,
        family: Family | None = None,
        rng: RNGLike = None,
        method: str | None = None,
        **options: Any,
    ) -> EstimateResult:
        """Estimate :math:`Q` with ``method`` (default: the problem's).

        ``options`` are :data:`cem.rare_event.ESTIMATOR_OPTIONS`; ``"crude"``, ``"pmc"``
        and ``"turnip"`` use ``n_final`` (samples) and ``seed`` only. ``family`` is the
        plain rare-event engine's starting family (``method="ce"`` ignores it: it
        builds its own ladder).
        """
        method = method or self.method
        if method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if method == "ce":
            return ce_importance_sampling(self.network, rng=rng, **options)
        o = validate_table(options, ESTIMATOR_OPTIONS, "estimator option")
        if method == "crude":
            root = root_seed(rng, o["seed"])
            return crude_monte_carlo(self.score, self.nominal_family(), 1.0, rng=root,
                                     n_samples=o["n_final"], n_jobs=o["n_jobs"],
                                     batch_size=o["batch_size"], backend=o["backend"])  # fmt: skip
        return permutation_monte_carlo(self.network, turnip=method == "turnip",
                                       n_final=o["n_final"], rng=rng, seed=o["seed"])  # fmt: skip

    def estimator(self, *args: Any, **kwargs: Any) -> Any:
        """None of :data:`METHODS` runs as one multilevel estimation (``"ce"`` is a
        ladder of them), so there is no level to checkpoint: a run is repeated, not
        resumed."""
        raise NotImplementedError(f"method {self.method!r} has no resumable levels")

    def describe(self) -> str:
        return f"unreliability of a {self.network.describe()} ({self.method})"
