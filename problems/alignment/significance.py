r"""The significance of a local alignment score: Karlin-Altschul statistics and CE sampling.

For two i.i.d. random sequences of lengths :math:`m, n` with letter frequencies
:math:`p`, the tail :math:`\ell(s) = P(S \ge s)` of the best local alignment score
:math:`S` is the p-value BLAST reports (its E-value is :math:`-\ln(1 - \ell)`).

**Karlin-Altschul** (ungapped, integer scores with negative mean and a positive score):

.. math:: \ell(s) \approx 1 - \exp(-K m' n' e^{-\lambda s}),

with :math:`\lambda > 0` the root of :math:`\sum_{ij} p_i p_j e^{\lambda s_{ij}} = 1`
(:func:`karlin_altschul`, by bracketing), the relative entropy
:math:`H = \lambda \sum_{ij} p_i p_j s_{ij} e^{\lambda s_{ij}}`, and, for scores on the
lattice of span :math:`\delta` (their greatest common divisor),

.. math:: K = \frac{\lambda \delta\, e^{-2 \sigma}}{H (1 - e^{-\lambda \delta})}, \qquad
          \sigma = \sum_{k \ge 1} \frac1k \Big( E[e^{\lambda S_k}; S_k < 0]
          + P(S_k \ge 0) \Big),

:math:`S_k` the sum of :math:`k` i.i.d. pair scores, computed from its exact
distribution by repeated convolution until the terms fall below ``1e-12``. The finite
lengths are corrected for the edge effect, :math:`m' = m - \lambda s / H` and likewise
:math:`n'` (Altschul & Gish 1996: an alignment of score :math:`s` has about
:math:`\lambda s / H` letters).

**CE importance sampling** (:class:`LocalScoreTail`): the letters of both sequences are
the random input :math:`X`, i.i.d. with frequencies :math:`p` under the nominal family
(:class:`SequenceLetters`). Families of independent letters (one categorical per
position, or one per sequence) cannot reach the event: a high-scoring segment may lie
anywhere, so the elite letters of any one position barely differ from the nominal ones
and the levels stall. The importance family is instead :class:`PlantedSegment`: a
segment of pairs drawn from a pair distribution :math:`q` planted at a uniformly random
diagonal window, its density the mixture over all windows (so the likelihood ratio is
exact); it starts at the Karlin-Altschul target pairs and the multilevel CE
(:mod:`cem.rare_event`) refits :math:`q` by an EM step per level, then estimates
:math:`\ell(s)` by importance sampling with the library's diagnostics. The score of a
batch is the Smith-Waterman score of each pair, ungapped (:func:`ungapped_local_scores`)
or gapped (the row-vectorized DP of :mod:`~cem.problems.alignment.dp` over the batch).

References
----------
.. [1] S. Karlin, S. F. Altschul, "Methods for assessing the statistical significance of
   molecular sequence features by using general scoring schemes", PNAS 87:2264-2268, 1990.
.. [2] S. F. Altschul, W. Gish, "Local alignment statistics", Methods Enzymol.
   266:460-480, 1996.
.. [3] J. Keith, D. P. Kroese, "Sequence alignment by rare event simulation", WSC 2002.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import entr

from cem.errors import ConfigError
from cem.families import Categorical, Family, normalized_weights
from cem.problems.alignment.dp import banded_dp
from cem.problems.alignment.scoring import Scoring, scoring
from cem.rare_event import RareEventProblem
from cem.toolkit import check_int, inverse_cdf, is_real, require

__all__ = [
    "ROBINSON_FREQUENCIES",
    "KarlinAltschul",
    "LocalScoreTail",
    "PlantedSegment",
    "SequenceLetters",
    "karlin_altschul",
    "robinson_frequencies",
    "ungapped_local_scores",
    "uniform_scheme",
]

#: Background amino-acid frequencies (percent) of Robinson & Robinson (PNAS 88:8880-8884,
#: 1991), the ones BLAST uses for its protein statistics.
ROBINSON_FREQUENCIES = {
    "A": 78.05, "C": 19.25, "D": 53.64, "E": 62.95, "F": 38.56, "G": 73.77, "H": 21.99,
    "I": 51.42, "K": 57.44, "L": 90.19, "M": 22.43, "N": 44.87, "P": 52.03, "Q": 42.64,
    "R": 51.29, "S": 71.20, "T": 58.41, "V": 64.41, "W": 13.30, "Y": 32.16,
}  # fmt: skip


def robinson_frequencies(alphabet: str) -> np.ndarray:
    """:data:`ROBINSON_FREQUENCIES` over ``alphabet`` (0 for other letters), normalized."""
    f = np.array([ROBINSON_FREQUENCIES.get(c, 0.0) for c in alphabet.upper()])
    if f.sum() <= 0:
        raise ConfigError(f"alphabet {alphabet!r} holds none of the 20 amino acids")
    return f / f.sum()


@dataclass(frozen=True)
class KarlinAltschul:
    """Karlin-Altschul parameters: ``lam`` (per score unit), ``K``, ``H`` (nats per pair)."""

    lam: float
    K: float
    H: float

    def tail(self, s: float, m: int, n: int, edge: bool = True) -> float:
        r""":math:`1 - \exp(-K m' n' e^{-\lambda s})`, with the edge correction when ``edge``."""
        length = self.lam * s / self.H if edge else 0.0
        area = max(m - length, 1.0) * max(n - length, 1.0)
        return -math.expm1(-self.K * area * math.exp(-self.lam * s))


def _score_distribution(scoring: Scoring, freqs: np.ndarray) -> tuple[np.ndarray, int]:
    """Probabilities of the integer pair scores ``low .. high``, and ``low``."""
    S = scoring.matrix
    if not np.all(S == np.round(S)):
        raise ConfigError(f"Karlin-Altschul statistics need integer scores; {scoring.name} "
                          "has fractional ones")  # fmt: skip
    P = np.outer(freqs, freqs)
    values = S.astype(np.int64).ravel()
    low = int(values[P.ravel() > 0].min())
    dist = np.bincount(values - low, weights=P.ravel())
    return dist, low


def karlin_altschul(scoring: Scoring, freqs: np.ndarray | None = None) -> KarlinAltschul:
    r""":math:`\lambda`, :math:`K` and :math:`H` of ungapped local alignment (module notes).

    Raises
    ------
    ConfigError
        Unless the expected pair score is negative and some score is positive.

    Examples
    --------
    >>> from cem.problems.alignment.scoring import dna_scoring
    >>> ka = karlin_altschul(dna_scoring(1, -1))  # K = (3/4 - 1/4)^2 / (3/4)
    >>> round(ka.lam, 6), round(ka.K, 6)
    (1.098612, 0.333333)
    """
    K_letters = len(scoring.alphabet)
    p = np.full(K_letters, 1.0 / K_letters) if freqs is None else np.asarray(freqs, float)
    if p.shape != (K_letters,) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ConfigError(f"freqs must be {K_letters} probabilities summing to 1")
    dist, low = _score_distribution(scoring, p)
    scores = low + np.arange(dist.size)
    mean = float(dist @ scores)
    if mean >= 0 or scores[dist > 0].max() <= 0:
        raise ConfigError(f"{scoring.name}: Karlin-Altschul statistics need a negative expected "
                          f"pair score and a positive score, got mean {mean:.4g}")  # fmt: skip

    def mgf(lam: float) -> float:
        return float(dist @ np.exp(lam * scores)) - 1.0

    hi = 1.0
    while mgf(hi) <= 0:
        hi *= 2.0
    lam = optimize.brentq(mgf, 1e-6 * hi, hi, xtol=1e-15, rtol=1e-15)  # mgf < 0 near 0
    tilted = dist * np.exp(lam * scores)
    H = lam * float(tilted @ scores)
    delta = int(np.gcd.reduce(scores[dist > 0]))
    sigma, Sk, k = 0.0, np.array([1.0]), 0
    offset = 0  # S_k takes the values offset + index
    while k < 10_000:
        k += 1
        Sk = np.convolve(Sk, dist)
        offset += low
        values = offset + np.arange(Sk.size)
        term = float(Sk[values < 0] @ np.exp(lam * values[values < 0]) + Sk[values >= 0].sum())
        sigma += term / k
        if term / k < 1e-12:
            break
        Sk[Sk < 1e-300] = 0.0
    K = lam * delta * math.exp(-2.0 * sigma) / (H * -math.expm1(-lam * delta))
    return KarlinAltschul(lam, K, H)


def ungapped_local_scores(A: np.ndarray, B: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    r"""The best ungapped local alignment score of each pair of rows, ``(N,)``:
    :math:`\max(0, \max_{ij} H_{ij})`, :math:`H_{ij} = \max(0, H_{i-1,j-1}) + s(a_i, b_j)`,
    one vectorized step per row of ``A``."""
    N, m = A.shape
    n = B.shape[1]
    H = np.zeros((N, n))
    best = np.zeros(N)
    for i in range(m):
        diag = np.zeros((N, n))
        diag[:, 1:] = np.maximum(H[:, :-1], 0.0)
        H = diag + matrix[A[:, i][:, None], B]
        best = np.maximum(best, H.max(axis=1))
    return best


class SequenceLetters(Family):
    r"""Two i.i.d. letter sequences: every letter of sequence :math:`r \in \{a, b\}` drawn
    from one categorical :math:`q_r` (the *tilted letter frequencies*).

    .. math:: f(x; q) = \prod_{i \le m} q_{a, x_i} \prod_{m < i \le m + n} q_{b, x_i},
              \qquad \hat q_{r, c} = \frac{\sum_k w_k \#\{i \in r : X_{ki} = c\}}
              {\sum_k w_k |r|}.

    Parameters
    ----------
    probs : array (2, K)
        The letter frequencies of the first and of the second sequence.
    m, n : int
        The lengths.
    """

    def __init__(self, probs: np.ndarray, m: int, n: int) -> None:
        P = np.array(probs, dtype=float)
        if P.ndim != 2 or P.shape[0] != 2 or np.any(P < 0) or not np.allclose(P.sum(1), 1):
            raise ConfigError(f"probs must be 2 rows of letter frequencies, got {P.shape}")
        P.flags.writeable = False
        self.probs, self.m, self.n = P, int(m), int(n)
        self._rows = np.repeat([0, 1], [self.m, self.n])

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.m + self.n,)

    def params(self) -> dict[str, np.ndarray]:
        return {"probs": self.probs}

    def with_params(self, **params: np.ndarray) -> SequenceLetters:
        return SequenceLetters(params["probs"], self.m, self.n)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        cdf = np.cumsum(self.probs, axis=1)[self._rows]
        u = rng.random((n, self.m + self.n, 1))
        return inverse_cdf(cdf[None], u * cdf[None, :, -1:], 2, self.probs.shape[1] - 1)

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> SequenceLetters:
        X = np.asarray(X, dtype=np.int64)
        w = normalized_weights(weights, X.shape[0])
        K = self.probs.shape[1]
        counts = np.zeros((2, K))
        for r, part in ((0, X[:, : self.m]), (1, X[:, self.m :])):
            counts[r] = np.bincount(part.ravel(), np.repeat(w, part.shape[1]), minlength=K)
        return SequenceLetters(counts / counts.sum(axis=1, keepdims=True), self.m, self.n)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            logp = np.log(self.probs)
        return logp[self._rows, np.asarray(X, dtype=np.int64)].sum(axis=1)

    def entropy(self) -> float:
        return float(self.m * entr(self.probs[0]).sum() + self.n * entr(self.probs[1]).sum())

    def mode(self) -> np.ndarray:
        return np.argmax(self.probs, axis=1)[self._rows]

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(np.all(self.probs.max(axis=1) >= 1.0 - tol))


#: Samples whose placements are summed over at once in :class:`PlantedSegment`.
_PLANTED_CHUNK = 64


def _diagonal_windows(D: np.ndarray, L: int) -> np.ndarray:
    """Sums of ``L`` consecutive cells along each diagonal: ``(N, m - L + 1, n - L + 1)``
    from ``(N, m, n)``, ``out[:, i, j] = sum_t D[:, i + t, j + t]``."""
    N, m, n = D.shape
    C = np.zeros((N, m + 1, n + 1))
    for u in range(m):
        C[:, u + 1, 1:] = C[:, u, :-1] + D[:, u, :]
    return C[:, L:, L:] - C[:, : m - L + 1, : n - L + 1]


def _covering(r: np.ndarray, L: int, m: int, n: int) -> np.ndarray:
    """For each cell, the sum of ``r`` over the windows of length ``L`` that hold it."""
    N = r.shape[0]
    P = np.zeros((N, m + L, n + L))
    P[:, L : L + r.shape[1], L : L + r.shape[2]] = r
    C = np.zeros((N, m + L + 1, n + L + 1))
    for u in range(m + L):
        C[:, u + 1, 1:] = C[:, u, :-1] + P[:, u, :]
    return C[:, L + 1 :, L + 1 :][:, :m, :n] - C[:, 1 : m + 1, 1 : n + 1]


class PlantedSegment(Family):
    r"""Two i.i.d. random sequences with one planted ungapped segment.

    A placement :math:`\pi = (i, j)` is drawn uniformly among the
    :math:`(m - L + 1)(n - L + 1)` diagonal windows of length :math:`L`; the :math:`L`
    pairs :math:`(a_{i+t}, b_{j+t})` of the window are drawn from the pair distribution
    :math:`q`, every other letter from the background :math:`p`. The density of the
    letters is the mixture over the placements,

    .. math:: g_q(x) = f(x)\, \frac{1}{|\Pi|} \sum_{\pi} \exp R_\pi(x), \qquad
              R_\pi(x) = \sum_{t < L} \log \frac{q(a_{i+t}, b_{j+t})}{p_{a_{i+t}} p_{b_{j+t}}},

    so the likelihood ratio is :math:`f/g_q = 1 / \operatorname{mean}_\pi e^{R_\pi}`,
    summed over all windows by diagonal running sums. The CE update is one EM step of the
    weighted maximum likelihood: with the posterior :math:`r_{k\pi} \propto e^{R_\pi(X_k)}`
    of the placement,

    .. math:: \hat q(c, d) \propto \sum_k w_k \sum_\pi r_{k\pi}
              \#\{t : (a_{i+t}, b_{j+t}) = (c, d)\},

    mixed with :math:`10^{-3}\, p p^\top` so that every pair keeps a positive probability.

    Parameters
    ----------
    q : array (K, K)
        The pair distribution of the segment.
    freqs : array (K,)
        The background letter frequencies :math:`p`.
    m, n, length : int
        The sequence lengths and the segment length :math:`L`.
    """

    def __init__(self, q: np.ndarray, freqs: np.ndarray, m: int, n: int, length: int) -> None:
        Q = np.array(q, dtype=float)
        p = np.asarray(freqs, dtype=float)
        K = p.size
        if Q.shape != (K, K) or np.any(Q < 0) or not np.isclose(Q.sum(), 1.0):
            raise ConfigError(f"q must be a {K} x {K} pair distribution summing to 1")
        self.m, self.n = check_int("m", m, 1), check_int("n", n, 1)
        self.length = check_int("length", length, 1, min(self.m, self.n))
        Q = Q / Q.sum()
        Q.flags.writeable = False
        self.q, self.freqs = Q, p
        with np.errstate(divide="ignore"):
            self._log_ratio = np.log(Q) - np.log(np.outer(p, p))
            self._log_p = np.log(p)

    @classmethod
    def tilted(cls, freqs: np.ndarray, matrix: np.ndarray, theta: float, m: int, n: int,
               length: int) -> PlantedSegment:  # fmt: skip
        r"""The exponentially tilted pairs :math:`q \propto p_c p_d e^{\theta s(c, d)}`
        (:math:`\theta = \lambda` gives the target frequencies of Karlin-Altschul)."""
        p = np.asarray(freqs, dtype=float)
        Q = np.outer(p, p) * np.exp(theta * np.asarray(matrix, dtype=float))
        return cls(Q / Q.sum(), p, m, n, length)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return (self.m + self.n,)

    def params(self) -> dict[str, np.ndarray]:
        return {"q": self.q}

    def with_params(self, **params: np.ndarray) -> PlantedSegment:
        return PlantedSegment(params["q"], self.freqs, self.m, self.n, self.length)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        m, nb, L, K = self.m, self.n, self.length, self.freqs.size
        cdf = np.cumsum(self.freqs)
        X = inverse_cdf(cdf[None, None, :], rng.random((n, m + nb, 1)) * cdf[-1], 2, K - 1)
        i = rng.integers(0, m - L + 1, n)
        j = rng.integers(0, nb - L + 1, n)
        qcdf = np.cumsum(self.q.ravel())
        pairs = inverse_cdf(qcdf[None, None, :], rng.random((n, L, 1)) * qcdf[-1], 2, K * K - 1)
        t = np.arange(L)[None, :]
        rows = np.arange(n)[:, None]
        X[rows, i[:, None] + t] = pairs // K
        X[rows, m + j[:, None] + t] = pairs % K
        return X

    def _windows(self, X: np.ndarray) -> np.ndarray:
        A, B = X[:, : self.m], X[:, self.m :]
        return _diagonal_windows(self._log_ratio[A[:, :, None], B[:, None, :]], self.length)

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.int64)
        out = self._log_p[X].sum(axis=1)
        for c in range(0, X.shape[0], _PLANTED_CHUNK):
            part = X[c : c + _PLANTED_CHUNK]
            R = self._windows(part).reshape(part.shape[0], -1)
            top = R.max(axis=1)
            out[c : c + R.shape[0]] += top + np.log(np.exp(R - top[:, None]).mean(axis=1))
        return out

    def fit(self, X: np.ndarray, weights: np.ndarray | None = None) -> PlantedSegment:
        X = np.asarray(X, dtype=np.int64)
        w = normalized_weights(weights, X.shape[0])
        K = self.freqs.size
        counts = np.zeros(K * K)
        for c in range(0, X.shape[0], _PLANTED_CHUNK):
            part = X[c : c + _PLANTED_CHUNK]
            R = self._windows(part)
            R -= R.max(axis=(1, 2), keepdims=True)
            r = np.exp(R)
            r /= r.sum(axis=(1, 2), keepdims=True)
            cover = _covering(r, self.length, self.m, self.n) * w[c : c + part.shape[0], None, None]
            cells = part[:, : self.m, None] * K + part[:, None, self.m :]
            counts += np.bincount(cells.ravel(), weights=cover.ravel(), minlength=K * K)
        Q = counts.reshape(K, K) / counts.sum()
        Q = (1 - 1e-3) * Q + 1e-3 * np.outer(self.freqs, self.freqs)
        return PlantedSegment(Q, self.freqs, self.m, self.n, self.length)

    def entropy(self) -> float:
        """The entropy of the letters and the placement together (an upper bound on the
        letters' entropy)."""
        L = self.length
        windows = (self.m - L + 1) * (self.n - L + 1)
        rest = (self.m + self.n - 2 * L) * float(entr(self.freqs).sum())
        return float(np.log(windows) + rest + L * entr(self.q).sum())

    def mode(self) -> np.ndarray:
        c, d = np.unravel_index(int(np.argmax(self.q)), self.q.shape)
        x = np.full(self.m + self.n, int(np.argmax(self.freqs)))
        x[: self.length], x[self.m : self.m + self.length] = c, d
        return x

    def is_degenerate(self, tol: float = 1e-6) -> bool:
        return bool(self.q.max() >= 1.0 - tol)


class LocalScoreTail(RareEventProblem):
    r"""``P(S >= gamma)`` for the local alignment score ``S`` of two i.i.d. random sequences.

    Parameters
    ----------
    m, n : int
        Lengths of the two sequences.
    gamma : float
        The score threshold :math:`s`.
    scheme : Scoring, optional
        Default: a uniform 20-letter alphabet scoring +1 / -1 (so that the Karlin-Altschul
        law is accurate at modest lengths: :math:`H = 2.65` nats per pair, an alignment
        of score :math:`s` has about :math:`s \lambda / H \approx 1.1 s` letters).
    freqs : array, optional
        Letter frequencies (default uniform).
    gapped : bool, default False
        Whether gaps are allowed (then ``scheme``'s gap costs apply).
    """

    family_types = (Categorical, SequenceLetters, PlantedSegment)

    def __init__(
        self,
        m: int = 200,
        n: int = 200,
        gamma: float = 8.0,
        scheme: Scoring | None = None,
        freqs: np.ndarray | None = None,
        gapped: bool = False,
    ) -> None:
        self.m, self.n = check_int("m", m, 1), check_int("n", n, 1)
        if not is_real(gamma):
            raise ConfigError(f"gamma must be a number, got {gamma!r}")
        self.gamma = float(gamma)
        if scheme is None:
            scheme = uniform_scheme()
        self.scheme = Scoring(scheme.alphabet, scheme.matrix, scheme.gap_open, scheme.gap_extend,
                              "local", scheme.name)  # fmt: skip
        K = len(scheme.alphabet)
        self.freqs = np.full(K, 1.0 / K) if freqs is None else np.asarray(freqs, dtype=float)
        if self.freqs.shape != (K,) or not np.isclose(self.freqs.sum(), 1.0):
            raise ConfigError(f"freqs must be {K} probabilities summing to 1")
        if not isinstance(gapped, bool):
            raise ConfigError(f"gapped must be true or false, got {gapped!r}")
        self.gapped = gapped
        require(f"sequences of m = {m} and n = {n} letters",
                4 * 8 * _PLANTED_CHUNK * (self.m + 1) * (self.n + 1))  # fmt: skip

    @classmethod
    def from_config(
        cls,
        m: int = 100,
        n: int = 100,
        gamma: float = 9.0,
        matrix: str = "uniform20",
        freqs: str = "uniform",
        gapped: bool = False,
        gap_open: float = 3.0,
        gap_extend: float = 1.0,
        match: float = 1.0,
        mismatch: float = -1.0,
    ) -> LocalScoreTail:
        """Build from ``[problem]`` config keys.

        Parameters
        ----------
        matrix : str
            ``"uniform20"`` (20 letters, ``match`` / ``mismatch``), or any
            :func:`~cem.problems.alignment.scoring.scoring` matrix (``"dna"``,
            ``"blosum62"``, a file).
        freqs : {"uniform", "robinson"}
            Letter frequencies: uniform, or Robinson & Robinson's amino-acid frequencies.
        m, n, gamma, gapped, gap_open, gap_extend
            See :class:`LocalScoreTail`.
        """
        if matrix == "uniform20":
            scheme = uniform_scheme(match, mismatch, gap_open, gap_extend)
        else:
            scheme = scoring(matrix, "local", gap_open, gap_extend, match, mismatch)
        if freqs not in ("uniform", "robinson"):
            raise ConfigError(f"freqs must be 'uniform' or 'robinson', got {freqs!r}")
        p = robinson_frequencies(scheme.alphabet) if freqs == "robinson" else None
        return cls(m, n, gamma, scheme, p, gapped)

    def nominal_family(self) -> SequenceLetters:
        return SequenceLetters(np.tile(self.freqs, (2, 1)), self.m, self.n)

    def score(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.int64)
        A, B = X[:, : self.m], X[:, self.m :]
        if not self.gapped:
            return ungapped_local_scores(A, B, self.scheme.matrix)
        return banded_dp(A, B, self.scheme, traceback=False)[0]

    def importance_family(self) -> PlantedSegment:
        r"""The levels' starting family: a :class:`PlantedSegment` of the Karlin-Altschul
        target pairs :math:`q = p p^\top e^{\lambda s}`, of length
        :math:`\lceil \gamma \lambda / H \rceil` (the length of an alignment of score
        :math:`\gamma` under those pairs), at most the shorter length."""
        ka = self.karlin_altschul()
        length = min(math.ceil(self.gamma * ka.lam / ka.H), self.m, self.n)
        return PlantedSegment.tilted(self.freqs, self.scheme.matrix, ka.lam, self.m, self.n,
                                     max(length, 1))  # fmt: skip

    def karlin_altschul(self) -> KarlinAltschul:
        """:func:`karlin_altschul` of this problem's scoring and frequencies."""
        return karlin_altschul(self.scheme, self.freqs)

    def describe(self) -> str:
        kind = "gapped" if self.gapped else "ungapped"
        return (f"P(local {kind} score >= {self.gamma:g}), {self.m} x {self.n} random letters, "
                f"{self.scheme.name}")  # fmt: skip


def uniform_scheme(
    match: float = 1.0, mismatch: float = -1.0, gap_open: float = 3.0, gap_extend: float = 1.0
) -> Scoring:
    """20 letters scoring ``match`` on the diagonal and ``mismatch`` off it (local)."""
    M = np.where(np.eye(20, dtype=bool), float(match), float(mismatch))
    return Scoring("ACDEFGHIKLMNPQRSTVWY", M, gap_open, gap_extend, "local",
                   f"20 letters {match:+g}/{mismatch:+g}")  # fmt: skip
