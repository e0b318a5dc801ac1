"""Max-cut on dense, sparse, networkx and Gset graphs, and the partition figure."""

from __future__ import annotations

from cem.problems.maxcut.problem import (
    MaxCut,
    bundled_gset,
    gset_best_known,
    gset_listed,
    read_gset,
    synthetic_matrix,
    tutorial_matrix,
    weights_digest,
)

__all__ = [
    "MaxCut",
    "bundled_gset",
    "gset_best_known",
    "gset_listed",
    "read_gset",
    "synthetic_matrix",
    "tutorial_matrix",
    "weights_digest",
]
