"""The problem suite of cem, installed as ``cem.problems``.

Each module holds problems only; they are named for configs in :mod:`cem.registry`:

- :mod:`cem.problems.maxcut`: max-cut on dense, sparse, networkx and Gset graphs;
- :mod:`cem.problems.tsp`, :mod:`cem.problems.tsplib`, :mod:`cem.problems.tsp_plots`: the
  symmetric and asymmetric travelling salesman problem and TSPLIB instances;
- :mod:`cem.problems.buffer_allocation`, :mod:`cem.problems.production_line`: buffer
  allocation in production lines, simulated and solved exactly;
- :mod:`cem.problems.rare_events`: rare-event problems with exact answers;
- :mod:`cem.problems.continuous`: continuous test functions;
- :mod:`cem.problems.classification`, :mod:`cem.problems.classification_data`: softmax and
  one-hidden-layer classifiers fitted by minimizing the cross-entropy loss, and their data;
- :mod:`cem.problems.network_model`, :mod:`cem.problems.network_exact`,
  :mod:`cem.problems.network_pmc`, :mod:`cem.problems.network_reliability`,
  :mod:`cem.problems.network_design`: network reliability, exactly and by simulation, and
  the design of reliable networks;
- :mod:`cem.problems.alignment`: pairwise sequence alignment by CE over edit-graph paths,
  its exact dynamic programs, and the significance of local alignment scores.
"""
