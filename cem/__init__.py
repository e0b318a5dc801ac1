"""cem: the cross-entropy method for optimization and rare-event estimation.

The generic loop samples from a parametric family, scores the samples, keeps the
elite, refits the family to the elite by weighted maximum likelihood and smooths
its parameters (de Boer, Kroese, Mannor & Rubinstein, 2005).
"""

from cem._loop import CrossEntropyOptimizer, maximize, minimize, optimize
from cem._moved import register_moved
from cem._version import __version__
from cem.errors import CEMError, CEMWarning, ConfigError, DataFormatError, InvalidScoreError
from cem.families import Bernoulli, Categorical, Family, FullNormal, Normal
from cem.history import History, IterationRecord
from cem.problem import FunctionProblem, Problem
from cem.rare_event import RareEventProblem, crude_monte_carlo, estimate_probability
from cem.result import EstimateResult, OptimizeResult, Result

#: Modules made private in 0.2 (scipy style): their old public names, for one release.
register_moved({f"cem.{name}": f"cem._{name}" for name in (
    "checks", "checkpoint", "cli", "elite", "io", "loop", "memory", "parallel", "presets",
    "progress")})  # fmt: skip
register_moved({"cem.rare_diagnostics": "cem.rare_event._diagnostics"})
register_moved({f"cem.families.{name}": f"cem.families._{name}" for name in (
    "allocation", "bernoulli", "categorical", "exponential", "gamma", "mixture", "normal",
    "permutation", "truncated")})  # fmt: skip

__all__ = [
    "CrossEntropyOptimizer",
    "maximize",
    "minimize",
    "optimize",
    "Problem",
    "RareEventProblem",
    "estimate_probability",
    "crude_monte_carlo",
    "FunctionProblem",
    "OptimizeResult",
    "EstimateResult",
    "Result",
    "History",
    "IterationRecord",
    "Family",
    "Bernoulli",
    "Categorical",
    "Normal",
    "FullNormal",
    "CEMError",
    "CEMWarning",
    "ConfigError",
    "DataFormatError",
    "InvalidScoreError",
    "__version__",
]
