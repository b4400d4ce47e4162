"""The note's notation, read into SymPy: what a reader sees is what a check evaluates.

:func:`read` parses a formula written in the note's LaTeX (``z_{y_j}``,
``q_{\\theta}(y_j|x)``, ``p(y_j|x)``, ``\\sum_{j=1}^{K}``, ``\\|z_{y}\\|_{\\infty}``,
``(a, \\cdots, b)``, ``a + \\dots + b``, ``\\begin{cases}`` ...) into a small
syntax tree; :meth:`Reading.evaluate` turns a part of it into a SymPy
expression for a :class:`~derivations.engine.symbolic.Logits` (concrete or general K),
in a :class:`Context` that says what the note's symbols mean in a chapter.
Claims take their printed formula from the transcription of the note
(:mod:`derivations.engine.note`) and their corrected form from their own LaTeX, read
both here, and check the expressions read: there is no second copy to drift.

Conventions of the note, made explicit (each is what the note's own text says):

* ``z_{y_j}`` and ``z_j`` are the logit of class ``j``; class 1 is the true one.
* ``(A, \\cdots, B)``: component 1 is ``A``, component ``j >= 2`` is ``B`` with the
  class index ``K`` replaced by ``j``; likewise ``A + \\dots + B`` is
  ``A + sum_{j=2}^K B[K -> j]``. Only class indices are replaced (not the ``K``
  of ``\\epsilon/(K-1)``).
* ``\\sum_{j \\neq i}``: ``i`` is "the correct label" (``\\because`` assuming ``i`` is
  the correct label), so the sum runs over ``j = 2..K``.
* ``M``: ``\\|z_y\\|_\\infty`` (``\\because`` assuming ``\\|z_y\\|_\\infty = M``).
* ``H_j(p, q_\\theta)``: the per-class term ``-p_j log q_j`` (chapter 1 sums it over
  classes); ``H_i(p, q_\\theta)`` summed over examples: the loss of example ``i``.

>>> from derivations.engine.symbolic import Logits
>>> r = read(r"= -\\left(z_{y_{1}} - \\log\\left(\\exp(z_{y_{1}}) + K - 1\\right)\\right)")
>>> r.relation().op
'='
>>> r.rhs(Logits(2), HARD)
-z_1 + log(exp(z_1) + 1)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from derivations.engine.symbolic import Logits, cross_entropy, log_sum_exp, smoothed_target, softmax

__all__ = ["ParseError", "Node", "Relation", "Reading", "Vector", "Context", "HARD", "SOFT", "ANY_TARGET", "TARGET",
           "EPS", "read", "read_text", "evaluate", "distribution_constraint", "INDEX_J", "sup_norm"]

#: The note's smoothing parameter, as a SymPy symbol shared by every chapter.
EPS = sp.Symbol("epsilon", positive=True)
#: A free class index (``p(y_j|x)`` read as a function of ``j``).
INDEX_J = sp.Symbol("j", integer=True, positive=True)


class ParseError(ValueError):
    """A formula the reader does not understand: says what and where."""


# -- tokens ------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<ws>\s+|\\[,;!:\ ]|\\quad\b|\\qquad\b|\\left\b|\\right\b|\\[bB]ig[lr]?\b|\\textstyle\b)
  | (?P<rowsep>\\\\)
  | (?P<norm>\\\|)
  | (?P<cmd>\\[A-Za-z]+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<char>.)
""", re.X)
_SEPARATORS = {r"\quad", r"\qquad"}


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(latex: str) -> list[Tok]:
    """Split LaTeX into tokens; sizing commands and thin spaces are dropped, ``\\quad`` kept as a separator."""
    out = []
    for m in _TOKEN.finditer(latex):
        kind = m.lastgroup
        text = m.group()
        if kind == "ws":
            if text.strip() in _SEPARATORS:
                out.append(Tok("sep", text.strip(), m.start()))
            continue
        out.append(Tok(kind, text, m.start()))
    return out


# -- syntax tree ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """One node of a formula: ``kind`` and its arguments (nodes, strings or numbers)."""

    kind: str
    args: tuple = ()

    def __repr__(self) -> str:
        return f"{self.kind}{self.args!r}"


@dataclass(frozen=True)
class Relation:
    """``lhs op rhs``; ``lhs`` is ``None`` for a continuation line (``= ...`` of the line above)."""

    op: str
    lhs: Node | None
    rhs: Node


@dataclass
class Reading:
    """A formula read: its relations (``parts``), any text, and the justification in ``(\\because ...)``."""

    latex: str
    parts: list = field(default_factory=list)
    because: str = ""

    def relation(self, i: int = 0) -> Relation:
        rels = [p for p in self.parts if isinstance(p, Relation)]
        if not rels:
            raise ParseError(f"no relation in {self.latex!r}")
        return rels[i]

    def relations(self) -> list[Relation]:
        return [p for p in self.parts if isinstance(p, Relation)]

    def rhs(self, x: Logits, ctx: "Context", i: int = 0, **bind):
        """The right-hand side of relation ``i``, evaluated."""
        return evaluate(self.relation(i).rhs, x, ctx, bind)

    def lhs(self, x: Logits, ctx: "Context", i: int = 0, **bind):
        node = self.relation(i).lhs
        if node is None:
            raise ParseError(f"relation {i} of {self.latex!r} has no left-hand side (a continuation line)")
        return evaluate(node, x, ctx, bind)

    def value(self, x: Logits, ctx: "Context", node: Node, **bind):
        return evaluate(node, x, ctx, bind)


class _Parser:
    def __init__(self, latex: str):
        self.latex = latex
        self.toks = tokenize(latex)
        self.i = 0

    # helpers
    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at(self, text: str) -> bool:
        t = self.peek()
        return t is not None and t.text == text

    def take(self, text: str | None = None) -> Tok:
        t = self.peek()
        if t is None:
            raise self.error(f"unexpected end, expected {text!r}" if text else "unexpected end")
        if text is not None and t.text != text:
            raise self.error(f"expected {text!r}, found {t.text!r}")
        self.i += 1
        return t

    def error(self, what: str) -> ParseError:
        t = self.peek()
        pos = t.pos if t else len(self.latex)
        return ParseError(f"{what} at position {pos} of {self.latex!r}: ...{self.latex[pos:pos + 30]!r}")

    def group_text(self) -> str:
        """The raw source text of a ``{...}`` group (for ``\\text{...}``, ``\\mathrm{...}``), spaces kept."""
        opening = self.take("{")
        depth = 1
        while depth:
            t = self.take()
            depth += {"{": 1, "}": -1}.get(t.text, 0)
        return self.latex[opening.pos + 1:t.pos]

    # grammar
    def reading(self) -> Reading:
        r = Reading(self.latex)
        while self.peek() is not None:
            if self.at(",") or self.at(";") or self.peek().kind == "sep" or self.at(":"):
                self.take()
                continue
            if self.at("(") and self.peek(1) is not None and self.peek(1).text == r"\because":
                r.because = self._because()
                continue
            if self.at(r"\text"):
                r.parts.append(Node("text", (self.take() and self.group_text(),)))
                continue
            r.parts.append(self.relation_chain())
        return r

    def _because(self) -> str:
        start = self.take("(").pos
        depth = 1
        while depth:
            t = self.take()
            depth += {"(": 1, ")": -1}.get(t.text, 0)
        return self.latex[start:self.toks[self.i - 1].pos + 1]

    _RELS = {"=": "=", r"\approx": "≈", "<": "<", ">": ">", r"\le": "<=", r"\leq": "<=", r"\ge": ">=",
             r"\geq": ">=", r"\neq": "!=", r"\ne": "!="}

    def relation_chain(self) -> Relation:
        lhs = None
        if not self._at_relation():
            lhs = self.expr()
        if not self._at_relation():
            if lhs is None:
                raise self.error("expected an expression")
            return Relation("expr", None, lhs)
        op = self._RELS[self.take().text]
        rhs = self.expr()
        rel = Relation(op, lhs, rhs)
        chain = [rel]
        while self._at_relation():                    # a < b <= c: a chain of relations
            op = self._RELS[self.take().text]
            nxt = self.expr()
            chain.append(Relation(op, chain[-1].rhs, nxt))
        return chain[0] if len(chain) == 1 else Relation("chain", None, Node("chain", tuple(chain)))

    def _at_relation(self) -> bool:
        t = self.peek()
        return t is not None and t.text in self._RELS

    def expr(self) -> Node:
        terms = []
        sign = 1
        if self.at("-"):
            self.take()
            sign = -1
        elif self.at("+"):
            self.take()
        terms.append(self.term() if sign > 0 else Node("neg", (self.term(),)))
        while self.at("+") or self.at("-"):
            op = self.take().text
            if self.at(r"\dots") or self.at(r"\cdots") or self.at(r"\ldots"):
                self.take()
                self.take("+")
                last = self.term()
                first = terms.pop()
                terms.append(Node("dots", (first, last)))
                continue
            t = self.term()
            terms.append(t if op == "+" else Node("neg", (t,)))
        return terms[0] if len(terms) == 1 else Node("add", tuple(terms))

    _STOP = {"+", "-", ")", "]", "}", ",", "&", "|", ";", ":"} | set(_RELS)

    def term(self) -> Node:
        factors = [self.power()]
        while True:
            t = self.peek()
            if t is None or t.text in self._STOP or t.kind in ("sep", "rowsep", "norm") or t.text in (
                    r"\end", r"\text", r"\dots", r"\cdots", r"\ldots", r"\iff"):
                break
            if t.text == r"\cdot":
                self.take()
                continue
            if t.text == "(" and self.peek(1) is not None and self.peek(1).text == r"\because":
                break
            factors.append(self.power())
        return factors[0] if len(factors) == 1 else Node("mul", tuple(factors))

    def power(self) -> Node:
        base = self.atom()
        while self.at("^"):
            self.take()
            base = Node("pow", (base, self.script()))
        return base

    def script(self) -> Node:
        """A sub/superscript: ``{...}`` or a single token."""
        if self.at("{"):
            self.take("{")
            e = self.expr()
            self.take("}")
            return e
        t = self.take()
        if t.kind == "num":
            return Node("num", (sp.Rational(t.text),))
        if t.text in (r"\top", r"\mathsf"):
            return Node("var", ("T",))
        return Node("var", (_NAMES.get(t.text, t.text),))

    def atom(self) -> Node:
        t = self.peek()
        if t is None:
            raise self.error("unexpected end")
        if t.kind == "num":
            self.take()
            return Node("num", (sp.Rational(t.text),))
        if t.text in ("(", "["):
            close = {"(": ")", "[": "]"}[t.text]
            self.take()
            first = self.expr()
            if self.at(","):                               # (A, \cdots, B)
                self.take(",")
                self.take(r"\cdots") if self.at(r"\cdots") else self.take(r"\dots")
                self.take(",")
                last = self.expr()
                self.take(close)
                return Node("tuple", (first, last))
            self.take(close)
            return first
        if t.text == "{":
            self.take()
            e = self.expr()
            self.take("}")
            return e
        if t.kind == "norm":                               # \|z_{y}\|_{\infty}
            self.take()
            inner = self.expr()
            self.take(r"\|")
            self.take("_")
            sub = self.script()
            if sub != Node("var", ("oo",)):
                raise self.error("only the infinity norm is read")
            return Node("norm_inf", (inner,))
        if t.kind == "cmd":
            return self.command()
        if t.kind == "char" and t.text.isalpha():
            return self.letter()
        raise self.error(f"unexpected {t.text!r}")

    def command(self) -> Node:
        c = self.take().text
        if c in (r"\frac", r"\tfrac") and self._at_partial():
            return self._derivative()
        if c == r"\frac" or c == r"\tfrac":
            return Node("frac", (self.script(), self.script()))
        if c == r"\delta":                                 # \delta_{ab}: Kronecker
            self.take("_")
            self.take("{")
            a, b = self.letter_name(), self.letter_name()
            self.take("}")
            return Node("delta", (a, b))
        if c in (r"\exp", r"\log"):
            power = None
            if self.at("^"):
                self.take()
                power = self.script()
            arg = self.atom() if self.at("(") or self.at("{") else self.power()
            node = Node(c[1:], (arg,))
            return Node("pow", (node, power)) if power is not None else node
        if c == r"\sum":
            return self._sum()
        if c in (r"\max", r"\min"):
            self.take("_")
            var = self.script()
            return Node(c[1:], (var, self.power()))
        if c == r"\Pr":
            self.take("(")
            event = self._event()
            self.take("|")
            self.take("x")
            self.take(")")
            return Node("Pr", (event,))
        if c == r"\mathcal":
            name = self.group_text()
            sub = None
            if self.at("_"):
                self.take()
                sub = self.script()
            node = Node("calL" if name == "L" else f"mathcal:{name}", (sub,))
            if self.at("(") and self.peek(1) is not None and self.peek(1).text == "z":
                self.take("(")
                self.take("z")
                self.take(")")
            return node
        if c == r"\mathrm":
            name = self.group_text()
            if name in ("LSE",):
                self.take("(")
                self.take("z")
                self.take(")")
                return Node("lse", ())
            if name == "softmax":
                self.take("(")
                self.take("z")
                self.take(")")
                if self.at("_"):
                    self.take()
                    return Node("q", (self.script(),))
                return Node("q", (None,))
            raise self.error(f"\\mathrm{{{name}}} is not read")
        if c == r"\begin":
            env = self.group_text()
            if env != "cases":
                raise self.error(f"\\begin{{{env}}} is not read")
            return self._cases()
        if c == r"\text":
            return Node("text", (self.group_text(),))
        if c in _GREEK:
            return self._subscripted(Node("var", (_GREEK[c],)))
        raise self.error(f"the command {c} is not read")

    def _at_partial(self) -> bool:
        return self.at("{") and self.peek(1) is not None and self.peek(1).text == r"\partial"

    def _derivative(self) -> Node:
        """``\\frac{\\partial}{\\partial z_{a}} X`` or ``\\frac{\\partial^2}{\\partial z_{a} \\partial z_{b}} X``."""
        self.take("{")
        self.take(r"\partial")
        if self.at("^"):
            self.take("^")
            self.script()
        self.take("}")
        self.take("{")
        variables = []
        while self.at(r"\partial"):
            self.take(r"\partial")
            self.take("z")
            self.take("_")
            variables.append(self.script())
        self.take("}")
        return Node("deriv", (tuple(variables), self.term()))

    def _sum(self) -> Node:
        self.take("_")
        self.take("{")
        var = self.letter_name()
        lo = hi = cond = None
        if self.at("="):
            self.take("=")
            lo = self.expr()
        elif self.at(r"\neq") or self.at(r"\ne"):
            self.take()
            cond = Node("ne", (self.expr(),))
        self.take("}")
        if self.at("^"):
            self.take("^")
            hi = self.script()
        body = self.term()
        return Node("sum", (var, lo, hi, cond, body))

    def _cases(self) -> Node:
        rows = []
        while not self.at(r"\end"):
            value = self.expr()
            if self.at(","):
                self.take(",")
            self.take("&")
            cond = None
            if self.at(r"\text"):
                self.take()
                words = self.group_text().strip()
                if words == "if":
                    cond = self.relation_chain()
                elif words != "otherwise":
                    raise self.error(f"a case reads 'if ...' or 'otherwise'; found {words!r}")
            else:
                cond = self.relation_chain()
            rows.append((value, cond))
            if self.peek() is not None and self.peek().kind == "rowsep":
                self.take()
        self.take(r"\end")
        self.group_text()
        return Node("cases", tuple(rows))

    def _event(self) -> Node:
        self.take("y")
        op = self.take().text
        if op not in ("=", r"\neq", r"\ne"):
            raise self.error("an event reads y = ... or y \\neq ...")
        if self.at(r"\text"):
            self.take()
            words = self.group_text().strip()
            if words != "incorrect class":
                raise self.error(f"the event y = \\text{{{words}}} is not read")
            return Node("event", ("incorrect",))
        value = self.expr()
        return Node("event", ("=" if op == "=" else "!=", value))

    def letter_name(self) -> str:
        t = self.take()
        if not (t.kind == "char" and t.text.isalpha()):
            raise self.error(f"expected a letter, found {t.text!r}")
        return t.text

    def letter(self) -> Node:
        name = self.letter_name()
        if name in ("z",):
            return self._logit()
        if name == "q":                                # q_{\theta}(y|x), q_{\theta}(y_j|x), or q_a
            self.take("_")
            sub = self.script()
            if sub == Node("var", ("theta",)):
                return Node("q", (self._label_argument(),))
            return Node("q", (sub,))
        if name == "p":
            if self.at("("):
                return Node("p", (self._label_argument(),))
            return self._subscripted(Node("var", ("p",)))
        if name == "H":
            self.take("_")
            sub = self.script()
            self.take("(")
            depth = 1
            while depth:                                # the arguments (p, q_\theta) are a label only
                t = self.take()
                depth += {"(": 1, ")": -1}.get(t.text, 0)
            return Node("H", (sub,))
        return self._subscripted(Node("var", (name,)))

    def _subscripted(self, node: Node) -> Node:
        if self.at("_"):
            self.take("_")
            return Node("indexed", (node, self.script()))
        return node

    def _logit(self) -> Node:
        if not self.at("_"):
            return Node("z", (None,))
        self.take("_")
        if self.at("{"):
            self.take("{")
            if self.at("y"):
                self.take("y")
                if self.at("}"):
                    self.take("}")
                    return Node("z", (None,))
                self.take("_")
                idx = self.script()
                self.take("}")
                return Node("z", (idx,))
            idx = self.expr()
            self.take("}")
            return Node("z", (idx,))
        return Node("z", (self.script(),))

    def _label_argument(self):
        """``(y|x)``, ``(y_j|x_i)``, ``(y_{1}|x)``: the class index, or ``None`` for the whole vector."""
        self.take("(")
        self.take("y")
        idx = None
        if self.at("_"):
            self.take("_")
            idx = self.script()
        self.take("|")
        self.take("x")
        if self.at("_"):
            self.take("_")
            self.script()
        self.take(")")
        return idx


_GREEK = {r"\epsilon": "epsilon", r"\varepsilon": "epsilon", r"\alpha": "alpha", r"\Delta": "Delta",
          r"\theta": "theta", r"\infty": "oo"}
_NAMES = {r"\infty": "oo", r"\theta": "theta"}


def read(latex: str) -> Reading:
    """Parse a formula in the note's notation; :class:`ParseError` says what could not be read, and where."""
    return _Parser(latex).reading()


def read_text(text: str) -> Reading:
    """A formula, or a quotation of the note's prose with ``$...$`` math: the math fragments, read in order.

    >>> [r.op for r in read_text(r"note that $a = 1$ and $b = 2$").relations()]
    ['=', '=']
    >>> read_text("label flipping is equivalent to replacing hard labels").parts
    []
    """
    if "$" not in text and not re.search(r"[\\_^=]", text):
        return Reading(text)                                  # prose without mathematics
    if "$" not in text:
        return read(text)
    out = Reading(text)
    for fragment in re.findall(r"\$\$?(.+?)\$?\$", text):
        r = read(fragment)
        out.parts.extend(r.parts)
        out.because = out.because or r.because
    return out


# -- meaning -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What the note's symbols mean in a chapter.

    ``target(x, j)`` is ``p(y_j|x)``; ``loss(x)`` is ``\\mathcal{L}``; ``pr(x, kind, value)``
    the probability of a label event (chapter 3). ``symbols`` maps other
    names (``N``, ``alpha`` ...) to SymPy objects.
    """

    name: str
    target: object
    loss: object
    pr: object = None
    symbols: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Vector:
    """``(A, \\cdots, B)`` read: component 1 is ``A``, component ``j >= 2`` is ``B`` at class index ``j``."""

    reading: Node
    x: Logits
    ctx: Context
    bind: tuple

    def component(self, j):
        first, last = self.reading.args
        b = dict(self.bind)
        if isinstance(j, int) and j == 1:
            return evaluate(first, self.x, self.ctx, b)
        return evaluate(last, self.x, self.ctx, {**b, "__class__": j})

    def components(self) -> list:
        if self.x.general:
            raise ParseError("a general-K vector has no list of components; use component(j)")
        return [self.component(j) for j in range(1, self.x.K + 1)]


def _index(node: Node, x: Logits, ctx: Context, bind: dict):
    """A class index: like :func:`evaluate`, but ``K`` means the class of an ellipsis pattern when bound."""
    if node.kind == "var" and node.args[0] == "K" and "__class__" in bind:
        return bind["__class__"]
    if node.kind == "var" and node.args[0] == "i":
        return bind.get("i", 1)                               # i is "the correct label": class 1
    return evaluate(node, x, ctx, bind)


def sup_norm(x: Logits):
    """``||z||_inf = max_j |z_j|`` for concrete K; the symbol ``M`` for a general K (no closed form).

    >>> sup_norm(Logits(2))
    Max(Abs(z_1), Abs(z_2))
    """
    if x.general:
        return sp.Symbol("M")                                 # not expressible for a symbolic K
    return sp.Max(*[sp.Abs(x.z(j)) for j in range(1, x.K + 1)])


def _extremum(node: Node, x: Logits, ctx: "Context", bind: dict):
    """``\\max_j f(j)`` or ``\\min_j f(j)`` over the classes j = 1..K (concrete K only)."""
    var, body = node.args
    if x.general:
        raise ParseError(f"{node.kind}_j has no closed form for a general symbolic K")
    name = var.args[0] if var.kind == "var" else None
    if name is None:
        raise ParseError(f"{node.kind} is read over a class index, as in \\max_j")
    values = [evaluate(body, x, ctx, {**bind, name: j}) for j in range(1, x.K + 1)]
    # unevaluated: SymPy's pairwise comparison of K arguments is quadratic and slow for K = 50, and
    # substituting values (subs, lambdify) evaluates it anyway
    return (sp.Max if node.kind == "max" else sp.Min)(*values, evaluate=False)


def evaluate(node: Node, x: Logits, ctx: Context, bind: dict | None = None):
    """The SymPy value of ``node`` for logits ``x`` in context ``ctx``; ``bind`` maps index names to values."""
    bind = bind or {}
    k, a = node.kind, node.args
    ev = lambda n: evaluate(n, x, ctx, bind)            # noqa: E731
    if k == "num":
        return a[0]
    if k == "var":
        name = a[0]
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
    if k == "indexed":
        base, sub = a
        if base.kind == "var" and base.args[0] == "p":
            return ctx.target(x, _index(sub, x, ctx, bind))
        if base.kind == "var" and base.args[0] == "q":
            return softmax(x, _index(sub, x, ctx, bind))
        if base.kind == "var" and base.args[0] == "r":
            return ctx.symbols["r"](_index(sub, x, ctx, bind))
        return sp.Indexed(sp.IndexedBase(base.args[0]), _index(sub, x, ctx, bind))
    if k == "z":
        if a[0] is None:
            raise ParseError("the logit vector z_y is read only inside a norm")
        return x.z(_index(a[0], x, ctx, bind))
    if k == "q":
        if a[0] is None:
            return Vector(Node("tuple", (Node("q", (Node("num", (sp.Integer(1),)),)),
                                         Node("q", (Node("var", ("K",)),)))), x, ctx, tuple(bind.items()))
        return softmax(x, _index(a[0], x, ctx, bind))
    if k == "p":
        if a[0] is None:
            raise ParseError("p(y|x) as a whole vector is not read")
        return ctx.target(x, _index(a[0], x, ctx, bind))
    if k == "H":
        sub = a[0]
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
    if k == "calL":
        if a[0] is None:
            return ctx.loss(x)
        sub = a[0]                                            # L_0, L_\epsilon, L_{\epsilon}
        key = _GREEK.get(sub.args[0], sub.args[0]) if sub.kind == "var" else evaluate(sub, x, ctx, bind)
        return ctx.symbols[f"L_{key}"](x)
    if k == "neg":
        return -ev(a[0])
    if k == "add":
        return sp.Add(*[ev(t) for t in a])
    if k == "mul":
        return sp.Mul(*[ev(f) for f in a])
    if k == "pow":
        return ev(a[0]) ** ev(a[1])
    if k == "frac":
        return ev(a[0]) / ev(a[1])
    if k == "exp":
        return sp.exp(ev(a[0]))
    if k == "log":
        return sp.log(ev(a[0]))
    if k == "lse":
        return log_sum_exp(x)
    if k in ("max", "min"):
        return _extremum(node, x, ctx, bind)
    if k == "norm_inf":
        return sup_norm(x)
    if k == "tuple":
        return Vector(node, x, ctx, tuple(bind.items()))
    if k == "dots":                                           # A + \dots + B: A + sum_{j=2}^K B[K -> j]
        first, last = a
        return ev(first) + x.sum(lambda j: evaluate(last, x, ctx, {**bind, "__class__": j}), start=2)
    if k == "sum":
        return _sum(node, x, ctx, bind)
    if k == "cases":
        return _cases(a, x, ctx, bind)
    if k == "Pr":
        kind, *rest = a[0].args
        value = None if kind == "incorrect" else _index(rest[0], x, ctx, bind)
        return ctx.pr(x, kind, value)
    if k == "deriv":
        variables, operand = a
        expr = ev(operand)
        for v in variables:
            expr = sp.diff(expr, x.z(_index(v, x, ctx, bind)))
        return expr
    if k == "delta":
        i, j = (evaluate(Node("var", (n,)), x, ctx, bind) for n in a)
        return sp.KroneckerDelta(i, j)
    if k == "text":
        raise ParseError(f"text is not a value: {a[0]!r}")
    raise ParseError(f"cannot evaluate a {k} node")


def _cases(rows, x, ctx, bind):
    """Cases on a class index (``if j = 1 ... otherwise``) as Kronecker deltas, which SymPy can sum over j.

    ``value_1 [j = c_1] + ... + otherwise (1 - sum [j = c_i])``; other conditions give a ``Piecewise``.
    """
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


def _sum(node: Node, x: Logits, ctx: Context, bind: dict):
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


# -- the chapters' meanings ----------------------------------------------------------------------------
def _one_hot(x, j):
    return sp.KroneckerDelta(j, 1)


def _hard_loss(x):
    return cross_entropy(x, lambda j: _one_hot(x, j))


def _soft_target(x, j):
    return smoothed_target(x, j, EPS)


def _soft_loss(x):
    return cross_entropy(x, lambda j: _soft_target(x, j))


def _example_loss_symbol(i):
    return sp.Function("H")(i)


#: A target distribution p_1..p_K with nothing assumed but that it sums to one (``distribution_constraint``).
TARGET = sp.IndexedBase("p", real=True)


def _any_target(x, j):
    if x.general or not isinstance(j, (int, sp.Integer)):
        return TARGET[j]
    return sp.Symbol(f"p_{int(j)}", real=True)


def _any_loss(x):
    return cross_entropy(x, lambda j: _any_target(x, j))


def distribution_constraint(expr, x: Logits):
    """Impose that the target of :data:`ANY_TARGET` sums to one: ``p_K = 1 - p_1 - ... - p_{K-1}`` (concrete K)."""
    if x.general:
        raise ValueError("for a general K, pass distribution=TARGET to symbolic.reduce_general")
    last = _any_target(x, x.K)
    return expr.subs(last, 1 - sum(_any_target(x, j) for j in range(1, x.K)))


#: Chapter 1: the one-hot target of class 1, the hard-label loss.
HARD = Context("hard labels", _one_hot, _hard_loss, symbols={"example_loss": _example_loss_symbol})
#: Chapter 2: the note's soft target, the smoothed loss (and the hard loss as L_0).
SOFT = Context("soft labels", _soft_target, _soft_loss,
               symbols={"example_loss": _example_loss_symbol, "L_0": _hard_loss, "L_epsilon": _soft_loss})
#: Any target that sums to one (the gradient and Hessian hold for every such target).
ANY_TARGET = Context("any target", _any_target, _any_loss, symbols={"example_loss": _example_loss_symbol})
