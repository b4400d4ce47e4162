"""Training with hard, soft and flipped labels: free logits and softmax regression, in NumPy.

Four ways to use the labels (``MODES``):

* ``"hard"``: the one-hot label;
* ``"soft"``: the note's soft target (``smoothed_targets``);
* ``"flip_fresh"``: a label flipped afresh at every step (``flip_labels``);
* ``"flip_once"``: labels flipped once before training, then kept.

:class:`Targets` holds this logic, step by step, for chapter 4's training loops
(chapter 5's networks, trained side by side, build their targets in :mod:`derivations.chapters.ch5.mlp`).

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

:func:`free_logit_runs` and :func:`softmax_regression_runs` train several modes
side by side (as one block of rows, or one stack of weight matrices): each mode
gets the numbers it would get alone, and NumPy's cost per operation is paid
once a step for all of them. The inner loop uses
:func:`derivations.library.numeric.row_softmax`, bit for bit the uncompensated softmax.

Deterministic for a given seed. :class:`TrainingPlan` is how chapter 4 sizes
both experiments for the reader's ``K`` (and why). Calibration is measured by
the expected calibration error (:func:`expected_calibration_error`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from derivations.library import numeric as num
from derivations.library._validate import as_labels, as_num_classes, as_probability
from derivations.library.flipping import flip_labels
from derivations.library.smoothing import smoothed_targets, target_levels

__all__ = [
    "MODES",
    "TrainingPlan",
    "make_blobs",
    "one_hot",
    "true_class_probability",
    "logit_gap",
    "TrainingRun",
    "Targets",
    "train_softmax_regression",
    "softmax_regression_runs",
    "train_free_logits",
    "free_logit_runs",
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

    Checked by: ch4.regression_same_point

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

    Used in: chapter 4 (the targets of hard-label training)

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
    return np.exp(-num.cross_entropy_per_example(z, labels))


def logit_gap(logits, labels) -> np.ndarray:
    """``z_y - mean_{j != y} z_j`` per example: the chapter 2 gap when the other logits are equal.

    Checked by: ch4.fresh_same_point

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
    and after the last (only when asked for, see :mod:`derivations.chapters.ch4.linear_response`);
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


#: Labels flipped at once for the steps ahead by :class:`Targets` (``"flip_fresh"``).
_DRAW_AHEAD = 1 << 16


class Targets:
    """The training target of one mode (:data:`MODES`), step after step.

    ``labels`` are the examples' true labels; ``rng`` draws the flips: once,
    here, for ``"flip_once"`` (``kept``: the labels trained on, the true ones in
    the other modes), and at every step for ``"flip_fresh"``. ``flips`` counts
    the labels flipped so far. Training asks once per step, either for the
    target itself (:meth:`target`: the one-hot rows of the step's labels, or
    the soft target) or for the residual ``softmax(z) - target`` (:meth:`residual`);
    for ``"flip_fresh"`` either one draws that step's flips.

    The trained rows are the examples, or with ``distinct=True`` and targets
    that never change (every mode but ``"flip_fresh"``) one row per distinct
    label: ``rows`` holds the rows' labels, ``example_rows`` each example's row.
    Given the number of ``steps``, fresh flips are drawn for many steps at once
    (the same labels as step by step: the draws are one stream).

    Used in: chapter 4 (the training loops here)

    >>> t = Targets("soft", np.array([0, 2, 0]), 3, 0.3, np.random.default_rng(0), distinct=True)
    >>> t.rows.tolist(), t.example_rows.tolist()
    ([0, 2], [0, 1, 0])
    >>> t.target().tolist()
    [[0.7, 0.15, 0.15], [0.15, 0.15, 0.7]]
    >>> t.residual(np.full((2, 3), 1 / 3)).round(4).tolist()
    [[-0.3667, 0.1833, 0.1833], [0.1833, 0.1833, -0.3667]]
    """

    def __init__(self, mode: str, labels: np.ndarray, K: int, eps: float, rng: np.random.Generator,
                 distinct: bool = False, steps: int | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
        self.mode, self.K, self.eps, self.rng = mode, K, eps, rng
        self.true = labels
        self.kept = flip_labels(labels, K, eps, rng) if mode == "flip_once" else labels
        self.flips = int(np.count_nonzero(self.kept != labels))
        self.fresh = mode == "flip_fresh"
        if distinct and not self.fresh:
            self.rows, self.example_rows = np.unique(self.kept, return_inverse=True)
        else:
            self.rows, self.example_rows = self.kept, np.arange(len(labels))
        self._row_starts = np.arange(len(self.rows)) * K       # flat index of each row's first entry
        self._at_label = self._row_starts + self.rows
        self._levels = target_levels(K, eps=eps)
        self._fixed = None
        self._ahead, self._drawn = steps, iter(())         # steps still to draw for, and the drawn ones

    def labels(self) -> np.ndarray:
        """The rows' labels at this step: flipped afresh (and counted) for ``"flip_fresh"``, else ``rows``."""
        if not self.fresh:
            return self.rows
        step = next(self._drawn, None)
        if step is None:
            self._draw_ahead()
            step = next(self._drawn)
        drawn, flipped = step
        self.flips += flipped
        return drawn

    def _draw_ahead(self) -> None:
        """Flip the rows' labels for the next steps (one step when their number is not known)."""
        n = len(self.rows)
        steps = max(1, min(self._ahead or 1, _DRAW_AHEAD // max(n, 1)))
        if self._ahead:
            self._ahead -= steps
        drawn = flip_labels(np.broadcast_to(self.rows, (steps, n)), self.K, self.eps, self.rng)
        self._drawn = zip(drawn, np.count_nonzero(drawn != self.rows, axis=1).tolist())

    def target(self) -> np.ndarray:
        """This step's target, one row per trained row: the soft target, or the one-hot rows of :meth:`labels`."""
        if self.fresh:
            return one_hot(self.labels(), self.K)
        if self._fixed is None:
            self._fixed = (smoothed_targets(self.rows, self.K, eps=self.eps) if self.mode == "soft"
                           else one_hot(self.rows, self.K))
        return self._fixed

    def residual(self, Q: np.ndarray) -> np.ndarray:
        """``Q - target`` in place, for ``Q = softmax(z)`` of the rows (C-contiguous); returns ``Q``.

        A one-hot target subtracts 1 at the label. The soft target subtracts
        its two levels in turn, ``off`` everywhere, then ``on - off`` at the
        label; where it is one-hot (eps = 0, or K = 2 and eps = 1) only its 1.
        """
        if not Q.flags.c_contiguous:
            raise ValueError("the residual is computed in place: Q must be C-contiguous")
        flat = Q.reshape(-1)
        if self.mode != "soft":
            flat[self._at_label if not self.fresh else self._row_starts + self.labels()] -= 1.0
            return Q
        on, off = self._levels
        if off == 0.0:                       # eps = 0: the soft target is the one-hot label
            flat[self._at_label] -= on
        elif on == 0.0 and self.K == 2:      # K = 2, eps = 1: the one-hot other label
            flat[self._row_starts + 1 - self.rows] -= off
        else:
            Q -= off
            flat[self._at_label] -= on - off
        return Q


def _stats(Z: np.ndarray, Q: np.ndarray, example_rows: np.ndarray, at_true: np.ndarray) -> tuple[float, float]:
    """Mean over examples of ``softmax(z)_y`` and of the logit gap, from the trained rows.

    ``at_true``: the flat index of each example's true class in its row.
    """
    K = Z.shape[-1]
    q_true = np.take(Q, at_true)
    z_true = np.take(Z, at_true)
    gap = z_true - (num.rowwise_sum(Z).reshape(-1)[example_rows] - z_true) / (K - 1)
    return float(q_true.mean()), float(gap.mean())


def _train(logits_of, update, params, parts: dict, true, steps, lr, record_every, lr_decay, keep):
    """Gradient descent for several modes side by side: ``params = update(params, rate, softmax(Z) - target)``.

    ``Z = logits_of(params)``; ``parts`` maps each mode to ``(targets, where)``: the
    mode's rows are ``Z[where]`` (and its parameters ``params[where]``). The modes
    share nothing but the step sizes, so each gets the numbers it would get alone.
    ``keep``: the mode whose parameters are kept before every step and after the
    last, or ``None``. ``logits_of`` and ``update`` may work in place.
    Returns the recorded steps, per mode the recorded mean p(true) and gap, the
    final parameters and the kept path.
    """
    K = next(iter(parts.values()))[0].K
    at_true = {m: t.example_rows * K + true for m, (t, _) in parts.items()}
    rec_steps, p_true, gaps = [], {m: [] for m in parts}, {m: [] for m in parts}
    path = np.empty((steps + 1,) + params[parts[keep][1]].shape) if keep else None
    Q = None
    with np.errstate(over="ignore", invalid="ignore"):      # divergence is caught below, once
        for step in range(steps + 1):
            if keep:
                path[step] = params[parts[keep][1]]
            Z = logits_of(params)
            Q = num.row_softmax(Z, out=Q)
            if step % record_every == 0 or step == steps:
                rec_steps.append(step)
                for m, (targets, where) in parts.items():
                    p, g = _stats(Z[where], Q[where], targets.example_rows, at_true[m])
                    p_true[m].append(p)
                    gaps[m].append(g)
            if step == steps:
                break
            rate = lr if lr_decay is None else lr / (1.0 + step / lr_decay)
            for targets, where in parts.values():
                targets.residual(Q[where])
            params = update(params, rate, Q)
    if not np.isfinite(Z).all():            # a logit that was ever not finite leaves nan in the last ones
        raise ValueError("training diverged: the logits are not finite (a step size too large for the data?)")
    return np.array(rec_steps), {m: np.array(v) for m, v in p_true.items()}, \
        {m: np.array(v) for m, v in gaps.items()}, params, path


def _check_steps(steps, lr, lr_decay, record_every):
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an integer >= 0; got {steps!r}")
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be > 0; got {lr!r}")
    if lr_decay is not None and not (isinstance(lr_decay, (int, float)) and lr_decay > 0):
        raise ValueError(f"lr_decay must be > 0 or None; got {lr_decay!r}")
    if isinstance(record_every, bool) or int(record_every) != record_every or record_every < 1:
        raise ValueError(f"record_every must be an integer >= 1; got {record_every!r}")


def _targets(modes, y, K, eps, seed, distinct, steps) -> dict:
    """Each mode's :class:`Targets`, its flips drawn from the generator seeded by ``(seed, mode)``."""
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if not modes or len(set(modes)) != len(modes):
        raise ValueError(f"modes must be distinct modes of {MODES}; got {modes!r}")
    return {m: Targets(m, y, K, eps, np.random.default_rng([seed, MODES.index(m) if m in MODES else 99]), distinct,
                       steps) for m in modes}


def _extra(targets: Targets) -> dict:
    extra = {"flips": targets.flips}
    if targets.mode == "flip_once":
        extra["kept_labels"] = targets.kept
    return extra


def softmax_regression_runs(X, y, num_classes: int, modes, eps: float, steps: int = 2000, lr: float = 0.5,
                            seed: int = 0, record_every: int = 10, lr_decay: float | None = None,
                            keep_path: str | None = None) -> dict:
    """:func:`train_softmax_regression` for several ``modes`` side by side: ``{mode: TrainingRun}``.

    The modes share the data and the step sizes and nothing else: their
    parameters are stacked, one ``(d + 1) x K`` matrix per mode, so NumPy's
    cost per operation is paid once a step for all of them, and every mode gets
    the same numbers as trained alone. ``keep_path``: the mode whose path is kept.

    Checked by: ch4.regression_same_point

    >>> X, y = make_blobs(200, 3, spread=4.0, seed=1)
    >>> runs = softmax_regression_runs(X, y, 3, ("soft", "flip_fresh"), 0.1, steps=50)
    >>> bool(np.array_equal(runs["soft"].params, train_softmax_regression(X, y, 3, "soft", 0.1, steps=50).params))
    True
    """
    K = as_num_classes(num_classes)
    eps = as_probability(eps, "eps")
    _check_steps(steps, lr, lr_decay, record_every)
    X1 = np.concatenate([np.asarray(X, dtype=float), np.ones((len(X), 1))], axis=1)
    y = as_labels(y, K, (len(X1),))
    targets = _targets(modes, y, K, eps, seed, False, int(steps))
    if keep_path is not None and keep_path not in targets:
        raise ValueError(f"keep_path must be one of the modes trained, {tuple(targets)}; got {keep_path!r}")
    parts = {m: (t, i) for i, (m, t) in enumerate(targets.items())}
    Z = np.empty((len(parts), len(X1), K))
    rec, p, g, W, path = _train(lambda W: np.matmul(X1, W, out=Z),
                                lambda W, rate, G: W - rate * (X1.T @ G / len(X1)),
                                np.zeros((len(parts), X1.shape[1], K)), parts, y, int(steps), lr, record_every,
                                lr_decay, keep_path)
    return {m: TrainingRun(m, rec, p[m], g[m], X1 @ W[i], W[i], path if m == keep_path else None, _extra(t))
            for m, (t, i) in parts.items()}


def train_softmax_regression(X, y, num_classes: int, mode: str, eps: float, steps: int = 2000,
                             lr: float = 0.5, seed: int = 0, record_every: int = 10,
                             lr_decay: float | None = None, keep_path: bool = False) -> TrainingRun:
    """Softmax regression ``z = [X, 1] W`` from ``W = 0``, gradient descent on the mean loss.

    The step size is ``lr``, or ``lr / (1 + step / lr_decay)`` when ``lr_decay`` is
    given. ``keep_path=True`` stores ``W`` before every step (for
    :func:`derivations.chapters.ch4.linear_response.softmax_regression_spread`).

    Used in: chapter 4's tests, one mode at a time (the chapter trains the modes side by side: :func:`softmax_regression_runs`)

    >>> X, y = make_blobs(200, 3, spread=4.0, seed=1)
    >>> run = train_softmax_regression(X, y, 3, "soft", 0.1, steps=300)
    >>> bool(0.8 < run.p_true[-1] < 0.95)
    True
    """
    return softmax_regression_runs(X, y, num_classes, (mode,), eps, steps, lr, seed, record_every, lr_decay,
                                   mode if keep_path else None)[mode]


def free_logit_runs(y, num_classes: int, modes, eps: float, steps: int = 2000, lr: float = 1.0, seed: int = 0,
                    record_every: int = 10, lr_decay: float | None = None) -> dict:
    """:func:`train_free_logits` for several ``modes`` side by side: ``{mode: TrainingRun}``.

    Rows do not interact, so the modes' rows are trained as one block (NumPy's
    cost per operation paid once a step for all of them), and every mode gets
    the same numbers as trained alone.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises

    >>> runs = free_logit_runs([0, 1, 2], 3, MODES, 0.1, steps=100)
    >>> bool(np.array_equal(runs["soft"].logits, train_free_logits([0, 1, 2], 3, "soft", 0.1, steps=100).logits))
    True
    """
    K = as_num_classes(num_classes)
    eps = as_probability(eps, "eps")
    _check_steps(steps, lr, lr_decay, record_every)
    y = as_labels(y, K, np.shape(y)).reshape(-1)
    targets = _targets(modes, y, K, eps, seed, True, int(steps))
    ends = np.cumsum([len(t.rows) for t in targets.values()])
    parts = {m: (t, slice(end - len(t.rows), end)) for (m, t), end in zip(targets.items(), ends.tolist())}
    rec, p, g, Z, _ = _train(lambda Z: Z, _step_in_place, np.zeros((int(ends[-1]), K)), parts, y, int(steps), lr,
                             record_every, lr_decay, None)
    return {m: TrainingRun(m, rec, p[m], g[m], Z[rows][t.example_rows], Z[rows][t.example_rows], None, _extra(t))
            for m, (t, rows) in parts.items()}


def train_free_logits(y, num_classes: int, mode: str, eps: float, steps: int = 2000, lr: float = 1.0,
                      seed: int = 0, record_every: int = 10, lr_decay: float | None = None) -> TrainingRun:
    """A free logit vector per example (a model that can memorise), from zero.

    Each example's logits take the step ``-lr_t (softmax(z_i) - target_i)``:
    gradient descent on the summed loss, so examples do not interact. For the
    modes whose targets are fixed (hard, soft, flipped once), every distinct
    training label is trained once and shared by the examples that have it.

    Used in: chapter 4's tests, one mode at a time (the chapter trains the modes side by side: :func:`free_logit_runs`)

    >>> run = train_free_logits([0, 1, 2], 3, "soft", 0.1, steps=2000)
    >>> round(float(run.p_true[-1]), 3)
    0.9
    """
    return free_logit_runs(y, num_classes, (mode,), eps, steps, lr, seed, record_every, lr_decay)[mode]


def _step_in_place(Z: np.ndarray, rate: float, G: np.ndarray) -> np.ndarray:
    """``Z - rate * G``, in ``Z`` (``G`` is overwritten)."""
    G *= rate
    Z -= G
    return Z


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

    Used in: chapter 4 (the calibration table)

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

    Used in: chapter 4 (the reliability diagrams)

    >>> expected_calibration_error([[0.9, 0.1], [0.6, 0.4]], [0, 1], bins=2)
    0.25
    """
    conf, acc, count = reliability_bins(probs, labels, bins)
    used = count > 0
    return float(np.sum(count[used] * np.abs(acc[used] - conf[used])) / count.sum())
