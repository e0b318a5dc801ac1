"""Network reliability: the network model, exact unreliability by enumeration, permutation
Monte Carlo, the estimators of :class:`NetworkReliability` and the design of reliable networks.
"""

from __future__ import annotations

from cem.problems.network.design import (
    MAX_EXACT_LINKS,
    NetworkDesign,
)
from cem.problems.network.exact import (
    MAX_ENUMERATION_EDGES,
    Polynomial,
    enumerate_unreliability,
    exact_unreliability,
    unreliability_polynomial,
)
from cem.problems.network.model import (
    NETWORKS,
    Network,
    builtin_network,
    dodecahedron_terminals,
)
from cem.problems.network.pmc import (
    birth_rates,
    hypoexponential_tail,
    merge_stages,
)
from cem.problems.network.reliability import (
    METHODS,
    NetworkReliability,
    ce_importance_sampling,
    permutation_monte_carlo,
)

__all__ = [
    "MAX_ENUMERATION_EDGES",
    "MAX_EXACT_LINKS",
    "METHODS",
    "NETWORKS",
    "Network",
    "NetworkDesign",
    "NetworkReliability",
    "Polynomial",
    "birth_rates",
    "builtin_network",
    "ce_importance_sampling",
    "dodecahedron_terminals",
    "enumerate_unreliability",
    "exact_unreliability",
    "hypoexponential_tail",
    "merge_stages",
    "permutation_monte_carlo",
    "unreliability_polynomial",
]
