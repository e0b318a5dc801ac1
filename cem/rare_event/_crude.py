r"""Crude Monte Carlo, the estimator that multilevel CE is compared with."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Literal

import numpy as np

from cem._checks import check_int
from cem._parallel import sample_and_score
from cem._seeding import RNGLike, as_seed_sequence
from cem.families import Family
from cem.rare_event._diagnostics import (
    weight_diagnostics,
)
from cem.rare_event._final import (
    joined_scores,
    make_result,
    signed,
)
from cem.result import EstimateResult


def crude_monte_carlo(
    score: Callable[[np.ndarray], np.ndarray],
    nominal: Family,
    gamma: float,
    *,
    direction: Literal["ge", "le"] = "ge",
    n_samples: int = 1_000_000,
    rng: RNGLike = None,
    n_jobs: int = 1,
    batch_size: int | None = None,
    backend: str | None = None,
) -> EstimateResult:
    r"""Crude Monte Carlo estimate of the same probability.

    :math:`\hat\ell = H / N` with :math:`SE = \sqrt{\hat\ell (1 - \hat\ell) / N}`.
    With no hit the estimate is 0 and ``no_hit`` is true.
    """
    sign = signed(direction)
    n_samples = check_int("n_samples", n_samples, 2)
    start = time.perf_counter()
    root = as_seed_sequence(rng)
    batch_size = batch_size or 100_000
    _, parts = sample_and_score(nominal, score, n_samples, root, 0, batch_size=batch_size,
                                n_jobs=n_jobs, backend=backend)  # fmt: skip
    hits = int(np.sum(joined_scores(parts, n_samples, batch_size, sign, nominal) >= sign * gamma))
    p = hits / n_samples
    se = math.sqrt(p * (1 - p) / n_samples)
    log_est = math.log(p) if hits else -math.inf
    rel = se / p if hits else math.inf
    diag = weight_diagnostics(np.zeros(hits), n_samples)  # every weight is 1
    return make_result(log_est, p, se, rel, diag, n_samples, [], n_samples,
                   time.perf_counter() - start, "crude", nominal)  # fmt: skip
