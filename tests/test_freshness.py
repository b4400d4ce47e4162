"""Committed figures are exactly what the notebooks generate now; each claim was computed once.

nbval (strict) already fails when a notebook's stored outputs are stale. This
test, which conftest.py orders after the notebooks, compares the figures those
nbval runs wrote (into ``build/runs/defaults/figures``, which conftest.py empties
when the session starts) with the committed ``figures/``.
"""
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Where the notebooks, run as committed (their FIGURES is None), write their figures.
FRESH = ROOT / "build" / "runs" / "defaults" / "figures"
#: How long to wait for notebooks running on another test worker (pytest-xdist) before judging.
WAIT_SECONDS = 900


@pytest.fixture(scope="module", autouse=True)
def notebooks_done():
    """Every notebook cell collected in this session has run, on whichever test worker (conftest.py logs
    them): wait for them before judging the figures."""
    folder = Path(os.environ["DERIVATIONS_SESSION_RESULTS"])

    def cells(which):
        path = folder / f"cells.{which}"
        return set(path.read_text().split("\n")) - {""} if path.exists() else set()

    deadline = time.monotonic() + WAIT_SECONDS
    while not cells("expected") <= cells("ran"):
        if time.monotonic() > deadline:
            pytest.fail(f"notebook cells not run after {WAIT_SECONDS} s: {sorted(cells('expected') - cells('ran'))[:3]}")
        time.sleep(0.2)


def test_committed_figures_match_regenerated():
    fresh = {p.name: p.read_bytes() for p in FRESH.glob("*.png")}
    if not fresh:
        pytest.skip("no notebook ran in this session (run the whole suite: make test)")
    committed = {p.name: p.read_bytes() for p in (ROOT / "figures").glob("*.png")}
    missing = sorted(set(fresh) - set(committed))
    stale = sorted(n for n in set(fresh) & set(committed) if fresh[n] != committed[n])
    assert not missing, f"figures generated but not committed: {missing} (run make run and commit)"
    assert not stale, f"committed figures differ from what the notebooks generate: {stale} (run make run)"


def test_no_orphan_figures():
    fresh = {p.name for p in FRESH.glob("*.png")}
    if not fresh:
        pytest.skip("no notebook ran in this session")
    chapters = {n.split("_")[0] for n in fresh}          # figures are named chN_...; judge chapters that ran
    orphans = sorted(p.name for p in (ROOT / "figures").glob("*.png")
                     if p.name.split("_")[0] in chapters and p.name not in fresh)
    assert not orphans, f"committed figures no notebook generates: {orphans}"


def test_each_claim_was_computed_at_most_once_this_session():
    """The session's shared results (conftest.py) reached every process: no claim was computed twice."""
    from derivations.engine import results

    assert os.environ.get(results.ENV) == os.environ["DERIVATIONS_SESSION_RESULTS"], \
        "the shared-results variable was changed during the session: later kernels computed everything again"
    log = results.computed()
    twice = sorted({c for c in log if log.count(c) > 1})
    assert not twice, f"computed more than once in this session: {twice}"
