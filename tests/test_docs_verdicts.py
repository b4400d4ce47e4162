"""Verdicts written in the prose pages (README.md, docs/, book/) are the registry's computed ones.

A page may quote a verdict: a table row or a sentence that names a claim id and, after it on the same line, a
verdict ("holds", "holds under an assumption", "erratum", "undecided"), or the summary line of
``python -m derivations`` ("47 claims: 35 holds, ..."). Each one is checked against the verdicts the claims
compute, so a page that says a claim holds when its check finds an erratum (or counts them wrongly) fails here,
whoever typed it.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from derivations.chapters import claims
from derivations.engine.registry import Verdict, run

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "book").glob("*.md"))]
CLAIM_ID = re.compile(r"(?<![\w.])(ch\d+\.[A-Za-z][A-Za-z0-9_]*[A-Za-z0-9])")
VERDICT = re.compile(r"\b(holds under an assumption|holds|erratum|undecided)\b", re.I)
SUMMARY = re.compile(r"(\d+) claims: (\d+) holds, (\d+) holds under an assumption, (\d+) erratum(?:, (\d+) undecided)?")


def quoted_verdicts(text: str) -> list[tuple[int, str, str]]:
    """``(line number, claim id, verdict)`` for each line naming a claim id with a verdict after it.

    >>> quoted_verdicts("| `ch3.same_q` | 5 | same q | **ERRATUM** |\\nch1.softmax is defined in the note")
    [(1, 'ch3.same_q', 'erratum')]
    """
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        ids = list(CLAIM_ID.finditer(line))
        if len(ids) != 1:                   # a row is about one claim; a sentence naming several is not a row
            continue
        verdict = VERDICT.search(line, ids[0].end())
        if verdict:
            out.append((n, ids[0][1], verdict[1].lower()))
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_quoted_verdict_is_the_computed_one(page):
    computed = {c.id: run(c).verdict.value for c in claims()}
    text = page.read_text(encoding="utf-8")
    wrong = [f"line {n}: {cid} says {v!r}, computed {computed.get(cid, 'no such claim')!r}"
             for n, cid, v in quoted_verdicts(text) if computed.get(cid) != v]
    for m in SUMMARY.finditer(text):
        counts = [len(computed)] + [sum(v == x.value for v in computed.values()) for x in Verdict]
        if [int(g or 0) for g in m.groups()] != counts:                 # no undecided count: none
            wrong.append(f"summary {m[0]!r}: computed {counts}")
    assert not wrong, "\n".join(wrong)


def test_the_scan_catches_a_wrong_row():
    computed = run("ch3.same_q").verdict.value
    assert computed == "erratum"
    assert quoted_verdicts("| `ch3.same_q` | 5 | we obtain the same q | **holds** |") == [(1, "ch3.same_q", "holds")]
