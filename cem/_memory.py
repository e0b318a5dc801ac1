"""Memory estimates, checked before anything large is allocated.

A config names sizes (``n_samples``, a graph's ``n``, a file's ``DIMENSION``) that
decide how much memory a run takes long before the run starts. Each size is turned
into an estimate in bytes and compared with a limit; above it, a
:class:`~cem.errors.ResourceLimitError` names the key, the estimate and the limit,
and nothing has been allocated yet.

The limit is, in this order: the ``limit`` argument of :func:`require`, the
environment variable ``CEM_MEMORY_LIMIT`` (bytes, or a number with a suffix ``K``,
``M``, ``G`` or ``T``, powers of 1024), else :data:`DEFAULT_FRACTION` of the memory
available now.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence

from cem._parallel import default_batch_size
from cem.errors import ConfigError, ResourceLimitError

__all__ = [
    "DEFAULT_FRACTION",
    "ITERATION_COPIES",
    "LIMIT_ENV",
    "available_memory",
    "format_bytes",
    "iteration_bytes",
    "memory_limit",
    "parse_size",
    "require",
]

LIMIT_ENV = "CEM_MEMORY_LIMIT"
#: Share of the available memory a run may plan to use when no limit is set.
DEFAULT_FRACTION = 0.5
#: Arrays of ``N x event size`` float64 alive at once in one iteration: the samples,
#: their float copy in the score function, and one product such as ``X @ C``.
ITERATION_COPIES = 3

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``), else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return 8 * 1024**3


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if m is None:
        raise ConfigError(
            f"{LIMIT_ENV} must be a number of bytes, optionally with K, M, G or T, got {text!r}"
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def memory_limit() -> int:
    """The limit in bytes: ``CEM_MEMORY_LIMIT`` if set, else a fraction of the available memory."""
    text = os.environ.get(LIMIT_ENV)
    if text:
        return parse_size(text)
    return int(DEFAULT_FRACTION * available_memory())


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``'64.0 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def require(key: str, nbytes: float, limit: int | None = None) -> None:
    """Refuse an allocation of ``nbytes`` above the limit, naming ``key``.

    Raises
    ------
    ResourceLimitError
        ``"<key> needs about <estimate>, above the memory limit <limit>; ..."``.
    """
    limit = memory_limit() if limit is None else limit
    if not math.isfinite(nbytes) or nbytes > limit:
        raise ResourceLimitError(
            f"{key} needs about {format_bytes(nbytes)}, above the memory limit of "
            f"{format_bytes(limit)}; lower it, or raise the limit with {LIMIT_ENV}=<bytes>"
        )


def iteration_bytes(
    n_samples: int,
    event_shape: Sequence[int],
    itemsize: int = 8,
    per_sample: int = 0,
    *,
    n_elite: int | None = None,
    batch_size: int | None = None,
) -> int:
    r"""Estimated peak bytes of one iteration with ``n_samples`` samples.

    With every sample held at once (an estimation's levels), :math:`N (c\,r + s)`, where
    :math:`r = \prod(\text{event shape}) \cdot \text{itemsize}` is a sample's size,
    :math:`c` is :data:`ITERATION_COPIES` and :math:`s` the bytes the score function needs
    per sample (a problem's ``score_bytes_per_sample``, e.g. a simulation's trajectory).

    The optimizer streams (``n_elite`` given, :mod:`cem._elite`): one batch of :math:`B`
    samples at a time, the :math:`N` scores, and the rows that may still be elite, at
    most :math:`B + N_e` of them, kept with a copy:
    :math:`B (c\,r + s) + 2 (B + N_e)\, r + 24 N`.
    """
    size = math.prod(int(s) for s in event_shape) * int(itemsize)
    n = int(n_samples)
    if n_elite is None:
        return n * (ITERATION_COPIES * size + int(per_sample))
    batch = min(n, int(batch_size) if batch_size else default_batch_size(n, size // itemsize))
    candidates = min(n, batch + int(n_elite))
    return batch * (ITERATION_COPIES * size + int(per_sample)) + 2 * candidates * size + 24 * n
