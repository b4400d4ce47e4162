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

with ``m = max_j z_j`` and ``LSE(z) = m + log1p(s)`` from
:func:`derivations.library.numeric.row_lse_parts`. Every term is non-negative when
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

import numpy as np

from derivations.library._validate import (
    as_labels,
    as_labels_ignoring,
    as_logits,
    as_num_classes,
    as_probability,
    raise_non_finite,
)
from derivations.library.numeric import log_softmax, lse_parts, row_lse_parts

__all__ = [
    "REDUCTIONS",
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


def eps_to_label_smoothing(eps, num_classes) -> float:
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


def label_smoothing_to_eps(label_smoothing, num_classes) -> float:
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


def target_levels(num_classes, *, label_smoothing=None, eps=None) -> tuple[float, float]:
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


def smoothed_targets(labels, num_classes, *, label_smoothing=None, eps=None, dtype=np.float64) -> np.ndarray:
    """The soft targets of integer ``labels`` (shape ``(...)``) as an array of shape ``(..., K)``.

    Exactly one of ``label_smoothing`` (PyTorch's alpha) or ``eps`` (the note's), as in
    :func:`target_levels`. This materialises the targets; the loss does not need them
    (:func:`smoothed_cross_entropy`).

    Checked by: ch1.one_hot, ch2.soft_target, ch2.conventions, ch3.equivalence, ch3.expected_loss,
        ch3.expected_gradient, ch3.loss_variance, ch3.optimum_noise, ch5.hard_overconfident,
        ch5.chosen_alpha_helps, ch5.as_temperature, ch5.too_much_smoothing, ch5.fresh_matches_soft,
        ch5.once_memorises

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


def smoothed_cross_entropy_materialised(logits, labels, *, label_smoothing=None, eps=None) -> np.ndarray:
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


def _block_loss(zb: np.ndarray, yb: np.ndarray, on: float, off: float, out: np.ndarray, ignored,
                row0: int, shape: tuple[int, ...]) -> None:
    """Write the closed-form loss of the rows ``zb`` into ``out`` (``ignored``: a mask of the rows, or None).

    ``on >= off``: ``log1p(s) + off sum_j (m - z_j) + (on - off)(m - z_y)``, three
    non-negative terms. ``on < off`` (eps above (K-1)/K): the same loss as
    ``log1p(s) + off sum_{j != y} (m - z_j) + on (m - z_y)``, again non-negative
    terms, with the sum over ``j != y`` formed directly: as ``sum_j - (m - z_y)``
    it would cancel when the label's logit is far below the others.

    The fast ``s`` is not compensated (an ``exp`` of a rounded ``z_j - m`` errs by
    up to ``|z_j - m|`` units of roundoff). That matters only in rows where a tiny
    ``log1p(s)`` carries the loss (``s < 1/16``, more than 1/64 of the loss: a
    confident, correct prediction at small eps); those rows are recomputed with
    the compensated :func:`derivations.library.numeric.lse_parts`.

    Rows holding a non-finite logit are found from the row sums alone (no scan of
    finite blocks): NaN and ``+inf`` are refused, naming the first; a row of only
    ``-inf`` is refused unless ignored; in the other rows with ``-inf`` the terms
    are recomputed with ``0 * inf = 0`` (:func:`_rest`).
    """
    rows = np.arange(len(zb))
    with np.errstate(over="ignore", invalid="ignore"):
        m, s, shifted_sum = row_lse_parts(zb)               # shifted_sum = sum_j (z_j - m) <= 0
        true_gap = m - zb[rows, yb]                            # m - z_y >= 0
        if on >= off:
            rest = off * -shifted_sum + (on - off) * true_gap
        else:
            w = m[:, None] - zb                                # m - z_j >= 0
            w[rows, yb] = 0.0
            rest = off * w.sum(axis=1) + on * true_gap
        if not np.isfinite(shifted_sum).all():             # a NaN or an infinity somewhere in the block
            bad = np.flatnonzero(~np.isfinite(shifted_sum))
            raise_non_finite(zb[bad[0]:], neg_inf=True, shape=shape, offset=(row0 + bad[0]) * zb.shape[1])
            empty = bad[m[bad] == -np.inf]                     # every logit of the row is -inf
            if empty.size:
                if ignored is None or not ignored[empty].all():
                    first = empty[0] if ignored is None else empty[~ignored[empty]][0]
                    where = tuple(int(i) for i in np.unravel_index(row0 + first, shape[:-1]))
                    raise ValueError(f"logits are all -inf in the row at index {where} (not ignored): its loss "
                                     "is undefined there (0/0)")
                s[empty], rest[empty] = 0.0, 0.0              # ignored rows: set to 0 by the caller anyway
            some = bad[m[bad] > -np.inf]
            if some.size:
                rest[some] = _rest(zb[some], yb[some], m[some], on, off)
        np.log1p(s, out=out)
        redo = np.flatnonzero((s < 0.0625) & (out * 64 > out + rest))
        out += rest
        if redo.size:
            _, s_exact = lse_parts(zb[redo], axis=1)
            out[redo] = np.log1p(s_exact[:, 0]) + rest[redo]


def smoothed_cross_entropy(logits, labels, *, label_smoothing=None, eps=None, reduction: str = "mean",
                           ignore_index: int | None = -100, block_rows: int | None = None):
    """Cross-entropy with soft targets, as ``torch.nn.functional.cross_entropy``, without materialising them.

    ``logits`` has shape ``(..., K)`` (float32 or float64, computed in that
    precision; classes along the *last* axis, where PyTorch puts them on axis 1
    for inputs of more than two dimensions) and ``labels`` shape ``(...)`` with
    integers in ``[0, K)`` or equal to ``ignore_index``. Give exactly one of:

    * ``label_smoothing`` (alpha in [0, 1], PyTorch's, optax's, Keras's): the target
      ``(1 - alpha) onehot + alpha / K``;
    * ``eps`` (in [0, 1], the note's): ``1 - eps`` on the label, ``eps / (K-1)`` on each other class.

    ``label_smoothing=0.0`` (or ``eps=0.0``) is the hard-label cross-entropy.
    ``reduction`` and ``ignore_index`` are PyTorch's: a row whose label equals
    ``ignore_index`` counts for nothing; ``"none"`` returns the per-example
    losses (0 for an ignored row), ``"sum"`` their sum, ``"mean"`` their sum
    divided by the number of rows not ignored (NaN when every row is ignored,
    as in PyTorch: 0/0). ``"mean"`` and ``"sum"`` return a NumPy scalar of the
    logits' dtype (float32 accumulated in float64).

    A ``-inf`` logit (a masked class) is accepted: on a class that receives no
    target mass it adds nothing; on a class that receives mass the loss is
    ``+inf``, as in PyTorch (with any ``label_smoothing > 0`` every class
    receives mass). NaN, ``+inf`` and a row of only ``-inf`` (unless ignored)
    are refused with the index. Rows are processed ``block_rows`` at a time
    (default: about ``BLOCK_ELEMENTS / K``): the extra memory is a few blocks
    plus the per-example losses; validation is blockwise too.

    Checked by: ch2.loss_sum_examples, ch2.loss_definition, ch2.loss_expanded, ch2.loss_approx_M,
        ch2.loss_squared, ch2.wrong_classes, ch2.closed_form, ch2.vs_hard, ch2.optimum, ch2.entropy_kl,
        ch2.conventions, ch3.equivalence, ch3.expected_loss, ch3.expected_gradient, ch5.hard_overconfident,
        ch5.fresh_matches_soft

    >>> round(float(smoothed_cross_entropy([[2.0, 0.0, 0.0]], [0], eps=0.1)), 6)   # log(e^2 + 2) - 0.9 * 2
    0.439545
    >>> z, y = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([0, -100])
    >>> smoothed_cross_entropy(z, y, label_smoothing=0.1, reduction="none").round(6)   # log(e^2 + 2) - (0.9 + 0.1/3) 2
    array([0.372878, 0.      ])
    >>> smoothed_cross_entropy([[2.0, 0.0, 0.0]], [0], eps=1.5)
    Traceback (most recent call last):
    ...
    ValueError: eps must lie in [0, 1]; got 1.5
    """
    z = as_logits(logits, neg_inf=True, scan=False)     # dtype and shape; the values are checked blockwise
    K = z.shape[-1]
    on, off = target_levels(K, label_smoothing=label_smoothing, eps=eps)
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}")
    batch = z.shape[:-1]
    y, ignored = as_labels_ignoring(labels, K, batch, ignore_index)
    rows = block_rows if block_rows is not None else max(1, BLOCK_ELEMENTS // K)
    if isinstance(rows, bool) or not isinstance(rows, numbers.Integral) or rows < 1:
        raise ValueError(f"block_rows must be a positive integer; got {block_rows!r}")
    out = np.empty(batch, dtype=z.dtype)
    z2, y1, flat = z.reshape(-1, K), y.reshape(-1), out.reshape(-1)
    ign = None if ignored is None else ignored.reshape(-1)
    for r0 in range(0, len(z2), rows):
        _block_loss(z2[r0:r0 + rows], y1[r0:r0 + rows], on, off, flat[r0:r0 + rows],
                    None if ign is None else ign[r0:r0 + rows], r0, z.shape)
    if ign is not None:
        flat[ign] = 0.0
    if reduction == "none":
        return out
    total = flat.sum(dtype=np.float64) if z.dtype == np.float32 else flat.sum()
    if reduction == "sum":
        return z.dtype.type(total)
    counted = flat.size - (0 if ign is None else int(np.count_nonzero(ign)))
    with np.errstate(invalid="ignore"):                 # every row ignored: 0/0 = NaN, as in PyTorch
        return z.dtype.type(np.float64(total) / counted if counted else np.nan)


def smoothed_optimum_gap(num_classes, eps) -> float:
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


def smoothed_minimum(num_classes, eps) -> float:
    """The minimum over all logits of the smoothed loss: the entropy of the soft target.

    ``-(1 - eps) log(1 - eps) - eps log(eps / (K - 1))`` (``0 log 0 = 0``); ``0`` for
    hard labels, where it is an infimum that no finite logits attain.

    Checked by: ch2.optimum, ch2.entropy_kl, ch5.fresh_matches_soft

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
