"""What a problem author needs from the core, beyond the problem and family classes.

The problem suite (:mod:`cem.problems`) and third-party problems build on these names only,
with :mod:`cem.problem`, :mod:`cem.families`, :mod:`cem.rare_event`, :mod:`cem.options`,
:mod:`cem.plotting`, :mod:`cem.errors` and :mod:`cem.result`; the core's other modules are
private (``cem._name``) and may change without notice.

- **Argument checks**: :func:`check_int`, :func:`is_int`, :func:`is_real`, the same tests
  the option tables use, so a problem's parameters are refused with the same messages.
- **The memory guard**: :func:`require` refuses an allocation above
  :func:`memory_limit` before it is made; :func:`iteration_bytes` is what one iteration
  of ``n`` samples takes, :data:`ITERATION_COPIES` the copies of a batch an iteration
  holds and :data:`MIN_BATCH` the smallest batch.
- **Seeds**: :func:`root_seed` and :func:`as_seed_sequence` turn a problem's ``rng`` or
  ``seed`` argument into a :class:`numpy.random.SeedSequence`, :func:`child_seed` gives
  the stream of a key, so a problem's own simulation is reproducible for any ``n_jobs``.
- **Batches**: :func:`sample_and_score` draws and scores ``n`` samples of a family in the
  run's reproducible batches (the same bits for any ``n_jobs``), for a problem's own
  final runs.
- **Weights and sampling**: :func:`normalized_weights` checks and normalizes the weights of
  a weighted fit; :func:`inverse_cdf` draws categories by inverse-CDF sampling.
- **Files**: :func:`atomic_write_text` and :func:`atomic_write_bytes` write a file whole or
  not at all (a temporary renamed into place), for a problem's own output files.
- **Moved modules**: :func:`register_moved` keeps a module's old import path working, with a
  deprecation warning, after a reorganization.
- **Estimates**: :func:`estimate_result` builds the diagnosed
  :class:`~cem.result.EstimateResult` of an estimator of a problem's own from the
  logarithms of its terms.
"""

from cem._checks import check_int, is_int, is_real
from cem._io import atomic_write_bytes, atomic_write_text
from cem._memory import ITERATION_COPIES, iteration_bytes, memory_limit, require
from cem._moved import register_moved
from cem._parallel import MIN_BATCH, sample_and_score
from cem._seeding import RNGLike, as_seed_sequence, child_seed, root_seed
from cem.families._base import inverse_cdf, normalized_weights
from cem.rare_event import estimate_result

__all__ = [
    "ITERATION_COPIES",
    "MIN_BATCH",
    "RNGLike",
    "as_seed_sequence",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_int",
    "child_seed",
    "estimate_result",
    "inverse_cdf",
    "is_int",
    "is_real",
    "iteration_bytes",
    "memory_limit",
    "normalized_weights",
    "register_moved",
    "require",
    "root_seed",
    "sample_and_score",
]
