"""Label smoothing in NumPy: soft targets, the smoothed loss, conventions, the optimum.

Two conventions for the soft target of an example of class ``y`` among ``K``:

* ``"note"`` (the note's): ``1 - eps`` on class ``y`` and ``eps / (K-1)`` on each
  other class, ``eps`` in ``[0, 1]``;
* ``"uniform"`` (Szegedy et al. 2016 and the frameworks): the mixture
  ``(1 - alpha) * onehot(y) + alpha / K``, ``alpha`` in ``[0, 1]``.

They are the same family: ``eps = alpha (K-1)/K`` (:func:`alpha_to_eps`), and
``alpha = eps K/(K-1)`` (:func:`eps_to_alpha`) for ``eps <= (K-1)/K``. Either
way the target is ``on`` on class ``y`` and ``off`` elsewhere
(:func:`target_levels`), and since the target sums to one the loss is

    H(p, softmax(z)) = sum_j p_j (LSE(z) - z_j)
                     = log1p(s) + off * sum_j (m - z_j) + (on - off) * (m - z_y),

with ``m = max_j z_j`` and ``LSE(z) = m + log1p(s)`` from
:func:`derivations.library.numeric.row_lse_parts`. Every term is non-negative when
``on >= off`` (``eps <= (K-1)/K``); beyond, the sum is regrouped as
``log1p(s) + off * sum_{j != y} (m - z_j) + on * (m - z_y)``, again non-negative,
so nothing cancels for any eps.
:func:`smoothed_cross_entropy` evaluates this closed form block by block, never
materialising an ``N x K`` target; :func:`smoothed_cross_entropy_materialised`
is the textbook computation it is tested and benchmarked against.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from derivations.library._validate import as_labels, as_logits, as_num_classes, as_probability, first_bad
from derivations.library.numeric import log_softmax, lse_parts, row_lse_parts

__all__ = [
    "CONVENTIONS",
    "target_levels",
    "eps_to_alpha",
    "alpha_to_eps",
    "smoothed_targets",
    "smoothed_cross_entropy",
    "smoothed_cross_entropy_materialised",
    "smoothed_optimum_gap",
    "smoothed_minimum",
]

#: The two parametrisations of the soft target (see the module docstring).
CONVENTIONS = ("note", "uniform")
#: Elements of logits processed per block by :func:`smoothed_cross_entropy`.
BLOCK_ELEMENTS = 1 << 16


def eps_to_alpha(eps, num_classes) -> float:
    """The uniform-mixture ``alpha`` giving the note's target for ``eps``: ``alpha = eps K/(K-1)``.

    Valid for ``eps`` in ``[0, (K-1)/K]``; a larger ``eps`` puts less mass on the
    true class than on the others, which no ``alpha`` in ``[0, 1]`` can do.

    Checked by: ch2.conventions

    >>> round(eps_to_alpha(0.09, 10), 12)
    0.1
    >>> eps_to_alpha(0.95, 10)
    Traceback (most recent call last):
    ...
    ValueError: eps must lie in [0, 0.9] = [0, (K-1)/K] for K=10 to be written as alpha in [0, 1]; got 0.95
    """
    K = as_num_classes(num_classes)
    e = as_probability(eps, "eps")
    if e > (K - 1) / K:
        raise ValueError(f"eps must lie in [0, {(K - 1) / K:.6g}] = [0, (K-1)/K] for K={K} "
                         f"to be written as alpha in [0, 1]; got {eps!r}")
    return e * K / (K - 1)


def alpha_to_eps(alpha, num_classes) -> float:
    """The note's ``eps`` giving the uniform mixture with ``alpha``: ``eps = alpha (K-1)/K``.

    Every ``alpha`` in ``[0, 1]`` maps into ``[0, (K-1)/K]``.

    Checked by: ch2.conventions

    >>> alpha_to_eps(0.1, 10)
    0.09
    >>> alpha_to_eps(1.0, 4)        # alpha = 1 is the uniform target: eps = (K-1)/K
    0.75
    """
    K = as_num_classes(num_classes)
    return as_probability(alpha, "alpha") * (K - 1) / K


def target_levels(num_classes, eps, convention: str = "note") -> tuple[float, float]:
    """``(on, off)``: the soft target's value on the true class and on each other class.

    ``eps`` is the note's epsilon for ``convention="note"`` and the mixture
    weight ``alpha`` for ``convention="uniform"``. ``on + (K-1) off = 1``.

    Checked by: ch4.fresh_same_point, ch4.soft_optimum, ch4.once_memorises, ch4.regression_same_point

    >>> target_levels(5, 0.2)
    (0.8, 0.05)
    >>> target_levels(5, 0.25, convention="uniform")
    (0.8, 0.05)
    """
    K = as_num_classes(num_classes)
    if convention == "note":
        e = as_probability(eps, "eps")
        return 1.0 - e, e / (K - 1)
    if convention == "uniform":
        a = as_probability(eps, "alpha")
        return 1.0 - a + a / K, a / K
    raise ValueError(f"convention must be one of {CONVENTIONS}; got {convention!r}")


def smoothed_targets(labels, num_classes, eps, convention: str = "note", dtype=np.float64) -> np.ndarray:
    """The soft targets of integer ``labels`` (shape ``(...)``) as an array of shape ``(..., K)``.

    This materialises the targets; the loss does not need them
    (:func:`smoothed_cross_entropy`).

    Checked by: ch2.q_modified, ch2.soft_target, ch2.entropy_kl, ch2.conventions, ch3.same_p, ch3.equivalence

    >>> smoothed_targets([0, 2], 3, 0.2)
    array([[0.8, 0.1, 0.1],
           [0.1, 0.1, 0.8]])
    >>> smoothed_targets([1], 4, 0.4, convention="uniform").tolist()
    [[0.1, 0.7, 0.1, 0.1]]
    """
    K = as_num_classes(num_classes)
    on, off = target_levels(K, eps, convention)
    y = as_labels(labels, K)
    p = np.full(y.shape + (K,), off, dtype=dtype)
    np.put_along_axis(p, y[..., None], on, axis=-1)
    return p


def smoothed_cross_entropy_materialised(logits, labels, eps, convention: str = "note") -> np.ndarray:
    """The textbook computation ``-sum_j p_j log softmax(z)_j`` with the ``N x K`` targets built.

    The reference that :func:`smoothed_cross_entropy` is tested and benchmarked against.

    Checked by: ch2.loss_sum_examples

    >>> round(float(smoothed_cross_entropy_materialised([0.0, 0.0, 0.0], 1, 0.3)), 12)   # log 3
    1.098612288668
    """
    z = as_logits(logits)
    p = smoothed_targets(labels, z.shape[-1], eps, convention, dtype=z.dtype)
    return -np.sum(p * log_softmax(z), axis=-1)


def _prepared_logits(logits) -> np.ndarray:
    """Logits checked for dtype and shape; finiteness is left to the blocks.

    float32/float64 arrays are used as they are (no copy); other dtypes go
    through :func:`as_logits`, which converts (and checks) them in full.
    """
    z = np.asarray(logits)
    if z.dtype in (np.float32, np.float64) and z.ndim >= 2:
        as_logits(z[..., :0, :])          # dtype, class axis; an empty batch has nothing to scan
        return z
    return as_logits(z)


def _raise_non_finite(block: np.ndarray, row0: int, shape: tuple[int, ...]) -> None:
    """If ``block`` (rows ``row0...`` of the flattened logits) holds a non-finite entry, name it."""
    bad = ~np.isfinite(block)
    if bad.any():
        r, c = first_bad(bad)
        idx = tuple(int(i) for i in np.unravel_index((row0 + r) * block.shape[1] + c, shape))
        raise ValueError(f"logits must be finite; found {float(block[r, c])} at index {idx}")


def _block_loss(zb: np.ndarray, yb: np.ndarray, on: float, off: float, out: np.ndarray) -> bool:
    """Write the closed-form loss of the rows ``zb`` into ``out``; False if the rows need a finiteness scan.

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
        np.log1p(s, out=out)
        redo = np.flatnonzero((s < 0.0625) & (out * 64 > out + rest))
        out += rest
        if redo.size:
            _, s_exact = lse_parts(zb[redo], axis=1)
            out[redo] = np.log1p(s_exact[:, 0]) + rest[redo]
    return bool(np.isfinite(m).all() and np.isfinite(shifted_sum).all())


def smoothed_cross_entropy(logits, labels, eps, convention: str = "note", *, block_rows: int | None = None) -> np.ndarray:
    """Per-example cross-entropy with soft targets, without materialising them.

    ``logits`` has shape ``(..., K)`` (float32 or float64; computed in that
    precision), ``labels`` shape ``(...)`` with integers in ``[0, K)``. ``eps``
    is the note's epsilon (``convention="note"``: ``1 - eps`` on the label,
    ``eps/(K-1)`` elsewhere) or the mixture weight alpha (``convention="uniform"``:
    ``(1 - alpha) onehot + alpha/K``). Rows are processed ``block_rows`` at a time
    (default: about ``BLOCK_ELEMENTS / K``), so the extra memory is a few blocks
    plus the returned array; validation is blockwise too.

    Checked by: ch2.q_modified, ch2.loss_sum_examples, ch2.loss_definition, ch2.loss_expanded, ch2.loss_approx_M,
        ch2.loss_squared, ch2.wrong_classes, ch2.closed_form, ch2.vs_hard, ch2.optimum, ch2.entropy_kl,
        ch2.conventions, ch3.equivalence, ch3.expected_gradient, ch5.hard_overconfident, ch5.smoothing_calibrates,
        ch5.fresh_matches_soft, ch5.once_memorises

    >>> smoothed_cross_entropy([[2.0, 0.0, 0.0]], [0], 0.1).round(6)   # log(e^2 + 2) - 0.9 * 2
    array([0.439545])
    >>> float(smoothed_cross_entropy([0.0, 0.0], 0, 0.5))      # uniform target: log 2
    0.6931471805599453
    >>> smoothed_cross_entropy([[2.0, 0.0, 0.0]], [0], 1.5)
    Traceback (most recent call last):
    ...
    ValueError: eps must lie in [0, 1]; got 1.5
    """
    z = _prepared_logits(logits)
    K = z.shape[-1]
    on, off = target_levels(K, eps, convention)
    batch = z.shape[:-1]
    out = np.empty(batch, dtype=z.dtype)
    if out.size == 0:
        as_labels(labels, K, batch)
        return out
    y = as_labels(labels, K, batch).reshape(-1)
    z2 = z.reshape(-1, K)
    flat = out.reshape(-1)
    rows = block_rows if block_rows is not None else max(1, BLOCK_ELEMENTS // K)
    if isinstance(rows, bool) or not isinstance(rows, numbers.Integral) or rows < 1:
        raise ValueError(f"block_rows must be a positive integer; got {block_rows!r}")
    for r0 in range(0, len(z2), rows):
        zb = z2[r0:r0 + rows]
        if not _block_loss(zb, y[r0:r0 + rows], on, off, flat[r0:r0 + rows]):
            _raise_non_finite(zb, r0, z.shape)
    return out


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
