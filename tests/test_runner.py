"""The runner (derivations/runner.py, which `make run` reaches through tools/run_notebooks.py): deterministic output,
atomic on failure, kernels started side by side without a race, progress as notebooks run.

Each notebook run starts a Jupyter kernel, so the kernels are few: the real command
line runs once, over every notebook its tests read (:func:`first_run`), all of them at
once; the other tests call the runner's ``main`` in this process.
"""
import platform
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from derivations import runner
from tools.run_notebooks import main as runner_main

RUNNER = Path(__file__).resolve().parents[1] / "tools" / "run_notebooks.py"


def write(path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.0"}
    nbformat.write(nb, path)
    return path


#: A line of the runner's: a notebook, its seconds, and ok or where it failed.
LINE = re.compile(r"^(?P<path>\S+\.ipynb) +\d+\.\d s  (?P<result>ok|FAILED at .*)$")
#: A line of progress within a notebook.
PROGRESS = re.compile(r"^  (?P<name>\S+\.ipynb): (code cell (?P<cell>\d+) of (?P<cells>\d+)|starting its kernel), \d+ s$")


def run(*args):
    return subprocess.run([sys.executable, str(RUNNER), *map(str, args)], capture_output=True, text=True, timeout=180)


#: Notebooks the first run starts at the same moment as the three it judges: eight kernels in all.
SIDE_BY_SIDE = 5


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """The command line over three notebooks, one that runs, one that raises, one whose findings fail, and
    :data:`SIDE_BY_SIDE` more, given first, that print their number and sleep past the progress interval: eight
    kernels started at once (``--jobs 8``), as the runner starts them (:func:`derivations.runner.kernel_config`). Returns the folder, the
    completed process and the failing notebooks' bytes before the run."""
    folder = tmp_path_factory.mktemp("first-run")
    flag = "open({!r}, 'w').close()\n"       # each of the three says it has reached its end (a file)
    good = write(folder / "good.ipynb", [new_markdown_cell("# ok"),
                                         new_code_cell(flag.format(str(folder / "good.done")) + "print(6 * 7)")])
    bad = write(folder / "bad.ipynb", [new_code_cell("x = 1"), new_markdown_cell("text"),
                                       new_code_cell(flag.format(str(folder / "bad.done")) + "raise RuntimeError('boom')")])
    check = write(folder / "check.ipynb", [new_code_cell(
        "from derivations.engine.finding import Finding, Findings, confirm\n" + flag.format(str(folder / "check.done")) +
        "confirm(Findings('demo', [Finding('numeric', 'one is even', False, observed='1 % 2 = 1', bound='exact')]))")])
    # the sleepers wait for the three to reach their ends, then 3 s more (whatever the machine's load): so the three
    # finish first, and the sleepers are seen at their last cell by the progress lines
    wait = ("import pathlib, time\n"
            f"done = [pathlib.Path({str(folder)!r}) / n for n in ('good.done', 'bad.done', 'check.done')]\n"
            "t = time.monotonic()\n"
            "while not all(p.exists() for p in done) and time.monotonic() - t < 150:\n"
            "    time.sleep(0.2)\n"
            "time.sleep(3)")
    more = [write(folder / f"more{i}.ipynb", [new_code_cell("import time"), new_code_cell(f"print({i})"),
                                              new_code_cell(wait)]) for i in range(SIDE_BY_SIDE)]
    before = {p.name: p.read_bytes() for p in (bad, check)}
    return folder, run(*more, good, bad, check, "--jobs", "8", "--progress", "1"), before


def test_eight_kernels_started_at_once_all_run(first_run):
    """Kernels started at the same moment never race for a TCP port: each talks over files of its own (IPC),
    and each of the eight ran (two fail by design, at their cells)."""
    folder, r, _ = first_run
    assert "ZMQError" not in r.stdout + r.stderr and "Kernel died" not in r.stdout + r.stderr, r.stdout + r.stderr
    done = {Path(m["path"]).name: m["result"] for m in map(LINE.match, r.stdout.splitlines()) if m}
    for i in range(SIDE_BY_SIDE):
        assert done[f"more{i}.ipynb"] == "ok", r.stdout
        assert nbformat.read(folder / f"more{i}.ipynb", as_version=4).cells[1].outputs[0]["text"] == f"{i}\n"
    if runner.os.name == "posix":
        config = runner.kernel_config().KernelManager
        assert config.transport == "ipc" and Path(config.connection_file).is_absolute()


def test_progress_within_a_notebook_and_notebooks_as_they_finish(first_run):
    """A notebook that runs longer than --progress says which cell it is at, indented under the runner's lines;
    each notebook's line comes as it finishes, not in the order given."""
    folder, r, _ = first_run
    lines = r.stdout.splitlines()
    # every line is the runner's, progress, or the indented detail of a failure
    assert all(LINE.match(ln) or PROGRESS.match(ln) or ln.startswith("      ") for ln in lines), r.stdout
    asleep = [m for m in map(PROGRESS.match, lines) if m and m["name"].startswith("more") and m["cell"]]
    assert any(m["cell"] == m["cells"] == "3" for m in asleep), r.stdout
    done = [m["path"] for m in map(LINE.match, lines) if m]
    # good, bad and check, given last, finish before the five that sleep
    assert {Path(n).name for n in done[:3]} == {"good.ipynb", "bad.ipynb", "check.ipynb"}, done


def test_good_and_failing_notebooks(first_run):
    folder, r, before = first_run
    good, bad = folder / "good.ipynb", folder / "bad.ipynb"
    assert r.returncode == 1
    lines = {Path(m["path"]).name: m[0] for m in map(LINE.match, r.stdout.splitlines()) if m}
    assert len(lines) == 3 + SIDE_BY_SIDE and lines["good.ipynb"].endswith("ok")
    assert "FAILED at cell 2" in lines["bad.ipynb"] and "RuntimeError: boom" in lines["bad.ipynb"]
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


def test_parameters_override_into_out_dir(tmp_path, capsys):
    """The reader's values replace those of the one parameters cell (comments kept), into a folder emptied first."""
    nb = write(tmp_path / "p.ipynb", [new_code_cell("# values\nK = 10   # classes\nSEED = 0", metadata={"tags": ["parameters"]}),
                                      new_code_cell("print(K, SEED)")])
    before = nb.read_bytes()
    out = tmp_path / "runs" / "K=7"
    for stale in (out / "html" / "old.html", out / "figures" / "old.png", out / "old.ipynb"):   # an earlier run's
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_text("stale")
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
