"""The kinds of node of a notation, each declared once: the mechanism.

A formula read by :mod:`derivations.engine.notation` is a tree of :class:`Node`,
``Node(kind, args)``. A :class:`Kind` says all the engine knows of one kind of
node, in one place:

* ``commands`` and ``read``: the LaTeX commands (or the letters with a syntax of
  their own, like the note's ``z``) that introduce it, and how the rest of the
  construct is read (the parser dispatches a command to the kinds that declare it);
* ``evaluate``: its value in SymPy;
* ``latex``: how it is written back in LaTeX (which
  :func:`~derivations.engine.notation.read` reads back to the same tree);
* ``precedence``: where its LaTeX needs parentheses (:class:`Precedence`);
* for the mutation tests (:mod:`audit.mutation`): the ``roles`` of its
  arguments (:data:`ROLES`: which are values, class indices, names to leave alone),
  and two flags: ``opaque`` (nothing below it is mutated) and ``small`` (a
  mutation of it is described together with its parent);
* ``example``: a formula that contains it (a test reads each one and writes it back).

A :class:`Notation` is a table of kinds. It is looked up by kind name (an
unknown name fails loudly: :class:`UnknownKind`) and by command. This module is
the mechanism; the catalogue, the note's own kinds, is
:data:`derivations.engine.notation.NOTATION`, read by the parser, by
:func:`~derivations.engine.notation.evaluate`, by
:func:`~derivations.engine.notation.latex` and by the mutation walk.

A worked example, a notation of two kinds whose value is a plain number:

>>> def value(node, *scope):
...     return node.args[0] if node.kind == "num" else value(node.args[0]) / value(node.args[1])
>>> num = Kind("num", evaluate=value, latex=lambda node: str(node.args[0]), opaque=True, example="2")
>>> frac = Kind("frac", evaluate=value, example=r"\\frac{1}{2}",
...             latex=lambda node: r"\\frac{%s}{%s}" % tuple(num.latex(a) for a in node.args),
...             commands=(r"\\frac",), read=lambda parser, command: Node("frac", (parser.script(), parser.script())))
>>> toy = Notation([num, frac])
>>> half = Node("frac", (Node("num", (1,)), Node("num", (2,))))
>>> toy[half.kind].evaluate(half), toy[half.kind].latex(half)
(0.5, '\\\\frac{1}{2}')
>>> [k.name for k in toy.readers(r"\\frac")]
['frac']
>>> toy["farc"]
Traceback (most recent call last):
...
derivations.engine.nodes.UnknownKind: no node kind 'farc' in this notation (its kinds: num, frac)
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Node", "Relation", "ParseError", "Kind", "Notation", "Precedence", "ROLES", "UnknownKind"]


@dataclass(frozen=True)
class Node:
    """One node of a formula: ``kind`` (the name of a :class:`Kind`) and its arguments (nodes, strings or numbers)."""

    kind: str
    args: tuple = ()

    def __repr__(self) -> str:
        return f"{self.kind}{self.args!r}"


@dataclass(frozen=True)
class Relation:
    """``lhs op rhs``; ``lhs`` is ``None`` for a continuation line (``= ...`` of the line above).

    A chain ``a < b <= c`` is ``Relation("chain", None, Node("chain", (a < b, b <= c)))``; an expression
    alone is ``Relation("expr", None, e)``.
    """

    op: str
    lhs: Node | None
    rhs: Node

    def terms(self) -> list:
        """The terms of a chain, ``[a, b, c]`` for ``a < b <= c``; ``[lhs, rhs]`` for one relation."""
        if self.op == "chain":
            links = self.rhs.args
            return [links[0].lhs] + [r.rhs for r in links]
        return [self.lhs, self.rhs]


class ParseError(ValueError):
    """A formula the reader does not understand (or a node that is not a value): says what and where."""


class UnknownKind(LookupError):
    """A node whose kind the notation does not declare: a construct half added, or a misspelt name."""


class Precedence(IntEnum):
    """How tightly a kind's LaTeX holds together, loosest first: where it needs parentheses.

    ``ADD`` (``a + b``, ``-a``, ``a + \\dots + b``) is put in parentheses as a
    factor, after a minus and as an operand; ``MUL`` (``a b``) also as the last
    factor of a product; ``OPEN`` (``\\sum_j a``, ``\\frac{\\partial}{\\partial z_a} a``: the
    operand runs to the end of the term) also before another factor; ``WORD``
    (``\\frac{a}{b}``, ``\\max_j a``) only as the base of a power; ``ATOM``
    (``z_{1}``, ``\\log(a)``) never.
    """

    ADD = 10
    MUL = 20
    OPEN = 30
    WORD = 40
    ATOM = 50


#: The roles an argument can have, for the mutation walk (:func:`audit.mutation.variants`).
ROLES = {
    "value": "an expression: signs, coefficients, terms ... are mutated",
    "index": "a class or example index: swapped with the other indices of the formula",
    "event": "a label event (y = 1): its index is mutated",
    "row": "a row of cases, (value, condition)",
    "binder": "the index a sum binds: left alone, and in scope in the sum's other arguments",
    "start": "the lower bound of a sum: mutated at the sum (a term dropped, an index), not inside",
    "skip": "left alone: a name, the upper bound of a sum, the variables of a derivative",
}


@dataclass(frozen=True)
class Kind:
    """One kind of node: how it is read, evaluated and written, and what the mutation tests may change in it.

    ``evaluate(node, x, ctx, bind)`` gives its SymPy value (``None``: not a value,
    such as the event of ``\\Pr``); ``latex(node)`` its LaTeX. ``read(parser,
    command)`` reads the construct after one of ``commands`` (already taken) and
    returns its node, or ``None`` when the construct is not its own (the parser
    then gives back what it read and tries the next kind that declares the
    command). ``roles[i]`` is the role (:data:`ROLES`) of argument ``i``; later
    arguments have the role ``rest``.
    """

    name: str
    evaluate: Callable | None
    latex: Callable[[Node], str]
    commands: tuple[str, ...] = ()
    read: Callable | None = None
    precedence: Precedence = Precedence.WORD
    roles: tuple[str, ...] = ()
    rest: str = "value"
    opaque: bool = False
    small: bool = False
    example: str = ""

    def __post_init__(self):
        if self.commands and self.read is None:
            raise ValueError(f"node kind {self.name!r} declares commands {self.commands} but no read function")
        unknown = [r for r in (*self.roles, self.rest) if r not in ROLES]
        if unknown:
            raise ValueError(f"node kind {self.name!r}: unknown argument roles {unknown}; roles: {', '.join(ROLES)}")

    def role(self, i: int) -> str:
        """The role of argument ``i``."""
        return self.roles[i] if i < len(self.roles) else self.rest


class Notation:
    """A table of node kinds: by name (``notation[name]``), and by the command that introduces them.

    Kinds that share a command (``\\frac`` opens a quotient or a derivative) are
    tried in the order of the table.
    """

    def __init__(self, kinds: Iterable[Kind]):
        self._kinds: dict[str, Kind] = {}
        self._readers: dict[str, tuple[Kind, ...]] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"node kind {kind.name!r} is declared twice")
            self._kinds[kind.name] = kind
            for command in kind.commands:
                self._readers[command] = self._readers.get(command, ()) + (kind,)

    def __getitem__(self, name: str) -> Kind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownKind(f"no node kind {name!r} in this notation (its kinds: {', '.join(self._kinds)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[Kind]:
        return iter(self._kinds.values())

    def __len__(self) -> int:
        return len(self._kinds)

    def readers(self, command: str) -> tuple[Kind, ...]:
        """The kinds that ``command`` may introduce, in the order they are tried (none: not a command here)."""
        return self._readers.get(command, ())

    def extended(self, *kinds: Kind) -> Notation:
        """A new table: this one and ``kinds`` (a name declared twice is an error)."""
        return Notation([*self, *kinds])
