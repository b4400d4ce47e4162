"""CONTRIBUTING.md's two recipes, a claim added to chapter 1 and a new chapter, followed word for word in a copy.

Every file the recipes name is written (or appended to) from the code block under its name, and their notebook cells
built from their cell blocks (inserted into chapter 1's notebook before the heading a block names, or making chapter
6's); then what the recipes promise is checked in the copy: the claims are computed by ``python -m derivations``
(decided by the derivation cells read from the copy's notebooks), the notebooks executed by the runner and compared by
nbval (strict), the new claim's mutants caught, the chapter's tests run. Nothing else in the copy is edited, so a step
a recipe forgets (a list to extend somewhere) fails here. The first recipe also keeps its promise of six things.
"""
from __future__ import annotations

import ast
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
CH1 = "notebooks/01_hard_labels.ipynb"


def recipe() -> tuple[dict, dict, list, list]:
    """The recipes' blocks: files to write (path -> text), files to append to, the cells to insert into chapter 1's
    notebook (kind, source, tags, before) and chapter 6's cells (kind, source, tags), in order."""
    files, appends, inserted, cells = {}, {}, [], []
    for m in BLOCK.finditer((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")):
        what = m["what"].split()
        kind = "markdown" if m["lang"] == "markdown" else "code"
        if what[0].startswith("file="):
            files[what[0][len("file="):]] = m["body"]
        elif what[0].startswith("append="):
            appends[what[0][len("append="):]] = m["body"]
        elif what[0] == "cell":
            before = next((w for w in m["what"].split(" before=")[1:]), None)
            tags = [w for w in m["what"].split(" before=")[0].split()[1:]]
            if before is not None:
                inserted.append((kind, m["body"].rstrip("\n"), tags, before.strip()))
            else:
                cells.append((kind, m["body"].rstrip("\n"), tags))
    return files, appends, inserted, cells


def _cell(kind: str, source: str, tags: list[str]):
    new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    return new(source, metadata={"tags": tags} if tags else {})


def notebook_of(cells) -> nbformat.NotebookNode:
    """The notebook of the recipe's cells (a ``python cell parameters`` block is the cell tagged ``parameters``)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell(*c) for c in cells]
    return nb


def insert_before(nb: nbformat.NotebookNode, cells) -> None:
    """Insert each ``(kind, source, tags, heading)`` before the Markdown cell that starts with ``heading``."""
    for kind, source, tags, heading in cells:
        at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith(heading))
        nb.cells.insert(at, _cell(kind, source, tags))


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """The repository's package, notebooks, runner and chapter tests, copied; then the recipes' blocks."""
    dest = tmp_path_factory.mktemp("contributing")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("derivations", "notebooks"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest)                 # a checkout: the runner runs in place, into figures/
    (dest / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "run_notebooks.py", dest / "tools")
    (dest / "audit").mkdir()
    shutil.copy(ROOT / "audit" / "mutation.py", dest / "audit")
    (dest / "tests").mkdir()
    for test in ("test_notebook_shape.py", "test_parameters.py"):
        shutil.copy(ROOT / "tests" / test, dest / "tests")
    files, appends, inserted, cells = recipe()
    assert "derivations/chapters/ch6/__init__.py" in files and cells and appends and inserted, "a recipe lost its blocks"
    for path, text in files.items():
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_text(text, encoding="utf-8")
    for path, text in appends.items():
        with (dest / path).open("a", encoding="utf-8") as f:
            f.write("\n\n" + text)
    nb = nbformat.read(dest / CH1, as_version=4)
    insert_before(nb, inserted)
    nbformat.write(nb, dest / CH1)
    nbformat.write(notebook_of(cells), dest / "notebooks" / "06_demo.ipynb")
    return dest


def run(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    env.pop("DERIVATIONS_RESULTS", None)                       # the copy's claims are not this session's
    return subprocess.run([sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=600)


def test_adding_a_claim_takes_six_things():
    """The first recipe uses six things of the project, as CONTRIBUTING.md lists them: the entry
    (``register(Claim(...))``), ``Verdict``, the cell's tag, ``as_printed``, ``verdict`` and a numeric check. The
    notation cell's symbols and SymPy's names are the chapter's, not the recipe's."""
    _, appends, inserted, _ = recipe()
    entry = ast.parse(appends["derivations/chapters/ch1/claims.py"])
    cells = [ast.parse(source) for kind, source, _, _ in inserted if kind == "code"]
    names = {n.id for tree in [entry, *cells] for n in ast.walk(tree) if isinstance(n, ast.Name)}
    project = {"register": "the entry", "Claim": "the entry", "Verdict": "Verdict", "as_printed": "as_printed",
               "as_corrected": "as_corrected", "verdict": "verdict", "steps": "steps",
               **{f: "a numeric check" for f in ("against", "chain_holds", "near_max", "components_against")}}
    things = {project[n] for n in names if n in project} | {f"the tag {t}" for _, _, tags, _ in inserted for t in tags}
    assert things == {"the entry", "Verdict", "as_printed", "verdict", "a numeric check", "the tag derivation"}, things


@pytest.mark.slow                       # in a copy of the repository
def test_the_first_recipe_adds_a_claim_to_chapter_1(copy):
    report = run(copy, "-m", "derivations", "--claim", "ch1.loss_positive")
    assert report.returncode == 0, report.stdout + report.stderr
    assert "ch1.loss_positive · holds · The hard-label loss is positive" in report.stdout, report.stdout
    mutants = run(copy, "-m", "audit.mutation", "--claim", "ch1.loss_positive", "--jobs", "1",
                  "--timeout", "120")
    assert mutants.returncode == 0 and "killed" in mutants.stdout, mutants.stdout + mutants.stderr
    executed = run(copy, "tools/run_notebooks.py", CH1)
    assert executed.returncode == 0 and "ok" in executed.stdout, executed.stdout + executed.stderr
    shown = "".join(o.get("data", {}).get("text/plain", "") for c in nbformat.read(copy / CH1, as_version=4).cells
                    if c.cell_type == "code" for o in c.outputs)
    assert "ch1.loss_positive · holds" in shown
    tests = run(copy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval",
                "--nbval-current-env", CH1)
    assert tests.returncode == 0, tests.stdout[-3000:]


#: The shape test that runs a chapter's derivation cells
DECIDED = "test_each_claim_is_decided_in_one_derivation_cell_of_its_chapter"


@pytest.mark.slow                       # in a copy of the repository
def test_the_second_recipe_adds_a_chapter_in_one_folder(copy):
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
                "--nbval-current-env", "-k", "notebook or defaults or every_parameter or derivation or plumbing",
                "tests/test_ch6.py", "tests/test_notebook_shape.py", "tests/test_parameters.py",
                "notebooks/06_demo.ipynb",
                # chapters 1-3 run their derivation cells to be checked (17 s): the suite checks them already
                *(f"--deselect=tests/test_notebook_shape.py::{DECIDED}[{n}]" for n in (1, 2, 3)))
    assert tests.returncode == 0, tests.stdout[-3000:]
