"""Checks of scalar arguments, shared by the options tables, the families and the problems.

Every check accepts numpy scalars wherever a Python number is accepted, refuses ``bool``
(a TOML ``true`` is not the integer 1), and raises :class:`~cem.errors.ConfigError` with a
message that names the argument, the value and what is accepted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cem.errors import ConfigError

__all__ = ["check_int", "is_int", "is_real"]


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """Whether ``value`` is a finite real number (Python or numpy), not a bool."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
    )


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python ``int`` if it is an integer in ``[low, high]``.

    Raises
    ------
    ConfigError
        ``"<name> must be an integer >= low (<= high), got <value>"``.
    """
    if is_int(value) and (low is None or value >= low) and (high is None or value <= high):
        return int(value)
    if low is not None and high is not None:
        accepted = f"an integer in [{low}, {high}]"
    elif low is not None:
        accepted = f"an integer >= {low}"
    elif high is not None:
        accepted = f"an integer <= {high}"
    else:
        accepted = "an integer"
    raise ConfigError(f"{name} must be {accepted}, got {value!r}")
