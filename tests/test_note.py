"""The transcription of the note: every quotation, in the package and in the notebooks, comes from it."""
import json
import re
from pathlib import Path

import pytest

import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
from derivations.engine import note
from derivations.engine.registry import claims

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_the_transcription_is_the_seed_note_unedited():
    seed = Path(__file__).resolve().parents[2] / "shared" / "seed" / "soft-targets-vs-label-flipping.md"
    if not seed.exists():
        pytest.skip(f"the seed note is not beside the project ({seed})")
    assert note.TEXT == seed.read_text(encoding="utf-8")


def test_the_note_displays_eight_seven_and_three_equations():
    assert [len(note.displayed_all(c)) for c in (1, 2, 3)] == [8, 7, 3]


def test_quote_refuses_what_the_note_does_not_say():
    with pytest.raises(ValueError, match="not in the note"):
        note.quote("flipping the labels with $\\epsilon$ probability")


def _blockquotes(nb: Path):
    for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith(">"):
                    yield i, line[1:]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_quotation_in_the_notebooks_is_in_the_transcription(nb):
    missing = []
    for cell, line in _blockquotes(nb):
        for fragment in re.split(r"…|\.\.\.", line):              # an ellipsis marks an omission
            if fragment.strip() and not note.contains(fragment.strip()):
                missing.append((cell, fragment.strip()))
    assert not missing, missing


def test_every_claim_about_the_note_quotes_the_transcription():
    for c in claims():
        if c.source == "note":
            assert note.contains(c.printed), c.id
