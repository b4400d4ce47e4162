"""Chapter 3: the note's label-flipping bullet, made exact.

The note's three displayed equations, then its wording ("flipping the labels
with 1-eps probability", "the same q_theta", "the same p", "equivalent to soft
labels"), then what the companion adds: the distribution of the flipped label
derived from the sampler itself, the exact equivalence in expectation (loss
and gradient), and what differs (variance of the loss, covariance of the
gradient, the noise left at the optimum). Class 1 is the true class.

The flipping process: keep the label with probability ``1 - eps``, otherwise
pick one of the ``K - 1`` other classes uniformly. The sampler
:func:`derivations.flipping.flip_labels` realises it with one uniform ``u`` per
label; :func:`sampler_probability` derives the distribution of its output by
integrating over ``u``, for a general symbolic ``K``.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .. import numeric as num
from ..checks import rng_for
from ..flipping import flip_labels, flipped_gradient_covariance, flipped_losses, flipped_loss_variance
from ..registry import Claim, Verdict, Counterexample, Evidence, Fact, register
from ..smoothing import smoothed_cross_entropy, smoothed_optimum_gap, smoothed_targets
from ..symbolic import Logits, canonical, cross_entropy, log_sum_exp, smoothed_target, softmax

SECTION = "Label flipping"
EPS = sp.Symbol("epsilon", positive=True)
U = sp.Symbol("u", nonnegative=True)
#: Concrete K at which the expectations are also expanded in full.
EXPANDED_K = tuple(range(2, 9))
#: (K, eps) at which the sampler's frequencies are checked.
SAMPLER_CASES = ((2, 0.1), (3, 0.5), (10, 0.1), (10, 0.9), (1000, 0.3))
MC_DRAWS = 200_000
#: Sampling checks accept |frequency - probability| up to this many standard errors.
Z_ACCEPT = 5.0


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


def flipped_loss_expectation(x: Logits, eps=EPS):
    """``E_Y[LSE(z) - z_Y]`` over the flipped label: ``sum_j Pr(Y = j) (LSE(z) - z_j)``."""
    return x.sum(lambda j: sampler_probability(x, j, eps) * (log_sum_exp(x) - x.z(j)))


def smoothed_loss(x: Logits, eps=EPS):
    """The soft-label loss ``H(p, softmax(z))`` with the note's soft target ``p``."""
    return cross_entropy(x, lambda j: smoothed_target(x, j, eps))


def _reduce_general(expr, x: Logits):
    """Simplify an expression in a general-K ``Logits``: ``sum_j exp(z_j)`` becomes a
    positive symbol ``S`` and piecewise results take their ``1 <= i <= K`` branch."""
    e = canonical(sp.sympify(expr).doit())
    j = sp.Symbol("j", integer=True)
    S = sp.Symbol("S", positive=True)
    e = e.xreplace({sp.Sum(sp.exp(x.base[j]), (j, 1, x.K)): S})
    e = e.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: a.args[0][0])
    return sp.simplify(sp.expand_log(e, force=True))


def _expanded(expr):
    """Fully expanded form (``log(exp(a)/b) -> a - log b``; logits are real, sums of exp positive)."""
    return sp.expand(sp.expand_log(sp.sympify(expr).doit(), force=True))


# -- numeric helpers --------------------------------------------------------------------
def flip_frequencies(K: int, eps: float, n: int, rng: np.random.Generator, true_class: int = 0) -> np.ndarray:
    """Relative frequency of each class among ``n`` flips of the label ``true_class``."""
    f = flip_labels(np.full(n, true_class), K, eps, rng)
    return np.bincount(f, minlength=K) / n


def standard_errors(freq: np.ndarray, p: np.ndarray, n: int) -> float:
    """Largest ``|freq - p|`` in units of the binomial standard error ``sqrt(p(1-p)/n)``."""
    se = np.sqrt(np.maximum(p * (1 - p), 1e-300) / n)
    return float(np.max(np.abs(freq - p) / se))


def _sampler_fact(probability, what: str, key: str, flip=lambda eps: eps) -> Fact:
    """Frequencies of ``flip_labels`` against ``probability(K, eps)`` (vectors over classes)."""
    rng, worst = rng_for(key), 0.0
    for K, eps in SAMPLER_CASES:
        freq = flip_frequencies(K, flip(eps), MC_DRAWS, rng)
        worst = max(worst, standard_errors(freq, probability(K, eps), MC_DRAWS))
    return Fact("numeric", f"flip_labels frequencies match {what} within {Z_ACCEPT:g} standard errors "
                           f"({MC_DRAWS} draws; K, eps in {SAMPLER_CASES})", worst <= Z_ACCEPT)


def _smoothed_vector(K: int, eps: float) -> np.ndarray:
    """The soft target of class 0 written out by hand (independent of the library)."""
    return np.array([1 - eps] + [eps / (K - 1)] * (K - 1))


# -- 1. Pr(y = 1 | x) = 1 - eps --------------------------------------------------------------
def _check_keep() -> Evidence:
    facts = []
    g = Logits()
    ok_g = sp.simplify(sampler_probability(g, 1) - (1 - EPS)) == 0
    ok_c = all(sp.simplify(sampler_probability(Logits(K), 1) - (1 - EPS)) == 0 for K in EXPANDED_K)
    facts.append(Fact("symbolic", "sampler: Pr(Y = 1) = integral of du over [eps, 1) = 1 - eps "
                                  "(general K and K = 2..8)", ok_g and ok_c))
    facts.append(_keep_fact())
    return Evidence(holds=ok_g and ok_c, facts=facts)


def _keep_fact() -> Fact:
    rng, worst = rng_for("ch3.keep"), 0.0
    for K, eps in SAMPLER_CASES:
        freq = flip_frequencies(K, eps, MC_DRAWS, rng)
        worst = max(worst, standard_errors(freq[:1], np.array([1 - eps]), MC_DRAWS))
    return Fact("numeric", f"flip_labels keeps the true label with frequency 1 - eps within {Z_ACCEPT:g} "
                           f"standard errors ({MC_DRAWS} draws per case)", worst <= Z_ACCEPT)


register(Claim(
    id="ch3.keep_probability", chapter=3, section=SECTION, order=1,
    stated=Verdict.HOLDS,
    title="The flipped label is the true one with probability 1 - eps",
    printed=r"\Pr\left(y=1|x\right) = 1 - \epsilon",
    check=_check_keep,
    remark="The defining property of the flipping process (keep the label with probability 1 - eps), "
           "derived from the sampler by integrating over its uniform draw, and measured on flip_labels.",
))


# -- 2. Pr(y != 1 | x) = eps ------------------------------------------------------------------------
def _check_not_true() -> Evidence:
    facts = []
    g = Logits()
    total_other = sp.simplify(g.sum(lambda j: sampler_probability(g, j), start=2).doit())
    ok_sum = sp.simplify(total_other - EPS) == 0
    facts.append(Fact("symbolic", f"sum_(j=2)^K Pr(Y = j) = {sp.sstr(total_other)} (general K)", ok_sum))
    ok_comp = sp.simplify(1 - sampler_probability(g, 1) - EPS) == 0
    facts.append(Fact("symbolic", "1 - Pr(Y = 1) = eps (complement)", ok_comp))
    rng, worst = rng_for("ch3.not_true"), 0.0
    for K, eps in SAMPLER_CASES:
        freq = flip_frequencies(K, eps, MC_DRAWS, rng)
        worst = max(worst, standard_errors(np.array([1 - freq[0]]), np.array([eps]), MC_DRAWS))
    facts.append(Fact("numeric", f"flip_labels changes the label with frequency eps within {Z_ACCEPT:g} "
                                 "standard errors", worst <= Z_ACCEPT))
    return Evidence(holds=ok_sum and ok_comp, facts=facts)


register(Claim(
    id="ch3.flip_probability", chapter=3, section=SECTION, order=2,
    stated=Verdict.HOLDS,
    title="The label is changed with probability eps",
    printed=r"\Pr(y \neq 1|x) = \epsilon",
    check=_check_not_true,
    remark="The complement of equation 1, and also the total of the K - 1 wrong-class probabilities.",
))


# -- 3. Pr(y = incorrect class | x) = eps/(K-1) ------------------------------------------------------
UNIFORM_FLIPS = "a flipped label goes to each of the K - 1 wrong classes with equal probability"


def _uneven_flips(facts: list[Fact], key: str):
    """The general form without uniform flips: Pr(Y = j) = eps r_j (j != 1), sum_j r_j = 1.

    Appends the facts (symbolic for K = 2..8, sampled at K = 3, r = (0.9, 0.1)) and
    returns ``(verified, counterexample)``, the counterexample being Pr(y = 2|x)
    there against the uniform eps/(K-1).
    """
    general_ok = True
    for K in EXPANDED_K:
        r = sp.symbols(f"r_2:{K + 1}", nonnegative=True)
        total = sp.expand((1 - EPS) + sum(EPS * rj for rj in r)).subs(r[-1], 1 - sum(r[:-1]))
        general_ok &= sp.simplify(total - 1) == 0
    facts.append(Fact("symbolic", "general form: (1 - eps) + sum_j eps r_j = 1 whenever sum_j r_j = 1 (K = 2..8)",
                      general_ok))
    rng = rng_for(key)
    K, eps, r = 3, 0.3, np.array([0.9, 0.1])
    n = MC_DRAWS
    flipped = rng.random(n) < eps
    wrong = 1 + rng.choice(2, size=n, p=r)
    y = np.where(flipped, wrong, 0)
    freq = np.bincount(y, minlength=K) / n
    expected = np.array([1 - eps, eps * r[0], eps * r[1]])
    sampled_ok = standard_errors(freq, expected, n) <= Z_ACCEPT
    facts.append(Fact("numeric", f"non-uniform flips (K = 3, eps = 0.3, r = (0.9, 0.1)) sampled: frequencies "
                                 f"match (1 - eps, eps r_2, eps r_3) within {Z_ACCEPT:g} standard errors", sampled_ok))
    ce = Counterexample("Pr(y=2|x)", eps / (K - 1), eps * r[0], K=3, parameters={"eps": eps, "r": [0.9, 0.1]},
                        note="flips split unevenly among the wrong classes")
    real = abs(float(freq[1]) - ce.printed) > 10 * np.sqrt(eps * r[0] * (1 - eps * r[0]) / n)
    facts.append(Fact("numeric", "counterexample: the sampled Pr(y = 2) is more than 10 standard errors from "
                                 "eps/(K-1)", real))
    return general_ok and sampled_ok and real, ce


def _check_incorrect_class() -> Evidence:
    facts = []
    # without the assumption: any split r_2..r_K of the flips (sum 1) satisfies equations 1 and 2
    x3 = Logits(3)
    r2 = sp.Symbol("r_2", nonnegative=True)
    general_p2 = EPS * r2                                     # K = 3, r_3 = 1 - r_2
    printed = EPS / (x3.K - 1)
    not_identity = sp.simplify(general_p2 - printed) != 0
    only_at = sp.solve(sp.Eq(general_p2, printed), r2)
    facts.append(Fact("symbolic", f"K = 3, flips split (r_2, 1 - r_2): Pr(Y = 2) = eps r_2 equals eps/2 only at "
                                  f"r_2 = {only_at}", not_identity and only_at == [sp.Rational(1, 2)]))
    # under the assumption: the uniform sampler gives eps/(K-1) to every wrong class, general K
    g = Logits()
    j = sp.Symbol("j", integer=True)
    under = sp.simplify(sampler_probability(g, j).subs(sp.KroneckerDelta(j, 1), 0) - EPS / (g.K - 1)) == 0
    facts.append(Fact("symbolic", "uniform flips: Pr(Y = j) = eps/(K-1) for every j != 1 (general K)", under))
    facts.append(_sampler_fact(_smoothed_vector, "(1 - eps, eps/(K-1), ..., eps/(K-1))", "ch3.incorrect_uniform"))
    general_ok, ce = _uneven_flips(facts, "ch3.incorrect_general")
    return Evidence(holds=not not_identity, holds_under=under, corrected_ok=general_ok, facts=facts,
                    counterexample=ce)


register(Claim(
    id="ch3.incorrect_class", chapter=3, section=SECTION, order=3,
    stated=Verdict.HOLDS_UNDER,
    title="Each wrong class gets eps/(K-1)",
    printed=r"\Pr\left(y = \text{incorrect class}|x\right) = \frac{\epsilon}{K - 1}",
    assumption=UNIFORM_FLIPS,
    corrected=r"\Pr(y = j|x) = \epsilon\, r_j \ (j \ne 1), \quad r_j \ge 0,\ \sum_{j \ne 1} r_j = 1",
    check=_check_incorrect_class,
    remark="'There are K-1 possibilities' does not make them equally likely: equations 1 and 2 hold for any "
           "split r of the flips among the wrong classes, and only the uniform split gives eps/(K-1). "
           "Uniform flips are what makes the flipped label match the note's soft target.",
))


# -- 4. "by flipping the labels with 1 - eps probability" ---------------------------------------------
def _check_flip_one_minus_eps() -> Evidence:
    facts = []
    g = Logits()
    keep_if_flip_prob = sp.simplify(sampler_probability(g, 1, flip_prob=1 - EPS))
    facts.append(Fact("symbolic", f"flip probability 1 - eps: Pr(Y = 1) = {sp.sstr(keep_if_flip_prob)} "
                                  "(general K)", keep_if_flip_prob == EPS))
    roots = sp.solve(sp.Eq(keep_if_flip_prob, 1 - EPS), EPS)
    holds = sp.simplify(keep_if_flip_prob - (1 - EPS)) == 0
    facts.append(Fact("symbolic", f"equals the required 1 - eps only at eps = {roots}",
                      not holds and roots == [sp.Rational(1, 2)]))
    corrected_ok = all(
        sp.simplify(sampler_probability(g, j) - smoothed_target(g, j, EPS)) == 0 for j in (1, sp.Symbol("j", integer=True)))
    facts.append(Fact("symbolic", "flip probability eps: Pr(Y = j) = the note's soft target for every j (general K)",
                      corrected_ok))
    rng = rng_for("ch3.flip_one_minus_eps")
    K, eps = 10, 0.1
    freq = flip_frequencies(K, 1 - eps, MC_DRAWS, rng)
    swapped = np.array([eps] + [(1 - eps) / (K - 1)] * (K - 1))
    ok = standard_errors(freq, swapped, MC_DRAWS) <= Z_ACCEPT
    facts.append(Fact("numeric", f"flip_labels with flip probability 1 - eps (K = 10, eps = 0.1): frequencies match "
                                 f"(eps, (1 - eps)/(K-1), ...) within {Z_ACCEPT:g} standard errors", ok))
    ce = Counterexample("Pr(y=1|x)", float(keep_if_flip_prob.subs(EPS, sp.Rational(1, 10))), 1 - eps, K=10,
                        parameters={"eps": 0.1}, note="labels flipped with probability 1-eps")
    return Evidence(holds=holds, corrected_ok=corrected_ok and ok, facts=facts, counterexample=ce)


register(Claim(
    id="ch3.flip_one_minus_eps", chapter=3, section=SECTION, order=4,
    stated=Verdict.ERRATUM,
    title="'flipping the labels with 1 - eps probability'",
    printed=r"\text{flip each label with probability } 1 - \epsilon",
    corrected=r"\text{flip each label with probability } \epsilon \text{ (keep it with probability } 1 - \epsilon)",
    check=_check_flip_one_minus_eps,
    remark="Stated in the text. Flipping with probability 1 - eps keeps the true label with probability eps, "
           "the opposite of equation 1 (and of the note's own definition of label smoothing, 'flipping output "
           "labels with a certain probability (say eps)'); the two agree only at eps = 1/2.",
))


# -- 5. "we obtain the same q_theta(y|x)" -----------------------------------------------------------------
def note_smoothed_q(x: Logits, i, eps=EPS):
    """The note's displayed soft-label ``q_theta``: ``exp(p_i z_i) / sum_j exp(z_j)``."""
    return sp.exp(smoothed_target(x, i, eps) * x.z(i)) / x.sum(lambda j: sp.exp(x.z(j)))


def _check_same_q() -> Evidence:
    facts = []
    g = Logits()
    i = sp.Symbol("i", integer=True, positive=True)
    model_q = softmax(g, i)
    unchanged = sp.diff(model_q, EPS) == 0
    facts.append(Fact("symbolic", "the model's output softmax(z)_i does not depend on eps: neither flipping nor "
                                  "smoothing (both change only the target) changes q_theta", unchanged))
    x2 = Logits(2)
    differs = sp.simplify(note_smoothed_q(x2, 1) - softmax(x2, 1)) != 0
    facts.append(Fact("symbolic", "the note's displayed soft-label q_theta differs from softmax(z) (K = 2)", differs))
    total = sp.simplify(x2.sum(lambda j: note_smoothed_q(x2, j)))
    facts.append(Fact("symbolic", "the note's displayed soft-label q_theta does not even sum to 1 (K = 2)",
                      sp.simplify(total - 1) != 0))
    mean_target = sp.simplify(g.sum(lambda j: sampler_probability(g, j) * sp.KroneckerDelta(j, i)).doit())
    mean_target = mean_target.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: a.args[0][0])
    same_p = sp.simplify(mean_target - smoothed_target(g, i, EPS)) == 0
    facts.append(Fact("symbolic", "what is the same: E[onehot(Y)]_i = p_i, the soft target (general K)", same_p))
    z, eps = np.array([2.0, -1.0, 0.5]), 0.1
    p = _smoothed_vector(3, eps)
    note_q0 = float(np.exp(p[0] * z[0]) / np.exp(z).sum())
    q0 = float(num.softmax(z)[0])
    ce = Counterexample("q_theta(y_1|x)", note_q0, q0, K=3, z=tuple(z), parameters={"eps": eps})
    facts.append(Fact("numeric", "counterexample: the note's soft-label q_1 is far from the model's softmax q_1",
                      abs(note_q0 - q0) > 0.1))
    return Evidence(holds=not differs, corrected_ok=unchanged and same_p, facts=facts, counterexample=ce)


register(Claim(
    id="ch3.same_q", chapter=3, section=SECTION, order=5,
    stated=Verdict.ERRATUM,
    title="'we obtain the same q_theta(y|x)'",
    printed=r"q_\theta(y|x) \text{ under flipping} = q_\theta(y|x) \text{ under label smoothing (as displayed)}",
    corrected=r"q_\theta(y|x) = \mathrm{softmax}(z) \text{ under both; the same is the target: } "
              r"\mathbb{E}[\mathbf{e}_Y] = p",
    check=_check_same_q,
    remark="Stated in the text. q_theta is the model's output, softmax(z): it is computed from the logits alone, "
           "so no choice of target changes it. The note's soft-label q_theta (exp((1-eps) z_1)/sum_j exp(z_j), ...) "
           "is not a softmax, so flipping cannot reproduce it. What flipping reproduces is the target "
           "distribution, in expectation (claim ch3.same_p).",
))


# -- 6. "... and same p(y_j|x) as in label smoothing" --------------------------------------------------
def _check_same_p() -> Evidence:
    facts = []
    # without the assumption: flips split (r_2, 1 - r_2) among two wrong classes (K = 3)
    r2 = sp.Symbol("r_2", nonnegative=True)
    x3 = Logits(3)
    uneven = EPS * r2 - smoothed_target(x3, 2, EPS)
    not_identity = sp.simplify(uneven) != 0
    facts.append(Fact("symbolic", "K = 3, flips split (r_2, 1 - r_2): Pr(Y = 2) - p_2 = eps (r_2 - 1/2), zero only "
                                  "for the uniform split", not_identity and sp.solve(uneven, r2) == [sp.Rational(1, 2)]))
    # under the assumption: the uniform sampler's distribution is the soft target
    g = Logits()
    j = sp.Symbol("j", integer=True)
    ok_g = all(sp.simplify(sampler_probability(g, jj) - smoothed_target(g, jj, EPS)) == 0 for jj in (1, 2, j))
    facts.append(Fact("symbolic", "uniform flips: Pr(Y = j) - p_j = 0 for j = 1, j = 2 and a symbolic j "
                                  "(general K)", ok_g))
    ok_c = all(sp.expand(sampler_probability(Logits(K), jj) - smoothed_target(Logits(K), jj, EPS)) == 0
               for K in EXPANDED_K for jj in range(1, K + 1))
    facts.append(Fact("symbolic", "uniform flips: the same for every class, K = 2..8", ok_c))
    rng, worst = rng_for("ch3.same_p"), 0.0
    for K, eps in SAMPLER_CASES:
        y = rng.integers(0, min(K, 3), size=MC_DRAWS // 4)      # true labels among the first (up to) 3 classes
        f = flip_labels(y, K, eps, rng)
        lib = smoothed_targets(y, K, eps)
        # frequencies of (true, flipped) pairs against the soft targets of the library, per true class
        for c in range(min(K, 3)):
            sel = y == c
            freq = np.bincount(f[sel], minlength=K) / sel.sum()
            worst = max(worst, standard_errors(freq, lib[sel][0], int(sel.sum())))
    facts.append(Fact("numeric", "uniform flips: per true class, flipped-label frequencies match smoothed_targets "
                                 f"within {Z_ACCEPT:g} standard errors (random true labels)", worst <= Z_ACCEPT))
    general_ok, ce = _uneven_flips(facts, "ch3.same_p_general")
    return Evidence(holds=not not_identity, holds_under=ok_g and ok_c and worst <= Z_ACCEPT,
                    corrected_ok=general_ok, facts=facts, counterexample=ce)


register(Claim(
    id="ch3.same_p", chapter=3, section=SECTION, order=6,
    stated=Verdict.HOLDS_UNDER,
    title="'... and the same p(y_j|x) as in label smoothing'",
    printed=r"\Pr(Y = j|x) = p(y_j|x) = \begin{cases} 1 - \epsilon, & j = 1\\ \frac{\epsilon}{K - 1}, & \text{otherwise} \end{cases}",
    assumption=UNIFORM_FLIPS,
    corrected=r"\Pr(Y = j|x) = (1 - \epsilon)\,[j = 1] + \epsilon\, r_j\,[j \ne 1], \quad r_j \ge 0,\ "
              r"\sum_{j \ne 1} r_j = 1: \text{ the soft target only for } r_j = \tfrac{1}{K-1}",
    check=_check_same_p,
    remark="Stated in the text. With uniform flips (the assumption of equation 3) the distribution of the flipped "
           "label is exactly the soft target, i.e. the soft target is the expectation of the flipped one-hot label; "
           "each realised label is still one-hot. Flips split unevenly among the wrong classes satisfy equations 1 "
           "and 2 and give a different p.",
))


# -- 7. "label flipping is equivalent to soft labels" --------------------------------------------------
FRESH_FLIPS = ("labels are flipped afresh, independently, every time an example is used, and 'equivalent' means "
               "equal expected loss and expected gradient")


def expected_loss_identity(K: int | None) -> bool:
    """``E_Y[LSE(z) - z_Y] = H(p, softmax(z))``: general K (``None``) or fully expanded for a concrete K."""
    x = Logits(K)
    diff = flipped_loss_expectation(x) - smoothed_loss(x)
    return _reduce_general(diff, x) == 0 if x.general else _expanded(diff) == 0


def expected_gradient_identity(K: int | None) -> bool:
    """``d/dz_i E_Y[loss] = d/dz_i H(p, softmax(z)) = softmax(z)_i - p_i`` for every ``i``."""
    x = Logits(K)
    if x.general:
        i = sp.Symbol("i", integer=True, positive=True)
        want = softmax(x, i) - smoothed_target(x, i, EPS)
        return all(_reduce_general(sp.diff(f, x.z(i)) - want, x) == 0
                   for f in (flipped_loss_expectation(x), smoothed_loss(x)))
    w = {sp.exp(s): sp.Symbol(f"w_{n}", positive=True) for n, s in enumerate(x.symbols, 1)}
    ok = True
    for f in (flipped_loss_expectation(x), smoothed_loss(x)):
        f = _expanded(f)
        for i in range(1, K + 1):
            want = softmax(x, i) - smoothed_target(x, i, EPS)
            # derivatives are rational in w_j = exp(z_j): cancel decides zero exactly
            ok &= sp.cancel((sp.diff(f, x.z(i)) - want).subs(w)) == 0
    return ok


def enumerated_flipped_loss(z: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and second moment of the loss over the K possible flipped labels (true class 0), by enumeration."""
    K = z.shape[-1]
    p = _smoothed_vector(K, eps)
    losses = -num.log_softmax(z)                     # the loss of each of the K labels, row by row
    return losses @ p, (losses ** 2) @ p


def _check_equivalence() -> Evidence:
    facts = []
    ok_loss = expected_loss_identity(None)
    ok_grad = expected_gradient_identity(None)
    facts.append(Fact("symbolic", "fresh flips: E[loss] = smoothed loss and E[gradient] = softmax(z) - p (general K)",
                      ok_loss and ok_grad))
    # without the assumption: one flip, kept, is one realised label j. Is its loss the smoothed loss?
    x3 = Logits(3)
    realised_equal = [_expanded(log_sum_exp(x3) - x3.z(j) - smoothed_loss(x3)) == 0 for j in range(1, 4)]
    facts.append(Fact("symbolic", "a realised (kept) label j: LSE(z) - z_j - H(p, softmax(z)) is not identically "
                                  "zero for any j (K = 3)", not any(realised_equal)))
    # at the smoothed optimum the kept label's loss and gradient differ
    K, eps = 3, 0.1
    z = np.log(_smoothed_vector(K, eps))
    kept = 1                                            # a label that was flipped once (to class 2) and kept
    kept_loss = float(num.cross_entropy(z, kept))
    soft_loss = float(smoothed_cross_entropy(z, 0, eps))
    kept_grad = num.softmax(z) - np.eye(K)[kept]
    facts.append(Fact("numeric", "a kept flipped label: its gradient at the smoothed optimum is not zero",
                      float(np.abs(kept_grad).max()) > 0.5))
    ce = Counterexample("loss", kept_loss, soft_loss, K=3, z=tuple(z), parameters={"eps": eps},
                        note="z at the smoothed optimum; the label flipped once to class 2 and kept")
    facts.append(Fact("numeric", "counterexample: the kept label's loss is far from the smoothed loss",
                      abs(kept_loss - soft_loss) > 1.0))
    # general form, numerically: enumeration over the K labels vs the library's smoothed loss
    rng, worst = rng_for("ch3.equivalence"), 0.0
    for K_ in (2, 3, 10, 100):
        for scale in (0.1, 1.0, 10.0):
            zz = rng.uniform(-scale, scale, size=(32, K_))
            mean, _ = enumerated_flipped_loss(zz, 0.2)
            ref = smoothed_cross_entropy(zz, np.zeros(32, dtype=int), 0.2)
            worst = max(worst, float(np.max(np.abs(mean - ref) / np.maximum(1, np.abs(ref)))))
    facts.append(Fact("numeric", "enumeration over the K flipped labels reproduces smoothed_cross_entropy "
                                 "(rel. tol 1e-12)", worst <= 1e-12, worst))
    return Evidence(holds=all(realised_equal), holds_under=ok_loss and ok_grad,
                    corrected_ok=ok_loss and ok_grad and worst <= 1e-12,
                    facts=facts, counterexample=ce)


register(Claim(
    id="ch3.equivalence", chapter=3, section=SECTION, order=7,
    stated=Verdict.HOLDS_UNDER,
    title="'label flipping is equivalent to soft labels'",
    printed=r"\text{label flipping} \equiv \text{soft labels}",
    assumption=FRESH_FLIPS,
    corrected=r"\mathbb{E}_{Y}\left[\mathrm{LSE}(z) - z_Y\right] = H(p, \mathrm{softmax}(z)), \quad "
              r"\mathbb{E}_{Y}\left[\nabla_z (\mathrm{LSE}(z) - z_Y)\right] = \mathrm{softmax}(z) - p",
    check=_check_equivalence,
    remark="Stated in the text ('Hence this would lead to similar loss functions'). Exact in expectation when "
           "each use of an example draws a new flip, so stochastic gradient descent on flipped labels follows the "
           "smoothed gradient plus zero-mean noise. A label flipped once and kept is a different, wrong label: "
           "a model that can memorise fits it (chapter 4). Even with fresh flips, the noise differs "
           "(ch3.loss_variance, ch3.gradient_covariance).",
))


# -- added 8. the distribution of the flipped label, from the sampler ---------------------------------------
def _check_distribution() -> Evidence:
    facts = []
    g = Logits()
    total = sp.simplify(g.sum(lambda j: sampler_probability(g, j)).doit())
    facts.append(Fact("symbolic", f"sum_j Pr(Y = j) = {total} (general K)", total == 1))
    j = sp.Symbol("j", integer=True)
    same = sp.simplify(sampler_probability(g, j) - smoothed_target(g, j, EPS)) == 0
    facts.append(Fact("symbolic", "Pr(Y = j) = (1 - eps) [j = 1] + eps/(K-1) [j != 1] (general K, symbolic j)", same))
    facts.append(_sampler_fact(_smoothed_vector, "the derived distribution", "ch3.distribution"))
    return Evidence(holds=total == 1 and same, facts=facts)


register(Claim(
    id="ch3.flip_distribution", chapter=3, section=SECTION, order=8, source="added",
    stated=Verdict.HOLDS,
    title="The distribution of the flipped label",
    printed=r"\Pr(Y = j) = (1 - \epsilon)\,[j = 1] + \frac{\epsilon}{K - 1}\,[j \ne 1]",
    check=_check_distribution,
    remark="Derived from the sampler: one uniform u per label, kept if u >= eps, else class floor((K-1)u/eps) "
           "among the others; integrating over u gives the soft target for a general K.",
))


# -- added 9-10. the exact equivalence: expected loss and expected gradient -----------------------------------
def _check_expected_loss() -> Evidence:
    facts = []
    ok_g = expected_loss_identity(None)
    facts.append(Fact("symbolic", "sum_j Pr(Y = j)(LSE(z) - z_j) - H(p, softmax(z)) = 0 (general K)", ok_g))
    ok_c = all(expected_loss_identity(K) for K in EXPANDED_K)
    facts.append(Fact("symbolic", "fully expanded, the difference is 0 for K = 2..8", ok_c))
    rng, worst_se = rng_for("ch3.expected_loss"), 0.0
    for K, eps in ((3, 0.1), (10, 0.3), (100, 0.5)):
        z = rng.normal(0, 3, size=K)
        losses = flipped_losses(z, 0, eps, MC_DRAWS, rng)
        ref = float(smoothed_cross_entropy(z, 0, eps))
        se = float(np.sqrt(flipped_loss_variance(z, 0, eps) / MC_DRAWS))
        worst_se = max(worst_se, abs(float(losses.mean()) - ref) / se)
    facts.append(Fact("numeric", f"Monte Carlo mean of the flipped loss is within {Z_ACCEPT:g} standard errors of "
                                 "smoothed_cross_entropy", worst_se <= Z_ACCEPT))
    return Evidence(holds=ok_g and ok_c, facts=facts)


register(Claim(
    id="ch3.expected_loss", chapter=3, section=SECTION, order=9, source="added",
    stated=Verdict.HOLDS,
    title="Expected flipped loss = smoothed loss",
    printed=r"\mathbb{E}_{Y}\left[\mathrm{LSE}(z) - z_Y\right] = -\sum_{j=1}^K p_j \log \mathrm{softmax}(z)_j",
    check=_check_expected_loss,
    remark="Linearity of expectation: the loss is linear in the one-hot target, whose expectation is p.",
))


def _check_expected_gradient() -> Evidence:
    facts = []
    ok_g = expected_gradient_identity(None)
    facts.append(Fact("symbolic", "d/dz_i of both E[loss] and H(p, q) equals q_i - p_i (general K)", ok_g))
    ok_c = all(expected_gradient_identity(K) for K in EXPANDED_K)
    facts.append(Fact("symbolic", "the same, every component, fully expanded, K = 2..8", ok_c))
    rng, worst = rng_for("ch3.expected_gradient"), 0.0
    h = 1e-6
    for K in (2, 5, 20):
        z = rng.normal(0, 2, size=K)
        mean_grad = num.softmax(z) - _smoothed_vector(K, 0.2)      # sum_j p_j (q - e_j), by enumeration
        fd = np.array([(smoothed_cross_entropy(z + h * e, 0, 0.2) - smoothed_cross_entropy(z - h * e, 0, 0.2)) / (2 * h)
                       for e in np.eye(K)])
        worst = max(worst, float(np.max(np.abs(fd - mean_grad))))
    facts.append(Fact("numeric", "central differences of smoothed_cross_entropy match the enumerated mean "
                                 "flipped gradient (abs. tol 1e-7)", worst <= 1e-7, worst))
    return Evidence(holds=ok_g and ok_c, facts=facts)


register(Claim(
    id="ch3.expected_gradient", chapter=3, section=SECTION, order=10, source="added",
    stated=Verdict.HOLDS,
    title="Expected flipped gradient = smoothed gradient",
    printed=r"\mathbb{E}_{Y}\left[\mathrm{softmax}(z) - \mathbf{e}_Y\right] = \mathrm{softmax}(z) - p = "
            r"\nabla_z H(p, \mathrm{softmax}(z))",
    check=_check_expected_gradient,
    remark="So gradient descent with fresh flips is stochastic gradient descent on the smoothed loss.",
))


# -- added 11. the variance of the flipped loss ---------------------------------------------------------------
def _check_loss_variance() -> Evidence:
    facts = []
    # general K: with l_1 the true-class loss, A = sum_{j>=2} l_j and B = sum_{j>=2} l_j^2
    K = sp.Symbol("K", integer=True, positive=True)
    l1, A, B = sp.symbols("l_1 A B", real=True)
    second = (1 - EPS) * l1 ** 2 + EPS * B / (K - 1)
    first = (1 - EPS) * l1 + EPS * A / (K - 1)
    m, s2 = A / (K - 1), B / (K - 1) - (A / (K - 1)) ** 2
    decomposition = EPS * (1 - EPS) * (l1 - m) ** 2 + EPS * s2
    ok_g = sp.simplify(second - first ** 2 - decomposition) == 0
    facts.append(Fact("symbolic", "sum_j p_j l_j^2 - (sum_j p_j l_j)^2 = eps(1-eps)(l_1 - mean_other)^2 + "
                                  "eps var_other (general K; law of total variance over 'flipped or not')", ok_g))
    ok_c = True
    for K_ in EXPANDED_K:
        x = Logits(K_)
        l = [log_sum_exp(x) - x.z(j) for j in range(1, K_ + 1)]
        p = [smoothed_target(x, j, EPS) for j in range(1, K_ + 1)]
        mean = sum(pj * lj for pj, lj in zip(p, l))
        by_definition = sum(pj * (lj - mean) ** 2 for pj, lj in zip(p, l))       # E[(L - E L)^2]
        closed = sum(pj * lj ** 2 for pj, lj in zip(p, l)) - mean ** 2
        ok_c &= sp.expand(by_definition - closed) == 0
    facts.append(Fact("symbolic", "E[(L - E L)^2] over the K labels = the closed form, expanded, K = 2..8", ok_c))
    rng, worst_enum, worst_mc = rng_for("ch3.loss_variance"), 0.0, 0.0
    for K_ in (2, 3, 10, 100):
        for scale in (0.1, 1.0, 10.0):
            zz = rng.uniform(-scale, scale, size=(16, K_))
            mean, second_m = enumerated_flipped_loss(zz, 0.3)
            enum_var = second_m - mean ** 2
            got = flipped_loss_variance(zz, np.zeros(16, dtype=int), 0.3)
            worst_enum = max(worst_enum, float(np.max(np.abs(got - enum_var) / np.maximum(1, mean ** 2))))
    for K_, eps in ((3, 0.1), (10, 0.4)):
        z = rng.normal(0, 2, size=K_)
        n = MC_DRAWS
        losses = flipped_losses(z, 0, eps, n, rng)
        v = float(flipped_loss_variance(z, 0, eps))
        # the sample variance has standard error about sqrt((mu4 - v^2)/n); use the enumerated 4th moment
        p = _smoothed_vector(K_, eps)
        l_all = -num.log_softmax(z)
        mu4 = float(p @ (l_all - p @ l_all) ** 4)
        worst_mc = max(worst_mc, abs(float(losses.var()) - v) / np.sqrt((mu4 - v ** 2) / n))
    facts.append(Fact("numeric", "flipped_loss_variance = enumeration over the K labels (rel. tol 1e-9)",
                      worst_enum <= 1e-9, worst_enum))
    facts.append(Fact("numeric", f"Monte Carlo sample variance within {Z_ACCEPT:g} standard errors of the closed form",
                      worst_mc <= Z_ACCEPT))
    return Evidence(holds=ok_g and ok_c, facts=facts)


register(Claim(
    id="ch3.loss_variance", chapter=3, section=SECTION, order=11, source="added",
    stated=Verdict.HOLDS,
    title="Variance of the flipped loss",
    printed=r"\mathrm{Var}_Y\left[\ell_Y\right] = \sum_j p_j \ell_j^2 - \Bigl(\sum_j p_j \ell_j\Bigr)^2 = "
            r"\epsilon(1-\epsilon)(\ell_1 - \bar\ell)^2 + \epsilon\, s^2, \quad \ell_j = \mathrm{LSE}(z) - z_j",
    check=_check_loss_variance,
    remark="l-bar and s^2 are the mean and the (population) variance of the K - 1 wrong-class losses. "
           "Soft labels have no such term: their loss is deterministic given the logits.",
))


# -- added 12. the covariance of the flipped gradient ----------------------------------------------------------
def enumerated_gradient_covariance(x: Logits, eps=EPS) -> sp.Matrix:
    """``E[(g - E g)(g - E g)^T]`` over the K labels, with ``g = q - e_Y`` (concrete K).

    ``q = (q_1, ..., q_K)`` are free symbols standing for ``softmax(z)``: the
    result does not contain them, whatever the softmax is.
    """
    K = x.K
    q = sp.Matrix(sp.symbols(f"q_1:{K + 1}", real=True))
    p = [smoothed_target(x, j, eps) for j in range(1, K + 1)]
    grads = [q - sp.Matrix([sp.KroneckerDelta(i, j) for i in range(1, K + 1)]) for j in range(1, K + 1)]
    mean = sum((pj * gj for pj, gj in zip(p, grads)), sp.zeros(K, 1))
    return sum(((pj * (gj - mean) * (gj - mean).T) for pj, gj in zip(p, grads)), sp.zeros(K, K)).applyfunc(sp.expand)


def _check_gradient_covariance() -> Evidence:
    facts = []
    ok_c = True
    for K in EXPANDED_K:
        x = Logits(K)
        p = sp.Matrix([smoothed_target(x, j, EPS) for j in range(1, K + 1)])
        closed = sp.diag(*p) - p * p.T
        cov = enumerated_gradient_covariance(x)
        ok_c &= cov.free_symbols == {EPS} and (cov - closed).applyfunc(sp.expand) == sp.zeros(K, K)
    facts.append(Fact("symbolic", "E[(g - E g)(g - E g)^T] = diag(p) - p p^T, the q_i cancelling (K = 2..8)", ok_c))
    g = Logits()
    trace = sp.simplify(g.sum(lambda j: smoothed_target(g, j, EPS) - smoothed_target(g, j, EPS) ** 2).doit())
    trace = trace.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: a.args[0][0])
    want = 1 - (1 - EPS) ** 2 - EPS ** 2 / (g.K - 1)
    ok_t = sp.simplify(trace - want) == 0
    facts.append(Fact("symbolic", "trace = 1 - sum_j p_j^2 = 1 - (1 - eps)^2 - eps^2/(K-1) (general K)", ok_t))
    rng, worst, worst_mc = rng_for("ch3.gradient_covariance"), 0.0, 0.0
    for K, eps in ((2, 0.1), (5, 0.3), (20, 0.2)):
        z = rng.normal(0, 2, size=(1, K))
        C = flipped_gradient_covariance(z, [0], eps)[0]
        cov = enumerated_gradient_covariance(Logits(K))
        f = sp.lambdify([EPS], cov, "numpy")
        worst = max(worst, float(np.max(np.abs(C - np.asarray(f(eps), dtype=float)))))
        n = MC_DRAWS // 4
        y = flip_labels(np.zeros(n, dtype=int), K, eps, rng)
        grads = num.softmax(z[0]) - np.eye(K)[y]
        emp = np.cov(grads, rowvar=False, bias=True)
        p = _smoothed_vector(K, eps)
        se = np.sqrt((p[:, None] * (1 - p[:, None]) + p[None] * (1 - p[None]) + 1e-12) / n)   # generous scale
        worst_mc = max(worst_mc, float(np.max(np.abs(emp - C) / se)))
    facts.append(Fact("numeric", "flipped_gradient_covariance = the symbolic enumeration at random logits "
                                 "(abs. tol 1e-12)", worst <= 1e-12, worst))
    facts.append(Fact("numeric", f"Monte Carlo covariance of the gradients within {Z_ACCEPT:g} standard errors",
                      worst_mc <= Z_ACCEPT))
    return Evidence(holds=ok_c and ok_t, facts=facts)


register(Claim(
    id="ch3.gradient_covariance", chapter=3, section=SECTION, order=12, source="added",
    stated=Verdict.HOLDS,
    title="Covariance of the flipped gradient",
    printed=r"\mathrm{Cov}_Y\left[\mathrm{softmax}(z) - \mathbf{e}_Y\right] = \mathrm{diag}(p) - p p^{\mathsf T}, "
            r"\quad \mathrm{tr} = 1 - (1-\epsilon)^2 - \frac{\epsilon^2}{K-1}",
    check=_check_gradient_covariance,
    remark="The logits drop out: the noise that flipping adds to the logit gradient is the same everywhere, "
           "including at the optimum.",
))


# -- added 13. what that implies at the optimum ----------------------------------------------------------------
def _check_optimum_noise() -> Evidence:
    facts = []
    K = sp.Symbol("K", integer=True, positive=True)
    ok_mean = True
    for K_ in EXPANDED_K:
        x = Logits(K_)
        at_opt = {x.z(j): sp.log(smoothed_target(x, j, EPS)) for j in range(1, K_ + 1)}
        ok_mean &= all(sp.simplify((softmax(x, i) - smoothed_target(x, i, EPS)).subs(at_opt)) == 0
                       for i in range(1, K_ + 1))
    facts.append(Fact("symbolic", "at z_j = log p_j the mean gradient softmax(z) - p vanishes (K = 2..8)", ok_mean))
    trace = sp.factor(1 - (1 - EPS) ** 2 - EPS ** 2 / (K - 1))
    facts.append(Fact("symbolic", f"gradient noise at the optimum: trace = {sp.sstr(trace)}, > 0 for 0 < eps < 1, "
                                  "K >= 2", sp.simplify(trace - EPS * (2 * K - 2 - EPS * K) / (K - 1)) == 0))
    gap = sp.log((1 - EPS) * (K - 1) / EPS)
    l1, lo = -sp.log(1 - EPS), -sp.log(EPS / (K - 1))          # true-class loss, each wrong-class loss
    var_opt = (1 - EPS) * l1 ** 2 + EPS * lo ** 2 - ((1 - EPS) * l1 + EPS * lo) ** 2
    ok_var = sp.simplify(sp.expand_log(var_opt - EPS * (1 - EPS) * gap ** 2, force=True)) == 0
    facts.append(Fact("symbolic", "loss variance at the optimum = eps(1-eps) Delta*^2, Delta* = log((1-eps)(K-1)/eps)",
                      ok_var))
    rng, worst = rng_for("ch3.optimum_noise"), 0.0
    for K_, eps in ((2, 0.1), (10, 0.1), (100, 0.3)):
        z = np.log(_smoothed_vector(K_, eps))[None] + rng.normal()          # any shift of the optimum
        v = float(flipped_loss_variance(z, [0], eps)[0])
        want = eps * (1 - eps) * smoothed_optimum_gap(K_, eps) ** 2
        worst = max(worst, abs(v - want) / want)
    facts.append(Fact("numeric", "flipped_loss_variance at the smoothed optimum = eps(1-eps) gap^2 (rel. tol 1e-9)",
                      worst <= 1e-9, worst))
    return Evidence(holds=ok_mean and ok_var, facts=facts)


register(Claim(
    id="ch3.optimum_noise", chapter=3, section=SECTION, order=13, source="added",
    stated=Verdict.HOLDS,
    title="At the optimum: mean gradient zero, noise not",
    printed=r"z^\star_j = \log p_j:\ \mathbb{E}[g] = 0,\ \ \mathrm{tr\,Cov}[g] = \frac{\epsilon\,(2K - 2 - \epsilon K)}{K - 1},"
            r"\ \ \mathrm{Var}[\ell_Y] = \epsilon(1-\epsilon)\log^2\frac{(1-\epsilon)(K-1)}{\epsilon}",
    check=_check_optimum_noise,
    remark="Gradient descent with fresh flips and a constant step size therefore does not settle at the smoothed "
           "optimum but fluctuates around it (chapter 4); averaging the iterates or decaying the step removes the "
           "noise. The loss variance vanishes only at eps = (K-1)/K, the uniform target.",
))
