r"""The maximal cut problem.

Given a weighted undirected graph with symmetric weights :math:`c_{ij}` (zero
diagonal), a cut is a partition of the nodes, encoded by :math:`x \in \{0, 1\}^n`.
Its value is

.. math:: S(x) = \sum_{i<j} c_{ij} [x_i \ne x_j] = x^\top C (1 - x),

which the CE method maximizes with an independent :class:`~cem.families.Bernoulli`
family. As in the CE tutorial, node 1 is fixed on side 0 (``p_1 = 0``), which
removes the symmetry between a cut and its complement.

References
----------
.. [1] R. Y. Rubinstein, "Cross-entropy and rare events for maximal cut and partition
   problems", ACM TOMACS 12(1):27-53, 2002.
.. [2] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005, Sec. 3.1 and 4.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from cem.errors import ConfigError, DataFormatError
from cem.families import Bernoulli
from cem.problem import Problem, index_ranges
from cem.problems.optima import ListedOptimum, lookup, read_table
from cem.toolkit import check_int, is_int, require

__all__ = [
    "MaxCut",
    "bundled_gset",
    "gset_best_known",
    "gset_listed",
    "read_gset",
    "synthetic_matrix",
    "tutorial_matrix",
    "weights_digest",
]

#: Gset graphs bundled with the package.
GSET_DIR = Path(__file__).resolve().parent.parent / "data" / "gset"

#: Above this density the weight matrix is kept dense.
_DENSE_ABOVE = 0.1
#: Up to this many nodes the tabu search keeps a dense copy of the weights (rows by index).
_TABU_DENSE_UP_TO = 4000
#: The local searches of :meth:`MaxCut.polish`.
LOCAL_SEARCHES = ("1-flip", "tabu")


def tutorial_matrix() -> np.ndarray:
    """The 5-node cost matrix of the CE tutorial (optimal cut {1,2}|{3,4,5}, value 28)."""
    return np.array(
        [
            [0, 1, 3, 5, 6],
            [1, 0, 3, 6, 5],
            [3, 3, 0, 2, 2],
            [5, 6, 2, 0, 2],
            [6, 5, 2, 2, 0],
        ],
        dtype=float,
    )


def synthetic_matrix(
    n: int, m: int, rng: np.random.Generator, a: float = 0.0, b: float = 1.0, c: float = 1.0
) -> np.ndarray:
    r"""The CE tutorial's synthetic max-cut matrix with a known optimal cut.

    .. math:: C = \begin{pmatrix} Z_{11} & B_{12} \\ B_{21} & Z_{22} \end{pmatrix}

    :math:`Z_{11}` (``m x m``) and :math:`Z_{22}` (``(n-m) x (n-m)``) are symmetric with
    upper-diagonal entries drawn from :math:`U(a, b)` and a zero diagonal; every entry of
    :math:`B_{12} = B_{21}^\top` is ``c``. When :math:`c \ge b (n-m)/m` (and
    :math:`m \ge n - m`), the cut :math:`\{1..m\} | \{m+1..n\}` is optimal with value
    :math:`c\, m (n - m)` (de Boer et al. 2005, Sec. 4.1; the bound holds with equality
    for the tutorial's ``a=0, b=1, c=1, m=n/2`` since the :math:`U(0, 1)` entries are
    below 1 almost surely).
    """
    if not (1 <= m < n):
        raise ConfigError(f"synthetic max-cut needs 1 <= m < n, got n={n}, m={m}")
    C = np.full((n, n), float(c))
    for lo, hi in ((0, m), (m, n)):
        k = hi - lo
        Z = np.triu(rng.uniform(a, b, size=(k, k)), 1)
        C[lo:hi, lo:hi] = Z + Z.T
    return C


def read_gset(path: str | os.PathLike[str]) -> sp.csr_array:
    """Read a Gset graph file into a symmetric sparse weight matrix.

    Format: a header ``n m``, then ``m`` lines ``i j w`` (1-based vertices).

    The file is read as it is: a self-loop, or an edge given twice (in either
    orientation), is refused rather than dropped or summed, since either would change
    the instance that a published best-known cut refers to.

    Raises
    ------
    DataFormatError
        Naming the file and line, for a malformed header or edge line, a vertex out of
        ``1..n``, a self-loop, a duplicate edge, or an edge count that differs from the
        header.
    ResourceLimitError
        When the header's ``n`` would need more memory than :mod:`cem._memory` allows.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Gset file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path.name}: not a text file ({exc.reason})") from None
    content = [(k + 1, ln.split()) for k, ln in enumerate(lines) if ln.strip()]
    if not content:
        raise DataFormatError(f"{path.name}: empty file, expected a header line 'n m'")
    lineno, head = content[0]
    try:
        n, m = (int(v) for v in head)
    except ValueError:
        raise DataFormatError(
            f"{path.name}, line {lineno}: expected header 'n m' (two integers), got {lines[0]!r}"
        ) from None
    if n < 2 or m < 0:
        raise DataFormatError(f"{path.name}, line {lineno}: need n >= 2 and m >= 0, got {n} {m}")
    require(f"{path.name}: n={n}", 8 * (4 * (n + 1) + 6 * m))
    edges = content[1:]
    if len(edges) != m:
        raise DataFormatError(f"{path.name}: header announces {m} edges, the file has {len(edges)}")
    rows = np.empty(m, dtype=np.int64)
    cols = np.empty(m, dtype=np.int64)
    wts = np.empty(m, dtype=float)
    for e, (lineno, parts) in enumerate(edges):
        try:
            i, j, w = int(parts[0]), int(parts[1]), float(parts[2])
            if len(parts) != 3:
                raise ValueError
        except (ValueError, IndexError):
            raise DataFormatError(
                f"{path.name}, line {lineno}: expected an edge 'i j w' (two vertex numbers and "
                f"a weight), got {lines[lineno - 1]!r}"
            ) from None
        if not (1 <= i <= n and 1 <= j <= n) or i == j:
            raise DataFormatError(
                f"{path.name}, line {lineno}: vertices must be distinct and in 1..{n}, got {i} {j}"
            )
        rows[e], cols[e], wts[e] = i - 1, j - 1, w
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(key[order][1:] == key[order][:-1])
    if dup.size:
        e = order[dup[0] + 1]
        raise DataFormatError(
            f"{path.name}, line {edges[e][0]}: the edge {lo[e] + 1} {hi[e] + 1} is given twice "
            "(duplicate edges are not summed; merge them in the file)"
        )
    W = sp.coo_array((wts, (rows, cols)), shape=(n, n))
    return (W + W.T).tocsr()


def weights_digest(weights: np.ndarray | sp.sparray) -> str:
    """SHA-256 of a symmetric weight matrix's content (its upper-triangle edges).

    The same graph gives the same digest whatever its file's layout, name or edge
    order, and any change of an edge or weight changes it.
    """
    W = sp.coo_array(sp.triu(sp.csr_array(weights, dtype=float), k=1))
    order = np.lexsort((W.col, W.row))
    h = hashlib.sha256(f"maxcut {W.shape[0]};".encode())
    for a in (W.row[order].astype("<i8"), W.col[order].astype("<i8"), W.data[order].astype("<f8")):
        h.update(a.tobytes())
    return h.hexdigest()


def bundled_gset(name: str) -> Path:
    """Path of a Gset graph bundled with the package (``"G1"``, ``"G14"``)."""
    folder = GSET_DIR
    names = sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))
    if name not in names:
        raise ConfigError(f"no bundled Gset graph {name!r}; bundled: {', '.join(names)}")
    return folder / f"{name}.txt"


def gset_best_known(
    name: str,
    weights: np.ndarray | sp.sparray | None = None,
    tables: Sequence[str | os.PathLike[str]] = (),
) -> float | None:
    """Best-known cut of a Gset graph (Benlic & Hao 2013), or ``None`` if not listed.

    The value listed for ``name`` in the bundled ``BEST_KNOWN.csv``, then in ``tables``
    (e.g. the ``BEST_KNOWN.csv`` beside a user's file). With ``weights``, it is returned
    only as :func:`gset_listed` attaches it: a file that merely has the name of a listed
    graph does not get its best-known cut.
    """
    if weights is None:
        for table in (GSET_DIR / "BEST_KNOWN.csv", *map(Path, tables)):
            entry = read_table(table, "best_known_cut").get(name) if table.is_file() else None
            if entry is not None:
                return entry[0]
        return None
    found = gset_listed(name, weights, tables)
    return None if found is None else found.value


def gset_listed(
    name: str, weights: np.ndarray | sp.sparray, tables: Sequence[str | os.PathLike[str]] = ()
) -> ListedOptimum | None:
    """The best-known cut listed for a graph, attached by content or, failing a digest, by name.

    Looked up by :func:`cem.problems.optima.lookup` in the bundled ``BEST_KNOWN.csv``,
    then in ``tables``: where a table lists a ``sha256`` for ``name``, the value is
    attached only when the graph's :func:`weights_digest` equals it; a name listed
    without one attaches its value by name, which the result's ``note`` says.
    """
    return lookup(name, lambda: weights_digest(weights),
                  [GSET_DIR / "BEST_KNOWN.csv", *map(Path, tables)], "best_known_cut")  # fmt: skip


class MaxCut(Problem):
    r"""Maximal cut of a weighted graph (maximize); best: local_search "tabu", cheap: "1-flip".

    For large graphs (Gset) the best setting is ``local_search = "tabu"``: its
    :meth:`default_options` polish the elite of 100 samples by the tabu search every
    iteration, which reaches 0-0.7% of the best-known cuts of G1, G11 and G14 in 10 s of
    CPU (``experiments/benchmarks/peers.py``; ``configs/maxcut_G1.toml``). The default,
    ``"1-flip"``, is the cheap option: plain CE (the CE tutorial's settings), with the
    1-flip descent when a polish is asked for (about 0.8% below on G1).

    Parameters
    ----------
    weights : ndarray, scipy sparse matrix or networkx.Graph
        Symmetric weights :math:`c_{ij}` with a zero diagonal (edge attribute
        ``"weight"``, default 1, for a graph).
    fix_first : bool, default True
        Keep node 1 on side 0, removing the cut/complement symmetry.
    known_optimum : float, optional
        Optimal (or best-known) cut value.
    name : str, optional
    local_search : {"1-flip", "tabu"}, default "1-flip"
        The :meth:`polish`: best-improvement 1-flip descent to a local optimum (cheap),
        or a tabu search that keeps moving past local optima (see :meth:`polish`; the
        best on Gset graphs, and it brings its own :meth:`default_options`).
    tabu_iters : int, default 20000
        Moves of the tabu search per candidate.
    tabu_tenure : int, optional
        Iterations a flipped node stays tabu, plus a random extra in ``[0, tenure/2]``;
        default :math:`\max(10, \lceil n / 20 \rceil)`.

    Notes
    -----
    Scoring a batch costs one product ``X @ C``: :math:`O(N n^2)` dense, or
    :math:`O(N |E|)` with a sparse ``C`` (used when the density is below 10%).

    Examples
    --------
    >>> import numpy as np
    >>> from cem.problems.maxcut import MaxCut
    >>> prob = MaxCut.tutorial()
    >>> float(prob.score(np.array([[0, 0, 1, 1, 1]]))[0])
    28.0
    """

    sense = "max"
    family_types = (Bernoulli,)
    score_label = "cut weight"
    search_keys = ("fix_first", "local_search", "tabu_iters", "tabu_tenure")

    def __init__(
        self,
        weights: Any,
        fix_first: bool = True,
        known_optimum: float | None = None,
        name: str | None = None,
        local_search: str = "1-flip",
        tabu_iters: int = 20000,
        tabu_tenure: int | None = None,
    ) -> None:
        W: Any = self._as_matrix(weights)
        self.n = W.shape[0]
        self._dense_rows: np.ndarray | None = None
        self.set_local_search(local_search, tabu_iters, tabu_tenure)
        self.fix_first = bool(fix_first)
        self.known_optimum = None if known_optimum is None else float(known_optimum)
        #: How :attr:`known_optimum` was matched when it is not certain ("" otherwise).
        self.optimum_note = ""
        self.name = name or f"maxcut-{self.n}"
        density = W.nnz / self.n**2 if sp.issparse(W) else np.count_nonzero(W) / self.n**2
        if density > _DENSE_ABOVE:
            require(f"the dense weight matrix of {self.name}", 8.0 * self.n**2)
            W = W.toarray() if sp.issparse(W) else np.asarray(W, dtype=float)
        else:
            W = sp.csr_array(W, dtype=float)
        self.weights: Any = W  # a dense ndarray or a scipy.sparse.csr_array

    @staticmethod
    def _as_matrix(weights: Any) -> np.ndarray | sp.csr_array:
        if isinstance(weights, nx.Graph):
            if weights.is_directed():
                raise ConfigError("max-cut needs an undirected graph, got a directed one")
            W = nx.to_scipy_sparse_array(weights, weight="weight", dtype=float, format="csr")
        elif sp.issparse(weights):
            W = sp.csr_array(weights, dtype=float)
        else:
            try:
                W = np.asarray(weights, dtype=float)
            except (TypeError, ValueError):
                raise ConfigError("weights must be a numeric matrix or a networkx graph") from None
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 2:
            raise ConfigError(f"weights must be a square matrix with n >= 2, got shape {W.shape}")
        diff = abs(W - W.T)
        if (diff.max() if sp.issparse(diff) else np.max(diff)) > 1e-12:
            raise ConfigError("max-cut weights must be symmetric (an undirected graph)")
        if np.any(W.diagonal() != 0):
            raise ConfigError("max-cut weights must have a zero diagonal (no self-loops)")
        data = W.data if sp.issparse(W) else W
        if not np.all(np.isfinite(data)):
            raise ConfigError("max-cut weights must be finite")
        with np.errstate(over="ignore"):
            total = float(np.abs(data).sum())
        if not np.isfinite(total):
            raise ConfigError("max-cut weights are too large: their sum overflows to inf")
        return W

    # ------------------------------------------------------------------ builders
    @classmethod
    def tutorial(cls) -> MaxCut:
        """The CE tutorial's 5-node example; optimum 28 with the cut {1,2}|{3,4,5}."""
        return cls(tutorial_matrix(), known_optimum=28.0, name="tutorial5")

    @classmethod
    def synthetic(cls, n: int = 400, m: int | None = None, seed: int = 0) -> MaxCut:
        """The tutorial's synthetic instance (:func:`synthetic_matrix`, ``a=0, b=1, c=1``)."""
        m = n // 2 if m is None else m
        if n - m > m:
            raise ConfigError(f"the known optimum needs m >= n - m, got n={n}, m={m}")
        require(f"n={n}", 3 * 8 * float(n) ** 2)  # C, the diagonal blocks and a copy
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        return cls(
            synthetic_matrix(n, m, rng), known_optimum=float(m * (n - m)), name=f"synthetic-{n}"
        )

    @classmethod
    def from_gset(cls, path: str | os.PathLike[str], known_optimum: float | None = None) -> MaxCut:
        """A Gset graph file (see :func:`read_gset`).

        Unless given, the known optimum is the best-known cut listed for the file's name
        in the bundled ``BEST_KNOWN.csv`` or in a ``BEST_KNOWN.csv`` beside the file
        (columns ``name`` and ``best_known_cut``, optionally ``sha256``; see
        :mod:`cem.problems.optima`): where a ``sha256`` is listed for the name, only a
        graph with that content gets it (:func:`gset_listed`); a name listed without one
        attaches its value by name, and :meth:`describe` says so.

        Raises
        ------
        DataFormatError
            For a malformed graph file, or a malformed ``BEST_KNOWN.csv`` beside it
            (naming the file and line).
        """
        W = read_gset(path)
        note = ""
        if known_optimum is None:
            found = gset_listed(Path(path).stem, W, [Path(path).parent / "BEST_KNOWN.csv"])
            if found is not None:
                known_optimum, note = found.value, found.note
        prob = cls(W, known_optimum=known_optimum, name=Path(path).stem)
        prob.optimum_note = note
        return prob

    @classmethod
    def from_config(
        cls,
        instance: str = "synthetic",
        n: int = 400,
        m: int | None = None,
        seed: int = 0,
        file: str | None = None,
        fix_first: bool = True,
        local_search: str = "1-flip",
        tabu_iters: int = 20000,
        tabu_tenure: int | None = None,
    ) -> MaxCut:
        """Build from config keys.

        Parameters
        ----------
        instance : str
            ``"tutorial5"``, ``"synthetic"`` (uses ``n``, ``m``, ``seed``), a bundled
            Gset name such as ``"G1"`` or ``"G14"``, or ``"gset"`` with ``file``.
        local_search, tabu_iters, tabu_tenure
            The polish (see :class:`MaxCut`).
        """
        for key, value, low, high in (("n", n, 2, 100_000), ("seed", seed, 0, 2**63 - 1)):
            check_int(key, value, low, high)
        if m is not None:
            check_int("m", m)
        if not isinstance(instance, str):
            raise ConfigError(f"instance must be a string, got {instance!r}")
        if not isinstance(fix_first, bool):
            raise ConfigError(f"fix_first must be true or false, got {fix_first!r}")
        if file is not None and instance != "gset":
            raise ConfigError(f"file = {file!r} is read only with instance = 'gset' "
                              f"(instance is {instance!r})")  # fmt: skip
        if instance == "tutorial5":
            prob = cls.tutorial()
        elif instance == "synthetic":
            prob = cls.synthetic(n, m, seed)
        elif instance == "gset":
            if file is None:
                raise ConfigError("instance='gset' needs file = 'path/to/graph'")
            prob = cls.from_gset(file)
        elif instance.startswith("G") and instance[1:].isdigit():
            prob = cls.from_gset(bundled_gset(instance))
        else:
            raise ConfigError(
                f"instance must be 'tutorial5', 'synthetic', 'gset' or a bundled Gset name "
                f"such as 'G1', got {instance!r}"
            )
        prob.fix_first = fix_first
        prob.set_local_search(local_search, tabu_iters, tabu_tenure)
        return prob

    def set_local_search(
        self, local_search: str = "1-flip", tabu_iters: int = 20000, tabu_tenure: int | None = None
    ) -> MaxCut:
        """Choose the :meth:`polish` (see :class:`MaxCut`); returns ``self``."""
        if local_search not in LOCAL_SEARCHES:
            raise ConfigError(
                f"local_search must be one of {', '.join(map(repr, LOCAL_SEARCHES))}, "
                f"got {local_search!r}"
            )
        for key, value in (("tabu_iters", tabu_iters), ("tabu_tenure", tabu_tenure)):
            if value is not None and not (is_int(value) and value >= 1):
                raise ConfigError(f"{key} must be an integer >= 1, got {value!r}")
        self.local_search = local_search
        self.tabu_iters = int(tabu_iters)
        self.tabu_tenure = max(10, -(-self.n // 20)) if tabu_tenure is None else int(tabu_tenure)
        return self

    # ------------------------------------------------------------------ problem
    def default_options(self) -> dict[str, Any]:
        """With the tabu search: polish the elite of 100 samples per iteration.

        Each tabu run costs ``tabu_iters`` vectorized steps whatever the number of rows,
        so a small sample (10 elite rows) gives the search most of the time; the CE
        family then restarts it from the region of the best cuts (a memetic scheme).
        """
        if self.local_search == "tabu":
            return {"polish": "elite", "n_samples": 100, "rho": 0.1}
        return {}

    def initial_family(self) -> Bernoulli:
        """``p = 1/2`` everywhere, except ``p_1 = 0`` when node 1 is fixed."""
        p = np.full(self.n, 0.5)
        if self.fix_first:
            p[0] = 0.0
        return Bernoulli(p)

    def score(self, X: np.ndarray) -> np.ndarray:
        """Cut values :math:`x^\\top C (1 - x)` of a batch ``(N, n)`` of 0/1 rows.

        Only crossing weights enter the sum, so integer weights give exact values.
        """
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n:
            raise ConfigError(f"max-cut expects X of shape (N, {self.n}), got {X.shape}")
        return np.einsum("ij,ij->i", X @ self.weights, 1.0 - X)

    def polish(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The local search chosen by ``local_search`` on every row of ``X`` at once."""
        if self.local_search == "tabu":
            return self.tabu_search(X, scores)
        return self.one_flip(X, scores)

    def one_flip(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""1-flip local search, best improvement, on every row at once.

        With :math:`s = 2x - 1`, flipping node ``i`` changes the cut by
        :math:`g_i = s_i (C s)_i`; each round flips the node of largest positive gain
        in every row that has one, until no row improves (a 1-flip local optimum).
        """
        S = 2.0 * np.asarray(X, dtype=float) - 1.0
        CS = S @ self.weights
        scores = np.asarray(scores, dtype=float).copy()
        rows = np.arange(S.shape[0])
        dense = self.weights if not sp.issparse(self.weights) else None
        while True:
            gain = S * CS
            if self.fix_first:
                gain[:, 0] = -np.inf
            best = np.argmax(gain, axis=1)
            g = gain[rows, best]
            active = g > 1e-9
            if not active.any():
                break
            r, i = rows[active], best[active]
            old = S[r, i].copy()
            S[r, i] = -old
            scores[r] += g[active]
            col = dense[i] if dense is not None else self.weights[i].toarray()
            CS[r] -= 2.0 * old[:, None] * col
        return (S > 0).astype(float), scores

    def plot_solution(self, x: np.ndarray, ax: Any) -> None:
        """Draw the partition ``x`` (:func:`cem.problems.maxcut.plots.plot_partition`)."""
        from cem.problems.maxcut.plots import plot_partition

        plot_partition(self, x, ax)

    def _rows(self, i: np.ndarray) -> np.ndarray:
        """Rows ``i`` of the weight matrix as a dense ``(len(i), n)`` array."""
        if not sp.issparse(self.weights):
            return self.weights[i]
        if self.n > _TABU_DENSE_UP_TO:
            return self.weights[i].toarray()
        if self._dense_rows is None:
            self._dense_rows = self.weights.toarray()
        return self._dense_rows[i]

    def tabu_search(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Tabu search with 1-flip moves, run on every row at once; the best cut seen.

        Each of ``tabu_iters`` steps flips, in every row, the node of largest gain
        :math:`g_i = s_i (C s)_i` (:math:`s = 2x - 1`) among the nodes that are not
        tabu, even when that gain is negative; a flipped node is tabu for
        ``tabu_tenure`` plus a random :math:`[0, \text{tenure}/2]` steps, unless
        flipping it would beat the row's best cut (aspiration). The gains are updated
        incrementally, :math:`C s \leftarrow C s + 2 s_i' C_{i\cdot}` after the flip
        of node :math:`i` to :math:`s_i'`: one weight row per candidate and step. Ties
        are broken at random. The randomness is seeded from the candidates
        themselves, so the same batch always gives the same result.

        References
        ----------
        .. [1] F. Glover, "Tabu search — part I", ORSA J. Comput. 1(3):190-206, 1989.
        .. [2] U. Benlic, J.-K. Hao, "Breakout local search for the max-cut problem",
           Eng. Appl. Artif. Intell. 26(3):1162-1173, 2013.
        """
        X = np.asarray(X, dtype=float)
        S = 2.0 * X - 1.0
        k, n = S.shape
        rng = np.random.default_rng(zlib.crc32(np.packbits(X > 0.5).tobytes()))
        CS = np.asarray(S @ self.weights)
        cur = np.asarray(scores, dtype=float).copy()
        best, best_S = cur.copy(), S.copy()
        rows = np.arange(k)
        tie = 1e-6 * float(np.max(np.abs(self._rows(np.arange(min(n, 64))))) or 1.0)
        free_at = np.zeros((k, n), dtype=np.int64)  # first step at which a node may move
        frozen = np.zeros(n, dtype=bool)
        frozen[0] = self.fix_first
        extra = rng.integers(0, self.tabu_tenure // 2 + 1, size=(self.tabu_iters, k))
        for t in range(self.tabu_iters):
            gain = S * CS
            allowed = (free_at <= t) | (cur[:, None] + gain > best[:, None] + 1e-9)
            allowed &= ~frozen
            i = np.argmax(np.where(allowed, gain + tie * rng.random((k, n)), -np.inf), axis=1)
            cur += gain[rows, i]
            S[rows, i] *= -1.0
            CS += 2.0 * S[rows, i, None] * self._rows(i)
            free_at[rows, i] = t + 1 + self.tabu_tenure + extra[t]
            better = cur > best + 1e-9
            if better.any():
                best[better] = cur[better]
                best_S[better] = S[better]
        Y = (best_S > 0).astype(float)
        return Y, self.score(Y)  # exact values, free of the running sums' rounding

    def describe(self) -> str:
        opt = f", known optimum {self.known_optimum:g}" if self.known_optimum is not None else ""
        opt += f" ({self.optimum_note})" if opt and self.optimum_note else ""
        return f"max-cut on {self.name} ({self.n} nodes{opt})"

    def format_solution(self, x: np.ndarray) -> str:
        """The cut's two sides, each as ranges of node numbers (0-based)."""
        x = np.asarray(x) > 0.5
        sides = [np.flatnonzero(~x), np.flatnonzero(x)]
        return "; ".join(f"side {k}: {len(nodes)} nodes {index_ranges(nodes)}"
                         for k, nodes in enumerate(sides))  # fmt: skip
