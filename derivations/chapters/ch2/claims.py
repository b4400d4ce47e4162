"""Chapter 2: the note's section on soft labels (label smoothing).

The note's displayed equations of the soft-label part, in order, each taken
from the transcription and read into SymPy (:mod:`derivations.engine.notation`, in
the context :data:`~derivations.engine.notation.SOFT`: ``p`` is the note's soft
target, ``M`` is ``||z_y||_inf`` as the note assumes, ``i`` the true class).
Then the results the companion adds, written in the same notation: the exact
smoothed loss and its relation to the hard loss, gradient and Hessian (for any
target, proved for a general K), the optimum, entropy + KL, and the mapping to
the uniform-mixture convention of the frameworks. ``eps`` stays a symbol in
every symbolic check and is swept over several values, edges included, in the
numeric ones.
"""
from __future__ import annotations

import dataclasses

import mpmath
import numpy as np
import sympy as sp

from derivations.engine.checks import (
    COMPONENT,
    NUMERIC_K,
    RTOL,
    approximation,
    each_k,
    equation,
    largest,
    where,
)
from derivations.engine.finding import Finding
from derivations.engine.notation import (
    ANY_TARGET,
    EPS,
    INDEX_J,
    SOFT,
    TARGET,
    distribution_constraint,
    evaluate,
    sup_norm,
)
from derivations.engine.note import displayed, quote
from derivations.engine.registry import Claim, Counterexample, Evidence, Formulas, Verdict, register
from derivations.engine.symbolic import (
    Logits,
    compiled,
    cross_entropy,
    is_zero,
    log_sum_exp,
    one_hot,
    reduce_general,
    smoothed_target,
    softmax,
)
from derivations.engine.tex import inline, vector
from derivations.library import numeric as num
from derivations.library import smoothing as sm

__all__ = ["EPS", "EPS_VALUES", "SOFTMAX_Q", "smoothed_loss", "smoothed_loss_closed", "smoothed_loss_numeric"]

SECTION = "Label smoothing: soft labels"
#: Values of eps swept by the numeric checks, edges included (exact rationals, so SymPy keeps them exact).
EPS_VALUES = (sp.Integer(0), sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10), sp.Integer(1))
#: The eps at which counterexamples are sought.
EPS_CE = sp.Rational(1, 10)


# -- the exact quantities, written once ---------------------------------------------
def smoothed_loss(x: Logits, eps=EPS):
    """The exact smoothed loss from the definitions: ``H(p_eps, softmax(z))``."""
    return cross_entropy(x, lambda j: smoothed_target(x, j, eps))


def smoothed_loss_closed(x: Logits, eps=EPS):
    """``LSE(z) - (1 - eps) z_1 - eps/(K-1) sum_{j != 1} z_j`` (displayed in chapter 2's notebook)."""
    return log_sum_exp(x) - (1 - eps) * x.z(1) - eps / (x.K - 1) * x.sum(lambda j: x.z(j), start=2)


def smoothed_loss_numeric(z: np.ndarray, eps) -> np.ndarray:
    """The same, from the NumPy library (true class = index 0)."""
    return sm.smoothed_cross_entropy(z, np.zeros(len(z), dtype=int), eps=float(eps), reduction="none")


def _mp(expr, subs: dict) -> float:
    """``expr`` evaluated at ``subs`` in mpmath, 50 digits."""
    with mpmath.workdps(50):
        return float(sp.N(expr.subs(subs), 50))


def _step(**kw):
    """A check of an '=' step of the smoothed-loss chain, eps symbolic and swept."""
    return equation(smoothed_loss, smoothed_loss_numeric, SOFT, eps_values=EPS_VALUES,
                    eps_counterexample=EPS_CE, quantity="loss", **kw)


# -- 1. the note's modified q_theta -----------------------------------------------------
#: The model's output under label smoothing (and flipping): still the softmax of the logits.
SOFTMAX_Q = (r"q_{\theta}(y|x) = \left(\frac{\exp(z_{y_1})}{\sum_{j=1}^K \exp(z_{y_j})}, \cdots, "
             r"\frac{\exp(z_{y_K})}{\sum_{j=1}^K \exp(z_{y_j})}\right)")

def _matches_softmax(reading, x: Logits) -> bool:
    """Is every component of the vector read the softmax of the logits (symbolic eps)?"""
    vec = reading.rhs(x, SOFT)
    if x.general:
        return (is_zero(vec.component(1) - softmax(x, 1), force_log=True)
                and is_zero(vec.component(COMPONENT) - softmax(x, COMPONENT), force_log=True))
    return all(is_zero(vec.component(j) - softmax(x, j)) for j in range(1, x.K + 1))


def _check_q_modified(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    cases = each_k(lambda x: _matches_softmax(f.printed, x))
    holds = all(cases.values())
    facts.append(Finding("symbolic", f"printed components are the softmax of the logits ({where(cases)}, "
                                  rf"symbolic $\epsilon$): {'yes' if holds else 'no'}", True))
    x3 = Logits(3)
    vec = f.printed.rhs(x3, SOFT)
    total = sum(vec.components())
    sums_to_one = is_zero(total - 1)
    facts.append(Finding("symbolic", r"the printed components do not sum to 1 ($K = 3$, symbolic $\epsilon$)"
                      if not sums_to_one else "the printed components sum to 1 ($K = 3$)", True))
    at_zero = [is_zero(vec.component(j).subs(EPS, 0) - softmax(x3, j)) for j in (1, 2)]
    facts.append(Finding("symbolic", r"at $\epsilon = 0$, components 1 and 2 are the softmax's: "
                                     + ", ".join("yes" if a else "no" for a in at_zero), True))
    point = {x3.z(1): 1, x3.z(2): 0, x3.z(3): 0, EPS: EPS_CE}
    ce = None
    if not holds:
        ce = Counterexample("sum of the printed components", _mp(total, point), 1.0, K=3, z=(1.0, 0.0, 0.0),
                            parameters={"eps": EPS_CE})
        facts.append(Finding("numeric", f"counterexample at {ce.point()} confirmed in mpmath",
                          abs(ce.printed - ce.correct) > 1e-3))
    corrected_ok = None
    if f.corrected is not None:
        cases = each_k(lambda x: _matches_softmax(f.corrected, x))
        corrected_ok = all(cases.values())
        no_eps = all(each_k(lambda x: all(EPS not in f.corrected.rhs(x, SOFT).component(j).free_symbols
                                          for j in range(1, x.K + 1)), general=False).values())
        facts.append(Finding("symbolic", rf"corrected: every component is the softmax and contains no $\epsilon$ "
                                         f"({where(cases)})",
                          corrected_ok and no_eps))

        def vs_targets(pt):      # smoothing enters the loss only through p: the loss is -sum_j p_j log softmax(z)_j
            ref = -np.sum(sm.smoothed_targets(np.zeros(len(pt.z), dtype=int), pt.K, eps=pt.param)
                          * num.log_softmax(pt.z), axis=-1)
            return np.abs(smoothed_loss_numeric(pt.z, pt.param) - ref) / np.maximum(1, ref)
        worst = largest(vs_targets, f.key, scales=(3.0,), params=(0.0, 0.1, 0.5, 1.0)).worst
        facts.append(Finding("numeric", r"the library's smoothed loss is $-\sum_j p_{\epsilon,j} \log \mathrm{softmax}(z)_j$ "
                                     f"at random logits (relative tolerance {inline(RTOL, 'g')})", worst <= RTOL, error=worst))
        corrected_ok = corrected_ok and no_eps and worst <= RTOL
    return Evidence(holds=holds, corrected_ok=corrected_ok, findings=facts, counterexample=ce)


register(Claim(
    id="ch2.q_modified", chapter=2, section=SECTION, order=1,
    stated=Verdict.ERRATUM,
    title="The model output under label smoothing",
    printed=displayed(2, 1),
    corrected=SOFTMAX_Q,
    check=_check_q_modified,
    remark=r"Label smoothing changes the target $p$, not the model's output: $q$ is still the softmax of the logits, "
           r"for every $\epsilon$. The printed vector scales the logits inside the exponentials by the target weights, "
           r"is not a probability vector (it does not sum to 1), and is not even the softmax at $\epsilon = 0$.",
))


# -- 2. the soft target ---------------------------------------------------------------
def _check_soft_target(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    g = Logits()
    p = f.printed.rhs(g, SOFT)                                 # a function of the class index j
    target = f.printed.lhs(g, SOFT)                            # p(y_j|x), the soft target of this chapter
    same = all(is_zero(p.subs(INDEX_J, k) - smoothed_target(g, k, EPS))
               and is_zero(target.subs(INDEX_J, k) - p.subs(INDEX_J, k)) for k in range(1, 9))
    facts.append(Finding("symbolic", r"printed cases equal $(1-\epsilon)\,\delta_{j1} + \frac{\epsilon}{K-1}(1 - "
                                  r"\delta_{j1})$ and the left-hand side $p(y_j \mid x)$, for $j = 1, \dots, 8$, "
                                  r"general $K$", same))
    total = sp.simplify(g.sum(lambda k: p.subs(INDEX_J, k)).doit())
    facts.append(Finding("symbolic", rf"$\sum_j$ of the printed cases $= {sp.latex(total)}$ (general $K$, symbolic "
                                     r"$\epsilon$)", True))

    def entries(pt):                                          # library's targets - printed, on and off the label
        y = pt.labels()
        lib = sm.smoothed_targets(y, pt.K, eps=pt.param)
        on, off = (float(p.subs(INDEX_J, k).subs({g.K: pt.K, EPS: pt.param})) for k in (1, 2))
        return np.maximum(np.abs(lib[np.arange(len(y)), y] - on),
                          np.max(np.abs(np.where(np.arange(pt.K) == y[:, None], off, lib) - off), axis=1))
    worst = largest(entries, f.key, Ks=NUMERIC_K + (1000,), scales=(1.0,), n=16,
                    params=(0.0, 0.1, 0.5, 1.0)).worst
    facts.append(Finding("numeric", r"`smoothed_targets` has the printed entries ($1 - \epsilon$ on the label, "
                                 r"$\frac{\epsilon}{K-1}$ elsewhere), $K$ up to 1000, $\epsilon \in \{0, 0.1, 0.5, 1\}$",
                         worst <= 1e-15, error=worst))
    return Evidence(holds=same and total == 1, findings=facts)


register(Claim(
    id="ch2.soft_target", chapter=2, section=SECTION, order=2,
    stated=Verdict.HOLDS,
    title="The soft target",
    printed=displayed(2, 2),
    check=_check_soft_target,
    remark=r"A definition; it is a probability vector for every $\epsilon \in [0, 1]$ (proved for a general symbolic "
           r"$K$). The text's '$k$ output units' and the display's $K$ are the same number.",
))


# -- 3. the sum over examples ----------------------------------------------------------
N1_ASSUMPTION = (r"$N = 1$: the single data point the note analyses ('Lets consider one data point'); the summand's "
                 r"index $i$ is read as the summation index $l$")
_N = sp.Symbol("N")                  # as the notation reads it
#: Two distinct examples of class 1 (a counterexample needs examples whose losses differ).
TWO_EXAMPLES = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


def _check_loss_sum_examples(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    g = Logits()
    printed = f.printed.rhs(g, SOFT)                          # sum_{l=1}^N H_i, as read
    # the left-hand side, read, in units of one example's loss L (what the next lines compute)
    L = sp.Symbol("L")
    one = sp.simplify(f.printed.lhs(g, SOFT) / SOFT.loss(g)) * L
    literal = sp.simplify(printed.doit().replace(lambda a: isinstance(a, sp.Function) and a.func.__name__ == "H",
                                                 lambda a: L))
    facts.append(Finding("symbolic", rf"as printed, with $H_i$ the loss $L$ of the one example: ${sp.latex(one)} = "
                                  rf"{sp.latex(literal)}$", True))
    holds = is_zero(literal - one)
    facts.append(Finding("symbolic", rf"printed right minus left $= {sp.latex(sp.factor(literal - one))}$", True))
    under = is_zero((literal - one).subs(_N, 1))
    facts.append(Finding("symbolic", "with $N = 1$: printed minus next line " + ("$= 0$" if under else r"$\ne 0$")
                      + r" (general $K$: the sum runs over examples, the per-example loss is left whole)", True))
    ce = None
    x = Logits(3)
    h = [_mp(smoothed_loss(x, EPS), {**dict(zip(x.symbols, z)), EPS: EPS_CE}) for z in TWO_EXAMPLES]
    if not holds:
        # N = 2 distinct examples: as printed, N times the loss of the example analysed (the first); the loss of the
        # data set is the sum of the two examples' losses, which differ
        value = float((literal / L).subs(_N, 2)) * h[0]
        ce = Counterexample("loss of the data set", value, sum(h), K=3,
                            parameters={"N": 2, "z^{(1)}": TWO_EXAMPLES[0], "z^{(2)}": TWO_EXAMPLES[1], "eps": EPS_CE},
                            note=r"two examples of class 1; printed: $N$ times the first one's loss")
        facts.append(Finding("numeric", f"counterexample at {ce.point()} confirmed in mpmath",
                          abs(ce.printed - ce.correct) > 1e-3))
    corrected_ok = None
    if f.corrected is not None:
        # the corrected sum with N = 2 distinct examples: one loss per example, each the next lines' expression
        Z = [Logits(3, name=f"z{i}") for i in (1, 2)]
        corrected = f.corrected.rhs(g, SOFT).subs(_N, 2).doit()
        per_example = corrected.replace(lambda a: isinstance(a, sp.Function) and a.func.__name__ == "H",
                                        lambda a: smoothed_loss(Z[int(a.args[0]) - 1], EPS))
        general_ok = is_zero(per_example - sum(smoothed_loss_closed(zi, EPS) for zi in Z))
        facts.append(Finding("symbolic", r"corrected, $N = 2$ examples, $K = 3$: $\sum_i H_i = \sum_i \bigl[\mathrm{LSE}"
                                      r"(z^{(i)}) - (1-\epsilon) z^{(i)}_1 - \frac{\epsilon}{2} \sum_{j>1} z^{(i)}_j\bigr]$, "
                                      "one term per example", general_ok))
        at_two = float(per_example.subs({**{s: v for zi, z in zip(Z, TWO_EXAMPLES) for s, v in zip(zi.symbols, z)},
                                          EPS: EPS_CE}).evalf(30))
        facts.append(Finding("numeric", rf"corrected at the two examples above: ${at_two:.4f}$, the sum of their losses",
                             abs(at_two - sum(h)) <= 1e-12 * sum(h)))

        def batch_vs_singles(pt):
            y = pt.labels()
            total = float(sm.smoothed_cross_entropy(pt.z, y, eps=0.1, reduction="sum"))
            one_by_one = sum(float(sm.smoothed_cross_entropy_materialised(zi, yi, eps=0.1)) for zi, yi in zip(pt.z, y))
            return abs(total - one_by_one) / max(1.0, abs(one_by_one))
        worst = largest(batch_vs_singles, f.key, scales=(5.0,), n=32).worst
        facts.append(Finding("numeric", "loss of a batch of 32 = sum of 32 single-example losses (library against "
                                     "materialised targets)", worst <= RTOL, error=worst))
        corrected_ok = general_ok and abs(at_two - sum(h)) <= 1e-12 * sum(h) and worst <= RTOL
    return Evidence(holds=holds, holds_under=under, corrected_ok=corrected_ok, findings=facts, counterexample=ce)


register(Claim(
    id="ch2.loss_sum_examples", chapter=2, section=SECTION, order=3,
    stated=Verdict.HOLDS_UNDER,
    title="The loss as a sum over $N$ examples",
    printed=displayed(2, 3),
    assumption=N1_ASSUMPTION,
    corrected=r"\mathcal{L} = \sum_{i=1}^{N} H_{i}(p_{i}, q_{\theta,i})",
    check=_check_loss_sum_examples,
    remark=r"The summation index $l$ does not occur in the summand, so as printed the sum is $N H_i$: $N$ times the "
           r"loss of one example; and the next line is the loss of one example. The chain is right for the one data "
           r"point the note analyses ($N = 1$). For a data set the loss is the sum (or mean) over the examples $i$ of "
           r"each one's cross-entropy $H_i$, between its own target $p_i$ and the model's output for it, "
           r"$q_{\theta,i}$; each term is what the following lines compute. Chapter 1 used the same symbol $H_j$ for "
           r"per-class terms, summed over classes; this line sums over examples instead.",
))


# -- 4-5. cross-entropy with the soft target --------------------------------------------
register(Claim(
    id="ch2.loss_definition", chapter=2, section=SECTION, order=4,
    stated=Verdict.HOLDS,
    title="Cross-entropy with the soft target",
    printed=displayed(2, 4),
    check=_step(),
    remark="The definition of cross-entropy with $p$ the soft target and $q$ the (unchanged) softmax; checked "
           "against the library's closed-form `smoothed_cross_entropy`.",
))

register(Claim(
    id="ch2.loss_expanded", chapter=2, section=SECTION, order=5,
    stated=Verdict.HOLDS,
    title="The loss written out term by term",
    printed=displayed(2, 5),
    check=_step(),
    remark=r"Holds, reading '$\dots$' as the terms $\frac{\epsilon}{K-1}\log q_j$ for $j = 2, \dots, K$. As in "
           r"chapter 1, the justification '(assuming $i$ is the correct label)' names $i$ where the true class is 1.",
))


# -- 6-7. the approximations with M = ||z||_inf ---------------------------------------------
#: Where M is exact (the true logit leads, positive, the others at 0): the error of lines 6-7 is the weights' alone.
M_EXACT = {"ce_largest": (20,), "ce_note": r"margin 20, the true logit the largest in magnitude, so "
                                           r"$M = \|z\|_\infty = \max_j z_j$: only the weights are wrong"}
#: Logits where the true class leads and is the largest in magnitude, the others not 0 (the offset's example).
OFFSET_AT = (20.0, 3.0, 3.0)
APPROX_CORRECTED = r"\approx \max_j z_{y_j} - (1-\epsilon) z_{y_1} - \frac{\epsilon}{K-1}\sum_{j=2}^{K} z_{y_j}"


def _inherited_from_eq1(facts: list[Finding], f: Formulas) -> None:
    """Line 6 is -sum_j p_j log q_j with the note's q of equation 1 and LSE(z) replaced by M."""
    M = sp.Symbol("M")

    def inherited(x: Logits) -> bool:
        q_note = f.inputs["q_modified"].rhs(x, SOFT)
        lse = log_sum_exp(x)
        from_eq1 = -sum(smoothed_target(x, j, EPS) * sp.expand_log(sp.log(q_note.component(j)), force=True).subs(lse, M)
                        for j in range(1, x.K + 1))
        return is_zero(from_eq1 - f.printed.rhs(x, SOFT).subs(sup_norm(x), M))
    cases = each_k(inherited, general=False)
    facts.append(Finding("symbolic", r"printed $= -\sum_j p_j \log q_j$ with the note's $q$ of equation 1 and "
                                  rf"$\mathrm{{LSE}}(z)$ replaced by $M$ ({where(cases)}): the squared weights are inherited",
                         all(cases.values())))
    _offset(facts, f)


def _offset(facts: list[Finding], f: Formulas) -> None:
    """Where M and the max are both the true logit z_1, printed minus corrected is exactly
    eps(1-eps) z_1 + eps/(K-1) (1 - eps/(K-1)) sum_{j != 1} z_j (symbolic eps, K = 2, 3, 4)."""
    def top(e, x):                        # every maximum (of z or of |z|) is the true logit's
        return e.replace(lambda a: isinstance(a, sp.Max), lambda a: x.z(1))

    def offset(x: Logits):
        w = EPS / (x.K - 1)
        return EPS * (1 - EPS) * x.z(1) + w * (1 - w) * sum(x.z(j) for j in range(2, x.K + 1))

    def gap(x: Logits):
        return top(f.printed.rhs(x, SOFT), x) - top(f.corrected.rhs(x, SOFT), x)
    cases = each_k(lambda x: is_zero(gap(x) - offset(x)), general=False, Ks=(2, 3, 4))
    x = Logits(3)
    at = {**dict(zip(x.symbols, OFFSET_AT)), EPS: EPS_CE}
    value, zero_others = float(gap(x).subs(at)), float(gap(x).subs({**at, x.z(2): 0, x.z(3): 0}))
    facts.append(Finding(
        "symbolic", r"where the true logit is the largest and the largest in magnitude ($\max_j z_j = \|z\|_\infty = "
                    r"z_1$), printed minus corrected is $\epsilon(1-\epsilon) z_1 + \frac{\epsilon}{K-1}\bigl(1 - "
                    rf"\frac{{\epsilon}}{{K-1}}\bigr)\sum_{{j \ne 1}} z_j$ ({where(cases)}, symbolic $\epsilon$): "
                    rf"${value:.4g}$ at $z = {vector(OFFSET_AT)}$, $\epsilon = {float(EPS_CE):g}$; "
                    rf"$\epsilon(1-\epsilon) z_1 = {zero_others:.4g}$ only with the other logits at 0",
        all(cases.values())))


register(Claim(
    id="ch2.loss_approx_M", chapter=2, section=SECTION, order=6,
    stated=Verdict.ERRATUM,
    title=r"The approximation with $M = \lVert z \rVert_\infty$",      # no "|": titles stand in tables
    printed=displayed(2, 6),
    corrected=APPROX_CORRECTED,
    inputs={"q_modified": displayed(2, 1)},
    check=approximation(smoothed_loss, smoothed_loss_numeric, SOFT, eps_values=EPS_VALUES[1:4],
                        extra=_inherited_from_eq1, **M_EXACT),
    remark=r"'$\approx$' as in chapter 1: the error must vanish as the margin of the largest logit grows. The line "
           r"follows exactly from the note's own $q$ of equation 1 (whose logits carry the target weights) with "
           r"$\mathrm{LSE}(z)$ replaced by $M$: the error is inherited from equation 1, not a new misuse of $\log q_j$. "
           r"With the model's actual $q = \mathrm{softmax}(z)$, $\log q_j = z_j - \mathrm{LSE}(z)$ and each weight "
           r"enters once; here it enters twice. And $\mathrm{LSE}(z)$ is approximated by $\max_j z_j$, not by "
           r"$\|z\|_\infty$ (ch1.loss_approx_max). Even where that makes no difference and the max approximation is "
           r"excellent (the true logit $z_1$ far ahead and the largest in magnitude, so $M = z_1$), the printed form "
           r"exceeds the corrected one by $\epsilon(1-\epsilon) z_1 + \frac{\epsilon}{K-1}\bigl(1 - "
           r"\frac{\epsilon}{K-1}\bigr)\sum_{j \ne 1} z_j$, without bound; it is $\epsilon(1-\epsilon) z_1$ only when "
           r"the other logits are 0. The counterexample is such a point, so its gap is the squared weights' alone. "
           r"The exact loss needs no approximation at all (ch2.closed_form).",
))


def _follows_from_line_6(facts: list[Finding], f: Formulas) -> None:
    M = sp.Symbol("M")

    def same_as_line_6(x: Logits) -> bool:
        a, b = f.printed.rhs(x, SOFT), f.inputs["line_6"].rhs(x, SOFT)
        if not x.general:
            a, b = a.subs(sup_norm(x), M), b.subs(sup_norm(x), M)
        return is_zero(a - b, force_log=x.general)
    cases = each_k(same_as_line_6)
    facts.append(Finding("symbolic", f"printed = previous line, term by term ($M$ a symbol; {where(cases)}): the line "
                                  "follows, errors included", all(cases.values())))
    _offset(facts, f)


register(Claim(
    id="ch2.loss_squared", chapter=2, section=SECTION, order=7,
    stated=Verdict.ERRATUM,
    title="The final form with squared coefficients",
    printed=displayed(2, 7),
    corrected=APPROX_CORRECTED,
    inputs={"line_6": displayed(2, 6)},
    check=approximation(smoothed_loss, smoothed_loss_numeric, SOFT, eps_values=EPS_VALUES[1:4],
                        extra=_follows_from_line_6, **M_EXACT),
    remark=r"This line does follow from the previous one (the weights of $M$ add up to $(1-\epsilon) + (K-1)"
           r"\frac{\epsilon}{K-1} = 1$), so it inherits that line's errors: the other logits enter the loss with "
           r"weight $\frac{\epsilon}{K-1}$, not $\bigl(\frac{\epsilon}{K-1}\bigr)^2$, and the true logit with "
           r"$1-\epsilon$, not $(1-\epsilon)^2$. The note's conclusion, that the wrong classes contribute, is right "
           r"(ch2.wrong_classes); by how much is not. $j \ne i$ should read $j \ne 1$.",
))


# -- 8. "the final loss function has a contribution from even incorrect classification" --------------------
def _with_target(f: Formulas, name: str, ctx=SOFT):
    """The context ``ctx`` with ``p(y_j|x)`` the target that input ``name`` (a displayed ``p(y_j|x) = cases``) defines."""
    def target(x: Logits, j):
        return f.inputs[name].rhs(Logits() if x.general else x, ctx).subs(INDEX_J, j)
    return dataclasses.replace(ctx, name=f"target of {name}", target=target)


def _wrong_class_terms(f: Formulas, x: Logits, name: str):
    """The loss of the note's equation 4 with the target ``name``, minus its true-class term: the wrong classes'."""
    ctx = _with_target(f, name)
    loss = f.inputs["loss"].rhs(x, ctx).doit()
    true_only = dataclasses.replace(ctx, target=lambda y, j: ctx.target(y, j) * sp.KroneckerDelta(j, 1))
    return sp.simplify(loss - f.inputs["loss"].rhs(x, true_only).doit()), loss


def _check_wrong_classes(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    x = Logits(3)
    soft, soft_loss = _wrong_class_terms(f, x, "target")
    hard, hard_loss = _wrong_class_terms(f, x, "hard_target")
    weights = -EPS / (x.K - 1) * sum(sp.log(softmax(x, j)) for j in range(2, x.K + 1))
    point = {**dict(zip(x.symbols, (1, 0, 0)))}
    positive = all(float(soft.subs({**point, EPS: e})) > 0 for e in (sp.Rational(1, 10), sp.Integer(1)))
    soft_ok = is_zero(soft - weights, force_log=True) and positive
    facts.append(Finding("symbolic", r"with the soft target of equation 2, the wrong classes' terms of equation 4, "
                                     r"$-\sum_{j \ne 1} p(y_j \mid x) \log q_\theta(y_j \mid x)$, are "
                                     r"$-\frac{\epsilon}{K-1}\sum_{j \ne 1} \log q_j$, positive for $\epsilon > 0$ "
                                     r"($K = 3$, symbolic $\epsilon$)", soft_ok))
    vanish = hard == 0
    grad = sp.diff(hard_loss, x.z(2))
    depends = is_zero(grad - softmax(x, 2), force_log=True)
    facts.append(Finding("symbolic", r"with the one-hot target of chapter 1 they vanish ('all other contributions "
                                     r"vanish'), yet the hard loss depends on every wrong logit: "
                                     r"$\partial \mathcal{L}_0 / \partial z_2 = q_2 > 0$ ($K = 3$)", vanish and depends))
    added = sp.simplify(sp.expand_log(soft_loss - hard_loss, force=True))
    linear = is_zero(added - EPS * (x.z(1) - (x.z(2) + x.z(3)) / 2))
    pull = [sp.simplify(sp.diff(added, x.z(j))) for j in (2, 3)]
    facts.append(Finding("symbolic", r"what smoothing adds is linear in the logits, $\mathcal{L}_\epsilon - "
                                     r"\mathcal{L}_0 = \epsilon\bigl(z_1 - \frac{1}{K-1}\sum_{j \ne 1} z_j\bigr)$: on each "
                                     rf"wrong logit a gradient of ${sp.latex(pull[0])}$ ($K = 3$)",
                         linear and all(is_zero(p + EPS / 2) for p in pull)))
    h = 1e-6

    def pull_numeric(pt):               # library: smoothed minus hard gradient on the wrong logits, + eps/(K-1)
        e, y = pt.param, np.zeros(len(pt.z), dtype=int)
        out = []
        for j in range(1, pt.K):
            dz = np.zeros(pt.K)
            dz[j] = h
            diff = [(smoothed_loss_numeric(pt.z + dz, e) - smoothed_loss_numeric(pt.z - dz, e)) / (2 * h),
                    (num.cross_entropy(pt.z + dz, y) - num.cross_entropy(pt.z - dz, y)) / (2 * h)]
            out.append(np.abs(diff[0] - diff[1] + e / (pt.K - 1)))
        return np.max(out, axis=0)
    worst = largest(pull_numeric, f.key, scales=(3.0,), n=8, params=(0.1, 0.5)).worst
    facts.append(Finding("numeric", r"the library's smoothed and hard losses: their gradients on each wrong logit "
                                    r"differ by $-\frac{\epsilon}{K-1}$ at random logits (central differences, absolute "
                                    r"tolerance $10^{-7}$)", worst <= 1e-7, error=worst))
    return Evidence(holds=soft_ok and vanish and depends and linear and worst <= 1e-7, findings=facts)


register(Claim(
    id="ch2.wrong_classes", chapter=2, section=SECTION, order=8,
    stated=Verdict.HOLDS,
    title="'a contribution from even incorrect classification'",
    printed=quote("Now we can see that the final loss function has a contribution from even incorrect "
                  "classification."),
    inputs={"target": displayed(2, 2), "loss": displayed(2, 4), "hard_target": displayed(1, 2)},
    check=_check_wrong_classes,
    remark=r"Stated in the text. It holds as the note reads its own sum over classes: under hard labels the terms of "
           r"the wrong classes vanish ('all other contributions vanish', chapter 1), and under label smoothing they "
           r"are $-\frac{\epsilon}{K-1}\log q_j$, positive for every $\epsilon > 0$. It does not mean that the hard "
           r"loss ignored the wrong classes: $\mathrm{LSE}(z) - z_1$ depends on every logit, and its gradient on a "
           r"wrong logit is $q_j$, which pushes that logit down. What smoothing adds is linear in the logits, "
           r"$\epsilon\bigl(z_1 - \frac{1}{K-1}\sum_{j \ne 1} z_j\bigr)$ (ch2.vs_hard): a pull of "
           r"$\frac{\epsilon}{K-1}$ on each wrong logit, not the $\bigl(\frac{\epsilon}{K-1}\bigr)^2$ of the final "
           r"line (ch2.loss_squared).",
))


# -- added: the exact closed form and its relation to the hard loss ------------------------------
register(Claim(
    id="ch2.closed_form", chapter=2, section=SECTION, order=9, source="added",
    stated=Verdict.HOLDS,
    title="The smoothed loss in closed form",
    printed=r"\mathcal{L}_\epsilon(z) = \mathrm{LSE}(z) - (1-\epsilon) z_1 - \frac{\epsilon}{K-1}\sum_{j=2}^{K} z_j",
    check=_step(),
    remark=r"Because the target sums to 1, $-\sum_j p_j (z_j - \mathrm{LSE}(z)) = \mathrm{LSE}(z) - \sum_j p_j z_j$. "
           r"This is what `smoothed_cross_entropy` evaluates, without ever forming the $N \times K$ targets.",
))

register(Claim(
    id="ch2.vs_hard", chapter=2, section=SECTION, order=10, source="added",
    stated=Verdict.HOLDS,
    title=r"Smoothed loss $=$ hard loss $+\ \epsilon \times$ (true logit $-$ mean of the others)",
    printed=r"\mathcal{L}_\epsilon(z) = \mathcal{L}_0(z) + \epsilon\left(z_1 - \frac{1}{K-1}\sum_{j=2}^{K} z_j\right)",
    check=_step(),
    remark=r"Label smoothing adds a penalty linear in the logits: $\epsilon$ times the gap between the true logit and "
           r"the mean of the others. It is what stops the hard loss from being driven to 0 by an unbounded gap.",
))


# -- added: gradient and Hessian, for any target that sums to one -------------------------------------
def _for_any_target(f: Formulas, part: int = 0, Ks=None):
    """lhs - rhs of a statement about the loss H(p, softmax(z)) of any target p summing to 1:
    zero for a general K (sum_j p_j = 1 substituted, class indices in 1..K) and for concrete K (p_K = 1 - ...)."""
    g = Logits()

    def every_entry(x: Logits) -> bool:
        entries = {distribution_constraint(f.printed.lhs(x, ANY_TARGET, part, a=a, b=b)
                                           - f.printed.rhs(x, ANY_TARGET, part, a=a, b=b), x)
                   for a in range(1, x.K + 1) for b in range(1, x.K + 1)}      # a set: a gradient has no b
        return all(is_zero(d) for d in entries)
    concrete = each_k(every_entry, general=False, **({"Ks": Ks} if Ks else {}))
    # an identity for every K holds for each concrete K: if one fails, so does the general case (not computed)
    general = all(concrete.values()) and reduce_general(
        f.printed.lhs(g, ANY_TARGET, part) - f.printed.rhs(g, ANY_TARGET, part), g, distribution=TARGET) == 0
    return general, concrete


def _check_gradient(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    general, concrete = _for_any_target(f)
    facts.append(Finding("symbolic", r"$\frac{\partial}{\partial z_a} H(p, \mathrm{softmax}(z))$ minus the printed "
                                  r"right-hand side, with $\sum_j p_j = 1$: "
                                  f"{'zero' if general else 'not zero'} for a general $K$ ($1 \\le a \\le K$), and "
                                  f"{'zero' if all(concrete.values()) else 'not zero'} for every component, "
                                  f"{where(concrete)}", general == all(concrete.values())))
    x3 = Logits(3)
    p_free = sp.symbols("p_1:4", positive=True)
    H_free = -sum(p_free[j - 1] * sp.log(softmax(x3, j)) for j in (1, 2, 3))
    without = is_zero(sp.diff(H_free, x3.z(1)) - (softmax(x3, 1) * sum(p_free) - p_free[0]))
    facts.append(Finding("symbolic", r"without normalisation $\frac{\partial H}{\partial z_k} = q_k \sum_j p_j - p_k$ "
                                     r"($K = 3$): the sum-to-one is used",
                      without))
    h = 1e-6

    def vs_differences(pt):           # printed gradient - central differences, every component, Dirichlet targets
        K, z, x = pt.K, pt.z, Logits(pt.K)
        p = pt.rng.dirichlet(np.ones(K), size=len(z))
        P = [sp.Symbol(f"P{j}") for j in range(1, K + 1)]
        subs = {sp.Symbol(f"p_{j}", real=True): P[j - 1] for j in range(1, K + 1)}
        gaps = []
        for k, dz in enumerate(h * np.eye(K)):
            g_k = compiled(list(x.symbols) + P, f.printed.rhs(x, ANY_TARGET, a=k + 1).subs(subs))
            fd = (np.sum(p * num.log_softmax(z - dz), axis=1) - np.sum(p * num.log_softmax(z + dz), axis=1)) / (2 * h)
            gaps.append(np.abs(fd - np.asarray(g_k(*z.T, *p.T), dtype=float)))
        return np.max(gaps, axis=0)
    worst = largest(vs_differences, f.key, scales=(3.0,), n=8).worst
    facts.append(Finding("numeric", r"central differences of $-\sum_j p_j \log \mathrm{softmax}(z)_j$ match the printed "
                                 r"gradient (random $z$, Dirichlet $p$, absolute tolerance $10^{-7}$)",
                         (worst <= 1e-7) == general, error=worst))
    return Evidence(holds=general and all(concrete.values()) and without, findings=facts)


register(Claim(
    id="ch2.gradient", chapter=2, section=SECTION, order=11, source="added",
    stated=Verdict.HOLDS,
    title="Gradient with respect to the logits",
    printed=r"\frac{\partial}{\partial z_{a}} \mathcal{L} = q_{a} - p_{a}",
    check=_check_gradient,
    remark=r"For the loss $\mathcal{L} = H(p, \mathrm{softmax}(z)) = -\sum_j p_j \log q_j$ and any target $p$ with "
           r"$\sum_j p_j = 1$ (proved for a general $K$). For the soft target the gradient on the true logit is "
           r"$q_1 - (1 - \epsilon)$ and on each other logit $q_j - \frac{\epsilon}{K-1}$: it vanishes exactly when $q$ "
           r"equals the soft target.",
))


def _check_hessian(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    general, concrete = _for_any_target(f, Ks=(2,))
    facts.append(Finding("symbolic", r"$\frac{\partial^2}{\partial z_a \partial z_b} H(p, \mathrm{softmax}(z))$ minus "
                                  r"the printed right-hand side, with $\sum_j p_j = 1$: "
                                  f"{'zero' if general else 'not zero'} for a general $K$ ($1 \\le a, b \\le K$), and "
                                  f"{'zero' if all(concrete.values()) else 'not zero'} entry by entry, "
                                  f"{where(concrete)}; it contains no $p$: the same for every target",
                      general == all(concrete.values())))
    # the printed matrix, entry by entry: PSD with null space span(1) (eigenvalues at random logits)
    def off_span_one(pt):   # per matrix: misalignment of the null vector with 1 (inf when not PSD of rank K - 1)
        K, x = pt.K, Logits(pt.K)
        if K <= 10:                                  # the printed matrix, all entries in one function
            matrix = compiled(x.symbols, [[f.printed.rhs(x, ANY_TARGET, a=a, b=b) for b in range(1, K + 1)]
                                          for a in range(1, K + 1)])
            Hs = np.broadcast_to(np.array(matrix(*pt.z.T), dtype=float).transpose(2, 0, 1), (len(pt.z), K, K))
        else:
            qn = num.softmax(pt.z)
            Hs = np.einsum("na,ab->nab", qn, np.eye(K)) - np.einsum("na,nb->nab", qn, qn)
        w, V = np.linalg.eigh((Hs + Hs.transpose(0, 2, 1)) / 2)
        top = w[:, -1]
        psd = (w[:, 0] >= -1e-12 * top) & (w[:, 1] > 1e-12 * top)
        return np.where(psd, np.abs(np.abs(V[:, :, 0].sum(axis=1)) / np.sqrt(K) - 1), np.inf)
    worst = largest(off_span_one, f.key, Ks=NUMERIC_K + (50,), scales=(3.0,), n=8).worst
    facts.append(Finding("numeric", r"the printed matrix at random logits: one zero eigenvalue with eigenvector along "
                                 r"$\mathbf{1}$, all others positive (positive semi-definite, null space "
                                 r"$\mathrm{span}(\mathbf{1})$)", (worst <= 1e-9) == general, error=worst))
    K = 3
    qs = sp.symbols("q_1:4", positive=True)
    v = sp.symbols("v_1:4", real=True)
    qv = sum(a * b for a, b in zip(qs, v))
    form = sum(qs[j] * v[j] ** 2 for j in range(K)) - qv ** 2
    variance = sum(qs[j] * (v[j] - qv) ** 2 for j in range(K))
    psd = is_zero(sp.expand(form - variance).subs(qs[2], 1 - qs[0] - qs[1]))
    facts.append(Finding("symbolic", r"$v^\top (\mathrm{diag}(q) - q q^\top) v = \sum_j q_j (v_j - q \cdot v)^2 \ge 0$ "
                                  r"when $\sum_j q_j = 1$ ($K = 3$): positive semi-definite, zero only for constant $v$",
                         psd))
    x = Logits(3)
    c = sp.Symbol("c", real=True)
    L = smoothed_loss(x, EPS)
    shift = is_zero(L.subs({s: s + c for s in x.symbols}, simultaneous=True) - L)
    facts.append(Finding("symbolic", r"$\mathcal{L}(z + c\mathbf{1}) = \mathcal{L}(z)$ ($K = 3$): the loss is flat along "
                                     r"the null space $\mathrm{span}(\mathbf{1})$", shift))
    return Evidence(holds=general and all(concrete.values()) and psd and shift, findings=facts)


register(Claim(
    id="ch2.hessian", chapter=2, section=SECTION, order=12, source="added",
    stated=Verdict.HOLDS,
    title=r"Hessian: independent of the target, positive semi-definite, null space $\mathrm{span}(\mathbf{1})$",
    printed=r"\frac{\partial^2}{\partial z_{a} \partial z_{b}} \mathcal{L} = q_{a} \delta_{ab} - q_{a} q_{b}",
    check=_check_hessian,
    remark=r"For any target summing to one (proved for a general $K$): the matrix $\mathrm{diag}(q) - q q^\top$, "
           r"positive semi-definite with null space $\mathrm{span}(\mathbf{1})$. The loss is convex in the logits for "
           r"every target; it is strictly convex except along $z + c\mathbf{1}$, the direction in which the softmax "
           r"(and so the loss) does not change.",
))


# -- added: the optimum -----------------------------------------------------------------------
def _check_optimum(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    g = Logits()
    gap = f.printed.rhs(g, SOFT, 0)                           # the printed optimal gap
    h = f.printed.rhs(g, SOFT, 1)                             # the printed minimum
    ex = sp.simplify(sp.exp(gap))
    q1 = sp.simplify(ex / (ex + g.K - 1))
    qj = sp.simplify(1 / (ex + g.K - 1))
    q_ok = is_zero(q1 - (1 - EPS)) and is_zero(qj - EPS / (g.K - 1))
    facts.append(Finding("symbolic", r"at $z_1 - z_j =$ the printed gap for all $j > 1$, $\mathrm{softmax}(z) = "
                                  r"p_\epsilon$, so the gradient $q - p$ vanishes (general $K$, $0 < \epsilon < 1$): "
                                  f"{'yes' if q_ok else 'no'}", True))
    value = sp.log(sp.factor(sp.simplify(ex + g.K - 1))) - (1 - EPS) * gap   # the loss at z = (gap, 0, ..., 0)
    min_ok = is_zero(sp.expand_log(value - h, force=True))
    facts.append(Finding("symbolic", "the loss there equals the printed minimum (general $K$): "
                      + ("yes" if min_ok else "no"), True))
    facts.append(Finding("symbolic", r"convex (Hessian positive semi-definite, ch2.hessian) with null space "
                                  r"$\mathrm{span}(\mathbf{1})$: a stationary point is the global minimiser, unique up to "
                                  r"adding $c\mathbf{1}$", True))
    # the printed left-hand sides, read: at z = (gap + s, s, ..., s) they are the gap (every j > 1) and the minimum
    s_ = sp.Symbol("s", real=True)

    def sides_at_optimum(x: Logits) -> bool:
        K = x.K
        point = {x.z(1): gap.subs(g.K, K) + s_, **{x.z(j): s_ for j in range(2, K + 1)}}
        return (all(is_zero(f.printed.lhs(x, SOFT, 0, j=j).subs(point) - gap.subs(g.K, K)) for j in range(2, K + 1))
                and is_zero(f.printed.lhs(x, SOFT, 1).subs(point) - h.subs(g.K, K)))
    cases = each_k(sides_at_optimum, general=False)
    sides_ok = all(cases.values())
    facts.append(Finding("symbolic", r"the printed left-hand sides at $z = (\mathrm{gap} + s, s, \dots, s)$: $z_1 - z_j$ "
                                  r"is the gap for every $j > 1$ and $\mathcal{L}_\epsilon(z)$ is the printed minimum "
                                  f"({where(cases)}): " + ("yes" if sides_ok else "no"), True))
    q_ok = q_ok and sides_ok

    def off_optimum(pt):         # library vs printed gap and minimum (inf when a perturbation pt.z lowers the loss)
        K, e = pt.K, pt.param
        g_sym = float(gap.subs({g.K: K, EPS: sp.Rational(str(e))}))
        h_sym = float(h.subs({g.K: K, EPS: sp.Rational(str(e))}))
        z_star = np.zeros((1, K))
        z_star[0, 0] = g_sym
        at_opt = float(smoothed_loss_numeric(z_star, e)[0])
        if np.any(smoothed_loss_numeric(z_star + pt.z, e) < at_opt - 1e-12):
            return np.inf
        return max(abs(sm.smoothed_optimum_gap(K, e) - g_sym) / max(1, abs(g_sym)),
                   abs(sm.smoothed_minimum(K, e) - h_sym), abs(at_opt - h_sym))
    worst = largest(off_optimum, f.key, scales=(0.3,), n=64, params=(0.01, 0.1, 0.5, 0.9)).worst
    facts.append(Finding("numeric", "`smoothed_optimum_gap` and `smoothed_minimum` match the printed forms; the library "
                                 "loss at the printed gap equals the printed minimum and is below 64 random "
                                 "perturbations", (worst <= 1e-12) == (q_ok and min_ok), error=worst))
    return Evidence(holds=q_ok and min_ok and worst <= 1e-12, findings=facts)


register(Claim(
    id="ch2.optimum", chapter=2, section=SECTION, order=13, source="added",
    stated=Verdict.HOLDS,
    title=r"The optimum: $q = p_\epsilon$ at a finite logit gap, minimum $=$ entropy",
    printed=r"z_1 - z_j = \log\frac{(1-\epsilon)(K-1)}{\epsilon}, \quad "
            r"\mathcal{L}_\epsilon = -(1-\epsilon)\log(1-\epsilon) - \epsilon \log\frac{\epsilon}{K-1}",
    check=_check_optimum,
    remark=r"The minimiser over the logits, for $0 < \epsilon < 1$: every wrong logit this far below the true one, "
           r"where $\mathrm{softmax}(z) = p_\epsilon$; the smoothed loss there, its minimum, is the entropy "
           r"$H(p_\epsilon)$ of the target. The gap is positive (the true class most probable) exactly when "
           r"$\epsilon < \frac{K-1}{K}$, zero at $\epsilon = \frac{K-1}{K}$ (uniform target), negative beyond. "
           r"Exposed as `smoothed_optimum_gap` and `smoothed_minimum`.",
))


def _check_hard_no_minimiser(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    g = Logits()
    rel = f.printed.relation()
    steps = list(rel.rhs.args) if rel.op == "chain" else [rel]
    hard = cross_entropy(g, lambda j: one_hot(g, j))
    as_printed = evaluate(steps[0].rhs, g, SOFT)
    left = evaluate(steps[0].lhs, g, SOFT)                     # L_0(z), the hard loss
    ok_form = is_zero(hard - as_printed, force_log=True) and is_zero(left - hard, force_log=True)
    facts.append(Finding("symbolic", "hard loss minus printed form, and printed left side minus hard loss: "
                                  f"{'zero' if ok_form else 'not zero'} (general $K$)", True))
    positive = len(steps) > 1 and steps[1].op == ">" and evaluate(steps[1].rhs, g, SOFT) == 0
    # the log's argument minus 1 must be a non-empty sum (K >= 2) of exponentials, each positive
    inside = sp.expand(as_printed.args[0] - 1) if isinstance(as_printed, sp.log) else sp.S.Zero
    terms = sp.Add.make_args(inside)
    pos_ok = positive and inside != 0 and all(
        isinstance(a, sp.Sum) and a.function.is_positive and a.limits[0][1] == 2 and a.limits[0][2] == g.K
        for a in terms)
    facts.append(Finding("symbolic", "$> 0$: the logarithm's argument is 1 plus a sum of exponentials, so greater than 1 "
                                  "for finite $z$ (general $K$)", pos_ok or not positive))
    d = sp.Symbol("Delta", positive=True)
    family = g.fix_others(as_printed.subs(g.z(1), d), 0)
    family = sp.simplify(family.replace(lambda a: isinstance(a, sp.Sum),
                                        lambda a: a.xreplace({g.base[a.variables[0]]: 0}).doit()))
    lim = sp.limit(family, d, sp.oo)
    facts.append(Finding("symbolic", rf"along $z = (\Delta, 0, \dots, 0)$: the loss ${sp.latex(family)} \to "
                                  rf"{sp.latex(lim)}$ as $\Delta \to \infty$: infimum 0, never attained", lim == 0))
    gap_lim = sp.limit(sp.log((1 - EPS) * (g.K - 1) / EPS), EPS, 0, "+")
    facts.append(Finding("symbolic", r"the optimal smoothed gap $\log\frac{(1-\epsilon)(K-1)}{\epsilon} \to "
                                  rf"{sp.latex(gap_lim)}$ as $\epsilon \to 0^+$", gap_lim == sp.oo))
    deltas = np.linspace(0.0, 40.0, 81)

    def not_decreasing(pt):                 # 1 when the hard loss along z = (Delta, 0, ..., 0) is not > 0 and falling
        z = np.zeros((deltas.size, pt.K))
        z[:, 0] = deltas
        loss = num.cross_entropy(z, np.zeros(deltas.size, dtype=int))
        return float(not (np.all(np.diff(loss) < 0) and np.all(loss > 0)))
    ok = largest(not_decreasing, f.key, scales=(1.0,), n=1).worst == 0
    facts.append(Finding("numeric", "the library's hard loss is positive and strictly decreasing in the gap on "
                                    "$[0, 40]$", ok))
    finite = largest(lambda pt: float(sm.smoothed_optimum_gap(pt.K, 0.0) != np.inf), f.key + "/gap",
                     scales=(1.0,), n=1).worst
    facts.append(Finding("numeric", r"`smoothed_optimum_gap(K, 0.0)` is $+\infty$", finite == 0))
    return Evidence(holds=ok_form and pos_ok and lim == 0 and gap_lim == sp.oo and ok, findings=facts)


register(Claim(
    id="ch2.hard_no_minimiser", chapter=2, section=SECTION, order=14, source="added",
    stated=Verdict.HOLDS,
    title=r"Hard labels ($\epsilon = 0$): no finite minimiser",
    printed=r"\mathcal{L}_0(z) = \log\left(1 + \sum_{j=2}^{K} \exp(-(z_1 - z_j))\right) > 0",
    check=_check_hard_no_minimiser,
    remark=r"Positive for every finite $z$, with infimum 0 approached only as every gap $z_1 - z_j$ grows without "
           r"bound: with hard labels, gradient descent keeps growing the logit gap forever; any $\epsilon > 0$ gives the "
           r"finite optimum of ch2.optimum. This is the regularising effect of label smoothing, in one line.",
))


# -- added: cross-entropy = entropy + KL -----------------------------------------------------------
def _check_entropy_kl(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    results = each_k(lambda x: [is_zero(f.printed.lhs(x, SOFT, i) - f.printed.rhs(x, SOFT, i), force_log=True)
                                for i in (0, 1)])
    decomposition = all(r[0] for r in results.values())
    entropy = all(r[1] for r in results.values())
    facts.append(Finding("symbolic", "cross-entropy minus (entropy + KL): " + ("zero" if decomposition else "not zero")
                      + rf" ({where(results)}, symbolic $\epsilon$)", len({r[0] for r in results.values()}) == 1))
    facts.append(Finding("symbolic", r"entropy of $p_\epsilon$ minus the printed closed form: "
                      + ("zero" if entropy else "not zero") + f" ({where(results)})", len({r[1] for r in results.values()}) == 1))
    def off_decomposition(pt):       # library loss - (printed entropy + KL), per row (inf where KL < 0)
        y, e = pt.labels(), pt.param
        p = sm.smoothed_targets(y, pt.K, eps=e)
        kl = np.sum(p * (np.log(p) - num.log_softmax(pt.z)), axis=1)
        h = float(f.printed.rhs(Logits(pt.K), SOFT, 1).subs(EPS, sp.Rational(str(e))))
        gap = np.maximum(np.abs(sm.smoothed_cross_entropy(pt.z, y, eps=e, reduction="none") - (h + kl)), abs(sm.smoothed_minimum(pt.K, e) - h))
        return np.where(kl >= -1e-12, gap, np.inf)
    worst = largest(off_decomposition, f.key, scales=(5.0,), params=(0.1, 0.5)).worst
    facts.append(Finding("numeric", r"the library's loss is the printed entropy plus KL at random logits, "
                                 r"$\mathrm{KL} \ge 0$, and `smoothed_minimum` is the printed entropy", (worst <= RTOL) == (decomposition and entropy),
                      error=worst))
    return Evidence(holds=decomposition and entropy and worst <= RTOL, findings=facts)


register(Claim(
    id="ch2.entropy_kl", chapter=2, section=SECTION, order=15, source="added",
    stated=Verdict.HOLDS,
    title="Cross-entropy $=$ entropy of the target $+$ KL divergence",
    printed=r"-\sum_{j=1}^{K} p_j \log q_j = -\sum_{j=1}^{K} p_j \log p_j + \sum_{j=1}^{K} p_j \log\frac{p_j}{q_j}, "
            r"\quad -\sum_{j=1}^{K} p_j \log p_j = -(1-\epsilon)\log(1-\epsilon) - \epsilon \log\frac{\epsilon}{K-1}",
    check=_check_entropy_kl,
    remark=r"$H(p_\epsilon, q) = H(p_\epsilon) + \mathrm{KL}(p_\epsilon \,\|\, q)$ with $p_\epsilon$ the soft target "
           r"and $q = \mathrm{softmax}(z)$, proved for a general $K$: the smoothed loss is a constant (the target's "
           r"entropy) plus the KL divergence from the target to the model, which is $\ge 0$, so its minimum "
           r"$H(p_\epsilon)$ is attained exactly at $q = p_\epsilon$, as ch2.optimum found.",
))


# -- added: the conventions ----------------------------------------------------------------------
ALPHA = sp.Symbol("alpha", nonnegative=True)


def _check_conventions(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    g = Logits()
    e_, a_ = sp.Symbol("e", real=True), sp.Symbol("a", real=True)
    plain = {EPS: e_, sp.Symbol("alpha"): a_}
    rel0 = [sp.simplify(f.printed.lhs(g, SOFT, 0).subs(plain) - f.printed.rhs(g, SOFT, 0).subs(plain))]
    rel1 = [sp.simplify(f.printed.lhs(g, SOFT, 1).subs(plain) - f.printed.rhs(g, SOFT, 1).subs(plain))]
    sol0, sol1 = sp.solve(rel0, e_, dict=True), sp.solve(rel1, a_, dict=True)
    if len(sol0) != 1 or len(sol1) != 1:
        facts.append(Finding("symbolic", "each printed relation determines its parameter uniquely", False))
        return Evidence(holds=False, findings=facts)
    eps_of_alpha = sol0[0][e_].subs(a_, ALPHA)                 # relation 1 solved for eps
    alpha_of_eps = sol1[0][a_].subs(e_, EPS)                   # relation 2 solved for alpha
    K = g.K
    uniform = lambda j: (1 - ALPHA) * one_hot(g, j) + ALPHA / K         # noqa: E731
    same = all(is_zero(uniform(j) - smoothed_target(g, j, eps_of_alpha)) for j in (1, 2, INDEX_J))
    facts.append(Finding("symbolic", r"$(1-\alpha)\,\mathrm{onehot} + \frac{\alpha}{K}$ is the note's target at the "
                                  r"printed $\epsilon(\alpha)$ (general $K$, classes 1, 2 and a general $j$): "
                                  + ("yes" if same else "no"), True))
    back = is_zero(alpha_of_eps.subs(EPS, eps_of_alpha) - ALPHA)
    facts.append(Finding("symbolic", r"the printed $\alpha(\epsilon)$ inverts the printed $\epsilon(\alpha)$: "
                                     + ("yes" if back else "no"),
                      True))
    ends = is_zero(eps_of_alpha.subs(ALPHA, 0)) and is_zero(eps_of_alpha.subs(ALPHA, 1) - (K - 1) / K)
    slope = sp.simplify(sp.diff(eps_of_alpha, ALPHA))
    k = sp.Symbol("k", integer=True, nonnegative=True)          # K = k + 2 >= 2
    facts.append(Finding("symbolic", rf"$\frac{{d\epsilon}}{{d\alpha}} = {sp.latex(slope)} > 0$, $\alpha = 0 \mapsto "
                                  r"\epsilon = 0$, $\alpha = 1 \mapsto \epsilon = \frac{K-1}{K}$: $\alpha \in [0, 1] "
                                  r"\iff \epsilon \in [0, \frac{K-1}{K}]$",
                      ends and bool(slope.subs(K, k + 2).is_positive)))
    def across_conventions(pt):      # library mappings vs printed ones; targets and losses of the two conventions
        K_, a, z, y = pt.K, pt.param, pt.z, pt.labels()
        e_printed = float(eps_of_alpha.subs({K: K_, ALPHA: sp.Rational(str(a))}))
        a_printed = float(alpha_of_eps.subs({K: K_, EPS: sp.Rational(str(a)) * (K_ - 1) / K_}))
        t = np.max(np.abs(sm.smoothed_targets(y, K_, eps=e_printed) - sm.smoothed_targets(y, K_, label_smoothing=a)))
        lo = np.max(np.abs(sm.smoothed_cross_entropy(z, y, eps=e_printed, reduction="none")
                           - sm.smoothed_cross_entropy(z, y, label_smoothing=a, reduction="none")))
        return max(abs(sm.label_smoothing_to_eps(a, K_) - e_printed),
                   abs(sm.eps_to_label_smoothing(sm.label_smoothing_to_eps(a, K_), K_) - a_printed),
                   float(t), float(lo))
    worst = largest(across_conventions, f.key, Ks=NUMERIC_K + (1000,), scales=(5.0,),
                    params=(0.0, 0.1, 0.5, 1.0)).worst
    facts.append(Finding("numeric", "the library's `label_smoothing_to_eps` and `eps_to_label_smoothing` are the printed mappings, and "
                                 "targets and losses of the two conventions agree under them to $10^{-12}$ ($K$ up to "
                                 "1000)",
                      (worst <= 1e-12) == (same and back), error=worst))
    try:
        sm.eps_to_label_smoothing(0.95, 10)
        raises = False
    except ValueError:
        raises = True
    facts.append(Finding("numeric", r"`eps_to_label_smoothing(0.95, K=10)` raises `ValueError`: $0.95 > \frac{K-1}{K} = 0.9$ has no "
                                 r"$\alpha \in [0, 1]$", raises))
    return Evidence(holds=same and back and ends and bool(slope.subs(K, k + 2).is_positive) and worst <= 1e-12
                    and raises, findings=facts)


register(Claim(
    id="ch2.conventions", chapter=2, section=SECTION, order=16, source="added",
    stated=Verdict.HOLDS,
    title=r"The note's $\epsilon$ and the frameworks' $\alpha$",
    printed=r"\epsilon = \alpha\frac{K-1}{K}, \quad \alpha = \epsilon\frac{K}{K-1}",
    check=_check_conventions,
    remark=r"The frameworks' target $(1 - \alpha)\,\mathrm{onehot} + \frac{\alpha}{K}$ (Szegedy et al. 2016; the "
           r"`label_smoothing` of PyTorch, Keras and Optax) is the note's target at this $\epsilon$; $\alpha \in [0, 1]$ "
           r"covers $\epsilon \in [0, \frac{K-1}{K}]$. At $\alpha = 0.1$ and $K = 10$ the true class gets $0.91$, not "
           r"$0.9$. The note's $\epsilon \in (\frac{K-1}{K}, 1]$ (true class below the others) has no "
           r"$\alpha \in [0, 1]$.",
))
