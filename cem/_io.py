"""Atomic file writes (a file is either its old content or its complete new content), and
reads of text files that refuse a file too large to be what it claims.

Files are created with the permissions of an ordinary ``open`` (``0o666`` less the
process umask), so a run directory can be shared as the user's umask allows.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cem.errors import DataFormatError

__all__ = [
    "MAX_TEXT_BYTES",
    "TEMP_SUFFIX",
    "atomic_write_bytes",
    "atomic_write_text",
    "read_text",
    "remove_stale_temps",
    "umask",
]

#: Suffix of the temporary files of an atomic write (``.<name>.<random>.tmp``).
TEMP_SUFFIX = ".tmp"
#: Largest config, study file, result or history a reader loads (a history of a million
#: iterations is about 100 MB): a larger file is refused before it is read.
MAX_TEXT_BYTES = 256 * 2**20


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The UTF-8 text of ``path``, refused above :data:`MAX_TEXT_BYTES`.

    Configs, study files and run directories may come from someone else: a file of many
    gigabytes must end in one clear error, not exhaust the memory.

    Raises
    ------
    DataFormatError
        Naming ``what`` and the file, when it is larger than the limit.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        limit = MAX_TEXT_BYTES // 2**20
        raise DataFormatError(f"{what} {path} is {size / 2**20:.0f} MiB, above the {limit} MiB "
                              "a file of its kind may hold")  # fmt: skip
    return path.read_text(encoding="utf-8")


def umask() -> int:
    """The process umask, read without changing it where ``/proc`` allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # pragma: no cover - without /proc
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A crash at any moment leaves either the previous file or the new one, never a
    truncated mix; a temporary file left by a killed process is removed by
    :func:`remove_stale_temps`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temps(folder: str | os.PathLike[str], names: tuple[str, ...]) -> list[Path]:
    """Remove the temporary files that killed writes of ``names`` left in ``folder``.

    Only files named like :func:`atomic_write_bytes`'s temporaries of one of ``names``
    (``.<name>.<random>.tmp``) are touched. Returns the removed paths.
    """
    removed = []
    for name in names:
        for tmp in Path(folder).glob(f".{name}.*{TEMP_SUFFIX}"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed
