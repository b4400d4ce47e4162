"""Tests of the label-smoothing API (derivations.library.smoothing) and of the chapter 2 claims.

References are independent of the code under test: the materialised
computation ``-sum_j p_j log softmax(z)_j`` written here from NumPy's
``log_softmax``, and an mpmath evaluation of the definition
``sum_j p_j (LSE(z) - z_j)`` at 50 digits. Expected numbers are worked out by
hand in the comments. Tolerances are the library's documented accuracy
(``numeric.loss_rtol``) or rounding bounds derived where they are used.
"""
from __future__ import annotations

import math
import tracemalloc

import mpmath
import numpy as np
import pytest

import derivations
import derivations.chapters
from derivations.engine.reference import mp_cross_entropy, mp_label_losses, mp_log_sum_exp, mp_smoothed_cross_entropy
from derivations.engine.registry import claims
from derivations.library import numeric as num
from derivations.library import smoothing
from derivations.library.smoothing import (
    eps_to_label_smoothing,
    label_smoothing_to_eps,
    smoothed_cross_entropy,
    smoothed_cross_entropy_materialised,
    smoothed_minimum,
    smoothed_optimum_gap,
    smoothed_targets,
    target_levels,
)

U64, U32 = 2.0 ** -53, 2.0 ** -24


def targets_by_hand(labels, K, on, off):
    p = np.full((len(labels), K), off)
    p[np.arange(len(labels)), labels] = on
    return p


def materialised(z, y, on, off):
    """The textbook loss, written here independently of derivations.library.smoothing."""
    return -np.sum(targets_by_hand(y, z.shape[-1], on, off) * num.log_softmax(z), axis=-1)


def mp_smoothed_brute(row, label, eps, dps):
    """``sum_j p_j (LSE(z) - z_j)`` as a plain difference, at ``dps`` digits: enough digits make the
    cancellation in ``LSE(z) - z_j`` harmless (used to check the reference, at moderate logits)."""
    with mpmath.workdps(dps):
        K, e = len(row), mpmath.mpf(float(eps))
        lse = mp_log_sum_exp(row, dps)
        return mpmath.fsum(((1 - e) if j == label else e / (K - 1)) * (lse - mpmath.mpf(float(v)))
                           for j, v in enumerate(row))


def levels(K, name, value):
    """(on, off) by hand: the note's eps, or PyTorch's label_smoothing alpha."""
    if name == "eps":
        return 1 - value, value / (K - 1)
    return 1 - value + value / K, value / K


def per_example(z, y, **kw):
    return smoothed_cross_entropy(z, y, reduction="none", **kw)


# -- agreement -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["eps", "label_smoothing"])
@pytest.mark.parametrize("K", [2, 3, 10, 257])
def test_matches_materialised_float64(K, name):
    rng = np.random.default_rng(K)
    z = rng.normal(scale=5.0, size=(300, K))
    y = rng.integers(0, K, size=300)
    for value in (0.0, 0.1, 0.5, 1.0):
        got = per_example(z, y, **{name: value})
        want = materialised(z, y, *levels(K, name, value))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(smoothed_cross_entropy_materialised(z, y, **{name: value}), want, rtol=1e-13)


def test_the_mpmath_reference_against_brute_precision():
    rng = np.random.default_rng(11)
    for K in (2, 5, 30):
        z = rng.uniform(-60, 60, size=(4, K))
        z[0, 1] = z[0].max() + 150.0                     # a row whose loss for label 1 is about e^-150
        for eps in (0.0, 0.3, 1.0):
            for row in z:
                ref = mp_smoothed_cross_entropy(row, 1, eps)
                brute = mp_smoothed_brute(row, 1, eps, dps=400)
                assert float(abs(ref - brute)) <= 1e-40 * max(float(abs(brute)), 1e-300)
                alpha = eps_to_label_smoothing(eps, K) if eps <= (K - 1) / K else None
                if alpha is not None:       # the same target written as alpha: the same loss to 50 digits
                    same = mp_smoothed_cross_entropy(row, 1, label_smoothing=alpha)
                    assert float(abs(same - ref)) <= 1e-12 * max(float(abs(ref)), 1e-300)


def adversarial_rows(rng, K, scale):
    """Random logits, plus rows where the label dominates (tiny loss) or is far below the rest."""
    z = rng.uniform(-scale, scale, size=(6, K))
    y = rng.integers(0, K, size=6)
    i = np.arange(2)
    z[i, y[i]] = z[i].max(axis=1) + rng.uniform(0.0, scale, 2)          # confident and right
    z[2, y[2]] = z[2].min() - scale                                     # confident and wrong
    return z, y


@pytest.mark.parametrize("K, scale", [(K, s) for K in (2, 7, 40) for s in (1.0, 30.0, 1e2, 1e4, 1e300)]
                         + [(1000, 30.0)])
def test_within_its_documented_accuracy_for_every_eps(K, scale):
    """Relative error at most loss_rtol(K) = (8 + log2 K) u, for eps at and beyond every edge, and for
    label_smoothing at its edges."""
    rng = np.random.default_rng([K, int(math.log10(scale))])
    z, y = adversarial_rows(rng, K, scale)
    for kw in [{"eps": e} for e in (0.0, 1e-12, 0.1, 0.5, (K - 1) / K, 0.999, 1.0)] + \
              [{"label_smoothing": a} for a in (1e-12, 0.1, 1.0)]:
        got = per_example(z, y, **kw)
        ref = np.array([float(mp_smoothed_cross_entropy(r, int(t), **kw)) for r, t in zip(z, y)])
        assert np.all(np.isfinite(got))
        np.testing.assert_array_less(np.abs(got - ref), num.loss_rtol(K) * np.abs(ref) + np.finfo(float).tiny)


def test_accuracy_at_large_k_with_equal_logits():
    """K = 100,000 equal terms: a sequential (BLAS) row sum erred by hundreds of ulps here."""
    K, eps = 100_000, 0.05
    z = np.zeros((1, K))
    z[0, 0] = math.log(K - 1) + 5.0
    ref = float(mp_smoothed_cross_entropy(z[0], 0, eps))
    assert abs(float(smoothed_cross_entropy(z, [0], eps=eps)) - ref) <= num.loss_rtol(K) * ref


def test_eps_zero_is_the_hard_loss_even_when_tiny():
    # z = (50, 0, 0): loss = log(1 + 2 e^-50) ~ 3.9e-22, far below float64 resolution of LSE itself
    z = np.array([[50.0, 0.0, 0.0], [0.0, 50.0, 0.0]])
    y = np.array([0, 0])
    ref = [float(mp_cross_entropy(r, int(t))) for r, t in zip(z, y)]
    for kw in ({"eps": 0.0}, {"label_smoothing": 0.0}):
        got = per_example(z, y, **kw)
        np.testing.assert_allclose(got, ref, rtol=1e-14)
        np.testing.assert_allclose(got, derivations.cross_entropy_per_example(z, y), rtol=1e-14)


@pytest.mark.parametrize("block_rows", [1, 3, 7, 64, None])
def test_blockwise_results_do_not_depend_on_the_block_size(block_rows):
    rng = np.random.default_rng(3)
    z = rng.normal(scale=3.0, size=(101, 6))
    y = rng.integers(0, 6, size=101)
    y[::10] = -100
    got = smoothed_cross_entropy(z, y, eps=0.3, reduction="none", block_rows=block_rows)
    want = materialised(z, np.where(y < 0, 0, y), 0.7, 0.06)
    want[y < 0] = 0.0
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_no_n_by_k_allocation():
    """Extra memory, beyond the returned losses, stays a small fraction of the logits."""
    rng = np.random.default_rng(4)
    z = rng.normal(size=(200_000, 20))                      # 32 MB of float64
    y = rng.integers(0, 20, size=200_000)

    def peak(fn, *args, **kw):
        tracemalloc.start()
        fn(*args, **kw)
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return p

    out_bytes = 200_000 * 8
    fast = peak(smoothed_cross_entropy, z, y, eps=0.1) - out_bytes
    naive = peak(smoothed_cross_entropy_materialised, z, y, eps=0.1)
    assert naive > z.nbytes                                 # tracemalloc does see NumPy's allocations
    assert fast < 0.03 * z.nbytes, f"{fast} bytes beyond the output for {z.nbytes} bytes of logits"


def mp_by_hand(on):
    """K = 3, z = (2, 0, 0), label 0: log(e^2 + 2) - 2 on, at 50 digits."""
    with mpmath.workdps(50):
        return float(mpmath.log(mpmath.e ** 2 + 2) - 2 * mpmath.mpf(on))


def test_label_smoothing_is_pytorchs_alpha_and_eps_the_notes():
    """The issue's surprise: the same number 0.1 is two different targets. K = 3, z = (2, 0, 0), label 0:
    alpha = 0.1 puts 0.9 + 0.1/3 on the label; eps = 0.1 puts 0.9 (and 0.05 on each other class)."""
    z, rtol = [[2.0, 0.0, 0.0]], num.loss_rtol(3)
    alpha = float(smoothed_cross_entropy(z, [0], label_smoothing=0.1))
    assert alpha == pytest.approx(mp_by_hand(mpmath.mpf(9) / 10 + mpmath.mpf(1) / 30), rel=rtol)
    assert float(smoothed_cross_entropy(z, [0], eps=0.1)) == pytest.approx(mp_by_hand(mpmath.mpf(9) / 10), rel=rtol)
    # the same target written as eps = alpha (K-1)/K: the targets differ by rounding only (a few u each, times
    # the per-class losses, which are at most 2 + log 3 here), so the losses agree to a few u of that
    as_eps = float(smoothed_cross_entropy(z, [0], eps=label_smoothing_to_eps(0.1, 3)))
    assert as_eps == pytest.approx(alpha, rel=2 * rtol + 8 * U64 * (2 + math.log(3)) / alpha)


def test_every_row_ignored_is_nan_for_the_mean_as_in_torch():
    """PyTorch: mean over zero rows is 0/0 = NaN; sum 0; none zeros. An empty batch alike."""
    z = np.zeros((3, 4), dtype=np.float32)
    y = np.full(3, -100)
    mean = smoothed_cross_entropy(z, y, label_smoothing=0.1)
    assert isinstance(mean, np.float32) and np.isnan(mean)
    assert smoothed_cross_entropy(z, y, label_smoothing=0.1, reduction="sum") == 0.0
    assert np.array_equal(smoothed_cross_entropy(z, y, label_smoothing=0.1, reduction="none"), np.zeros(3))
    empty = np.zeros((0, 4))
    assert np.isnan(smoothed_cross_entropy(empty, np.zeros(0, int), eps=0.1))
    assert smoothed_cross_entropy(empty, np.zeros(0, int), eps=0.1, reduction="sum") == 0.0
    assert smoothed_cross_entropy(empty, np.zeros(0, int), eps=0.1, reduction="none").shape == (0,)


# -- -inf logits ------------------------------------------------------------------------------
def mp_masked(row, label, on, off):
    """``sum_j p_j (LSE(z) - z_j)`` at 50 digits with ``0 * inf = 0`` (a class without target mass adds
    nothing) and ``+inf`` when a class with mass has ``z_j = -inf``; LSE over the finite logits."""
    finite = [float(v) for v in row if v > -math.inf]
    with mpmath.workdps(50):
        lse = mp_log_sum_exp(finite)
        total = mpmath.mpf(0)
        for j, v in enumerate(row):
            p = on if j == label else off
            if p == 0:
                continue
            if v == -math.inf:
                return math.inf
            total += mpmath.mpf(p) * (lse - mpmath.mpf(float(v)))
        return float(total)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minus_inf_logits_as_in_pytorch(dtype):
    """A -inf logit on a class without target mass adds nothing; with mass, the loss is +inf (as PyTorch's).
    With label_smoothing > 0 (or 0 < eps < 1) every class has mass."""
    K = 5
    rng = np.random.default_rng(6)
    z = rng.normal(scale=3.0, size=(8, K))
    y = rng.integers(0, K, size=8)
    z[0, (y[0] + 1) % K] = -np.inf                            # off the label
    z[1, y[1]] = -np.inf                                      # on the label
    z[2, [(y[2] + 1) % K, (y[2] + 2) % K]] = -np.inf          # two, off the label
    z[3] = -np.inf
    z[3, y[3]] = 40.0                                         # only the label is left: loss 0 at eps = 0
    z[4, (y[4] + 1) % K] = -np.inf
    z[4, y[4]] = z[4].max() + 60                              # a tiny loss, e^-60, next to a -inf
    z = z.astype(dtype)
    for kw in [{"eps": e} for e in (0.0, 0.1, 1.0)] + [{"label_smoothing": a} for a in (0.0, 0.1, 1.0)]:
        on, off = target_levels(K, **kw)
        got = smoothed_cross_entropy(z, y, reduction="none", **kw)
        ref = np.array([mp_masked(r.astype(np.float64), int(t), on, off) for r, t in zip(z, y)])
        assert np.array_equal(np.isinf(got), np.isinf(ref)), kw
        fin = np.isfinite(ref)
        tol = num.loss_rtol(K, dtype) * ref[fin] + np.finfo(dtype).tiny
        assert np.all(np.abs(got[fin] - ref[fin]) <= tol), (kw, got, ref)
        if off > 0 and on > 0:
            assert np.all(np.isinf(got[:5]))                  # every class has mass: any -inf gives +inf


def test_minus_inf_with_reductions_and_a_masked_row():
    z = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf], [1.0, 0.0, 0.0]])
    y = np.array([0, -100, 2])
    # the all -inf row is ignored: fine; otherwise it has no softmax and is refused
    hard = smoothed_cross_entropy(z, y, label_smoothing=0.0, reduction="none")
    assert hard[1] == 0.0 and hard[0] == pytest.approx(math.log1p(math.e), rel=4 * U64)
    assert smoothed_cross_entropy(z, y, label_smoothing=0.1) == np.inf
    with pytest.raises(ValueError, match=r"logits are all -inf in the row at index \(1,\) \(not ignored\)"):
        smoothed_cross_entropy(z, np.array([0, 1, 2]), label_smoothing=0.0)


# -- the unshifted exponentials (hard labels, no class weights): the edges of their range ------------------------
def mp_coefficient_loss(row, coef) -> float:
    """``sum_j c_j (LSE(z) - z_j)`` at 50 digits: ``0 * inf = 0``, and ``+inf`` where a class with ``c_j > 0`` has
    ``z_j = -inf``; LSE over the finite logits."""
    finite = [j for j, v in enumerate(row) if v > -math.inf]
    losses = dict(zip(finite, mp_label_losses([float(row[j]) for j in finite])))
    with mpmath.workdps(50):
        total = mpmath.mpf(0)
        for j, c in enumerate(coef):
            if c == 0:
                continue
            if j not in losses:
                return math.inf
            total += mpmath.mpf(float(c)) * losses[j]
        return float(total)


def edge_families(dtype):
    """Rows at the edges of :func:`derivations.library.smoothing._direct_losses`'s range, by family: ``(name, K,
    smoothing, [(row, label, path)])``, ``path`` what its docstring says becomes of the row: ``"direct"``,
    ``"sum again"`` (the logits' sum cancels: summed again, shifted) or ``"shifted"`` (recomputed as before).
    Each edge is computed from ``np.finfo`` of the computing dtype and K; the rows lie 0.5 inside or outside it
    in the maximum (a factor 1.6 in the exponential bounds, 20% in the cancellation's), and the "far" rows where
    the unshifted result would be off by more than loss_rtol, but for the cancelling one: the logits' sum,
    accumulated in float64, errs by little there too; the check keeps its worst-case bound below the shifted
    sum's."""
    work = np.float32 if dtype == np.float16 else dtype
    fi = np.finfo(work)
    u, tiny, big = float(fi.eps) / 2, float(fi.tiny), float(fi.max)
    scale_edge = -math.log(np.finfo(np.float64).tiny)                  # exp(-m) normal in float64: 708.4
    fams = []
    # underflow: [m, m - d, ..., m - d], label 0, no smoothing: L = log1p((K - 1) e^-d). A term below tiny is off by
    # at most tiny: the lower end is m = log(4 (K-1) tiny / (u L)). Far below it, the other terms are subnormal
    # (e^-14 tiny: 7 of float32's smallest subnormals), their exponentials off by several percent
    for K, last in ((100, None), (3, -math.inf)):
        d = 5.0 if dtype == np.float16 else 30.0                       # a float16 loss must stay normal
        L = math.log1p((K - 1 - (last is not None)) * math.exp(-d))
        low = math.log(4 * (K - 1) * tiny / (u * L))

        def row(m, K=K, last=last, d=d):
            r = [m] + [m - d] * (K - 1)
            if last is not None:
                r[-1] = last                                           # a masked class, off the label
            return r
        far = math.log(tiny) - 14 + d
        fams.append((f"underflow, K={K}" + (", a -inf" if last is not None else ""), K, {"eps": 0.0},
                     [(row(low + 0.5), 0, "direct"), (row(low - 0.5), 0, "shifted"), (row(far), 0, "shifted")]))
    # overflow: K equal logits m, the exponentials' sum (K-1) e^m finite up to m = log(max / (K-1)); the maximum's
    # own exponential may overflow (it is zeroed); float64's scale exp(-m) must stay normal (m <= 708.4)
    K = 4
    top = math.log(big / (K - 1))
    own = [top + 5, top - 5, top - 5, top - 5]
    fams.append(("overflow", K, {"eps": 0.0},
                 [([top - 0.5] * K, 1, "direct" if top - 0.5 <= scale_edge else "shifted"),
                  ([top + 0.5] * K, 1, "shifted"),
                  (own, 1, "direct" if own[0] <= scale_edge else "shifted")]))
    if work == np.float64:
        fams.append(("scale exp(-m)", 2, {"eps": 0.0},
                     [([scale_edge - 0.5, scale_edge - 8.5], 0, "direct"),
                      ([scale_edge + 0.5, scale_edge - 7.5], 0, "shifted"),
                      ([scale_edge + 20, scale_edge], 0, "shifted")]))    # a subnormal scale: off by 5e-8
    # cancellation (float32 computing dtype: sum_j (m - z_j) from the logits' own sum, K m - sum_j z_j): K - 1 logits
    # m - 1 and the label's m, the uniform target (label_smoothing=1). The logits' sum errs by at most h sum_j |z_j|
    # <= h (K |m| + R), R = sum_j (m - z_j) = K - 1, the shifted sum by g R: it is used while h (K |m| + R) <= g R
    K = 4096
    h, g = num.chunked_sum_error(K, work), (num.pairwise_depth(K) + 1) * u
    edge = (g / h - 1) * (K - 1) / K                                   # 2.43 in float32; float64 sums shifted
    by_logits = work == np.float32
    far = 700.1 if work == np.float64 else 70.1

    def row(m, K=K):
        return [m] + [m - 1] * (K - 1)
    again = "sum again" if by_logits else "direct"
    fams.append(("cancellation", K, {"label_smoothing": 1.0},
                 [(row(edge - 0.5), 0, "direct"), (row(edge + 0.5), 0, again),
                  (row(-edge - 0.5), 0, again), (row(far), 0, again)]))
    return fams


def spy_paths(monkeypatch):
    """Record what becomes of rows: the flat indices recomputed by ``_block_loss`` and the maxima of the rows whose
    logits' sum is summed again."""
    seen = {"shifted": [], "sum again": []}
    block, rest = smoothing._block_loss, smoothing._shifted_rest

    def spy_block(zb, out, yb, on, off, cb, ignored, row_ids, *rest_of_args):
        seen["shifted"] += [int(i) for i in row_ids]
        return block(zb, out, yb, on, off, cb, ignored, row_ids, *rest_of_args)

    def spy_rest(zb, m, out=None):
        seen["sum again"] += [float(v) for v in m]
        return rest(zb, m, out)
    monkeypatch.setattr(smoothing, "_block_loss", spy_block)
    monkeypatch.setattr(smoothing, "_shifted_rest", spy_rest)
    return seen


@pytest.mark.parametrize("block_rows", [None, 1])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_the_unshifted_path_at_the_edges_of_its_range(dtype, block_rows, monkeypatch):
    """Just inside each edge the row is computed from the logits' own exponentials, just outside it is not, and
    every row, far outside too, is within loss_rtol of mpmath. Each family is one call (the rows share a group)."""
    for name, K, kw, cases in edge_families(dtype):
        z = np.array([r for r, _, _ in cases], dtype=np.float64).astype(dtype)
        y = np.array([t for _, t, _ in cases])
        on, off = target_levels(K, **kw)
        seen = spy_paths(monkeypatch)
        got = smoothed_cross_entropy(z, y, reduction="none", block_rows=block_rows, **kw)
        maxima = z.astype(np.float64).max(axis=1)
        for i, (_, label, path) in enumerate(cases):
            coef = np.full(K, off)
            coef[label] = on
            ref = mp_coefficient_loss(z[i].astype(np.float64), coef)
            tol = num.loss_rtol(K, dtype) * ref + float(np.finfo(dtype).tiny)
            assert abs(float(got[i]) - ref) <= tol, (name, i, float(got[i]), ref, (float(got[i]) - ref) / ref)
            took = ("shifted" if i in seen["shifted"] else
                    "sum again" if float(maxima[i]) in seen["sum again"] else "direct")
            assert took == path, (name, i, took, path)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_class_probabilities_weights_and_masks_at_the_same_edges(dtype):
    """The same rows through the other paths (class probabilities, class weights), and with a masked class where
    the target gives it mass (+inf): each against mpmath."""
    rng = np.random.default_rng(7)
    for name, K, kw, cases in edge_families(dtype):
        z = np.array([r for r, _, _ in cases], dtype=np.float64).astype(dtype)
        y = np.array([t for _, t, _ in cases])
        on, off = target_levels(K, **kw)
        onehot = np.eye(K, dtype=dtype)[y]
        w = rng.uniform(0.5, 2.0, K).astype(dtype)
        runs = [(onehot, {}, lambda t: np.where(np.arange(K) == t, on, off)),
                (y, {"weight": w}, lambda t: w.astype(np.float64) * np.where(np.arange(K) == t, on, off))]
        for target, extra, coefficients in runs:
            got = smoothed_cross_entropy(z, target, reduction="none", **kw, **extra)
            for i, label in enumerate(y):
                ref = mp_coefficient_loss(z[i].astype(np.float64), coefficients(label))
                tol = num.loss_rtol(K, dtype, weighted=True) * ref + float(np.finfo(dtype).tiny)
                assert abs(float(got[i]) - ref) <= tol, (name, i, extra.keys(), float(got[i]), ref)
        masked = z.copy()
        masked[:, 1] = -np.inf                                          # class 1 gets mass at label_smoothing 0.1
        got = smoothed_cross_entropy(masked, y, reduction="none", label_smoothing=0.1)
        assert np.all(got == np.inf), name


# -- targets and conventions --------------------------------------------------------------
def test_targets_by_hand():
    # K = 4, eps = 0.3: 0.7 on the label, 0.1 elsewhere
    np.testing.assert_allclose(smoothed_targets([1, 3], 4, eps=0.3), [[0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]])
    # PyTorch's label_smoothing, K = 10, alpha = 0.1: 0.9 + 0.01 = 0.91 on the label, 0.01 elsewhere
    p = smoothed_targets([0], 10, label_smoothing=0.1)
    assert p[0, 0] == pytest.approx(0.91) and np.allclose(p[0, 1:], 0.01)


@pytest.mark.parametrize("K", [2, 3, 10, 1000])
def test_conventions_agree_under_the_mapping(K):
    rng = np.random.default_rng(K)
    z = rng.normal(scale=3.0, size=(50, K))
    y = rng.integers(0, K, size=50)
    for alpha in (0.0, 0.1, 0.5, 1.0):
        eps = label_smoothing_to_eps(alpha, K)
        assert eps == pytest.approx(alpha * (K - 1) / K)
        np.testing.assert_allclose(smoothed_targets(y, K, eps=eps), smoothed_targets(y, K, label_smoothing=alpha),
                                   atol=1e-15)
        np.testing.assert_allclose(per_example(z, y, eps=eps), per_example(z, y, label_smoothing=alpha), rtol=1e-13)


@pytest.mark.parametrize("K", [2, 3, 10, 1000])
def test_conversions_round_trip_and_range(K):
    for a in np.linspace(0, 1, 11):
        assert eps_to_label_smoothing(label_smoothing_to_eps(a, K), K) == pytest.approx(a, abs=1e-15)
    assert label_smoothing_to_eps(1.0, K) == pytest.approx((K - 1) / K)
    assert eps_to_label_smoothing((K - 1) / K, K) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\(K-1\)/K"):
        eps_to_label_smoothing((K - 1) / K + 1e-9, K)


# -- the optimum ------------------------------------------------------------------------------
def test_optimum_by_hand_and_by_search():
    assert smoothed_optimum_gap(2, 0.5) == pytest.approx(0.0, abs=1e-15)       # uniform target, K = 2
    assert smoothed_minimum(2, 0.5) == pytest.approx(math.log(2))
    assert smoothed_optimum_gap(10, 0.1) == pytest.approx(math.log(81))        # 0.9 * 9 / 0.1
    assert smoothed_minimum(10, 0.1) == pytest.approx(-0.9 * math.log(0.9) - 0.1 * math.log(0.1 / 9))
    assert smoothed_optimum_gap(5, 0.0) == math.inf and smoothed_minimum(5, 0.0) == 0.0
    assert smoothed_optimum_gap(5, 1.0) == -math.inf
    # brute force along z = (gap, 0, ..., 0)
    for K, eps in ((3, 0.2), (10, 0.05), (100, 0.3)):
        gaps = np.linspace(-5, 15, 20001)
        z = np.zeros((gaps.size, K))
        z[:, 0] = gaps
        loss = per_example(z, np.zeros(gaps.size, dtype=int), eps=eps)
        assert gaps[np.argmin(loss)] == pytest.approx(smoothed_optimum_gap(K, eps), abs=2e-3)
        lowest = smoothed_minimum(K, eps)
        assert lowest - 1e-12 <= loss.min() <= lowest + 1e-6        # grid step 1e-3: within curvature * 1e-6


# -- bad input ------------------------------------------------------------------------------------
Z = np.zeros((4, 3))
Y = np.array([0, 1, 2, 0])
EXACTLY_ONE = r"give exactly one of label_smoothing= \(PyTorch's alpha.*\) or eps= \(the note's.*\); got "


@pytest.mark.parametrize("call, message", [
    (lambda: smoothed_cross_entropy(Z, Y, eps=-0.1), r"eps must lie in \[0, 1\]; got -0.1"),
    (lambda: smoothed_cross_entropy(Z, Y, eps=1.5), r"eps must lie in \[0, 1\]; got 1.5"),
    (lambda: smoothed_cross_entropy(Z, Y, eps=float("nan")), r"eps must lie in \[0, 1\]; got nan"),
    (lambda: smoothed_cross_entropy(Z, Y, eps="0.1"), r"eps must be a real number in \[0, 1\]; got '0.1'"),
    (lambda: smoothed_cross_entropy(Z, Y, eps=True), r"eps must be a real number"),
    (lambda: smoothed_cross_entropy(Z, Y, label_smoothing=1.2), r"label_smoothing must lie in \[0, 1\]; got 1.2"),
    (lambda: smoothed_cross_entropy(Z, Y), EXACTLY_ONE + "neither"),
    (lambda: smoothed_cross_entropy(Z, Y, eps=0.1, label_smoothing=0.1), EXACTLY_ONE + "both"),
    (lambda: smoothed_targets(Y, 3), EXACTLY_ONE + "neither"),
    (lambda: smoothed_cross_entropy(Z, Y, eps=0.1, reduction="avg"),
     r"reduction must be one of \('mean', 'sum', 'none'\); got 'avg'"),
    (lambda: smoothed_cross_entropy(Z, Y, eps=0.1, ignore_index=1.5),
     r"ignore_index must be an integer \(PyTorch's default: -100\) or None; got 1.5"),
    (lambda: smoothed_targets(Y, 1, eps=0.1), r"num_classes must be an integer >= 2; got 1"),
    (lambda: smoothed_targets(Y, 3.0, eps=0.1), r"num_classes must be an integer >= 2; got 3.0"),
    (lambda: eps_to_label_smoothing(0.95, 10),
     r"eps must lie in \[0, 0.9\] = \[0, \(K-1\)/K\] for K=10 to be written as label_smoothing .*; got 0.95"),
    (lambda: label_smoothing_to_eps(-1, 10), r"label_smoothing must lie in \[0, 1\]; got -1"),
    (lambda: smoothed_optimum_gap(10, 2.0), r"eps must lie in \[0, 1\]; got 2.0"),
    (lambda: smoothed_cross_entropy(Z, np.array([0, 1, 3, 0]), eps=0.1),
     r"labels must lie in \[0, 3\) or equal ignore_index \(-100\); found 3 at index \(2,\)"),
    (lambda: smoothed_cross_entropy(Z, np.array([0, -1, 2, 0]), eps=0.1),
     r"labels must lie in \[0, 3\) or equal ignore_index \(-100\); found -1 at index \(1,\)"),
    (lambda: smoothed_cross_entropy(Z, np.array([0, -100, 2, 0]), eps=0.1, ignore_index=None),
     r"labels must lie in \[0, 3\); found -100 at index \(1,\)"),
    (lambda: smoothed_cross_entropy(Z, np.array([0.0, 1.0, 2.0, 0.0]), eps=0.1), r"labels must have an integer dtype"),
    (lambda: smoothed_cross_entropy(Z, np.array([0, 1, 2]), eps=0.1), r"labels must have shape \(4,\)"),
    (lambda: smoothed_cross_entropy(np.zeros((4, 1)), np.zeros(4, dtype=int), eps=0.1),
     r"logits need at least 2 classes along axis 1; got 1 \(shape \(4, 1\)\)"),
    (lambda: smoothed_cross_entropy(3.0, 0, eps=0.1), r"must have a class axis"),
    (lambda: smoothed_cross_entropy(Z.astype(complex), Y, eps=0.1), r"logits must be real numbers"),
    (lambda: smoothed_cross_entropy(Z, Y, eps=0.1, block_rows=0), r"block_rows must be a positive integer; got 0"),
])
def test_bad_input_names_value_and_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_smoothing_parameter_is_keyword_only():
    """A positional 0.1 would be ambiguous (the note's eps or PyTorch's alpha): Python refuses it."""
    with pytest.raises(TypeError, match="positional argument"):
        smoothed_cross_entropy(Z, Y, 0.1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_logits_found_blockwise(bad, dtype):
    z = np.zeros((50, 4), dtype=dtype)
    z[37, 2] = bad
    z[40, 1] = -np.inf                                       # accepted, and after the bad one anyway
    y = np.zeros(50, dtype=int)
    with pytest.raises(ValueError, match=rf"logits must be finite or -inf; found {bad} at index \(37, 2\)"):
        smoothed_cross_entropy(z, y, eps=0.1, block_rows=4)
    with pytest.raises(ValueError, match=rf"found {bad} at index \(1, 13, 2\)"):   # row 37 = 24 + 13, in the caller's shape
        smoothed_cross_entropy(z[:48].reshape(2, 24, 4), y[:48].reshape(2, 24), eps=0.1, block_rows=5, axis=-1)
    y[37] = -100                                                 # refused in an ignored row too
    with pytest.raises(ValueError, match=rf"found {bad} at index \(37, 2\)"):
        smoothed_cross_entropy(z, y, eps=0.1)


def test_public_names_at_top_level():
    for name in ("smoothed_targets", "smoothed_cross_entropy", "eps_to_label_smoothing", "label_smoothing_to_eps",
                 "smoothed_optimum_gap", "smoothed_minimum", "target_levels"):
        assert callable(getattr(derivations, name)), name


# -- the chapter 2 claims -------------------------------------------------------------------------
NOTE_IDS = ["ch2.q_modified", "ch2.soft_target", "ch2.loss_sum_examples", "ch2.loss_definition",
            "ch2.loss_expanded", "ch2.loss_approx_M", "ch2.loss_squared", "ch2.wrong_classes"]   # the note's order


def test_note_equations_in_order():
    note = [c for c in claims(2) if c.source == "note"]
    assert [c.id for c in note] == NOTE_IDS
    assert [c.order for c in claims(2)] == list(range(1, len(claims(2)) + 1))


