r"""Batched, reproducible sampling and scoring: in-process, joblib workers or a Dask cluster.

One iteration's ``N`` samples are split into batches whose sizes depend only on
``N``, the family's event size and ``batch_size``, never on the number of workers.
Batch ``b`` of iteration ``t`` draws from its own generator, seeded by the
:class:`numpy.random.SeedSequence` with the run's entropy and spawn key ``(t, b)``.
The batches are sampled and scored independently and joined in order, so a seeded
run gives the same samples and scores to the bit in-process, in joblib workers
(``n_jobs = 2, -1``, any joblib backend) or on a Dask cluster (``backend="dask"``).

A :class:`BatchRunner` carries out the batches of a whole run and pays its fixed
costs once: it finds the BLAS libraries once (a :class:`threadpoolctl.ThreadpoolController`),
limits each worker process to one BLAS thread once, and sends the problem to a Dask
cluster's workers once (``Client.scatter(..., broadcast=True)``), after which each
batch carries only the family, its size and its seed. Every batch runs with
single-threaded BLAS, since a matrix product's rounding depends on the number of
threads that share it; the cores are used by running batches side by side.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import pickle
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from cem._seeding import batch_rng
from cem.errors import BatchError, ConfigError, InvalidScoreError

__all__ = [
    "BatchRunner",
    "backend_config",
    "single_threaded_blas",
    "default_batch_size",
    "batch_sizes",
    "batch_args",
    "sample_batches",
    "sample_and_score",
]

#: Smallest default batch; below it, worker overhead outweighs the work.
MIN_BATCH = 256
#: The default splits an iteration into at most this many batches ...
MAX_BATCHES = 16
#: ... unless a batch would then hold more than this many numbers (32 MB of float64).
MAX_BATCH_NUMBERS = 2**22
#: With ``n_jobs != 1`` and joblib's default backend, an iteration whose batches take
#: less than this many seconds in-process stays in-process (workers would not pay off).
IN_PROCESS_SECONDS = 0.25


def default_batch_size(n: int, event_size: int = 1) -> int:
    """``max(256, min(ceil(n / 16), 2**22 // event_size))`` samples.

    At most 16 batches, none smaller than 256 samples, none holding more than
    ``2**22`` numbers (so an iteration's memory is bounded whatever ``n``). The value
    depends on ``n`` and the family's event size only, so results do not change
    with ``n_jobs``.
    """
    cap = MAX_BATCH_NUMBERS // max(1, int(event_size))
    return max(MIN_BATCH, min(math.ceil(n / MAX_BATCHES), cap))


def batch_sizes(n: int, batch_size: int | None = None, event_size: int = 1) -> list[int]:
    """Sizes of the consecutive batches that make up ``n`` samples."""
    size = default_batch_size(n, event_size) if batch_size is None else int(batch_size)
    if size < 1:
        raise ConfigError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    full, rest = divmod(n, size)
    return [size] * full + ([rest] if rest else [])


def single_threaded_blas() -> Any:
    """Limit BLAS/OpenMP to one thread (a context manager that restores the limits).

    A matrix product's last bits depend on how many threads share it, so every batch is
    computed single-threaded, wherever it runs. This looks the libraries up afresh
    (about half a millisecond); a :class:`BatchRunner` does it once per run.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def backend_config(backend: str | None, n_jobs: int | None = None) -> Any:
    """A ``joblib.parallel_config`` context for ``backend`` (``None``: joblib's default).

    Raises
    ------
    ConfigError
        When joblib cannot use the backend: an unknown name, ``"dask"`` without the
        ``dask`` extra installed or without an active ``dask.distributed.Client``.
    """
    from joblib import parallel_config
    from joblib.parallel import BACKENDS

    given = {"backend": backend, "n_jobs": n_jobs}
    try:
        config = parallel_config(**{k: v for k, v in given.items() if v is not None})
    except (ValueError, ImportError) as exc:
        message = " ".join(str(exc).split())
        hint = " (on the command line: cem run/resume --dask)" if backend == "dask" else ""
        raise ConfigError(f"backend={backend!r} cannot be used: {message}{hint}") from None
    kind = BACKENDS.get(backend) if backend != "dask" else None
    if kind is not None and not kind().supports_return_generator:
        usable = [n for n, k in BACKENDS.items() if n != "dask" and k().supports_return_generator]
        raise ConfigError(
            f"backend={backend!r} cannot be used: cem takes each batch as it finishes, which "
            f"joblib's {backend!r} backend does not support; accepted: None (joblib's default), "
            f"{', '.join(map(repr, usable))} or 'dask'"
        )
    return config


# ---------------------------------------------------------------------- batch tasks
# Module-level functions, so that they pickle by reference into workers.

#: Process id of a worker whose BLAS is already limited to one thread.
_LIMITED_PID: int | None = None


def _run_batch(task: Callable[..., Any], t: int, b: int, owner: int, *args: Any) -> Any:
    """``task(*args)`` for batch ``b`` of iteration ``t``, wherever it runs.

    In a worker process (not the runner's process ``owner``) BLAS is limited to one
    thread for good, once per process: a worker may run several batches in threads, and
    a restore by one of them would change the limit under another. An exception of the
    objective comes back as a one-line :class:`~cem.errors.BatchError` naming ``t``
    and ``b``; the score checks' own :class:`~cem.errors.InvalidScoreError` passes as is.
    """
    global _LIMITED_PID
    pid = os.getpid()
    if pid != owner and _LIMITED_PID != pid:
        single_threaded_blas()
        _LIMITED_PID = pid
    try:
        return task(*args)
    except InvalidScoreError:
        raise
    except Exception as exc:
        raise _batch_error(exc, t, b, traceback.format_exc()) from None


def _batch_error(exc: BaseException, t: int, b: int, remote: str = "") -> BatchError:
    original: BaseException | None = exc
    try:
        pickle.dumps(exc)
    except Exception:  # the error must travel back from a worker: keep its text only
        original = None
    return BatchError(
        iteration=t,
        batch=b,
        kind=type(exc).__name__,
        reason=" ".join(str(exc).split()),
        original=original,
        remote_traceback=remote,
    )


def _sample(family: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    return family.sample(n, rng)


def _sample_score(
    score: Callable[[np.ndarray], Any], family: Any, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, Any]:
    X = family.sample(n, rng)
    return X, np.asarray(score(X))


#: joblib backends whose workers are other processes on this machine (``None``: the default).
_PROCESS_BACKENDS = (None, "loky", "multiprocessing")
#: The objective a worker process loaded last, by file path (see :class:`_FileScore`).
_LOADED: dict[str, Callable[[np.ndarray], Any]] = {}


class _FileScore:
    """The objective, pickled once per run to a file that worker processes load once.

    Only the path travels with each batch; each worker process unpickles the objective
    (and its read-only data: matrices, graphs) on its first batch of the run.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def write(cls, score: Callable[[np.ndarray], Any]) -> _FileScore:
        import tempfile

        try:
            import cloudpickle  # a dependency of joblib >= 1.5
        except ImportError:  # older joblib releases carry their own copy
            from joblib.externals import cloudpickle

        fd, path = tempfile.mkstemp(prefix="cem-objective-", suffix=".pkl")
        with os.fdopen(fd, "wb") as f:
            f.write(cloudpickle.dumps(score))
        return cls(path)

    def __call__(self, X: np.ndarray) -> Any:
        score = _LOADED.get(self.path)
        if score is None:
            with open(self.path, "rb") as f:
                score = pickle.load(f)
            _LOADED.clear()  # one run's objective at a time
            _LOADED[self.path] = score
        return score(X)

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            os.remove(self.path)


# ---------------------------------------------------------------------- the runner
class BatchRunner:
    """Runs the batches of every iteration of a run: in-process, joblib workers or Dask.

    Parameters
    ----------
    score : callable, optional
        The objective ``S(X) -> (n,)``, with the read-only problem data it holds. On a
        Dask cluster it is sent to every worker once (``scatter(broadcast=True)``);
        with joblib's process backends, it is pickled once to a temporary file that each
        worker process loads on its first batch of the run.
    n_jobs : int
        Workers (``-1``: all cores). With ``n_jobs=1`` and no ``backend`` the batches
        run in this process: no pool, no pickling.
    backend : str, optional
        ``None`` (joblib's default, chosen automatically: in-process while an
        iteration's batches take less than :data:`IN_PROCESS_SECONDS` in-process,
        else worker processes), any joblib backend name (``"loky"``, ``"threading"``,
        ...), or ``"dask"`` for the workers of the active ``dask.distributed.Client``.
    batch_timeout : float, optional
        Seconds to wait for each batch's result before a :class:`~cem.errors.BatchError`
        (workers only: a batch running in this process cannot be interrupted).

    Attributes
    ----------
    bytes_scattered : int
        Pickled size of what was sent to the Dask workers once (the objective).
    bytes_sent : int
        Pickled size of the per-batch task arguments sent to the Dask workers so far.

    Notes
    -----
    Results are the same to the bit in every mode: a batch's samples depend on its seed
    only, and every batch runs with single-threaded BLAS.

    Examples
    --------
    >>> import numpy as np
    >>> from cem.families import Normal
    >>> seed = np.random.SeedSequence(0)
    >>> here = sample_batches(Normal(np.zeros(3), 1.0), 600, seed, t=1,
    ...                       runner=BatchRunner())
    >>> threads = sample_batches(Normal(np.zeros(3), 1.0), 600, seed, t=1,
    ...                          runner=BatchRunner(n_jobs=2, backend="threading"))
    >>> here.shape, bool(np.array_equal(here, threads))
    ((600, 3), True)
    """

    def __init__(
        self,
        score: Callable[[np.ndarray], Any] | None = None,
        *,
        n_jobs: int | None = 1,
        backend: str | None = None,
        batch_timeout: float | None = None,
    ) -> None:
        self.score = score
        self.n_jobs = 1 if n_jobs is None else n_jobs
        self.backend = backend
        self.batch_timeout = batch_timeout
        self.in_process = self.n_jobs == 1 and backend is None
        if self.in_process and batch_timeout is not None:
            raise ConfigError(
                f"batch_timeout={batch_timeout!r} needs worker processes: a batch running "
                "in this process cannot be interrupted (set n_jobs or backend)"
            )
        # joblib's default backend with n_jobs != 1: in-process until it pays to switch.
        self.auto = backend is None and not self.in_process and batch_timeout is None
        self.use_workers = not self.in_process and not self.auto
        self.bytes_scattered = 0
        self.bytes_sent = 0
        self._controller: Any = None
        self._client: Any = None
        self._scattered: Any = None
        self._shared: _FileScore | None = None

    # .................................................................. public
    def map(
        self, task: Callable[..., Any], t: int, args: Sequence[tuple[Any, ...]]
    ) -> Iterator[Any]:
        """``task(*a)`` for each batch's arguments ``a``, yielded in order, as they finish.

        A task whose first argument is :attr:`score` gets the workers' own copy of it
        on a Dask cluster. Consume the iterator to the end (or close it).

        Raises
        ------
        BatchError
            When a batch raises (one line naming the iteration, the batch, the
            original exception's type and message; the exception is kept as
            ``original``), a Dask worker is lost for good, or ``batch_timeout`` passes.
        """
        with self._blas_limit():
            if self.use_workers and self.backend == "dask":
                yield from self._dask(task, t, args)
            elif self.use_workers:
                yield from self._joblib(task, t, args, 0)
            else:
                yield from self._here(task, t, args)

    def close(self) -> None:
        """Release the workers' copy of the objective (the runner stays usable)."""
        self._release_scattered()
        if self._shared is not None:
            self._shared.remove()
            self._shared = None

    # .................................................................. modes
    def _blas_limit(self) -> Any:
        # Finding the BLAS libraries costs ~0.5 ms; limiting the ones found costs ~30 us.
        if self._controller is None:
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController()
        return self._controller.limit(limits=1)

    def _here(self, task: Callable[..., Any], t: int, args: Sequence[tuple[Any, ...]]):
        owner = os.getpid()
        start = time.perf_counter()
        for b, a in enumerate(args):
            try:
                result = _run_batch(task, t, b, owner, *a)
            except BatchError as exc:
                raise exc.with_traceback(None) from None
            yield result
            if self.auto and b == 0 and len(args) > 1:
                # Batch 0 predicts the iteration's in-process time; the rest of this
                # iteration and every later one go to the workers when they pay off.
                if (time.perf_counter() - start) * len(args) > IN_PROCESS_SECONDS:
                    self.use_workers = True
                    yield from self._joblib(task, t, args[1:], 1)
                    return

    def _joblib(
        self, task: Callable[..., Any], t: int, args: Sequence[tuple[Any, ...]], first: int
    ) -> Iterator[Any]:
        from joblib import Parallel, delayed

        owner = os.getpid()
        if self.score is not None and self.backend in _PROCESS_BACKENDS:
            if self._shared is None:
                self._shared = _FileScore.write(self.score)
            args = [(self._shared, *a[1:]) if a and a[0] is self.score else a for a in args]
        with backend_config(self.backend, self.n_jobs):
            results = Parallel(return_as="generator", timeout=self.batch_timeout)(
                delayed(_run_batch)(task, t, first + i, owner, *a) for i, a in enumerate(args)
            )
            try:
                for b in range(first, first + len(args)):
                    try:
                        result = next(results)
                    except (BatchError, InvalidScoreError) as exc:
                        raise exc.with_traceback(None) from None
                    except (TimeoutError, multiprocessing.TimeoutError):
                        raise _timeout(t, b, self.batch_timeout) from None
                    yield result
            finally:
                results.close()

    def _dask(
        self, task: Callable[..., Any], t: int, args: Sequence[tuple[Any, ...]]
    ) -> Iterator[Any]:
        from distributed import get_client

        if self._client is None:
            self._client = get_client()
        client = self._client
        futures = self._submit(task, t, args, 0)
        lost = 0
        try:
            b = 0
            while b < len(futures):
                try:
                    result = futures[b].result(timeout=self.batch_timeout)
                except (BatchError, InvalidScoreError) as exc:
                    raise exc.with_traceback(None) from None
                except TimeoutError:
                    raise _timeout(t, b, self.batch_timeout) from None
                except Exception as exc:
                    if not _lost_data(exc) or lost >= MAX_RESCATTERS or not _has_workers(client):
                        raise _batch_error(exc, t, b) from None  # e.g. distributed.KilledWorker
                    # The workers that held the problem are gone: send it to the ones left
                    # and run the unfinished batches again (same seeds, same results).
                    lost += 1
                    client.cancel(futures[b:])
                    self._release_scattered()
                    futures[b:] = self._submit(task, t, args[b:], b)
                    continue
                futures[b].release()
                yield result
                b += 1
        finally:
            client.cancel(futures)

    def _submit(
        self, task: Callable[..., Any], t: int, args: Sequence[tuple[Any, ...]], first: int
    ) -> list[Any]:
        """Submit batches ``first, first + 1, ...`` to the cluster (the problem scattered
        to every worker first, once)."""
        import cloudpickle

        client, owner = self._client, os.getpid()
        if self._scattered is None and self.score is not None:
            self._scattered = client.scatter(self.score, broadcast=True, hash=False)
            self.bytes_scattered += len(cloudpickle.dumps(self.score))
        futures = []
        for b, a in enumerate(args, start=first):
            if self.score is not None and a and a[0] is self.score:
                a = (self._scattered, *a[1:])
                self.bytes_sent += len(cloudpickle.dumps((task, t, b, a[1:])))
            else:
                self.bytes_sent += len(cloudpickle.dumps((task, t, b, a)))
            futures.append(client.submit(_run_batch, task, t, b, owner, *a, pure=False))
        return futures

    def _release_scattered(self) -> None:
        if self._scattered is not None:
            with contextlib.suppress(Exception):
                self._scattered.release()
            self._scattered = None


#: Times an iteration re-sends the problem to a Dask cluster after its copies were lost.
MAX_RESCATTERS = 5


def _lost_data(exc: BaseException) -> bool:
    """Whether a Dask error means the scattered problem (not the batch) was lost: its
    future was cancelled or forgotten when the workers holding it died."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):  # the batch itself kills workers: do not retry
        return False
    text = f"{type(exc).__name__}: {exc}".lower()
    return "cancelled" in text or "forgotten" in text or "lost" in text


def _has_workers(client: Any) -> bool:
    """Whether the cluster still has a worker, waiting briefly for restarted ones."""
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if client.scheduler_info().get("workers"):
                return True
        time.sleep(0.2)
    return False


def _timeout(t: int, b: int, seconds: float | None) -> BatchError:
    return BatchError(iteration=t, batch=b, kind="TimeoutError",
                      reason=f"no result within batch_timeout={seconds} seconds")  # fmt: skip


# ---------------------------------------------------------------------- whole iterations
def batch_args(
    family: Any, n: int, seed: np.random.SeedSequence, t: int, batch_size: int | None
) -> list[tuple[Any, int, np.random.Generator]]:
    """``(family, n_b, rng_b)`` of each batch of iteration ``t``."""
    sizes = batch_sizes(n, batch_size, math.prod(family.event_shape))
    return [(family, nb, batch_rng(seed, t, b)) for b, nb in enumerate(sizes)]


def sample_batches(
    family: Any,
    n: int,
    seed: np.random.SeedSequence,
    t: int,
    *,
    batch_size: int | None = None,
    n_jobs: int | None = 1,
    backend: str | None = None,
    runner: BatchRunner | None = None,
) -> np.ndarray:
    """Draw iteration ``t``'s ``n`` samples from ``family``, batch by batch."""
    own = runner is None
    runner = runner or BatchRunner(n_jobs=n_jobs, backend=backend)
    try:
        parts = list(runner.map(_sample, t, batch_args(family, n, seed, t, batch_size)))
    finally:
        if own:
            runner.close()
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
    runner: BatchRunner | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sample iteration ``t``'s batches and score each inside its worker.

    Returns the joined samples and the list of per-batch score arrays (unchecked;
    the caller validates shapes and values). The samples equal those of
    :func:`sample_batches` with the same arguments.
    """
    own = runner is None
    runner = runner or BatchRunner(score, n_jobs=n_jobs, backend=backend)
    args = [(score, *a) for a in batch_args(family, n, seed, t, batch_size)]
    try:
        parts = list(runner.map(_sample_score, t, args))
    finally:
        if own:
            runner.close()
    return np.concatenate([p[0] for p in parts], axis=0), [p[1] for p in parts]
