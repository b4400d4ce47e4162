"""`make crosscheck`: this package's label smoothing against two real frameworks, JAX with optax, and PyTorch.

For K in 2, 3, 10, 100, 1000, random logits at scales 0.1 to 1000 (seeded; a quarter of the rows
confidently right, a quarter confidently wrong) and float32 and float64 (JAX's x64 mode for the
latter), it compares, in the same dtype on both sides, for every alpha of PyTorch's and optax's
``label_smoothing`` (passed to the package as ``label_smoothing=alpha`` and as the note's
``eps=label_smoothing_to_eps(alpha, K)``) and for a grid of the note's eps up to (K-1)/K (passed as
``eps=eps``, and to the framework as ``alpha = eps_to_label_smoothing(eps, K)``):

against **optax**

* **targets**: ``optax.smooth_labels(onehot, alpha)`` with ``smoothed_targets(y, K, label_smoothing=alpha)``
  or ``smoothed_targets(y, K, eps=eps)``;
* **loss**: ``optax.softmax_cross_entropy(z, those targets)`` with ``smoothed_cross_entropy(...,
  reduction="none")`` in the same parametrisation;
* **gradient** with respect to the logits: ``jax.grad`` of the optax loss with the closed form
  ``softmax(z) - p`` (the package's softmax and targets); in float64, also central finite
  differences of the package's loss with that closed form (in float32 a finite difference carries
  more rounding than the quantities compared, so it would decide nothing);

against **PyTorch** (``torch.nn.functional.cross_entropy(z, y, label_smoothing=alpha, reduction=...,
ignore_index=...)``, which takes labels, not targets: its target enters through its gradient)

* **loss** for each ``reduction`` ("none", "mean", "sum"), with no row ignored, with a fifth of the rows
  labelled ``-100`` (the default ``ignore_index``), and with ``ignore_index = K - 1`` (a class);
* **gradient**: ``torch.autograd`` of each reduction with the closed form ``w (softmax(z) - p)`` per row,
  ``w`` = 1 (none, sum), 1 / (rows not ignored) (mean), 0 for an ignored row;
* **edges** (K = 5): every row ignored (mean NaN, sum 0, none 0 on both sides), and ``-inf`` logits on
  and off the label at alpha 0, 0.1 and 1 (``+inf`` where a masked class has target mass; the same
  finite loss elsewhere; gradients of the rows with a finite loss). One divergence is expected and
  checked: at alpha = 1 with ``-inf`` on the label, PyTorch's ``(1 - alpha) nll + alpha smooth`` is
  ``0 * inf = NaN``; the package gives ``+inf`` (the uniform target puts 1/K on that class).

against **PyTorch, in full** (issue 34; ``--examples`` hypothesis cases, seeded by ``--seed``): random shapes (0 to 3
batch dimensions, empty ones included), class axes (any, and None up to two dimensions; PyTorch gets the same
array with the classes moved to axis 1), K from 2 to 9, float16, bfloat16, float32 and float64, class indices
with ignored labels or class probabilities, class weights (zeros included), alpha or the note's eps, every
reduction: the package on NumPy arrays, and on torch tensors with ``requires_grad`` (a torch tensor of the
logits' dtype must come back), against ``F.cross_entropy``; and the gradient of the package's loss by torch's
autograd against autograd of PyTorch's (:func:`compare_property`, bounds :func:`full_bounds`);

other **arrays** (:func:`run_arrays`): JAX arrays in and out, the loss against optax's and ``jax.grad`` through the
package against ``jax.grad`` through optax; array-api-strict's arrays in and out, against the NumPy path;
``ml_dtypes.bfloat16`` NumPy arrays, against float32's loss rounded once; and the issue's ``(6, 4, 4)`` without an
axis, which must be refused naming both conventions.

Every comparison is elementwise against a worst-case bound, not a tolerance tuned to pass. With
``u`` the unit roundoff of the dtype (``finfo.eps / 2``: 2^-24, 2^-53) and
``B(K) = (K + 8 + log2 K) u`` (:func:`sum_bound`):

* targets, ``8 u`` absolute (:func:`target_tol`): each side forms an entry in [0, 1] from Python
  floats with at most four roundings (``1 - alpha``, ``alpha / K``, the cast, the sum; or
  ``alpha (K-1)/K``, ``1 - eps``, ``eps / (K-1)``, the cast), each at most ``u``;
* loss, ``2 B(K) (1 + L)`` with ``L`` the loss (:func:`loss_tol`): the package's loss is accurate to
  ``(8 + log2 K) u L`` (``numeric.loss_rtol``, tested against mpmath); optax's
  ``-sum_j p_j log_softmax(z)_j`` adds K non-negative terms (``(K-1) u L`` for a sequential sum), each
  with a rounded target, product and shift ``z_j - max`` (``4 u L``), and a ``log`` of
  ``S = sum_k exp(z_k - max) >= 1`` whose relative error, ``(K-1) u`` from the sum plus
  ``u sum_k |d_k| e^(d_k) / S <= (K-1) u / e`` from the rounded shifts plus a few ``u`` for XLA's
  ``exp`` and ``log``, enters the loss absolutely (the targets sum to 1). Together at most
  ``(K + 12 + log2 K) u L + (1.4 K + 4 + ln K) u <= 2 B(K) (1 + L)``. The logit scale enters
  through ``L <= ln K + max_j z_j - min_j z_j``;
* gradient, ``4 B(K)`` absolute per entry (:func:`grad_tol`): JAX differentiates optax's loss to
  ``(sum_j p_j) softmax(z) - p``; its softmax entries err by at most ``u (1/e + 5) + (1.4 K) u``
  (the sum ``S`` again), ``sum_j p_j`` by ``(K + 1) u``, the product and difference by ``2 u``:
  ``(2.4 K + 10) u``; the package's ``softmax(z) - p`` by ``(6 + log2 K) u`` (compensated
  exponentials, pairwise sum). Entries lie in [-1, 1], so the bound is absolute;
* finite differences (float64), per entry (:func:`fd_tol`): the logit moved to ``z +- u^(1/3) max(1, |z|)``;
  truncation ``h^2 / 60`` with ``h = (z+ - z-) / 2`` the half-step taken (the third derivative of
  the loss along one logit is ``q (1 - q)(1 - 2 q) <= 1 / (6 sqrt 3)``: a sharp bound, reached
  at ``q = 0.21``), the two losses' own error ``(8 + log2 K) u (|L+| + |L-|) / (z+ - z-)``,
  ``u (|z| + 2 h) / 4`` for the rounded midpoint (second derivative <= 1/4), and ``B(K)`` for the
  closed form.

PyTorch's reductions: its sum of ``n`` per-row losses errs by at most ``(n - 1) u`` times their sum
(sequential; PyTorch's is pairwise, better), the package's by ``u`` (float32 summed in float64), and the
mean adds a division (``u``): the bound of a sum is the sum of the per-row bounds plus ``(n + 1) u sum L``,
that of a mean the same over ``n`` plus ``u`` times the mean (:func:`reduced_tol`). A gradient entry's
bound is ``w (4 B(K) + 2 u)``; an ignored row's gradient must be exactly 0 on both sides. Where both
sides give the same non-finite value (``+inf``; NaN where both must) the difference is 0 (:func:`difference`).

The table prints, per dtype, parametrisation and quantity, how many values were compared, the largest
absolute difference, and the largest ratio of a difference to its bound with that difference, its
bound and where it occurred (K, parameter, logit scale, reduction, ignored rows). The run fails
(exit 1) when any ratio exceeds 1 or is not finite. Run as ``python -m audit.crosscheck [--seed N]
[--frameworks optax,torch,properties,arrays] [--examples N]`` in an environment with JAX, optax and PyTorch (make crosscheck builds one,
.venv-crosscheck). The comparison logic takes any :class:`Reference` (optax-like, on targets) or
:class:`LabelReference` (PyTorch-like, on labels), so ``tests/test_crosscheck.py`` runs it without
either framework, on the package against NumPy written from the definitions.
"""
from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from derivations.library.numeric import loss_rtol, softmax
from derivations.library.smoothing import (
    eps_to_label_smoothing,
    label_smoothing_to_eps,
    smoothed_cross_entropy,
    smoothed_targets,
    target_levels,
)

KS = (2, 3, 10, 100, 1000)
#: The framework's alpha (uniform mixture), edges 0 and 1 included.
ALPHAS = (0.0, 1e-3, 0.01, 0.1, 0.2, 0.5, 0.9, 1.0)
#: The note's eps; those above (K-1)/K are dropped (no alpha in [0, 1]) and (K-1)/K is added.
EPSS = (0.0, 1e-3, 0.05, 0.1, 0.3, 0.5)
SCALES = (0.1, 1.0, 10.0, 100.0, 1000.0)
DTYPES = (np.float32, np.float64)
ROWS = 32
REDUCTIONS = ("none", "mean", "sum")
#: PyTorch's default ignore_index.
IGNORE = -100


# -- the bounds ------------------------------------------------------------------------------------
def unit_roundoff(dtype) -> float:
    """``u = finfo(dtype).eps / 2``: 2^-24 for float32, 2^-53 for float64."""
    return float(np.finfo(dtype).eps) / 2


def sum_bound(num_classes: int, dtype) -> float:
    """``B(K) = (K + 8 + log2 K) u``: a K-term sum summed sequentially plus the package's ``(8 + log2 K) u``."""
    return (num_classes + 8 + math.log2(num_classes)) * unit_roundoff(dtype)


def target_tol(dtype) -> float:
    """Absolute bound on a target entry's difference: ``8 u`` (four roundings a side, entries in [0, 1])."""
    return 8 * unit_roundoff(dtype)


def loss_tol(num_classes: int, dtype, loss) -> np.ndarray:
    """Bound on the losses' difference, per example: ``2 B(K) (1 + |L|)`` (see the module docstring)."""
    return 2 * sum_bound(num_classes, dtype) * (1 + np.abs(np.asarray(loss, dtype=np.float64)))


def grad_tol(num_classes: int, dtype) -> float:
    """Absolute bound on a gradient entry's difference: ``4 B(K)``."""
    return 4 * sum_bound(num_classes, dtype)


def reduced_tol(num_classes: int, dtype, loss, row_tol, reduction: str) -> float:
    """Bound on the difference of a reduced loss, from the per-row losses ``loss`` (0 for an ignored row) and
    their bounds ``row_tol``: sum ``sum(row_tol) + (n + 1) u sum L``; mean that over ``n`` plus ``u`` times the
    mean, ``n`` the number of rows not ignored (``loss`` and ``row_tol`` hold only those)."""
    u = unit_roundoff(dtype)
    loss = np.abs(np.asarray(loss, dtype=np.float64))
    n = loss.size
    total = float(np.sum(row_tol)) + (n + 1) * u * float(np.sum(loss))
    if reduction == "sum":
        return total
    return total / n + u * float(np.sum(loss)) / n if n else 0.0


def difference(a, b) -> np.ndarray:
    """``|a - b|`` elementwise in float64, 0 where both are the same infinity or both NaN (where the
    comparison expects them), and NaN where only one side is not finite (which then fails)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        d = np.abs(a - b)
    d = np.where(same, 0.0, d)
    return np.where(~same & ~(np.isfinite(a) & np.isfinite(b)), np.nan, d)


def fd_step(z: np.ndarray) -> np.ndarray:
    """The central-difference step per logit: ``u^(1/3) max(1, |z|)``."""
    return unit_roundoff(z.dtype) ** (1 / 3) * np.maximum(1.0, np.abs(z))


def fd_tol(num_classes: int, dtype, z, loss_plus, loss_minus, step) -> np.ndarray:
    """Bound on |central difference of the package's loss - closed form| (see the module docstring).

    ``step = z+ - z-`` is the step taken (in the dtype), ``z`` the logit stepped along.
    """
    u = unit_roundoff(dtype)
    truncation = (step / 2) ** 2 / 60
    own = loss_rtol(num_classes, dtype) * (np.abs(loss_plus) + np.abs(loss_minus)) / step
    midpoint = u * (np.abs(z) + step) / 4
    return truncation + own + midpoint + sum_bound(num_classes, dtype)


# -- the table -------------------------------------------------------------------------------------
@dataclass
class Row:
    """The worst of one (dtype, convention, quantity): largest difference, largest ratio to its bound."""

    n: int = 0
    max_diff: float = 0.0
    max_ratio: float = 0.0
    diff_at_worst: float = math.nan
    tol_at_worst: float = math.nan
    where: str = ""
    failures: int = 0


@dataclass
class Table:
    """Maximum differences per (dtype, convention, quantity); a comparison fails when diff > bound or is not finite."""

    rows: dict = field(default_factory=dict)

    def record(self, dtype, convention: str, quantity: str, diff, tol, where: str) -> None:
        """Add elementwise differences ``diff`` with their bounds ``tol`` (broadcast) found at ``where``."""
        diff = np.abs(np.asarray(diff, dtype=np.float64))
        tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), diff.shape).ravel()
        diff = diff.ravel()
        row = self.rows.setdefault((np.dtype(dtype).name, convention, quantity), Row())
        bad = ~(diff <= tol)                     # nan and inf fail too
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = diff / tol
        ratio = np.where(np.isnan(diff) | np.isnan(tol), np.inf, np.where(np.isnan(ratio), 0.0, ratio))  # 0/0: 0
        row.n += diff.size
        row.failures += int(bad.sum())
        if diff.size:
            row.max_diff = float(np.max([row.max_diff, np.max(diff)]))          # nan propagates
            i = int(np.argmax(ratio))
            if ratio[i] > row.max_ratio or not row.where:
                row.max_ratio, row.where = float(ratio[i]), where
                row.diff_at_worst, row.tol_at_worst = float(diff[i]), float(tol[i])

    @property
    def failed(self) -> list:
        """The keys of the rows with at least one failing comparison."""
        return [k for k, r in self.rows.items() if r.failures]

    def markdown(self) -> str:
        """The table in Markdown, one line per (dtype, convention, quantity)."""
        lines = ["| dtype | parametrisation | quantity | values | max abs difference | worst difference / bound "
                 "| that difference | its bound | where (K, parameter, logit scale, ignored rows) | status |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for (dtype, conv, quantity), r in self.rows.items():
            status = "ok" if not r.failures else f"FAILED ({r.failures})"
            lines.append(f"| {dtype} | {conv} | {quantity} | {r.n:,} | {r.max_diff:.1e} | {r.max_ratio:.2g} "
                         f"| {r.diff_at_worst:.1e} | {r.tol_at_worst:.1e} | {r.where} | {status} |")
        return "\n".join(lines)


CAPTION = ("Largest absolute difference between the framework and this package, per dtype, parametrisation and "
           "quantity, and the largest ratio of a difference to its worst-case bound, with that difference, its bound "
           "and where it occurred (u = unit roundoff of the dtype, "
           "B(K) = (K + 8 + log2 K) u; targets 8 u; loss 2 B(K) (1 + L) per row, L the loss, which grows with the "
           "logit scale; a sum of n rows: their bounds + (n + 1) u sum L, a mean that over n + u mean; gradient "
           "4 B(K) per entry (times the row's weight, + 2 u, for PyTorch's reductions); finite differences h^2/60 "
           "+ the losses' own error / step + B(K)). A ratio above 1 fails.")


# -- the framework ---------------------------------------------------------------------------------
class Reference(Protocol):
    """What the comparison needs from a framework, on NumPy arrays in and out (same dtype)."""

    name: str

    def smooth_labels(self, onehot: np.ndarray, alpha: float) -> np.ndarray: ...
    def loss(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray: ...
    def grad(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray: ...
    def use_dtype(self, dtype) -> None: ...


class JaxReference:
    """optax.smooth_labels (called as a user would, with a Python float alpha), and the jitted
    optax.softmax_cross_entropy and jax.grad of its sum, on JAX's CPU backend.

    float32 runs in JAX's default mode; :meth:`use_dtype` switches on x64 for float64 (every
    result's dtype is checked, so a silent downcast would stop the run)."""

    def __init__(self):
        import jax
        import optax
        self.jax, self.optax, self.jnp = jax, optax, jax.numpy
        self.name = f"jax {jax.__version__} (jaxlib {jax.lib.__version__}), optax {optax.__version__}"
        self._loss = jax.jit(optax.softmax_cross_entropy)
        self._grad = jax.jit(jax.grad(lambda z, t: optax.softmax_cross_entropy(z, t).sum()))

    def use_dtype(self, dtype) -> None:
        """float64 needs ``jax_enable_x64``; float32 is computed in float32 either way."""
        if np.dtype(dtype) == np.float64 and not self.jax.config.jax_enable_x64:
            self.jax.config.update("jax_enable_x64", True)

    @staticmethod
    def _out(x, like: np.ndarray) -> np.ndarray:
        a = np.asarray(x)
        if a.dtype != like.dtype:
            raise TypeError(f"JAX returned {a.dtype} for {like.dtype} input")
        return a

    def smooth_labels(self, onehot, alpha):
        return self._out(self.optax.smooth_labels(self.jnp.asarray(onehot), alpha), onehot)

    def loss(self, logits, targets):
        return self._out(self._loss(self.jnp.asarray(logits), self.jnp.asarray(targets)), logits)

    def grad(self, logits, targets):
        return self._out(self._grad(self.jnp.asarray(logits), self.jnp.asarray(targets)), logits)


class LabelReference(Protocol):
    """What the comparison needs from a framework that takes labels (PyTorch), on NumPy arrays in and out."""

    name: str

    def loss(self, logits: np.ndarray, labels: np.ndarray, alpha: float, reduction: str,
             ignore_index: int) -> np.ndarray: ...
    def grad(self, logits: np.ndarray, labels: np.ndarray, alpha: float, reduction: str,
             ignore_index: int) -> np.ndarray: ...


class TorchReference:
    """``torch.nn.functional.cross_entropy`` on the CPU (one thread), called as a user would (labels, a Python float
    ``label_smoothing``, ``reduction``, ``ignore_index``), and ``torch.autograd`` of it (of its sum for
    ``reduction="none"``). Every result's dtype is checked against the input's."""

    def __init__(self):
        import torch
        self.torch = torch
        torch.set_num_threads(1)       # tiny batches: threads only wait on each other (on a busy machine, for long)
        build = "CUDA " + torch.version.cuda if torch.version.cuda else "CPU"
        self.name = f"torch {torch.__version__} ({build} build, one thread)"

    def _call(self, logits, labels, alpha, reduction, ignore_index, grad: bool):
        torch = self.torch
        z = torch.from_numpy(np.ascontiguousarray(logits)).requires_grad_(grad)
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        out = torch.nn.functional.cross_entropy(z, y, label_smoothing=alpha, reduction=reduction,
                                                ignore_index=ignore_index)
        if not grad:
            result = out.detach().numpy()
        else:
            (out.sum() if reduction == "none" else out).backward()
            result = z.grad.numpy()
        if result.dtype != logits.dtype:
            raise TypeError(f"PyTorch returned {result.dtype} for {logits.dtype} input")
        return np.array(result)

    def loss(self, logits, labels, alpha, reduction, ignore_index):
        return self._call(logits, labels, alpha, reduction, ignore_index, grad=False)

    def grad(self, logits, labels, alpha, reduction, ignore_index):
        return self._call(logits, labels, alpha, reduction, ignore_index, grad=True)


# -- the comparison --------------------------------------------------------------------------------
def sample_logits(rng: np.random.Generator, num_classes: int, scale: float, dtype, rows: int = ROWS):
    """``(z, y)``: ``rows`` rows of ``scale * N(0, 1)`` logits and uniform labels; in the first quarter of
    the rows the label's logit is raised ``3 scale`` above the row's maximum (confidently right), in the
    second lowered ``3 scale`` below its minimum (confidently wrong)."""
    z = scale * rng.standard_normal((rows, num_classes))
    y = rng.integers(0, num_classes, rows)
    q = rows // 4
    z[np.arange(q), y[:q]] = z[:q].max(axis=1) + 3 * scale
    z[np.arange(q, 2 * q), y[q:2 * q]] = z[q:2 * q].min(axis=1) - 3 * scale
    return z.astype(dtype), y


def cases(num_classes: int, alphas=ALPHAS, epss=EPSS) -> list[tuple[str, float, float]]:
    """``(the package's keyword, its value, the framework's alpha)`` for every alpha (as ``label_smoothing``
    and as the note's ``eps``) and every note's eps in [0, (K-1)/K] (edge included)."""
    K = num_classes
    out = [c for a in alphas for c in (("label_smoothing", a, a), ("eps", label_smoothing_to_eps(a, K), a))]
    top = (K - 1) / K
    for e in sorted({e for e in epss if e <= top} | {top}):
        out.append(("eps", e, eps_to_label_smoothing(e, K)))
    return out


def finite_differences(z: np.ndarray, y: np.ndarray, value: float, keyword: str):
    """Central differences of the package's loss along the label's logit and along classes 0 and K-1,
    for every row at once (rows are independent). Returns ``(columns, fd, bound)``, each ``(rows, 3)``."""
    K = z.shape[1]
    rows = np.arange(len(z))
    cols = np.stack([y, np.zeros_like(y), np.full_like(y, K - 1)], axis=1)
    fd, tol = np.empty(cols.shape), np.empty(cols.shape)
    for c in range(cols.shape[1]):
        j = cols[:, c]
        h = fd_step(z[rows, j])
        zp, zm = z.copy(), z.copy()
        zp[rows, j] += h.astype(z.dtype)
        zm[rows, j] -= h.astype(z.dtype)
        lp = smoothed_cross_entropy(zp, y, reduction="none", **{keyword: value})
        lm = smoothed_cross_entropy(zm, y, reduction="none", **{keyword: value})
        step = zp[rows, j] - zm[rows, j]
        fd[:, c] = (lp - lm) / step
        tol[:, c] = fd_tol(K, z.dtype, z[rows, j], lp, lm, step)
    return cols, fd, tol


def compare(ref: Reference, table: Table, dtype, num_classes: int, scale: float, rng: np.random.Generator,
            alphas=ALPHAS, epss=EPSS, fd: bool = True) -> None:
    """Every case of :func:`cases` at one (dtype, K, scale): targets, losses, gradients into ``table``."""
    K = num_classes
    z, y = sample_logits(rng, K, scale, dtype)
    onehot = np.eye(K, dtype=dtype)[y]
    q = softmax(z)
    for conv, param, alpha in cases(K, alphas, epss):
        where = f"K={K}, {'alpha' if conv == 'label_smoothing' else 'eps'}={param:.4g}, scale={scale:g}"
        t_ref = ref.smooth_labels(onehot, alpha)
        t_pkg = smoothed_targets(y, K, dtype=dtype, **{conv: param})
        table.record(dtype, conv, "targets", t_ref - t_pkg.astype(np.float64), target_tol(dtype), where)
        l_pkg = smoothed_cross_entropy(z, y, reduction="none", **{conv: param})
        table.record(dtype, conv, "loss", ref.loss(z, t_ref) - l_pkg.astype(np.float64),
                     loss_tol(K, dtype, l_pkg), where)
        closed = (q - t_pkg).astype(np.float64)
        table.record(dtype, conv, "gradient (autodiff vs softmax - p)", ref.grad(z, t_ref) - closed,
                     grad_tol(K, dtype), where)
        if fd and np.dtype(dtype) == np.float64:
            cols, d, tol = finite_differences(z, y, param, conv)
            table.record(dtype, conv, "gradient (package's finite diff. vs softmax - p)",
                         d - np.take_along_axis(closed, cols, axis=1), tol, where)


def run(ref: Reference, *, seed: int = 0, ks=KS, scales=SCALES, dtypes=DTYPES, alphas=ALPHAS, epss=EPSS,
        fd: bool = True) -> Table:
    """The whole grid against optax, float32 first (JAX's default mode), then float64; one seeded generator."""
    rng = np.random.default_rng(seed)
    table = Table()
    for dtype in dtypes:
        ref.use_dtype(dtype)
        for K in ks:
            for scale in scales:
                compare(ref, table, dtype, K, scale, rng, alphas, epss, fd)
    return table


def ignored_variants(y: np.ndarray, num_classes: int) -> list[tuple[str, np.ndarray, int]]:
    """``(name, labels, ignore_index)``: none ignored; every fifth row labelled -100; class K-1 ignored."""
    some = y.copy()
    some[::5] = IGNORE
    return [("none ignored", y, IGNORE), ("1/5 rows -100", some, IGNORE),
            (f"ignore_index={num_classes - 1}", y, num_classes - 1)]


def row_weights(ignored: np.ndarray, reduction: str) -> np.ndarray:
    """Each row's weight in a reduced loss: 0 if ignored, else 1 (none, sum) or 1/n (mean, n rows not ignored)."""
    n = int(np.count_nonzero(~ignored))
    return np.where(ignored, 0.0, 1.0 / n if reduction == "mean" and n else 1.0)


def closed_form_gradient(q: np.ndarray, y, ignored, kw, reduction) -> np.ndarray:
    """``w (q - p)`` per row in float64, ``q = softmax(z)``, ``w`` from :func:`row_weights`."""
    p = smoothed_targets(np.where(ignored, 0, y), q.shape[-1], dtype=np.float64, **kw)
    return (q.astype(np.float64) - p) * row_weights(ignored, reduction)[:, None]


def compare_labels(ref: LabelReference, table: Table, dtype, num_classes: int, scale: float,
                   rng: np.random.Generator, alphas=ALPHAS, epss=EPSS) -> None:
    """Every case of :func:`cases`, every reduction and every :func:`ignored_variants`, at one (dtype, K, scale):
    losses and gradients of a framework that takes labels (PyTorch) into ``table``."""
    K = num_classes
    z, y0 = sample_logits(rng, K, scale, dtype)
    q = softmax(z)
    g_tol = grad_tol(K, dtype) + 2 * unit_roundoff(dtype)
    for conv, param, alpha in cases(K, alphas, epss):
        kw = {conv: param}
        for name, y, ignore in ignored_variants(y0, K):
            ignored = y == ignore
            rows = smoothed_cross_entropy(z, y, reduction="none", ignore_index=ignore, **kw)
            row_tol = np.where(ignored, 0.0, loss_tol(K, dtype, rows))
            unweighted = closed_form_gradient(q, y, ignored, kw, "sum")
            where = f"K={K}, {'alpha' if conv == 'label_smoothing' else 'eps'}={param:.4g}, scale={scale:g}, {name}"
            for reduction in REDUCTIONS:
                mine = rows if reduction == "none" else smoothed_cross_entropy(
                    z, y, reduction=reduction, ignore_index=ignore, **kw)
                tol = row_tol if reduction == "none" else reduced_tol(K, dtype, rows[~ignored], row_tol[~ignored],
                                                                       reduction)
                table.record(dtype, conv, f"loss, reduction={reduction}",
                             difference(ref.loss(z, y, alpha, reduction, ignore), mine), tol, where)
                w = row_weights(ignored, reduction)[:, None]
                table.record(dtype, conv, f"gradient (autograd vs w (softmax - p)), reduction={reduction}",
                             difference(ref.grad(z, y, alpha, reduction, ignore), unweighted * w), w * g_tol, where)


def compare_edges(ref: LabelReference, table: Table, dtype) -> None:
    """Every row ignored, and -inf logits on and off the label, at K = 5 (see the module docstring)."""
    K = 5
    z = np.linspace(-2.0, 2.0, 4 * K).reshape(4, K).astype(dtype)
    y = np.array([0, 1, 2, 3])
    for reduction in REDUCTIONS:                        # every row ignored: NaN (mean), 0 (sum), zeros (none)
        ignored = np.full(4, IGNORE)
        mine = smoothed_cross_entropy(z, ignored, label_smoothing=0.1, reduction=reduction)
        expected = {"mean": np.nan, "sum": 0.0, "none": np.zeros(4)}[reduction]
        table.record(dtype, "edges", f"every row ignored, reduction={reduction}",
                     np.maximum(difference(ref.loss(z, ignored, 0.1, reduction, IGNORE), mine),
                                difference(mine, expected)), 0.0, f"K={K}, alpha=0.1, all rows -100")
    zi = z.copy()
    zi[0, 1] = zi[1, 1] = zi[2, [0, 4]] = -np.inf      # off the label (rows 0, 2), on it (row 1)
    for alpha in (0.0, 0.1, 1.0):
        on, off = target_levels(K, label_smoothing=alpha)
        rows = smoothed_cross_entropy(zi, y, label_smoothing=alpha, reduction="none")
        assert list(np.isinf(rows)) == [off > 0, on > 0, off > 0, False], (alpha, rows)   # the package's promise
        fin = np.isfinite(rows)
        row_tol = loss_tol(K, dtype, np.where(fin, rows, 0.0))
        where = f"K={K}, alpha={alpha:g}, -inf on and off the label"
        for reduction in REDUCTIONS:
            mine = np.atleast_1d(smoothed_cross_entropy(zi, y, label_smoothing=alpha, reduction=reduction))
            theirs = np.atleast_1d(ref.loss(zi, y, alpha, reduction, IGNORE))
            tol = row_tol if reduction == "none" else reduced_tol(K, dtype, rows[fin], row_tol[fin], reduction)
            # documented divergence: at alpha = 1 PyTorch's (1 - alpha) nll + alpha smooth is 0 * inf = NaN when the
            # label's logit is -inf; the package's +inf is the loss of the uniform target, which gives it mass 1/K
            odd = np.zeros(mine.shape, bool)
            if alpha == 1.0:
                odd[[1] if reduction == "none" else [0]] = True
                table.record(dtype, "edges", "-inf on the label, alpha = 1: PyTorch NaN, the package +inf",
                             np.where(np.isnan(theirs[odd]) & (mine[odd] == np.inf), 0.0, np.nan), 0.0, where)
            table.record(dtype, "edges", f"-inf logits, loss, reduction={reduction}",
                         difference(theirs[~odd], mine[~odd]), np.broadcast_to(tol, mine.shape)[~odd], where)
        g = ref.grad(zi, y, alpha, "none", IGNORE)[fin]
        closed = closed_form_gradient(softmax(zi[fin]), y[fin], np.zeros(int(fin.sum()), bool),
                                      {"label_smoothing": alpha}, "none")
        table.record(dtype, "edges", "-inf logits, gradient of the rows with a finite loss", difference(g, closed),
                     grad_tol(K, dtype) + 2 * unit_roundoff(dtype), f"K={K}, alpha={alpha:g}")


def run_labels(ref: LabelReference, *, seed: int = 0, ks=KS, scales=SCALES, dtypes=DTYPES, alphas=ALPHAS,
               epss=EPSS, edges: bool = True) -> Table:
    """The whole grid against a framework that takes labels (PyTorch), float32 then float64, and the edges."""
    rng = np.random.default_rng(seed)
    table = Table()
    for dtype in dtypes:
        for K in ks:
            for scale in scales:
                compare_labels(ref, table, dtype, K, scale, rng, alphas, epss)
        if edges:
            compare_edges(ref, table, dtype)
    return table


# -- issue 34: PyTorch's conventions in full, property-based, and other arrays ------------------------------------
#: The unit roundoff of the dtypes beyond NumPy's own (ml_dtypes.bfloat16 is a NumPy dtype named so).
NARROW_U = {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}
PROPERTY_DTYPES = ("float16", "bfloat16", "float32", "float64")


def roundoff(name: str) -> float:
    """The unit roundoff of a dtype named ``name``: float16 2^-11, bfloat16 2^-8, float32 2^-24, float64 2^-53."""
    return NARROW_U.get(name) or unit_roundoff(np.dtype(name))


def full_bounds(num_classes: int, name: str, rows, weight_max: float):
    """``(per-row loss bounds, per-entry gradient bound before the reduction's scale)`` of a case with class
    weights or class-probability targets in dtype ``name`` (``rows``: the package's per-row losses, 0 where
    ignored). The derivation of :func:`loss_tol` and :func:`grad_tol` with ``u`` the dtype's, and the
    log-sum-exp's error entering a row through the sum of its coefficients ``sum_j w_j p_j <= W = max(1, max
    w)`` (targets sum to 1) instead of 1: ``2 B(K) (W + L)`` per row, ``(W + max w) (4 B(K) + 2 u)`` per gradient
    entry (the gradient is ``(sum_j c_j) softmax - c``)."""
    u = roundoff(name)
    B = (num_classes + 8 + math.log2(num_classes)) * u
    W = max(1.0, weight_max)
    rows = np.abs(np.asarray(rows, dtype=np.float64))
    return 2 * B * (W + rows), (W + weight_max) * (4 * B + 2 * u)


def full_reduced_tol(name: str, rows, row_tol, reduction: str, denominator: float) -> float:
    """:func:`reduced_tol` with PyTorch's divisor of the mean (rows, or the labels' weights) and the dtype's ``u``:
    the sum's bound ``sum(row_tol) + (n + 1) u sum L``, the mean's that over the divisor plus ``u`` times the mean."""
    u = roundoff(name)
    rows = np.abs(np.asarray(rows, dtype=np.float64))
    total = float(np.sum(row_tol)) + (rows.size + 1) * u * float(np.sum(rows))
    if reduction == "sum":
        return total
    return (total + u * float(np.sum(rows))) / denominator if denominator else 0.0


class FullReference(Protocol):
    """What the property-based comparison needs: the framework's loss and gradient on PyTorch's layout (classes on
    axis 1; NumPy in and out, float64 for bfloat16), and the package called on the framework's own arrays
    (classes on ``axis``), its result read back with the framework's gradient of it."""

    name: str

    def loss_and_grad(self, logits, target, weight, alpha: float, reduction: str, ignore_index, dtype: str): ...
    def ours_native(self, logits, target, weight, kw: dict, dtype: str): ...


class TorchFullReference:
    """``torch.nn.functional.cross_entropy`` with ``weight``, class-probability targets, ``label_smoothing``,
    ``ignore_index``, each reduction and any layout (float16, bfloat16, float32, float64), its autograd; and the
    package called on torch tensors (``requires_grad``), which must return a torch tensor of the logits' dtype."""

    def __init__(self):
        import torch
        self.torch = torch
        torch.set_num_threads(1)
        self.name = f"torch {torch.__version__} (one thread): weights, class probabilities, layouts, dtypes, tensors"

    def tensor(self, x, dtype: str, grad: bool = False):
        torch = self.torch
        x = np.asarray(x)
        if x.dtype.kind in "iu":                        # np.array, not ascontiguousarray: that makes 0-d arrays 1-d
            return torch.from_numpy(np.array(x, dtype=np.int64, order="C"))
        t = torch.from_numpy(np.array(x, dtype=np.float32 if dtype == "bfloat16" else dtype, order="C"))
        if dtype == "bfloat16":
            t = t.to(torch.bfloat16)
        return t.requires_grad_(grad)

    def numpy(self, t) -> np.ndarray:
        t = t.detach()
        return (t.float() if t.dtype == self.torch.bfloat16 else t).numpy().astype(np.float64)

    def _scalar(self, out, reduction):
        return out.sum() if reduction == "none" else out

    def loss_and_grad(self, logits, target, weight, alpha, reduction, ignore_index, dtype):
        z = self.tensor(logits, dtype, grad=True)
        t = self.tensor(target, dtype)
        w = None if weight is None else self.tensor(weight, dtype)
        out = self.torch.nn.functional.cross_entropy(z, t, weight=w, label_smoothing=alpha, reduction=reduction,
                                                     ignore_index=-100 if ignore_index is None else ignore_index)
        if str(out.dtype).split(".")[-1] != dtype:
            raise TypeError(f"PyTorch returned {out.dtype} for {dtype} input")
        self._scalar(out, reduction).backward()
        return self.numpy(out), self.numpy(z.grad)

    def ours_native(self, logits, target, weight, kw, dtype):
        z = self.tensor(logits, dtype, grad=True)
        t = self.tensor(target, dtype)
        w = None if weight is None else self.tensor(weight, dtype)
        out = smoothed_cross_entropy(z, t, weight=w, **kw)
        if not isinstance(out, self.torch.Tensor) or str(out.dtype).split(".")[-1] != dtype:
            raise TypeError(f"the package returned {type(out).__name__} {getattr(out, 'dtype', '')} for a {dtype} "
                            "torch tensor")
        self._scalar(out, kw["reduction"]).backward()
        return self.numpy(out), self.numpy(z.grad)


def property_case(draw, st, dtypes=PROPERTY_DTYPES) -> dict:
    """One random call (hypothesis's ``draw``): shape, class axis, K, dtype, logits, class indices (with ignored
    labels) or class probabilities, weights, PyTorch's alpha or the note's eps (within (K-1)/K, where PyTorch has
    an alpha for it), reduction."""
    K = draw(st.integers(2, 9))
    batch = tuple(draw(st.lists(st.integers(1, 6), min_size=0, max_size=3)))
    if batch and draw(st.integers(0, 9)) == 0:
        batch = (0,) + batch[1:]
    name = draw(st.sampled_from(list(dtypes)))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0] + ([100.0] if name in ("float32", "float64") else [])))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    zl = scale * rng.standard_normal(batch + (K,))
    if name == "bfloat16":
        import ml_dtypes
        zl = zl.astype(ml_dtypes.bfloat16)
    else:
        zl = zl.astype(name)
    ndim = len(batch) + 1
    axis = draw(st.sampled_from(list(range(-ndim, ndim)) + ([None] if ndim <= 2 else [])))
    soft = draw(st.booleans())
    if soft:
        tl = rng.dirichlet(np.full(K, draw(st.sampled_from([0.1, 1.0, 10.0]))), size=batch).astype(zl.dtype)
        y, ignore_index = None, draw(st.sampled_from([-100, None]))
    else:
        y = rng.integers(0, K, size=batch)
        ignore_index = draw(st.sampled_from([-100, None, int(rng.integers(0, K))]))
        if ignore_index == -100:
            y[rng.random(batch) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = -100
        tl = None
    weight = None
    if draw(st.booleans()):
        weight = rng.uniform(0.0, 3.0, K)
        weight[rng.random(K) < draw(st.sampled_from([0.0, 0.3]))] = 0.0
        weight = weight.astype(zl.dtype)
    if draw(st.booleans()):
        alpha = draw(st.sampled_from([0.0, 1e-3, 0.1, 0.5, 1.0]))
        smoothing = {"label_smoothing": alpha}
    else:
        eps = draw(st.sampled_from([0.0, 0.05, 0.5, (K - 1) / K]))
        smoothing, alpha = {"eps": eps}, eps_to_label_smoothing(eps, K)
    reduction = draw(st.sampled_from(list(REDUCTIONS)))
    return dict(K=K, name=name, zl=zl, axis=axis, tl=tl, y=y, ignore_index=ignore_index, weight=weight,
                smoothing=smoothing, alpha=alpha, reduction=reduction, scale=scale)


def torch_layout(x: np.ndarray) -> np.ndarray:
    """Classes last -> PyTorch's: axis 1 (axis 0 for one example)."""
    return np.moveaxis(x, -1, 1 if x.ndim >= 2 else 0)


def compare_property(ref: FullReference, table: Table, c: dict) -> None:
    """One case: the package on NumPy arrays (classes on ``axis``), the package on the framework's arrays, and the
    framework (PyTorch's layout), loss and gradient, into ``table`` under ``properties``."""
    K, name, zl, red = c["K"], c["name"], c["zl"], c["reduction"]
    ndim = zl.ndim
    a = ndim - 1 if c["axis"] is None else c["axis"] % ndim
    ours_layout = lambda x: np.moveaxis(x, -1, a)                      # noqa: E731
    target_l = c["tl"] if c["tl"] is not None else c["y"]
    target_ours = ours_layout(c["tl"]) if c["tl"] is not None else c["y"]
    target_torch = torch_layout(c["tl"]) if c["tl"] is not None else c["y"]
    kw = dict(c["smoothing"], reduction=red, ignore_index=c["ignore_index"], axis=c["axis"])
    mine = np.asarray(smoothed_cross_entropy(ours_layout(zl), target_ours, weight=c["weight"], **kw))
    if mine.dtype != zl.dtype:
        table.record(name, "properties", "dtype kept (NumPy in)", [np.nan], 0.0, f"got {mine.dtype}")
    native, native_grad = ref.ours_native(ours_layout(zl), target_ours, c["weight"], kw, name)
    theirs, their_grad = ref.loss_and_grad(torch_layout(zl), target_torch, c["weight"], c["alpha"], red,
                                           c["ignore_index"], name)
    rows = np.asarray(smoothed_cross_entropy(zl.astype(np.float64), target_l.astype(np.float64)
                                             if c["tl"] is not None else target_l,
                                             weight=None if c["weight"] is None else c["weight"].astype(np.float64),
                                             **dict(kw, reduction="none", axis=-1)))
    w = np.ones(K) if c["weight"] is None else c["weight"].astype(np.float64)
    row_tol, g_tol = full_bounds(K, name, rows, float(w.max()))
    if c["tl"] is not None:
        denominator = float(rows.size)
    else:
        kept = np.ones(rows.shape, bool) if c["ignore_index"] is None else c["y"] != c["ignore_index"]
        denominator = float(np.sum(w[np.where(kept, c["y"], 0)] * kept))
    kind = "class probabilities" if c["tl"] is not None else "class indices"
    where = (f"K={K}, shape {zl.shape} axis {c['axis']}, {kind}, {'weights' if c['weight'] is not None else 'no weight'}"
             f", {c['smoothing']}, scale={c['scale']:g}, ignore_index={c['ignore_index']}")
    if red == "none":
        tol = row_tol
        mine_cmp = mine.astype(np.float64)
    else:
        tol = full_reduced_tol(name, rows, row_tol, red, denominator)
        mine_cmp = np.float64(mine.astype(np.float64))
        if red == "mean" and not denominator:
            tol = 0.0                                                   # NaN or inf on both sides, exactly
    table.record(name, "properties", f"loss ({kind}), reduction={red}", difference(theirs, mine_cmp), tol, where)
    table.record(name, "properties", f"loss on {type(ref).__name__.removesuffix('FullReference').lower()} arrays, "
                 f"reduction={red}", difference(theirs, native), tol, where)
    scale = 1.0 / denominator if red == "mean" and denominator else 1.0
    if red != "mean" or denominator:
        table.record(name, "properties", f"gradient (autograd through the package vs the framework's), "
                     f"reduction={red}", difference(ours_layout(torch_layout_inverse(their_grad)), native_grad),
                     g_tol * scale, where)


def torch_layout_inverse(x: np.ndarray) -> np.ndarray:
    """PyTorch's layout -> classes last."""
    return np.moveaxis(x, 1 if x.ndim >= 2 else 0, -1)


def run_properties(ref: FullReference, *, seed: int = 0, examples: int = 2000, dtypes=PROPERTY_DTYPES,
                   **_grid) -> Table:
    """``examples`` random cases (hypothesis, seeded), each compared by :func:`compare_property`."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    table = Table()

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def each(data):
        compare_property(ref, table, property_case(data.draw, st, dtypes))

    with np.errstate(all="ignore"):
        each()
    return table


class ArraysReference:
    """The libraries :func:`run_arrays` uses, imported (so that a missing one is named before the run)."""

    def __init__(self):
        import array_api_compat
        import array_api_strict
        import jax
        import ml_dtypes
        import optax
        self.name = (f"JAX {jax.__version__} and optax {optax.__version__} arrays, array-api-strict "
                     f"{array_api_strict.__version__} (through array-api-compat {array_api_compat.__version__}), "
                     f"ml_dtypes {ml_dtypes.__version__}")


def run_arrays(ref=None, *, seed: int = 0, **_grid) -> Table:
    """Other arrays in, the same library's arrays out, and the issue's refusals: JAX (value and ``jax.grad`` against
    optax's softmax_cross_entropy on the same targets), array-api-strict (the standard's minimal namespace: the value
    of the NumPy path), ml_dtypes' bfloat16 in NumPy, and a 3-D input without an axis refused naming both
    conventions."""
    import array_api_strict as xs
    import jax
    import jax.numpy as jnp
    import ml_dtypes
    import optax

    table = Table()
    rng = np.random.default_rng(seed)
    for K in (2, 10, 100):
        for scale in (1.0, 10.0):
            z, y = sample_logits(rng, K, scale, np.float32)
            for alpha in (0.0, 0.1, 1.0):
                p = smoothed_targets(y, K, label_smoothing=alpha, dtype=np.float32)
                where = f"K={K}, alpha={alpha:g}, scale={scale:g}"
                zj, yj = jnp.asarray(z), jnp.asarray(y)
                out = smoothed_cross_entropy(zj, yj, label_smoothing=alpha, reduction="none")
                ok = isinstance(out, jax.Array) and out.dtype == jnp.float32
                table.record("float32", "arrays", "JAX array in: JAX array out, float32", [0.0 if ok else np.nan],
                             0.0, where)
                want = np.asarray(optax.softmax_cross_entropy(zj, jnp.asarray(p)), dtype=np.float64)
                table.record("float32", "arrays", "JAX: loss vs optax", difference(want, np.asarray(out)),
                             loss_tol(K, np.float32, want), where)
                g = jax.grad(lambda q: smoothed_cross_entropy(q, yj, label_smoothing=alpha, reduction="sum"))(zj)
                g_ref = jax.grad(lambda q: optax.softmax_cross_entropy(q, jnp.asarray(p)).sum())(zj)
                table.record("float32", "arrays", "JAX: jax.grad through the package vs through optax",
                             difference(np.asarray(g_ref), np.asarray(g)), grad_tol(K, np.float32), where)
                z64 = z.astype(np.float64)
                strict = smoothed_cross_entropy(xs.asarray(z64), xs.asarray(y), label_smoothing=alpha,
                                                reduction="none")
                ok = type(strict).__module__.split(".")[0] == "array_api_strict"
                mine = smoothed_cross_entropy(z64, y, label_smoothing=alpha, reduction="none")
                # both within loss_rtol of the exact loss (the Array API path is compensated as NumPy's is)
                table.record("float64", "arrays", "array-api-strict in: its array out, = the NumPy path",
                             difference(np.from_dlpack(strict), mine) if ok else [np.nan],
                             2 * loss_rtol(K) * np.abs(mine) + np.finfo(np.float64).tiny, where)
                b = z.astype(ml_dtypes.bfloat16)
                got = smoothed_cross_entropy(b, y, label_smoothing=alpha, reduction="none")
                exact = smoothed_cross_entropy(b.astype(np.float32), y, label_smoothing=alpha, reduction="none")
                # computed in float32 from the same (bfloat16) logits, then rounded once: half a bfloat16 ulp
                table.record("bfloat16", "arrays", "ml_dtypes.bfloat16 in NumPy: bfloat16 out, float32's loss "
                             "rounded once", difference(exact, got.astype(np.float64)) if got.dtype == b.dtype
                             else [np.nan], NARROW_U["bfloat16"] * np.abs(exact) + 1e-38, where)
    try:
        smoothed_cross_entropy(np.zeros((6, 4, 4)), np.zeros((6, 4), dtype=int), label_smoothing=0.0)
        named = False
    except ValueError as err:
        named = "axis=1 for PyTorch's layout" in str(err) and "axis=-1 for optax's and Keras's" in str(err)
    table.record("float64", "arrays", "(6, 4, 4) without an axis: refused, naming both conventions",
                 [0.0 if named else np.nan], 0.0, "the issue's C = d1 case")
    return table


def report(table: Table, ref_name: str, seconds: float, seed: int) -> tuple[str, int]:
    """The printed report and the exit status: 0 when every comparison is within its bound, else 1."""
    lines = [f"crosscheck: {ref_name} vs derivations (this package), seed {seed}, Python {platform.python_version()}",
             "", table.markdown(), "", CAPTION, ""]
    if table.failed:
        lines.append("FAILED: " + "; ".join(f"{d} {c} {q}" for d, c, q in table.failed))
        status = 1
    else:
        n = sum(r.n for r in table.rows.values())
        lines.append(f"ok: {n:,} values compared, every difference within its bound ({seconds:.1f} s)")
        status = 0
    return "\n".join(lines), status


FRAMEWORKS = {"optax": ("jax, jaxlib and optax", JaxReference, run), "torch": ("torch", TorchReference, run_labels),
              "properties": ("torch, hypothesis and ml_dtypes", TorchFullReference, run_properties),
              "arrays": ("jax, optax, array-api-compat, array-api-strict and ml_dtypes", ArraysReference, run_arrays)}


def main(argv=None, refs: dict | None = None, **grid) -> int:
    """Run the grid against each framework (or the given ``refs``, name -> reference; ``grid``: a smaller grid's
    ks, scales, alphas, epss), print one table each, return the exit status: 0 when every comparison passed, 1 when
    one failed, 2 when a framework is missing."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="seed of the random logits and labels (default 0)")
    ap.add_argument("--frameworks", default="optax,torch,properties,arrays",
                    help="which, comma-separated (default optax,torch,properties,arrays)")
    ap.add_argument("--examples", type=int, default=2000, help="hypothesis examples against PyTorch (default 2000)")
    args = ap.parse_args(argv)
    names = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    unknown = [f for f in names if f not in FRAMEWORKS]
    if unknown or not names:
        ap.error(f"--frameworks takes a comma-separated subset of {', '.join(FRAMEWORKS)}; got {args.frameworks!r}")
    status = 0
    for name in names:
        packages, make_ref, run_grid = FRAMEWORKS[name]
        t0 = time.perf_counter()
        if refs is not None and name in refs:
            ref = refs[name]
        else:
            try:
                ref = make_ref()
            except ImportError as err:
                print(f"crosscheck: {name} needs {packages}, not importable here ({err}); `make crosscheck` installs "
                      "them (pinned, requirements-crosscheck.txt) into .venv-crosscheck", file=sys.stderr)
                return 2
        extra = {"examples": args.examples} if name == "properties" else {}
        text, failed = report(run_grid(ref, seed=args.seed, **extra, **grid), ref.name, time.perf_counter() - t0,
                              args.seed)
        print(text + "\n")
        status = max(status, failed)
    return status


if __name__ == "__main__":
    sys.exit(main())
