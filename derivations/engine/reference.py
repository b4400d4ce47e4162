"""High-precision references in mpmath, independent of the NumPy code.

They work element by element on Python sequences, at ``dps`` decimal digits,
and are used by tests and the claim checks to measure the NumPy functions'
error. Slow by design; never used for real work.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import mpmath

__all__ = ["mp_log_sum_exp", "mp_softmax", "mp_cross_entropy", "mp_label_losses", "mp_smoothed_cross_entropy"]


def mp_log_sum_exp(z: Sequence[float], dps: int = 50) -> mpmath.mpf:
    """``log(sum exp(z_j))`` at ``dps`` digits (mpmath has no overflow).

    Used in: chapter 1 (the bounds of LSE - max at random logits)

    >>> float(mp_log_sum_exp([1e300, 1e300]))
    1e+300
    """
    with mpmath.workdps(dps):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in z))


def mp_softmax(z: Sequence[float], dps: int = 50) -> list:
    """Softmax probabilities at ``dps`` digits.

    Used in: the tests (tests/test_numeric.py)

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

    Used in: chapter 1 (cross_entropy against mpmath at the reader's K)

    >>> float(mp_cross_entropy([0.0, 0.0], 0))
    0.6931471805599453
    >>> float(mp_cross_entropy([300.0, 0.0], 0))     # exp(-300), not 0
    5.148200222412013e-131
    """
    with mpmath.workdps(dps):
        zy = mpmath.mpf(float(z[label]))
        rest = mpmath.fsum(mpmath.exp(mpmath.mpf(float(v)) - zy) for j, v in enumerate(z) if j != label)
        return mpmath.log1p(rest)


def mp_label_losses(z: Sequence[float], dps: int = 50) -> list:
    """``LSE(z) - z_j`` for every class ``j``, at ``dps`` digits, without cancellation.

    With ``m = max z`` attained at ``a`` and ``r = log1p(sum_{k != a} exp(z_k - m)) > 0``,
    ``LSE(z) - z_j = (m - z_j) + r``: two non-negative terms, each accurate, so a
    loss far below ``10**-dps`` (the label's logit dominating) keeps its relative
    accuracy. Computing ``LSE(z) - z_j`` as a difference would lose it.

    Remembered for the last few rows asked (a row's losses do not depend on the target: the smoothed loss at
    several eps reads them again).

    Used in: chapter 2 (through :func:`mp_smoothed_cross_entropy`)

    >>> [float(v) for v in mp_label_losses([0.0, -200.0])]     # exp(-200), then 200 + exp(-200)
    [1.3838965267367376e-87, 200.0]
    """
    return list(_label_losses(tuple(float(v) for v in z), dps))


@lru_cache(maxsize=64)
def _label_losses(x: tuple, dps: int) -> tuple:
    with mpmath.workdps(dps):
        a = max(range(len(x)), key=x.__getitem__)
        m = mpmath.mpf(x[a])
        # each distinct logit's terms computed once (K equal logits: one exponential, not K)
        distinct = {v: mpmath.mpf(v) for v in set(x)}
        exp = {v: mpmath.exp(d - m) for v, d in distinct.items()}
        r = mpmath.log1p(mpmath.fsum(exp[v] for k, v in enumerate(x) if k != a))
        loss = {v: (m - d) + r for v, d in distinct.items()}
        return tuple(loss[v] for v in x)


def mp_smoothed_cross_entropy(z: Sequence[float], label: int, eps: float | None = None, *,
                              label_smoothing: float | None = None, dps: int = 50) -> mpmath.mpf:
    """``sum_j p_j (LSE(z) - z_j)`` for the soft target ``p`` of ``label``, at ``dps`` digits.

    ``eps`` (the note's): ``p = 1 - eps`` on the label and ``eps/(K-1)`` elsewhere;
    ``label_smoothing`` (PyTorch's alpha): ``(1 - alpha) onehot + alpha/K``; exactly one
    of them. Written from the definition with the losses of :func:`mp_label_losses`,
    independent of the library's closed form.

    Used in: chapter 2 (smoothed_cross_entropy against mpmath at the reader's K and eps)

    >>> float(mp_smoothed_cross_entropy([0.0, 0.0, 0.0], 1, 0.3))          # log 3
    1.0986122886681098
    """
    if (eps is None) == (label_smoothing is None):
        raise ValueError("give exactly one of eps (the note's) or label_smoothing (PyTorch's alpha)")
    K = len(z)
    losses = mp_label_losses(z, dps)
    with mpmath.workdps(dps):
        if eps is not None:
            e = mpmath.mpf(float(eps))
            on, off = 1 - e, e / (K - 1)
        else:
            a = mpmath.mpf(float(label_smoothing))
            on, off = 1 - a + a / K, a / K
        return mpmath.fsum((on if j == label else off) * v for j, v in enumerate(losses))
