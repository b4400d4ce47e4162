"""Property-based tests (hypothesis) of the smoothed cross-entropy against its definition in mpmath, at 50 digits.

Random shapes (0 to 3 batch dimensions, empty ones included), class axes (any, and None up to two dimensions),
K from 2 to 9, logit scales from 0.1 to 300, float16, float32 and float64, class indices with ignored labels (-100,
a class, or none) or class probabilities, class weights (zeros included), PyTorch's label_smoothing or the note's
eps at and between their edges, and every reduction. The reference is PyTorch's definition evaluated exactly on
the same (rounded) inputs: per example ``sum_j w_j p_j (LSE(z) - z_j)`` with ``p = on t + off (1 - t)``, and the
mean divided as PyTorch divides it. The tolerance is the library's documented accuracy, ``loss_rtol(K, dtype,
weighted=...)``, per example (with the dtype's smallest normal number as an absolute floor: a loss below it
is subnormal); a sum or a mean adds NumPy's pairwise summation (``summation_bound``) and the division. The same
properties hold for the Array API path, run here with NumPy 2 as the namespace (`make crosscheck` runs them
against PyTorch, on torch tensors).

Hypothesis is derandomised (the examples are the same on every run: a failure is reproducible, and the suite is
not flaky); the number of examples is bounded by mpmath's cost.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derivations.engine.reference import mp_label_losses
from derivations.library import numeric as num
from derivations.library._array_api import xp_cross_entropy
from derivations.library.smoothing import smoothed_cross_entropy, target_levels

U64, U32 = 2.0 ** -53, 2.0 ** -24
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def cases(draw):
    """One call: logits, target, keyword arguments, and what the reference needs."""
    K = draw(st.integers(2, 9))
    batch = tuple(draw(st.lists(st.integers(1, 7), min_size=0, max_size=3)))
    if batch and draw(st.integers(0, 9)) == 0:                           # now and then an empty batch
        batch = (0,) + batch[1:]
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0, 300.0] if dtype != np.float16 else [0.1, 1.0, 10.0]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    zl = (scale * rng.standard_normal(batch + (K,))).astype(dtype)       # classes last, then moved
    ndim = len(batch) + 1
    axis = draw(st.sampled_from(list(range(-ndim, ndim)) + ([None] if ndim <= 2 else [])))
    a = ndim - 1 if axis is None else axis % ndim
    soft = draw(st.booleans())
    if soft:
        tl = rng.dirichlet(np.full(K, draw(st.sampled_from([0.1, 1.0, 10.0]))), size=batch).astype(dtype)
        target, ignore_index, y = np.moveaxis(tl, -1, a), draw(st.sampled_from([-100, None])), None
    else:
        y = rng.integers(0, K, size=batch)
        ignore_index = draw(st.sampled_from([-100, None, int(rng.integers(0, K))]))
        if ignore_index == -100:
            y[rng.random(batch) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = -100
        target, tl = y, None
    weight = draw(st.sampled_from([None, "random", "with zeros"]))
    if weight is not None:
        w = rng.uniform(0.0, 3.0, K)
        if weight == "with zeros":
            w[rng.random(K) < 0.4] = 0.0
        weight = w.astype(dtype).astype(np.float64)                    # the weights the computation uses
    if draw(st.booleans()):
        smoothing = {"label_smoothing": draw(st.sampled_from([0.0, 1e-3, 0.1, 0.5, 1.0]))}
    else:
        smoothing = {"eps": draw(st.sampled_from([0.0, 0.05, 0.5, (K - 1) / K, 0.99, 1.0]))}
    reduction = draw(st.sampled_from(["none", "sum", "mean"]))
    kw = dict(smoothing, weight=weight, reduction=reduction, ignore_index=ignore_index, axis=axis)
    return dict(z=np.moveaxis(zl, -1, a), target=target, kw=kw, zl=zl, tl=tl, y=y, K=K, dtype=dtype)


def reference(c) -> tuple[np.ndarray, float, float]:
    """``(per-example losses, the sum, the mean)`` of the definition at 50 digits (ignored examples 0)."""
    K, kw = c["K"], c["kw"]
    on, off = (mpmath.mpf(v) for v in target_levels(K, **{k: kw[k] for k in ("label_smoothing", "eps") if k in kw}))
    w = [mpmath.mpf(1)] * K if kw["weight"] is None else [mpmath.mpf(float(v)) for v in kw["weight"]]
    rows = c["zl"].astype(np.float64).reshape(-1, K)
    if c["tl"] is not None:
        t = [[mpmath.mpf(float(v)) for v in row] for row in c["tl"].astype(np.float64).reshape(-1, K)]
        ignored = np.zeros(len(rows), bool)
    else:
        y = c["y"].reshape(-1)
        ignored = (y == kw["ignore_index"]) if kw["ignore_index"] is not None else np.zeros(len(rows), bool)
        t = [[mpmath.mpf(int(j == label)) for j in range(K)] for label in y]
    with mpmath.workdps(50):
        losses, denominator = [], mpmath.mpf(0)
        for i, row in enumerate(rows):
            if ignored[i]:
                losses.append(mpmath.mpf(0))
                continue
            p = [on * tj + off * (1 - tj) for tj in t[i]]
            losses.append(mpmath.fsum(wj * pj * lj for wj, pj, lj in zip(w, p, mp_label_losses(row))))
            denominator += 1 if (c["tl"] is not None or kw["weight"] is None) else w[int(c["y"].reshape(-1)[i])]
        total = mpmath.fsum(losses)
        # nothing counted, or labels of weight 0 only: NaN, as PyTorch's (its hard part, a weighted mean, is 0/0;
        # the smoothing part's x/0 = inf does not rescue it)
        mean = total / denominator if denominator else mpmath.nan
    return np.array([float(v) for v in losses]).reshape(c["zl"].shape[:-1]), float(total), float(mean)


def summation_bound(n: int, dtype) -> float:
    """Relative error of NumPy's pairwise sum of ``n`` non-negative terms in float64 (leaves of up to 128 terms in 8
    interleaved partial sums, each at most ``(16 + 3) u``, then ``log2(n/128)`` levels); float32 and narrower are
    summed in float64 and rounded once to the result's dtype."""
    levels = max(0.0, math.log2(max(n, 1) / 128))
    name = np.dtype(dtype).name
    final = {"float32": U32, "float16": 2.0 ** -11}.get(name, 0.0)
    return (20 + levels) * U64 + final


def check(got, c, *, summed_in: str = "float64") -> None:
    """``got`` against :func:`reference` for the case ``c``: dtype, shape and value within the tolerance."""
    K, kw, dtype = c["K"], c["kw"], c["dtype"]
    weighted = kw["weight"] is not None or c["tl"] is not None
    rtol = num.loss_rtol(K, dtype, weighted=weighted)
    tiny = float(np.finfo(dtype).tiny)
    rows, total, mean = reference(c)
    assert got.dtype == dtype
    if kw["reduction"] == "none":
        assert got.shape == rows.shape
        err = np.abs(got.astype(np.float64) - rows)
        assert np.all(err <= rtol * rows + tiny), (float(np.max(err / np.maximum(rows, tiny))), rtol)
        return
    n = rows.size
    # the Array API path sums in the computing dtype (float32 for float16), pairwise in NumPy
    extra = summation_bound(n, dtype) if summed_in == "float64" else \
        (20 + max(0.0, math.log2(max(n, 1) / 128))) * (U32 if dtype != np.float64 else U64) + \
        (2.0 ** -11 if dtype == np.float16 else 0.0)
    want = total if kw["reduction"] == "sum" else mean
    if math.isnan(want) or math.isinf(want):
        assert (math.isnan(want) and np.isnan(got)) or float(got) == want, (got, want)
        return
    bound = (rtol + extra + 2 * U64) * abs(want) + tiny
    assert abs(float(got) - want) <= bound, (float(got), want, bound)


@SETTINGS
@given(cases())
def test_the_numpy_path_is_the_definition(c):
    check(smoothed_cross_entropy(c["z"], c["target"], **c["kw"]), c)


@SETTINGS
@given(cases())
def test_the_array_api_path_is_the_definition(c):
    kw = dict(c["kw"])
    levels = {k: kw.pop(k) for k in ("label_smoothing", "eps") if k in kw}
    with np.errstate(invalid="ignore", divide="ignore"):         # 0/0 and x/0 in a mean, as NumPy says
        got = xp_cross_entropy(np, c["z"], c["target"], levels=lambda K: target_levels(K, **levels), **kw)
    check(np.asarray(got), c, summed_in="computing dtype")
