r"""The final importance-sampling run's estimate and the result built from it.

From the log weights :math:`\log Y_k` of the :math:`H` nonzero terms of
:math:`\hat\ell = \frac{1}{N} \sum_{k=1}^{N} Y_k` (:math:`Y_k = I_k W_k` for importance
sampling, a conditional probability times its weight for conditional Monte Carlo):

.. math:: \hat\ell, \qquad \widehat{SE} = \frac{s(Y)}{\sqrt N}, \qquad
          RE = \widehat{SE} / \hat\ell, \qquad
          CI_{95} = [\hat\ell - 1.96\,\widehat{SE}, \hat\ell + 1.96\,\widehat{SE}]
          \cap [0, 1],

with the diagnostics of :mod:`cem.rare_event._diagnostics` deciding whether the interval
can be trusted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cem._elite import check_scores
from cem._parallel import (
    batch_sizes,
)
from cem.errors import (
    CEMWarning,
    ConfigError,
    DegenerateWeightsWarning,
    warn_caller,
)
from cem.families import Family
from cem.rare_event._diagnostics import (
    WeightDiagnostics,
    check_estimate,
    weight_diagnostics,
)
from cem.result import EstimateResult


@dataclass(frozen=True)
class LevelRecord:
    """One level of the multilevel CE: its threshold and the fitted family's parameters."""

    t: int
    gamma: float
    params: dict[str, np.ndarray]


_Z95 = 1.959963984540054


def signed(direction: str) -> float:
    if direction not in ("ge", "le"):
        raise ConfigError(f"direction must be 'ge' (S >= gamma) or 'le' (S <= gamma), got "
                          f"{direction!r}")  # fmt: skip
    return 1.0 if direction == "ge" else -1.0


def joined_scores(
    parts: list[np.ndarray], n: int, batch_size: int | None, sign: float, family: Family
) -> np.ndarray:
    """The batches' scores checked and joined, times ``sign``; the batches are those
    :func:`cem._parallel.batch_args` cuts for samples of ``family``."""
    sizes = batch_sizes(n, batch_size, math.prod(family.event_shape))
    return sign * np.concatenate(
        [check_scores(p, nb, "raise") for p, nb in zip(parts, sizes, strict=True)]
    )


def final_estimate(log_w_hits: np.ndarray, n: int) -> tuple[float, float, float, float]:
    """(log estimate, estimate, standard error, relative error) from the hits' log weights.

    The weights are scaled by their maximum :math:`e^c` first, so the relative error and the
    log estimate are exact even when :math:`e^c` underflows.
    """
    if log_w_hits.size == 0:
        return -math.inf, 0.0, 0.0, math.inf
    c = float(np.max(log_w_hits))
    w = np.exp(log_w_hits - c)  # scaled weights of the hits; misses contribute 0
    mean = w.sum() / n
    sd = math.sqrt(max((np.sum(w**2) / n - mean**2) * n / (n - 1), 0.0))
    rel = sd / (mean * math.sqrt(n))
    scale = math.exp(c)
    return c + math.log(mean), mean * scale, sd / math.sqrt(n) * scale, rel


def diagnose(
    res: EstimateResult,
    diag: WeightDiagnostics,
    level_ess: list[float],
    lost_support: bool,
    status: str,
    regions: int = 1,
    checked_levels: list[float] | None = None,
) -> EstimateResult:
    """Add the diagnostics to ``res``; warn when they say the interval cannot be trusted.

    ``checked_levels`` are the level ESS fractions the verdict looks at (default: all).
    """
    checked = level_ess if checked_levels is None else checked_levels
    verdict = check_estimate(diag, checked, lost_support, status == "done", regions)
    res.update(level_ess=np.array(level_ess), trusted=not verdict, diagnostics=verdict,
               levels_status=res.status)  # fmt: skip
    if verdict:
        # An interval that cannot be trusted is no success, whatever the levels did.
        res.update(success=False, status="untrusted",
                   message=f"{res.message}; untrusted: {verdict}")  # fmt: skip
        warn_caller(verdict, DegenerateWeightsWarning)
    return res


def make_result(
    log_est: float,
    est: float,
    se: float,
    rel: float,
    diag: WeightDiagnostics,
    n: int,
    levels: list[LevelRecord],
    evaluations: int,
    seconds: float,
    method: str,
    family: Family | None,
    status: str = "done",
) -> EstimateResult:
    if est > 1.0:
        warn_caller(
            f"the importance-sampling estimate {est:.6g} exceeds 1: the likelihood ratios "
            "are unreliable (too few samples or a poor family); reported as 1, not a success",
            CEMWarning,
        )
        est, log_est, hits_ok = 1.0, 0.0, False
    else:
        hits_ok = diag.hits > 0
    ci = (max(0.0, est - _Z95 * se), min(1.0, est + _Z95 * se))
    message = {
        "done": "final importance-sampling run finished",
        "max_levels": "gamma_t did not reach gamma within max_levels; final run done anyway",
        "degenerate": "the levels' likelihood ratios collapsed; final run done anyway",
        "stopped": "the levels were stopped (max_time or the callback) before gamma; "
        "final run done anyway",
    }[status]
    if diag.hits == 0:
        message += "; no sample hit the event"
    return EstimateResult(
        estimate=est, log_estimate=log_est, std_error=se, rel_error=rel, ci=ci, ess=diag.ess,
        max_weight_share=diag.max_weight_share, vov=diag.vov, pareto_k=diag.pareto_k,
        hits=diag.hits, n_final=n, levels=levels, nit=len(levels), nfev=evaluations,
        seconds=seconds, method=method, family=family, status=status, message=message,
        success=hits_ok, level_ess=np.array([]), trusted=hits_ok, diagnostics="",
    )  # fmt: skip


def estimate_result(
    log_y: np.ndarray,
    n: int,
    *,
    method: str,
    seconds: float,
    family: Family | None = None,
    levels: Sequence[LevelRecord] = (),
    evaluations: int | None = None,
    status: str = "done",
    level_ess: Sequence[float] = (),
    checked_levels: Sequence[float] | None = None,
) -> EstimateResult:
    r"""The diagnosed result of an estimator :math:`\hat\ell = \frac1N \sum_k Y_k` given the
    logarithms of its nonzero terms :math:`Y_k > 0`.

    For estimators of a problem's own (permutation Monte Carlo, the turnip, a ladder of its
    own levels, ...), whose terms are conditional probabilities or weighted indicators: the
    estimate, its standard error, relative error and interval (:func:`final_estimate`), the
    weight diagnostics and the verdict on them (:func:`diagnose`), exactly as for the
    library's own final runs.

    Parameters
    ----------
    log_y : ndarray, shape (H,)
        :math:`\log Y_k` of the nonzero terms.
    n : int
        The number of terms :math:`N` (zeros included).
    method : str
        The estimator's name, recorded in the result.
    seconds : float
        Its run time.
    family : Family, optional
        The sampling family, when there is one.
    levels, level_ess : sequences, optional
        The records of the levels that found ``family`` and the effective sample size of
        each level's weights over its elite size.
    evaluations : int, optional
        Score evaluations in all (default ``n``).
    status : str
        How the levels ended: ``"done"``, ``"max_levels"``, ``"degenerate"`` or ``"stopped"``.
    checked_levels : sequence of float, optional
        The level ESS fractions the verdict looks at (default: all of ``level_ess``).
    """
    log_y = np.asarray(log_y, dtype=float)
    log_est, est, se, rel = final_estimate(log_y, n)
    diag = weight_diagnostics(log_y, n)
    res = make_result(log_est, est, se, rel, diag, n, list(levels),
                      n if evaluations is None else evaluations, seconds, method, family,
                      status)  # fmt: skip
    return diagnose(
        res,
        diag,
        list(level_ess),
        lost_support=False,
        status=status,
        checked_levels=None if checked_levels is None else list(checked_levels),
    )
