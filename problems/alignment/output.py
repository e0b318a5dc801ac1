"""Alignments as text: the blocked three-line format and aligned FASTA.

The three-line format prints blocks of ``width`` columns: the first sequence's row, a
match line (``|`` identical letters, ``:`` a positive substitution score, a blank
otherwise), and the second sequence's row, each row between the positions (1-based) of
its first and last letter in the block, as EMBOSS ``needle`` and BLAST print them.
"""

from __future__ import annotations

from cem.problems.alignment.fasta import format_fasta
from cem.problems.alignment.scoring import Scoring

__all__ = ["blocked", "match_line", "to_fasta"]


def match_line(top: str, bottom: str, scoring: Scoring) -> str:
    """``|`` for identical letters, ``:`` for a positive score, blank otherwise."""
    index = {c: k for k, c in enumerate(scoring.alphabet.upper())}
    out = []
    for x, y in zip(top.upper(), bottom.upper(), strict=True):
        if x == "-" or y == "-":
            out.append(" ")
        elif x == y:
            out.append("|")
        else:
            out.append(":" if scoring.matrix[index[x], index[y]] > 0 else " ")
    return "".join(out)


def blocked(
    names: tuple[str, str],
    top: str,
    bottom: str,
    start: tuple[int, int],
    scoring: Scoring,
    width: int = 60,
) -> str:
    """The alignment ``top`` over ``bottom`` in blocks of ``width`` columns."""
    label = max(len(names[0]), len(names[1]), 1)
    mid = match_line(top, bottom, scoring)
    pos = [start[0], start[1]]
    num = len(str(max(pos[0] + len(top), pos[1] + len(bottom))))
    lines: list[str] = []
    for c in range(0, len(top), width):
        block = []
        for r, row in enumerate((top[c : c + width], bottom[c : c + width])):
            letters = sum(ch != "-" for ch in row)
            first = pos[r] if letters else pos[r] - 1
            last = pos[r] + letters - 1
            block.append(f"{names[r]:<{label}} {first:>{num}} {row} {last}")
            pos[r] += letters
        pad = " " * (label + num + 2)
        lines += [block[0], pad + mid[c : c + width], block[1], ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_fasta(names: tuple[str, str], top: str, bottom: str) -> str:
    """The two gapped rows as aligned FASTA."""
    return format_fasta([(names[0], top), (names[1], bottom)])
