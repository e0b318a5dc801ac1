r"""Information measures of probability vectors and the log-losses of classifiers.

For probability vectors :math:`p, q` over the same outcomes (natural logarithms,
nats, unless ``base`` is given; ``base=2`` gives bits):

.. math::
    H(p) = -\sum_i p_i \log p_i, \qquad
    H(p, q) = -\sum_i p_i \log q_i, \qquad
    D(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i},

with :math:`0 \log 0 = 0`. They are tied by the identity

.. math:: H(p, q) = H(p) + D(p \,\|\, q),

so for a fixed :math:`p` the cross-entropy and the Kullback-Leibler divergence
differ by a constant, and :math:`H(p, q) \ge H(p)` with equality iff :math:`q = p`
(Gibbs' inequality, [1]_ Thm. 2.6.3). Both meanings of "cross-entropy" rest on it:

- the **CE method** chooses the sampling family :math:`f(\cdot; v)` closest in
  :math:`D(g^* \| f(\cdot; v))` to the ideal importance density :math:`g^*`;
  dropping the constant :math:`H(g^*)` leaves the cross-entropy, whose sample
  version is the weighted maximum-likelihood fit of every family's ``fit`` [2]_;
- the **log-loss** of a classifier is the mean cross-entropy between the label
  distributions (one-hot, or smoothed) and the predicted class probabilities;
  minimizing it is maximum likelihood for the classifier's parameters.

The divergence between two sampling families is a method of each family
(:meth:`cem.families.Family.kl_divergence`); the classifiers of
:mod:`cem.problems.classification` minimize the log-losses of this module.

References
----------
.. [1] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley, 2006.
.. [2] R. Y. Rubinstein, D. P. Kroese, *The Cross-Entropy Method*, Springer, 2004.
.. [3] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna, "Rethinking the Inception
   architecture for computer vision", CVPR 2016, Sec. 7 (label smoothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import entr, log_softmax, rel_entr, xlogy

from cem.errors import ConfigError

__all__ = [
    "SUM_TOL",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "cross_entropy",
    "entropy",
    "kl_divergence",
    "log_loss",
    "softmax_cross_entropy",
]

#: How far from 1 the sum of a probability vector may be (float32 rounding passes).
SUM_TOL = 1e-6


# ---------------------------------------------------------------------- validation
def _where(index: tuple[Any, ...]) -> str:
    return str(index[0]) if len(index) == 1 else str(tuple(int(i) for i in index))


def _probabilities(name: str, p: Any) -> np.ndarray:
    """``p`` as a float array of numbers in [0, 1]; one-line errors name the bad entry."""
    try:
        p = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be an array of probabilities, got {p!r:.60}") from None
    bad = ~((p >= 0) & (p <= 1))  # NaN fails both comparisons
    if bad.any():
        at = np.unravel_index(int(np.argmax(bad)), p.shape)
        raise ConfigError(
            f"{name} must hold probabilities in [0, 1], got {p[at].item()!r} at index {_where(at)}"
        )
    return p


def _distribution(name: str, p: Any, axis: int = -1) -> np.ndarray:
    """``p`` checked as probability vectors along ``axis``: entries in [0, 1], sums 1."""
    p = _probabilities(name, p)
    if p.ndim == 0 or p.shape[axis] == 0:
        raise ConfigError(f"{name} must be a non-empty probability vector, got shape {p.shape}")
    sums = p.sum(axis=axis)
    off = np.abs(sums - 1.0) > SUM_TOL
    if off.any():
        if sums.ndim == 0:
            raise ConfigError(f"{name} must sum to 1, got a sum of {float(sums)!r}")
        at = np.unravel_index(int(np.argmax(off)), sums.shape)
        raise ConfigError(
            f"{name} must sum to 1 along axis {axis}; the vector at {_where(at)} sums to "
            f"{float(sums[at])!r}"
        )
    return p


def _pair(p: Any, q: Any, axis: int) -> tuple[np.ndarray, np.ndarray]:
    p, q = _distribution("p", p, axis), _distribution("q", q, axis)
    if p.shape != q.shape:
        raise ConfigError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return p, q


def _in_base(value: np.ndarray | float, base: float | None) -> np.ndarray | float:
    if base is not None and not (np.isfinite(base) and base > 0 and base != 1):
        raise ConfigError(f"base must be a positive number other than 1 (or None), got {base!r}")
    out = value if base is None else value / np.log(base)
    return float(out) + 0.0 if np.ndim(out) == 0 else out  # + 0.0 turns -0.0 into 0.0


# ---------------------------------------------------------------------- distributions
def entropy(p: Any, *, base: float | None = None, axis: int = -1) -> float | np.ndarray:
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i \log p_i`.

    Parameters
    ----------
    p : array_like
        Probability vectors along ``axis`` (entries in [0, 1], sums 1).
    base : float, optional
        Logarithm base: ``None`` for nats, ``2`` for bits.
    axis : int, default -1

    Returns
    -------
    float or ndarray
        One value per vector; a float for a single vector.

    Raises
    ------
    ConfigError
        A negative or NaN entry, an entry above 1, or a vector not summing to 1.

    Examples
    --------
    >>> entropy([0.5, 0.5], base=2)
    1.0
    >>> entropy([[1.0, 0.0], [0.25, 0.75]]).round(6)
    array([0.      , 0.562335])
    """
    p = _distribution("p", p, axis)
    return _in_base(entr(p).sum(axis=axis), base)


def cross_entropy(
    p: Any, q: Any, *, base: float | None = None, axis: int = -1
) -> float | np.ndarray:
    r"""Cross-entropy :math:`H(p, q) = -\sum_i p_i \log q_i = H(p) + D(p \| q)`.

    Infinite where :math:`q_i = 0 < p_i`. Parameters as in :func:`entropy`; ``p``
    and ``q`` have the same shape.

    Examples
    --------
    >>> round(cross_entropy([1.0, 0.0], [0.5, 0.5], base=2), 12)
    1.0
    """
    p, q = _pair(p, q, axis)
    with np.errstate(divide="ignore"):
        return _in_base(-xlogy(p, q).sum(axis=axis), base)


def kl_divergence(
    p: Any, q: Any, *, base: float | None = None, axis: int = -1
) -> float | np.ndarray:
    r"""Kullback-Leibler divergence :math:`D(p \| q) = \sum_i p_i \log(p_i / q_i) \ge 0`.

    Zero iff :math:`p = q`; infinite unless :math:`q_i > 0` wherever :math:`p_i > 0`.
    Parameters as in :func:`entropy`; ``p`` and ``q`` have the same shape.

    Examples
    --------
    >>> kl_divergence([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> round(kl_divergence([0.5, 0.5], [0.25, 0.75], base=2), 6)
    0.207519
    """
    p, q = _pair(p, q, axis)
    return _in_base(rel_entr(p, q).sum(axis=axis), base)


# ---------------------------------------------------------------------- log-loss
def softmax_cross_entropy(targets: Any, logits: Any, *, axis: int = -1) -> np.ndarray:
    r"""Cross-entropy :math:`H(t, \operatorname{softmax}(z))` per vector, in nats, from logits.

    .. math:: H(t, \operatorname{softmax}(z)) = -\sum_k t_k z_k + \log \sum_k e^{z_k}
              \quad (\textstyle\sum_k t_k = 1),

    computed with the log-sum-exp shift (``scipy.special.log_softmax``), so it is
    finite for any finite logits. The arrays broadcast against each other: targets
    of shape ``(n, K)`` with logits of shape ``(B, n, K)`` give ``(B, n)``, the
    per-example losses of ``B`` models at once. This is the unchecked kernel of
    :func:`categorical_cross_entropy` for hot loops: ``targets`` are assumed to be
    probability vectors and ``logits`` finite.

    Examples
    --------
    >>> softmax_cross_entropy([[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [2.0, 0.0]]).round(6)
    array([0.693147, 2.126928])
    """
    t = np.asarray(targets, dtype=float)
    return -np.sum(t * log_softmax(np.asarray(logits, dtype=float), axis=axis), axis=axis)


def _targets(y_true: Any, n_classes: int, n: int) -> np.ndarray:
    """Labels ``(n,)`` or target distributions ``(n, K)`` as an ``(n, K)`` float array."""
    y = np.asarray(y_true)
    if y.ndim == 2:
        if y.shape != (n, n_classes):
            raise ConfigError(
                f"y_true of one-hot or probability rows must have shape ({n}, {n_classes}) "
                f"to match y_pred, got {y.shape}"
            )
        return _distribution("y_true", y, axis=1)
    if y.ndim != 1 or y.shape[0] != n:
        raise ConfigError(
            f"y_true must have shape ({n},) (labels) or ({n}, {n_classes}) (one-hot) to match "
            f"y_pred, got {y.shape}"
        )
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ConfigError(f"y_true must hold integer class labels, got dtype {y.dtype}")
    bad = ~((y >= 0) & (y < n_classes) & (np.mod(y, 1) == 0))
    if bad.any():
        k = int(np.argmax(bad))
        raise ConfigError(
            f"y_true labels must be integers in 0..{n_classes - 1}, got {y[k].item()!r} "
            f"at index {k}"
        )
    return np.eye(n_classes)[y.astype(np.int64)]


def _weights(T: np.ndarray, class_weight: Any, sample_weight: Any) -> tuple[np.ndarray, float]:
    n, k = T.shape
    w = np.ones(n)
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=float)
        if w.shape != (n,) or not np.all(np.isfinite(w) & (w >= 0)):
            raise ConfigError(
                f"sample_weight must be {n} finite nonnegative numbers, got shape {w.shape}"
            )
    if class_weight is not None:
        c = np.asarray(class_weight, dtype=float)
        if c.shape != (k,) or not np.all(np.isfinite(c) & (c >= 0)):
            raise ConfigError(
                f"class_weight must be {k} finite nonnegative numbers (one per class), "
                f"got {np.asarray(class_weight).tolist()!r:.60}"
            )
        w = w * (T @ c)
    total = float(w.sum())
    if total <= 0:
        raise ConfigError("sample_weight and class_weight leave no example with a positive weight")
    return w, total


def _smoothing(label_smoothing: float) -> float:
    eps = float(label_smoothing)
    if not 0 <= eps <= 1:
        raise ConfigError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return eps


def categorical_cross_entropy(
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    base: float | None = None,
) -> float:
    r"""Mean cross-entropy (log-loss) of ``K``-class predictions.

    .. math::
        \ell = \frac{\sum_i w_i\, H(t_i, \hat p_i)}{\sum_i w_i}, \qquad
        t_i = (1 - \varepsilon)\, y_i + \varepsilon / K, \qquad
        w_i = s_i \sum_k y_{ik} c_k,

    where :math:`y_i` is the one-hot (or soft) target row, :math:`\varepsilon` the
    label smoothing (Szegedy et al. 2016, in the module's references), :math:`s_i` the
    sample weights and :math:`c_k` the class weights (the weighted mean of
    ``torch.nn.CrossEntropyLoss``). With integer labels and no options,
    :math:`\ell = -\frac1n \sum_i \log \hat p_i(y_i)`.

    Parameters
    ----------
    y_true : array_like, shape (n,) or (n, K)
        Integer labels ``0..K-1``, or one-hot / probability rows.
    y_pred : array_like, shape (n, K)
        Predicted probabilities (rows summing to 1), or logits with ``from_logits``.
    from_logits : bool, default False
        Take ``y_pred`` as logits: the loss is computed with log-sum-exp
        (:func:`softmax_cross_entropy`) and is finite for any finite logits.
    label_smoothing : float in [0, 1], default 0
    class_weight : array_like, shape (K,), optional
    sample_weight : array_like, shape (n,), optional
    base : float, optional
        ``None`` for nats, ``2`` for bits.

    Returns
    -------
    float
        Infinite when a predicted probability is exactly 0 where a target is positive.

    Raises
    ------
    ConfigError
        Shape mismatches between labels and predictions, labels outside ``0..K-1``,
        negative probabilities, rows not summing to 1, non-finite logits, bad weights.

    Examples
    --------
    >>> P = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]
    >>> round(categorical_cross_entropy([0, 2], P), 6)  # -(log 0.7 + log 0.8) / 2
    0.289909
    >>> round(categorical_cross_entropy([[1, 0, 0], [0, 0, 1]], P), 6)
    0.289909
    >>> round(categorical_cross_entropy([0], [[1000.0, -1000.0, 0.0]], from_logits=True), 6)
    0.0
    """
    pred = np.asarray(y_pred, dtype=float)
    if pred.ndim != 2 or pred.shape[0] == 0 or pred.shape[1] < 2:
        raise ConfigError(
            f"y_pred must have shape (n, K) with n >= 1 and K >= 2 classes, got {pred.shape}"
        )
    n, k = pred.shape
    Y = _targets(y_true, k, n)
    w, total = _weights(Y, class_weight, sample_weight)
    eps = _smoothing(label_smoothing)
    T = (1.0 - eps) * Y + eps / k if eps else Y
    if from_logits:
        if not np.all(np.isfinite(pred)):
            raise ConfigError("y_pred logits must be finite")
        losses = softmax_cross_entropy(T, pred)
    else:
        P = _probabilities("y_pred", pred)
        if np.any(np.abs(P.sum(axis=1) - 1.0) > SUM_TOL):
            row = int(np.argmax(np.abs(P.sum(axis=1) - 1.0)))
            raise ConfigError(
                f"each row of y_pred must sum to 1 (or pass from_logits=True); row {row} "
                f"sums to {float(P[row].sum())!r}"
            )
        with np.errstate(divide="ignore"):
            losses = -xlogy(T, P).sum(axis=1)
    with np.errstate(invalid="ignore"):  # 0 * inf for a zero-weight example
        weighted = np.where(w > 0, w * losses, 0.0)
    return float(_in_base(float(weighted.sum() / total), base))


def binary_cross_entropy(
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    base: float | None = None,
) -> float:
    r"""Mean binary cross-entropy (log-loss) of predictions of class 1.

    .. math:: \ell = -\frac{\sum_i w_i \left[t_i \log \hat p_i + (1 - t_i) \log(1 - \hat p_i)
              \right]}{\sum_i w_i}, \qquad t_i = (1 - \varepsilon)\, y_i + \varepsilon / 2,

    the two-class case of :func:`categorical_cross_entropy` (a logit :math:`z`
    is the pair of logits :math:`(0, z)`, so :math:`\hat p = \sigma(z)`).

    Parameters
    ----------
    y_true : array_like, shape (n,)
        Labels 0 or 1, or target probabilities of class 1 in [0, 1].
    y_pred : array_like, shape (n,)
        Predicted probabilities of class 1, or logits with ``from_logits``.
    from_logits, label_smoothing, sample_weight, base
        As in :func:`categorical_cross_entropy`.
    class_weight : array_like, shape (2,), optional
        Weights of class 0 and class 1.

    Examples
    --------
    >>> round(binary_cross_entropy([1, 0], [0.8, 0.1]), 6)  # -(log 0.8 + log 0.9) / 2
    0.164252
    >>> binary_cross_entropy([0], [1000.0], from_logits=True)
    1000.0
    """
    try:
        y, pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError("y_true and y_pred must be arrays of numbers") from None
    if pred.ndim != 1 or pred.size == 0 or y.shape != pred.shape:
        raise ConfigError(
            f"y_true and y_pred must both have shape (n,) with n >= 1, got "
            f"{np.shape(y_true)} and {pred.shape}"
        )
    bad = ~((y >= 0) & (y <= 1))
    if bad.any():
        k = int(np.argmax(bad))
        raise ConfigError(
            f"y_true must hold labels 0 or 1 (or probabilities of class 1 in [0, 1]), got "
            f"{y[k].item()!r} at index {k}"
        )
    if from_logits:
        pred = np.stack([np.zeros_like(pred), pred], axis=1)
    else:
        bad = ~((pred >= 0) & (pred <= 1))
        if bad.any():
            k = int(np.argmax(bad))
            raise ConfigError(
                f"y_pred must hold probabilities in [0, 1] (or pass from_logits=True), got "
                f"{pred[k].item()!r} at index {k}"
            )
        pred = np.stack([1.0 - pred, pred], axis=1)
    return categorical_cross_entropy(
        np.stack([1.0 - y, y], axis=1), pred,
        from_logits=from_logits, label_smoothing=label_smoothing, class_weight=class_weight,
        sample_weight=sample_weight, base=base,
    )  # fmt: skip


def log_loss(
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    base: float | None = None,
) -> float:
    r"""Mean negative log-likelihood of labels under predicted probabilities.

    :func:`binary_cross_entropy` for predictions of shape ``(n,)`` (the probability
    or logit of class 1), :func:`categorical_cross_entropy` for shape ``(n, K)``.

    .. math:: \ell = -\frac{1}{\sum_i w_i} \sum_i w_i \log \hat p_i(y_i)

    Examples
    --------
    >>> round(log_loss([1, 0], [0.8, 0.1]), 6)
    0.164252
    >>> round(log_loss([1], [800.0], from_logits=True), 6)
    0.0
    >>> round(log_loss([2], [[0.2, 0.3, 0.5]], base=2), 6)
    1.0
    """
    kind = binary_cross_entropy if np.ndim(y_pred) == 1 else categorical_cross_entropy
    return kind(
        y_true, y_pred,
        from_logits=from_logits, label_smoothing=label_smoothing, class_weight=class_weight,
        sample_weight=sample_weight, base=base,
    )  # fmt: skip
