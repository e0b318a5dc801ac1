"""The :class:`Problem` interface and the adaptor that turns a callable into one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cem.errors import ConfigError
from cem.families import Family

__all__ = [
    "SENSES",
    "format_array",
    "index_ranges",
    "FunctionProblem",
    "Problem",
    "as_problem",
    "check_family",
    "check_family_type",
]

SENSES = ("max", "min")


def format_array(x: Any, width: int = 88) -> str:
    """An array on a few lines: at most 20 entries shown, the rest elided as ``...``."""
    a = np.asarray(x)
    if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
        a = a.astype(np.int64)  # 0/1 vectors and integer points print as integers
    return np.array2string(a, threshold=20, edgeitems=5, max_line_width=width, precision=6)


def index_ranges(indices: Any, width: int = 60) -> str:
    """Sorted integers as ranges, ``[0-3, 7, 9-12]``, cut at about ``width`` characters.

    Examples
    --------
    >>> index_ranges([0, 1, 2, 3, 7, 9, 10, 11, 12])
    '[0-3, 7, 9-12]'
    """
    idx = np.unique(np.asarray(indices, dtype=np.int64))
    if idx.size == 0:
        return "[]"
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts, ends = idx[np.r_[0, breaks + 1]], idx[np.r_[breaks, idx.size - 1]]
    parts: list[str] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if sum(len(p) + 2 for p in parts) > width:
            parts.append(f"... ({len(starts) - len(parts)} more ranges)")
            break
        parts.append(str(a) if a == b else f"{a}-{b}")
    return "[" + ", ".join(parts) + "]"


class Problem:
    """An objective over a batch of candidates; knows nothing of CE.

    Subclasses implement :meth:`score` (vectorized: ``(N, ...) -> (N,)``) and
    :meth:`initial_family`, and set :attr:`sense`. Optional: :attr:`known_optimum`,
    :attr:`family_types`, :attr:`score_label`, :attr:`search_keys`, :meth:`polish` (a
    local search), :meth:`default_options`, :meth:`plot_solution`,
    :meth:`format_solution`, :meth:`parameter_axes`, :meth:`describe`, and
    ``write_solution(x, folder)``, which writes the best solution in the problem's own file
    formats into a run directory (an alignment as FASTA).
    """

    #: ``"max"`` or ``"min"``.
    sense: Literal["max", "min"] = "max"
    #: Optimal (or best-known) score, when known.
    known_optimum: float | None = None
    #: The family classes whose samples :meth:`score` understands.
    family_types: tuple[type[Family], ...] = (Family,)
    #: What the score is, for plot labels and summaries ("cut weight", "tour length").
    score_label: str = "score"
    #: Config keys that choose how the problem is searched (a local search, the starting
    #: family), not the instance: ``cem plot`` overlays runs that differ only in them.
    search_keys: tuple[str, ...] = ()

    def default_options(self) -> dict[str, Any]:
        """Optimizer options that suit this problem, merged under the user's options."""
        return {}

    def plot_solution(self, x: np.ndarray, ax: Any) -> None:
        """Draw the solution ``x`` (a tour, a partition, ...) on the matplotlib axes ``ax``."""
        raise NotImplementedError(f"{type(self).__name__} has no picture of a solution")

    def write_solution(self, x: np.ndarray, folder: Path) -> None:
        """Write the best solution ``x`` in the problem's own file formats into ``folder``
        (a run directory), for example an alignment as FASTA; by default nothing."""

    def format_solution(self, x: np.ndarray) -> str:
        """The solution ``x`` in the problem's own terms, compactly, for a console summary.

        The default shows the array with long ones elided (numpy's summarization);
        problems override it to name what ``x`` means (a cut's sides, a tour, an allocation).
        """
        return format_array(x)

    def parameter_axes(self, name: str) -> tuple[list[str], str] | None:
        """For the heat map of a matrix family parameter ``name`` (one categorical row per
        coordinate): the name of each row and what the columns index, or ``None``."""
        return None

    @property
    def can_plot(self) -> bool:
        """Whether :meth:`plot_solution` is implemented."""
        return type(self).plot_solution is not Problem.plot_solution

    def score(self, X: np.ndarray) -> np.ndarray:
        """Scores of the ``N`` candidates in ``X``, shape ``(N,)``."""
        raise NotImplementedError

    def initial_family(self) -> Family:
        """The default starting family."""
        raise NotImplementedError(f"{type(self).__name__} has no default family; pass one")

    def polish(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Improve candidates by local search; returns new candidates and their scores.

        The search must be deterministic (the same candidate always gives the same
        result): with ``polish="elite"`` each distinct elite candidate is polished once.
        """
        raise NotImplementedError(f"{type(self).__name__} has no local search (polish)")

    @property
    def can_polish(self) -> bool:
        """Whether :meth:`polish` is implemented."""
        return type(self).polish is not Problem.polish

    def describe(self) -> str:
        """A one-line description."""
        doc = (type(self).__doc__ or type(self).__name__).strip()
        return doc.splitlines()[0]


class FunctionProblem(Problem):
    """A plain callable as a :class:`Problem`.

    Parameters
    ----------
    func : callable
        ``func(X) -> (N,)`` scores when ``vectorized`` (the default), otherwise
        ``func(x) -> float`` called once per row.
    family : Family, optional
        The starting family.
    sense : {"max", "min"}
    vectorized : bool, default True
    known_optimum : float, optional
    """

    def __init__(
        self,
        func: Callable[[np.ndarray], Any],
        family: Family | None = None,
        sense: Literal["max", "min"] = "max",
        vectorized: bool = True,
        known_optimum: float | None = None,
    ) -> None:
        if not callable(func):
            raise ConfigError(f"the objective must be callable, got {type(func).__name__}")
        if sense not in SENSES:
            raise ConfigError(f"sense must be 'max' or 'min', got {sense!r}")
        self.func, self.family, self.sense = func, family, sense
        self.vectorized, self.known_optimum = vectorized, known_optimum

    def score(self, X: np.ndarray) -> np.ndarray:
        if self.vectorized:
            return self.func(X)
        return np.array([self.func(x) for x in X], dtype=float)

    def initial_family(self) -> Family:
        if self.family is None:
            raise ConfigError("a callable objective needs a family (e.g. family=Normal(mu, sigma))")
        return self.family

    def describe(self) -> str:
        return f"function {getattr(self.func, '__name__', repr(self.func))}"


def as_problem(
    obj: Problem | Callable[[np.ndarray], Any],
    family: Family | None = None,
    sense: Literal["max", "min"] | None = None,
) -> Problem:
    """Wrap a callable in a :class:`FunctionProblem`; check a :class:`Problem`'s sense."""
    if isinstance(obj, Problem):
        if sense is not None and sense != obj.sense:
            raise ConfigError(
                f"{type(obj).__name__} is a {obj.sense}imization problem; "
                f"it cannot be solved with sense={sense!r}"
            )
        if obj.sense not in SENSES:
            raise ConfigError(
                f"{type(obj).__name__}.sense must be 'max' or 'min', got {obj.sense!r}"
            )
        return obj
    return FunctionProblem(obj, family, sense or "max")


def check_family_type(problem: Any, kind: type) -> None:
    """Refuse a family class that is not among ``problem.family_types``.

    Raises
    ------
    ConfigError
        ``"problem P cannot score samples of a K family; accepted families: ..."``.
    """
    accepted = getattr(problem, "family_types", (Family,))
    if not issubclass(kind, accepted):
        kinds = ", ".join(t.__name__ for t in accepted)
        raise ConfigError(
            f"problem {type(problem).__name__} cannot score samples of a {kind.__name__} "
            f"family; accepted families: {kinds}"
        )


def check_family(problem: Any, family: Family) -> None:
    """Refuse a family whose samples the problem cannot score.

    The family must be an instance of one of ``problem.family_types`` and, when the
    problem has a default family, have its event shape.

    Raises
    ------
    ConfigError
        One line naming the problem, the family and the accepted kinds.
    """
    if not isinstance(family, Family):
        raise ConfigError(
            f"family must be a cem Family instance from cem.families (e.g. "
            f"Bernoulli(np.full(n, 0.5)) or Normal(mean, sigma)), got "
            f"{type(family).__name__} {family!r:.40}"
        )
    check_family_type(problem, type(family))
    name = type(problem).__name__
    try:
        default = (
            problem.importance_family()
            if hasattr(problem, "importance_family")
            else problem.initial_family()
        )
    except (NotImplementedError, ConfigError):
        return
    if default is not family and default.event_shape != family.event_shape:
        raise ConfigError(
            f"problem {name} needs samples of shape {default.event_shape}; the "
            f"{type(family).__name__} family draws shape {family.event_shape}"
        )
