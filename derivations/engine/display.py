"""Show claims in notebooks: Markdown for people, deterministic plain text for nbval and the terminal.

Everything shown is computed by running the claim's checks; a claim whose
evidence does not support its verdict raises ``AssertionError``, so the
notebook cell (and nbval) fails. A claim reads like a referee's report: the
quotation, the formula as printed, the verdict, the explanation (the remark) as
prose, then the correction and the counterexample where there is one. Its checks
(the findings) are one click away, folded in a ``<details>`` that JupyterLab,
GitHub and the book open alike. Numeric error sizes are left out of the view on
purpose (they depend on the CPU's libm); ``python -m derivations`` prints them.

Every text is written once, as Markdown with LaTeX math (``$..$``); the plain-text
views are made from it by :func:`derivations.engine.text.plain`, and every table
cell goes through :func:`derivations.engine.text.table_cell` (a ``|`` in a title
must not split its row).

A chapter's notebook ends with :func:`chapter_verdicts`, which fails unless
every claim of the chapter was shown above it.
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping

from derivations.engine.finding import lines, tally
from derivations.engine.registry import Outcome, Verdict, claims, evidence_of, get, numeric_of, outcome_of, run
from derivations.engine.text import folded, math_text, plain, table_cell

__all__ = ["show", "shown_verdict", "ClaimView", "chapter_verdicts", "chapter_summary", "Summary", "VerdictTable",
           "verdict_table", "ErrataView", "errata", "MathView", "MARK", "badge", "anchor", "link"]

#: Width of the plain-text view's prose (the remark), in characters.
TEXT_WIDTH = 100


def _is_prose(s: str) -> bool:
    """A quotation of the note's running text (its mathematics between ``$``), not a formula."""
    return "$" in s or not any(ch in s for ch in "\\_^=")


def _formula(s: str, md: bool) -> str:
    """A displayed formula, or a quotation of the note's words (as a block quote)."""
    if _is_prose(s):
        return f"> {s}" if md else textwrap.fill(f"\"{plain(s)}\"", TEXT_WIDTH, initial_indent="    ",
                                                 subsequent_indent="     ")
    return f"$$\n{s}\n$$" if md else textwrap.fill(math_text(s), TEXT_WIDTH, initial_indent="    ",
                                                      subsequent_indent="        ", break_on_hyphens=False)


def _prose(s: str, md: bool, indent: str = "") -> str:
    """A paragraph of prose: Markdown as written, or its plain form wrapped at :data:`TEXT_WIDTH`."""
    return s if md else textwrap.fill(plain(s), TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent,
                                      break_on_hyphens=False)


#: How each verdict is shown, on every surface.
MARK = {Verdict.HOLDS: "holds", Verdict.HOLDS_UNDER: "holds under an assumption", Verdict.ERRATUM: "ERRATUM",
        Verdict.UNDECIDED: "undecided"}
#: The CSS class of each verdict's mark (``book/_static/book.css``).
_CSS = {Verdict.HOLDS: "holds", Verdict.HOLDS_UNDER: "holds-under", Verdict.ERRATUM: "erratum",
        Verdict.UNDECIDED: "undecided"}
#: Each verdict's colour: the book's stylesheet sets it from the class; JupyterLab keeps it from the inline style.
#: Undecided is a neutral slate blue: neither the green of holds nor the red of an erratum.
_COLOUR = {Verdict.HOLDS: "#1a7f37", Verdict.HOLDS_UNDER: "#9a6700", Verdict.ERRATUM: "#b3261e",
           Verdict.UNDECIDED: "#3e5f7d"}
#: A coloured mark before the word, for GitHub, which drops classes and styles (the book hides it: it has no
#: colour font to print it with, and draws its own badge).
_DOT = {Verdict.HOLDS: "🟢", Verdict.HOLDS_UNDER: "🟡", Verdict.ERRATUM: "🔴", Verdict.UNDECIDED: "🔵"}


def badge(v: Verdict, md: bool = True) -> str:
    """A verdict, coloured on every surface: the book (its class), JupyterLab (its inline style) and GitHub (the
    coloured dot); in plain text, the word.

    >>> badge(Verdict.ERRATUM, md=False), badge(Verdict.UNDECIDED, md=False)
    ('ERRATUM', 'undecided')
    """
    if not md:
        return MARK[v]
    return (f'<span class="verdict-mark {_CSS[v]}" style="color:{_COLOUR[v]};font-weight:bold">'
            f'<span class="verdict-dot">{_DOT[v]}</span> {MARK[v]}</span>')


def anchor(claim_id: str) -> str:
    """The HTML id of a claim's place in its chapter (the book's, ``book/conf.py``): ``claim-ch1-softmax``."""
    return "claim-" + re.sub(r"[^a-z0-9]+", "-", claim_id.lower())


def link(claim_id: str, notebook: str | None, md: bool = True) -> str:
    """A claim's id, linked to its place in its chapter (``notebook`` is the chapter's file stem; the book turns
    ``.ipynb`` links into its pages')."""
    if not md:
        return claim_id
    if notebook is None:
        return f"`{claim_id}`"
    return f"[`{claim_id}`]({notebook}.ipynb#{anchor(claim_id)})"


#: Each chapter's notebook (its file stem), as :mod:`derivations.chapters` names them, for links between them.
NOTEBOOKS: dict[int, str] = {}


def _forms_found(o: Outcome) -> str:
    """What the numeric checks found, form by form, in plain words (it heads a fold)."""
    e, c = o.evidence, o.claim
    numeric = [f for f in e.findings if f.kind != "symbolic"]
    if not c.derived:
        return tally(e.findings)
    if not numeric:
        return "no numeric check: the derivation decides it"
    failed = [f for f in numeric if f.failed]
    if failed:
        return f"{len(failed)} of {len(numeric)} numeric checks FAILED"
    said = []
    if e.counterexample is not None:
        said.append("a counterexample to the printed line")
    n = len(numeric)
    return (", ".join(said) + "; " if said else "") + f"{n} numeric check{'s' * (n != 1)}, each as the verdict requires"


class ClaimView:
    """A checked claim, displayable (``_repr_markdown_``) and printable (``repr``): its verdict first, what
    decided it, the corrected form and the counterexample where there is one, and its checks folded.

    The note's line is quoted in the prose above it and the derivation shown in the cell: neither is repeated here.
    """

    def __init__(self, outcome: Outcome, full: bool = False):
        self.outcome, self.full = outcome, full

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict

    def _lines(self, md: bool) -> list[str]:
        o, c, e = self.outcome, self.outcome.claim, self.outcome.evidence
        bold = (lambda s: f"**{s}**") if md else (lambda s: s)
        title = c.title if md else plain(c.title)
        out = [(f'<a name="{anchor(c.id)}"></a>' if md else "") + f"{bold(c.id)} · {badge(o.verdict, md)} · {title}"]
        if self.full:                              # no page around it (the terminal): the formula and the remark too
            out += ["", "As printed:" if c.source == "note" else "Statement:", *([""] if md else []),
                    _formula(c.printed, md)]
            if c.remark:
                out += ["", _prose(c.remark, md)]
        said = []                              # what decided the verdict: the derivation's parts, one item each
        for f in ([f for f in e.findings if f.kind == "symbolic"] if c.derived else []):
            text = _sentence(f.statement)
            if text.startswith("Under the assumption, the printed line") and c.assumption:
                text = text.replace("Under the assumption, the printed line",
                                    f"Assumed: {c.assumption}. The printed line then gives", 1)
            said.append(text)
        if o.verdict is Verdict.HOLDS_UNDER and not c.derived:
            said.append(f"Assumption: {c.assumption}")
        if o.verdict is Verdict.UNDECIDED:
            said += [f"{bold('Undecided at the stated false-alarm probability:')} {_undecided(f)}"
                     for f in e.findings if f.asserted and f.undecided]
        if e.counterexample is not None:
            label = "Counterexample to the printed line" + (", without the assumption" if o.verdict is
                                                            Verdict.HOLDS_UNDER else "")
            said.append(f"{bold(label + ':')} {e.counterexample}")
        if said:
            out.append("")
        out += [(f"- {t}" if md else textwrap.fill(plain(t), TEXT_WIDTH, initial_indent="- ", subsequent_indent="  ",
                                                   break_on_hyphens=False)) for t in said]
        if o.verdict in (Verdict.HOLDS_UNDER, Verdict.ERRATUM) and c.corrected:
            out += ["", bold("The general form:" if o.verdict is Verdict.HOLDS_UNDER else "As corrected:"),
                    *([""] if md else []), _formula(c.corrected, md)]
        if not c.derived and c.source == "added" and not self.full:
            out += ["", bold("Statement:"), *([""] if md else []), _formula(c.printed, md)]
        checks = [f for f in e.findings if f.kind != "symbolic"] if c.derived else e.findings
        if md:
            if checks:
                out += ["", folded(f"How it was checked: {_forms_found(o)}", "\n".join(lines(checks, md=True)),
                                   "checks")]
        else:
            out += ["", f"Checks: {_forms_found(o)}."]
            out += [textwrap.fill(part, TEXT_WIDTH, initial_indent="  " if i == 0 else "        ",
                                  subsequent_indent="      " if i == 0 else "        ", break_on_hyphens=False)
                    for line in lines(checks, md=False) for i, part in enumerate(line.split("\n      "))]
        return out

    def _repr_markdown_(self) -> str:
        return "\n".join(self._lines(md=True))

    def __repr__(self) -> str:
        return "\n".join(self._lines(md=False))


def _undecided(f) -> str:
    """An undecided finding in one sentence: what it states, what was observed, and the bound."""
    return _sentence(f.statement + (f": {f.observed}" if f.observed else "") + (f" ({f.bound})" if f.bound else ""))


def _sentence(s: str) -> str:
    """A finding's statement as a sentence: a capital first letter and a full stop."""
    s = s.strip()
    return s[:1].upper() + s[1:] + ("" if s.endswith(".") else ".")


#: The views :func:`show` and :func:`shown_verdict` returned in this process (this notebook's kernel), by claim id.
SHOWN: dict[str, ClaimView] = {}


def show(claim_id: str) -> ClaimView:
    """Run the checks of a claim decided by an experiment (chapters 4 and 5) and return its view;
    ``AssertionError`` if unsound. A claim with a derivation is shown by its derivation cell's ``verdict(...)``.

    The view is kept in :data:`SHOWN` for :func:`chapter_verdicts`.

    >>> import derivations.chapters   # the chapters' claims, named to the registry (the layer above)
    >>> v = show("ch1.loss_lse")
    >>> v.verdict.value
    'holds'
    """
    o = run(claim_id)
    assert o.ok, f"{claim_id}: the evidence does not support the verdict: {o.problems}"
    SHOWN[claim_id] = ClaimView(o)
    return SHOWN[claim_id]


def shown_verdict(decision) -> ClaimView:
    """The view of a claim decided in this kernel by its derivation cell (``verdict(...)``,
    :mod:`derivations.engine.derive`): the decision, with the claim's numeric checks beside it;
    ``AssertionError`` if the evidence does not support the verdict."""
    claim = get(decision.claim_id)
    o = outcome_of(claim, evidence_of(decision, numeric_of(claim)))
    assert o.ok, f"{claim.id}: the evidence does not support the verdict: {o.problems}"
    SHOWN[claim.id] = ClaimView(o)
    return SHOWN[claim.id]


def chapter_verdicts(chapter: int, shown: Mapping[str, ClaimView] | None = None) -> VerdictTable:
    """The verdicts of every claim of ``chapter``, as shown: the last cell of each chapter's notebook.

    ``shown`` maps claim ids to their views, by default every view :func:`show`
    returned in this kernel (:data:`SHOWN`). Every claim the registry holds for
    the chapter must be among them, so a notebook that leaves a claim out fails;
    ``AssertionError`` names each one missing. Nothing is computed again.

    >>> import derivations.chapters   # the chapters' claims, named to the registry (the layer above)
    >>> views = {c.id: show(c.id) for c in claims(1) if c.id not in ("ch1.softmax", "ch1.lse_bounds")}
    >>> chapter_verdicts(1, views)
    Traceback (most recent call last):
    ...
    AssertionError: chapter 1: 2 claims of the registry are not shown: ch1.softmax, ch1.lse_bounds (each is shown by its derivation cell's verdict(...), or by show(id))
    >>> views.update({c: show(c) for c in ("ch1.softmax", "ch1.lse_bounds")})
    >>> chapter_verdicts(1, views).rows()[0][0]
    'ch1.softmax'
    """
    shown = SHOWN if shown is None else shown
    expected = claims(chapter)
    missing = [c.id for c in expected if c.id not in shown]
    if missing:
        raise AssertionError(f"chapter {chapter}: {len(missing)} claim{'s' if len(missing) > 1 else ''} of the "
                             f"registry {'are' if len(missing) > 1 else 'is'} not shown: {', '.join(missing)} "
                             "(each is shown by its derivation cell's verdict(...), or by show(id))")
    return VerdictTable([shown[c.id].outcome for c in expected])


class Summary:
    """A chapter's verdicts in one paragraph, computed: how many of the note's lines hold, hold under an assumption
    or are errata (those two named, each linked to its place), and how the results the chapter adds came out. It
    opens each chapter, before anything is derived.

    >>> import derivations.chapters   # the chapters' claims, named to the registry (the layer above)
    >>> chapter_summary(1)
    Verdicts: of the note's 9 lines checked here, 7 hold, 1 holds under an assumption (eq. 8) and 1 is an erratum (eq. 9). The 2 results this chapter adds both hold.
    """

    _WORDS = {Verdict.HOLDS: ("holds", "hold"), Verdict.HOLDS_UNDER: ("holds under an assumption",
                                                                       "hold under an assumption"),
              Verdict.ERRATUM: ("is an erratum", "are errata"), Verdict.UNDECIDED: ("is undecided", "are undecided")}

    def __init__(self, outcomes: list[Outcome]):
        self.outcomes = outcomes
        #: one chapter's claims name those that do not hold; the whole note's are listed below it (errata())
        self.names = len({o.claim.chapter for o in outcomes}) == 1

    def _group(self, source: str, md: bool) -> str:
        """``7 hold, 1 holds under an assumption (eq. 8) and 1 is an erratum (eq. 9)``; ``all 3 hold``."""
        mine = [o for o in self.outcomes if o.claim.source == source]
        parts = []
        for v in Verdict:
            these = [o for o in mine if o.verdict is v]
            if not these:
                continue
            words = self._WORDS[v][len(these) != 1]
            if md and v is not Verdict.HOLDS:
                words = f'<span class="verdict-mark {_CSS[v]}" style="color:{_COLOUR[v]};font-weight:bold">{words}</span>'
            if len(these) == len(mine):
                return f"{'all ' if len(these) > 2 else 'both ' if len(these) == 2 else ''}{words}" + self._where(these, md)
            parts.append(f"{len(these)} {words}" + self._where(these, md))
        return ", ".join(parts[:-1]) + " and " + parts[-1]

    def _where(self, these: list[Outcome], md: bool) -> str:
        if these[0].verdict is Verdict.HOLDS or not self.names:
            return ""
        names = [f"eq. {o.claim.order}" if o.claim.source == "note" else o.claim.id for o in these]
        if md:
            names = [f"[{n}]({_notebook_link(o.claim)})" for n, o in zip(names, these)]
        return f" ({', '.join(names)})"

    def _text(self, md: bool) -> str:
        n_note = sum(o.claim.source == "note" for o in self.outcomes)
        n_added = len(self.outcomes) - n_note
        out = "**Verdicts:**" if md else "Verdicts:"
        if n_note:
            out += f" of the note's {n_note} line{'s' * (n_note != 1)} checked here, {self._group('note', md)}."
        if n_added:
            whose = ("this chapter adds" if n_note else "of this chapter") if self.names else "the companion adds"
            results = f"{n_added} result{'s' * (n_added != 1)} {whose}"
            if len({o.verdict for o in self.outcomes if o.claim.source == "added"}) == 1:
                out += f" The {results} {self._group('added', md)}."          # "The 26 results ... all hold."
            else:                                                              # "Of the 6 results ..., 5 hold and
                out += f" Of the {results}, {self._group('added', md)}."       # 1 is undecided (ch5.x)."
        return out

    def _repr_markdown_(self) -> str:
        return self._text(md=True)

    def __repr__(self) -> str:
        return self._text(md=False)


def _every(chapter: int | None) -> list[Outcome]:
    """The outcome of every claim (of ``chapter``), each sound: ``AssertionError`` names the unsound ones; a
    ``LookupError`` when there is none (the chapters not imported: ``import derivations.chapters``)."""
    outcomes = [run(c) for c in claims(chapter)]
    if not outcomes:
        raise LookupError(f"no claims registered{'' if chapter is None else f' for chapter {chapter}'}: "
                          "import derivations.chapters first")
    bad = {o.claim.id: o.problems for o in outcomes if not o.ok}
    assert not bad, f"unsound claims: {bad}"
    return outcomes


def _notebook_link(c) -> str:
    return f"{NOTEBOOKS.get(c.chapter, '')}.ipynb#{anchor(c.id)}"


def chapter_summary(chapter: int | None = None) -> Summary:
    """The verdicts of ``chapter``'s claims (of every claim, by default) in one paragraph (:class:`Summary`); asserts
    that each is sound."""
    return Summary(_every(chapter))


class VerdictTable:
    """The verdicts of a list of outcomes, as a Markdown / plain-text table."""

    def __init__(self, outcomes: list[Outcome]):
        self.outcomes = outcomes

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(id, place, title, verdict)`` per claim; the title as written (Markdown with math)."""
        return [(o.claim.id, f"{o.claim.order}" + ("" if o.claim.source == "note" else " (added)"),
                 o.claim.title, MARK[o.verdict]) for o in self.outcomes]

    def _repr_markdown_(self) -> str:
        head = "| verdict | claim | eq. | what |\n|---|---|---|---|\n"
        return head + "\n".join(
            f"| {badge(o.verdict)} | {link(o.claim.id, NOTEBOOKS.get(o.claim.chapter))} | {b} | {table_cell(c)} |"
            for o, (_, b, c, _) in zip(self.outcomes, self.rows()))

    def __repr__(self) -> str:
        w = max([len("claim")] + [len(r[0]) for r in self.rows()])
        return "\n".join([f"{'verdict':<25}  {'claim':<{w}}  {'eq.':<10}  what"]
                         + [f"{d:<25}  {a:<{w}}  {b:<10}  {plain(c)}" for a, b, c, d in self.rows()])


def verdict_table(chapter: int | None = None) -> VerdictTable:
    """Run every claim (of one chapter) and tabulate the verdicts; asserts soundness.

    >>> import derivations.chapters   # the chapters' claims, named to the registry (the layer above)
    >>> print(verdict_table(1).rows()[0][3])
    holds
    """
    return VerdictTable(_every(chapter))


class ErrataView:
    """Every claim whose verdict is not *holds*: what is printed, what is right, and why; for an undecided claim,
    which of its statistical checks the evidence neither confirms nor refutes (no correction: nothing is wrong)."""

    def __init__(self, outcomes: list[Outcome]):
        self.outcomes = [o for o in outcomes if o.verdict is not Verdict.HOLDS]

    def _lines(self, md: bool) -> list[str]:
        out = []
        for o in self.outcomes:
            c = o.claim
            where = f"chapter {c.chapter}, equation {c.order}"
            out += [f"{badge(o.verdict)} · {link(c.id, NOTEBOOKS.get(c.chapter))}: {c.title} ({where})" if md
                    else f"{MARK[o.verdict]} · {c.id}: {plain(c.title)} ({where})", ""]     # the verdict first: it
            #                                                                             is never wrapped away
            gap = [""] if md else []
            out += ["As printed:", *gap, _formula(c.printed, md), ""]
            if o.verdict is Verdict.UNDECIDED:
                for f in o.evidence.findings:
                    if f.asserted and f.undecided:
                        out += [f"*Undecided:* {_undecided(f)}" if md else _prose(f"Undecided: {_undecided(f)}", md,
                                                                                   "    "), ""]
                continue
            if o.verdict is Verdict.HOLDS_UNDER:
                out += [f"*Assumption:* {c.assumption}" if md else _prose(f"Assumption: {c.assumption}", md, "    "), ""]
            label = "General form:" if o.verdict is Verdict.HOLDS_UNDER else "Corrected:"
            out += [label, *gap, _formula(c.corrected, md), ""]
            if o.evidence.counterexample:
                out += [f"*Counterexample:* {o.evidence.counterexample}" if md
                        else _prose(f"Counterexample: {o.evidence.counterexample}", md, "    "), ""]
        return out[:-1]

    def _repr_markdown_(self) -> str:
        return "\n".join(self._lines(md=True))

    def __repr__(self) -> str:
        return "\n".join(self._lines(md=False))


def errata() -> ErrataView:
    """Run every claim and list those that do not simply hold (asserts soundness).

    >>> import derivations.chapters   # the chapters' claims, named to the registry (the layer above)
    >>> all(o.verdict is not Verdict.HOLDS for o in errata().outcomes)
    True
    """
    return ErrataView(_every(None))


class MathView:
    r"""Formulas a worked example derived (with SymPy), one per line: LaTeX for people, plain text for nbval.

    ``rows`` are ``(latex, text)`` pairs (the text as SymPy prints the same expression), or LaTeX alone, whose
    text is then made from it (:func:`~derivations.engine.text.math_text`).

    >>> MathView((r"\sum_j p_j = 1", "sum_j p_j = 1"))
    sum_j p_j = 1
    >>> MathView(r"\Pr(Y = 1) = 1 - \epsilon")
    Pr(Y = 1) = 1 - ε
    >>> print(MathView(("a = 1", "a = 1"), ("b = 2", "b = 2"))._repr_latex_())
    $$\begin{gathered}a = 1 \\ b = 2\end{gathered}$$
    """

    def __init__(self, *rows: tuple[str, str] | str):
        self.rows = tuple((r, math_text(r)) if isinstance(r, str) else r for r in rows)

    def _repr_latex_(self) -> str:
        if len(self.rows) == 1:
            return rf"$\displaystyle {self.rows[0][0]}$"
        return r"$$\begin{gathered}" + r" \\ ".join(latex for latex, _ in self.rows) + r"\end{gathered}$$"

    def __repr__(self) -> str:
        return "\n".join(text for _, text in self.rows)
