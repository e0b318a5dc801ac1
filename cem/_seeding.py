"""Seeds of a run: one :class:`numpy.random.SeedSequence` and its children by key.

A run's randomness comes from one root :class:`~numpy.random.SeedSequence`; every stream of
it (batch ``b`` of iteration ``t``, the final run of an estimation, a problem's own
simulation) is the child with the root's entropy and a spawn key, so it depends on
``(seed, key)`` only, never on the order in which streams are drawn or on the number of
workers (SPEC 7, numpy's "Parallel random number generation").
"""

from __future__ import annotations

import numpy as np

from cem._checks import is_int
from cem.errors import ConfigError

__all__ = ["RNGLike", "as_seed_sequence", "batch_rng", "child_seed", "root_seed"]

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


def child_seed(seed: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The seed sequence with the run's entropy and spawn key ``seed.spawn_key + key``.

    Every stream of a run is one of these, so it depends on ``(seed, key)`` only; this is
    what makes checkpoints trivial (resuming at iteration ``t`` needs no generator state).
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, *key))


def batch_rng(seed: np.random.SeedSequence, t: int, b: int) -> np.random.Generator:
    """Generator of batch ``b`` in iteration ``t`` (spawn key ``(t, b)``)."""
    return np.random.Generator(np.random.PCG64(child_seed(seed, t, b)))
