"""Parametric sampling families: each knows how to sample, fit (the CE update) and smooth."""

from cem.families._allocation import SequentialAllocation
from cem.families._base import Family, normalized_weights
from cem.families._bernoulli import Bernoulli
from cem.families._categorical import Categorical
from cem.families._exponential import Exponential
from cem.families._gamma import Gamma
from cem.families._mixture import DefensiveMixture, NormalMixture
from cem.families._normal import FullNormal, Normal
from cem.families._permutation import NodePlacement, TransitionMatrix
from cem.families._truncated import TruncatedNormal

__all__ = [
    "Family",
    "Bernoulli",
    "Categorical",
    "Exponential",
    "Gamma",
    "Normal",
    "NormalMixture",
    "DefensiveMixture",
    "FullNormal",
    "TruncatedNormal",
    "SequentialAllocation",
    "normalized_weights",
    "TransitionMatrix",
    "NodePlacement",
]
