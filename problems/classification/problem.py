r"""Training classifiers with the CE method: minimize the cross-entropy loss.

A softmax (multinomial logistic) classifier with weights :math:`W` (``f x K``) and
biases :math:`b` predicts :math:`\hat p(x) = \operatorname{softmax}(W^\top x + b)`.
Its training objective is the mean cross-entropy (log-loss) between the targets
:math:`t_i` (one-hot labels, optionally smoothed) and the predictions, plus an L2
penalty on the weights (not the biases):

.. math:: L(W, b) = \frac{\sum_i w_i\, H\big(t_i, \hat p(x_i)\big)}{\sum_i w_i}
          + \frac{\lambda}{2} \lVert W \rVert_F^2 .

The CE method minimizes :math:`L` over the flattened parameter vector with a
:class:`~cem.families.Normal` family: each iteration scores a whole batch of ``B``
parameter vectors with one batched matrix product per layer (logits of shape
``(B, n, K)``) and :func:`~cem.problems.classification.losses.softmax_cross_entropy`. With
``hidden = h``
the model is a network with one hidden layer of ``h`` tanh units, scored the same way.

So the "cross-entropy" of the CE method (a KL divergence between sampling densities,
:meth:`cem.families.Family.kl_divergence`) here drives the minimization of the other
cross-entropy, the
classifier's loss. :meth:`Classification.minimize_lbfgs` fits the same model by
L-BFGS with the analytic gradient (for softmax, :math:`X^\top (\hat P - T)/n + \lambda W`)
for comparison; the softmax objective is strictly convex for :math:`\lambda > 0` in the
weights, so L-BFGS reaches its minimum.

Features are standardized (zero mean, unit variance on the training data) by default,
which makes one scale of the sampling family fit every weight.

The logits do not change when one vector is added to the weights of every class, so the
``K`` columns of :math:`W` are not identifiable: only the L2 penalty fixes that shift,
along a direction of curvature :math:`\lambda`, which a sampling method resolves slowly
(and the unpenalized biases not at all). The output layer is therefore parameterized by
:math:`V` (``f x (K-1)``) and :math:`c` (``K-1``) with :math:`W = V Q`, :math:`b = c Q`,
where :math:`Q` holds orthonormal contrasts (:func:`helmert_contrasts`;
:math:`Q Q^\top = I`, :math:`Q \mathbf 1 = 0`). This reaches every :math:`W` whose rows
sum to zero, once, with :math:`\lVert W \rVert = \lVert V \rVert`; a minimizer of the
``K``-column objective has such rows (centering them keeps the loss and lowers the
penalty), so the minimum is that of the usual ``K``-column model, e.g. scikit-learn's
multinomial ``LogisticRegression``. For two classes it is logistic regression,
:math:`\hat p_1 = \sigma(w^\top x + \beta)`, with the penalty
:math:`\frac{\lambda}{4} \lVert w \rVert^2` of the symmetric split :math:`w_1 = -w_0 = w/2`.

Parameter layout of a vector ``x``: for each layer, its weight matrix ``(f_in, f_out)``
row-major, then its ``f_out`` biases; the output layer has ``f_out = K - 1``. Softmax:
``D = (f + 1)(K - 1)``; with ``h`` hidden units ``D = (f + 1) h + (h + 1)(K - 1)``.

References
----------
.. [1] P.-T. de Boer, D. P. Kroese, S. Mannor, R. Y. Rubinstein, "A tutorial on the
   cross-entropy method", Ann. Oper. Res. 134:19-67, 2005 (sample size ``N = c n``).
.. [2] D. P. Kroese, S. Porotsky, R. Y. Rubinstein, "The cross-entropy method for
   continuous multi-extremal optimization", Methodol. Comput. Appl. Probab.
   8:383-407, 2006.
.. [3] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006, Sec. 4.3.4
   (multiclass logistic regression) and 5.3 (backpropagation).
.. [4] D. C. Liu, J. Nocedal, "On the limited memory BFGS method for large scale
   optimization", Math. Program. 45:503-528, 1989.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.optimize
from scipy.special import softmax

from cem.errors import ConfigError
from cem.families import FullNormal, Normal
from cem.problem import Problem
from cem.problems.classification.data import (
    LabelledData,
    load_csv,
    load_iris,
    two_gaussians,
)
from cem.problems.classification.losses import categorical_cross_entropy, softmax_cross_entropy
from cem.problems.continuous import CONTINUOUS_FAMILIES
from cem.toolkit import RNGLike, as_seed_sequence

__all__ = ["Classification", "helmert_contrasts"]

#: Largest number of floats in one batch of logits; larger batches are scored in chunks.
_CHUNK_FLOATS = 2**23


class Classification(Problem):
    r"""Minimize a classifier's cross-entropy loss plus L2 over its parameters.

    Parameters
    ----------
    data : LabelledData
        Training features and labels (:mod:`cem.problems.classification.data`).
    hidden : int, default 0
        0 for a softmax classifier; ``h > 0`` for one hidden layer of ``h`` tanh units.
    l2 : float, optional
        :math:`\lambda`, the L2 penalty on the weights (biases are not penalized).
        Default :math:`1/n` for ``n`` training examples: the penalty
        :math:`\frac12 \lVert W \rVert^2` on the summed loss, as in scikit-learn's
        ``LogisticRegression(C=1)``.
    standardize : bool, default True
        Center and scale each feature on the training data.
    label_smoothing : float in [0, 1), default 0
        Targets :math:`t_i = (1 - \varepsilon) y_i + \varepsilon / K`.
    class_weight : sequence of K floats, optional
        Example weights by class (a weighted mean of the losses).
    sigma : float, optional
        Standard deviation of the starting Normal family (mean 0). By default
        :math:`\sigma_0 = \sqrt{2 \log K / (\lambda m)}` for ``m`` penalized weights:
        since :math:`L(0) = \log K` and :math:`L \ge \frac{\lambda}{2}\lVert W\rVert^2`,
        every minimizer lies in the ball :math:`\lVert W \rVert^2 \le 2 \log K/\lambda`,
        and the starting family has that expected squared norm (10 when ``l2 = 0``).
    full_covariance : bool, default False
        Start from a :class:`~cem.families.FullNormal` family instead of the diagonal
        :class:`~cem.families.Normal`: it learns the correlations of the weights, which
        pays on ill-conditioned data (Iris: a gap to the optimum of about 1e-10 instead
        of 1e-3, for a similar number of evaluations; ``experiments/classification.py``).
    plot_features : pair of int, optional
        The two features :meth:`plot_solution` draws (default the first two).

    Examples
    --------
    >>> from cem import minimize
    >>> problem = Classification.iris()
    >>> problem.dim, problem.describe()
    (10, 'softmax classifier, iris: 150 examples, 4 features, 3 classes, l2=0.00667')
    >>> res = minimize(problem, rng=0)
    >>> bool(problem.accuracy(res.x) >= 0.96)
    True
    """

    sense = "min"
    family_types = CONTINUOUS_FAMILIES
    score_label = "log-loss"

    def __init__(
        self,
        data: LabelledData,
        *,
        hidden: int = 0,
        l2: float | None = None,
        standardize: bool = True,
        label_smoothing: float = 0.0,
        class_weight: Sequence[float] | None = None,
        sigma: float | None = None,
        full_covariance: bool = False,
        plot_features: Sequence[int] | None = None,
    ) -> None:
        if not isinstance(data, LabelledData):
            raise ConfigError(f"data must be a LabelledData, got {type(data).__name__}")
        if not (isinstance(hidden, int) and hidden >= 0):
            raise ConfigError(f"hidden must be an integer >= 0, got {hidden!r}")
        l2 = 1.0 / data.labels.size if l2 is None else l2
        if not (isinstance(l2, (int, float)) and np.isfinite(l2) and l2 >= 0):
            raise ConfigError(f"l2 must be a finite number >= 0, got {l2!r}")
        if not (isinstance(label_smoothing, (int, float)) and 0 <= label_smoothing < 1):
            raise ConfigError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        if sigma is not None and not (
            isinstance(sigma, (int, float)) and np.isfinite(sigma) and sigma > 0
        ):
            raise ConfigError(f"sigma must be a finite number > 0, got {sigma!r}")
        self.data, self.hidden, self.l2 = data, hidden, float(l2)
        self.full_covariance = bool(full_covariance)
        self.label_smoothing = float(label_smoothing)
        X = data.features
        self.center = X.mean(axis=0) if standardize else np.zeros(X.shape[1])
        scale = X.std(axis=0) if standardize else np.ones(X.shape[1])
        self.scale = np.where(scale > 0, scale, 1.0)
        self.inputs = self._standardized(X)
        k = data.n_classes
        Y = np.eye(k)[data.labels]
        self.targets = (1 - self.label_smoothing) * Y + self.label_smoothing / k
        w = np.ones(data.labels.size)
        if class_weight is not None:
            c = np.asarray(class_weight, dtype=float)
            if c.shape != (k,) or not np.all(np.isfinite(c) & (c >= 0)) or not (Y @ c).any():
                raise ConfigError(
                    f"class_weight must be {k} nonnegative numbers, one per class "
                    f"{list(data.class_names)}, not all zero on the data; got {class_weight!r}"
                )
            w = Y @ c
        self.class_weight = None if class_weight is None else tuple(map(float, class_weight))
        self.example_weight = w / w.sum()
        sizes = [X.shape[1], *([hidden] if hidden else []), k - 1]
        self.layers = list(itertools.pairwise(sizes))
        self.contrasts = helmert_contrasts(k)
        self.dim = sum(i * o + o for i, o in self.layers)
        self._penalized = np.concatenate(
            [np.r_[np.ones(i * o, bool), np.zeros(o, bool)] for i, o in self.layers]
        )
        m = int(self._penalized.sum())
        self.sigma = sigma or (math.sqrt(2 * math.log(k) / (self.l2 * m)) if self.l2 else 10.0)
        pf = tuple(plot_features) if plot_features is not None else (0, min(1, X.shape[1] - 1))
        if len(pf) != 2 or not all(isinstance(j, int) and 0 <= j < X.shape[1] for j in pf):
            raise ConfigError(
                f"plot_features must be two feature indices in 0..{X.shape[1] - 1}, got {pf!r}"
            )
        self.plot_features = pf

    # ------------------------------------------------------------------ construction
    @classmethod
    def iris(cls, **options: Any) -> Classification:
        """Fisher's Iris data (bundled); decision regions drawn on the petal measurements."""
        options.setdefault("plot_features", (2, 3))
        return cls(load_iris(), **options)

    @classmethod
    def synthetic(
        cls, n: int = 200, dim: int = 2, separation: float = 2.0, rng: RNGLike = 0, **options: Any
    ) -> Classification:
        """Two Gaussian classes (:func:`~cem.problems.classification.data.two_gaussians`)."""
        return cls(two_gaussians(n, dim, separation, rng), **options)

    @classmethod
    def from_csv(
        cls, path: str, label: str | int = -1, max_rows: int = 100_000, **options: Any
    ) -> Classification:
        """A numeric CSV file with a label column (:func:`~.classification_data.load_csv`)."""
        return cls(load_csv(path, label, max_rows=max_rows), **options)

    @classmethod
    def from_config(
        cls,
        data: str = "iris",
        file: str | None = None,
        label: str | int = -1,
        max_rows: int = 100_000,
        n: int = 200,
        n_features: int = 2,
        separation: float = 2.0,
        seed: int = 0,
        **options: Any,
    ) -> Classification:
        """Build from ``[problem]`` config keys.

        Parameters
        ----------
        data : {"iris", "synthetic"}, default "iris"
            The bundled Iris data, or :func:`two_gaussians` with ``n``,
            ``n_features``, ``separation`` and ``seed``.
        file : str, optional
            A numeric CSV file with the labels in column ``label`` (name or index);
            overrides ``data``. At most ``max_rows`` rows.
        **options
            ``hidden``, ``l2``, ``standardize``, ``label_smoothing``, ``class_weight``,
            ``sigma``, ``plot_features``: see :class:`Classification`.
        """
        if file is not None:
            if not isinstance(file, str):
                raise ConfigError(f"file must be a path string, got {file!r}")
            return cls.from_csv(file, label, max_rows, **options)
        if data == "iris":
            return cls.iris(**options)
        if data == "synthetic":
            return cls.synthetic(n, n_features, separation, seed, **options)
        raise ConfigError(f"data must be 'iris' or 'synthetic' (or give file=...), got {data!r}")

    # ------------------------------------------------------------------ the model
    def _standardized(self, features: np.ndarray) -> np.ndarray:
        F = np.asarray(features, dtype=float)
        if F.ndim != 2 or F.shape[1] != self.center.size:
            raise ConfigError(f"features must have shape (n, {self.center.size}), got {F.shape}")
        return (F - self.center) / self.scale

    def _unpack(self, X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Weights ``(B, f_in, f_out)`` and biases ``(B, f_out)`` of each layer."""
        out, at = [], 0
        for i, o in self.layers:
            W = X[:, at : at + i * o].reshape(-1, i, o)
            at += i * o
            out.append((W, X[:, at : at + o]))
            at += o
        return out

    def _forward(self, X: np.ndarray, inputs: np.ndarray) -> list[np.ndarray]:
        """Activations of every layer for a batch of parameter vectors; the last are the
        reduced logits (times :attr:`contrasts`: the logits).

        ``inputs`` ``(n, f)`` enter as they are; each layer is one batched matrix
        product, ``(n, f_in) @ (B, f_in, f_out) -> (B, n, f_out)``.
        """
        acts = [inputs]
        layers = self._unpack(X)
        for j, (W, b) in enumerate(layers):
            z = np.matmul(acts[-1], W) + b[:, None, :]
            acts.append(z if j == len(layers) - 1 else np.tanh(z))
        return acts

    def _as_batch(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ConfigError(f"expected parameter vectors of shape (B, {self.dim}), got {X.shape}")
        return X

    def score(self, X: np.ndarray) -> np.ndarray:
        """Regularized training loss :math:`L` of each parameter vector, shape ``(B,)``."""
        X = self._as_batch(X)
        n, width = self.inputs.shape[0], max(o for _, o in self.layers) + 1
        chunk = max(1, _CHUNK_FLOATS // (n * width))
        logits = (
            self._forward(X[s : s + chunk], self.inputs)[-1] @ self.contrasts
            for s in range(0, len(X), chunk)
        )
        loss = np.concatenate([softmax_cross_entropy(self.targets, z) for z in logits])
        loss = loss @ self.example_weight
        return loss + 0.5 * self.l2 * np.sum(X[:, self._penalized] ** 2, axis=1)

    def value_and_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        r"""The objective :math:`L(x)` of one parameter vector and its gradient.

        Backpropagation (Bishop 2006, Sec. 5.3): the gradient of the loss in the logits is
        :math:`w_i (\hat p_i - t_i)`; each layer passes back :math:`\delta W^\top`,
        times :math:`1 - \tanh^2` through a hidden layer.
        """
        x = np.asarray(x, dtype=float).reshape(1, -1)
        acts = self._forward(self._as_batch(x), self.inputs)
        logits = acts[-1][0] @ self.contrasts
        value = float(
            softmax_cross_entropy(self.targets, logits) @ self.example_weight
            + 0.5 * self.l2 * np.sum(x[0, self._penalized] ** 2)
        )
        delta = self.example_weight[:, None] * (softmax(logits, axis=1) - self.targets)
        delta = delta @ self.contrasts.T  # in the reduced logits
        grads = []
        layers = self._unpack(x)
        for j in range(len(layers) - 1, -1, -1):
            a = acts[j][0] if acts[j].ndim == 3 else acts[j]
            W = layers[j][0][0]
            grads.append(np.r_[(a.T @ delta + self.l2 * W).ravel(), delta.sum(axis=0)])
            if j:
                delta = (delta @ W.T) * (1.0 - a**2)
        return value, np.concatenate(grads[::-1])

    def minimize_lbfgs(
        self,
        x0: np.ndarray | None = None,
        rng: RNGLike = 0,
        gtol: float = 1e-9,
        callback: Callable[[scipy.optimize.OptimizeResult], Any] | None = None,
    ) -> scipy.optimize.OptimizeResult:
        """Fit the same model by L-BFGS (Liu & Nocedal 1989; ``scipy.optimize.minimize``, analytic
        gradient).

        The start is ``x0``, else zero for softmax and a seeded draw of
        :math:`N(0, 0.1^2)` for a network (zero is a saddle point of a tanh network).
        ``callback(intermediate_result)`` is scipy's, called after every iteration (the
        parameter must have that name to receive an ``OptimizeResult``).
        """
        if x0 is None:
            gen = np.random.default_rng(as_seed_sequence(rng))
            x0 = np.zeros(self.dim) if not self.hidden else 0.1 * gen.standard_normal(self.dim)
        return scipy.optimize.minimize(
            self.value_and_gradient, x0, jac=True, method="L-BFGS-B", callback=callback,
            options={"gtol": gtol, "ftol": 0.0, "maxiter": 20_000, "maxfun": 40_000},
        )  # fmt: skip

    # ------------------------------------------------------------------ predictions
    def logits(self, x: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        """Logits ``(n, K)`` of the model ``x`` on ``features`` (default: the training data)."""
        inputs = self.inputs if features is None else self._standardized(features)
        return self._forward(self._as_batch(np.reshape(x, (1, -1))), inputs)[-1][0] @ self.contrasts

    def predict_proba(self, x: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities ``(n, K)``."""
        return softmax(self.logits(x, features), axis=1)

    def predict(self, x: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        """Predicted labels ``(n,)``."""
        return np.argmax(self.logits(x, features), axis=1)

    def _labelled(self, data: LabelledData | None) -> tuple[np.ndarray | None, np.ndarray]:
        if data is None:
            return None, self.data.labels
        if data.n_classes != self.data.n_classes:
            raise ConfigError(f"data has {data.n_classes} classes, the model {self.data.n_classes}")
        return data.features, data.labels

    def accuracy(self, x: np.ndarray, data: LabelledData | None = None) -> float:
        """Fraction of correctly classified examples of ``data`` (default: training)."""
        features, labels = self._labelled(data)
        return float(np.mean(self.predict(x, features) == labels))

    def log_loss(self, x: np.ndarray, data: LabelledData | None = None) -> float:
        """Mean cross-entropy of the labels of ``data`` (default: training), no penalty,
        no smoothing or class weights
        (:func:`~cem.problems.classification.losses.categorical_cross_entropy`)."""
        features, labels = self._labelled(data)
        return categorical_cross_entropy(labels, self.logits(x, features), from_logits=True)

    # ------------------------------------------------------------------ Problem hooks
    def initial_family(self) -> Normal | FullNormal:
        r""":math:`N(0, \sigma_0^2 I)`, diagonal or (``full_covariance``) full."""
        if self.full_covariance:
            return FullNormal(np.zeros(self.dim), self.sigma**2)
        return Normal(np.zeros(self.dim), self.sigma)

    def default_options(self) -> dict[str, Any]:
        """CE settings from the dimension ``D`` of the parameter vector.

        ``n_samples = 10 n``: the rule ``N = c n`` of de Boer et al. (2005) with ``c = 10``
        and ``n`` the number of family parameters, ``2 D`` for the diagonal Normal (a mean and a
        standard deviation per weight: ``N = 20 D``) and ``D + D (D + 1) / 2`` with
        ``full_covariance``; ``rho = 0.1``, so the elite has ``n`` members, as many as
        the parameters it fits; ``alpha = 0.7`` (within the range
        0.4-0.9 of de Boer et al. 2005) smooths means and standard deviations alike. The
        dynamic smoothing of the standard deviations (Kroese, Porotsky & Rubinstein 2006)
        guards against collapse onto a local minimum; the softmax loss is convex, so it is
        not needed, and it slows the final contraction about tenfold. The run stops when
        every standard deviation is below ``1e-4`` (``degenerate_tol``), far below the scale of the
        weights of standardized features.
        """
        d = self.dim
        n_params = d + d * (d + 1) // 2 if self.full_covariance else 2 * d
        return {"n_samples": 10 * n_params, "rho": 0.1, "alpha": 0.7, "degenerate_tol": 1e-4}

    def describe(self) -> str:
        model = f"network with {self.hidden} tanh units" if self.hidden else "softmax classifier"
        d = self.data
        return (
            f"{model}, {d.name}: {d.labels.size} examples, {d.features.shape[1]} features, "
            f"{d.n_classes} classes, l2={self.l2:.3g}"
        )

    def plot_solution(self, x: np.ndarray, ax: Any, resolution: int = 200) -> None:
        """Decision regions of ``x`` on the two :attr:`plot_features` (the other features
        at their training means) and the training examples."""
        i, j = self.plot_features
        F = self.data.features
        lo, hi = F[:, [i, j]].min(axis=0), F[:, [i, j]].max(axis=0)
        pad = 0.05 * (hi - lo + (hi == lo))
        u = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
        v = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
        U, V = np.meshgrid(u, v)
        grid = np.tile(self.center, (U.size, 1))
        grid[:, i], grid[:, j] = U.ravel(), V.ravel()
        regions = self.predict(x, grid).reshape(U.shape)
        k = self.data.n_classes
        colors = _class_colors(k)
        ax.contourf(U, V, regions, levels=np.arange(k + 1) - 0.5, colors=colors, alpha=0.25)
        for c in range(k):
            rows = self.data.labels == c
            ax.scatter(F[rows, i], F[rows, j], s=14, color=colors[c], edgecolor="k",
                       linewidth=0.3, label=self.data.class_names[c])  # fmt: skip
        ax.set(xlabel=self.data.feature_names[i], ylabel=self.data.feature_names[j],
               title=f"Decision regions (accuracy {self.accuracy(x):.3f})")  # fmt: skip
        ax.legend(fontsize="small")


def _class_colors(k: int) -> np.ndarray:
    """``k`` distinct colors (RGBA rows) for classes."""
    import matplotlib

    name = "tab10" if k <= 10 else "tab20" if k <= 20 else "viridis"
    return matplotlib.colormaps[name].resampled(k)(np.arange(k))


def helmert_contrasts(k: int) -> np.ndarray:
    r"""Orthonormal contrasts of ``k`` classes: :math:`Q` of shape ``(k-1, k)`` with
    :math:`Q Q^\top = I` and :math:`Q \mathbf 1 = 0` (normalized Helmert contrasts).

    Row :math:`j = 1..k-1` is :math:`(1, .., 1, -j, 0, .., 0) / \sqrt{j (j + 1)}`
    with :math:`j` ones.

    Examples
    --------
    >>> (helmert_contrasts(3) * np.sqrt([[2], [6]])).round(12)
    array([[ 1., -1.,  0.],
           [ 1.,  1., -2.]])
    """
    if not (isinstance(k, (int, np.integer)) and k >= 2):
        raise ConfigError(f"contrasts need k >= 2 classes, got {k!r}")
    j = np.arange(1, k)[:, None]
    c = np.arange(k)[None, :]
    return np.where(c < j, 1.0, np.where(c == j, -j, 0.0)) / np.sqrt(j * (j + 1))
