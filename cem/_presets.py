r"""The ``method`` presets: optimizer options derived from the problem's dimension.

``method="auto"`` is the CE method for continuous problems with a Normal family,
sized to the dimension :math:`d` (as CMA-ES derives its population size from
:math:`d`) and protected against early collapse:

- :math:`N = \max(200, 10 d)` samples per iteration and an elite of
  :math:`\lceil 0.1 N \rceil` (at least :math:`2d` rows, enough to fit a full covariance);
- smoothing :math:`\alpha = 0.7` of the mean, and for a full covariance the dynamic
  smoothing :math:`\beta_t = \beta - \beta (1 - 1/t)^q` with :math:`\beta = 0.9`,
  :math:`q = 5` (Kroese, Porotsky & Rubinstein 2006);
- variance injection of the mean's move (``inject=1`` of :class:`~cem.families.Normal`
  and :class:`~cem.families.FullNormal`): the elite's spread is measured about the
  previous mean, so the variance cannot vanish while the mean still travels.

The preset applies only when ``n_samples``, ``rho``, ``n_elite``, ``alpha``, ``beta`` and
``q`` are all at their table defaults: setting any of them runs the classic CE update
with the given values (this keeps seeded runs with explicit options unchanged).
``method="classic"`` (or ``None`` on problems without a preference) is the plain CE
update with the table's defaults.

References
----------
.. [1] D. P. Kroese, S. Porotsky, R. Y. Rubinstein, "The cross-entropy method for
   continuous multi-extremal optimization", Methodol. Comput. Appl. Probab. 8:383-407,
   2006.
.. [2] N. Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772, 2016.
"""

from __future__ import annotations

import math
from typing import Any

from cem.families import Family, FullNormal, Normal
from cem.options import OPTIONS

__all__ = ["PRESET_KEYS", "apply_method", "auto_options"]

#: The options a preset derives; setting any of them keeps the classic update.
PRESET_KEYS = ("n_samples", "rho", "n_elite", "alpha", "beta", "q")


def auto_options(dim: int, full_covariance: bool) -> dict[str, Any]:
    """The ``method="auto"`` option values for dimension ``dim``."""
    n = max(200, 10 * dim)
    options: dict[str, Any] = {"n_samples": n, "n_elite": max(math.ceil(0.1 * n), 2 * dim)}
    options["alpha"] = 0.7
    if full_covariance:
        options.update(beta=0.9, q=5.0)
    return options


def apply_method(options: dict[str, Any], family: Family) -> tuple[dict[str, Any], Family]:
    """Resolved options and family under ``options["method"]``.

    ``"auto"`` with every key of :data:`PRESET_KEYS` at its default and a
    :class:`~cem.families.Normal` or :class:`~cem.families.FullNormal` family gives the
    options of :func:`auto_options` and the family with mean-shift injection; anything
    else returns ``options`` and ``family`` unchanged.
    """
    if options.get("method") != "auto" or type(family) not in (Normal, FullNormal):
        return options, family
    if any(options[k] != OPTIONS[k].default for k in PRESET_KEYS):
        return options, family
    injected: Family
    if isinstance(family, FullNormal):
        injected = FullNormal(family.mean, family.cov, family.min_sigma, inject=1.0)
    else:
        assert isinstance(family, Normal)
        injected = Normal(family.mean, family.sigma, family.min_sigma, family.learn_sigma, 1.0)
    full = isinstance(family, FullNormal)
    return {**options, **auto_options(family.event_shape[0], full)}, injected
