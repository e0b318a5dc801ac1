"""A small FASTA reader and writer (no library needed).

A record is a header line ``>name description`` followed by sequence lines; the name is
the header's first word. Blank lines are skipped; ``-`` and ``.`` in sequence lines are
kept (aligned FASTA).
"""

from __future__ import annotations

from pathlib import Path

from cem.errors import DataFormatError
from cem.toolkit import atomic_write_text

__all__ = ["format_fasta", "parse_fasta", "read_fasta", "write_fasta"]


def parse_fasta(text: str, where: str = "<string>") -> list[tuple[str, str]]:
    """The ``(name, sequence)`` records of FASTA text, in order.

    Raises
    ------
    DataFormatError
        Naming ``where`` and the line: no records, sequence text before the first
        header, a header without a name, a duplicate name, or a record with no letters.
    """
    records: list[tuple[str, list[str], int]] = []
    seen: dict[str, int] = {}
    for k, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            words = line[1:].split()
            if not words:
                raise DataFormatError(f"{where}:{k}: a header line without a record name")
            name = words[0]
            if name in seen:
                raise DataFormatError(
                    f"{where}:{k}: duplicate record name {name!r} (first at line {seen[name]})"
                )
            seen[name] = k
            records.append((name, [], k))
        elif not records:
            raise DataFormatError(f"{where}:{k}: sequence text before the first '>' header")
        else:
            records[-1][1].append("".join(line.split()))
    if not records:
        raise DataFormatError(f"{where}: no FASTA records (no line starts with '>')")
    out = []
    for name, parts, k in records:
        seq = "".join(parts)
        if not seq:
            raise DataFormatError(f"{where}:{k}: record {name!r} is an empty sequence")
        out.append((name, seq))
    return out


def read_fasta(path: str | Path) -> list[tuple[str, str]]:
    """The records of a FASTA file (:func:`parse_fasta`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read the FASTA file: {exc.strerror}") from None
    return parse_fasta(text, str(path))


def format_fasta(records: list[tuple[str, str]], width: int = 60) -> str:
    """FASTA text, sequence lines of ``width`` letters."""
    lines = []
    for name, seq in records:
        lines.append(f">{name}")
        lines.extend(seq[k : k + width] for k in range(0, len(seq), width))
    return "\n".join(lines) + "\n"


def write_fasta(path: str | Path, records: list[tuple[str, str]], width: int = 60) -> None:
    """Write records (aligned ones included) as FASTA, atomically."""
    atomic_write_text(Path(path), format_fasta(records, width))
