"""tools/run_notebooks.py: deterministic output, and atomic on failure.

Each notebook run starts a Jupyter kernel, so the kernels are few: the real command
line runs once, over every notebook its tests read (:func:`first_run`); the other
tests call the runner's ``main`` in this process.
"""
import platform
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools.run_notebooks import main as runner_main

RUNNER = Path(__file__).resolve().parents[1] / "tools" / "run_notebooks.py"


def write(path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.0"}
    nbformat.write(nb, path)
    return path


def run(*args):
    return subprocess.run([sys.executable, str(RUNNER), *map(str, args)], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """The command line over three notebooks: one that runs, one that raises, one whose findings fail.
    Returns the folder, the completed process and the failing notebooks' bytes before the run."""
    folder = tmp_path_factory.mktemp("first-run")
    good = write(folder / "good.ipynb", [new_markdown_cell("# ok"), new_code_cell("print(6 * 7)")])
    bad = write(folder / "bad.ipynb", [new_code_cell("x = 1"), new_markdown_cell("text"),
                                       new_code_cell("raise RuntimeError('boom')")])
    check = write(folder / "check.ipynb", [new_code_cell(
        "from derivations.engine.finding import Finding, Findings, confirm\n"
        "confirm(Findings('demo', [Finding('numeric', 'one is even', False, observed='1 % 2 = 1', bound='exact')]))")])
    before = {p.name: p.read_bytes() for p in (bad, check)}
    return folder, run(good, bad, check, "--jobs", "3"), before          # the three kernels side by side


def test_good_and_failing_notebooks(first_run):
    folder, r, before = first_run
    good, bad = folder / "good.ipynb", folder / "bad.ipynb"
    assert r.returncode == 1
    lines = [ln for ln in r.stdout.splitlines() if not ln.startswith(" ")]   # not the failing check's details
    assert len(lines) == 3 and lines[0].endswith("ok")
    assert "bad.ipynb" in lines[1] and "FAILED at cell 2" in lines[1] and "RuntimeError: boom" in lines[1]
    assert bad.read_bytes() == before["bad.ipynb"]        # left byte-for-byte untouched
    assert not list(folder.glob("*.tmp"))                  # no temporary left behind
    nb = nbformat.read(good, as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "42\n"
    # as JupyterLab saves it (tests/test_lab.py): the kernel's language_info, and ipykernel's kernelspec
    assert nb.metadata["language_info"]["version"] == platform.python_version()
    assert nb.metadata["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert all("execution" not in c.metadata for c in nb.cells)  # no timing
    first = good.read_bytes()
    assert runner_main([str(good)]) == 0 and good.read_bytes() == first   # rerun: byte-identical


def refused(argv, capsys) -> str:
    """Run the runner's ``main`` in this process (validation starts no kernel, so no subprocess is needed;
    the command line itself is exercised by the tests above): it must exit 2 before running anything."""
    assert runner_main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "no notebook was run" in err
    return err


def test_parameters_are_validated_before_anything_runs(tmp_path, capsys):
    nb = write(tmp_path / "p.ipynb", [new_code_cell("K = 10", metadata={"tags": ["parameters"]}), new_code_cell("print(K)")])
    before = nb.read_bytes()
    for bad, message in [("K=1", "K must be an integer >= 2; got '1'"), ("EPS=1.5", "EPS must be a number in [0, 1]"),
                         ("EPS=abc", "EPS must be a number in [0, 1]; got 'abc'"), ("Q=3", "unknown parameter 'Q'")]:
        assert message in refused([nb, "--set", bad, "--out", tmp_path / "out"], capsys), bad
    assert not (tmp_path / "out").exists() and nb.read_bytes() == before


def test_parameters_override_into_out_dir(tmp_path, monkeypatch, capsys):
    """The reader's values replace those of the one parameters cell (comments kept), into a folder emptied first."""
    nb = write(tmp_path / "p.ipynb", [new_code_cell("# values\nK = 10   # classes\nSEED = 0", metadata={"tags": ["parameters"]}),
                                      new_code_cell("print(K, SEED)")])
    before = nb.read_bytes()
    out = tmp_path / "runs" / "K=7"
    for stale in (out / "html" / "old.html", out / "figures" / "old.png", out / "old.ipynb"):   # an earlier run's
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_text("stale")
    monkeypatch.setenv("DERIVATIONS_FIGURES", str(tmp_path / "figures"))   # main points it into out/: restored after
    assert runner_main([str(nb), "--set", "K=7", "--set", "EPS=0.1", "--out", str(out)]) == 0, capsys.readouterr()
    assert nb.read_bytes() == before
    ran = nbformat.read(out / "p.ipynb", as_version=4)
    assert len(ran.cells) == 2 and ran.cells[0].metadata["tags"] == ["parameters"]
    assert ran.cells[0].source == "# values\nK = 7    # classes\nSEED = 0"
    assert ran.cells[1].outputs[0]["text"] == "7 0\n"
    assert sorted(p.name for p in out.rglob("*")) == ["p.ipynb"]            # nothing of the earlier run is left


def test_values_above_a_chapter_maximum_are_refused_before_anything_runs(tmp_path, capsys):
    err = refused(["--set", "K=5000", "--out", tmp_path / "out"], capsys)
    assert "K must be an integer in [2, 1000] for chapter 4" in err and "CHAPTERS=1,2,3" in err
    assert not (tmp_path / "out").exists()
    assert "CHAPTERS must list chapter numbers" in refused(["--chapters", "9"], capsys)


def test_a_failing_check_is_named_with_its_numbers(first_run):
    folder, r, before = first_run
    assert r.returncode == 1
    line = r.stdout.split("check.ipynb", 1)[1]
    assert "FAILED at cell 0 (code cell 1: 'from derivations.engine.finding import" in line
    assert "AssertionError: demo: 1 finding(s) do not hold:" in line and "[FAILED] one is even" in line
    assert (folder / "check.ipynb").read_bytes() == before["check.ipynb"]
