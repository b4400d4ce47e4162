"""Tests of the label-smoothing API (derivations.library.smoothing) and of the chapter 2 claims.

References are independent of the code under test: the materialised
computation ``-sum_j p_j log softmax(z)_j`` written here from NumPy's
``log_softmax``, and an mpmath evaluation of the definition
``sum_j p_j (LSE(z) - z_j)`` at 50 digits. Expected numbers are worked out by
hand in the comments.
"""
from __future__ import annotations

import math
import tracemalloc

import mpmath
import numpy as np
import pytest

import derivations
import derivations.chapters
from derivations.engine.reference import mp_cross_entropy, mp_log_sum_exp, mp_smoothed_cross_entropy
from derivations.engine.registry import claims
from derivations.library import numeric as num
from derivations.library.smoothing import (
    alpha_to_eps,
    eps_to_alpha,
    smoothed_cross_entropy,
    smoothed_cross_entropy_materialised,
    smoothed_minimum,
    smoothed_optimum_gap,
    smoothed_targets,
)


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


def levels(K, eps, convention):
    if convention == "note":
        return 1 - eps, eps / (K - 1)
    return 1 - eps + eps / K, eps / K


# -- agreement -----------------------------------------------------------------------------
@pytest.mark.parametrize("convention", ["note", "uniform"])
@pytest.mark.parametrize("K", [2, 3, 10, 257])
def test_matches_materialised_float64(K, convention):
    rng = np.random.default_rng(K)
    z = rng.normal(scale=5.0, size=(300, K))
    y = rng.integers(0, K, size=300)
    for eps in (0.0, 0.1, 0.5, 1.0):
        got = smoothed_cross_entropy(z, y, eps, convention)
        want = materialised(z, y, *levels(K, eps, convention))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(smoothed_cross_entropy_materialised(z, y, eps, convention), want, rtol=1e-13)


def test_matches_materialised_float32_and_keeps_dtype():
    rng = np.random.default_rng(1)
    z = rng.normal(scale=4.0, size=(500, 50)).astype(np.float32)
    y = rng.integers(0, 50, size=500)
    got = smoothed_cross_entropy(z, y, 0.1)
    assert got.dtype == np.float32
    want = materialised(z.astype(np.float64), y, 0.9, 0.1 / 49)
    np.testing.assert_allclose(got, want, rtol=2e-6)


def test_leading_batch_shape_and_single_example():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(2, 3, 5))
    y = rng.integers(0, 5, size=(2, 3))
    got = smoothed_cross_entropy(z, y, 0.2)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got.reshape(-1), materialised(z.reshape(-1, 5), y.reshape(-1), 0.8, 0.05), rtol=1e-13)
    # one example, K = 3, z = (2, 0, 0), eps = 0.1: log(e^2 + 2) - 0.9 * 2
    assert float(smoothed_cross_entropy([2.0, 0.0, 0.0], 0, 0.1)) == pytest.approx(math.log(math.e ** 2 + 2) - 1.8,
                                                                                   rel=1e-14)


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
    """Relative error at most loss_rtol(K) = (8 + log2 K) u, for eps at and beyond every edge."""
    rng = np.random.default_rng([K, int(math.log10(scale))])
    z, y = adversarial_rows(rng, K, scale)
    for eps in (0.0, 1e-12, 0.1, 0.5, (K - 1) / K, 0.999, 1.0):
        got = smoothed_cross_entropy(z, y, eps)
        ref = np.array([float(mp_smoothed_cross_entropy(r, int(t), eps)) for r, t in zip(z, y)])
        assert np.all(np.isfinite(got))
        np.testing.assert_array_less(np.abs(got - ref), num.loss_rtol(K) * np.abs(ref) + np.finfo(float).tiny)


def test_accuracy_at_large_k_with_equal_logits():
    """K = 100,000 equal terms: a sequential (BLAS) row sum erred by hundreds of ulps here."""
    K, eps = 100_000, 0.05
    z = np.zeros((1, K))
    z[0, 0] = math.log(K - 1) + 5.0
    ref = float(mp_smoothed_cross_entropy(z[0], 0, eps))
    assert abs(float(smoothed_cross_entropy(z, [0], eps)[0]) - ref) <= num.loss_rtol(K) * ref


def test_eps_zero_is_the_hard_loss_even_when_tiny():
    # z = (50, 0, 0): loss = log(1 + 2 e^-50) ~ 3.9e-22, far below float64 resolution of LSE itself
    z = np.array([[50.0, 0.0, 0.0], [0.0, 50.0, 0.0]])
    y = np.array([0, 0])
    got = smoothed_cross_entropy(z, y, 0.0)
    ref = [float(mp_cross_entropy(r, int(t))) for r, t in zip(z, y)]
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    np.testing.assert_allclose(got, derivations.cross_entropy(z, y), rtol=1e-14)


@pytest.mark.parametrize("block_rows", [1, 3, 7, 64, None])
def test_blockwise_results_do_not_depend_on_the_block_size(block_rows):
    rng = np.random.default_rng(3)
    z = rng.normal(scale=3.0, size=(101, 6))
    y = rng.integers(0, 6, size=101)
    got = smoothed_cross_entropy(z, y, 0.3, block_rows=block_rows)
    np.testing.assert_allclose(got, materialised(z, y, 0.7, 0.06), rtol=1e-13)


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
    fast = peak(smoothed_cross_entropy, z, y, 0.1) - out_bytes
    naive = peak(smoothed_cross_entropy_materialised, z, y, 0.1)
    assert naive > z.nbytes                                 # tracemalloc does see NumPy's allocations
    assert fast < 0.03 * z.nbytes, f"{fast} bytes beyond the output for {z.nbytes} bytes of logits"


# -- targets and conventions --------------------------------------------------------------
def test_targets_by_hand():
    # K = 4, eps = 0.3: 0.7 on the label, 0.1 elsewhere
    np.testing.assert_allclose(smoothed_targets([1, 3], 4, 0.3), [[0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7]])
    # uniform, K = 10, alpha = 0.1: 0.9 + 0.01 = 0.91 on the label, 0.01 elsewhere
    p = smoothed_targets([0], 10, 0.1, convention="uniform")
    assert p[0, 0] == pytest.approx(0.91) and np.allclose(p[0, 1:], 0.01)


@pytest.mark.parametrize("K", [2, 3, 10, 1000])
def test_conventions_agree_under_the_mapping(K):
    rng = np.random.default_rng(K)
    z = rng.normal(scale=3.0, size=(50, K))
    y = rng.integers(0, K, size=50)
    for alpha in (0.0, 0.1, 0.5, 1.0):
        eps = alpha_to_eps(alpha, K)
        assert eps == pytest.approx(alpha * (K - 1) / K)
        np.testing.assert_allclose(smoothed_targets(y, K, eps), smoothed_targets(y, K, alpha, "uniform"), atol=1e-15)
        np.testing.assert_allclose(smoothed_cross_entropy(z, y, eps), smoothed_cross_entropy(z, y, alpha, "uniform"),
                                   rtol=1e-13)


@pytest.mark.parametrize("K", [2, 3, 10, 1000])
def test_conversions_round_trip_and_range(K):
    for a in np.linspace(0, 1, 11):
        assert eps_to_alpha(alpha_to_eps(a, K), K) == pytest.approx(a, abs=1e-15)
    assert alpha_to_eps(1.0, K) == pytest.approx((K - 1) / K)
    assert eps_to_alpha((K - 1) / K, K) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\(K-1\)/K"):
        eps_to_alpha((K - 1) / K + 1e-9, K)


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
        loss = smoothed_cross_entropy(z, np.zeros(gaps.size, dtype=int), eps)
        assert gaps[np.argmin(loss)] == pytest.approx(smoothed_optimum_gap(K, eps), abs=2e-3)
        lowest = smoothed_minimum(K, eps)
        assert lowest - 1e-12 <= loss.min() <= lowest + 1e-6        # grid step 1e-3: within curvature * 1e-6


# -- bad input ------------------------------------------------------------------------------------
Z = np.zeros((4, 3))
Y = np.array([0, 1, 2, 0])


@pytest.mark.parametrize("call, message", [
    (lambda: smoothed_cross_entropy(Z, Y, -0.1), r"eps must lie in \[0, 1\]; got -0.1"),
    (lambda: smoothed_cross_entropy(Z, Y, 1.5), r"eps must lie in \[0, 1\]; got 1.5"),
    (lambda: smoothed_cross_entropy(Z, Y, float("nan")), r"eps must lie in \[0, 1\]; got nan"),
    (lambda: smoothed_cross_entropy(Z, Y, "0.1"), r"eps must be a real number in \[0, 1\]; got '0.1'"),
    (lambda: smoothed_cross_entropy(Z, Y, True), r"eps must be a real number"),
    (lambda: smoothed_cross_entropy(Z, Y, 1.2, "uniform"), r"alpha must lie in \[0, 1\]; got 1.2"),
    (lambda: smoothed_cross_entropy(Z, Y, 0.1, "framework"), r"convention must be one of \('note', 'uniform'\)"),
    (lambda: smoothed_targets(Y, 1, 0.1), r"num_classes must be an integer >= 2; got 1"),
    (lambda: smoothed_targets(Y, 3.0, 0.1), r"num_classes must be an integer >= 2; got 3.0"),
    (lambda: eps_to_alpha(0.95, 10), r"eps must lie in \[0, 0.9\] = \[0, \(K-1\)/K\] for K=10 .*; got 0.95"),
    (lambda: alpha_to_eps(-1, 10), r"alpha must lie in \[0, 1\]; got -1"),
    (lambda: smoothed_optimum_gap(10, 2.0), r"eps must lie in \[0, 1\]; got 2.0"),
    (lambda: smoothed_cross_entropy(Z, np.array([0, 1, 3, 0]), 0.1), r"labels must lie in \[0, 3\); found 3 at index \(2,\)"),
    (lambda: smoothed_cross_entropy(Z, np.array([0, -1, 2, 0]), 0.1), r"labels must lie in \[0, 3\); found -1"),
    (lambda: smoothed_cross_entropy(Z, np.array([0.0, 1.0, 2.0, 0.0]), 0.1), r"labels must have an integer dtype"),
    (lambda: smoothed_cross_entropy(Z, np.array([0, 1, 2]), 0.1), r"labels must have shape \(4,\)"),
    (lambda: smoothed_cross_entropy(np.zeros((4, 1)), np.zeros(4, dtype=int), 0.1), r"at least 2 classes"),
    (lambda: smoothed_cross_entropy(3.0, 0, 0.1), r"must have a class axis"),
    (lambda: smoothed_cross_entropy(Z.astype(complex), Y, 0.1), r"logits must be real numbers"),
    (lambda: smoothed_cross_entropy(Z, Y, 0.1, block_rows=0), r"block_rows must be a positive integer; got 0"),
])
def test_bad_input_names_value_and_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_logits_found_blockwise(bad, dtype):
    z = np.zeros((50, 4), dtype=dtype)
    z[37, 2] = bad
    y = np.zeros(50, dtype=int)
    with pytest.raises(ValueError, match=rf"logits must be finite; found {bad} at index \(37, 2\)"):
        smoothed_cross_entropy(z, y, 0.1, block_rows=4)
    with pytest.raises(ValueError, match=rf"found {bad} at index \(1, 13, 2\)"):   # row 37 = 24 + 13, in the caller's shape
        smoothed_cross_entropy(z[:48].reshape(2, 24, 4), y[:48].reshape(2, 24), 0.1, block_rows=5)


def test_public_names_at_top_level():
    for name in ("smoothed_targets", "smoothed_cross_entropy", "eps_to_alpha", "alpha_to_eps",
                 "smoothed_optimum_gap", "smoothed_minimum"):
        assert callable(getattr(derivations, name)), name


# -- the chapter 2 claims -------------------------------------------------------------------------
NOTE_IDS = ["ch2.q_modified", "ch2.soft_target", "ch2.loss_sum_examples", "ch2.loss_definition",
            "ch2.loss_expanded", "ch2.loss_approx_M", "ch2.loss_squared", "ch2.wrong_classes"]   # the note's order


def test_note_equations_in_order():
    note = [c for c in claims(2) if c.source == "note"]
    assert [c.id for c in note] == NOTE_IDS
    assert [c.order for c in claims(2)] == list(range(1, len(claims(2)) + 1))


