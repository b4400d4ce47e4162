"""The NumPy functions against mpmath at 50 digits, and every bad-input case."""
import math

import mpmath
import numpy as np
import pytest

from derivations import cross_entropy_per_example, log_softmax, log_sum_exp, softmax
from derivations.engine.reference import mp_cross_entropy, mp_log_sum_exp, mp_softmax

DTYPES = [np.float64, np.float32]
# scales of the logits per dtype: ordinary, large, and the extremes the issue names
SCALES = {np.float64: [1.0, 30.0, 1e4, 1e300], np.float32: [1.0, 30.0, 1e4, 1e30]}


def ulp(x, dtype):
    return np.spacing(np.abs(np.asarray(x, dtype=np.float64)).astype(dtype)).astype(np.float64)


def cases(dtype, n=6, Ks=(2, 3, 10, 257)):
    rng = np.random.default_rng(12345)
    for K in Ks:
        for scale in SCALES[dtype]:
            yield K, scale, rng.uniform(-scale, scale, size=(n, K)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_sum_exp_within_few_ulps_of_mpmath(dtype):
    for K, scale, z in cases(dtype):
        got = log_sum_exp(z)
        assert got.dtype == dtype and np.all(np.isfinite(got))
        ref = np.array([float(mp_log_sum_exp(row)) for row in z.astype(np.float64)])
        # error in units of the last place of the result's scale, max(|LSE|, max|z|)
        scale_ = np.maximum(np.abs(ref), np.abs(z).max(axis=1))
        err_ulps = np.abs(got.astype(np.float64) - ref) / ulp(scale_, dtype)
        assert err_ulps.max() <= 4, (K, scale, err_ulps.max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_within_few_ulps_of_mpmath(dtype):
    rng = np.random.default_rng(7)
    for K, scale, z in cases(dtype):
        y = rng.integers(0, K, size=len(z))
        y[0] = int(np.argmax(z[0]))  # a confident, correct example: tiny loss, no cancellation allowed
        got = cross_entropy_per_example(z, y)
        assert got.dtype == dtype and np.all(np.isfinite(got)) and np.all(got >= 0)
        ref = np.array([float(mp_cross_entropy(row, int(t))) for row, t in zip(z.astype(np.float64), y)])
        # relative error (loss is a sum of non-negative terms); tiny losses: against the dtype's tiny
        err_ulps = np.abs(got.astype(np.float64) - ref) / ulp(np.maximum(ref, np.finfo(dtype).tiny), dtype)
        assert err_ulps.max() <= 4, (K, scale, err_ulps.max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_log_softmax_against_mpmath(dtype):
    eps = np.finfo(dtype).eps
    for K, scale, z in cases(dtype, n=3, Ks=(2, 5, 64)):
        p, lp = softmax(z), log_softmax(z)
        assert p.dtype == dtype and lp.dtype == dtype
        assert np.allclose(p.sum(axis=-1), 1, rtol=0, atol=8 * eps)
        for row, prow, lrow in zip(z.astype(np.float64), p, lp):
            ref = np.array([float(v) for v in mp_softmax(row)])
            lse = mp_log_sum_exp(row)
            lref = np.array([float(mpmath.mpf(float(v)) - lse) for v in row])
            # log_softmax: absolute error a few ulps of max(|z|, |log q|)
            assert np.all(np.abs(lrow - lref) <= 4 * ulp(np.maximum(np.abs(lref), np.abs(row).max()), dtype))
            # softmax: exp amplifies the rounding of z_i - max by |log q_i| (its condition number)
            big = ref > np.finfo(dtype).tiny
            rel = np.abs(prow[big] - ref[big]) / ref[big]
            assert np.all(rel <= eps * (4 + np.abs(lref[big]))), rel.max()


def test_batch_shapes_and_axis():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2, 3, 4, 5))
    assert log_sum_exp(z).shape == (2, 3, 4)
    assert softmax(z, axis=1).shape == z.shape
    assert np.allclose(softmax(z, axis=1).sum(axis=1), 1)
    assert np.allclose(log_sum_exp(z, axis=1), np.log(np.exp(z).sum(axis=1)))
    y = rng.integers(0, 5, size=(2, 3, 4))
    ce = cross_entropy_per_example(z, y, axis=-1)
    assert ce.shape == (2, 3, 4)
    naive = -np.log(np.take_along_axis(np.exp(z) / np.exp(z).sum(-1, keepdims=True), y[..., None], -1))[..., 0]
    assert np.allclose(ce, naive, rtol=1e-13)


def test_extreme_logits_stay_finite():
    z64 = np.array([[1e300, -1e300, 0.0], [-1e300, -1e300, -1e300]])
    assert np.all(np.isfinite(log_sum_exp(z64)))
    assert log_sum_exp(z64)[0] == 1e300
    assert np.isclose(log_sum_exp(z64)[1], -1e300 + np.log(3), rtol=1e-15)
    ce = cross_entropy_per_example(z64, [0, 2])
    # log1p(2) and log(3) are each correctly rounded only to within an ulp by the platform's libm: one ulp apart
    # on some machines (seen on an AMD EPYC VM), equal on others
    assert ce[0] == 0.0 and abs(ce[1] - np.log(3)) <= np.spacing(np.log(3))
    z32 = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    assert log_sum_exp(z32).dtype == np.float32 and log_sum_exp(z32)[0] == np.float32(1e4)
    assert cross_entropy_per_example(z32, [1])[0] == np.float32(2e4)
    assert np.array_equal(softmax(z32), np.array([[1, 0, 0]], dtype=np.float32))


@pytest.mark.parametrize("logits, labels, message", [
    ([1.0, np.nan], 0, "logits must be finite or -inf; found nan at index (1,)"),
    ([[1.0, 2.0], [np.inf, 0.0]], [0, 1], "logits must be finite or -inf; found inf at index (1, 0)"),
    ([[1.0, 2.0], [-np.inf, -np.inf]], [0, 1], "logits are all -inf in the row at index (1,): its cross-entropy"),
    ([1.0], 0, "at least 2 classes"),
    (np.zeros((4, 1)), np.zeros(4, int), "logits need at least 2 classes along axis 1; got 1 (shape (4, 1))"),
    (3.0, 0, "must have a class axis"),
    (np.array(["a", "b"]), 0, "must be real numbers"),
    ([[1.0, 2.0]], [0.5], "labels must be integers; found 0.5 at index (0,)"),
    ([[1.0, 2.0]], [1.0], "labels must have an integer dtype"),
    ([[1.0, 2.0]], ["x"], "labels must be integers"),
    ([[1.0, 2.0]], [2], "labels must lie in [0, 2); found 2 at index (0,)"),
    ([[1.0, 2.0]], [-1], "labels must lie in [0, 2); found -1 at index (0,)"),
    ([[1.0, 2.0], [0.0, 0.0]], [0], "labels must have shape (2,)"),
    ([[1.0, 2.0]], 0, "labels must have shape (1,)"),
])
def test_cross_entropy_rejects_bad_input(logits, labels, message):
    with pytest.raises(ValueError) as err:
        cross_entropy_per_example(logits, labels)
    assert message in str(err.value)


@pytest.mark.parametrize("fn", [log_sum_exp, log_softmax, softmax])
def test_elementwise_functions_reject_bad_input(fn):
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match=f"logits must be finite or -inf; found {bad} at index"):
            fn([0.0, bad])
    with pytest.raises(ValueError, match="at least 2 classes along axis 0"):
        fn(np.zeros((1, 3)), axis=0)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        fn(np.zeros((2, 3)), axis=2)


@pytest.mark.parametrize("fn", [log_softmax, softmax])
def test_a_row_of_only_minus_inf_has_no_softmax(fn):
    """exp(-inf) / sum exp(-inf) is 0/0: refused, naming the row (PyTorch and SciPy return NaN)."""
    z = np.zeros((2, 3, 4))
    z[1, 2] = -np.inf
    with pytest.raises(ValueError, match=r"logits are all -inf in the row at index \(1, 2\): its (log-)?softmax"):
        fn(z)
    with pytest.raises(ValueError, match=r"in the row at index \(1, 2\)"):       # the row named without the axis
        fn(np.moveaxis(z, -1, 0), axis=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_minus_inf_logits_are_masked_classes(dtype):
    """A -inf logit is a class with probability 0: every result equals the one computed without that class
    (against mpmath on the remaining logits), and the loss of a masked label is +inf."""
    rng = np.random.default_rng(8)
    K = 6
    z = rng.normal(scale=5.0, size=(5, K)).astype(dtype)
    mask = np.zeros_like(z, dtype=bool)
    mask[0, 1] = mask[1, [0, 5]] = mask[2, :-1] = True           # row 2: one class left
    mask[3, 3] = True
    z[mask] = -np.inf
    z[4] = -np.inf                                              # all masked: LSE = log 0 = -inf
    lse, p, lp = log_sum_exp(z), softmax(z[:4]), log_softmax(z[:4])
    assert lse.dtype == p.dtype == lp.dtype == dtype and lse[4] == -np.inf
    eps = np.finfo(dtype).eps
    for i in range(4):
        left = z[i][~mask[i]].astype(np.float64)
        ref = mp_log_sum_exp(left)
        assert abs(lse[i] - float(ref)) <= 4 * ulp(max(abs(float(ref)), np.abs(left).max()), dtype)
        assert np.all(p[i][mask[i]] == 0) and np.all(lp[i][mask[i]] == -np.inf)
        q = np.array([float(v) for v in mp_softmax(left)])
        lq = np.array([float(mpmath.mpf(float(v)) - ref) for v in left])
        big = q > np.finfo(dtype).tiny
        assert np.all(np.abs(p[i][~mask[i]][big] - q[big]) <= eps * (4 + np.abs(lq[big])) * q[big])
        for label in range(K):
            ce = cross_entropy_per_example(z[i], label)
            if mask[i, label]:
                assert ce == np.inf
            else:
                want = float(mp_cross_entropy(left, int(np.flatnonzero(~mask[i]).tolist().index(label))))
                assert abs(ce - want) <= 4 * ulp(max(want, np.finfo(dtype).tiny), dtype)


def test_integer_logits_are_promoted():
    assert log_sum_exp([0, 0]).dtype == np.float64
    assert np.isclose(log_sum_exp([0, 0]), np.log(2))


def test_uncompensated_softmax_for_training_loops():
    from derivations.library.numeric import softmax
    z = np.random.default_rng(0).normal(scale=5.0, size=(50, 30))
    np.testing.assert_allclose(softmax(z, compensated=False), softmax(z), rtol=1e-12)


@pytest.mark.parametrize("column_up_to", (None, 128))
def test_row_reductions_for_training_loops_are_numpys_bit_for_bit(monkeypatch, column_up_to):
    """rowwise_sum follows NumPy's own summation order (checked at every K up to 128 with the column path
    forced on), rowwise_max is exact, and row_softmax is softmax(compensated=False), bit for bit."""
    from derivations.library import numeric
    if column_up_to:
        monkeypatch.setattr(numeric, "_COLUMN_SUM_UP_TO", column_up_to)
        monkeypatch.setattr(numeric, "_COLUMN_MAX_UP_TO", column_up_to)
        monkeypatch.setattr(numeric, "_ROWS_PER_COLUMN", 0)
    rng = np.random.default_rng(1)
    for K in list(range(1, 130)) + [300, 1000]:
        z = rng.normal(scale=8.0, size=(500, K))
        z[:2] = -0.0                                       # an all -0.0 row sums to +0.0
        w = np.exp(z)
        for x in (z, w):
            assert np.array_equal(numeric.rowwise_sum(x), x.sum(axis=1)), K
            assert not np.signbit(numeric.rowwise_sum(x)[:2]).any()
        assert np.array_equal(numeric.rowwise_max(z), z.max(axis=1)), K
        if K >= 2:
            out = np.empty_like(z)
            assert numeric.row_softmax(z, out=out) is out
            assert np.array_equal(out, softmax(z, compensated=False)), K
    w = np.exp(rng.normal(scale=3.0, size=(3, 400, 10)))              # a stack of blocks: along the last axis
    assert np.array_equal(numeric.rowwise_sum(w), w.sum(axis=-1))
    assert np.array_equal(numeric.row_softmax(w), softmax(w, compensated=False))


def test_loss_rtol_grows_like_log2_k():
    from derivations.library.numeric import loss_rtol
    assert loss_rtol(2) == 9 * 2.0 ** -53 and loss_rtol(1024) == 18 * 2.0 ** -53
    assert loss_rtol(1024, np.float32) == 18 * 2.0 ** -24
    with pytest.raises(ValueError, match="num_classes"):
        loss_rtol(1)


def pairwise_model(x: np.ndarray):
    """NumPy's pairwise sum of the contiguous 1-D ``x`` written out in Python in its own order and dtype (its
    ``pairwise_sum``), returning ``(the sum, the most roundings a term meets)``."""
    t = x.dtype.type
    n = len(x)
    if n < 8:
        s = t(0)
        for v in x:
            s = t(s + v)
        return s, max(n - 1, 0)
    if n <= 128:
        r = list(x[:8])
        whole = n - n % 8
        for i in range(8, whole, 8):
            r = [t(r[j] + x[i + j]) for j in range(8)]
        s = t(t(t(r[0] + r[1]) + t(r[2] + r[3])) + t(t(r[4] + r[5]) + t(r[6] + r[7])))
        for v in x[whole:]:
            s = t(s + v)
        return s, n // 8 - 1 + 3 + n % 8
    half = n // 2
    half -= half % 8
    (a, da), (b, db) = pairwise_model(x[:half]), pairwise_model(x[half:])
    return t(a + b), 1 + max(da, db)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pairwise_depth_is_numpys_order(dtype):
    """The model of NumPy's pairwise sum gives NumPy's sums bit for bit, so its count of roundings,
    ``pairwise_depth``, is the one NumPy's sum has."""
    from derivations.library.numeric import pairwise_depth
    rng = np.random.default_rng(3)
    for n in list(range(0, 300)) + [1000, 1023, 4099, 16384]:
        x = (rng.standard_normal(n) * 10 ** rng.uniform(-3, 3, n)).astype(dtype)
        s, depth = pairwise_model(x)
        assert s == x.sum() or (n == 0 and x.sum() == 0), n
        assert depth == pairwise_depth(n), n


@pytest.mark.parametrize("dtype", DTYPES)
def test_chunked_row_sums_within_their_bound(dtype):
    """``chunked_row_sums`` (float64 sums) errs by at most ``chunked_sum_error(K, dtype) sum_j |w_j|``: 8 entries
    in the row's dtype, then float64. Signs mixed, cancelling sums, K not a multiple of 8, 1-D and 2-D; short or
    strided rows are NumPy's own sums in float64. The exact sums: math.fsum of the entries (exact in float64)."""
    from derivations.library.numeric import chunked_row_sums, chunked_sum_error, pairwise_depth
    u = float(np.finfo(dtype).eps) / 2
    rng = np.random.default_rng(4)
    for K in (2048, 2049, 4103, 65536, 131072):
        w = np.empty((4, K), dtype=dtype)
        w[0] = rng.standard_normal(K)                                   # mixed signs
        w[1] = 80.1 + 1e-3 * rng.standard_normal(K)                     # all close: the logits near their max
        w[2] = np.where(rng.random(K) < 0.5, 1e4, -1e4) * (1 + 1e-4 * rng.random(K))   # cancelling
        w[3] = rng.standard_normal(K) * 10 ** rng.uniform(-6, 6, K)     # magnitudes far apart
        got = chunked_row_sums(w)
        assert got.dtype == np.float64 and got.shape == (4,)
        bound = chunked_sum_error(K, dtype)
        assert bound == 7 * u + (pairwise_depth(K // 8) + 2) * 2.0 ** -53
        for i in range(4):
            exact = math.fsum(w[i].astype(np.float64))                  # correctly rounded in float64
            mag = math.fsum(np.abs(w[i].astype(np.float64)))
            assert abs(float(got[i]) - exact) <= bound * mag + abs(exact) * 2.0 ** -53, (K, i)
            assert float(chunked_row_sums(w[i])) == float(got[i])          # a 1-D row: the same sum
    short = rng.standard_normal((3, 100)).astype(dtype)
    assert np.array_equal(chunked_row_sums(short), short.sum(axis=1, dtype=np.float64))
    assert chunked_sum_error(100, dtype) == pairwise_depth(100) * 2.0 ** -53
    strided = rng.standard_normal((3, 8192)).astype(dtype)[:, ::2]
    assert np.array_equal(chunked_row_sums(strided), strided.sum(axis=1, dtype=np.float64))
    integers = (np.arange(2 * 4099) % 1000).astype(dtype).reshape(2, 4099)  # exact either way
    assert np.array_equal(chunked_row_sums(integers), integers.sum(axis=1, dtype=np.float64))
