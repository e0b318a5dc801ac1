r"""The ``method`` presets: optimizer options derived from the problem's dimension.

``method="auto"`` is the CE method for continuous problems with a Normal family in the
form of AMaLGaM (Bosman, Grahl & Thierens 2008, 2013), sized to the dimension :math:`d`:

- :math:`N = 2 (4 + \lfloor 3 \ln d \rfloor)` samples per iteration, twice the default
  population of CMA-ES (Hansen 2016), and an elite of :math:`N_e = \lfloor 0.35 N
  \rfloor` (AMaLGaM's truncation selection :math:`\tau = 0.35`). AMaLGaM's own
  :math:`N = 17 + 3 d^{1.5}` is sized for one run without restarts; with IPOP restarts
  (which double :math:`N`) the small start is cheaper on unimodal functions (on the
  20-dimensional sphere, 1.2e4 evaluations to 1e-8 against 3.0e4) while the restarts reach
  the large populations that multimodal functions need. With :math:`N_e \le d` the ML
  covariance of one elite is singular; the smoothing keeps :math:`\Sigma_t` definite;
- no smoothing of the mean (``alpha = 1``); the covariance is smoothed with the learning
  rate :math:`\eta_\Sigma` of :func:`cem._scaling.learning_rates`;
- the best row found so far joins every elite (``keep_elite = 1``, AMaLGaM's elitism);
- adaptive variance scaling with the SDR trigger and the anticipated mean shift
  (:class:`cem._scaling.VarianceScaling`), which the loop switches on with the preset.

With ``restarts="ipop"`` each restart doubles :math:`N` and :math:`N_e`.

The preset applies only when ``n_samples``, ``rho``, ``n_elite``, ``alpha``, ``beta``, ``q``
and ``keep_elite`` are all at their table defaults: setting any of them runs the classic
CE update with the given values (this keeps seeded runs with explicit options unchanged).
``method="classic"`` (or ``None`` on problems without a preference) is the plain CE
update with the table's defaults.

References
----------
.. [1] D. P. Kroese, S. Porotsky, R. Y. Rubinstein, "The cross-entropy method for
   continuous multi-extremal optimization", Methodol. Comput. Appl. Probab. 8:383-407,
   2006.
.. [2] P. A. N. Bosman, J. Grahl, D. Thierens, "Enhancing the performance of
   maximum-likelihood Gaussian EDAs using anticipated mean shift", PPSN X, 2008.
.. [3] P. A. N. Bosman, J. Grahl, D. Thierens, "Benchmarking parameter-free AMaLGaM on
   functions with and without noise", Evol. Comput. 21(3):445-469, 2013.
.. [4] N. Hansen, "The CMA evolution strategy: a tutorial", arXiv:1604.00772, 2016.
"""

from __future__ import annotations

import math
from typing import Any

from cem.families import Family, FullNormal, Normal
from cem.options import OPTIONS

__all__ = ["PRESET_KEYS", "apply_method", "auto_applies", "auto_options"]

#: The options a preset derives; setting any of them keeps the classic update.
PRESET_KEYS = ("n_samples", "rho", "n_elite", "alpha", "beta", "q", "keep_elite")


def auto_options(dim: int) -> dict[str, Any]:
    """The ``method="auto"`` option values for dimension ``dim`` (either Normal family)."""
    n = 2 * (4 + int(3 * math.log(dim)))
    n_elite = int(0.35 * n)
    return {"n_samples": n, "n_elite": n_elite, "alpha": 1.0, "keep_elite": 1}


def auto_applies(options: dict[str, Any], family: Family) -> bool:
    """Whether ``method="auto"`` applies: the method asked, a Normal family, and every key
    of :data:`PRESET_KEYS` at its default."""
    return (
        options.get("method") == "auto"
        and type(family) in (Normal, FullNormal)
        and all(options[k] == OPTIONS[k].default for k in PRESET_KEYS)
    )


def apply_method(options: dict[str, Any], family: Family) -> tuple[dict[str, Any], Family]:
    """Resolved options and family under ``options["method"]``.

    When :func:`auto_applies`, the options of :func:`auto_options`; otherwise
    ``options`` unchanged. The family is returned as given.
    """
    if not auto_applies(options, family):
        return options, family
    return {**options, **auto_options(family.event_shape[0])}, family
