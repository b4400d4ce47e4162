"""Softmax, log-sum-exp and cross-entropy as SymPy expressions.

One object, :class:`Logits`, stands for the logit vector ``z = (z_1, ..., z_K)``
either for a concrete ``K`` (plain symbols ``z_1 ... z_K``) or for a general
symbolic ``K`` (``z[j]`` over an ``IndexedBase``, sums as ``Sum``). Formulas are
written once against its small interface (``z(j)``, ``sum(f)``) and so serve
both cases. Classes are numbered 1..K as in the note; class 1 is the true one.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy as sp
from sympy.polys.polyerrors import BasePolynomialError

__all__ = [
    "Logits",
    "softmax",
    "log_sum_exp",
    "cross_entropy",
    "one_hot",
    "smoothed_target",
    "canonical",
    "split_first",
    "written_out",
    "is_zero",
    "reduce_general",
    "pull_constants",
    "class_sums",
    "compiled",
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

    Used in: cross_entropy, and the notation (derivations.engine.kinds reads the note's q with it)

    >>> softmax(Logits(2), 1)
    exp(z_1)/(exp(z_1) + exp(z_2))
    """
    return sp.exp(x.z(i)) / x.sum(lambda j: sp.exp(x.z(j)))


def log_sum_exp(x: Logits):
    """``LSE(z) = log sum_j exp(z_j)``.

    Used in: the notation (derivations.engine.kinds reads the note's LSE with it)

    >>> log_sum_exp(Logits(2))
    log(exp(z_1) + exp(z_2))
    """
    return sp.log(x.sum(lambda j: sp.exp(x.z(j))))


def one_hot(x: Logits, j, true_class: int = 1):
    """The hard target ``p_j = [j = true_class]`` as a ``KroneckerDelta``.

    Used in: the notation's hard labels (derivations.engine.notation)

    >>> one_hot(Logits(3), 1), one_hot(Logits(3), 2)
    (1, 0)
    """
    return sp.KroneckerDelta(j, true_class)


def smoothed_target(x: Logits, j, eps, true_class: int = 1):
    """The note's soft target: ``1 - eps`` on the true class, ``eps/(K-1)`` on each other.

    Used in: the notation's soft labels (derivations.engine.notation) and chapter 3

    >>> eps = sp.Symbol("epsilon", nonnegative=True)
    >>> x = Logits()
    >>> sp.simplify(x.sum(lambda j: smoothed_target(x, j, eps)).doit())
    1
    """
    d = sp.KroneckerDelta(j, true_class)
    return d * (1 - eps) + (1 - d) * eps / (x.K - 1)


def cross_entropy(x: Logits, p: Callable):
    """``H(p, q) = -sum_j p_j log q_j`` with ``q = softmax(z)``; ``p(j)`` gives the target.

    Used in: the notation's losses (derivations.engine.notation: each context reads the note's loss with it)

    >>> x = Logits(2)
    >>> sp.simplify(cross_entropy(x, lambda j: one_hot(x, j)) - (log_sum_exp(x) - x.z(1)))
    0
    """
    return -x.sum(lambda j: p(j) * sp.log(softmax(x, j)))


def canonical(expr):
    """Rename the index of every innermost ``Sum`` to ``j`` so equal sums compare equal.

    Used in: is_zero (every symbolic check)

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

    Used in: is_zero (every symbolic check)

    >>> j, K = sp.symbols("j K", integer=True)
    >>> z = sp.IndexedBase("z")
    >>> split_first(sp.Sum(z[j], (j, 1, K)))
    z[1] + Sum(z[j], (j, 2, K))
    """
    def split(s: sp.Sum):
        (j, lo, hi), f = s.limits[0], s.function
        if lo != 1 or len(s.limits) != 1:
            return s
        # in the tail j >= 2, so a Kronecker delta of j and the first class is 0
        tail = f.xreplace({sp.KroneckerDelta(1, j): 0, sp.KroneckerDelta(j, 1): 0})
        return f.subs(j, 1) + sp.Sum(tail, (j, 2, hi))

    return expr.replace(lambda e: isinstance(e, sp.Sum), split)


#: The most terms of a sum :func:`written_out` writes out.
_WRITTEN_OUT_TERMS = 20


def written_out(expr):
    """``expr`` with every sum over integer limits written out as its terms (innermost first), then ``doit()``.

    The same value as ``expr.doit()``, by the definition of a finite sum, and 5-15x faster on chapter 3's sums at a
    concrete K, which SymPy evaluates by its summation algorithms (Kronecker deltas, logarithms of sums). A sum
    whose upper limit is below its lower one less 1 (SymPy's convention makes it a negative sum), of more than
    :data:`_WRITTEN_OUT_TERMS` terms (SymPy may have its closed form), over several limits, or whose summand holds
    another integer symbol (a class index ``c``: ``doit()`` writes ``sum_j delta_{jc} f_j`` as the cases ``f_c`` for
    ``c <= K`` and 0, which :func:`is_zero` has always read) is left to ``doit()``.

    Used in: the verdict's decisions at a concrete K (derivations.engine.derive), _fails_at_concrete_k

    >>> j, K = sp.Symbol("j", integer=True), sp.Symbol("K", integer=True)
    >>> z = sp.IndexedBase("z")
    >>> written_out(sp.Sum(z[j] * sp.KroneckerDelta(j, 1) + z[j] ** 2, (j, 1, 3)).subs(K, 3))
    z[1]**2 + z[1] + z[2]**2 + z[3]**2
    """
    e = sp.sympify(expr)

    def finite(s) -> bool:
        if len(s.limits) != 1 or s.function.has(sp.Sum):
            return False
        j, lo, hi = s.limits[0]
        if any(v.is_integer for v in s.function.free_symbols - {j}):
            return False                # a free class index: doit() writes its deltas as cases, kept for is_zero
        return lo.is_Integer and hi.is_Integer and lo - 1 <= hi <= lo + _WRITTEN_OUT_TERMS

    while inner := [s for s in e.atoms(sp.Sum) if finite(s)]:
        e = e.xreplace({s: sp.Add(*[s.function.xreplace({s.limits[0][0]: sp.Integer(i)})
                                    for i in range(int(s.limits[0][1]), int(s.limits[0][2]) + 1)])
                        for s in inner})
    return e.doit()


def is_zero(expr, force_log: bool = False) -> bool:
    """Decide ``expr == 0`` symbolically: ``simplify`` after canonical sum indices.

    ``force_log=True`` expands ``log(a*b)`` and ``log(exp(u))`` without checking
    signs; use it only where the arguments are known positive (sums of ``exp``)
    and real (the logits), which SymPy cannot infer for a symbolic ``Sum``.

    Cached: one decision per distinct expression (a check may ask about the same one for every class index,
    and mutants of one claim share most of their differences).

    Used in: every derivation's verdict (derivations.engine.derive), the live figures' reductions

    >>> x = Logits()
    >>> is_zero(sp.log(softmax(x, 1)) - (x.z(1) - log_sum_exp(x)), force_log=True)
    True
    """
    e = sp.sympify(expr)
    try:
        hash(e)
    except TypeError:                             # not hashable: decided without the cache
        return _is_zero.__wrapped__(e, bool(force_log))
    return _is_zero(e, bool(force_log))


@lru_cache(maxsize=4096)
def _is_zero(expr, force_log: bool) -> bool:
    """:func:`is_zero`'s decision; where SymPy's own simplification breaks down on a sum (SymPy 1.14's
    ``sum_simplify`` raises ``StopIteration`` on some general-K sums with a free class index), zero is not shown."""
    try:
        return _decide_zero(expr, force_log)
    except (StopIteration, RecursionError):
        return False


def _decide_zero(expr, force_log: bool) -> bool:
    e = canonical(sp.sympify(expr))
    if force_log:
        e = sp.expand_log(e, force=True)
        if e.has(sp.Sum) and _sums_cancel(e):    # before doit(): evaluating a general sum is slow
            return True
    if (e.has(sp.Sum) or _class_values(e.free_symbols)) and _fails_at_concrete_k(e):
        return False                    # not zero at K = 3 (a wrong formula): no general sum evaluated, no simplify
    e = e.doit()
    if not e.has(sp.Sum):
        quick = _quick_zero(e)
    else:
        quick = False if _fails_at_concrete_k(e) else None
    if quick is not None:
        return quick
    e = sp.simplify(canonical(e))
    if e == 0:
        return True
    if force_log:
        e = sp.simplify(canonical(sp.expand_log(e, force=True)))
    if e != 0 and e.has(sp.Sum):  # sums written from 1 on one side and from 2 on the other
        e = sp.simplify(canonical(sp.expand_log(split_first(e), force=force_log).doit()))
    if e != 0 and sp.sympify(expr).has(sp.Sum):  # split before simplifying (Kronecker deltas in the summand)
        e = sp.simplify(canonical(sp.expand_log(split_first(canonical(sp.sympify(expr))).doit(), force=force_log)))
    return e == 0


#: Digits of the numeric probe in :func:`_quick_zero`, and the relative size below which a value counts as 0.
_PROBE_DIGITS, _PROBE_TOL = 40, 1e-25


def _probe_point(symbols) -> dict | None:
    """Rational values for ``symbols`` that respect their assumptions, or ``None`` where that is not
    simple (integer-valued symbols such as K or a class index; symbols bounded by others)."""
    point = {}
    for k, s in enumerate(sorted(symbols, key=str)):
        if s.is_integer or not (s.is_real or s.is_real is None):
            return None
        v = sp.Rational(37 + 11 * k, 97 + 3 * k)               # in (0, 1): fits positive, eps, and probability symbols
        point[s] = -v if s.is_negative else v
    return point


def _rational_zero(e) -> bool:
    """Is ``e`` zero as a rational function once every ``exp(n_1 z_1 + ... )`` (integer ``n``) is written
    as a monomial ``w_1^n_1 ...`` in new positive unknowns? Logarithms stay as unknowns of their own, once
    the positive factors of their arguments are taken out (:func:`_positive_factors_out`: ``log(exp(m) +
    exp(m - t)) = m - t + log(w_t + 1)``). A ``True`` is a proof (an identity in more unknowns holds in
    fewer); ``False`` means "not shown".

    >>> a, b = sp.symbols("a b", real=True)
    >>> _rational_zero(sp.exp(a) / (sp.exp(a) + sp.exp(b)) + 1 / (1 + sp.exp(a - b)) - 1)
    True
    >>> _rational_zero(sp.log(sp.exp(a) + sp.exp(a + b)) - a - sp.log(1 + sp.exp(b)))
    True
    >>> _rational_zero(sp.log(sp.exp(a) + sp.exp(a + b)) - sp.log(1 + sp.exp(b)))
    False
    """
    e = sp.expand_log(e)
    powers = {}
    for ex in e.atoms(sp.exp):
        arg = sp.expand(ex.args[0])
        coeffs = arg.as_coefficients_dict()
        if not all(c.is_Integer and (s.is_Symbol and s.is_real) for s, c in coeffs.items()):
            return False
        powers[ex] = coeffs
    w = {s: sp.Dummy(f"w_{s}", positive=True) for c in powers.values() for s in c}
    ew = e.xreplace({ex: sp.Mul(*[w[s] ** c for s, c in co.items()]) for ex, co in powers.items()})
    ew = ew.xreplace({g: _positive_factors_out(g.args[0], w) for g in ew.atoms(sp.log)})
    return sp.expand(sp.numer(sp.together(ew))) == 0


def _positive_factors_out(arg, w: dict):
    """``log(arg)`` with the positive factors of ``arg`` taken out: ``arg``, cancelled to a ratio of
    polynomials, loses the positive rational content of its numerator and denominator and the monomials
    ``w[s]^n`` common to their terms (``w[s] = exp(s)``, ``s`` real), which become ``log(c)`` and ``n s``.
    Exact: a positive factor does not change the phase of what it multiplies, so the principal logarithm
    splits over it (``log(2 - 2 eps) = log(2) + log(1 - eps)`` for every eps but 1). What is left is
    ``sympy.expand_log`` of the logarithm of the rest (factored when it is free of the ``w[s]``), or
    ``log(arg)`` as it was where ``arg`` is not such a ratio.

    >>> a, b = sp.symbols("a b", real=True)
    >>> w = {a: sp.Dummy("w_a", positive=True), b: sp.Dummy("w_b", positive=True)}
    >>> _positive_factors_out(4 * w[a] ** 2 + 4 * w[a] ** 2 * w[b], w) - sp.log(1 + w[b])
    2*a + 2*log(2)
    """
    try:
        num, den = sp.fraction(sp.cancel(arg))
        out, rest = sp.S.Zero, []
        for side, sign in ((num, 1), (den, -1)):
            content, side = side.as_content_primitive()
            out += sign * _log_of_rational(content)
            if w and side.free_symbols & set(w.values()):
                powers, poly = sp.Poly(side, *w.values()).terms_gcd()
                out += sign * sum(n * s for s, n in zip(w, powers))
                side = poly.as_expr()
            rest.append(side)
    except BasePolynomialError:
        return sp.log(arg)
    rest = rest[0] / rest[1]
    if not rest.free_symbols & set(w.values()):    # a function of the parameters (eps): factored, so that
        rest = sp.factor(rest)                      # log(eps - eps^2) = log(eps) + log(1 - eps) below
    return out + sp.expand_log(sp.log(rest))


def _log_of_rational(c):
    """``log(c)`` for a positive rational ``c``, as a sum over the primes of its numerator and denominator
    (``log(4) = 2 log(2)``), so that equal logarithms are one unknown; large numbers are left whole."""
    if not c.is_Rational or max(abs(c.p), c.q) > 10**12:
        return sp.log(c)
    return (sum(n * sp.log(q) for q, n in sp.factorint(c.p).items())
            - sum(n * sp.log(q) for q, n in sp.factorint(c.q).items()))


def _sums_cancel(e) -> bool:
    """A fast proof for a general-K expression: its class sums, rewritten exactly by :func:`class_sums`,
    cancel (``False``: not shown; :func:`is_zero` goes on with :func:`sympy.simplify`)."""
    try:
        rewritten = class_sums(sp.expand_log(e, force=True), Logits(), simplify=False)
    except ValueError:                            # a sum class_sums does not rewrite
        return False
    if rewritten.has(sp.Sum):
        return False
    # the logits left (z[1], a generic z[c]) as plain symbols, real where they are, for _quick_zero: an
    # identity in independent unknowns holds whatever their values, equal ones included
    plain = rewritten.xreplace({a: sp.Dummy(str(a), **({"real": True} if a.is_real else {}))
                                for a in rewritten.atoms(sp.Indexed)})
    return _quick_zero(sp.expand_log(plain, force=True)) is True


def _fails_at_concrete_k(e, K: int = 3) -> bool:
    """Is the general-K expression ``e`` clearly non-zero at ``K = 3`` (so not zero for every K)?

    The sums are written out for ``K = 3``, each free class index given a value of its own (:func:`_class_values`),
    and the result probed by :func:`_quick_zero`; ``False`` means "not shown" (no clear value). A point that
    respects every symbol's assumptions: an expression clearly non-zero there is not zero by any identity that
    holds under those assumptions, which is all that :func:`is_zero`'s simplification can show.

    >>> x, c = Logits(), sp.Symbol("c", integer=True, positive=True)
    >>> _fails_at_concrete_k(x.sum(lambda j: x.z(j)) - x.z(1)), _fails_at_concrete_k(x.sum(lambda j: 1) - x.K)
    (True, False)
    >>> _fails_at_concrete_k(x.z(c) / (x.K - 1)), _fails_at_concrete_k(x.sum(lambda j: sp.KroneckerDelta(j, c)) - 1)
    (True, False)
    >>> b, d = sp.symbols("b d", integer=True, positive=True)     # three indices: 2, 3 and 4 > K = 3, no point
    >>> one_each = x.sum(lambda j: sp.KroneckerDelta(j, b) + sp.KroneckerDelta(j, c) + sp.KroneckerDelta(j, d)) - 3
    >>> _fails_at_concrete_k(one_each), _fails_at_concrete_k(one_each, K=4)
    (False, False)
    """
    e = sp.sympify(e)
    values = _class_values(e.free_symbols - {Logits().K})
    if any(v > K for v in values.values()):
        return False                    # more class indices than classes 2..K: no such point (a class is at most K)
    e = e.xreplace(values)
    concrete = written_out(e.subs(Logits().K, K))
    if concrete.has(sp.Sum):
        return False
    concrete = concrete.xreplace({a: sp.Symbol(f"_{a.base}{a.indices[0]}", real=True)
                                  for a in concrete.atoms(sp.Indexed) if a.indices[0].is_Integer})
    return not concrete.has(sp.Indexed) and _quick_zero(concrete) is False


#: A generic positive integer's assumptions: a free integer symbol whose own are among them can take 2, 3, ...
_POSITIVE_INTEGER = sp.Symbol("n", integer=True, positive=True).assumptions0.items()


def _class_values(symbols) -> dict:
    """Values for the free integer symbols among ``symbols`` (class indices, ``c``, ``d``), distinct, from 2 on, in
    the order of their names: each an integer that respects the symbol's assumptions (those of a positive
    integer or fewer; a symbol assumed even, say, is left).

    >>> _class_values(sp.symbols("d c", integer=True, positive=True)), _class_values([sp.Symbol("x", even=True)])
    ({c: 2, d: 3}, {})
    """
    free = sorted((s for s in symbols if isinstance(s, sp.Symbol) and s.is_integer
                   and s.assumptions0.items() <= _POSITIVE_INTEGER), key=str)
    return {s: sp.Integer(2 + k) for k, s in enumerate(free)}


def _quick_zero(e) -> bool | None:
    """A fast decision for an expression without sums: ``True`` when expanding products and logarithms
    cancels it to 0 (an identity); ``False`` when it is clearly non-zero at a rational point (so it is not
    identically zero); ``None`` to leave it to :func:`sympy.simplify`.

    >>> a, b = sp.symbols("a b", positive=True)
    >>> _quick_zero(sp.log(a * b) - sp.log(a) - sp.log(b)), _quick_zero(sp.log(a + b) - sp.log(a))
    (True, False)
    """
    if e == 0:
        return True
    if e.has(sp.Sum, sp.Indexed, sp.Piecewise, sp.KroneckerDelta):
        return None
    if _clearly_nonzero(e):                       # first: cheap, and decisive for a wrong formula
        return False
    if _rational_zero(e) or sp.expand(sp.expand_log(e)) == 0:
        return True
    return None


def _clearly_nonzero(e) -> bool:
    """Is ``e`` clearly non-zero at a rational point (40 digits, relative to its largest term)?"""
    point = _probe_point(e.free_symbols)
    if point is None:
        return False
    value = e.evalf(_PROBE_DIGITS, subs=point)
    if not value.is_number or value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return False
    scale = max([1.0] + [abs(complex(t.evalf(15, subs=point))) for t in sp.Add.make_args(e)])
    return abs(complex(value)) > _PROBE_TOL * scale


def pull_constants(expr):
    """Take factors that do not depend on a sum's index out of the sum, term by term.

    Used in: reduce_general

    >>> j, K = sp.symbols("j K", integer=True)
    >>> a, z = sp.Symbol("a"), sp.IndexedBase("z")
    >>> pull_constants(sp.Sum(a * z[j] + 2, (j, 1, K)))
    a*Sum(z[j], (j, 1, K)) + 2*Sum(1, (j, 1, K))
    """
    def pull(s: sp.Sum):
        if len(s.limits) != 1:
            return s
        j = s.limits[0][0]
        out = 0
        for term in sp.Add.make_args(sp.expand(s.function)):
            indep, dep = term.as_independent(j, as_Add=False)
            out += indep * sp.Sum(dep, s.limits)
        return out

    return expr.replace(lambda e: isinstance(e, sp.Sum), pull)


def reduce_general(expr, x: Logits, distribution: sp.IndexedBase | None = None):
    """Simplify an expression in a general-K ``Logits`` for the cases that matter.

    ``sum_j exp(z_j)`` becomes a positive symbol ``S``; a ``Piecewise`` takes its
    first branch (the one for a class index ``1 <= i <= K``, which is how SymPy
    writes the result of summing a Kronecker delta); and if ``distribution`` is
    given, ``sum_j distribution[j]`` becomes 1 (a target that sums to one).
    Sums are split term by term (:func:`pull_constants`, exact for finite sums)
    before SymPy evaluates them.

    Used in: the notation's general-K sums (derivations.engine.notation)

    >>> x = Logits()
    >>> i = sp.Symbol("i", integer=True, positive=True)
    >>> reduce_general(sp.diff(log_sum_exp(x), x.z(i)) - softmax(x, i), x)
    0
    """
    e = pull_constants(sp.expand(sp.sympify(expr))).doit()     # small sums: SymPy evaluates them 10x faster
    e = canonical(pull_constants(e.replace(lambda a: isinstance(a, sp.Piecewise), lambda a: a.args[0][0])))
    j = sp.Symbol("j", integer=True)
    S = sp.Symbol("S", positive=True)
    e = e.xreplace({sp.Sum(sp.exp(x.base[j]), (j, 1, x.K)): S})
    if distribution is not None:
        e = e.xreplace({sp.Sum(distribution[j], (j, 1, x.K)): 1})
    return sp.simplify(sp.expand_log(e, force=True))


def class_sums(expr, x: Logits, classes: tuple = (), simplify: bool = True):
    """Rewrite every sum over the classes of a general-K expression in a few named unknowns.

    A sum ``sum_{j=1}^K f(j)`` becomes ``f(1) + sum_{j=2}^K f(j)``, and a sum over
    the wrong classes ``j = 2..K`` of each term ``c * g(z_j)`` (``c`` free of ``j``)
    becomes ``c * S[g]``, one symbol per function ``g`` of the logit (``S[1] = K - 1``).
    ``KroneckerDelta(j, 1)`` is 0 on the wrong classes, and ``KroneckerDelta(j, c)``
    for a class ``c`` in ``classes`` (generic wrong classes, distinct from each
    other) picks the term at ``c``. Sums are rewritten innermost first, so a
    nested sum over the wrong classes becomes a symbol too. Two expressions
    whose difference rewrites to 0 are equal for every K >= 2 and all logits:
    the rewriting is exact, nothing is sampled. The result is 0 when it cancels
    as a rational function (the unknowns taken as independent), else
    :func:`sympy.simplify`'s form; ``simplify=False`` returns the rewritten
    expression expanded but not simplified.

    Used in: is_zero (a fast proof for a general K)

    >>> x = Logits()
    >>> j = sp.Symbol("j", integer=True, positive=True)
    >>> class_sums(x.sum(lambda j: x.z(j) ** 2) - x.z(1) ** 2, x)
    S[z**2]
    """
    w = sp.Dummy("w", real=True)
    named: dict = {}
    generic = set(classes)

    def unknown(g):
        if g == 1:
            return x.K - 1
        key = sp.srepr(g)
        if key not in named:
            named[key] = sp.Symbol(f"S[{sp.sstr(g.subs(w, sp.Symbol('z')))}]", real=True)
        return named[key]

    def wrong_classes(term, j):
        """sum_{j=2}^K of one product term."""
        if not term.has(j):
            return term * (x.K - 1)
        coeff, depend = term.as_independent(j, as_Add=False)
        for d in sp.Mul.make_args(depend):
            if isinstance(d, sp.KroneckerDelta):
                other = d.args[0] if d.args[1] == j else d.args[1]
                if other == 1:
                    return sp.S.Zero
                if other in generic:
                    return coeff * (depend / d).subs(j, other)
        g = depend.subs(x.base[j], w)
        if g.has(j):
            raise ValueError(f"cannot rewrite the class sum of {term}: it depends on j other than through z_j")
        if g.has(w) and not (g := sp.cancel(g)).has(w):      # e.g. exp(z_j) / (exp(z_j) S): constant in j
            return coeff * g * (x.K - 1)
        return coeff * unknown(g)

    def rewrite(s: sp.Sum):
        f, (j, lo, hi) = s.function, s.limits[0]
        if hi != x.K or lo not in (1, 2) or len(s.limits) != 1:
            raise ValueError(f"not a sum over the classes 1..K or 2..K: {s}")
        total = f.subs(j, 1) if lo == 1 else sp.S.Zero
        tail = f.xreplace({sp.KroneckerDelta(1, j): 0, sp.KroneckerDelta(j, 1): 0})    # j >= 2 in the tail
        for term in sp.Add.make_args(sp.expand(tail)):
            total += wrong_classes(term, j)
        return total

    e = sp.sympify(expr)
    while e.has(sp.Sum):
        e = e.replace(lambda a: isinstance(a, sp.Sum) and not a.function.has(sp.Sum), rewrite)
    deltas = {sp.KroneckerDelta(c, 1): 0 for c in generic}
    deltas.update({sp.KroneckerDelta(c, d): 0 for c in generic for d in generic if c != d})
    e = sp.expand(e.subs(deltas))
    if not simplify:
        return e
    if sp.expand(sp.numer(sp.together(e))) == 0:    # zero as a rational function of its unknowns (the exps and
        return sp.S.Zero                            # the S[g] taken as independent): 0, and 5-10x faster than
    return sp.simplify(e)                           # simplify, which would find 0 too


def compiled(args, expr, modules: str = "numpy"):
    """``sympy.lambdify(args, expr, modules)``, compiled once per distinct arguments, expression and modules.

    The same formula is compiled again and again across a run: by the sweeps of one check (its counterexample
    and its assumption sweep share the printed form), by claims that share a form (a corrected form, the closed
    form of the smoothed loss) and by the mutants of one claim. SymPy expressions are hashable and compare
    structurally, so equal expressions give the same function (nested lists are compiled as nested tuples, which
    NumPy reads alike). lambdify's docstring, which prints the whole expression a second time, is left out
    (``docstring_limit=0``): the generated code is the same.

    Used in: checks.numeric_values, checks.mp_value, evaluation.function and the numeric checks of chapters 2-4

    >>> z = sp.symbols("z_1:3", real=True)
    >>> f = compiled(z, z[0] - z[1])
    >>> f(3.0, 1.0), compiled(list(z), z[0] - z[1]) is f
    (2.0, True)
    """
    args, expr = tuple(args), _frozen(expr)
    try:
        hash(expr)
    except TypeError:                             # a mutable matrix, say: compiled each time
        return sp.lambdify(args, expr, modules, docstring_limit=0)
    return _compiled(args, expr, modules)


@lru_cache(maxsize=4096)
def _compiled(args: tuple, expr, modules: str):
    return sp.lambdify(args, expr, modules, docstring_limit=0)


def _frozen(expr):
    """Lists (of lists) as tuples, so that the expression can be a cache key."""
    return tuple(_frozen(e) for e in expr) if isinstance(expr, (list, tuple)) else expr
