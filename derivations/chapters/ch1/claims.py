"""Chapter 1: the note's opening section: hard labels, cross-entropy, LSE ~ max.

One entry per displayed equation of the note's opening (taken from the transcription,
:func:`derivations.engine.note.displayed`), then the results the companion adds (the exact bounds of
log-sum-exp and its error against the logit margin). Each is decided by its derivation cell in
``notebooks/01_hard_labels.ipynb`` (plain SymPy that reads the formula as printed); beside it, the numeric checks
here evaluate the same formula, read from the same LaTeX, against the NumPy library and mpmath at 50 digits.
Class 1 is the true class throughout, as in the note.
"""
from __future__ import annotations

import numpy as np

from derivations.engine.checks import (
    OTHERS_ZERO,
    against,
    chain,
    chain_holds,
    components_against,
    largest,
    mp_value,
    near_max,
)
from derivations.engine.evaluation import values
from derivations.engine.finding import Finding
from derivations.engine.notation import INDEX_J, evaluate
from derivations.engine.note import displayed, quote
from derivations.engine.reference import mp_cross_entropy
from derivations.engine.registry import Claim, Formulas, Numeric, Verdict, register
from derivations.engine.symbolic import Logits
from derivations.engine.tex import number, vector
from derivations.library import numeric as num
from derivations.library.lse_bounds import logit_margin, margin_error_bounds
from derivations.library.smoothing import smoothed_targets

SECTION = "Hard labels (opening section)"


def hard_loss_numeric(z: np.ndarray, eps=None) -> np.ndarray:
    """The hard-label loss of class 1 (index 0), from the NumPy library."""
    return num.cross_entropy_per_example(z, np.zeros(len(z), dtype=int))


def hard_loss_mp(z, eps=None) -> float:
    """The same at 50 digits (mpmath, written independently of the library)."""
    return float(mp_cross_entropy(z, 0))


#: The numeric checks of every '=' step of the hard-label chain.
_CHAIN = against(hard_loss_numeric, hard_loss_mp, quantity="loss")


# -- 1-3. the softmax, the one-hot target, both sum to one ---------------------------------------------
register(Claim(
    id="ch1.softmax", section=SECTION,
    stated=Verdict.HOLDS,
    title="The softmax output",
    printed=displayed(1, 1),
    numeric=components_against(lambda z, j: num.softmax(z)[:, j]),
    remark=r"A definition. Writing $z_{y_j}$ for the logit of class $j$ is the note's notation.",
))


def _one_hot_entries(f: Formulas) -> Numeric:
    """The printed cases at every class, against the library's targets at eps = 0, for K up to 1000."""
    def entries(pt) -> float:                    # the printed cases at every class, minus the library's
        cases = f.printed.rhs(Logits(pt.K), f.context)          # read once per K, then taken at each class
        printed = np.array([float(cases.subs(INDEX_J, j)) for j in range(1, pt.K + 1)])
        return float(np.max(np.abs(printed - smoothed_targets([0], pt.K, eps=0.0)[0])))
    worst = largest(entries, f.key, Ks=(2, 3, 10, 1000), scales=(1.0,), n=1).worst
    ok = worst == 0.0
    return Numeric([Finding("numeric", "the printed cases, class by class, " + ("equal" if ok else "differ from")
                            + " the library's `smoothed_targets` at $\\epsilon = 0$, $K$ up to 1000", error=worst)],
                   printed=ok)


register(Claim(
    id="ch1.one_hot",
    stated=Verdict.HOLDS,
    title="The hard (one-hot) target",
    printed=displayed(1, 2),
    numeric=_one_hot_entries,
    remark="A definition: the one-hot vector of class 1.",
))


def _sums_to_one(f: Formulas) -> Numeric:
    """Both printed sums, evaluated at random logits (the softmax's from its LaTeX), minus their right-hand sides."""
    rels = f.printed.relations()

    def gap(pt):
        x = Logits(pt.K)
        return np.max([np.abs(values(f.printed.lhs(x, f.context, i), x, pt.z) - values(f.printed.rhs(x, f.context, i),
                                                                                       x, pt.z))
                       for i in range(len(rels))], axis=0)
    worst = largest(gap, f.key).worst
    ok = worst <= 8 * np.finfo(float).eps
    return Numeric([Finding("numeric", "both printed sums equal their right-hand sides at random logits, within 8 ulps",
                            error=worst)], printed=ok and len(rels) == 2)


register(Claim(
    id="ch1.normalisation",
    stated=Verdict.HOLDS,
    title="Both distributions sum to one",
    printed=quote(r"$\sum_{j=1}^{K} q_{\theta}(y_j|x_i) = 1$  and  $\sum_{j=1}^{K} p(y_j|x_i) = 1$"),
    numeric=_sums_to_one,
    remark="Stated in the text, not displayed; proved for a general symbolic K.",
))


# -- 4-8. the cross-entropy chain ------------------------------------------------------------------------
register(Claim(
    id="ch1.loss_as_sum",
    stated=Verdict.HOLDS,
    title="The loss as a sum of per-class terms",
    printed=displayed(1, 3),
    numeric=_CHAIN,
    remark=r"Holds once $H_j(p, q)$ is read as the per-class term $-p_j \log q_j$, which the note never defines. "
           r"Chapter 2 reuses the symbol with a sum over examples instead ($\sum_{l=1}^N H_i$).",
))

register(Claim(
    id="ch1.loss_definition",
    stated=Verdict.HOLDS,
    title="Cross-entropy between target and prediction",
    printed=displayed(1, 4),
    numeric=_CHAIN,
    remark="The definition of cross-entropy.",
))

register(Claim(
    id="ch1.loss_true_class",
    stated=Verdict.HOLDS,
    title="Only the true class contributes",
    printed=displayed(1, 5),
    numeric=_CHAIN,
    remark="The sum over a Kronecker delta keeps its one term.",
))

register(Claim(
    id="ch1.loss_lse",
    stated=Verdict.HOLDS,
    title=r"The loss is $\mathrm{LSE}(z) - z_1$",
    printed=displayed(1, 6),
    numeric=_CHAIN,
    remark="The logarithm of the softmax. The note's justification '(assuming $i$ is the correct label)' names $i$ "
           "where the class is 1, and no assumption is used at this step.",
))

#: A point where the other logits are not zero, yet their exponentials sum to K - 1 = 2 (K = 3).
SUM_K_MINUS_1 = np.array([1.0, np.log(1.5), np.log(0.5)])


def _others_zero_and_off_it(f: Formulas) -> Numeric:
    """:func:`against` under the assumption, and a point off it where the step is exact all the same: the wrong
    classes' exponentials sum to K - 1 there (mpmath, 50 digits)."""
    out = against(hard_loss_numeric, hard_loss_mp, assumption=OTHERS_ZERO, quantity="loss")(f)
    printed, loss = mp_value(lambda x: f.printed.rhs(x, f.context), SUM_K_MINUS_1), hard_loss_mp(SUM_K_MINUS_1)
    same = abs(printed - loss) <= 1e-15 * loss
    out.findings.append(Finding(
        "numeric", r"exact off zero logits too, wherever $\sum_{j \ne 1} e^{z_j} = K - 1$: at $z = (1, \log 1.5, "
                   rf"\log 0.5)$ the printed form is ${printed:.6f}$, the exact loss ${loss:.6f}$", same))
    return out


register(Claim(
    id="ch1.loss_others_zero",
    stated=Verdict.HOLDS_UNDER,
    title=r"The step to $\log(e^{z_1} + K - 1)$",
    printed=displayed(1, 7),
    assumption=OTHERS_ZERO.name,
    corrected=r"= -\left(z_{y_1} - \log\left(\exp(z_{y_1}) + \sum_{j=2}^{K} \exp(z_{y_j})\right)\right)",
    numeric=_others_zero_and_off_it,
    remark=r"The step replaces $\sum_{j \ne 1} e^{z_j}$ by $K - 1$, so it is exact exactly when the exponentials of the "
           r"other logits sum to $K - 1$, which the note never says. Every other logit being zero is the natural way "
           r"to get there, and the assumption named here, but it is sufficient, not necessary: at "
           r"$z = (1, \log 1.5, \log 0.5)$ the step is exact too. Anywhere else the "
           r"printed form is wrong, by any amount; the general form keeps the sum.",
))


# -- 9. the approximation by the maximum ------------------------------------------------------------------------
#: Logits shifted, all by the same amount: the loss does not move, the infinity norm does.
SHIFTED = (np.array([1.0, 2.0, 3.0]), -10.0)


def _near_max_and_shift(f: Formulas) -> Numeric:
    """:func:`near_max`, and a common shift of the logits: it moves the printed form, not the loss."""
    out = near_max(hard_loss_mp)(f)
    z, c = SHIFTED
    loss = [hard_loss_mp(v) for v in (z, z + c)]
    printed = [mp_value(lambda x: f.printed.rhs(x, f.context), v) for v in (z, z + c)]
    moves = abs(printed[1] - printed[0]) > 1.0 and abs(loss[1] - loss[0]) <= 1e-12 * loss[0]
    out.findings.append(Finding(
        "numeric", rf"a common shift of the logits moves the printed form, not the loss: at $z = {vector(z)}$ and "
                   rf"$z - {number(-c, 'g')}$ the exact loss is ${loss[0]:.4f}$ both times, the printed form "
                   rf"${printed[0]:.4f}$ and ${printed[1]:.4f}$", moves or out.printed))
    return out


register(Claim(
    id="ch1.loss_approx_max",
    stated=Verdict.ERRATUM,
    title="The approximation by the maximum",
    printed=displayed(1, 8),
    corrected=r"\approx -\left(z_{y_1} - \max_j z_{y_j}\right)",
    numeric=_near_max_and_shift,
    remark=r"'$\approx$' is read as: the error vanishes where $\mathrm{LSE}(z) \approx \max_j z_j$ is good, that is as "
           r"the margin between the largest logit and the others grows, whatever the largest logit. The largest logit "
           r"$\max_j z_j$ approximates $\mathrm{LSE}(z)$; the infinity norm $\|z\|_\infty = \max_j |z_j|$ does not. "
           r"Adding the same number to every logit changes neither the softmax nor the loss, but it changes "
           r"$\|z\|_\infty$: shift the logits far enough down and the printed form is off by any amount, however "
           r"large the margin. With $\max_j z_j$ the error is at most $\log K$ and vanishes like "
           r"$(K-1)e^{-\Delta}$ in the margin $\Delta$ (ch1.lse_bounds, ch1.margin_error).",
))


# -- added: the exact bounds of log-sum-exp, and the error against the margin -----------------------------
register(Claim(
    id="ch1.lse_bounds",
    stated=Verdict.HOLDS,
    title="Exact bounds of log-sum-exp",
    printed=r"\max_j z_j < \mathrm{LSE}(z) \le \max_j z_j + \log K",
    numeric=chain_holds(),
    remark="The upper bound is attained exactly when all $K$ logits are equal; the lower bound is strict "
           "for finite logits and approached as every other logit falls infinitely below the largest.",
))


def _library_bounds(out: Numeric, f: Formulas) -> None:
    """The library's ``margin_error_bounds`` (drawn in chapter 1's figure) are the statement's two bounds."""
    rels = chain(f.printed)

    def gap(pt):                                             # statement's bounds - library's, the larger of the two
        x = Logits(pt.K)
        lo_lib, hi_lib = margin_error_bounds(logit_margin(pt.z), pt.K)
        lo = values(evaluate(rels[0].lhs, x, f.context, {}), x, pt.z)
        hi = values(evaluate(rels[-1].rhs, x, f.context, {}), x, pt.z)
        return np.maximum(np.abs(lo - lo_lib), np.abs(hi - hi_lib))
    worst = largest(gap, f.key + "/library", scales=(5.0,)).worst
    same = worst <= 1e-12
    out.printed = out.printed and same
    out.findings.append(Finding("numeric", "the statement's bounds " + ("equal" if same else "differ from")
                                + " the library's `margin_error_bounds` (chapter 1's figure) at random logits, to "
                                  "$10^{-12}$", error=worst))


register(Claim(
    id="ch1.margin_error",
    stated=Verdict.HOLDS,
    title=r"The error of $\mathrm{LSE} \approx \max$ against the logit margin",
    printed=r"\log\left(1 + e^{-\Delta}\right) \le \mathrm{LSE}(z) - \max_j z_j \le \log\left(1 + (K-1)e^{-\Delta}\right)",
    numeric=chain_holds(extra=_library_bounds),
    remark=r"$\Delta$ is the largest logit minus the second largest. Both bounds are attained (the lower one "
           r"for $K = 2$), so the approximation error decays exactly like $e^{-\Delta}$, times at most $K - 1$.",
))

__all__ = ["hard_loss_numeric", "hard_loss_mp"]
