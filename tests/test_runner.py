"""tools/run_notebooks.py: deterministic output, and atomic on failure."""
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

RUNNER = Path(__file__).resolve().parents[1] / "tools" / "run_notebooks.py"


def write(path, cells):
    nb = new_notebook(cells=cells)
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.0"}
    nbformat.write(nb, path)
    return path


def run(*paths):
    return subprocess.run([sys.executable, str(RUNNER), *map(str, paths)], capture_output=True, text=True, timeout=180)


def test_good_and_failing_notebooks(tmp_path):
    good = write(tmp_path / "good.ipynb", [new_markdown_cell("# ok"), new_code_cell("print(6 * 7)")])
    bad = write(tmp_path / "bad.ipynb", [new_code_cell("x = 1"), new_markdown_cell("text"),
                                         new_code_cell("raise RuntimeError('boom')")])
    before = bad.read_bytes()
    r = run(good, bad)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[0].endswith("ok")
    assert "bad.ipynb" in lines[1] and "FAILED at cell 2" in lines[1] and "RuntimeError: boom" in lines[1]
    assert bad.read_bytes() == before                     # left byte-for-byte untouched
    assert not list(tmp_path.glob("*.tmp"))                # no temporary left behind
    nb = nbformat.read(good, as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "42\n"
    assert nb.metadata["language_info"] == {"name": "python"}   # no machine-dependent version
    assert all("execution" not in c.metadata for c in nb.cells)  # no timing
    first = good.read_bytes()
    assert run(good).returncode == 0 and good.read_bytes() == first   # rerun: byte-identical
