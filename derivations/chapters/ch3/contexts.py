"""Chapter 3's readings of the note's symbols (:class:`~derivations.engine.notation.Context`), in a module of their
own that imports SymPy and the engine's notation only, no NumPy: the book's pages read the chapter's claims through
them when a reader runs a derivation cell in the browser (``book/_static/run_cells.py``). ``claims.py`` uses them.

In both, ``\\Pr(y = j|x)`` is read as ``Pr(j)``, the flipped label's distribution as the note writes it, an unknown
function until a derivation puts in the sampler's (``expr.replace(Pr, ...)``); ``p`` is the note's soft target (in
:data:`FLIPPED_TARGET`, the flipped label's distribution) and ``\\mathcal{L}`` the smoothed loss.
"""
from __future__ import annotations

import sympy as sp

from derivations.engine.notation import EPS, Context
from derivations.engine.symbolic import Logits, cross_entropy, smoothed_target

__all__ = ["PR", "SPLIT", "FLIP", "FLIPPED_TARGET"]

#: A class index for a general component of a vector, j >= 2: the same symbol as
#: ``derivations.engine.checks.COMPONENT`` (a SymPy symbol is its name and its assumptions), which imports NumPy.
COMPONENT = sp.Symbol("c", integer=True, positive=True)

#: ``\Pr(y = j|x)`` as the note writes it: the flipped label's distribution, ``Pr(j)``, to be derived.
PR = sp.Function("Pr")
#: The share of the flips that class ``j`` gets (``r_j`` of the general form): ``r[j]``.
SPLIT = sp.IndexedBase("r")


def _label_event(x: Logits, kind: str, value):
    """``\\Pr`` of a label event, in terms of :data:`PR`: ``y = j`` is ``Pr(j)``; ``y \\neq 1`` the sum over the
    other classes (``y \\neq j`` the sum over all classes less ``Pr(j)``); ``y = incorrect class`` a generic wrong
    class ``c`` (for a concrete K, class 2)."""
    if kind == "=":
        return PR(value)
    if kind == "!=":
        return x.sum(PR, start=2) if value == 1 else x.sum(PR) - PR(value)
    return PR(COMPONENT if x.general else 2)


def _soft_target(x: Logits, j):
    return smoothed_target(x, j, EPS)


def _soft_loss(x: Logits):
    return cross_entropy(x, lambda j: _soft_target(x, j))


def _flipped_target(x: Logits, j):
    return PR(j)


#: Chapter 3: Pr(y = j|x) is the flipped label's distribution (Pr), p the note's soft target, L the smoothed loss.
FLIP = Context("label flipping", _soft_target, _soft_loss, pr=_label_event, symbols={"r": SPLIT.__getitem__})
#: The same, with p(y_j|x) read as the distribution of the flipped label (what "the same p" compares).
FLIPPED_TARGET = Context("flipped label as target", _flipped_target, _soft_loss, pr=_label_event,
                         symbols={"r": SPLIT.__getitem__})
