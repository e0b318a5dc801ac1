r"""Reader for TSPLIB95 files: ``.tsp``, ``.atsp`` and ``.tour``.

Supported ``EDGE_WEIGHT_TYPE`` values, with TSPLIB's integer rounding
(:math:`\operatorname{nint}(x) = \lfloor x + 0.5 \rfloor`):

- ``EUC_2D``: :math:`d_{ij} = \operatorname{nint}(\sqrt{\Delta x^2 + \Delta y^2})`;
- ``CEIL_2D``: :math:`d_{ij} = \lceil \sqrt{\Delta x^2 + \Delta y^2} \rceil`;
- ``ATT`` (pseudo-Euclidean): :math:`r = \sqrt{(\Delta x^2 + \Delta y^2)/10}`,
  :math:`t = \operatorname{nint}(r)`, :math:`d_{ij} = t + 1` if :math:`t < r` else :math:`t`;
- ``GEO``: coordinates are ``DDD.MM`` (degrees, minutes); with ``PI = 3.141592``,
  ``deg = trunc(x)``, latitude/longitude :math:`= \pi (deg + 5 (x - deg)/3) / 180`,
  :math:`q_1 = \cos(\lambda_i - \lambda_j)`, :math:`q_2 = \cos(\phi_i - \phi_j)`,
  :math:`q_3 = \cos(\phi_i + \phi_j)`,
  :math:`d_{ij} = \lfloor 6378.388 \arccos(\tfrac12((1+q_1) q_2 - (1-q_1) q_3)) + 1 \rfloor`;
- ``EXPLICIT`` with ``EDGE_WEIGHT_FORMAT`` ``FULL_MATRIX``, ``UPPER_ROW``, ``LOWER_ROW``,
  ``UPPER_DIAG_ROW`` or ``LOWER_DIAG_ROW`` (weights are a token stream; line breaks do
  not matter).

The diagonal is set to 0 (TSPLIB files hold sentinels such as 9999 there).

References
----------
.. [1] G. Reinelt, "TSPLIB — A Traveling Salesman Problem Library", ORSA J. Computing
   3(4):376-384, 1991; and the TSPLIB95 format documentation (Reinelt, 1995).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cem.errors import ConfigError, DataFormatError
from cem.problems.optima import ListedOptimum, lookup, read_table
from cem.toolkit import require

__all__ = [
    "DATA_DIR",
    "EDGE_WEIGHT_FORMATS",
    "EDGE_WEIGHT_TYPES",
    "TSPLIBInstance",
    "bundled_instance_path",
    "distance_matrix",
    "distances_digest",
    "known_optimum",
    "listed_optimum",
    "load_optima",
    "read_tsplib",
    "tour_length",
]

#: Instances bundled with the package.
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "tsplib"
EDGE_WEIGHT_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO", "EXPLICIT")
EDGE_WEIGHT_FORMATS = ("FULL_MATRIX", "UPPER_ROW", "LOWER_ROW", "UPPER_DIAG_ROW", "LOWER_DIAG_ROW")
_SECTIONS = ("NODE_COORD_SECTION", "EDGE_WEIGHT_SECTION", "TOUR_SECTION",
             "DISPLAY_DATA_SECTION", "FIXED_EDGES_SECTION", "EOF")  # fmt: skip


@dataclass(frozen=True)
class TSPLIBInstance:
    """A parsed TSPLIB file.

    Attributes
    ----------
    name, type, comment : str
    dimension : int
    edge_weight_type : str or None
    coords : ndarray (n, 2) or None
    distances : ndarray (n, n) of int64 (float64 for non-integer EXPLICIT weights) or None
        Zero diagonal.
    tour : ndarray (n,) of int or None
        0-based node order (``.tour`` files).
    path : Path
    """

    name: str
    type: str
    dimension: int
    comment: str
    edge_weight_type: str | None
    coords: np.ndarray | None
    distances: np.ndarray | None
    tour: np.ndarray | None
    path: Path


def _nint(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


def _geo_radians(x: np.ndarray) -> np.ndarray:
    deg = np.trunc(x)
    return 3.141592 * (deg + 5.0 * (x - deg) / 3.0) / 180.0


def distance_matrix(coords: np.ndarray, edge_weight_type: str) -> np.ndarray:
    """Integer distance matrix of points under a TSPLIB ``EDGE_WEIGHT_TYPE``.

    Examples
    --------
    >>> distance_matrix(np.array([[0.0, 0.0], [3.0, 4.2]]), "EUC_2D")
    array([[0, 5],
           [5, 0]])
    """
    xy = np.asarray(coords, dtype=float)
    if edge_weight_type == "GEO":
        lat, lon = _geo_radians(xy[:, 0]), _geo_radians(xy[:, 1])
        q1 = np.cos(lon[:, None] - lon[None, :])
        q2 = np.cos(lat[:, None] - lat[None, :])
        q3 = np.cos(lat[:, None] + lat[None, :])
        arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        d = (6378.388 * np.arccos(arg) + 1.0).astype(np.int64)
    else:
        diff = xy[:, None, :] - xy[None, :, :]
        sq = np.sum(diff**2, axis=2)
        if edge_weight_type == "EUC_2D":
            d = _nint(np.sqrt(sq))
        elif edge_weight_type == "CEIL_2D":
            d = np.ceil(np.sqrt(sq)).astype(np.int64)
        elif edge_weight_type == "ATT":
            r = np.sqrt(sq / 10.0)
            t = _nint(r)
            d = np.where(t < r, t + 1, t)
        else:
            raise ConfigError(
                f"unsupported EDGE_WEIGHT_TYPE {edge_weight_type!r}; "
                f"supported: {', '.join(EDGE_WEIGHT_TYPES)}"
            )
    np.fill_diagonal(d, 0)
    return d


def _explicit(tokens: np.ndarray, n: int, fmt: str) -> np.ndarray:
    d = np.zeros((n, n), dtype=tokens.dtype)
    if fmt == "FULL_MATRIX":
        d[:] = tokens.reshape(n, n)
    else:
        idx = {
            "UPPER_ROW": np.triu_indices(n, 1),
            "LOWER_ROW": np.tril_indices(n, -1),
            "UPPER_DIAG_ROW": np.triu_indices(n, 0),
            "LOWER_DIAG_ROW": np.tril_indices(n, 0),
        }[fmt]
        d[idx] = tokens
        np.fill_diagonal(d, 0)
        d = d + d.T
    np.fill_diagonal(d, 0)
    return d


def _expected_count(n: int, fmt: str) -> int:
    return {
        "FULL_MATRIX": n * n,
        "UPPER_ROW": n * (n - 1) // 2,
        "LOWER_ROW": n * (n - 1) // 2,
        "UPPER_DIAG_ROW": n * (n + 1) // 2,
        "LOWER_DIAG_ROW": n * (n + 1) // 2,
    }[fmt]


def read_tsplib(path: str | os.PathLike[str]) -> TSPLIBInstance:
    """Parse a TSPLIB ``.tsp``, ``.atsp`` or ``.tour`` file.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataFormatError
        Naming the file, the line and what was expected there.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TSPLIB file not found: {path}")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    fname = path.name

    def fail(lineno: int, what: str) -> DataFormatError:
        got = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else "end of file"
        return DataFormatError(f"{fname}, line {lineno}: expected {what}, got {got!r}")

    header: dict[str, str] = {}
    coords = tour = weights = None
    k = 0
    while k < len(lines):
        line = lines[k].strip()
        k += 1
        if not line:
            continue
        keyword = line.split(":")[0].strip().split()[0].upper()
        if keyword == "EOF":
            break
        if keyword in _SECTIONS:
            n = _dimension(header, fname, k)
            start = k
            block: list[tuple[int, list[str]]] = []
            while k < len(lines):
                parts = lines[k].split()
                if parts and (parts[0][0].isalpha() and parts[0] != "-1"):
                    if parts[0].upper().split(":")[0] in _SECTIONS or ":" in lines[k]:
                        break
                k += 1
                if parts:
                    block.append((k, parts))
            if keyword == "NODE_COORD_SECTION":
                coords = _coords(block, n, fail, start)
            elif keyword == "EDGE_WEIGHT_SECTION":
                weights = (block, start)
            elif keyword == "TOUR_SECTION":
                tour = _tour(block, n, fail, start)
            continue
        if ":" not in line:
            raise fail(k, "a header line 'KEY : value' or a section name")
        key, _, value = line.partition(":")
        header[key.strip().upper()] = value.strip()

    n = _dimension(header, fname, len(lines))
    kind = header.get("TYPE", "").split()[0].upper() if header.get("TYPE") else ""
    ewt = header.get("EDGE_WEIGHT_TYPE", "").upper() or None
    distances = None
    if ewt is not None and kind != "TOUR":
        if ewt not in EDGE_WEIGHT_TYPES:
            raise DataFormatError(
                f"{fname}: unsupported EDGE_WEIGHT_TYPE {ewt!r}; supported: "
                + ", ".join(EDGE_WEIGHT_TYPES)
            )
        if ewt == "EXPLICIT":
            fmt = header.get("EDGE_WEIGHT_FORMAT", "").upper()
            if fmt not in EDGE_WEIGHT_FORMATS:
                raise DataFormatError(
                    f"{fname}: unsupported EDGE_WEIGHT_FORMAT {fmt!r}; supported: "
                    + ", ".join(EDGE_WEIGHT_FORMATS)
                )
            if weights is None:
                raise DataFormatError(f"{fname}: EXPLICIT weights need an EDGE_WEIGHT_SECTION")
            block, start = weights
            tokens = []
            for lineno, parts in block:
                for tok in parts:
                    try:
                        w = float(tok)
                    except ValueError:
                        raise fail(lineno, "numeric edge weights") from None
                    if not np.isfinite(w):
                        raise fail(lineno, "finite edge weights")
                    tokens.append(w)
            want = _expected_count(n, fmt)
            if len(tokens) != want:
                raise DataFormatError(
                    f"{fname}, line {start}: EDGE_WEIGHT_SECTION ({fmt}, DIMENSION {n}) needs "
                    f"{want} weights, found {len(tokens)}"
                )
            values = np.array(tokens, dtype=float)
            if np.all(values == np.round(values)) and np.all(np.abs(values) < 2.0**53):
                values = values.astype(np.int64)  # integers, exactly
            distances = _explicit(values, n, fmt)
        else:
            if coords is None:
                raise DataFormatError(f"{fname}: {ewt} weights need a NODE_COORD_SECTION")
            distances = distance_matrix(coords, ewt)
    if kind == "TOUR" and tour is None:
        raise DataFormatError(f"{fname}: a TOUR file needs a TOUR_SECTION")
    return TSPLIBInstance(
        name=header.get("NAME", path.stem).split()[0] if header.get("NAME") else path.stem,
        type=kind,
        dimension=n,
        comment=header.get("COMMENT", ""),
        edge_weight_type=ewt,
        coords=coords,
        distances=distances,
        tour=tour,
        path=path,
    )


def _dimension(header: dict[str, str], fname: str, lineno: int) -> int:
    if "DIMENSION" not in header:
        raise DataFormatError(f"{fname}, line {lineno}: DIMENSION must come before any section")
    try:
        n = int(header["DIMENSION"])
    except ValueError:
        raise DataFormatError(
            f"{fname}: DIMENSION must be an integer, got {header['DIMENSION']!r}"
        ) from None
    if n < 2:
        raise DataFormatError(f"{fname}: DIMENSION must be at least 2, got {n}")
    require(f"{fname}: DIMENSION={n}", 3 * 8 * float(n) ** 2)  # distances and the family
    return n


def _coords(block, n, fail, start) -> np.ndarray:
    xy = np.full((n, 2), np.nan)
    for lineno, parts in block:
        try:
            i, x, y = int(parts[0]), float(parts[1]), float(parts[2])
            if len(parts) != 3:
                raise ValueError
        except (ValueError, IndexError):
            raise fail(lineno, "3 numbers 'id x y' in NODE_COORD_SECTION") from None
        if not 1 <= i <= n:
            raise fail(lineno, f"a node id in 1..{n}")
        if not (np.isfinite(x) and np.isfinite(y)):
            raise fail(lineno, "finite coordinates")
        xy[i - 1] = (x, y)
    if np.isnan(xy).any():
        missing = int(np.argmax(np.isnan(xy[:, 0]))) + 1
        raise fail(start, f"coordinates for all {n} nodes (node {missing} is missing)")
    return xy


def _tour(block, n, fail, start) -> np.ndarray:
    nodes = []
    for lineno, parts in block:
        for tok in parts:
            try:
                v = int(tok)
            except ValueError:
                raise fail(lineno, "node numbers in TOUR_SECTION") from None
            if v == -1:
                break
            nodes.append(v - 1)
    tour = np.array(nodes, dtype=np.int64)
    if tour.size != n or not np.array_equal(np.sort(tour), np.arange(n)):
        raise fail(start, f"a permutation of 1..{n} in TOUR_SECTION")
    return tour


def tour_length(distances: np.ndarray, tours: np.ndarray) -> np.ndarray | float:
    r"""Length of closed tours, :math:`\sum_k d_{t_k, t_{k+1}} + d_{t_{n-1}, t_0}`.

    ``tours`` of shape ``(N, n)`` gives an ``(N,)`` array; a single ``(n,)`` tour a float.

    Examples
    --------
    >>> d = np.array([[0, 1, 5], [2, 0, 1], [1, 9, 0]])
    >>> tour_length(d, np.array([[0, 1, 2], [0, 2, 1]]))
    array([ 3, 16])
    """
    t = np.asarray(tours)
    if t.ndim == 1:
        return float(distances[t, np.roll(t, -1)].sum())
    return distances[t, np.roll(t, -1, axis=1)].sum(axis=1)


def load_optima(path: str | os.PathLike[str] = DATA_DIR / "OPTIMA.csv") -> dict[str, int]:
    """Published optimal tour lengths from an ``OPTIMA.csv`` (``name,...,optimum,...``; see
    :func:`cem.problems.optima.read_table` for the format and its errors)."""
    return {name: int(v) for name, (v, _) in read_table(path, "optimum").items()}


def distances_digest(distances: np.ndarray) -> str:
    """SHA-256 of a distance matrix's content (its shape and values, off the diagonal).

    The same instance gives the same digest whatever its file's name, ``NAME:``,
    layout or ``EDGE_WEIGHT_FORMAT``; any changed distance changes it.
    """
    d = np.array(distances, dtype="<f8")
    np.fill_diagonal(d, 0.0)
    h = hashlib.sha256(f"tsp {d.shape[0]}x{d.shape[1]};".encode())
    h.update(np.ascontiguousarray(d).tobytes())
    return h.hexdigest()


def listed_optimum(
    inst: TSPLIBInstance, tables: Sequence[str | os.PathLike[str]] = ()
) -> ListedOptimum | None:
    """The published optimum of an instance, attached by content or, failing a digest, by name.

    The instance's ``NAME`` is looked up in the bundled ``OPTIMA.csv``, then in
    ``tables`` (e.g. the ``OPTIMA.csv`` beside a user's file), by
    :func:`cem.problems.optima.lookup`: where a table lists a ``sha256`` for the name,
    the optimum is attached only when the instance's :func:`distances_digest` equals it
    (a file that merely carries a known ``NAME:`` gets none); a name listed without one
    attaches its optimum by name, which :attr:`~cem.problems.optima.ListedOptimum.note`
    says.
    """
    if inst.distances is None:
        return None
    distances = inst.distances
    return lookup(inst.name, lambda: distances_digest(distances),
                  [DATA_DIR / "OPTIMA.csv", *map(Path, tables)], "optimum")  # fmt: skip


def known_optimum(inst: TSPLIBInstance, table: str | os.PathLike[str] | None = None) -> int | None:
    """The value of :func:`listed_optimum` (with ``table`` after the bundled one), or ``None``."""
    found = listed_optimum(inst, () if table is None else (table,))
    return None if found is None else int(found.value)


def bundled_instance_path(name: str) -> Path:
    """Path of a TSPLIB instance bundled with the package (``"br17"``, ``"berlin52"``, ...)."""
    found = {p.name.split(".")[0]: p for p in DATA_DIR.glob("*.*tsp")}
    if name not in found:
        raise ConfigError(
            f"no bundled TSPLIB instance {name!r}; bundled: {', '.join(sorted(found))}"
        )
    return found[name]
