"""Helpers shared by the benchmark scripts: a Markdown table and an atomic CSV file."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from cem.io import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results"


def markdown_table(rows: Sequence[dict[str, object]]) -> str:
    """Rows (dicts with the same keys) as a Markdown table; floats with 6 significant digits."""
    if not rows:
        return "(no rows)"
    keys = list(rows[0])

    def fmt(v: object) -> str:
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def write_csv(name: str, rows: Sequence[dict[str, object]]) -> Path:
    """Write ``rows`` to ``results/<name>.csv`` atomically and return the path."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(RESULTS / f"{name}.csv", buf.getvalue())
