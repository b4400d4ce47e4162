"""Findings: statements checked at the reader's own parameter values.

A :class:`~derivations.engine.registry.Claim` is an equation of the note, checked once
for all K and eps. A :class:`Finding` is what a chapter computes at the values a
reader chose (``K``, ``EPS``, ``SEED``, sample sizes): a statement, the number
observed, and the bound that decides it, computed from those values. Where a
statement does not apply at an edge value (``eps = 0``, ``eps = 1`` ...), the
finding is *shown, not asserted*, and says why.

Findings come in a :class:`Findings` list, which a notebook displays; :func:`confirm`
raises ``AssertionError`` (failing the cell, nbval, ``make run``) when an
asserted finding does not hold, naming it with its numbers.

>>> f = Findings("demo", [Finding("two is even", "2 % 2 = 0", "exact", 2 % 2 == 0)])
>>> print(confirm(f))
demo
  [ok] two is even: 2 % 2 = 0 -- exact
>>> confirm(Findings("demo", [Finding("one is even", "1 % 2 = 1", "exact", False)]))
Traceback (most recent call last):
...
AssertionError: demo: 1 finding(s) do not hold:
  [FAILED] one is even: 1 % 2 = 1 -- exact
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Finding", "Findings", "confirm", "shown", "within", "outside"]

_MARK = {True: "ok", False: "FAILED", None: "shown"}


@dataclass(frozen=True)
class Finding:
    """One statement at the reader's values.

    statement
        what is claimed, in words;
    observed
        the computed numbers;
    bound
        the tolerance and where it comes from (``""`` for exact statements);
    ok
        whether the statement holds (computed);
    asserted
        ``False`` when the statement is only shown (it does not apply at these
        values; ``note`` says why);
    note
        what an edge value means here, or why the statement is not asserted.
    """

    statement: str
    observed: str
    bound: str = ""
    ok: bool = True
    asserted: bool = True
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.asserted and not self.ok

    def line(self) -> str:
        mark = _MARK[bool(self.ok)] if self.asserted else _MARK[None]
        bound = f" -- {self.bound}" if self.bound else ""
        out = f"[{mark}] {self.statement}: {self.observed}{bound}"
        return out + (f"\n      {self.note}" if self.note else "")


def within(ok: bool, value: float, what: str) -> str:
    """``"within the tolerance"``, or the offending ``value`` when not.

    Errors at the level of rounding depend on the CPU (its ``exp``, its SIMD
    path); stored notebook outputs must not, so a passing check does not print
    them. A failing one does, for the reader to see.

    >>> within(True, 1.8e-16, "relative error"), within(False, 3e-9, "relative error")
    ('within the tolerance', 'relative error 3.0e-09: OUTSIDE the tolerance')
    """
    return "within the tolerance" if ok else f"{what} {value:.1e}: OUTSIDE the tolerance"


def outside(ok: bool, got: float, reference: float, bound: float) -> str:
    """Nothing when ``|got - reference| <= bound`` held; else both values to full precision, their difference and the
    bound, for a failure message (appended to a finding's ``observed``; a passing check prints no rounding-level
    number, see :func:`within`).

    >>> outside(True, 1.0, 1.0, 1e-15)
    ''
    >>> outside(False, 0.1 + 0.2, 0.3, 1e-17)
    '; OUTSIDE the bound: 0.30000000000000004 against 0.3, difference 5.6e-17 > bound 1.0e-17'
    """
    if ok:
        return ""
    return (f"; OUTSIDE the bound: {got!r} against {reference!r}, difference {abs(got - reference):.1e} > "
            f"bound {bound:.1e}")


def shown(statement: str, observed: str, note: str) -> Finding:
    """A finding that is displayed but not asserted, with the reason in ``note``."""
    return Finding(statement, observed, ok=True, asserted=False, note=note)


@dataclass
class Findings:
    """An ordered list of findings under a title; displays as Markdown and plain text."""

    title: str
    items: list[Finding] = field(default_factory=list)
    #: values the findings were computed at, and regime notes, printed under the title
    preamble: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i) -> Finding:
        return self.items[i]

    def add(self, finding: Finding) -> Finding:
        self.items.append(finding)
        return finding

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.items if f.failed]

    def __repr__(self) -> str:
        lines = [self.title] + [f"  {p}" for p in self.preamble]
        lines += ["  " + f.line() for f in self.items]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        out = [f"**{self.title}**", ""]
        out += [f"*{p}*  " for p in self.preamble]
        if self.preamble:
            out.append("")
        for f in self.items:
            mark = {"ok": "✔", "FAILED": "✘ **FAILED**", "shown": "–"}[_MARK[bool(f.ok)] if f.asserted else _MARK[None]]
            bound = f" — {f.bound}" if f.bound else ""
            out.append(f"- {mark} {f.statement}: {f.observed}{bound}")
            if f.note:
                out.append(f"  <br>*{f.note}*")
        return "\n".join(out)


def confirm(findings: Findings) -> Findings:
    """Return ``findings`` for display; ``AssertionError`` naming each asserted finding that fails."""
    bad = findings.failed
    if bad:
        raise AssertionError(f"{findings.title}: {len(bad)} finding(s) do not hold:\n"
                             + "\n".join("  " + f.line() for f in bad))
    return findings
