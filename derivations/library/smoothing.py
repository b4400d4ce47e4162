"""Label smoothing in NumPy: soft targets, the smoothed loss, the two parametrisations, the optimum.

The soft target of an example of class ``y`` among ``K`` is ``on`` on class ``y``
and ``off`` on each other class (:func:`target_levels`). Every function that
smooths takes exactly one of two keyword arguments:

* ``label_smoothing=alpha`` (PyTorch, optax, Keras; Szegedy et al. 2016): the
  mixture ``(1 - alpha) onehot(y) + alpha / K``, ``alpha`` in ``[0, 1]``;
* ``eps=eps`` (the note's): ``1 - eps`` on class ``y`` and ``eps / (K-1)`` on
  each other class, ``eps`` in ``[0, 1]``.

They are the same family: ``eps = alpha (K-1)/K`` (:func:`label_smoothing_to_eps`),
and ``alpha = eps K/(K-1)`` (:func:`eps_to_label_smoothing`) for ``eps <= (K-1)/K``;
an ``eps`` above that (less mass on the true class than on each other) has no
``alpha``. Since the target sums to one the loss is

    H(p, softmax(z)) = sum_j p_j (LSE(z) - z_j)
                     = log1p(s) + off * sum_j (m - z_j) + (on - off) * (m - z_y),

with ``m = max_j z_j`` and ``LSE(z) = m + log1p(s)``. For hard labels without class weights ``s`` comes
from the exponentials of the logits themselves, ``s = exp(-m) sum_{j != argmax} exp(z_j)``, in the rows
where that is as accurate (checked row by row: :func:`_direct_losses`); otherwise from those of the shifted
logits (:func:`derivations.library.numeric.row_lse_parts`). Every term is non-negative when
``on >= off`` (``eps <= (K-1)/K``); beyond, the sum is regrouped as
``log1p(s) + off * sum_{j != y} (m - z_j) + on * (m - z_y)``, again non-negative,
so nothing cancels for any eps.
:func:`smoothed_cross_entropy` evaluates this closed form block by block, never
materialising an ``N x K`` target, with PyTorch's ``reduction`` and
``ignore_index``; :func:`smoothed_cross_entropy_materialised` is the textbook
computation it is tested and benchmarked against.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from derivations.library._array_api import array_namespace, xp_cross_entropy
from derivations.library._validate import (
    as_labels,
    as_logits,
    as_num_classes,
    as_probability,
    as_targets,
    as_weight,
    check_ignore_index,
    first_bad,
    logits_in,
)
from derivations.library.numeric import (
    BLAS_ROW_SUM_MAX,
    CHUNKED_FROM,
    chunked_row_sums,
    chunked_sum_error,
    log_softmax,
    lse_parts,
    pairwise_depth,
    row_lse_parts,
    row_sums,
)

__all__ = [
    "REDUCTIONS",
    "cross_entropy",
    "target_levels",
    "eps_to_label_smoothing",
    "label_smoothing_to_eps",
    "smoothed_targets",
    "smoothed_cross_entropy",
    "smoothed_cross_entropy_materialised",
    "smoothed_optimum_gap",
    "smoothed_minimum",
]

#: The reductions of :func:`smoothed_cross_entropy`, as in ``torch.nn.functional.cross_entropy``.
REDUCTIONS = ("mean", "sum", "none")
#: Elements of logits processed per block by :func:`smoothed_cross_entropy`.
BLOCK_ELEMENTS = 1 << 16


def eps_to_label_smoothing(eps: float, num_classes: int) -> float:
    """PyTorch's ``label_smoothing`` (alpha) giving the note's target for ``eps``: ``alpha = eps K/(K-1)``.

    Valid for ``eps`` in ``[0, (K-1)/K]``; a larger ``eps`` puts less mass on the
    true class than on the others, which no ``alpha`` in ``[0, 1]`` can do.

    Checked by: ch2.conventions

    >>> round(eps_to_label_smoothing(0.09, 10), 12)
    0.1
    >>> eps_to_label_smoothing(0.95, 10)
    Traceback (most recent call last):
    ...
    ValueError: eps must lie in [0, 0.9] = [0, (K-1)/K] for K=10 to be written as label_smoothing in [0, 1]; got 0.95
    """
    K = as_num_classes(num_classes)
    e = as_probability(eps, "eps")
    if e > (K - 1) / K:
        raise ValueError(f"eps must lie in [0, {(K - 1) / K:.6g}] = [0, (K-1)/K] for K={K} "
                         f"to be written as label_smoothing in [0, 1]; got {eps!r}")
    return e * K / (K - 1)


def label_smoothing_to_eps(label_smoothing: float, num_classes: int) -> float:
    """The note's ``eps`` giving PyTorch's target for ``label_smoothing`` (alpha): ``eps = alpha (K-1)/K``.

    Every ``alpha`` in ``[0, 1]`` maps into ``[0, (K-1)/K]``.

    Checked by: ch2.conventions

    >>> label_smoothing_to_eps(0.1, 10)
    0.09
    >>> label_smoothing_to_eps(1.0, 4)        # alpha = 1 is the uniform target: eps = (K-1)/K
    0.75
    """
    K = as_num_classes(num_classes)
    return as_probability(label_smoothing, "label_smoothing") * (K - 1) / K


def target_levels(num_classes: int, *, label_smoothing: float | None = None,
                  eps: float | None = None) -> tuple[float, float]:
    """``(on, off)``: the soft target's value on the true class and on each other class.

    Give exactly one of ``label_smoothing`` (alpha, as in PyTorch: ``on = 1 - alpha + alpha/K``,
    ``off = alpha/K``) or ``eps`` (the note's: ``on = 1 - eps``, ``off = eps/(K-1)``).
    ``on + (K-1) off = 1``.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises, ch4.regression_same_point

    >>> target_levels(5, eps=0.2)
    (0.8, 0.05)
    >>> target_levels(5, label_smoothing=0.25)
    (0.8, 0.05)
    >>> target_levels(5, label_smoothing=0.25, eps=0.2)
    Traceback (most recent call last):
    ...
    ValueError: give exactly one of label_smoothing= (PyTorch's alpha: (1-alpha) onehot + alpha/K) or eps= (the note's: 1-eps on the label, eps/(K-1) elsewhere); got both
    """
    K = as_num_classes(num_classes)
    if (label_smoothing is None) == (eps is None):
        raise ValueError("give exactly one of label_smoothing= (PyTorch's alpha: (1-alpha) onehot + alpha/K) or eps= "
                         "(the note's: 1-eps on the label, eps/(K-1) elsewhere); got "
                         + ("neither" if eps is None else "both"))
    if eps is not None:
        e = as_probability(eps, "eps")
        return 1.0 - e, e / (K - 1)
    a = as_probability(label_smoothing, "label_smoothing")
    return 1.0 - a + a / K, a / K


def smoothed_targets(labels: ArrayLike, num_classes: int, *, label_smoothing: float | None = None,
                     eps: float | None = None, dtype: DTypeLike = np.float64) -> np.ndarray:
    """The soft targets of integer ``labels`` (shape ``(...)``) as an array of shape ``(..., K)``.

    Exactly one of ``label_smoothing`` (PyTorch's alpha) or ``eps`` (the note's), as in
    :func:`target_levels`. This materialises the targets; the loss does not need them
    (:func:`smoothed_cross_entropy`).

    Checked by: ch1.one_hot, ch2.soft_target, ch2.conventions, ch3.equivalence, ch3.expected_loss,
        ch3.expected_gradient, ch3.loss_variance, ch3.optimum_noise, ch5.hard_overconfident,
        ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing, ch5.fresh_matches_soft,
        ch5.once_memorises, ch5.penultimate_tighter, ch5.distil_worse

    >>> smoothed_targets([0, 2], 3, eps=0.2)
    array([[0.8, 0.1, 0.1],
           [0.1, 0.1, 0.8]])
    >>> smoothed_targets([1], 4, label_smoothing=0.4).tolist()
    [[0.1, 0.7, 0.1, 0.1]]
    """
    K = as_num_classes(num_classes)
    on, off = target_levels(K, label_smoothing=label_smoothing, eps=eps)
    y = as_labels(labels, K)
    p = np.full(y.shape + (K,), off, dtype=dtype)
    np.put_along_axis(p, y[..., None], on, axis=-1)
    return p


def smoothed_cross_entropy_materialised(logits: ArrayLike, labels: ArrayLike, *, label_smoothing: float | None = None,
                                        eps: float | None = None) -> np.ndarray:
    """The textbook computation ``-sum_j p_j log softmax(z)_j`` with the ``N x K`` targets built, per example.

    The reference that :func:`smoothed_cross_entropy` is tested and benchmarked against
    (finite logits only).

    Used in: tests/test_smoothing.py and benchmarks/bench_smoothing.py, as the materialising reference

    >>> round(float(smoothed_cross_entropy_materialised([0.0, 0.0, 0.0], 1, eps=0.3)), 12)   # log 3
    1.098612288668
    """
    z = as_logits(logits)
    p = smoothed_targets(labels, z.shape[-1], label_smoothing=label_smoothing, eps=eps, dtype=z.dtype)
    return -np.sum(p * log_softmax(z), axis=-1)


def _rest(zb: np.ndarray, yb: np.ndarray, m: np.ndarray, on: float, off: float) -> np.ndarray:
    """``sum_j p_j (m - z_j)`` for rows holding ``-inf`` (finite ``m``), with ``0 * inf = 0``: a class that
    gets no target mass adds nothing, one that gets mass and has ``z_j = -inf`` makes the loss ``+inf``."""
    rows = np.arange(len(zb))
    gap = m[:, None] - zb                                       # >= 0, +inf where z_j = -inf
    p = np.full(zb.shape, off)
    p[rows, yb] = on
    terms = np.zeros(zb.shape)
    np.multiply(p, gap, out=terms, where=p > 0)
    return terms.sum(axis=1)


def _block_loss(zb: np.ndarray, out: np.ndarray, yb, on: float, off: float, cb, ignored, row_ids,
                where_row, where_entry) -> None:
    """Write the closed-form loss of the rows ``zb`` into ``out`` (``ignored``: a mask of the rows, or None;
    ``row_ids[i]``: the flat index of row ``i`` in the caller's batch, for messages).

    Without per-entry coefficients (``cb`` None: hard labels ``yb``, no class weights) the target is ``on``
    on the label and ``off`` elsewhere. ``on >= off``: ``log1p(s) + off sum_j (m - z_j) + (on - off)(m -
    z_y)``, three non-negative terms. ``on < off`` (eps above (K-1)/K): the same loss as ``log1p(s) + off
    sum_{j != y} (m - z_j) + on (m - z_y)``, again non-negative terms, with the sum over ``j != y`` formed
    directly: as ``sum_j - (m - z_y)`` it would cancel when the label's logit is far below the others.

    With coefficients ``cb`` (rows x K, non-negative: class weights times the target, hard or
    class-probability) the loss is ``sum_j c_j (LSE - z_j) = (sum_j c_j) log1p(s) + sum_j c_j (m - z_j)``,
    non-negative terms again, with ``0 * inf = 0`` where a class without weight is masked.

    The fast ``s`` is not compensated (an ``exp`` of a rounded ``z_j - m`` errs by
    up to ``|z_j - m|`` units of roundoff). That matters only in rows where a tiny
    ``log1p(s)`` carries the loss (``s < 1/16``, more than 1/64 of the loss: a
    confident, correct prediction at small eps); those rows are recomputed with
    the compensated :func:`derivations.library.numeric.lse_parts`.

    Rows holding a non-finite logit are found from the row sums alone (no scan of
    finite blocks): NaN and ``+inf`` are refused, naming the first (``where_entry``: its index in the
    caller's logits); a row of only ``-inf`` is refused unless ignored (``where_row``: its index); in the
    other rows with ``-inf`` the terms are recomputed with ``0 * inf = 0`` (:func:`_rest`).
    """
    rows = np.arange(len(zb))
    with np.errstate(over="ignore", invalid="ignore"):
        m, s, shifted_sum = row_lse_parts(zb)               # shifted_sum = sum_j (z_j - m) <= 0
        bad = empty = None
        if not np.isfinite(shifted_sum).all():             # a NaN or an infinity somewhere in the block
            bad = np.flatnonzero(~np.isfinite(shifted_sum))
            sub = zb[bad]
            refused = np.isnan(sub) | (sub == np.inf)
            if refused.any():
                i, j = first_bad(refused)
                raise ValueError(f"logits must be finite or -inf; found {float(sub[i, j])} at index "
                                 f"{where_entry(row_ids[bad[i]], j)}")
            empty = bad[m[bad] == -np.inf]                     # every logit of the row is -inf
            live = empty if ignored is None else empty[~ignored[empty]]
            if live.size:
                raise ValueError(f"logits are all -inf in the row at index {where_row(row_ids[live[0]])} (not "
                                 "ignored): its loss is undefined there (0/0)")
        if cb is None:
            coef = None
            true_gap = m - zb[rows, yb]                        # m - z_y >= 0
            if on >= off:
                rest = off * -shifted_sum + (on - off) * true_gap
            else:
                w = m[:, None] - zb                            # m - z_j >= 0
                w[rows, yb] = 0.0
                rest = off * w.sum(axis=1) + on * true_gap
            if bad is not None:
                some = bad[m[bad] > -np.inf]
                if some.size:
                    rest[some] = _rest(zb[some], yb[some], m[some], on, off)
        else:
            gap = m[:, None] - zb                              # >= 0, +inf where z_j = -inf
            terms = np.zeros_like(gap)
            np.multiply(cb, gap, out=terms, where=cb != 0)     # 0 * inf = 0: no weight, no loss
            rest, coef = row_sums(terms), row_sums(cb)
        if empty is not None and empty.size:
            s[empty], rest[empty] = 0.0, 0.0                   # ignored rows: set to 0 by the caller anyway
        np.log1p(s, out=out)
        if coef is not None:
            out *= coef
        redo = np.flatnonzero((s < 0.0625) & (out * 64 > out + rest))
        out += rest
        if redo.size:
            _, s_exact = lse_parts(zb[redo], axis=1)
            exact = np.log1p(s_exact[:, 0])
            out[redo] = (exact if coef is None else coef[redo] * exact) + rest[redo]


#: :func:`_direct_losses` forms the losses of whole blocks of rows together, at least this many rows at once: at
#: large K a block is one row, and forming each row's loss alone would take more NumPy calls than its exponentials.
GROUP_ROWS = 256


def _shifted_rest(zb: np.ndarray, m: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``sum_j (m - z_j)`` for the rows ``zb`` with maxima ``m``, summed again where the logits' sum may err more:
    one subtraction (into ``out``, if given) and a sum of non-negative terms, in the computing dtype, as
    :func:`derivations.library.numeric.row_lse_parts` sums them."""
    return row_sums(np.subtract(m[:, None].astype(zb.dtype), zb, out=out))


def _direct_losses(zm: np.ndarray, y: np.ndarray, ignored, on: float, off: float, rows: int, flat: np.ndarray,
                   work, where_row, where_entry) -> None:
    """The losses of hard labels ``y`` without class weights (``on >= off``) into ``flat``, without the shift.

    ``zm`` holds the logits with the classes last (``y``, ``ignored`` and ``flat`` are flat over its rows).
    With ``m = z_a`` a row's (first) maximum and ``R = sum_j (m - z_j)``,

        LSE(z) = m + log1p(s),   s = exp(-m) sum_{j != a} exp(z_j),
        loss   = log1p(s) + (on - off)(m - z_y) + off R.

    The exponentials are those of the logits themselves, into one buffer, then summed: the one-pass floor's
    work. The shifted form (:func:`derivations.library.numeric.row_lse_parts`) first writes ``z - m`` (one
    more pass) and sums it for ``R`` (another). Here, in float32 rows of 2048 or more (the computing dtype of
    float16 and bfloat16 too), ``R = K m - sum_j z_j``, with the logits' sum read from cache after the argmax
    (:func:`derivations.library.numeric.chunked_row_sums`, accumulated in float64); in float64, or shorter
    rows, ``R`` is summed shifted, in the exponentials' buffer once they are summed, as before. ``exp(-m)``,
    the product and the loss are formed in float64, :data:`GROUP_ROWS` rows or more at a time. With ``u`` and
    ``tiny`` the computing dtype's unit roundoff and smallest normal number, ``g`` the relative error bound
    of NumPy's pairwise row sum and ``L`` the loss, row by row:

    * **Rounding.** Each ``exp(z_j)`` has an exact argument, so errs by exp's own few ``u``, and ``s`` by
      ``g`` plus a few ``u``; the shifted ``exp(fl(z_j - m))`` errs by ``|z_j - m| u`` more, which is why
      :func:`_block_loss` recomputes, compensated, rows where a small ``log1p(s)`` carries the loss. None
      of them is needed here.
    * **Overflow.** A sum of non-negative terms is finite only if no term and no partial sum overflowed (the
      maximum's own term, zeroed, may): a row whose loss is not finite is recomputed shifted. This is the
      range's upper end, ``m`` up to about ``log(finfo.max) - log(K - 1)`` where the other logits are close
      to ``m``, and further where they are not.
    * **Underflow.** A term ``exp(z_j) < tiny`` is off by at most ``tiny`` (also where subnormals are flushed
      to zero), so ``s``, and ``log1p(s)`` with it, by at most ``(K-1) tiny exp(-m)``. A row where that
      exceeds ``u L / 4``, or where ``exp(-m)`` is below float64's ``tiny`` (a subnormal scale), is
      recomputed shifted: the range's lower end, ``m >= log(4 (K-1) tiny / (u L))``, and another upper one,
      ``m <= -log(tiny_float64)`` (708.4). Where ``m >= 0`` nothing underflows here that does not in the
      shifted form too (``exp(z_j) >= exp(z_j - m)``).
    * **Cancellation** (where ``R = K m - sum_j z_j``). The logits' sum errs by at most ``h sum_j |z_j| <=
      h (K |m| + R)``, ``h`` = :func:`derivations.library.numeric.chunked_sum_error` (about ``7 u``), and
      ``K m`` and the difference, in float64, hardly at all; the shifted ``R`` errs by at most ``(p(K) + 1)
      u R`` (``p`` = :func:`derivations.library.numeric.pairwise_depth`: one rounding for each difference,
      then NumPy's pairwise sum). A row keeps the first only where its bound is the smaller,
      ``h (K |m| + R) <= (p(K) + 1) u R`` (at K = 131,072: ``K |m| <= 3.1 R``, a maximum at most 3.1 times
      its mean distance to the logits); in the others ``R`` is summed again, shifted.

    So a loss from here errs by no more than the shifted path's bound, plus ``u / 4`` relative, and by less
    where the shifted exponentials of rounded differences lose more. NaN or ``+inf`` logits, a row of only
    ``-inf``, or a ``-inf`` where its class has target mass make ``m``, the sums or the loss non-finite:
    those rows go to :func:`_block_loss`, which refuses or handles them as it always did. A ``-inf`` where
    its class has no mass (off the label at ``off = 0``) stays here: its term is ``exp(-inf) = 0``, exactly,
    and no sum of the logits is formed.
    """
    batch, K = zm.shape[:-1], zm.shape[-1]
    u, tiny = float(np.finfo(work).eps) / 2, float(np.finfo(work).tiny)
    tiny64 = float(np.finfo(np.float64).tiny)
    # R = sum_j (m - z_j): from the logits' own sum where that is cheaper (float32, long rows), else shifted
    by_logits = off > 0 and work == np.float32 and K >= CHUNKED_FROM
    shifted = off > 0 and not by_logits
    h, g_shifted = chunked_sum_error(K, work), (pairwise_depth(K) + 1) * u
    one_row = rows == 1 and K > BLAS_ROW_SUM_MAX    # a row at a time: 1-D calls (row_sums: pairwise there)
    group = max(rows, GROUP_ROWS)
    buf = np.empty((rows, K), dtype=work)
    at = np.arange(rows)
    arg = np.empty(group, dtype=np.intp)
    sp_ = np.empty(group, dtype=work)
    rest_ = np.zeros(group)                          # R, or (rows of a block, by_logits) sum_j z_j

    def gather(flat_rows: np.ndarray, cols=None) -> np.ndarray:
        """Rows of the logits (``cols`` None: a block of them, in the computing dtype) or an entry of each (in
        float64), by flat row index: one gather, any layout."""
        index = np.unravel_index(flat_rows, batch)
        if cols is None:
            return zm[index].astype(work, copy=False)
        return zm[index + (cols,)].astype(np.float64)

    def finish(r0: int, n: int) -> None:
        """Form the losses of the group's ``n`` rows, flat ``r0:r0 + n``, and recompute those that fail a check."""
        ids = np.arange(r0, r0 + n)
        m = gather(ids, arg[:n])
        rest = rest_[:n]
        if by_logits and not one_row:                # K m - sum_j z_j, unless it may err more than shifted
            rest = K * m - rest
            again = np.flatnonzero(h * (K * np.abs(m) + rest) > g_shifted * rest)
            for i in range(0, again.size, rows):
                b = again[i:i + rows]
                rest[b] = _shifted_rest(gather(r0 + b), m[b])
        scale = np.exp(-m)                           # +inf for m < -709, 0 for m > 745: caught below
        loss = np.log1p(scale * sp_[:n])
        loss += (on - off) * (m - gather(ids, y[r0:r0 + n]))             # log1p(s) + (on - off)(m - z_y)
        if off > 0:
            loss += off * rest                       # + off R
        ok = np.isfinite(loss) & (scale >= tiny64)
        ok &= (K - 1) * tiny * scale <= 0.25 * u * loss
        flat[r0:r0 + n] = loss
        bad = r0 + np.flatnonzero(~ok)
        for i in range(0, bad.size, rows):           # recomputed as every row was before (NaN, inf, -inf too)
            b = bad[i:i + rows]
            got = np.empty(b.size, dtype=work)
            _block_loss(gather(b), got, y[b], on, off, None, None if ignored is None else ignored[b], b,
                        where_row, where_entry)
            flat[b] = got

    g0 = g = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for r0, idx in _row_blocks(batch, rows):
            zb = zm[idx].reshape(-1, K).astype(work, copy=False)
            n = len(zb)
            if g + n > group:
                finish(g0, g)
                g0, g = r0, 0
            # the exponentials first: they read the logits from memory at exp's pace, and the maximum and
            # the sums then read them from cache
            if one_row:
                r, e = zb[0], buf[0]
                np.exp(r, out=e)
                a = r.argmax()
                arg[g] = a
                e[a] = 0
                sp_[g] = e.sum()
                if by_logits:                        # K m - sum_j z_j, unless it may err more than shifted,
                    m = float(r[a])                  # then summed again while the row is in cache
                    R = K * m - float(chunked_row_sums(r))
                    if h * (K * abs(m) + R) > g_shifted * R:
                        R = float(_shifted_rest(zb, np.array([m]), out=buf)[0])
                    rest_[g] = R
                elif shifted:                        # in the buffer again: m - z_j >= 0
                    rest_[g] = np.subtract(r[a], r, out=e).sum()
            else:
                e = np.exp(zb, out=buf[:n])
                a = np.argmax(zb, axis=1, out=arg[g:g + n])
                e[at[:n], a] = 0
                sp_[g:g + n] = row_sums(e)
                if by_logits:
                    rest_[g:g + n] = chunked_row_sums(zb)
                elif shifted:
                    rest_[g:g + n] = row_sums(np.subtract(zb[at[:n], a][:, None], zb, out=e))
            g += n
        if g:
            finish(g0, g)


def _row_blocks(batch: tuple[int, ...], rows: int):
    """``(first row, index)`` of consecutive blocks of at most ``rows`` rows of an array of shape ``batch + (K,)``,
    in C order: ``array[index].reshape(-1, K)`` is the block, a view when the array is contiguous, else a copy of
    the block alone (the class axis moved last from elsewhere): the extra memory stays a block's.

    >>> [(r, i) for r, i in _row_blocks((5,), 2)]
    [(0, (slice(0, 2, None),)), (2, (slice(2, 4, None),)), (4, (slice(4, 6, None),))]
    >>> [r for r, _ in _row_blocks((2, 3, 4), 5)]       # 4 rows per block (one index of axis 1)
    [0, 4, 8, 12, 16, 20]
    """
    j, tail = len(batch) - 1, 1
    while j > 0 and tail * batch[j] <= rows:                    # the trailing axes that fit whole in a block
        tail *= batch[j]
        j -= 1
    if j >= 0 and tail * batch[j] <= rows:
        tail, j = tail * batch[j], j - 1
    if j < 0:                                                   # everything fits in one block
        yield 0, ()
        return
    chunk = max(1, rows // tail)
    for lead in np.ndindex(*batch[:j]):
        start = (int(np.ravel_multi_index(lead, batch[:j])) * batch[j] if j else 0) * tail
        for a in range(0, batch[j], chunk):
            yield start + a * tail, lead + (slice(a, a + chunk),)


def _locator(batch: tuple[int, ...], axis: int, single: bool):
    """``(where_row, where_entry)``: the index, in the caller's arrays, of a flat row (the labels') and of an
    entry (row, class) of the logits, whose class axis is ``axis``."""
    def where_row(flat) -> tuple[int, ...]:
        return () if single else tuple(int(i) for i in np.unravel_index(int(flat), batch))

    def where_entry(flat, col) -> tuple[int, ...]:
        r = where_row(flat)
        return r[:axis] + (int(col),) + r[axis:]
    return where_row, where_entry


def _soft_coefficients(tb: np.ndarray, on: float, off: float, w, dtype, row0: int, where_entry) -> np.ndarray:
    """``w_j (on t_j + off (1 - t_j))`` for a block of class-probability targets: PyTorch's ``t (1 - alpha) +
    alpha / K`` (or the note's eps) times the class weights; each target must lie in [0, 1]."""
    t = tb.astype(dtype, copy=False)
    ok = (t >= 0) & (t <= 1)
    if not ok.all():
        i, j = first_bad(~ok)
        raise ValueError(f"class-probability targets must lie in [0, 1]; found {float(t[i, j])} at index "
                         f"{where_entry(row0 + i, j)}")
    cb = t * on
    cb += (1 - t) * off
    if w is not None:
        cb *= w
    return cb


def _hard_coefficients(yb: np.ndarray, on_w: np.ndarray, off_w: np.ndarray) -> np.ndarray:
    """``w_j p_j`` for a block of class indices: ``on w_y`` on the label, ``off w_j`` elsewhere."""
    cb = np.repeat(off_w[None, :], len(yb), axis=0)
    cb[np.arange(len(yb)), yb] = on_w[yb]
    return cb


def _reduce(out: np.ndarray, reduction: str, dtype, denominator):
    """PyTorch's reductions of the per-example losses ``out`` (ignored rows 0), returned in ``dtype``:
    float32 losses are summed in float64; ``"mean"`` divides by ``denominator()``, and is NaN where that is 0."""
    if reduction == "none":
        return out.astype(dtype, copy=False)
    total = out.sum(dtype=np.float64) if out.dtype == np.float32 else out.sum()
    if reduction == "sum":
        return dtype.type(total)
    d = denominator()
    # nothing counted, or labels of weight 0 only: NaN, as PyTorch's (its hard part is then 0/0)
    return dtype.type(np.float64(total) / d if d else np.nan)


def smoothed_cross_entropy(logits: Any, target: Any, *, label_smoothing: float | None = None, eps: float | None = None,
                           weight: Any = None, reduction: str = "mean", ignore_index: int | None = -100,
                           axis: int | None = None, block_rows: int | None = None) -> Any:
    """Cross-entropy with soft targets, as ``torch.nn.functional.cross_entropy``, without materialising them.

    ``logits`` has a class axis, ``axis``: for one or two dimensions ``None`` means the last (``(C,)``,
    ``(N, C)``: PyTorch's layout and optax's agree); with more it must be given, ``axis=1`` for PyTorch's
    ``(N, C, d1, ...)``, ``axis=-1`` for optax's and Keras's ``(..., C)`` (refused otherwise: the same
    array means two different losses). ``target`` is told apart as PyTorch tells it, by its shape:

    * class indices, the logits' shape without the class axis: integers in ``[0, K)`` or equal to
      ``ignore_index`` (PyTorch's default -100; ``None`` ignores nothing);
    * class probabilities, the logits' shape, floating point, each in [0, 1] (PyTorch's soft targets;
      ``ignore_index`` must then be negative or None, as PyTorch requires).

    Give exactly one of:

    * ``label_smoothing`` (alpha in [0, 1], PyTorch's, optax's, Keras's): the target
      ``(1 - alpha) t + alpha / K`` (``t`` the one-hot label or the class probabilities);
    * ``eps`` (in [0, 1], the note's): ``1 - eps`` on the label, ``eps / (K-1)`` on each other class
      (``(1 - eps) t + eps (1 - t) / (K-1)`` for class probabilities: the same family, ``eps = alpha (K-1)/K``).

    ``label_smoothing=0.0`` (or ``eps=0.0``) is the plain cross-entropy (:func:`cross_entropy` has that
    default). ``weight`` (one non-negative number per class, PyTorch's) multiplies the term of class ``j``:
    the loss of an example is ``sum_j w_j p_j (LSE(z) - z_j)``, PyTorch's ``(1 - alpha) w_y nll + (alpha/K)
    sum_j w_j (-log q_j)``. ``reduction`` as PyTorch's: ``"none"`` the per-example losses (0 for an ignored
    example), ``"sum"`` their sum, ``"mean"`` their sum divided by, as PyTorch divides it, the number of
    examples not ignored, or with ``weight`` and class indices the sum of ``w_y`` over them (a weighted
    mean of the hard part; the smoothing part is divided by the same number), or with class probabilities
    the number of examples. Nothing counted (or only labels of weight 0) gives NaN, as in PyTorch.

    dtypes: float32 and float64 are computed in their own precision, float16 and bfloat16
    (``ml_dtypes.bfloat16``) in float32, integers in float64; the result has the logits' dtype (a NumPy
    scalar for ``"mean"`` and ``"sum"``, float32 accumulated in float64). A torch, JAX or CuPy array
    (any Array API array; needs ``array-api-compat``, the ``array-api`` extra) gives that library's array,
    computed with its operations, differentiable where it is (:mod:`derivations.library._array_api`).

    A ``-inf`` logit (a masked class) is accepted: on a class that receives no
    target mass (or weight) it adds nothing; on a class that receives mass the loss is
    ``+inf``, as in PyTorch (with any ``label_smoothing > 0`` every class
    receives mass). NaN, ``+inf`` and a row of only ``-inf`` (unless ignored)
    are refused with the index. Rows are processed ``block_rows`` at a time
    (default: about ``BLOCK_ELEMENTS / K``): the extra memory is a few blocks
    plus the per-example losses; validation is blockwise too. With class indices and no ``weight`` the
    exponentials are those of the logits themselves, without the shift by the row's maximum, where the
    row's range allows it (no pass writing ``z - m``; :func:`_direct_losses` says where, and why as accurate).

    Checked by: ch2.loss_sum_examples, ch2.loss_definition, ch2.loss_expanded, ch2.loss_approx_M,
        ch2.loss_squared, ch2.wrong_classes, ch2.closed_form, ch2.vs_hard, ch2.optimum, ch2.entropy_kl,
        ch2.conventions, ch3.equivalence, ch3.expected_loss, ch3.expected_gradient, ch5.hard_overconfident,
        ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing, ch5.fresh_matches_soft,
        ch5.once_memorises, ch5.penultimate_tighter

    >>> round(float(smoothed_cross_entropy([[2.0, 0.0, 0.0]], [0], eps=0.1)), 6)   # log(e^2 + 2) - 0.9 * 2
    0.439545
    >>> z, y = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([0, -100])
    >>> smoothed_cross_entropy(z, y, label_smoothing=0.1, reduction="none").round(6)   # log(e^2 + 2) - (0.9 + 0.1/3) 2
    array([0.372878, 0.      ])
    >>> w = np.array([2.0, 1.0, 1.0])        # weight 2 on class 0: the first loss doubles, the mean divides by 2
    >>> smoothed_cross_entropy(z, y, label_smoothing=0.0, weight=w, reduction="none").round(6)   # 2 (log(e^2 + 2) - 2)
    array([0.47909, 0.     ])
    >>> t = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]      # class probabilities: every row counts, none is ignored
    >>> smoothed_cross_entropy(z, t, eps=0.0).round(6)     # (log(e^2 + 2) - 2 + log(e + 2) - 1) / 2
    np.float64(0.395495)
    >>> smoothed_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 4), dtype=int), eps=0.1)
    Traceback (most recent call last):
    ...
    ValueError: logits of shape (2, 3, 4) have 3 dimensions: say which holds the classes, axis=1 for PyTorch's layout (N, C, d1, ...), axis=-1 for optax's and Keras's (..., C)
    >>> float(smoothed_cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 4), dtype=int), eps=0.1, axis=1))  # log 3
    1.0986122886681098
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}")
    check_ignore_index(ignore_index)
    xp = array_namespace(logits, target, weight)
    if xp is not None:
        return xp_cross_entropy(xp, logits, target, levels=lambda K: target_levels(
            K, label_smoothing=label_smoothing, eps=eps), weight=weight, reduction=reduction,
            ignore_index=ignore_index, axis=axis)
    z, work, dtype, a = logits_in(logits, axis)
    K = z.shape[a]
    on, off = target_levels(K, label_smoothing=label_smoothing, eps=eps)
    y, ignored, t = as_targets(target, K, z.shape, a, ignore_index)
    w = None if weight is None else as_weight(weight, K, work)
    rows = block_rows if block_rows is not None else max(1, BLOCK_ELEMENTS // K)
    if isinstance(rows, bool) or not isinstance(rows, numbers.Integral) or rows < 1:
        raise ValueError(f"block_rows must be a positive integer; got {block_rows!r}")
    single = z.ndim == 1
    zm = np.moveaxis(z, a, -1)[None] if single else np.moveaxis(z, a, -1)      # a view: classes last
    tm = None if t is None else (t[None] if single else np.moveaxis(t, a, -1))
    out = np.empty(zm.shape[:-1], dtype=work)
    flat = out.reshape(-1)
    y1 = None if y is None else y.reshape(-1)
    ign = None if ignored is None else ignored.reshape(-1)
    where_row, where_entry = _locator(zm.shape[:-1], a, single)
    if tm is None and w is None and on >= off and y1 is not None:   # hard labels, no class weights
        _direct_losses(zm, y1, ign, on, off, int(rows), flat, work, where_row, where_entry)
    else:
        for r0, idx in _row_blocks(zm.shape[:-1], int(rows)):
            zb = zm[idx].reshape(-1, K).astype(work, copy=False)
            n = len(zb)
            yb = None if y1 is None else y1[r0:r0 + n]
            cb: np.ndarray | None = None
            if tm is not None:
                cb = _soft_coefficients(tm[idx].reshape(-1, K), on, off, w, work, r0, where_entry)
            elif w is not None and yb is not None:
                cb = _hard_coefficients(yb, on * w, off * w)
            _block_loss(zb, flat[r0:r0 + n], yb, on, off, cb, None if ign is None else ign[r0:r0 + n],
                        range(r0, r0 + n), where_row, where_entry)
    if ign is not None:
        flat[ign] = 0.0
    return _reduce(out.reshape(()) if single else out, reduction, dtype,
                   lambda: _denominator(flat.size, y1, ign, w, K))


def _denominator(n: int, y, ignored, w, num_classes: int) -> float:
    """PyTorch's divisor of ``"mean"``: the rows not ignored; with class weights, their labels' weights
    ``sum_i w_{y_i}`` (from exact class counts, in float64); with class probabilities (``y`` None), ``n``."""
    if y is None:
        return float(n)
    n_ignored = 0 if ignored is None else int(np.count_nonzero(ignored))
    if w is None:
        return float(n - n_ignored)
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    counts[0] -= n_ignored                                      # ignored rows carry label 0 here
    return float(counts @ w.astype(np.float64))


def cross_entropy(logits: Any, target: Any, *, weight: Any = None, ignore_index: int | None = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0, axis: int | None = None) -> Any:
    """``torch.nn.functional.cross_entropy``: the same arguments, defaults and numbers (reduction ``"mean"``,
    ``ignore_index=-100``, ``label_smoothing=0.0``), with ``axis`` for the class axis.

    :func:`smoothed_cross_entropy` with ``label_smoothing`` defaulting to 0 (see it for shapes, class-probability
    targets, weights, dtypes and other array libraries); :func:`derivations.library.numeric.cross_entropy_per_example`
    is the per-example loss without reduction or ignored labels.

    >>> z = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])
    >>> cross_entropy(z, np.array([0, 1])).round(4)                         # the mean, as PyTorch's
    np.float64(0.3171)
    >>> cross_entropy(z, np.array([0, 1]), reduction="none").round(4)
    array([0.1698, 0.4644])

    Used in: the library's readers (PyTorch's name and meaning; docs/library.md); tests/test_conventions.py
    """
    return smoothed_cross_entropy(logits, target, label_smoothing=label_smoothing, weight=weight,
                                  reduction=reduction, ignore_index=ignore_index, axis=axis)


def smoothed_optimum_gap(num_classes: int, eps: float) -> float:
    """The logit gap ``z_y - z_j`` (any ``j != y``) that minimises the smoothed loss.

    ``log((1 - eps)(K - 1) / eps)`` in the note's convention: the logits whose
    softmax equals the soft target. ``+inf`` at ``eps = 0`` (hard labels have
    no finite minimiser), ``-inf`` at ``eps = 1``, ``0`` at ``eps = (K-1)/K``.

    Checked by: ch2.optimum, ch2.hard_no_minimiser, ch3.optimum_noise, ch4.soft_optimum

    >>> round(smoothed_optimum_gap(10, 0.1), 6)         # log 81
    4.394449
    >>> smoothed_optimum_gap(10, 0.0)
    inf
    """
    K = as_num_classes(num_classes)
    e = as_probability(eps, "eps")
    if e == 0.0:
        return math.inf
    if e == 1.0:
        return -math.inf
    return math.log1p(-e) + math.log(K - 1) - math.log(e)


def smoothed_minimum(num_classes: int, eps: float) -> float:
    """The minimum over all logits of the smoothed loss: the entropy of the soft target.

    ``-(1 - eps) log(1 - eps) - eps log(eps / (K - 1))`` (``0 log 0 = 0``); ``0`` for
    hard labels, where it is an infimum that no finite logits attain.

    Checked by: ch2.optimum, ch2.entropy_kl, ch5.hard_overconfident, ch5.chosen_alpha_helps, ch5.as_temperature,
        ch5.too_much_smoothing, ch5.fresh_matches_soft, ch5.once_memorises, ch5.penultimate_tighter

    >>> round(smoothed_minimum(10, 0.1), 6)
    0.544805
    >>> round(smoothed_minimum(4, 0.75), 12) == round(math.log(4), 12)   # uniform target
    True
    """
    K = as_num_classes(num_classes)
    e = as_probability(eps, "eps")
    on, off = 1.0 - e, e / (K - 1)
    return 0.0 + (-_xlogx(on) - (K - 1) * _xlogx(off))          # 0.0 + : never -0.0


def _xlogx(p: float) -> float:
    return 0.0 if p == 0.0 else p * math.log(p)
