r"""Reader-facing text, one source for every surface: Markdown with LaTeX math between ``$`` (and ``$$``).

Every text a reader reads (a claim's title, remark and assumption, a finding's
statement, a regime's description) is written once, as Markdown with its
mathematics in LaTeX. The notebooks and the book typeset it (MathJax); this module
makes the other forms *from that source*, never from a second copy written by hand:

* :func:`plain` — a readable plain-text form for the terminal (``python -m derivations``)
  and for the ``text/plain`` views that nbval compares: the Markdown marks are dropped
  and the math is read by pylatexenc's parser and written in Unicode
  (``$\epsilon(1-\epsilon)$`` -> ``ε(1-ε)``, ``$\|z\|_\infty$`` -> ``‖z‖_∞``);
* :func:`table_cell` — the text made safe for a cell of a Markdown table (a ``|``,
  in the math or not, would split the cell on GitHub, in JupyterLab and in the book);
* :func:`folded` — Markdown that a reader opens with one click (``<details>``), which
  JupyterLab, GitHub and the book (myst-nb) all render, Markdown and math inside included;
* :class:`Prose` — a text for ``display()``: Markdown in a notebook, :func:`plain` as ``repr``.

>>> print(plain(r"the loss is off by $\epsilon(1-\epsilon) m$ when **all** other logits are $0$"))
the loss is off by ε(1-ε) m when all other logits are 0
>>> print(plain(r"$\mathrm{diag}(q) - q q^\top$, $H_j(p, q)$, $10^{-6}$, $\frac{\epsilon}{K-1}$"))
diag(q) - q qᵀ, Hⱼ(p, q), 10⁻⁶, ε/(K-1)
>>> print(table_cell(r"'we obtain the same $q_\theta(y|x)$'"))
'we obtain the same $q_\theta(y\vert x)$'
"""
from __future__ import annotations

import html
import re
from functools import lru_cache

from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import EnvironmentTextSpec, LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

__all__ = ["plain", "math_text", "table_cell", "folded", "Prose", "MathError"]


class MathError(ValueError):
    """A piece of math that the LaTeX parser cannot read (unbalanced braces, a ``\\frac`` without its
    arguments ...): :func:`plain` names it rather than print a mangled text."""


# -- math -> Unicode text ------------------------------------------------------------------------------
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
_SUP = dict(zip("0123456789+-=()inT⊤", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀᵀ"))
#: A group that follows ``_`` or ``^`` (its contents between these two marks until the scripts are written).
_OPEN, _CLOSE = "\x01", "\x02"
_SCRIPT_GROUP = re.compile(f"([_^]){_OPEN}([^{_OPEN}{_CLOSE}]*){_CLOSE}")
_SCRIPT_CHAR = re.compile(f"([_^])([^\\s{_OPEN}{_CLOSE}])")
#: A script written as ``_(..)`` or ``^(..)``, marked so that no later pass reads its marks again.
_KEPT = {"_": "\x04", "^": "\x05"}
#: What makes the text of a fraction's part more than one atom (it is put in parentheses).
_COMPOUND = re.compile(r"[\s+\-−·×/,=<>≤≥≠]")


def _script(mark: str, text: str) -> str:
    """A sub- or superscript: in Unicode when every character has one and it is short (``z₁``, ``10⁻⁶``, ``qᵀ``),
    else ``_x`` for one character, ``_(l=1)`` for more (its marks kept aside until every script is written)."""
    table = _SUB if mark == "_" else _SUP
    text = _SCRIPT_CHAR.sub(lambda m: _script(m[1], m[2]), text).strip()
    if 0 < len(text) <= 2 and all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    mark = _KEPT[mark]
    wrapped = len(text) == 1 or (text[0] == "(" and text[-1] == ")" and _atom(text[1:-1]) == text[1:-1].strip())
    return f"{mark}{text}" if wrapped else f"{mark}({text})"


def _atom(text: str) -> str:
    """The text of a fraction's numerator or denominator, in parentheses unless it is one atom."""
    text, outer = text.strip(), text.strip()
    while True:                                  # what is inside parentheses does not count: exp((1-ε)z₁) is one
        outer, n = re.subn(r"\([^()]*\)", "", outer)
        if not n:
            break
    return f"({text})" if _COMPOUND.search(outer) else text


def _frac(node, l2tobj) -> str:
    return f"{_atom(l2tobj.node_arg_to_text(node, 0))}/{_atom(l2tobj.node_arg_to_text(node, 1))} "


def _cases(node, l2tobj) -> str:
    body = l2tobj.nodelist_to_text(node.nodelist)
    rows = [" ".join(c.strip() for c in row.split("&")) for row in body.split("\x03")]
    return "{ " + "; ".join(r for r in rows if r) + " }"


#: Relations and operators written with a space on each side; pylatexenc's own table gives the other symbols.
_SPACED = {"le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "to": "→",
           "in": "∈", "notin": "∉", "sim": "~", "equiv": "≡", "propto": "∝", "mapsto": "↦", "Rightarrow": "⇒",
           "Leftrightarrow": "⇔", "iff": "⇔", "implies": "⇒", "cdot": "·", "times": "×", "pm": "±", "mid": "|",
           "subset": "⊂", "subseteq": "⊆", "ll": "≪", "gg": "≫", "quad": "", "qquad": ""}
_SYMBOLS = {"|": "‖", "Vert": "‖", "lVert": "‖", "rVert": "‖", "vert": "|", "lvert": "|", "rvert": "|",
            "epsilon": "ε", "varepsilon": "ε", "top": "⊤", "Pr": "Pr", "ldots": "…", "cdots": "⋯", "dots": "…",
            ",": " ", ";": " ", ":": " ", "!": "", " ": " ", "\\": "\x03", "cr": "\x03", "lbrace": "{", "rbrace": "}",
            "{": "{", "}": "}", "%": "%", "#": "#", "&": "&", "$": "$", "_": "_", "infty": "∞", "nabla": "∇",
            "partial": "∂", "sum": "∑", "prod": "∏", "log": "log", "exp": "exp", "max": "max", "min": "min",
            "argmax": "argmax", "argmin": "argmin", "arg": "arg", "sup": "sup", "inf": "inf", "det": "det", "tr": "tr",
            "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "langle": "⟨", "rangle": "⟩"}
_CONTENT = ("mathrm", "mathbf", "mathit", "mathsf", "mathtt", "boldsymbol", "bm", "operatorname", "text", "textrm",
            "textit", "textbf", "mbox", "emph")
_NOTHING = ("left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
            "displaystyle", "textstyle", "limits", "nolimits")


def _context():
    db = get_default_latex_context_db()
    macros = [MacroTextSpec(name, f" {sym} ") for name, sym in _SPACED.items()]
    macros += [MacroTextSpec(name, sym) for name, sym in _SYMBOLS.items()]
    macros += [MacroTextSpec(name, "%s") for name in _CONTENT]
    macros += [MacroTextSpec(name, "") for name in _NOTHING]
    macros += [MacroTextSpec(name, simplify_repl=_frac) for name in ("frac", "tfrac", "dfrac", "cfrac")]
    db.add_context_category("plain-text", prepend=True, macros=macros,
                            environments=[EnvironmentTextSpec(e, simplify_repl=_cases) for e in ("cases", "aligned",
                                                                                                 "gathered", "array")])
    return db


def _walker_context():
    """The parser's table: pylatexenc's, with the macros that take arguments here (``\\operatorname{..}``)."""
    db = latexwalker.get_default_latex_context_db()
    db.add_context_category("plain-text", prepend=True, macros=[
        *(macrospec.std_macro(name, False, 1) for name in ("operatorname", "boldsymbol", "bm", "mathsf", "mathtt")),
        *(macrospec.std_macro(name, False, 2) for name in ("frac", "tfrac", "dfrac", "cfrac"))])
    return db


class _Converter(LatexNodes2Text):
    """pylatexenc's LaTeX-to-text, with the scripts kept (``_``, ``^``), unknown macros kept as written, and the
    space after a macro, which LaTeX drops, kept (``\\theta a`` -> ``θ a``, not ``θa``)."""

    def group_node_to_text(self, node):
        contents = super().group_node_to_text(node)
        source = node.parsing_state.s
        if node.pos > 0 and source[node.pos - 1] in "_^":
            return _OPEN + contents + _CLOSE
        return contents

    def macro_node_to_text(self, node):
        if self.latex_context.get_macro_spec(node.macroname) is None:      # unknown: kept as written, to be seen
            return "\\" + node.macroname + " "
        text = super().macro_node_to_text(node)
        return text + " " if text and node.macro_post_space else text       # the space the writer left


@lru_cache(maxsize=1)
def _converter() -> _Converter:
    return _Converter(latex_context=_context(), math_mode="text", strict_latex_spaces=True)


@lru_cache(maxsize=4096)
def math_text(latex: str) -> str:
    r"""One piece of LaTeX math as readable Unicode text (``MathError`` when it cannot be parsed).

    >>> math_text(r"\|z\|_\infty"), math_text(r"\sum_{l=1}^N H_i"), math_text(r"\Pr(y \neq 1|x) = \epsilon")
    ('‖z‖_∞', '∑_(l=1)^N Hᵢ', 'Pr(y ≠ 1|x) = ε')
    >>> math_text(r"\frac{1")
    Traceback (most recent call last):
    ...
    derivations.engine.text.MathError: cannot read the math '\\frac{1': ...
    """
    try:
        walker = latexwalker.LatexWalker(latex, latex_context=_walker_context(), tolerant_parsing=False)
        nodes, _, _ = walker.get_latex_nodes()
        text = _converter().nodelist_to_text(nodes)
    except latexwalker.LatexWalkerError as err:
        raise MathError(f"cannot read the math {latex!r}: {str(err).splitlines()[0]}") from None
    while True:                                  # innermost scripts first: z_{y_1} -> z_(y₁)
        text, n = _SCRIPT_GROUP.subn(lambda m: _script(m[1], m[2]), text)
        if not n:
            break
    text = _SCRIPT_CHAR.sub(lambda m: _script(m[1], m[2]), text)
    text = text.replace(_OPEN, "").replace(_CLOSE, "").replace("\x03", "; ")
    text = text.replace(_KEPT["_"], "_").replace(_KEPT["^"], "^")
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"([(\[{⌊]) | ([)\]},;⌋])", lambda m: m[1] or m[2], text).strip()


# -- Markdown -> plain text ----------------------------------------------------------------------------
#: The pieces of a Markdown text: code spans, display math, inline math (an escaped \$ is text).
_PIECES = re.compile(r"(?P<code>`+)(?P<code_text>.+?)(?P=code)|\$\$(?P<display>.+?)\$\$|(?<!\\)\$(?P<inline>[^$]+?)(?<!\\)\$",
                     re.S)
_MARKS = [(re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S), r"\1"),
          (re.compile(r"(?<![\w\\])__(?=\S)(.+?)(?<=\S)__(?!\w)", re.S), r"\1"),
          (re.compile(r"(?<![\w*\\])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])", re.S), r"\1"),
          (re.compile(r"(?<![\w\\])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)", re.S), r"\1"),
          (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),
          (re.compile(r"[ \t]*<br\s*/?>[ \t]*", re.I), "\n"),
          (re.compile(r"</?[a-zA-Z][^>]*>"), ""),
          (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|$])"), r"\1")]


def _text(md: str) -> str:
    for pattern, repl in _MARKS:
        md = pattern.sub(repl, md)
    return html.unescape(md)


@lru_cache(maxsize=4096)
def plain(markdown: str) -> str:
    r"""A Markdown text with LaTeX math, as readable plain text: the one plain form of every reader-facing text.

    Emphasis, links and HTML tags are dropped, code spans keep their text, inline math
    (``$..$``) is written in Unicode by :func:`math_text`, and display math (``$$..$$``)
    goes on a line of its own, indented. Deterministic (no locale, no terminal width).

    >>> print(plain(r"*Assumption:* $z_j = 0$ for $j \ne 1$ (see `flip_labels`)"))
    Assumption: zⱼ = 0 for j ≠ 1 (see flip_labels)
    >>> print(plain("Loss:\n$$\\mathrm{LSE}(z) - z_1$$\nexactly."))
    Loss:
        LSE(z) - z₁
    exactly.
    """
    out, at = [], 0
    for m in _PIECES.finditer(markdown):
        out.append(_text(markdown[at:m.start()]))
        if m["code"]:
            out.append(m["code_text"])
        elif m["display"] is not None:
            out.append("\x06" + math_text(m["display"].strip()) + "\x07")       # on a line of its own
        else:
            out.append(math_text(m["inline"]))
        at = m.end()
    out.append(_text(markdown[at:]))
    text = re.sub(r"[ \t]*\n?\x06", "\n    ", "".join(out))
    text = re.sub(r"\x07[ \t]*\n?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()


# -- Markdown for tables and folds ---------------------------------------------------------------------
_MATH_OR_CODE = re.compile(r"(`+).+?\1|\$\$.+?\$\$|(?<!\\)\$[^$]+?(?<!\\)\$", re.S)


def table_cell(markdown: str) -> str:
    r"""``markdown`` made safe for one cell of a Markdown table, as GitHub, JupyterLab and the book (myst-nb)
    split rows: every ``|`` would end the cell, even inside math (GitHub and myst split the row before they read
    the math). In math a bar becomes ``\vert`` (``\|`` becomes ``\Vert``), in code ``\|`` (GFM's escape, which
    holds inside code spans in tables), elsewhere the entity ``&#124;``; line breaks become spaces.

    >>> table_cell(r"$\|z\|_\infty$ and $p(y_j|x)$, a|b, `x|y`")
    '$\\Vert z\\Vert _\\infty$ and $p(y_j\\vert x)$, a&#124;b, `x\\|y`'
    >>> table_cell("two\nlines")
    'two lines'
    """
    out, at = [], 0
    for m in _MATH_OR_CODE.finditer(markdown):
        out.append(markdown[at:m.start()].replace("|", "&#124;"))
        piece = m[0]
        if piece.startswith("`"):
            out.append(piece.replace("|", "\\|"))
        else:
            out.append(piece.replace("\\|", "\\Vert ").replace("|", "\\vert "))
        at = m.end()
    out.append(markdown[at:].replace("|", "&#124;"))
    return " ".join("".join(out).split())


def folded(summary: str, body: str, css_class: str) -> str:
    """Markdown that opens with one click: ``<details>`` (closed) with a one-line ``summary`` (plain words: a
    renderer does not read Markdown or math in it) and ``body`` (Markdown, math included), set off by blank
    lines so that JupyterLab, GitHub and myst-nb read it as Markdown."""
    if "$" in summary or "<" in summary:
        raise ValueError(f"a fold's summary is plain words (no math, no HTML): {summary!r}")
    return f'<details class="{css_class}">\n<summary>{summary}</summary>\n\n{body.strip()}\n\n</details>'


class Prose(str):
    """A text for a notebook's ``display()``, and a ``str`` everywhere else: its Markdown (math typeset) for
    people, :func:`plain` as ``repr`` (what nbval compares and a terminal shows).

    >>> Prose(r"$K = 2$: the two classes")
    K = 2: the two classes
    """

    @property
    def markdown(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return plain(str(self))
