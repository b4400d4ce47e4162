"""Training with hard, soft and flipped labels: softmax regression and free logits, in NumPy.

Four ways to use the labels (``MODES``):

* ``"hard"``: the one-hot label;
* ``"soft"``: the note's soft target (``smoothed_targets``);
* ``"flip_fresh"``: a label flipped afresh at every step (``flip_labels``);
* ``"flip_once"``: labels flipped once before training, then kept.

Two models: softmax regression (logits ``[X, 1] @ W``) on a seeded synthetic
data set, and a *free logit vector per example* (the parameters are the
logits themselves), which can memorise any labelling. Both are trained by
full-batch gradient descent on the mean cross-entropy against the current
targets; the gradient with respect to the logits is ``softmax(z) - target``.
Deterministic for a given seed. Calibration is measured by the expected
calibration error (:func:`expected_calibration_error`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import numeric as num
from ._validate import as_labels, as_probability
from .flipping import flip_labels
from .smoothing import smoothed_targets

__all__ = [
    "MODES",
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


def make_blobs(n: int, num_classes: int, num_features: int = 2, spread: float = 1.0, seed: int = 0):
    """``n`` points, class ``k`` drawn from a unit Gaussian around a random centre; returns ``(X, y)``.

    Centres are uniform in ``[-spread, spread]^d`` per class (``spread`` sets how
    separable the classes are); labels are balanced and shuffled.

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

    >>> one_hot([2, 0], 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    y = as_labels(labels, num_classes, np.shape(labels))
    return np.eye(num_classes)[y]


def true_class_probability(logits, labels) -> np.ndarray:
    """``softmax(z)_y`` per example.

    >>> true_class_probability([[0.0, 0.0]], [1]).tolist()
    [0.5]
    """
    z = np.asarray(logits, dtype=float)
    return np.exp(-num.cross_entropy(z, labels))


def logit_gap(logits, labels) -> np.ndarray:
    """``z_y - mean_{j != y} z_j`` per example: the chapter 2 gap when the other logits are equal.

    >>> logit_gap([[3.0, 1.0, 0.0]], [0]).tolist()
    [2.5]
    """
    z = np.asarray(logits, dtype=float)
    K = z.shape[-1]
    y = as_labels(labels, K, z.shape[:-1])
    z_y = np.take_along_axis(z, y[..., None], axis=-1)[..., 0]
    return z_y - (z.sum(axis=-1) - z_y) / (K - 1)


def _targets_for(mode: str, labels: np.ndarray, K: int, eps: float, rng: np.random.Generator):
    """A function ``step -> target matrix`` for one of the four modes."""
    if mode == "hard":
        t = one_hot(labels, K)
        return lambda step: t
    if mode == "soft":
        t = smoothed_targets(labels, K, eps)
        return lambda step: t
    if mode == "flip_fresh":
        return lambda step: one_hot(flip_labels(labels, K, eps, rng), K)
    if mode == "flip_once":
        t = one_hot(flip_labels(labels, K, eps, rng), K)
        return lambda step: t
    raise ValueError(f"mode must be one of {MODES}; got {mode!r}")


@dataclass
class TrainingRun:
    """What one training run recorded.

    ``steps``: the recorded step numbers; ``p_true`` / ``gap``: the mean
    true-class probability and mean logit gap (w.r.t. the *true* labels) on the
    training set at those steps; ``logits``: final training logits;
    ``averaged_logits``: the training logits of the iterate averaged over the
    second half of training (removes the fluctuation of ``flip_fresh``);
    ``params``: final parameters (and ``averaged_params``); ``extra["kept_labels"]``:
    the labels a ``flip_once`` run trained on.
    """

    mode: str
    steps: np.ndarray
    p_true: np.ndarray
    gap: np.ndarray
    logits: np.ndarray
    averaged_logits: np.ndarray
    params: np.ndarray
    averaged_params: np.ndarray
    extra: dict = field(default_factory=dict)


def _train(logits_of, grad_params, params, labels, K, mode, eps, steps, lr, seed, record_every, lr_decay=None):
    """Full-batch gradient descent; shared by both models."""
    eps = as_probability(eps, "eps")
    rng = np.random.default_rng([seed, MODES.index(mode) if mode in MODES else 99])
    target = _targets_for(mode, labels, K, eps, rng)
    rec_steps, p_true, gaps = [], [], []
    avg, n_avg = np.zeros_like(params), 0
    for step in range(steps + 1):
        z = logits_of(params)
        if step % record_every == 0:
            rec_steps.append(step)
            p_true.append(float(true_class_probability(z, labels).mean()))
            gaps.append(float(logit_gap(z, labels).mean()))
        if step >= steps // 2:
            n_avg += 1
            avg += (params - avg) / n_avg
        if step == steps:
            break
        rate = lr if lr_decay is None else lr / (1.0 + step / lr_decay)
        params = params - rate * grad_params(num.softmax(z) - target(step))
    extra = {"kept_labels": np.argmax(target(0), axis=-1)} if mode == "flip_once" else {}
    return TrainingRun(mode, np.array(rec_steps), np.array(p_true), np.array(gaps), logits_of(params),
                       logits_of(avg), params, avg, extra)


def train_softmax_regression(X, y, num_classes: int, mode: str, eps: float, steps: int = 2000,
                             lr: float = 0.5, seed: int = 0, record_every: int = 10,
                             lr_decay: float | None = None) -> TrainingRun:
    """Softmax regression ``z = [X, 1] W`` from ``W = 0``, gradient descent on the mean loss.

    The step size is ``lr``, or ``lr / (1 + step / lr_decay)`` when ``lr_decay`` is
    given (a Robbins-Monro schedule: the noise of fresh flips then averages out).

    >>> X, y = make_blobs(200, 3, spread=4.0, seed=1)
    >>> run = train_softmax_regression(X, y, 3, "soft", 0.1, steps=300)
    >>> bool(0.8 < run.p_true[-1] < 0.95)
    True
    """
    X1 = np.concatenate([np.asarray(X, dtype=float), np.ones((len(X), 1))], axis=1)
    y = as_labels(y, num_classes, (len(X1),))
    return _train(lambda W: X1 @ W, lambda G: X1.T @ G / len(X1), np.zeros((X1.shape[1], num_classes)),
                  y, num_classes, mode, eps, steps, lr, seed, record_every, lr_decay)


def train_free_logits(y, num_classes: int, mode: str, eps: float, steps: int = 2000, lr: float = 1.0,
                      seed: int = 0, record_every: int = 10, lr_decay: float | None = None) -> TrainingRun:
    """A free logit vector per example (a model that can memorise), from zero.

    Each example's logits take the step ``-lr (softmax(z_i) - target_i)``: gradient
    descent on the summed loss, so examples do not interact. ``lr_decay`` as in
    :func:`train_softmax_regression`.

    >>> run = train_free_logits([0, 1, 2], 3, "soft", 0.1, steps=2000)
    >>> round(float(run.p_true[-1]), 3)
    0.9
    """
    y = as_labels(y, num_classes, np.shape(y))
    return _train(lambda Z: Z, lambda G: G, np.zeros((len(y), num_classes)),
                  y, num_classes, mode, eps, steps, lr, seed, record_every, lr_decay)


def accuracy(logits, labels) -> float:
    """Fraction of examples whose largest logit is the label.

    >>> accuracy([[1.0, 0.0], [1.0, 2.0]], [0, 0])
    0.5
    """
    z = np.asarray(logits, dtype=float)
    return float(np.mean(np.argmax(z, axis=-1) == np.asarray(labels)))


def reliability_bins(probs, labels, bins: int = 10):
    """Per confidence bin (equal width on ``[0, 1]``): mean confidence, accuracy, count.

    Confidence is the largest predicted probability; empty bins give ``nan``.

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

    >>> expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], bins=2)
    0.25
    """
    conf, acc, count = reliability_bins(probs, labels, bins)
    used = count > 0
    return float(np.sum(count[used] * np.abs(acc[used] - conf[used])) / count.sum())
