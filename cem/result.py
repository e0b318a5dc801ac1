"""The result types of cem: one base for optimizations and estimations.

Both are dictionaries with attribute access, in the spirit of
:class:`scipy.optimize.OptimizeResult`, and share the keys

============  ==============================================================
``nit``       iterations (levels, for an estimation) run
``nfev``      score evaluations
``message``   why the run ended, in words
``success``   whether the run converged (optimization) or produced a usable
              estimate (estimation)
``status``    the stopping criterion's name (``"stall"``, ``"max_iter"``, ...)
``seconds``   wall-clock seconds of the run
============  ==============================================================

:class:`OptimizeResult` adds ``x`` and ``fun``; :class:`EstimateResult` adds ``estimate``
and its error bars. Both print a one-screen summary that shows the solution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EstimateResult", "OptimizeResult", "Result", "gap_kind", "level_line"]


def _short(value: Any) -> str:
    """A value as it appears in a result's repr: long arrays elided in numpy's way."""
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=20, edgeitems=5, max_line_width=88)
    if isinstance(value, float):
        return f"{value:.10g}"
    return repr(value)


class Result(dict[str, Any]):
    """Base of every cem result: a ``dict`` whose keys are also attributes.

    Attributes
    ----------
    nit : int
        Iterations (or levels) run.
    nfev : int
        Score evaluations.
    message : str
        Why the run ended.
    success : bool
        Whether the run converged or produced a usable answer.
    status : str
        Name of the criterion that ended the run.
    seconds : float
        Wall-clock seconds.
    """

    #: Keys shown first by ``repr``, in this order; the others follow, except the bulky ones.
    _shown: tuple[str, ...] = ()
    _hidden: tuple[str, ...] = ("history", "family", "levels", "stop")

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        del self[name]

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.keys()))

    def __repr__(self) -> str:
        order = [k for k in self._shown if k in self]
        order += sorted(k for k in self if k not in order and k not in self._hidden)
        width = max((len(k) for k in order), default=0)
        lines = [f"{k.rjust(width)}: {_short(self[k])}".replace("\n", "\n" + " " * (width + 2))
                 for k in order]  # fmt: skip
        hidden = [k for k in self._hidden if k in self]
        if hidden:
            lines.append(f"{'':>{width}}  (also: {', '.join(hidden)})")
        return f"{type(self).__name__}\n" + "\n".join(lines)

    __str__ = __repr__


class OptimizeResult(Result):
    """Outcome of a CE optimization.

    Attributes
    ----------
    x : ndarray
        Best point found.
    fun : float
        Its score.
    nit, nfev, message, success, status, seconds
        As in :class:`Result`; ``success`` is true when a convergence criterion fired
        (not a budget or a time limit).
    stop : dict
        Every stopping criterion that fired, name → explanation.
    family : Family
        The final sampling family.
    history : History
        One record per iteration.
    known_optimum, gap : float or None
        The problem's known optimum, and the relative gap ``|fun - opt| / |opt|`` (the
        absolute gap ``|fun - opt|`` when ``opt = 0``: see :func:`gap_kind`).
    sense : {"max", "min"}
    seed : int
        Entropy of the run's :class:`numpy.random.SeedSequence`.
    """

    _shown = ("x", "fun", "known_optimum", "gap", "success", "status", "message", "nit", "nfev")

    @property
    def stop_reason(self) -> str:
        """The first stopping criterion's name (the same as ``status``)."""
        return str(self["status"])


class EstimateResult(Result):
    r"""An estimate of a (rare-event) probability with its error bars.

    Attributes
    ----------
    estimate, log_estimate : float
        :math:`\hat\ell` and :math:`\log \hat\ell` (``-inf`` when no hit).
    std_error, rel_error : float
        Standard error and relative error :math:`\widehat{SE} / \hat\ell`.
    ci : tuple of float
        95% normal confidence interval, clipped at 0.
    ess : float
        Effective sample size :math:`(\sum W_k)^2 / \sum W_k^2` over the hits.
    hits : int
        Final samples in the event.
    n_final : int
        Samples of the final run.
    levels : list of LevelRecord
        The multilevel CE's thresholds and fitted parameters.
    method : str
        ``"ce-is"`` or ``"crude"``.
    family : Family
        The importance-sampling family of the final run.
    nit, nfev, message, success, status, seconds
        As in :class:`Result`; ``success`` is false when the final run saw no hit.
    """

    _shown = ("estimate", "std_error", "rel_error", "ci", "success", "status", "message",
              "method", "nit", "nfev")  # fmt: skip

    @property
    def no_hit(self) -> bool:
        """Whether the final run saw no sample in the event."""
        return int(self["hits"]) == 0

    def format_table(self) -> str:
        """The level table (t, gamma_t, parameters) and the summary, as in the CE tutorial."""
        lines = [level_line(lv, header=k == 0) for k, lv in enumerate(self.levels)]
        return "\n".join([*lines, self.summary()])

    def summary(self) -> str:
        """One line: the estimate, its relative error and interval, hits and cost."""
        if self.no_hit:
            return f"{self.method}: no hit in {self.n_final} samples ({self.seconds:.2f} s)"
        return (
            f"{self.method}: estimate {self.estimate:.6g} (log {self.log_estimate:.6g}), "
            f"RE {self.rel_error:.3g}, 95% CI [{self.ci[0]:.6g}, {self.ci[1]:.6g}], "
            f"{self.hits} hits of {self.n_final}, {self.nfev} evaluations, "
            f"{self.seconds:.2f} s"
        )


def gap_kind(known_optimum: float) -> str:
    """How :attr:`OptimizeResult.gap` is measured: ``"relative"``, ``|f - f*| / |f*|``, or
    ``"absolute"``, ``|f - f*|``, for a known optimum ``f* = 0`` (where a ratio is undefined)."""
    return "absolute" if known_optimum == 0 else "relative"


def level_line(level: Any, header: bool = False) -> str:
    """One row of a level table: ``t``, ``gamma_t`` and the fitted parameters."""
    text = "  ".join(
        f"{k}=" + np.array2string(np.asarray(v), precision=4, max_line_width=1000)
        for k, v in level.params.items()
    )
    line = f"{level.t:>4} {level.gamma:>12.6g}  {text}"
    return f"{'t':>4} {'gamma_t':>12}  parameters\n{line}" if header else line
