"""Numeric values of formulas read from the note, at many logit vectors at once."""
from __future__ import annotations

import numpy as np
import sympy as sp

from derivations.engine.notation import Context, Relation, evaluate
from derivations.engine.symbolic import Logits, compiled
from derivations.library.lse_bounds import logit_margin

__all__ = ["function", "values", "side_values"]

DELTA = sp.Symbol("Delta")


def function(expr, x: Logits):
    """``expr`` (in the logits of ``x``, and possibly the margin ``Delta``) as a function of logit rows ``z``."""
    f = compiled(list(x.symbols) + [DELTA], expr)

    def at(z: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = f(*z.T, logit_margin(z))
        return np.broadcast_to(np.asarray(out, dtype=float), (len(z),))
    return at


def values(expr, x: Logits, z: np.ndarray) -> np.ndarray:
    """``expr`` at every row of ``z``."""
    return function(expr, x)(z)


def side_values(rel: Relation, x: Logits, ctx: Context):
    """Both sides of a relation, as one function of logit rows ``z`` returning ``(lhs, rhs)``."""
    lhs, rhs = function(evaluate(rel.lhs, x, ctx, {}), x), function(evaluate(rel.rhs, x, ctx, {}), x)
    return lambda z: (lhs(z), rhs(z))
