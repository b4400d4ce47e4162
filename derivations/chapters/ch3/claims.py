"""Chapter 3: the note's label-flipping bullet, made exact.

The note's three displayed equations and its four statements in words (each
taken from the transcription, :mod:`derivations.engine.note`), then what the companion
adds, written in the note's notation and read by :mod:`derivations.engine.notation`
like the note's own formulas: the distribution of the flipped label, the exact
equivalence in expectation (loss and gradient), and what differs (the variance
of the loss, the covariance of the gradient, the noise left at the optimum).
Class 1 is the true class.

The flipping process: keep the label with probability ``1 - eps``, otherwise
pick one of the ``K - 1`` other classes uniformly. The sampler
:func:`derivations.library.flipping.flip_labels` realises it with one uniform ``u`` per
label; :func:`sampler_probability` derives the distribution of its output by
integrating over ``u``, for a general symbolic ``K``. In the context
:data:`FLIP`, ``\\Pr(y = j|x)`` is that distribution, ``p`` the note's soft
target and ``\\mathcal{L}`` the smoothed loss.

Sampling checks compare frequencies with Bernstein radii at false-alarm
:data:`~derivations.engine.stats.FALSE_ALARM` per comparison
(:func:`~derivations.engine.stats.frequency_radius`), so a correct sampler fails them
with probability at most 1e-6 each; they run at fixed seeds.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from derivations.chapters.ch2.claims import SOFTMAX_Q
from derivations.engine.checks import COMPONENT, RTOL, each_k, largest, mp_value, rng_for, where
from derivations.engine.finding import Finding
from derivations.engine.notation import EPS, INDEX_J, SOFT, Context, evaluate
from derivations.engine.note import displayed, quote
from derivations.engine.registry import Claim, Counterexample, Evidence, Formulas, Verdict, register
from derivations.engine.stats import FALSE_ALARM, bernstein_radius, frequency_radius, variance_radius
from derivations.engine.symbolic import (
    Logits,
    class_sums,
    compiled,
    cross_entropy,
    is_zero,
    log_sum_exp,
    reduce_general,
    smoothed_target,
)
from derivations.engine.tex import inline, vector
from derivations.library import numeric as num
from derivations.library.flipping import flip_labels, flipped_gradient_covariance, flipped_loss_variance, flipped_losses
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_optimum_gap, smoothed_targets

__all__ = ["EPS", "FLIP", "FLIPPED_TARGET", "sampler_probability", "flipped_loss_expectation", "smoothed_loss",
           "flip_frequencies", "enumerated_flipped_loss", "EXPANDED_K"]

SECTION = "Label flipping"
U = sp.Symbol("u", nonnegative=True)
#: Concrete K at which identities are also expanded in full (besides the general-K proof).
EXPANDED_K = tuple(range(2, 9))
#: (K, eps) at which the sampler's frequencies are checked.
SAMPLER_CASES = ((2, 0.1), (3, 0.5), (10, 0.1), (10, 0.9), (1000, 0.3))
MC_DRAWS = 200_000
#: K at which the numeric checks of the added identities sample logits.
NUMERIC_K = (2, 3, 10, 30)


# -- the flipping process, symbolically ---------------------------------------------------
def sampler_probability(x: Logits, j, flip_prob=EPS):
    """``Pr(Y = j)`` for the sampler's output, true class 1, by integrating over ``u ~ U[0, 1)``.

    Kept when ``u >= f`` (``f`` the flip probability); otherwise class ``j >= 2`` is
    output when ``floor((K-1) u / f) = j - 2``, i.e. ``u`` in
    ``[f (j-2)/(K-1), f (j-1)/(K-1))``.

    >>> sp.simplify(sampler_probability(Logits(), 3) - EPS / (Logits().K - 1))
    0
    """
    keep = sp.integrate(1, (U, flip_prob, 1))
    other = sp.integrate(1, (U, flip_prob * (j - 2) / (x.K - 1), flip_prob * (j - 1) / (x.K - 1)))
    d = sp.KroneckerDelta(j, 1)
    return d * keep + (1 - d) * other


def _wrong_class(expr, c=COMPONENT):
    """An expression at a generic wrong class ``c >= 2``: ``KroneckerDelta(c, 1) = 0``."""
    return expr.subs(sp.KroneckerDelta(c, 1), 0)


def _event_probability(distribution):
    """``ctx.pr`` from a distribution ``distribution(x, j)`` of the flipped label."""
    def pr(x: Logits, kind: str, value):
        if kind == "=":
            return distribution(x, value)
        if kind == "!=":                              # the sum over the other classes
            if value != 1:
                raise ValueError("Pr(y != j|x) is read for the true class j = 1")
            return sp.simplify(x.sum(lambda j: distribution(x, j), start=2).doit())
        if x.general:                                 # "incorrect class": a generic wrong class c >= 2
            return _wrong_class(distribution(x, COMPONENT))
        return distribution(x, 2)                     # for a concrete K, class 2
    return pr


def _soft_loss(x: Logits):
    return cross_entropy(x, lambda j: smoothed_target(x, j, EPS))


def smoothed_loss(x: Logits, eps=EPS):
    """The soft-label loss ``H(p, softmax(z))`` with the note's soft target ``p``."""
    return cross_entropy(x, lambda j: smoothed_target(x, j, eps))


def flipped_loss_expectation(x: Logits, eps=EPS):
    """``E_Y[LSE(z) - z_Y]`` over the flipped label: ``sum_j Pr(Y = j) (LSE(z) - z_j)``."""
    return x.sum(lambda j: sampler_probability(x, j, eps) * (log_sum_exp(x) - x.z(j)))


#: Chapter 3: Pr(y = j|x) is the sampler's distribution; p the note's soft target; L the smoothed loss.
FLIP = Context("label flipping", lambda x, j: smoothed_target(x, j, EPS), _soft_loss,
               pr=_event_probability(sampler_probability))
#: The same, with p(y_j|x) read as the distribution of the flipped label (what "the same p" compares).
FLIPPED_TARGET = Context("flipped label as target", sampler_probability, _soft_loss,
                         pr=_event_probability(sampler_probability))
#: Flips split unevenly among K = 3 classes: Pr(y = 2) = eps r_2, Pr(y = 3) = eps (1 - r_2).
R2 = sp.Symbol("r_2", nonnegative=True)


def _uneven(x: Logits, j):
    if x.general or x.K != 3:
        raise ValueError("uneven flips are written out for K = 3")
    return sp.Piecewise((1 - EPS, sp.Eq(j, 1)), (EPS * R2, sp.Eq(j, 2)), (EPS * (1 - R2), True))


def _split(j):
    return sp.Piecewise((R2, sp.Eq(j, 2)), (1 - R2, True))


UNEVEN = Context("uneven flips (K = 3)", _uneven, _soft_loss, pr=_event_probability(_uneven),
                 symbols={"r": _split})
UNEVEN_SAMPLE = (0.3, (0.9, 0.1))                   # eps and (r_2, r_3) of the sampled uneven flips


# -- numeric helpers --------------------------------------------------------------------
def flip_frequencies(K: int, eps: float, n: int, rng: np.random.Generator, true_class: int = 0) -> np.ndarray:
    """Relative frequency of each class among ``n`` flips of the label ``true_class``."""
    f = flip_labels(np.full(n, true_class), K, eps, rng)
    return np.bincount(f, minlength=K) / n


def _value(expr, K: int, eps: float) -> float:
    return float(expr.subs({Logits().K: K, EPS: sp.Rational(str(eps))}))


def _radii(freq: float, p: float, n: int = MC_DRAWS) -> float:
    """How far a frequency of ``n`` draws is from a probability, in Bernstein radii (false-alarm 1e-6): > 1 is
    a disagreement, as is a ``p`` outside [0, 1] (infinitely far)."""
    if not 0.0 <= p <= 1.0:
        return np.inf
    return abs(freq - p) / (float(frequency_radius(n, p)) + 1e-15)


def _agrees(freq: float, p: float, n: int) -> bool:
    """Is a frequency within the Bernstein radius (false-alarm 1e-6) of a probability in [0, 1]?"""
    return _radii(freq, p, n) <= 1


def _worst_frequency(deviation, key: str, flip_prob=lambda eps: eps, cases=SAMPLER_CASES) -> float:
    """The largest ``deviation(K, eps, freq)`` (in Bernstein radii) over the cases ``(K, eps)``, ``freq`` the
    class frequencies of ``MC_DRAWS`` labels flipped by ``flip_labels`` with probability ``flip_prob(eps)``."""
    return largest(lambda pt: deviation(pt.K, pt.param, flip_frequencies(pt.K, flip_prob(pt.param), MC_DRAWS, pt.rng)),
                   key, cases=cases, scales=(1.0,), n=1).worst


def _sampling_fact(probability, what: str, key: str) -> tuple[Finding, bool]:
    """Frequencies of ``flip_labels`` against ``probability(K, eps, freq) -> (p, observed)`` per case."""
    def deviation(K, eps, freq):
        p, observed = probability(K, eps, freq)
        return _radii(observed, p)
    ok = _worst_frequency(deviation, key) <= 1
    return Finding("numeric", f"`flip_labels`: {what} within the Bernstein radius (false-alarm {_ALARM} per "
                           f"case; {MC_DRAWS:,} draws; {_CASES})", ok), ok


#: The false-alarm probability and the sampler's cases, as LaTeX.
_ALARM = inline(FALSE_ALARM, "g")
_CASES = r"$(K, \epsilon) \in \{" + ", ".join(map("({0[0]}, {0[1]:g})".format, SAMPLER_CASES)) + r"\}$"


def _identity(diff, x_general: Logits, what: str, facts: list[Finding], concrete=None) -> bool:
    """``diff(x)`` zero for a general K (``class_sums`` / ``reduce_general``) and fully expanded for K = 2..8."""
    general = is_zero(diff(x_general), force_log=True)
    expanded = all(each_k(lambda x: is_zero(sp.expand(sp.expand_log(sp.sympify(diff(x)).doit(), force=True))),
                          general=False, Ks=concrete or EXPANDED_K).values())
    facts.append(Finding("symbolic", f"{what}: {'zero' if general else 'not zero'} for a general $K$, "
                                  rf"{'zero' if expanded else 'not zero'} for $K = 2, \dots, 8$ expanded",
                         general == expanded))
    return general and expanded


# -- 1-3. the note's displayed probabilities ------------------------------------------------
def _probability_check(observed):
    """A check for ``Pr(event) = value``: the sampler's probability (general K and K = 2..8) against the printed
    value, and the sampler's frequencies against the printed value (``observed(freq)`` is the event's frequency)."""
    def check(f: Formulas) -> Evidence:
        facts: list[Finding] = []
        g = Logits()
        holds = _identity(lambda x: f.printed.lhs(x, FLIP) - f.printed.rhs(x, FLIP), g, "the sampler's probability "
                          "minus the printed value", facts, concrete=EXPANDED_K)
        rhs = f.printed.rhs(g, FLIP)
        fact, agree = _sampling_fact(lambda K, eps, freq: (_value(rhs, K, eps), observed(freq)),
                                     "the event's frequency matches the printed value", f.key)
        facts.append(Finding(fact.kind, fact.statement, agree == holds))
        ce = None
        if not holds:
            K, eps = 10, 0.1
            ce = Counterexample("probability", _value(rhs, K, eps), _value(f.printed.lhs(g, FLIP), K, eps), K=K,
                                parameters={"eps": eps}, note="the sampler's probability")
            facts.append(Finding("numeric", f"counterexample at {ce.point()}", abs(ce.printed - ce.correct) > 1e-3))
        return Evidence(holds=holds, findings=facts, counterexample=ce)
    return check


register(Claim(
    id="ch3.keep_probability", chapter=3, section=SECTION, order=1,
    stated=Verdict.HOLDS,
    title=r"The flipped label is the true one with probability $1 - \epsilon$",
    printed=displayed(3, 1),
    check=_probability_check(lambda freq: float(freq[0])),
    remark=r"The defining property of the flipping process (keep the label with probability $1 - \epsilon$), derived "
           r"from the sampler by integrating over its uniform draw, and measured on `flip_labels`.",
))

register(Claim(
    id="ch3.flip_probability", chapter=3, section=SECTION, order=2,
    stated=Verdict.HOLDS,
    title=r"The label is changed with probability $\epsilon$",
    printed=displayed(3, 2),
    check=_probability_check(lambda freq: float(1 - freq[0])),
    remark="The complement of equation 1, derived as the total of the $K - 1$ wrong-class probabilities.",
))

UNIFORM_FLIPS = "a flipped label goes to each of the $K - 1$ wrong classes with equal probability"
#: The general form: any split r of the flips among the wrong classes (each r_j >= 0, summing to 1).
GENERAL_FLIPS = r"\Pr(y = j|x) = \begin{cases} 1 - \epsilon, & j = 1\\ \epsilon r_{j}, & \text{otherwise} \end{cases}"


def _general_flips_ok(f: Formulas, facts: list[Finding]) -> tuple[bool, Counterexample]:
    """The corrected (general) form: exact for uneven flips (K = 3, split (r_2, 1 - r_2)), sums to one, and
    matches sampled uneven flips. Returns the verdict and the counterexample to uniformity (Pr(y = 2|x))."""
    x3 = Logits(3)
    rel = f.corrected.relation()
    exact = all(is_zero(evaluate(rel.rhs, x3, UNEVEN, {"j": j}) - _uneven(x3, j))
                and is_zero(evaluate(rel.lhs, x3, UNEVEN, {"j": j}) - _uneven(x3, j)) for j in (1, 2, 3))
    total = is_zero(sum(evaluate(rel.rhs, x3, UNEVEN, {"j": j}) for j in (1, 2, 3)) - 1)
    facts.append(Finding("symbolic", r"general form: both sides are the distribution of flips split $(r_2, 1 - r_2)$ "
                                  r"among the wrong classes, class by class, and it sums to 1 ($K = 3$, symbolic "
                                  r"$\epsilon$ and $r_2$)", exact and total))
    eps, r = UNEVEN_SAMPLE
    rng, n = rng_for(f.key + "/general"), MC_DRAWS
    y = np.where(rng.random(n) < eps, 1 + rng.choice(2, size=n, p=r), 0)
    freq = np.bincount(y, minlength=3) / n
    values = {EPS: sp.Rational(str(eps)), R2: sp.Rational(str(r[0]))}
    sampled = all(_agrees(float(freq[j - 1]), float(evaluate(rel.rhs, x3, UNEVEN, {"j": j}).subs(values)), n)
                  for j in (1, 2, 3))
    facts.append(Finding("numeric", rf"uneven flips sampled ($K = 3$, $\epsilon = {eps}$, $r = {vector(r)}$): frequencies "
                                 f"match the general form within the Bernstein radius (false-alarm {_ALARM})", sampled))
    ce = Counterexample(r"$\Pr(y = 2 \mid x)$", eps / 2, eps * r[0], K=3, parameters={"eps": eps, "r": list(r)},
                        note="flips split unevenly among the wrong classes")
    real = not _agrees(float(freq[1]), ce.printed, n)
    facts.append(Finding("numeric", r"counterexample: the sampled $\Pr(y = 2)$ is outside the Bernstein radius of "
                                 r"$\frac{\epsilon}{K-1}$", real))
    return exact and total and sampled and real, ce


def _check_incorrect_class(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    x3 = Logits(3)
    without = sp.simplify(f.printed.lhs(x3, UNEVEN) - f.printed.rhs(x3, UNEVEN))
    holds = without == 0
    facts.append(Finding("symbolic", r"flips split $(r_2, 1 - r_2)$, $K = 3$: $\Pr(y = 2 \mid x)$ minus printed "
                                  rf"$= {sp.latex(sp.factor(without))}$"
                                  + ("" if holds else ", zero only at $r_2 = "
                                     + ", ".join(map(sp.latex, sp.solve(without, R2))) + "$"), True))
    g = Logits()
    under = _identity(lambda x: f.printed.lhs(x, FLIP) - f.printed.rhs(x, FLIP), g,
                      r"uniform flips: $\Pr(y = c \mid x)$ minus printed, $c$ a generic wrong class", facts)
    rhs = f.printed.rhs(g, FLIP)
    def furthest(K, eps, freq):
        p = _value(rhs, K, eps)
        return p, float(freq[1:][np.argmax(np.abs(freq[1:] - p))])
    fact, agree = _sampling_fact(furthest, "the wrong classes' frequencies (the furthest one) match the printed value",
                                 f.key)
    facts.append(Finding(fact.kind, fact.statement, agree == under))
    corrected_ok, ce = _general_flips_ok(f, facts) if f.corrected else (None, None)
    return Evidence(holds=holds, holds_under=under and agree, corrected_ok=corrected_ok, findings=facts,
                    counterexample=ce)


register(Claim(
    id="ch3.incorrect_class", chapter=3, section=SECTION, order=3,
    stated=Verdict.HOLDS_UNDER,
    title=r"Each wrong class gets $\frac{\epsilon}{K-1}$",
    printed=displayed(3, 3),
    assumption=UNIFORM_FLIPS,
    corrected=GENERAL_FLIPS,
    check=_check_incorrect_class,
    remark=r"'There are $K-1$ possibilities' does not make them equally likely: equations 1 and 2 hold for any split "
           r"$r$ of the flips among the wrong classes ($r_j \ge 0$, summing to 1), and only the uniform split "
           r"$r_j = \frac{1}{K-1}$ gives $\frac{\epsilon}{K-1}$. Uniform flips are what makes the flipped label match "
           r"the note's soft target.",
))


# -- 4. "by flipping the labels with 1 - eps probability" ---------------------------------------------
def _flip_probability_of(reading) -> sp.Expr:
    """The flip probability a sentence states: its (only) mathematics."""
    return evaluate(reading.relation().rhs, Logits(), FLIP)


def _check_flip_one_minus_eps(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    g = Logits()
    required = f.inputs["keep"].rhs(g, FLIP)                      # equation 1: Pr(y = 1|x) = 1 - eps
    about = is_zero(f.inputs["keep"].lhs(g, FLIP) - sampler_probability(g, 1))
    facts.append(Finding("symbolic", r"equation 1, read: its left side is $\Pr(y = 1 \mid x)$, the probability the label "
                                  "is kept", about))
    flip = _flip_probability_of(f.printed)
    keep = sp.simplify(sampler_probability(g, 1, flip_prob=flip))
    holds = is_zero(keep - required)
    roots = sp.solve(sp.Eq(keep, required), EPS)
    facts.append(Finding("symbolic", f"flipping with probability ${sp.latex(flip)}$: $\\Pr(y = 1 \\mid x) = "
                                  f"{sp.latex(keep)}$; equation 1 requires ${sp.latex(required)}$"
                                  + ("" if holds else r"; equal only at $\epsilon = " + ", ".join(map(sp.latex, roots))
                                     + "$"), True))
    K, eps = 10, 0.1
    measured = _worst_frequency(lambda K, eps, freq: _radii(float(freq[0]), _value(keep, K, eps)),
                                f.key, flip_prob=lambda eps: _value(flip, K, eps),
                                cases=((K, eps),)) <= 1
    facts.append(Finding("numeric", f"`flip_labels` with flip probability ${sp.latex(flip)}$ at $K = {K}$, "
                                 f"$\\epsilon = {eps}$: the kept frequency matches the derived $\\Pr(y = 1 \\mid x)$ "
                                 "within the Bernstein radius", measured))
    ce = None
    if not holds:
        ce = Counterexample(r"$\Pr(y = 1 \mid x)$", _value(keep, K, eps), _value(required, K, eps), K=K,
                            parameters={"eps": eps}, note=f"labels flipped with probability ${sp.latex(flip)}$")
        facts.append(Finding("numeric", f"counterexample at {ce.point()}", abs(ce.printed - ce.correct) > 1e-3))
    corrected_ok = None
    if f.corrected is not None:
        c = _flip_probability_of(f.corrected)
        j = sp.Symbol("j", integer=True)
        corrected_ok = all(is_zero(sampler_probability(g, k, flip_prob=c) - smoothed_target(g, k, EPS))
                           for k in (1, j)) and is_zero(sampler_probability(g, 1, flip_prob=c) - required)
        facts.append(Finding("symbolic", f"flipping with probability ${sp.latex(c)}$: $\\Pr(y = 1 \\mid x)$ is what "
                                      "equation 1 requires, and $\\Pr(y = j \\mid x)$ the note's soft target for every "
                                      "$j$ (general $K$)", corrected_ok))
    return Evidence(holds=holds, corrected_ok=corrected_ok, findings=facts, counterexample=ce)


register(Claim(
    id="ch3.flip_one_minus_eps", chapter=3, section=SECTION, order=4,
    stated=Verdict.ERRATUM,
    title=r"'flipping the labels with $1 - \epsilon$ probability'",
    printed=quote(r"by flipping the labels with  $1-\epsilon$  probability"),
    corrected=r"by flipping the labels with $\epsilon$ probability",
    inputs={"keep": displayed(3, 1)},
    check=_check_flip_one_minus_eps,
    remark=r"Stated in the text. Flipping with probability $1 - \epsilon$ keeps the true label with probability "
           r"$\epsilon$, the opposite of equation 1 and of the note's own definition of label smoothing, 'flipping "
           r"output labels with a certain probability (say $\epsilon$)' (ch3.smoothing_by_flipping); the two agree only "
           r"at $\epsilon = \frac{1}{2}$.",
))


# -- 5. "we obtain the same q_theta(y|x)" -----------------------------------------------------------------
def _same_vectors(a, b, x: Logits) -> bool:
    if x.general:
        return all(is_zero(a.component(j) - b.component(j), force_log=True) for j in (1, COMPONENT))
    return all(is_zero(a.component(j) - b.component(j)) for j in range(1, x.K + 1))


def _check_same_q(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    flipping = lambda x: f.printed.rhs(x, FLIP)                 # noqa: E731  the model's q_theta(y|x)
    smoothing = lambda x: f.inputs["q_smoothing"].rhs(x, SOFT)   # noqa: E731  as chapter 2 displays it
    cases = each_k(lambda x: _same_vectors(flipping(x), smoothing(x), x))
    holds = all(cases.values())
    facts.append(Finding("symbolic", r"$q_\theta(y \mid x)$ under flipping (the softmax: flipping changes only the label) "
                                  + ("equals" if holds else "differs from")
                                  + r" $q_\theta(y \mid x)$ as the note displays it under label smoothing "
                                  + f"({where(cases)}, symbolic $\\epsilon$)", True))
    ce = None
    if not holds:
        z, eps = np.array([2.0, -1.0, 0.5]), sp.Rational(1, 10)
        a = mp_value(lambda x: smoothing(x).component(1).subs(EPS, eps), z)
        b = mp_value(lambda x: flipping(x).component(1).subs(EPS, eps), z)
        ce = Counterexample(r"$q_\theta(y_1 \mid x)$", a, b, K=3, z=tuple(z), parameters={"eps": eps},
                            note="printed: the note's label-smoothing $q$; correct: the softmax, under both")
        facts.append(Finding("numeric", f"counterexample at {ce.point()} in mpmath", abs(a - b) > 1e-3))
    corrected_ok = None
    if f.corrected is not None:
        cases = each_k(lambda x: _same_vectors(f.corrected.rhs(x, SOFT), flipping(x), x))
        corrected_ok = all(cases.values())
        no_eps = all(each_k(lambda x: all(EPS not in f.corrected.rhs(x, SOFT).component(j).free_symbols
                                          for j in range(1, x.K + 1)), general=False).values())
        facts.append(Finding("symbolic", "corrected: the softmax of the logits, under flipping and smoothing alike, free "
                                      f"of $\\epsilon$ ({where(cases)})", corrected_ok and no_eps))
        corrected_ok = corrected_ok and no_eps
    return Evidence(holds=holds, corrected_ok=corrected_ok, findings=facts, counterexample=ce)


register(Claim(
    id="ch3.same_q", chapter=3, section=SECTION, order=5,
    stated=Verdict.ERRATUM,
    title=r"'we obtain the same $q_\theta(y \mid x)$'",
    printed=quote(r"we obtain the same  $q_{\theta}(y|x)$"),
    corrected=SOFTMAX_Q,
    inputs={"q_smoothing": displayed(2, 1)},
    check=_check_same_q,
    remark=r"Stated in the text. $q_\theta$ is the model's output, $\mathrm{softmax}(z)$: computed from the logits "
           r"alone, so no choice of target changes it, under flipping or smoothing. The note's label-smoothing "
           r"$q_\theta$ (chapter 2, equation 1) is not a softmax, so flipping cannot reproduce it. What flipping "
           r"reproduces is the target distribution, in expectation (ch3.same_p).",
))


# -- 6. "... and same p(y_j|x) as in label smoothing" --------------------------------------------------
def _check_same_p(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    node = f.printed.relation().rhs                              # p(y_j|x)
    smoothing = lambda x, j: f.inputs["soft_target"].rhs(x, SOFT).subs(INDEX_J, j)   # noqa: E731 chapter 2, eq. 2
    g0 = Logits()
    defines = all(is_zero(f.inputs["soft_target"].lhs(g0, SOFT).subs(INDEX_J, j) - smoothing(g0, j))
                  for j in (1, 2, 3))
    facts.append(Finding("symbolic", r"chapter 2, equation 2, read: its left side $p(y_j \mid x)$ is the soft target its "
                                  "right side defines", defines))
    x3 = Logits(3)
    without = [sp.simplify(evaluate(node, x3, UNEVEN, {"j": j}) - smoothing(x3, j)) for j in (1, 2, 3)]
    holds = all(d == 0 for d in without)
    facts.append(Finding("symbolic", r"flips split $(r_2, 1 - r_2)$, $K = 3$: the flipped label's distribution minus the "
                                  "soft target, class by class: $" + ", ".join(sp.latex(sp.factor(d)) for d in without)
                                  + "$", True))
    g = Logits()
    under_general = all(is_zero(_wrong_class(evaluate(node, g, FLIPPED_TARGET, {"j": j}) - smoothing(g, j)))
                        for j in (1, COMPONENT))
    under_concrete = all(each_k(lambda x: all(is_zero(evaluate(node, x, FLIPPED_TARGET, {"j": j}) - smoothing(x, j))
                                              for j in range(1, x.K + 1)), general=False, Ks=EXPANDED_K).values())
    facts.append(Finding("symbolic", "uniform flips: the flipped label's distribution is the soft target of chapter 2, "
                                  "equation 2, for class 1 and a generic wrong class (general $K$) and every class "
                                  r"($K = 2, \dots, 8$)", under_general == under_concrete))
    def off_targets(K, eps, freq):                                # against the library's smoothed_targets
        lib = smoothed_targets(np.array([0]), K, eps=eps)[0]
        return max(_radii(float(freq[j]), float(lib[j])) for j in {0, 1, K - 1})
    agree = _worst_frequency(off_targets, f.key) <= 1
    facts.append(Finding("numeric", "uniform flips: frequencies of classes 1, 2 and $K$ match `smoothed_targets` within "
                                 f"the Bernstein radius (false-alarm {_ALARM}; {_CASES})", agree))
    corrected_ok, ce = _general_flips_ok(f, facts) if f.corrected else (None, None)
    return Evidence(holds=holds, holds_under=under_general and under_concrete and agree, corrected_ok=corrected_ok,
                    findings=facts, counterexample=ce)


register(Claim(
    id="ch3.same_p", chapter=3, section=SECTION, order=6,
    stated=Verdict.HOLDS_UNDER,
    title=r"'... and the same $p(y_j \mid x)$ as in label smoothing'",
    printed=quote(r"and same  $p(y_j|x)$  as in label smoothing"),
    assumption=UNIFORM_FLIPS,
    corrected=GENERAL_FLIPS,
    inputs={"soft_target": displayed(2, 2)},
    check=_check_same_p,
    remark=r"Stated in the text. With uniform flips (the assumption of equation 3) the distribution of the flipped "
           r"label is exactly the soft target: the soft target is the expectation of the flipped one-hot label; each "
           r"realised label is still one-hot. Flips split unevenly among the wrong classes satisfy equations 1 and 2 "
           r"and give a different $p$: the general form, with the soft target only for $r_j = \frac{1}{K-1}$.",
))


# -- 7. "label flipping is equivalent to soft labels" --------------------------------------------------
FRESH_FLIPS = ("labels are flipped afresh, independently, every time an example is used (so that the flip does not "
               "depend on the current logits), and 'equivalent' means equal expected loss and expected gradient at the "
               "current logits")


def _general_identity(diff, what: str, facts: list[Finding], classes=(), Ks=None) -> bool:
    """``diff(x, **bind)`` zero for a general K (class sums rewritten exactly, :func:`class_sums`) and, expanded,
    for K = 2..8 with every class index bound in turn. ``classes`` names the free class indices (``a``, ``b``)."""
    g = Logits()
    c, d = COMPONENT, sp.Symbol("d", integer=True, positive=True)
    if not classes:
        general = _reduced(diff(g), g) == 0
    else:
        combos = [dict(zip(classes, v)) for v in _class_cases(len(classes), c, d)]
        general = all(_reduced(diff(g, **b), g, (c, d)) == 0 for b in combos)
    def every_class(x: Logits) -> bool:
        binds = [{}] if not classes else [dict(zip(classes, v)) for v in _all_classes(x.K, len(classes))]
        return all(_expanded_zero(diff(x, **b), x) for b in binds)
    cases = each_k(every_class, general=False, **({"Ks": Ks} if Ks else {}))
    concrete, Ks = all(cases.values()), [int(k[2:]) for k in cases]
    facts.append(Finding("symbolic", f"{what}: {'zero' if general else 'not zero'} for a general $K$ (class sums "
                                  "rewritten exactly" + (", free classes 1 or generic wrong classes" if classes else "")
                                  + f"), {'zero' if concrete else 'not zero'} expanded for "
                                  + (rf"$K = {Ks[0]}, \dots, {Ks[-1]}$" if len(Ks) > 2 else f"$K = {', '.join(map(str, Ks))}$")
                                  + (" (every class)" if classes else ""), general == concrete))
    return general and concrete


def _class_cases(n: int, c, d):
    if n == 1:
        return [(1,), (c,)]
    return [(1, 1), (1, c), (c, 1), (c, c), (c, d)]


def _all_classes(K: int, n: int):
    if n == 1:
        return [(a,) for a in range(1, K + 1)]
    return [(a, b) for a in range(1, K + 1) for b in range(1, K + 1)]


def _reduced(expr, g: Logits, classes=()):
    """A general-K expression with its class sums rewritten (exp-sums kept as one unknown), simplified."""
    try:
        return class_sums(sp.expand_log(sp.sympify(expr), force=True), g, classes)
    except ValueError:                                  # a sum class_sums does not rewrite: let SymPy evaluate it
        e = sp.sympify(expr).doit()
        e = e.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: a.args[0][0])
        return reduce_general(sp.expand_log(e, force=True), g)


def _expanded_zero(expr, x: Logits) -> bool:
    e = sp.expand(sp.expand_log(sp.sympify(expr).doit(), force=True))
    if e == 0:
        return True
    w = {sp.exp(s): sp.Symbol(f"w_{n}", positive=True) for n, s in enumerate(x.symbols, 1)}
    return sp.expand(sp.numer(sp.together(e.subs(w)))) == 0 or is_zero(e)     # numerator 0: no gcd needed


#: The counterexample to a flip kept: one gradient step of this size from z = 0 (K = 3) on a label flipped to class 2.
KEPT_STEP = (3, 0.1, 1.0, 1)


def kept_flip_gradients(K: int, eps: float, lr: float, kept: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One gradient step of size ``lr`` from ``z = 0`` on a label kept at class ``kept`` (0-based), then the mean of
    the next step's gradient given those logits: ``(z_1, kept, fresh)``. With the flip kept, the label is known from
    ``z_1``, so the mean is ``q(z_1) - e_kept``; with a fresh flip it is ``q(z_1) - p``, the smoothed gradient.

    >>> z1, kept, fresh = kept_flip_gradients(3, 0.1, 1.0, 1)
    >>> [round(float(v), 4) for v in z1], round(float(kept[0]), 4), round(float(fresh[0]), 4)
    ([-0.3333, 0.6667, -0.3333], 0.2119, -0.6881)
    """
    p = smoothed_targets([0], K, eps=eps)[0]
    e = np.eye(K)[kept]
    z0 = np.zeros(K)
    z1 = z0 - lr * (num.softmax(z0) - e)
    q1 = num.softmax(z1)
    return z1, q1 - e, q1 - p


def _check_equivalence(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    # Without the assumption, the flip may be kept: the logits trained on it then depend on the realised label, and
    # the next gradient, given those logits, is not the smoothed one. One step is enough to see it.
    K, eps, lr, kept = KEPT_STEP
    z1, g_kept, g_fresh = kept_flip_gradients(K, eps, lr, kept)
    holds = bool(np.max(np.abs(g_kept - g_fresh)) <= 1e-12)
    facts.append(Finding("numeric", rf"a flip kept: one gradient step of size {lr:g} from $z = 0$ on a label flipped to "
                                    rf"class {kept + 1} ($K = {K}$, $\epsilon = {eps:g}$) gives $z = {vector(z1, '.4f')}$; "
                                    rf"given these logits the label is known, and the mean of the next gradient is "
                                    rf"$q - e_{kept + 1} = {vector(g_kept, '.4f')}$, not the smoothed $q - p = "
                                    rf"{vector(g_fresh, '.4f')}$: they differ by $p - e_{kept + 1}$",
                         not holds and abs(float(g_kept[0] - g_fresh[0]) - (1 - eps)) <= 1e-12))
    ce = Counterexample(r"mean gradient on $z_1$ at step 2, given the logits", float(g_kept[0]), float(g_fresh[0]), K=K,
                        z=tuple(float(v) for v in z1), parameters={"eps": eps},
                        note=rf"one step of size {lr:g} from $z = 0$ on a label flipped to class {kept + 1} and kept; "
                             "correct: with a fresh flip, the smoothed gradient")
    facts.append(Finding("numeric", f"counterexample at {ce.point()}", abs(ce.printed - ce.correct) > 1e-3))
    under = None
    if f.corrected is not None:
        rels = f.corrected.relations()
        loss_ok = _general_identity(lambda x: f.corrected.lhs(x, FLIP, 0) - f.corrected.rhs(x, FLIP, 0),
                                    r"at fixed logits, any one flip: $\mathbb{E}[\text{loss}]$ minus the smoothed loss",
                                    facts)
        grad_ok = len(rels) > 1 and _general_identity(
            lambda x, a: f.corrected.lhs(x, FLIP, 1, a=a) - f.corrected.rhs(x, FLIP, 1, a=a),
            r"at fixed logits, any one flip: $\mathbb{E}[\text{gradient}]_a$ minus the smoothed gradient$_a$", facts,
            classes=("a",))

        def off_smoothed(pt):
            mean, _ = enumerated_flipped_loss(pt.z, 0.2)
            return np.abs(mean - smoothed_cross_entropy(pt.z, np.zeros(len(pt.z), dtype=int), eps=0.2, reduction="none")) / np.maximum(1.0, mean)
        worst = largest(off_smoothed, f.key, Ks=NUMERIC_K, scales=(3.0,), n=32).worst
        facts.append(Finding("numeric", "enumeration over the $K$ flipped labels reproduces `smoothed_cross_entropy` "
                                        f"(relative tolerance {inline(RTOL, 'g')})", worst <= RTOL, error=worst))
        under = loss_ok and grad_ok
    return Evidence(holds=holds, holds_under=under, corrected_ok=under, findings=facts, counterexample=ce)


EQUIVALENCE = (r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = \mathcal{L}(z), \quad "
               r"\frac{\partial}{\partial z_{a}} \sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = "
               r"\frac{\partial}{\partial z_{a}} \mathcal{L}(z)")

register(Claim(
    id="ch3.equivalence", chapter=3, section=SECTION, order=7,
    stated=Verdict.HOLDS_UNDER,
    title="'label flipping is equivalent to soft labels'",
    printed=quote("This shows that label flipping is equivalent to replacing hard labels with soft labels."),
    assumption=FRESH_FLIPS,
    corrected=EQUIVALENCE,
    check=_check_equivalence,
    remark=r"Stated in the text ('Hence this would lead to similar loss functions'). At any fixed logits a flip, kept "
           r"or fresh, is one draw of the flipped label, and its expected loss and gradient are the smoothed ones "
           r"($\mathcal{L}$ the smoothed loss, $\Pr(y = j \mid x)$ the flipped label's distribution): the general form. "
           r"Training is where the two differ. When each use of an example draws a new flip, the flip does not depend "
           r"on the current logits, so gradient descent on flipped labels follows the smoothed gradient plus noise of "
           r"mean zero given the past. A flip kept for the whole run does not: after one step the logits carry the "
           r"label they were trained on, and the next gradient has mean $q - e_y$, not $q - p$ (the counterexample). "
           r"Its errors add up instead of averaging out, and a model that can memorise fits the wrong label (chapter "
           r"4). Even fresh flips differ from soft labels by their noise (ch3.loss_variance, ch3.gradient_covariance).",
))


# -- 8. "Label smoothing refers to ... flipping output labels with a certain probability (say eps)" --------------
def _check_smoothing_by_flipping(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    g = Logits()
    flip = _flip_probability_of(f.printed)                       # the sentence's mathematics: the flip probability
    soft = lambda x, j: f.inputs["soft_target"].rhs(x, SOFT).subs(INDEX_J, j)   # noqa: E731 chapter 2, eq. 2
    keep = sp.simplify(sampler_probability(g, 1, flip_prob=flip))
    kept_ok = is_zero(keep - soft(g, 1))
    facts.append(Finding("symbolic", f"flipping with the sentence's probability ${sp.latex(flip)}$ keeps the label with "
                                     f"probability ${sp.latex(keep)}$; label smoothing puts ${sp.latex(soft(g, 1))}$ on "
                                     "the true class (chapter 2, equation 2; general $K$)", kept_ok))
    c = COMPONENT
    wrong = sp.simplify(_wrong_class(sampler_probability(g, c, flip_prob=flip) - soft(g, c)))
    uniform_ok = kept_ok and is_zero(wrong)
    facts.append(Finding("symbolic", r"uniform flips: each wrong class $c$ gets $\Pr(y = c \mid x)$ minus the soft "
                                     rf"target's $= {sp.latex(wrong)}$ (general $K$): the flipped label is distributed "
                                     "as the soft target", uniform_ok))

    def off_targets(K, eps, freq):                                 # against the soft target of equation 2
        return max(_radii(float(freq[j - 1]), _value(soft(g, j), K, eps)) for j in {1, 2, K})
    agree = _worst_frequency(off_targets, f.key, flip_prob=lambda eps: _value(flip, 10, eps)) <= 1
    facts.append(Finding("numeric", "`flip_labels` with the sentence's flip probability: frequencies of classes 1, 2 "
                                    f"and $K$ match the soft target within the Bernstein radius (false-alarm {_ALARM}; "
                                    f"{_CASES})", agree == uniform_ok))
    corrected_ok, ce = _general_flips_ok(f, facts) if f.corrected else (None, None)
    x3 = Logits(3)
    uneven = [sp.simplify(_uneven(x3, j) - soft(x3, j)) for j in (2, 3)]
    holds = all(d == 0 for d in uneven)
    facts.append(Finding("symbolic", r"without the assumption: flips split $(r_2, 1 - r_2)$, $K = 3$, give classes 2 and "
                                     "3 the soft target plus $" + ", ".join(sp.latex(sp.factor(d)) for d in uneven)
                                     + r"$: the soft target only at $r_2 = \frac{1}{2}$", True))
    return Evidence(holds=holds, holds_under=uniform_ok and agree, corrected_ok=corrected_ok, findings=facts,
                    counterexample=ce)


register(Claim(
    id="ch3.smoothing_by_flipping", chapter=3, section=SECTION, order=8,
    stated=Verdict.HOLDS_UNDER,
    title=r"'Label smoothing refers to ... flipping output labels with a certain probability (say $\epsilon$)'",
    printed=quote(r"Label smoothing refers to regularizing a model by flipping output labels with a certain probability "
                  r"(say  $\epsilon$ )"),
    assumption=UNIFORM_FLIPS,
    corrected=GENERAL_FLIPS,
    inputs={"soft_target": displayed(2, 2)},
    check=_check_smoothing_by_flipping,
    remark=r"The note's definition, at the head of its section on label smoothing. Its flip probability is the right "
           r"one: flipping with probability $\epsilon$ keeps the label with probability $1-\epsilon$, the soft "
           r"target's weight on the true class (the note later says $1-\epsilon$, ch3.flip_one_minus_eps). The "
           r"flipped label then has the soft target as its distribution only if the flips are spread evenly over the "
           r"$K-1$ wrong classes, which the sentence does not say (ch3.incorrect_class); and it is the distribution "
           r"that matches, while each flipped label is still one-hot. Whether training on flipped labels does what "
           r"training on soft labels does is another question: ch3.equivalence.",
))


# -- added 9. the distribution of the flipped label, from the sampler ---------------------------------------
def _check_distribution(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    holds = _general_identity(lambda x, j: f.printed.lhs(x, FLIP, j=j) - f.printed.rhs(x, FLIP, j=j),
                              r"the sampler's $\Pr(y = j \mid x)$ minus printed", facts, classes=("j",))
    g = Logits()
    total = sp.simplify(g.sum(lambda k: f.printed.rhs(g, FLIP, j=k)).doit())
    facts.append(Finding("symbolic", rf"$\sum_j$ of the printed distribution $= {sp.latex(total)}$ (general $K$)", True))
    ok = _worst_frequency(lambda K, eps, freq: max(_radii(float(freq[j - 1]), _value(f.printed.rhs(g, FLIP, j=j), K, eps))
                                                   for j in {1, 2, K}), f.key) <= 1
    facts.append(Finding("numeric", "`flip_labels`: frequencies of classes 1, 2 and $K$ match the printed distribution "
                                 f"within the Bernstein radius (false-alarm {_ALARM}; {_CASES})",
                      ok == holds))
    return Evidence(holds=holds and total == 1 and ok, findings=facts)


register(Claim(
    id="ch3.flip_distribution", chapter=3, section=SECTION, order=9, source="added",
    stated=Verdict.HOLDS,
    title="The distribution of the flipped label",
    printed=r"\Pr(y = j|x) = \begin{cases} 1 - \epsilon, & j = 1\\ \frac{\epsilon}{K - 1}, & \text{otherwise} \end{cases}",
    check=_check_distribution,
    remark=r"Derived from the sampler: one uniform $u$ per label, kept if $u \ge \epsilon$, else class "
           r"$\lfloor (K-1)u/\epsilon \rfloor$ among the others; integrating over $u$ gives the note's soft target, for "
           r"a general $K$.",
))


# -- added 10-11. the exact equivalence: expected loss and expected gradient -----------------------------------
def enumerated_flipped_loss(z: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and second moment of the loss over the K possible flipped labels (true class 0), by enumeration."""
    K = z.shape[-1]
    p = np.array([1 - eps] + [eps / (K - 1)] * (K - 1))
    losses = -num.log_softmax(z)                     # the loss of each of the K labels, row by row
    return losses @ p, (losses ** 2) @ p


_LAMBDIFIED: dict = {}


def _printed_values(f: Formulas, part: int, side: str, K: int, eps: float, z: np.ndarray, **bind) -> float:
    """One side of a printed relation at logits ``z`` (lambdified once per formula, K, eps and binding)."""
    key = (id(f.printed), part, side, K, eps, tuple(sorted(bind.items())))
    if key not in _LAMBDIFIED or _LAMBDIFIED[key][0] is not f.printed:
        x = Logits(K)
        e = (f.printed.lhs if side == "lhs" else f.printed.rhs)(x, FLIP, part, **bind).subs(EPS, sp.Rational(str(eps)))
        _LAMBDIFIED[key] = (f.printed, compiled(x.symbols, e.doit()))
    return float(_LAMBDIFIED[key][1](*z))


def _check_expected_loss(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    holds = _general_identity(lambda x: f.printed.lhs(x, FLIP) - f.printed.rhs(x, FLIP),
                              r"$\mathbb{E}_Y[\mathrm{LSE}(z) - z_Y]$ minus the printed right-hand side", facts)
    def radii_off(pt):               # Monte Carlo mean - printed, in Bernstein radii
        K, eps, z = pt.K, pt.param, pt.z[0]
        losses = flipped_losses(z, 0, eps, MC_DRAWS, pt.rng)
        l_all = -num.log_softmax(z)
        p = np.array([1 - eps] + [eps / (K - 1)] * (K - 1))
        radius = float(bernstein_radius(MC_DRAWS, float(flipped_loss_variance(z, 0, eps)),
                                        float(np.max(np.abs(l_all - p @ l_all)))))
        return abs(float(losses.mean()) - _printed_values(f, 0, "rhs", K, eps, z)) / radius
    ok = largest(radii_off, f.key, cases=((3, 0.1), (10, 0.3), (30, 0.5)), scales=(5.0,), n=1).worst <= 1
    facts.append(Finding("numeric", "Monte Carlo mean of the flipped loss (`flipped_losses`) is within the Bernstein "
                                 f"radius (false-alarm {_ALARM}) of the printed right-hand side", ok == holds))
    return Evidence(holds=holds and ok, findings=facts)


register(Claim(
    id="ch3.expected_loss", chapter=3, section=SECTION, order=10, source="added",
    stated=Verdict.HOLDS,
    title="Expected flipped loss $=$ smoothed loss",
    printed=r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = "
            r"-\sum_{j=1}^{K} p(y_j|x) \log q_{\theta}(y_j|x)",
    check=_check_expected_loss,
    remark="The expected loss of the flipped label (left) is the cross-entropy with the soft target (right). "
           "Linearity of expectation: the loss is linear in the one-hot target, whose expectation is $p$.",
))


def _check_expected_gradient(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    holds = _general_identity(lambda x, a: f.printed.lhs(x, FLIP, a=a) - f.printed.rhs(x, FLIP, a=a),
                              r"$\frac{\partial}{\partial z_a} \mathbb{E}_Y[\mathrm{LSE}(z) - z_Y]$ minus the printed "
                              "right-hand side", facts, classes=("a",))
    h = 1e-6

    def vs_differences(pt):
        K, z = pt.K, pt.z[0]
        printed = np.array([_printed_values(f, 0, "rhs", K, 0.2, z, a=a) for a in range(1, K + 1)])
        fd = np.array([(smoothed_cross_entropy(z + h * e, 0, eps=0.2) - smoothed_cross_entropy(z - h * e, 0, eps=0.2)) / (2 * h)
                       for e in np.eye(K)])
        return float(np.max(np.abs(fd - printed)))
    worst = largest(vs_differences, f.key, Ks=(2, 5, 20), scales=(4.0,), n=1).worst
    facts.append(Finding("numeric", "central differences of `smoothed_cross_entropy` match the printed gradient "
                                 "(absolute tolerance $10^{-7}$)", (worst <= 1e-7) == holds, error=worst))
    return Evidence(holds=holds and worst <= 1e-7, findings=facts)


register(Claim(
    id="ch3.expected_gradient", chapter=3, section=SECTION, order=11, source="added",
    stated=Verdict.HOLDS,
    title="Expected flipped gradient $=$ smoothed gradient",
    printed=r"\frac{\partial}{\partial z_{a}} \sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = "
            r"q_{a} - p_{a}",
    check=_check_expected_gradient,
    remark="The gradient of the expected flipped loss is $q - p$, the smoothed loss's gradient (ch2.gradient): "
           "gradient descent with fresh flips is stochastic gradient descent on the smoothed loss.",
))


# -- added 12. the variance of the flipped loss ---------------------------------------------------------------
def _check_loss_variance(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    holds = _general_identity(lambda x: f.printed.lhs(x, FLIP) - f.printed.rhs(x, FLIP),
                              r"$\mathbb{E}_Y[(\ell_Y - \mathbb{E}\,\ell_Y)^2]$ minus the printed right-hand side",
                              facts)
    def off_printed(pt):
        v = flipped_loss_variance(pt.z, np.zeros(len(pt.z), dtype=int), 0.3)
        printed = np.array([_printed_values(f, 0, "rhs", pt.K, 0.3, z) for z in pt.z])
        return np.abs(printed - v) / np.maximum(1.0, v)
    worst = largest(off_printed, f.key, Ks=NUMERIC_K, scales=(0.1, 1.0, 10.0), n=4).worst
    facts.append(Finding("numeric", "`flipped_loss_variance` is the printed right-hand side at random logits (relative "
                                 f"tolerance {inline(RTOL, 'g')})", (worst <= RTOL) == holds, error=worst))
    def radii_off(pt):               # Monte Carlo variance - flipped_loss_variance, in Bernstein radii
        K, eps, z = pt.K, pt.param, pt.z[0]
        losses = flipped_losses(z, 0, eps, MC_DRAWS, pt.rng)
        p = np.array([1 - eps] + [eps / (K - 1)] * (K - 1))
        return abs(float(losses.var()) - float(flipped_loss_variance(z, 0, eps))) / variance_radius(
            MC_DRAWS, -num.log_softmax(z), p)
    ok = largest(radii_off, f.key + "/mc", cases=((3, 0.1), (10, 0.4)), scales=(4.0,), n=1).worst <= 1
    facts.append(Finding("numeric", "Monte Carlo sample variance of the flipped loss within the Bernstein radius "
                                 f"(false-alarm {_ALARM}) of `flipped_loss_variance`", ok))
    return Evidence(holds=holds and worst <= RTOL, findings=facts)


register(Claim(
    id="ch3.loss_variance", chapter=3, section=SECTION, order=12, source="added",
    stated=Verdict.HOLDS,
    title="Variance of the flipped loss",
    printed=r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j} - \mathcal{L}(z)\right)^{2} = "
            r"\epsilon(1-\epsilon)\left(z_{y_1} - \frac{1}{K-1}\sum_{j=2}^{K} z_{y_j}\right)^{2} + "
            r"\frac{\epsilon}{K-1}\sum_{j=2}^{K}\left(z_{y_j} - \frac{1}{K-1}\sum_{k=2}^{K} z_{y_k}\right)^{2}",
    check=_check_loss_variance,
    remark=r"The variance over the flip of the loss $\mathrm{LSE}(z) - z_Y$ ($\mathcal{L}$ the smoothed loss, its "
           r"mean): $\epsilon(1-\epsilon)$ times the squared gap between the true logit and the mean of the others, "
           r"plus $\epsilon$ times the spread of the other logits (law of total variance over 'flipped or not'). Soft "
           r"labels have no such term: their loss is deterministic given the logits.",
))


# -- added 13. the covariance of the flipped gradient ----------------------------------------------------------
def _check_gradient_covariance(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    cov = _general_identity(lambda x, a, b: f.printed.lhs(x, FLIP, 0, a=a, b=b) - f.printed.rhs(x, FLIP, 0, a=a, b=b),
                            r"$\mathbb{E}_Y[(g - \mathbb{E} g)_a (g - \mathbb{E} g)_b]$ minus printed, $g$ the gradient "
                            "of the flipped loss", facts,
                            classes=("a", "b"))
    trace = _general_identity(lambda x: f.printed.lhs(x, FLIP, 1) - f.printed.rhs(x, FLIP, 1),
                              r"trace: $\sum_a (p_a - p_a^2)$ minus printed", facts)
    def off_printed(pt):                # entries (1, 1), (1, 2), (2, 2), (2, K), (K, K) and the trace
        K, eps, z = pt.K, pt.param, pt.z
        C = flipped_gradient_covariance(z, [0], eps)[0]
        entries = [abs(C[a - 1, b - 1] - _printed_values(f, 0, "rhs", K, eps, z[0], a=a, b=b))
                   for a, b in {(1, 1), (1, 2), (2, 2), (2, K), (K, K)}]
        return max(entries + [abs(float(np.trace(C)) - _printed_values(f, 1, "rhs", K, eps, z[0]))])
    worst = largest(off_printed, f.key, cases=((2, 0.1), (5, 0.3), (20, 0.2)), scales=(4.0,),
                    n=1).worst
    facts.append(Finding("numeric", "`flipped_gradient_covariance` (entries and trace) is the printed forms at random "
                                 "logits (absolute tolerance $10^{-12}$)", (worst <= 1e-12) == (cov and trace),
                         error=worst))
    return Evidence(holds=cov and trace and worst <= 1e-12, findings=facts)


register(Claim(
    id="ch3.gradient_covariance", chapter=3, section=SECTION, order=13, source="added",
    stated=Verdict.HOLDS,
    title="Covariance of the flipped gradient",
    printed=r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\frac{\partial}{\partial z_{a}}\left(\mathrm{LSE}(z) - z_{y_j}\right) "
            r"- q_{a} + p_{a}\right)\left(\frac{\partial}{\partial z_{b}}\left(\mathrm{LSE}(z) - z_{y_j}\right) - q_{b} "
            r"+ p_{b}\right) = p_{a}\delta_{ab} - p_{a} p_{b}, \quad \sum_{a=1}^{K}\left(p_{a} - p_{a}^{2}\right) = "
            r"1 - (1-\epsilon)^{2} - \frac{\epsilon^{2}}{K-1}",
    check=_check_gradient_covariance,
    remark=r"The covariance over the flip of the logit gradient (its mean is $q - p$, ch3.expected_gradient) is "
           r"$\mathrm{diag}(p) - p p^\top$, with trace $1 - \sum_a p_a^2$. The logits drop out: the noise that "
           r"flipping adds to the gradient is the same everywhere, including at the optimum.",
))


# -- added 14. what that implies at the optimum ----------------------------------------------------------------
def _logit_at(point_relation, x: Logits, j):
    """The logit ``z_j`` that the relation ``lhs = rhs`` (both read, class index ``j``) defines."""
    return _solved_logit(point_relation, None if x.general else x.K, j)


@lru_cache(maxsize=1024)
def _solved_logit(point_relation, K, j):
    """:func:`_logit_at`, solved once per relation, K (``None``: general) and class index."""
    x = Logits(K)
    w = sp.Dummy("w", real=True)
    lhs = evaluate(point_relation.lhs, x, FLIP, {"j": j}).subs(x.z(j), w)
    rhs = evaluate(point_relation.rhs, x, FLIP, {"j": j})
    if lhs == w and rhs.is_real is not False and rhs.is_finite is not False:      # z_j = ...: solved as printed
        return rhs                                  # (what sp.solve returns, rearranged; 20x faster)
    solved = sp.solve(sp.Eq(lhs, rhs), w)
    if len(solved) != 1:
        raise ValueError(f"the first relation does not define z_j: {point_relation}")
    return solved[0]


def _at_point(point_relation, x: Logits, expr):
    """``expr`` at the logits the first relation defines (``z_j = ...`` for every class j)."""
    if x.general:
        return expr.replace(lambda a: isinstance(a, sp.Indexed) and a.base == x.base,
                            lambda a: _logit_at(point_relation, x, a.indices[0]))
    return expr.subs({x.z(j): _logit_at(point_relation, x, j) for j in range(1, x.K + 1)}, simultaneous=True)


def _by_symmetry(expr, x: Logits):
    """At the optimum every summand depends on its class index only through ``[j = 1]``: a sum over 1..K is the
    term at 1 plus (K - 1) times the term at a generic wrong class."""
    c = COMPONENT

    def rewrite(s: sp.Sum):
        f, (j, lo, _hi) = s.function, s.limits[0]
        first = f.subs(j, 1) if lo == 1 else 0
        return first + (x.K - 1) * _wrong_class(f.subs(j, c))
    e = sp.sympify(expr)
    while e.has(sp.Sum):
        e = e.replace(lambda a: isinstance(a, sp.Sum) and not a.function.has(sp.Sum), rewrite)
    return e


def _check_optimum_noise(f: Formulas) -> Evidence:
    facts: list[Finding] = []
    point, grad, variance = f.printed.relations()[:3]

    def at(x, node, **bind):
        return _at_point(point, x, evaluate(node, x, FLIP, bind))

    g = Logits()
    results = {}
    for name, rel, binds in (("mean gradient", grad, [{"a": 1}, {"a": COMPONENT}]), ("loss variance", variance, [{}])):
        general = all(is_zero(sp.expand_log(_wrong_class(_by_symmetry(at(g, rel.lhs, **b) - at(g, rel.rhs, **b), g)),
                                            force=True), force_log=True) for b in binds)
        cases = each_k(lambda x: all(is_zero(at(x, rel.lhs, a=a) - at(x, rel.rhs, a=a)) for a in range(1, x.K + 1)),
                       general=False)
        concrete = all(cases.values())
        facts.append(Finding("symbolic", f"at the printed point: {name} minus printed: {'zero' if general else 'not zero'} "
                                      f"for a general $K$, {'zero' if concrete else 'not zero'} for {where(cases)}",
                          general == concrete))
        results[name] = general and concrete
    first, other = (_wrong_class(_logit_at(point, g, j)) for j in (1, COMPONENT))   # solved once, general K

    def off_printed(pt):                 # the library's variance at the printed point (any shift) vs the printed
        K, eps = pt.K, pt.param
        at = {g.K: K, EPS: sp.Rational(str(eps))}
        z = np.array([float(first.subs(at))] + [float(other.subs(at))] * (K - 1)) + pt.z[0, 0]
        v = float(flipped_loss_variance(z, 0, eps))
        want = float(evaluate(variance.rhs, Logits(K), FLIP).subs(EPS, sp.Rational(str(eps))))
        return max(abs(v - want) / max(want, 1e-300), abs(eps * (1 - eps) * smoothed_optimum_gap(K, eps) ** 2 - want) / want)
    worst = largest(off_printed, f.key, cases=((2, 0.1), (10, 0.1), (100, 0.3)), scales=(2.0,),
                    n=1).worst
    facts.append(Finding("numeric", r"`flipped_loss_variance` at the printed point $=$ the printed variance $= "
                                 r"\epsilon(1-\epsilon)\,g^2$, $g$ = `smoothed_optimum_gap` (relative tolerance "
                                 r"$10^{-9}$)", (worst <= 1e-9) == all(results.values()),
                      error=worst))
    return Evidence(holds=all(results.values()) and worst <= 1e-9, findings=facts)


register(Claim(
    id="ch3.optimum_noise", chapter=3, section=SECTION, order=14, source="added",
    stated=Verdict.HOLDS,
    title="At the optimum: mean gradient zero, noise not",
    printed=r"z_{y_j} = \log p_{j}, \quad \frac{\partial}{\partial z_{a}} \mathcal{L}(z) = 0, \quad "
            r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j} - \mathcal{L}(z)\right)^{2} = "
            r"\epsilon(1-\epsilon)\left(\log\frac{(1-\epsilon)(K-1)}{\epsilon}\right)^{2}",
    check=_check_optimum_noise,
    remark=r"At the smoothed optimum $z_j = \log p_j$ (up to a common shift) the mean gradient vanishes, but the "
           r"flipped loss still varies, by $\epsilon(1-\epsilon)$ times the squared optimal gap, and the gradient noise "
           r"keeps the trace of ch3.gradient_covariance. Gradient descent with fresh flips and a constant step "
           r"therefore does not settle at the optimum but fluctuates around it (chapter 4); averaging the iterates or "
           r"decaying the step removes the noise. The loss variance vanishes only at $\epsilon = \frac{K-1}{K}$, the "
           r"uniform target.",
))
