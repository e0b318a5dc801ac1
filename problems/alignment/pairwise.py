r"""Pairwise alignment by the CE method over edit-graph paths (Keith & Kroese 2002).

The samples are paths of the :class:`~cem.problems.alignment.paths.EditGraphPaths` chain,
scored as global or local alignments (:func:`~cem.problems.alignment.moves.path_scores`),
and the chain is refitted to the elite paths. The optional local search
(``polish_radius = r > 0``) replaces a path by the best path inside the *tube* of the
cells within :math:`r` columns of it, row by row (the banded dynamic program of
:mod:`~cem.problems.alignment.dp` restricted to that tube, :math:`O(m (w + 2r))` for a
path of row width :math:`w`), repeated until it no longer improves: moving, merging and
resizing the gaps near the path, the alignment analogue of 2-opt. Its neighbourhood
holds all paths within :math:`r` of the current one, not the whole edit graph, so it is
a local search; the CE chain decides where the tube lies.

References
----------
.. [1] J. Keith, D. P. Kroese, "Sequence alignment by rare event simulation",
   Proceedings of the 2002 Winter Simulation Conference, 320-327, 2002.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cem.errors import ConfigError
from cem.problem import Problem
from cem.problems.alignment.dp import align, banded_dp
from cem.problems.alignment.fasta import read_fasta, write_fasta
from cem.problems.alignment.moves import aligned_strings, embed, local_span, path_scores, row_spans
from cem.problems.alignment.output import blocked
from cem.problems.alignment.paths import EditGraphPaths
from cem.problems.alignment.scoring import Scoring, scoring
from cem.toolkit import atomic_write_text, check_int, require

__all__ = ["INSTANCES", "PairwiseAlignment"]

#: Bundled FASTA pairs (``data/<name>.fasta``, sources in ``data/NOTES.md``).
INSTANCES = ("example_dna", "example_protein")
#: Paths polished together in one banded dynamic program.
_POLISH_CHUNK = 32
#: Most rounds of the tube search per polish.
_POLISH_ROUNDS = 20
#: Output files of a run (:meth:`PairwiseAlignment.write_solution`).
ALIGNMENT_TEXT, ALIGNMENT_FASTA = "alignment.txt", "alignment.fasta"


class PairwiseAlignment(Problem):
    r"""The best alignment of two sequences, maximized over edit-graph paths.

    Parameters
    ----------
    a, b : str
        The sequences.
    scheme : Scoring
        Substitution scores, gaps and mode (:mod:`~cem.problems.alignment.scoring`).
    names : (str, str)
        Record names, for output and messages.
    band : int, optional
        Half-width of the band of the path family around the diagonal (None: the whole
        edit graph).
    diagonal, pull, prior
        The starting family and its update (:meth:`EditGraphPaths.initial`).
    polish_radius : int, default 4
        The tube of the local search (0: none).
    oracle : bool, default True
        Whether to compute the optimum by dynamic programming (:attr:`known_optimum`,
        for the gap of the result).
    where : str
        The input file, for messages.
    """

    sense = "max"
    family_types = (EditGraphPaths,)
    score_label = "alignment score"
    search_keys = ("band", "diagonal", "pull", "prior", "polish_radius")

    def __init__(
        self,
        a: str,
        b: str,
        scheme: Scoring,
        names: tuple[str, str] = ("a", "b"),
        band: int | None = None,
        diagonal: float = 0.8,
        pull: float | None = 5.0,
        prior: float = 0.5,
        polish_radius: int = 4,
        oracle: bool = True,
        where: str = "",
    ) -> None:
        if not isinstance(scheme, Scoring):
            raise ConfigError(f"scheme must be a Scoring, got {type(scheme).__name__}")
        self.scheme, self.where = scheme, where
        self.names: tuple[str, str] = (str(names[0]), str(names[1]))
        self.a_text, self.b_text = a, b
        self.a = scheme.encode(a, names[0], where)
        self.b = scheme.encode(b, names[1], where)
        self.m, self.n = self.a.size, self.b.size
        self.band, self.diagonal, self.pull, self.prior = band, diagonal, pull, prior
        self.polish_radius = check_int("polish_radius", polish_radius, 0)
        width = self.n + 1 if band is None else min(2 * check_int("band", band, 1) + 1,
                                                    self.n + 1)  # fmt: skip
        require(self._what("the edit-graph family"), 3 * 8 * 4 * (self.m + 1) * width)
        self.family = EditGraphPaths.initial(self.m, self.n, band, diagonal, pull, prior)
        if not isinstance(oracle, bool):
            raise ConfigError(f"oracle must be true or false, got {oracle!r}")
        self.optimum = align(self.a, self.b, scheme, key=self._what("the exact DP")) if (
            oracle) else None  # fmt: skip
        self.known_optimum = None if self.optimum is None else self.optimum.score

    def _what(self, job: str) -> str:
        at = f"file {self.where}, " if self.where else ""
        return (f"{job} of {at}records {self.names[0]!r} ({self.m} letters) and "
                f"{self.names[1]!r} ({self.n} letters)")  # fmt: skip

    @classmethod
    def from_config(
        cls,
        instance: str = "example_dna",
        file: str | None = None,
        records: list[str] | None = None,
        matrix: str | None = None,
        mode: str = "global",
        gap_open: float = 0.0,
        gap_extend: float = 1.0,
        match: float = 1.0,
        mismatch: float = -1.0,
        transition: float | None = None,
        band: int | None = None,
        diagonal: float = 0.8,
        pull: float | None = 5.0,
        prior: float = 0.5,
        polish_radius: int = 4,
        oracle: bool = True,
    ) -> PairwiseAlignment:
        """Build from ``[problem]`` config keys.

        Parameters
        ----------
        instance : {"example_dna", "example_protein"}
            A bundled pair (ignored when ``file`` is given).
        file : str, optional
            A FASTA file; its first two records, or the two named by ``records``.
        matrix : str, optional
            ``"dna"``, ``"blosum62"`` or a matrix file (:func:`scoring`); default
            ``"dna"``, or ``"blosum62"`` for the bundled protein pair.
        mode, gap_open, gap_extend, match, mismatch, transition
            The scoring (:func:`~cem.problems.alignment.scoring.scoring`).
        band, diagonal, pull, prior, polish_radius, oracle
            See :class:`PairwiseAlignment`.
        """
        if file is None:
            if instance not in INSTANCES:
                raise ConfigError(f"instance must be one of {', '.join(INSTANCES)}, "
                                  f"got {instance!r}")  # fmt: skip
            data = resources.files("cem.problems.alignment").joinpath("data")
            ref = data.joinpath(f"{instance}.fasta")
            with resources.as_file(ref) as p:
                recs = read_fasta(p)
            where = f"{instance}.fasta"
            if matrix is None:
                matrix = "blosum62" if instance == "example_protein" else "dna"
        else:
            if not isinstance(file, str):
                raise ConfigError(f"file must be a path string, got {file!r}")
            recs, where = read_fasta(file), file
        scheme = scoring(matrix or "dna", mode, gap_open, gap_extend, match, mismatch,
                         transition)  # fmt: skip
        chosen = _pick(recs, records, where)
        return cls(chosen[0][1], chosen[1][1], scheme, (chosen[0][0], chosen[1][0]), band,
                   diagonal, pull, prior, polish_radius, oracle, where)  # fmt: skip

    # ------------------------------------------------------------------ Problem
    def initial_family(self) -> EditGraphPaths:
        return self.family

    def default_options(self) -> dict[str, Any]:
        """``n_samples = 200``, ``rho = 0.05``, ``alpha = 0.7``, ``polish = "elite"`` (when
        ``polish_radius > 0``), ``keep_elite = 2``, and a stop when the best has not
        improved for 8 iterations."""
        opts: dict[str, Any] = {"n_samples": 200, "rho": 0.05, "alpha": 0.7,
                                "stall_iters": None, "stall_best": 8, "max_iter": 200}  # fmt: skip
        if self.polish_radius > 0:
            opts.update(polish="elite", keep_elite=2)
        return opts

    def score(self, X: np.ndarray) -> np.ndarray:
        return path_scores(X, self.a, self.b, self.scheme)

    def polish(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tube search of radius :attr:`polish_radius` (module notes), all paths together."""
        X = np.array(X, dtype=np.int8)
        s = np.array(scores, dtype=float)
        for c in range(0, X.shape[0], _POLISH_CHUNK):
            X[c : c + _POLISH_CHUNK], s[c : c + _POLISH_CHUNK] = self._tube_search(
                X[c : c + _POLISH_CHUNK], s[c : c + _POLISH_CHUNK])  # fmt: skip
        return X, s

    def _tube_search(self, X: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, m, n = self.polish_radius, self.m, self.n
        if r == 0:
            return X, s
        for _ in range(_POLISH_ROUNDS):
            first, last = row_spans(X, m, n)
            lo = np.maximum(first - r, 0)
            width = int((np.minimum(last + r, n) - lo).max()) + 1
            new, moves, starts = banded_dp(self.a[None], self.b[None], self.scheme, lo, width,
                                           key=self._what("the tube search"))  # fmt: skip
            better = new > s + 1e-9 * max(1.0, float(np.max(np.abs(s))))
            if not better.any():
                break
            assert moves is not None and starts is not None  # traceback=True
            for k in np.flatnonzero(better):
                X[k] = embed(moves[k], (int(starts[k, 0]), int(starts[k, 1])), m, n)
            s = np.where(better, new, s)
        return X, s

    # ------------------------------------------------------------------ output
    def rows(self, x: np.ndarray) -> tuple[str, str, tuple[int, int]]:
        """The two gapped rows of path ``x`` (the best sub-path of a local alignment)."""
        span = local_span(np.asarray(x), self.a, self.b, self.scheme) if (
            self.scheme.local) else None  # fmt: skip
        return aligned_strings(np.asarray(x), self.a_text, self.b_text, span)

    def format_solution(self, x: np.ndarray) -> str:
        """The alignment in the blocked three-line format, with its score."""
        top, bottom, start = self.rows(x)
        score = float(self.score(np.asarray(x)[None])[0])
        head = f"{self.scheme.describe()}; score {score:g}, {len(top)} columns"
        return head + "\n" + blocked(self.names, top, bottom, start, self.scheme)

    def write_solution(self, x: np.ndarray, folder: str | Path) -> None:
        """Write ``alignment.txt`` (three-line blocks) and ``alignment.fasta`` (gapped rows)."""
        top, bottom, _ = self.rows(x)
        atomic_write_text(Path(folder) / ALIGNMENT_TEXT, self.format_solution(x))
        write_fasta(Path(folder) / ALIGNMENT_FASTA, [(self.names[0], top),
                                                     (self.names[1], bottom)])  # fmt: skip

    def describe(self) -> str:
        opt = f", optimum {self.known_optimum:g}" if self.known_optimum is not None else ""
        return (f"pairwise alignment of {self.names[0]} ({self.m}) and {self.names[1]} "
                f"({self.n}), {self.scheme.describe()}{opt}")  # fmt: skip


def _pick(
    recs: list[tuple[str, str]], records: list[str] | None, where: str
) -> list[tuple[str, str]]:
    if records is None:
        if len(recs) < 2:
            raise ConfigError(f"file {where}: a pairwise alignment needs 2 records, "
                              f"found {len(recs)}")  # fmt: skip
        return recs[:2]
    if not isinstance(records, (list, tuple)) or len(records) != 2 or not all(
            isinstance(r, str) for r in records):  # fmt: skip
        raise ConfigError(f"records must name 2 records, got {records!r}")
    byname = dict(recs)
    for r in records:
        if r not in byname:
            raise ConfigError(f"file {where}: no record named {r!r}; records: "
                              f"{', '.join(byname)}")  # fmt: skip
    return [(r, byname[r]) for r in records]
