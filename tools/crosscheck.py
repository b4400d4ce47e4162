"""`make crosscheck`: this package's label smoothing against a real framework, JAX with optax.

For K in 2, 3, 10, 100, 1000, random logits at scales 0.1 to 1000 (seeded; a quarter of the rows
confidently right, a quarter confidently wrong) and float32 and float64 (JAX's x64 mode for the
latter), it compares, in the same dtype on both sides:

* **targets**: ``optax.smooth_labels(onehot, alpha)`` with ``smoothed_targets(y, K, alpha,
  convention="uniform")`` and with ``smoothed_targets(y, K, alpha_to_eps(alpha, K))`` (the note's
  eps); and, for a grid of the note's eps up to (K-1)/K, ``smoothed_targets(y, K, eps)`` with
  ``optax.smooth_labels(onehot, eps_to_alpha(eps, K))``;
* **loss**: ``optax.softmax_cross_entropy(z, those targets)`` with ``smoothed_cross_entropy`` in
  the same convention;
* **gradient** with respect to the logits: ``jax.grad`` of the optax loss with the closed form
  ``softmax(z) - p`` (the package's softmax and targets); in float64, also central finite
  differences of the package's loss with that closed form (in float32 a finite difference carries
  more rounding than the quantities compared, so it would decide nothing).

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

The table prints, per dtype, convention and quantity, how many values were compared, the largest
absolute difference, and the largest ratio of a difference to its bound with that difference, its
bound and where it occurred (K, parameter, logit scale). The run fails (exit 1) when any ratio exceeds 1 or is not finite.
Run as ``python tools/crosscheck.py [--seed N]`` in an environment with JAX and optax (make
crosscheck builds one, .venv-crosscheck). The comparison logic takes any :class:`Reference`, so
``tests/test_crosscheck.py`` runs it without JAX, on the package against itself.
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
    alpha_to_eps,
    eps_to_alpha,
    smoothed_cross_entropy,
    smoothed_targets,
)

KS = (2, 3, 10, 100, 1000)
#: The framework's alpha (uniform mixture), edges 0 and 1 included.
ALPHAS = (0.0, 1e-3, 0.01, 0.1, 0.2, 0.5, 0.9, 1.0)
#: The note's eps; those above (K-1)/K are dropped (no alpha in [0, 1]) and (K-1)/K is added.
EPSS = (0.0, 1e-3, 0.05, 0.1, 0.3, 0.5)
SCALES = (0.1, 1.0, 10.0, 100.0, 1000.0)
DTYPES = (np.float32, np.float64)
ROWS = 32


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
        lines = ["| dtype | convention | quantity | values | max abs difference | worst difference / bound "
                 "| that difference | its bound | where (K, parameter, logit scale) | status |",
                 "|---|---|---|---|---|---|---|---|---|---|"]
        for (dtype, conv, quantity), r in self.rows.items():
            status = "ok" if not r.failures else f"FAILED ({r.failures})"
            lines.append(f"| {dtype} | {conv} | {quantity} | {r.n:,} | {r.max_diff:.1e} | {r.max_ratio:.2g} "
                         f"| {r.diff_at_worst:.1e} | {r.tol_at_worst:.1e} | {r.where} | {status} |")
        return "\n".join(lines)


CAPTION = ("Largest absolute difference between optax and this package, per dtype, convention and quantity, and "
           "the largest ratio of a difference to its worst-case bound, with that difference, its bound and where "
           "it occurred (u = unit roundoff of the dtype, "
           "B(K) = (K + 8 + log2 K) u; targets 8 u; loss 2 B(K) (1 + L), L the loss, which grows with the logit "
           "scale; gradient 4 B(K) per entry; finite differences h^2/60 + the losses' own error / step + B(K)). "
           "A ratio above 1 fails.")


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
    """``(convention, the package's parameter, optax's alpha)`` for every alpha (in both conventions) and
    every note's eps in [0, (K-1)/K] (edge included)."""
    K = num_classes
    out = [c for a in alphas for c in (("uniform", a, a), ("note", alpha_to_eps(a, K), a))]
    top = (K - 1) / K
    for e in sorted({e for e in epss if e <= top} | {top}):
        out.append(("note", e, eps_to_alpha(e, K)))
    return out


def finite_differences(z: np.ndarray, y: np.ndarray, eps: float, convention: str):
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
        lp = smoothed_cross_entropy(zp, y, eps, convention)
        lm = smoothed_cross_entropy(zm, y, eps, convention)
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
        where = f"K={K}, {'alpha' if conv == 'uniform' else 'eps'}={param:.4g}, scale={scale:g}"
        t_ref = ref.smooth_labels(onehot, alpha)
        t_pkg = smoothed_targets(y, K, param, convention=conv, dtype=dtype)
        table.record(dtype, conv, "targets", t_ref - t_pkg.astype(np.float64), target_tol(dtype), where)
        l_pkg = smoothed_cross_entropy(z, y, param, conv)
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
    """The whole grid, float32 first (JAX's default mode), then float64; one seeded generator throughout."""
    rng = np.random.default_rng(seed)
    table = Table()
    for dtype in dtypes:
        ref.use_dtype(dtype)
        for K in ks:
            for scale in scales:
                compare(ref, table, dtype, K, scale, rng, alphas, epss, fd)
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


def main(argv=None, ref: Reference | None = None) -> int:
    """Run the grid against JAX/optax (or ``ref``), print the table, return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="seed of the random logits and labels (default 0)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ref = ref if ref is not None else JaxReference()
    table = run(ref, seed=args.seed)
    text, status = report(table, ref.name, time.perf_counter() - t0, args.seed)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
