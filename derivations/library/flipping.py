"""Label flipping: the sampler and the closed forms of what it adds to soft labels.

The flipping process of the note, made precise: keep the true label with
probability ``1 - eps``; otherwise replace it by one of the ``K - 1`` other
classes, chosen uniformly. The flipped label ``Y`` then has the smoothed target
as its distribution, ``Pr(Y = j) = p_j`` with ``p = (1 - eps)`` on the true class
and ``eps / (K - 1)`` on each other (chapter 3 derives this symbolically), so

* the expected loss and the expected gradient equal the smoothed ones, and
* what differs is the noise: with ``l_j = LSE(z) - z_j`` the loss of label ``j``,

      Var(l_Y) = sum_j p_j l_j**2 - (sum_j p_j l_j)**2,

  and the gradient with respect to the logits, ``g = softmax(z) - e_Y``, has
  ``Cov(g) = diag(p) - p p^T`` (trace ``1 - sum_j p_j**2``), whatever the logits.

Labels are 0-based integers here, as in the rest of the numeric API, and ``eps`` is
the note's everywhere in this module (:func:`derivations.library.smoothing.label_smoothing_to_eps`
converts PyTorch's ``label_smoothing``).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from derivations.library import numeric as _num
from derivations.library import smoothing as _smoothing
from derivations.library._validate import as_labels, as_logits, as_num_classes, as_probability

__all__ = ["flip_labels", "flipped_losses", "flipped_loss_variance", "flipped_gradient_covariance",
           "flipped_gradient_total_variance"]

#: Labels processed per block by :func:`flip_labels` (the uniforms are drawn block by block, as
#: one stream: the result does not depend on the block size).
BLOCK = 1 << 16


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """SPEC 7's ``rng``: a ``numpy.random.Generator`` as it is, a seed (an integer, a sequence of them, a
    ``SeedSequence``) or ``None`` (fresh entropy) through ``numpy.random.default_rng``; anything else (the legacy
    ``RandomState`` included) is refused, naming the convention.

    >>> as_generator(0).integers(10) == np.random.default_rng(0).integers(10)
    np.True_
    >>> as_generator(np.random.RandomState(0))
    Traceback (most recent call last):
    ...
    TypeError: rng must be None, an integer seed or a numpy.random.Generator (SPEC 7, as SciPy and scikit-image take it); got RandomState

    Used in: flip_labels and flipped_losses (their ``rng``)
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (np.random.RandomState, bool, float, str)):
        raise TypeError("rng must be None, an integer seed or a numpy.random.Generator (SPEC 7, as SciPy and "
                        f"scikit-image take it); got {type(rng).__name__}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as err:
        raise TypeError("rng must be None, an integer seed or a numpy.random.Generator (SPEC 7, as SciPy and "
                        f"scikit-image take it); got {type(rng).__name__} {rng!r} ({err})") from None


def flip_labels(labels: ArrayLike, num_classes: int, eps: float, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Flip each label with probability ``eps`` to a uniformly chosen *other* class.

    ``eps`` is the note's (the probability that a label changes), not PyTorch's
    ``label_smoothing``: the flipped label is distributed as the soft target
    ``smoothed_targets(labels, K, eps=eps)``. To flip as PyTorch's ``label_smoothing=alpha``
    smooths, pass ``eps=label_smoothing_to_eps(alpha, K)`` (``alpha (K-1)/K``: a uniform
    draw over all K classes, the true one included, with probability ``alpha``).

    ``labels`` holds integers in ``[0, num_classes)`` (any shape); the result has
    the same shape. One uniform number ``u`` per label decides both things, so
    the cost does not depend on ``num_classes``: the label is kept when
    ``u >= eps``; otherwise ``u / eps`` is again uniform on ``[0, 1)``, and
    ``k = floor((K - 1) u / eps)`` in ``{0, ..., K-2}`` picks the ``k``-th class
    other than the label (``k``, or ``k + 1`` when ``k >= label``). Hence
    ``Pr(kept) = 1 - eps`` and ``Pr(each other class) = eps / (K - 1)``.
    The same generator state gives the same flips; ``labels.size`` uniforms
    are drawn whatever ``eps``. Returns ``intp`` labels. ``rng`` follows SPEC 7
    (:func:`as_generator`): a ``Generator`` (advanced by the draws), a seed, or
    ``None`` for fresh entropy.

    Checked by: ch3.keep_probability, ch3.flip_probability, ch3.incorrect_class, ch3.flip_one_minus_eps,
        ch3.same_p, ch3.equivalence, ch3.smoothing_by_flipping, ch3.flip_distribution, ch3.expected_loss,
        ch3.expected_gradient, ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature,
        ch5.too_much_smoothing, ch5.fresh_matches_soft, ch5.once_memorises, ch5.penultimate_tighter,
        ch5.distil_worse

    >>> import numpy as np
    >>> y = np.zeros(100_000, dtype=int)
    >>> f = flip_labels(y, 4, 0.3, np.random.default_rng(0))
    >>> np.round(np.bincount(f, minlength=4) / f.size, 2)
    array([0.7, 0.1, 0.1, 0.1])
    >>> bool(np.all(f == flip_labels(y, 4, 0.3, np.random.default_rng(0))))
    True
    >>> flip_labels([0, 1], 2, 1.0, np.random.default_rng(0)).tolist()   # eps = 1: always the other one
    [1, 0]
    >>> flip_labels([0, 1, 2, 0], 3, 0.5, rng=0).tolist() == flip_labels([0, 1, 2, 0], 3, 0.5, np.random.default_rng(0)).tolist()
    True
    """
    K = as_num_classes(num_classes)
    eps = as_probability(eps, "eps")
    rng = as_generator(rng)
    y = np.asarray(as_labels(labels, K), order="C")
    if eps == 0.0:
        rng.random(y.shape)                 # consume the same draws as for any other eps
        return y.copy()
    flat, out = y.reshape(-1), np.empty(y.size, dtype=np.intp)
    scale = (K - 1) / eps
    for start in range(0, flat.size, BLOCK):  # blocks stay in cache; the draws are one stream
        yb, ob = flat[start:start + BLOCK], out[start:start + BLOCK]
        u = rng.random(yb.size)
        ob[...] = yb
        flipped = np.flatnonzero(u < eps)   # only these (a fraction eps) need more work
        v = u[flipped]
        if np.isfinite(scale):
            v *= scale                      # uniform on [0, K-1) given u < eps
        else:                               # eps below ~1e-308: divide first (0/eps stays 0)
            v /= eps
            v *= K - 1
        k = np.minimum(v, K - 2).astype(np.intp)   # min guards a product rounded up to K-1
        k += k >= yb[flipped]               # the k-th class other than the label
        ob[flipped] = k
    return out.reshape(y.shape)


def flipped_losses(logits: ArrayLike, label: int, eps: float, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """The losses ``LSE(z) - z_Y`` of ``n`` fresh flips ``Y`` of ``label``, at one logit vector ``z``.

    The K possible losses ``-log softmax(z)`` are computed once; each flip picks
    one, so the cost is ``O(K + n)`` (not ``n K``).

    Checked by: ch3.loss_variance

    >>> import numpy as np
    >>> flipped_losses([0.0, 0.0, 0.0], 0, 0.5, 4, np.random.default_rng(0)).round(6).tolist()   # all log 3
    [1.098612, 1.098612, 1.098612, 1.098612]
    """
    z = as_logits(logits)
    if z.ndim != 1:
        raise ValueError(f"logits must be one vector of shape (K,); got shape {z.shape}")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    losses = -_num.log_softmax(z)
    return losses[flip_labels(np.full(int(n), label), z.shape[-1], eps, rng)]


def _losses_and_targets(logits, labels, eps):
    """``l_j = LSE(z) - z_j`` for every class and the smoothed targets ``p``, validated."""
    z = as_logits(logits, axis=-1)
    K = z.shape[-1]
    y = as_labels(labels, K, z.shape[:-1])
    eps = as_probability(eps, "eps")
    p = _smoothing.smoothed_targets(y, K, eps=eps)
    return -_num.log_softmax(z), p


def flipped_loss_variance(logits: ArrayLike, labels: ArrayLike, eps: float) -> np.ndarray:
    """Variance over the flip of the per-example loss ``LSE(z) - z_Y``, in closed form.

    ``Var = sum_j p_j l_j**2 - (sum_j p_j l_j)**2`` with ``l_j = LSE(z) - z_j``
    and ``p`` the smoothed target; computed as ``sum_j p_j (l_j - mean)**2``,
    which cannot go negative. ``logits`` has shape ``(..., K)``, ``labels``
    shape ``(...)``; returns shape ``(...)``.

    Checked by: ch3.equivalence, ch3.expected_loss, ch3.expected_gradient, ch3.loss_variance, ch3.optimum_noise

    >>> import numpy as np
    >>> round(float(flipped_loss_variance([0.0, 0.0, 0.0], 0, 0.2)), 12)   # every label costs log 3
    0.0
    >>> z = [np.log(4.0), 0.0]            # losses l = (log 5/4, log 5), so l_2 - l_1 = log 4
    >>> bool(np.isclose(flipped_loss_variance(z, 0, 0.25), 0.25 * 0.75 * np.log(4.0) ** 2))
    True
    """
    losses, p = _losses_and_targets(logits, labels, eps)
    mean = np.sum(p * losses, axis=-1, keepdims=True)
    return np.sum(p * (losses - mean) ** 2, axis=-1)


def flipped_gradient_covariance(logits: ArrayLike, labels: ArrayLike, eps: float) -> np.ndarray:
    """Covariance over the flip of the logit gradient ``softmax(z) - e_Y``: ``diag(p) - p p^T``.

    The softmax term is the same for every flip, so the covariance is that of
    the one-hot vector ``e_Y`` and does not depend on the logits (they fix the
    shape and are validated). Its trace is ``1 - sum_j p_j**2``. Returns shape
    ``(..., K, K)``.

    Checked by: ch3.gradient_covariance

    >>> import numpy as np
    >>> C = flipped_gradient_covariance([[1.0, 2.0, 3.0]], [0], 0.3)
    >>> np.round(C[0], 3)
    array([[ 0.21 , -0.105, -0.105],
           [-0.105,  0.128, -0.022],
           [-0.105, -0.022,  0.128]])
    >>> round(float(np.trace(C[0])), 3)      # 1 - 0.7**2 - 2 * 0.15**2
    0.465
    """
    _, p = _losses_and_targets(logits, labels, eps)
    return p[..., :, None] * (np.eye(p.shape[-1]) - p[..., None, :])


def flipped_gradient_total_variance(num_classes: int, eps: float) -> float:
    """``E||g - E g||^2 = tr Cov(g) = 1 - sum_j p_j^2 = 1 - (1 - eps)^2 - eps^2/(K-1)``, in closed form.

    The trace of :func:`flipped_gradient_covariance`, without forming the K x K
    matrix. It is 0 exactly when the flip is deterministic: ``eps = 0``, or
    ``eps = 1`` with ``K = 2`` (a swap).

    Used in: chapter 3 (against the trace of :func:`flipped_gradient_covariance`; the figure of the noise at the
        optimum)

    >>> round(flipped_gradient_total_variance(3, 0.3), 3)       # 1 - 0.7**2 - 2 * 0.15**2
    0.465
    >>> flipped_gradient_total_variance(2, 1.0)
    0.0
    """
    K = as_num_classes(num_classes)
    e = as_probability(eps, "eps")
    return max(0.0, 1.0 - (1.0 - e) ** 2 - e * e / (K - 1))
