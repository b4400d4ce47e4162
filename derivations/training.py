"""Training with hard, soft and flipped labels: free logits and softmax regression, in NumPy.

Four ways to use the labels (``MODES``):

* ``"hard"``: the one-hot label;
* ``"soft"``: the note's soft target (``smoothed_targets``);
* ``"flip_fresh"``: a label flipped afresh at every step (``flip_labels``);
* ``"flip_once"``: labels flipped once before training, then kept.

Two models, both trained by full-batch gradient descent on the summed (free
logits) or mean (softmax regression) cross-entropy against the current targets,
from zero, with step ``lr / (1 + t / lr_decay)`` (constant when ``lr_decay`` is
``None``). The gradient with respect to the logits is ``softmax(z) - target``.

* **Free logits** (:func:`train_free_logits`): each example has its own logit
  vector, the parameters are the logits; it can memorise any labelling.
  Examples are independent, so examples whose targets are the same at every
  step follow the same trajectory: for ``"hard"``, ``"soft"`` and
  ``"flip_once"`` each distinct label is trained once and shared (the same
  floating-point operations give the same numbers); ``"flip_fresh"`` trains
  every example.
* **Softmax regression** (:func:`train_softmax_regression`): logits
  ``[X, 1] @ W`` on a seeded synthetic data set (:func:`make_blobs`); three
  parameters per class, so with many examples per class it cannot memorise.

Deterministic for a given seed. :class:`TrainingPlan` is how chapter 4 sizes
both experiments for the reader's ``K`` (and why). Calibration is measured by
the expected calibration error (:func:`expected_calibration_error`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import numeric as num
from ._validate import as_labels, as_num_classes, as_probability
from .flipping import flip_labels
from .smoothing import target_levels

__all__ = [
    "MODES",
    "TrainingPlan",
    "make_blobs",
    "one_hot",
    "true_class_probability",
    "logit_gap",
    "TrainingRun",
    "train_softmax_regression",
    "train_free_logits",
    "accuracy",
    "reliability_bins",
    "expected_calibration_error",
]

MODES = ("hard", "soft", "flip_fresh", "flip_once")


@dataclass(frozen=True)
class TrainingPlan:
    """The sizes of chapter 4's two experiments for a given K, and why.

    **Free logits** (the model that can memorise): ``n_free`` copies of the
    note's one example (true class 1), trained for ``free_steps`` steps of size
    ``free_lr / (1 + t / free_decay)``. Nothing here needs to grow with K: the
    soft target's logit gap relaxes at rate ``eps (1 - eps) K/(K-1)`` per unit
    step whatever K, and hard labels are fit once ``sum_t lr_t`` exceeds about
    ``log K`` (it is ``free_lr * free_decay * log(1 + free_steps / free_decay)``,
    about 139, so every K up to 1,000 is fit). The first steps are small
    (``free_lr = 0.25``) because a large early step makes one flip move a wrong
    class's logit far, and the softmax's curvature turns that into a systematic
    offset of fresh flips against soft labels; at 0.25 the offset stays well
    inside the bound the comparison uses (chapter 4 prints both). Cost grows
    as ``n_free * K * free_steps``: about 5 s at K = 1,000.

    **Softmax regression** (the model that cannot memorise) on 2-D blobs: the
    data set has ``blob_classes = min(K, 20, n_train // 100)`` classes, so every
    class has at least 100 training examples for its 3 parameters (the model
    cannot single out a flipped example), and two features still tell the
    classes apart; the model still has K outputs' worth of smoothing only if
    K <= 20, which the chapter says. ``steps`` of constant size ``lr``.

    >>> TrainingPlan(K=1000, eps=0.05, seed=0).blob_classes
    20
    >>> TrainingPlan(K=4, eps=0.1, seed=0).blob_classes
    4
    """

    K: int
    eps: float
    seed: int
    n_free: int = 400
    free_steps: int = 3000
    free_lr: float = 0.25
    free_decay: float = 200.0
    n_train: int = 2000
    n_test: int = 2000
    steps: int = 2000
    lr: float = 0.5
    spread: float = 3.0
    record_every: int = 10

    def __post_init__(self):
        as_num_classes(self.K)
        as_probability(self.eps)
        for name in ("n_free", "free_steps", "n_train", "n_test", "steps", "record_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}")
        if self.n_train < 200:
            raise ValueError(f"n_train must be >= 200 (100 examples for each of at least 2 classes); "
                             f"got {self.n_train}")

    @property
    def blob_classes(self) -> int:
        return min(self.K, 20, self.n_train // 100)

    @property
    def free_step_sum(self) -> float:
        """``sum_t lr_t`` over the free-logit run: how far gradient descent can move the logits."""
        return float(sum(self.free_lr / (1.0 + t / self.free_decay) for t in range(self.free_steps)))

    def describe(self) -> str:
        out = [f"free logits: {self.n_free} copies of one example of class 1, K = {self.K} classes, "
               f"{self.free_steps} steps of size {self.free_lr:g} / (1 + t / {self.free_decay:g}) "
               f"(total step {self.free_step_sum:.1f})",
               f"softmax regression: {self.n_train} training and {self.n_test} test points from "
               f"{self.blob_classes} Gaussian blobs in 2-D (spread {self.spread:g}), {self.steps} steps of "
               f"size {self.lr:g}"]
        if self.blob_classes < self.K:
            why = ("20 classes is the most two features tell apart" if self.blob_classes == 20 else
                   f"N_TRAIN = {self.n_train} allows 100 examples per class for {self.blob_classes} classes")
            out.append(f"  the blobs have {self.blob_classes} classes, not K = {self.K}: {why}")
        return "\n".join(out)


def make_blobs(n: int, num_classes: int, num_features: int = 2, spread: float = 1.0, seed: int = 0):
    """``n`` points, class ``k`` drawn from a unit Gaussian around a random centre; returns ``(X, y)``.

    Centres are uniform in ``[-spread, spread]^d`` per class (``spread`` sets how
    separable the classes are); labels are balanced and shuffled.

    Used in: chapter 4 (the data of ch4.regression_same_point)

    >>> X, y = make_blobs(6, 3, seed=0)
    >>> X.shape, sorted(y.tolist())
    ((6, 2), [0, 0, 1, 1, 2, 2])
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-spread, spread, size=(num_classes, num_features))
    y = rng.permutation(np.arange(n) % num_classes)
    return centres[y] + rng.normal(size=(n, num_features)), y


def one_hot(labels, num_classes: int) -> np.ndarray:
    """One-hot rows for integer labels.

    Used in: chapters 4 and 5 (the targets of hard-label training; derivations.mlp)

    >>> one_hot([2, 0], 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    y = as_labels(labels, num_classes, np.shape(labels))
    return np.eye(num_classes)[y]


def true_class_probability(logits, labels) -> np.ndarray:
    """``softmax(z)_y`` per example.

    Used in: chapter 4 (what ch4.fresh_same_point, ch4.once_memorises and ch4.regression_same_point compare)

    >>> true_class_probability([[0.0, 0.0]], [1]).tolist()
    [0.5]
    """
    z = np.asarray(logits, dtype=float)
    return np.exp(-num.cross_entropy(z, labels))


def logit_gap(logits, labels) -> np.ndarray:
    """``z_y - mean_{j != y} z_j`` per example: the chapter 2 gap when the other logits are equal.

    Used in: chapter 4 (what ch4.fresh_same_point compares)

    >>> logit_gap([[3.0, 1.0, 0.0]], [0]).tolist()
    [2.5]
    """
    z = np.asarray(logits, dtype=float)
    K = z.shape[-1]
    y = as_labels(labels, K, z.shape[:-1])
    z_y = np.take_along_axis(z, y[..., None], axis=-1)[..., 0]
    return z_y - (z.sum(axis=-1) - z_y) / (K - 1)


@dataclass
class TrainingRun:
    """What one training run recorded.

    ``steps``: the recorded step numbers; ``p_true`` / ``gap``: the mean
    true-class probability and mean logit gap (w.r.t. the *true* labels) over
    the examples at those steps; ``logits``: final logits of every example;
    ``params``: final parameters; ``path``: the parameters before every step
    and after the last (only when asked for, see :mod:`derivations.linear_response`);
    ``extra["kept_labels"]``: the labels a ``flip_once`` run trained on;
    ``extra["flips"]``: how many labels were flipped over the run (``flip_fresh``,
    ``flip_once``).
    """

    mode: str
    steps: np.ndarray
    p_true: np.ndarray
    gap: np.ndarray
    logits: np.ndarray
    params: np.ndarray
    path: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


class _Targets:
    """The residual ``softmax(z) - target`` of a mode, for the rows being trained.

    ``rows``: labels of the trained rows; ``fresh``: whether targets change every step.
    """

    def __init__(self, mode: str, labels: np.ndarray, K: int, eps: float, rng: np.random.Generator):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
        self.mode, self.K, self.eps, self.rng = mode, K, eps, rng
        self.true = labels
        self.flips = 0
        self.kept = flip_labels(labels, K, eps, rng) if mode == "flip_once" else labels
        if mode == "flip_once":
            self.flips = int(np.count_nonzero(self.kept != labels))
        self.fresh = mode == "flip_fresh"

    def residual(self, Q: np.ndarray, rows_labels: np.ndarray) -> np.ndarray:
        """``Q - target`` in place (``Q`` is not used afterwards)."""
        idx = np.arange(len(Q))
        if self.mode == "soft":
            on, off = target_levels(self.K, self.eps)
            if off == 0.0:                       # eps = 0: the soft target is the one-hot label
                Q[idx, rows_labels] -= on
            elif on == 0.0 and self.K == 2:      # K = 2, eps = 1: the one-hot other label
                Q[idx, 1 - rows_labels] -= off
            else:
                Q -= off
                Q[idx, rows_labels] -= on - off
            return Q
        labels = rows_labels
        if self.fresh:
            labels = flip_labels(rows_labels, self.K, self.eps, self.rng)
            self.flips += int(np.count_nonzero(labels != rows_labels))
        Q[idx, labels] -= 1.0
        return Q


def _stats(Z: np.ndarray, Q: np.ndarray, example_rows: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """Mean over examples of ``softmax(z)_y`` and of the logit gap, from the trained rows."""
    K = Z.shape[1]
    q_true = Q[example_rows, true]
    z_true = Z[example_rows, true]
    gap = z_true - (Z.sum(axis=1)[example_rows] - z_true) / (K - 1)
    return float(q_true.mean()), float(gap.mean())


def _train(logits_of, grad_params, params, row_labels, example_rows, true, K, targets: _Targets, steps, lr,
           record_every, lr_decay, keep_path):
    rec_steps, p_true, gaps = [], [], []
    path = [params.copy()] if keep_path else None
    for step in range(steps + 1):
        Z = logits_of(params)
        Q = num.softmax(Z, compensated=False)
        if step % record_every == 0 or step == steps:
            p, g = _stats(Z, Q, example_rows, true)
            rec_steps.append(step)
            p_true.append(p)
            gaps.append(g)
        if step == steps:
            break
        rate = lr if lr_decay is None else lr / (1.0 + step / lr_decay)
        params = params - rate * grad_params(targets.residual(Q, row_labels))
        if keep_path:
            path.append(params.copy())
    return np.array(rec_steps), np.array(p_true), np.array(gaps), params, (np.array(path) if keep_path else None)


def _check_steps(steps, lr, lr_decay, record_every):
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an integer >= 0; got {steps!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be > 0; got {lr!r}")
    if lr_decay is not None and not (isinstance(lr_decay, (int, float)) and lr_decay > 0):
        raise ValueError(f"lr_decay must be > 0 or None; got {lr_decay!r}")
    if isinstance(record_every, bool) or int(record_every) != record_every or record_every < 1:
        raise ValueError(f"record_every must be an integer >= 1; got {record_every!r}")


def train_softmax_regression(X, y, num_classes: int, mode: str, eps: float, steps: int = 2000,
                             lr: float = 0.5, seed: int = 0, record_every: int = 10,
                             lr_decay: float | None = None, keep_path: bool = False) -> TrainingRun:
    """Softmax regression ``z = [X, 1] W`` from ``W = 0``, gradient descent on the mean loss.

    The step size is ``lr``, or ``lr / (1 + step / lr_decay)`` when ``lr_decay`` is
    given. ``keep_path=True`` stores ``W`` before every step (for
    :func:`derivations.linear_response.softmax_regression_spread`).

    Checked by: ch4.regression_same_point

    >>> X, y = make_blobs(200, 3, spread=4.0, seed=1)
    >>> run = train_softmax_regression(X, y, 3, "soft", 0.1, steps=300)
    >>> bool(0.8 < run.p_true[-1] < 0.95)
    True
    """
    K = as_num_classes(num_classes)
    eps = as_probability(eps, "eps")
    _check_steps(steps, lr, lr_decay, record_every)
    X1 = np.concatenate([np.asarray(X, dtype=float), np.ones((len(X), 1))], axis=1)
    y = as_labels(y, K, (len(X1),))
    rng = np.random.default_rng([seed, MODES.index(mode) if mode in MODES else 99])
    targets = _Targets(mode, y, K, eps, rng)
    idx = np.arange(len(y))
    rec, p, g, W, path = _train(lambda W: X1 @ W, lambda G: X1.T @ G / len(X1), np.zeros((X1.shape[1], K)),
                                targets.kept, idx, y, K, targets, int(steps), lr, record_every, lr_decay, keep_path)
    extra = {"flips": targets.flips}
    if mode == "flip_once":
        extra["kept_labels"] = targets.kept
    return TrainingRun(mode, rec, p, g, X1 @ W, W, path, extra)


def train_free_logits(y, num_classes: int, mode: str, eps: float, steps: int = 2000, lr: float = 1.0,
                      seed: int = 0, record_every: int = 10, lr_decay: float | None = None) -> TrainingRun:
    """A free logit vector per example (a model that can memorise), from zero.

    Each example's logits take the step ``-lr_t (softmax(z_i) - target_i)``:
    gradient descent on the summed loss, so examples do not interact. For the
    modes whose targets are fixed (hard, soft, flipped once), every distinct
    training label is trained once and shared by the examples that have it.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises

    >>> run = train_free_logits([0, 1, 2], 3, "soft", 0.1, steps=2000)
    >>> round(float(run.p_true[-1]), 3)
    0.9
    """
    K = as_num_classes(num_classes)
    eps = as_probability(eps, "eps")
    _check_steps(steps, lr, lr_decay, record_every)
    y = as_labels(y, K, np.shape(y)).reshape(-1)
    rng = np.random.default_rng([seed, MODES.index(mode) if mode in MODES else 99])
    targets = _Targets(mode, y, K, eps, rng)
    if targets.fresh:
        row_labels, example_rows = targets.kept, np.arange(len(y))
    else:
        row_labels, example_rows = np.unique(targets.kept, return_inverse=True)
    rec, p, g, Z, _ = _train(lambda Z: Z, lambda G: G, np.zeros((len(row_labels), K)), row_labels,
                             example_rows, y, K, targets, int(steps), lr, record_every, lr_decay, False)
    extra = {"flips": targets.flips}
    if mode == "flip_once":
        extra["kept_labels"] = targets.kept
    return TrainingRun(mode, rec, p, g, Z[example_rows], Z[example_rows], None, extra)


def accuracy(logits, labels) -> float:
    """Fraction of examples whose largest logit is the label.

    Used in: chapter 4 (the calibration table)

    >>> accuracy([[1.0, 0.0], [1.0, 2.0]], [0, 0])
    0.5
    """
    z = np.asarray(logits, dtype=float)
    return float(np.mean(np.argmax(z, axis=-1) == np.asarray(labels)))


def reliability_bins(probs, labels, bins: int = 10):
    """Per confidence bin (equal width on ``[0, 1]``): mean confidence, accuracy, count.

    Confidence is the largest predicted probability; empty bins give ``nan``.

    Used in: chapter 4 (the reliability diagrams)

    >>> conf, acc, count = reliability_bins([[0.9, 0.1], [0.6, 0.4]], [0, 1], bins=2)
    >>> conf.tolist(), acc.tolist(), count.tolist()
    ([nan, 0.75], [nan, 0.5], [0, 2])
    """
    P = np.asarray(probs, dtype=float)
    conf, pred = P.max(axis=-1), P.argmax(axis=-1)
    correct = (pred == np.asarray(labels)).astype(float)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    count = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, conf, minlength=bins) / count
        mean_acc = np.bincount(idx, correct, minlength=bins) / count
    return mean_conf, mean_acc, count


def expected_calibration_error(probs, labels, bins: int = 10) -> float:
    """``ECE = sum_b (n_b / n) |accuracy_b - confidence_b|`` over equal-width confidence bins.

    Used in: chapter 4 (the calibration table)

    >>> expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], bins=2)
    0.25
    """
    conf, acc, count = reliability_bins(probs, labels, bins)
    used = count > 0
    return float(np.sum(count[used] * np.abs(acc[used] - conf[used])) / count.sum())
