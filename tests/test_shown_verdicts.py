"""Every verdict a reader sees is the computed one, checked in one place: :func:`audit.shown_verdicts.check` reads
every surface (the library's views in Markdown and plain text, the terminal report, the corrected note's boxes, the
notebooks' stored outputs, the prose pages); the built book's pages and its PDF are read in tests/test_site.py, with
the same readers. Each reader is shown to catch a planted wrong verdict."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import derivations.chapters  # noqa: F401  (the chapters' claims)
from audit.shown_verdicts import CLAIM_ID, check, computed, in_markdown, in_plain, in_prose, wrong
from derivations.engine.display import ClaimView, VerdictTable, errata
from derivations.engine.finding import Finding, Findings, shown
from derivations.engine.registry import claims, run
from derivations.engine.text import folded, math_text, plain, table_cell

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def verdicts() -> dict[str, str]:
    return computed()


def test_every_surface_shows_the_computed_verdicts():
    assert not check()


# -- the readers catch what they must -------------------------------------------------------------------
def test_a_cell_split_by_an_unescaped_bar_is_caught(verdicts):
    """The table of main at 0d7c0d3: a '|' in a title split the row, and ch3.same_q showed "x)'"."""
    broken = ("| claim | eq. | what | verdict |\n|---|---|---|---|\n"
              "| `ch3.same_q` | 5 | 'we obtain the same q_theta(y|x)' | **ERRATUM** |\n"
              "| `ch3.same_p` | 6 | 'the same $p(y_j|x)$ as in label smoothing' | **holds under an assumption** |")
    found = wrong(in_markdown(broken, "planted"), verdicts)
    assert found == ["planted: table row: ch3.same_q shows \"x)'\", computed 'erratum'",
                     "planted: table row: ch3.same_p shows \"x)$ as in label smoothing'\", "
                     "computed 'holds under an assumption'"]
    escaped = broken.replace("q_theta(y|x)", table_cell("q_theta(y|x)")).replace("$p(y_j|x)$", table_cell("$p(y_j|x)$"))
    assert not wrong(in_markdown(escaped, "escaped"), verdicts)


def test_a_wrong_verdict_on_any_surface_is_caught(verdicts):
    view = repr(ClaimView(run("ch1.loss_approx_max"))).replace("· ERRATUM ·", "· holds ·")
    assert wrong(in_plain(view, "planted"), verdicts) == ["planted: view, line 1: ch1.loss_approx_max shows 'holds', "
                                                          "computed 'erratum'"]
    md = ClaimView(run("ch1.loss_approx_max"))._repr_markdown_().replace("ERRATUM</span>", "holds</span>")
    assert len(wrong(in_markdown(md, "planted"), verdicts)) == 1
    table = repr(VerdictTable([run("ch1.softmax")])).replace("holds", "holds under an assumption", 1)
    assert len(wrong(in_plain(table, "planted"), verdicts)) == 1
    listed = errata()._repr_markdown_().replace("ERRATUM</span>", "holds</span>", 1)
    assert len(wrong(in_markdown(listed, "planted"), verdicts)) == 1
    page = "| `ch3.same_q` | 5 | we obtain the same q | **holds** |\n1 claims: 1 holds, 0 holds under an assumption, 0 erratum"
    ch1 = [run(c) for c in claims(1)]
    assert all(p.endswith("not each claim once in order") for p in check(ch1 + ch1[:1])) and len(check(ch1 + ch1[:1])) == 6
    found = wrong(in_prose(page, "page"), verdicts)
    assert found[0] == "page: line 1: ch3.same_q shows 'holds', computed 'erratum'" and len(found) == 2, found
    assert found[1].startswith(f"page: line 2: '1 claims: 1 holds, 0 holds under an assumption, 0 erratum', "
                               f"computed '{len(verdicts)} claims: "), found


# -- the checks, folded ---------------------------------------------------------------------------------
def _render(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_a_claims_checks_are_folded_under_what_they_found():
    """A claim's view: its verdict, then what its derivation decided, the counterexample and the general form in the
    reading flow; its numeric checks one click away, under a summary that says what they found."""
    o = run("ch1.loss_others_zero")
    html = _render(ClaimView(o)._repr_markdown_())
    fold = re.search(r'<details class="checks">\s*<summary>(.*?)</summary>(.*?)</details>', html, re.S)
    assert fold and "open" not in html[:fold.start() + 30], "the checks are in a closed <details>"
    numeric = [f for f in o.evidence.findings if f.kind != "symbolic"]
    assert fold[1] == (f"How it was checked: a counterexample to the printed line; {len(numeric)} numeric checks, each "
                       "as the verdict requires")
    assert fold[2].count("<li>") == len(numeric) >= 3                   # rendered as a Markdown list, inside
    outside = html[:fold.start()] + html[fold.end():]
    assert "(numeric)" not in outside, "nothing of the numeric checks in the reading flow"
    order = [outside.index(s) for s in ("holds under an assumption", "Printed line", "Assumed:", "Corrected form",
                                        "Counterexample", "The general form")]
    assert order == sorted(order)
    assert "As printed" not in outside and o.claim.remark[:30] not in outside, "the page quotes and explains it"


def test_no_check_line_ticks_a_no():
    """A finding reads as a finding: no tick beside a "no", no "all ... hold" under an erratum."""
    for o in (run(c) for c in claims()):
        text = repr(ClaimView(o))
        assert not re.search(r"\[ok\][^\n]*: (no|yes)\b", text), text
        if o.verdict.value != "holds":
            assert "findings hold" not in text, text


def test_a_worked_example_shows_a_one_line_result_and_folds_its_findings():
    f = Findings("demo at $K = 3$", [Finding("numeric", r"$\epsilon(1-\epsilon) > 0$", observed="0.09"),
                                     shown("numeric", "an edge", "1", "not asserted here")], preamble=["$K = 3$"])
    html = _render(f._repr_markdown_())
    head, fold = html.split('<details class="findings">')
    assert "✔ 1 finding holds (numeric), 1 shown without assertion." in head
    assert "<li>" not in head and fold.count("<li>") == 2 and "$\\epsilon(1-\\epsilon) &gt; 0$" in fold
    assert repr(f).splitlines() == ["demo at K = 3", "  K = 3", "  [ok] ε(1-ε) > 0: 0.09 (numeric)",
                                    "  [shown] an edge: 1 (numeric)", "      not asserted here"]


def test_a_folds_summary_takes_no_math():
    with pytest.raises(ValueError, match="plain words"):
        folded("the value of $x$", "- a", "checks")


# -- the plain form, made from the Markdown source ------------------------------------------------------
@pytest.mark.parametrize("source, expected", [          # beyond the examples of derivations/engine/text.py
    (r"$\mathrm{LSE}(z) - \max_j z_j = \log(1 + t)$", "LSE(z) - maxⱼ zⱼ = log(1 + t)"),
    (r"$M = \|z\|_\infty$", "M = ‖z‖_∞"),
    (r"$z^{(i)}_1 - \frac{\epsilon}{2}\sum_{j>1} z^{(i)}_j$", "z^(i)₁ - ε/2 ∑_(j>1) z^(i)ⱼ"),
    (r"$\frac{\epsilon}{K-1}\Big(1 - \frac{\epsilon}{K-1}\Big)$", "ε/(K-1) (1 - ε/(K-1))"),
    (r"$\Pr(y \ne 1|x) = \epsilon$, for $\epsilon \in [0, 1]$", "Pr(y ≠ 1|x) = ε, for ε ∈ [0, 1]"),
    (r"**bold**, *em*, `code_x`, [a link](x.html), a\|b, 3 * 4 * 5, flip_labels", "bold, em, code_x, a link, a|b, "
                                                                                "3 * 4 * 5, flip_labels"),
    ("costs \\$5 and $x^2$", "costs $5 and x²"),
])
def test_plain_text_from_markdown_with_math(source, expected):
    assert plain(source) == expected


def test_every_reader_facing_text_has_a_plain_form_without_latex():
    """Titles, remarks, assumptions, finding statements: their plain form keeps no LaTeX (a macro the converter
    does not know is kept as written, and would show here)."""
    for c in claims():
        o = run(c)
        texts = [c.title, c.remark, c.assumption or ""] + [t for f in o.evidence.findings
                                                          for t in (f.statement, f.observed, f.bound, f.note)]
        for t in texts:
            p = plain(t)
            assert not re.search(r"\\[A-Za-z]+|\$", p.replace("\\$", "")), f"{c.id}: {t!r} -> {p!r}"
        assert not re.search(r"\\[A-Za-z]+", repr(ClaimView(o))), c.id


def test_math_text_is_deterministic_and_cached():
    assert math_text(r"\frac{a}{b}") is math_text(r"\frac{a}{b}")


# -- claims you can reach, verdicts you can see ----------------------------------------------------------------
def _rendered_outputs(nb: Path):
    import json

    from bs4 import BeautifulSoup

    for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            if "text/markdown" in output.get("data", {}):
                yield BeautifulSoup(_render("".join(output["data"]["text/markdown"])), "html.parser")


def _anchors(nb: Path) -> set[str]:
    return {a["name"] for soup in _rendered_outputs(nb) for a in soup.find_all("a", attrs={"name": True})}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_claim_in_a_table_links_to_its_place_in_its_chapter(nb):
    """In the overview's table and each chapter's, a claim's id is a link to the anchor its chapter's notebook
    gives the claim's view (JupyterLab and GitHub follow it; the book turns it into a link to its page)."""
    from derivations.chapters import CHAPTERS
    from derivations.engine.display import anchor

    seen = 0
    for soup in _rendered_outputs(nb):
        for td in soup.select("table td code"):
            if CLAIM_ID.fullmatch(td.get_text()):
                claim = td.get_text()
                link = td.find_parent("a")
                chapter = CHAPTERS[int(claim[2:claim.index(".")])]
                assert link is not None and link["href"] == f"{chapter.notebook}.ipynb#{anchor(claim)}", (claim, link)
                assert anchor(claim) in _anchors(ROOT / chapter.path), f"{claim}: no anchor in {chapter.notebook}"
                seen += 1
    assert seen >= len(claims(int(nb.stem[:2]) or None))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_verdict_shown_is_coloured_on_every_surface(nb):
    """Each verdict in a table, a view or the errata is a badge: its class for the book, an inline colour that
    JupyterLab keeps, and a coloured dot for GitHub, which keeps neither."""
    from derivations.engine.display import _COLOUR, _DOT, MARK
    from derivations.engine.registry import Verdict

    words = {MARK[v]: v for v in Verdict}
    badges = 0
    for soup in _rendered_outputs(nb):
        for mark in soup.select("span.verdict-mark"):
            text = " ".join(mark.get_text(" ").split()).split(maxsplit=1)
            if len(text) < 2 or text[0] not in _DOT.values() or text[1] not in words:
                continue                        # a coloured phrase of the chapter's summary ("are errata", "is undecided")
            v = words[text[1]]
            assert f"color:{_COLOUR[v]}" in mark.get("style", "") and text[0] == _DOT[v], mark
            badges += 1
        for cell in soup.select("td"):
            assert cell.get_text(" ").strip() not in words, "a verdict in a table without its badge"
    chapter = int(nb.stem[:2])
    assert badges >= (2 if chapter else 1) * len(claims(chapter or None))   # each claim's view and its table row
