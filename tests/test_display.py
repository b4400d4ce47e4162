"""The notebook views: every claim of a chapter shown, remarks as prose, and library functions naming their claims."""
from __future__ import annotations

import importlib
import inspect
import re

import pytest

import derivations.chapters  # noqa: F401  (the chapters' claims)
from derivations.engine import display
from derivations.engine.display import ClaimView, chapter_verdicts, show
from derivations.engine.registry import claims, get, run
from derivations.engine.text import plain

#: The modules whose public functions name the claims that check them (or the chapter that uses them).
LIBRARY = ["library.smoothing", "library.flipping", "library.numeric", "library.lse_bounds",
           "chapters.ch4.linear_response", "engine.stats", "engine.reference", "engine.regimes", "chapters.ch4.training",
           "engine.symbolic", "engine.checks"]
CLAIM_ID = re.compile(r"(?<![\w.])ch\d+\.[a-z][a-z0-9_]*[a-z0-9]")


# -- chapter_verdicts ---------------------------------------------------------------------------------
def test_chapter_verdicts_names_every_claim_not_shown(monkeypatch):
    monkeypatch.setattr(display, "SHOWN", {})
    ids = [c.id for c in claims(1)]
    with pytest.raises(AssertionError) as err:
        chapter_verdicts(1)
    assert all(i in str(err.value) for i in ids), str(err.value)
    assert f"{len(ids)} claims" in str(err.value)


def test_chapter_verdicts_raises_when_one_claim_is_missing(monkeypatch):
    monkeypatch.setattr(display, "SHOWN", {})
    first, *rest = claims(1)
    for c in rest:
        show(c.id)
    with pytest.raises(AssertionError, match=rf"1 claim of the registry is not shown: {re.escape(first.id)} "):
        chapter_verdicts(1)
    show(first.id)
    table = chapter_verdicts(1)
    assert [r[0] for r in table.rows()] == [c.id for c in claims(1)]


def test_chapter_verdicts_ignores_other_chapters(monkeypatch):
    monkeypatch.setattr(display, "SHOWN", {})
    for c in claims(1):
        show(c.id)
    with pytest.raises(AssertionError, match="chapter 2"):
        chapter_verdicts(2)
    assert len(chapter_verdicts(1).rows()) == len(claims(1))


# -- remarks as prose ---------------------------------------------------------------------------------
def _remark_paragraph(text: str, remark: str) -> tuple[list[str], int]:
    paragraphs = text.split("\n\n")
    words = " ".join(remark.split())
    return paragraphs, next(i for i, p in enumerate(paragraphs) if " ".join(p.split()) == words)


@pytest.mark.parametrize("md", [True, False], ids=["markdown", "text"])
def test_the_remark_is_a_paragraph_of_prose_under_the_verdict(md):
    c = get("ch2.loss_squared")
    view = ClaimView(run(c))
    text = view._repr_markdown_() if md else repr(view)
    paragraphs, i = _remark_paragraph(text, c.remark if md else plain(c.remark))  # StopIteration: not a paragraph
    assert paragraphs[i - 1].startswith("Verdict:"), "the remark follows the verdict"
    assert text.index(paragraphs[i]) < text.index("<details" if md else "Checks:"), "the remark comes before the checks"
    assert "Remark:" not in text


def test_the_plain_text_remark_is_wrapped():
    c = get("ch2.loss_squared")
    paragraphs, i = _remark_paragraph(repr(ClaimView(run(c))), plain(c.remark))
    assert max(len(line) for line in paragraphs[i].splitlines()) <= display.TEXT_WIDTH < len(c.remark)


# -- "Checked by" -------------------------------------------------------------------------------------
def _named_claims(doc: str) -> list[str]:
    """The claim ids of the docstring's ``Checked by:`` / ``Used in:`` entry (continuation lines included)."""
    out, inside = [], False
    for line in doc.splitlines():
        if line.startswith(("Checked by:", "Used in:")):
            inside = True
        elif not line.startswith(" ") or not line.strip():
            inside = False
        if inside:
            out += CLAIM_ID.findall(line)
    return out


def _public_functions():
    for name in LIBRARY:
        module = importlib.import_module(f"derivations.{name}")
        for fname, f in inspect.getmembers(module, inspect.isfunction):
            if not fname.startswith("_") and f.__module__ == module.__name__:
                yield f"{name}.{fname}", f


@pytest.mark.parametrize("name, f", list(_public_functions()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_function_names_its_claims_or_chapter(name, f):
    doc = inspect.getdoc(f) or ""
    lines = [ln for ln in doc.splitlines() if ln.startswith(("Checked by:", "Used in:"))]
    assert len(lines) == 1, f"{name}: one 'Checked by: <claim ids>' or 'Used in: chapter N' line, found {lines}"
    if lines[0].startswith("Checked by:"):
        assert _named_claims(doc), f"{name}: 'Checked by:' names no claim"


def test_every_claim_named_in_a_docstring_is_registered():
    unknown = {}
    for name, f in _public_functions():
        for claim_id in _named_claims(inspect.getdoc(f) or ""):
            try:
                get(claim_id)
            except KeyError:
                unknown.setdefault(name, []).append(claim_id)
    assert not unknown, f"docstrings name claims the registry does not hold: {unknown}"


def test_named_claims_parser():
    doc = "Text ch9.not_this.\n\nChecked by: ch1.softmax, ch2.gradient\n    ch3.same_p)\nch9.after"
    assert _named_claims(doc) == ["ch1.softmax", "ch2.gradient", "ch3.same_p"]
