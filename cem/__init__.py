"""cem: the cross-entropy method for optimization and rare-event estimation.

The generic loop samples from a parametric family, scores the samples, keeps the
elite, refits the family to the elite by weighted maximum likelihood and smooths
its parameters (de Boer, Kroese, Mannor & Rubinstein, 2005).
"""

from cem.errors import CEMError, CEMWarning, ConfigError, DataFormatError, InvalidScoreError
from cem.families import Bernoulli, Categorical, Family, FullNormal, Normal
from cem.history import History, IterationRecord
from cem.loop import CrossEntropyOptimizer, maximize, minimize, optimize
from cem.problem import FunctionProblem, Problem
from cem.result import EstimateResult, OptimizeResult, Result

__version__ = "0.1.0"

__all__ = [
    "CrossEntropyOptimizer",
    "maximize",
    "minimize",
    "optimize",
    "Problem",
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
