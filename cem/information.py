r"""Information measures for discrete distributions.

For probability vectors :math:`p, q` over the same outcomes (natural logarithms,
nats, unless ``base`` is given):

.. math::
    H(p) = -\sum_i p_i \log p_i, \qquad
    H(p, q) = -\sum_i p_i \log q_i, \qquad
    D(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i} = H(p, q) - H(p),

with :math:`0 \log 0 = 0`. The Kullback-Leibler divergence :math:`D` is the
"cross-entropy distance" the CE method minimizes between the optimal importance
density and the sampling family (Rubinstein & Kroese 2004, Ch. 1).

The log-loss of labels against predicted probabilities is the mean cross-entropy
between the one-hot labels and the predictions.

References
----------
.. [1] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley, 2006.
.. [2] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004.
"""

from __future__ import annotations

import numpy as np
from scipy.special import entr, log_expit, log_softmax, rel_entr, xlogy

from cem.errors import ConfigError

__all__ = ["cross_entropy", "entropy", "kl_divergence", "log_loss"]


def _distribution(name: str, p: np.ndarray, axis: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.ndim == 0 or p.shape[axis] == 0:
        raise ConfigError(f"{name} must be a non-empty probability vector, got shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):
        raise ConfigError(f"{name} must hold probabilities in [0, 1] (no NaN)")
    if not np.allclose(p.sum(axis=axis), 1.0, atol=1e-8):
        raise ConfigError(f"{name} must sum to 1 along axis {axis}")
    return p


def _in_base(value: np.ndarray, base: float | None) -> np.ndarray | float:
    out = value if base is None else value / np.log(base)
    return float(out) if np.ndim(out) == 0 else out


def entropy(p: np.ndarray, *, base: float | None = None, axis: int = -1) -> float | np.ndarray:
    """Shannon entropy :math:`H(p)`.

    Examples
    --------
    >>> entropy([0.5, 0.5], base=2)
    1.0
    """
    p = _distribution("p", p, axis)
    return _in_base(entr(p).sum(axis=axis), base)


def cross_entropy(
    p: np.ndarray, q: np.ndarray, *, base: float | None = None, axis: int = -1
) -> float | np.ndarray:
    """Cross-entropy :math:`H(p, q)`; infinite where ``q_i = 0 < p_i``.

    Examples
    --------
    >>> round(cross_entropy([1.0, 0.0], [0.5, 0.5], base=2), 12)
    1.0
    """
    p, q = _distribution("p", p, axis), _distribution("q", q, axis)
    with np.errstate(divide="ignore"):
        return _in_base(-xlogy(p, q).sum(axis=axis), base)


def kl_divergence(
    p: np.ndarray, q: np.ndarray, *, base: float | None = None, axis: int = -1
) -> float | np.ndarray:
    """Kullback-Leibler divergence :math:`D(p \\| q) \\ge 0`, infinite unless q > 0 where p > 0.

    Examples
    --------
    >>> kl_divergence([0.5, 0.5], [0.5, 0.5])
    0.0
    """
    p, q = _distribution("p", p, axis), _distribution("q", q, axis)
    return _in_base(rel_entr(p, q).sum(axis=axis), base)


def log_loss(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    from_logits: bool = False,
    sample_weight: np.ndarray | None = None,
) -> float:
    r"""Mean negative log-likelihood of class labels under predicted probabilities.

    .. math:: \ell = -\frac{1}{\sum_k w_k} \sum_k w_k \log \hat p_k(y_k)

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
        Class labels: 0/1 for binary predictions, ``0..K-1`` for ``K`` classes.
    y_pred : array_like, shape (n,) or (n, K)
        Binary: the probability (or logit) of class 1. Multi-class: the
        probabilities (or logits) of each class.
    from_logits : bool, default False
        Interpret ``y_pred`` as logits; the loss is then computed with
        ``log_expit`` / ``log_softmax`` and stays finite for any finite logits.
    sample_weight : array_like, shape (n,), optional

    Returns
    -------
    float
        In nats. A probability of exactly 0 on the true class gives ``inf``.

    Examples
    --------
    >>> round(log_loss([1, 0], [0.8, 0.1]), 6)
    0.164252
    >>> round(log_loss([1], [800.0], from_logits=True), 6)
    0.0
    """
    y = np.asarray(y_true)
    pred = np.asarray(y_pred, dtype=float)
    if y.ndim != 1 or y.size == 0 or pred.shape[0] != y.size or pred.ndim not in (1, 2):
        raise ConfigError(
            f"log_loss needs y_true of shape (n,) and y_pred of shape (n,) or (n, K), "
            f"got {y.shape} and {pred.shape}"
        )
    if not np.all(np.isfinite(pred)):
        raise ConfigError("y_pred must be finite")
    n_classes = 2 if pred.ndim == 1 else pred.shape[1]
    if not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
        raise ConfigError("y_true must hold integer class labels")
    y = y.astype(np.int64)
    if np.any((y < 0) | (y >= n_classes)):
        raise ConfigError(f"y_true labels must be in 0..{n_classes - 1}")
    if from_logits:
        if pred.ndim == 1:
            log_prob = np.where(y == 1, log_expit(pred), log_expit(-pred))
        else:
            log_prob = log_softmax(pred, axis=1)[np.arange(y.size), y]
    else:
        if not np.all((pred >= 0) & (pred <= 1)):
            raise ConfigError("y_pred must hold probabilities in [0, 1] (or pass from_logits=True)")
        if pred.ndim == 2 and not np.allclose(pred.sum(axis=1), 1.0, atol=1e-8):
            raise ConfigError("each row of y_pred must sum to 1")
        prob = np.where(y == 1, pred, 1.0 - pred) if pred.ndim == 1 else pred[np.arange(y.size), y]
        with np.errstate(divide="ignore"):
            log_prob = np.log(prob)
    w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if w.shape != y.shape or np.any(w < 0) or w.sum() <= 0:
        raise ConfigError("sample_weight must be n nonnegative numbers with a positive sum")
    return float(-(w * log_prob).sum() / w.sum()) + 0.0  # + 0.0 turns -0.0 into 0.0
