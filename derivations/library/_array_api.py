"""The smoothed cross-entropy on any Array API array (torch, JAX, CuPy, array-api-strict), through array-api-compat.

NumPy arrays (and lists, and Python numbers) never come here: :func:`derivations.library.smoothing.
smoothed_cross_entropy` computes them block by block in NumPy. An array of another library is computed with that
library's own operations, taken from its Array API namespace (``array_api_compat.array_namespace``), so that the
result is an array of the same library, on the same device, and differentiable where the library is (torch's
autograd, ``jax.grad``). array-api-compat is optional (the ``array-api`` extra): without it, such an array is
refused with a message that says what to install, and ``pip install soft-targets-companion`` brings NumPy alone.

The loss is the closed form of :mod:`derivations.library.smoothing`, written with the standard's operations only:
with ``m = max_j z_j`` and the coefficients ``c_j = w_j p_j`` (class weights times the target),

    loss = (sum_j c_j) log1p(s) + sum_j c_j (m - z_j),   s = sum_{z_j < m} exp(z_j - m) + (#{z_j = m} - 1),

(the exponentials compensated for the rounding of ``z_j - m``, as in NumPy's path),

non-negative terms, with ``0 * inf = 0`` where a class without mass is masked (``-inf``). Its gradient is
``(sum_j c_j) softmax(z) - c``, ties of the maximum included. float16 and bfloat16 are computed in float32 and
returned in their own dtype; the sums of the reductions are in the computing dtype (the library's own, as
PyTorch's). Values are checked (labels in range, NaN, ``+inf``, a row of only ``-inf``) where they are concrete;
under ``jax.jit`` they are traced, and not checked.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from derivations.library._validate import class_axis, first_bad

__all__ = ["array_namespace", "xp_cross_entropy", "FOREIGN"]

#: Top-level modules whose arrays go through the Array API (besides any object with ``__array_namespace__``).
FOREIGN = frozenset({"torch", "jax", "jaxlib", "cupy", "dask", "array_api_strict", "ndonnx", "sparse", "mlx"})


def _foreign(x) -> bool:
    """Whether ``x`` is an array of a library other than NumPy (Python numbers and lists are NumPy's here)."""
    if x is None or isinstance(x, (np.ndarray, np.generic, list, tuple, numbers.Number)):
        return False
    return hasattr(x, "__array_namespace__") or type(x).__module__.split(".")[0] in FOREIGN


def array_namespace(*arrays) -> Any:
    """The Array API namespace of the arrays that are not NumPy's, or None when all are (the NumPy path).

    >>> array_namespace(np.zeros(3), [0, 1], None) is None
    True
    """
    foreign = [x for x in arrays if _foreign(x)]
    if not foreign:
        return None
    return _compat(foreign[0]).array_namespace(*foreign)


def _compat(example=None):
    """The module ``array_api_compat``, or ``TypeError`` saying what to install (the only import of it here)."""
    try:
        import array_api_compat
    except ImportError:
        kind = "an array" if example is None else f"a {type(example).__module__}.{type(example).__qualname__}"
        raise TypeError(f"got {kind}: arrays other than NumPy's are computed through the Array API, which needs "
                        "array-api-compat (pip install 'soft-targets-companion[array-api]'); or pass a NumPy "
                        "array") from None
    return array_api_compat


def _any(xp, mask) -> bool:
    """``bool(xp.any(mask))``, or False where the values are traced (``jax.jit``): they cannot be checked."""
    try:
        return bool(xp.any(mask))
    except Exception as err:                           # JAX's TracerBoolConversionError, ConcretizationTypeError
        if "Tracer" in type(err).__name__ or "Concretization" in type(err).__name__:
            return False
        raise


def _first(mask) -> tuple[int, ...]:
    """The index of the first True entry of ``mask`` (a boolean array of any library), read on the host."""
    try:
        host = np.asarray(mask)
    except Exception:                                  # on a GPU: copied to the host first
        host = np.asarray(_compat(mask).to_device(mask, "cpu"))
    return first_bad(host)


def _original(index: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """An index with the class axis last, in the caller's order (the class axis at ``axis``)."""
    return index[:-1][:axis] + (index[-1],) + index[:-1][axis:]


def _as(xp, x, device):
    """``x`` as an array of ``xp`` on ``device`` (NumPy arrays and Python numbers are converted)."""
    if _foreign(x):
        return x
    return xp.asarray(np.asarray(x), device=device)


def xp_cross_entropy(xp, logits, target, *, levels: Callable[[int], tuple[float, float]], weight, reduction: str,
                     ignore_index, axis) -> Any:
    """:func:`derivations.library.smoothing.smoothed_cross_entropy` with the operations of ``xp``; ``levels(K)``
    gives the target's ``(on, off)``. The arguments are those of that function, already type-checked there."""
    ref = next((x for x in (logits, target, weight) if _foreign(x)), None)
    dev = _compat(ref).device(ref) if ref is not None else None        # NumPy itself as the namespace: the CPU
    z = _as(xp, logits, dev)
    if not xp.isdtype(z.dtype, "real floating"):
        raise ValueError(f"logits must be real floating point (float16, bfloat16, float32 or float64), as PyTorch "
                         f"requires; got dtype {z.dtype}")
    narrow = z.dtype not in (xp.float32, xp.float64)              # float16, bfloat16: computed in float32
    work = xp.float32 if narrow else z.dtype
    shape = tuple(z.shape)
    a = class_axis(shape, axis)
    K = shape[a]
    if K < 2:
        raise ValueError(f"logits need at least 2 classes along axis {a}; got {K} (shape {shape})")
    on, off = levels(K)
    batch = shape[:a] + shape[a + 1:]
    perm = tuple(i for i in range(len(shape)) if i != a) + (a,)
    zc = xp.astype(z, work) if narrow else z
    if a != len(shape) - 1:
        zc = xp.permute_dims(zc, perm)
    w = None if weight is None else _weight(xp, _as(xp, weight, dev), K, work)
    t = _as(xp, target, dev)
    if tuple(t.shape) == shape:
        c, ignored, y = _soft(xp, t, perm, a, on, off, w, work, ignore_index), None, None
    elif tuple(t.shape) == batch:
        c, ignored, y = _hard(xp, t, K, on, off, w, work, ignore_index, dev)
    else:
        raise ValueError(f"labels must have shape {batch} (class indices: the logits' shape {shape} without the class "
                         f"axis {a}) or {shape} (class probabilities, PyTorch's soft targets); got {tuple(t.shape)}")
    loss = _rows(xp, zc, c, ignored, a, work)
    if reduction == "none":
        out = loss
    elif reduction == "sum":
        out = xp.sum(loss)
    else:
        d = _denominator(xp, batch, ignored, y, w, work, dev)
        zero = d == 0                                   # nothing counted, or weight 0 only: NaN, as PyTorch's
        out = xp.where(zero, xp.asarray(float("nan"), dtype=work, device=dev),
                       xp.sum(loss) / xp.where(zero, xp.ones_like(d), d))
    return xp.astype(out, z.dtype) if narrow else out


def _weight(xp, w, num_classes: int, work):
    """PyTorch's ``weight=``: shape ``(K,)``, finite and non-negative, in the computing dtype."""
    if tuple(w.shape) != (num_classes,):
        raise ValueError(f"weight must hold one number per class, shape ({num_classes},), as PyTorch's weight=; "
                         f"got shape {tuple(w.shape)}")
    w = xp.astype(w, work)
    bad = ~(xp.isfinite(w) & (w >= 0))
    if _any(xp, bad):
        idx = _first(bad)
        raise ValueError(f"weight must be finite and >= 0 (one weight per class, as PyTorch's weight=); found "
                         f"{float(w[idx])} at index {idx}")
    return w


def _soft(xp, t, perm, axis: int, on: float, off: float, w, work, ignore_index):
    """The coefficients ``w_j (on t_j + off (1 - t_j))`` of class-probability targets, classes last."""
    if not xp.isdtype(t.dtype, "real floating"):
        raise ValueError(f"class-probability targets (shaped like the logits, {tuple(t.shape)}) must be floating "
                         f"point, as in PyTorch; got dtype {t.dtype}")
    if ignore_index is not None and ignore_index >= 0:
        raise ValueError(f"ignore_index={ignore_index} selects class indices to ignore; with class-probability "
                         "targets (shaped like the logits) PyTorch refuses an ignore_index >= 0, and so does this: "
                         "pass ignore_index=None")
    t = xp.astype(t, work)
    if axis != len(perm) - 1:
        t = xp.permute_dims(t, perm)
    bad = ~((t >= 0) & (t <= 1))
    if _any(xp, bad):
        idx = _first(bad)
        raise ValueError(f"class-probability targets must lie in [0, 1]; found {float(t[idx])} at index "
                         f"{_original(idx, axis)}")
    c = t * on + (1 - t) * off
    return c if w is None else c * w


def _hard(xp, t, num_classes: int, on: float, off: float, w, work, ignore_index, device):
    """``(coefficients, ignored rows or None, labels with the ignored ones 0)`` of class indices."""
    if not xp.isdtype(t.dtype, "integral"):
        raise ValueError(f"labels must have an integer dtype; got {t.dtype}; class probabilities (PyTorch's soft "
                         "targets) have the logits' shape")
    ignored = None if ignore_index is None else t == ignore_index
    invalid = (t < 0) | (t >= num_classes)
    if ignored is not None:
        invalid = invalid & ~ignored
    if _any(xp, invalid):
        idx = _first(invalid)
        allowed = "" if ignore_index is None else f" or equal ignore_index ({ignore_index})"
        raise ValueError(f"labels must lie in [0, {num_classes}){allowed}; found {int(t[idx])} at index {idx}")
    y = t if ignored is None else xp.where(ignored, xp.zeros_like(t), t)
    onehot = xp.reshape(y, tuple(y.shape) + (1,)) == xp.arange(num_classes, dtype=y.dtype, device=device)
    if w is None:
        c = xp.where(onehot, xp.asarray(on, dtype=work, device=device), xp.asarray(off, dtype=work, device=device))
    else:
        c = xp.where(onehot, on * w, off * w)
    return c, ignored, y


def _rows(xp, z, c, ignored, axis: int, work):
    """The per-example losses ``(sum_j c_j) log1p(s) + sum_j c_j (m - z_j)``, classes last; ignored rows 0 (their
    logits replaced by 0 first, so that they are finite and get a zero gradient)."""
    if ignored is not None:
        z = xp.where(xp.reshape(ignored, tuple(ignored.shape) + (1,)), xp.zeros_like(z), z)
    refused = xp.isnan(z) | (z == xp.inf)
    if _any(xp, refused):
        idx = _first(refused)
        raise ValueError(f"logits must be finite or -inf; found {float(z[idx])} at index {_original(idx, axis)}")
    m = xp.max(z, axis=-1, keepdims=True)
    empty = m[..., 0] == -xp.inf
    if _any(xp, empty):
        raise ValueError(f"logits are all -inf in the row at index {_first(empty)} (not ignored): its loss is "
                         "undefined there (0/0)")
    gap = m - z                                                     # >= 0, +inf where z_j = -inf
    below = xp.astype(gap > 0, work)
    s = xp.sum(_exp_of_difference(xp, z, m) * below, axis=-1) + (xp.sum(1 - below, axis=-1) - 1)
    rest = xp.sum(xp.where(c != 0, c * gap, xp.zeros_like(gap)), axis=-1)      # 0 * inf = 0
    loss = xp.sum(c, axis=-1) * xp.log1p(s) + rest
    return loss if ignored is None else xp.where(ignored, xp.zeros_like(loss), loss)


def _exp_of_difference(xp, z, m):
    """``exp(z - m)`` with the rounding of the subtraction compensated, as
    :func:`derivations.library.numeric._exp_of_difference`: ``d = fl(z - m)``, its exact remainder ``r`` by
    TwoSum, ``exp(d) (1 + r)``. Masked entries (``-inf``) are computed at ``z = m`` and set to 0 afterwards, so
    that no NaN enters the graph (their gradient is 0). ``r`` is 0 as a formula: its gradient is exactly 0."""
    masked = z == -xp.inf
    z = xp.where(masked, m, z)
    d = z - m
    b = d - z
    r = (z - (d - b)) - (m + b)
    return xp.where(masked, xp.zeros_like(d), xp.exp(d) * (1 + r))


def _denominator(xp, batch: tuple[int, ...], ignored, y, w, work, device):
    """PyTorch's divisor of ``"mean"``: rows not ignored, or the sum of their labels' weights, or (class
    probabilities, ``y`` None) every row."""
    if y is None or (ignored is None and w is None):
        return xp.asarray(float(np.prod(batch)), dtype=work, device=device)
    if w is None:
        return xp.sum(xp.astype(~ignored, work))
    w_y = xp.reshape(xp.take(w, xp.reshape(y, (-1,))), tuple(y.shape))
    if ignored is not None:
        w_y = xp.where(ignored, xp.zeros_like(w_y), w_y)
    return xp.sum(w_y)
