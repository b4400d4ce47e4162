"""Chapter 1 at the reader's values: the hard-label loss against mpmath, the step to ``K - 1``, LSE bounds.

Tolerances: the library's losses are accurate to
:func:`~derivations.library.numeric.loss_rtol` (``(8 + log2 K)`` units of roundoff,
relative); ``LSE(z) - max z`` is a difference, so its error is absolute, a few
units of roundoff of ``max|z| + log K``.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.engine.display import MathView
from derivations.engine.finding import Finding, Findings, within
from derivations.engine.reference import mp_cross_entropy, mp_log_sum_exp
from derivations.engine.symbolic import Logits, canonical, softmax
from derivations.engine.tex import number
from derivations.library.lse_bounds import max_approximation_error
from derivations.library.numeric import cross_entropy_per_example, loss_rtol

__all__ = ["SCALES", "spot_rows", "losses_vs_mpmath", "cross_entropy_vs_mpmath", "others_zero_example", "lse_bounds_spot",
           "softmax_total"]

#: Logit scales of the spot checks: ordinary, large, and far beyond where a naive exp overflows.
SCALES = (1.0, 1e2, 1e4, 1e300)


def spot_rows(K: int, budget: int = 20_000, most: int = 8) -> int:
    """Rows per scale for an mpmath spot check: at most ``most``, and ``budget`` logits in all (mpmath is slow).

    >>> spot_rows(10), spot_rows(100_000)
    (8, 1)
    """
    return max(1, min(most, budget // K))


def losses_vs_mpmath(title: str, K: int, seed: int, loss, reference, detail: str = "") -> Findings:
    """A library loss ``loss(z, y)`` at random logits and labels against ``reference(row, label)`` (mpmath, 50
    digits), at every scale of :data:`SCALES`, to :func:`~derivations.library.numeric.loss_rtol` relative; ``detail``
    (e.g. ``", $\\epsilon = 0.1$"``) follows K in the heading."""
    rng = np.random.default_rng(seed)
    rtol, tiny = loss_rtol(K), float(np.finfo(float).tiny)
    n = spot_rows(K)
    out = Findings(f"`{title}` against mpmath (50 digits), $K = {K}${detail}, {n} random point(s) per scale, seed {seed}")
    for scale in SCALES:
        z = rng.uniform(-scale, scale, size=(n, K))
        y = rng.integers(0, K, size=n)
        got = loss(z, y)
        ref = np.array([float(reference(row, int(t))) for row, t in zip(z, y)])
        err = np.abs(got - ref)
        ok = bool(np.all(np.isfinite(got)) and np.all(err <= rtol * np.abs(ref) + tiny))
        worst = float(np.max(err / np.maximum(np.abs(ref), tiny)))
        out.add(Finding("numeric", f"logits uniform in $[-{_power(scale)}, {_power(scale)}]$", ok,
                        observed=within(ok, worst, "relative error"),
                        bound=rf"tolerance $(8 + \log_2 K)\,u = {number(rtol, '.1e')}$"))
    return out


def _power(scale: float) -> str:
    """A logit scale, a power of ten, in LaTeX: ``1``, ``10^{2}``."""
    k = round(np.log10(scale))
    return "1" if k == 0 else f"10^{{{k}}}"


def cross_entropy_vs_mpmath(K: int, seed: int) -> Findings:
    """``cross_entropy_per_example`` at random logits and labels, against mpmath at 50 digits, at every scale of :data:`SCALES`."""
    return losses_vs_mpmath("cross_entropy_per_example", K, seed, cross_entropy_per_example, mp_cross_entropy)


def others_zero_example(K: int) -> Findings:
    """The printed step ``log(exp(z_1) + K - 1)``: exact when the other logits are 0, off when one is not.

    ``z_1 = 1.5``. The second point puts ``z_2 = log K + 3``, so ``exp(z_2) = K e^3``
    outweighs the ``K - 1`` it replaces for every K: the printed form is then
    off by ``log((e^1.5 + K e^3 + K - 2) / (e^1.5 + K - 1))``, which increases
    with K from 2.10 (K = 2) towards ``log(1 + e^3) = 3.05``.
    """
    z1 = 1.5
    printed = -(z1 - np.logaddexp(z1, np.log(K - 1)))
    zero = np.array([z1] + [0.0] * (K - 1))
    other = zero.copy()
    other[1] = np.log(K) + 3.0
    exact0, exact1 = float(cross_entropy_per_example(zero, 0)), float(cross_entropy_per_example(other, 0))
    out = Findings(rf"The step to $\log(e^{{z_1}} + K - 1)$, $K = {K}$, $z_1 = {z1:g}$")
    out.add(Finding("numeric", "other logits zero: the printed form is exact",
                    abs(printed - exact0) <= 4 * 2.0 ** -53 * max(1.0, exact0),
                    observed=f"printed {printed:.6f}, exact {exact0:.6f}",
                    bound="to rounding, $4u$"))
    out.add(Finding("numeric", r"$z_2 = \log K + 3$: the printed form is off", exact1 - printed > 2.0,
                    observed=f"printed {printed:.6f}, exact {exact1:.6f} "
                             f"(difference {exact1 - printed:.3f})",
                    bound="more than 2 for every $K$"))
    return out


def lse_bounds_spot(K: int, seed: int) -> Findings:
    """``0 <= LSE(z) - max z <= log K`` at random logits for K in (2, 3, 10, 1000) and the reader's K, checked against mpmath."""
    rng = np.random.default_rng(seed)
    Ks = sorted({2, 3, 10, 1000, K})
    out = Findings(rf"$\mathrm{{LSE}}(z) - \max_j z_j$ at random logits, $K \in \{{{', '.join(map(str, Ks))}\}}$, "
                   f"seed {seed}")
    u = 2.0 ** -53
    for k in Ks:
        worst_mp, inside = 0.0, True
        for scale in (0.1, 1.0, 10.0, 1e3):
            z = rng.uniform(-scale, scale, size=(spot_rows(k, 4000, 16), k))
            err = max_approximation_error(z)
            ref = np.array([float(mp_log_sum_exp(row) - max(row)) for row in z[:2]])
            atol = 8 * u * (np.abs(z[:2]).max(axis=1) + np.log(k))
            worst_mp = max(worst_mp, float(np.max(np.abs(err[:2] - ref) / atol)))
            inside &= bool(np.all(err >= 0) and np.all(err <= np.log(k) + 8 * u * (scale + np.log(k))))
        out.add(Finding("numeric", f"$K = {k}$", inside and worst_mp <= 1.0,
                        observed=r"$0 \le \mathrm{LSE} - \max \le \log K$ " + ("everywhere" if inside else "VIOLATED") +
                                 "; against mpmath " + within(worst_mp <= 1.0, worst_mp, "error / tolerance"),
                        bound=r"tolerance $8u\,(\max_j |z_j| + \log K)$, absolute"))
    return out


def softmax_total() -> MathView:
    """The softmax summed over the classes for a general symbolic K, as SymPy reduces it.

    ``simplify`` leaves a ratio of two sums over the same terms (their indices
    differ); naming both indices ``j`` (:func:`~derivations.engine.symbolic.canonical`) makes it 1.
    """
    g = Logits()
    total = g.sum(lambda i: softmax(g, i))
    ratio = sp.simplify(total.doit())
    one = sp.simplify(canonical(ratio))
    assert one == 1, f"the softmax of a general K sums to {one}"
    return MathView((f"{sp.latex(total)} = {sp.latex(ratio)} = {sp.latex(one)}",
                     f"{sp.sstr(total)} = {sp.sstr(ratio)} = {sp.sstr(one)}"))
