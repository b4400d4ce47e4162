"""Numerically stable log-sum-exp, softmax and cross-entropy in NumPy.

All functions accept float32 or float64 logits of any leading batch shape and
compute in the input's precision. Stability comes from one decomposition,
written once in :func:`_lse_parts`: with ``m = max_j z_j`` attained at ``a``,

    LSE(z) = m + log1p( sum_{j != a} exp(z_j - m) ),

where every ``exp`` argument is <= 0 (no overflow) and the ``log1p`` argument
lies in ``[0, K-1]`` (no loss of the small terms). Cross-entropy uses

    LSE(z) - z_y = (m - z_y) + log1p(...),

a sum of two non-negative terms, so it never cancels.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_labels, as_logits

__all__ = ["log_sum_exp", "log_softmax", "softmax", "cross_entropy"]


def _lse_parts(z: np.ndarray, axis: int):
    """Return ``(m, s)`` with ``LSE(z) = m + log1p(s)``, both with ``keepdims``.

    ``m`` is the maximum along ``axis`` and ``s = sum_{j != argmax} exp(z_j - m)``.
    """
    a = np.argmax(z, axis=axis, keepdims=True)
    m = np.take_along_axis(z, a, axis=axis)
    with np.errstate(over="ignore", invalid="ignore"):  # z - m may overflow to -inf: exp(-inf) = 0 is right
        e = _exp_of_difference(z, m)
    np.put_along_axis(e, a, 0, axis=axis)
    return m, np.sum(e, axis=axis, keepdims=True)


def _exp_of_difference(z: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``exp(z - m)`` with the rounding error of the subtraction compensated.

    ``d = fl(z - m)`` is off by up to half an ulp of ``d``, which ``exp`` turns
    into a *relative* error of ``|d| * eps``: 60 ulps at ``d = -60``. Knuth's
    TwoSum recovers the exact remainder ``r = (z - m) - d`` and
    ``exp(d) * (1 + r)`` restores full relative accuracy. Where ``d``
    overflowed (``-inf``) ``r`` is nan and the term is 0 anyway.
    """
    d = z - m
    b = d - z
    r = d - b
    np.subtract(z, r, out=r)           # z - (d - b)
    np.add(b, m, out=b)                # m + b
    np.subtract(r, b, out=r)           # r = (z - m) - d exactly
    e = np.exp(d, out=d)
    np.multiply(e, r, out=r)
    e += r
    if not np.isfinite(e).all():       # only where z - m overflowed: r was nan, the term is 0
        e[~np.isfinite(e)] = 0
    return e


def _row_lse_parts(z: np.ndarray):
    """:func:`_lse_parts` for a 2-D block along its rows, plus the row sums of ``z - m``.

    The same decomposition, specialised for speed on blocks of rows (row sums
    as matrix-vector products, one work array reused in place). Returns 1-D
    ``(m, s, d)`` with ``LSE(z) = m + log1p(s)`` and ``d = sum_j (z_j - m) <= 0``.
    No validation: non-finite input gives non-finite ``m`` or ``d``.
    """
    rows = np.arange(z.shape[0])
    a = np.argmax(z, axis=1)
    m = z[rows, a]
    ones = np.ones(z.shape[1], dtype=z.dtype)
    w = z - m[:, None]
    d = w @ ones
    with np.errstate(over="ignore"):
        np.exp(w, out=w)
    w[rows, a] = 0
    return m, w @ ones, d


def log_sum_exp(z, axis: int = -1) -> np.ndarray:
    """``log(sum_j exp(z_j))`` along ``axis``, stable for every finite input.

    >>> import numpy as np
    >>> float(log_sum_exp([0.0, 0.0]))          # log 2
    0.6931471805599453
    >>> float(log_sum_exp([1e300, 1e300]))      # 1e300 + log 2 rounds to 1e300
    1e+300
    >>> log_sum_exp(np.zeros((2, 3), np.float32)).dtype
    dtype('float32')
    """
    z = as_logits(z, axis=axis)
    m, s = _lse_parts(z, axis)
    return np.squeeze(m + np.log1p(s), axis=axis)


def log_softmax(z, axis: int = -1) -> np.ndarray:
    """``z_i - LSE(z)`` along ``axis``: the log-probabilities of the softmax.

    >>> import numpy as np
    >>> np.round(log_softmax([0.0, np.log(3.0)]), 6)
    array([-1.386294, -0.287682])
    """
    z = as_logits(z, axis=axis)
    m, s = _lse_parts(z, axis)
    return (z - m) - np.log1p(s)


def softmax(z, axis: int = -1) -> np.ndarray:
    """``exp(z_i) / sum_j exp(z_j)`` along ``axis``; entries sum to 1.

    >>> softmax([0.0, 0.0, 0.0]).tolist() == [1 / 3] * 3
    True
    >>> float(softmax([1000.0, 0.0])[0])         # no overflow
    1.0
    """
    z = as_logits(z, axis=axis)
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        e = _exp_of_difference(z, m)
    return e / np.sum(e, axis=axis, keepdims=True)


def cross_entropy(logits, labels) -> np.ndarray:
    """Per-example hard-label cross-entropy ``-log softmax(z)_y = LSE(z) - z_y``.

    ``logits`` has shape ``(..., K)`` (last axis = classes) and ``labels`` has
    shape ``(...)`` with integers in ``[0, K)``. Returns shape ``(...)``.

    >>> round(float(cross_entropy([0.0, 0.0, 0.0], 1)), 12)   # log 3
    1.098612288668
    >>> cross_entropy([[2.0, 0.0], [0.0, 2.0]], [0, 0]).round(6)
    array([0.126928, 2.126928])
    """
    z = as_logits(logits, axis=-1)
    y = as_labels(labels, z.shape[-1], z.shape[:-1])
    m, s = _lse_parts(z, -1)
    z_y = np.take_along_axis(z, y[..., None], axis=-1)
    with np.errstate(over="ignore"):
        loss = (m - z_y) + np.log1p(s)
    return loss[..., 0]
