"""Numerically stable log-sum-exp, softmax and cross-entropy in NumPy.

All functions accept float16, bfloat16 (``ml_dtypes.bfloat16``), float32 or float64 logits of any batch
shape and return the input's dtype, computed in float32 or float64 (the input's precision, and at least
float32). A logit of ``-inf`` (a masked class) is
accepted where the result is defined: it contributes ``exp(-inf) = 0``. NaN and
``+inf`` are refused, and so is a row whose logits are all ``-inf`` wherever
its softmax is needed (it is 0/0); :func:`log_sum_exp` of such a row is
``-inf``, as in ``scipy.special.logsumexp`` and ``torch.logsumexp``. Stability comes from one decomposition,
written once in :func:`lse_parts`: with ``m = max_j z_j`` attained at ``a``,

    LSE(z) = m + log1p( sum_{j != a} exp(z_j - m) ),

where every ``exp`` argument is <= 0 (no overflow) and the ``log1p`` argument
lies in ``[0, K-1]`` (no loss of the small terms). Cross-entropy uses

    LSE(z) - z_y = (m - z_y) + log1p(...),

a sum of two non-negative terms, so it never cancels.
"""
from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from derivations.library._validate import as_labels, as_logits, class_axis, compute_dtype, raise_all_neg_inf

__all__ = ["log_sum_exp", "log_softmax", "softmax", "cross_entropy_per_example", "loss_rtol", "lse_parts",
           "row_lse_parts", "row_sums", "chunked_row_sums", "chunked_sum_error", "pairwise_depth", "row_softmax",
           "rowwise_max", "rowwise_sum"]


def _logits_and_dtype(z, axis: int) -> tuple[np.ndarray, np.dtype]:
    """``(logits as computed, the dtype to return)``: float16 and bfloat16 are computed in float32 and returned
    in their own dtype (:func:`derivations.library._validate.compute_dtype`)."""
    x = np.asarray(z)
    logits = as_logits(x, axis=axis, neg_inf=True)
    return logits, compute_dtype(x.dtype)[1]


def lse_parts(z: np.ndarray, axis: int):
    """Return ``(m, s)`` with ``LSE(z) = m + log1p(s)``, both with ``keepdims``.

    ``m`` is the maximum along ``axis`` and ``s = sum_{j != argmax} exp(z_j - m)``.

    Used in: log_sum_exp, log_softmax, cross_entropy_per_example, and the smoothed loss
    (:func:`derivations.library.smoothing.smoothed_cross_entropy`)
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


def row_lse_parts(z: np.ndarray):
    """:func:`lse_parts` for a 2-D block along its rows, plus the row sums of ``z - m``.

    The same decomposition, specialised for speed on blocks of rows (one work
    array reused in place). Returns 1-D ``(m, s, d)`` with ``LSE(z) = m + log1p(s)``
    and ``d = sum_j (z_j - m) <= 0``. Row sums (:func:`row_sums`) keep the error
    within a few units of roundoff at every K. No validation: non-finite input
    gives non-finite ``m`` or ``d``.

    Used in: :func:`derivations.library.smoothing.smoothed_cross_entropy`
    """
    rows = np.arange(z.shape[0])
    a = np.argmax(z, axis=1)
    m = z[rows, a]
    w = z - m[:, None]
    d = row_sums(w)
    with np.errstate(over="ignore"):
        np.exp(w, out=w)
    w[rows, a] = 0
    return m, row_sums(w), d


#: Up to this many columns a row sum is a matrix-vector product (BLAS); beyond, NumPy's pairwise sum.
BLAS_ROW_SUM_MAX = 64


def row_sums(w: np.ndarray) -> np.ndarray:
    """Sums of the rows of a 2-D block of same-sign terms, to a few units of roundoff.

    A matrix-vector product is fastest for short rows, but BLAS accumulates
    sequentially: its error grows like K/20 units of roundoff (measured: 3 at
    K = 64, 47 at K = 1024, over 300 at K = 100,000 equal terms). NumPy's
    pairwise sum stays within a few units at every K but has a per-row cost.

    Used in: the smoothed loss's row blocks (derivations.library.smoothing)
    """
    if w.shape[1] <= BLAS_ROW_SUM_MAX:
        return w @ np.ones(w.shape[1], dtype=w.dtype)
    return w.sum(axis=1)


#: :func:`chunked_row_sums` adds a row's entries 8 at a time with BLAS from this many columns on (below, the
#: few calls it makes cost more than the pairwise sum they save).
CHUNKED_FROM = 2048
_CHUNK = 8
_ONES = {np.dtype(t): np.ones(_CHUNK, dtype=t) for t in (np.float32, np.float64)}


@functools.lru_cache(maxsize=None)
def pairwise_depth(n: int) -> int:
    """The most roundings any term meets in NumPy's pairwise sum of ``n`` contiguous terms.

    NumPy (``pairwise_sum`` in ``loops_utils.h.src``) adds fewer than 8 terms one after the other from 0;
    up to 128 terms in 8 interleaved partial sums (``n // 8 - 1`` additions each), combined in 3 levels,
    then the last ``n mod 8`` terms one after the other; beyond 128, the two halves (the first a multiple
    of 8) recursively, then their sum. A sum whose terms each meet at most ``D`` roundings errs by at
    most ``D u sum_j |x_j|`` (to first order in ``u``), whatever their signs.

    Used in: :func:`chunked_row_sums`'s error bound, and tests/test_numeric.py, which checks both

    >>> pairwise_depth(7), pairwise_depth(128), pairwise_depth(131072)
    (6, 18, 28)
    """
    if n < 8:
        return max(n - 1, 0)
    if n <= 128:
        return n // 8 - 1 + 3 + n % 8
    half = n // 2
    half -= half % 8
    return 1 + max(pairwise_depth(half), pairwise_depth(n - half))


def chunked_row_sums(w: np.ndarray) -> np.ndarray:
    """The sums of the rows of a 2-D block (of a 1-D row: a 0-d array), entries of any sign, in float64.

    A row's first ``8q`` entries (``q = K // 8``) are read as an ``8 x q`` matrix, its 8 rows the row's 8
    consecutive pieces; one BLAS matrix-vector product with ``(1, ..., 1)`` adds them entry by entry, in the
    row's dtype (``q`` partial sums of 8 entries each, vectorised along the row); NumPy's pairwise sum then
    adds the ``q`` partial sums in float64, and the last ``K mod 8`` entries. About as fast as NumPy's pairwise
    sum of a float32 row in float32 at K = 4096, 1.4 times as fast at K = 131,072, and much more accurate: a
    sum of 8 terms in any order meets at most 7 roundings, so the row sum errs by at most
    :func:`chunked_sum_error` ``sum_j |w_j|``, ``7 u + (pairwise_depth(q) + 2) u_64``, about ``7 u`` for
    float32 (against ``pairwise_depth(K) u``, 28 u at K = 131,072, for NumPy's float32 sum). Rows shorter
    than 2048 entries, or not contiguous, are summed by NumPy in float64.

    Used in: :func:`derivations.library.smoothing.smoothed_cross_entropy` (the row sums of the logits)

    >>> w = np.arange(2 * 4099, dtype=np.float32).reshape(2, 4099) % 1000
    >>> chunked_row_sums(w).tolist() == w.sum(axis=1, dtype=np.float64).tolist()   # integers: exact
    True
    """
    K = w.shape[-1]
    if K < CHUNKED_FROM or w.strides[-1] != w.itemsize or w.dtype not in _ONES:
        return w.sum(axis=-1, dtype=np.float64)
    q = K // _CHUNK
    partial = _ONES[w.dtype] @ w[..., :_CHUNK * q].reshape(w.shape[:-1] + (_CHUNK, q))
    total = partial.astype(np.float64, copy=False).sum(axis=-1)
    if K % _CHUNK:
        total += w[..., _CHUNK * q:].sum(axis=-1, dtype=np.float64)
    return total


def chunked_sum_error(num_classes: int, dtype: DTypeLike) -> float:
    """The relative error bound of :func:`chunked_row_sums` on rows of ``num_classes`` entries of ``dtype``:
    its error is at most this times ``sum_j |w_j|``.

    ``7 u`` for the partial sums of 8 entries in the row's dtype (7 roundings at most, in any order BLAS
    takes), then ``pairwise_depth(q) + 2`` roundings of float64 (``u_64 = 2^-53``): NumPy's pairwise sum of the
    ``q = K // 8`` partial sums, the last ``K mod 8`` entries' sum and its addition. Short rows (fewer than
    2048 entries): NumPy's float64 sum, whose buffered reduction adds chunks of 8192 one after another,
    ``pairwise_depth(min(K, 8192)) + K // 8192`` roundings of float64 at most.

    Used in: :func:`derivations.library.smoothing.smoothed_cross_entropy` (where the logits' sum is trusted),
    and tests/test_numeric.py

    >>> chunked_sum_error(131072, np.float32) / 2.0 ** -24          # 7 u, and 27 roundings of float64
    7.000000050291419
    """
    K = int(num_classes)
    u64 = 2.0 ** -53
    if K < CHUNKED_FROM:
        return (pairwise_depth(min(K, 8192)) + K // 8192) * u64
    u = float(np.finfo(dtype).eps) / 2
    return 7 * u + (pairwise_depth(K // _CHUNK) + 2) * u64


def log_sum_exp(z: ArrayLike, axis: int = -1) -> np.ndarray:
    """``log(sum_j exp(z_j))`` along ``axis``, stable for every finite input.

    ``-inf`` entries add nothing; a row of only ``-inf`` gives ``-inf`` (the log of an empty sum, as
    ``scipy.special.logsumexp`` and ``torch.logsumexp`` give). NaN and ``+inf`` are refused.

    Used in: chapter 1 (through :func:`derivations.library.lse_bounds.max_approximation_error`)

    >>> import numpy as np
    >>> float(log_sum_exp([0.0, 0.0]))          # log 2
    0.6931471805599453
    >>> float(log_sum_exp([1e300, 1e300]))      # 1e300 + log 2 rounds to 1e300
    1e+300
    >>> log_sum_exp(np.zeros((2, 3), np.float32)).dtype
    dtype('float32')
    >>> log_sum_exp([[0.0, -np.inf], [-np.inf, -np.inf]]).tolist()
    [0.0, -inf]
    """
    z, dtype = _logits_and_dtype(z, axis)
    m, s = lse_parts(z, axis)
    return np.squeeze(m + np.log1p(s), axis=axis).astype(dtype, copy=False)


def log_softmax(z: ArrayLike, axis: int = -1) -> np.ndarray:
    """``z_i - LSE(z)`` along ``axis``: the log-probabilities of the softmax.

    A ``-inf`` logit has log-probability ``-inf``; a row of only ``-inf`` is refused (0/0).

    Checked by: ch2.wrong_classes, ch2.gradient, ch3.equivalence, ch3.expected_loss, ch3.expected_gradient,
        ch3.loss_variance, ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature,
        ch5.too_much_smoothing, ch5.fresh_matches_soft, ch5.once_memorises

    >>> import numpy as np
    >>> np.round(log_softmax([0.0, np.log(3.0)]), 6)
    array([-1.386294, -0.287682])
    >>> log_softmax([0.0, -np.inf]).tolist()
    [0.0, -inf]
    """
    z, dtype = _logits_and_dtype(z, axis)
    m, s = lse_parts(z, axis)
    raise_all_neg_inf(np.squeeze(m, axis=axis), "its log-softmax")
    return ((z - m) - np.log1p(s)).astype(dtype, copy=False)


def softmax(z: ArrayLike, axis: int = -1, *, compensated: bool = True) -> np.ndarray:
    """``exp(z_i) / sum_j exp(z_j)`` along ``axis``; entries sum to 1.

    ``compensated=False`` skips the compensation of ``z - max`` (so a tiny
    probability ``exp(d)`` may err by ``|d|`` units of roundoff, relative): about
    5x faster at K = 1000, for the inner loop of training, where the
    probabilities enter a gradient step, not a reported value.

    Checked by: ch1.softmax, ch2.q_modified, ch2.hessian, ch3.same_q, ch3.equivalence, ch3.expected_loss,
        ch3.expected_gradient, ch3.optimum_noise, ch4.once_memorises, ch4.regression_same_point,
        ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing,
        ch5.fresh_matches_soft, ch5.once_memorises

    >>> softmax([0.0, 0.0, 0.0]).tolist() == [1 / 3] * 3
    True
    >>> float(softmax([1000.0, 0.0])[0])         # no overflow
    1.0
    >>> softmax([0.0, -np.inf]).tolist()           # a masked class
    [1.0, 0.0]
    >>> softmax([-np.inf, -np.inf])
    Traceback (most recent call last):
    ...
    ValueError: logits are all -inf: its softmax is undefined there (0/0)
    """
    z, dtype = _logits_and_dtype(z, axis)
    m = np.max(z, axis=axis, keepdims=True)
    raise_all_neg_inf(np.squeeze(m, axis=axis), "its softmax")
    with np.errstate(over="ignore", invalid="ignore"):
        e = _exp_of_difference(z, m) if compensated else np.exp(z - m)
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(dtype, copy=False)


#: :func:`rowwise_max` and :func:`rowwise_sum` go column by column when rows are short and many (up to this
#: many columns, and at least ``_ROWS_PER_COLUMN`` rows per column): NumPy's own reductions along rows cost
#: 20-40 ns a row whatever its length, one operation on a column about 1 us.
_COLUMN_MAX_UP_TO = 48
_COLUMN_SUM_UP_TO = 20
_ROWS_PER_COLUMN = 32


def _by_columns(w: np.ndarray, up_to: int) -> bool:
    """Many short rows, each contiguous (as NumPy's pairwise sum then runs along it)."""
    K = w.shape[-1]
    return K <= up_to and w.size >= _ROWS_PER_COLUMN * K * K and w.strides[-1] == w.itemsize


def rowwise_max(z: np.ndarray) -> np.ndarray:
    """``z.max(axis=-1)``: the same numbers (a maximum is exact), faster for many short rows.

    Used in: chapter 4 (through :func:`row_softmax`)

    >>> rowwise_max(np.array([[1.0, 3.0, 2.0], [0.0, -1.0, -2.0]])).tolist()
    [3.0, 0.0]
    """
    if not _by_columns(z, _COLUMN_MAX_UP_TO):
        return z.max(axis=-1)
    m = z[..., 0].copy()
    for j in range(1, z.shape[-1]):
        np.maximum(m, z[..., j], out=m)
    return m


def rowwise_sum(w: np.ndarray) -> np.ndarray:
    """``w.sum(axis=-1)``: the same numbers bit for bit, faster for many short rows.

    Short rows are summed column by column in the order of NumPy's own
    (pairwise) sum along a row: from 0, one entry after the other when there
    are fewer than 8; from 8 entries (up to 128 NumPy does this), eight
    partial sums (entry ``j`` goes to sum ``j mod 8``) over the first multiple
    of 8 entries, combined as ``((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 +
    s7))``, then the remaining entries one after the other
    (``tests/test_numeric.py`` checks this against NumPy at every K up to
    128). Long rows, few rows and rows not contiguous go to NumPy's sum.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises, ch4.regression_same_point

    >>> w = np.arange(20.0).reshape(2, 10) / 3
    >>> bool(np.array_equal(rowwise_sum(w), w.sum(axis=1)))
    True
    """
    K = w.shape[-1]
    if not _by_columns(w, _COLUMN_SUM_UP_TO):
        return w.sum(axis=-1)
    if K < 8:
        s = w[..., 0] + 0.0                # from 0: a sum of -0.0 alone is +0.0, as NumPy's
        for j in range(1, K):
            s += w[..., j]
        return s
    whole = K - K % 8
    r = [w[..., j] for j in range(8)]      # the eight partial sums, first the columns themselves
    if whole > 8:
        r = [w[..., j] + w[..., j + 8] for j in range(8)]
        for i in range(16, whole, 8):
            for j in range(8):
                r[j] += w[..., i + j]
    s = r[0] + r[1]
    s += r[2] + r[3]
    half = r[4] + r[5]
    half += r[6] + r[7]
    s += half
    s += 0.0                               # as NumPy's, which starts from 0
    for j in range(whole, K):
        s += w[..., j]
    return s


def row_softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`softmax` ``(z, compensated=False)`` along the last axis: the same numbers bit for bit.

    For the inner loop of training: no validation (finite float input is the
    caller's business), the exponentials computed in place in ``out`` (a
    float array of ``z``'s shape, which may be ``z`` itself), and the row
    maxima and sums by :func:`rowwise_max` and :func:`rowwise_sum`.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises, ch4.regression_same_point

    >>> z = np.array([[0.0, np.log(3.0)], [5.0, 5.0]])
    >>> row_softmax(z).round(6).tolist()
    [[0.25, 0.75], [0.5, 0.5]]
    >>> bool(np.array_equal(row_softmax(z), softmax(z, compensated=False)))
    True
    """
    m = rowwise_max(z)
    out = np.subtract(z, m[..., None], out=out)
    np.exp(out, out=out)
    out /= rowwise_sum(out)[..., None]
    return out


def cross_entropy_per_example(logits: ArrayLike, labels: ArrayLike, *, axis: int | None = None) -> np.ndarray:
    """Per-example hard-label cross-entropy ``-log softmax(z)_y = LSE(z) - z_y``: no reduction, no ignored label.

    ``labels`` has the logits' shape without the class axis, integers in ``[0, K)``; the result has that
    shape and the logits' dtype. ``axis`` is the class axis: for one or two dimensions ``None`` means the
    last one (``(C,)``, ``(N, C)``: PyTorch's and optax's layouts agree); with more, it must be given
    (``axis=1``: PyTorch's ``(N, C, d1, ...)``; ``axis=-1``: optax's and Keras's ``(..., C)``). This is
    ``torch.nn.functional.cross_entropy(..., reduction="none")`` without ``ignore_index``, which
    :func:`derivations.library.smoothing.cross_entropy` has, with PyTorch's reductions and weights. A ``-inf``
    logit on the label gives ``+inf``; elsewhere it adds nothing; a row of only ``-inf`` is refused.

    Checked by: ch1.loss_as_sum, ch1.loss_definition, ch1.loss_true_class, ch1.loss_lse, ch1.loss_others_zero,
        ch2.wrong_classes, ch2.hard_no_minimiser, ch5.hard_overconfident, ch5.chosen_alpha_helps,
        ch5.as_temperature, ch5.too_much_smoothing, ch5.fresh_matches_soft, ch5.once_memorises

    >>> round(float(cross_entropy_per_example([0.0, 0.0, 0.0], 1)), 12)   # log 3
    1.098612288668
    >>> cross_entropy_per_example([[2.0, 0.0], [0.0, 2.0]], [0, 0]).round(6)
    array([0.126928, 2.126928])
    >>> cross_entropy_per_example([[0.0, -np.inf], [0.0, -np.inf]], [0, 1]).tolist()
    [0.0, inf]
    >>> z = np.zeros((2, 3, 4)); z[:, 0] = 1.0                 # PyTorch's (N, C, d): classes on axis 1
    >>> cross_entropy_per_example(z, np.zeros((2, 4), dtype=int), axis=1).round(6)   # log(e + 2) - 1 each
    array([[0.551445, 0.551445, 0.551445, 0.551445],
           [0.551445, 0.551445, 0.551445, 0.551445]])
    """
    x = np.asarray(logits)
    a = class_axis(x.shape, axis) if x.ndim else -1
    z, dtype = _logits_and_dtype(x, a)
    y = as_labels(labels, z.shape[a], z.shape[:a] + z.shape[a + 1:])
    m, s = lse_parts(z, a)
    raise_all_neg_inf(np.squeeze(m, axis=a), "its cross-entropy")
    z_y = np.take_along_axis(z, np.expand_dims(y, a), axis=a)
    with np.errstate(over="ignore"):
        loss = (m - z_y) + np.log1p(s)
    return np.squeeze(loss, axis=a).astype(dtype, copy=False)


#: Unit roundoff of the dtypes computed in float32 and returned narrower (NumPy's finfo does not know bfloat16).
NARROW_ROUNDOFF = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}


def loss_rtol(num_classes: int, dtype: DTypeLike = np.float64, *, weighted: bool = False) -> float:
    """The relative accuracy of :func:`cross_entropy_per_example` and ``smoothed_cross_entropy``: ``(8 + log2 K) u``.

    ``u`` is the unit roundoff of the dtype computed in (``dtype``'s, float32 for float16 and bfloat16).
    Both losses are sums of non-negative terms (no cancellation); pairwise summation of K terms errs by
    at most about ``log2(K) u``, and the compensated exponentials and the few
    final operations by a few ``u``. Measured against mpmath at 50 digits, the
    error stays below ``6 u`` for K up to 100,000 and every eps (the tests check
    the bound). Results below the smallest normal number lose relative accuracy
    (subnormals); compare them with an absolute ``np.finfo(dtype).tiny``.

    ``weighted=True``: with class weights or class-probability targets, each term ``c_j (m - z_j)`` has a
    coefficient ``c_j = w_j (on t_j + off (1 - t_j))`` formed in the computing dtype, at most 7 roundings
    (``on`` and ``off`` in double and in that dtype, ``1 - t_j``, two products and their sum, then ``w_j``;
    the hard-label ``on w_y``, ``off w_j`` take fewer), and one more for the product with ``m - z_j``:
    ``8 u`` more, relative, as every term and every coefficient is non-negative. A float16 or bfloat16
    result adds its own final rounding, ``2^-11`` or ``2^-8``.

    Used in: chapters 1-3 (the tolerance of every spot check against mpmath)

    >>> round(loss_rtol(1024) / 2.0 ** -53, 6)
    18.0
    >>> round(loss_rtol(1024, np.float32, weighted=True) / 2.0 ** -24, 6)
    26.0
    >>> loss_rtol(2, np.float16) == 9 * 2.0 ** -24 + 2.0 ** -11
    True
    """
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2; got {num_classes!r}")
    name = np.dtype(dtype).name
    work = np.float32 if name in NARROW_ROUNDOFF else dtype
    u = float(np.finfo(work).eps) / 2
    return (8.0 + float(np.log2(num_classes)) + (8.0 if weighted else 0.0)) * u + NARROW_ROUNDOFF.get(name, 0.0)
