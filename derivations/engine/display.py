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

import textwrap
from collections.abc import Mapping

from derivations.engine.finding import lines, tally
from derivations.engine.registry import Outcome, Verdict, claims, run
from derivations.engine.text import folded, math_text, plain, table_cell

__all__ = ["show", "ClaimView", "chapter_verdicts", "VerdictTable", "verdict_table", "ErrataView", "errata",
           "MathView", "MARK"]

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
MARK = {Verdict.HOLDS: "holds", Verdict.HOLDS_UNDER: "holds under an assumption", Verdict.ERRATUM: "ERRATUM"}
#: The CSS class of each verdict's mark (``book/_static/book.css``; GitHub drops it, the words stay).
_CSS = {Verdict.HOLDS: "holds", Verdict.HOLDS_UNDER: "holds-under", Verdict.ERRATUM: "erratum"}


class ClaimView:
    """A checked claim, displayable (``_repr_markdown_``) and printable (``repr``)."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict

    def _lines(self, md: bool) -> list[str]:
        o, c, e = self.outcome, self.outcome.claim, self.outcome.evidence
        where = f"{c.section}, {'equation' if c.source == 'note' else 'added result'} {c.order}"
        math = lambda s: _formula(s, md)                                    # noqa: E731
        bold = (lambda s: f"**{s}**") if md else (lambda s: s)
        title = c.title if md else plain(c.title)
        gap = [""] if md else []                 # Markdown: a displayed formula is a paragraph of its own
        verdict = (f'<span class="verdict-mark {_CSS[o.verdict]}">**{MARK[o.verdict]}**</span>' if md
                   else MARK[o.verdict])
        out = [f"{bold(c.id)}: {title} ({where})", "", "As printed:" if c.source == "note" else "Statement:", *gap,
               math(c.printed), "", f"Verdict: {verdict}"]
        if o.verdict is Verdict.HOLDS_UNDER:
            out[-1] += "\\" if md else ""                                 # a line break (Markdown's backslash)
            out.append(f"{'*Assumption:*' if md else 'Assumption:'} {c.assumption if md else plain(c.assumption)}")
        if c.remark:                                  # the referee's explanation, as a paragraph of prose
            out += ["", _prose(c.remark, md)]
        if o.verdict is not Verdict.HOLDS and c.corrected:
            out += ["", "General form:" if o.verdict is Verdict.HOLDS_UNDER else "Corrected form:", *gap,
                    math(c.corrected)]
        if e.counterexample is not None:
            label = ("Counterexample (as printed, without the assumption):" if o.verdict is Verdict.HOLDS_UNDER
                     else "Counterexample:")
            out += ["", f"{bold(label)} {e.counterexample}" if md else _prose(f"{label} {e.counterexample}", md)]
        if md:
            out += ["", folded(f"How it was checked: {tally(e.findings)}", "\n".join(lines(e.findings, md=True)),
                               "checks")]
        else:
            out += ["", f"Checks: {tally(e.findings)}."]
            out += [textwrap.fill(part, TEXT_WIDTH, initial_indent="  " if i == 0 else "        ",
                                  subsequent_indent="      " if i == 0 else "        ", break_on_hyphens=False)
                    for line in lines(e.findings, md=False) for i, part in enumerate(line.split("\n      "))]
        return out

    def _repr_markdown_(self) -> str:
        return "\n".join(self._lines(md=True))

    def __repr__(self) -> str:
        return "\n".join(self._lines(md=False))


#: The views :func:`show` returned in this process (this notebook's kernel), by claim id.
SHOWN: dict[str, ClaimView] = {}


def show(claim_id: str) -> ClaimView:
    """Run the claim's checks and return its view; ``AssertionError`` if unsound.

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
    AssertionError: chapter 1: 2 claims of the registry are not shown: ch1.softmax, ch1.lse_bounds (show each with show(id) beside the text it checks)
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
                             "(show each with show(id) beside the text it checks)")
    return VerdictTable([shown[c.id].outcome for c in expected])


class VerdictTable:
    """The verdicts of a list of outcomes, as a Markdown / plain-text table."""

    def __init__(self, outcomes: list[Outcome]):
        self.outcomes = outcomes

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(id, place, title, verdict)`` per claim; the title as written (Markdown with math)."""
        return [(o.claim.id, f"{o.claim.order}" + ("" if o.claim.source == "note" else " (added)"),
                 o.claim.title, MARK[o.verdict]) for o in self.outcomes]

    def _repr_markdown_(self) -> str:
        head = "| claim | eq. | what | verdict |\n|---|---|---|---|\n"
        return head + "\n".join(f"| `{a}` | {b} | {table_cell(c)} | **{d}** |" for a, b, c, d in self.rows())

    def __repr__(self) -> str:
        w = max([len("claim")] + [len(r[0]) for r in self.rows()])
        return "\n".join([f"{'claim':<{w}}  {'eq.':<10}  {'verdict':<25}  what"]
                         + [f"{a:<{w}}  {b:<10}  {d:<25}  {plain(c)}" for a, b, c, d in self.rows()])


def verdict_table(chapter: int | None = None) -> VerdictTable:
    """Run every claim (of one chapter) and tabulate the verdicts; asserts soundness.

    >>> import derivations.chapters   # the chapters' claims, named to the registry (the layer above)
    >>> print(verdict_table(1).rows()[0][3])
    holds
    """
    outcomes = [run(c) for c in claims(chapter)]
    bad = {o.claim.id: o.problems for o in outcomes if not o.ok}
    assert not bad, f"unsound claims: {bad}"
    return VerdictTable(outcomes)


class ErrataView:
    """Every claim whose verdict is not *holds*: what is printed, what is right, and why."""

    def __init__(self, outcomes: list[Outcome]):
        self.outcomes = [o for o in outcomes if o.verdict is not Verdict.HOLDS]

    def _lines(self, md: bool) -> list[str]:
        out = []
        for o in self.outcomes:
            c = o.claim
            where = f"chapter {c.chapter}, equation {c.order}"
            out += [f"**{MARK[o.verdict]}** · `{c.id}`: {c.title} ({where})" if md      # the verdict first: it
                    else f"{MARK[o.verdict]} · {c.id}: {plain(c.title)} ({where})", ""]     # is never wrapped away
            gap = [""] if md else []
            out += ["As printed:", *gap, _formula(c.printed, md), ""]
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
    outcomes = [run(c) for c in claims()]
    bad = {o.claim.id: o.problems for o in outcomes if not o.ok}
    assert not bad, f"unsound claims: {bad}"
    return ErrataView(outcomes)


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
