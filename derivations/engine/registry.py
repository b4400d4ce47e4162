"""The note as data: one :class:`Claim` per displayed equation or added result.

A claim records where it stands in the note, the statement as printed, the
assumption or corrected form the companion gives, and a ``check`` function
that gathers :class:`Evidence` by symbolic and numeric computation. The
verdict is *computed* from that evidence by :func:`verdict_of`; it is never
typed in. :func:`run` also cross-examines the evidence (:func:`problems_of`):
a claim whose symbolic and numeric findings disagree, an erratum without a
counterexample, or a correction that does not check out is a failure of the
companion, reported by tests, notebooks and ``python -m derivations`` alike.

This module is the mechanism: the types, :data:`REGISTRY` and the verdicts.
The claims themselves are the catalogue: each chapter folder's ``claims`` module
(:mod:`derivations.chapters`, a layer above this one, which this module never
imports) calls :func:`register`. ``import derivations.chapters`` names those
modules to the registry (:func:`add_catalogue`), which imports them the first
time the claims are listed or one is looked up (:func:`claims`, :func:`get`):
finding the chapters does not load SymPy and every chapter's checks.

>>> c = Claim("demo.one", 0, "demo", 1, "one is one", r"1 = 1", stated=Verdict.HOLDS,
...           check=lambda f: Evidence(holds=True, findings=[Finding("symbolic", "1 - 1 = 0", True)]))
>>> run(c).verdict
<Verdict.HOLDS: 'holds'>
"""
from __future__ import annotations

import dataclasses
import importlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Literal, get_args

from derivations.engine import results
from derivations.engine.finding import Finding
from derivations.engine.parallel import in_processes
from derivations.engine.tex import number, vector

__all__ = [
    "Verdict",
    "Source",
    "Counterexample",
    "Evidence",
    "Numeric",
    "Claim",
    "Formulas",
    "Outcome",
    "REGISTRY",
    "register",
    "claims",
    "get",
    "run",
    "run_all",
    "work_units",
    "verdict_of",
    "undecided",
    "problems_of",
    "outcome_of",
    "check_claim",
    "evidence_of",
    "evidence_for",
    "numeric_of",
]


class Verdict(str, Enum):
    """The verdicts a referee can give a claim: the three of a displayed equation, and *undecided*, which only a
    statistical claim can get: the evidence neither confirms nor refutes it at its stated false-alarm probability
    (:func:`verdict_of`). An undecided claim is never an erratum."""

    HOLDS = "holds"
    HOLDS_UNDER = "holds under an assumption"
    ERRATUM = "erratum"
    UNDECIDED = "undecided"


#: Where a claim comes from: a displayed equation or sentence of the note, or a result the companion adds.
Source = Literal["note", "added"]


@dataclass(frozen=True)
class Counterexample:
    r"""A concrete input where the statement as printed is wrong, as numbers.

    ``quantity`` names what both sides evaluate (``"loss"``, ``r"$\Pr(y = 1 \mid x)$"`` ...:
    Markdown, mathematics between ``$``); ``K`` and ``z`` are the logits (``z`` may be
    ``None`` when none are involved), ``parameters`` any other inputs (``{"eps": 0.1}``;
    a name is LaTeX, ``eps`` is written :math:`\epsilon`). ``printed`` and ``correct``
    are the two sides there (in mpmath at 50 digits when the check could, so float
    round-off cannot fake it); ``note`` is a remark on the point (Markdown).

    >>> print(Counterexample("loss", 60.0, 4.1e-09, K=3, z=(-20.0, -40.0, -40.0), note="margin 20"))
    at $K = 3$, $z = (-20, -40, -40)$ (margin 20), loss: printed side $60$, correct value $4.1 \times 10^{-9}$
    >>> Counterexample("p", 0.5, 0.2, K=3, parameters={"eps": 0.1, "r": [0.9, 0.1]}).point()
    '$K = 3$, $\\epsilon = 0.1$, $r = (0.9, 0.1)$'
    """

    quantity: str
    printed: float
    correct: float
    K: int | None = None
    z: tuple[float, ...] | None = None
    parameters: dict = field(default_factory=dict)
    note: str = ""

    def point(self) -> str:
        """Where: the values of ``K``, ``z`` and the parameters (LaTeX between ``$``), and the note."""
        parts = [f"$K = {self.K}$"] if self.K is not None else []
        if self.z is not None:
            parts.append(f"$z = {vector(self.z)}$")
        for k, v in self.parameters.items():
            if isinstance(v, str):                          # words, not a number: "seeds 0-4"
                parts.append(f"{k} {v}")
                continue
            value = vector(v) if isinstance(v, (list, tuple)) else number(float(v), ".3g")
            parts.append(f"${_PARAMETER_NAMES.get(k, k)} = {value}$")
        out = ", ".join(parts)
        return out + (f" ({self.note})" if self.note else "")

    def as_dict(self) -> dict:
        return {"quantity": self.quantity, "K": self.K, "z": list(self.z) if self.z is not None else None,
                "parameters": {k: _number(v) for k, v in self.parameters.items()}, "note": self.note,
                "printed": self.printed, "correct": self.correct}

    def __str__(self) -> str:
        return (f"at {self.point()}, {self.quantity}: printed side ${number(self.printed, '.6g')}$, correct value "
                f"${number(self.correct, '.6g')}$")


#: How a parameter of a counterexample is written (LaTeX); other names are written as they are.
_PARAMETER_NAMES = {"eps": r"\epsilon"}


def _number(v):
    """A parameter value as a JSON number where it is one (SymPy rationals and lists included)."""
    if isinstance(v, (list, tuple)):
        return [_number(x) for x in v]
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return int(f) if f.is_integer() and not isinstance(v, float) else f


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
    findings: list[Finding] = field(default_factory=list)
    counterexample: Counterexample | None = None
    seconds: float | None = None        # how long the check took (set by check_claim)


@dataclass(frozen=True)
class Formulas:
    """What a check reads: the claim's formulas, parsed (:func:`derivations.engine.notation.read_text`).

    ``printed`` is the note's formula (or the statement, for added results),
    ``corrected`` the corrected or general form, ``inputs`` further formulas the
    check reads by name (e.g. another displayed equation of the note). A check
    evaluates these and nothing else, so a test may hand it mutated ones.
    ``key`` is the claim's id, the seed of the check's random draws
    (:func:`derivations.engine.checks.rng_for`): a claim's id is written once, in
    its :class:`Claim`, and reaches its check here; ``context`` is the claim's (what the note's symbols mean).
    """

    printed: object
    corrected: object = None
    inputs: dict = field(default_factory=dict)
    key: str = ""
    context: object = None


@dataclass
class Numeric:
    """What a claim's numeric checks found, beside its derivation: their findings, the counterexample, and their
    own reading of each form (``None`` where they did not test it): does the printed form agree with an
    independent reference (the NumPy library, mpmath at 50 digits), under the claim's assumption, and the
    corrected form? The derivation decides the verdict; where a numeric reading disagrees with it, the claim
    is unsound (:func:`evidence_of`)."""

    findings: list[Finding] = field(default_factory=list)
    counterexample: Counterexample | None = None
    printed: bool | None = None
    assuming: bool | None = None
    corrected: bool | None = None


@dataclass(frozen=True)
class Claim:
    """One displayed equation of the note, or one result the companion adds.

    A claim of chapters 1-3 is decided by its derivation cell, the SymPy in the chapter's notebook that calls
    ``verdict(id, ...)`` (:mod:`derivations.engine.derive`, run by :mod:`derivations.engine.cells`), with its
    ``numeric`` checks beside it: a function of the claim's :class:`Formulas` that returns :class:`Numeric`. A
    claim decided by an experiment (chapters 4 and 5) gives ``check`` instead: a function of its
    :class:`Formulas` that returns the whole :class:`Evidence`.

    ``printed`` is LaTeX as the note prints it (``derivations.engine.note.displayed``/``quote``), or the statement of
    a result the companion adds. ``stated`` is the referee's verdict: the computed one must agree with it.
    ``assumption`` names what a *holds under an assumption* verdict relies on; ``corrected`` is the corrected or
    general form (LaTeX). ``context`` says what the note's symbols mean in the claim
    (:class:`derivations.engine.notation.Context`; the hard labels' by default). ``remark`` is the referee's
    comment, for the corrected note and the report. ``inputs`` names further formulas the derivation reads.
    ``shares`` names an expensive computation the check shares with other claims (an experiment, cached in its
    module): claims that share one are computed one after another in the same process (:func:`run_all`).

    Where it stands is found when it is registered: its chapter from its id (``ch2.`` ...), its ``order`` from
    the order of registration, its ``section`` from the claim registered before it, and its ``source`` from the
    note's transcription (a formula the note prints is ``"note"``, any other ``"added"``).
    """

    id: str
    chapter: int | None = None
    section: str = ""
    order: int | None = None
    title: str = ""
    printed: str = ""
    check: Callable[[Formulas], Evidence] | None = None
    stated: Verdict | None = None
    assumption: str | None = None
    corrected: str | None = None
    remark: str = ""
    source: Source | None = None
    inputs: dict = field(default_factory=dict, hash=False, compare=False)
    shares: str | None = None
    numeric: Callable[[Formulas], Numeric] | None = field(default=None, hash=False, compare=False)
    context: object = field(default=None, hash=False, compare=False)

    def __post_init__(self):
        if self.source is not None and self.source not in get_args(Source):
            raise ValueError(f"Claim.source must be one of {get_args(Source)}; got {self.source!r}")
        if not isinstance(self.stated, Verdict):
            raise ValueError(f"{self.id}: stated must be a Verdict; got {self.stated!r}")
        if self.chapter is None:
            m = re.match(r"ch(\d+)\.", self.id)
            if not m:
                raise ValueError(f"{self.id}: an id names its chapter (ch2.name), or give chapter=")
            object.__setattr__(self, "chapter", int(m[1]))
        if self.source is None:
            from derivations.engine.note import contains

            object.__setattr__(self, "source", "note" if self.printed and contains(self.printed) else "added")

    @property
    def derived(self) -> bool:
        """Decided by a derivation cell (no ``check`` of its own)."""
        return self.check is None

    def formulas(self) -> Formulas:
        """The claim's LaTeX, read (cached): what its derivation and checks evaluate."""
        return _formulas(self)

    @property
    def place(self) -> str:
        """``"ch1 eq9"`` for the note's displayed equations, ``"ch1 +10"`` for added results."""
        return f"ch{self.chapter} {'eq' if self.source == 'note' else '+'}{self.order}"


def verdict_of(e: Evidence, derived: bool = False) -> Verdict:
    """The verdict the evidence supports: holds, else holds under, else undecided (:func:`undecided`), else erratum.

    ``derived``: the evidence is a derivation's (``Claim.derived``), whose symbolic decision is never undecided.

    >>> verdict_of(Evidence(holds=False, holds_under=True))
    <Verdict.HOLDS_UNDER: 'holds under an assumption'>
    >>> straddles = Finding("statistical", "smoothing lowers the ECE", False, undecided=True)
    >>> verdict_of(Evidence(holds=False, findings=[straddles]))
    <Verdict.UNDECIDED: 'undecided'>
    >>> verdict_of(Evidence(holds=False, findings=[straddles, Finding("numeric", "trained to convergence", False)]))
    <Verdict.ERRATUM: 'erratum'>
    """
    if e.holds:
        return Verdict.HOLDS
    if e.holds_under:
        return Verdict.HOLDS_UNDER
    if not derived and undecided(e):
        return Verdict.UNDECIDED
    return Verdict.ERRATUM


def undecided(e: Evidence) -> bool:
    """The rule of the *undecided* verdict, for evidence that neither holds nor holds under an assumption: some
    asserted statistical finding is undecided (its interval at the stated false-alarm probability contains both the
    claimed side and its negation, :func:`derivations.engine.stats.side`), and nothing refutes the claim: no finding
    failed (a finding decided against what the claim requires, of any kind) and no counterexample was found. Where
    something refutes it, it is an erratum; symbolic and numeric findings are never undecided.
    """
    return (any(f.asserted and f.undecided for f in e.findings) and not any(f.failed for f in e.findings)
            and e.counterexample is None)


def problems_of(claim: Claim, e: Evidence) -> list[str]:
    """Ways in which the evidence fails to support its own verdict (empty = sound).

    >>> c = Claim("demo.bad", 0, "demo", 1, "", "", check=lambda: None, stated=Verdict.HOLDS)
    >>> problems_of(c, Evidence(holds=False))
    ['computed verdict erratum differs from the stated verdict holds', 'erratum without a numeric counterexample', 'erratum without a verified corrected form']
    """
    out = [f"{f.kind} check failed: {f.statement}" for f in e.findings if f.failed]
    v = verdict_of(e, claim.derived)
    if v is not claim.stated:
        out.append(f"computed verdict {v.value} differs from the stated verdict {claim.stated.value}")
    if v in (Verdict.HOLDS, Verdict.HOLDS_UNDER):
        out += [f"{v.value}, yet a statistical check is undecided: {f.statement}" for f in e.findings
                if f.asserted and f.undecided]
    if v is Verdict.UNDECIDED:                  # neither confirmed nor refuted: no counterexample, no correction owed
        return out
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
        errs = [f.error for f in self.evidence.findings if f.error is not None]
        return max(errs) if errs else None

    @property
    def symbolic_summary(self) -> str:
        """One phrase: what the symbolic checks established."""
        e = self.evidence
        sym = [f for f in e.findings if f.kind == "symbolic"]
        if not all(f.ok for f in sym):
            return "FAILED"
        if self.verdict is Verdict.UNDECIDED:
            return "statistical tests at stated false-alarm: undecided"
        if e.holds and not self.claim.derived and any(f.kind == "statistical" for f in e.findings) \
                and "general K" not in self.scope:
            return "statistical tests at stated false-alarm; identities at concrete K"
        if e.holds:
            return "identity" + self.scope
        if e.holds_under:
            return ("identity under the assumption" + self.scope
                    + ("; general form verified" if e.corrected_ok else ""))
        return "not an identity" + ("; correction verified" if e.corrected_ok else "")

    @property
    def scope(self) -> str:
        """For which K the symbolic checks proved it: ``", general K"`` when one of them says so; for a claim
        decided by its derivation, nothing more when no K appears in what it decided (an identity whatever K);
        else only for the concrete K its findings name (and sampled numerically beyond)."""
        sym = [f.statement for f in self.evidence.findings if f.kind == "symbolic" and f.ok]
        if any(("general K" in t or "general $K$" in t) and "not zero for a general K" not in t for t in sym):
            return ", general K"
        if self.claim.derived:
            return ""
        return ", concrete K only (see its findings)"


REGISTRY: dict[str, Claim] = {}

#: Modules that register claims, not yet imported (:func:`add_catalogue`).
_CATALOGUES: list[str] = []


def add_catalogue(module: str) -> None:
    """Name a module whose import registers claims: it is imported the first time :func:`claims` or :func:`get`
    reads the registry (:mod:`derivations.chapters` names each chapter's ``claims`` module).

    >>> import derivations.chapters  # names every chapter's claims module (derivations/chapters/__init__.py)
    >>> len(claims()) >= 47          # imported at this first read
    True
    """
    _CATALOGUES.append(module)


def _registered() -> dict[str, Claim]:
    """:data:`REGISTRY`, every named catalogue imported first (a module that fails to import stays named, and
    raises again at the next read: the registry is never silently partial)."""
    while _CATALOGUES:
        importlib.import_module(_CATALOGUES[0])
        _CATALOGUES.pop(0)
    return REGISTRY


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry (ids are unique) and return it, with its ``order`` (the next of its chapter)
    and ``section`` (that of the claim of its chapter registered before it) filled in where not given."""
    if claim.id in REGISTRY:
        raise ValueError(f"duplicate claim id {claim.id!r}")
    before = [c for c in REGISTRY.values() if c.chapter == claim.chapter]
    if claim.order is None:
        claim = dataclasses.replace(claim, order=max((c.order for c in before), default=0) + 1)
    if not claim.section and before:
        claim = dataclasses.replace(claim, section=before[-1].section)
    REGISTRY[claim.id] = claim
    return claim


def claims(chapter: int | None = None) -> list[Claim]:
    """All registered claims in note order (chapter, then order), optionally one chapter's."""
    out = [c for c in _registered().values() if chapter is None or c.chapter == chapter]
    return sorted(out, key=lambda c: (c.chapter, c.order))


def get(claim_id: str) -> Claim:
    """The claim with this id; ``KeyError`` lists the known ids."""
    try:
        return _registered()[claim_id]
    except KeyError:
        raise KeyError(f"no claim {claim_id!r}; known: {', '.join(sorted(REGISTRY))}") from None


def run(claim: Claim | str) -> Outcome:
    """Run a claim's checks and compute its verdict: once per process (checks are seeded), and once per
    run when :mod:`derivations.engine.results` shares evidence between processes."""
    c = get(claim) if isinstance(claim, str) else claim
    if c not in _OUTCOMES:
        shared = REGISTRY.get(c.id) is c                # a registered claim, not an ad-hoc one of the same id
        stored = results.load(c.id) if shared else None
        if stored is not None:
            _OUTCOMES[c] = outcome_of(c, stored)
        else:
            _OUTCOMES[c] = out = check_claim(c)
            if shared and out.evidence is not _UNREAD:
                results.save(c.id, out.evidence)
    return _OUTCOMES[c]


def run_all(cs: list[Claim], jobs: int = 1) -> list[Outcome]:
    """:func:`run` for every claim of ``cs``, computing those not yet known in ``jobs`` processes
    (:func:`derivations.engine.parallel.in_processes`).

    >>> import derivations.chapters  # the chapters' claims (the layer above)
    >>> [o.verdict.value for o in run_all([get("ch1.one_hot")], jobs=2)]
    ['holds']
    """
    todo = [c for c in cs if c not in _OUTCOMES and REGISTRY.get(c.id) is c and results.load(c.id) is None]
    if jobs > 1 and len(todo) > 1:
        for group, done in in_processes(_evidence_of_group, work_units(todo), jobs):
            for c, evidence in zip(group, done):
                if evidence is not None:
                    _OUTCOMES[c] = outcome_of(c, evidence)
                    results.save(c.id, evidence)
    return [run(c) for c in cs]


def work_units(cs: list[Claim]) -> list[tuple[Claim, ...]]:
    """The claims as units of work for :func:`~derivations.engine.parallel.in_processes`: those that share a computation
    together, first (the longest units start first), then one claim each. Claims share what ``Claim.shares`` names,
    and a chapter's claims decided by its derivation cells share those cells' run (chapter 3's take 6 s: split
    over two processes, each ran them).

    Used in: run_all, :func:`audit.mutation.report`

    >>> a, b, c = (Claim(i, 9, "", 1, "", "x", None, Verdict.HOLDS, shares=s) for i, s in (("a", "e"), ("b", None), ("c", "e")))
    >>> [[x.id for x in g] for g in work_units([a, b, c])]
    [['a', 'c'], ['b']]
    """
    shared: dict[str, list[Claim]] = {}
    for c in cs:
        key = c.shares if c.shares is not None else (f"chapter {c.chapter}'s derivation cells" if c.derived else None)
        if key is not None:
            shared.setdefault(key, []).append(c)
    units = sorted(shared.values(), key=len, reverse=True)
    return [tuple(g) for g in units] + [(c,) for c in cs if c.shares is None and not c.derived]


def _evidence_of_group(group: tuple[Claim, ...]) -> list[Evidence | None]:
    """Each claim's evidence, in order, or ``None`` where its check raised (then :func:`run` recomputes it and
    reports why). Only evidence crosses between processes (a claim's check is a closure: it does not pickle)."""
    return [None if (o := check_claim(c)).evidence is _UNREAD else o.evidence for c in group]


@lru_cache(maxsize=None)
def _formulas(c: Claim) -> Formulas:
    from derivations.engine.notation import HARD, read_text

    return Formulas(read_text(c.printed), read_text(c.corrected) if c.corrected else None,
                    {name: read_text(latex) for name, latex in c.inputs.items()}, key=c.id, context=c.context or HARD)


#: Outcomes computed (or loaded) in this process, by claim.
_OUTCOMES: dict[Claim, Outcome] = {}
#: The evidence of a check that raised: never stored.
_UNREAD = Evidence(holds=False)


def check_claim(c: Claim, formulas: Formulas | None = None) -> Outcome:
    """Run ``c``'s check on its own formulas, or on ``formulas`` (e.g. mutated ones), uncached.

    An exception (an unreadable formula, a check that breaks) becomes a failed
    outcome naming the claim, as for any other problem.
    """
    start = time.perf_counter()
    try:
        evidence = evidence_for(c, formulas)
        evidence.seconds = time.perf_counter() - start
    except Exception as err:                    # an unreadable formula, or a check that breaks, is a failure
        return Outcome(c, _UNREAD, Verdict.ERRATUM,                 # of the claim, reported with its id
                       [f"its formulas could not be read or checked: {type(err).__name__}: {err}"])
    return outcome_of(c, evidence)


def evidence_for(c: Claim, formulas: Formulas | None = None) -> Evidence:
    """The evidence for ``c`` on its own formulas, or on ``formulas`` (a mutation test's): its derivation cell's
    decision (run again with those formulas) and its numeric checks, or its own ``check``. Raises what they raise."""
    if not c.derived:
        return c.check(c.formulas() if formulas is None else formulas)
    from derivations.engine import cells

    if formulas is None and REGISTRY.get(c.id) is not c:       # a variant of a registered claim: its own formulas
        formulas = c.formulas()
    numeric = numeric_of(c) if formulas is None else (c.numeric(formulas) if c.numeric else None)
    return evidence_of(cells.decision(c, formulas), numeric)


#: Numeric evidence computed (or loaded) in this process, by claim.
_NUMERIC: dict[Claim, Numeric | None] = {}


def numeric_of(c: Claim) -> Numeric | None:
    """The numeric checks of a derived claim on its own formulas: once per process, and once per run when
    :mod:`derivations.engine.results` shares them between processes (a notebook's kernel reads what the test
    session computed, while its derivation cells decide again, live)."""
    if c.numeric is None:
        return None
    if c not in _NUMERIC:
        shared = REGISTRY.get(c.id) is c
        stored = results.load(c.id + ".numeric") if shared else None
        if stored is None:
            stored = c.numeric(c.formulas())
            if shared:
                results.save(c.id + ".numeric", stored)
        _NUMERIC[c] = stored
    return _NUMERIC[c]


#: How each form is named where a numeric reading disagrees with the derivation.
_FORMS = {"printed": "the printed line", "assuming": "the printed line under the assumption",
          "corrected": "the corrected form"}


def evidence_of(decision, numeric: Numeric | None) -> Evidence:
    """The evidence of a derived claim: its derivation's decision (:class:`derivations.engine.derive.Decision`)
    and its numeric checks. Where a numeric check reads a form otherwise than the derivation does, a failed
    finding says so, and the claim is unsound.

    >>> from derivations.engine.derive import decide
    >>> e = evidence_of(decide("demo.x", 0), Numeric(printed=False))
    >>> e.holds, [f.statement for f in e.findings if f.failed]
    (True, ['the derivation finds the printed line right; the numeric check finds it wrong'])
    """
    numeric = numeric or Numeric()
    findings = decision.findings() + list(numeric.findings)
    derived = {"printed": decision.holds, "assuming": decision.holds_under, "corrected": decision.corrected_ok}
    for form, words in _FORMS.items():
        seen = getattr(numeric, form)
        if seen is not None and derived[form] is not None and seen != derived[form]:
            findings.append(Finding("numeric", f"the derivation finds {words} {'right' if derived[form] else 'wrong'}; "
                                               f"the numeric check finds it {'right' if seen else 'wrong'}", False))
    return Evidence(holds=decision.holds, holds_under=decision.holds_under, corrected_ok=decision.corrected_ok,
                    findings=findings, counterexample=numeric.counterexample)


def outcome_of(c: Claim, e: Evidence) -> Outcome:
    """The verdict and problems of evidence for ``c`` (also for evidence from mutated formulas)."""
    return Outcome(c, e, verdict_of(e, c.derived), problems_of(c, e))
