r"""What a value of K and eps means: the edge values, named once.

The smoothing parameter ``eps`` lives in ``[0, 1]`` for every ``K >= 2``; a few
values change the mathematics rather than break it:

* ``eps = 0``: hard labels. The target is one-hot, nothing is ever flipped,
  and the loss has no finite minimiser (chapter 2).
* ``0 < eps < (K-1)/K``: label smoothing proper. The true class keeps the most
  target mass; the optimum's logit gap ``log((1-eps)(K-1)/eps)`` is positive.
* ``eps = (K-1)/K``: the uniform target ``1/K`` on every class. Optimum gap 0;
  the frameworks' ``alpha`` is 1.
* ``(K-1)/K < eps < 1``: the true class gets *less* target mass than each other
  class. The optimum gap is negative; no framework ``alpha`` in ``[0, 1]`` gives it.
* ``eps = 1``: the true class gets nothing; no finite minimiser (the mirror of
  ``eps = 0``). A flipped label is never the true one.
* ``K = 2``: one wrong class, so a flip has no choice: ``eps = 1`` swaps the
  label deterministically, and ``(K-1)/K = 1/2``.

>>> regime(10, 0.1)
'smoothing'
>>> regime(10, 0.9), regime(3, 2 / 3)
('uniform', 'uniform')
>>> print(describe(2, 1.0))
$K = 2$, $\epsilon = 1$. $\epsilon = 1$: the true class gets no target mass; no finite minimiser (the mirror of $\epsilon = 0$); a flipped label is never the true class. $K = 2$: a single wrong class, so a flip is a swap; $\epsilon = 1$ swaps every label (no randomness left); $\frac{K-1}{K} = \frac{1}{2}$.
"""
from __future__ import annotations

from derivations.engine.text import Prose
from derivations.library._validate import as_num_classes, as_probability

__all__ = ["REGIMES", "regime", "uniform_eps", "is_uniform", "describe"]

#: Regime names in order of eps.
REGIMES = ("hard", "smoothing", "uniform", "beyond uniform", "all flipped")

#: What each regime means (Markdown, mathematics between ``$``).
_MEANING = {
    "hard": r"$\epsilon = 0$: hard labels; the target is one-hot, nothing is flipped, and the loss has no finite "
            r"minimiser.",
    "smoothing": r"$0 < \epsilon < \frac{K-1}{K}$: label smoothing proper; the true class keeps the most target mass "
                 r"and the optimal logit gap $\log\frac{(1-\epsilon)(K-1)}{\epsilon}$ is positive.",
    "uniform": r"$\epsilon = \frac{K-1}{K}$: the uniform target $\frac{1}{K}$ on every class; optimal gap 0; the "
               r"frameworks' $\alpha$ is 1.",
    "beyond uniform": r"$\frac{K-1}{K} < \epsilon < 1$: the true class gets less target mass than each other class; "
                      r"the optimal gap is negative and no framework $\alpha \in [0, 1]$ gives this target.",
    "all flipped": r"$\epsilon = 1$: the true class gets no target mass; no finite minimiser (the mirror of "
                   r"$\epsilon = 0$); a flipped label is never the true class.",
}


def uniform_eps(K) -> float:
    """``(K-1)/K``: the eps of the uniform target.

    Used in: chapters 2-4 (through :func:`regime`; the eps values of chapter 2's optimum table)

    >>> uniform_eps(4)
    0.75
    """
    K = as_num_classes(K)
    return (K - 1) / K


def is_uniform(K, eps) -> bool:
    """Is ``eps`` the uniform-target value ``(K-1)/K`` (to within 4 units of roundoff)?

    A reader types ``EPS=0.6666666666666666`` for ``K = 3``; it counts as ``2/3``.

    Used in: chapters 2-4 (through :func:`regime`)

    >>> is_uniform(3, 0.6666666666666666), is_uniform(3, 0.66)
    (True, False)
    """
    return abs(as_probability(eps) - uniform_eps(K)) <= 4 * 2.0 ** -53


def regime(K, eps) -> str:
    """The name of the regime of ``(K, eps)``, one of :data:`REGIMES`.

    Used in: chapters 2 and 4 (the optimum table; which findings are asserted)
    """
    e = as_probability(eps)
    if e == 0.0:
        return "hard"
    if e == 1.0:
        return "all flipped"
    if is_uniform(K, e):
        return "uniform"
    return "smoothing" if e < uniform_eps(K) else "beyond uniform"


def describe(K, eps) -> Prose:
    """One paragraph of Markdown (mathematics between ``$``): the values, and what their regime (and ``K = 2``)
    means. A :class:`~derivations.engine.text.Prose`: a notebook shows it typeset, a terminal in plain text.

    Used in: chapters 2-4 (what the reader's K and eps mean)
    """
    K, e = as_num_classes(K), as_probability(eps)
    out = f"$K = {K}$, $\\epsilon = {e:g}$. {_MEANING[regime(K, e)]}"
    if K == 2:
        out += (r" $K = 2$: a single wrong class, so a flip is a swap; $\epsilon = 1$ swaps every label (no randomness "
                r"left); $\frac{K-1}{K} = \frac{1}{2}$.")
    return Prose(out)
