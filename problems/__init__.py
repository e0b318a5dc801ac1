"""The problem suite of cem, installed as ``cem.problems``.

One subpackage or module per kind of problem; each is named for configs in
:mod:`cem.registry` and uses only the core's public API (:mod:`cem.toolkit` among it):

- :mod:`cem.problems.maxcut`: max-cut on dense, sparse, networkx and Gset graphs;
- :mod:`cem.problems.tsp`: the symmetric and asymmetric travelling salesman problem,
  TSPLIB instances, the neighbour-list local search and the tour figures;
- :mod:`cem.problems.buffer_allocation`: buffer allocation in production lines,
  simulated and solved exactly;
- :mod:`cem.problems.rare_events`: rare-event problems with exact answers;
- :mod:`cem.problems.continuous`: continuous test functions;
- :mod:`cem.problems.classification`: softmax and one-hidden-layer classifiers fitted by
  minimizing the cross-entropy loss, their data and the log-losses;
- :mod:`cem.problems.network`: network reliability, exactly and by simulation, and the
  design of reliable networks;
- :mod:`cem.problems.optima`: the tables of known optima beside instance files.
- :mod:`cem.problems.alignment`: pairwise sequence alignment by CE over edit-graph paths,
  its exact dynamic programs, and the significance of local alignment scores.
"""

from cem.toolkit import register_moved

#: The modules of 0.1, grouped into subpackages in 0.2: their old names, for one release.
register_moved({f"cem.problems.{old}": f"cem.problems.{new}" for old, new in {
    "network_model": "network.model", "network_exact": "network.exact",
    "network_pmc": "network.pmc", "network_reliability": "network.reliability",
    "network_design": "network.design", "tsplib": "tsp.tsplib", "tsp_search": "tsp.search",
    "tsp_plots": "tsp.plots", "maxcut_plots": "maxcut.plots",
    "production_line": "buffer_allocation.production_line",
    "classification_data": "classification.data"}.items()})  # fmt: skip
