"""Labelled data for :mod:`cem.problems.classification`: Iris, a synthetic two-class set,
numeric CSV files, and a seeded train/test split.

A data set is a :class:`LabelledData`: a float feature matrix, integer labels
``0..K-1``, and the names of the features and of the classes.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cem.errors import ConfigError, DataFormatError
from cem.toolkit import RNGLike, as_seed_sequence

__all__ = [
    "IRIS_PATH",
    "LabelledData",
    "load_csv",
    "load_iris",
    "train_test_split",
    "two_gaussians",
]

#: Fisher's Iris data, bundled (source in the file's header comment).
IRIS_PATH = Path(__file__).resolve().parent.parent / "data" / "iris.csv"
IRIS_CLASSES = ("setosa", "versicolor", "virginica")

#: Default limits of :func:`load_csv`.
MAX_ROWS = 100_000
MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class LabelledData:
    """Features ``(n, f)``, labels ``(n,)`` in ``0..K-1``, and their names.

    Raises
    ------
    ConfigError
        Shapes that do not match, non-finite features, labels not ``0..K-1`` with
        every class present, or fewer than two classes.
    """

    features: np.ndarray
    labels: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    name: str = "data"

    def __post_init__(self) -> None:
        X = np.array(self.features, dtype=float)
        y = np.asarray(self.labels)
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise ConfigError(f"features must be a non-empty (n, f) array, got shape {X.shape}")
        if y.shape != (X.shape[0],):
            raise ConfigError(f"labels must have shape ({X.shape[0]},) to match, got {y.shape}")
        if not np.all(np.isfinite(X)):
            raise ConfigError("features must be finite numbers (no NaN or inf)")
        if not (np.issubdtype(y.dtype, np.integer) and y.size and y.min() >= 0):
            raise ConfigError("labels must be integers 0..K-1")
        k = len(self.class_names)
        if k < 2 or y.max() >= k or np.unique(y).size != k:
            raise ConfigError(
                f"labels must take every value 0..K-1 of K >= 2 named classes, got "
                f"{np.unique(y).tolist()} for classes {list(self.class_names)}"
            )
        if len(self.feature_names) != X.shape[1]:
            raise ConfigError(
                f"{X.shape[1]} features need as many names, got {len(self.feature_names)}"
            )
        X.flags.writeable = False
        y = y.astype(np.int64)
        y.flags.writeable = False
        object.__setattr__(self, "features", X)
        object.__setattr__(self, "labels", y)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def subset(self, rows: np.ndarray, name: str | None = None) -> LabelledData:
        """The examples ``rows`` (every class must stay present)."""
        return LabelledData(
            self.features[rows], self.labels[rows], self.feature_names, self.class_names,
            name or self.name,
        )  # fmt: skip


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"{where}: expected a number, got {text.strip()!r:.40}") from None
    if not math.isfinite(value):
        raise DataFormatError(f"{where}: expected a finite number, got {text.strip()!r}")
    return value


def load_csv(
    path: str | os.PathLike[str],
    label: str | int = -1,
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> LabelledData:
    """Read a numeric CSV file with one column of class labels.

    Lines starting with ``#`` and blank lines are skipped. The first remaining line
    is a header when any of its fields is not a number. Every other field must be a
    finite number (nothing is evaluated or converted beyond ``float``); the label
    column must hold integers, which are mapped in increasing order to ``0..K-1``.

    Parameters
    ----------
    path : path-like
    label : str or int, default -1
        The label column: its header name, or its index (negative counts from the end).
    max_rows, max_bytes : int
        Refuse larger files (defaults 100 000 rows, 64 MiB).

    Returns
    -------
    LabelledData
        Class names are the original label values.

    Raises
    ------
    DataFormatError
        A field that is not a finite number, a ragged row, a non-integer label, too
        many rows, or fewer than two classes; the message names the file and line.
    ConfigError
        A missing or oversized file, or an unknown label column.

    Examples
    --------
    >>> data = load_csv(IRIS_PATH, label="species")
    >>> data.features.shape, data.n_classes
    ((150, 4), 3)
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no CSV file {str(path)!r}")
    size = path.stat().st_size
    if size > max_bytes:
        raise ConfigError(f"{path.name} has {size} bytes, more than max_bytes={max_bytes}")
    header: list[str] | None = None
    rows: list[list[float]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        lines = ((i, line) for i, line in enumerate(fh, 1) if line.strip() and line[0] != "#")
        for lineno, fields in ((i, next(csv.reader([line]))) for i, line in lines):
            where = f"{path.name}, line {lineno}"
            if header is None and not rows:
                try:
                    [float(f) for f in fields]
                except ValueError:
                    header = [f.strip() for f in fields]
                    continue
            width = len(header) if header is not None else len(rows[0]) if rows else len(fields)
            if len(fields) != width:
                raise DataFormatError(f"{where}: expected {width} fields, got {len(fields)}")
            if len(rows) == max_rows:
                raise DataFormatError(f"{path.name} has more than max_rows={max_rows} data rows")
            rows.append([_number(f, f"{where}, column {j + 1}") for j, f in enumerate(fields)])
    if not rows:
        raise DataFormatError(f"{path.name}: no data rows")
    table = np.array(rows)
    names = header or [f"x{j}" for j in range(table.shape[1])]
    if isinstance(label, str):
        if label not in names:
            raise ConfigError(f"{path.name} has no column {label!r}; columns: {', '.join(names)}")
        col = names.index(label)
    elif isinstance(label, int) and -len(names) <= label < len(names):
        col = label % len(names)
    else:
        raise ConfigError(
            f"label must be a column name or an index in -{len(names)}..{len(names) - 1}, "
            f"got {label!r}"
        )
    raw = table[:, col]
    if np.any(raw != np.round(raw)):
        bad = int(np.argmax(raw != np.round(raw)))
        raise DataFormatError(
            f"{path.name}: the label column {names[col]!r} must hold integers, got "
            f"{raw[bad].item()!r}"
        )
    values, labels = np.unique(raw.astype(np.int64), return_inverse=True)
    if values.size < 2:
        raise DataFormatError(f"{path.name}: the label column {names[col]!r} has one class")
    features = np.delete(table, col, axis=1)
    if features.shape[1] == 0:
        raise DataFormatError(f"{path.name}: no feature columns besides the labels")
    return LabelledData(
        features, labels.reshape(-1), tuple(n for j, n in enumerate(names) if j != col),
        tuple(str(v) for v in values), path.stem,
    )  # fmt: skip


def load_iris() -> LabelledData:
    """Fisher's Iris data: 150 flowers, 4 measurements (cm), 3 species.

    Examples
    --------
    >>> iris = load_iris()
    >>> iris.features.mean(axis=0).round(3)
    array([5.843, 3.057, 3.758, 1.199])
    >>> iris.class_names
    ('setosa', 'versicolor', 'virginica')
    """
    data = load_csv(IRIS_PATH, label="species")
    return LabelledData(data.features, data.labels, data.feature_names, IRIS_CLASSES, "iris")


def two_gaussians(
    n: int = 200, dim: int = 2, separation: float = 2.0, rng: RNGLike = 0
) -> LabelledData:
    r"""Two classes of ``n // 2`` and ``n - n // 2`` points, :math:`N(\mp \tfrac{s}{2} u, I)`.

    With :math:`u = (1, .., 1)/\sqrt{d}` and :math:`s` = ``separation``, the classes
    differ along :math:`u` only; the Bayes classifier is linear (the sign of
    :math:`u^\top x`, which a logistic model can represent) and its accuracy is
    :math:`\Phi(s/2)`.

    Examples
    --------
    >>> data = two_gaussians(100, dim=3, rng=1)
    >>> data.features.shape, np.bincount(data.labels).tolist()
    ((100, 3), [50, 50])
    """
    if not (isinstance(n, int) and n >= 2 and isinstance(dim, int) and dim >= 1):
        raise ConfigError(f"two_gaussians needs integers n >= 2 and dim >= 1, got {n}, {dim}")
    if not (np.isfinite(separation) and separation >= 0):
        raise ConfigError(f"separation must be a finite number >= 0, got {separation!r}")
    gen = np.random.default_rng(as_seed_sequence(rng))
    labels = np.repeat([0, 1], [n // 2, n - n // 2])
    u = np.full(dim, 1.0 / np.sqrt(dim))
    features = gen.standard_normal((n, dim)) + np.outer(labels - 0.5, separation * u)
    names = tuple(f"x{j}" for j in range(dim))
    return LabelledData(features, labels, names, ("0", "1"), "two_gaussians")


def train_test_split(
    data: LabelledData, test_fraction: float = 0.3, rng: RNGLike = 0
) -> tuple[LabelledData, LabelledData]:
    """A seeded split, stratified: each class gives ``round(test_fraction * n_k)`` test rows.

    Raises
    ------
    ConfigError
        A fraction outside (0, 1), or one that leaves a class with no training or no
        test example.

    Examples
    --------
    >>> train, test = train_test_split(load_iris(), 0.2, rng=0)
    >>> len(train.labels), np.bincount(test.labels).tolist()
    (120, [10, 10, 10])
    """
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    gen = np.random.default_rng(as_seed_sequence(rng))
    test = []
    for k in range(data.n_classes):
        rows = np.flatnonzero(data.labels == k)
        m = round(test_fraction * rows.size)
        if not 0 < m < rows.size:
            raise ConfigError(
                f"test_fraction={test_fraction} leaves class {data.class_names[k]!r} "
                f"({rows.size} examples) with an empty training or test part"
            )
        test.append(gen.choice(rows, m, replace=False))
    in_test = np.zeros(data.labels.size, dtype=bool)
    in_test[np.concatenate(test)] = True
    return data.subset(~in_test, f"{data.name}-train"), data.subset(in_test, f"{data.name}-test")
