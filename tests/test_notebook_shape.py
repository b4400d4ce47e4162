"""The notebooks stay thin and readable: short code cells, prose between claims, every claim of a chapter shown.

Every chapter is held to it here.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from derivations.chapters import CHAPTERS as FOUND
from derivations.chapters import claims

ROOT = Path(__file__).resolve().parents[1]
#: Every chapter's notebook (the overview included), as found in derivations/chapters/.
NOTEBOOKS = [c.notebook for c in FOUND.values()]
#: The chapters that register claims: each shows them and ends with its verdicts.
CHAPTERS = {n: FOUND[n].notebook for n in sorted({c.chapter for c in claims()})}
#: The most lines a code cell may have (blank lines included): longer logic belongs in the chapter's worked.py.
MAX_LINES = 10
SHOW = re.compile(r"^\s*show\(", re.M)


def test_every_notebook_is_a_chapter():
    """A notebook that no chapter folder names would be run by nbval but by nothing else (the runner, the book)."""
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")) == sorted(NOTEBOOKS)


def cells(name: str):
    return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_code_cell_is_longer_than_ten_lines(name):
    long = [(i, len(c.source.splitlines())) for i, c in enumerate(cells(name))
            if c.cell_type == "code" and len(c.source.splitlines()) > MAX_LINES]
    assert not long, f"{name}: cells (index, lines) over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("name", CHAPTERS.values())
def test_prose_stands_between_any_two_claims(name):
    code = [(i, c) for i, c in enumerate(cells(name)) if c.cell_type == "code" or c.source.strip()]
    adjacent = [i for (i, a), (_, b) in zip(code, code[1:])
                if a.cell_type == b.cell_type == "code" and SHOW.search(a.source) and SHOW.search(b.source)]
    assert not adjacent, f"{name}: show() cells with no Markdown between them, after cell(s) {adjacent}"


@pytest.mark.parametrize("chapter, name", CHAPTERS.items())
def test_every_chapter_ends_with_its_shown_verdicts(chapter, name):
    code = [c.source.strip() for c in cells(name) if c.cell_type == "code"]
    assert code[-1] == f"chapter_verdicts({chapter})", f"{name}: the last code cell is {code[-1]!r}"
