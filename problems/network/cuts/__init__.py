"""Importance sampling of network unreliability built from the network's minimal cuts."""

from cem.problems.network.cuts._enumerate import MAX_CUT_SETS, minimal_cuts
from cem.problems.network.cuts._family import CutComponents, CutMixture

__all__ = ["MAX_CUT_SETS", "CutComponents", "CutMixture", "minimal_cuts"]
