"""The result object returned by every CE run."""

from __future__ import annotations

from typing import Any

__all__ = ["CEMResult"]


class CEMResult(dict):
    """Outcome of a CE optimization, a dict with attribute access.

    In the spirit of :class:`scipy.optimize.OptimizeResult`.

    Attributes
    ----------
    x : ndarray
        Best point found.
    fun : float
        Its score.
    nit : int
        Iterations run.
    nfev : int
        Score evaluations.
    stop : dict
        The stopping criteria that fired, name → explanation.
    message : str
        The explanations joined; ``stop_reason`` is the first criterion's name.
    success : bool
        True when a convergence criterion fired (not a budget or time limit).
    family : Family
        The final sampling family.
    history : History
        One record per iteration.
    known_optimum, gap : float or None
        The problem's known optimum, and the relative gap ``|fun - opt| / |opt|``.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__  # type: ignore[assignment]
    __delattr__ = dict.__delitem__  # type: ignore[assignment]

    def __dir__(self) -> list[str]:
        return list(self.keys())

    def __repr__(self) -> str:
        keys = ("fun", "nit", "nfev", "stop_reason", "success", "known_optimum", "gap")
        body = ", ".join(f"{k}={self[k]!r}" for k in keys if k in self)
        return f"CEMResult({body})"
