"""Sequence alignment: exact dynamic programs, the CE method over edit-graph paths, and the
significance of alignment scores as a rare event.

- :mod:`~cem.problems.alignment.scoring`: substitution matrices (DNA, BLOSUM62), gaps, modes;
- :mod:`~cem.problems.alignment.fasta`: a small FASTA reader and writer;
- :mod:`~cem.problems.alignment.moves`: alignments as rows of edit-graph moves, scored in batch;
- :mod:`~cem.problems.alignment.dp`: the exact dynamic program (Needleman-Wunsch,
  Smith-Waterman, Gotoh), vectorized along rows, full or banded;
- :mod:`~cem.problems.alignment.paths`: the Keith-Kroese family of edit-graph paths;
- :mod:`~cem.problems.alignment.pairwise`: pairwise alignment as a CE problem;
- :mod:`~cem.problems.alignment.output`: blocked three-line and FASTA output;
- :mod:`~cem.problems.alignment.simulate`: related sequences with a known alignment;
- :mod:`~cem.problems.alignment.significance`: Karlin-Altschul statistics and the tail
  probability of local alignment scores by CE importance sampling.
"""
