"""Exceptions and warnings raised by cem.

Every error message names the argument, config key, file or line at fault and
the values that would have been accepted.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "RunInterrupted",
    "CEMError",
    "ConfigError",
    "DataFormatError",
    "InvalidScoreError",
    "ResourceLimitError",
    "CheckpointError",
    "BatchError",
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


class ResourceLimitError(CEMError, MemoryError):
    """A problem or an iteration would need more memory than the limit allows.

    Raised before the allocation; the message names the config key or argument
    responsible, the estimate and the limit (see :mod:`cem._memory`).
    """


class CheckpointError(CEMError, ValueError):
    """A checkpoint file is damaged, of another format version, or of another config."""


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C; its message says what is kept and how to continue
    (``cem resume RUN_DIR``)."""


class CEMWarning(UserWarning):
    """Base class of every warning issued by cem."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_caller(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside the cem package.

    A warning raised deep inside a run (a level, the final run) then names the user's line
    that started it, whatever the depth of the calls in between.
    """
    frame, level = sys._getframe(1), 2  # stacklevel 2: the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    warnings.warn(message, category, stacklevel=level)


class NotRareWarning(CEMWarning):
    """The event whose probability is estimated is not rare under the nominal family."""


class BatchError(CEMError):
    """A batch of samples failed: its objective raised, its worker was lost, or it timed out.

    The message is one line, ``iteration t, batch b: Type: message``. The objective's
    exception is kept as :attr:`original` (when it could travel back from the worker),
    its type name as :attr:`kind`, and the worker's traceback text as
    :attr:`remote_traceback`.
    """

    def __init__(
        self,
        iteration: int,
        batch: int,
        kind: str,
        reason: str,
        original: BaseException | None = None,
        remote_traceback: str = "",
    ) -> None:
        super().__init__(f"iteration {iteration}, batch {batch}: {kind}: {reason}")
        self.iteration, self.batch, self.kind, self.reason = iteration, batch, kind, reason
        self.original, self.remote_traceback = original, remote_traceback

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        fields = (self.iteration, self.batch, self.kind, self.reason, self.original,
                  self.remote_traceback)  # fmt: skip
        return type(self), fields


class DegenerateWeightsWarning(CEMWarning):
    """The likelihood ratios of an importance-sampling estimate are degenerate.

    A few samples carry most of the weight, the weights' tail is too heavy for the sample
    variance to be trusted, or the importance family has lost part of the nominal's
    support: the reported standard error and confidence interval cannot be trusted. The
    message says which diagnostic failed and what to try.
    """
