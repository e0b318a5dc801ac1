r"""Rare-event probabilities by multilevel cross-entropy importance sampling.

Estimate :math:`\ell = P_u(S(X) \ge \gamma)` for :math:`X \sim f(\cdot; u)` (the nominal
family) by the levels of multilevel CE (de Boer et al. 2005, Algorithm 2.1), each an
iteration of the CE optimizer on likelihood-ratio weights, then a final importance-sampling
run:

.. math:: \hat\ell = \frac{1}{N_1} \sum_{k=1}^{N_1} I\{S(X_k) \ge \gamma\} W_k, \qquad
          W_k = \frac{f(X_k; u)}{f(X_k; v_T)}.

The subpackage has one module per job: the driver of the levels and the final run
(:class:`MultilevelEstimator`, :func:`estimate_probability`), the final run's estimate and
result (:func:`estimate_result`), the robust variants (conditional Monte Carlo, tied
parameters and screening, the improved CE), the diagnostics of the weights
(:func:`check_estimate`, :func:`weight_diagnostics`), crude Monte Carlo, and the base class
of rare-event problems (:class:`RareEventProblem`).

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005.
.. [2] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004, Ch. 3.
"""

from cem.options import ESTIMATOR_OPTIONS
from cem.rare_event._crude import crude_monte_carlo
from cem.rare_event._diagnostics import (
    WeightDiagnostics,
    check_estimate,
    count_regions,
    ess,
    weight_diagnostics,
)
from cem.rare_event._driver import MultilevelEstimator, estimate_probability, level_samples
from cem.rare_event._final import LevelRecord, estimate_result
from cem.rare_event._problem import RareEventProblem
from cem.rare_event._variants import ConditionalHook, tie_and_screen, zero_variance_samples

__all__ = [
    "ESTIMATOR_OPTIONS",
    "ConditionalHook",
    "LevelRecord",
    "MultilevelEstimator",
    "RareEventProblem",
    "WeightDiagnostics",
    "check_estimate",
    "count_regions",
    "crude_monte_carlo",
    "ess",
    "estimate_probability",
    "estimate_result",
    "level_samples",
    "tie_and_screen",
    "weight_diagnostics",
    "zero_variance_samples",
]
