"""Chapter 3: the note's label-flipping bullet, made exact.

The note's three displayed equations and its four statements in words (each taken from the transcription,
:mod:`derivations.engine.note`), then what the companion adds, written in the note's notation: the distribution
of the flipped label, the exact equivalence in expectation (loss and gradient), and what differs (the variance of
the loss, the covariance of the gradient, the noise left at the optimum). Class 1 is the true class.

Each claim is decided by its derivation cell in ``notebooks/03_label_flipping.ipynb``: plain SymPy that derives
the flipped label's distribution from the sampler (integrating over its uniform draw), reads the claim's formula
as printed and hands what it gets wrong to ``verdict``. Beside it, the numeric checks here read the same formulas
and compare them with the sampler itself (:func:`derivations.library.flipping.flip_labels`: frequencies against
Bernstein radii at false-alarm :data:`~derivations.engine.stats.FALSE_ALARM` per comparison, so that a correct
sampler fails one with probability at most 1e-6; fixed seeds), with Monte Carlo of the flipped loss, and with the
library's closed forms checked against enumeration over the labels.

The flipping process: keep the label with probability ``1 - eps``, otherwise pick one of the ``K - 1`` other classes
uniformly. In the contexts here ``\\Pr(y = j|x)`` is read as ``Pr(j)``, the flipped label's distribution as the
note writes it, an unknown function until a derivation puts in the sampler's (``expr.replace(Pr, ...)``);
``p`` is the note's soft target (in :data:`FLIPPED_TARGET`, the flipped label's distribution) and
``\\mathcal{L}`` the smoothed loss.
"""
from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from derivations.chapters.ch2.claims import SOFTMAX_Q
from derivations.chapters.ch3.contexts import FLIP, FLIPPED_TARGET, PR, SPLIT  # free of NumPy, for the book's pages
from derivations.engine.checks import RTOL, against, largest, mp_value, rng_for, sweep
from derivations.engine.finding import Finding
from derivations.engine.notation import EPS
from derivations.engine.note import displayed, quote
from derivations.engine.reference import mp_smoothed_cross_entropy, mp_softmax
from derivations.engine.registry import Claim, Counterexample, Formulas, Numeric, Verdict, register
from derivations.engine.stats import FALSE_ALARM, bernstein_radius, frequency_radius, variance_radius
from derivations.engine.symbolic import Logits, compiled
from derivations.engine.tex import inline, vector
from derivations.library import numeric as num
from derivations.library.flipping import flip_labels, flipped_gradient_covariance, flipped_loss_variance, flipped_losses
from derivations.library.smoothing import smoothed_cross_entropy, smoothed_optimum_gap, smoothed_targets

__all__ = ["EPS", "FLIP", "FLIPPED_TARGET", "PR", "SPLIT", "sampler_probability", "flip_frequencies",
           "uneven_frequencies", "kept_flip_gradients"]

SECTION = "Label flipping"
U = sp.Symbol("u", nonnegative=True)


# -- the flipping process, symbolically ---------------------------------------------------
def sampler_probability(x: Logits, j, flip_prob=EPS):
    """``Pr(Y = j)`` for the sampler's output, true class 1, by integrating over ``u ~ U[0, 1)`` (as chapter 3's
    derivation does, in its notebook).

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


UNIFORM_FLIPS = "a flipped label goes to each of the $K - 1$ wrong classes with equal probability"
#: The general form: any split r of the flips among the wrong classes (each r_j >= 0, summing to 1).
GENERAL_FLIPS = r"\Pr(y = j|x) = \begin{cases} 1 - \epsilon, & j = 1\\ \epsilon r_{j}, & \text{otherwise} \end{cases}"
FRESH_FLIPS = ("labels are flipped afresh, independently, every time an example is used (so that the flip does not "
               "depend on the current logits), and 'equivalent' means equal expected loss and expected gradient at the "
               "current logits")
EQUIVALENCE = (r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = \mathcal{L}(z), \quad "
               r"\frac{\partial}{\partial z_{a}} \sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = "
               r"\frac{\partial}{\partial z_{a}} \mathcal{L}(z)")


# -- the numeric checks beside the derivations ------------------------------------------------
#: (K, eps) at which the sampler's frequencies are checked.
SAMPLER_CASES = ((2, 0.1), (3, 0.5), (10, 0.1), (10, 0.9), (1000, 0.3))
#: The same without eps = 1/2, where flipping with eps and with 1 - eps agree.
UNEQUAL_CASES = ((2, 0.1), (10, 0.1), (10, 0.9), (1000, 0.3))
#: Labels drawn per sampling check.
MC_DRAWS = 200_000
#: Flips split unevenly among the wrong classes (K = 3): eps and the shares (r_2, r_3).
UNEVEN = (0.3, (0.9, 0.1))
#: (K, eps) at which the fresh flips of the added identities are drawn, at random logits.
FRESH_CASES = ((3, 0.1), (10, 0.3), (30, 0.5))
#: The false-alarm probability and the sampler's cases, as LaTeX.
_ALARM = inline(FALSE_ALARM, "g")
_CASES = r"$(K, \epsilon) \in \{" + ", ".join(map("({0[0]}, {0[1]:g})".format, SAMPLER_CASES)) + r"\}$"


def flip_frequencies(K: int, eps: float, n: int, rng: np.random.Generator, true_class: int = 0) -> np.ndarray:
    """Relative frequency of each class among ``n`` flips of the label ``true_class`` by ``flip_labels``."""
    f = flip_labels(np.full(n, true_class), K, eps, rng)
    return np.bincount(f, minlength=K) / n


def uneven_frequencies(eps: float, shares, n: int, rng: np.random.Generator) -> np.ndarray:
    """Class frequencies of ``n`` labels of class 1 (``K = 1 + len(shares)``) kept with probability ``1 - eps``,
    else sent to class ``k >= 2`` with probability ``shares[k - 2]``: the flips of the general form."""
    y = np.where(rng.random(n) < eps, 1 + rng.choice(len(shares), size=n, p=shares), 0)
    return np.bincount(y, minlength=len(shares) + 1) / n


def _number(expr, eps, freq=None, shares=None, z=None, x: Logits | None = None) -> float:
    """A formula read at a concrete K, as a number (NaN where it has no real value): ``eps``, ``Pr(k)`` the frequency
    ``freq[k - 1]`` (or the probability), ``r_k`` the share ``shares[k - 2]``, the logits ``z`` of ``x``."""
    e = sp.sympify(expr)
    if freq is not None:
        e = e.replace(PR, lambda k: sp.Float(float(freq[int(k) - 1]), 30))
    values = {EPS: sp.Rational(str(eps))}
    if shares is not None:                      # the true class gets no share of the flips
        values.update({SPLIT[k]: sp.Rational(str(v)) for k, v in enumerate((0, *shares), start=1)})
    if z is not None:
        values.update({s: sp.Float(float(v), 30) for s, v in zip(x.symbols, z)})
    value = complex(e.subs(values).doit().evalf(30))
    return value.real if value.imag == 0 else np.nan          # a logarithm of a negative number: no value


def _worst(values) -> float:
    """The largest of ``values``, NaN if any is NaN (a formula without a value is no agreement)."""
    return float(np.max(np.asarray(list(values), dtype=float)))


def _radii(observed: float, p: float, n: int = MC_DRAWS) -> float:
    """How far a frequency of ``n`` draws is from a probability, in Bernstein radii (false-alarm
    :data:`FALSE_ALARM`): more than 1 is a disagreement, as is a ``p`` outside [0, 1] (infinitely far)."""
    if not 0.0 <= p <= 1.0:
        return np.inf
    return abs(observed - p) / (float(frequency_radius(n, p)) + 1e-15)


def _sampled(pairs, key: str, flip=None, cases=SAMPLER_CASES) -> float:
    """The largest distance, in Bernstein radii, between what a formula reads at the frequencies of
    :data:`MC_DRAWS` labels flipped by ``flip_labels`` and the probability it states, over ``cases`` (K, eps):
    ``pairs(x)`` gives ``(observed, probability)`` expressions (``Pr(k)`` read as the frequency of class ``k``);
    ``flip(eps)`` is the flip probability (eps itself by default). A flip probability outside [0, 1] is
    infinitely far."""
    def radii(pt):
        f = pt.param if flip is None else flip(pt.param)
        if not 0.0 <= f <= 1.0:
            return np.inf
        x = Logits(pt.K)
        freq = flip_frequencies(pt.K, f, MC_DRAWS, pt.rng)
        return _worst(_radii(_number(seen, pt.param, freq), _number(p, pt.param)) for seen, p in pairs(x))
    return largest(radii, key, cases=cases, scales=(1.0,), n=1).worst


def _flip_probability(reading, ctx):
    """The flip probability a sentence states (its mathematics) as a function of eps."""
    value = reading.rhs(Logits(), ctx)
    return lambda eps: float(sp.sympify(value).subs(EPS, sp.Rational(str(eps))))


def _event(f: Formulas) -> Numeric:
    """``Pr(event) = value``: the event's frequency among labels flipped by ``flip_labels`` (the printed left side
    at the frequencies) against the printed value, in Bernstein radii."""
    worst = _sampled(lambda x: [(f.printed.lhs(x, f.context), f.printed.rhs(x, f.context))], f.key)
    ok = worst <= 1
    return Numeric([Finding("statistical", "`flip_labels`: the frequency of the printed event "
                            + ("matches" if ok else "differs from") + " the printed probability within the Bernstein "
                            f"radius (false-alarm {_ALARM} per case; {MC_DRAWS:,} draws; {_CASES})")], printed=ok)


def _uneven(f: Formulas, pairs, quantity: str, at: int, flip=None) -> Numeric:
    """Flips split unevenly (:data:`UNEVEN`, K = 3) and sampled: does the printed reading (``pairs(x)`` gives
    ``(observed, probability)`` expressions; pair ``at`` is the counterexample's ``quantity``) still hold? And the
    general form, class by class, against the same frequencies: the numeric checks' readings of the printed and
    the corrected forms."""
    eps, shares = UNEVEN
    fp = eps if flip is None else flip(eps)
    x3, n = Logits(3), MC_DRAWS
    freq = uneven_frequencies(fp, shares, n, rng_for(f.key + "/uneven")) if 0 <= fp <= 1 else np.full(3, np.nan)
    values = [(_number(seen, eps, freq, shares), _number(p, eps, shares=shares)) for seen, p in pairs(x3)]
    worst = _worst(_radii(seen, p, n) for seen, p in values)
    out = Numeric(printed=worst <= 1)
    where = rf"$K = 3$, $\epsilon = {eps:g}$, shares $r = {vector(shares)}$"
    out.findings.append(Finding("statistical", f"flips split unevenly and sampled ({where}, {n:,} draws): the "
                                + ("frequencies match" if out.printed else "frequencies differ from")
                                + f" the printed form (Bernstein radius, false-alarm {_ALARM})"))
    if not out.printed:
        seen, p = values[at]
        exact = _number(pairs(x3)[at][0], eps, [1 - fp] + [fp * s for s in shares], shares)
        out.counterexample = Counterexample(quantity, p, exact, K=3, parameters={"eps": eps, "r": list(shares)},
                                            note="flips split unevenly among the wrong classes; correct: the "
                                                 f"probability of the general form, sampled {seen:.4f}")
    if f.corrected is not None:                     # the general form flips with probability eps
        freq = uneven_frequencies(eps, shares, n, rng_for(f.key + "/general"))
        general = _worst(_radii(_number(f.corrected.lhs(x3, f.context, j=k), eps, freq),
                             _number(f.corrected.rhs(x3, f.context, j=k), eps, shares=shares), n) for k in (1, 2, 3))
        out.corrected = general <= 1
        out.findings.append(Finding("statistical", "the general form " + ("matches" if out.corrected else "differs "
                                    "from") + r" flips split so (flip probability $\epsilon$), sampled, class by class "
                                    f"(Bernstein radius, false-alarm {_ALARM})"))
    return out


def _flips_split(pairs, quantity: str, at: int, flip_of=None):
    """The numeric checks of a statement that holds for uniform flips: ``pairs(f, x)`` gives ``(observed,
    probability)`` expressions at K; with uniform flips (``flip_labels``) they must match ("under the
    assumption"); with uneven ones they must not (pair ``at``, ``quantity``, is the counterexample), and the
    general form must. ``flip_of(f)`` reads the flip probability (eps by default)."""
    def numeric(f: Formulas) -> Numeric:
        flip = None if flip_of is None else flip_of(f)
        out = _uneven(f, lambda x: pairs(f, x), quantity, at, flip)
        worst = _sampled(lambda x: pairs(f, x), f.key, flip)
        out.assuming = worst <= 1
        out.findings.insert(0, Finding("statistical", "uniform flips (`flip_labels`): the frequencies "
                                       + ("match" if out.assuming else "differ from") + " the printed form within "
                                       f"the Bernstein radius (false-alarm {_ALARM} per case; {MC_DRAWS:,} draws; "
                                       f"{_CASES})"))
        return out
    return numeric


def _compared_classes(x: Logits):
    """Classes 1, 2 and K (without repeats): where the distributions are compared."""
    return sorted({1, 2, x.K})


def _flip_distribution(f: Formulas) -> Numeric:
    """The printed distribution, class by class (1, 2 and K), against the frequencies of ``flip_labels``."""
    worst = _sampled(lambda x: [(f.printed.lhs(x, f.context, j=k), f.printed.rhs(x, f.context, j=k))
                                for k in _compared_classes(x)], f.key)
    ok = worst <= 1
    return Numeric([Finding("statistical", "`flip_labels`: the frequencies of classes 1, 2 and $K$ "
                            + ("match" if ok else "differ from") + " the printed distribution within the Bernstein "
                            f"radius (false-alarm {_ALARM} per case; {MC_DRAWS:,} draws; {_CASES})")],
                   printed=ok)


def _flip_one_minus_eps(f: Formulas) -> Numeric:
    """``flip_labels`` with the sentence's flip probability: is the label kept as often as equation 1 says?"""
    keep = f.inputs["keep"]

    def kept(reading, key):
        flip = _flip_probability(reading, f.context)
        return _sampled(lambda x: [(keep.lhs(x, f.context), keep.rhs(x, f.context))], key, flip, UNEQUAL_CASES), flip

    worst, flip = kept(f.printed, f.key)
    out = Numeric(printed=worst <= 1)
    cases = r"$(K, \epsilon) \in \{" + ", ".join(map("({0[0]}, {0[1]:g})".format, UNEQUAL_CASES)) + r"\}$"
    out.findings.append(Finding("statistical", "`flip_labels` with the sentence's flip probability: the kept "
                                "frequency " + ("matches" if out.printed else "differs from") + " equation 1's "
                                f"$1 - \\epsilon$ (Bernstein radius, false-alarm {_ALARM}; {cases})"))
    if not out.printed:
        K, eps = 10, 0.1
        fp = flip(eps)
        freq = flip_frequencies(K, fp, MC_DRAWS, rng_for(f.key + "/counterexample")) if 0 <= fp <= 1 else [np.nan]
        out.counterexample = Counterexample(r"$\Pr(y = 1 \mid x)$", 1 - fp, 1 - eps, K=K, parameters={"eps": eps},
                                            note=f"labels flipped with probability {fp:g}; sampled {freq[0]:.4f}; "
                                                 "correct: equation 1")
    if f.corrected is not None:
        worst, _ = kept(f.corrected, f.key + "/corrected")
        out.corrected = worst <= 1
        out.findings.append(Finding("statistical", "with the corrected flip probability the kept frequency "
                                    + ("matches" if out.corrected else "differs from") + " equation 1 (Bernstein "
                                    f"radius, false-alarm {_ALARM})"))
    return out


#: Where the two readings of q are compared numerically (chapter 2's displayed q against the softmax).
SAME_Q_POINT = (np.array([2.0, -1.0, 0.5]), 0.1)


def _same_q(f: Formulas) -> Numeric:
    """q under flipping (the printed reading), chapter 2's displayed q and the corrected one, component by
    component, against the library's softmax at random logits; chapter 2's q against mpmath's softmax."""
    def gap(reading, key):
        return _worst(sweep(lambda x, p, k=k: reading.rhs(x, f.context).component(k).subs(EPS, p),
                         lambda z, p, k=k: num.softmax(z)[:, k - 1], f"{key}/{k}", params=(0.1, 0.5)).worst
                   for k in (1, 2))
    model = gap(f.printed, f.key)
    note = gap(f.inputs["q_smoothing"], f.key + "/note")
    out = Numeric(printed=note <= RTOL)
    out.findings.append(Finding("numeric", "$q_\\theta(y \\mid x)$ under flipping, as read, "
                                + ("matches" if model <= RTOL else "differs from") + " the library's softmax at "
                                f"random logits (relative tolerance {inline(RTOL, 'g')})", model <= RTOL, error=model))
    out.findings.append(Finding("numeric", "chapter 2's displayed $q_\\theta$ " + ("matches" if out.printed else
                                "differs from") + r" the softmax at random logits, $\epsilon \in \{0.1, 0.5\}$"))
    if not out.printed:
        z, eps = SAME_Q_POINT
        note_q = f.inputs["q_smoothing"]
        a = mp_value(lambda x: note_q.rhs(x, f.context).component(1).subs(EPS, sp.Rational(str(eps))), z)
        with mpmath.workdps(50):
            b = float(mp_softmax(z)[0])
        out.counterexample = Counterexample(r"$q_\theta(y_1 \mid x)$", a, b, K=3, z=tuple(z), parameters={"eps": eps},
                                            note="printed: the note's label-smoothing $q$; correct: the softmax, "
                                                 "under flipping and smoothing alike (mpmath)")
    if f.corrected is not None:
        fixed = gap(f.corrected, f.key + "/corrected")
        out.corrected = fixed <= RTOL
        out.findings.append(Finding("numeric", "the corrected $q_\\theta$ " + ("matches" if out.corrected else
                                    "differs from") + f" the library's softmax (relative tolerance {inline(RTOL, 'g')})",
                                    error=fixed))
    return out


def _same_p_pairs(f: Formulas, x: Logits):
    soft = f.inputs["soft_target"]
    return [(f.printed.rhs(x, f.context, j=k), soft.rhs(x, f.context, j=k)) for k in _compared_classes(x)]


def _incorrect_pairs(f: Formulas, x: Logits):
    rhs = f.printed.rhs(x, f.context)
    return [(f.printed.lhs(x, f.context), rhs), (PR(x.K), rhs)]


def _definition_pairs(f: Formulas, x: Logits):
    soft = f.inputs["soft_target"]
    return [(PR(k), soft.rhs(x, f.context, j=k)) for k in _compared_classes(x)]


def _sentence_flip(f: Formulas):
    return _flip_probability(f.printed, f.context)


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


def _fresh_means(reading, ctx, key: str, loss_part: int | None, grad_part: int | None) -> float:
    """Fresh flips at random logits (:data:`FRESH_CASES`): the expected loss (relation ``loss_part`` of the reading)
    and the expected gradient (relation ``grad_part``, classes 1, 2 and K) read with ``Pr(k)`` the frequency of
    class ``k`` among :data:`MC_DRAWS` labels flipped by ``flip_labels``, which makes them the Monte Carlo means of
    the flipped loss and gradient, against their right-hand sides and the library (the smoothed loss, its
    gradient ``softmax(z) - p``), in Bernstein radii: the largest distance."""
    def radii(pt):
        K, eps, z, x = pt.K, pt.param, pt.z[0], Logits(pt.K)
        freq = flip_frequencies(K, eps, MC_DRAWS, pt.rng)
        p = smoothed_targets([0], K, eps=eps)[0]
        out = []
        if loss_part is not None:
            losses = -num.log_softmax(z)
            mean = float(smoothed_cross_entropy(z, 0, eps=eps))
            r = float(bernstein_radius(MC_DRAWS, float(flipped_loss_variance(z, 0, eps)),
                                       float(np.max(np.abs(losses - mean)))))
            for side in (reading.lhs(x, ctx, loss_part), reading.rhs(x, ctx, loss_part)):
                out.append(abs(_number(side, eps, freq, z=z, x=x) - mean) / (r + 1e-15))
        if grad_part is not None:
            g = num.softmax(z) - p
            for a in _compared_classes(x):
                r = float(frequency_radius(MC_DRAWS, p[a - 1]))
                for side in (reading.lhs(x, ctx, grad_part, a=a), reading.rhs(x, ctx, grad_part, a=a)):
                    out.append(abs(_number(side, eps, freq, z=z, x=x) - g[a - 1]) / (r + 1e-15))
        return _worst(out)
    return largest(radii, key, cases=FRESH_CASES, scales=(3.0,), n=1).worst


_FRESH = r"$(K, \epsilon) \in \{" + ", ".join(map("({0[0]}, {0[1]:g})".format, FRESH_CASES)) + r"\}$"


def _equivalence(f: Formulas) -> Numeric:
    """A flip kept: one gradient step shows the next gradient is not the smoothed one (the counterexample). Fresh
    flips: the general form's expected loss and gradient, at the sampled frequencies, against the library."""
    K, eps, lr, kept = KEPT_STEP
    z1, g_kept, g_fresh = kept_flip_gradients(K, eps, lr, kept)
    out = Numeric(printed=bool(np.max(np.abs(g_kept - g_fresh)) <= 1e-12))
    out.findings.append(Finding("numeric", rf"a flip kept: one gradient step of size {lr:g} from $z = 0$ on a label "
                                           rf"flipped to class {kept + 1} ($K = {K}$, $\epsilon = {eps:g}$) gives "
                                           rf"$z = {vector(z1, '.4f')}$; given these logits the label is known, and "
                                           rf"the mean of the next gradient is $q - e_{kept + 1} = "
                                           rf"{vector(g_kept, '.4f')}$, not the smoothed $q - p = "
                                           rf"{vector(g_fresh, '.4f')}$"))
    out.counterexample = Counterexample(r"mean gradient on $z_1$ at step 2, given the logits", float(g_kept[0]),
                                        float(g_fresh[0]), K=K, z=tuple(float(v) for v in z1),
                                        parameters={"eps": eps},
                                        note=rf"one step of size {lr:g} from $z = 0$ on a label flipped to class "
                                             rf"{kept + 1} and kept; correct: with a fresh flip, the smoothed gradient")
    if f.corrected is not None:
        worst = _fresh_means(f.corrected, f.context, f.key, 0, 1)
        out.assuming = out.corrected = worst <= 1
        out.findings.append(Finding("statistical", "fresh flips at random logits: the general form's expected loss "
                                    "and gradient (classes 1, 2, $K$), read at the sampled frequencies, "
                                    + ("match" if worst <= 1 else "differ from") + " the library's smoothed loss and "
                                    f"its gradient within the Bernstein radius (false-alarm {_ALARM}; {_FRESH})"))
    return out


def _mc_agreement(loss_part, grad_part, what: str):
    def numeric(f: Formulas) -> Numeric:
        worst = _fresh_means(f.printed, f.context, f.key, loss_part, grad_part)
        ok = worst <= 1
        return Numeric([Finding("statistical", "fresh flips at random logits: both sides, read with $\\Pr(y = j "
                                "\\mid x)$ the sampled frequencies (so the left side is the Monte Carlo mean), "
                                + ("match" if ok else "differ from") + f" the library's {what} within the Bernstein "
                                f"radius (false-alarm {_ALARM}; {MC_DRAWS:,} draws; {_FRESH})")],
                       printed=ok)
    return numeric


def _expected_loss(f: Formulas) -> Numeric:
    """Monte Carlo of the flipped loss (both sides at the sampled frequencies), and the right side against the
    library's smoothed loss at random logits (mpmath for any counterexample)."""
    out = _mc_agreement(0, None, "smoothed loss")(f)
    exact = against(lambda z, p: smoothed_cross_entropy(z, np.zeros(len(z), dtype=int), eps=p, reduction="none"),
                    lambda z, p: mp_smoothed_cross_entropy(z, 0, p), params=(0.1, 0.5, 0.9), quantity="loss")(f)
    out.findings += exact.findings
    out.printed = out.printed and exact.printed
    out.counterexample = exact.counterexample
    return out


def _expected_gradient(f: Formulas) -> Numeric:
    """Monte Carlo of the flipped gradient, and the right side against central differences of the library's
    smoothed loss."""
    out = _mc_agreement(None, 0, "gradient $q - p$ of the smoothed loss")(f)
    h, eps = 1e-6, 0.2

    def vs_differences(pt):
        x, z = Logits(pt.K), pt.z[0]
        printed = np.array([_number(f.printed.rhs(x, f.context, a=a), eps, z=z, x=x) for a in range(1, pt.K + 1)])
        fd = np.array([(smoothed_cross_entropy(z + h * e, 0, eps=eps) - smoothed_cross_entropy(z - h * e, 0, eps=eps))
                       / (2 * h) for e in np.eye(pt.K)])
        return float(np.max(np.abs(fd - printed)))
    worst = largest(vs_differences, f.key + "/differences", Ks=(2, 5, 20), scales=(4.0,), n=1).worst
    out.printed = out.printed and worst <= 1e-7
    out.findings.append(Finding("numeric", "central differences of `smoothed_cross_entropy` "
                                + ("match" if worst <= 1e-7 else "differ from") + " the printed gradient at random "
                                "logits (absolute tolerance $10^{-7}$)", error=worst))
    return out


def _exact_probabilities(K: int, eps: float):
    """The flipped label's distribution at ``K``, exact (``1 - eps``, ``eps/(K - 1)``), class by class from 1."""
    e = sp.Rational(str(eps))
    return [1 - e] + [e / (K - 1)] * (K - 1)


def _enumerated(expr, x: Logits, eps: float, z) -> float:
    """A read formula with ``Pr(k)`` the exact probability of class ``k`` (an enumeration over the labels), in
    mpmath at 50 digits."""
    e = sp.sympify(expr).replace(PR, lambda k: _exact_probabilities(x.K, eps)[int(k) - 1])
    return mp_value(lambda y: e.subs(EPS, sp.Rational(str(eps))).doit(), np.asarray(z))


def _loss_variance(f: Formulas) -> Numeric:
    """The printed variance against the library's ``flipped_loss_variance``; the printed left side, enumerated over
    the labels in mpmath, against the library; the sample variance of fresh flips against the printed right side."""
    eps = 0.3
    right = _compiled_rhs(f.printed, f.context, eps)

    def off_printed(pt):
        v = flipped_loss_variance(pt.z, np.zeros(len(pt.z), dtype=int), eps)
        return np.abs(right(pt.K)(*pt.z.T) - v) / np.maximum(1.0, v)
    worst = largest(off_printed, f.key, Ks=(2, 3, 10, 30), scales=(0.1, 1.0, 10.0), n=4).worst

    def enumeration(pt):
        x, z = Logits(pt.K), pt.z[0]
        v = float(flipped_loss_variance(z, 0, eps))
        return abs(_enumerated(f.printed.lhs(x, f.context), x, eps, z) - v) / max(1.0, v)
    enum = largest(enumeration, f.key + "/enumeration", Ks=(2, 3, 10), scales=(4.0,), n=1).worst

    def radii_off(pt):               # the sample variance of fresh flips - the printed right side, in radii
        K, p, z = pt.K, pt.param, pt.z[0]
        losses = flipped_losses(z, 0, p, MC_DRAWS, pt.rng)
        target = smoothed_targets([0], K, eps=p)[0]
        printed = _number(f.printed.rhs(Logits(K), f.context), p, z=z, x=Logits(K))
        return abs(float(losses.var()) - printed) / variance_radius(MC_DRAWS, -num.log_softmax(z), target)
    mc = largest(radii_off, f.key + "/mc", cases=((3, 0.1), (10, 0.4)), scales=(4.0,), n=1).worst
    ok = worst <= RTOL and enum <= 1e-9 and mc <= 1
    return Numeric([
        Finding("numeric", "the printed right side " + ("matches" if worst <= RTOL else "differs from")
                + f" `flipped_loss_variance` at random logits (relative tolerance {inline(RTOL, 'g')})", error=worst),
        Finding("numeric", "`flipped_loss_variance` " + ("matches" if enum <= 1e-9 else "differs from") + " the "
                "printed left side enumerated over the $K$ labels in mpmath (relative tolerance $10^{-9}$)",
                error=enum),
        Finding("statistical", "the sample variance of fresh flips (`flipped_losses`) " + ("matches" if mc <= 1 else
                "differs from") + f" the printed right side within its Bernstein radius (false-alarm {_ALARM}; "
                f"{MC_DRAWS:,} draws)")], printed=ok)


def _compiled_rhs(reading, ctx, eps: float, part: int = 0):
    """The right-hand side of relation ``part`` at ``eps``, compiled once per K: ``right(K)(*z.T)``."""
    cache = {}

    def right(K):
        if K not in cache:
            x = Logits(K)
            cache[K] = compiled(x.symbols, sp.sympify(reading.rhs(x, ctx, part)).subs(EPS, sp.Rational(str(eps))).doit())
        return cache[K]
    return right


def _gradient_covariance(f: Formulas) -> Numeric:
    """The printed covariance (entries (1, 1), (1, 2), (2, 2), (2, K), (K, K)) and trace against the library's
    ``flipped_gradient_covariance``; its left side, enumerated over the labels in mpmath, against the same."""
    def off_printed(pt):
        K, eps, z, x = pt.K, pt.param, pt.z[0], Logits(pt.K)
        C = flipped_gradient_covariance(z, 0, eps)
        entries = [abs(C[a - 1, b - 1] - _number(f.printed.rhs(x, f.context, 0, a=a, b=b), eps))
                   for a, b in sorted({(1, 1), (1, 2), (2, 2), (2, K), (K, K)})]
        return _worst(entries + [abs(float(np.trace(C)) - _number(f.printed.rhs(x, f.context, 1), eps))])
    worst = largest(off_printed, f.key, cases=((2, 0.1), (5, 0.3), (20, 0.2)), scales=(4.0,), n=1).worst

    def enumeration(pt):
        K, eps, z, x = pt.K, pt.param, pt.z[0], Logits(pt.K)
        C = flipped_gradient_covariance(z, 0, eps)
        return _worst(abs(C[a - 1, b - 1] - _enumerated(f.printed.lhs(x, f.context, 0, a=a, b=b), x, eps, z))
                   for a, b in sorted({(1, 1), (1, 2), (2, K)}))
    enum = largest(enumeration, f.key + "/enumeration", cases=((2, 0.1), (5, 0.3)), scales=(4.0,), n=1).worst
    return Numeric([
        Finding("numeric", "the printed entries and trace " + ("match" if worst <= 1e-12 else "differ from")
                + " `flipped_gradient_covariance` at random logits (absolute tolerance $10^{-12}$)", error=worst),
        Finding("numeric", "`flipped_gradient_covariance` " + ("matches" if enum <= 1e-12 else "differs from")
                + " the printed left side enumerated over the $K$ labels in mpmath (absolute tolerance $10^{-12}$)",
                error=enum)], printed=worst <= 1e-12 and enum <= 1e-12)


def _optimum_point(f: Formulas, x: Logits, eps: float) -> np.ndarray:
    """The logits that relation 1 of the printed statement puts each class at, solved for ``z_k``, at ``eps``."""
    def logit(k):
        solved = sp.solve(f.printed.lhs(x, f.context, 0, j=k) - f.printed.rhs(x, f.context, 0, j=k), x.z(k))
        return _number(solved[0], eps) if len(solved) == 1 else np.nan
    return np.array([logit(k) for k in range(1, x.K + 1)])


def _optimum_noise(f: Formulas) -> Numeric:
    """At the printed point (relation 1, shifted by a random common logit, which the variance does not see): the
    library's gradient of the smoothed loss against relation 2, its ``flipped_loss_variance`` against relation 3
    and ``eps (1 - eps) g^2`` with ``g`` its ``smoothed_optimum_gap``; both relations' left sides, evaluated
    there (relation 3's enumerated over the labels in mpmath), against the library."""
    def off_printed(pt):
        K, eps, x = pt.K, pt.param, Logits(pt.K)
        z = _optimum_point(f, x, eps) + pt.z[0, 0]
        g = num.softmax(z) - smoothed_targets([0], K, eps=eps)[0]
        grad = _worst(abs(g[a - 1] - _number(f.printed.rhs(x, f.context, 1, a=a), eps)) for a in _compared_classes(x))
        want = _number(f.printed.rhs(x, f.context, 2), eps)
        v = float(flipped_loss_variance(z, 0, eps))
        return _worst([grad, abs(v - want) / max(want, 1e-300),
                       abs(eps * (1 - eps) * smoothed_optimum_gap(K, eps) ** 2 - want) / max(want, 1e-300)])
    worst = largest(off_printed, f.key, cases=((2, 0.1), (10, 0.1), (100, 0.3)), scales=(2.0,), n=1).worst

    def left_sides(pt):
        K, eps, x = pt.K, pt.param, Logits(pt.K)
        z = _optimum_point(f, x, eps) + pt.z[0, 0]
        g = num.softmax(z) - smoothed_targets([0], K, eps=eps)[0]
        grad = _worst(abs(g[a - 1] - _number(f.printed.lhs(x, f.context, 1, a=a), eps, z=z, x=x))
                   for a in _compared_classes(x))
        v = float(flipped_loss_variance(z, 0, eps))
        return _worst([grad, abs(_enumerated(f.printed.lhs(x, f.context, 2), x, eps, z) - v) / max(v, 1e-300)])
    lhs = largest(left_sides, f.key + "/left", cases=((2, 0.1), (5, 0.3)), scales=(2.0,), n=1).worst
    ok = worst <= 1e-9
    return Numeric([Finding("numeric", "at the printed point, the library's gradient $q - p$ and "
                            "`flipped_loss_variance` " + ("match" if ok else "differ from") + r" the printed values, "
                            r"and the variance is $\epsilon(1-\epsilon)\,g^2$ with $g$ = `smoothed_optimum_gap` "
                            "(tolerance $10^{-9}$)", error=worst),
                    Finding("numeric", "there, shifted by a common logit, the printed left sides (the gradient, and "
                            "the variance enumerated over the labels in mpmath) " + ("match" if lhs <= 1e-9 else
                            "differ from") + " the library (tolerance $10^{-9}$)", error=lhs)],
                   printed=ok and lhs <= 1e-9)


# -- 1-3. the note's displayed probabilities ------------------------------------------------
register(Claim(
    id="ch3.keep_probability", section=SECTION,
    stated=Verdict.HOLDS,
    title=r"The flipped label is the true one with probability $1 - \epsilon$",
    printed=displayed(3, 1),
    context=FLIP,
    numeric=_event,
    remark=r"The defining property of the flipping process (keep the label with probability $1 - \epsilon$), derived "
           r"from the sampler by integrating over its uniform draw, and measured on `flip_labels`.",
))

register(Claim(
    id="ch3.flip_probability",
    stated=Verdict.HOLDS,
    title=r"The label is changed with probability $\epsilon$",
    printed=displayed(3, 2),
    context=FLIP,
    numeric=_event,
    remark="The complement of equation 1, derived as the total of the $K - 1$ wrong-class probabilities.",
))

register(Claim(
    id="ch3.incorrect_class",
    stated=Verdict.HOLDS_UNDER,
    title=r"Each wrong class gets $\frac{\epsilon}{K-1}$",
    printed=displayed(3, 3),
    assumption=UNIFORM_FLIPS,
    corrected=GENERAL_FLIPS,
    context=FLIP,
    numeric=_flips_split(_incorrect_pairs, r"$\Pr(y = 2 \mid x)$", 0),
    remark=r"'There are $K-1$ possibilities' does not make them equally likely: equations 1 and 2 hold for any split "
           r"$r$ of the flips among the wrong classes ($r_j \ge 0$, summing to 1), and only the uniform split "
           r"$r_j = \frac{1}{K-1}$ gives $\frac{\epsilon}{K-1}$. Uniform flips are what makes the flipped label match "
           r"the note's soft target.",
))


# -- 4-7. the note's conclusion, sentence by sentence ---------------------------------------------
register(Claim(
    id="ch3.flip_one_minus_eps",
    stated=Verdict.ERRATUM,
    title=r"'flipping the labels with $1 - \epsilon$ probability'",
    printed=quote(r"by flipping the labels with  $1-\epsilon$  probability"),
    corrected=r"by flipping the labels with $\epsilon$ probability",
    inputs={"keep": displayed(3, 1)},
    context=FLIP,
    numeric=_flip_one_minus_eps,
    remark=r"Stated in the text. Flipping with probability $1 - \epsilon$ keeps the true label with probability "
           r"$\epsilon$, the opposite of equation 1 and of the note's own definition of label smoothing, 'flipping "
           r"output labels with a certain probability (say $\epsilon$)' (ch3.smoothing_by_flipping); the two agree only "
           r"at $\epsilon = \frac{1}{2}$.",
))

register(Claim(
    id="ch3.same_q",
    stated=Verdict.ERRATUM,
    title=r"'we obtain the same $q_\theta(y \mid x)$'",
    printed=quote(r"we obtain the same  $q_{\theta}(y|x)$"),
    corrected=SOFTMAX_Q,
    inputs={"q_smoothing": displayed(2, 1)},
    context=FLIP,
    numeric=_same_q,
    remark=r"Stated in the text. $q_\theta$ is the model's output, $\mathrm{softmax}(z)$: computed from the logits "
           r"alone, so no choice of target changes it, under flipping or smoothing. The note's label-smoothing "
           r"$q_\theta$ (chapter 2, equation 1) is not a softmax, so flipping cannot reproduce it. What flipping "
           r"reproduces is the target distribution, in expectation (ch3.same_p).",
))

register(Claim(
    id="ch3.same_p",
    stated=Verdict.HOLDS_UNDER,
    title=r"'... and the same $p(y_j \mid x)$ as in label smoothing'",
    printed=quote(r"and same  $p(y_j|x)$  as in label smoothing"),
    assumption=UNIFORM_FLIPS,
    corrected=GENERAL_FLIPS,
    inputs={"soft_target": displayed(2, 2)},
    context=FLIPPED_TARGET,
    numeric=_flips_split(_same_p_pairs, r"$p(y_2 \mid x)$", 1),
    remark=r"Stated in the text. With uniform flips (the assumption of equation 3) the distribution of the flipped "
           r"label is exactly the soft target: the soft target is the expectation of the flipped one-hot label; each "
           r"realised label is still one-hot. Flips split unevenly among the wrong classes satisfy equations 1 and 2 "
           r"and give a different $p$: the general form, with the soft target only for $r_j = \frac{1}{K-1}$.",
))

register(Claim(
    id="ch3.equivalence",
    stated=Verdict.HOLDS_UNDER,
    title="'label flipping is equivalent to soft labels'",
    printed=quote("This shows that label flipping is equivalent to replacing hard labels with soft labels."),
    assumption=FRESH_FLIPS,
    corrected=EQUIVALENCE,
    context=FLIP,
    numeric=_equivalence,
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


# -- 8. the note's definition: "flipping output labels with a certain probability (say eps)" -----------------
register(Claim(
    id="ch3.smoothing_by_flipping",
    stated=Verdict.HOLDS_UNDER,
    title=r"'Label smoothing refers to ... flipping output labels with a certain probability (say $\epsilon$)'",
    printed=quote(r"Label smoothing refers to regularizing a model by flipping output labels with a certain probability "
                  r"(say  $\epsilon$ )"),
    assumption=UNIFORM_FLIPS,
    corrected=GENERAL_FLIPS,
    inputs={"soft_target": displayed(2, 2)},
    context=FLIP,
    numeric=_flips_split(_definition_pairs, r"$\Pr(y = 2 \mid x)$", 1, _sentence_flip),
    remark=r"The note's definition, at the head of its section on label smoothing. Its flip probability is the right "
           r"one: flipping with probability $\epsilon$ keeps the label with probability $1-\epsilon$, the soft "
           r"target's weight on the true class (the note later says $1-\epsilon$, ch3.flip_one_minus_eps). The "
           r"flipped label then has the soft target as its distribution only if the flips are spread evenly over the "
           r"$K-1$ wrong classes, which the sentence does not say (ch3.incorrect_class); and it is the distribution "
           r"that matches, while each flipped label is still one-hot. Whether training on flipped labels does what "
           r"training on soft labels does is another question: ch3.equivalence.",
))


# -- added 9. the distribution of the flipped label, from the sampler ---------------------------------------
register(Claim(
    id="ch3.flip_distribution",
    stated=Verdict.HOLDS,
    title="The distribution of the flipped label",
    printed=r"\Pr(y = j|x) = \begin{cases} 1 - \epsilon, & j = 1\\ \frac{\epsilon}{K - 1}, & \text{otherwise} \end{cases}",
    context=FLIP,
    numeric=_flip_distribution,
    remark=r"Derived from the sampler: one uniform $u$ per label, kept if $u \ge \epsilon$, else class "
           r"$\lfloor (K-1)u/\epsilon \rfloor$ among the others; integrating over $u$ gives the note's soft target, for "
           r"a general $K$.",
))


# -- added 10-11. the exact equivalence: expected loss and expected gradient -----------------------------------
register(Claim(
    id="ch3.expected_loss",
    stated=Verdict.HOLDS,
    title="Expected flipped loss $=$ smoothed loss",
    printed=r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = "
            r"-\sum_{j=1}^{K} p(y_j|x) \log q_{\theta}(y_j|x)",
    context=FLIP,
    numeric=_expected_loss,
    remark="The expected loss of the flipped label (left) is the cross-entropy with the soft target (right). "
           "Linearity of expectation: the loss is linear in the one-hot target, whose expectation is $p$.",
))

register(Claim(
    id="ch3.expected_gradient",
    stated=Verdict.HOLDS,
    title="Expected flipped gradient $=$ smoothed gradient",
    printed=r"\frac{\partial}{\partial z_{a}} \sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j}\right) = "
            r"q_{a} - p_{a}",
    context=FLIP,
    numeric=_expected_gradient,
    remark="The gradient of the expected flipped loss is $q - p$, the smoothed loss's gradient (ch2.gradient): "
           "gradient descent with fresh flips is stochastic gradient descent on the smoothed loss.",
))


# -- added 12-14. what differs: the noise ----------------------------------------------------------------------
register(Claim(
    id="ch3.loss_variance",
    stated=Verdict.HOLDS,
    title="Variance of the flipped loss",
    printed=r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j} - \mathcal{L}(z)\right)^{2} = "
            r"\epsilon(1-\epsilon)\left(z_{y_1} - \frac{1}{K-1}\sum_{j=2}^{K} z_{y_j}\right)^{2} + "
            r"\frac{\epsilon}{K-1}\sum_{j=2}^{K}\left(z_{y_j} - \frac{1}{K-1}\sum_{k=2}^{K} z_{y_k}\right)^{2}",
    context=FLIP,
    numeric=_loss_variance,
    remark=r"The variance over the flip of the loss $\mathrm{LSE}(z) - z_Y$ ($\mathcal{L}$ the smoothed loss, its "
           r"mean): $\epsilon(1-\epsilon)$ times the squared gap between the true logit and the mean of the others, "
           r"plus $\epsilon$ times the spread of the other logits (law of total variance over 'flipped or not'). Soft "
           r"labels have no such term: their loss is deterministic given the logits.",
))

register(Claim(
    id="ch3.gradient_covariance",
    stated=Verdict.HOLDS,
    title="Covariance of the flipped gradient",
    printed=r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\frac{\partial}{\partial z_{a}}\left(\mathrm{LSE}(z) - z_{y_j}\right) "
            r"- q_{a} + p_{a}\right)\left(\frac{\partial}{\partial z_{b}}\left(\mathrm{LSE}(z) - z_{y_j}\right) - q_{b} "
            r"+ p_{b}\right) = p_{a}\delta_{ab} - p_{a} p_{b}, \quad \sum_{a=1}^{K}\left(p_{a} - p_{a}^{2}\right) = "
            r"1 - (1-\epsilon)^{2} - \frac{\epsilon^{2}}{K-1}",
    context=FLIP,
    numeric=_gradient_covariance,
    remark=r"The covariance over the flip of the logit gradient (its mean is $q - p$, ch3.expected_gradient) is "
           r"$\mathrm{diag}(p) - p p^\top$, with trace $1 - \sum_a p_a^2$. The logits drop out: the noise that "
           r"flipping adds to the gradient is the same everywhere, including at the optimum.",
))

register(Claim(
    id="ch3.optimum_noise",
    stated=Verdict.HOLDS,
    title="At the optimum: mean gradient zero, noise not",
    printed=r"z_{y_j} = \log p_{j}, \quad \frac{\partial}{\partial z_{a}} \mathcal{L}(z) = 0, \quad "
            r"\sum_{j=1}^{K} \Pr(y = j|x) \left(\mathrm{LSE}(z) - z_{y_j} - \mathcal{L}(z)\right)^{2} = "
            r"\epsilon(1-\epsilon)\left(\log\frac{(1-\epsilon)(K-1)}{\epsilon}\right)^{2}",
    context=FLIP,
    numeric=_optimum_noise,
    remark=r"At the smoothed optimum $z_j = \log p_j$ (up to a common shift) the mean gradient vanishes, but the "
           r"flipped loss still varies, by $\epsilon(1-\epsilon)$ times the squared optimal gap, and the gradient noise "
           r"keeps the trace of ch3.gradient_covariance. Gradient descent with fresh flips and a constant step "
           r"therefore does not settle at the optimum but fluctuates around it (chapter 4); averaging the iterates or "
           r"decaying the step removes the noise. The loss variance vanishes only at $\epsilon = \frac{K-1}{K}$, the "
           r"uniform target.",
))
