"""Chapter 1: the note's opening section: hard labels, cross-entropy, LSE ~ max.

The note's displayed equations, in order, each taken from the transcription
(:func:`derivations.engine.note.displayed`) and read into SymPy
(:mod:`derivations.engine.notation`): the checks evaluate exactly the formula a reader
sees. Then the results the companion adds (the exact bounds of log-sum-exp and
its error against the logit margin), written in the same notation. Class 1 is
the true class throughout, as in the note.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.engine.checks import (
    OTHERS_ZERO,
    SCALES,
    Attained,
    approximation,
    chain,
    equation,
    inequalities,
    largest,
    mp_value,
    vector_equation,
)
from derivations.engine.evaluation import values
from derivations.engine.finding import Finding
from derivations.engine.notation import HARD, INDEX_J, evaluate
from derivations.engine.note import displayed, quote
from derivations.engine.registry import Claim, Evidence, Formulas, Verdict, register
from derivations.engine.symbolic import Logits, cross_entropy, is_zero, one_hot, softmax
from derivations.engine.tex import number, vector
from derivations.library import numeric as num
from derivations.library.lse_bounds import logit_margin, margin_error_bounds

SECTION = "Hard labels (opening section)"


def hard_loss(x: Logits):
    """The exact hard-label loss, from the definitions: ``H(onehot_1, softmax(z))``."""
    return cross_entropy(x, lambda j: one_hot(x, j))


def hard_loss_numeric(z: np.ndarray) -> np.ndarray:
    """The same, from the NumPy library (true class = index 0)."""
    return num.cross_entropy(z, np.zeros(len(z), dtype=int))


# -- 1. the softmax -----------------------------------------------------------
register(Claim(
    id="ch1.softmax", chapter=1, section=SECTION, order=1,
    stated=Verdict.HOLDS,
    title="The softmax output",
    printed=displayed(1, 1),
    check=vector_equation(softmax, lambda z, j: num.softmax(z)[:, j], HARD),
    remark=r"A definition; every component is checked (symbolically component 1 and a general component, "
           r"numerically each one) against the stable NumPy softmax. Writing $z_{y_j}$ for the logit of class $j$ "
           r"is the note's notation.",
))


# -- 2. the one-hot target ---------------------------------------------------
def _check_one_hot(f: Formulas) -> Evidence:
    facts = []
    g = Logits()
    p = f.printed.rhs(g, HARD)                              # a function of the class index j
    target = f.printed.lhs(g, HARD)                         # p(y_j|x): the target, one-hot in this chapter
    same = all(is_zero(p.subs(INDEX_J, k) - one_hot(g, k))
               and is_zero(target.subs(INDEX_J, k) - p.subs(INDEX_J, k)) for k in range(1, 9))
    facts.append(Finding("symbolic", r"the printed cases equal the one-hot vector of class 1, $\delta_{j1}$, and the "
                                  r"left-hand side $p(y_j \mid x)$, for $j = 1, \dots, 8$", same))
    total = sp.simplify(g.sum(lambda k: p.subs(INDEX_J, k)).doit())
    facts.append(Finding("symbolic", rf"$\sum_{{j=1}}^{{K}}$ of the printed cases $= {sp.latex(total)}$ (general $K$)",
                         total == 1))
    return Evidence(holds=same and total == 1, findings=facts)


register(Claim(
    id="ch1.one_hot", chapter=1, section=SECTION, order=2,
    stated=Verdict.HOLDS,
    title="The hard (one-hot) target",
    printed=displayed(1, 2),
    check=_check_one_hot,
    remark="A definition: the one-hot vector of class 1.",
))


# -- 3. both sum to one ------------------------------------------------------
def _check_normalisation(f: Formulas) -> Evidence:
    facts = []
    g = Logits()
    rels = f.printed.relations()
    ok = []
    for r, what in zip(rels, ("q", "p")):
        z = is_zero(f.printed.lhs(g, HARD, rels.index(r)) - f.printed.rhs(g, HARD, rels.index(r)), force_log=True)
        facts.append(Finding("symbolic", rf"printed: $\sum_j {what}_j - 1 = 0$ (general $K$)" if z else
                             rf"printed: $\sum_j {what}_j$ differs from the right-hand side (general $K$)", True))
        ok.append(z)
    worst = largest(lambda pt: np.abs(num.softmax(pt.z).sum(axis=-1) - 1), f.key,
                    scales=SCALES + (1e4,)).worst
    facts.append(Finding("numeric", "NumPy softmax rows sum to 1 within 8 ulps, logit scales up to $10^4$",
                      worst <= 8 * np.finfo(float).eps, error=worst))
    return Evidence(holds=len(ok) == 2 and all(ok), findings=facts)


register(Claim(
    id="ch1.normalisation", chapter=1, section=SECTION, order=3,
    stated=Verdict.HOLDS,
    title="Both distributions sum to one",
    printed=quote(r"$\sum_{j=1}^{K} q_{\theta}(y_j|x_i) = 1$  and  $\sum_{j=1}^{K} p(y_j|x_i) = 1$"),
    check=_check_normalisation,
    remark="Stated in the text, not displayed; proved for a general symbolic K.",
))


# -- 4-8. the cross-entropy chain ------------------------------------------------
def _chain_step(**kw):
    return equation(hard_loss, hard_loss_numeric, HARD, quantity="loss", **kw)


register(Claim(
    id="ch1.loss_as_sum", chapter=1, section=SECTION, order=4,
    stated=Verdict.HOLDS,
    title="The loss as a sum of per-class terms",
    printed=displayed(1, 3),
    check=_chain_step(),
    remark=r"Holds once $H_j(p, q)$ is read as the per-class term $-p_j \log q_j$, which the note never defines. "
           r"Chapter 2 reuses the symbol with a sum over examples instead ($\sum_{l=1}^N H_i$).",
))

register(Claim(
    id="ch1.loss_definition", chapter=1, section=SECTION, order=5,
    stated=Verdict.HOLDS,
    title="Cross-entropy between target and prediction",
    printed=displayed(1, 4),
    check=_chain_step(),
    remark="The definition of cross-entropy, checked against the library's `cross_entropy` (NumPy).",
))

register(Claim(
    id="ch1.loss_true_class", chapter=1, section=SECTION, order=6,
    stated=Verdict.HOLDS,
    title="Only the true class contributes",
    printed=displayed(1, 5),
    check=_chain_step(),
    remark="The sum over a Kronecker delta, evaluated by SymPy for a general $K$.",
))

register(Claim(
    id="ch1.loss_lse", chapter=1, section=SECTION, order=7,
    stated=Verdict.HOLDS,
    title=r"The loss is $\mathrm{LSE}(z) - z_1$",
    printed=displayed(1, 6),
    check=_chain_step(),
    remark="Holds: the logarithm of the softmax. The note's justification '(assuming $i$ is the correct label)' "
           "names $i$ where the class is 1, and no assumption is used at this step.",
))

def _with(check, extra):
    """``check``, then ``extra(findings, formulas)`` adds findings of its own (which must hold too)."""
    def checked(f: Formulas) -> Evidence:
        evidence = check(f)
        extra(evidence.findings, f)
        return evidence
    return checked


#: A point where the other logits are not zero, yet their exponentials sum to K - 1 = 2 (K = 3).
SUM_K_MINUS_1 = (sp.Integer(1), sp.log(sp.Rational(3, 2)), sp.log(sp.Rational(1, 2)))


def _exact_on_the_surface(facts: list[Finding], f: Formulas) -> None:
    """The step is exact wherever the other exponentials sum to K - 1, zero logits or not: on that surface (its
    last logit solved from it) the printed form equals the exact loss, symbolically, for K = 3 and 4."""
    def on_surface(K: int) -> bool:
        x = Logits(K)
        rest = sum(sp.exp(x.z(j)) for j in range(2, K))
        last = {x.z(K): sp.log(K - 1 - rest)}
        return is_zero(sp.expand_log((f.printed.rhs(x, HARD) - hard_loss(x)).subs(last), force=True))
    exact = all(on_surface(K) for K in (3, 4))
    x = Logits(3)
    point = dict(zip(x.symbols, SUM_K_MINUS_1))
    printed, loss = (float(e.subs(point).evalf(30)) for e in (f.printed.rhs(x, HARD), hard_loss(x)))
    facts.append(Finding(
        "symbolic", r"exact wherever $\sum_{j \ne 1} e^{z_j} = K - 1$, not only at zero logits: on that surface (its last "
                    r"logit solved from it, $K = 3, 4$) printed minus exact $= 0$; e.g. at $z = (1, \log 1.5, \log 0.5)$ "
                    f"the printed form is ${printed:.6f}$ and the exact loss ${loss:.6f}$", exact))


register(Claim(
    id="ch1.loss_others_zero", chapter=1, section=SECTION, order=8,
    stated=Verdict.HOLDS_UNDER,
    title=r"The step to $\log(e^{z_1} + K - 1)$",
    printed=displayed(1, 7),
    assumption=OTHERS_ZERO.name,
    corrected=r"= -\left(z_{y_1} - \log\left(\exp(z_{y_1}) + \sum_{j=2}^{K} \exp(z_{y_j})\right)\right)",
    check=_with(_chain_step(assumption=OTHERS_ZERO), _exact_on_the_surface),
    remark=r"The step replaces $\sum_{j \ne 1} e^{z_j}$ by $K - 1$, so it is exact exactly when the exponentials of the "
           r"other logits sum to $K - 1$, which the note never says. Every other logit being zero is the natural way "
           r"to get there, and the assumption named here, but it is sufficient, not necessary: at "
           r"$z = (1, \log 1.5, \log 0.5)$ the step is exact too. Anywhere else the printed form is wrong, by any "
           r"amount; the general form keeps the sum.",
))


# -- 9. the approximation by the maximum --------------------------------------------
#: Logits shifted, all by the same amount: the loss does not move, the infinity norm does.
SHIFTED = (np.array([1.0, 2.0, 3.0]), -10.0)


def _not_shift_invariant(facts: list[Finding], f: Formulas) -> None:
    """The printed form changes when every logit is shifted by the same amount; the loss and the corrected form
    do not (the softmax is unchanged)."""
    z, c = SHIFTED
    loss = [float(hard_loss_numeric(np.array([v]))[0]) for v in (z, z + c)]
    printed = [mp_value(lambda x: f.printed.rhs(x, HARD), v) for v in (z, z + c)]
    corrected = [mp_value(lambda x: f.corrected.rhs(x, HARD), v) for v in (z, z + c)] if f.corrected else [0.0, 0.0]
    invariant = abs(loss[1] - loss[0]) <= 1e-12 * loss[0] and abs(corrected[1] - corrected[0]) <= 1e-12
    facts.append(Finding(
        "numeric", rf"a common shift of the logits moves the printed form, not the loss: at $z = {vector(z)}$ and "
                   rf"$z - {number(-c, 'g')}$ the exact loss is ${loss[0]:.4f}$ and ${loss[1]:.4f}$, the corrected form "
                   rf"${corrected[0]:.4f}$ and ${corrected[1]:.4f}$, the printed form ${printed[0]:.4f}$ and "
                   rf"${printed[1]:.4f}$", invariant and abs(printed[1] - printed[0]) > 1.0))


register(Claim(
    id="ch1.loss_approx_max", chapter=1, section=SECTION, order=9,
    stated=Verdict.ERRATUM,
    title="The approximation by the maximum",
    printed=displayed(1, 8),
    corrected=r"\approx -\left(z_{y_1} - \max_j z_{y_j}\right)",
    check=approximation(hard_loss, lambda z, eps=None: hard_loss_numeric(z), HARD,
                        extra=_not_shift_invariant),
    remark=r"'$\approx$' is read as: the error vanishes where $\mathrm{LSE}(z) \approx \max_j z_j$ is good, that is as "
           r"the margin between the largest logit and the others grows, whatever the largest logit. The largest logit "
           r"$\max_j z_j$ approximates $\mathrm{LSE}(z)$; the infinity norm $\|z\|_\infty = \max_j |z_j|$ does not. "
           r"Adding the same number to every logit changes neither the softmax nor the loss, but it changes "
           r"$\|z\|_\infty$: shift any logits far enough down and their largest magnitude is that of a negative logit, "
           r"where the printed form is off by any amount, however large the margin. The counterexample is such a "
           r"point: a confident model, right by a margin of 20, whose logits are all negative. With $\max_j z_j$ the "
           r"error is at most $\log K$, attained when all logits are equal, and vanishes like $(K-1)e^{-\Delta}$ in "
           r"the margin $\Delta$ (ch1.lse_bounds, ch1.margin_error).",
))


# -- added: the exact bounds of log-sum-exp ------------------------------------------
def _lse_bounds_general_k(facts: list[Finding], f: Formulas) -> None:
    """The proof for a general K: LSE - max = log(1 + t) with t in (0, K - 1], increasing in t."""
    t, K = sp.Symbol("t", nonnegative=True), sp.Symbol("K", integer=True, positive=True)
    gap = sp.log(1 + t)
    facts.append(Finding("symbolic", r"$\mathrm{LSE} - \max = \log(1 + t)$ with $t = \sum_{j \ne \arg\max} "
                                  r"e^{z_j - \max} \in (0, K-1]$, and $\frac{d}{dt}\log(1+t) = \frac{1}{1+t} > 0$ "
                                  r"(general $K$)", bool(sp.diff(gap, t).is_positive)))
    lo, hi = gap.subs(t, 0), sp.simplify(gap.subs(t, K - 1))
    facts.append(Finding("symbolic", rf"so ${sp.latex(lo)} < \mathrm{{LSE}} - \max \le {sp.latex(hi)}$ for a general $K$; "
                                  r"the lower end ($t \to 0$) is not attained by finite logits", lo == 0 and hi == sp.log(K)))


def _equal_logits(x: Logits) -> dict:
    c = sp.Symbol("c", real=True)
    return {s: c for s in x.symbols}


register(Claim(
    id="ch1.lse_bounds", chapter=1, section=SECTION, order=10, source="added",
    stated=Verdict.HOLDS,
    title="Exact bounds of log-sum-exp",
    printed=r"\max_j z_j < \mathrm{LSE}(z) \le \max_j z_j + \log K",
    check=inequalities(HARD, extra=_lse_bounds_general_k,
                       attained=[Attained("when all logits are equal", 1, _equal_logits)]),
    remark="The upper bound is attained exactly when all $K$ logits are equal; the lower bound is strict "
           "for finite logits and approached as every other logit falls infinitely below the largest.",
))


# -- added: the error against the margin -----------------------------------------------
def _margin_family(x: Logits) -> dict:
    m, t = sp.Symbol("m", real=True), sp.Symbol("t", positive=True)
    fam = {x.z(1): m, **{x.z(j): m - t for j in range(2, x.K + 1)}}
    return {**fam, sp.Symbol("Delta"): t}


def _margin_bounds_general_k(facts: list[Finding], f: Formulas) -> None:
    """The proof for a general K: LSE - max = log(1 + t), t = sum_{j != argmax} exp(z_j - max), and each of the
    K - 1 terms lies in (0, exp(-Delta)], the second largest logit's term being exactly exp(-Delta)."""
    rels = chain(f.printed)
    g, t = Logits(), sp.Symbol("t", positive=True)
    delta = sp.Symbol("Delta")
    gap = sp.log(1 + t)
    lo, hi = evaluate(rels[0].lhs, g, HARD, {}), evaluate(rels[-1].rhs, g, HARD, {})
    d = sp.Symbol("Delta", positive=True)
    ok = (bool(sp.diff(gap, t).is_positive)
          and is_zero((lo - gap.subs(t, sp.exp(-delta))).subs(delta, d))
          and is_zero((hi - gap.subs(t, (g.K - 1) * sp.exp(-delta))).subs(delta, d)))
    facts.append(Finding("symbolic", r"$\mathrm{LSE} - \max = \log(1 + t)$ is increasing in "
                                  r"$t = \sum_{j \ne \arg\max} e^{-(\max - z_j)}$, and $e^{-\Delta} \le t \le "
                                  r"(K-1) e^{-\Delta}$; the printed bounds are $\log(1 + t)$ at these two ends "
                                  r"(general $K$)", ok))


def _library_bounds(facts: list[Finding], f: Formulas) -> None:
    """The library's margin_error_bounds (drawn in chapter 1's figure) are the statement's two bounds,
    and the proof for a general K."""
    _margin_bounds_general_k(facts, f)
    rels = chain(f.printed)

    def gap(pt):                                             # statement's bounds - library's, the larger of the two
        x = Logits(pt.K)
        lo_lib, hi_lib = margin_error_bounds(logit_margin(pt.z), pt.K)
        lo = values(evaluate(rels[0].lhs, x, HARD, {}), x, pt.z)
        hi = values(evaluate(rels[-1].rhs, x, HARD, {}), x, pt.z)
        return np.maximum(np.abs(lo - lo_lib), np.abs(hi - hi_lib))
    worst = largest(gap, f.key + "/library", scales=(5.0,)).worst
    facts.append(Finding("numeric", "the statement's bounds equal the library's `margin_error_bounds` (chapter 1's "
                                 "figure) at random logits, to $10^{-12}$", worst <= 1e-12, error=worst))


register(Claim(
    id="ch1.margin_error", chapter=1, section=SECTION, order=11, source="added",
    stated=Verdict.HOLDS,
    title=r"The error of $\mathrm{LSE} \approx \max$ against the logit margin",
    printed=r"\log\left(1 + e^{-\Delta}\right) \le \mathrm{LSE}(z) - \max_j z_j \le \log\left(1 + (K-1)e^{-\Delta}\right)",
    check=inequalities(HARD, extra=_library_bounds, attained=[
        Attained(r"when every other logit is $\max_j z_j - \Delta$", 1, _margin_family),
        Attained("for $K = 2$", 0, _margin_family, Ks=(2,)),
    ]),
    remark=r"$\Delta$ is the largest logit minus the second largest. Both bounds are attained (the lower one "
           r"for $K = 2$), so the approximation error decays exactly like $e^{-\Delta}$, times at most $K - 1$.",
))

__all__ = ["hard_loss", "hard_loss_numeric"]
