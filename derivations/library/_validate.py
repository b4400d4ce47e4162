"""Input validation shared by every numeric function.

Every public numeric function funnels its inputs through these helpers so that
bad input fails the same way everywhere: a ``ValueError`` whose message names
the problem and the offending value.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_logits", "logits_in", "compute_dtype", "class_axis", "as_labels", "as_labels_ignoring", "as_targets",
           "as_weight", "check_ignore_index", "as_probability", "as_num_classes", "first_bad", "raise_non_finite", "raise_all_neg_inf",
           "CONVENTIONS"]

#: What every message about the class axis says: the two conventions in use.
CONVENTIONS = ("axis=1 for PyTorch's layout (N, C, d1, ...), axis=-1 for optax's and Keras's (..., C)")
#: Input dtypes computed in float32 and returned in their own dtype (ml_dtypes.bfloat16 is a NumPy dtype named so).
_NARROW = ("float16", "bfloat16")


def compute_dtype(dtype, name: str = "logits") -> tuple[np.dtype, np.dtype]:
    """``(the dtype computed in, the dtype returned)`` for logits of ``dtype``, or ``ValueError`` saying why not.

    float32 and float64 are computed in their own precision; float16 and bfloat16 (``ml_dtypes.bfloat16``,
    which NumPy knows only where ml_dtypes is installed) in float32, at least, and returned in their own
    dtype; integers and booleans are computed and returned in float64.

    >>> compute_dtype(np.float16)
    (dtype('float32'), dtype('float16'))
    >>> compute_dtype(np.int64)
    (dtype('float64'), dtype('float64'))
    >>> compute_dtype(np.complex128)
    Traceback (most recent call last):
    ...
    ValueError: logits must be real numbers (float16, bfloat16, float32 or float64; integers become float64); got dtype complex128
    """
    dt = np.dtype(dtype)
    if dt.kind in "biu":
        return np.dtype(np.float64), np.dtype(np.float64)
    if dt in (np.float32, np.float64):
        return dt, dt
    if dt.name in _NARROW:
        return np.dtype(np.float32), dt
    why = ("; bfloat16 is accepted as ml_dtypes.bfloat16 (NumPy has no 16-bit brain float of its own: "
           "pip install ml_dtypes)" if dt.kind == "V" else "")
    raise ValueError(f"{name} must be real numbers (float16, bfloat16, float32 or float64; integers become float64); "
                     f"got dtype {dt}{why}")


def class_axis(shape: tuple[int, ...], axis, name: str = "logits") -> int:
    """The class axis of an array of ``shape`` as a non-negative index, or ``ValueError`` naming both conventions.

    ``axis=None`` is allowed up to two dimensions, where PyTorch's and optax's (Keras's) conventions agree: the
    classes are the last axis, ``(C,)`` or ``(N, C)``. With more dimensions they disagree (PyTorch: ``(N, C, d1,
    ...)``; optax, Keras: ``(..., C)``), and the caller must say which.

    >>> class_axis((4, 3), None), class_axis((2, 5, 7), 1), class_axis((2, 5, 7), -1)
    (1, 1, 2)
    >>> class_axis((6, 4, 4), None)
    Traceback (most recent call last):
    ...
    ValueError: logits of shape (6, 4, 4) have 3 dimensions: say which holds the classes, axis=1 for PyTorch's layout (N, C, d1, ...), axis=-1 for optax's and Keras's (..., C)
    """
    ndim = len(shape)
    if ndim == 0:
        raise ValueError(f"{name} must have a class axis; got a scalar")
    if axis is None:
        if ndim > 2:
            raise ValueError(f"{name} of shape {tuple(shape)} have {ndim} dimensions: say which holds the classes, "
                             + CONVENTIONS)
        return ndim - 1
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"axis must be an integer or None; got {axis!r} ({CONVENTIONS})")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for {name} of shape {tuple(shape)}")
    return int(axis) % ndim


def logits_in(logits, axis, name: str = "logits") -> tuple[np.ndarray, np.dtype, np.dtype, int]:
    """``(z, computed in, returned as, class axis)`` for a loss: ``z`` keeps float16 and bfloat16 as they are
    (the caller converts block by block), integers become float64; the class axis as :func:`class_axis`, with
    at least 2 classes. The values are not scanned (the caller does it, blockwise)."""
    z = np.asarray(logits)
    if z.dtype.kind == "O" or z.dtype.kind in "USM":
        raise ValueError(f"{name} must be real numbers (float16, bfloat16, float32 or float64); got dtype {z.dtype}")
    work, out = compute_dtype(z.dtype, name)
    if z.dtype.kind in "biu":
        z = z.astype(np.float64)
    if z.ndim == 0:
        raise ValueError(f"{name} must have a class axis; got a scalar {z.item()!r}")
    a = class_axis(z.shape, axis, name)
    if z.shape[a] < 2:
        raise ValueError(f"{name} need at least 2 classes along axis {a}; got {z.shape[a]} (shape {z.shape})")
    return z, work, out, a


def first_bad(mask: np.ndarray) -> tuple[int, ...]:
    """Index (as a tuple) of the first True entry of ``mask``."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def as_logits(logits, axis: int = -1, name: str = "logits", *, neg_inf: bool = False, scan: bool = True) -> np.ndarray:
    """Return ``logits`` as a float32/float64 array (what it is computed in), or raise ``ValueError``.

    Integer and boolean input is promoted to float64, float16 and bfloat16 to
    float32 (:func:`compute_dtype`); float32 and float64 are kept as they are. The class axis must hold at least 2 entries. Every entry
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
    if z.dtype.kind in "OUSM":
        raise ValueError(f"{name} must be real numbers (float16, bfloat16, float32 or float64); got dtype {z.dtype}")
    work, _ = compute_dtype(z.dtype, name)
    if z.dtype != work:
        z = z.astype(work)
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


def check_ignore_index(ignore_index) -> None:
    """``ValueError`` unless ``ignore_index`` is an integer (any: PyTorch's default is -100) or None."""
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral)):
        raise ValueError(f"ignore_index must be an integer (PyTorch's default: -100) or None; got {ignore_index!r}")


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
    check_ignore_index(ignore_index)
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
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or int(num_classes) < 2:
        raise ValueError(f"{name} must be an integer >= 2; got {num_classes!r}")
    return int(num_classes)


def as_targets(target, num_classes: int, shape: tuple[int, ...], axis: int, ignore_index):
    """Class indices or class probabilities, told apart as PyTorch tells them: by their shape.

    ``shape`` is the logits' shape and ``axis`` their class axis. Returns ``(y, ignored, t)``:

    * class indices (the logits' shape without the class axis, integers in ``[0, K)`` or ``ignore_index``):
      ``y`` and ``ignored`` as :func:`as_labels_ignoring`, ``t`` None;
    * class probabilities (the logits' shape, floating point, as PyTorch requires): ``y`` and ``ignored``
      None, ``t`` the array as given (its values are checked by the caller, block by block). PyTorch refuses
      an ``ignore_index >= 0`` with them, and so does this.

    >>> as_targets([2, -100], 3, (2, 3), 1, -100)
    (array([2, 0]), array([False,  True]), None)
    >>> as_targets([[0.8, 0.1, 0.1]], 3, (1, 3), 1, -100)[2]
    array([[0.8, 0.1, 0.1]])
    >>> as_targets([[0.8, 0.1, 0.1]], 3, (1, 3), 1, 0)
    Traceback (most recent call last):
    ...
    ValueError: ignore_index=0 selects class indices to ignore; with class-probability targets (shaped like the logits) PyTorch refuses an ignore_index >= 0, and so does this: pass ignore_index=None
    >>> as_targets([0.8], 3, (1, 3), 1, -100)
    Traceback (most recent call last):
    ...
    ValueError: labels must be integers (class indices, shape (1,)); found 0.8 at index (0,); class probabilities (PyTorch's soft targets) have the logits' shape (1, 3)
    """
    shape = tuple(shape)
    batch = shape[:axis] + shape[axis + 1:]
    t = np.asarray(target)
    if t.shape == shape:
        if t.dtype.kind != "f" and t.dtype.name != "bfloat16":
            raise ValueError(f"class-probability targets (shaped like the logits, {shape}) must be floating point, "
                             f"as in PyTorch; got dtype {t.dtype} (class indices have the logits' shape without the "
                             f"class axis {axis}, {batch})")
        check_ignore_index(ignore_index)
        if ignore_index is not None and int(ignore_index) >= 0:
            raise ValueError(f"ignore_index={ignore_index} selects class indices to ignore; with class-probability "
                             "targets (shaped like the logits) PyTorch refuses an ignore_index >= 0, and so does this: "
                             "pass ignore_index=None")
        return None, None, t
    if t.shape != batch:
        raise ValueError(f"labels must have shape {batch} (class indices: the logits' shape {shape} without the class "
                         f"axis {axis}) or {shape} (class probabilities, PyTorch's soft targets); got {t.shape}")
    hint = f"; class probabilities (PyTorch's soft targets) have the logits' shape {shape}"
    if t.dtype.kind == "f" or t.dtype.name == "bfloat16":
        f = t.astype(np.float64)
        bad = ~np.isfinite(f) | (f != np.round(f))
        if bad.any():
            idx = first_bad(bad)
            raise ValueError(f"labels must be integers (class indices, shape {batch}); found {float(f[idx])} at index "
                             f"{idx}{hint}")
        raise ValueError(f"labels must have an integer dtype; got {t.dtype} (cast with .astype(int)){hint}")
    y, ignored = as_labels_ignoring(t, num_classes, batch, ignore_index)
    return y, ignored, None


def as_weight(weight, num_classes: int, dtype) -> np.ndarray:
    """PyTorch's ``weight=``: one finite, non-negative number per class, as an array of ``dtype`` (the
    logits' computing dtype: PyTorch wants the weights in the logits' dtype), or ``ValueError``.

    >>> as_weight([1, 2, 0.5], 3, np.float32)
    array([1. , 2. , 0.5], dtype=float32)
    >>> as_weight([1.0, -1.0], 2, np.float64)
    Traceback (most recent call last):
    ...
    ValueError: weight must be finite and >= 0 (one weight per class, as PyTorch's weight=); found -1.0 at index (1,)
    """
    w = np.asarray(weight)
    if w.shape != (num_classes,):
        raise ValueError(f"weight must hold one number per class, shape ({num_classes},), as PyTorch's weight=; "
                         f"got shape {w.shape}")
    if w.dtype.kind not in "biuf" and w.dtype.name != "bfloat16":
        raise ValueError(f"weight must be real numbers; got dtype {w.dtype}")
    w64 = w.astype(np.float64)
    bad = ~np.isfinite(w64) | (w64 < 0)
    if bad.any():
        idx = first_bad(bad)
        raise ValueError(f"weight must be finite and >= 0 (one weight per class, as PyTorch's weight=); found "
                         f"{float(w64[idx])} at index {idx}")
    return w64.astype(dtype)
