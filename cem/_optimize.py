"""One-call entry points: :func:`maximize`, :func:`minimize` and :func:`optimize`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cem.families import Family
from cem.loop import CrossEntropyOptimizer
from cem.problem import Problem
from cem.result import OptimizeResult

__all__ = ["optimize", "maximize", "minimize"]


def optimize(
    problem: Problem | Callable[[np.ndarray], Any],
    family: Family | None = None,
    **options: Any,
) -> OptimizeResult:
    """Run the CE method on ``problem`` in its own sense (``problem.sense``).

    Parameters
    ----------
    problem : Problem or callable
    family : Family, optional
        Starting family (default ``problem.initial_family()``).
    **options
        Optimizer options (:data:`cem.options.OPTIONS`), plus ``callback`` and
        ``sense`` as in :class:`~cem.loop.CrossEntropyOptimizer`.

    Returns
    -------
    OptimizeResult
    """
    return CrossEntropyOptimizer(problem, family, **options).run()


def maximize(
    problem: Problem | Callable[[np.ndarray], Any],
    family: Family | None = None,
    **options: Any,
) -> OptimizeResult:
    r"""Maximize ``problem`` with the CE method.

    Examples
    --------
    >>> import numpy as np
    >>> from cem import maximize
    >>> from cem.families import Normal
    >>> S = lambda X: np.exp(-(X[:, 0] - 2) ** 2) + 0.8 * np.exp(-(X[:, 0] + 2) ** 2)
    >>> res = maximize(S, Normal([-6.0], [10.0]), n_samples=100, n_elite=10, seed=0)
    >>> round(float(res.x[0]), 3)
    2.0
    """
    return CrossEntropyOptimizer(problem, family, sense="max", **options).run()


def minimize(
    problem: Problem | Callable[[np.ndarray], Any],
    family: Family | None = None,
    **options: Any,
) -> OptimizeResult:
    """Minimize ``problem`` with the CE method (see :func:`maximize`)."""
    return CrossEntropyOptimizer(problem, family, sense="min", **options).run()
