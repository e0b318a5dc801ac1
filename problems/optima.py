"""Known optima of benchmark instances, from the CSV tables that list them by name.

A table (``OPTIMA.csv`` for TSPLIB, ``BEST_KNOWN.csv`` for Gset) has a header row with at
least a ``name`` column and a value column (``optimum``, ``best_known_cut``); an optional
``sha256`` column holds the content digest of each instance (the problem's own digest of
its distances or weights, not of the file). The bundled tables list a digest for every
instance. A user's table may sit beside the user's instance file, with or without digests.

The value of a name is attached to an instance by :func:`lookup`:

- when a table lists a digest for the name, only an instance with that content gets it
  (a file that merely carries a listed name gets nothing);
- when no table lists a digest for the name, a table that lists the name without one
  attaches its value by name, and :attr:`ListedOptimum.note` says that the content was
  not checked, so that the problem's description can say so.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cem.errors import DataFormatError

__all__ = ["MAX_TABLE_BYTES", "ListedOptimum", "lookup", "read_table"]

#: Larger tables are refused (a list of optima is a few kilobytes).
MAX_TABLE_BYTES = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ListedOptimum:
    """A value listed for an instance's name, and how it was matched."""

    value: float
    #: The table that lists it.
    table: Path
    #: Whether the table listed a content digest and the instance's equals it.
    checked: bool

    @property
    def note(self) -> str:
        """How the value was matched, for the problem's description ("" when checked)."""
        if self.checked:
            return ""
        return f"listed by name in {self.table}; no sha256 there, so the content is not checked"


def read_table(path: str | os.PathLike[str], value: str) -> dict[str, tuple[float, str | None]]:
    """``{name: (value, sha256 or None)}`` of a table of optima.

    Parameters
    ----------
    path : path
        The CSV file.
    value : str
        The column of the values (``"optimum"``, ``"best_known_cut"``).

    Raises
    ------
    DataFormatError
        Naming the file and line: no ``name`` or value column in the header, a row with
        another number of fields than the header, an empty or repeated name, a value that
        is not a finite number, a ``sha256`` that is not 64 hexadecimal digits, a file that
        is not UTF-8 text or is larger than :data:`MAX_TABLE_BYTES`.
    """
    path = Path(path)
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise DataFormatError(f"{path}: a table of optima larger than {MAX_TABLE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    records, reader, line = [], csv.reader(io.StringIO(text, newline="")), 1
    try:
        for row in reader:
            records.append((line, row))  # a record starts on the line after the last one
            line = reader.line_num + 1
    except csv.Error as exc:
        raise DataFormatError(f"{path}, line {line}: not CSV ({exc})") from None
    if not records:
        raise DataFormatError(f"{path}, line 1: empty; expected a header with name,{value}")
    header = [h.strip() for h in records[0][1]]
    missing = [c for c in ("name", value) if c not in header]
    if missing:
        raise DataFormatError(
            f"{path}, line 1: the header needs the columns name and {value} "
            f"(and optionally sha256), got {','.join(header)!r}"
        )
    col = {h: k for k, h in enumerate(header)}
    table: dict[str, tuple[float, str | None]] = {}
    for lineno, row in records[1:]:
        if not any(field.strip() for field in row):
            continue
        where = f"{path}, line {lineno}"
        if len(row) != len(header):
            raise DataFormatError(f"{where}: {len(row)} fields, the header has {len(header)}")
        name = row[col["name"]].strip()
        if not name:
            raise DataFormatError(f"{where}: empty name")
        if name in table:
            raise DataFormatError(f"{where}: {name!r} is listed twice")
        try:
            number = float(row[col[value]])
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise DataFormatError(
                f"{where}: {value} of {name!r} must be a number, got {row[col[value]]!r}"
            )
        digest = row[col["sha256"]].strip().lower() if "sha256" in col else ""
        if digest and not _SHA256.fullmatch(digest):
            raise DataFormatError(
                f"{where}: sha256 of {name!r} must be 64 hexadecimal digits, got {digest!r}"
            )
        table[name] = (number, digest or None)
    return table


def lookup(
    name: str, digest: Callable[[], str], tables: Sequence[Path], value: str
) -> ListedOptimum | None:
    """The value listed for ``name`` in ``tables`` that may be attached to an instance.

    Parameters
    ----------
    name : str
        The instance's name (TSPLIB ``NAME:``, a Gset file's stem).
    digest : callable
        The instance's content digest, computed only when a table lists one.
    tables : sequence of Path
        The tables to read, in order of preference; missing files are skipped.
    value : str
        The column of the values.

    Returns
    -------
    ListedOptimum or None
        The first value whose listed digest equals the instance's; else, when no table
        lists a digest for ``name``, the first value listed by name only; else ``None``
        (the content differs from every listed one, or the name is not listed).
    """
    listed = []
    for table in tables:
        entry = read_table(table, value).get(name) if table.is_file() else None
        if entry is not None:
            listed.append((table, *entry))
    hashed = [(table, v, sha) for table, v, sha in listed if sha is not None]
    if hashed:
        own = digest()
        return next((ListedOptimum(v, table, True) for table, v, sha in hashed if sha == own), None)
    return ListedOptimum(listed[0][1], listed[0][0], False) if listed else None
