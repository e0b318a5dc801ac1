r"""The minimal cuts of a network up to a size, by vectorized enumeration.

A *cut* is a set of edges whose failure disconnects the terminals; it is *minimal* when no
proper subset is a cut. With one failure probability :math:`q` the unreliability is

.. math:: Q(q) = F_c q^c + O(q^{c+1}),

:math:`c` the size of a minimum cut and :math:`F_c` their number (Colbourn 1987), so the
minimum cuts (and, for moderate :math:`q`, the minimal cuts of size :math:`c + 1`) are the
failure regions an importance-sampling density must cover. They are found here by testing
every set of :math:`k` edges at once with :meth:`Network.connected`, in chunks.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from cem.problems.network.model import Network

__all__ = ["MAX_CUT_SETS", "minimal_cuts"]

#: Largest number of edge sets of one size that :func:`minimal_cuts` tests (the complete
#: graph K8's C(28, 7) = 1.18 million minimum-cut candidates take about two seconds).
MAX_CUT_SETS = 1_500_000

_CHUNK = 50_000


def _disconnecting(net: Network, k: int) -> np.ndarray:
    """Every set of ``k`` edges whose failure disconnects the terminals, as rows of indices."""
    found = []
    combos = itertools.combinations(range(net.m), k)
    while True:
        block = np.array(list(itertools.islice(combos, _CHUNK)), dtype=np.intp).reshape(-1, k)
        if block.size == 0:
            break
        working = np.ones((block.shape[0], net.m), dtype=bool)
        np.put_along_axis(working, block, False, axis=1)
        found.append(block[~net.connected(working)])
    return np.concatenate(found) if found else np.empty((0, k), dtype=np.intp)


def minimal_cuts(net: Network, extra: int = 1) -> list[np.ndarray] | None:
    r"""The minimal cuts of sizes :math:`c, \dots, c + \text{extra}` (:math:`c` the minimum).

    Sizes whose :math:`\binom{m}{k}` edge sets exceed :data:`MAX_CUT_SETS` are left out;
    ``None`` when even the minimum cuts are too many to enumerate.

    Returns
    -------
    list of ndarray of int
        The edge indices of each cut, smallest cuts first.

    References
    ----------
    .. [1] C. J. Colbourn, *The Combinatorics of Network Reliability*, Oxford, 1987, Ch. 2.
    """
    key = (
        net.n,
        net.directed,
        extra,
        *(a.tobytes() for a in (net.tails, net.heads, net.terminals)),
    )
    if key not in _FOUND:
        _FOUND[key] = _enumerate(net, extra)
    return _FOUND[key]


#: Cuts already enumerated, by graph, terminals and ``extra`` (they do not depend on ``q``).
_FOUND: dict[tuple[object, ...], list[np.ndarray] | None] = {}


def _enumerate(net: Network, extra: int) -> list[np.ndarray] | None:
    c = net.min_cut_size()
    cuts: list[np.ndarray] = []
    incidence = np.zeros((0, net.m), dtype=np.intp)
    for k in range(c, c + extra + 1):
        if k > net.m or math.comb(net.m, k) > MAX_CUT_SETS:
            break
        sets = _disconnecting(net, k)
        rows = np.zeros((sets.shape[0], net.m), dtype=np.intp)
        np.put_along_axis(rows, sets, 1, axis=1)
        if incidence.shape[0]:  # minimal: contains no smaller cut
            sizes = incidence.sum(axis=1)
            keep = ~np.any(rows @ incidence.T == sizes, axis=1)
            sets, rows = sets[keep], rows[keep]
        cuts += list(sets)
        incidence = np.concatenate([incidence, rows])
    return cuts or None
