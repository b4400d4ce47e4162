"""A multilayer perceptron in NumPy, trained four ways: hard, soft, flipped afresh, flipped once and kept.

The network of chapter 5: ``z = relu(x W_1 + b_1) W_2 + b_2``, one hidden layer of
``hidden`` units, initialised from a seeded generator (He's normal scale for
``W_1``, Glorot's for ``W_2``, biases 0) and trained full-batch by Adam on the mean
cross-entropy against the current targets. The gradient with respect to the
logits is ``(softmax(z) - target) / N``; back-propagation carries it to the weights
(:func:`gradients`). The four modes are :data:`derivations.chapters.ch4.training.MODES`, their
targets step by step those of :class:`derivations.chapters.ch4.training.Targets` (as in chapter 4):

* ``"hard"``: the one-hot label;
* ``"soft"``: the note's soft target (:func:`derivations.library.smoothing.smoothed_targets`);
* ``"flip_fresh"``: a label flipped afresh at every step (:func:`derivations.library.flipping.flip_labels`);
* ``"flip_once"``: labels flipped once before training, then kept.

Deterministic: every random draw comes from ``numpy.random.default_rng`` seeded by
``(seed, part)``; the same seed gives the same initial weights in every mode, so
the modes differ only by their targets.

>>> import numpy as np
>>> from derivations.chapters.ch4.training import one_hot
>>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
>>> run = train(X, np.array([0, 1, 1, 0]), 2, "hard", 0.0, hidden=16, steps=300, lr=0.05, seed=0)
>>> bool(mean_loss(run.logits(X), one_hot(np.array([0, 1, 1, 0]), 2)) < 0.01)    # fits XOR-like data
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from derivations.chapters.ch4.training import MODES, Targets
from derivations.library._validate import as_labels, as_num_classes, as_probability
from derivations.library.numeric import log_softmax, softmax

__all__ = ["Network", "initial_network", "relu", "forward", "gradients", "mean_loss", "Adam",
           "MLPRun", "train"]


@dataclass
class Network:
    """The weights ``W1`` (d x h), ``b1`` (h), ``W2`` (h x K), ``b2`` (K)."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    def arrays(self) -> list[np.ndarray]:
        return [self.W1, self.b1, self.W2, self.b2]

    def logits(self, X) -> np.ndarray:
        """``z = relu(X W1 + b1) W2 + b2``."""
        return forward(self, X)[0]


def initial_network(inputs: int, hidden: int, num_classes: int, seed: int) -> Network:
    """Seeded initial weights: ``W1 ~ N(0, 2/inputs)`` (He), ``W2 ~ N(0, 2/(hidden + K))`` (Glorot), biases 0.

    Checked by: ch5.hard_overconfident, ch5.smoothing_calibrates, ch5.fresh_matches_soft, ch5.once_memorises

    >>> initial_network(3, 4, 2, seed=0).W1.shape, initial_network(3, 4, 2, seed=0).b2.tolist()
    ((3, 4), [0.0, 0.0])
    """
    rng = np.random.default_rng([seed, 1])
    return Network(rng.normal(0.0, np.sqrt(2.0 / inputs), (inputs, hidden)), np.zeros(hidden),
                   rng.normal(0.0, np.sqrt(2.0 / (hidden + num_classes)), (hidden, num_classes)),
                   np.zeros(num_classes))


def relu(a: np.ndarray) -> np.ndarray:
    """``max(a, 0)`` elementwise.

    Checked by: ch5.hard_overconfident, ch5.smoothing_calibrates, ch5.fresh_matches_soft, ch5.once_memorises

    >>> relu(np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return np.maximum(a, 0.0)


def forward(net: Network, X) -> tuple[np.ndarray, np.ndarray]:
    """The logits ``z`` and the hidden activations ``h = relu(X W1 + b1)``.

    Checked by: ch5.hard_overconfident, ch5.smoothing_calibrates, ch5.fresh_matches_soft, ch5.once_memorises

    >>> net = Network(np.eye(2), np.zeros(2), np.array([[1.0], [-1.0]]), np.zeros(1))
    >>> forward(net, np.array([[3.0, -2.0]]))[0].tolist()        # h = (3, 0), z = 3
    [[3.0]]
    """
    h = relu(np.asarray(X, dtype=float) @ net.W1 + net.b1)
    return h @ net.W2 + net.b2, h


def gradients(net: Network, X, h: np.ndarray, G: np.ndarray) -> list[np.ndarray]:
    """Back-propagation: the gradients of ``sum(G * z)`` with respect to ``W1, b1, W2, b2``.

    With ``G = dL/dz``: ``dW2 = h^T G``, ``db2 = sum_i G_i``, ``dh = G W2^T`` masked where
    ``h = 0`` (the derivative of relu), ``dW1 = X^T dh``, ``db1 = sum_i dh_i``.

    Checked by: ch5.hard_overconfident, ch5.smoothing_calibrates, ch5.fresh_matches_soft, ch5.once_memorises

    >>> net = Network(np.eye(2), np.zeros(2), np.array([[1.0], [-1.0]]), np.zeros(1))
    >>> X = np.array([[3.0, -2.0]]); z, h = forward(net, X)
    >>> [g.tolist() for g in gradients(net, X, h, np.ones_like(z))]     # d z / d weights
    [[[3.0, 0.0], [-2.0, 0.0]], [1.0, 0.0], [[3.0], [0.0]], [1.0]]
    """
    dh = (G @ net.W2.T) * (h > 0)
    X = np.asarray(X, dtype=float)
    return [X.T @ dh, dh.sum(axis=0), h.T @ G, G.sum(axis=0)]


def mean_loss(logits, targets) -> float:
    """The mean cross-entropy ``-(1/N) sum_i sum_j p_ij log q_ij`` (stable: :func:`derivations.library.numeric.log_softmax`).

    Checked by: ch5.hard_overconfident, ch5.smoothing_calibrates, ch5.fresh_matches_soft, ch5.once_memorises

    >>> round(mean_loss(np.zeros((1, 2)), np.array([[1.0, 0.0]])), 6)      # log 2
    0.693147
    """
    lq = log_softmax(np.asarray(logits, dtype=float))
    return float(-np.sum(np.where(targets > 0, targets * lq, 0.0)) / len(lq))


class Adam:
    """Adam (Kingma and Ba, 2015): ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``w <- w - lr m_hat / (sqrt(v_hat) + 1e-8)`` with bias-corrected ``m_hat, v_hat``.

    >>> opt = Adam([np.zeros(1)], lr=0.1); w = [np.zeros(1)]
    >>> opt.step(w, [np.ones(1)]); round(float(w[0][0]), 6)           # the first step is lr * sign(g)
    -0.1
    """

    def __init__(self, arrays, lr: float, beta1: float = 0.9, beta2: float = 0.999):
        self.lr, self.b1, self.b2, self.t = lr, beta1, beta2, 0
        self.m = [np.zeros_like(a) for a in arrays]
        self.v = [np.zeros_like(a) for a in arrays]

    def step(self, arrays, grads) -> None:
        """Update ``arrays`` in place."""
        self.t += 1
        c1, c2 = 1.0 - self.b1 ** self.t, 1.0 - self.b2 ** self.t
        for a, g, m, v in zip(arrays, grads, self.m, self.v):
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * g * g
            a -= self.lr * (m / c1) / (np.sqrt(v / c2) + 1e-8)


@dataclass
class MLPRun:
    """One training run: the mode, the final network, the labels it trained on, and its training loss per step."""

    mode: str
    net: Network
    kept_labels: np.ndarray
    loss: np.ndarray
    flips: int = 0
    extra: dict = field(default_factory=dict)

    def logits(self, X) -> np.ndarray:
        return self.net.logits(X)


def train(X, y, num_classes: int, mode: str, eps: float, hidden: int = 128, steps: int = 300, lr: float = 0.01,
          seed: int = 0) -> MLPRun:
    """Train the MLP on ``(X, y)`` in one of the four modes (full batch, Adam, ``steps`` steps of size ``lr``).

    The initial weights depend on ``seed`` only (the same in every mode); the flips on
    ``(seed, mode)``. ``loss[t]`` is the mean cross-entropy against the targets of step ``t``.

    Checked by: ch5.hard_overconfident, ch5.smoothing_calibrates, ch5.fresh_matches_soft, ch5.once_memorises
    """
    K = as_num_classes(num_classes)
    eps = as_probability(eps, "eps")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    X = np.asarray(X, dtype=float)
    y = as_labels(y, K, (len(X),))
    rng = np.random.default_rng([seed, 2, MODES.index(mode)])
    net = initial_network(X.shape[1], hidden, K, seed)
    opt = Adam(net.arrays(), lr)
    targets = Targets(mode, y, K, eps, rng, steps=steps)
    losses = np.empty(steps)
    for t in range(steps):
        target = targets.target()
        z, h = forward(net, X)
        losses[t] = mean_loss(z, target)
        opt.lr = lr * (1.0 - t / steps)
        opt.step(net.arrays(), gradients(net, X, h, (softmax(z) - target) / len(X)))
    return MLPRun(mode, net, targets.kept, losses, targets.flips)
