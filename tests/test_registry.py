"""The claim registry: every claim is sound, and the verdict machinery can fail."""
import numpy as np
import pytest
import sympy as sp

from derivations import numeric as num
from derivations.checks import OTHERS_ZERO, equation
from derivations.registry import Claim, Evidence, Fact, Verdict, claims, get, problems_of, run, verdict_of
from derivations.symbolic import log_sum_exp

ALL = claims()


@pytest.mark.parametrize("claim", ALL, ids=[c.id for c in ALL])
def test_claim_evidence_supports_its_verdict(claim):
    outcome = run(claim)
    assert outcome.ok, outcome.problems


def test_claims_are_numbered_in_note_order_without_gaps():
    by_chapter = {}
    for c in ALL:
        by_chapter.setdefault(c.chapter, []).append(c)
    for chapter, cs in by_chapter.items():
        assert [c.order for c in cs] == list(range(1, len(cs) + 1)), chapter
        # the note's own equations come first, the companion's additions after
        sources = [c.source for c in cs]
        assert sources == sorted(sources, key=lambda s: s != "note"), chapter


def test_every_chapter_one_claim_is_from_the_note_or_marked_added():
    assert {c.source for c in ALL} <= {"note", "added"}
    assert len({c.id for c in ALL}) == len(ALL)


def test_get_unknown_id_lists_known_ids():
    with pytest.raises(KeyError, match="ch1.loss_lse"):
        get("nope")


def _lse_reference(z):
    return num.log_sum_exp(z)


def _claim(printed, stated, **kw):
    return Claim("test.tmp", 0, "test", 1, "tmp", "-", check=equation(printed, log_sum_exp, _lse_reference, key="t", **kw),
                 stated=stated, assumption=kw.get("assumption").name if kw.get("assumption") else None,
                 corrected="c" if kw.get("corrected") else None)


def test_a_true_formula_is_judged_holds():
    o = run(_claim(lambda x: log_sum_exp(x), Verdict.HOLDS))
    assert o.verdict is Verdict.HOLDS and o.ok


def test_a_wrong_formula_is_judged_erratum_with_a_counterexample():
    wrong = lambda x: sp.log(x.sum(lambda j: sp.exp(2 * x.z(j)))) / 2          # noqa: E731
    o = run(_claim(wrong, Verdict.ERRATUM, corrected=lambda x: log_sum_exp(x)))
    assert o.verdict is Verdict.ERRATUM and o.ok
    z = np.array(o.evidence.counterexample.z)
    assert not np.isclose(np.log(np.exp(2 * z).sum()) / 2, num.log_sum_exp(z), rtol=1e-3)


def test_a_wrong_correction_makes_the_claim_unsound():
    wrong = lambda x: sp.log(x.sum(lambda j: sp.exp(2 * x.z(j)))) / 2          # noqa: E731
    o = run(_claim(wrong, Verdict.ERRATUM, corrected=wrong))
    assert not o.ok and any("corrected" in p for p in o.problems)


def test_a_formula_true_under_an_assumption_is_judged_so():
    under = lambda x: sp.log(sp.exp(x.z(1)) + x.K - 1)                          # noqa: E731
    o = run(_claim(under, Verdict.HOLDS_UNDER, assumption=OTHERS_ZERO, corrected=lambda x: log_sum_exp(x)))
    assert o.verdict is Verdict.HOLDS_UNDER and o.ok


def test_a_verdict_other_than_the_stated_one_is_a_failure():
    o = run(_claim(lambda x: log_sum_exp(x), Verdict.ERRATUM))
    assert not o.ok and "computed verdict holds differs from the stated verdict erratum" in o.problems


def test_typed_fields_refuse_free_strings():
    with pytest.raises(ValueError, match="Fact.kind"):
        Fact("numerical", "x", True)
    with pytest.raises(ValueError, match="Claim.source"):
        Claim("t", 0, "t", 1, "", "", check=lambda: None, stated=Verdict.HOLDS, source="paper")
    with pytest.raises(ValueError, match="stated must be a Verdict"):
        Claim("t", 0, "t", 1, "", "", check=lambda: None, stated="holds")


def test_verdict_rules():
    assert verdict_of(Evidence(holds=True)) is Verdict.HOLDS
    assert verdict_of(Evidence(holds=False, holds_under=False)) is Verdict.ERRATUM
    c = Claim("t", 0, "t", 1, "", "", check=lambda: None, stated=Verdict.HOLDS, assumption="a")
    assert "holds in general, yet the claim names an assumption" in problems_of(c, Evidence(holds=True))
    assert problems_of(c, Evidence(holds=True, facts=[Fact("numeric", "x", False)]))[0] == "numeric check failed: x"
