"""The names of the files in a run directory, for the writers and the readers alike.

A run directory (see :mod:`cem.runner`) holds the resolved config, the checkpoint, the
history, the result's scalars, its arrays (optimizations) or levels (estimations), and the
figure in each of its formats. The runner writes these files, :mod:`cem.plotting` reads
them back; both take the names from here, and so does the list of files whose stale
temporaries a new or resumed run removes (:data:`RUN_FILES`).
"""

from __future__ import annotations

__all__ = [
    "ARRAYS",
    "CHECKPOINT",
    "CONFIG",
    "FIGURE",
    "FORMATS",
    "HISTORY",
    "LEVELS",
    "PARAM_PREFIX",
    "RESULT",
    "RUN_FILES",
    "TIMING",
]

#: The resolved config, with the seed and the cem version.
CONFIG = "config.toml"
#: The state after the last finished iteration or level (:mod:`cem.checkpoint`).
CHECKPOINT = "checkpoint.npz"
#: One row per iteration (or level).
HISTORY = "history.csv"
#: The result's scalars and the solution, as JSON.
RESULT = "result.json"
#: The best point ``x`` and the family's parameters per iteration (an optimization).
ARRAYS = "arrays.npz"
#: The levels of an estimation, one column per parameter coordinate.
LEVELS = "levels.csv"
#: The figure's name, without its suffix.
FIGURE = "convergence"
#: File formats a figure can be written in.
FORMATS = ("png", "pdf", "svg")
#: Prefix of the family's parameters per iteration in :data:`ARRAYS`.
PARAM_PREFIX = "family."
#: The CPU and wall seconds of a run of a study (:mod:`cem.study`), written when it ends.
TIMING = "timing.json"
#: Every file a run writes atomically: their stale temporaries are removed on resume.
RUN_FILES = (CONFIG, CHECKPOINT, HISTORY, RESULT, ARRAYS, LEVELS, TIMING,
             *(f"{FIGURE}.{fmt}" for fmt in FORMATS))  # fmt: skip
