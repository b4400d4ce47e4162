"""Chapter 2: the note's section on soft labels (label smoothing).

One entry per displayed equation of the note's soft-label part (taken from the transcription,
:func:`derivations.engine.note.displayed`), and the sentence the note concludes with; then the results the
companion adds: the exact smoothed loss and its relation to the hard loss, gradient and Hessian (for any target),
the optimum, entropy + KL, and the mapping to the frameworks' uniform-mixture convention. Each is decided by its
derivation cell in ``notebooks/02_soft_labels.ipynb`` (plain SymPy that reads the formula as printed, in the
context :data:`~derivations.engine.notation.SOFT`: ``p`` is the note's soft target, ``M`` is
``||z_y||_inf``), with ``epsilon`` a positive symbol. Beside it, the numeric checks here evaluate the same formula,
read from the same LaTeX, against the NumPy library and mpmath at 50 digits, with ``epsilon`` swept over
0, 0.1, 0.5, 0.9 and 1 wherever the line is meant for every ``epsilon``. Class 1 is the true class throughout.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from derivations.engine.checks import (
    CE_RTOL,
    NUMERIC_K,
    RTOL,
    Point,
    against,
    components_against,
    largest,
    mp_value,
    near_max,
    numeric_values,
    rng_for,
)
from derivations.engine.evaluation import values
from derivations.engine.finding import Finding
from derivations.engine.notation import ANY_TARGET, EPS, INDEX_J, SOFT, evaluate
from derivations.engine.note import displayed, quote
from derivations.engine.reference import mp_smoothed_cross_entropy, mp_softmax
from derivations.engine.registry import Claim, Counterexample, Formulas, Numeric, Verdict, register
from derivations.engine.symbolic import Logits, compiled
from derivations.engine.tex import inline, vector
from derivations.library import numeric as num
from derivations.library import smoothing as sm

__all__ = ["EPS_SWEEP", "SOFTMAX_Q", "smoothed_loss_numeric", "smoothed_loss_mp"]

SECTION = "Label smoothing: soft labels"
#: The values of epsilon the numeric checks sweep, edges included (exact rationals, so SymPy keeps them exact).
EPS_SWEEP = (sp.Integer(0), sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10), sp.Integer(1))
#: The epsilon of the counterexamples.
EPS_CE = sp.Rational(1, 10)


# -- the references: the NumPy library and mpmath -----------------------------------------------------------
def smoothed_loss_numeric(z: np.ndarray, eps) -> np.ndarray:
    """The note's smoothed loss of class 1 (index 0), from the NumPy library, one value per row of ``z``."""
    return sm.smoothed_cross_entropy(z, np.zeros(len(z), dtype=int), eps=float(eps), reduction="none")


def smoothed_loss_mp(z, eps) -> float:
    """The same at 50 digits (mpmath, written independently of the library)."""
    return float(mp_smoothed_cross_entropy(z, 0, eps))


#: The numeric checks of every '=' line of the smoothed loss, for every epsilon swept.
_LOSS = against(smoothed_loss_numeric, smoothed_loss_mp, params=EPS_SWEEP, ce_params=(EPS_CE,), quantity="loss")


def _eps_words(params=EPS_SWEEP) -> str:
    return r"$\epsilon \in \{" + ", ".join(sp.latex(p) for p in params) + r"\}$"


# -- 1. the note's modified q_theta ---------------------------------------------------------------------
#: The model's output under label smoothing (and flipping): still the softmax of the logits.
SOFTMAX_Q = (r"q_{\theta}(y|x) = \left(\frac{\exp(z_{y_1})}{\sum_{j=1}^K \exp(z_{y_j})}, \cdots, "
             r"\frac{\exp(z_{y_K})}{\sum_{j=1}^K \exp(z_{y_j})}\right)")


#: Every component of the printed and the corrected vector against the library's softmax, every epsilon swept.
_COMPONENTS = components_against(lambda z, j: num.softmax(z)[:, j], lambda z, j: mp_softmax(z)[j],
                                 params=EPS_SWEEP, ce_param=EPS_CE, what="the library's softmax")


def _components_vs_softmax(f: Formulas) -> Numeric:
    """:func:`components_against`, and where the printed vector has a counterexample, the sum of its components
    there, in mpmath: not 1."""
    out = _COMPONENTS(f)
    ce = out.counterexample
    if ce is not None:
        total = mp_value(lambda x: sum(f.printed.rhs(x, f.context).components()).subs(EPS, EPS_CE), np.array(ce.z))
        out.findings.append(Finding("numeric", f"at {ce.point()} the printed components sum to ${total:.4f}$",
                                    abs(total - 1) > CE_RTOL))
    return out


register(Claim(
    id="ch2.q_modified", section=SECTION,
    stated=Verdict.ERRATUM,
    title="The model output under label smoothing",
    printed=displayed(2, 1),
    corrected=SOFTMAX_Q,
    context=SOFT,
    numeric=_components_vs_softmax,
    remark=r"Label smoothing changes the target $p$, not the model's output: $q$ is still the softmax of the logits, "
           r"for every $\epsilon$. The printed vector scales the logits inside the exponentials by the target weights, "
           r"is not a probability vector (it does not sum to 1), and is not even the softmax at $\epsilon = 0$.",
))


# -- 2. the soft target -------------------------------------------------------------------------------------
def _target_entries(f: Formulas) -> Numeric:
    """The printed cases on the label and off it, against the library's ``smoothed_targets``, for K up to 1000 and
    every epsilon swept; and the K entries sum to 1."""
    g = Logits()
    p = f.printed.rhs(g, f.context)                            # a function of the class index j

    def entries(pt):                                           # largest |library - printed|, and |sum - 1|
        at = {g.K: pt.K, EPS: pt.param}
        on, off = (float(p.subs(INDEX_J, k).subs(at)) for k in (1, 2))
        y = pt.labels()
        lib = sm.smoothed_targets(y, pt.K, eps=float(pt.param))
        printed = np.where(np.arange(pt.K) == y[:, None], on, off)
        return np.maximum(np.max(np.abs(lib - printed), axis=1), abs(on + (pt.K - 1) * off - 1))
    worst = largest(entries, f.key, Ks=NUMERIC_K + (1000,), scales=(1.0,), n=16, params=EPS_SWEEP).worst
    ok = worst <= 4 * np.finfo(float).eps
    return Numeric([Finding("numeric", "the printed entries " + ("are" if ok else "are NOT")
                            + r" those of the library's `smoothed_targets` ($1 - \epsilon$ on the label, "
                              r"$\frac{\epsilon}{K-1}$ elsewhere) and sum to 1, $K$ up to 1000, " + _eps_words(),
                            error=worst)], printed=ok)


register(Claim(
    id="ch2.soft_target",
    stated=Verdict.HOLDS,
    title="The soft target",
    printed=displayed(2, 2),
    context=SOFT,
    numeric=_target_entries,
    remark=r"A definition; it is a probability vector for every $\epsilon \in [0, 1]$ (proved for a general symbolic "
           r"$K$). The text's '$k$ output units' and the display's $K$ are the same number.",
))


# -- 3. the sum over examples ----------------------------------------------------------------------------
N1_ASSUMPTION = (r"$N = 1$: the single data point the note analyses ('Lets consider one data point'); the summand's "
                 r"index $i$ is read as the summation index $l$")
#: Two distinct examples of class 1 (a counterexample needs examples whose losses differ), K = 3.
TWO_EXAMPLES = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))


def _over_examples(reading, ctx, losses) -> float:
    """A sum over examples as read (``\\sum H_i``), for the examples whose losses are ``losses``: ``N`` is their
    number, ``H(k)`` the loss of example ``k``, and a free ``i`` (the example the note analyses) the first."""
    e = reading.rhs(Logits(3), ctx)
    names = {s.name: s for s in e.free_symbols}
    e = e.subs(names["N"], len(losses)).doit() if "N" in names else e
    e = e.subs(names["i"], 1) if "i" in names else e
    return float(e.replace(lambda a: isinstance(a, sp.core.function.AppliedUndef) and a.func.__name__ == "H",
                           lambda a: sp.Float(losses[int(a.args[0]) - 1], 30)))


def _data_set(f: Formulas) -> Numeric:
    """The printed sum (and the corrected one) over batches of random examples of several sizes, each ``H_k`` the
    library's loss of example ``k``, against the library's loss of the batch (``reduction="sum"``)."""
    out = Numeric()
    gaps = {"printed": [0.0, 0.0], "corrected": [0.0, 0.0]}      # largest gap at N = 1, at N > 1
    rng = rng_for(f.key)
    for N in (1, 2, 5):
        for eps in EPS_SWEEP:
            for K in (2, 3, 10):
                z = rng.uniform(-3, 3, size=(N, K))
                y = rng.integers(0, K, size=N)
                each = sm.smoothed_cross_entropy(z, y, eps=float(eps), reduction="none")
                batch = float(sm.smoothed_cross_entropy(z, y, eps=float(eps), reduction="sum"))
                for form, reading in (("printed", f.printed), ("corrected", f.corrected)):
                    if reading is None:
                        continue
                    gap = abs(_over_examples(reading, f.context, each) - batch) / max(1.0, batch)
                    gaps[form][N > 1] = max(gaps[form][N > 1], gap)
    out.printed = max(gaps["printed"]) <= RTOL
    out.assuming = gaps["printed"][0] <= RTOL
    batches = (r"the library's loss of batches of 1, 2 and 5 random examples ($K \in \{2, 3, 10\}$, "
               + _eps_words() + ")")
    if out.printed:
        out.findings.append(Finding("numeric", f"the printed sum matches {batches}", error=max(gaps["printed"])))
    else:
        eps = float(EPS_CE)
        h = [smoothed_loss_mp(np.array(z), eps) for z in TWO_EXAMPLES]
        printed = _over_examples(f.printed, f.context, h)
        real = abs(printed - sum(h)) > CE_RTOL * sum(h)
        out.counterexample = Counterexample(
            "loss of the data set", printed, sum(h), K=3,
            parameters={"N": 2, "z^{(1)}": TWO_EXAMPLES[0], "z^{(2)}": TWO_EXAMPLES[1], "eps": EPS_CE},
            note=r"two examples of class 1; as printed, $N$ times the first one's loss") if real else None
        confirmed = f"at {out.counterexample.point()} mpmath confirms it" if real else "mpmath does NOT confirm it"
        out.findings.append(Finding("numeric", f"the printed sum differs from {batches}; {confirmed}", real))
        out.findings.append(Finding("numeric", "with one example ($N = 1$) the printed sum "
                                    + ("matches" if out.assuming else "still differs from")
                                    + " the library's loss of it", error=gaps["printed"][0]))
    if f.corrected is not None:
        out.corrected = max(gaps["corrected"]) <= RTOL
        out.findings.append(Finding("numeric", "the corrected sum, one loss per example, "
                                    + ("matches" if out.corrected else "differs from")
                                    + f" {batches}", error=max(gaps["corrected"])))
    return out


register(Claim(
    id="ch2.loss_sum_examples",
    stated=Verdict.HOLDS_UNDER,
    title="The loss as a sum over $N$ examples",
    printed=displayed(2, 3),
    assumption=N1_ASSUMPTION,
    corrected=r"\mathcal{L} = \sum_{i=1}^{N} H_{i}(p_{i}, q_{\theta,i})",
    context=SOFT,
    numeric=_data_set,
    remark=r"The summation index $l$ does not occur in the summand, so as printed the sum is $N H_i$: $N$ times the "
           r"loss of one example; and the next line is the loss of one example. The chain is right for the one data "
           r"point the note analyses ($N = 1$). For a data set the loss is the sum (or mean) over the examples $i$ of "
           r"each one's cross-entropy $H_i$, between its own target $p_i$ and the model's output for it, "
           r"$q_{\theta,i}$; each term is what the following lines compute. Chapter 1 used the same symbol $H_j$ for "
           r"per-class terms, summed over classes; this line sums over examples instead.",
))


# -- 4-5. cross-entropy with the soft target ------------------------------------------------------------------
register(Claim(
    id="ch2.loss_definition",
    stated=Verdict.HOLDS,
    title="Cross-entropy with the soft target",
    printed=displayed(2, 4),
    context=SOFT,
    numeric=_LOSS,
    remark="The definition of cross-entropy with $p$ the soft target and $q$ the (unchanged) softmax; checked "
           "against the library's closed-form `smoothed_cross_entropy`.",
))

register(Claim(
    id="ch2.loss_expanded",
    stated=Verdict.HOLDS,
    title="The loss written out term by term",
    printed=displayed(2, 5),
    context=SOFT,
    numeric=_LOSS,
    remark=r"Holds, reading '$\dots$' as the terms $\frac{\epsilon}{K-1}\log q_j$ for $j = 2, \dots, K$. As in "
           r"chapter 1, the justification '(assuming $i$ is the correct label)' names $i$ where the true class is 1.",
))


# -- 6-7. the approximations with M = ||z||_inf -----------------------------------------------------------------
#: Logits where the true class leads and is the largest in magnitude, the others not 0 (the offset's example).
OFFSET_AT = (20.0, 3.0, 3.0)
APPROX_CORRECTED = r"\approx \max_j z_{y_j} - (1-\epsilon) z_{y_1} - \frac{\epsilon}{K-1}\sum_{j=2}^{K} z_{y_j}"
#: Where M = ||z||_inf is exactly the largest logit (z = (20, 0, 0), margin 20): the error left is the weights'.
#: Read with the corrected form left out: see _corrected_near_max.
_NEAR_M = near_max(smoothed_loss_mp, eps=EPS_CE, largest_logits=(20,))
#: The margin, and the largest logits, at which the corrected form must be within 2 e^{-margin} of the loss.
MARGIN, LARGEST = 20.0, (-20.0, 0.0, 20.0)


def _line(f: Formulas, reading, x: Logits, e):
    """A line's right-hand side at logits ``x`` and epsilon ``e``."""
    return reading.rhs(x, f.context).subs(EPS, e)


def _offset(z: np.ndarray, eps) -> np.ndarray:
    """eps (1 - eps) z_1 + w (1 - w) sum_{j != 1} z_j, w = eps / (K - 1), per row: printed minus corrected where
    the true logit is the largest and the largest in magnitude."""
    w = eps / (z.shape[1] - 1)
    return eps * (1 - eps) * z[:, 0] + w * (1 - w) * z[:, 1:].sum(axis=1)


def _corrected_near_max(f: Formulas) -> tuple[bool, Finding]:
    """The corrected form as :func:`~derivations.engine.checks.near_max` reads it, for every epsilon swept: within
    ``2 e^{-20}`` of the loss at margin 20, whatever the largest logit, and its error in ``(0, log K]`` at random
    logits. Here the loss is of order 1 (about ``20 eps``), so its rounding (a few units of ``2^{-53}``) is allowed
    for beside ``2 e^{-20}`` (``near_max`` compares with ``2 e^{-20}`` alone, right for the hard loss, which is tiny
    there; reported)."""
    def off_by(e, m) -> float:                    # |corrected - loss| at margin 20, in units of what is allowed
        z = np.array([m, m - MARGIN, m - MARGIN])
        loss = smoothed_loss_mp(z, e)
        slack = 2 * np.exp(-MARGIN) + 8 * 2.0 ** -53 * max(1.0, abs(loss))
        return abs(mp_value(lambda x: _line(f, f.corrected, x, e), z) - loss) / slack
    near = max(off_by(e, m) for e in EPS_SWEEP for m in LARGEST)

    corrected = numeric_values(lambda x, e: _line(f, f.corrected, x, e))

    def outside(pt: Point) -> np.ndarray:         # 1 where the error leaves (0, log K]
        err = smoothed_loss_numeric(pt.z, pt.param) - corrected(pt, pt.z)
        slack = 1e-12 * np.maximum(1.0, np.abs(pt.z).max(axis=1))
        return ((err <= -slack) | (err > np.log(pt.K) + slack)).astype(float)
    inside = largest(outside, f.key + "/corrected", params=EPS_SWEEP).worst == 0
    ok = near <= 1 and inside
    return ok, Finding("numeric", f"the corrected form is within $2e^{{-{MARGIN:g}}}$ of the exact loss at margin "
                                  f"{MARGIN:g} (to rounding; largest logit {', '.join(f'{m:g}' for m in LARGEST)}), "
                                  r"and its error lies in $(0, \log K]$ at random logits, " + _eps_words()
                       + ("" if ok else ": it does NOT"))


def _near_max_and_offset(f: Formulas) -> Numeric:
    """:func:`near_max` where ``M`` is exact, the corrected form (:func:`_corrected_near_max`), and the offset of
    the printed form from the corrected one where the true logit is the largest and the largest in magnitude: at
    random logits, every epsilon swept, and at :data:`OFFSET_AT` in mpmath."""
    out = _NEAR_M(dataclasses.replace(f, corrected=None))
    out.corrected, finding = _corrected_near_max(f)
    out.findings.append(finding)

    gap = numeric_values(lambda x, e: _line(f, f.printed, x, e) - _line(f, f.corrected, x, e))

    def off(pt):                                  # z_1 moved above every |z_j|: M = max_j z_j = z_1
        z = pt.z.copy()
        z[:, 0] = np.abs(z).max(axis=1) + 1.0
        return np.abs(gap(pt, z) - _offset(z, float(pt.param))) / np.maximum(1.0, np.abs(z).max(axis=1))
    worst = largest(off, f.key + "/offset", params=EPS_SWEEP).worst
    z = np.array(OFFSET_AT)
    at = mp_value(lambda x: _line(f, f.printed, x, EPS_CE) - _line(f, f.corrected, x, EPS_CE), z)
    ok = worst <= 1e-12 and abs(at - _offset(z[None], float(EPS_CE))[0]) <= 1e-12 * abs(at)
    out.findings.append(Finding(
        "numeric", r"where the true logit is the largest and the largest in magnitude ($M = \max_j z_j = z_1$), the "
                   r"printed form exceeds the corrected one by $\epsilon(1-\epsilon) z_1 + \frac{\epsilon}{K-1}\bigl(1 "
                   r"- \frac{\epsilon}{K-1}\bigr)\sum_{j \ne 1} z_j$ at random logits, " + _eps_words()
                   + rf": ${at:.4g}$ at $z = {vector(OFFSET_AT)}$, $\epsilon = {float(EPS_CE):g}$ (mpmath), which "
                     rf"is $\epsilon(1-\epsilon) z_1$ only with the other logits at 0", ok, error=worst))
    return out


register(Claim(
    id="ch2.loss_approx_M",
    stated=Verdict.ERRATUM,
    title=r"The approximation with $M = \lVert z \rVert_\infty$",      # no "|": titles stand in tables
    printed=displayed(2, 6),
    corrected=APPROX_CORRECTED,
    inputs={"q_modified": displayed(2, 1)},
    context=SOFT,
    numeric=_near_max_and_offset,
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

register(Claim(
    id="ch2.loss_squared",
    stated=Verdict.ERRATUM,
    title="The final form with squared coefficients",
    printed=displayed(2, 7),
    corrected=APPROX_CORRECTED,
    inputs={"line_6": displayed(2, 6)},
    context=SOFT,
    numeric=_near_max_and_offset,
    remark=r"This line does follow from the previous one (the weights of $M$ add up to $(1-\epsilon) + (K-1)"
           r"\frac{\epsilon}{K-1} = 1$), so it inherits that line's errors: the other logits enter the loss with "
           r"weight $\frac{\epsilon}{K-1}$, not $\bigl(\frac{\epsilon}{K-1}\bigr)^2$, and the true logit with "
           r"$1-\epsilon$, not $(1-\epsilon)^2$. The note's conclusion, that the wrong classes contribute, is right "
           r"(ch2.wrong_classes); by how much is not. $j \ne i$ should read $j \ne 1$.",
))


# -- 8. "the final loss function has a contribution from even incorrect classification" -----------------------
def _wrong_class_terms(f: Formulas) -> Numeric:
    """The wrong classes' terms of the loss, -sum_{j >= 2} p_j log q_j, with each target read (the soft one of
    equation 2, the one-hot one of chapter 1), at random logits: against the library's smoothed loss minus the
    true class's share, (1 - eps) times its hard loss."""
    def target(name, K, e):
        t = f.inputs[name].rhs(Logits(K), f.context)
        return np.array([float(t.subs({INDEX_J: k, EPS: e})) for k in range(2, K + 1)])

    def gap(pt):                                  # |printed soft terms - library| ; inf where not > 0 or hard != 0
        e = float(pt.param)
        log_q = num.log_softmax(pt.z)[:, 1:]
        soft = -log_q @ target("target", pt.K, pt.param)
        hard = -log_q @ target("hard_target", pt.K, pt.param)
        y = np.zeros(len(pt.z), dtype=int)
        share = smoothed_loss_numeric(pt.z, e) - (1 - e) * num.cross_entropy_per_example(pt.z, y)
        ok = (soft > 0) & (hard == 0)
        return np.where(ok, np.abs(soft - share) / np.maximum(1.0, np.abs(share)), np.inf)
    params = EPS_SWEEP[1:]
    worst = largest(gap, f.key, scales=(0.1, 1.0, 10.0), params=params).worst
    ok = worst <= 1e-9
    return Numeric([Finding("numeric", r"at random logits, " + _eps_words(params) + ", the wrong classes' terms "
                            r"$-\sum_{j \ne 1} p_j \log q_j$ " + ("are" if ok else "are NOT")
                            + r" positive with the soft target, equal to the library's smoothed loss minus "
                              r"$(1 - \epsilon)$ times its hard loss, and 0 with the one-hot target", error=worst)],
                   printed=ok)


register(Claim(
    id="ch2.wrong_classes",
    stated=Verdict.HOLDS,
    title="'a contribution from even incorrect classification'",
    printed=quote("Now we can see that the final loss function has a contribution from even incorrect "
                  "classification."),
    inputs={"target": displayed(2, 2), "hard_target": displayed(1, 2)},
    context=SOFT,
    numeric=_wrong_class_terms,
    remark=r"Stated in the text. It holds as the note reads its own sum over classes: under hard labels the terms of "
           r"the wrong classes vanish ('all other contributions vanish', chapter 1), and under label smoothing they "
           r"are $-\frac{\epsilon}{K-1}\log q_j$, positive for every $\epsilon > 0$. It does not mean that the hard "
           r"loss ignored the wrong classes: $\mathrm{LSE}(z) - z_1$ depends on every logit, and its gradient on a "
           r"wrong logit is $q_j$, which pushes that logit down. What smoothing adds is linear in the logits, "
           r"$\epsilon\bigl(z_1 - \frac{1}{K-1}\sum_{j \ne 1} z_j\bigr)$ (ch2.vs_hard): a pull of "
           r"$\frac{\epsilon}{K-1}$ on each wrong logit, not the $\bigl(\frac{\epsilon}{K-1}\bigr)^2$ of the final "
           r"line (ch2.loss_squared).",
))


# -- added: the exact closed form and its relation to the hard loss ------------------------------------------
register(Claim(
    id="ch2.closed_form",
    stated=Verdict.HOLDS,
    title="The smoothed loss in closed form",
    printed=r"\mathcal{L}_\epsilon(z) = \mathrm{LSE}(z) - (1-\epsilon) z_1 - \frac{\epsilon}{K-1}\sum_{j=2}^{K} z_j",
    context=SOFT,
    numeric=_LOSS,
    remark=r"Because the target sums to 1, $-\sum_j p_j (z_j - \mathrm{LSE}(z)) = \mathrm{LSE}(z) - \sum_j p_j z_j$. "
           r"This is what `smoothed_cross_entropy` evaluates, without ever forming the $N \times K$ targets.",
))

register(Claim(
    id="ch2.vs_hard",
    stated=Verdict.HOLDS,
    title=r"Smoothed loss $=$ hard loss $+\ \epsilon \times$ (true logit $-$ mean of the others)",
    printed=r"\mathcal{L}_\epsilon(z) = \mathcal{L}_0(z) + \epsilon\left(z_1 - \frac{1}{K-1}\sum_{j=2}^{K} z_j\right)",
    context=SOFT,
    numeric=_LOSS,
    remark=r"Label smoothing adds a penalty linear in the logits: $\epsilon$ times the gap between the true logit and "
           r"the mean of the others. It is what stops the hard loss from being driven to 0 by an unbounded gap.",
))


# -- added: gradient and Hessian, for any target that sums to one -------------------------------------------------
_H = 1e-6                                          # the step of the central differences


def _target_symbols(K: int) -> list:
    """The p_1 .. p_K of a concrete K, as :data:`~derivations.engine.notation.ANY_TARGET` reads them."""
    return [sp.Symbol(f"p_{j}", real=True) for j in range(1, K + 1)]


def _gradient_vs_differences(f: Formulas) -> Numeric:
    """The printed gradient, every component, against central differences of the library's
    -sum_j p_j log softmax(z)_j, at random logits and random targets (Dirichlet)."""
    def gap(pt):
        K, z, x = pt.K, pt.z, Logits(pt.K)
        p = pt.rng.dirichlet(np.ones(K), size=len(z))
        out = []
        for a, dz in enumerate(_H * np.eye(K), start=1):
            grad = compiled(list(x.symbols) + _target_symbols(K), f.printed.rhs(x, f.context, a=a))
            fd = (np.sum(p * num.log_softmax(z - dz), axis=1) - np.sum(p * num.log_softmax(z + dz), axis=1)) / (2 * _H)
            out.append(np.abs(fd - np.asarray(grad(*z.T, *p.T), dtype=float)))
        return np.max(out, axis=0)
    worst = largest(gap, f.key, scales=(3.0,), n=8).worst
    ok = worst <= 1e-7
    return Numeric([Finding("numeric", r"central differences of the library's $-\sum_j p_j \log \mathrm{softmax}(z)_j$ "
                            + ("match" if ok else "do NOT match")
                            + r" the printed gradient, every component, at random logits and random targets (absolute "
                              r"tolerance $10^{-7}$)", error=worst)], printed=ok)


register(Claim(
    id="ch2.gradient",
    stated=Verdict.HOLDS,
    title="Gradient with respect to the logits",
    printed=r"\frac{\partial}{\partial z_{a}} \mathcal{L} = q_{a} - p_{a}",
    context=ANY_TARGET,
    numeric=_gradient_vs_differences,
    remark=r"For the loss $\mathcal{L} = H(p, \mathrm{softmax}(z)) = -\sum_j p_j \log q_j$ and any target $p$ with "
           r"$\sum_j p_j = 1$ (proved for a general $K$). For the soft target the gradient on the true logit is "
           r"$q_1 - (1 - \epsilon)$ and on each other logit $q_j - \frac{\epsilon}{K-1}$: it vanishes exactly when $q$ "
           r"equals the soft target.",
))


def _hessian_numeric(f: Formulas) -> Numeric:
    """The printed matrix at random logits: against central differences of the library's softmax (the gradient is
    q - p), and its spectrum: positive semi-definite, one zero eigenvalue, its eigenvector along 1."""
    def gap(pt):                                  # entries vs differences; inf where not PSD of null space span(1)
        K, x = pt.K, Logits(pt.K)
        rows = [[f.printed.rhs(x, f.context, a=a, b=b) for b in range(1, K + 1)] for a in range(1, K + 1)]
        H = np.array(compiled(x.symbols, rows)(*pt.z.T), dtype=float)
        H = np.broadcast_to(H, (K, K, len(pt.z))).transpose(2, 0, 1)
        fd = np.stack([(num.softmax(pt.z + dz) - num.softmax(pt.z - dz)) / (2 * _H) for dz in _H * np.eye(K)], axis=2)
        w, V = np.linalg.eigh((H + H.transpose(0, 2, 1)) / 2)
        psd = (w[:, 0] >= -1e-12 * w[:, -1]) & (w[:, 1] > 1e-12 * w[:, -1])
        along = np.abs(np.abs(V[:, :, 0].sum(axis=1)) / np.sqrt(K) - 1)
        return np.where(psd & (along <= 1e-9), np.abs(H - fd).max(axis=(1, 2)), np.inf)
    worst = largest(gap, f.key, scales=(3.0,), n=8).worst
    ok = worst <= 1e-7
    return Numeric([Finding("numeric", "at random logits the printed matrix " + ("matches" if ok else "does NOT match")
                            + r" central differences of the library's softmax (absolute tolerance $10^{-7}$), and is "
                              r"positive semi-definite with one zero eigenvalue, its eigenvector along $\mathbf{1}$",
                            error=worst)], printed=ok)


register(Claim(
    id="ch2.hessian",
    stated=Verdict.HOLDS,
    title=r"Hessian: independent of the target, positive semi-definite, null space $\mathrm{span}(\mathbf{1})$",
    printed=r"\frac{\partial^2}{\partial z_{a} \partial z_{b}} \mathcal{L} = q_{a} \delta_{ab} - q_{a} q_{b}",
    context=ANY_TARGET,
    numeric=_hessian_numeric,
    remark=r"For any target summing to one (proved for a general $K$): the matrix $\mathrm{diag}(q) - q q^\top$, "
           r"positive semi-definite with null space $\mathrm{span}(\mathbf{1})$. The loss is convex in the logits for "
           r"every target; it is strictly convex except along $z + c\mathbf{1}$, the direction in which the softmax "
           r"(and so the loss) does not change.",
))


# -- added: the optimum, and hard labels' lack of one ------------------------------------------------------------
def _at(expr, K: int, eps) -> float:
    """A general-K expression in K and epsilon, at concrete values."""
    return float(expr.subs({Logits().K: K, EPS: sp.nsimplify(eps)}))


def _optimum_numeric(f: Formulas) -> Numeric:
    """The printed gap and minimum against the library's ``smoothed_optimum_gap`` and ``smoothed_minimum``; the
    library's loss at ``z = (gap, 0, ..., 0)`` is the printed minimum, and below 64 random perturbations."""
    g = Logits()
    gap, minimum = f.printed.rhs(g, f.context, 0), f.printed.rhs(g, f.context, 1)

    def off(pt):
        K, e = pt.K, float(pt.param)
        at_gap, at_min = _at(gap, K, pt.param), _at(minimum, K, pt.param)
        z_star = np.zeros((1, K))
        z_star[0, 0] = at_gap
        loss = float(smoothed_loss_numeric(z_star, e)[0])
        if np.any(smoothed_loss_numeric(z_star + pt.z, e) < loss - 1e-12):
            return np.inf
        return max(abs(sm.smoothed_optimum_gap(K, e) - at_gap) / max(1, abs(at_gap)),
                   abs(sm.smoothed_minimum(K, e) - at_min), abs(loss - at_min))
    params = (sp.Rational(1, 100), sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10))
    worst = largest(off, f.key, scales=(0.3,), n=64, params=params).worst
    ok = worst <= 1e-12
    return Numeric([Finding("numeric", "the printed gap and minimum " + ("are" if ok else "are NOT")
                            + " the library's `smoothed_optimum_gap` and `smoothed_minimum`, and the library's loss "
                              "at that gap equals the printed minimum and lies below 64 random perturbations, "
                            + _eps_words(params), error=worst)], printed=ok)


register(Claim(
    id="ch2.optimum",
    stated=Verdict.HOLDS,
    title=r"The optimum: $q = p_\epsilon$ at a finite logit gap, minimum $=$ entropy",
    printed=r"z_1 - z_j = \log\frac{(1-\epsilon)(K-1)}{\epsilon}, \quad "
            r"\mathcal{L}_\epsilon = -(1-\epsilon)\log(1-\epsilon) - \epsilon \log\frac{\epsilon}{K-1}",
    context=SOFT,
    numeric=_optimum_numeric,
    remark=r"The minimiser over the logits, for $0 < \epsilon < 1$: every wrong logit this far below the true one, "
           r"where $\mathrm{softmax}(z) = p_\epsilon$; the smoothed loss there, its minimum, is the entropy "
           r"$H(p_\epsilon)$ of the target. The gap is positive (the true class most probable) exactly when "
           r"$\epsilon < \frac{K-1}{K}$, zero at $\epsilon = \frac{K-1}{K}$ (uniform target), negative beyond. "
           r"Exposed as `smoothed_optimum_gap` and `smoothed_minimum`.",
))


def _no_minimiser_numeric(f: Formulas) -> Numeric:
    """The printed form against the library's hard loss at random logits; ``> 0`` there; along
    ``z = (Delta, 0, ..., 0)`` positive and strictly decreasing towards 0; and ``smoothed_optimum_gap(K, 0)`` is
    infinite."""
    first, positive = f.printed.relation().rhs.args if f.printed.relation().op == "chain" else (None, None)
    out = Numeric(printed=False)
    if first is None or first.op != "=":
        out.findings.append(Finding("numeric", "the statement is not a chain '= ... > 0'", False))
        return out

    def gap(pt):                                  # |each side of '=' - library| ; inf where the printed '>' fails
        x = Logits(pt.K)
        left, form = (values(evaluate(s, x, f.context, {}), x, pt.z) for s in (first.lhs, first.rhs))
        lhs, rhs = (values(evaluate(s, x, f.context, {}), x, pt.z) for s in (positive.lhs, positive.rhs))
        holds = {">": lhs > rhs, ">=": lhs >= rhs, "<": lhs < rhs, "<=": lhs <= rhs}.get(positive.op, False)
        hard = num.cross_entropy_per_example(pt.z, np.zeros(len(pt.z), dtype=int))
        return np.where(holds, np.maximum(np.abs(left - hard), np.abs(form - hard)), np.inf)
    worst = largest(gap, f.key, scales=(0.1, 1.0, 10.0)).worst
    deltas = np.linspace(0.0, 30.0, 61)

    def not_falling(pt):                          # 1 unless the printed form along (Delta, 0, ...) falls towards 0
        x, z = Logits(pt.K), np.zeros((deltas.size, pt.K))
        z[:, 0] = deltas
        form = values(evaluate(first.rhs, x, f.context, {}), x, z)
        return float(not (np.all(np.diff(form) < 0) and np.all(form > 0) and form[-1] < pt.K * 1e-13))
    falls = largest(not_falling, f.key + "/family", scales=(1.0,), n=1).worst == 0
    infinite = largest(lambda pt: float(sm.smoothed_optimum_gap(pt.K, 0.0) != np.inf), f.key + "/gap",
                       scales=(1.0,), n=1).worst == 0
    out.printed = worst <= 1e-12 and falls and infinite
    out.findings.append(Finding("numeric", "at random logits both sides of the printed '$=$' "
                                + ("match" if worst <= 1e-12 else "do NOT match")
                                + r" the library's hard loss (absolute tolerance $10^{-12}$), and the printed form is "
                                  r"$> 0$; along $z = (\Delta, 0, \dots, 0)$, $\Delta \in [0, 30]$, it "
                                + ("is" if falls else "is NOT") + " positive, strictly decreasing and below "
                                  r"$K \cdot 10^{-13}$ at the end; `smoothed_optimum_gap(K, 0.0)` "
                                + ("is" if infinite else "is NOT") + r" $+\infty$", error=worst))
    return out


register(Claim(
    id="ch2.hard_no_minimiser",
    stated=Verdict.HOLDS,
    title=r"Hard labels ($\epsilon = 0$): no finite minimiser",
    printed=r"\mathcal{L}_0(z) = \log\left(1 + \sum_{j=2}^{K} \exp(-(z_1 - z_j))\right) > 0",
    context=SOFT,
    numeric=_no_minimiser_numeric,
    remark=r"Positive for every finite $z$, with infimum 0 approached only as every gap $z_1 - z_j$ grows without "
           r"bound: with hard labels, gradient descent keeps growing the logit gap forever; any $\epsilon > 0$ gives the "
           r"finite optimum of ch2.optimum. This is the regularising effect of label smoothing, in one line.",
))


# -- added: cross-entropy = entropy + KL -----------------------------------------------------------------------
def _entropy_kl_numeric(f: Formulas) -> Numeric:
    """Both sides of the decomposition, read, at random logits and the library's loss; KL >= 0 there; the printed
    entropy against the library's ``smoothed_minimum``."""
    decomposition, entropy = f.printed.relations()[:2]

    def gap(pt):
        e, x = pt.param, Logits(pt.K)
        sides = [values(evaluate(s, x, f.context, {}).subs(EPS, e), x, pt.z)
                 for s in (decomposition.lhs, decomposition.rhs)]
        h = [float(evaluate(s, x, f.context, {}).subs(EPS, e)) for s in (entropy.lhs, entropy.rhs)]
        loss = smoothed_loss_numeric(pt.z, e)
        kl = sides[1] - h[0]
        off = max(abs(h[1] - h[0]), abs(sm.smoothed_minimum(pt.K, float(e)) - h[1]))     # the entropy's
        d = np.maximum.reduce([np.abs(sides[0] - loss), np.abs(sides[1] - loss), np.full(len(loss), off)])
        return np.where(kl >= -1e-12, d / np.maximum(1.0, loss), np.inf)
    params = EPS_SWEEP[1:4]
    worst = largest(gap, f.key, scales=(0.1, 1.0, 5.0), params=params).worst
    ok = worst <= RTOL
    return Numeric([Finding("numeric", r"at random logits, " + _eps_words(params) + ", both sides of the printed "
                            r"decomposition " + ("equal" if ok else "do NOT equal") + r" the library's loss, the KL "
                            r"term is $\ge 0$, and the printed entropy is the library's `smoothed_minimum` (relative "
                            rf"tolerance {inline(RTOL, 'g')})", error=worst)], printed=ok)


register(Claim(
    id="ch2.entropy_kl",
    stated=Verdict.HOLDS,
    title="Cross-entropy $=$ entropy of the target $+$ KL divergence",
    printed=r"-\sum_{j=1}^{K} p_j \log q_j = -\sum_{j=1}^{K} p_j \log p_j + \sum_{j=1}^{K} p_j \log\frac{p_j}{q_j}, "
            r"\quad -\sum_{j=1}^{K} p_j \log p_j = -(1-\epsilon)\log(1-\epsilon) - \epsilon \log\frac{\epsilon}{K-1}",
    context=SOFT,
    numeric=_entropy_kl_numeric,
    remark=r"$H(p_\epsilon, q) = H(p_\epsilon) + \mathrm{KL}(p_\epsilon \,\|\, q)$ with $p_\epsilon$ the soft target "
           r"and $q = \mathrm{softmax}(z)$, proved for a general $K$: the smoothed loss is a constant (the target's "
           r"entropy) plus the KL divergence from the target to the model, which is $\ge 0$, so its minimum "
           r"$H(p_\epsilon)$ is attained exactly at $q = p_\epsilon$, as ch2.optimum found.",
))


# -- added: the conventions ---------------------------------------------------------------------------------------
ALPHA = sp.Symbol("alpha")                         # as the notation reads the frameworks' alpha


def _conventions_numeric(f: Formulas) -> Numeric:
    """The printed mappings against the library's ``label_smoothing_to_eps`` and ``eps_to_label_smoothing``; the two
    conventions' targets and losses agree under them; an epsilon above (K-1)/K has no alpha."""
    g = Logits()
    eps_of_alpha, alpha_of_eps = f.printed.rhs(g, f.context, 0), f.printed.rhs(g, f.context, 1)

    def across(pt):
        K, a, z, y = pt.K, pt.param, pt.z, pt.labels()
        e = float(eps_of_alpha.subs({g.K: K, ALPHA: a}))
        back = float(alpha_of_eps.subs({g.K: K, EPS: sp.nsimplify(e)}))
        t = np.abs(sm.smoothed_targets(y, K, eps=e) - sm.smoothed_targets(y, K, label_smoothing=float(a))).max()
        loss = np.abs(sm.smoothed_cross_entropy(z, y, eps=e, reduction="none")
                      - sm.smoothed_cross_entropy(z, y, label_smoothing=float(a), reduction="none")).max()
        return max(abs(sm.label_smoothing_to_eps(float(a), K) - e), abs(back - float(a)),
                   abs(sm.eps_to_label_smoothing(e, K) - back), float(t), float(loss))
    params = (sp.Integer(0), sp.Rational(1, 10), sp.Rational(1, 2), sp.Integer(1))
    worst = largest(across, f.key, Ks=NUMERIC_K + (1000,), scales=(5.0,), params=params).worst
    try:
        sm.eps_to_label_smoothing(0.95, 10)
        raises = False
    except ValueError:
        raises = True
    ok = worst <= 1e-12
    return Numeric([Finding("numeric", "the printed mappings " + ("are" if ok else "are NOT") + " the library's "
                            r"`label_smoothing_to_eps` and `eps_to_label_smoothing`, and targets and losses of the two "
                            r"conventions agree under them to $10^{-12}$ ($K$ up to 1000, $\alpha \in \{0, 0.1, 0.5, "
                            r"1\}$)", error=worst),
                    Finding("numeric", r"`eps_to_label_smoothing(0.95, K=10)` raises `ValueError`: $0.95 > "
                                       r"\frac{K-1}{K} = 0.9$ has no $\alpha \in [0, 1]$", raises)],
                   printed=ok)


register(Claim(
    id="ch2.conventions",
    stated=Verdict.HOLDS,
    title=r"The note's $\epsilon$ and the frameworks' $\alpha$",
    printed=r"\epsilon = \alpha\frac{K-1}{K}, \quad \alpha = \epsilon\frac{K}{K-1}",
    context=SOFT,
    numeric=_conventions_numeric,
    remark=r"The frameworks' target $(1 - \alpha)\,\mathrm{onehot} + \frac{\alpha}{K}$ (Szegedy et al. 2016; the "
           r"`label_smoothing` of PyTorch, Keras and Optax) is the note's target at this $\epsilon$; $\alpha \in [0, 1]$ "
           r"covers $\epsilon \in [0, \frac{K-1}{K}]$. At $\alpha = 0.1$ and $K = 10$ the true class gets $0.91$, not "
           r"$0.9$. The note's $\epsilon \in (\frac{K-1}{K}, 1]$ (true class below the others) has no "
           r"$\alpha \in [0, 1]$.",
))
