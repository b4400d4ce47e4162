"""A multilayer perceptron in NumPy: many networks trained side by side, full batch, by Adam.

The network of chapter 5: ``z = relu(x W_1 + b_1) W_2 + b_2``, one hidden layer of ``hidden`` units. Chapter 5
trains one network per (seed, target): every seed has its own training images, and for each seed several
networks share those images and their initial weights, differing only by their targets (:class:`Target`):

* ``"soft"`` at ``eps``: the note's soft target ``1 - eps`` on the label, ``eps / (K-1)`` elsewhere
  (:func:`derivations.library.smoothing.smoothed_targets`); ``eps = 0`` is hard labels;
* ``"flip_fresh"`` at ``eps``: the one-hot target of a label flipped afresh at every step
  (:func:`derivations.library.flipping.flip_labels`): chapter 3's process, whose expected target is the soft one;
* ``"flip_once"`` at ``eps``: labels flipped once before training, then kept.

All of them are one :class:`Stack` of arrays, so that NumPy pays its cost per operation once a step for all:
``W1`` is ``(S, d, M h)`` (the ``M`` networks of a seed side by side in the hidden dimension, one matrix product
per seed), ``W2`` is ``(S, M, h, K)``. :func:`forward` and :func:`gradients` are the usual back-propagation
(``d z / d`` loss ``= (softmax(z) - target) / n``); ``tests/test_ch5.py`` checks them against finite differences.
Training runs in float32 (the network is small and the data are pixels in ``[0, 1]``; float64 gives the same
metrics to three decimals, at three times the cost).

Deterministic: the initial weights of a seed come from ``default_rng([seed, 1])``, the flips of network ``m`` from
``default_rng([seed, 2, m])``; and the same to the last bit on every x86-64 machine with AVX2, whatever BLAS kernel
NumPy's OpenBLAS picks for it: the products are NumPy's einsum, not BLAS (:func:`_product`). (Without AVX2, NumPy's
float32 ``exp`` rounds differently.)

>>> X = np.array([[[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]])
>>> y = np.array([[0, 1, 1, 0]])
>>> run = train(X, y, 2, [Target("soft", 0.0)], hidden=16, steps=300, lr=0.05, seeds=[0])
>>> bool(run.logits(X)[0, 0].argmax(axis=1).tolist() == [0, 1, 1, 0])      # fits XOR-like data
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derivations.library._validate import as_num_classes, as_probability
from derivations.library.flipping import flip_labels
from derivations.library.smoothing import smoothed_targets

__all__ = ["MODES", "Target", "Stack", "initial_stack", "forward", "gradients", "Adam", "Trained", "train"]

#: The ways of using a label: soft targets (hard labels at eps = 0), labels flipped afresh at every step, once.
MODES = ("soft", "flip_fresh", "flip_once")


@dataclass(frozen=True)
class Target:
    """What one network of a seed trains on: a mode of :data:`MODES` at ``eps``."""

    mode: str
    eps: float

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {self.mode!r}")
        as_probability(self.eps, "eps")


@dataclass
class Stack:
    """The weights of ``S x M`` networks: ``W1`` (S, d, M h), ``b1`` (S, 1, M h), ``W2`` (S, M, h, K), ``b2`` (S, M, 1, K)."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(S, M, hidden)``."""
        S, M, h, _ = self.W2.shape
        return S, M, h

    def arrays(self) -> list[np.ndarray]:
        return [self.W1, self.b1, self.W2, self.b2]


def initial_stack(inputs: int, hidden: int, num_classes: int, seeds, networks: int, dtype=np.float32,
                  stream: int = 1) -> Stack:
    """Seeded initial weights, the same for the ``networks`` networks of a seed: ``W1 ~ N(0, 2/inputs)`` (He),
    ``W2 ~ N(0, 2/(hidden + K))`` (Glorot), biases 0, drawn from ``default_rng([seed, stream])`` (another
    ``stream`` for networks that must not repeat these draws: the distilled students).

    Checked by: ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing,
        ch5.fresh_matches_soft, ch5.once_memorises, ch5.penultimate_tighter, ch5.distil_worse

    >>> s = initial_stack(3, 4, 2, seeds=[0, 1], networks=2)
    >>> s.shape, bool(np.array_equal(s.W2[0, 0], s.W2[0, 1])), bool(np.array_equal(s.W2[0, 0], s.W2[1, 0]))
    ((2, 2, 4), True, False)
    """
    W1, W2 = [], []
    for seed in seeds:
        rng = np.random.default_rng([seed, stream])
        W1.append(np.tile(rng.normal(0.0, np.sqrt(2.0 / inputs), (inputs, hidden)), networks))
        W2.append(np.broadcast_to(rng.normal(0.0, np.sqrt(2.0 / (hidden + num_classes)), (hidden, num_classes)),
                                  (networks, hidden, num_classes)))
    S = len(W1)
    return Stack(np.array(W1, dtype=dtype), np.zeros((S, 1, networks * hidden), dtype),
                 np.array(W2, dtype=dtype), np.zeros((S, networks, 1, num_classes), dtype))


def _product(subscripts: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The matrix products of the network, the same to the last bit on every x86 machine: NumPy's own einsum loop
    (``optimize=False``: no BLAS), whose order of summation is fixed, not BLAS's kernel, which OpenBLAS picks for the
    CPU. In float32, the kernels of a CPU with AVX-512 and of one without round differently; 300 Adam steps carry
    the difference into the third decimal of chapter 5's tables, and nbval compares those (docs/chapter5.md).

    >>> a = np.arange(6, dtype=np.float32).reshape(1, 2, 3); b = np.ones((1, 3, 2), np.float32)
    >>> _product("snd,sdj->snj", a, b).tolist()
    [[[3.0, 3.0], [12.0, 12.0]]]
    """
    return np.einsum(subscripts, a, b, optimize=False)


def _rows(w: np.ndarray) -> np.ndarray:
    """``w`` with its last two axes swapped, contiguous: each product then runs along contiguous rows, einsum's
    fast loops (2.3 to 3.5 times faster per product than along the strided axis at chapter 5's sizes; the training
    took 2.4 s instead of 4.3 s, 2026-12-02)."""
    return np.ascontiguousarray(np.swapaxes(w, -1, -2))


def forward(net: Stack, X) -> tuple[np.ndarray, np.ndarray]:
    """The logits ``z`` (S, M, n, K) of every network at the images ``X`` (S, n, d) of its seed, and the hidden
    pre-activations ``a = X W1 + b1`` (S, n, M h).

    Checked by: ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing,
        ch5.fresh_matches_soft, ch5.once_memorises, ch5.penultimate_tighter, ch5.distil_worse
    """
    S, M, h = net.shape
    a = _product("snd,sdj->snj", X, net.W1) + net.b1
    H = np.maximum(a, 0).reshape(len(a), -1, M, h).transpose(0, 2, 1, 3)
    return _product("smnh,smkh->smnk", H, _rows(net.W2)) + net.b2, a


def gradients(net: Stack, X, a, G) -> list[np.ndarray]:
    """Gradients of the weights (as :meth:`Stack.arrays`) given ``G = d loss / d z`` (S, M, n, K): back-propagation
    through ``z = H W2 + b2``, ``H = relu(a)``, ``a = X W1 + b1``.

    Checked by: ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing,
        ch5.fresh_matches_soft, ch5.once_memorises, ch5.penultimate_tighter, ch5.distil_worse

    >>> net = Stack(np.eye(2)[None], np.zeros((1, 1, 2)), np.array([[[[1.0], [-1.0]]]]), np.zeros((1, 1, 1, 1)))
    >>> X = np.array([[[3.0, -2.0]]]); z, a = forward(net, X)
    >>> [g.ravel().tolist() for g in gradients(net, X, a, np.ones_like(z))]     # d z / d weights
    [[3.0, 0.0, -2.0, 0.0], [1.0, 0.0], [3.0, 0.0], [1.0]]
    """
    S, M, h = net.shape
    n = a.shape[1]
    H = np.maximum(a, 0).reshape(S, n, M, h).transpose(0, 2, 1, 3)
    dH = _product("smnk,smkh->smnh", G, _rows(net.W2)).transpose(0, 2, 1, 3).reshape(S, n, M * h) * (a > 0)
    return [_product("sdn,snj->sdj", _rows(X), dH), dH.sum(axis=1, keepdims=True),
            _product("smnk,smnh->smkh", G, H).transpose(0, 1, 3, 2), G.sum(axis=2, keepdims=True)]


class Adam:
    """Adam (Kingma and Ba, 2015): ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``w <- w - lr m_hat / (sqrt(v_hat) + 1e-8)`` with bias-corrected ``m_hat, v_hat``. Elementwise, so the update
    of each weight depends on its own gradient's history only, and not linearly: ``sqrt(v)`` grows with the
    gradient's noise (why flipping afresh only approximates soft labels, chapter 5).

    >>> opt = Adam([np.zeros(1)], lr=0.1); w = [np.zeros(1)]
    >>> opt.step(w, [np.ones(1)]); round(float(w[0][0]), 6)           # the first step is lr * sign(g)
    -0.1
    """

    def __init__(self, arrays, lr: float, beta1: float = 0.9, beta2: float = 0.999):
        self.lr, self.b1, self.b2, self.t = lr, beta1, beta2, 0
        self.m = [np.zeros_like(a) for a in arrays]
        self.v = [np.zeros_like(a) for a in arrays]
        self._tmp = [np.empty_like(a) for a in arrays]

    def step(self, arrays, grads) -> None:
        """Update ``arrays`` in place (without temporary arrays: the update is bound by memory traffic)."""
        self.t += 1
        c1, c2 = 1.0 - self.b1 ** self.t, 1.0 - self.b2 ** self.t
        for a, g, m, v, tmp in zip(arrays, grads, self.m, self.v, self._tmp):
            m *= self.b1
            np.multiply(g, 1.0 - self.b1, out=tmp)
            m += tmp
            v *= self.b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - self.b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= 1.0 / np.sqrt(c2)
            tmp += 1e-8
            np.divide(m, tmp, out=tmp)
            tmp *= self.lr / c1
            a -= tmp


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row softmax in the array's own precision (the training loop's; metrics use the library's)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Trained:
    """A trained :class:`Stack`, its targets, and the labels each network trained on (flipped for ``flip_once``;
    ``kept[s, m]``); ``flips[m]`` counts the labels flipped over the whole run (0 for soft targets)."""

    net: Stack
    targets: list
    kept: np.ndarray
    flips: np.ndarray

    def logits(self, X) -> np.ndarray:
        """Logits (S, M, n, K), in float64, of every network at the images ``X`` (S, n, d) of its seed."""
        return forward(self.net, np.asarray(X, dtype=self.net.W1.dtype))[0].astype(float)


def train(X, y, num_classes: int, targets, hidden: int, steps: int, lr: float, seeds, dtype=np.float32,
          chunk: int = 64) -> Trained:
    """Train ``len(targets)`` networks per seed on the images ``X`` (S, n, d) with labels ``y`` (S, n): full batch,
    ``steps`` Adam steps of size ``lr (1 - t / steps)`` (decaying linearly to 0), the mean cross-entropy against each
    network's current target. Fresh flips are drawn ``chunk`` steps at a time (the same stream as step by step).

    Checked by: ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing,
        ch5.fresh_matches_soft, ch5.once_memorises, ch5.penultimate_tighter, ch5.distil_worse
    """
    K = as_num_classes(num_classes)
    targets = [t if isinstance(t, Target) else Target(*t) for t in targets]
    X = np.asarray(X, dtype=dtype)
    y = np.asarray(y)
    S, n, d = X.shape
    M = len(targets)
    if y.shape != (S, n) or len(seeds) != S:
        raise ValueError(f"y must have shape {(S, n)} and seeds {S} entries; got {y.shape} and {len(seeds)}")
    net = initial_stack(d, hidden, K, seeds, M, dtype)
    T = np.empty((S, M, n, K), dtype=dtype)
    kept = np.broadcast_to(y[:, None, :], (S, M, n)).copy()
    rngs = [[np.random.default_rng([seed, 2, m]) for m in range(M)] for seed in seeds]
    flips = np.zeros(M, dtype=int)
    fresh = [m for m, t in enumerate(targets) if t.mode == "flip_fresh"]
    eye = np.eye(K, dtype=dtype)
    for m, t in enumerate(targets):
        if t.mode == "flip_once":
            for s in range(S):
                kept[s, m] = flip_labels(y[s], K, t.eps, rngs[s][m])
            flips[m] = int(np.count_nonzero(kept[:, m] != y))
        T[:, m] = eye[kept[:, m]] if t.mode != "soft" else smoothed_targets(y, K, eps=t.eps, dtype=dtype)
    opt = Adam(net.arrays(), lr)
    drawn = {}
    for step in range(steps):
        if step % chunk == 0:
            ahead = min(chunk, steps - step)
            drawn = {m: np.stack([flip_labels(np.broadcast_to(y[s], (ahead, n)), K, targets[m].eps, rngs[s][m])
                                  for s in range(S)], axis=1) for m in fresh}
            for m in fresh:
                flips[m] += int(np.count_nonzero(drawn[m] != y[None]))
        for m in fresh:
            T[:, m] = eye[drawn[m][step % chunk]]
        z, a = forward(net, X)
        opt.lr = lr * (1.0 - step / steps)
        opt.step(net.arrays(), gradients(net, X, a, (_softmax(z) - T) / n))
    return Trained(net, targets, kept, flips)
