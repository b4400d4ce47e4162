"""The note as data: one :class:`Claim` per displayed equation or added result.

A claim records where it stands in the note, the statement as printed, the
assumption or corrected form the companion gives, and a ``check`` function
that gathers :class:`Evidence` by symbolic and numeric computation. The
verdict is *computed* from that evidence by :func:`verdict_of`; it is never
typed in. :func:`run` also cross-examines the evidence (:func:`problems_of`):
a claim whose symbolic and numeric findings disagree, an erratum without a
counterexample, or a correction that does not check out is a failure of the
companion, reported by tests, notebooks and ``python -m derivations`` alike.

>>> c = Claim("demo.one", 0, "demo", 1, "one is one", r"1 = 1",
...           check=lambda: Evidence(holds=True, facts=[Fact("symbolic", "1 - 1 = 0", True)]))
>>> run(c).verdict
<Verdict.HOLDS: 'holds'>
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

__all__ = [
    "Verdict",
    "Fact",
    "Counterexample",
    "Evidence",
    "Claim",
    "Outcome",
    "REGISTRY",
    "register",
    "claims",
    "get",
    "run",
    "verdict_of",
    "problems_of",
]


class Verdict(str, Enum):
    """The three verdicts a referee can give a displayed equation."""

    HOLDS = "holds"
    HOLDS_UNDER = "holds under an assumption"
    ERRATUM = "erratum"


@dataclass(frozen=True)
class Fact:
    """One finding: ``ok`` says whether it came out as the evidence requires.

    ``error`` is the largest numeric error observed (numeric facts only).
    """

    kind: str  # "symbolic" or "numeric"
    text: str
    ok: bool
    error: float | None = None


@dataclass(frozen=True)
class Counterexample:
    """A concrete input where the statement as printed is wrong.

    ``printed`` and ``correct`` are the two sides evaluated there (in mpmath at
    50 digits when the check could, so float round-off cannot fake it).
    """

    point: str
    printed: float
    correct: float

    def __str__(self) -> str:
        return f"at {self.point}: printed side = {_g(self.printed)}, correct value = {_g(self.correct)}"


def _g(v: float) -> str:
    return "inf" if math.isinf(v) else f"{v:.6g}"


@dataclass
class Evidence:
    """What a claim's ``check`` found.

    holds
        the statement as printed is an identity (symbolically, for all inputs).
    holds_under
        it is an identity (or a vanishing approximation) under the claim's
        assumption; ``None`` when the claim names no assumption.
    corrected_ok
        the corrected / general form was verified; ``None`` when none is given.
    """

    holds: bool
    holds_under: bool | None = None
    corrected_ok: bool | None = None
    facts: list[Fact] = field(default_factory=list)
    counterexample: Counterexample | None = None


@dataclass(frozen=True)
class Claim:
    """One displayed equation of the note, or one result the companion adds.

    ``chapter``/``section``/``order`` place it (``order`` counts the note's
    displayed equations within the section, 1-based; added results continue
    the count). ``printed`` is LaTeX as the note prints it (or the statement,
    for added results). ``assumption`` names what a *holds under an
    assumption* verdict relies on; ``corrected`` is the corrected or general
    form (LaTeX). ``remark`` is the referee's comment.
    """

    id: str
    chapter: int
    section: str
    order: int
    title: str
    printed: str
    check: Callable[[], Evidence]
    assumption: str | None = None
    corrected: str | None = None
    remark: str = ""
    source: str = "note"  # "note" or "added"


def verdict_of(e: Evidence) -> Verdict:
    """The verdict the evidence supports: holds, else holds under, else erratum.

    >>> verdict_of(Evidence(holds=False, holds_under=True))
    <Verdict.HOLDS_UNDER: 'holds under an assumption'>
    """
    if e.holds:
        return Verdict.HOLDS
    if e.holds_under:
        return Verdict.HOLDS_UNDER
    return Verdict.ERRATUM


def problems_of(claim: Claim, e: Evidence) -> list[str]:
    """Ways in which the evidence fails to support its own verdict (empty = sound).

    >>> c = Claim("demo.bad", 0, "demo", 1, "", "", check=lambda: None)
    >>> problems_of(c, Evidence(holds=False))
    ['erratum without a numeric counterexample', 'erratum without a verified corrected form']
    """
    out = [f"{f.kind} check failed: {f.text}" for f in e.facts if not f.ok]
    v = verdict_of(e)
    if v is Verdict.HOLDS:
        if e.counterexample is not None:
            out.append("holds symbolically, yet a numeric counterexample was found")
        if claim.assumption:
            out.append("holds in general, yet the claim names an assumption")
    else:
        if e.counterexample is None:
            out.append(f"{v.value} without a numeric counterexample")
        if not claim.corrected or not e.corrected_ok:
            what = "general" if v is Verdict.HOLDS_UNDER else "corrected"
            out.append(f"{v.value} without a verified {what} form")
    if v is Verdict.HOLDS_UNDER and not claim.assumption:
        out.append("holds under an assumption that the claim does not name")
    return out


@dataclass
class Outcome:
    """A claim, its evidence, the computed verdict, and any problems."""

    claim: Claim
    evidence: Evidence
    verdict: Verdict
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def max_numeric_error(self) -> float | None:
        errs = [f.error for f in self.evidence.facts if f.error is not None]
        return max(errs) if errs else None

    @property
    def symbolic_summary(self) -> str:
        """One phrase: what the symbolic checks established."""
        e = self.evidence
        sym = [f for f in e.facts if f.kind == "symbolic"]
        if not all(f.ok for f in sym):
            return "FAILED"
        if e.holds:
            return "identity"
        if e.holds_under:
            return "identity under the assumption" + ("; general form verified" if e.corrected_ok else "")
        return "not an identity" + ("; correction verified" if e.corrected_ok else "")


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique) and return it."""
    if claim.id in REGISTRY:
        raise ValueError(f"duplicate claim id {claim.id!r}")
    REGISTRY[claim.id] = claim
    return claim


def claims(chapter: int | None = None) -> list[Claim]:
    """All registered claims in note order (chapter, then order), optionally one chapter's."""
    from . import claims as _load  # noqa: F401  (importing registers every chapter)

    out = [c for c in REGISTRY.values() if chapter is None or c.chapter == chapter]
    return sorted(out, key=lambda c: (c.chapter, c.order))


def get(claim_id: str) -> Claim:
    """The claim with this id; ``KeyError`` lists the known ids."""
    from . import claims as _load  # noqa: F401

    try:
        return REGISTRY[claim_id]
    except KeyError:
        raise KeyError(f"no claim {claim_id!r}; known: {', '.join(sorted(REGISTRY))}") from None


def run(claim: Claim | str) -> Outcome:
    """Run a claim's checks and compute its verdict (once per process: checks are seeded)."""
    return _run(get(claim) if isinstance(claim, str) else claim)


@lru_cache(maxsize=None)
def _run(c: Claim) -> Outcome:
    e = c.check()
    return Outcome(c, e, verdict_of(e), problems_of(c, e))
