r"""Rare-event probabilities by multilevel cross-entropy importance sampling.

Estimate :math:`\ell = P_u(S(X) \ge \gamma)` for :math:`X \sim f(\cdot; u)` (the nominal
family). Multilevel CE (de Boer et al. 2005, Algorithm 2.1): starting from
:math:`v_0 = u`, at level :math:`t`

1. draw :math:`X_1..X_N \sim f(\cdot; v_{t-1})`;
2. :math:`\gamma_t = \min(\gamma, \hat q_{1-\rho})`, the :math:`(1-\rho)` sample quantile
   of the scores, capped at :math:`\gamma`;
3. refit on the elite :math:`\{S(X_k) \ge \gamma_t\}` with likelihood-ratio weights
   :math:`W_k = f(X_k; u) / f(X_k; v_{t-1})`:
   :math:`v_t = \operatorname{argmax}_v \sum_k W_k \log f(X_k; v)`;
4. stop when :math:`\gamma_t = \gamma`.

Then a final importance-sampling run of :math:`N_1` samples from :math:`v_T`:

.. math:: \hat\ell = \frac{1}{N_1} \sum_{k=1}^{N_1} I\{S(X_k) \ge \gamma\} W_k, \qquad
          \widehat{SE} = \frac{s(I W)}{\sqrt{N_1}}, \qquad RE = \widehat{SE} / \hat\ell.

Likelihood ratios are handled in log space and the estimate is also returned as its
logarithm, so probabilities far below the smallest double (about 1e-308) stay finite.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.
.. [2] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004, Ch. 3.
.. [3] D. P. Kroese, T. Taimre, Z. I. Botev, *Handbook of Monte Carlo Methods*, Wiley,
   2011, Sec. 9.7 and 13.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cem.errors import ConfigError, InvalidScoreError, NotRareWarning
from cem.families import Family
from cem.loop import check_scores
from cem.options import OPTIONS, Option
from cem.parallel import batch_sizes, sample_and_score

__all__ = [
    "ESTIMATOR_OPTIONS",
    "LevelRecord",
    "RareEventResult",
    "crude_monte_carlo",
    "estimate_probability",
]

_Z95 = 1.959963984540054


def _int_at_least(low: int) -> Callable[[object], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


#: Options of :func:`estimate_probability` that configs may set (``[estimator]``).
ESTIMATOR_OPTIONS: dict[str, Option] = {
    o.name: o
    for o in [
        Option("rho", 0.1, "elite fraction per level", "a number in (0, 1)",
               lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1),
        Option("n_samples", 1000, "samples per level (N)", "an integer >= 2", _int_at_least(2)),
        Option("n_final", 100_000, "samples of the final importance-sampling run (N1)",
               "an integer >= 2", _int_at_least(2)),
        Option("max_levels", 100, "cap on the number of levels", "an integer >= 1",
               _int_at_least(1)),
        Option("alpha", 1.0, "smoothing weight of the new parameters", "a number in (0, 1]",
               lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1),
        Option("seed", None, "seed of the run", "a nonnegative integer or None",
               _int_at_least(0), optional=True),
        OPTIONS["n_jobs"],
        OPTIONS["batch_size"],
        OPTIONS["backend"],
    ]
}  # fmt: skip


@dataclass(frozen=True)
class LevelRecord:
    """One level of the multilevel CE: its threshold and the fitted family's parameters."""

    t: int
    gamma: float
    params: dict[str, np.ndarray]


@dataclass
class RareEventResult:
    """An estimate of a (rare-event) probability with its error bars.

    Attributes
    ----------
    estimate, log_estimate : float
        :math:`\\hat\\ell` and :math:`\\log \\hat\\ell` (``-inf`` when no hit).
    std_error, rel_error : float
        Standard error and relative error :math:`\\widehat{SE} / \\hat\\ell`.
    ci : tuple of float
        95% normal confidence interval, clipped at 0.
    ess : float
        Effective sample size :math:`(\\sum W_k)^2 / \\sum W_k^2` over the hits.
    hits : int
        Final samples in the event.
    n_final : int
    levels : list of LevelRecord
    evaluations : int
    seconds : float
    method : str
        ``"ce-is"`` or ``"crude"``.
    family : Family
        The importance-sampling family of the final run.
    """

    estimate: float
    log_estimate: float
    std_error: float
    rel_error: float
    ci: tuple[float, float]
    ess: float
    hits: int
    n_final: int
    levels: list[LevelRecord] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0
    method: str = "ce-is"
    family: Family | None = None

    @property
    def no_hit(self) -> bool:
        return self.hits == 0

    def format_table(self) -> str:
        """The level table (t, gamma_t, parameters) and the final line, as in the CE tutorial."""
        lines = [_level_line(lv, header=k == 0) for k, lv in enumerate(self.levels)]
        return "\n".join([*lines, self.summary()])

    def summary(self) -> str:
        if self.no_hit:
            return f"{self.method}: no hit in {self.n_final} samples ({self.seconds:.2f} s)"
        return (
            f"{self.method}: estimate {self.estimate:.6g} (log {self.log_estimate:.6g}), "
            f"RE {self.rel_error:.3g}, 95% CI [{self.ci[0]:.6g}, {self.ci[1]:.6g}], "
            f"{self.hits} hits of {self.n_final}, {self.evaluations} evaluations, "
            f"{self.seconds:.2f} s"
        )

    def __repr__(self) -> str:
        return f"RareEventResult({self.summary()})"


def _level_line(level: LevelRecord, header: bool = False) -> str:
    text = "  ".join(
        f"{k}=" + np.array2string(np.asarray(v), precision=4, max_line_width=1000)
        for k, v in level.params.items()
    )
    line = f"{level.t:>4} {level.gamma:>12.6g}  {text}"
    return f"{'t':>4} {'gamma_t':>12}  parameters\n{line}" if header else line


def _signed(direction: str) -> float:
    if direction not in ("ge", "le"):
        raise ConfigError(f"direction must be 'ge' (S >= gamma) or 'le' (S <= gamma), got "
                          f"{direction!r}")  # fmt: skip
    return 1.0 if direction == "ge" else -1.0


def _check_support(nominal: Family, family: Family, seed: np.random.SeedSequence) -> None:
    """Reject an importance family that gives zero density where the nominal has mass."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed.entropy, spawn_key=(
        *seed.spawn_key, 2**31))))  # fmt: skip
    X = nominal.sample(1000, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        logq = family.log_pdf(X)
    if not np.all(np.isfinite(logq)):
        raise ConfigError(
            "the importance family gives zero density to points the nominal family produces "
            "(its support does not cover the nominal); e.g. a Bernoulli p of 0 or 1 where "
            "the nominal p is strictly between"
        )


def _scores(parts: list[np.ndarray], n: int, batch_size: int | None, sign: float) -> np.ndarray:
    sizes = batch_sizes(n, batch_size)
    return sign * np.concatenate(
        [check_scores(p, nb, "raise") for p, nb in zip(parts, sizes, strict=True)]
    )


def _final_estimate(log_w_hits: np.ndarray, n: int) -> tuple[float, float, float, float, float]:
    """(log estimate, estimate, standard error, relative error, ESS) from the hits' log weights.

    The weights are scaled by their maximum :math:`e^c` first, so the relative error and the
    log estimate are exact even when :math:`e^c` underflows.
    """
    if log_w_hits.size == 0:
        return -math.inf, 0.0, 0.0, math.inf, 0.0
    c = float(np.max(log_w_hits))
    w = np.exp(log_w_hits - c)  # scaled weights of the hits; misses contribute 0
    mean = w.sum() / n
    sd = math.sqrt(max((np.sum(w**2) / n - mean**2) * n / (n - 1), 0.0))
    rel = sd / (mean * math.sqrt(n))
    scale = math.exp(c)
    ess = float(w.sum() ** 2 / np.sum(w**2))
    return c + math.log(mean), mean * scale, sd / math.sqrt(n) * scale, rel, ess


def estimate_probability(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Family,
    gamma: float,
    *,
    direction: Literal["ge", "le"] = "ge",
    family: Family | None = None,
    rho: float = 0.1,
    n_samples: int = 1000,
    n_final: int = 100_000,
    max_levels: int = 100,
    alpha: float = 1.0,
    seed: int | None = None,
    n_jobs: int = 1,
    batch_size: int | None = None,
    backend: str | None = None,
    verbose: bool = False,
) -> RareEventResult:
    """Estimate ``P(S(X) >= gamma)`` (or ``<=``) under ``nominal`` by multilevel CE-IS.

    Parameters
    ----------
    score : callable
        Vectorized ``S(X) -> (N,)``.
    nominal : Family
        The distribution of ``X``; its ``log_pdf`` must be exact (normalised).
    gamma : float
        The threshold.
    direction : {"ge", "le"}
        ``"ge"`` for ``S >= gamma``, ``"le"`` for ``S <= gamma``.
    family : Family, optional
        Starting importance family (default: the nominal); for example a
        :class:`~cem.families.NormalMixture` for events with several failure regions.
    rho, n_samples, max_levels, alpha
        Elite fraction, samples per level, level cap and smoothing weight.
    n_final : int
        Samples of the final importance-sampling run (``N1``).
    seed, n_jobs, batch_size, backend
        Reproducible batches as in :mod:`cem.parallel` (same result for any ``n_jobs``).
    verbose : bool
        Print the level table.

    Returns
    -------
    RareEventResult

    Warns
    -----
    NotRareWarning
        When gamma is below the median of S under the nominal family.

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Exponential
    >>> res = estimate_probability(lambda X: X.sum(axis=1), Exponential(np.ones(2)), 20.0,
    ...                            n_final=20_000, seed=0)
    >>> exact = 21 * np.exp(-20.0)  # P(Erlang(2) >= 20)
    >>> bool(abs(res.estimate - exact) < 3 * res.std_error)
    True
    """
    for name, value, ok, accepted in (
        ("rho", rho, 0 < rho < 1, "a number in (0, 1)"),
        ("n_samples", n_samples, isinstance(n_samples, int) and n_samples >= 2, "an integer >= 2"),
        ("n_final", n_final, isinstance(n_final, int) and n_final >= 2, "an integer >= 2"),
        ("max_levels", max_levels, isinstance(max_levels, int) and max_levels >= 1, "an int >= 1"),
        ("alpha", alpha, 0 < alpha <= 1, "a number in (0, 1]"),
        ("gamma", gamma, np.isfinite(gamma), "a finite number"),
    ):
        if not ok:
            raise ConfigError(f"{name} must be {accepted}, got {value!r}")
    sign = _signed(direction)
    target = sign * float(gamma)
    root = np.random.SeedSequence(seed)
    v = nominal if family is None else family
    if family is not None:
        _check_support(nominal, family, root)
    start = time.perf_counter()
    levels: list[LevelRecord] = []
    evaluations = 0
    n_elite = max(1, math.ceil(rho * n_samples))
    for t in range(1, max_levels + 1):
        X, parts = sample_and_score(v, score, n_samples, root, t, batch_size=batch_size,
                                    n_jobs=n_jobs, backend=backend)  # fmt: skip
        S = _scores(parts, n_samples, batch_size, sign)
        evaluations += n_samples
        if t == 1 and (family is None or family == nominal) and np.median(S) >= target:
            warnings.warn(
                f"gamma={gamma!r} is on the likely side of the median of S under the nominal "
                "family: the event is not rare, crude Monte Carlo suffices",
                NotRareWarning,
                stacklevel=2,
            )
        gamma_t = min(target, float(np.sort(S)[n_samples - n_elite]))
        elite = S >= gamma_t
        log_w = nominal.log_pdf(X[elite]) - v.log_pdf(X[elite])
        weights = np.exp(log_w - np.max(log_w))
        v = v.fit(X[elite], weights).smooth(v, alpha) if alpha != 1.0 else v.fit(X[elite], weights)
        levels.append(
            LevelRecord(t, sign * gamma_t, {k: np.array(a) for k, a in v.params().items()})
        )
        if verbose:
            print(_level_line(levels[-1], header=t == 1), flush=True)
        if gamma_t >= target:
            break
    else:
        warnings.warn(f"gamma_t did not reach gamma in max_levels={max_levels} levels; "
                      "the final run samples from the last level's family", NotRareWarning,
                      stacklevel=2)  # fmt: skip
    X, parts = sample_and_score(v, score, n_final, root, 0, batch_size=batch_size,
                                n_jobs=n_jobs, backend=backend)  # fmt: skip
    S = _scores(parts, n_final, batch_size, sign)
    evaluations += n_final
    hits = S >= target
    log_w = nominal.log_pdf(X[hits]) - v.log_pdf(X[hits])
    if np.any(np.isnan(log_w)):
        raise InvalidScoreError("likelihood ratios are NaN: check the families' log_pdf")
    log_est, est, se, rel, ess = _final_estimate(log_w, n_final)
    return _result(log_est, est, se, rel, ess, int(hits.sum()), n_final, levels, evaluations,
                   time.perf_counter() - start, "ce-is", v)  # fmt: skip


def _result(log_est, est, se, rel, ess, hits, n, levels, evaluations, seconds, method, family):
    ci = (max(0.0, est - _Z95 * se), est + _Z95 * se)
    return RareEventResult(est, log_est, se, rel, ci, ess, hits, n, levels, evaluations,
                           seconds, method, family)  # fmt: skip


def crude_monte_carlo(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Family,
    gamma: float,
    *,
    direction: Literal["ge", "le"] = "ge",
    n_samples: int = 1_000_000,
    seed: int | None = None,
    n_jobs: int = 1,
    batch_size: int | None = None,
    backend: str | None = None,
) -> RareEventResult:
    r"""Crude Monte Carlo estimate of the same probability.

    :math:`\hat\ell = H / N` with :math:`SE = \sqrt{\hat\ell (1 - \hat\ell) / N}`.
    With no hit the estimate is 0 and ``no_hit`` is true.
    """
    sign = _signed(direction)
    if not (isinstance(n_samples, int) and n_samples >= 2):
        raise ConfigError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    start = time.perf_counter()
    root = np.random.SeedSequence(seed)
    batch_size = batch_size or 100_000
    _, parts = sample_and_score(nominal, score, n_samples, root, 0, batch_size=batch_size,
                                n_jobs=n_jobs, backend=backend)  # fmt: skip
    hits = int(np.sum(_scores(parts, n_samples, batch_size, sign) >= sign * gamma))
    p = hits / n_samples
    se = math.sqrt(p * (1 - p) / n_samples)
    log_est = math.log(p) if hits else -math.inf
    rel = se / p if hits else math.inf
    return _result(log_est, p, se, rel, float(hits), hits, n_samples, [], n_samples,
                   time.perf_counter() - start, "crude", nominal)  # fmt: skip
