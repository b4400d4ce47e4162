"""A notebook run the Jupyter way (a kernel executing a copy, as JupyterLab or nbconvert would) with the reader's own
values: it writes no tracked file (its figures go to build/runs/<values>/figures, derivations.engine.figures), and a
bad value stops it with one line, the parameter, its range and what to type, not a traceback."""
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from derivations.chapters import CHAPTERS
from derivations.engine import figures, parameters
from derivations.runner import notebook_client, set_parameters

ROOT = Path(__file__).resolve().parents[1]


def tracked_changes() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.slow                      # a notebook run in a kernel
def test_other_values_in_jupyter_write_no_tracked_file(tmp_path):
    chapter = CHAPTERS[1]
    values = {"K": 37, "SEED": 2 ** 31 + 5}                  # a folder no other test or run uses
    folder = ROOT / "build" / "runs" / parameters.run_folder_name(values) / "figures"
    existed = folder.parent.exists()
    before = tracked_changes()
    nb = nbformat.read(ROOT / chapter.path, as_version=4)
    assert set_parameters(nb, values) == ["K", "SEED"]
    bad = nbformat.v4.new_code_cell("check(1, K=1, SEED=0)", metadata={"tags": ["raises-exception"]})
    nb.cells.append(bad)                                     # then a value out of range, typed by hand
    copy = tmp_path / Path(chapter.path).name
    nbformat.write(nb, copy)
    try:                                                     # as in a reader's Jupyter: FIGURES as committed, None
        notebook_client(nb, 600, tmp_path).execute()
        assert tracked_changes() == before, "running the notebook with other values changed a tracked file"
        written = sorted(p.name for p in folder.glob("*.png"))
        assert written and all(p.startswith("ch1_") for p in written), written
        (error,) = [o for o in nb.cells[-1].outputs if o.output_type == "error"]
        assert error.ename == "ParameterError"
        assert error.traceback == [f"ParameterError: {error.evalue}"], "one line, no traceback"
        assert error.evalue.startswith("K must be an integer in [2, 100000] for chapter 1; got 1. In this notebook's "
                                       "parameters cell (the first code cell) type a value in that range, e.g. K = 10")
        assert "\x1b[" not in error.evalue and "make" not in error.evalue
    finally:
        shutil.rmtree(folder.parent if not existed else folder, ignore_errors=True)


def test_the_committed_figures_take_only_the_defaults():
    """Even pointed at the committed figures/ (as `make run` points it), a notebook whose values are not its chapter's
    defaults writes into build/runs/<values>/figures; asked for nothing (a notebook run by hand), never figures/."""
    committed = figures.committed_figures()
    assert CHAPTERS.check(2, K=10, EPS=0.1, SEED=0, figures=committed).figures == committed   # the defaults: as asked
    assert CHAPTERS.check(2, K=37, EPS=0.1, SEED=0, figures=committed).figures == \
        ROOT / "build" / "runs" / "K=37" / "figures"
    assert CHAPTERS.check(2, K=10, EPS=0.1, SEED=0).figures == ROOT / "build" / "runs" / "defaults" / "figures"
    assert CHAPTERS.check(2, K=37, EPS=0.1, SEED=0, figures="elsewhere").figures == Path("elsewhere")
    assert os.path.commonpath([CHAPTERS.check(1, K=37, SEED=0).figures, ROOT / "build"]) == str(ROOT / "build")
