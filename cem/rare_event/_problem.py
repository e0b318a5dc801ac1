r"""The base class of rare-event problems: a score, a nominal family and a threshold."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from cem._seeding import RNGLike
from cem.errors import (
    ConfigError,
)
from cem.families import Family
from cem.rare_event._driver import MultilevelEstimator
from cem.rare_event._variants import ConditionalHook
from cem.result import EstimateResult


class RareEventProblem:
    r"""A rare event :math:`\{S(X) \ge \gamma\}` (or :math:`\le`) under a nominal family.

    Subclasses give the vectorized :meth:`score`, the :meth:`nominal_family` and
    ``gamma``, and :meth:`log_exact` when the probability has a closed form; the
    estimators of this module do the rest.
    """

    #: The threshold :math:`\gamma`.
    gamma: float
    #: ``"ge"`` for :math:`S \ge \gamma`, ``"le"`` for :math:`S \le \gamma`.
    direction: Literal["ge", "le"] = "ge"
    #: The family classes whose samples :meth:`score` understands.
    family_types: tuple[type[Family], ...] = (Family,)

    def score(self, X: np.ndarray) -> np.ndarray:
        """The performance :math:`S(X)` of each row, shape ``(N,)``."""
        raise NotImplementedError

    def nominal_family(self) -> Family:
        """The distribution of :math:`X`, with an exact (normalised) ``log_pdf``."""
        raise NotImplementedError

    def importance_family(self) -> Family:
        """The family the CE levels start from and refit (default: the nominal)."""
        return self.nominal_family()

    def exact(self) -> float:
        r"""The exact probability, :math:`\exp` of :meth:`log_exact`."""
        return math.exp(self.log_exact())

    def log_exact(self) -> float:
        """The logarithm of the exact probability, where a closed form exists."""
        raise NotImplementedError

    def estimate(
        self, family: Family | None = None, rng: RNGLike = None, **options: Any
    ) -> EstimateResult:
        """:func:`estimate_probability` with this problem's families and options.

        ``family`` replaces :meth:`importance_family` as the levels' starting family.
        """
        return self.estimator(family, rng, **options).run()

    def estimator(
        self,
        family: Family | None = None,
        rng: RNGLike = None,
        callback: Callable[[MultilevelEstimator], bool | None] | None = None,
        **options: Any,
    ) -> MultilevelEstimator:
        """The :class:`MultilevelEstimator` of :meth:`estimate`, not yet run.

        Raises
        ------
        NotImplementedError
            When the problem estimates by another method, without levels.
        """
        if family is None:
            family = self.importance_family()
        if options.get("conditional") is True:
            if not self.conditioned_on:
                raise ConfigError(f"conditional = true: {type(self).__name__} defines no "
                                  "conditional_probability")  # fmt: skip
            options["conditional"] = ConditionalHook(self.conditioned_on,
                                                     self.conditional_probability)  # fmt: skip
        return MultilevelEstimator(
            self.score, self.nominal_family(), self.gamma, direction=self.direction,
            family=family, rng=rng, callback=callback, **options,
        )  # fmt: skip

    #: The coordinates :meth:`conditional_probability` conditions on.
    conditioned_on: tuple[int, ...] = ()

    def conditional_probability(self, X_given: np.ndarray) -> np.ndarray:
        r""":math:`P(\text{event} \mid X_G)` for rows ``X_given`` of the coordinates
        :attr:`conditioned_on`, in closed form (the ``conditional = true`` option)."""
        raise NotImplementedError(f"{type(self).__name__} has no conditional probability")

    def describe(self) -> str:
        """A one-line description: the class's first doc line and gamma."""
        first = (type(self).__doc__ or type(self).__name__).strip().splitlines()[0]
        return f"{first.replace('``', '').rstrip('.')} (gamma = {self.gamma:g})"
