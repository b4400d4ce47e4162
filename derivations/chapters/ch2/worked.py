"""Chapter 2 at the reader's values: the printed q, the squared coefficients, mpmath, the optimum, conventions.

Each worked example is chosen so that what it shows holds for every K and eps,
and says why: the printed q's components sum to a convex function of eps
(so below its values at 0 and 1, both under 1); the note's final line is off by
exactly ``eps (1 - eps) m`` on the family ``z = (m, 0, ..., 0)``, up to the
error ``log1p((K-1) e^-m)`` of LSE ~ max, made small by ``m = log(K-1) + c``.
"""
from __future__ import annotations

import math

import numpy as np

from derivations.chapters.ch1.worked import losses_vs_mpmath
from derivations.engine.finding import Finding, Findings, outside, within
from derivations.engine.reference import mp_smoothed_cross_entropy
from derivations.engine.regimes import regime, uniform_eps
from derivations.engine.tex import number
from derivations.library.numeric import loss_rtol
from derivations.library.smoothing import (
    eps_to_label_smoothing,
    label_smoothing_to_eps,
    smoothed_cross_entropy,
    smoothed_minimum,
    smoothed_optimum_gap,
    smoothed_targets,
)

__all__ = ["printed_q_sum", "loss_squared_example", "smoothed_vs_mpmath", "optimum_table", "conventions_example"]

U = 2.0 ** -53


def _printed_q_total(K: int, eps: float) -> float:
    """Sum of the note's printed components at ``z = (log K + 3, 1, ..., 1)``, in closed form."""
    z1 = math.log(K) + 3.0
    S = K * math.exp(3.0) + (K - 1) * math.e                # sum_j exp(z_j)
    return (math.exp((1 - eps) * z1) + (K - 1) * math.exp(eps / (K - 1))) / S


def printed_q_sum(K: int, eps: float) -> Findings:
    """The note's modified ``q_theta`` (chapter 2, eq. 1) at a concrete point: not a probability vector."""
    z = np.array([math.log(K) + 3.0] + [1.0] * (K - 1))
    coeff = np.array([1 - eps] + [eps / (K - 1)] * (K - 1))
    total = float(np.sum(np.exp(coeff * z)) / np.sum(np.exp(z)))
    ends = max(_printed_q_total(K, 0.0), _printed_q_total(K, 1.0))
    out = Findings(rf"The printed $q_\theta$ at $z = (\log K + 3, 1, \dots, 1)$, $K = {K}$, $\epsilon = {eps:g}$")
    out.add(Finding("numeric", "the printed components do not sum to 1", total <= ends * (1 + 8 * U) and ends < 1 - 1e-3,
                    observed=f"they sum to {total:.6f}",
                    bound=rf"a convex function of $\epsilon$, so at most its larger end value ${ends:.6f} < 1$"))
    return out


def loss_squared_example(K: int, eps: float, offsets=(5.0, 20.0, 80.0)) -> Findings:
    """The note's final line (squared coefficients) on ``z = (m, 0, ..., 0)``, ``m = log(K-1) + c``.

    There the exact loss is ``eps m + delta`` with ``delta = log1p((K-1) e^-m) = log1p(e^-c)``
    (the error of LSE ~ max), the corrected approximation ``max z - (1-eps) z_1 - ... = eps m``,
    and the note's ``m - (1-eps)^2 m = eps (2 - eps) m``: off by ``eps (1 - eps) m - delta``.
    """
    out = Findings(rf"The note's final line on $z = (m, 0, \dots, 0)$, $m = \log(K-1) + c$, $K = {K}$, "
                   rf"$\epsilon = {eps:g}$")
    for c in offsets:
        m = math.log(K - 1) + c
        z = np.array([[m] + [0.0] * (K - 1)])
        exact = float(smoothed_cross_entropy(z, [0], eps=eps))
        delta = math.log1p(math.exp(-c))
        note = m - (1 - eps) ** 2 * m
        corrected = eps * m
        tol = 4 * loss_rtol(K) * max(exact, 1.0) + 8 * U * m
        ok = abs((exact - corrected) - delta) <= tol and abs((note - exact) - (eps * (1 - eps) * m - delta)) <= tol
        out.add(Finding("numeric", f"$c = {c:g}$ ($m = {m:.3f}$)", ok,
                        observed=f"exact {exact:.4f}, corrected (max) {corrected:.4f}, note {note:.4f}: the note is off by "
                                 rf"${round(note - exact, 4) + 0.0:+.4f} = \epsilon(1-\epsilon)m - \delta$, "
                                 rf"$\delta = {number(delta, '.1e')}$",
                        bound=f"identities to rounding, ${number(tol, '.0e')}$",
                        note="" if 0 < eps < 1 else r"$\epsilon(1-\epsilon) = 0$ here: with the other logits at 0 the "
                             r"squared coefficients change nothing on this family; the error of the note's line is only "
                             r"$\delta$, as for the max form"))
    return out


def smoothed_vs_mpmath(K: int, eps: float, seed: int) -> Findings:
    """``smoothed_cross_entropy`` against :func:`~derivations.engine.reference.mp_smoothed_cross_entropy` (50 digits)."""
    return losses_vs_mpmath("smoothed_cross_entropy", K, seed, lambda z, y: smoothed_cross_entropy(z, y, eps=eps, reduction="none"),
                            lambda row, t: mp_smoothed_cross_entropy(row, t, eps), detail=rf", $\epsilon = {eps:g}$")


def optimum_table(K: int, eps: float):
    r"""The optimal logit gap and the minimum loss for several $\epsilon$, the reader's marked, with each regime: a
    table (:class:`~derivations.engine.figures.Table`), typeset in the notebook and the book, aligned text for nbval.

    At $K = 3$, $\epsilon = 1/2$ the optimal gap is $\log((1-\epsilon)(K-1)/\epsilon) = \log 2$ and the minimum loss
    $H(p_\epsilon) = \tfrac32 \log 2$, in the reader's row:

    >>> [row for row in optimum_table(3, 0.5).body if "yours" in row[0]]
    [['0.5 (yours)', '0.6931', '1.039721', 'smoothing']]
    """
    from derivations.engine.figures import Table  # matplotlib: only where a table is shown

    rows = []
    for e in sorted({0.0, 0.01, 0.05, 0.2, 0.5, uniform_eps(K), 1.0, float(eps)}):
        gap = smoothed_optimum_gap(K, e)
        g = r"$+\infty$" if gap == math.inf else r"$-\infty$" if gap == -math.inf else f"{round(gap, 6) + 0.0:.4f}"
        mark = " (yours)" if e == eps else ""
        rows.append([f"{e:.6g}{mark}", g, f"{smoothed_minimum(K, e):.6f}", regime(K, e)])
    return Table([rf"$\epsilon$ ($K = {K}$)", r"optimal gap $g^*$", r"minimum loss $H(p_\epsilon)$", "regime"], rows)


def conventions_example(K: int, eps: float, seed: int, alpha: float = 0.1) -> Findings:
    """The frameworks' ``alpha`` against the note's ``eps``: the mapping, equal targets and losses."""
    e = label_smoothing_to_eps(alpha, K)
    y = np.array([0, K - 1])
    out = Findings(rf"Conventions, $K = {K}$: the frameworks' $\alpha = {alpha:g}$ is the note's $\epsilon = {e:.6g}$")
    back = eps_to_label_smoothing(e, K)
    tol_back = 4 * U * alpha / (1 - 4 * U)       # two roundings each way: a product and a quotient
    ok_back = abs(back - alpha) <= tol_back
    out.add(Finding("numeric", r"$\epsilon = \alpha \frac{K-1}{K}$ and back", ok_back,
                    observed=rf"$\alpha = {alpha:g} \mapsto \epsilon = {e:.6g} \mapsto \alpha = {back:.6g}$"
                             + outside(ok_back, back, alpha, tol_back),
                    bound=f"to rounding, ${number(tol_back, '.0e')}$"))
    t_note, t_uni = smoothed_targets(y, K, eps=e), smoothed_targets(y, K, label_smoothing=alpha)
    z = np.random.default_rng(seed).normal(size=(2, K))
    l_note = smoothed_cross_entropy(z, y, eps=e, reduction="none")
    l_uni = smoothed_cross_entropy(z, y, label_smoothing=alpha, reduction="none")
    dt = float(np.max(np.abs(t_note - t_uni)))
    dl = float(np.max(np.abs(l_note - l_uni) / np.abs(l_uni)))
    # targets: eps carries 2 roundings (label_smoothing_to_eps), each level one or two more, a sum of terms at most 1:
    # 6u; losses: each within loss_rtol of its own exact value, and those differ by the levels' 6u, relative to the
    # true class's share (its level is at least 1 - alpha)
    tol_t = 6 * U
    tol_l = 2 * loss_rtol(K) + 6 * U * (1 + 1 / float(t_uni[0, 0]))
    same = dt <= tol_t and dl <= tol_l
    out.add(Finding("numeric", "same targets and losses", same,
                    observed=f"true-class target {t_note[0, 0]:.6f} under both; targets and "
                             "losses " + within(same, max(dt, dl), "largest difference"),
                    bound=f"tolerance ${number(tol_t, '.0e')}$ (targets), ${number(tol_l, '.0e')}$ relative (losses)"))
    if eps <= uniform_eps(K):
        out.add(Finding("numeric", r"your $\epsilon$ as an $\alpha$",
                        observed=rf"$\epsilon = {eps:g}$ is $\alpha = {eps_to_label_smoothing(eps, K):.6g}$",
                        bound="exact"))
    for e_try in ([eps] if uniform_eps(K) < eps < 1.0 else []) + [1.0]:
        try:
            eps_to_label_smoothing(e_try, K)
            raised = ""
        except ValueError as err:
            raised = str(err)
        out.add(Finding("numeric", rf"$\epsilon = {e_try:g}$ has no $\alpha$", bool(raised),
                        observed=f"`eps_to_label_smoothing` raises `ValueError: {raised}`" if raised else "no error",
                        bound=r"$\epsilon$ above $\frac{K-1}{K}$ puts less mass on the true class than on the others"))
    return out

