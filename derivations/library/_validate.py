"""Input validation shared by every numeric function.

Every public numeric function funnels its inputs through these helpers so that
bad input fails the same way everywhere: a ``ValueError`` whose message names
the problem and the offending value.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_logits", "as_labels", "as_labels_ignoring", "as_probability", "as_num_classes", "first_bad",
           "raise_non_finite", "raise_all_neg_inf"]


def first_bad(mask: np.ndarray) -> tuple[int, ...]:
    """Index (as a tuple) of the first True entry of ``mask``."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def as_logits(logits, axis: int = -1, name: str = "logits", *, neg_inf: bool = False, scan: bool = True) -> np.ndarray:
    """Return ``logits`` as a float32/float64 array, or raise ``ValueError``.

    Integer and boolean input is promoted to float64; float32 and float64 are
    kept as they are. The class axis must hold at least 2 entries. Every entry
    must be finite, or with ``neg_inf=True`` finite or ``-inf`` (a masked
    class); NaN and ``+inf`` are always refused. ``scan=False`` checks the
    dtype and the shape only (the caller scans the values itself, blockwise).

    >>> as_logits([1, 2]).dtype
    dtype('float64')
    >>> as_logits([1.0, float("nan")])
    Traceback (most recent call last):
    ...
    ValueError: logits must be finite; found nan at index (1,)
    >>> as_logits([0.0, float("-inf")], neg_inf=True).tolist()
    [0.0, -inf]
    >>> as_logits([0.0, float("nan")], neg_inf=True)
    Traceback (most recent call last):
    ...
    ValueError: logits must be finite or -inf; found nan at index (1,)
    >>> as_logits([[0.0], [1.0], [2.0], [3.0]])
    Traceback (most recent call last):
    ...
    ValueError: logits need at least 2 classes along axis -1; got 1 (shape (4, 1))
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
    if scan:
        raise_non_finite(z, name, neg_inf=neg_inf)
    return z


def raise_non_finite(z: np.ndarray, name: str = "logits", *, neg_inf: bool = False,
                     shape: tuple[int, ...] | None = None, offset: int = 0) -> None:
    """Raise ``ValueError`` naming the first entry of ``z`` that is NaN or infinite (``+inf`` only when
    ``neg_inf``). ``z`` may be a block of rows of a larger array: its first entry is then the flat index
    ``offset`` of an array of ``shape``, and the index named is the one in that array."""
    finite = np.isfinite(z)
    if finite.all():
        return
    bad = ~finite
    if neg_inf:
        bad &= z != -np.inf
        if not bad.any():
            return
    idx = first_bad(bad)
    if shape is not None:
        flat = offset + int(np.ravel_multi_index(idx, z.shape))
        where = tuple(int(i) for i in np.unravel_index(flat, shape))
    else:
        where = idx
    allowed = "finite or -inf" if neg_inf else "finite"
    raise ValueError(f"{name} must be {allowed}; found {float(z[idx])} at index {where}")


def raise_all_neg_inf(m: np.ndarray, what: str, name: str = "logits") -> None:
    """Raise ``ValueError`` if a row maximum in ``m`` (one per row, the class axis removed) is ``-inf``:
    every logit of that row is ``-inf``, and ``what`` (its softmax, its loss) is 0/0, undefined."""
    rows = m == -np.inf
    if rows.any():
        where = f" in the row at index {first_bad(rows)}" if m.ndim else ""
        raise ValueError(f"{name} are all -inf{where}: {what} is undefined there (0/0)")


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


def as_labels_ignoring(labels, num_classes: int, batch_shape: tuple[int, ...], ignore_index):
    """:func:`as_labels` where a label equal to ``ignore_index`` is allowed and marks its row as ignored.

    Returns ``(y, ignored)``: ``y`` the labels as ``intp`` with each ignored one
    replaced by 0 (a valid index, so the caller computes every row alike), and
    ``ignored`` a boolean array of ``batch_shape``, or ``None`` when no row is
    ignored. ``ignore_index`` is an integer (any: PyTorch's default is -100,
    and a class in ``[0, K)`` may be ignored too) or ``None`` (no label is).

    >>> as_labels_ignoring([2, -100, 0], 3, (3,), -100)
    (array([2, 0, 0]), array([False,  True, False]))
    >>> as_labels_ignoring([2, 0], 3, (2,), -100)[1] is None
    True
    >>> as_labels_ignoring([2, -1], 3, (2,), -100)
    Traceback (most recent call last):
    ...
    ValueError: labels must lie in [0, 3) or equal ignore_index (-100); found -1 at index (1,)
    """
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral)):
        raise ValueError(f"ignore_index must be an integer (PyTorch's default: -100) or None; got {ignore_index!r}")
    y = np.asarray(labels)
    if ignore_index is None or (y.dtype.kind in "iu" and y.shape == tuple(batch_shape)
                                and not 0 <= ignore_index < num_classes
                                and (y.size == 0 or (int(y.min()) >= 0 and int(y.max()) < num_classes))):
        return as_labels(y, num_classes, batch_shape), None    # nothing ignored (the common case: min and max)
    if y.dtype.kind not in "iu" or y.shape != tuple(batch_shape):
        as_labels(y, num_classes, batch_shape)                  # raises: the dtype or the shape is wrong
    ignored = y == ignore_index
    out = ~ignored & ((y < 0) | (y >= num_classes))
    if out.any():
        idx = first_bad(out)
        raise ValueError(f"labels must lie in [0, {num_classes}) or equal ignore_index ({ignore_index}); "
                         f"found {int(y[idx])} at index {idx}")
    if not ignored.any():
        return y.astype(np.intp, copy=False), None
    return np.where(ignored, 0, y).astype(np.intp, copy=False), ignored


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
