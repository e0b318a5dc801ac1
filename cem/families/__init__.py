"""Parametric sampling families: each knows how to sample, fit (the CE update) and smooth."""

from cem.families._base import Family, normalized_weights
from cem.families.bernoulli import Bernoulli
from cem.families.categorical import Categorical
from cem.families.normal import FullNormal, Normal
from cem.families.permutation import TransitionMatrix

__all__ = [
    "Family",
    "Bernoulli",
    "Categorical",
    "Normal",
    "FullNormal",
    "normalized_weights",
    "TransitionMatrix",
]
