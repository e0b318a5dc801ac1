"""A progress bar for long runs on a terminal: tqdm when installed, a plain line otherwise.

The fraction done is the largest of the budgets' fractions,

.. math:: \\max\\left(\\frac{t}{\\text{max\\_iter}}, \\frac{\\text{evals}}{\\text{max\\_evals}},
          \\frac{\\text{seconds}}{\\text{max\\_time}}\\right),

over the budgets that are set; a run stopped early by a convergence rule (stall,
degenerate family, target) simply ends before the bar is full. The bar appears only
after :attr:`ProgressBar.delay` seconds and only on a terminal, so short runs, pipes and
log files never see it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import IO, Any

__all__ = ["ProgressBar", "budget_fraction"]


def budget_fraction(t: int, evals: int, seconds: float, options: Mapping[str, Any]) -> float:
    """The fraction of the run's budget spent: the largest of the set budgets' fractions.

    Examples
    --------
    >>> budget_fraction(10, 5000, 3.0, {"max_iter": 100, "max_evals": 10_000, "max_time": None})
    0.5
    """
    parts = [t / options["max_iter"]]
    if options.get("max_evals"):
        parts.append(evals / options["max_evals"])
    if options.get("max_time"):
        parts.append(seconds / options["max_time"])
    return min(1.0, max(parts))


class ProgressBar:
    """Shows :func:`budget_fraction` after each iteration; a callback of the optimizer.

    Parameters
    ----------
    options : mapping
        The run's resolved options (``max_iter``, ``max_evals``, ``max_time``).
    file : file-like, optional
        Where the bar is drawn (default ``sys.stderr``); nothing is drawn unless it is
        a terminal.
    delay : float
        Seconds before the bar first appears.

    Notes
    -----
    Lines printed through :meth:`write` (the per-iteration table) clear the bar first,
    so the table and the bar never share a line.
    """

    #: Width of the plain bar, in characters.
    width = 30

    def __init__(
        self, options: Mapping[str, Any], file: IO[str] | None = None, delay: float = 2.0
    ) -> None:
        self.options, self.file, self.delay = options, file or sys.stderr, delay
        self.enabled = bool(getattr(self.file, "isatty", lambda: False)())
        self._start = time.perf_counter()
        self._tqdm: Any = None
        self._shown = False

    def __call__(self, opt: Any) -> None:
        """Update the bar from an optimizer (``t``, ``evals``, the last record's seconds)."""
        seconds = opt.history[-1].seconds if len(opt.history) else 0.0
        self.update(budget_fraction(opt.t, opt.evals, seconds, self.options), opt.t)

    def update(self, fraction: float, t: int) -> None:
        """Draw ``fraction`` (in [0, 1]) after iteration ``t``."""
        if not self.enabled or time.perf_counter() - self._start < self.delay:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            if self._tqdm is None:
                self._tqdm = tqdm(
                    total=1000,
                    file=self.file,
                    unit="‰",
                    leave=False,
                    mininterval=0,
                    bar_format="{l_bar}{bar}| {elapsed}<{remaining}",
                )
            self._tqdm.set_description_str(f"t={t}", refresh=False)
            self._tqdm.update(int(1000 * fraction) - self._tqdm.n)
            return
        filled = round(self.width * fraction)
        bar = "#" * filled + "." * (self.width - filled)
        self.file.write(f"\r[{bar}] {100 * fraction:5.1f}%  t={t}")
        self.file.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the plain bar's line (tqdm clears its own)."""
        if self._shown:
            self.file.write("\r\033[K")
            self.file.flush()
            self._shown = False

    def write(self, text: str, stream: IO[str] | None = None) -> None:
        """Print a line of ``text`` to ``stream`` (default stdout) without breaking the bar."""
        if self._tqdm is not None:
            self._tqdm.write(text, file=stream or sys.stdout)
            return
        self.clear()
        print(text, file=stream or sys.stdout, flush=True)

    def stream(self, target: IO[str] | None = None) -> IO[str]:
        """A file-like whose lines go to ``target`` (default stdout) through :meth:`write`."""
        return _LineWriter(self, target)  # type: ignore[return-value]

    def close(self) -> None:
        """Remove the bar."""
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        self.clear()


class _LineWriter:
    """Collects written text and passes each complete line to :meth:`ProgressBar.write`."""

    def __init__(self, bar: ProgressBar, target: IO[str] | None) -> None:
        self.bar, self.target, self._pending = bar, target, ""

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            self.bar.write(line, self.target)
        return len(text)

    def flush(self) -> None:
        pass
