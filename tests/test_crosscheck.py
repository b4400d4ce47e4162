"""audit/crosscheck.py (`make crosscheck`) without JAX or PyTorch: its bounds, its table, and its verdicts on the
package compared with NumPy written from the definitions (optax's targets and PyTorch's labels, reductions and
ignore_index), honest and with planted errors."""
import math
import re

import numpy as np
import pytest

from audit.crosscheck import (
    IGNORE,
    Table,
    cases,
    difference,
    grad_tol,
    loss_tol,
    main,
    reduced_tol,
    report,
    run,
    run_labels,
    run_properties,
    sum_bound,
    target_tol,
    unit_roundoff,
)
from derivations.library.numeric import log_softmax, softmax

SMALL = dict(ks=(2, 10), scales=(1.0, 100.0), alphas=(0.0, 0.1, 1.0), epss=(0.05,))


class Itself:
    """The framework's textbook formulas in NumPy with the package's own softmax; ``plant`` alters one output."""

    name = "the package against itself"

    def __init__(self, plant=None):
        self.plant = plant

    def use_dtype(self, dtype):
        pass

    def smooth_labels(self, onehot, alpha):
        K = onehot.shape[-1]
        if self.plant == "convention":            # PyTorch's alpha taken for the note's eps
            return np.where(onehot == 1, 1 - alpha, alpha / (K - 1)).astype(onehot.dtype)
        return (1 - alpha) * onehot + alpha / K

    def loss(self, logits, targets):
        loss = -(targets * log_softmax(logits)).sum(axis=-1)
        if self.plant in ("loss inside", "loss outside"):
            factor = 0.5 if self.plant == "loss inside" else 2.0
            loss = loss + factor * loss_tol(logits.shape[-1], logits.dtype, loss)
        return loss

    def grad(self, logits, targets):
        g = softmax(logits) * targets.sum(axis=-1, keepdims=True) - targets
        if self.plant == "gradient":              # one entry off by twice its bound
            g[0, 0] += 2 * grad_tol(logits.shape[-1], logits.dtype)
        return g


def test_bounds_are_the_stated_formulas():
    assert unit_roundoff(np.float32) == 2.0 ** -24 and unit_roundoff(np.float64) == 2.0 ** -53
    assert target_tol(np.float32) == 8 * 2.0 ** -24
    assert sum_bound(1024, np.float64) == (1024 + 8 + 10) * 2.0 ** -53
    assert grad_tol(1024, np.float64) == 4 * sum_bound(1024, np.float64)
    assert np.allclose(loss_tol(10, np.float32, [0.0, 9.0]), [2, 20] * np.array(sum_bound(10, np.float32)))


def test_cases_cover_both_parametrisations_and_the_edges():
    c = cases(4, alphas=(0.0, 1.0), epss=(0.1, 0.9))
    assert ("label_smoothing", 1.0, 1.0) in c and ("eps", 0.75, 1.0) in c      # alpha = 1 <=> eps = (K-1)/K
    assert ("eps", 0.0, 0.0) in c and not [e for conv, e, _ in c if conv == "eps" and e > 0.75]


def test_table_fails_on_a_difference_above_its_bound_or_not_finite():
    t = Table()
    t.record(np.float64, "eps", "loss", [1e-16, 3e-16], [2e-16, 2e-16], "here")
    t.record(np.float64, "eps", "targets", [0.0, 1e-17], 1e-16, "there")
    t.record(np.float32, "eps", "loss", [np.nan], 1.0, "nan")
    row = t.rows[("float64", "eps", "loss")]
    assert (row.n, row.failures, row.max_diff, row.max_ratio, row.where) == (2, 1, 3e-16, 1.5, "here")
    assert (row.diff_at_worst, row.tol_at_worst) == (3e-16, 2e-16)
    assert t.failed == [("float64", "eps", "loss"), ("float32", "eps", "loss")]
    assert math.isnan(t.rows[("float32", "eps", "loss")].max_diff)
    text, status = report(t, "test", 0.0, 0)
    assert status == 1 and "FAILED (1)" in text and "| float64 | eps | targets | 2 | 1.0e-17 | 0.1 | 1.0e-17 | 1.0e-16 | there | ok |" in text


def test_difference_counts_equal_infinities_and_expected_nans_as_agreement():
    d = difference([np.inf, np.nan, 1.0, np.inf, 1.0, -np.inf], [np.inf, np.nan, 1.5, 1.0, np.nan, np.inf])
    assert d[:3].tolist() == [0.0, 0.0, 0.5] and np.isnan(d[3:]).all()


def test_reduced_bounds_are_the_stated_formulas():
    u = 2.0 ** -53
    loss, row_tol = np.array([1.0, 3.0]), np.array([1e-15, 2e-15])
    assert reduced_tol(10, np.float64, loss, row_tol, "sum") == 3e-15 + 3 * u * 4.0
    assert reduced_tol(10, np.float64, loss, row_tol, "mean") == (3e-15 + 3 * u * 4.0) / 2 + u * 4.0 / 2
    assert reduced_tol(10, np.float64, [], [], "mean") == 0.0            # every row ignored: exact NaN expected


def test_the_package_against_itself_passes():
    t = run(Itself(), **SMALL)
    quantities = {q for _, _, q in t.rows}
    assert len(t.rows) == 14 and len(quantities) == 4 and not t.failed
    text, status = report(t, Itself.name, 0.1, 0)
    assert status == 0 and re.search(r"ok: [\d,]+ values compared", text)


@pytest.mark.parametrize("plant, failing", [
    ("convention", {"targets", "loss", "gradient (autodiff vs softmax - p)"}),
    ("gradient", {"gradient (autodiff vs softmax - p)"}),
    ("loss outside", {"loss"}),
    ("loss inside", set()),
])
def test_a_planted_error_fails_exactly_where_it_is(plant, failing):
    t = run(Itself(plant), **SMALL)
    assert {q for _, _, q in t.failed} == failing
    assert report(t, plant, 0.1, 0)[1] == (1 if failing else 0)


class ItselfLabels:
    """PyTorch's ``cross_entropy`` written from its documentation in NumPy: ``(1 - alpha) nll + alpha smooth``
    with ``nll = -log softmax(z)_y`` and ``smooth = -mean_j log softmax(z)_j`` (only for alpha > 0, as PyTorch:
    so 0 * inf = NaN at alpha = 1 with the label's logit -inf), rows labelled ``ignore_index`` 0, their mean over
    the rows not ignored, the gradient ``w (softmax(z) - p)``. ``plant`` alters one thing."""

    name = "the package against NumPy's PyTorch semantics"

    def __init__(self, plant=None):
        self.plant = plant

    def _targets(self, K, y, alpha):
        on, off = (1 - alpha, alpha / (K - 1)) if self.plant == "convention" else (1 - alpha + alpha / K, alpha / K)
        p = np.full((len(y), K), off)
        p[np.arange(len(y)), np.clip(y, 0, K - 1)] = on
        return p

    def loss(self, logits, labels, alpha, reduction, ignore_index):
        K = logits.shape[-1]
        ignored = labels == ignore_index
        lsm = log_softmax(logits).astype(np.float64)
        nll = -lsm[np.arange(len(labels)), np.clip(labels, 0, K - 1)]
        with np.errstate(invalid="ignore"):
            if self.plant == "convention":        # PyTorch's alpha taken for the note's eps
                p = self._targets(K, labels, alpha)
                rows = np.where(p > 0, p * -lsm, 0.0).sum(axis=1)
            else:
                rows = (1 - alpha) * nll + alpha * -lsm.mean(axis=1) if alpha > 0 else nll
            if self.plant == "inf as nan":
                rows = np.where(np.isinf(rows), np.nan, rows)
        if self.plant != "ignored rows counted":
            rows[ignored] = 0.0
        rows = rows.astype(logits.dtype)
        if reduction == "none":
            return rows
        total = rows.astype(np.float64).sum()
        if reduction == "sum":
            return logits.dtype.type(total)
        n = len(rows) if self.plant == "mean over all rows" else int((~ignored).sum())
        with np.errstate(invalid="ignore"):
            return logits.dtype.type(total / n if n else np.nan)

    def grad(self, logits, labels, alpha, reduction, ignore_index):
        K = logits.shape[-1]
        ignored = labels == ignore_index
        g = softmax(logits).astype(np.float64) - self._targets(K, labels, alpha)
        n = int((~ignored).sum())
        g *= np.where(ignored, 0.0, 1.0 / n if reduction == "mean" else 1.0)[:, None]
        if self.plant == "gradient":              # one entry of a row that counts off by twice its bound
            i = int(np.flatnonzero(~ignored)[0])
            g[i, 0] += 2 * grad_tol(K, logits.dtype) * (1.0 / n if reduction == "mean" else 1.0)
        return g.astype(logits.dtype)


LABELS_SMALL = dict(ks=(2, 10), scales=(1.0, 100.0), alphas=(0.0, 0.1, 1.0), epss=(0.05,))
GRID_LOSSES = {f"loss, reduction={r}" for r in ("none", "mean", "sum")}
GRID_GRADIENTS = {f"gradient (autograd vs w (softmax - p)), reduction={r}" for r in ("none", "mean", "sum")}


def test_the_package_against_pytorchs_semantics_passes():
    t = run_labels(ItselfLabels(), **LABELS_SMALL)
    quantities = {q for _, _, q in t.rows}
    assert GRID_LOSSES | GRID_GRADIENTS <= quantities and not t.failed
    assert {q for _, c, q in t.rows if c == "edges"} == {
        *(f"every row ignored, reduction={r}" for r in ("none", "mean", "sum")),
        *(f"-inf logits, loss, reduction={r}" for r in ("none", "mean", "sum")),
        "-inf logits, gradient of the rows with a finite loss", "-inf on the label, alpha = 1: PyTorch NaN, the package +inf"}
    text, status = report(t, ItselfLabels.name, 0.1, 0)
    assert status == 0 and re.search(r"ok: [\d,]+ values compared", text)


@pytest.mark.parametrize("plant, failing", [
    # the -inf edge: a mean or sum holding +inf is +inf either way; the finite row's loss and gradient differ
    # (at alpha = 1 the planted note's target puts 0 on the label: finite where PyTorch gives NaN)
    ("convention", GRID_LOSSES | GRID_GRADIENTS | {"-inf logits, loss, reduction=none",
                                                   "-inf logits, gradient of the rows with a finite loss",
                                                   "-inf on the label, alpha = 1: PyTorch NaN, the package +inf"}),
    ("mean over all rows", {"loss, reduction=mean", "every row ignored, reduction=mean"}),
    # every row ignored, mean: the planted sum over n = 0 rows is still 0/0
    ("ignored rows counted", GRID_LOSSES | {"every row ignored, reduction=none", "every row ignored, reduction=sum"}),
    ("gradient", GRID_GRADIENTS | {"-inf logits, gradient of the rows with a finite loss"}),
    ("inf as nan", {f"-inf logits, loss, reduction={r}" for r in ("none", "mean", "sum")}),
])
def test_a_planted_pytorch_error_fails_exactly_where_it_is(plant, failing):
    t = run_labels(ItselfLabels(plant), **LABELS_SMALL)
    assert {q for _, _, q in t.failed} == failing
    assert report(t, plant, 0.1, 0)[1] == 1


def test_main_runs_each_framework_and_names_a_missing_one(capsys):
    refs, tiny = {"torch": ItselfLabels(), "optax": Itself()}, dict(ks=(3,), scales=(1.0,), alphas=(0.1,), epss=())
    assert main(["--frameworks", "torch,optax"], refs=refs, **tiny) == 0
    out = capsys.readouterr().out
    assert "crosscheck: the package against NumPy's PyTorch semantics" in out and "against itself" in out
    assert main(["--frameworks", "torch,optax"], refs={"torch": ItselfLabels("gradient"), "optax": Itself()},
                **tiny) == 1
    with pytest.raises(SystemExit):
        main(["--frameworks", "keras"])
    assert IGNORE == -100                                     # PyTorch's default ignore_index


class ItselfFull:
    """PyTorch's ``cross_entropy`` with weights and class probabilities, from its documentation, in NumPy float64 on
    PyTorch's layout (classes on axis 1): ``-sum_j w_j t'_j log q_j``, ``t' = (1 - alpha) t + alpha / K`` (``t``
    one-hot for class indices, ignored rows 0); the mean over the labels' weights (class indices) or over the rows
    (class probabilities); the gradient ``s ((sum_j c_j) q - c)``. The package on "native" arrays is its NumPy path
    with the same closed-form gradient. ``plant`` alters one thing."""

    name = "the package against NumPy's PyTorch semantics, in full"

    def __init__(self, plant=None):
        self.plant = plant

    def _coefficients(self, z, target, weight, alpha, ignore_index):
        K = z.shape[-1]
        w = np.ones(K) if weight is None else np.asarray(weight, dtype=np.float64)
        if np.asarray(target).shape == z.shape:
            t, ignored = np.asarray(target, dtype=np.float64), np.zeros(z.shape[:-1], bool)
        else:
            y = np.asarray(target)
            ignored = (y == ignore_index) if ignore_index is not None else np.zeros(y.shape, bool)
            t = np.eye(K)[np.where(ignored, 0, y)]
        c = w * ((1 - alpha) * t + alpha / K)
        c[ignored] = 0.0
        if self.plant == "weights ignored":
            c = (1 - alpha) * t + alpha / K
            c[ignored] = 0.0
        return c, ignored, w

    def _loss_and_grad(self, z, target, weight, alpha, reduction, ignore_index):
        c, ignored, w = self._coefficients(z, target, weight, alpha, ignore_index)
        rows = -(c * log_softmax(z)).sum(axis=-1) if z.size else np.zeros(z.shape[:-1])
        grad = c.sum(axis=-1, keepdims=True) * softmax(z) - c if z.size else np.zeros(z.shape)
        if np.asarray(target).shape == z.shape or self.plant == "mean over rows":
            denominator = float(rows.size)
        else:
            y = np.asarray(target)
            denominator = float(np.sum(np.where(ignored, 0.0, w[np.where(ignored, 0, y)])))
        if reduction == "none":
            return rows, grad
        if reduction == "sum":
            return np.float64(rows.sum()), grad
        with np.errstate(invalid="ignore", divide="ignore"):      # nothing counted: NaN (PyTorch's 0/0)
            return np.float64(rows.sum() / denominator if denominator else np.nan), grad / denominator

    def loss_and_grad(self, logits, target, weight, alpha, reduction, ignore_index, dtype):
        def back(x):
            return np.moveaxis(x, 1 if x.ndim >= 2 else 0, -1)
        z = back(np.asarray(logits, dtype=np.float64))
        t = back(np.asarray(target, dtype=np.float64)) if np.asarray(target).shape == np.shape(logits) else target
        loss, grad = self._loss_and_grad(z, t, weight, alpha, reduction, ignore_index)
        return loss, np.moveaxis(grad, -1, 1 if grad.ndim >= 2 else 0)

    def ours_native(self, logits, target, weight, kw, dtype):
        """The package's NumPy path; its gradient in closed form at the same target (``alpha = K off``: the
        target ``on t + off (1 - t)`` is ``(1 - alpha) t + alpha / K`` with it, eps or alpha alike)."""
        from derivations.library.smoothing import smoothed_cross_entropy, target_levels
        a = np.ndim(logits) - 1 if kw["axis"] is None else kw["axis"] % np.ndim(logits)
        K = np.shape(logits)[a]
        _, off = target_levels(K, **{k: kw[k] for k in ("label_smoothing", "eps") if k in kw})
        loss = np.asarray(smoothed_cross_entropy(logits, target, weight=weight, **kw), dtype=np.float64)
        z = np.moveaxis(np.asarray(logits, dtype=np.float64), a, -1)
        soft = np.shape(target) == np.shape(logits)
        t = np.moveaxis(np.asarray(target, dtype=np.float64), a, -1) if soft else target
        saved, self.plant = self.plant, None                  # the package's side is never planted
        _, grad = self._loss_and_grad(z, t, weight, K * off, kw["reduction"], kw["ignore_index"])
        self.plant = saved
        return loss, np.moveaxis(grad, -1, a)


FULL_SMALL = dict(examples=60, dtypes=("float32", "float64"))


def test_the_package_against_pytorchs_full_semantics_passes():
    t = run_properties(ItselfFull(), **FULL_SMALL)
    quantities = {q for _, _, q in t.rows}
    assert {f"loss (class {k}), reduction={r}" for k in ("indices", "probabilities") for r in ("none", "sum", "mean")} \
        <= quantities and not t.failed, t.markdown()


@pytest.mark.parametrize("plant", ["weights ignored", "mean over rows"])
def test_a_planted_error_in_the_full_semantics_fails(plant):
    t = run_properties(ItselfFull(plant), **FULL_SMALL)
    assert t.failed and report(t, plant, 0.1, 0)[1] == 1
