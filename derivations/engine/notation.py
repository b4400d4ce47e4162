"""The note's notation, read into SymPy: what a reader sees is what a check evaluates.

:func:`read` parses a formula written in the note's LaTeX (``z_{y_j}``,
``q_{\\theta}(y_j|x)``, ``p(y_j|x)``, ``\\sum_{j=1}^{K}``, ``\\|z_{y}\\|_{\\infty}``,
``(a, \\cdots, b)``, ``a + \\dots + b``, ``\\begin{cases}`` ...) into a small
syntax tree; :meth:`Reading.evaluate` turns a part of it into a SymPy
expression for a :class:`~derivations.engine.symbolic.Logits` (concrete or general K),
in a :class:`Context` that says what the note's symbols mean in a chapter;
:func:`latex` writes a tree back in the note's LaTeX.
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

Every kind of node is declared once, in :mod:`derivations.engine.kinds`
(:data:`~derivations.engine.kinds.NOTATION`): how its construct is read, its
value, its LaTeX, and what the mutation tests may change in it. This module holds
the grammar (relations, sums, products, powers, brackets) and the chapters'
contexts; every command (``\\frac``, ``\\sum`` ...) and every letter with a syntax
of its own (``z``, ``q``, ``p``, ``H``) is read by the kinds that declare it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from derivations.engine.kinds import EPS, INDEX_J, Vector, evaluate, kind_of, latex, readers, sup_norm
from derivations.engine.nodes import Node, ParseError, Relation
from derivations.engine.symbolic import Logits, cross_entropy, smoothed_target

__all__ = ["ParseError", "Node", "Relation", "Reading", "Vector", "Context", "HARD", "SOFT", "ANY_TARGET", "TARGET",
           "EPS", "read", "read_text", "evaluate", "latex", "kind_of", "distribution_constraint",
           "INDEX_J", "sup_norm", "Parser"]


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
    """A token: its ``type`` (``cmd``, ``num``, ``char``, ``norm``, ``rowsep``, ``sep``), its text and position."""

    type: str
    text: str
    pos: int


def tokenize(latex: str) -> list[Tok]:
    """Split LaTeX into tokens; sizing commands and thin spaces are dropped, ``\\quad`` kept as a separator."""
    out = []
    for m in _TOKEN.finditer(latex):
        type_ = m.lastgroup
        text = m.group()
        if type_ == "ws":
            if text.strip() in _SEPARATORS:
                out.append(Tok("sep", text.strip(), m.start()))
            continue
        out.append(Tok(type_, text, m.start()))
    return out


# -- the syntax tree: a reading of relations (nodes: derivations.engine.nodes) --------------------
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

class Parser:
    """The grammar: relations, sums, products, powers, brackets; a command or a special letter is read by
    the kinds of :data:`~derivations.engine.kinds.NOTATION` that declare it (:meth:`construct`).

    What a kind's ``read(parser, command)`` may use: :meth:`peek`, :meth:`at`,
    :meth:`take`, :meth:`error`, :meth:`group_text`, :meth:`letter_name`, and the
    grammar's :meth:`script` (a sub- or superscript), :meth:`atom`, :meth:`power`,
    :meth:`term`, :meth:`expr`, :meth:`relation_chain`, :meth:`subscripted`.
    """

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

    def letter_name(self) -> str:
        t = self.take()
        if not (t.type == "char" and t.text.isalpha()):
            raise self.error(f"expected a letter, found {t.text!r}")
        return t.text

    # grammar
    def reading(self) -> Reading:
        r = Reading(self.latex)
        while self.peek() is not None:
            if self.at(",") or self.at(";") or self.peek().type == "sep" or self.at(":"):
                self.take()
                continue
            if self.at("(") and self.peek(1) is not None and self.peek(1).text == r"\because":
                r.because = self._because()
                continue
            if self.at(r"\text"):
                r.parts.append(self.command())
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
            if t is None or t.text in self._STOP or t.type in ("sep", "rowsep", "norm") or t.text in (
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
        if t.type == "num":
            return Node("num", (sp.Rational(t.text),))
        if t.text in (r"\top", r"\mathsf"):
            return Node("var", ("T",))
        return Node("var", (_NAMES.get(t.text, t.text),))

    def atom(self) -> Node:
        t = self.peek()
        if t is None:
            raise self.error("unexpected end")
        if t.type == "num":
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
        if t.type in ("cmd", "norm"):                      # \frac, \sum ..., and \| of \|z_{y}\|_{\infty}
            return self.command()
        if t.type == "char" and t.text.isalpha():
            return self.letter()
        raise self.error(f"unexpected {t.text!r}")

    def command(self) -> Node:
        """A construct opened by a command: read by the kinds of :data:`~derivations.engine.kinds.NOTATION` that declare it."""
        c = self.take().text
        node = self.construct(c)
        if node is not None:
            return node
        if readers(c) and self.at("{"):          # \mathrm{name}, \begin{env}: a name no kind reads
            raise self.error(f"{c}{{{self.group_text()}}} is not read")
        raise self.error(f"the command {c} is not read")

    def letter(self) -> Node:
        """A letter: a construct of its own (``z_{y_j}``, ``q_{\\theta}(y|x)`` ...) or a name, maybe subscripted."""
        name = self.letter_name()
        node = self.construct(name)
        return node if node is not None else self.subscripted(Node("var", (name,)))

    def construct(self, word: str) -> Node | None:
        """The node of the first kind that reads what follows ``word`` (taken already), or ``None``.

        A kind whose ``read`` returns ``None`` gives back what it read: the next kind starts where it did.
        """
        start = self.i
        for kind in readers(word):
            node = kind.read(self, word)
            if node is not None:
                return node
            self.i = start
        return None

    def subscripted(self, node: Node) -> Node:
        """``node`` or, followed by ``_``, ``node`` indexed by the subscript."""
        if self.at("_"):
            self.take("_")
            return Node("indexed", (node, self.script()))
        return node

_NAMES = {r"\infty": "oo", r"\theta": "theta"}


def read(latex: str) -> Reading:
    """Parse a formula in the note's notation; :class:`ParseError` says what could not be read, and where."""
    return Parser(latex).reading()


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
