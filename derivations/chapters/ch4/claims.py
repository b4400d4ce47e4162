"""Chapter 4: training with soft and flipped labels, as claims with statistical evidence.

Chapter 4 trains the four ways of using the labels side by side (hard, soft,
flipped afresh at every step, flipped once and kept; :mod:`derivations.chapters.ch4.training`)
on two models, a free logit vector per example and softmax regression
(:mod:`derivations.chapters.ch4.worked`). Its findings, at the values a reader chooses,
stay in the notebook; here they are four results the companion adds, checked
once at chapter 4's default ``K = 4``, ``eps = 0.1``, seed 0, on experiments
sized (:data:`PLAN`) so that all four checks take well under a second.

Each statement is written in the note's notation and read by
:mod:`derivations.engine.notation`; each check evaluates what it read:

* the noise of a flipped label, chapter 3's covariance ``p_a delta_ab - p_a p_b``,
  is carried through training by the linear response
  (:mod:`derivations.chapters.ch4.linear_response`) into the spread that fresh flips (and
  flips kept) should show around soft labels;
* chapter 2's optimum, the gap ``log((1-eps)(K-1)/eps)`` and ``q_1 = 1 - eps``, is
  compared with where soft labels take free logits;
* the fraction ``eps`` of labels flipped once, and the inequality ``q_k > q_1`` that
  each example fitting its wrong label ``k`` ends with.

Tolerances come from the parameters: Bernstein radii at false-alarm
:data:`~derivations.engine.stats.FALSE_ALARM` (1e-6) from predicted variances and
per-example bounds, and for a flip kept, Chernoff's bound from the exact distribution of each example's flip
(:func:`derivations.chapters.ch4.worked.chernoff_radius`); a chi-square band at nominal false-alarm 1e-6 for a sample
variance of free logits' gaps (normal to first order: a sum of many independent
flips); and a deterministic convergence bound, from the curvature of the loss
along the gap and the total step, for soft labels against the optimum.
"""
from __future__ import annotations

import math
import operator
from functools import lru_cache

import numpy as np
import sympy as sp

from derivations.chapters.ch3.claims import sampler_probability
from derivations.chapters.ch4 import worked as ch4
from derivations.chapters.ch4.linear_response import free_logit_spread
from derivations.chapters.ch4.training import TrainingPlan, logit_gap
from derivations.engine.checks import each_k, where
from derivations.engine.finding import Finding
from derivations.engine.notation import EPS, SOFT, evaluate
from derivations.engine.registry import Claim, Evidence, Formulas, Verdict, register
from derivations.engine.stats import FALSE_ALARM, bernstein_radius, frequency_radius, variance_ratio_band
from derivations.engine.symbolic import Logits, compiled
from derivations.engine.tex import inline
from derivations.library.numeric import softmax
from derivations.library.smoothing import smoothed_optimum_gap, target_levels

__all__ = ["PLAN", "free_experiment", "regression_experiment", "covariance", "covariance_matrix", "gap_is_eigenvector",
           "gap_noise", "convergence_bound", "propagated_variance"]

SECTION = "Training with soft and flipped labels"
#: The claims' experiments: chapter 4's default K, eps and seed, sized for the registry (about 0.2 s for both).
#: Free logits: 200 examples, 400 steps of 0.5 / (1 + t/100) (total step 81: the soft gap ends within 2.1e-4 of
#: the optimum); softmax regression: 400 points in 4 blobs (100 a class), 200 steps of 0.5.
PLAN = TrainingPlan(K=4, eps=0.1, seed=0, n_free=200, free_steps=400, free_lr=0.5, free_decay=100.0,
                    n_train=400, n_test=100, steps=200, lr=0.5, record_every=100)
_ROUNDING = 2.0 ** -53
_ORDER = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@lru_cache(maxsize=None)
def free_experiment() -> ch4.FreeLogits:
    """The four modes on :data:`PLAN`'s free logits (once per process; the claims share it)."""
    return ch4.free_logits(PLAN)


@lru_cache(maxsize=None)
def regression_experiment() -> ch4.Regression:
    """The four modes of softmax regression on :data:`PLAN`'s blobs, and (b)'s linear response."""
    return ch4.softmax_regression(PLAN)


# -- what the checks read ------------------------------------------------------------------------------
def _eps(eps: float) -> sp.Rational:
    return sp.Rational(str(eps))


def covariance(relation, K: int) -> sp.Matrix:
    """The printed covariance ``C_ab`` (a relation's right side, in ``a`` and ``b``) for ``K`` classes, class 1 the
    true one, ``p`` the note's soft target; ``eps`` symbolic.

    >>> from derivations.engine.notation import read
    >>> covariance(read(r"p_{a}\\delta_{ab} - p_{a} p_{b}").relation(), 2)[0, 1]
    -epsilon*(1 - epsilon)
    """
    x = Logits(K)
    return sp.Matrix(K, K, lambda a, b: evaluate(relation.rhs, x, SOFT, {"a": int(a) + 1, "b": int(b) + 1}))


def covariance_matrix(C: sp.Matrix, eps: float) -> np.ndarray:
    """``C`` at ``eps``, as floats.

    >>> from derivations.engine.notation import read
    >>> covariance_matrix(covariance(read(r"p_{a}\\delta_{ab} - p_{a} p_{b}").relation(), 2), 0.25).tolist()
    [[0.1875, -0.1875], [-0.1875, 0.1875]]
    """
    return np.array(C.subs(EPS, _eps(eps)).evalf(), dtype=float)


def _gap_direction(K: int) -> sp.Matrix:
    return sp.Matrix([1] + [-sp.Rational(1, K - 1)] * (K - 1))


def gap_is_eigenvector(C: sp.Matrix) -> bool:
    """Is ``u = e_1 - mean_{j != 1} e_j`` an eigenvector of ``C`` (for every eps)? The gap then moves alone.

    >>> gap_is_eigenvector(sp.eye(3)), gap_is_eigenvector(sp.Matrix([[1, 1, 0], [1, 1, 0], [0, 0, 1]]))
    (True, False)
    """
    u = _gap_direction(C.shape[0])
    lam = (u.T * C * u)[0] / (u.T * u)[0]
    return all(_vanishes(v) for v in C * u - lam * u)


def gap_noise(C: np.ndarray) -> float:
    """``u^T C u`` along the gap ``u = e_1 - mean_{j != 1} e_j``: one flip's noise on ``z_1 - mean_j z_j``.

    >>> round(gap_noise(np.diag([0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]) - np.outer([0.9] + [0.1 / 3] * 3, [0.9] + [0.1 / 3] * 3)), 12)
    0.16
    """
    K = len(C)
    u = np.full(K, -1.0 / (K - 1))
    u[0] = 1.0
    return float(u @ C @ u)


def convergence_bound(plan: TrainingPlan) -> float:
    """How far soft-label training can end from the optimal gap: ``|gap_T - gap*| <= gap* exp(-mu S)``.

    Along the gap the loss has curvature ``K q_1 q_j`` (chapter 2's Hessian), at
    most ``K / (4(K-1))``; with every step ``lr_t`` below the inverse of that, gradient
    descent from 0 moves monotonically towards ``gap*`` and contracts the distance
    by ``1 - lr_t mu`` a step, ``mu`` the least curvature on ``[0, gap*]``: ``1/K`` at
    0 or ``K p_1 p_j`` at the optimum (``q_1 q_j`` is unimodal in the gap). ``S`` is
    the total step. Needs ``0 < eps < (K-1)/K`` (a positive finite optimum).

    >>> round(convergence_bound(PLAN), 6)
    0.000206
    """
    K, eps = plan.K, plan.eps
    star = smoothed_optimum_gap(K, eps)
    on, off = target_levels(K, eps=eps)
    if not (0 < star < math.inf) or plan.free_lr * K / (4 * (K - 1)) > 1:
        raise ValueError("the contraction bound needs 0 < eps < (K-1)/K and free_lr <= 4(K-1)/K")
    mu = min(1.0 / K, K * on * off)
    return star * math.exp(-mu * plan.free_step_sum)


def propagated_variance(A: np.ndarray, y: np.ndarray, C: np.ndarray) -> float:
    """``sum_i A_i^T C_(y_i) A_i``: the variance of ``sum_i A_i . xi_i`` when example ``i``'s noise ``xi_i``
    has covariance ``C`` with its true class ``y_i`` in the place of class 1 (classes 1 and ``y_i`` swapped).

    >>> propagated_variance(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1]), np.array([[2.0, 0.0], [0.0, 3.0]]))
    4.0
    """
    N, K = A.shape
    perm = np.tile(np.arange(K), (N, 1))
    rows = np.arange(N)
    perm[rows, 0], perm[rows, y] = y, 0
    Ap = np.take_along_axis(A, perm, axis=1)
    return float(np.einsum("ik,kl,il->", Ap, C, Ap))


def _at(exprs, x: Logits, z: np.ndarray) -> list[np.ndarray]:
    """Several expressions in the logits of ``x``, each at every row of ``z`` (one ``lambdify`` for all, to plain
    ``math``: a few hundred rows). Where a (wrong) formula has no real value, as the log of a negative number, the
    row gives ``nan``, which no comparison accepts."""
    f = compiled(list(x.symbols), list(exprs), "math")

    def row(r):
        try:
            return [float(v) for v in f(*r)]
        except (ArithmeticError, ValueError, TypeError):
            return [math.nan] * len(exprs)
    return list(np.array([row(r) for r in np.asarray(z, dtype=float).tolist()]).T)


def _vanishes(expr) -> bool:
    """A rational function of eps (logs of exponentials already collapsed) that is identically 0."""
    return sp.cancel(sp.together(expr)) == 0


def _equalities(reading) -> list:
    return [r for r in reading.relations() if r.op == "="]


def _sd(v: float) -> str:
    return inline(v, ".2g")


#: The false-alarm probability, as LaTeX.
_ALARM = inline(FALSE_ALARM, "g")


# -- 1. soft labels and fresh flips reach the same point -------------------------------------------------
def _check_fresh_same_point(f: Formulas) -> Evidence:
    x, facts = free_experiment(), []
    p, N = x.plan, x.plan.n_free
    C = covariance(f.printed.relation(), p.K)
    eigen = gap_is_eigenvector(C)
    facts.append(Finding("symbolic", r"the gap direction $u = e_1 - \frac{1}{K-1}\sum_{j \ne 1} e_j$ is an eigenvector of "
                                  f"the printed covariance ($K = {p.K}$, symbolic $\\epsilon$): the gap moves alone, as "
                                  "the scalar linear response assumes", eigen))
    noise = gap_noise(covariance_matrix(C, p.eps))
    if not (math.isfinite(noise) and noise >= 0):
        facts.append(Finding("numeric", f"the printed covariance gives the gap a negative variance ({inline(noise, '.3g')}): "
                                     "not a covariance", False))
        return Evidence(holds=False, findings=facts)
    sd_gap, sd_p, _ = free_logit_spread(p.K, p.eps, p.free_steps, p.free_lr, p.free_decay, noise=noise)
    q_b, q_c = x.q("soft"), x.q("flip_fresh")
    exact = float(np.ptp(q_b)) == 0.0 and float(np.ptp(q_c)) > 0.0
    facts.append(Finding("numeric", f"(b)'s {N} examples end identical (soft labels add no noise), (c)'s do not", exact))
    radius = float(bernstein_radius(N, sd_p ** 2, 1.0))
    d = abs(float(q_c.mean()) - float(q_b[0]))
    mean_ok = d <= radius
    facts.append(Finding("statistical", f"the mean $q_1$ of (c) over {N} examples is within the Bernstein radius "
                                 f"{_sd(radius)} of (b)'s $q_1$ (false-alarm {_ALARM}; per-example SD {_sd(sd_p)} from the "
                                 r"printed covariance by linear response, $|q_1 - \mathbb{E}\,q_1| \le 1$)", mean_ok,
                         observed=f"difference {_sd(d)}", bound=f"{_sd(radius)} at false-alarm {_ALARM}"))
    lo, hi = variance_ratio_band(N)
    ratio = float(logit_gap(x.runs["flip_fresh"].logits, x.y).var(ddof=1)) / sd_gap ** 2 if sd_gap > 0 else math.inf
    var_ok = lo <= ratio <= hi
    facts.append(Finding("statistical", f"the sample variance of (c)'s {N} final gaps "
                                 rf"$z_1 - \frac{{1}}{{K-1}}\sum_{{j \ne 1}} z_j$ is {ratio:.2f} times the predicted "
                                 rf"$\mathrm{{SD}}^2 = ({sd_gap:.2g})^2$ (the printed covariance along the gap, "
                                 rf"$u^\top C u = {noise:.3g}$, carried through training), inside the chi-square band "
                                 f"$[{lo:.2f}, {hi:.2f}]$ at false-alarm {_ALARM} (to first order the gap is a sum "
                                 f"of {p.free_steps} independent flips: normal)", var_ok,
                         observed=f"ratio {ratio:.3f}", bound=f"$[{lo:.3f}, {hi:.3f}]$ at false-alarm {_ALARM}"))
    return Evidence(holds=eigen and exact and mean_ok and var_ok, findings=facts)


register(Claim(
    id="ch4.fresh_same_point", chapter=4, section=SECTION, order=1, source="added", shares="ch4.free_experiment",
    stated=Verdict.HOLDS,
    title="Soft labels and fresh flips train to the same point",
    printed=r"Free logits trained on labels flipped afresh at every step end, on average, where soft labels take "
            r"them, spread as the noise of the flipped label, of covariance $p_{a}\delta_{ab} - p_{a} p_{b}$, "
            r"carried through training predicts",
    check=_check_fresh_same_point,
    remark=r"Chapter 3: a fresh flip is the soft-label step plus noise of mean 0 and covariance "
           r"$\mathrm{diag}(p) - p p^\top$. Carried through training by chapter 2's Hessian (linear response along the "
           r"gap, where the noise is $u^\top C u = \frac{K^2 p_1 p_j}{K-1}$), it predicts the spread of each example "
           r"of (c) around (b); the examples are independent, so the mean of (c) lies within a Bernstein radius of (b), "
           r"and the sample variance of their gaps matches the prediction. Equal in expectation to first order: the "
           r"curvature of the softmax leaves a second-order offset, well inside the radius here. Checked at $K = 4$, "
           r"$\epsilon = 0.1$, seed 0 (`PLAN`); the notebook repeats it at the reader's values.",
))


# -- 2. the common point is chapter 2's optimum ----------------------------------------------------------------
def _check_soft_optimum(f: Formulas) -> Evidence:
    x, facts = free_experiment(), []
    p, N, K = x.plan, x.plan.n_free, x.plan.K
    gap_rel, q_soft, q_fresh = _equalities(f.printed)[:3]

    def so_at(xk: Logits) -> bool:
        gap = evaluate(gap_rel.rhs, xk, SOFT, {"j": 2})
        point = {xk.z(1): gap, **{xk.z(j): 0 for j in range(2, xk.K + 1)}}
        return _vanishes(evaluate(q_soft.lhs, xk, SOFT).subs(point) - evaluate(q_soft.rhs, xk, SOFT))
    cases = each_k(so_at, general=False)
    facts.append(Finding("symbolic", "'so': at $z_1 - z_j =$ the printed gap for every $j$, the printed $q_1$ is its "
                                  f"printed value (symbolic $\\epsilon$, {where(cases)})", all(cases.values())))
    so = all(cases.values())
    g, e = Logits(K), _eps(p.eps)
    sides = [(gap_rel.lhs, {"j": j}) for j in range(2, K + 1)] + [(gap_rel.rhs, {"j": j}) for j in range(2, K + 1)]
    sides += [(q_soft.lhs, {}), (q_soft.rhs, {}), (q_fresh.lhs, {}), (q_fresh.rhs, {})]
    z = np.concatenate([x.runs["soft"].logits[:1], x.runs["flip_fresh"].logits])
    v = _at([evaluate(node, g, SOFT, bind).subs(EPS, e) for node, bind in sides], g, z)
    gaps_lhs, gaps_rhs, (qb_lhs, qb_rhs, qc_lhs, qc_rhs) = v[:K - 1], v[K - 1:2 * K - 2], v[2 * K - 2:]
    delta = convergence_bound(p)
    slack = 16 * _ROUNDING * p.free_steps * (1.0 + smoothed_optimum_gap(K, p.eps))
    worst_gap = max(abs(float(a[0] - b[0])) for a, b in zip(gaps_lhs, gaps_rhs))
    worst_q = abs(float(qb_lhs[0] - qb_rhs[0]))
    gap_ok, q_ok = worst_gap <= delta + slack, worst_q <= delta / 4 + slack
    excess = max(worst_gap - delta, worst_q - delta / 4, 0.0) / slack      # the report's unit for an inequality
    facts.append(Finding("numeric", f"(b) after {p.free_steps} steps: every printed gap $z_1 - z_j$ and the printed $q_1$ "
                                 f"are their printed values, within the convergence bound {inline(delta, '.1e')} (gap) "
                                 f"and {inline(delta / 4, '.1e')} ($q_1$ moves at most $\\frac{{1}}{{4}}$ as fast): "
                                 "deterministic, from the curvature along the gap, "
                                 rf"$\ge \min(\frac{{1}}{{K}}, K p_1 p_j)$, and the total step {p.free_step_sum:.0f}",
                      gap_ok and q_ok, observed=f"largest deviation {inline(max(worst_gap, worst_q), '.1e')}",
                      bound=f"the convergence bound plus the rounding slack {inline(slack, '.1e')}", error=excess))
    radius = float(bernstein_radius(N, x.sd_p ** 2, 1.0))
    gap_c = abs(float(qc_lhs[1:].mean()) - float(qc_rhs[0]))
    fresh_ok = gap_c <= radius + delta / 4
    facts.append(Finding("statistical", f"(c): the mean $q_1$ over {N} examples is within the Bernstein radius "
                                 f"{_sd(radius)} (false-alarm {_ALARM}, per-example SD {_sd(x.sd_p)} by linear response) "
                                 "plus the convergence bound of the printed value", fresh_ok,
                         observed=f"difference {_sd(gap_c)}", bound=f"{_sd(radius + delta / 4)} at false-alarm {_ALARM}"))
    return Evidence(holds=so and gap_ok and q_ok and fresh_ok, findings=facts)


register(Claim(
    id="ch4.soft_optimum", chapter=4, section=SECTION, order=2, source="added", shares="ch4.free_experiment",
    stated=Verdict.HOLDS,
    title="The common point is chapter 2's optimum",
    printed=r"Soft labels train free logits to chapter 2's optimum, "
            r"$z_{1} - z_{j} = \log\frac{(1-\epsilon)(K-1)}{\epsilon}$ for every wrong class $j$, so "
            r"$q_{1} = 1 - \epsilon$; labels flipped afresh reach $q_{1} = 1 - \epsilon$ on average",
    check=_check_soft_optimum,
    remark=r"Gradient descent on the smoothed loss from $z = 0$ moves only the gap and converges to the optimum of "
           r"ch2.optimum; how close it gets is deterministic: the loss along the gap is strongly convex on "
           r"$[0, g^*]$, $g^*$ the optimal gap (curvature $K q_1 q_j \ge \mu = \min(\frac{1}{K}, K p_1 p_j)$), so the "
           r"distance shrinks at least by $e^{-\mu S}$ over a total step $S$. Fresh flips reach the same $q_1$ on "
           r"average (ch4.fresh_same_point). At $\epsilon = 0$ there is no optimum (ch2.hard_no_minimiser) and the gap "
           r"keeps growing; above $\epsilon = \frac{K-1}{K}$ the optimal gap is negative.",
))


# -- 3. labels flipped once: a model that can memorise fits them ---------------------------------------------
def _check_once_memorises(f: Formulas) -> Evidence:
    x, facts = free_experiment(), []
    p, N, K = x.plan, x.plan.n_free, x.plan.K
    frac_rel = _equalities(f.printed)[0]
    fit = next(r for r in f.printed.relations() if r.op in _ORDER)
    g, e = Logits(K), _eps(p.eps)
    printed = float(evaluate(frac_rel.rhs, g, SOFT).subs(EPS, e))
    kept = x.runs["flip_once"].extra["kept_labels"]
    flipped = kept != x.y
    k = int(flipped.sum())
    r = float(frequency_radius(N, printed)) if 0.0 <= printed <= 1.0 else -1.0
    frac_ok = k > 0 and abs(k / N - printed) <= r + 1e-15
    facts.append(Finding("statistical", f"{k} of the {N} labels flipped once are wrong: within the Bernstein radius "
                                 f"{max(r, 0):.3f} (false-alarm {_ALARM}) of the printed fraction", frac_ok,
                         observed=f"fraction {k / N:.3f} against {printed:.3g}",
                         bound=f"{max(r, 0):.3f} at false-alarm {_ALARM}"))
    Z = x.runs["flip_once"].logits
    z = np.concatenate([x.runs["soft"].logits[:1], Z])
    v = _at([evaluate(side, g, SOFT, {"k": c}).subs(EPS, e) for c in range(2, K + 1) for side in (fit.lhs, fit.rhs)],
            g, z)
    holds = np.array([_ORDER[fit.op](v[2 * i], v[2 * i + 1]) for i in range(K - 1)])     # wrong class c = i + 2
    rows = np.flatnonzero(flipped)
    fitted = bool(np.all(holds[kept[rows] - 1, rows + 1]))
    not_soft = not bool(np.any(holds[:, 0]))
    facts.append(Finding("numeric", f"the printed inequality holds at every one of the {k} examples trained on its wrong "
                                 "label $k$, and at no wrong class $k$ of (b): soft labels keep class 1 the most probable",
                      fitted and not_soft))
    q_hard = float(x.q("hard")[0])
    worst = float(np.max(np.abs(softmax(Z)[np.arange(N), kept] - q_hard))) / q_hard
    facts.append(Finding("numeric", "each example of (d) is hard-label training on the label it kept: it gives that label "
                                 f"(a)'s $q_1 = {q_hard:.4f}$ (relative tolerance $10^{{-12}}$, rounding)", worst <= 1e-12,
                         error=worst))
    return Evidence(holds=frac_ok and fitted and not_soft and worst <= 1e-12, findings=facts)


register(Claim(
    id="ch4.once_memorises", chapter=4, section=SECTION, order=3, source="added", shares="ch4.free_experiment",
    stated=Verdict.HOLDS,
    title="Labels flipped once are not equivalent: a model that can memorise fits them",
    printed=r"Labels flipped once and kept are not equivalent: a fraction $\Pr(y \neq 1|x) = \epsilon$ of them is "
            r"wrong, and free logits fit each wrong label $k$, ending with $q_{k} > q_{1}$, where soft labels keep "
            r"the true class the most probable",
    check=_check_once_memorises,
    remark=r"Flipped once, a label is a fixed hard label: each free-logit example is hard-label training on it, so "
           r"the flipped ones end predicting their wrong class. Chapter 3's equivalence holds at fixed logits; training "
           r"on a flip kept for the whole run makes the logits depend on it, so it acts as a wrong label, not as noise "
           r"that averages out (ch3.equivalence). The mean of $q_1$ over the examples can still land near "
           r"$1 - \epsilon$, which hides the difference.",
))


# -- 4. softmax regression: (b), (c), (d) within the predicted spread -----------------------------------------
def _check_regression_same_point(f: Formulas) -> Evidence:
    x, facts = regression_experiment(), []
    K, eps, spread = x.K, x.plan.eps, x.spread
    C_sym = covariance(f.printed.relation(), K)
    x_K = Logits(K)
    P = sp.Matrix([sampler_probability(x_K, j) for j in range(1, K + 1)])
    of_flips = all(_vanishes(v) for v in C_sym - (sp.diag(*P) - P * P.T))
    facts.append(Finding("symbolic", r"the printed covariance is that of the flipped one-hot label, "
                                  r"$\mathrm{diag}(\pi) - \pi \pi^\top$ with $\pi$ the sampler's distribution "
                                  f"($K = {K}$, symbolic $\\epsilon$)", of_flips))
    C = covariance_matrix(C_sym, eps)
    once_var = propagated_variance(spread.once_coefficients, x.y_train, C)
    agree = abs(once_var - spread.once_var) <= 1e-9 * spread.once_var
    facts.append(Finding("numeric", r"$\sum_i A_i^\top C A_i$ with the printed covariance (the variance of (d)'s "
                                 f"deviation, $A_i$ the adjoint coefficients of {len(x.y_train)} examples) is the linear "
                                 "response's (relative tolerance $10^{-9}$)", agree,
                         error=abs(once_var - spread.once_var) / spread.once_var))
    if not once_var >= 0:
        facts.append(Finding("numeric", "the printed covariance gives (d) a negative variance: not a covariance", False))
        return Evidence(holds=False, findings=facts)
    s = {m: x.mean_q(m) for m in ("soft", "flip_fresh", "flip_once")}
    ok = agree and of_flips
    radii = {"flip_fresh": (float(bernstein_radius(1, spread.fresh_var, spread.fresh_bound)),
                            "the Bernstein radius", "a sum of independent flips, each term bounded"),
             "flip_once": (ch4.chernoff_radius(spread.once_coefficients, x.y_train, K, eps),
                           "the Chernoff radius", "from the distribution of each example's flip, chapter 3's "
                                                  "sampler")}
    for mode, var, what in (("flip_fresh", spread.fresh_var, "(c), flipped afresh"),
                            ("flip_once", once_var, "(d), flipped once and kept")):
        radius, name, how = radii[mode]
        d = abs(s[mode] - s["soft"])
        within = d <= radius
        ok &= within
        facts.append(Finding("statistical", f"{what}: the mean $q_1$ on the training set is within {name} "
                                     f"{_sd(radius)} of (b)'s (false-alarm {_ALARM}; predicted SD {_sd(math.sqrt(var))}, "
                                     f"{how})", within, observed=f"difference {_sd(d)}, {d / math.sqrt(var):.1f} SD",
                             bound=f"{radius / math.sqrt(var):.1f} SD"))
    larger = once_var > spread.fresh_var
    facts.append(Finding("numeric", f"a flip kept moves the model further than fresh flips: predicted SD "
                                 f"{_sd(math.sqrt(once_var))} against {_sd(math.sqrt(spread.fresh_var))}", larger))
    return Evidence(holds=bool(ok and larger), findings=facts)


register(Claim(
    id="ch4.regression_same_point", chapter=4, section=SECTION, order=4, source="added",
    stated=Verdict.HOLDS,
    title="Softmax regression: flipped afresh or once, within the predicted spread of soft labels",
    printed=r"Softmax regression cannot memorise: trained on labels flipped afresh, or flipped once and kept, it ends "
            r"with a mean probability of the true class within the spread that the noise of covariance "
            r"$p_{a}\delta_{ab} - p_{a} p_{b}$, carried back along the soft labels' path, predicts",
    check=_check_regression_same_point,
    remark=r"Three parameters a class and 100 examples a class: the model cannot single out a flipped example, so "
           r"even labels flipped once act as noise. The linear response (an adjoint pass of chapter 2's Hessian along "
           r"(b)'s path) writes each deviation from (b) as a sum of independent bounded terms, one per flip, with "
           r"chapter 3's covariance; Bernstein's inequality bounds it. A flip kept injects the same noise at every "
           r"step, so its terms add up: (d)'s predicted spread is the larger. Checked at $K = 4$, $\epsilon = 0.1$, "
           r"seed 0.",
))
