r"""Alignment scores: substitution matrices, linear and affine gaps, global and local modes.

A pairwise alignment of :math:`a` and :math:`b` scores

.. math:: S = \sum_{\text{aligned pairs}} s(a_i, b_j) - \sum_{\text{gaps}} (g_o + g_e \ell),

where a gap is a maximal run of :math:`\ell` letters of one sequence against nothing
(two runs in different sequences that touch are two gaps). :math:`g_o = 0` gives linear
gaps (Needleman & Wunsch 1970), :math:`g_o > 0` affine ones (Gotoh 1982); this is BLAST's
convention, where "gaps 11/1" means :math:`g_o = 11, g_e = 1`. End gaps are scored like
any other. A *global* alignment covers both sequences; a *local* one (Smith & Waterman
1981) is the best-scoring alignment of a substring of each, and scores at least 0.

References
----------
.. [1] S. B. Needleman, C. D. Wunsch, "A general method applicable to the search for
   similarities in the amino acid sequence of two proteins", J. Mol. Biol. 48:443-453, 1970.
.. [2] T. F. Smith, M. S. Waterman, "Identification of common molecular subsequences",
   J. Mol. Biol. 147:195-197, 1981.
.. [3] O. Gotoh, "An improved algorithm for matching biological sequences", J. Mol. Biol.
   162:705-708, 1982.
.. [4] S. Henikoff, J. G. Henikoff, "Amino acid substitution matrices from protein
   blocks", PNAS 89:10915-10919, 1992 (BLOSUM62, bundled in ``data/blosum62.txt``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cem.errors import ConfigError, DataFormatError
from cem.toolkit import is_real

__all__ = ["DNA", "MODES", "Scoring", "blosum62", "dna_scoring", "read_matrix", "scoring"]

#: The alignment modes.
MODES = ("global", "local")
#: The DNA alphabet.
DNA = "ACGT"
_PURINES = frozenset("AG")


def read_matrix(path: str | Path) -> tuple[str, np.ndarray]:
    """A substitution matrix in the NCBI format: ``#`` comments, a header of letters, then
    one row per letter (the letter, then its scores).

    Raises
    ------
    DataFormatError
        Naming the file and line: a malformed row, or a matrix that is not symmetric
        (naming the first pair of letters whose scores differ).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: cannot read the substitution matrix: {exc}") from None
    lines = [(k + 1, ln.split()) for k, ln in enumerate(text.splitlines())]
    lines = [(k, t) for k, t in lines if t and not t[0].startswith("#")]
    if not lines:
        raise DataFormatError(f"{path}: no header line of letters in the substitution matrix")
    head_line, letters = lines[0]
    if any(len(c) != 1 for c in letters) or len(set(letters)) != len(letters):
        raise DataFormatError(f"{path}:{head_line}: the header must list distinct single letters")
    rows = lines[1:]
    if [t[0] for _, t in rows] != letters:
        raise DataFormatError(
            f"{path}: the rows must start with the header's letters in order, "
            f"{''.join(letters)}; got {''.join(t[0] for _, t in rows)}"
        )
    M = np.empty((len(letters), len(letters)))
    for r, (k, tokens) in enumerate(rows):
        try:
            values = [float(v) for v in tokens[1:]]
        except ValueError:
            raise DataFormatError(f"{path}:{k}: row {tokens[0]} holds a non-number") from None
        if len(values) != len(letters) or not all(np.isfinite(values)):
            raise DataFormatError(
                f"{path}:{k}: row {tokens[0]} needs {len(letters)} finite scores, got {len(values)}"
            )
        M[r] = values
    _check_symmetric(M, "".join(letters), str(path))
    return "".join(letters), M


def _check_symmetric(M: np.ndarray, alphabet: str, where: str) -> None:
    bad = np.argwhere(M != M.T)
    if bad.size:
        i, j = bad[0]
        raise DataFormatError(
            f"{where}: the substitution matrix is not symmetric: s({alphabet[i]},{alphabet[j]})"
            f" = {M[i, j]:g} but s({alphabet[j]},{alphabet[i]}) = {M[j, i]:g}"
        )


@dataclass(frozen=True)
class Scoring:
    r"""A scoring scheme: alphabet, substitution matrix, gap costs and mode.

    Parameters
    ----------
    alphabet : str
        The letters, in the order of the matrix rows.
    matrix : array_like (K, K)
        Symmetric substitution scores :math:`s(x, y)`.
    gap_open, gap_extend : float
        A gap of :math:`\ell` letters costs :math:`g_o + g_e \ell` (``gap_open = 0``:
        linear gaps).
    mode : {"global", "local"}
    name : str
        For descriptions ("BLOSUM62", "DNA +1/-1").
    """

    alphabet: str
    matrix: np.ndarray = field(repr=False)
    gap_open: float = 0.0
    gap_extend: float = 1.0
    mode: str = "global"
    name: str = "custom"

    def __post_init__(self) -> None:
        M = np.array(self.matrix, dtype=float)
        K = len(self.alphabet)
        if K == 0 or len(set(self.alphabet)) != K:
            raise ConfigError(f"alphabet must hold distinct letters, got {self.alphabet!r}")
        if M.shape != (K, K) or not np.all(np.isfinite(M)):
            raise ConfigError(
                f"matrix must be a finite {K} x {K} array for alphabet {self.alphabet!r}, "
                f"got shape {M.shape}"
            )
        _check_symmetric(M, self.alphabet, "matrix")
        for key in ("gap_open", "gap_extend"):
            value = getattr(self, key)
            if not is_real(value) or value < 0:
                raise ConfigError(f"{key} must be a number >= 0 (a cost), got {value!r}")
        if self.mode not in MODES:
            raise ConfigError(f"mode must be 'global' or 'local', got {self.mode!r}")
        M.flags.writeable = False
        object.__setattr__(self, "matrix", M)
        object.__setattr__(self, "gap_open", float(self.gap_open))
        object.__setattr__(self, "gap_extend", float(self.gap_extend))

    @property
    def local(self) -> bool:
        """Whether the mode is local."""
        return self.mode == "local"

    @property
    def affine(self) -> bool:
        """Whether gaps are affine (``gap_open > 0``)."""
        return self.gap_open > 0

    def encode(self, seq: str, record: str = "sequence", where: str = "") -> np.ndarray:
        """Letters as indices into :attr:`alphabet` (case-insensitive).

        Raises
        ------
        ConfigError
            For an empty sequence or a letter outside the alphabet, naming ``where`` (a
            file), the record and the position.
        """
        at = f"{where}: " if where else ""
        if not seq:
            raise ConfigError(f"{at}record {record!r} is an empty sequence")
        upper = seq.upper()
        lookup = np.full(256, -1, dtype=np.int64)
        for k, c in enumerate(self.alphabet.upper()):
            lookup[ord(c)] = k
        raw = np.frombuffer(upper.encode("latin-1", errors="replace"), dtype=np.uint8)
        codes = lookup[raw]
        if np.any(codes < 0):
            pos = int(np.argmax(codes < 0))
            raise ConfigError(
                f"{at}record {record!r}: letter {seq[pos]!r} at position {pos + 1} is not in "
                f"the alphabet {self.alphabet} of {self.name}"
            )
        return codes

    def describe(self) -> str:
        """``"BLOSUM62, gaps 11/1, local"``."""
        gaps = f"gaps {self.gap_open:g}/{self.gap_extend:g}" if self.affine else (
            f"linear gaps {self.gap_extend:g}")  # fmt: skip
        return f"{self.name}, {gaps}, {self.mode}"


def dna_scoring(
    match: float = 1.0,
    mismatch: float = -1.0,
    transition: float | None = None,
    **gaps: Any,
) -> Scoring:
    """DNA match/mismatch scores; ``transition`` scores the purine-purine and
    pyrimidine-pyrimidine mismatches (A-G, C-T) apart from the transversions."""
    for key, value in (("match", match), ("mismatch", mismatch), ("transition", transition)):
        if value is not None and not is_real(value):
            raise ConfigError(f"{key} must be a number, got {value!r}")
    M = np.full((4, 4), float(mismatch))
    if transition is not None:
        for x in range(4):
            for y in range(4):
                if (DNA[x] in _PURINES) == (DNA[y] in _PURINES):
                    M[x, y] = float(transition)
    np.fill_diagonal(M, float(match))
    name = f"DNA {match:+g}/{mismatch:+g}" + (f" (transitions {transition:+g})"
                                               if transition is not None else "")  # fmt: skip
    return Scoring(DNA, M, name=name, **gaps)


def blosum62(**gaps: Any) -> Scoring:
    """BLOSUM62 over its 24 letters (the 20 amino acids, B, Z, X and ``*``)."""
    path = resources.files("cem.problems.alignment").joinpath("data").joinpath("blosum62.txt")
    with resources.as_file(path) as p:
        alphabet, M = read_matrix(p)
    return Scoring(alphabet, M, name="BLOSUM62", **gaps)


def scoring(
    matrix: str = "dna",
    mode: str = "global",
    gap_open: float = 0.0,
    gap_extend: float = 1.0,
    match: float = 1.0,
    mismatch: float = -1.0,
    transition: float | None = None,
) -> Scoring:
    """A scoring scheme from config keys.

    Parameters
    ----------
    matrix : str
        ``"dna"`` (``match``, ``mismatch``, ``transition``), ``"blosum62"``, or the path
        of a matrix file in the NCBI format (:func:`read_matrix`).
    mode, gap_open, gap_extend
        See :class:`Scoring`.
    """
    gaps: dict[str, Any] = {"gap_open": gap_open, "gap_extend": gap_extend, "mode": mode}
    if not isinstance(matrix, str) or not matrix:
        raise ConfigError(f"matrix must be 'dna', 'blosum62' or a file path, got {matrix!r}")
    if matrix.lower() == "dna":
        return dna_scoring(match, mismatch, transition, **gaps)
    if matrix.lower() == "blosum62":
        return blosum62(**gaps)
    if not Path(matrix).is_file():
        raise ConfigError(f"matrix must be 'dna', 'blosum62' or an existing file, got {matrix!r}")
    alphabet, M = read_matrix(matrix)
    return Scoring(alphabet, M, name=Path(matrix).name, **gaps)
