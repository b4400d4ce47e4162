"""CONTRIBUTING.md's recipe for a new chapter, followed word for word in a copy of the repository.

Every file the recipe names is written from the code block under its name, the notebook from its cell blocks;
then what the recipe promises is checked in the copy: the chapter is discovered, its claim computed by
``python -m derivations``, its notebook executed by the runner and compared by nbval (strict), its tests run.
Nothing else in the copy is edited, so a step the recipe forgets (a list to extend somewhere) fails here.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(?P<lang>\w+) (?P<what>[^\n]*)\n(?P<body>.*?)^```", re.S | re.M)


def recipe() -> tuple[dict[str, str], list[tuple[str, str, list[str]]]]:
    """The files (path -> text) and the notebook cells (kind, source, tags) of CONTRIBUTING.md, in order."""
    files, cells = {}, []
    for m in BLOCK.finditer((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")):
        what = m["what"].split()
        if what[0].startswith("file="):
            files[what[0][len("file="):]] = m["body"]
        elif what[0] == "cell":
            cells.append(("markdown" if m["lang"] == "markdown" else "code", m["body"].rstrip("\n"), what[1:]))
    return files, cells


def notebook_of(cells) -> nbformat.NotebookNode:
    """The notebook of the recipe's cells (a ``python cell parameters`` block is the cell tagged ``parameters``)."""
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in cells:
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(source, metadata={"tags": tags} if tags else {}))
    return nb


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The repository's package, notebooks, runner and chapter tests, copied; then the recipe's files."""
    dest = tmp_path_factory.mktemp("contributing")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("derivations", "notebooks"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    (dest / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "run_notebooks.py", dest / "tools")
    (dest / "tests").mkdir()
    for test in ("test_notebook_shape.py", "test_parameters.py"):
        shutil.copy(ROOT / "tests" / test, dest / "tests")
    files, cells = recipe()
    for path, text in files.items():
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_text(text, encoding="utf-8")
    assert "derivations/chapters/ch6/__init__.py" in files and cells, "the recipe lost its blocks"
    nbformat.write(notebook_of(cells), dest / "notebooks" / "06_demo.ipynb")
    return dest


def run(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    env.pop("DERIVATIONS_RESULTS", None)                       # the copy's claims are not this session's
    env["DERIVATIONS_FIGURES"] = str(copy / "figures")
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=300)


def test_the_recipe_adds_a_chapter_in_one_folder(copy):
    # one process (SymPy imported once): the chapter discovered in the copy's package, then its report
    found = run(copy, "-c", "import runpy, sys, derivations, derivations.chapters as c; print(derivations.__file__); "
                            "print(sorted(c.CHAPTERS)); print([x.id for x in c.claims(6)]); "
                            "sys.argv = ['derivations', '--chapter', '6', '--jobs', '1']; "
                            "runpy.run_module('derivations', run_name='__main__', alter_sys=True)")
    assert found.returncode == 0, found.stdout + found.stderr
    where, numbers, ids, *report = found.stdout.splitlines()
    assert where.startswith(str(copy)), f"the copy's package was not the one imported: {where}"
    assert numbers.endswith("5, 6]") and ids == "['ch6.true_class']", found.stdout
    report = "\n".join(report)
    assert "ch6.true_class" in report and "holds" in report, report
    executed = run(copy, "tools/run_notebooks.py", "--chapters", "6")
    assert executed.returncode == 0 and "ok" in executed.stdout, executed.stdout + executed.stderr
    tests = run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval",
                "--nbval-current-env", "-k", "notebook or defaults or every_parameter", "tests/test_ch6.py",
                "tests/test_notebook_shape.py", "tests/test_parameters.py", "notebooks/06_demo.ipynb")
    assert tests.returncode == 0, tests.stdout[-3000:]
