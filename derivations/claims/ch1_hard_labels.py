"""Chapter 1: the note's opening section: hard labels, cross-entropy, LSE ~ max.

The note's displayed equations, in order, followed by the results the
companion adds (the exact bounds of log-sum-exp and its error against the
logit margin). Class 1 is the true class throughout, as in the note.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .. import numeric as num
from ..checks import (
    NUMERIC_K, OTHERS_ZERO, RTOL, SCALES, equation, rng_for, sample_logits,
)
from ..lse_bounds import logit_margin, margin_error_bounds, max_approximation_error
from ..reference import mp_log_sum_exp
from ..registry import Claim, Verdict, Counterexample, Evidence, Fact, register
from ..symbolic import Logits, cross_entropy, is_zero, log_sum_exp, one_hot, softmax

SECTION = "Hard labels (opening section)"


def hard_loss(x: Logits):
    """The exact hard-label loss, from the definitions: ``H(onehot_1, softmax(z))``."""
    return cross_entropy(x, lambda j: one_hot(x, j))


def hard_loss_numeric(z: np.ndarray) -> np.ndarray:
    """The same, from the NumPy library (true class = index 0)."""
    return num.cross_entropy(z, np.zeros(len(z), dtype=int))


def _max(x: Logits):
    return sp.Max(*[x.z(j) for j in range(1, x.K + 1)])


def _sup_norm(x: Logits):
    return sp.Max(*[sp.Abs(x.z(j)) for j in range(1, x.K + 1)])


# -- 1. the softmax -----------------------------------------------------------
register(Claim(
    id="ch1.softmax", chapter=1, section=SECTION, order=1,
    stated=Verdict.HOLDS,
    title="The softmax output",
    printed=r"q_\theta(y|x_i) = \left(\frac{\exp(z_{y_1})}{\sum_{j=1}^K \exp(z_{y_j})}, \cdots, "
            r"\frac{\exp(z_{y_K})}{\sum_{j=1}^K \exp(z_{y_j})}\right)",
    check=equation(
        printed=lambda x: sp.exp(x.z(x.K)) / x.sum(lambda j: sp.exp(x.z(j))),
        exact=lambda x: softmax(x, x.K),
        reference=lambda z: num.softmax(z)[:, -1],
        key="ch1.softmax",
    ),
    remark="A definition; checked componentwise (class K shown) against the stable NumPy softmax. "
           "Writing z_{y_j} for the logit of class j is the note's notation.",
))


# -- 2. the one-hot target ---------------------------------------------------
def _check_one_hot() -> Evidence:
    facts = []
    j = sp.Symbol("j", integer=True, positive=True)
    printed = sp.Piecewise((1, sp.Eq(j, 1)), (0, True))
    same = all(printed.subs(j, k) == one_hot(Logits(3), k) for k in range(1, 9))
    facts.append(Fact("symbolic", "printed cases equal KroneckerDelta(j, 1) for j = 1..8", same))
    g = Logits()
    total = g.sum(lambda k: one_hot(g, k)).doit()
    facts.append(Fact("symbolic", f"sum_j p_j = {total} (general K)", total == 1))
    return Evidence(holds=same and total == 1, facts=facts)


register(Claim(
    id="ch1.one_hot", chapter=1, section=SECTION, order=2,
    stated=Verdict.HOLDS,
    title="The hard (one-hot) target",
    printed=r"p(y_j|x) = \begin{cases} 1, & \text{if } j = 1\\ 0, & \text{otherwise} \end{cases}",
    check=_check_one_hot,
    remark="A definition: the one-hot vector of class 1.",
))


# -- 3. both sum to one ------------------------------------------------------
def _check_normalisation() -> Evidence:
    facts = []
    g = Logits()
    q_sum = g.sum(lambda i: softmax(g, i))
    ok_q = is_zero(q_sum - 1)
    facts.append(Fact("symbolic", "sum_i exp(z_i) / sum_j exp(z_j) = 1 (general K)", ok_q))
    ok_p = g.sum(lambda k: one_hot(g, k)).doit() == 1
    facts.append(Fact("symbolic", "sum_j p_j = 1 (general K)", ok_p))
    rng, worst = rng_for("ch1.normalisation"), 0.0
    for K in NUMERIC_K:
        for scale in SCALES + (1e4,):
            q = num.softmax(sample_logits(rng, K, scale))
            worst = max(worst, float(np.max(np.abs(q.sum(axis=-1) - 1))))
    facts.append(Fact("numeric", "NumPy softmax rows sum to 1 within 8 ulps, logit scales up to 1e4", worst <= 8 * np.finfo(float).eps, worst))
    return Evidence(holds=ok_q and ok_p, facts=facts)


register(Claim(
    id="ch1.normalisation", chapter=1, section=SECTION, order=3,
    stated=Verdict.HOLDS,
    title="Both distributions sum to one",
    printed=r"\sum_{j=1}^{K} q_{\theta}(y_j|x_i) = 1 \quad\text{and}\quad \sum_{j=1}^{K} p(y_j|x_i) = 1",
    check=_check_normalisation,
    remark="Stated in the text, not displayed; proved for a general symbolic K.",
))


# -- 4-8. the cross-entropy chain ------------------------------------------------
def _neg_sum_p_log_q(x: Logits):
    return -x.sum(lambda j: one_hot(x, j) * sp.log(sp.exp(x.z(j)) / x.sum(lambda k: sp.exp(x.z(k)))))


register(Claim(
    id="ch1.loss_as_sum", chapter=1, section=SECTION, order=4,
    stated=Verdict.HOLDS,
    title="The loss as a sum of per-class terms",
    printed=r"\mathcal{L} = \sum_{j=1}^{K} H_{j}(p, q_{\theta})",
    check=equation(printed=_neg_sum_p_log_q, exact=hard_loss, reference=hard_loss_numeric, key="ch1.loss_as_sum"),
    remark="Holds once H_j(p, q) is read as the per-class term -p_j log q_j, which the note never defines. "
           "Chapter 2 reuses the symbol with a sum over examples instead (sum_{l=1}^N H_i).",
))

register(Claim(
    id="ch1.loss_definition", chapter=1, section=SECTION, order=5,
    stated=Verdict.HOLDS,
    title="Cross-entropy between target and prediction",
    printed=r"= -\sum_{j=1}^{K} p(y_{j}|x) \log(q_{\theta}(y_{j}|x))",
    check=equation(printed=_neg_sum_p_log_q, exact=hard_loss, reference=hard_loss_numeric, key="ch1.loss_definition"),
    remark="The definition of cross-entropy, checked against the NumPy cross_entropy.",
))

register(Claim(
    id="ch1.loss_true_class", chapter=1, section=SECTION, order=6,
    stated=Verdict.HOLDS,
    title="Only the true class contributes",
    printed=r"= -(1) \cdot \log(q_{\theta}(y_{1}|x))",
    check=equation(printed=lambda x: -sp.log(softmax(x, 1)), exact=hard_loss,
                   reference=hard_loss_numeric, key="ch1.loss_true_class"),
    remark="The sum over a Kronecker delta, evaluated by SymPy for a general K.",
))

register(Claim(
    id="ch1.loss_lse", chapter=1, section=SECTION, order=7,
    stated=Verdict.HOLDS,
    title="Loss = LSE(z) - z_1",
    printed=r"= -\left(z_{y_{1}} - \log\left(\sum_{j=1}^{K} \exp(z_{y_{j}})\right)\right)",
    check=equation(printed=lambda x: -(x.z(1) - log_sum_exp(x)), exact=hard_loss,
                   reference=hard_loss_numeric, key="ch1.loss_lse"),
    remark="Holds: log of the softmax. The note's justification '(assuming i is the correct label)' "
           "names i where the class is 1, and no assumption is used at this step.",
))

register(Claim(
    id="ch1.loss_others_zero", chapter=1, section=SECTION, order=8,
    stated=Verdict.HOLDS_UNDER,
    title="The step to log(exp(z_1) + K - 1)",
    printed=r"= -\left(z_{y_{1}} - \log\left(\exp(z_{y_{1}}) + K - 1\right)\right)",
    assumption=OTHERS_ZERO.name,
    corrected=r"= -\left(z_{y_1} - \log\left(\exp(z_{y_1}) + \sum_{j=2}^{K} \exp(z_{y_j})\right)\right)",
    check=equation(
        printed=lambda x: -(x.z(1) - sp.log(sp.exp(x.z(1)) + x.K - 1)),
        exact=hard_loss, reference=hard_loss_numeric, assumption=OTHERS_ZERO,
        corrected=lambda x: -(x.z(1) - sp.log(sp.exp(x.z(1)) + x.sum(lambda j: sp.exp(x.z(j)), start=2))),
        key="ch1.loss_others_zero",
    ),
    remark="exp(z_j) = 1 for every j != 1 only if those logits are all zero, which the note never says. "
           "Since adding a constant to every logit leaves the loss unchanged, the printed form is also right "
           "whenever the other logits are all equal, reading z_1 as z_1 minus their common value; in general it is not.",
))


# -- 9. the approximation by the maximum --------------------------------------------
MARGIN_REGIME = "one logit dominates: the margin Delta between the largest logit and the next grows without bound"


def _check_sup_norm_approx() -> Evidence:
    facts: list[Fact] = []
    printed = lambda x: -(x.z(1) - _sup_norm(x))          # noqa: E731
    corrected = lambda x: -(x.z(1) - _max(x))              # noqa: E731
    # symbolic: neither form is an identity (K = 3 is enough to see it)
    x3 = Logits(3)
    not_identity = not is_zero(printed(x3) - hard_loss(x3))
    facts.append(Fact("symbolic", "printed - exact is not identically zero (K=3)", not_identity))
    # symbolic: along the family z_1 = m, z_j = m - Delta (j >= 2), for a general K
    g = Logits()
    m = sp.Symbol("m", real=True)
    d = sp.Symbol("Delta", positive=True)
    lse_family = sp.simplify(g.fix_others(log_sum_exp(g), m - d).subs(g.z(1), m))
    err_corr = sp.simplify(sp.expand_log(lse_family - m, force=True))
    lim_corr = sp.limit(err_corr, d, sp.oo)
    facts.append(Fact("symbolic", f"corrected: exact - approximation on the family = {sp.sstr(err_corr)}, "
                                  f"-> {lim_corr} as Delta -> oo (any real m)", lim_corr == 0))
    m_neg = sp.Symbol("m", negative=True)
    sup_family = sp.Max(sp.Abs(m_neg), sp.Abs(m_neg - d))        # = Delta - m for m < 0
    lim_printed = sp.limit(lse_family.subs(m, m_neg) - sup_family, d, sp.oo)
    facts.append(Fact("symbolic", f"printed: exact - approximation -> {lim_printed} as Delta -> oo when m < 0",
                      lim_printed != 0))
    holds_under = lim_printed == 0
    # numeric: counterexample in the regime, confirmed in mpmath
    z = np.array([-20.0, -40.0, -40.0])
    exact_mp = float(mp_log_sum_exp(z) - z[0])
    ce = Counterexample("loss", float(-(z[0] - np.max(np.abs(z)))), exact_mp, K=3, z=tuple(z), note="margin 20")
    facts.append(Fact("numeric", "counterexample in the regime confirmed in mpmath",
                      abs(ce.printed - ce.correct) > 1.0))
    # numeric: the corrected approximation's error is LSE - max, inside the margin bounds
    rng, worst = rng_for("ch1.loss_approx_max"), 0.0
    for K in NUMERIC_K:
        for scale in SCALES:
            zz = sample_logits(rng, K, scale)
            err = num.cross_entropy(zz, np.zeros(len(zz), dtype=int)) - (np.max(zz, axis=1) - zz[:, 0])
            lo, hi = margin_error_bounds(logit_margin(zz), K)
            slack = RTOL * np.maximum(1.0, np.abs(zz).max(axis=1))
            worst = max(worst, float(np.max(np.maximum(lo - err, err - hi) / np.maximum(1, hi))))
            if np.any(err < lo - slack) or np.any(err > hi + slack):
                facts.append(Fact("numeric", f"corrected error outside the margin bounds (K={K}, scale={scale})", False))
    facts.append(Fact("numeric", "corrected error lies within [log(1+e^-Delta), log(1+(K-1)e^-Delta)] at "
                                 "random logits", True, max(worst, 0.0)))
    corrected_ok = lim_corr == 0 and all(f.ok for f in facts)
    return Evidence(holds=False, holds_under=holds_under, corrected_ok=corrected_ok, facts=facts, counterexample=ce)


register(Claim(
    id="ch1.loss_approx_max", chapter=1, section=SECTION, order=9,
    stated=Verdict.ERRATUM,
    title="The approximation by the maximum",
    printed=r"\approx -\left(z_{y_{1}} - \|z_{y}\|_{\infty}\right)",
    corrected=r"\approx -\left(z_{y_1} - \max_j z_{y_j}\right), \quad 0 < \mathrm{LSE}(z) - \max_j z_j "
              r"\le \log\left(1 + (K-1)e^{-\Delta}\right) \le \log K",
    check=_check_sup_norm_approx,
    remark="LSE(z) is approximated by the largest logit, max_j z_j, not by the infinity norm max_j |z_j|. "
           "The two differ whenever the logit of largest magnitude is negative, e.g. a confidently wrong "
           "model; then the printed form can be off by any amount, even with a large margin. With max_j z_j "
           "the error is at most log K, attained when all logits are equal, and vanishes like (K-1)exp(-Delta) in "
           "the margin Delta.",
))


# -- added: the exact bounds of log-sum-exp ------------------------------------------
def _check_lse_bounds() -> Evidence:
    facts: list[Fact] = []
    # LSE(z) - max = log(1 + t), t = sum over the K-1 non-maximal classes of exp(z_j - max), each in (0, 1]
    t, K = sp.Symbol("t", nonnegative=True), sp.Symbol("K", integer=True, positive=True)
    gap = sp.log(1 + t)
    increasing = sp.diff(gap, t).is_positive
    facts.append(Fact("symbolic", "LSE - max = log(1 + t), t = sum_{j != argmax} exp(z_j - max) in (0, K-1]; "
                                  "d/dt log(1+t) = 1/(1+t) > 0", bool(increasing)))
    lo, hi = gap.subs(t, 0), sp.simplify(gap.subs(t, K - 1))
    facts.append(Fact("symbolic", f"so {lo} < LSE - max <= {hi}; lower end t -> 0 not attained", lo == 0 and hi == sp.log(K)))
    g = Logits()
    c = sp.Symbol("c", real=True)
    equal = sp.simplify(sp.expand_log(g.fix_others(log_sum_exp(g), c).subs(g.z(1), c), force=True))
    facts.append(Fact("symbolic", f"all logits equal to c: LSE = {sp.sstr(equal)} (upper bound attained)",
                      is_zero(equal - (c + sp.log(g.K)), force_log=True)))
    rng, worst = rng_for("ch1.lse_bounds"), 0.0
    for K_ in NUMERIC_K + (1000,):
        for scale in SCALES + (1e4,):
            zz = sample_logits(rng, K_, scale)
            err = max_approximation_error(zz)
            tol = 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(zz).max(axis=1))
            below = float(np.max(-err / tol))
            above = float(np.max((err - np.log(K_)) / tol))
            worst = max(worst, below, above)
            eq = max_approximation_error(np.full((1, K_), scale))[0]
            worst_eq = abs(eq - np.log(K_)) / np.log(K_)
            if worst_eq > 1e-12:
                facts.append(Fact("numeric", f"equal logits: LSE - max != log K (K={K_}, {eq})", False, worst_eq))
    facts.append(Fact("numeric", "0 <= LSE - max <= log K at random logits, to within 4 ulps", worst <= 1.0))
    return Evidence(holds=all(f.ok for f in facts if f.kind == "symbolic"), facts=facts)


register(Claim(
    id="ch1.lse_bounds", chapter=1, section=SECTION, order=10, source="added",
    stated=Verdict.HOLDS,
    title="Exact bounds of log-sum-exp",
    printed=r"\max_j z_j < \mathrm{LSE}(z) \le \max_j z_j + \log K",
    check=_check_lse_bounds,
    remark="The upper bound is attained exactly when all K logits are equal; the lower bound is strict "
           "for finite logits and approached as every other logit falls infinitely below the largest.",
))


# -- added: the error against the margin -----------------------------------------------
def _check_margin_error() -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    m, d = sp.Symbol("m", real=True), sp.Symbol("Delta", positive=True)
    family = sp.expand_log(g.fix_others(log_sum_exp(g), m - d).subs(g.z(1), m), force=True) - m
    upper = sp.log(1 + (g.K - 1) * sp.exp(-d))
    facts.append(Fact("symbolic", "others all at max - Delta: LSE - max = log(1 + (K-1) e^-Delta) (upper bound attained)",
                      is_zero(family - upper, force_log=True)))
    x2 = Logits(2)
    two = sp.expand_log(log_sum_exp(x2).subs({x2.z(1): m, x2.z(2): m - d}), force=True) - m
    facts.append(Fact("symbolic", "K = 2: LSE - max = log(1 + e^-Delta) (lower bound attained)",
                      is_zero(two - sp.log(1 + sp.exp(-d)))))
    rng, worst, ok = rng_for("ch1.margin_error"), 0.0, True
    for K in NUMERIC_K:
        for scale in SCALES:
            zz = sample_logits(rng, K, scale)
            err = max_approximation_error(zz)
            lo, hi = margin_error_bounds(logit_margin(zz), K)
            tol = 8 * np.finfo(float).eps * np.maximum(1.0, np.abs(zz).max(axis=1))
            ok &= bool(np.all(err >= lo - tol) and np.all(err <= hi + tol))
            worst = max(worst, float(np.max(np.maximum(lo - err, err - hi))))
    facts.append(Fact("numeric", "log(1+e^-Delta) <= LSE - max <= log(1+(K-1)e^-Delta) at random logits", ok,
                      max(worst, 0.0)))
    return Evidence(holds=all(f.ok for f in facts if f.kind == "symbolic"), facts=facts)


register(Claim(
    id="ch1.margin_error", chapter=1, section=SECTION, order=11, source="added",
    stated=Verdict.HOLDS,
    title="The error of LSE ~ max against the logit margin",
    printed=r"\log\left(1 + e^{-\Delta}\right) \le \mathrm{LSE}(z) - \max_j z_j \le \log\left(1 + (K-1)e^{-\Delta}\right)",
    check=_check_margin_error,
    remark="Delta is the largest logit minus the second largest. Both bounds are attained (the lower one "
           "for K = 2), so the approximation error decays exactly like exp(-Delta), times at most K - 1.",
))
