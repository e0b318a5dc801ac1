r"""Batched, reproducible sampling and scoring with joblib.

One iteration's ``N`` samples are split into batches whose sizes depend only on
``N`` and ``batch_size``, never on the number of workers. Batch ``b`` of
iteration ``t`` draws from its own generator, seeded by the
:class:`numpy.random.SeedSequence` with the run's entropy and spawn key
``(t, b)``. The batches are sampled and scored independently (in joblib workers
when ``n_jobs != 1``) and joined in order, so a seeded run gives the same samples
and scores to the bit for ``n_jobs = 1, 2, -1`` or any joblib backend (for
example Dask's, via ``joblib.parallel_config(backend="dask")``).

With ``n_jobs=1`` and no backend the batches run in the calling process: no pool,
no pickling. Every batch runs with single-threaded BLAS (:func:`single_threaded_blas`),
since a matrix product's rounding depends on the number of threads that share it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from cem.checks import is_int
from cem.errors import ConfigError

__all__ = [
    "backend_config",
    "single_threaded_blas",
    "default_batch_size",
    "batch_sizes",
    "RNGLike",
    "as_seed_sequence",
    "child_seed",
    "root_seed",
    "batch_rng",
    "sample_batches",
    "sample_and_score",
    "map_batches",
]

#: Smallest default batch; below it, worker overhead outweighs the work.
MIN_BATCH = 256
#: The default splits an iteration into at most this many batches.
MAX_BATCHES = 16


def default_batch_size(n: int) -> int:
    """``max(256, ceil(n / 16))``: at most 16 batches, none smaller than 256 samples.

    The value depends on ``n`` only, so results do not change with ``n_jobs``.
    """
    return max(MIN_BATCH, math.ceil(n / MAX_BATCHES))


def batch_sizes(n: int, batch_size: int | None = None) -> list[int]:
    """Sizes of the consecutive batches that make up ``n`` samples."""
    size = default_batch_size(n) if batch_size is None else int(batch_size)
    if size < 1:
        raise ConfigError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    full, rest = divmod(n, size)
    return [size] * full + ([rest] if rest else [])


RNGLike = None | int | np.integer | np.random.SeedSequence | np.random.Generator


def as_seed_sequence(rng: RNGLike) -> np.random.SeedSequence:
    """The run's root :class:`~numpy.random.SeedSequence` from a SPEC 7 ``rng`` argument.

    ``None`` draws fresh entropy; an integer ``s`` gives ``SeedSequence(s)`` (so a seeded
    run has the same bits whatever spelling is used); a ``SeedSequence`` is used as it is;
    a ``Generator`` contributes 128 bits drawn from it (so it advances, as SPEC 7 asks).

    Raises
    ------
    ConfigError
        For any other type, or a negative integer.
    """
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return rng if rng is not None else np.random.SeedSequence()
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2**32, size=4, dtype=np.uint64).tolist())
    if is_int(rng) and rng >= 0:
        return np.random.SeedSequence(int(rng))
    raise ConfigError(
        "rng must be None, a nonnegative integer, a numpy.random.SeedSequence or a "
        f"numpy.random.Generator, got {rng!r}"
    )


def root_seed(rng: RNGLike, seed: int | None = None) -> np.random.SeedSequence:
    """The root seed of a run given the Python API's ``rng`` or the configs' ``seed``.

    Raises
    ------
    ConfigError
        When both are given.
    """
    if rng is not None and seed is not None:
        raise ConfigError(f"give rng or seed, not both (rng={rng!r}, seed={seed!r})")
    return as_seed_sequence(seed if rng is None else rng)


#: Prefix of the note added to an exception raised by a score function in a batch.
SCORE_NOTE = "raised by the score function in"


def child_seed(seed: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The seed sequence with the run's entropy and spawn key ``seed.spawn_key + key``.

    Every stream of a run is one of these, so it depends on ``(seed, key)`` only; this is
    what makes checkpoints trivial (resuming at iteration ``t`` needs no generator state).
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, *key))


def batch_rng(seed: np.random.SeedSequence, t: int, b: int) -> np.random.Generator:
    """Generator of batch ``b`` in iteration ``t`` (spawn key ``(t, b)``)."""
    return np.random.Generator(np.random.PCG64(child_seed(seed, t, b)))


def map_batches(
    func: Callable[..., Any],
    args: list[tuple[Any, ...]],
    n_jobs: int | None = 1,
    backend: str | None = None,
) -> list[Any]:
    """``[func(*a) for a in args]``, in joblib workers unless ``n_jobs == 1``.

    Results come back in the order of ``args``. ``backend`` is any joblib backend name;
    ``"dask"`` (registered by joblib on first use) sends the batches to the workers of the
    active ``dask.distributed.Client``.
    """
    with single_threaded_blas():
        if (n_jobs in (None, 1) and backend is None) or len(args) == 1:
            return [func(*a) for a in args]
        from joblib import Parallel, delayed

        with backend_config(backend, n_jobs):
            return Parallel()(delayed(_in_worker)(func, *a) for a in args)


def single_threaded_blas() -> Any:
    """Limit BLAS/OpenMP to one thread (a context manager that restores the limits).

    A matrix product's last bits depend on how many threads share it, so every batch is
    computed single-threaded, wherever it runs: in this process (``n_jobs=1``, the
    threading backend) or in a worker process (:func:`_in_worker`). The cores are used
    by running batches in parallel instead.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _in_worker(func: Callable[..., Any], *args: Any) -> Any:
    # Set for good, not restored: a worker may run several batches at once in threads,
    # and a restore by one of them would change the limit under another.
    single_threaded_blas()
    return func(*args)


def backend_config(backend: str | None, n_jobs: int | None = None) -> Any:
    """A ``joblib.parallel_config`` context for ``backend`` (``None``: joblib's default).

    Raises
    ------
    ConfigError
        When joblib cannot use the backend: an unknown name, ``"dask"`` without the
        ``dask`` extra installed or without an active ``dask.distributed.Client``.
    """
    from joblib import parallel_config

    given = {"backend": backend, "n_jobs": n_jobs}
    try:
        return parallel_config(**{k: v for k, v in given.items() if v is not None})
    except (ValueError, ImportError) as exc:
        message = " ".join(str(exc).split())
        hint = " (on the command line: cem run/resume --dask)" if backend == "dask" else ""
        raise ConfigError(f"backend={backend!r} cannot be used: {message}{hint}") from None


def _sample(family: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    return family.sample(n, rng)


def _sample_score(
    family: Any,
    n: int,
    rng: np.random.Generator,
    score: Callable[[np.ndarray], np.ndarray],
    where: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    X = family.sample(n, rng)
    try:
        return X, np.asarray(score(X))
    except Exception as exc:
        # The original exception, type and message kept, tells where it happened.
        if hasattr(exc, "add_note"):
            exc.add_note(f"{SCORE_NOTE} iteration {where[0]}, batch {where[1]}")
        raise


def _batch_args(family: Any, n: int, seed: np.random.SeedSequence, t: int, batch_size: int | None):
    return [(family, nb, batch_rng(seed, t, b)) for b, nb in enumerate(batch_sizes(n, batch_size))]


def sample_batches(
    family: Any,
    n: int,
    seed: np.random.SeedSequence,
    t: int,
    *,
    batch_size: int | None = None,
    n_jobs: int | None = 1,
    backend: str | None = None,
) -> np.ndarray:
    """Draw iteration ``t``'s ``n`` samples from ``family``, batch by batch."""
    parts = map_batches(_sample, _batch_args(family, n, seed, t, batch_size), n_jobs, backend)
    return np.concatenate(parts, axis=0)


def sample_and_score(
    family: Any,
    score: Callable[[np.ndarray], np.ndarray],
    n: int,
    seed: np.random.SeedSequence,
    t: int,
    *,
    batch_size: int | None = None,
    n_jobs: int | None = 1,
    backend: str | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sample iteration ``t``'s batches and score each inside its worker.

    Returns the joined samples and the list of per-batch score arrays (unchecked;
    the caller validates shapes and values). The samples equal those of
    :func:`sample_batches` with the same arguments.
    """
    args = [(*a, score, (t, b)) for b, a in enumerate(_batch_args(family, n, seed, t, batch_size))]
    parts = map_batches(_sample_score, args, n_jobs, backend)
    return np.concatenate([p[0] for p in parts], axis=0), [p[1] for p in parts]
