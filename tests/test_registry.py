"""The claim registry: every claim is sound, and the verdict machinery can fail."""
import dataclasses

import numpy as np
import pytest

import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
from derivations.engine import note
from derivations.engine.checks import OTHERS_ZERO, against
from derivations.engine.derive import decide
from derivations.engine.finding import Finding
from derivations.engine.notation import HARD
from derivations.engine.reference import mp_log_sum_exp
from derivations.engine.registry import (
    Claim,
    Evidence,
    Verdict,
    check_claim,
    claims,
    evidence_of,
    get,
    problems_of,
    run,
    verdict_of,
)
from derivations.engine.symbolic import Logits, log_sum_exp
from derivations.library import numeric as num

ALL = claims()


@pytest.mark.parametrize("claim", ALL, ids=[c.id for c in ALL])
def test_claim_evidence_supports_its_verdict(claim):
    """The one soundness test: every claim's evidence supports its computed verdict, which is the stated one
    (the verdict itself is not restated here: the notebooks' stored outputs pin it)."""
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


def _claim(printed: str, stated: Verdict, corrected: str | None = None, assumption=None) -> Claim:
    """A throw-away claim about LSE(z), its formulas given as LaTeX (read like the note's): a derivation (the printed
    form minus LSE, for a general K) and the numeric check beside it, as a chapter's claim has them."""
    def check(f):
        x = Logits()
        exact = log_sum_exp(x)
        difference = f.printed.rhs(x, HARD) - exact
        decision = decide("test.tmp", difference,
                          assuming=assumption.apply(x, difference) if assumption else None,
                          corrected=f.corrected.rhs(x, HARD) - exact if f.corrected else None)
        numeric = against(lambda z, p: num.log_sum_exp(z), lambda z, p: mp_log_sum_exp(z), assumption=assumption)
        return evidence_of(decision, numeric(f))
    return Claim("test.tmp", 0, "test", 1, "tmp", printed, stated=stated, corrected=corrected,
                 assumption=assumption.name if assumption else None, check=check)


LSE = r"= \mathrm{LSE}(z)"
DOUBLED = r"= \frac{1}{2}\log\left(\sum_{j=1}^{K} \exp(2 z_{y_j})\right)"


def test_a_true_formula_is_judged_holds():
    o = run(_claim(LSE, Verdict.HOLDS))
    assert o.verdict is Verdict.HOLDS and o.ok


def test_a_wrong_formula_is_judged_erratum_with_a_counterexample():
    o = run(_claim(DOUBLED, Verdict.ERRATUM, corrected=LSE))
    assert o.verdict is Verdict.ERRATUM and o.ok
    z = np.array(o.evidence.counterexample.z)
    assert not np.isclose(np.log(np.exp(2 * z).sum()) / 2, num.log_sum_exp(z), rtol=1e-3)


def test_a_wrong_correction_makes_the_claim_unsound():
    o = run(_claim(DOUBLED, Verdict.ERRATUM, corrected=DOUBLED))
    assert not o.ok and any("corrected" in p for p in o.problems)


def test_a_formula_true_under_an_assumption_is_judged_so():
    under = r"= \log\left(\exp(z_{y_1}) + K - 1\right)"
    o = run(_claim(under, Verdict.HOLDS_UNDER, corrected=LSE, assumption=OTHERS_ZERO))
    assert o.verdict is Verdict.HOLDS_UNDER and o.ok


def test_a_verdict_other_than_the_stated_one_is_a_failure():
    o = run(_claim(LSE, Verdict.ERRATUM))
    assert not o.ok and "computed verdict holds differs from the stated verdict erratum" in o.problems


def test_editing_the_displayed_formula_alone_changes_the_outcome():
    """The check evaluates the LaTeX a reader sees: an edit of the text, nothing else, is caught."""
    for c in (get("ch1.loss_approx_max"), get("ch2.conventions"), get("ch1.lse_bounds")):
        edited = {"ch1.loss_approx_max": ("corrected", r"\max_j", r"\min_j"),
                  "ch2.conventions": ("printed", r"\frac{K-1}{K}", r"\frac{K}{K-1}"),
                  "ch1.lse_bounds": ("printed", r"\log K", r"\log (K-1)")}[c.id]
        field, old, new = edited
        assert old in getattr(c, field)
        changed = dataclasses.replace(c, **{field: getattr(c, field).replace(old, new)})
        o = check_claim(changed)
        assert not o.ok, (c.id, field, new)


def test_every_printed_formula_of_the_note_is_its_transcription():
    for c in ALL:
        if c.source == "note":
            assert note.contains(c.printed), c.id
            for latex in c.inputs.values():
                assert note.contains(latex), (c.id, latex)


def test_typed_fields_refuse_free_strings():
    with pytest.raises(ValueError, match="Finding.kind"):
        Finding("numerical", "x", True)
    with pytest.raises(ValueError, match="Claim.source"):
        Claim("t", 0, "t", 1, "", "", check=lambda: None, stated=Verdict.HOLDS, source="paper")
    with pytest.raises(ValueError, match="stated must be a Verdict"):
        Claim("t", 0, "t", 1, "", "", check=lambda: None, stated="holds")


def test_verdict_rules():
    assert verdict_of(Evidence(holds=True)) is Verdict.HOLDS
    assert verdict_of(Evidence(holds=False, holds_under=False)) is Verdict.ERRATUM
    c = Claim("t", 0, "t", 1, "", "", check=lambda: None, stated=Verdict.HOLDS, assumption="a")
    assert "holds in general, yet the claim names an assumption" in problems_of(c, Evidence(holds=True))
    assert problems_of(c, Evidence(holds=True, findings=[Finding("numeric", "x", False)]))[0] == "numeric check failed: x"


def test_a_catalogue_that_fails_to_import_raises_at_every_read(monkeypatch):
    """The registry is never silently partial: a named catalogue that does not import stays named."""
    from derivations.engine import registry

    monkeypatch.setattr(registry, "_CATALOGUES", ["derivations.no_such_catalogue"])
    for _ in range(2):
        with pytest.raises(ModuleNotFoundError, match="no_such_catalogue"):
            claims()
    with pytest.raises(ModuleNotFoundError):
        get("ch1.softmax")


def _sum_simplify_calls(monkeypatch) -> list:
    """SymPy's simplification of sums (``sum_simplify``), recorded, and failing as it did on chapter 3's edited
    noise at the optimum (``StopIteration`` after seconds; SymPy 1.14)."""
    import importlib

    simplify_module = importlib.import_module("sympy.simplify.simplify")   # its name is also the function's
    calls: list = []

    def failing(s, **kwargs):
        calls.append(s)
        raise StopIteration

    monkeypatch.setattr(simplify_module, "sum_simplify", failing)
    return calls


def test_a_long_difference_holding_a_sum_is_decided_and_shown_reduced_around_its_sums(monkeypatch):
    """Issue 36: a difference too long to show as it is, holding a general-K sum, is still decided (wrong, for a
    general K and each concrete one), and reduced for the reader with each sum as one unknown: SymPy's sum
    simplification is not tried (it would have failed here, and the difference been shown as an ellipsis)."""
    import sympy as sp

    calls = _sum_simplify_calls(monkeypatch)
    x, eps = Logits(), sp.Symbol("epsilon", positive=True)
    total = x.sum(lambda j: sp.exp(x.z(j)))
    long = total * (sp.expand((eps + 1) ** 6) - (eps + 1) ** 6 + 1)        # = total, written long
    assert len(sp.latex(long)) > 160
    part = decide("test.tmp", long).parts[0]
    assert not part.zero and part.where == {"general K": False, "K=2": False, "K=3": False}
    assert part.value == total and not calls
    assert part.finding().statement == (r"printed line: $\sum_{j=1}^{K} e^{{z}_{j}}$, not $0$ (general $K$ and "
                                        r"$K = 2, 3$), so it is wrong")
    assert decide("test.tmp", long - total).parts[0].zero           # and a long one that vanishes, vanishes


def test_a_short_difference_holding_sums_is_simplified_whole(monkeypatch):
    """A difference short enough to show is simplified sums and all, as the stored verdicts' differences are (its
    sums combined into one)."""
    import sympy as sp

    x, eps = Logits(), sp.Symbol("epsilon", positive=True)
    short = x.sum(lambda j: (1 + eps) * x.z(j)) - x.sum(lambda j: x.z(j))
    assert decide("test.tmp", short).parts[0].value == eps * x.sum(lambda j: x.z(j))
    calls = _sum_simplify_calls(monkeypatch)
    assert decide("test.tmp", short + 1).parts[0].value == short + 1 and calls    # tried; on failure shown as it is
