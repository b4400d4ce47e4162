"""Mathematics is typeset wherever a reader reads it (issue 22): no ASCII math, and no math written as code.

The detector is :mod:`audit.prose_math`; it reads the Markdown cells and the stored ``text/markdown`` outputs of
every notebook, the texts of every claim of the registry, and the regime descriptions. The first tests plant the
fragments the issue found on the book's pages and check that each is caught, and that typeset mathematics, code
that names Python, and the note's own words in a quotation are not.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from audit.prose_math import claim_texts, code_span_is_code, fragments, notebook_texts, regime_texts
from derivations.engine.registry import Claim, Evidence, Verdict

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: What the issue found on the book's pages: each must be caught.
PLANTED = [
    "Holds once `H_j(p, q)` is read as the per-class term.",
    "Chapter 2 reuses the symbol with a sum over examples instead (sum_{l=1}^N H_i).",
    "the matrix diag(q) - q q^T, positive semi-definite",
    "the printed form is off by eps(1-eps) m, without bound",
    "LSE - max = log(1 + t), increasing in t",
    "The approximation with M = ||z||_inf",
    "sum_i [LSE(z^(i)) - (1-eps) z^(i)<em>1 - eps/2 sum</em>(j>1) z^(i)_j]",   # Markdown ate the underscores
    "the conditional probability q_theta(y|x)",
    "a false-alarm probability of 1e-06 per finding",
    "the frameworks' α in [0, 1] gives 0.91",
    "for every K - 1 wrong classes",
    "> since there are K-1 possibilities, each gets eps/(K-1)",                 # a quotation the note does not hold
]

#: Typeset mathematics, code that names Python, commands, and the note's own words: none may be flagged.
CLEAN = [
    r"the matrix $\mathrm{diag}(q) - q q^\top$ and $$\sum_{l=1}^N H_i$$",
    "computed by `smoothed_cross_entropy(logits, labels, eps)` and `numeric.loss_rtol`",
    "run `make run K=1000 EPS=0.05` or `python -m derivations --chapter 3`",
    "see `derivations/engine/regimes.py` and `book/index.md`",
    "`eps_to_label_smoothing` raises `ValueError: eps must lie in [0, 0.9] = [0, (K-1)/K] for K=10`",
    "> Now, since there are K-1 possibilities of where $y \\neq 1$ (as there are K classes), "
    "$\\Pr\\left(y = \\text{incorrect class}|x\\right) = \\frac{\\epsilon}{K - 1}$",
    "*Soft Targets v/s Label Flipping* (M. K. R. Pillai, 2019), the Kronecker delta",
]


@pytest.mark.parametrize("text", PLANTED)
def test_the_detector_finds_each_planted_fragment(text):
    assert fragments(text), f"not caught: {text!r}"


@pytest.mark.parametrize("text", CLEAN)
def test_the_detector_leaves_typeset_math_code_and_quotations_alone(text):
    assert fragments(text) == []


def test_a_code_span_is_code_only_when_it_names_python():
    assert code_span_is_code("flip_labels(y, K, eps, rng)") and code_span_is_code('"flip_fresh"')
    for span in ("H_j(p, q)", "eps(1-eps)", "z_1 - z_j", "q q^T", "sum_j p_j", "N x K"):
        assert not code_span_is_code(span), span


def test_a_planted_markdown_cell_and_output_fail_the_notebook_scan(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / "01_hard_labels.ipynb", as_version=4)
    assert not [f for _, t in notebook_texts(ROOT / "notebooks" / "01_hard_labels.ipynb") for f in fragments(t)]
    planted = copy.deepcopy(nb)
    planted.cells.append(new_markdown_cell("The step needs exp(z_j) = 1 for every j != 1."))
    cell = new_code_cell('show("ch1.loss_lse")')
    cell.outputs = [new_output("display_data", data={"text/markdown": "Checks: sum_j q_j - 1 = 0 (general K)",
                                                     "text/plain": "view"})]
    planted.cells.append(cell)
    path = tmp_path / "planted.ipynb"
    nbformat.write(planted, path)
    where = {w for w, t in notebook_texts(path) if fragments(t)}
    assert where == {f"planted.ipynb cell {len(nb.cells)} (Markdown)", f"planted.ipynb cell {len(nb.cells) + 1} (output)"}


def test_a_planted_remark_fails_the_registry_scan():
    c = Claim("test.planted", 0, "test", 1, "The approximation with M = ||z||_inf", r"= 1 - \epsilon",
              check=lambda f: Evidence(holds=True), stated=Verdict.HOLDS, assumption="every z_j = 0 for j != 1",
              remark=r"Off by $\epsilon(1-\epsilon) m$; written eps(1-eps) m it would be ASCII.")
    assert {w for w, t in claim_texts([c]) if fragments(t)} == {"test.planted title", "test.planted remark",
                                                                "test.planted assumption"}


# -- what a reader reads ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_ascii_math_in_a_notebook(path):
    found = [f"{where}: {f}" for where, text in notebook_texts(path) for f in fragments(text)]
    assert not found, f"{len(found)} fragment(s) of mathematics written as ASCII or code:\n" + "\n".join(found[:40])


def test_no_ascii_math_in_the_claims():
    found = [f"{where}: {f}" for where, text in claim_texts() for f in fragments(text)]
    assert not found, f"{len(found)} fragment(s):\n" + "\n".join(found)


def test_no_ascii_math_in_the_regime_descriptions():
    found = [f"{where}: {f}" for where, text in regime_texts() for f in fragments(text)]
    assert not found, "\n".join(found)


def test_no_claim_title_holds_a_bar():
    """A title stands in the verdict tables, where a ``|`` (even inside ``$...$``) splits the row's cells."""
    from derivations.engine.registry import claims

    assert [c.id for c in claims() if "|" in c.title] == []
