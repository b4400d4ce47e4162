"""Chapter 2: the note's section on soft labels (label smoothing).

The note's displayed equations of the soft-label part, in order, then the
results the companion adds: the exact smoothed loss and its relation to the
hard loss, gradient and Hessian, the optimum, entropy + KL, and the mapping to
the uniform-mixture convention of the frameworks. Class 1 is the true class;
``eps`` is kept symbolic in every symbolic check and swept over several values
in the numeric ones.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from .. import numeric as num
from .. import smoothing as sm
from ..checks import NUMERIC_K, RTOL, SCALES, SYMBOLIC_K, _counterexample, _numeric, _symbolic_zero, rng_for, sample_logits
from ..lse_bounds import max_approximation_error
from ..registry import Claim, Verdict, Counterexample, Evidence, Fact, register
from ..symbolic import Logits, cross_entropy, is_zero, log_sum_exp, one_hot, smoothed_target, softmax

SECTION = "Label smoothing: soft labels"
EPS = sp.Symbol("epsilon", positive=True)
#: Values of eps swept by the numeric checks (exact rationals, so SymPy keeps them exact).
EPS_VALUES = (sp.Integer(0), sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10))
#: The eps at which counterexamples are sought.
EPS_CE = sp.Rational(1, 10)


# -- the exact quantities, written once ---------------------------------------------
def smoothed_loss(x: Logits, eps):
    """The exact smoothed loss from the definitions: ``H(p_eps, softmax(z))``."""
    return cross_entropy(x, lambda j: smoothed_target(x, j, eps))


def smoothed_loss_closed(x: Logits, eps):
    """``LSE(z) - (1 - eps) z_1 - eps/(K-1) sum_{j != 1} z_j``."""
    return log_sum_exp(x) - (1 - eps) * x.z(1) - eps / (x.K - 1) * x.sum(lambda j: x.z(j), start=2)


def smoothed_loss_numeric(z: np.ndarray, eps: float) -> np.ndarray:
    """The same, from the NumPy library (true class = index 0)."""
    return sm.smoothed_cross_entropy(z, np.zeros(len(z), dtype=int), eps)


def _max(x: Logits):
    return sp.Max(*[x.z(j) for j in range(1, x.K + 1)])


def _sup_norm(x: Logits):
    return sp.Max(*[sp.Abs(x.z(j)) for j in range(1, x.K + 1)])


def _entropy(K, eps):
    """Entropy of the note's soft target, ``-(1-eps) log(1-eps) - eps log(eps/(K-1))``."""
    return -(1 - eps) * sp.log(1 - eps) - eps * sp.log(eps / (K - 1))


def _optimal_gap(K, eps):
    return sp.log((1 - eps) * (K - 1) / eps)


def _eps_label(values) -> str:
    return ", ".join(str(v) for v in values)


def eps_equation(printed, exact, reference, corrected=None, general: bool = True, key: str = ""):
    """A check for an ``=`` step in ``z`` and ``eps``: like :func:`derivations.checks.equation`.

    Symbolically ``eps`` stays a symbol; numerically it is swept over
    :data:`EPS_VALUES`; the counterexample is sought at :data:`EPS_CE`.
    """

    def at(f, e):
        return lambda x: f(x, e)

    def check() -> Evidence:
        facts: list[Fact] = []
        holds = _symbolic_zero(lambda x: printed(x, EPS) - exact(x, EPS), general,
                               "printed - exact, symbolic eps", facts)
        ev = Evidence(holds=holds, facts=facts)
        if holds:
            d = max(_numeric(at(printed, e), lambda z, e=e: reference(z, float(e)), f"{key}/agree/{e}")[0]
                    for e in EPS_VALUES)
            facts.append(Fact("numeric", f"printed form matches NumPy at random logits, eps in "
                              f"{{{_eps_label(EPS_VALUES)}}} (rel. tol {RTOL:g})", d <= RTOL, d))
            return ev
        ev.counterexample = _counterexample(at(printed, EPS_CE), at(exact, EPS_CE),
                                            lambda z: reference(z, float(EPS_CE)), f"{key} eps={EPS_CE}", facts,
                                            parameters={"eps": EPS_CE})
        if corrected is not None:
            ok = _symbolic_zero(lambda x: corrected(x, EPS) - exact(x, EPS), general, "corrected - exact", facts)
            d = max(_numeric(at(corrected, e), lambda z, e=e: reference(z, float(e)), f"{key}/corrected/{e}")[0]
                    for e in EPS_VALUES)
            facts.append(Fact("numeric", f"corrected form matches NumPy at random logits (rel. tol {RTOL:g})", d <= RTOL, d))
            ev.corrected_ok = ok and d <= RTOL
        return ev

    return check


def _mp(expr, subs: dict) -> float:
    """``expr`` evaluated at ``subs`` in mpmath, 50 digits."""
    with mpmath.workdps(50):
        return float(sp.N(expr.subs(subs), 50))


# -- 1. the note's modified q_theta -----------------------------------------------------
def _printed_q(x: Logits, j, eps):
    """The note's component j: exp((1-eps) z_1)/sum for j = 1, exp(eps/(K-1) z_j)/sum otherwise."""
    coeff = (1 - eps) if j == 1 else eps / (x.K - 1)
    return sp.exp(coeff * x.z(j)) / x.sum(lambda k: sp.exp(x.z(k)))


def _check_q_modified() -> Evidence:
    facts: list[Fact] = []
    same_1 = _symbolic_zero(lambda x: _printed_q(x, 1, EPS) - softmax(x, 1), True,
                            "printed q_1 - softmax(z)_1, symbolic eps", facts)
    x3 = Logits(3)
    total = sum(_printed_q(x3, j, EPS) for j in range(1, 4))
    sums_to_one = is_zero(total - 1)
    facts.append(Fact("symbolic", "the printed components do not sum to 1 (K=3, symbolic eps)", not sums_to_one))
    at_zero = [sp.simplify(_printed_q(x3, j, 0) - softmax(x3, j)) == 0 for j in (1, 2)]
    facts.append(Fact("symbolic", "even at eps = 0 the printed vector is not the softmax: component 1 matches, "
                                  "component 2 is 1/sum_k exp(z_k)", at_zero == [True, False]))
    # the corrected statement: the model output is softmax(z) for every eps; smoothing enters only through p
    L = smoothed_loss(x3, EPS)
    uses_softmax = is_zero(L + sum(smoothed_target(x3, j, EPS) * sp.log(softmax(x3, j)) for j in range(1, 4)))
    facts.append(Fact("symbolic", "the smoothed loss is -sum_j p_eps,j log softmax(z)_j: q is the unchanged softmax",
                      uses_softmax))
    rng, worst = rng_for("ch2.q_modified"), 0.0
    for K in NUMERIC_K:
        z = sample_logits(rng, K, 3.0)
        for e in (0.0, 0.1, 0.5):
            ref = -np.sum(sm.smoothed_targets(np.zeros(len(z), dtype=int), K, e) * num.log_softmax(z), axis=-1)
            worst = max(worst, float(np.max(np.abs(smoothed_loss_numeric(z, e) - ref) / np.maximum(1, ref))))
    facts.append(Fact("numeric", "library smoothed loss = -sum_j p_eps,j log softmax(z)_j at random logits "
                                 f"(rel. tol {RTOL:g})", worst <= RTOL, worst))
    point = {x3.z(1): 1, x3.z(2): 0, x3.z(3): 0, EPS: EPS_CE}
    ce = Counterexample("sum of the printed components", _mp(total, point), 1.0, K=3, z=(1.0, 0.0, 0.0),
                        parameters={"eps": EPS_CE})
    facts.append(Fact("numeric", "counterexample confirmed in mpmath", abs(ce.printed - ce.correct) > 1e-3))
    return Evidence(holds=same_1 and sums_to_one, corrected_ok=uses_softmax and worst <= RTOL,
                    facts=facts, counterexample=ce)


register(Claim(
    id="ch2.q_modified", chapter=2, section=SECTION, order=1,
    stated=Verdict.ERRATUM,
    title="The model output under label smoothing",
    printed=r"q_{\theta}(y|x) = \left(\frac{\exp((1-\epsilon)z_1)}{\sum_{j=1}^K \exp(z_{y_j})}, \cdots, "
            r"\frac{\exp(\frac{\epsilon}{K-1}z_{y_K})}{\sum_{j=1}^K \exp(z_{y_j})}\right)",
    corrected=r"q_{\theta}(y|x) = \mathrm{softmax}(z) = \left(\frac{\exp(z_{y_1})}{\sum_{j=1}^K \exp(z_{y_j})}, "
              r"\cdots, \frac{\exp(z_{y_K})}{\sum_{j=1}^K \exp(z_{y_j})}\right) \text{ for every } \epsilon",
    check=_check_q_modified,
    remark="Label smoothing changes the target p, not the model's output: q is still the softmax of the logits. "
           "The printed vector scales the logits inside the exponentials by the target weights, is not a "
           "probability vector (it does not sum to 1), and is not even the softmax at eps = 0.",
))


# -- 2. the soft target ---------------------------------------------------------------
def _check_soft_target() -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    j = sp.Symbol("j", integer=True, positive=True)
    printed = sp.Piecewise((1 - EPS, sp.Eq(j, 1)), (EPS / (g.K - 1), True))
    same = all(sp.simplify(printed.subs(j, k) - smoothed_target(g, k, EPS)) == 0 for k in range(1, 9))
    facts.append(Fact("symbolic", "printed cases equal (1-eps) delta_j1 + eps/(K-1) (1 - delta_j1) for j = 1..8, general K",
                      same))
    total = sp.simplify(g.sum(lambda k: smoothed_target(g, k, EPS)).doit())
    facts.append(Fact("symbolic", f"sum_j p_j = {total} (general K, symbolic eps)", total == 1))
    rng, worst = rng_for("ch2.soft_target"), 0.0
    for K in NUMERIC_K + (1000,):
        for e in (0.0, 0.1, 0.5, 1.0):
            y = rng.integers(0, K, size=16)
            p = sm.smoothed_targets(y, K, e)
            worst = max(worst, float(np.max(np.abs(p.sum(axis=-1) - 1))))
            right = np.all(p[np.arange(16), y] == 1 - e) and np.count_nonzero(p != e / (K - 1)) <= 16
            if not right:
                facts.append(Fact("numeric", f"smoothed_targets entries wrong (K={K}, eps={e})", False))
    facts.append(Fact("numeric", "smoothed_targets rows sum to 1 within 1e-12, entries 1-eps and eps/(K-1)",
                      worst <= 1e-12, worst))
    return Evidence(holds=same and total == 1, facts=facts)


register(Claim(
    id="ch2.soft_target", chapter=2, section=SECTION, order=2,
    stated=Verdict.HOLDS,
    title="The soft target",
    printed=r"p(y_j|x) = \begin{cases} 1 - \epsilon, & \text{if } j = 1\\ \frac{\epsilon}{K - 1}, & \text{otherwise} \end{cases}",
    check=_check_soft_target,
    remark="A definition; it is a probability vector for every eps in [0, 1] (proved for a general symbolic K). "
           "The text's 'k output units' and the display's K are the same number.",
))


# -- 3. the sum over examples ----------------------------------------------------------
N1_ASSUMPTION = ("N = 1: the single data point the note analyses ('Lets consider one data point'); "
                 "the summand's index i is read as the summation index l")


def _check_loss_sum_examples() -> Evidence:
    facts: list[Fact] = []
    N = sp.Symbol("N", integer=True, positive=True)
    l = sp.Symbol("l", integer=True)
    H_i = sp.Symbol("H_i", positive=True)
    literal = sp.Sum(H_i, (l, 1, N)).doit()
    facts.append(Fact("symbolic", f"as printed the summand does not depend on l: sum_(l=1)^N H_i = {literal}",
                      literal == N * H_i))
    holds = sp.simplify(literal - H_i) == 0
    facts.append(Fact("symbolic", f"printed - next line = {sp.factor(literal - H_i)}: not zero", not holds))
    under = sp.simplify((literal - H_i).subs(N, 1)) == 0
    facts.append(Fact("symbolic", "with N = 1: printed - next line = 0", under))
    # general form: a sum of per-example losses, each the next line for its own example
    Z = [Logits(3, name=f"z{i}") for i in (1, 2)]
    batch = sum(smoothed_loss(zi, EPS) for zi in Z)
    per_example = sum(smoothed_loss_closed(zi, EPS) for zi in Z)
    general_ok = is_zero(batch - per_example)
    facts.append(Fact("symbolic", "N=2, K=3: sum_i H(p_i, q_i) = sum_i [LSE(z^(i)) - (1-eps) z^(i)_1 - eps/2 "
                                  "sum_(j>1) z^(i)_j]", general_ok))
    rng = rng_for("ch2.loss_sum_examples")
    worst = 0.0
    for K in NUMERIC_K:
        z = sample_logits(rng, K, 5.0, n=32)
        y = rng.integers(0, K, size=32)
        total = float(np.sum(sm.smoothed_cross_entropy(z, y, 0.1)))
        one_by_one = sum(float(sm.smoothed_cross_entropy_materialised(z[i], y[i], 0.1)) for i in range(32))
        worst = max(worst, abs(total - one_by_one) / max(1.0, abs(one_by_one)))
    facts.append(Fact("numeric", "loss of a batch of 32 = sum of 32 single-example losses (library vs materialised)",
                      worst <= RTOL, worst))
    x = Logits(3)
    h = _mp(smoothed_loss(x, EPS), {x.z(1): 1, x.z(2): 0, x.z(3): 0, EPS: EPS_CE})
    ce = Counterexample("loss of the data set", 2 * h, h, K=3, z=(1.0, 0.0, 0.0), parameters={"N": 2, "eps": EPS_CE},
                        note="two copies of one example")
    facts.append(Fact("numeric", "counterexample confirmed in mpmath (as printed: N times the one-example loss)",
                      abs(ce.printed - ce.correct) > 1e-3))
    return Evidence(holds=holds, holds_under=under, corrected_ok=general_ok and worst <= RTOL,
                    facts=facts, counterexample=ce)


register(Claim(
    id="ch2.loss_sum_examples", chapter=2, section=SECTION, order=3,
    stated=Verdict.HOLDS_UNDER,
    title="The loss as a sum over N examples",
    printed=r"\mathcal{L} = \sum_{l=1}^{N} H_{i}(p, q_{\theta})",
    assumption=N1_ASSUMPTION,
    corrected=r"\mathcal{L} = \sum_{i=1}^{N} H\big(p(\cdot|x_i), q_{\theta}(\cdot|x_i)\big), \quad "
              r"H(p, q) = -\sum_{j=1}^{K} p(y_j|x) \log q_{\theta}(y_j|x) \text{ for one example}",
    check=_check_loss_sum_examples,
    remark="The summation index l does not occur in the summand, so as printed the sum is N H_i; and the next "
           "line is the loss of one example. The chain is right for the one data point the note analyses "
           "(N = 1). For a data set, the loss is the sum (or mean) over examples of the per-example "
           "cross-entropy, and each term is what the following lines compute. Chapter 1 used the same symbol "
           "H_j for per-class terms, summed over classes; this line sums over examples instead.",
))


# -- 4-5. cross-entropy with the soft target --------------------------------------------
def _neg_sum_p_log_q(x: Logits, eps):
    return -x.sum(lambda j: smoothed_target(x, j, eps) * sp.log(sp.exp(x.z(j)) / x.sum(lambda k: sp.exp(x.z(k)))))


register(Claim(
    id="ch2.loss_definition", chapter=2, section=SECTION, order=4,
    stated=Verdict.HOLDS,
    title="Cross-entropy with the soft target",
    printed=r"= -\sum_{j=1}^{K} p(y_{j}|x) \log(q_{\theta}(y_{j}|x))",
    check=eps_equation(_neg_sum_p_log_q, smoothed_loss, smoothed_loss_numeric, key="ch2.loss_definition"),
    remark="The definition of cross-entropy with p the soft target and q the (unchanged) softmax; checked against "
           "the library's closed-form smoothed_cross_entropy.",
))


def _expanded(x: Logits, eps):
    return -((1 - eps) * sp.log(softmax(x, 1)) + x.sum(lambda j: eps / (x.K - 1) * sp.log(softmax(x, j)), start=2))


register(Claim(
    id="ch2.loss_expanded", chapter=2, section=SECTION, order=5,
    stated=Verdict.HOLDS,
    title="The loss written out term by term",
    printed=r"= -\left[ (1 - \epsilon) \cdot \log(q_{\theta}(y_{1}|x)) + \dots + \frac{\epsilon}{K - 1} "
            r"\log(q_{\theta}(y_{K}|x)) \right]",
    check=eps_equation(_expanded, smoothed_loss, smoothed_loss_numeric, key="ch2.loss_expanded"),
    remark="Holds, reading '...' as the terms eps/(K-1) log q_j for j = 2..K. As in chapter 1, the "
           "justification '(assuming i is the correct label)' names i where the true class is 1.",
))


# -- 6-7. the approximations with M = ||z||_inf ---------------------------------------------
def _printed_with_M(x: Logits, eps, M):
    """The note's line 6: -[(1-eps)((1-eps) z_1 - M) + sum_{j>1} eps/(K-1) (eps/(K-1) z_j - M)]."""
    w = eps / (x.K - 1)
    return -((1 - eps) * ((1 - eps) * x.z(1) - M) + x.sum(lambda j: w * (w * x.z(j) - M), start=2))


def _squared_with_M(x: Logits, eps, M):
    """The note's line 7: -[(1-eps)^2 z_1 + (eps/(K-1))^2 sum_{j != 1} z_j - M]."""
    return -(((1 - eps) ** 2 * x.z(1) + (eps / (x.K - 1)) ** 2 * x.sum(lambda j: x.z(j), start=2)) - M)


def _max_approximation(x: Logits, eps):
    """The corrected approximation: max_j z_j - (1-eps) z_1 - eps/(K-1) sum_{j != 1} z_j."""
    return _max(x) - (1 - eps) * x.z(1) - eps / (x.K - 1) * x.sum(lambda j: x.z(j), start=2)


APPROX_CORRECTED = (r"\mathcal{L}_\epsilon = \mathrm{LSE}(z) - (1-\epsilon) z_{y_1} - \frac{\epsilon}{K-1}\sum_{j \ne 1} z_{y_j}"
                    r"\;\approx\; \max_j z_{y_j} - (1-\epsilon) z_{y_1} - \frac{\epsilon}{K-1}\sum_{j \ne 1} z_{y_j},"
                    r"\quad 0 < \text{error} = \mathrm{LSE}(z) - \max_j z_{y_j} \le \log K")


def _dominant_family(g: Logits, expr, m):
    """``expr`` (general K) at z_1 = m and z_j = 0 for j > 1, sums evaluated."""
    e = g.fix_others(expr, 0)                              # sums from 1: first term kept, the rest at 0
    e = e.replace(lambda a: isinstance(a, sp.Sum),         # sums from 2: every term at 0
                  lambda a: a.xreplace({g.base[a.variables[0]]: 0}).doit())
    return sp.simplify(e.subs(g.z(1), m))


def _approximation_evidence(printed, key: str, facts: list[Fact]) -> Evidence:
    """Shared by lines 6 and 7: the printed form against the exact loss and the corrected approximation."""
    x3 = Logits(3)
    not_identity = not is_zero(printed(x3, EPS) - smoothed_loss(x3, EPS))
    facts.append(Fact("symbolic", "printed - exact is not identically zero (K=3, symbolic eps)", not_identity))
    # the regime where LSE ~ max is good: z_1 = m -> oo, others 0. The printed form still drifts away.
    g = Logits()
    m = sp.Symbol("m", positive=True)
    exact_family = _dominant_family(g, smoothed_loss_closed(g, EPS), m)
    printed_family = _dominant_family(g, printed(g, EPS), m).subs(sp.Symbol("M"), m)
    drift = sp.simplify(sp.limit((printed_family - exact_family) / m, m, sp.oo))
    facts.append(Fact("symbolic", f"z_1 = m -> oo, other logits 0 (so M = max = m): (printed - exact)/m -> "
                                  f"{sp.sstr(drift)}, not 0 for 0 < eps < 1 (general K)",
                      is_zero(drift - EPS * (1 - EPS))))
    # the correction: exact = closed form (identity), exact - max approximation = LSE - max in (0, log K]
    closed_ok = is_zero(smoothed_loss_closed(g, EPS) - smoothed_loss(g, EPS), force_log=True)
    facts.append(Fact("symbolic", "exact loss = LSE(z) - (1-eps) z_1 - eps/(K-1) sum_(j>1) z_j (general K)", closed_ok))
    gap_ok = all(is_zero(smoothed_loss_closed(Logits(K), EPS) - _max_approximation(Logits(K), EPS)
                         - (log_sum_exp(Logits(K)) - _max(Logits(K)))) for K in SYMBOLIC_K)
    facts.append(Fact("symbolic", "exact - corrected approximation = LSE(z) - max_j z_j for every eps "
                                  f"(K={', '.join(map(str, SYMBOLIC_K))}); chapter 1 bounds it by (0, log K]", gap_ok))
    rng, ok, worst = rng_for(key + "/bounds"), True, 0.0
    for K in NUMERIC_K:
        for scale in SCALES:
            z = sample_logits(rng, K, scale)
            for e in (0.0, 0.1, 0.5):
                approx = np.max(z, axis=1) - (1 - e) * z[:, 0] - e / (K - 1) * z[:, 1:].sum(axis=1)
                err = smoothed_loss_numeric(z, e) - approx
                tol = 1e-12 * np.maximum(1.0, np.abs(z).max(axis=1))
                ok &= bool(np.all(err > -tol) and np.all(err <= np.log(K) + tol))
                worst = max(worst, float(np.max(np.abs(err - max_approximation_error(z)) / np.maximum(1, np.abs(z).max(axis=1)))))
    facts.append(Fact("numeric", "error of the corrected approximation lies in (0, log K] and equals LSE - max "
                                 "at random logits", ok and worst <= 1e-12, worst))
    z = (10, 0, 0)
    subs = {x3.z(i + 1): v for i, v in enumerate(z)} | {EPS: EPS_CE}
    ce = Counterexample("loss", _mp(printed(x3, EPS), subs), _mp(smoothed_loss(x3, EPS), subs), K=3,
                        z=tuple(float(v) for v in z), parameters={"eps": EPS_CE},
                        note="z_1 dominates, M = max_j z_j")
    facts.append(Fact("numeric", "counterexample confirmed in mpmath", abs(ce.printed - ce.correct) > 0.5))
    return Evidence(holds=False, corrected_ok=closed_ok and gap_ok and ok, facts=facts, counterexample=ce)


def _check_loss_approx_M() -> Evidence:
    facts: list[Fact] = []
    # the line is -sum_j p_j log q_j with the note's own q of equation 1, LSE(z) replaced by M
    M = sp.Symbol("M")
    inherited = True
    for x in (Logits(K) for K in SYMBOLIC_K):
        lse = log_sum_exp(x)
        from_eq1 = -sum(smoothed_target(x, j, EPS) * sp.expand_log(sp.log(_printed_q(x, j, EPS)), force=True)
                        .subs(lse, M) for j in range(1, x.K + 1))
        inherited &= is_zero(from_eq1 - _printed_with_M(x, EPS, M))
    facts.append(Fact("symbolic", "printed = -sum_j p_j log q_j with the note's q of equation 1 and LSE(z) replaced "
                                  f"by M (K={', '.join(map(str, SYMBOLIC_K))}): the squared weights are inherited",
                      inherited))
    return _approximation_evidence(lambda x, e: _printed_with_M(x, e, _M_of(x)), "ch2.loss_approx_M", facts)


def _M_of(x: Logits):
    """``M = ||z||_inf`` for a concrete K; a plain symbol ``M`` for a general K."""
    return sp.Symbol("M") if x.general else _sup_norm(x)


register(Claim(
    id="ch2.loss_approx_M", chapter=2, section=SECTION, order=6,
    stated=Verdict.ERRATUM,
    title="The approximation with M = ||z||_inf",
    printed=r"\approx -\left[ (1 - \epsilon) \cdot \left( (1 - \epsilon)z_{y_{1}} - M \right) + \dots + "
            r"\frac{\epsilon}{K - 1} \left( \frac{\epsilon}{K - 1} \cdot z_{y_{K}} - M \right) \right], \quad M = \|z_y\|_\infty",
    corrected=APPROX_CORRECTED,
    check=_check_loss_approx_M,
    remark="The line follows exactly from the note's own q of equation 1 (whose logits carry the target weights) "
           "with LSE(z) replaced by M: the error is inherited from equation 1, not a new misuse of log q_j. With the "
           "model's actual q = softmax(z), log q_j = z_j - LSE(z) and each weight enters once; here it enters twice. "
           "And LSE(z) is approximated by max_j z_j, not by ||z||_inf (chapter 1, ch1.loss_approx_max). Even where "
           "the max approximation is excellent (one dominant logit m, M = m), the printed form is off by "
           "eps(1-eps) m, without bound. The exact loss needs no approximation at all.",
))


def _check_loss_squared() -> Evidence:
    facts: list[Fact] = []
    M = sp.Symbol("M")
    follows = all(is_zero(_squared_with_M(x, EPS, M) - _printed_with_M(x, EPS, M), force_log=x.general)
                  for x in (Logits(),) + tuple(Logits(K) for K in SYMBOLIC_K))
    facts.append(Fact("symbolic", "printed = previous line, term by term (M a symbol; general K and "
                                  f"K={', '.join(map(str, SYMBOLIC_K))}): the line follows, errors included", follows))
    return _approximation_evidence(lambda x, e: _squared_with_M(x, e, _M_of(x)), "ch2.loss_squared", facts)


register(Claim(
    id="ch2.loss_squared", chapter=2, section=SECTION, order=7,
    stated=Verdict.ERRATUM,
    title="The final form with squared coefficients",
    printed=r"\approx -\left[ \left[ (1 - \epsilon)^{2} z_{y_{1}} + \left( \frac{\epsilon}{K - 1} \right)^{2} "
            r"\sum_{j \neq i} z_{y_{j}} \right] - M \right]",
    corrected=APPROX_CORRECTED,
    check=_check_loss_squared,
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
    check=eps_equation(smoothed_loss_closed, smoothed_loss, smoothed_loss_numeric, key="ch2.closed_form"),
    remark="Because the target sums to 1, -sum_j p_j (z_j - LSE) = LSE - sum_j p_j z_j. This is what "
           "smoothed_cross_entropy evaluates, without ever forming the N x K targets.",
))


def _via_hard(x: Logits, eps):
    hard = cross_entropy(x, lambda j: one_hot(x, j))
    return hard + eps * (x.z(1) - x.sum(lambda j: x.z(j), start=2) / (x.K - 1))


register(Claim(
    id="ch2.vs_hard", chapter=2, section=SECTION, order=9, source="added",
    stated=Verdict.HOLDS,
    title="Smoothed loss = hard loss + eps x (true logit - mean of the others)",
    printed=r"\mathcal{L}_\epsilon(z) = \mathcal{L}_0(z) + \epsilon\left(z_1 - \frac{1}{K-1}\sum_{j=2}^{K} z_j\right)",
    check=eps_equation(_via_hard, smoothed_loss, smoothed_loss_numeric, key="ch2.vs_hard"),
    remark="Label smoothing adds a penalty linear in the logits: eps times the gap between the true logit and the "
           "mean of the others. It is what stops the hard loss from being driven to 0 by an unbounded gap.",
))


# -- added: gradient and Hessian --------------------------------------------------------------
def _general_target_loss(K: int):
    """``H(p, softmax(z))`` for symbolic p_1..p_K with p_K = 1 - sum of the others; returns (x, p, H)."""
    x = Logits(K)
    p = list(sp.symbols(f"p_1:{K}", positive=True))
    p.append(1 - sum(p))
    H = -sum(p[j - 1] * sp.log(softmax(x, j)) for j in range(1, K + 1))
    return x, p, H


def _check_gradient() -> Evidence:
    facts: list[Fact] = []
    ok_all = True
    for K in SYMBOLIC_K:
        x, p, H = _general_target_loss(K)
        ok = all(sp.simplify(sp.diff(H, x.z(k)) - (softmax(x, k) - p[k - 1])) == 0 for k in range(1, K + 1))
        ok_all &= ok
    facts.append(Fact("symbolic", "dH/dz_k = q_k - p_k for a symbolic target p with sum_j p_j = 1 "
                                  f"(K={', '.join(map(str, SYMBOLIC_K))})", ok_all))
    x3 = Logits(3)
    p_free = sp.symbols("p_1:4", positive=True)
    H_free = -sum(p_free[j - 1] * sp.log(softmax(x3, j)) for j in (1, 2, 3))
    without = sp.simplify(sp.diff(H_free, x3.z(1)) - (softmax(x3, 1) * sum(p_free) - p_free[0])) == 0
    facts.append(Fact("symbolic", "without normalisation dH/dz_k = q_k sum_j p_j - p_k (K=3): the sum-to-one is used",
                      without))
    rng, worst, h = rng_for("ch2.gradient"), 0.0, 1e-6
    for K in NUMERIC_K:
        z = sample_logits(rng, K, 3.0, n=8)
        p = rng.dirichlet(np.ones(K), size=8)
        grad = num.softmax(z) - p
        for k in range(K):
            dz = np.zeros(K)
            dz[k] = h
            fd = (-np.sum(p * num.log_softmax(z + dz), axis=1) + np.sum(p * num.log_softmax(z - dz), axis=1)) / (2 * h)
            worst = max(worst, float(np.max(np.abs(fd - grad[:, k]))))
    facts.append(Fact("numeric", "central differences of -sum p log softmax(z) match q - p (random z, Dirichlet p, "
                                 "abs. tol 1e-7)", worst <= 1e-7, worst))
    return Evidence(holds=ok_all and without, facts=facts)


register(Claim(
    id="ch2.gradient", chapter=2, section=SECTION, order=10, source="added",
    stated=Verdict.HOLDS,
    title="Gradient with respect to the logits",
    printed=r"\nabla_z H(p, \mathrm{softmax}(z)) = q - p \quad \text{for any } p \text{ with } \textstyle\sum_j p_j = 1",
    check=_check_gradient,
    remark="For the soft target the gradient on the true logit is q_1 - (1 - eps) and on each other logit "
           "q_j - eps/(K-1): it vanishes exactly when q equals the soft target.",
))


def _check_hessian() -> Evidence:
    facts: list[Fact] = []
    ok_form, Ks = True, (2, 3)
    for K in Ks:
        x, p, H = _general_target_loss(K)
        q = sp.Matrix([softmax(x, j) for j in range(1, K + 1)])
        target = sp.diag(*q) - q * q.T
        grad = [sp.simplify(sp.diff(H, x.z(a))) for a in range(1, K + 1)]
        ok_form &= all(sp.simplify(sp.diff(grad[a - 1], x.z(b)) - target[a - 1, b - 1]) == 0
                       for a in range(1, K + 1) for b in range(a, K + 1))
    facts.append(Fact("symbolic", "Hessian of H(p, softmax z) = diag(q) - q q^T for a symbolic target p summing to 1 "
                                  f"(K={', '.join(map(str, Ks))}); the right side contains no p: the same "
                                  "for hard and soft targets", ok_form))
    K = 3
    qs = sp.symbols("q_1:4", positive=True)
    v = sp.symbols("v_1:4", real=True)
    qv = sum(a * b for a, b in zip(qs, v))
    form = sum(qs[j] * v[j] ** 2 for j in range(K)) - qv ** 2
    variance = sum(qs[j] * (v[j] - qv) ** 2 for j in range(K))
    psd = sp.simplify(sp.expand(form - variance).subs(qs[2], 1 - qs[0] - qs[1])) == 0
    facts.append(Fact("symbolic", "v^T (diag q - q q^T) v = sum_j q_j (v_j - q.v)^2 >= 0 when sum q = 1 (K=3): "
                                  "PSD, zero only for constant v", psd))
    x = Logits(4)
    q = sp.Matrix([softmax(x, j) for j in range(1, 5)])
    null = sp.simplify((sp.diag(*q) - q * q.T) * sp.ones(4, 1)) == sp.zeros(4, 1)
    c = sp.Symbol("c", real=True)
    L = smoothed_loss(x, EPS)
    shift = is_zero(L.subs({s: s + c for s in x.symbols}, simultaneous=True) - L)
    facts.append(Fact("symbolic", "(diag q - q q^T) 1 = 0, and L(z + c 1) = L(z) (K=4): null space span(1)",
                      null and shift))
    rng, ok, worst = rng_for("ch2.hessian"), True, 0.0
    for K in NUMERIC_K + (50,):
        for z in sample_logits(rng, K, 3.0, n=8):
            qn = num.softmax(z)
            w, V = np.linalg.eigh(np.diag(qn) - np.outer(qn, qn))
            scale = float(w[-1])
            ok &= bool(w[0] >= -1e-12 * scale and w[1] > 1e-12 * scale)
            align = abs(abs(V[:, 0].sum()) / np.sqrt(K) - 1)
            worst = max(worst, align)
    facts.append(Fact("numeric", "eigenvalues at random logits: one zero eigenvalue with eigenvector along 1, "
                                 "all others positive", ok and worst <= 1e-9, worst))
    return Evidence(holds=ok_form and psd and null and shift, facts=facts)


register(Claim(
    id="ch2.hessian", chapter=2, section=SECTION, order=11, source="added",
    stated=Verdict.HOLDS,
    title="Hessian: independent of the target, PSD, null space span(1)",
    printed=r"\nabla_z^2 H(p, \mathrm{softmax}(z)) = \mathrm{diag}(q) - q q^{\top} \succeq 0, \quad "
            r"\ker = \mathrm{span}(\mathbf{1})",
    check=_check_hessian,
    remark="The loss is convex in the logits for every target; it is strictly convex except along z + c 1, the "
           "direction in which the softmax (and so the loss) does not change.",
))


# -- added: the optimum -----------------------------------------------------------------------
def _check_optimum() -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    gap = _optimal_gap(g.K, EPS)
    ex = sp.simplify(sp.exp(gap))
    q1 = sp.simplify(ex / (ex + g.K - 1))
    qj = sp.simplify(1 / (ex + g.K - 1))
    q_ok = sp.simplify(q1 - (1 - EPS)) == 0 and sp.simplify(qj - EPS / (g.K - 1)) == 0
    facts.append(Fact("symbolic", "z_1 - z_j = log((1-eps)(K-1)/eps) for all j > 1 gives softmax(z) = p_eps, so the "
                                  "gradient q - p vanishes (general K, 0 < eps < 1)", q_ok))
    value = sp.log(sp.factor(sp.simplify(ex + g.K - 1))) - (1 - EPS) * gap   # closed form at z = (gap, 0, ..., 0)
    min_ok = sp.simplify(sp.expand_log(value - _entropy(g.K, EPS), force=True)) == 0
    facts.append(Fact("symbolic", "loss there = -(1-eps) log(1-eps) - eps log(eps/(K-1)) = H(p_eps) (general K)", min_ok))
    facts.append(Fact("symbolic", "convex (Hessian PSD, ch2.hessian) with null space span(1): this stationary point "
                                  "is the global minimiser, unique up to adding c 1", True))
    rng, ok, worst = rng_for("ch2.optimum"), True, 0.0
    for K in NUMERIC_K:
        for e in (0.01, 0.1, 0.5, 0.9):
            g_sym = float(_optimal_gap(K, sp.Rational(str(e))))
            h_sym = float(_entropy(K, sp.Rational(str(e))))
            worst = max(worst, abs(sm.smoothed_optimum_gap(K, e) - g_sym) / max(1, abs(g_sym)),
                        abs(sm.smoothed_minimum(K, e) - h_sym))
            z_star = np.zeros((1, K))
            z_star[0, 0] = g_sym
            at_opt = float(smoothed_loss_numeric(z_star, e)[0])
            worst = max(worst, abs(at_opt - h_sym))
            nearby = smoothed_loss_numeric(z_star + rng.normal(scale=0.3, size=(64, K)), e)
            ok &= bool(np.all(nearby >= at_opt - 1e-12))
    facts.append(Fact("numeric", "smoothed_optimum_gap and smoothed_minimum match the symbolic forms; the library "
                                 "loss at the optimum equals the entropy and is below 64 random perturbations",
                      ok and worst <= 1e-12, worst))
    return Evidence(holds=q_ok and min_ok and ok, facts=facts)


register(Claim(
    id="ch2.optimum", chapter=2, section=SECTION, order=12, source="added",
    stated=Verdict.HOLDS,
    title="The optimum: q = p_eps, finite logit gap, minimum = entropy",
    printed=r"\arg\min_z \mathcal{L}_\epsilon:\ \mathrm{softmax}(z) = p_\epsilon,\ \ z_1 - z_j = "
            r"\log\frac{(1-\epsilon)(K-1)}{\epsilon};\quad \min_z \mathcal{L}_\epsilon = H(p_\epsilon) = "
            r"-(1-\epsilon)\log(1-\epsilon) - \epsilon \log\frac{\epsilon}{K-1}",
    check=_check_optimum,
    remark="For 0 < eps < 1. The gap is positive (the true class most probable) exactly when eps < (K-1)/K, zero "
           "at eps = (K-1)/K (uniform target), negative beyond. Exposed as smoothed_optimum_gap and smoothed_minimum.",
))


def _check_hard_no_minimiser() -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    d = sp.Symbol("Delta", positive=True)
    # hard loss = log(1 + sum_{j>1} exp(z_j - z_1)) > 0: log of a number > 1
    hard = cross_entropy(g, lambda j: one_hot(g, j))
    as_log1p = sp.log(1 + g.sum(lambda j: sp.exp(g.z(j) - g.z(1)), start=2))
    ok_form = is_zero(hard - as_log1p, force_log=True)
    facts.append(Fact("symbolic", "hard loss = log(1 + sum_(j>1) exp(z_j - z_1)) > 0 for all finite z (general K)", ok_form))
    family = _dominant_family(g, as_log1p, d)
    lim = sp.limit(family, d, sp.oo)
    facts.append(Fact("symbolic", f"along z = (Delta, 0, ..., 0): loss = {sp.sstr(family)} -> {lim} as Delta -> oo: "
                                  "infimum 0, never attained", lim == 0))
    gap_lim = sp.limit(_optimal_gap(g.K, EPS), EPS, 0, "+")
    facts.append(Fact("symbolic", f"optimal smoothed gap log((1-eps)(K-1)/eps) -> {gap_lim} as eps -> 0+", gap_lim == sp.oo))
    deltas = np.linspace(0.0, 40.0, 81)
    ok = True
    for K in NUMERIC_K:
        z = np.zeros((deltas.size, K))
        z[:, 0] = deltas
        loss = num.cross_entropy(z, np.zeros(deltas.size, dtype=int))
        ok &= bool(np.all(np.diff(loss) < 0) and np.all(loss > 0))
    facts.append(Fact("numeric", "library hard loss is positive and strictly decreasing in the gap on [0, 40]", ok))
    facts.append(Fact("numeric", "smoothed_optimum_gap(K, 0) is +inf",
                      all(sm.smoothed_optimum_gap(K, 0.0) == np.inf for K in NUMERIC_K)))
    return Evidence(holds=ok_form and lim == 0 and gap_lim == sp.oo and ok, facts=facts)


register(Claim(
    id="ch2.hard_no_minimiser", chapter=2, section=SECTION, order=13, source="added",
    stated=Verdict.HOLDS,
    title="Hard labels (eps = 0): no finite minimiser",
    printed=r"\mathcal{L}_0(z) = \log\Big(1 + \sum_{j=2}^{K} e^{-(z_1 - z_j)}\Big) > 0 = \inf_z \mathcal{L}_0, "
            r"\text{ approached only as } z_1 - z_j \to \infty",
    check=_check_hard_no_minimiser,
    remark="With hard labels, gradient descent keeps growing the logit gap forever; any eps > 0 gives the finite "
           "optimum of ch2.optimum. This is the regularising effect of label smoothing, in one line.",
))


# -- added: cross-entropy = entropy + KL -----------------------------------------------------------
def _check_entropy_kl() -> Evidence:
    facts: list[Fact] = []
    ok_all = True
    for K in SYMBOLIC_K:
        x = Logits(K)
        p = [smoothed_target(x, j, EPS) for j in range(1, K + 1)]
        q = [softmax(x, j) for j in range(1, K + 1)]
        entropy = -sum(pj * sp.log(pj) for pj in p)
        kl = sum(pj * (sp.log(pj) - sp.log(qj)) for pj, qj in zip(p, q))
        ok_all &= is_zero(smoothed_loss(x, EPS) - (entropy + kl))
        ok_all &= is_zero(entropy - _entropy(K, EPS), force_log=True)
    facts.append(Fact("symbolic", "H(p_eps, q) = H(p_eps) + KL(p_eps || q), and H(p_eps) = -(1-eps) log(1-eps) - "
                                  f"eps log(eps/(K-1)) (K={', '.join(map(str, SYMBOLIC_K))}, symbolic eps)", ok_all))
    rng, ok, worst = rng_for("ch2.entropy_kl"), True, 0.0
    for K in NUMERIC_K:
        z = sample_logits(rng, K, 5.0)
        y = rng.integers(0, K, size=len(z))
        for e in (0.1, 0.5):
            p = sm.smoothed_targets(y, K, e)
            kl = np.sum(p * (np.log(p) - num.log_softmax(z)), axis=1)
            total = sm.smoothed_minimum(K, e) + kl
            loss = sm.smoothed_cross_entropy(z, y, e)
            ok &= bool(np.all(kl >= -1e-12))
            worst = max(worst, float(np.max(np.abs(loss - total) / np.maximum(1, loss))))
    facts.append(Fact("numeric", "library loss = smoothed_minimum + KL at random logits; KL >= 0",
                      ok and worst <= RTOL, worst))
    return Evidence(holds=ok_all and ok, facts=facts)


register(Claim(
    id="ch2.entropy_kl", chapter=2, section=SECTION, order=14, source="added",
    stated=Verdict.HOLDS,
    title="Cross-entropy = entropy of the target + KL divergence",
    printed=r"H(p_\epsilon, q) = H(p_\epsilon) + \mathrm{KL}(p_\epsilon \,\|\, q) \ \ge\ H(p_\epsilon)",
    check=_check_entropy_kl,
    remark="The smoothed loss is a constant (the target's entropy) plus the KL divergence from the target to the "
           "model, so its minimum H(p_eps) is attained exactly at q = p_eps, as ch2.optimum found.",
))


# -- added: the conventions ----------------------------------------------------------------------
def _check_conventions() -> Evidence:
    facts: list[Fact] = []
    g = Logits()
    K, alpha = g.K, sp.Symbol("alpha", nonnegative=True)
    uniform = lambda j: (1 - alpha) * one_hot(g, j) + alpha / K     # noqa: E731
    eps_of_alpha = alpha * (K - 1) / K
    same = all(sp.simplify(uniform(j) - smoothed_target(g, j, eps_of_alpha)) == 0 for j in range(1, 6))
    facts.append(Fact("symbolic", "(1-alpha) onehot + alpha/K = note's target with eps = alpha (K-1)/K "
                                  "(general K, classes 1..5)", same))
    back = sp.simplify(eps_of_alpha.subs(alpha, EPS * K / (K - 1)) - EPS) == 0
    facts.append(Fact("symbolic", "inverse: alpha = eps K/(K-1)", back))
    ends = eps_of_alpha.subs(alpha, 0) == 0 and sp.simplify(eps_of_alpha.subs(alpha, 1) - (K - 1) / K) == 0
    slope = sp.simplify(sp.diff(eps_of_alpha, alpha))
    k = sp.Symbol("k", integer=True, nonnegative=True)          # K = k + 2 >= 2
    facts.append(Fact("symbolic", f"d eps/d alpha = {sp.sstr(slope)} > 0, alpha = 0 -> eps = 0, alpha = 1 -> "
                                  "eps = (K-1)/K: alpha in [0,1] <=> eps in [0, (K-1)/K]", ends and bool(slope.subs(K, k + 2).is_positive)))
    rng, worst = rng_for("ch2.conventions"), 0.0
    for K_ in NUMERIC_K + (1000,):
        z = sample_logits(rng, K_, 5.0)
        y = rng.integers(0, K_, size=len(z))
        for a in (0.0, 0.1, 0.5, 1.0):
            e = sm.alpha_to_eps(a, K_)
            t = np.max(np.abs(sm.smoothed_targets(y, K_, e) - sm.smoothed_targets(y, K_, a, convention="uniform")))
            lo = np.max(np.abs(sm.smoothed_cross_entropy(z, y, e) - sm.smoothed_cross_entropy(z, y, a, "uniform")))
            worst = max(worst, float(t), float(lo))
    facts.append(Fact("numeric", "targets and losses of the two conventions agree under the mapping to 1e-12 "
                                 "(K up to 1000, alpha in {0, 0.1, 0.5, 1})", worst <= 1e-12, worst))
    try:
        sm.eps_to_alpha(0.95, 10)
        raises = False
    except ValueError:
        raises = True
    facts.append(Fact("numeric", "eps_to_alpha(0.95, K=10) raises ValueError: 0.95 > (K-1)/K = 0.9 has no alpha "
                                 "in [0, 1]", raises))
    return Evidence(holds=same and back and ends and bool(slope.subs(K, k + 2).is_positive) and worst <= 1e-12 and raises, facts=facts)


register(Claim(
    id="ch2.conventions", chapter=2, section=SECTION, order=15, source="added",
    stated=Verdict.HOLDS,
    title="The note's eps and the frameworks' alpha",
    printed=r"(1-\alpha)\,\mathrm{onehot} + \frac{\alpha}{K} = p_\epsilon \iff \epsilon = \alpha\frac{K-1}{K},\ "
            r"\alpha = \epsilon\frac{K}{K-1};\quad \alpha \in [0,1] \iff \epsilon \in \left[0, \tfrac{K-1}{K}\right]",
    check=_check_conventions,
    remark="Szegedy et al. (2016) and the frameworks' label_smoothing parameter use alpha: at alpha = 0.1 and "
           "K = 10 the true class gets 0.91, not 0.9. The note's eps in ((K-1)/K, 1] (true class below the "
           "others) has no alpha in [0, 1].",
))
