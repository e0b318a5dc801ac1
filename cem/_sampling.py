r"""Samples of a Normal family, moved before they are scored: the anticipated mean shift and
the repair into a box.

:class:`MovedSampler` draws from a family and then

1. adds the shift :math:`s` to the first :math:`\lceil \alpha n \rceil` rows of every batch
   of :math:`n` (the anticipated mean shift of AMaLGaM, :mod:`cem._scaling`);
2. projects every row onto the box :math:`[l, u]` (``bounds``):
   :math:`x_i \leftarrow \min(\max(x_i, l_i), u_i)`.

**Repair rather than resampling.** Rejection sampling draws from the truncated normal, but
its acceptance rate is the family's mass inside the box, which falls geometrically with
the number of coordinates whose mean sits at a bound (:math:`2^{-k}` for :math:`k` of
them), so the cost of an iteration becomes unbounded just when the optimum lies on the
boundary. Projection costs one pass, every scored point is feasible, a fitted mean (an
average of points of the convex box) stays inside, and an optimum on a face is sampled
exactly, so the elite and the family collapse onto it. The price is a point mass on the
faces, which matters only for densities (importance sampling), where bounds are refused;
:class:`~cem.families.TruncatedNormal` is the family for bounded densities.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cem.errors import ConfigError
from cem.families import Family

__all__ = ["MovedSampler", "box_bounds"]


def box_bounds(bounds: Any, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``bounds`` option as arrays ``(lower, upper)`` of length ``dim``.

    ``bounds`` is a pair ``[lower, upper]``, each a number (every coordinate) or ``dim``
    numbers.

    Raises
    ------
    ConfigError
        A bound of the wrong length, not finite-or-infinite numbers, or lower > upper.
    """
    try:
        lower, upper = (np.broadcast_to(np.asarray(b, dtype=float), (dim,)).copy()
                        for b in bounds)  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"bounds must be [lower, upper], each a number or {dim} numbers, got {bounds!r}"
        ) from exc
    if np.isnan(lower).any() or np.isnan(upper).any() or np.any(lower > upper):
        raise ConfigError(f"bounds must have lower <= upper in every coordinate, got {bounds!r}")
    return lower, upper


class MovedSampler:
    """Draws from ``family``, shifts a fraction of the rows, and clips into a box.

    Parameters
    ----------
    family : Family
    shift : ndarray, optional
        Added to the first ``ceil(fraction * n)`` rows of every batch of ``n``.
    fraction : float
    lower, upper : ndarray, optional
        The box; ``None`` for none.
    """

    def __init__(
        self,
        family: Family,
        shift: np.ndarray | None = None,
        fraction: float = 0.0,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
    ) -> None:
        self.family, self.shift, self.fraction = family, shift, fraction
        self.lower, self.upper = lower, upper

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self.family.event_shape

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        X = self.family.sample(n, rng)
        if self.shift is not None and self.fraction > 0:
            X[: math.ceil(self.fraction * n)] += self.shift
        if self.lower is not None:
            np.clip(X, self.lower, self.upper, out=X)
        return X


def check_in_box(family: Family, lower: np.ndarray, upper: np.ndarray) -> None:
    """Refuse a starting family whose mean lies outside the box."""
    mean = family.mode()
    outside = np.flatnonzero((mean < lower) | (mean > upper))
    if outside.size:
        i = int(outside[0])
        raise ConfigError(
            f"the family's mean must lie inside bounds: coordinate {i} is {mean[i]:g}, "
            f"outside [{lower[i]:g}, {upper[i]:g}]"
        )
