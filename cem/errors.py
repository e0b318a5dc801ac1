"""Exceptions and warnings raised by cem.

Every error message names the argument, config key, file or line at fault and
the values that would have been accepted.
"""

from __future__ import annotations

__all__ = [
    "CEMError",
    "ConfigError",
    "DataFormatError",
    "InvalidScoreError",
    "CEMWarning",
    "DegenerateWeightsWarning",
    "NotRareWarning",
]


class CEMError(Exception):
    """Base class of every error raised by cem."""


class ConfigError(CEMError, ValueError):
    """An argument or configuration value is out of its accepted range or of the wrong type."""


class DataFormatError(CEMError, ValueError):
    """An instance file (Gset, TSPLIB, QAPLIB, ...) is malformed.

    The message names the file, the line number and what was expected there.
    """


class InvalidScoreError(CEMError, ValueError):
    """A score function returned NaN, the wrong shape, or a non-numeric array."""


class CEMWarning(UserWarning):
    """Base class of every warning issued by cem."""


class NotRareWarning(CEMWarning):
    """The event whose probability is estimated is not rare under the nominal family."""


class DegenerateWeightsWarning(CEMWarning):
    """The likelihood ratios of an importance-sampling estimate are degenerate.

    A few samples carry most of the weight, the weights' tail is too heavy for the sample
    variance to be trusted, or the importance family has lost part of the nominal's
    support: the reported standard error and confidence interval cannot be trusted. The
    message says which diagnostic failed and what to try.
    """
