r"""Related sequences with a known alignment, seeded: the test pairs of the benchmarks.

A descendant is copied from its ancestor letter by letter: with probability
:math:`d (1 - f)` a letter is substituted (by another letter, drawn from the background
frequencies), and with probability :math:`d f` an indel starts there (an insertion or a
deletion, equally likely, of geometric length with mean ``mean_indel``); :math:`d` is
the divergence and :math:`f` the indel fraction. The true alignment is returned as a
row of moves (:mod:`~cem.problems.alignment.moves`).
"""

from __future__ import annotations

import numpy as np

from cem.errors import ConfigError
from cem.problems.alignment.moves import GAP_A, GAP_B, PAIR
from cem.toolkit import check_int, is_real

__all__ = ["mutate", "random_sequence"]


def random_sequence(
    rng: np.random.Generator, length: int, alphabet: str, freqs: np.ndarray | None = None
) -> str:
    """``length`` i.i.d. letters of ``alphabet`` (uniform, or with frequencies ``freqs``)."""
    length = check_int("length", length, 1)
    idx = rng.choice(len(alphabet), size=length, p=freqs)
    return "".join(np.asarray(list(alphabet))[idx])


def mutate(
    rng: np.random.Generator,
    ancestor: str,
    alphabet: str,
    divergence: float,
    indel_fraction: float = 0.2,
    mean_indel: float = 2.0,
    freqs: np.ndarray | None = None,
) -> tuple[str, np.ndarray]:
    """A descendant of ``ancestor`` and the true alignment of the two (ancestor first)."""
    for key, value, high in (("divergence", divergence, 1.0),
                             ("indel_fraction", indel_fraction, 1.0)):  # fmt: skip
        if not is_real(value) or not 0 <= value <= high:
            raise ConfigError(f"{key} must be a number in [0, {high:g}], got {value!r}")
    if not is_real(mean_indel) or mean_indel < 1:
        raise ConfigError(f"mean_indel must be a number >= 1, got {mean_indel!r}")
    K = len(alphabet)
    out: list[str] = []
    moves: list[int] = []
    i = 0
    while i < len(ancestor):
        u = rng.random()
        if u < divergence * indel_fraction:
            length = int(rng.geometric(1.0 / mean_indel))
            if rng.random() < 0.5:  # insertion in the descendant
                out.append(random_sequence(rng, length, alphabet, freqs))
                moves += [GAP_A] * length
            else:  # deletion of ancestor letters
                length = min(length, len(ancestor) - i)
                moves += [GAP_B] * length
                i += length
            continue
        letter = ancestor[i]
        if u < divergence:
            others = [c for c in alphabet if c != letter] if K > 1 else [letter]
            p = None
            if freqs is not None:
                p = np.array([freqs[alphabet.index(c)] for c in others])
                p = p / p.sum()
            letter = others[int(rng.choice(len(others), p=p))]
        out.append(letter)
        moves.append(PAIR)
        i += 1
    if not out:  # everything deleted: keep one letter so that the pair can be aligned
        out.append(ancestor[-1])
        moves.append(GAP_A)
    return "".join(out), np.array(moves, dtype=np.int8)
