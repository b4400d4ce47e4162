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
from derivations.engine.note import displayed
from derivations.engine.registry import Claim, Counterexample, Evidence, Fact, Formulas, Verdict, register
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


def _step(key: str, **kw):
    """A check of an '=' step of the smoothed-loss chain, eps symbolic and swept."""
    return equation(smoothed_loss, smoothed_loss_numeric, SOFT, key=key, eps_values=EPS_VALUES,
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
    facts: list[Fact] = []
    cases = each_k(lambda x: _matches_softmax(f.printed, x))
    holds = all(cases.values())
    facts.append(Fact("symbolic", f"printed components are the softmax of the logits ({where(cases)}, "
                                  f"symbolic eps): {'yes' if holds else 'no'}", True))
    x3 = Logits(3)
    vec = f.printed.rhs(x3, SOFT)
    total = sum(vec.components())
    sums_to_one = is_zero(total - 1)
    facts.append(Fact("symbolic", "the printed components do not sum to 1 (K=3, symbolic eps)"
                      if not sums_to_one else "the printed components sum to 1 (K=3)", True))
    at_zero = [is_zero(vec.component(j).subs(EPS, 0) - softmax(x3, j)) for j in (1, 2)]
    facts.append(Fact("symbolic", f"at eps = 0, components 1 and 2 are the softmax's: {at_zero}", True))
    point = {x3.z(1): 1, x3.z(2): 0, x3.z(3): 0, EPS: EPS_CE}
    ce = None
    if not holds:
        ce = Counterexample("sum of the printed components", _mp(total, point), 1.0, K=3, z=(1.0, 0.0, 0.0),
                            parameters={"eps": EPS_CE})
        facts.append(Fact("numeric", f"counterexample at {ce.point()} confirmed in mpmath",
                          abs(ce.printed - ce.correct) > 1e-3))
    corrected_ok = None
    if f.corrected is not None:
        cases = each_k(lambda x: _matches_softmax(f.corrected, x))
        corrected_ok = all(cases.values())
        no_eps = all(each_k(lambda x: all(EPS not in f.corrected.rhs(x, SOFT).component(j).free_symbols
                                          for j in range(1, x.K + 1)), general=False).values())
        facts.append(Fact("symbolic", f"corrected: every component is the softmax and contains no eps ({where(cases)})",
                          corrected_ok and no_eps))

        def vs_targets(pt):      # smoothing enters the loss only through p: the loss is -sum_j p_j log softmax(z)_j
            ref = -np.sum(sm.smoothed_targets(np.zeros(len(pt.z), dtype=int), pt.K, eps=pt.param)
                          * num.log_softmax(pt.z), axis=-1)
            return np.abs(smoothed_loss_numeric(pt.z, pt.param) - ref) / np.maximum(1, ref)
        worst = largest(vs_targets, "ch2.q_modified", scales=(3.0,), params=(0.0, 0.1, 0.5, 1.0)).worst
        facts.append(Fact("numeric", "library smoothed loss = -sum_j p_eps,j log softmax(z)_j at random logits "
                                     f"(rel. tol {RTOL:g})", worst <= RTOL, worst))
        corrected_ok = corrected_ok and no_eps and worst <= RTOL
    return Evidence(holds=holds, corrected_ok=corrected_ok, facts=facts, counterexample=ce)


register(Claim(
    id="ch2.q_modified", chapter=2, section=SECTION, order=1,
    stated=Verdict.ERRATUM,
    title="The model output under label smoothing",
    printed=displayed(2, 1),
    corrected=SOFTMAX_Q,
    check=_check_q_modified,
    remark="Label smoothing changes the target p, not the model's output: q is still the softmax of the logits, for "
           "every eps. The printed vector scales the logits inside the exponentials by the target weights, is not a "
           "probability vector (it does not sum to 1), and is not even the softmax at eps = 0.",
))


# -- 2. the soft target ---------------------------------------------------------------
def _check_soft_target(f: Formulas) -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    p = f.printed.rhs(g, SOFT)                                 # a function of the class index j
    target = f.printed.lhs(g, SOFT)                            # p(y_j|x), the soft target of this chapter
    same = all(is_zero(p.subs(INDEX_J, k) - smoothed_target(g, k, EPS))
               and is_zero(target.subs(INDEX_J, k) - p.subs(INDEX_J, k)) for k in range(1, 9))
    facts.append(Fact("symbolic", "printed cases equal (1-eps) delta_j1 + eps/(K-1) (1 - delta_j1) and the left-hand "
                                  "side p(y_j|x), for j = 1..8, general K", same))
    total = sp.simplify(g.sum(lambda k: p.subs(INDEX_J, k)).doit())
    facts.append(Fact("symbolic", f"sum_j of the printed cases = {total} (general K, symbolic eps)", True))

    def entries(pt):                                          # library's targets - printed, on and off the label
        y = pt.labels()
        lib = sm.smoothed_targets(y, pt.K, eps=pt.param)
        on, off = (float(p.subs(INDEX_J, k).subs({g.K: pt.K, EPS: pt.param})) for k in (1, 2))
        return np.maximum(np.abs(lib[np.arange(len(y)), y] - on),
                          np.max(np.abs(np.where(np.arange(pt.K) == y[:, None], off, lib) - off), axis=1))
    worst = largest(entries, "ch2.soft_target", Ks=NUMERIC_K + (1000,), scales=(1.0,), n=16,
                    params=(0.0, 0.1, 0.5, 1.0)).worst
    facts.append(Fact("numeric", "smoothed_targets has the printed entries (1 - eps on the label, eps/(K-1) "
                                 "elsewhere), K up to 1000, eps in {0, 0.1, 0.5, 1}", worst <= 1e-15, worst))
    return Evidence(holds=same and total == 1, facts=facts)


register(Claim(
    id="ch2.soft_target", chapter=2, section=SECTION, order=2,
    stated=Verdict.HOLDS,
    title="The soft target",
    printed=displayed(2, 2),
    check=_check_soft_target,
    remark="A definition; it is a probability vector for every eps in [0, 1] (proved for a general symbolic K). "
           "The text's 'k output units' and the display's K are the same number.",
))


# -- 3. the sum over examples ----------------------------------------------------------
N1_ASSUMPTION = ("N = 1: the single data point the note analyses ('Lets consider one data point'); "
                 "the summand's index i is read as the summation index l")
_N = sp.Symbol("N")                  # as the notation reads it


def _check_loss_sum_examples(f: Formulas) -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    printed = f.printed.rhs(g, SOFT)                          # sum_{l=1}^N H_i, as read
    # the left-hand side, read, in units of one example's loss L (what the next lines compute)
    L = sp.Symbol("L")
    one = sp.simplify(f.printed.lhs(g, SOFT) / SOFT.loss(g)) * L
    literal = sp.simplify(printed.doit().replace(lambda a: isinstance(a, sp.Function) and a.func.__name__ == "H",
                                                 lambda a: L))
    facts.append(Fact("symbolic", f"as printed, with H_i the loss L of the one example: {sp.sstr(one)} = "
                                  f"{sp.sstr(literal)}", True))
    holds = is_zero(literal - one)
    facts.append(Fact("symbolic", f"printed right - left = {sp.sstr(sp.factor(literal - one))}", True))
    under = is_zero((literal - one).subs(_N, 1))
    facts.append(Fact("symbolic", "with N = 1: printed - next line = " + ("0" if under else "not 0")
                      + " (general K: the sum runs over examples, the per-example loss is left whole)", True))
    ce = None
    x = Logits(3)
    h = _mp(smoothed_loss(x, EPS), {x.z(1): 1, x.z(2): 0, x.z(3): 0, EPS: EPS_CE})
    if not holds:
        # N = 2 copies of one example: each term is that example's loss h
        value = float((literal / L).subs(_N, 2)) * h                 # N = 2 copies of the one example
        ce = Counterexample("loss of the data set", value, h, K=3, z=(1.0, 0.0, 0.0), parameters={"N": 2, "eps": EPS_CE},
                            note="two copies of one example, as printed")
        facts.append(Fact("numeric", f"counterexample at {ce.point()} confirmed in mpmath",
                          abs(ce.printed - ce.correct) > 1e-3))
    corrected_ok = None
    if f.corrected is not None:
        # the corrected sum with N = 2 distinct examples: one loss per example, each the next lines' expression
        Z = [Logits(3, name=f"z{i}") for i in (1, 2)]
        corrected = f.corrected.rhs(g, SOFT).subs(_N, 2).doit()
        per_example = corrected.replace(lambda a: isinstance(a, sp.Function) and a.func.__name__ == "H",
                                        lambda a: smoothed_loss(Z[int(a.args[0]) - 1], EPS))
        general_ok = is_zero(per_example - sum(smoothed_loss_closed(zi, EPS) for zi in Z))
        facts.append(Fact("symbolic", "corrected, N = 2 examples, K = 3: sum_i H_i = sum_i [LSE(z^(i)) - (1-eps) "
                                      "z^(i)_1 - eps/2 sum_(j>1) z^(i)_j], one term per example", general_ok))

        def batch_vs_singles(pt):
            y = pt.labels()
            total = float(sm.smoothed_cross_entropy(pt.z, y, eps=0.1, reduction="sum"))
            one_by_one = sum(float(sm.smoothed_cross_entropy_materialised(zi, yi, eps=0.1)) for zi, yi in zip(pt.z, y))
            return abs(total - one_by_one) / max(1.0, abs(one_by_one))
        worst = largest(batch_vs_singles, "ch2.loss_sum_examples", scales=(5.0,), n=32).worst
        facts.append(Fact("numeric", "loss of a batch of 32 = sum of 32 single-example losses (library vs "
                                     "materialised)", worst <= RTOL, worst))
        corrected_ok = general_ok and worst <= RTOL
    return Evidence(holds=holds, holds_under=under, corrected_ok=corrected_ok, facts=facts, counterexample=ce)


register(Claim(
    id="ch2.loss_sum_examples", chapter=2, section=SECTION, order=3,
    stated=Verdict.HOLDS_UNDER,
    title="The loss as a sum over N examples",
    printed=displayed(2, 3),
    assumption=N1_ASSUMPTION,
    corrected=r"\mathcal{L} = \sum_{i=1}^{N} H_{i}(p, q_{\theta})",
    check=_check_loss_sum_examples,
    remark="The summation index l does not occur in the summand, so as printed the sum is N H_i; and the next "
           "line is the loss of one example. The chain is right for the one data point the note analyses "
           "(N = 1). For a data set, the loss is the sum (or mean) over examples i of the per-example "
           "cross-entropy H_i, and each term is what the following lines compute. Chapter 1 used the same symbol "
           "H_j for per-class terms, summed over classes; this line sums over examples instead.",
))


# -- 4-5. cross-entropy with the soft target --------------------------------------------
register(Claim(
    id="ch2.loss_definition", chapter=2, section=SECTION, order=4,
    stated=Verdict.HOLDS,
    title="Cross-entropy with the soft target",
    printed=displayed(2, 4),
    check=_step("ch2.loss_definition"),
    remark="The definition of cross-entropy with p the soft target and q the (unchanged) softmax; checked against "
           "the library's closed-form smoothed_cross_entropy.",
))

register(Claim(
    id="ch2.loss_expanded", chapter=2, section=SECTION, order=5,
    stated=Verdict.HOLDS,
    title="The loss written out term by term",
    printed=displayed(2, 5),
    check=_step("ch2.loss_expanded"),
    remark="Holds, reading '...' as the terms eps/(K-1) log q_j for j = 2..K. As in chapter 1, the "
           "justification '(assuming i is the correct label)' names i where the true class is 1.",
))


# -- 6-7. the approximations with M = ||z||_inf ---------------------------------------------
APPROX_CORRECTED = r"\approx \max_j z_{y_j} - (1-\epsilon) z_{y_1} - \frac{\epsilon}{K-1}\sum_{j=2}^{K} z_{y_j}"


def _inherited_from_eq1(facts: list[Fact], f: Formulas) -> None:
    """Line 6 is -sum_j p_j log q_j with the note's q of equation 1 and LSE(z) replaced by M."""
    M = sp.Symbol("M")

    def inherited(x: Logits) -> bool:
        q_note = f.inputs["q_modified"].rhs(x, SOFT)
        lse = log_sum_exp(x)
        from_eq1 = -sum(smoothed_target(x, j, EPS) * sp.expand_log(sp.log(q_note.component(j)), force=True).subs(lse, M)
                        for j in range(1, x.K + 1))
        return is_zero(from_eq1 - f.printed.rhs(x, SOFT).subs(sup_norm(x), M))
    cases = each_k(inherited, general=False)
    facts.append(Fact("symbolic", "printed = -sum_j p_j log q_j with the note's q of equation 1 and LSE(z) replaced "
                                  f"by M ({where(cases)}): the squared weights are inherited", all(cases.values())))


register(Claim(
    id="ch2.loss_approx_M", chapter=2, section=SECTION, order=6,
    stated=Verdict.ERRATUM,
    title="The approximation with M = ||z||_inf",
    printed=displayed(2, 6),
    corrected=APPROX_CORRECTED,
    inputs={"q_modified": displayed(2, 1)},
    check=approximation(smoothed_loss, smoothed_loss_numeric, SOFT, "ch2.loss_approx_M", eps_values=EPS_VALUES[1:4],
                        extra=_inherited_from_eq1),
    remark="'≈' as in chapter 1: the error must vanish as the margin of the largest logit grows. The line follows "
           "exactly from the note's own q of equation 1 (whose logits carry the target weights) with LSE(z) "
           "replaced by M: the error is inherited from equation 1, not a new misuse of log q_j. With the model's "
           "actual q = softmax(z), log q_j = z_j - LSE(z) and each weight enters once; here it enters twice. And "
           "LSE(z) is approximated by max_j z_j, not by ||z||_inf (ch1.loss_approx_max). Even where the max "
           "approximation is excellent (one dominant logit m, M = m), the printed form is off by eps(1-eps) m, "
           "without bound. The exact loss needs no approximation at all (ch2.closed_form).",
))


def _follows_from_line_6(facts: list[Fact], f: Formulas) -> None:
    M = sp.Symbol("M")

    def same_as_line_6(x: Logits) -> bool:
        a, b = f.printed.rhs(x, SOFT), f.inputs["line_6"].rhs(x, SOFT)
        if not x.general:
            a, b = a.subs(sup_norm(x), M), b.subs(sup_norm(x), M)
        return is_zero(a - b, force_log=x.general)
    cases = each_k(same_as_line_6)
    facts.append(Fact("symbolic", f"printed = previous line, term by term (M a symbol; {where(cases)}): the line "
                                  "follows, errors included", all(cases.values())))


register(Claim(
    id="ch2.loss_squared", chapter=2, section=SECTION, order=7,
    stated=Verdict.ERRATUM,
    title="The final form with squared coefficients",
    printed=displayed(2, 7),
    corrected=APPROX_CORRECTED,
    inputs={"line_6": displayed(2, 6)},
    check=approximation(smoothed_loss, smoothed_loss_numeric, SOFT, "ch2.loss_squared", eps_values=EPS_VALUES[1:4],
                        extra=_follows_from_line_6),
    remark="This line does follow from the previous one (the weights of M add up to (1-eps) + (K-1) eps/(K-1) = 1), "
           "so it inherits that line's errors: the other logits enter the loss with weight eps/(K-1), not "
           "(eps/(K-1))^2, and the true logit with 1-eps, not (1-eps)^2. The note's conclusion, that the wrong "
           "classes contribute, is right; by how much is not. j != i should read j != 1.",
))


# -- added: the exact closed form and its relation to the hard loss ------------------------------
register(Claim(
    id="ch2.closed_form", chapter=2, section=SECTION, order=8, source="added",
    stated=Verdict.HOLDS,
    title="The smoothed loss in closed form",
    printed=r"\mathcal{L}_\epsilon(z) = \mathrm{LSE}(z) - (1-\epsilon) z_1 - \frac{\epsilon}{K-1}\sum_{j=2}^{K} z_j",
    check=_step("ch2.closed_form"),
    remark="Because the target sums to 1, -sum_j p_j (z_j - LSE) = LSE - sum_j p_j z_j. This is what "
           "smoothed_cross_entropy evaluates, without ever forming the N x K targets.",
))

register(Claim(
    id="ch2.vs_hard", chapter=2, section=SECTION, order=9, source="added",
    stated=Verdict.HOLDS,
    title="Smoothed loss = hard loss + eps x (true logit - mean of the others)",
    printed=r"\mathcal{L}_\epsilon(z) = \mathcal{L}_0(z) + \epsilon\left(z_1 - \frac{1}{K-1}\sum_{j=2}^{K} z_j\right)",
    check=_step("ch2.vs_hard"),
    remark="Label smoothing adds a penalty linear in the logits: eps times the gap between the true logit and the "
           "mean of the others. It is what stops the hard loss from being driven to 0 by an unbounded gap.",
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
    facts: list[Fact] = []
    general, concrete = _for_any_target(f)
    facts.append(Fact("symbolic", "d/dz_a of H(p, softmax(z)) minus the printed right-hand side, with sum_j p_j = 1: "
                                  f"{'zero' if general else 'not zero'} for a general K (1 <= a <= K), and "
                                  f"{'zero' if all(concrete.values()) else 'not zero'} for every component, "
                                  f"{where(concrete)}", general == all(concrete.values())))
    x3 = Logits(3)
    p_free = sp.symbols("p_1:4", positive=True)
    H_free = -sum(p_free[j - 1] * sp.log(softmax(x3, j)) for j in (1, 2, 3))
    without = is_zero(sp.diff(H_free, x3.z(1)) - (softmax(x3, 1) * sum(p_free) - p_free[0]))
    facts.append(Fact("symbolic", "without normalisation dH/dz_k = q_k sum_j p_j - p_k (K=3): the sum-to-one is used",
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
    worst = largest(vs_differences, "ch2.gradient", scales=(3.0,), n=8).worst
    facts.append(Fact("numeric", "central differences of -sum p log softmax(z) match the printed gradient (random z, "
                                 "Dirichlet p, abs. tol 1e-7)", (worst <= 1e-7) == general, worst))
    return Evidence(holds=general and all(concrete.values()) and without, facts=facts)


register(Claim(
    id="ch2.gradient", chapter=2, section=SECTION, order=10, source="added",
    stated=Verdict.HOLDS,
    title="Gradient with respect to the logits",
    printed=r"\frac{\partial}{\partial z_{a}} \mathcal{L} = q_{a} - p_{a}",
    check=_check_gradient,
    remark="For the loss L = H(p, softmax(z)) = -sum_j p_j log q_j and any target p with sum_j p_j = 1 (proved for a "
           "general K). For the soft target the gradient on the true logit is q_1 - (1 - eps) and on each other logit "
           "q_j - eps/(K-1): it vanishes exactly when q equals the soft target.",
))


def _check_hessian(f: Formulas) -> Evidence:
    facts: list[Fact] = []
    general, concrete = _for_any_target(f, Ks=(2,))
    facts.append(Fact("symbolic", "d^2/dz_a dz_b of H(p, softmax(z)) minus the printed right-hand side, with sum_j "
                                  f"p_j = 1: {'zero' if general else 'not zero'} for a general K (1 <= a, b <= K), and "
                                  f"{'zero' if all(concrete.values()) else 'not zero'} entry by entry, "
                                  f"{where(concrete)}; it contains no p: the same for every target",
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
    worst = largest(off_span_one, "ch2.hessian", Ks=NUMERIC_K + (50,), scales=(3.0,), n=8).worst
    facts.append(Fact("numeric", "the printed matrix at random logits: one zero eigenvalue with eigenvector along 1, "
                                 "all others positive (PSD, null space span(1))", (worst <= 1e-9) == general, worst))
    K = 3
    qs = sp.symbols("q_1:4", positive=True)
    v = sp.symbols("v_1:4", real=True)
    qv = sum(a * b for a, b in zip(qs, v))
    form = sum(qs[j] * v[j] ** 2 for j in range(K)) - qv ** 2
    variance = sum(qs[j] * (v[j] - qv) ** 2 for j in range(K))
    psd = is_zero(sp.expand(form - variance).subs(qs[2], 1 - qs[0] - qs[1]))
    facts.append(Fact("symbolic", "v^T (diag q - q q^T) v = sum_j q_j (v_j - q.v)^2 >= 0 when sum q = 1 (K=3): PSD, "
                                  "zero only for constant v", psd))
    x = Logits(3)
    c = sp.Symbol("c", real=True)
    L = smoothed_loss(x, EPS)
    shift = is_zero(L.subs({s: s + c for s in x.symbols}, simultaneous=True) - L)
    facts.append(Fact("symbolic", "L(z + c 1) = L(z) (K=3): the loss is flat along the null space span(1)", shift))
    return Evidence(holds=general and all(concrete.values()) and psd and shift, facts=facts)


register(Claim(
    id="ch2.hessian", chapter=2, section=SECTION, order=11, source="added",
    stated=Verdict.HOLDS,
    title="Hessian: independent of the target, PSD, null space span(1)",
    printed=r"\frac{\partial^2}{\partial z_{a} \partial z_{b}} \mathcal{L} = q_{a} \delta_{ab} - q_{a} q_{b}",
    check=_check_hessian,
    remark="For any target summing to one (proved for a general K): the matrix diag(q) - q q^T, positive "
           "semi-definite with null space span(1). The loss is convex in the logits for every target; it is strictly "
           "convex except along z + c 1, the direction in which the softmax (and so the loss) does not change.",
))


# -- added: the optimum -----------------------------------------------------------------------
def _check_optimum(f: Formulas) -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    gap = f.printed.rhs(g, SOFT, 0)                           # the printed optimal gap
    h = f.printed.rhs(g, SOFT, 1)                             # the printed minimum
    ex = sp.simplify(sp.exp(gap))
    q1 = sp.simplify(ex / (ex + g.K - 1))
    qj = sp.simplify(1 / (ex + g.K - 1))
    q_ok = is_zero(q1 - (1 - EPS)) and is_zero(qj - EPS / (g.K - 1))
    facts.append(Fact("symbolic", "at z_1 - z_j = the printed gap for all j > 1, softmax(z) = p_eps, so the gradient "
                                  f"q - p vanishes (general K, 0 < eps < 1): {'yes' if q_ok else 'no'}", True))
    value = sp.log(sp.factor(sp.simplify(ex + g.K - 1))) - (1 - EPS) * gap   # the loss at z = (gap, 0, ..., 0)
    min_ok = is_zero(sp.expand_log(value - h, force=True))
    facts.append(Fact("symbolic", "the loss there equals the printed minimum (general K): "
                      + ("yes" if min_ok else "no"), True))
    facts.append(Fact("symbolic", "convex (Hessian PSD, ch2.hessian) with null space span(1): a stationary point is "
                                  "the global minimiser, unique up to adding c 1", True))
    # the printed left-hand sides, read: at z = (gap + s, s, ..., s) they are the gap (every j > 1) and the minimum
    s_ = sp.Symbol("s", real=True)

    def sides_at_optimum(x: Logits) -> bool:
        K = x.K
        point = {x.z(1): gap.subs(g.K, K) + s_, **{x.z(j): s_ for j in range(2, K + 1)}}
        return (all(is_zero(f.printed.lhs(x, SOFT, 0, j=j).subs(point) - gap.subs(g.K, K)) for j in range(2, K + 1))
                and is_zero(f.printed.lhs(x, SOFT, 1).subs(point) - h.subs(g.K, K)))
    cases = each_k(sides_at_optimum, general=False)
    sides_ok = all(cases.values())
    facts.append(Fact("symbolic", "the printed left-hand sides at z = (gap + s, s, ..., s): z_1 - z_j is the gap for "
                                  f"every j > 1 and L_eps(z) is the printed minimum ({where(cases)}): "
                      + ("yes" if sides_ok else "no"), True))
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
    worst = largest(off_optimum, "ch2.optimum", scales=(0.3,), n=64, params=(0.01, 0.1, 0.5, 0.9)).worst
    facts.append(Fact("numeric", "smoothed_optimum_gap and smoothed_minimum match the printed forms; the library loss "
                                 "at the printed gap equals the printed minimum and is below 64 random "
                                 "perturbations", (worst <= 1e-12) == (q_ok and min_ok), worst))
    return Evidence(holds=q_ok and min_ok and worst <= 1e-12, facts=facts)


register(Claim(
    id="ch2.optimum", chapter=2, section=SECTION, order=12, source="added",
    stated=Verdict.HOLDS,
    title="The optimum: q = p_eps at a finite logit gap, minimum = entropy",
    printed=r"z_1 - z_j = \log\frac{(1-\epsilon)(K-1)}{\epsilon}, \quad "
            r"\mathcal{L}_\epsilon = -(1-\epsilon)\log(1-\epsilon) - \epsilon \log\frac{\epsilon}{K-1}",
    check=_check_optimum,
    remark="The minimiser over the logits, for 0 < eps < 1: every wrong logit this far below the true one, where "
           "softmax(z) = p_eps, and the smoothed loss there, its minimum, is the entropy H(p_eps) of the target. The "
           "gap is positive (the true class most probable) exactly when eps < (K-1)/K, zero at eps = (K-1)/K "
           "(uniform target), negative beyond. Exposed as smoothed_optimum_gap and smoothed_minimum.",
))


def _check_hard_no_minimiser(f: Formulas) -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    rel = f.printed.relation()
    steps = list(rel.rhs.args) if rel.op == "chain" else [rel]
    hard = cross_entropy(g, lambda j: one_hot(g, j))
    as_printed = evaluate(steps[0].rhs, g, SOFT)
    left = evaluate(steps[0].lhs, g, SOFT)                     # L_0(z), the hard loss
    ok_form = is_zero(hard - as_printed, force_log=True) and is_zero(left - hard, force_log=True)
    facts.append(Fact("symbolic", f"hard loss - printed form, and printed left side - hard loss: "
                                  f"{'zero' if ok_form else 'not zero'} (general K)", True))
    positive = len(steps) > 1 and steps[1].op == ">" and evaluate(steps[1].rhs, g, SOFT) == 0
    # the log's argument minus 1 must be a non-empty sum (K >= 2) of exponentials, each positive
    inside = sp.expand(as_printed.args[0] - 1) if isinstance(as_printed, sp.log) else sp.S.Zero
    terms = sp.Add.make_args(inside)
    pos_ok = positive and inside != 0 and all(
        isinstance(a, sp.Sum) and a.function.is_positive and a.limits[0][1] == 2 and a.limits[0][2] == g.K
        for a in terms)
    facts.append(Fact("symbolic", "> 0: the log's argument is 1 plus a sum of exponentials, so greater than 1 for "
                                  "finite z (general K)", pos_ok or not positive))
    d = sp.Symbol("Delta", positive=True)
    family = g.fix_others(as_printed.subs(g.z(1), d), 0)
    family = sp.simplify(family.replace(lambda a: isinstance(a, sp.Sum),
                                        lambda a: a.xreplace({g.base[a.variables[0]]: 0}).doit()))
    lim = sp.limit(family, d, sp.oo)
    facts.append(Fact("symbolic", f"along z = (Delta, 0, ..., 0): loss = {sp.sstr(family)} -> {lim} as Delta -> oo: "
                                  "infimum 0, never attained", lim == 0))
    gap_lim = sp.limit(sp.log((1 - EPS) * (g.K - 1) / EPS), EPS, 0, "+")
    facts.append(Fact("symbolic", f"optimal smoothed gap log((1-eps)(K-1)/eps) -> {gap_lim} as eps -> 0+", gap_lim == sp.oo))
    deltas = np.linspace(0.0, 40.0, 81)

    def not_decreasing(pt):                 # 1 when the hard loss along z = (Delta, 0, ..., 0) is not > 0 and falling
        z = np.zeros((deltas.size, pt.K))
        z[:, 0] = deltas
        loss = num.cross_entropy(z, np.zeros(deltas.size, dtype=int))
        return float(not (np.all(np.diff(loss) < 0) and np.all(loss > 0)))
    ok = largest(not_decreasing, "ch2.hard_no_minimiser", scales=(1.0,), n=1).worst == 0
    facts.append(Fact("numeric", "library hard loss is positive and strictly decreasing in the gap on [0, 40]", ok))
    finite = largest(lambda pt: float(sm.smoothed_optimum_gap(pt.K, 0.0) != np.inf), "ch2.hard_no_minimiser/gap",
                     scales=(1.0,), n=1).worst
    facts.append(Fact("numeric", "smoothed_optimum_gap(K, 0) is +inf", finite == 0))
    return Evidence(holds=ok_form and pos_ok and lim == 0 and gap_lim == sp.oo and ok, facts=facts)


register(Claim(
    id="ch2.hard_no_minimiser", chapter=2, section=SECTION, order=13, source="added",
    stated=Verdict.HOLDS,
    title="Hard labels (eps = 0): no finite minimiser",
    printed=r"\mathcal{L}_0(z) = \log\left(1 + \sum_{j=2}^{K} \exp(-(z_1 - z_j))\right) > 0",
    check=_check_hard_no_minimiser,
    remark="Positive for every finite z, with infimum 0 approached only as every gap z_1 - z_j grows without bound: "
           "with hard labels, gradient descent keeps growing the logit gap forever; any eps > 0 gives the finite "
           "optimum of ch2.optimum. This is the regularising effect of label smoothing, in one line.",
))


# -- added: cross-entropy = entropy + KL -----------------------------------------------------------
def _check_entropy_kl(f: Formulas) -> Evidence:
    facts: list[Fact] = []
    results = each_k(lambda x: [is_zero(f.printed.lhs(x, SOFT, i) - f.printed.rhs(x, SOFT, i), force_log=True)
                                for i in (0, 1)])
    decomposition = all(r[0] for r in results.values())
    entropy = all(r[1] for r in results.values())
    facts.append(Fact("symbolic", "cross-entropy = entropy + KL: " + ("zero" if decomposition else "not zero")
                      + f" ({', '.join(results)}, symbolic eps)", len({r[0] for r in results.values()}) == 1))
    facts.append(Fact("symbolic", "entropy of p_eps = the printed closed form: " + ("zero" if entropy else "not zero")
                      + f" ({', '.join(results)})", len({r[1] for r in results.values()}) == 1))
    def off_decomposition(pt):       # library loss - (printed entropy + KL), per row (inf where KL < 0)
        y, e = pt.labels(), pt.param
        p = sm.smoothed_targets(y, pt.K, eps=e)
        kl = np.sum(p * (np.log(p) - num.log_softmax(pt.z)), axis=1)
        h = float(f.printed.rhs(Logits(pt.K), SOFT, 1).subs(EPS, sp.Rational(str(e))))
        gap = np.maximum(np.abs(sm.smoothed_cross_entropy(pt.z, y, eps=e, reduction="none") - (h + kl)), abs(sm.smoothed_minimum(pt.K, e) - h))
        return np.where(kl >= -1e-12, gap, np.inf)
    worst = largest(off_decomposition, "ch2.entropy_kl", scales=(5.0,), params=(0.1, 0.5)).worst
    facts.append(Fact("numeric", "library loss = printed entropy + KL at random logits, KL >= 0, and "
                                 "smoothed_minimum = printed entropy", (worst <= RTOL) == (decomposition and entropy),
                      worst))
    return Evidence(holds=decomposition and entropy and worst <= RTOL, facts=facts)


register(Claim(
    id="ch2.entropy_kl", chapter=2, section=SECTION, order=14, source="added",
    stated=Verdict.HOLDS,
    title="Cross-entropy = entropy of the target + KL divergence",
    printed=r"-\sum_{j=1}^{K} p_j \log q_j = -\sum_{j=1}^{K} p_j \log p_j + \sum_{j=1}^{K} p_j \log\frac{p_j}{q_j}, "
            r"\quad -\sum_{j=1}^{K} p_j \log p_j = -(1-\epsilon)\log(1-\epsilon) - \epsilon \log\frac{\epsilon}{K-1}",
    check=_check_entropy_kl,
    remark="H(p_eps, q) = H(p_eps) + KL(p_eps || q) with p the soft target and q = softmax(z), proved for a general K: "
           "the smoothed loss is a constant (the target's entropy) plus the KL divergence from the target to the "
           "model, which is >= 0, so its minimum H(p_eps) is attained exactly at q = p_eps, as ch2.optimum found.",
))


# -- added: the conventions ----------------------------------------------------------------------
ALPHA = sp.Symbol("alpha", nonnegative=True)


def _check_conventions(f: Formulas) -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    e_, a_ = sp.Symbol("e", real=True), sp.Symbol("a", real=True)
    plain = {EPS: e_, sp.Symbol("alpha"): a_}
    rel0 = [sp.simplify(f.printed.lhs(g, SOFT, 0).subs(plain) - f.printed.rhs(g, SOFT, 0).subs(plain))]
    rel1 = [sp.simplify(f.printed.lhs(g, SOFT, 1).subs(plain) - f.printed.rhs(g, SOFT, 1).subs(plain))]
    sol0, sol1 = sp.solve(rel0, e_, dict=True), sp.solve(rel1, a_, dict=True)
    if len(sol0) != 1 or len(sol1) != 1:
        facts.append(Fact("symbolic", "each printed relation determines its parameter uniquely", False))
        return Evidence(holds=False, facts=facts)
    eps_of_alpha = sol0[0][e_].subs(a_, ALPHA)                 # relation 1 solved for eps
    alpha_of_eps = sol1[0][a_].subs(e_, EPS)                   # relation 2 solved for alpha
    K = g.K
    uniform = lambda j: (1 - ALPHA) * one_hot(g, j) + ALPHA / K         # noqa: E731
    same = all(is_zero(uniform(j) - smoothed_target(g, j, eps_of_alpha)) for j in (1, 2, INDEX_J))
    facts.append(Fact("symbolic", "(1-alpha) onehot + alpha/K = the note's target at eps = the printed eps(alpha) "
                                  "(general K, classes 1, 2 and a general j): " + ("yes" if same else "no"), True))
    back = is_zero(alpha_of_eps.subs(EPS, eps_of_alpha) - ALPHA)
    facts.append(Fact("symbolic", "the printed alpha(eps) inverts the printed eps(alpha): " + ("yes" if back else "no"),
                      True))
    ends = is_zero(eps_of_alpha.subs(ALPHA, 0)) and is_zero(eps_of_alpha.subs(ALPHA, 1) - (K - 1) / K)
    slope = sp.simplify(sp.diff(eps_of_alpha, ALPHA))
    k = sp.Symbol("k", integer=True, nonnegative=True)          # K = k + 2 >= 2
    facts.append(Fact("symbolic", f"d eps/d alpha = {sp.sstr(slope)} > 0, alpha = 0 -> eps = 0, alpha = 1 -> eps = "
                                  "(K-1)/K: alpha in [0,1] <=> eps in [0, (K-1)/K]",
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
    worst = largest(across_conventions, "ch2.conventions", Ks=NUMERIC_K + (1000,), scales=(5.0,),
                    params=(0.0, 0.1, 0.5, 1.0)).worst
    facts.append(Fact("numeric", "the library's label_smoothing_to_eps / eps_to_label_smoothing are the printed mappings, and targets and "
                                 "losses of the two conventions agree under them to 1e-12 (K up to 1000)",
                      (worst <= 1e-12) == (same and back), worst))
    try:
        sm.eps_to_label_smoothing(0.95, 10)
        raises = False
    except ValueError:
        raises = True
    facts.append(Fact("numeric", "eps_to_label_smoothing(0.95, K=10) raises ValueError: 0.95 > (K-1)/K = 0.9 has no alpha "
                                 "in [0, 1]", raises))
    return Evidence(holds=same and back and ends and bool(slope.subs(K, k + 2).is_positive) and worst <= 1e-12
                    and raises, facts=facts)


register(Claim(
    id="ch2.conventions", chapter=2, section=SECTION, order=15, source="added",
    stated=Verdict.HOLDS,
    title="The note's eps and the frameworks' alpha",
    printed=r"\epsilon = \alpha\frac{K-1}{K}, \quad \alpha = \epsilon\frac{K}{K-1}",
    check=_check_conventions,
    remark="The frameworks' target (1 - alpha) onehot + alpha/K (Szegedy et al. 2016; PyTorch, Keras and Optax "
           "label_smoothing) is the note's target at this eps; alpha in [0, 1] covers eps in [0, (K-1)/K]. At "
           "alpha = 0.1 and K = 10 the true class gets 0.91, not 0.9. The note's eps in ((K-1)/K, 1] (true class "
           "below the others) has no alpha in [0, 1].",
))
