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
    "ObjectiveError",
    "ResourceLimitError",
    "CheckpointError",
    "CEMWarning",
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


class ResourceLimitError(CEMError, MemoryError):
    """A problem or an iteration would need more memory than the limit allows.

    Raised before the allocation; the message names the config key or argument
    responsible, the estimate and the limit (see :mod:`cem.memory`).
    """


class CheckpointError(CEMError, ValueError):
    """A checkpoint file is damaged, of another format version, or of another config."""


class ObjectiveError(CEMError, RuntimeError):
    """The objective (score function) raised during a run.

    The message names the iteration and the batch, and the original exception's type
    and message; the original is kept as ``__cause__``.
    """


class CEMWarning(UserWarning):
    """Base class of every warning issued by cem."""


class NotRareWarning(CEMWarning):
    """The event whose probability is estimated is not rare under the nominal family."""
