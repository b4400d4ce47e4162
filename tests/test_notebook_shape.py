"""The notebooks read as articles: the result first, the derivation on the page, the plumbing out of sight.

Every chapter is held to it here:

* a reader sees code only where it is content: a derivation cell (tag ``derivation``) that is not an import; every
  other code cell (parameters, imports, registry calls, tables, figures) is hidden in the book and the PDF (tag
  ``remove-input``) and collapsed in Jupyter;
* the result comes first: the chapter's computed verdicts before any derivation, and the parameters cell first among
  the code cells;
* a derivation cell is short, fits the column, imports SymPy and the derivation's words only (no NumPy: it runs
  wherever SymPy runs), and each claim of the chapter is decided in exactly one of them; claims are separated by prose.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from derivations.chapters import CHAPTERS as FOUND
from derivations.chapters import claims
from derivations.engine import cells as derivation_cells

ROOT = Path(__file__).resolve().parents[1]
#: Every chapter's notebook (the overview included), as found in derivations/chapters/.
NOTEBOOKS = [c.notebook for c in FOUND.values()]
#: The chapters that register claims: each shows them and ends with its verdicts.
CHAPTERS = {n: FOUND[n].notebook for n in sorted({c.chapter for c in claims()})}
#: The chapters whose claims are decided by derivation cells.
DERIVED = sorted({c.chapter for c in claims() if c.derived})
#: A derivation cell: at most this many lines, each at most this many characters (the book's column at 1280 px).
MAX_LINES, MAX_WIDTH = 15, 76
#: A plumbing cell: at most this many lines of code, imports aside (longer logic belongs in the chapter's worked.py).
MAX_PLUMBING = 10
#: What a derivation cell may import: SymPy, and the derivation's words.
ALLOWED_IMPORTS = {"sympy", "derivations.engine.derive"}
VERDICT = re.compile(r"^verdict\(", re.M)


def cells(name: str):
    return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def shown(cell) -> bool:
    """A code cell whose code the book shows."""
    return cell.cell_type == "code" and "remove-input" not in tags(cell)


def test_every_notebook_is_a_chapter():
    """A notebook that no chapter folder names would be run by nbval but by nothing else (the runner, the book)."""
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_book_shows_no_plumbing(name):
    """Code the book shows is a derivation cell; the others are hidden there and collapsed in Jupyter."""
    visible = [(i, c.source.splitlines()[0]) for i, c in enumerate(cells(name))
               if shown(c) and "derivation" not in tags(c)]
    assert not visible, f"{name}: code cells the book shows that are no derivation: {visible}"
    uncollapsed = [i for i, c in enumerate(cells(name)) if c.cell_type == "code" and not shown(c)
                   and not c.metadata.get("jupyter", {}).get("source_hidden")]
    assert not uncollapsed, f"{name}: hidden cells not collapsed in Jupyter (make run sets it): {uncollapsed}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_derivation_that_only_imports_is_hidden(name):
    imports_only = [i for i, c in enumerate(cells(name)) if shown(c) and c.source.strip() and all(
        isinstance(s, (ast.Import, ast.ImportFrom)) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call))
        for s in ast.parse(c.source).body) and any(isinstance(s, (ast.Import, ast.ImportFrom))
                                                    for s in ast.parse(c.source).body)]
    assert not imports_only, f"{name}: cells of imports the book shows: {imports_only}"


def _logic(source: str) -> int:
    """The lines of a cell that are neither imports, comments nor blank."""
    imports = {n for s in ast.parse(source).body if isinstance(s, (ast.Import, ast.ImportFrom))
               for n in range(s.lineno, s.end_lineno + 1)}
    return sum(1 for n, line in enumerate(source.splitlines(), start=1)
               if n not in imports and line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_plumbing_cells_are_short(name):
    long = [(i, _logic(c.source)) for i, c in enumerate(cells(name))
            if c.cell_type == "code" and not shown(c) and _logic(c.source) > MAX_PLUMBING]
    assert not long, f"{name}: hidden cells (index, lines of code) over {MAX_PLUMBING} lines of code: {long}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_derivation_cells_are_short_and_fit_the_column(name):
    bad = []
    for i, c in enumerate(cells(name)):
        if shown(c):
            lines = c.source.splitlines()
            if len(lines) > MAX_LINES or any(len(line) > MAX_WIDTH for line in lines):
                bad.append((i, len(lines), max(map(len, lines), default=0)))
    assert not bad, f"{name}: derivation cells (index, lines, widest) over {MAX_LINES} lines or {MAX_WIDTH} columns: {bad}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_derivation_cells_import_sympy_and_the_derivations_words_only(name):
    """No NumPy: a derivation runs wherever SymPy runs."""
    found = set()
    for c in cells(name):
        if c.cell_type == "code" and "derivation" in tags(c):
            for node in ast.walk(ast.parse(c.source)):
                if isinstance(node, ast.Import):
                    found |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    found.add(node.module)
    assert found <= ALLOWED_IMPORTS, f"{name}: derivation cells import {sorted(found - ALLOWED_IMPORTS)}"


@pytest.mark.parametrize("chapter", [1, 2, 3])
def test_chapters_1_to_3_show_their_derivations(chapter):
    """At least six derivation cells a reader sees, each deciding a claim."""
    deciding = [c for c in cells(FOUND[chapter].notebook) if shown(c) and VERDICT.search(c.source)]
    assert len(deciding) >= 6, f"chapter {chapter}: {len(deciding)} derivation cells decide a claim"


@pytest.mark.slow                      # every derivation cell run (or read: the session's claims ran them)
@pytest.mark.parametrize("chapter", DERIVED)
def test_each_claim_is_decided_in_one_derivation_cell_of_its_chapter(chapter):
    decided_in, error = derivation_cells.where_decided(chapter)
    assert error is None, error
    expected = {c.id for c in claims(chapter) if c.derived}
    assert set(decided_in) == expected, (sorted(expected - set(decided_in)), sorted(set(decided_in) - expected))
    by_cell = {}
    for claim_id, index in decided_in.items():
        by_cell.setdefault(index, []).append(claim_id)
    assert all(len(ids) == 1 for ids in by_cell.values()), {i: ids for i, ids in by_cell.items() if len(ids) > 1}
    sources = [c.source for c in cells(FOUND[chapter].notebook) if c.cell_type == "code"]
    calls = [m for s in sources for m in re.findall(r'^verdict\("([^"]+)"', s, re.M)]
    assert sorted(calls) == sorted(expected), "a verdict(...) call that is not a cell's last statement, or twice"


@pytest.mark.parametrize("name", CHAPTERS.values())
def test_prose_stands_between_any_two_claims(name):
    deciding = re.compile(r"^(verdict|show)\(", re.M)
    code = [(i, c) for i, c in enumerate(cells(name)) if c.cell_type == "code" or c.source.strip()]
    adjacent = [i for (i, a), (_, b) in zip(code, code[1:])
                if a.cell_type == b.cell_type == "code" and deciding.search(a.source) and deciding.search(b.source)]
    assert not adjacent, f"{name}: claims with no Markdown between them, after cell(s) {adjacent}"


@pytest.mark.parametrize("chapter, name", CHAPTERS.items())
def test_the_result_comes_first(chapter, name):
    """The parameters cell is the first code cell; the chapter's computed verdicts come before any derivation."""
    code = [c for c in cells(name) if c.cell_type == "code"]
    assert "parameters" in tags(code[0]), f"{name}: the first code cell is not the parameters cell"
    summary = next(i for i, c in enumerate(code) if f"chapter_summary({chapter})" in c.source)
    first_derivation = next((i for i, c in enumerate(code) if "derivation" in tags(c)), len(code))
    first_claim = next((i for i, c in enumerate(code) if re.search(r"^(verdict|show)\(", c.source, re.M)), len(code))
    assert summary < min(first_derivation, first_claim), f"{name}: the verdicts come after the derivation"


@pytest.mark.parametrize("chapter, name", CHAPTERS.items())
def test_every_chapter_ends_with_its_shown_verdicts(chapter, name):
    code = [c.source.strip() for c in cells(name) if c.cell_type == "code"]
    assert code[-1] == f"chapter_verdicts({chapter})", f"{name}: the last code cell is {code[-1]!r}"
