"""The README is for a newcomer: short, current, and every command it shows is run somewhere.

Its figures are either tested (the parameter table: ``tests/test_parameters.py``) or absent; its Python example runs
here; each ``make run`` example is a valid set of values (the sweep runs them); and each ``make`` target it names
invokes the tool that a named test (or the sweep) exercises.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from derivations.chapters import CHAPTERS, parse_all
from derivations.runner import parse_chapters

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The most lines the README may have.
MAX_LINES = 150
#: Each ``make`` target the README may name: what ``make -n`` must show it running, where that is exercised, and
#: what that file must hold to exercise it.
COVERED = {
    "run": ("tools/run_notebooks.py", "tests/test_runner.py", "tools.run_notebooks"),
    "test": ("-m pytest", ".ci/run", "make test"),
    "check": ('-m "not browser and not slow"', ".ci/run", ""),
    "system": ("ensure_system.sh --sudo", "tests/test_system.py", ""),
    "html": ("-m book.builder", "tests/test_site.py", "book.builder"),
    "pdf": ("-m book.builder --pdf", "tests/test_site.py", "book.builder"),
    "verify": ("-m derivations", "tests/test_report.py", '"-m", "derivations"'),
    "sweep": ("-m audit.sweep", "audit/sweep.py", ""),
    "crosscheck": ("-m audit.crosscheck", "tests/test_crosscheck.py", ""),
    "help": ("make run", "tests/test_readme.py", ""),
    "serve": ("http.server", "tests/test_run_in_book.py", ""),
}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_the_readme_is_short():
    assert len(README.splitlines()) <= MAX_LINES


# The Python example (the library in five lines) runs as a doctest in tests/test_readme_library.py.


def make_run_examples() -> list[list[str]]:
    lines = [ln.split("#")[0].strip() for b in blocks("bash") for ln in b.splitlines()]
    return [shlex.split(ln)[2:] for ln in lines if ln.startswith("make run ")]


@pytest.mark.parametrize("args", make_run_examples(), ids=" ".join)
def test_each_make_run_example_is_valid(args):
    chapters = [a.split("=", 1)[1] for a in args if a.startswith("CHAPTERS=")]
    selected = parse_chapters(chapters[0]) if chapters else sorted(CHAPTERS)
    settings = parse_all([a for a in args if not a.startswith("CHAPTERS=")], selected)
    assert settings, args


def test_there_are_make_run_examples():
    assert len(make_run_examples()) >= 3


def test_every_make_target_named_is_run_by_a_test():
    named = set(re.findall(r"\bmake ([a-z][a-z-]*)", README))
    assert named, "no make target named"
    assert named <= set(COVERED), f"the README names make targets no test runs: {sorted(named - set(COVERED))}"
    for target in sorted(named):
        shows, where, needle = COVERED[target]
        dry = subprocess.run(["make", "-n", target, f"PYTHON={sys.executable}"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert dry.returncode == 0 and shows in dry.stdout, (target, dry.stdout[-500:], dry.stderr[-500:])
        assert needle in (ROOT / where).read_text(encoding="utf-8"), (where, needle)


def test_make_help_lists_the_targets_the_readme_names():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    for target in set(re.findall(r"\bmake ([a-z][a-z-]*)", README)) - {"help"}:
        assert f"make {target}" in out, target
