"""Parametric sampling families: each knows how to sample, fit (the CE update) and smooth."""

from cem.families._base import Family, normalized_weights
from cem.families.allocation import SequentialAllocation
from cem.families.bernoulli import Bernoulli
from cem.families.categorical import Categorical
from cem.families.exponential import Exponential
from cem.families.gamma import Gamma
from cem.families.mixture import NormalMixture
from cem.families.normal import FullNormal, Normal
from cem.families.permutation import NodePlacement, TransitionMatrix
from cem.families.truncated import TruncatedNormal

__all__ = [
    "Family",
    "Bernoulli",
    "Categorical",
    "Exponential",
    "Gamma",
    "Normal",
    "NormalMixture",
    "FullNormal",
    "TruncatedNormal",
    "SequentialAllocation",
    "normalized_weights",
    "TransitionMatrix",
    "NodePlacement",
]
