"""The kinds of node of the note's notation, each declared once: the catalogue.

:mod:`derivations.engine.notation` reads a formula into a tree of
:class:`~derivations.engine.nodes.Node`; this module says, for every kind of node,
how its construct is read (when a command or one of the note's letters opens it),
its value in SymPy (:func:`evaluate`), how it is written back in LaTeX
(:func:`latex`), where its LaTeX needs parentheses, and what the mutation tests
(:mod:`audit.mutation`) may change in it. The table is
:data:`NOTATION` (a :class:`~derivations.engine.nodes.Notation`, the mechanism);
the parser, :func:`evaluate`, :func:`latex` and the mutation walk all read it, and
a node of a kind it does not declare fails loudly
(:class:`~derivations.engine.nodes.UnknownKind`).

>>> from derivations.engine.notation import SOFT, read
>>> from derivations.engine.symbolic import Logits
>>> node = read(r"\\frac{\\epsilon}{K - 1}").relation().rhs
>>> node
frac(var('epsilon',), add(var('K',), neg(num(1,),)))
>>> [kind_of(n).name for n in node.args], kind_of(node).roles, kind_of(node).commands
(['var', 'add'], (), ('\\\\frac', '\\\\tfrac'))
>>> evaluate(node, Logits(3), SOFT), latex(node)
(epsilon/2, '\\\\frac{\\\\epsilon}{K - 1}')

**A new LaTeX construct** opened by a command, say ``\\sqrt{a}``, is one entry here:

1. write its functions in the catalogue below, next to similar ones:
   ``read(p, command)`` reads what follows the command (taken already) with the
   parser's primitives (:class:`derivations.engine.notation.Parser`) and returns
   its node, or ``None`` when what follows is not its construct;
   ``evaluate(node, x, ctx, bind)`` gives its value (recursing with
   :func:`evaluate`), and ``latex(node)`` its LaTeX (recursing with :func:`latex`);
2. add its entry to :data:`NOTATION`: ``Kind("sqrt", _sqrt_value, _sqrt_latex,
   commands=(r"\\sqrt",), read=_read_sqrt, precedence=Precedence.ATOM,
   example=r"\\sqrt{K - 1}")``. Its arguments are values the mutation tests change
   unless ``roles`` says otherwise (:data:`~derivations.engine.nodes.ROLES`: class
   indices, names to leave alone ...); ``opaque=True`` leaves them all alone;
   ``small=True`` describes its mutations together with its parent;
3. nothing else: ``tests/test_notation.py`` reads every kind's ``example`` and
   writes it back, and follows this recipe for ``\\sqrt`` in a copy of the table.

A new operator of the grammar itself (an infix sign, say) needs the parser's
grammar in :mod:`derivations.engine.notation` as well; its kind is still one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derivations.engine.nodes import Kind, Node, Notation, ParseError, Precedence, Relation
from derivations.engine.symbolic import Logits, log_sum_exp, softmax

__all__ = ["NOTATION", "EPS", "INDEX_J", "Vector", "evaluate", "latex", "kind_of", "readers", "sup_norm", "extreme_logit"]

#: The note's smoothing parameter, as a SymPy symbol shared by every chapter.
EPS = sp.Symbol("epsilon", positive=True)
#: A free class index (``p(y_j|x)`` read as a function of ``j``).
INDEX_J = sp.Symbol("j", integer=True, positive=True)

#: Commands read as names (the Greek letters, and ``\\infty``).
_GREEK = {r"\epsilon": "epsilon", r"\varepsilon": "epsilon", r"\alpha": "alpha", r"\Delta": "Delta",
          r"\theta": "theta", r"\infty": "oo"}


# -- values: each kind's, looked up in the table (so are its LaTeX, its reader and its roles) ------------
@dataclass(frozen=True)
class Vector:
    """``(A, \\cdots, B)`` read: component 1 is ``A``, component ``j >= 2`` is ``B`` at class index ``j``."""

    reading: Node
    x: Logits
    ctx: object                     # a derivations.engine.notation.Context
    bind: tuple

    def component(self, j):
        first, last = self.reading.args
        b = dict(self.bind)
        if j == 1:                                       # a Python 1 or SymPy's Integer(1)
            return evaluate(first, self.x, self.ctx, b)
        return evaluate(last, self.x, self.ctx, {**b, "__class__": j})

    def components(self) -> list:
        if self.x.general:
            raise ParseError("a general-K vector has no list of components; use component(j)")
        return [self.component(j) for j in range(1, self.x.K + 1)]


def kind_of(node: Node) -> Kind:
    """The :class:`~derivations.engine.nodes.Kind` of ``node`` in :data:`NOTATION`; an unknown kind fails loudly.

    >>> kind_of(Node("num", (2,))).precedence.name
    'ATOM'
    >>> kind_of(Node("nmu", (2,)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    derivations.engine.nodes.UnknownKind: no node kind 'nmu' in this notation (its kinds: num, var, ...)
    """
    return NOTATION[node.kind]


def readers(word: str) -> tuple[Kind, ...]:
    """The kinds of :data:`NOTATION` that ``word`` (a command, or one of the note's letters) may introduce.

    >>> [k.name for k in readers(r"\\frac")]
    ['deriv', 'frac']
    """
    return NOTATION.readers(word)


def evaluate(node: Node, x: Logits, ctx, bind: dict | None = None):
    """The SymPy value of ``node`` for logits ``x`` in context ``ctx``; ``bind`` maps index names to values.

    The value is the kind's (:data:`NOTATION`); an unknown kind raises
    :class:`~derivations.engine.nodes.UnknownKind`, a kind that is no value
    (an event, a piece of text) :class:`ParseError`.
    """
    value = NOTATION[node.kind].evaluate
    if value is None:
        raise ParseError(f"cannot evaluate a {node.kind} node")
    return value(node, x, ctx, bind or {})


def _index(node: Node, x: Logits, ctx, bind: dict):
    """A class index: like :func:`evaluate`, but ``K`` means the class of an ellipsis pattern when bound."""
    if node.kind == "var" and node.args[0] == "K" and "__class__" in bind:
        return bind["__class__"]
    if node.kind == "var" and node.args[0] == "i":
        return bind.get("i", 1)                               # i is "the correct label": class 1
    return evaluate(node, x, ctx, bind)


def extreme_logit(kind: str = "max") -> sp.Symbol:
    """The largest (``"max"``) or smallest (``"min"``) logit of a general K, a symbol: how ``\\max_j z_j`` is read when
    ``K`` is a symbol.

    >>> extreme_logit()
    \\max_j z_j
    """
    return sp.Symbol(rf"\{kind}_j z_j", real=True)


def sup_norm(x: Logits):
    """``||z||_inf = max_j |z_j|`` for concrete K; the symbol ``M`` for a general K (no closed form).

    >>> sup_norm(Logits(2))
    Max(Abs(z_1), Abs(z_2))
    """
    if x.general:
        return sp.Symbol("M")                                 # not expressible for a symbolic K
    return sp.Max(*[sp.Abs(x.z(j)) for j in range(1, x.K + 1)])


# -- writing: a node back to the note's LaTeX ------------------------------------------------------------
#: Relations as written (``<=`` is ``\\le``).
_RELATION_LATEX = {"=": "=", "≈": r"\approx", "<": "<", "<=": r"\le", ">": ">", ">=": r"\ge", "!=": r"\neq"}
#: Names as written (the inverse of :data:`_GREEK`).
_NAME_LATEX = {"epsilon": r"\epsilon", "alpha": r"\alpha", "Delta": r"\Delta", "theta": r"\theta", "oo": r"\infty"}


def latex(node) -> str:
    """LaTeX for a node (or relation) in the note's notation; :func:`~derivations.engine.notation.read` reads it back.

    >>> from derivations.engine.notation import read
    >>> r = read(r"= -\\left(z_{y_1} - \\log\\left(\\exp(z_{y_1}) + K - 1\\right)\\right)")
    >>> latex(r.relation())
    '= -\\\\left(z_{1} - \\\\log(\\\\exp(z_{1}) + K - 1)\\\\right)'
    >>> read(latex(r.relation())).parts == r.parts
    True
    """
    if node is None:
        return ""
    if isinstance(node, Relation):
        if node.op in ("chain", "expr"):
            return latex(node.rhs)
        lhs = latex(node.lhs) + " " if node.lhs is not None else ""
        return lhs + f"{_RELATION_LATEX.get(node.op, node.op)} {latex(node.rhs)}"
    return NOTATION[node.kind].latex(node)


def _group(n: Node | None) -> str:
    return "{" + latex(n) + "}"


def _paren(n: Node, loosest: Precedence) -> str:
    """``n`` written, in parentheses when it binds no tighter than ``loosest``."""
    s = latex(n)
    return rf"\left({s}\right)" if NOTATION[n.kind].precedence <= loosest else s


def _term(t: Node, first: bool) -> str:
    """A term of a sum, with its sign."""
    if isinstance(t, Node) and t.kind == "neg":
        return ("-" if first else " - ") + _paren(t.args[0], Precedence.ADD)
    return ("" if first else " + ") + _paren(t, Precedence.ADD)


# -- the catalogue: every kind of node ---------------------------------------------------------------
# Each kind's functions (how its construct is read, its value, its LaTeX), then its entry in NOTATION.
# Reading functions take the parser after the command or letter; they return None when what follows is not
# their construct (the parser gives back what they read and tries the next kind declaring the command).

# numbers and names: 2, 0.5, K, \epsilon, p_{j}
def _num_value(node, x, ctx, bind):
    return node.args[0]


def _num_latex(node) -> str:
    v = sp.Rational(node.args[0])
    if v.q == 1:
        return str(v.p)
    return str(float(v)) if (v * 10 ** 6).q == 1 else rf"\frac{{{v.p}}}{{{v.q}}}"


def _read_greek(p, command: str) -> Node:
    return p.subscripted(Node("var", (_GREEK[command],)))


def _var_value(node, x, ctx, bind):
    name = node.args[0]
    if name in bind:
        return bind[name]
    if name == "K":
        return x.K
    if name == "epsilon":
        return ctx.symbols.get("epsilon", EPS)
    if name == "M":
        return sup_norm(x)
    if name in ctx.symbols:
        return ctx.symbols[name]
    if name in ("j", "k", "l", "i", "a", "b"):
        return bind.get(name, sp.Symbol(name, integer=True, positive=True))
    if name == "e":
        return sp.E
    return sp.Symbol(name)


def _var_latex(node) -> str:
    return _NAME_LATEX.get(node.args[0], node.args[0])


def _indexed_value(node, x, ctx, bind):
    base, sub = node.args
    if base.kind == "var" and base.args[0] == "p":
        return ctx.target(x, _index(sub, x, ctx, bind))
    if base.kind == "var" and base.args[0] == "q":
        return softmax(x, _index(sub, x, ctx, bind))
    if base.kind == "var" and base.args[0] == "r":
        return ctx.symbols["r"](_index(sub, x, ctx, bind))
    return sp.Indexed(sp.IndexedBase(base.args[0]), _index(sub, x, ctx, bind))


def _indexed_latex(node) -> str:
    return latex(node.args[0]) + "_" + _group(node.args[1])


# the note's letters: z_{y_j}, q_{\theta}(y_j|x), p(y_j|x), H_j(p, q_\theta)
def _read_logit(p, letter: str) -> Node:
    """``z_{y_j}``, ``z_{y}`` (the vector), ``z_{j}``, ``z_j``, ``z``."""
    if not p.at("_"):
        return Node("z", (None,))
    p.take("_")
    if p.at("{"):
        p.take("{")
        if p.at("y"):
            p.take("y")
            if p.at("}"):
                p.take("}")
                return Node("z", (None,))
            p.take("_")
            idx = p.script()
            p.take("}")
            return Node("z", (idx,))
        idx = p.expr()
        p.take("}")
        return Node("z", (idx,))
    return Node("z", (p.script(),))


def _z_value(node, x, ctx, bind):
    if node.args[0] is None:
        raise ParseError("the logit vector z_y is read only inside a norm")
    return x.z(_index(node.args[0], x, ctx, bind))


def _z_latex(node) -> str:
    return "z_{y}" if node.args[0] is None else "z_" + _group(node.args[0])


def _label_argument(p):
    """``(y|x)``, ``(y_j|x_i)``, ``(y_{1}|x)``: the class index, or ``None`` for the whole vector."""
    p.take("(")
    p.take("y")
    idx = None
    if p.at("_"):
        p.take("_")
        idx = p.script()
    p.take("|")
    p.take("x")
    if p.at("_"):
        p.take("_")
        p.script()
    p.take(")")
    return idx


def _read_q(p, word: str) -> Node | None:
    """``q_{\\theta}(y|x)``, ``q_{\\theta}(y_j|x)``, ``q_a``; ``\\mathrm{softmax}(z)`` and ``\\mathrm{softmax}(z)_j``."""
    if word == r"\mathrm":
        if p.group_text() != "softmax":
            return None
        p.take("(")
        p.take("z")
        p.take(")")
        if p.at("_"):
            p.take()
            return Node("q", (p.script(),))
        return Node("q", (None,))
    p.take("_")
    sub = p.script()
    if sub == Node("var", ("theta",)):
        return Node("q", (_label_argument(p),))
    return Node("q", (sub,))


def _q_value(node, x, ctx, bind):
    if node.args[0] is None:
        return Vector(Node("tuple", (Node("q", (Node("num", (sp.Integer(1),)),)),
                                     Node("q", (Node("var", ("K",)),)))), x, ctx, tuple(bind.items()))
    return softmax(x, _index(node.args[0], x, ctx, bind))


def _q_latex(node) -> str:
    return r"q_{\theta}(y|x)" if node.args[0] is None else "q_" + _group(node.args[0])


def _read_p(p, letter: str) -> Node | None:
    """``p(y_j|x)``, ``p(y|x)``; a ``p`` without its argument is a name (``p_j``)."""
    return Node("p", (_label_argument(p),)) if p.at("(") else None


def _p_value(node, x, ctx, bind):
    if node.args[0] is None:
        raise ParseError("p(y|x) as a whole vector is not read")
    return ctx.target(x, _index(node.args[0], x, ctx, bind))


def _p_latex(node) -> str:
    return "p(y|x)" if node.args[0] is None else "p(y_" + _group(node.args[0]) + "|x)"


def _read_h(p, letter: str) -> Node:
    """``H_j(p, q_\\theta)``: the arguments are a label only."""
    p.take("_")
    sub = p.script()
    p.take("(")
    depth = 1
    while depth:
        t = p.take()
        depth += {"(": 1, ")": -1}.get(t.text, 0)
    return Node("H", (sub,))


def _h_value(node, x, ctx, bind):
    sub = node.args[0]
    name = sub.args[0] if sub.kind == "var" else None
    if name in bind and bind.get("__over__") == "classes":
        j = bind[name]
        return -ctx.target(x, j) * sp.log(softmax(x, j))
    index = sp.Symbol(name, integer=True, positive=True) if name else None
    if name is not None and bind.get("__over__") == "examples":
        return ctx.symbols["example_loss"](bind.get(name, index))
    if name == "j":                                       # H_j summed over classes: -p_j log q_j
        j = bind.get("j", INDEX_J)
        return -ctx.target(x, j) * sp.log(softmax(x, j))
    return ctx.symbols["example_loss"](bind.get(name, index))


def _h_latex(node) -> str:
    return "H_" + _group(node.args[0]) + r"(p, q_{\theta})"


# losses: \mathcal{L}, \mathcal{L}_0, \mathcal{L}_{\epsilon}(z); another \mathcal{X} is a name
def _mathcal_rest(p) -> Node | None:
    """The subscript of ``\\mathcal{X}_s(z)``, if any; the argument ``(z)`` is a label only."""
    sub = None
    if p.at("_"):
        p.take()
        sub = p.script()
    if p.at("(") and p.peek(1) is not None and p.peek(1).text == "z":
        p.take("(")
        p.take("z")
        p.take(")")
    return sub


def _read_loss(p, command: str) -> Node | None:
    return Node("calL", (_mathcal_rest(p),)) if p.group_text() == "L" else None


def _loss_value(node, x, ctx, bind):
    sub = node.args[0]
    if sub is None:
        return ctx.loss(x)
    key = _GREEK.get(sub.args[0], sub.args[0]) if sub.kind == "var" else evaluate(sub, x, ctx, bind)
    return ctx.symbols[f"L_{key}"](x)                     # L_0, L_\epsilon, L_{\epsilon}


def _loss_latex(node) -> str:
    return r"\mathcal{L}" + ("" if node.args[0] is None else "_" + _group(node.args[0]))


def _read_mathcal(p, command: str) -> Node:
    name = p.group_text()
    return Node("mathcal", (name, _mathcal_rest(p)))


def _mathcal_latex(node) -> str:
    name, sub = node.args
    return rf"\mathcal{{{name}}}" + ("" if sub is None else "_" + _group(sub))


# arithmetic: -a, a + b, a + \dots + b, a b, a^{b}, \frac{a}{b}
def _neg_value(node, x, ctx, bind):
    return -evaluate(node.args[0], x, ctx, bind)


def _neg_latex(node) -> str:
    return _term(node, True)


def _add_value(node, x, ctx, bind):
    return sp.Add(*[evaluate(t, x, ctx, bind) for t in node.args])


def _add_latex(node) -> str:
    return "".join(_term(t, i == 0) for i, t in enumerate(node.args))


def _dots_value(node, x, ctx, bind):
    """``A + \\dots + B``: ``A + sum_{j=2}^K B[K -> j]``."""
    first, last = node.args
    return evaluate(first, x, ctx, bind) + x.sum(lambda j: evaluate(last, x, ctx, {**bind, "__class__": j}), start=2)


def _dots_latex(node) -> str:
    return _term(node.args[0], True) + r" + \dots + " + _paren(node.args[1], Precedence.ADD)


def _mul_value(node, x, ctx, bind):
    return sp.Mul(*[evaluate(f, x, ctx, bind) for f in node.args])


def _mul_latex(node) -> str:
    out = []
    for i, f in enumerate(node.args):
        last = i == len(node.args) - 1
        s = _paren(f, Precedence.MUL if last else Precedence.OPEN)   # \sum_j a runs on: not before a factor
        out.append(("" if i == 0 else r" \cdot " if s[:1].isdigit() else " ") + s)
    return "".join(out)


def _pow_value(node, x, ctx, bind):
    return evaluate(node.args[0], x, ctx, bind) ** evaluate(node.args[1], x, ctx, bind)


def _pow_latex(node) -> str:
    base, exponent = node.args
    negative = base.kind == "num" and base.args[0] < 0
    b = latex(base) if kind_of(base).precedence is Precedence.ATOM and not negative else rf"\left({latex(base)}\right)"
    return b + "^" + _group(exponent)


def _read_frac(p, command: str) -> Node:
    return Node("frac", (p.script(), p.script()))


def _frac_value(node, x, ctx, bind):
    return evaluate(node.args[0], x, ctx, bind) / evaluate(node.args[1], x, ctx, bind)


def _frac_latex(node) -> str:
    return r"\frac" + _group(node.args[0]) + _group(node.args[1])


# functions: \exp(a), \log a, \log^{2}(a), \mathrm{LSE}(z), \max_j a, \min_j a, \|z_{y}\|_{\infty}
def _read_function(p, command: str) -> Node:
    """``\\exp(a)``, ``\\log a``; ``\\log^{2}(a)`` is read as ``(\\log a)^2``."""
    power = None
    if p.at("^"):
        p.take()
        power = p.script()
    arg = p.atom() if p.at("(") or p.at("{") else p.power()
    node = Node(command[1:], (arg,))
    return Node("pow", (node, power)) if power is not None else node


def _exp_value(node, x, ctx, bind):
    return sp.exp(evaluate(node.args[0], x, ctx, bind))


def _log_value(node, x, ctx, bind):
    return sp.log(evaluate(node.args[0], x, ctx, bind))


def _function_latex(node) -> str:
    return f"\\{node.kind}({latex(node.args[0])})"


def _read_lse(p, command: str) -> Node | None:
    if p.group_text() != "LSE":
        return None
    p.take("(")
    p.take("z")
    p.take(")")
    return Node("lse", ())


def _lse_value(node, x, ctx, bind):
    return log_sum_exp(x)


def _lse_latex(node) -> str:
    return r"\mathrm{LSE}(z)"


def _read_extremum(p, command: str) -> Node:
    p.take("_")
    var = p.script()
    return Node(command[1:], (var, p.power()))


def _extremum(node: Node, x: Logits, ctx, bind: dict):
    """``\\max_j f(j)`` or ``\\min_j f(j)`` over the classes j = 1..K. For a general K it has no closed form: the
    largest (smallest) logit ``\\max_j z_j`` is then a symbol of its own (:func:`extreme_logit`), and anything else
    is refused."""
    var, body = node.args
    name = var.args[0] if var.kind == "var" else None
    if name is None:
        raise ParseError(f"{node.kind} is read over a class index, as in \\max_j")
    if x.general:
        j = sp.Dummy("j", integer=True, positive=True)
        if evaluate(body, x, ctx, {**bind, name: j}) != x.z(j):
            raise ParseError(f"{node.kind}_j of anything but the logits has no closed form for a general symbolic K")
        return extreme_logit(node.kind)
    values = [evaluate(body, x, ctx, {**bind, name: j}) for j in range(1, x.K + 1)]
    # unevaluated: SymPy's pairwise comparison of K arguments is quadratic and slow for K = 50, and
    # substituting values (subs, lambdify) evaluates it anyway
    return (sp.Max if node.kind == "max" else sp.Min)(*values, evaluate=False)


def _extremum_latex(node) -> str:
    return f"\\{node.kind}_" + _group(node.args[0]) + " " + latex(node.args[1])


def _read_norm(p, command: str) -> Node:
    """``\\|z_{y}\\|_{\\infty}``: the infinity norm only."""
    inner = p.expr()
    p.take(r"\|")
    p.take("_")
    if p.script() != Node("var", ("oo",)):
        raise p.error("only the infinity norm is read")
    return Node("norm_inf", (inner,))


def _norm_value(node, x, ctx, bind):
    return sup_norm(x)


def _norm_latex(node) -> str:
    return r"\|z_{y}\|_{\infty}"


# vectors: (A, \cdots, B)
def _tuple_value(node, x, ctx, bind):
    return Vector(node, x, ctx, tuple(bind.items()))


def _tuple_latex(node) -> str:
    return rf"\left({latex(node.args[0])}, \cdots, {latex(node.args[1])}\right)"


# sums over classes or examples: \sum_{j=1}^{K} a, \sum_{j \neq i} a, \sum_{i=1}^{N} a
def _read_sum(p, command: str) -> Node:
    p.take("_")
    p.take("{")
    var = p.letter_name()
    lo = hi = cond = None
    if p.at("="):
        p.take("=")
        lo = p.expr()
    elif p.at(r"\neq") or p.at(r"\ne"):
        p.take()
        cond = Node("ne", (p.expr(),))
    p.take("}")
    if p.at("^"):
        p.take("^")
        hi = p.script()
    body = p.term()
    return Node("sum", (var, lo, hi, cond, body))


def _sum_value(node: Node, x: Logits, ctx, bind: dict):
    var, lo, hi, cond, body = node.args
    if hi is not None and hi.kind == "var" and hi.args[0] == "N":      # a sum over examples
        n = evaluate(hi, x, ctx, bind)
        i = sp.Symbol(var, integer=True, positive=True)
        term = evaluate(body, x, ctx, {**bind, "__over__": "examples", var: i})
        return sp.Sum(term, (i, evaluate(lo, x, ctx, bind), n))
    start = 1
    if lo is not None:
        start = evaluate(lo, x, ctx, bind)
    if cond is not None:                                      # \sum_{j \neq i}: i is the true class 1
        excluded = _index(cond.args[0], x, ctx, bind)
        if excluded != 1:
            raise ParseError("a sum over j != i is read with i the correct label, class 1")
        start = 2
    if hi is not None and evaluate(hi, x, ctx, bind) != x.K:
        raise ParseError("sums over classes run to K")
    return x.sum(lambda j: evaluate(body, x, ctx, {**bind, var: j, "__over__": "classes"}), start=int(start))


def _sum_latex(node) -> str:
    var, lo, hi, cond, body = node.args
    low = f"{var} = {latex(lo)}" if lo is not None else f"{var} {latex(cond)}" if cond else var
    return r"\sum_{" + low + "}" + ("" if hi is None else "^" + _group(hi)) + " " + _paren(body, Precedence.ADD)


def _ne_latex(node) -> str:
    return r"\neq " + latex(node.args[0])


# cases: \begin{cases} a, & \text{if } j = 1\\ b, & \text{otherwise} \end{cases}
def _read_cases(p, command: str) -> Node | None:
    if p.group_text() != "cases":
        return None
    rows = []
    while not p.at(r"\end"):
        value = p.expr()
        if p.at(","):
            p.take(",")
        p.take("&")
        cond = None
        if p.at(r"\text"):
            p.take()
            words = p.group_text().strip()
            if words == "if":
                cond = p.relation_chain()
            elif words != "otherwise":
                raise p.error(f"a case reads 'if ...' or 'otherwise'; found {words!r}")
        else:
            cond = p.relation_chain()
        rows.append((value, cond))
        if p.peek() is not None and p.peek().type == "rowsep":
            p.take()
    p.take(r"\end")
    p.group_text()
    return Node("cases", tuple(rows))


def _cases_value(node, x, ctx, bind):
    """Cases on a class index (``if j = 1 ... otherwise``) as Kronecker deltas, which SymPy can sum over j.

    ``value_1 [j = c_1] + ... + otherwise (1 - sum [j = c_i])``; other conditions give a ``Piecewise``.
    """
    rows = node.args
    conds = [c for _, c in rows if c is not None]
    if all(c.op == "=" for c in conds) and [c for _, c in rows].count(None) <= 1 and rows[-1][1] is None:
        out, rest = 0, 1
        for value, c in rows[:-1]:
            d = sp.KroneckerDelta(evaluate(c.lhs, x, ctx, bind), evaluate(c.rhs, x, ctx, bind))
            out += evaluate(value, x, ctx, bind) * d
            rest -= d
        return out + evaluate(rows[-1][0], x, ctx, bind) * rest
    return sp.Piecewise(*[(evaluate(v, x, ctx, bind), True if c is None else _condition(c, x, ctx, bind))
                          for v, c in rows])


def _condition(rel: Relation, x, ctx, bind):
    lhs, rhs = evaluate(rel.lhs, x, ctx, bind), evaluate(rel.rhs, x, ctx, bind)
    return {"=": sp.Eq, "!=": sp.Ne}[rel.op](lhs, rhs)


def _cases_latex(node) -> str:
    rows = [latex(value) + ", & " + (r"\text{otherwise}" if cond is None else r"\text{if } " + latex(cond))
            for value, cond in node.args]
    return r"\begin{cases} " + r"\\ ".join(rows) + r" \end{cases}"


# probabilities of label events (chapter 3): \Pr(y = 1|x), \Pr(y \neq 1|x), \Pr(y = \text{incorrect class}|x)
def _read_pr(p, command: str) -> Node:
    p.take("(")
    event = _read_event(p)
    p.take("|")
    p.take("x")
    p.take(")")
    return Node("Pr", (event,))


def _read_event(p) -> Node:
    p.take("y")
    op = p.take().text
    if op not in ("=", r"\neq", r"\ne"):
        raise p.error("an event reads y = ... or y \\neq ...")
    if p.at(r"\text"):
        p.take()
        words = p.group_text().strip()
        if words != "incorrect class":
            raise p.error(f"the event y = \\text{{{words}}} is not read")
        return Node("event", ("incorrect",))
    value = p.expr()
    return Node("event", ("=" if op == "=" else "!=", value))


def _pr_value(node, x, ctx, bind):
    kind, *rest = node.args[0].args
    value = None if kind == "incorrect" else _index(rest[0], x, ctx, bind)
    return ctx.pr(x, kind, value)


def _pr_latex(node) -> str:
    return rf"\Pr({latex(node.args[0])}|x)"


def _event_latex(node) -> str:
    a = node.args
    return r"y = \text{incorrect class}" if a[0] == "incorrect" else f"y {_RELATION_LATEX[a[0]]} {latex(a[1])}"


# derivatives: \frac{\partial}{\partial z_{a}} X, \frac{\partial^2}{\partial z_{a} \partial z_{b}} X
def _read_derivative(p, command: str) -> Node | None:
    if not (p.at("{") and p.peek(1) is not None and p.peek(1).text == r"\partial"):
        return None                                           # a quotient
    p.take("{")
    p.take(r"\partial")
    if p.at("^"):
        p.take("^")
        p.script()
    p.take("}")
    p.take("{")
    variables = []
    while p.at(r"\partial"):
        p.take(r"\partial")
        p.take("z")
        p.take("_")
        variables.append(p.script())
    p.take("}")
    return Node("deriv", (tuple(variables), p.term()))


def _deriv_value(node, x, ctx, bind):
    variables, operand = node.args
    expr = evaluate(operand, x, ctx, bind)
    for v in variables:
        expr = sp.diff(expr, x.z(_index(v, x, ctx, bind)))
    return expr


def _deriv_latex(node) -> str:
    variables, operand = node.args
    top = r"\partial" if len(variables) == 1 else rf"\partial^{len(variables)}"
    bottom = " ".join(r"\partial z_" + _group(v) for v in variables)
    return rf"\frac{{{top}}}{{{bottom}}} " + _paren(operand, Precedence.ADD)


# the Kronecker delta: \delta_{ab}
def _read_delta(p, command: str) -> Node:
    p.take("_")
    p.take("{")
    a, b = p.letter_name(), p.letter_name()
    p.take("}")
    return Node("delta", (a, b))


def _delta_value(node, x, ctx, bind):
    i, j = (evaluate(Node("var", (n,)), x, ctx, bind) for n in node.args)
    return sp.KroneckerDelta(i, j)


def _delta_latex(node) -> str:
    return r"\delta_{" + "".join(node.args) + "}"


# text: \text{...}, a part of a reading or a word of cases; and a chain of relations, a < b \le c
def _read_text(p, command: str) -> Node:
    return Node("text", (p.group_text(),))


def _text_value(node, x, ctx, bind):
    raise ParseError(f"text is not a value: {node.args[0]!r}")


def _text_latex(node) -> str:
    return r"\text{" + node.args[0] + "}"


def _chain_latex(node) -> str:
    links = node.args
    terms = Relation("chain", None, node).terms()
    return latex(terms[0]) + "".join(f" {_RELATION_LATEX[r.op]} {latex(t)}" for r, t in zip(links, terms[1:]))


_ATOM, _ADD, _MUL, _OPEN = Precedence.ATOM, Precedence.ADD, Precedence.MUL, Precedence.OPEN

#: Every kind of node of the note's notation, once. Kinds that share a command are tried in this order.
NOTATION = Notation([
    # numbers and names
    Kind("num", _num_value, _num_latex, precedence=_ATOM, opaque=True, small=True, example="2"),
    Kind("var", _var_value, _var_latex, commands=tuple(_GREEK), read=_read_greek,
         precedence=_ATOM, opaque=True, small=True, example=r"\epsilon"),
    Kind("indexed", _indexed_value, _indexed_latex, precedence=_ATOM, roles=("skip", "index"), small=True,
         example="p_{j}"),
    # the note's letters
    Kind("z", _z_value, _z_latex, commands=("z",), read=_read_logit, precedence=_ATOM, roles=("index",),
         small=True, example="z_{y_{j}}"),
    Kind("q", _q_value, _q_latex, commands=("q", r"\mathrm"), read=_read_q, precedence=_ATOM, roles=("index",),
         small=True, example=r"q_{\theta}(y_{j}|x)"),
    Kind("p", _p_value, _p_latex, commands=("p",), read=_read_p, precedence=_ATOM, roles=("index",), small=True,
         example="p(y_{j}|x)"),
    Kind("H", _h_value, _h_latex, commands=("H",), read=_read_h, precedence=_ATOM, opaque=True,
         example=r"H_{j}(p, q_{\theta})"),
    # losses
    Kind("calL", _loss_value, _loss_latex, commands=(r"\mathcal",), read=_read_loss, precedence=_ATOM,
         opaque=True, example=r"\mathcal{L}_{0}"),
    Kind("mathcal", None, _mathcal_latex, commands=(r"\mathcal",), read=_read_mathcal,
         roles=("skip",), example=r"\mathcal{X}"),
    # arithmetic (read by the grammar, but for \frac: a quotient, or a derivative when it opens with \partial)
    Kind("neg", _neg_value, _neg_latex, precedence=_ADD, small=True, example="-K"),
    Kind("add", _add_value, _add_latex, precedence=_ADD, example="K - 1"),
    Kind("dots", _dots_value, _dots_latex, precedence=_ADD, example=r"z_{1} + \dots + z_{K}"),
    Kind("mul", _mul_value, _mul_latex, precedence=_MUL, example=r"\epsilon K"),
    Kind("pow", _pow_value, _pow_latex, example="K^{2}"),
    Kind("deriv", _deriv_value, _deriv_latex, commands=(r"\frac", r"\tfrac"), read=_read_derivative,
         precedence=_OPEN, roles=("skip", "value"), example=r"\frac{\partial}{\partial z_{a}} \log(q_{a})"),
    Kind("frac", _frac_value, _frac_latex, commands=(r"\frac", r"\tfrac"), read=_read_frac,
         example=r"\frac{\epsilon}{K - 1}"),
    # functions
    Kind("exp", _exp_value, _function_latex, commands=(r"\exp",), read=_read_function, precedence=_ATOM,
         example=r"\exp(z_{1})"),
    Kind("log", _log_value, _function_latex, commands=(r"\log",), read=_read_function, precedence=_ATOM,
         example=r"\log(K)"),
    Kind("lse", _lse_value, _lse_latex, commands=(r"\mathrm",), read=_read_lse, precedence=_ATOM, opaque=True,
         small=True, example=r"\mathrm{LSE}(z)"),
    Kind("max", _extremum, _extremum_latex, commands=(r"\max",), read=_read_extremum, opaque=True, small=True,
         example=r"\max_{j} z_{j}"),
    Kind("min", _extremum, _extremum_latex, commands=(r"\min",), read=_read_extremum, opaque=True, small=True,
         example=r"\min_{j} z_{j}"),
    Kind("norm_inf", _norm_value, _norm_latex, commands=(r"\|",), read=_read_norm, precedence=_ATOM,
         opaque=True, small=True, example=r"\|z_{y}\|_{\infty}"),
    Kind("delta", _delta_value, _delta_latex, commands=(r"\delta",), read=_read_delta, precedence=_ATOM,
         opaque=True, example=r"\delta_{ab}"),
    # vectors, sums (ne: the condition of a sum over j \neq i, read by \sum), cases
    Kind("tuple", _tuple_value, _tuple_latex, example=r"\left(1 - \epsilon, \cdots, \frac{\epsilon}{K - 1}\right)"),
    Kind("sum", _sum_value, _sum_latex, commands=(r"\sum",), read=_read_sum, precedence=_OPEN,
         roles=("binder", "start", "skip", "skip", "value"), example=r"\sum_{j = 1}^{K} z_{j}"),
    Kind("ne", None, _ne_latex, example=r"\sum_{j \neq i} z_{j}"),
    Kind("cases", _cases_value, _cases_latex, commands=(r"\begin",), read=_read_cases, rest="row",
         example=r"\begin{cases} 1, & \text{if } j = 1\\ 0, & \text{otherwise} \end{cases}"),
    # probabilities of label events (the event is read by \Pr)
    Kind("Pr", _pr_value, _pr_latex, commands=(r"\Pr",), read=_read_pr, precedence=_ATOM, roles=("event",),
         example=r"\Pr(y = 1|x)"),
    Kind("event", None, _event_latex, roles=("skip", "index"), example=r"\Pr(y \neq 1|x)"),
    # text, and a chain of relations (read by the grammar: a < b \le c)
    Kind("text", _text_value, _text_latex, commands=(r"\text",), read=_read_text, opaque=True,
         example=r"\text{otherwise}"),
    Kind("chain", None, _chain_latex, example=r"a < b \le c"),
])
