"""The symmetric and asymmetric travelling salesman problem: the problem, TSPLIB instances,
the neighbour-list local search and the tour figures.
"""

from __future__ import annotations

from cem.problems.tsp.problem import (
    TSP,
    or_opt,
    two_opt,
)
from cem.problems.tsp.search import (
    NeighbourSearch,
    neighbour_lists,
)
from cem.problems.tsp.tsplib import (
    DATA_DIR,
    EDGE_WEIGHT_FORMATS,
    EDGE_WEIGHT_TYPES,
    TSPLIBInstance,
    bundled_instance_path,
    distance_matrix,
    distances_digest,
    known_optimum,
    listed_optimum,
    load_optima,
    read_tsplib,
    tour_length,
)

__all__ = [
    "DATA_DIR",
    "EDGE_WEIGHT_FORMATS",
    "EDGE_WEIGHT_TYPES",
    "NeighbourSearch",
    "TSP",
    "TSPLIBInstance",
    "bundled_instance_path",
    "distance_matrix",
    "distances_digest",
    "known_optimum",
    "listed_optimum",
    "load_optima",
    "neighbour_lists",
    "or_opt",
    "read_tsplib",
    "tour_length",
    "two_opt",
]
