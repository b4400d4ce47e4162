"""How well the maximum approximates log-sum-exp, as a function of the margin.

With ``m = max_j z_j`` and the *margin* ``Delta = z_(1) - z_(2)`` (largest
logit minus the second largest),

    0 < log(1 + exp(-Delta)) <= LSE(z) - m <= log(1 + (K-1) exp(-Delta)) <= log K.

The upper bound is attained when all K-1 other logits equal ``m - Delta``;
the lower one when K = 2 (for K > 2 it is approached as the remaining logits
go to minus infinity). So the error of ``LSE ~ max`` shrinks like ``exp(-Delta)``.
"""
from __future__ import annotations

import numpy as np

from derivations.library._validate import as_logits, as_num_classes
from derivations.library.numeric import log_sum_exp

__all__ = ["max_approximation_error", "logit_margin", "margin_error_bounds"]


def max_approximation_error(z, axis: int = -1) -> np.ndarray:
    """``LSE(z) - max_j z_j``: always in ``(0, log K]``.

    Used in: chapter 1 (the bounds at random logits, against mpmath; the margin figure)

    >>> round(float(max_approximation_error([0.0, 0.0, 0.0])), 12)   # log 3
    1.098612288668
    """
    z = as_logits(z, axis=axis)
    return log_sum_exp(z, axis=axis) - np.max(z, axis=axis)


def logit_margin(z, axis: int = -1) -> np.ndarray:
    """Largest logit minus the second largest (``>= 0``).

    Checked by: ch1.margin_error

    >>> float(logit_margin([3.0, 1.0, 2.5]))
    0.5
    """
    z = as_logits(z, axis=axis)
    top2 = -np.partition(-z, 1, axis=axis)
    return np.take(top2, 0, axis=axis) - np.take(top2, 1, axis=axis)


def margin_error_bounds(margin, K: int) -> tuple[np.ndarray, np.ndarray]:
    """``(log1p(exp(-Delta)), log1p((K-1) exp(-Delta)))``: the exact range of ``LSE - max``.

    Checked by: ch1.margin_error

    >>> lo, hi = margin_error_bounds(0.0, 4)
    >>> round(float(lo), 6), round(float(hi), 6)     # (log 2, log 4)
    (0.693147, 1.386294)
    """
    d = np.asarray(margin, dtype=float)
    if np.any(d < 0) or not np.all(np.isfinite(d)):
        raise ValueError(f"margin must be finite and >= 0; got {margin!r}")
    K = as_num_classes(K, "K")
    e = np.exp(-d)
    return np.log1p(e), np.log1p((K - 1) * e)
