"""Helpers shared by the benchmark scripts: a Markdown table, an atomic CSV file, the folder
of extra benchmark data (``CEM_DATA_DIR``), and the ``--quick`` form every benchmark has."""

from __future__ import annotations

import argparse
import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

from cem._io import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results"
#: Environment variable naming a folder of public benchmark data (``tsplib/``, ``gset/``,
#: ``qaplib/``); without it the benchmarks use the instances bundled with the package.
DATA_ENV = "CEM_DATA_DIR"
#: Whether this process runs a benchmark's ``--quick`` form (see :func:`parse_args`).
_QUICK = {"on": False}


def parse_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, quick: dict[str, object]
) -> argparse.Namespace:
    """Parse ``argv`` with a ``--quick`` switch: the short form run by CI's README check.

    ``--quick`` replaces the defaults of the options named in ``quick`` (options given on
    the command line keep their values), and :func:`write_csv` then writes
    ``results/<name>_quick.csv``, so a quick run never overwrites the full results.
    """
    shown = ", ".join(f"{k.replace('_', '-')}={v}" for k, v in quick.items())
    parser.add_argument(
        "--quick", action="store_true", help=f"a short form ({shown}); results as *_quick.csv"
    )
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**quick)
        args = parser.parse_args(argv)
    _QUICK["on"] = bool(args.quick)
    return args


def data_dir(kind: str) -> Path | None:
    """The ``kind`` subfolder (e.g. ``"tsplib"``) of ``$CEM_DATA_DIR``, if it exists."""
    root = os.environ.get(DATA_ENV)
    if root and (Path(root) / kind).is_dir():
        return Path(root) / kind
    return None


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
    """Write ``rows`` to ``results/<name>.csv`` (``<name>_quick.csv`` for a ``--quick`` run)
    atomically and return the path."""
    name = f"{name}_quick" if _QUICK["on"] else name
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(RESULTS / f"{name}.csv", buf.getvalue())
