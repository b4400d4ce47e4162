"""The derivation on the page is the code that decides: edit a step, and the page and the verdict change.

A reader edits a visible derivation cell of chapter 1 and runs the notebook again (here with nbclient, as Jupyter
would): the page shows the new step, and a wrong step fails its claim's cell. Saved, the same edit is what
``python -m derivations`` reads: the registry runs the notebook's cells, not a copy of them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
from derivations.engine import cells, registry
from derivations.runner import notebook_client

ROOT = Path(__file__).resolve().parents[1]
CH1 = ROOT / "notebooks" / "01_hard_labels.ipynb"
#: The step that takes the logarithm of the softmax apart, as chapter 1's cell for ch1.loss_lse writes it.
STEP = "lse_form = expand_log(only_true, force=True)"
#: A wrong step in its place: one logit too many.
WRONG = "lse_form = expand_log(only_true, force=True) + z[2]"
#: A harmless addition to the cell of ch1.loss_true_class: one more line shown.
SHOWN = 'steps(loss, only_true, name=r"\\mathcal{L}")'
MORE = 'steps(loss, only_true, simplify(only_true), name=r"\\mathcal{L}")'


def _cell_with(nb, text: str) -> int:
    (i,) = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and text in c.source]
    return i


def _text(cell) -> str:
    return "\n".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") + "\n".join(o.get("traceback", []))
                     for o in cell.outputs)


pytestmark = pytest.mark.slow             # a notebook run in a kernel; the notebooks copied


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """Chapter 1's notebook with one step shown more and one step made wrong, run again in a fresh kernel."""
    nb = nbformat.read(CH1, as_version=4)
    stored = {STEP: _text(nb.cells[_cell_with(nb, STEP)]), SHOWN: _text(nb.cells[_cell_with(nb, SHOWN)])}
    nb.cells[_cell_with(nb, STEP)].source = nb.cells[_cell_with(nb, STEP)].source.replace(STEP, WRONG)
    nb.cells[_cell_with(nb, SHOWN)].source = nb.cells[_cell_with(nb, SHOWN)].source.replace(SHOWN, MORE)
    folder = tmp_path_factory.mktemp("edited")
    notebook_client(nb, 600, folder, allow_errors=True).execute()
    return nb, stored


def test_a_step_shown_more_is_on_the_page(edited):
    nb, stored = edited
    now = _text(nb.cells[_cell_with(nb, MORE)])
    assert now != stored[SHOWN]
    assert now.count("= ") == stored[SHOWN].count("= ") + 1, now        # one line more in the derivation
    assert "ch1.loss_true_class · holds" in now


def test_a_wrong_step_fails_its_claim_on_the_page(edited):
    nb, stored = edited
    now = _text(nb.cells[_cell_with(nb, WRONG)])
    assert "ch1.loss_lse · holds" in stored[STEP] and now != stored[STEP]
    assert "AssertionError" in now and "ch1.loss_lse: the evidence does not support the verdict" in now, now
    assert "computed verdict erratum differs from the stated verdict holds" in now


def test_the_registry_reads_the_saved_notebook(tmp_path, monkeypatch):
    """The same wrong step, saved: the registry's outcome for the claim turns unsound."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    nb = nbformat.read(tmp_path / "notebooks" / CH1.name, as_version=4)
    i = _cell_with(nb, STEP)
    nb.cells[i].source = nb.cells[i].source.replace(STEP, WRONG)
    nbformat.write(nb, tmp_path / "notebooks" / CH1.name)
    monkeypatch.setattr(cells, "notebooks_folder", lambda: tmp_path / "notebooks")
    cells.run.cache_clear()
    try:
        outcome = registry.check_claim(registry.get("ch1.loss_lse"))
        assert outcome.verdict.value == "erratum" and not outcome.ok, outcome.problems
        assert registry.check_claim(registry.get("ch1.loss_definition")).ok       # the other claims stand
    finally:
        cells.run.cache_clear()
