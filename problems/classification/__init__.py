"""Softmax and one-hidden-layer classifiers fitted by minimizing the cross-entropy loss, their
data and the log-losses.
"""

from __future__ import annotations

from cem.problems.classification.data import (
    IRIS_PATH,
    LabelledData,
    load_csv,
    load_iris,
    train_test_split,
    two_gaussians,
)
from cem.problems.classification.losses import (
    SUM_TOL,
    binary_cross_entropy,
    categorical_cross_entropy,
    cross_entropy,
    entropy,
    kl_divergence,
    log_loss,
    softmax_cross_entropy,
)
from cem.problems.classification.problem import (
    Classification,
    helmert_contrasts,
)

__all__ = [
    "Classification",
    "IRIS_PATH",
    "LabelledData",
    "SUM_TOL",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "cross_entropy",
    "entropy",
    "helmert_contrasts",
    "kl_divergence",
    "load_csv",
    "load_iris",
    "log_loss",
    "softmax_cross_entropy",
    "train_test_split",
    "two_gaussians",
]
