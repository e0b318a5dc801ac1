"""Per-iteration records of a CE run and their CSV form."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import asdict, astuple, dataclass, field, fields
from typing import Any, overload

import numpy as np

from cem._io import atomic_write_text, read_text

__all__ = ["IterationRecord", "History"]


@dataclass(frozen=True)
class IterationRecord:
    r"""What one CE iteration did.

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
    kl : float
        Kullback-Leibler divergence :math:`D(f_t \| f_{t-1})` of the family after the
        update from the family before it (nats,
        :meth:`cem.families.Family.kl_divergence`): how far the iteration moved the
        sampling distribution. NaN when the family has no closed form, and in histories
        written before the column existed. Keyword-only, so records keep their
        positional form.
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
    kl: float = field(default=float("nan"), kw_only=True)
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
        """Equal records, a NaN (e.g. ``kl`` without a closed form) equal to a NaN."""
        return (
            isinstance(other, History)
            and len(self.records) == len(other.records)
            and all(
                np.array_equal(astuple(a), astuple(b), equal_nan=True)
                for a, b in zip(self.records, other.records, strict=True)
            )
        )

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
        """Read a history written by :meth:`to_csv`.

        A column added since the file was written (``kl``) takes its default.
        """
        rows = list(csv.DictReader(io.StringIO(read_text(path, "history"), newline="")))

        def record(row: dict[str, str]) -> IterationRecord:
            values: dict[str, Any] = {
                c: (int(row[c]) if c in _INT_COLUMNS else float(row[c]))
                for c in _COLUMNS
                if c in row
            }
            return IterationRecord(**values)

        return cls([record(row) for row in rows])

    def __repr__(self) -> str:
        return f"History({len(self.records)} iterations)"
