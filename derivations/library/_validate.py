"""Input validation shared by every numeric function.

Every public numeric function funnels its inputs through these helpers so that
bad input fails the same way everywhere: a ``ValueError`` whose message names
the problem and the offending value.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_logits", "as_labels", "as_probability", "as_num_classes", "first_bad"]


def first_bad(mask: np.ndarray) -> tuple[int, ...]:
    """Index (as a tuple) of the first True entry of ``mask``."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def as_logits(logits, axis: int = -1, name: str = "logits") -> np.ndarray:
    """Return ``logits`` as a float32/float64 array, or raise ``ValueError``.

    Integer and boolean input is promoted to float64; float32 and float64 are
    kept as they are. The class axis must hold at least 2 entries and every
    entry must be finite.

    >>> as_logits([1, 2]).dtype
    dtype('float64')
    >>> as_logits([1.0, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: logits must be finite; found nan at index (1,)
    """
    z = np.asarray(logits)
    if z.dtype.kind in "biu":
        z = z.astype(np.float64)
    elif z.dtype == np.float16:
        z = z.astype(np.float32)
    elif z.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name} must be real numbers (float32 or float64); got dtype {z.dtype}")
    if z.ndim == 0:
        raise ValueError(f"{name} must have a class axis; got a scalar {z.item()!r}")
    try:
        n_classes = z.shape[axis]
    except IndexError:
        raise ValueError(f"axis {axis} is out of range for {name} of shape {z.shape}") from None
    if n_classes < 2:
        raise ValueError(f"{name} need at least 2 classes along axis {axis}; got {n_classes} (shape {z.shape})")
    finite = np.isfinite(z)
    if not finite.all():
        idx = first_bad(~finite)
        raise ValueError(f"{name} must be finite; found {float(z[idx])} at index {idx}")
    return z


def as_labels(labels, num_classes: int, batch_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return integer class labels in ``[0, num_classes)`` with shape ``batch_shape`` (any, if ``None``).

    The common case (an integer array of the right shape, in range) costs one
    ``min`` and one ``max`` and no temporary of the labels' size, so the numeric
    functions call this on every batch; anything else is examined in full, for
    a message that names the first offending label.

    >>> as_labels([0, 2], 3, (2,))
    array([0, 2])
    >>> as_labels([0, 3], 3, (2,))
    Traceback (most recent call last):
    ...
    ValueError: labels must lie in [0, 3); found 3 at index (1,)
    """
    y = np.asarray(labels)
    shape = y.shape if batch_shape is None else tuple(batch_shape)
    if (y.dtype.kind in "iu" and y.shape == shape
            and (y.size == 0 or (int(y.min()) >= 0 and int(y.max()) < num_classes))):
        return y.astype(np.intp, copy=False)
    if y.dtype.kind not in "iu":
        if y.dtype.kind != "f":
            raise ValueError(f"labels must be integers; got dtype {y.dtype}")
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            idx = first_bad(bad)
            raise ValueError(f"labels must be integers; found {float(y[idx])} at index {idx}")
        raise ValueError(f"labels must have an integer dtype; got {y.dtype} (cast with .astype(int))")
    if y.shape != shape:
        raise ValueError(
            f"labels must have shape {shape} (the logits' shape without the class axis); got {y.shape}"
        )
    out = (y < 0) | (y >= num_classes)
    if out.any():
        idx = first_bad(out)
        raise ValueError(f"labels must lie in [0, {num_classes}); found {int(y[idx])} at index {idx}")
    return y.astype(np.intp, copy=False)


def as_probability(value, name: str = "eps") -> float:
    """Return ``value`` as a float in [0, 1], or raise ``ValueError``.

    >>> as_probability(0.1)
    0.1
    >>> as_probability(1.5)
    Traceback (most recent call last):
    ...
    ValueError: eps must lie in [0, 1]; got 1.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number in [0, 1]; got {value!r}")
    v = float(value)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1]; got {value!r}")
    return v


def as_num_classes(num_classes, name: str = "num_classes") -> int:
    """``num_classes`` as an ``int >= 2``, or ``ValueError`` naming it (as ``name``) and the value.

    >>> as_num_classes(10)
    10
    >>> as_num_classes(1)
    Traceback (most recent call last):
    ...
    ValueError: num_classes must be an integer >= 2; got 1
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 2:
        raise ValueError(f"{name} must be an integer >= 2; got {num_classes!r}")
    return int(num_classes)
