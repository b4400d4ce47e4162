"""Findings: the one vocabulary of results, for claims and for worked examples alike.

A :class:`Finding` is one statement that was computed and decided: a claim's
check gathers findings for all K and eps (its :class:`~derivations.engine.registry.Evidence`),
a chapter's worked example gathers them at the values a reader chose (``K``,
``EPS``, ``SEED``, sample sizes). Each says *how* it was established (``kind``:
a symbolic proof, a numeric agreement, a statistical test at a stated false-alarm
probability), what was observed, and the bound that decided it. Where a statement
does not apply at an edge value (``eps = 0``, ``eps = 1`` ...), the finding is
*shown, not asserted* (``asserted=False``), and its ``note`` says why. A statistical
finding may be *undecided* (``undecided=True``): its interval at the stated false-alarm
probability holds both the claimed side and its negation, so it neither confirms nor
refutes (:func:`derivations.engine.stats.interval_finding` makes one from an interval); it is not
a failure, and a claim that rests on it is undecided
(:func:`derivations.engine.registry.verdict_of`). Symbolic and numeric findings are
always decided.

:class:`Findings` is a titled list (what a worked example returns); its views and a
claim's list of checks are drawn by the same function, :func:`lines`. :func:`confirm`
raises ``AssertionError`` (failing the cell, nbval, ``make run``) when an asserted
finding does not hold, naming it with its numbers.

>>> f = Findings("demo", [Finding("numeric", "two is even", True, observed="2 % 2 = 0", bound="exact")])
>>> print(confirm(f))
demo
  [ok] two is even: 2 % 2 = 0 -- exact (numeric)
>>> confirm(Findings("demo", [Finding("numeric", "one is even", False, observed="1 % 2 = 1", bound="exact")]))
Traceback (most recent call last):
...
AssertionError: demo: 1 finding(s) do not hold:
  [FAILED] one is even: 1 % 2 = 1 -- exact (numeric)
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from typing import Literal, get_args

from derivations.engine.text import folded, plain

__all__ = ["Kind", "Finding", "Findings", "FailedFinding", "stop_at_failed_finding", "confirm", "shown", "within",
           "lines", "tally", "outside", "UNDECIDED"]

#: How a finding was established: a symbolic proof, a numeric agreement, or a statistical test (a bound on a
#: random quantity at a stated false-alarm probability).
Kind = Literal["symbolic", "numeric", "statistical"]

_MARK = {True: "ok", False: "FAILED", None: "shown"}
#: The mark of an asserted statistical finding that its evidence neither confirms nor refutes.
UNDECIDED = "undecided"


@dataclass(frozen=True)
class Finding:
    """One statement, computed and decided.

    kind
        how it was established (:data:`Kind`);
    statement
        what is claimed, in words (Markdown, mathematics between ``$``);
    ok
        whether it came out as required (computed);
    observed
        the computed numbers (``""`` when the statement says it all);
    bound
        the tolerance and where it comes from (``""`` for exact statements);
    asserted
        ``False`` when the statement is only shown (it does not apply at these
        values; ``note`` says why);
    note
        what an edge value means here, or why the statement is not asserted;
    error
        the largest numeric error observed, for the report's error column;
    undecided
        a statistical finding only: its interval at the stated false-alarm
        probability contains both the claimed side and its negation (``ok`` is
        then ``False``: it is not confirmed; nor is it refuted, and it does not
        count as failed).
    """

    kind: Kind
    statement: str
    ok: bool = True
    observed: str = ""
    bound: str = ""
    asserted: bool = True
    note: str = ""
    error: float | None = None
    undecided: bool = False

    def __post_init__(self):
        if self.kind not in get_args(Kind):
            raise ValueError(f"Finding.kind must be one of {get_args(Kind)}; got {self.kind!r}")
        object.__setattr__(self, "ok", bool(self.ok))                  # NumPy booleans and floats become
        object.__setattr__(self, "undecided", bool(self.undecided))    # plain ones (JSON, identity tests)
        if self.error is not None:
            object.__setattr__(self, "error", float(self.error))
        if self.undecided and self.kind != "statistical":
            raise ValueError(f"only a statistical finding may be undecided; a {self.kind} one is decided: "
                             f"{self.statement!r}")
        if self.undecided and self.ok:
            raise ValueError(f"an undecided finding is not confirmed (ok=False): {self.statement!r}")
        if self.failed and _STOP_AT_FAILED.get():
            raise FailedFinding(self)

    @property
    def failed(self) -> bool:
        """Asserted, and decided against what was required (an undecided finding has not failed)."""
        return self.asserted and not self.ok and not self.undecided

    @property
    def mark(self) -> str:
        """``ok``, ``FAILED``, ``undecided``, or ``shown`` (not asserted)."""
        if not self.asserted:
            return _MARK[None]
        return UNDECIDED if self.undecided else _MARK[bool(self.ok)]

    def line(self) -> str:
        """The finding in one line of plain text (and its note on the next), made from its Markdown
        (:func:`~derivations.engine.text.plain`)."""
        observed = f": {plain(self.observed)}" if self.observed else ""
        bound = f" -- {plain(self.bound)}" if self.bound else ""
        out = f"[{self.mark}] {plain(self.statement)}{observed}{bound} ({self.kind})"
        return out + (f"\n      {plain(self.note)}" if self.note else "")


class FailedFinding(BaseException):
    """Raised by a :class:`Finding` that does not come out as required, inside :func:`stop_at_failed_finding`:
    its check stops there (the outcome would be unsound whatever came next). A ``BaseException``, so that a
    check's own ``except Exception`` does not take it for an error of its computation."""

    def __init__(self, finding: Finding):
        super().__init__(f"{finding.kind} check failed: {finding.statement}")
        self.finding = finding


_STOP_AT_FAILED = contextvars.ContextVar("stop_at_failed_finding", default=False)


@contextlib.contextmanager
def stop_at_failed_finding():
    """Within this block a finding that fails raises :class:`FailedFinding` (for
    :func:`audit.mutation.kill`: a mutant is killed by its first failed finding, without the rest
    of its check).

    >>> with stop_at_failed_finding():
    ...     Finding("numeric", "1 + 1 = 3", False)
    Traceback (most recent call last):
    ...
    derivations.engine.finding.FailedFinding: numeric check failed: 1 + 1 = 3
    """
    token = _STOP_AT_FAILED.set(True)
    try:
        yield
    finally:
        _STOP_AT_FAILED.reset(token)


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


def shown(kind: Kind, statement: str, observed: str, note: str) -> Finding:
    """A finding that is displayed but not asserted, with the reason in ``note``."""
    return Finding(kind, statement, ok=True, observed=observed, asserted=False, note=note)


_SYMBOL = {"ok": "✔", "FAILED": "✘ **FAILED**", "shown": "–", UNDECIDED: "○ **undecided**"}


def lines(findings, md: bool) -> list[str]:
    """The findings as a list, one item each: Markdown (``md``) or plain text. The one view of findings, for a
    worked example's :class:`Findings` and a claim's checks alike.

    >>> print("\\n".join(lines([Finding("symbolic", "1 - 1 = 0"), shown("numeric", "x", "1", "edge")], md=False)))
    [ok] 1 - 1 = 0 (symbolic)
    [shown] x: 1 (numeric)
          edge
    """
    out = []
    for f in findings:
        if not md:
            out.append(f.line())
            continue
        observed = f": {f.observed}" if f.observed else ""
        bound = f" — {f.bound}" if f.bound else ""
        out.append(f"- {_SYMBOL[f.mark]} {f.statement}{observed}{bound} *({f.kind})*")
        if f.note:
            out.append(f"  <br>*{f.note}*")
    return out


def tally(findings) -> str:
    """The findings in a few words: how many, how established, how they came out (plain words, no math: it
    heads a fold, where no renderer reads Markdown).

    >>> tally([Finding("symbolic", "a"), Finding("numeric", "b"), shown("numeric", "c", "1", "edge")])
    '2 findings hold (symbolic, numeric), 1 shown without assertion'
    >>> tally([Finding("numeric", "a", False)])
    '1 of 1 findings FAILED'
    >>> tally([Finding("numeric", "a"), Finding("statistical", "b", False, undecided=True)])
    '1 of 2 findings undecided at the stated false-alarm probability (statistical); 1 holds'
    """
    findings = list(findings)
    failed = [f for f in findings if f.failed]
    if failed:
        return f"{len(failed)} of {len(findings)} findings FAILED"
    undecided = [f for f in findings if f.asserted and f.undecided]
    if undecided:
        held = sum(f.asserted and f.ok for f in findings)
        n_shown = sum(not f.asserted for f in findings)
        return (f"{len(undecided)} of {len(findings)} findings undecided at the stated false-alarm probability "
                f"(statistical); {held} hold{'s' * (held == 1)}"
                + (f", {n_shown} shown without assertion" if n_shown else ""))
    held = [f for f in findings if f.asserted]
    kinds = ", ".join(k for k in get_args(Kind) if any(f.kind == k for f in held))
    out = f"{'all ' if len(held) > 2 and len(held) == len(findings) else ''}{len(held)} finding{'s' * (len(held) != 1)} " \
          f"hold{'s' * (len(held) == 1)}" + (f" ({kinds})" if kinds else "")
    n_shown = len(findings) - len(held)
    return out + (f", {n_shown} shown without assertion" if n_shown else "")


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

    @property
    def undecided(self) -> list[Finding]:
        """The asserted findings that the evidence neither confirms nor refutes (not failures: :func:`confirm`
        passes them, and shows them as undecided)."""
        return [f for f in self.items if f.asserted and f.undecided]

    def __repr__(self) -> str:
        return "\n".join([plain(self.title)] + [f"  {plain(p)}" for p in self.preamble]
                         + ["  " + s for s in lines(self, md=False)])

    def _repr_markdown_(self) -> str:
        """The title, what the values mean (the preamble), and one line with the result; the findings
        themselves, with their numbers and bounds, one click away (folded)."""
        mark = "✘" if self.failed else "○" if self.undecided else "✔"
        out = [f"**{self.title}**", ""] + [f"*{p}*\n" for p in self.preamble]
        out += [f"{mark} {tally(self)}.", "", folded("The findings, with their numbers and bounds",
                                                     "\n".join(lines(self, md=True)), "findings")]
        return "\n".join(out)


def confirm(findings: Findings) -> Findings:
    """Return ``findings`` for display; ``AssertionError`` naming each asserted finding that fails."""
    bad = findings.failed
    if bad:
        raise AssertionError(f"{findings.title}: {len(bad)} finding(s) do not hold:\n"
                             + "\n".join("  " + f.line() for f in bad))
    return findings
