"""Show claims in notebooks: Markdown for people, deterministic plain text for nbval.

Everything shown is computed by running the claim's checks; a claim whose
evidence does not support its verdict raises ``AssertionError``, so the
notebook cell (and nbval) fails. Numeric error sizes are left out of the view
on purpose (they depend on the CPU's libm); ``python -m derivations`` prints them.
"""
from __future__ import annotations

from .registry import Outcome, Verdict, claims, run

__all__ = ["show", "ClaimView", "VerdictTable", "verdict_table", "ErrataView", "errata"]

def _is_prose(s: str) -> bool:
    """A quotation of the note's running text (its mathematics between ``$``), not a formula."""
    return "$" in s or not any(ch in s for ch in "\\_^=")


def _formula(s: str, md: bool) -> str:
    """A displayed formula, or a quotation of the note's words (as a block quote)."""
    if _is_prose(s):
        return f"> {s}" if md else f"    \"{s}\""
    return f"$$\n{s}\n$$" if md else f"    {s}"


def _inline(s: str) -> str:
    return s if _is_prose(s) else f"${s}$"


_MARK = {Verdict.HOLDS: "holds", Verdict.HOLDS_UNDER: "holds under an assumption", Verdict.ERRATUM: "ERRATUM"}


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
        out = [f"{bold(c.id)}: {c.title} ({where})", "", "As printed:" if c.source == "note" else "Statement:",
               math(c.printed), "", f"Verdict: {bold(_MARK[o.verdict])}"]
        if o.verdict is Verdict.HOLDS_UNDER:
            out.append(f"Assumption: {c.assumption}")
        if o.verdict is not Verdict.HOLDS and c.corrected:
            out += ["", "General form:" if o.verdict is Verdict.HOLDS_UNDER else "Corrected form:", math(c.corrected)]
        if e.counterexample is not None:
            out += ["", f"Counterexample (as printed, without the assumption): {e.counterexample}"
                    if o.verdict is Verdict.HOLDS_UNDER else f"Counterexample: {e.counterexample}"]
        out += ["", "Checks:"]
        for f in e.facts:
            out.append(f"{'-' if md else ' '} {'ok' if f.ok else 'FAILED'} [{f.kind}] {f.text}")
        if c.remark:
            out += ["", f"Remark: {c.remark}"]
        return out

    def _repr_markdown_(self) -> str:
        return "\n".join(self._lines(md=True))

    def __repr__(self) -> str:
        return "\n".join(self._lines(md=False))


def show(claim_id: str) -> ClaimView:
    """Run the claim's checks and return its view; ``AssertionError`` if unsound.

    >>> v = show("ch1.loss_lse")
    >>> v.verdict.value
    'holds'
    """
    o = run(claim_id)
    assert o.ok, f"{claim_id}: the evidence does not support the verdict: {o.problems}"
    return ClaimView(o)


class VerdictTable:
    """The verdicts of a list of outcomes, as a Markdown / plain-text table."""

    def __init__(self, outcomes: list[Outcome]):
        self.outcomes = outcomes

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [(o.claim.id, f"{o.claim.order}" + ("" if o.claim.source == "note" else " (added)"),
                 o.claim.title, _MARK[o.verdict]) for o in self.outcomes]

    def _repr_markdown_(self) -> str:
        head = "| claim | eq. | what | verdict |\n|---|---|---|---|\n"
        return head + "\n".join(f"| `{a}` | {b} | {c} | **{d}** |" for a, b, c, d in self.rows())

    def __repr__(self) -> str:
        return "\n".join(f"{a:<24} {b:<12} {d:<26} {c}" for a, b, c, d in self.rows())


def verdict_table(chapter: int | None = None) -> VerdictTable:
    """Run every claim (of one chapter) and tabulate the verdicts; asserts soundness.

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
            head = f"{c.id}: {c.title} (chapter {c.chapter}, equation {c.order}): {_MARK[o.verdict]}"
            out.append(f"**{head}**" if md else head)
            out.append(f"- printed: {_inline(c.printed)}" if md else f"    printed:   {c.printed}")
            if o.verdict is Verdict.HOLDS_UNDER:
                out.append(f"- assumption: {c.assumption}" if md else f"    assumption: {c.assumption}")
            label = "general form" if o.verdict is Verdict.HOLDS_UNDER else "corrected"
            out.append(f"- {label}: {_inline(c.corrected)}" if md else f"    {label}: {c.corrected}")
            if o.evidence.counterexample:
                out.append(f"- counterexample: {o.evidence.counterexample}" if md
                           else f"    counterexample: {o.evidence.counterexample}")
            out.append("")
        return out

    def _repr_markdown_(self) -> str:
        return "\n".join(self._lines(md=True))

    def __repr__(self) -> str:
        return "\n".join(self._lines(md=False))


def errata() -> ErrataView:
    """Run every claim and list those that do not simply hold (asserts soundness).

    >>> all(o.verdict is not Verdict.HOLDS for o in errata().outcomes)
    True
    """
    outcomes = [run(c) for c in claims()]
    bad = {o.claim.id: o.problems for o in outcomes if not o.ok}
    assert not bad, f"unsound claims: {bad}"
    return ErrataView(outcomes)
