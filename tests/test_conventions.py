"""Issue 34: the library across the frameworks' conventions, case by case, in NumPy (the suite has no PyTorch:
`make crosscheck` compares the same cases with it, audit/crosscheck.py).

Each case of the issue either gives PyTorch's number, here its definition evaluated in mpmath at 50 digits
(``torch.nn.functional.cross_entropy``'s formulas: ``(1 - alpha) w_y nll + (alpha/K) sum_j w_j (-log q_j)`` for
class indices, ``-sum_j w_j t'_j log q_j`` with ``t' = (1 - alpha) t + alpha/K`` for class probabilities, and
their means), or an error that names the convention expected. Tolerances are the library's documented accuracy
(``numeric.loss_rtol``), plus, for a sum or a mean, NumPy's summation and the division (derived in
tests/test_smoothing.py's ``summation_bound``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

import derivations
from derivations.engine.reference import mp_label_losses
from derivations.library import numeric as num
from derivations.library._array_api import xp_cross_entropy
from derivations.library.smoothing import cross_entropy, smoothed_cross_entropy

ROOT = Path(__file__).resolve().parents[1]
U64 = 2.0 ** -53
BOTH_CONVENTIONS = r"axis=1 for PyTorch's layout \(N, C, d1, \.\.\.\), axis=-1 for optax's and Keras's \(\.\.\., C\)"


def mp_rows(z, coefficients) -> list[float]:
    """``sum_j c_j (LSE(z) - z_j)`` per row (classes last), at 50 digits; ``coefficients`` per row, as mpf."""
    return [float(mpmath.fsum(c * v for c, v in zip(cs, mp_label_losses(row)))) for row, cs in zip(z, coefficients)]


def torch_coefficients(y, K, alpha, weight=None):
    """PyTorch's ``c_j = w_j ((1 - alpha) [j = y] + alpha / K)`` per row of class indices, exact (mpf)."""
    a = mpmath.mpf(alpha)
    w = [mpmath.mpf(1)] * K if weight is None else [mpmath.mpf(float(v)) for v in weight]
    return [[w[j] * ((1 - a) * (j == t) + a / K) for j in range(K)] for t in y]


# -- 1. never a silently different answer: the class axis ------------------------------------------------------
def test_three_dimensions_without_an_axis_are_refused_naming_both_conventions():
    """The issue's (6, 4, 4), where C = d1 made the library answer 2.6096 for PyTorch's 2.2659, in silence."""
    z = np.random.default_rng(0).normal(size=(6, 4, 4))
    y = np.random.default_rng(1).integers(0, 4, size=(6, 4))
    for fn in (cross_entropy, smoothed_cross_entropy, num.cross_entropy_per_example):
        kw = {} if fn is not smoothed_cross_entropy else {"label_smoothing": 0.0}
        with pytest.raises(ValueError, match=r"logits of shape \(6, 4, 4\) have 3 dimensions: say which holds the "
                                             r"classes, " + BOTH_CONVENTIONS):
            fn(z, y, **kw)
    with pytest.raises(ValueError, match=BOTH_CONVENTIONS):                     # the Array API path too
        xp_cross_entropy(np, z, y, levels=lambda K: (1.0, 0.0), weight=None, reduction="mean", ignore_index=-100,
                         axis=None)


def test_axis_1_is_pytorchs_layout_and_minus_1_optaxs():
    """(N, C, d) with C = d: axis=1 reads the classes on axis 1 (PyTorch), axis=-1 on the last (optax, Keras);
    the two give different losses, each the definition's for its layout."""
    rng = np.random.default_rng(2)
    z = rng.normal(scale=2.0, size=(6, 4, 4))
    y = rng.integers(0, 4, size=(6, 4))
    rtol = num.loss_rtol(4)
    torch_rows = np.moveaxis(z, 1, -1).reshape(-1, 4)                 # PyTorch's rows: z[n, :, d]
    want = mp_rows(torch_rows, torch_coefficients(y.reshape(-1), 4, 0.0))
    got = cross_entropy(z, y, axis=1, reduction="none")
    assert got.shape == (6, 4)
    assert np.all(np.abs(got.reshape(-1) - want) <= rtol * np.abs(want))
    optax_rows = z.reshape(-1, 4)                                      # optax's rows: z[n, d, :]
    want_last = mp_rows(optax_rows, torch_coefficients(y.reshape(-1), 4, 0.0))
    got_last = cross_entropy(z, y, axis=-1, reduction="none")
    assert np.all(np.abs(got_last.reshape(-1) - want_last) <= rtol * np.abs(want_last))
    assert abs(float(np.mean(want)) - float(np.mean(want_last))) > 0.01      # the silent difference the issue found
    assert cross_entropy(z, y, axis=1) == pytest.approx(np.mean(want), rel=rtol + 30 * U64)


def test_axis_moves_with_the_labels_and_names_indices_in_the_callers_layout():
    z = np.zeros((2, 3, 5))
    z[1, 2, 4] = np.nan
    y = np.zeros((2, 5), dtype=int)
    with pytest.raises(ValueError, match=r"logits must be finite or -inf; found nan at index \(1, 2, 4\)"):
        smoothed_cross_entropy(z, y, eps=0.1, axis=1, block_rows=3)
    with pytest.raises(ValueError, match=r"labels must have shape \(2, 5\) \(class indices: the logits' shape "
                                         r"\(2, 3, 5\) without the class axis 1\) or \(2, 3, 5\) \(class probabilities"):
        smoothed_cross_entropy(z, np.zeros((2, 3), dtype=int), eps=0.1, axis=1)
    with pytest.raises(ValueError, match=r"axis 3 is out of range for logits of shape \(2, 3, 5\)"):
        cross_entropy(z, y, axis=3)
    with pytest.raises(ValueError, match=r"axis must be an integer or None; got 1.0 \(" + BOTH_CONVENTIONS):
        cross_entropy(z, y, axis=1.0)


@pytest.mark.parametrize("block_rows", [1, 4, 7, None])
def test_any_axis_gives_the_loss_of_the_moved_array_whatever_the_blocks(block_rows):
    """Classes on axis 0, 1, 2 or 3 of a 4-D array: the losses of the classes moved last (the blocks are copied from
    the strided view one at a time), each within loss_rtol of the exact one, so within twice it of each other (BLAS
    may sum a copied block's rows in another order than the same rows in place)."""
    rng = np.random.default_rng(3)
    base = rng.normal(scale=3.0, size=(3, 4, 5, 6))                     # classes last: K = 6
    y = rng.integers(0, 6, size=(3, 4, 5))
    y[0, 1] = -100
    want = smoothed_cross_entropy(base, y, label_smoothing=0.2, reduction="none", axis=-1)
    for a in range(4):
        z = np.moveaxis(base, -1, a)
        got = smoothed_cross_entropy(z, y, label_smoothing=0.2, reduction="none", axis=a, block_rows=block_rows)
        assert np.all(np.abs(got - want) <= 2 * num.loss_rtol(6) * want), a


# -- 2. PyTorch's conventions in full --------------------------------------------------------------------------
Z = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0], [0.0, 0.0, 3.0], [1.0, -2.0, 0.5]])
Y = np.array([0, 1, -100, 2])
W = np.array([0.2, 1.0, 3.0])


def test_labels_of_weight_zero_only_give_nan_as_in_pytorch():
    """PyTorch's weighted mean divides by sum_i w_{y_i}: 0 here. Its hard part is then 0/0 = NaN, and NaN + x/0 is
    NaN (found by `make crosscheck`'s property-based run: the library returned +inf)."""
    w = np.array([0.0, 0.0, 1.0])
    y = np.array([0, 1, 0, 1])
    for alpha in (0.0, 0.1):
        assert np.isnan(cross_entropy(Z, y, weight=w, label_smoothing=alpha))
        assert cross_entropy(Z, y, weight=w, label_smoothing=alpha, reduction="sum") == (0.0 if alpha == 0 else
                                                                                          pytest.approx(float(
            cross_entropy(Z, y, weight=w, label_smoothing=alpha, reduction="none").sum()), rel=1e-15))


def test_weight_and_the_notes_eps_are_the_same_family():
    """eps = alpha (K-1)/K is the same target with weights too: the losses agree to the targets' rounding."""
    for alpha in (0.0, 0.3, 1.0):
        a = cross_entropy(Z, Y, weight=W, label_smoothing=alpha, reduction="none")
        e = smoothed_cross_entropy(Z, Y, weight=W, eps=alpha * 2 / 3, reduction="none")
        np.testing.assert_allclose(a, e, rtol=2 * num.loss_rtol(3, weighted=True) + 8 * U64 * 4)


def test_zero_weight_makes_a_masked_class_harmless_and_a_weighted_one_infinite():
    z = np.array([[0.0, -np.inf, 1.0], [0.0, -np.inf, 1.0]])
    y = np.array([0, 2])
    w0 = np.array([1.0, 0.0, 1.0])
    got = smoothed_cross_entropy(z, y, label_smoothing=0.1, weight=w0, reduction="none")
    want = mp_rows([[0.0, 0.0, 1.0]] * 2, torch_coefficients(y, 3, 0.1, w0))   # class 1 weighs nothing
    # the -inf entry only changes LSE by e^-inf = 0: the finite reference replaces it by any value times weight 0
    want = [float(mpmath.fsum(c * v for c, v in zip(cs, [mp_label_losses([0.0, 1.0])[0], 0, mp_label_losses(
        [0.0, 1.0])[1]]))) for cs in torch_coefficients(y, 3, 0.1, w0)]
    assert np.all(np.abs(got - want) <= num.loss_rtol(3, weighted=True) * np.abs(want))
    assert np.all(smoothed_cross_entropy(z, y, label_smoothing=0.1, reduction="none") == np.inf)


@pytest.mark.parametrize("target, ignore_index, message", [
    (np.ones((4, 3), dtype=int), -100, r"class-probability targets \(shaped like the logits, \(4, 3\)\) must be "
                                       r"floating point, as in PyTorch; got dtype int64"),
    (np.full((4, 3), 1 / 3), 0, r"ignore_index=0 selects class indices to ignore; with class-probability targets "
                                r"\(shaped like the logits\) PyTorch refuses an ignore_index >= 0"),
    (np.full((4, 3), 1.5), -100, r"class-probability targets must lie in \[0, 1\]; found 1.5 at index \(0, 0\)"),
    (np.array([0.8, 1.0, 2.0, 0.0]), -100, r"labels must be integers \(class indices, shape \(4,\)\); found 0.8 at "
                                           r"index \(0,\); class probabilities \(PyTorch's soft targets\) have the "
                                           r"logits' shape \(4, 3\)"),
    (np.zeros((4, 2)), -100, r"labels must have shape \(4,\) \(class indices.*or \(4, 3\) \(class probabilities"),
])
def test_targets_that_fit_neither_convention_say_which_was_expected(target, ignore_index, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(Z, target, ignore_index=ignore_index)


@pytest.mark.parametrize("weight, message", [
    ([1.0, 2.0], r"weight must hold one number per class, shape \(3,\), as PyTorch's weight=; got shape \(2,\)"),
    ([1.0, np.nan, 1.0], r"weight must be finite and >= 0 .*; found nan at index \(1,\)"),
    ([1.0, -0.5, 1.0], r"weight must be finite and >= 0 .*; found -0.5 at index \(1,\)"),
])
def test_bad_weights_are_refused(weight, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(Z, Y, weight=weight)


# -- 3. dtypes kept --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtypes_come_back_as_they_went_in(dtype):
    """float16 is computed in float32 and rounded once: within loss_rtol(K, float16) = float32's + 2^-11."""
    z = Z.astype(dtype)
    rows = mp_rows(z.astype(np.float64)[Y != -100], torch_coefficients(Y[Y != -100], 3, 0.1))
    for reduction in ("none", "sum", "mean"):
        got = cross_entropy(z, Y, label_smoothing=0.1, reduction=reduction)
        assert got.dtype == dtype, reduction
    none = cross_entropy(z, Y, label_smoothing=0.1, reduction="none")[Y != -100].astype(np.float64)
    assert np.all(np.abs(none - rows) <= num.loss_rtol(3, dtype) * np.abs(rows))
    for fn in (num.log_sum_exp, num.softmax, num.log_softmax):
        assert fn(z).dtype == dtype
    assert num.cross_entropy_per_example(z, [0, 1, 2, 0]).dtype == dtype


def test_an_unknown_float_format_is_refused_saying_why():
    """bfloat16 exists in NumPy only as ml_dtypes.bfloat16 (accepted, computed in float32: `make crosscheck`
    checks it against PyTorch's bfloat16); another 2-byte format that NumPy cannot compute with is refused."""
    with pytest.raises(ValueError, match=r"logits must be real numbers \(float16, bfloat16, float32 or float64; "
                                         r"integers become float64\); got dtype \|V2; bfloat16 is accepted as "
                                         r"ml_dtypes.bfloat16"):
        cross_entropy(np.zeros((2, 3), dtype="V2"), [0, 1])
    with pytest.raises(ValueError, match=r"got dtype complex128"):
        cross_entropy(np.zeros((2, 3), dtype=complex), [0, 1])


# -- 4. one name, one meaning ------------------------------------------------------------------------------------
def test_cross_entropy_is_torchs_and_the_per_example_helper_has_its_own_name():
    """The issue's example: PyTorch's mean 0.3171 (the library's cross_entropy returned [0.1698, 0.4644])."""
    z, y = Z[:2], np.array([0, 1])
    rows = mp_rows(z, torch_coefficients(y, 3, 0.0))
    assert [round(v, 4) for v in rows] == [0.1698, 0.4644]
    mean = cross_entropy(z, y)
    assert mean.shape == () and round(float(mean), 4) == 0.3171
    assert abs(float(mean) - sum(rows) / 2) <= (num.loss_rtol(3) + 2 * U64) * sum(rows) / 2
    np.testing.assert_array_equal(num.cross_entropy_per_example(z, y), cross_entropy(z, y, reduction="none"))
    assert np.isnan(cross_entropy(z, [-100, -100]))                    # PyTorch's default ignore_index, 0/0
    assert derivations.cross_entropy is cross_entropy
    assert derivations.cross_entropy_per_example is num.cross_entropy_per_example
    with pytest.raises(TypeError, match="positional"):
        cross_entropy(z, y, W)                                         # no positional weight or smoothing


# -- 5. any array library ----------------------------------------------------------------------------------------
class Tensor:
    """Stands for a torch.Tensor (its module is what tells the library's dispatch)."""

    __module__ = "torch"

    def __array__(self, dtype=None, copy=None):
        return np.zeros((2, 3))


def test_another_librarys_array_without_array_api_compat_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "array_api_compat", None)          # as if not installed
    with pytest.raises(TypeError, match=r"got a torch.Tensor: arrays other than NumPy's are computed through the "
                                        r"Array API, which needs array-api-compat \(pip install "
                                        r"'soft-targets-companion\[array-api\]'\)"):
        cross_entropy(Tensor(), [0, 1])


# -- 6. Scientific Python conventions ---------------------------------------------------------------------------
def test_the_package_is_typed():
    """PEP 561: derivations/py.typed ships with the package (pyproject.toml's package-data)."""
    import tomllib
    assert (ROOT / "derivations" / "py.typed").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in data["derivations"]
