"""Mutation tests: every claim's check catches some plausible wrong variant of its formulas.

A check that accepts every mutant of its formula does not read it (a defect). For
each claim the mutants of :func:`audit.mutation.mutants` are run in order
until one is killed (the outcome turns unsound, or the verdict changes); the
full table, survivors included, is ``python -m audit.mutation --all``.
Then unit tests of the generator on hand-written formulas.
"""
import os
from pathlib import Path

import pytest

import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
from audit.mutation import KINDS, TIMEOUT, Status, kill, latex, mutants, report, variants
from derivations.engine.finding import Finding
from derivations.engine.notation import Node, ParseError, read, read_text
from derivations.engine.registry import Claim, Evidence, Verdict, claims, run

ROOT = Path(__file__).resolve().parents[1]
ALL = claims()


@pytest.fixture(scope="module")
def first_kills():
    """Every claim's mutants up to the first kill, the claims shared among the cores: computed with the claims
    when the session starts (conftest.py), read here."""
    return {r.claim.id: r for r in report(ALL, timeout=TIMEOUT, jobs=os.cpu_count() or 1)}


@pytest.mark.slow                      # every claim's mutants
@pytest.mark.parametrize("claim", ALL, ids=[c.id for c in ALL])
def test_some_mutant_of_the_claim_is_killed(claim, first_kills):
    assert run(claim).ok, f"{claim.id}: the normal run is unsound, so killing mutants would prove nothing"
    r = first_kills[claim.id]
    if r.count(Status.KILLED) == 0:
        tried = [f"  {t.status.value}: [{t.mutant.kind}] {t.mutant.description}  -- {t.reason}" for t in r.trials]
        pytest.fail(f"{claim.id}: its check kills none of its {r.generated} mutants"
                    + (":\n" + "\n".join(tried) if tried else " (none could be generated)"))


# -- the generator -------------------------------------------------------------------------------------
def _of(latex_text: str, kind: str) -> list:
    """The parts of every mutant of this kind."""
    return [r.parts for k, _, r in variants(read(latex_text)) if k == kind]


def test_a_subtraction_becomes_an_addition():
    assert read(r"= 1 + \epsilon").parts in _of(r"= 1 - \epsilon", "sign")
    kind, change, first = variants(read(r"= 1 - \epsilon"))[0]
    assert (kind, change) == ("sign", r"1 - \epsilon -> 1 + \epsilon")
    assert first.parts == read(r"= 1 + \epsilon").parts


def test_numbers_and_constant_factors_are_coefficients():
    found = _of(r"= (1 - \epsilon) \log(q_{\theta}(y_{1}|x))", "coefficient")
    assert read(r"= (2 - \epsilon) \log(q_{\theta}(y_{1}|x))").parts in found
    assert read(r"= \log(q_{\theta}(y_{1}|x))").parts in found                  # the weight dropped
    assert read(r"= \left(\frac{\epsilon}{K-1}\right)^{3}").parts in _of(r"= \left(\frac{\epsilon}{K-1}\right)^{2}",
                                                                            "coefficient")


def test_k_against_k_minus_1():
    assert _of(r"= \frac{\epsilon}{K-1}", "K vs K-1") == [read(r"= \frac{\epsilon}{K}").parts]
    assert _of(r"= \log K", "K vs K-1") == [read(r"= \log(K - 1)").parts]


def test_max_against_min_and_the_infinity_norm():
    assert _of(r"= \max_j z_j", "max vs min") == [read(r"= \min_j z_j").parts, read(r"= \|z_{y}\|_{\infty}").parts]
    assert _of(r"= \min_j z_j", "max vs min") == [read(r"= \max_j z_j").parts]
    assert _of(r"= \|z_{y}\|_{\infty}", "max vs min") == [read(r"= \max_j z_j").parts]


def test_each_term_of_a_sum_can_be_dropped():
    assert _of(r"= a + b - c", "dropped term") == [read(r"= b - c").parts, read(r"= a - c").parts,
                                                   read(r"= a + b").parts]
    assert read(r"= \sum_{j=2}^{K} z_j").parts in _of(r"= \sum_{j=1}^{K} z_j", "dropped term")


def test_indices_are_swapped_within_their_scope():
    found = _of(r"= z_{y_1} - z_{y_2}", "index")
    assert read(r"= z_{y_2} - z_{y_2}").parts in found and read(r"= z_{y_1} - z_{y_1}").parts in found
    # j is bound by the sum: it may replace nothing outside it, but 1 may replace it inside
    found = _of(r"= z_{y_1} + \sum_{j=2}^{K} z_{y_j}", "index")
    assert read(r"= z_{y_1} + \sum_{j=2}^{K} z_{y_1}").parts in found
    assert read(r"= z_{y_j} + \sum_{j=2}^{K} z_{y_j}").parts not in found


def test_relations_change_strictness_and_direction_and_a_chain_stays_one_chain():
    found = _of(r"a < b \le c", "relation")
    assert [[r.op for r in p[0].rhs.args] for p in found] == [["<=", "<="], [">", "<="], ["<", "<"], ["<", ">="]]
    for _, _, r in variants(read(r"a < b + d \le c")):       # a mutation of the shared b is made on both sides
        links = r.parts[0].rhs.args
        assert links[0].rhs == links[1].lhs
    assert read(r"= \begin{cases} 1, & \text{if } j \neq 1\\ 0, & \text{otherwise} \end{cases}").parts in _of(
        r"= \begin{cases} 1, & \text{if } j = 1\\ 0, & \text{otherwise} \end{cases}", "relation")
    assert _of(r"a = b", "relation") == [] and _of(r"\approx b", "relation") == []


def test_names_a_reader_cannot_change_are_left_alone():
    for _, _, r in variants(read(r"\mathcal{L}_0 = \sum_{j=1}^{K} H_{j}(p, q_{\theta})")):
        rel = r.parts[0]
        assert rel.lhs in (Node("calL", (Node("num", (0,)),)), Node("neg", (Node("calL", (Node("num", (0,)),)),)))
        s = rel.rhs.args[0] if rel.rhs.kind == "neg" else rel.rhs
        assert s.kind == "sum" and s.args[0] == "j" and s.args[2] == Node("var", ("K",)) and s.args[4].kind == "H"


def test_mutants_are_distinct_deterministic_and_of_the_listed_kinds():
    for claim in ALL:
        ms = mutants(claim)
        assert [m.description for m in ms] == [m.description for m in mutants(claim)], claim.id
        assert {m.kind for m in ms} <= set(KINDS), claim.id
        assert len({m.description for m in ms}) == len(ms), claim.id
        f = claim.formulas()
        for m in ms:                                           # only the named formula changes
            assert m.where in {"printed", "corrected"} | {f"input:{n}" for n in f.inputs}, m.where
            assert (m.formulas.printed is f.printed) == (m.where != "printed"), m.description
            assert (m.formulas.corrected is f.corrected) == (m.where != "corrected"), m.description
            assert m.formulas.inputs.keys() == f.inputs.keys()


def _misread(part) -> bool:
    """A Greek letter read as a raw command name (``\\mathcal{L}_\\epsilon``: a one-token subscript), which
    the renderer writes back as ``{\\epsilon}`` and the reader then reads as ``epsilon``."""
    return "var('\\\\" in repr(part)


def test_the_rendered_latex_reads_back_to_the_same_formula():
    checked = 0
    for claim in ALL:
        f = claim.formulas()
        for reading in [f.printed, f.corrected, *f.inputs.values()]:
            for part in (reading.parts if reading is not None else []):
                if not _misread(part):
                    assert read(latex(part)).parts == [part], (claim.id, latex(part))
                    checked += 1
    assert checked >= len(ALL) // 2


def test_a_mutant_reading_carries_its_own_latex():
    _, _, r = variants(read(r"= 1 - \epsilon"))[0]
    assert read(r.latex).parts == r.parts


def test_prose_without_mathematics_has_no_printed_mutants():
    c = Claim("test.prose", 0, "test", 1, "", "flipping is equivalent to smoothing", check=lambda f: None,
              stated=Verdict.HOLDS, corrected=r"= 1 - \epsilon")
    assert read_text(c.printed).parts == []
    assert {m.where for m in mutants(c)} == {"corrected"}


# -- killing ----------------------------------------------------------------------------------------------
def _claim(check, printed=r"= 1 - \epsilon"):
    return Claim("test.mutation", 0, "test", 1, "", printed, check=check, stated=Verdict.HOLDS)


def test_a_check_that_ignores_its_formula_lets_every_mutant_survive():
    c = _claim(lambda f: Evidence(holds=True, findings=[Finding("symbolic", "trust me", True)]))
    assert {kill(c, m)[0] for m in mutants(c)} == {Status.SURVIVED}


def test_a_check_that_cannot_evaluate_a_mutant_does_not_kill_it():
    def check(f):
        if f.printed.parts != read(r"= 1 - \epsilon").parts:
            raise ParseError("cannot read this")
        return Evidence(holds=True, findings=[Finding("symbolic", "read", True)])
    c = _claim(check)
    status, why = kill(c, mutants(c)[0])
    assert status is Status.INVALID and "ParseError" in why


def test_a_check_that_runs_out_of_time_does_not_kill():
    import time

    def check(f):
        if f.printed.parts != read(r"= 1 - \epsilon").parts:
            time.sleep(5)
        return Evidence(holds=True, findings=[Finding("symbolic", "slow", True)])
    c = _claim(check)
    status, why = kill(c, mutants(c)[0], timeout=0.2)
    assert status is Status.INVALID and "timed out" in why


def test_an_unsound_outcome_kills():
    def check(f):
        ok = f.printed.parts == read(r"= 1 - \epsilon").parts
        return Evidence(holds=True, findings=[Finding("numeric", "printed is 1 - eps", ok)])
    c = _claim(check)
    status, why = kill(c, mutants(c)[0])
    assert status is Status.KILLED and why == "numeric check failed: printed is 1 - eps"


@pytest.mark.slow                      # two processes
def test_the_mutation_command_reaches_the_chapters_claims():
    """``make mutants`` runs ``python -m audit.mutation``, which imports the chapters; an empty selection says so
    (exit 2) instead of printing an empty table; the package's own command points to the audit."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "audit.mutation", "--claim", "ch1.one_hot", "--jobs", "1"],
                        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert ok.returncode == 0 and "ch1.one_hot" in ok.stdout, ok.stdout + ok.stderr
    empty = subprocess.run([sys.executable, "-m", "audit.mutation", "--chapter", "9"], capture_output=True,
                           text=True, timeout=300, cwd=ROOT)
    assert empty.returncode == 2 and "no claims to mutate in chapter 9" in empty.stderr
    moved = subprocess.run([sys.executable, "-m", "derivations", "mutants"], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
    assert moved.returncode != 0 and "python -m audit.mutation" in moved.stderr
