"""The plan of a study: its cells, seeds and run directories, and its file ``study.json``.

A :class:`Study` is what :mod:`cem.study` runs and what its summaries and figures read: the
base config, the cells of its grid (:class:`Cell`), the seeds, and where each run's
directory is (``<study>/runs/<cell>/seed-<seed>``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cem._version import __version__
from cem.options import STUDY_OPTIONS, validate_table

__all__ = ["FORMAT", "RUNS", "STUDY_FILE", "Cell", "Study"]

#: The study's identity and settings, in the study directory.
STUDY_FILE = "study.json"
#: Folder of the run directories inside a study directory.
RUNS = "runs"
#: Format tag of :data:`STUDY_FILE`.
FORMAT = "cem-study/1"
#: Options that say what a study computes (its identity), as opposed to how it is run.
_IDENTITY = ("seeds", "grid", "zip", "instances", "set")


@dataclass(frozen=True)
class Cell:
    """One cell of a study's grid: the overrides of its runs and their short label."""

    #: ``"rho=0.01,n_samples=500"`` (``"base"`` for a study without a grid).
    label: str
    #: ``{"estimator.rho": 0.01, ...}``, with absolute paths.
    values: dict[str, Any]
    #: The values as tables show them (a file by its name).
    shown: dict[str, Any]
    #: Position in the grid, for the directory name.
    index: int

    @property
    def dirname(self) -> str:
        """``"02-rho=0.1"``: the folder of the cell's runs, safe on any file system."""
        text = re.sub(r"[^A-Za-z0-9._=+,-]", "_", self.label)[:80]
        return f"{self.index:02d}-{text}"


@dataclass
class Study:
    """A study: the base config, the cells of its grid, the seeds and how to run them."""

    base: dict[str, Any]
    cells: list[Cell]
    seeds: list[int]
    options: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    allow_import: bool = False
    #: Options of the base config replaced by the study (name: value), for the note.
    replaced: dict[str, Any] = field(default_factory=dict)
    #: The parent of a new study directory (the config's ``[output] dir``).
    parent: str = "runs"
    #: Whether this is the config's quick form (``[study.quick]``).
    quick: bool = False

    @property
    def axes(self) -> list[str]:
        """The grid's keys, in the order of the cells' labels."""
        return list(self.cells[0].values) if self.cells else []

    @property
    def runs(self) -> list[tuple[Cell, int]]:
        """Every (cell, seed), cells outer, in the order of the CSV."""
        return [(cell, seed) for cell in self.cells for seed in self.seeds]

    @property
    def digest(self) -> str:
        """SHA-256 of what the study computes: the base config, the cells and the seeds."""
        what = {"base": self.base, "cells": [c.values for c in self.cells], "seeds": self.seeds}
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()

    def raw_for(self, cell: Cell) -> dict[str, Any]:
        """The config of the cell's runs (without the seed) as a dictionary."""
        raw = copy.deepcopy(self.base)
        for key, value in cell.values.items():
            section, _, name = key.partition(".")
            raw.setdefault(section, {})[name] = copy.deepcopy(value)
        return raw

    def run_dir(self, study_dir: Path, cell: Cell, seed: int) -> Path:
        """The run directory of ``cell`` and ``seed``."""
        return Path(study_dir) / RUNS / cell.dirname / f"seed-{seed}"

    def to_json(self) -> dict[str, Any]:
        """The content of :data:`STUDY_FILE`."""
        return {
            "format": FORMAT,
            "sha256": self.digest,
            "source": self.source,
            "cem_version": __version__,
            "seeds": self.seeds,
            "cells": [{"label": c.label, "values": c.values, "shown": c.shown} for c in self.cells],
            "base": self.base,
            "options": {k: v for k, v in self.options.items() if k not in _IDENTITY},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Study:
        """The study of a :data:`STUDY_FILE`."""
        cells = [Cell(c["label"], c["values"], c["shown"], k)
                 for k, c in enumerate(data["cells"])]  # fmt: skip
        options = validate_table(data.get("options", {}), STUDY_OPTIONS, "[study] key")
        # What may import code is the caller's to say (cem resume --allow-import), never the
        # file's: a study directory may come from someone else.
        return cls(data["base"], cells, list(data["seeds"]), options, data.get("source"))
