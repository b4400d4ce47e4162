"""The *undecided* verdict (issue 33, item 2): a statistical claim that the evidence neither confirms nor refutes at
its stated false-alarm probability is undecided, never an erratum, and is shown as such on every surface that shows
a verdict (the notebook's views and tables, the overview's sentence, the corrected note's box, the report and its
JSON: tests/test_report.py), as audit/shown_verdicts.py reads them back."""
from __future__ import annotations

import re

import pytest

from audit.shown_verdicts import check
from book.corrected_note import box
from derivations.engine.display import ClaimView, ErrataView, Summary, badge
from derivations.engine.finding import Finding, Findings, confirm, stop_at_failed_finding, tally
from derivations.engine.registry import Claim, Counterexample, Evidence, Verdict, problems_of, run, verdict_of
from derivations.engine.report import as_rows, format_table
from derivations.engine.stats import interval_finding, side

ID = "ch99.smoothing_lowers_ece"              # a claim id as the pages write it (audit/shown_verdicts.CLAIM_ID)
RULE = "paired bootstrap over the test images; z-test at false-alarm $10^{-6}$"


def _finding(lo: float, hi: float) -> Finding:
    """The synthetic statistical finding: ECE with smoothing minus ECE with hard labels is below 0, decided by its
    interval ``[lo, hi]`` at the stated false-alarm probability."""
    return interval_finding("test ECE: smoothing minus hard labels", lo, hi, "<",
                  observed=f"interval $[{lo:+.3f}, {hi:+.3f}]$", bound=RULE)


def _check(lo: float, hi: float):
    def check(formulas) -> Evidence:
        f = _finding(lo, hi)
        refuted = f.failed
        cx = Counterexample("test ECE: smoothing minus hard labels", printed=0.0, correct=(lo + hi) / 2, K=10,
                            parameters={"seeds": "0-4"}) if refuted else None
        return Evidence(holds=f.ok, findings=[Finding("numeric", "trained to convergence", True), f],
                        counterexample=cx)
    return check


def _claim(lo: float, hi: float, stated: Verdict = Verdict.UNDECIDED) -> Claim:
    return Claim(ID, 99, "Real data (a test)", 1, "Smoothing lowers the test calibration error",
                 r"Label smoothing lowers the test calibration error, $E_{\alpha} < E_{0}$", stated=stated,
                 source="added", check=_check(lo, hi))


STRADDLES, INSIDE, OUTSIDE = (-0.02, 0.01), (-0.05, -0.01), (0.01, 0.04)


# -- the rule -------------------------------------------------------------------------------------------
def test_an_interval_that_straddles_the_claim_leaves_it_undecided():
    o = run(_claim(*STRADDLES))
    assert o.verdict is Verdict.UNDECIDED and o.ok, o.problems
    f = o.evidence.findings[-1]
    assert f.undecided and not f.ok and not f.failed and f.mark == "undecided"


def test_an_interval_inside_the_claimed_side_holds():
    o = run(_claim(*INSIDE, stated=Verdict.HOLDS))
    assert o.verdict is Verdict.HOLDS and o.ok, o.problems


def test_an_interval_outside_the_claimed_side_is_an_erratum():
    o = run(_claim(*OUTSIDE, stated=Verdict.ERRATUM))
    assert o.verdict is Verdict.ERRATUM
    assert "statistical check failed: test ECE: smoothing minus hard labels" in o.problems


def test_side_of_an_interval():
    assert [side(*STRADDLES, "<"), side(*INSIDE, "<"), side(*OUTSIDE, "<")] == ["undecided", "confirmed", "refuted"]
    assert [side(*STRADDLES, ">"), side(*INSIDE, ">"), side(*OUTSIDE, ">")] == ["undecided", "refuted", "confirmed"]
    assert side(0.0, 0.1, ">=") == "confirmed" and side(0.0, 0.1, ">") == "undecided"       # the end is in it
    assert side(0.2, 0.3, "<=", at=0.25) == "undecided" and side(0.2, 0.3, "<=", at=0.3) == "confirmed"
    with pytest.raises(ValueError, match="one-sided"):
        side(0.0, 1.0, "=")
    with pytest.raises(ValueError, match="lo <= hi"):
        side(1.0, 0.0, "<")


def test_an_undecided_claim_that_another_finding_refutes_is_an_erratum():
    open_ = _finding(*STRADDLES)
    assert verdict_of(Evidence(holds=False, findings=[open_])) is Verdict.UNDECIDED
    refuting = Finding("numeric", "trained to convergence", False)
    assert verdict_of(Evidence(holds=False, findings=[open_, refuting])) is Verdict.ERRATUM
    assert verdict_of(Evidence(holds=False, findings=[open_, _finding(*OUTSIDE)])) is Verdict.ERRATUM
    cx = Counterexample("ECE", 0.0, 0.01, K=10)
    assert verdict_of(Evidence(holds=False, findings=[open_], counterexample=cx)) is Verdict.ERRATUM
    shown = Finding("statistical", "shown only", False, asserted=False, undecided=True)
    assert verdict_of(Evidence(holds=False, findings=[shown])) is Verdict.ERRATUM        # not asserted: not evidence


def test_only_a_statistical_finding_may_be_undecided():
    for kind in ("symbolic", "numeric"):
        with pytest.raises(ValueError, match="only a statistical finding may be undecided"):
            Finding(kind, "x", False, undecided=True)
    with pytest.raises(ValueError, match="not confirmed"):
        Finding("statistical", "x", True, undecided=True)
    # a derivation decides: its evidence is never undecided, whatever a statistical check beside it found
    assert verdict_of(Evidence(holds=False, findings=[_finding(*STRADDLES)]), derived=True) is Verdict.ERRATUM


def test_undecided_is_never_shown_as_an_erratum_nor_owes_a_correction():
    """A statistical claim the referee expected to hold and the evidence cannot decide: the computed verdict is
    undecided, a failure of the claim (it differs from the stated one), but not an erratum, and no problem asks for
    a counterexample or a corrected form."""
    o = run(_claim(*STRADDLES, stated=Verdict.HOLDS))
    assert o.verdict is Verdict.UNDECIDED
    assert o.problems == ["computed verdict undecided differs from the stated verdict holds"]
    assert not any("erratum" in p or "check failed" in p for p in o.problems)


def test_holds_with_an_undecided_check_is_unsound():
    c = Claim("test.sloppy", 99, "test", 1, "", "x", stated=Verdict.HOLDS,
              check=lambda f: Evidence(holds=True, findings=[_finding(*STRADDLES)]))
    assert problems_of(c, c.check(None)) == ["holds, yet a statistical check is undecided: test ECE: smoothing "
                                             "minus hard labels"]


def test_an_undecided_finding_is_not_a_failure_of_a_worked_example_or_a_mutant():
    found = Findings("at your values", [Finding("numeric", "a", True), _finding(*STRADDLES)])
    assert confirm(found) is found and found.undecided == [found[1]] and not found.failed
    assert "[undecided] test ECE" in repr(found) and "○ **undecided**" in found._repr_markdown_()
    assert tally(found) == "1 of 2 findings undecided at the stated false-alarm probability (statistical); 1 holds"
    with stop_at_failed_finding():                   # a mutant's check stops at a failed finding, not at this one
        _finding(*STRADDLES)


def test_a_mutant_that_leaves_a_claim_undecided_is_killed():
    from audit.mutation import Status, kill, mutants
    from derivations.engine.notation import read

    def check(f):
        right = f.printed.parts == read(r"= 1 - \epsilon").parts
        return Evidence(holds=right, findings=[_finding(*INSIDE) if right else _finding(*STRADDLES)])
    c = Claim("test.mutation_undecided", 0, "test", 1, "", r"= 1 - \epsilon", check=check, stated=Verdict.HOLDS)
    status, why = kill(c, mutants(c)[0])
    assert status is Status.KILLED and why.startswith("verdict holds -> undecided"), why


# -- every surface --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def outcome():
    o = run(_claim(*STRADDLES))
    assert o.verdict is Verdict.UNDECIDED and o.ok
    return o


def _no_erratum(text: str) -> None:
    assert not re.search(r"erratum|errata|🔴", text, re.I), text


def test_every_surface_shows_it_undecided(outcome):
    """The verdict table, the view and the errata (Markdown and text), the report, the corrected note's box, as
    audit/shown_verdicts.py reads them back; and none of them says erratum."""
    assert not check([run("ch1.softmax"), outcome])
    view = ClaimView(outcome)
    assert badge(Verdict.UNDECIDED) == ('<span class="verdict-mark undecided" style="color:#3e5f7d;font-weight:bold">'
                                        '<span class="verdict-dot">🔵</span> undecided</span>')
    assert badge(Verdict.UNDECIDED) in view._repr_markdown_()
    assert "Undecided at the stated false-alarm probability: Test ECE: smoothing minus hard labels: interval" in \
        repr(view)
    assert "As corrected" not in repr(view) and "Counterexample" not in repr(view)
    note = box(outcome, quoted=True)
    assert note.startswith("````{container} verdict undecided\n") and "**Undecided** at the stated false-alarm " \
                                                                      "probability" in note
    table = format_table(as_rows([(outcome, 0.0)]))
    assert "statistical tests at stated false-alarm: undecided" in table
    listed = ErrataView([run("ch1.softmax"), outcome])
    assert "Undecided: Test ECE" in repr(listed) and "Corrected" not in repr(listed)
    for text in (view._repr_markdown_(), repr(view), note, table, listed._repr_markdown_(), repr(listed)):
        _no_erratum(text)


def test_show_and_the_chapters_verdicts_show_a_registered_undecided_claim():
    """The notebook's own calls: ``show(id)`` (a claim decided by an experiment) and ``chapter_verdicts(N)``."""
    from derivations.engine.display import chapter_verdicts, show
    from derivations.engine.registry import REGISTRY

    REGISTRY[ID] = _claim(*STRADDLES)
    try:
        view = show(ID)
        assert view.verdict is Verdict.UNDECIDED and f"{ID} · undecided · " in repr(view)
        table = chapter_verdicts(99, {ID: view})
        assert table.rows()[0][::3] == (ID, "undecided")
    finally:
        del REGISTRY[ID]


def test_the_pdf_reader_finds_an_undecided_note_box():
    from audit.shown_verdicts import _note_boxes

    text = f"undecided — Smoothing lowers the test calibration error (ch99 +1 · {ID})\nUndecided at ..."
    assert _note_boxes(text) == [("undecided", ID)]


def test_the_summary_shows_it_undecided(outcome):
    one = Summary([outcome])
    assert repr(one) == f"Verdicts: The 1 result of this chapter is undecided ({ID})."
    two = Summary([outcome, run(_claim(*INSIDE, stated=Verdict.HOLDS))])
    assert repr(two) == f"Verdicts: Of the 2 results of this chapter, 1 holds and 1 is undecided ({ID})."
    assert '<span class="verdict-mark undecided" style="color:#3e5f7d;font-weight:bold">is undecided</span>' \
           in two._repr_markdown_()


def test_each_verdict_has_its_own_dot_mark_and_colour():
    from derivations.engine import display

    assert len(set(display._DOT.values())) == len(display._DOT) == len(Verdict)
    assert set(display.MARK) == set(display._CSS) == set(display._COLOUR) == set(Verdict)
