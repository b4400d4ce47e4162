"""Softmax, log-sum-exp and cross-entropy as SymPy expressions.

One object, :class:`Logits`, stands for the logit vector ``z = (z_1, ..., z_K)``
either for a concrete ``K`` (plain symbols ``z_1 ... z_K``) or for a general
symbolic ``K`` (``z[j]`` over an ``IndexedBase``, sums as ``Sum``). Formulas are
written once against its small interface (``z(j)``, ``sum(f)``) and so serve
both cases. Classes are numbered 1..K as in the note; class 1 is the true one.
"""
from __future__ import annotations

from collections.abc import Callable

import sympy as sp

__all__ = [
    "Logits",
    "softmax",
    "log_sum_exp",
    "cross_entropy",
    "one_hot",
    "smoothed_target",
    "canonical",
    "split_first",
    "is_zero",
]


class Logits:
    """The logit vector of one example, for a concrete or a symbolic ``K``.

    >>> Logits(3).sum(lambda j: Logits(3).z(j))
    z_1 + z_2 + z_3
    >>> g = Logits()                       # general K
    >>> g.sum(lambda j: g.z(j))
    Sum(z[j], (j, 1, K))
    """

    def __init__(self, K: int | None = None, name: str = "z"):
        if K is None:
            self.K = sp.Symbol("K", integer=True, positive=True)
            self.base = sp.IndexedBase(name, real=True)
            self.symbols = None
            self.general = True
        else:
            if int(K) < 2:
                raise ValueError(f"K must be an integer >= 2; got {K!r}")
            self.K = int(K)
            self.symbols = sp.symbols(f"{name}_1:{self.K + 1}", real=True)
            self.general = False
        self._depth = 0

    def z(self, j):
        """The logit of class ``j`` (1-based)."""
        if self.general:
            return self.base[j]
        return self.symbols[int(j) - 1]

    def index(self, offset: int = 0) -> sp.Symbol:
        """A summation index (``j``, then ``k``, ``l`` ... when nested)."""
        return sp.Symbol("jklmn"[offset], integer=True)

    def sum(self, f: Callable, start: int = 1):
        """``sum_{j=start}^{K} f(j)``: an explicit ``Add`` or an unevaluated ``Sum``."""
        if not self.general:
            return sp.Add(*[f(j) for j in range(start, self.K + 1)])
        j = self.index(self._depth)
        self._depth += 1
        try:
            body = f(j)
        finally:
            self._depth -= 1
        return sp.Sum(body, (j, start, self.K))

    def fix_others(self, expr, value=0):
        """Set every logit but the true class's (``z_1``) to ``value`` in ``expr``.

        >>> g = Logits()
        >>> g.fix_others(log_sum_exp(g))
        log(K + exp(z[1]) - 1)
        """
        if not self.general:
            return expr.subs({s: value for s in self.symbols[1:]})

        def split(s: sp.Sum):
            (j, lo, hi), f = s.limits[0], s.function
            if lo != 1:
                return s
            rest = sp.Sum(f.xreplace({self.base[j]: value}), (j, 2, hi)).doit()
            return f.subs(j, 1) + rest

        return expr.replace(lambda e: isinstance(e, sp.Sum), split)

    def others_zero(self, expr):
        """The note's unstated assumption in its hard-label chain: ``z_j = 0`` for ``j != 1``."""
        return self.fix_others(expr, 0)


def softmax(x: Logits, i):
    """``q_i = exp(z_i) / sum_j exp(z_j)``.

    >>> softmax(Logits(2), 1)
    exp(z_1)/(exp(z_1) + exp(z_2))
    """
    return sp.exp(x.z(i)) / x.sum(lambda j: sp.exp(x.z(j)))


def log_sum_exp(x: Logits):
    """``LSE(z) = log sum_j exp(z_j)``.

    >>> log_sum_exp(Logits(2))
    log(exp(z_1) + exp(z_2))
    """
    return sp.log(x.sum(lambda j: sp.exp(x.z(j))))


def one_hot(x: Logits, j, true_class: int = 1):
    """The hard target ``p_j = [j = true_class]`` as a ``KroneckerDelta``.

    >>> one_hot(Logits(3), 1), one_hot(Logits(3), 2)
    (1, 0)
    """
    return sp.KroneckerDelta(j, true_class)


def smoothed_target(x: Logits, j, eps, true_class: int = 1):
    """The note's soft target: ``1 - eps`` on the true class, ``eps/(K-1)`` on each other.

    >>> eps = sp.Symbol("epsilon", nonnegative=True)
    >>> x = Logits()
    >>> sp.simplify(x.sum(lambda j: smoothed_target(x, j, eps)).doit())
    1
    """
    d = sp.KroneckerDelta(j, true_class)
    return d * (1 - eps) + (1 - d) * eps / (x.K - 1)


def cross_entropy(x: Logits, p: Callable):
    """``H(p, q) = -sum_j p_j log q_j`` with ``q = softmax(z)``; ``p(j)`` gives the target.

    >>> x = Logits(2)
    >>> sp.simplify(cross_entropy(x, lambda j: one_hot(x, j)) - (log_sum_exp(x) - x.z(1)))
    0
    """
    return -x.sum(lambda j: p(j) * sp.log(softmax(x, j)))


def canonical(expr):
    """Rename the index of every innermost ``Sum`` to ``j`` so equal sums compare equal.

    >>> i, j, K = sp.symbols("i j K", integer=True)
    >>> z = sp.IndexedBase("z")
    >>> canonical(sp.Sum(z[i], (i, 1, K)) - sp.Sum(z[j], (j, 1, K)))
    0
    """
    j = sp.Symbol("j", integer=True)

    def rename(s: sp.Sum):
        if s.function.has(sp.Sum) or len(s.limits) != 1:
            return s
        return s.xreplace({s.variables[0]: j})

    return expr.replace(lambda e: isinstance(e, sp.Sum), rename)


def split_first(expr):
    """Write every ``Sum`` from 1 as its first term plus the ``Sum`` from 2.

    >>> j, K = sp.symbols("j K", integer=True)
    >>> z = sp.IndexedBase("z")
    >>> split_first(sp.Sum(z[j], (j, 1, K)))
    z[1] + Sum(z[j], (j, 2, K))
    """
    def split(s: sp.Sum):
        (j, lo, hi), f = s.limits[0], s.function
        if lo != 1 or len(s.limits) != 1:
            return s
        return f.subs(j, 1) + sp.Sum(f, (j, 2, hi))

    return expr.replace(lambda e: isinstance(e, sp.Sum), split)


def is_zero(expr, force_log: bool = False) -> bool:
    """Decide ``expr == 0`` symbolically: ``simplify`` after canonical sum indices.

    ``force_log=True`` expands ``log(a*b)`` and ``log(exp(u))`` without checking
    signs; use it only where the arguments are known positive (sums of ``exp``)
    and real (the logits), which SymPy cannot infer for a symbolic ``Sum``.

    >>> x = Logits()
    >>> is_zero(sp.log(softmax(x, 1)) - (x.z(1) - log_sum_exp(x)), force_log=True)
    True
    """
    e = canonical(sp.sympify(expr))
    if force_log:
        e = sp.expand_log(e, force=True)
    e = sp.simplify(canonical(e.doit()))
    if e == 0:
        return True
    if force_log:
        e = sp.simplify(canonical(sp.expand_log(e, force=True)))
    if e != 0 and e.has(sp.Sum):  # sums written from 1 on one side and from 2 on the other
        e = sp.simplify(canonical(sp.expand_log(split_first(e), force=force_log)))
    return e == 0
