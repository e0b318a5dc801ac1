"""Per-iteration records of a CE run and their CSV form."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from typing import overload

import numpy as np

from cem.io import atomic_write_text

__all__ = ["IterationRecord", "History"]


@dataclass(frozen=True)
class IterationRecord:
    """What one CE iteration did.

    Attributes
    ----------
    t : int
        Iteration number, starting at 1.
    gamma : float
        Elite threshold gamma_t, the (1 - rho) sample quantile of the scores (for
        minimization, the rho quantile), in the problem's own sense.
    best : float
        Best score found so far.
    mean : float
        Mean score of the iteration's finite scores.
    entropy : float
        Entropy of the family after the update (nats).
    evals : int
        Score evaluations so far.
    seconds : float
        Wall-clock seconds since the run started.
    """

    t: int
    gamma: float
    best: float
    mean: float
    entropy: float
    evals: int
    seconds: float


_COLUMNS = tuple(f.name for f in fields(IterationRecord))
_INT_COLUMNS = ("t", "evals")


class History:
    """The list of :class:`IterationRecord` of a run, with column access and CSV I/O.

    Examples
    --------
    >>> h = History()
    >>> h.append(IterationRecord(1, 2.0, 3.0, 1.0, 0.5, 100, 0.01))
    >>> h["best"]
    array([3.])
    """

    columns = _COLUMNS

    def __init__(self, records: list[IterationRecord] | None = None) -> None:
        self.records: list[IterationRecord] = list(records or [])

    def append(self, record: IterationRecord) -> None:
        self.records.append(record)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[IterationRecord]:
        return iter(self.records)

    @overload
    def __getitem__(self, key: int) -> IterationRecord: ...

    @overload
    def __getitem__(self, key: str) -> np.ndarray: ...

    def __getitem__(self, key: int | str) -> IterationRecord | np.ndarray:
        """A record by position, or a column (``"gamma"``, ``"best"``, ...) as an array."""
        if isinstance(key, str):
            if key not in _COLUMNS:
                raise KeyError(f"no history column {key!r}; columns are {', '.join(_COLUMNS)}")
            dtype = np.int64 if key in _INT_COLUMNS else float
            return np.array([getattr(r, key) for r in self.records], dtype=dtype)
        return self.records[key]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self.records == other.records

    def to_dicts(self) -> list[dict[str, float | int]]:
        return [asdict(r) for r in self.records]

    def to_csv_text(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(_COLUMNS)
        for r in self.records:
            writer.writerow([repr(v) if isinstance(v, float) else v for v in asdict(r).values()])
        return buf.getvalue()

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the history as CSV, atomically; floats keep every digit (``repr``)."""
        atomic_write_text(path, self.to_csv_text())

    @classmethod
    def read_csv(cls, path: str | os.PathLike[str]) -> History:
        """Read a history written by :meth:`to_csv`."""
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        return cls(
            [
                IterationRecord(
                    **{c: (int(row[c]) if c in _INT_COLUMNS else float(row[c])) for c in _COLUMNS}
                )
                for row in rows
            ]
        )

    def __repr__(self) -> str:
        return f"History({len(self.records)} iterations)"
