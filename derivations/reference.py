"""High-precision references in mpmath, independent of the NumPy code.

They work element by element on Python sequences, at ``dps`` decimal digits,
and are used by tests and the claim checks to measure the NumPy functions'
error. Slow by design; never used for real work.
"""
from __future__ import annotations

from collections.abc import Sequence

import mpmath

__all__ = ["mp_log_sum_exp", "mp_softmax", "mp_cross_entropy"]


def mp_log_sum_exp(z: Sequence[float], dps: int = 50) -> mpmath.mpf:
    """``log(sum exp(z_j))`` at ``dps`` digits (mpmath has no overflow).

    >>> float(mp_log_sum_exp([1e300, 1e300]))
    1e+300
    """
    with mpmath.workdps(dps):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in z))


def mp_softmax(z: Sequence[float], dps: int = 50) -> list:
    """Softmax probabilities at ``dps`` digits.

    >>> [float(p) for p in mp_softmax([0.0, 0.0])]
    [0.5, 0.5]
    """
    with mpmath.workdps(dps):
        lse = mp_log_sum_exp(z, dps)
        return [mpmath.exp(mpmath.mpf(float(v)) - lse) for v in z]


def mp_cross_entropy(z: Sequence[float], label: int, dps: int = 50) -> mpmath.mpf:
    """``LSE(z) - z_label`` at ``dps`` digits, as ``log1p(sum_{j != label} exp(z_j - z_label))``.

    Written without the subtraction ``LSE - z_label``, which would cancel
    when the label's logit dominates (the loss can be far below 10**-dps).

    >>> float(mp_cross_entropy([0.0, 0.0], 0))
    0.6931471805599453
    >>> float(mp_cross_entropy([300.0, 0.0], 0))     # exp(-300), not 0
    5.148200222412013e-131
    """
    with mpmath.workdps(dps):
        zy = mpmath.mpf(float(z[label]))
        rest = mpmath.fsum(mpmath.exp(mpmath.mpf(float(v)) - zy) for j, v in enumerate(z) if j != label)
        return mpmath.log1p(rest)
