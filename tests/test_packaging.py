"""The package as pip sees it, and the files around it that must agree: the supported Pythons (one home,
requires-python in pyproject.toml), the version, the licence and the repository's address."""
import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import derivations

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def supported_minors() -> list[str]:
    """``>=3.A,<3.B`` in pyproject.toml as ``["3.A", ..., "3.(B-1)"]``."""
    lo, hi = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", PROJECT["requires-python"]).groups()
    return [f"3.{m}" for m in range(int(lo), int(hi))]


def test_the_workflow_matrix_is_the_supported_range():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["python"] == supported_minors()
    assert any(step.get("run", "").strip() == "make test" for step in job["steps"]), "the README's command"


def test_the_classifiers_and_the_makefile_follow_the_supported_range():
    listed = [c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if re.search(r"Python :: 3\.\d+$", c)]
    assert listed == supported_minors()
    r = subprocess.run(["bash", str(ROOT / "tools" / "find_python.sh"), "--range"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split() == supported_minors()[::-1]


def test_an_unsupported_python_is_refused_with_the_range(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\necho 3.10\n")          # answers the version probe like Python 3.10 would
    fake.chmod(0o755)
    r = subprocess.run(["bash", str(ROOT / "tools" / "find_python.sh"), "--check", str(fake)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    lo, hi = supported_minors()[0], supported_minors()[-1]
    assert f"is Python 3.10; supported: Python {lo} to {hi}" in r.stderr and "PYTHON=" in r.stderr


def test_pip_knows_the_installed_distribution():
    """`make` installs the package with pip (editable): metadata, version and licence are pip's."""
    meta = importlib.metadata.metadata(PROJECT["name"])
    assert meta["Version"] == derivations.__version__
    assert meta["License-Expression"] == PROJECT["license"] == "MIT"
    assert importlib.metadata.version(PROJECT["name"]) == derivations.__version__


def test_every_imported_distribution_is_declared():
    declared = {re.split(r"[<>=!~ ]", d)[0].lower() for d in PROJECT["dependencies"]}
    imported = set()
    for path in (ROOT / "derivations").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "derivations"}
    assert third_party, "the scan found no third-party import (it would then prove nothing)"
    assert third_party <= declared, f"imported but not declared: {sorted(third_party - declared)}"


def test_citation_licence_and_version_agree():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["version"] == derivations.__version__
    assert cff["license"] == PROJECT["license"]
    assert cff["repository-code"] == PROJECT["urls"]["Repository"]
    assert "MIT License" in (ROOT / "LICENSE").read_text().splitlines()[0]
    readme = (ROOT / "README.md").read_text()
    binder = re.search(r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", readme)
    assert binder and PROJECT["urls"]["Repository"].endswith("/" + binder.group(1)), "the Binder badge's repository"


def test_the_numeric_api_does_not_load_sympy():
    """``import derivations`` names the catalogue to the registry without importing it (nor SymPy): the claims
    load at their first read (every notebook's ``show`` reads them so, and ``tests/test_registry.py`` checks that
    a catalogue that fails to import raises there)."""
    code = ("import sys; from derivations import log_sum_exp; from derivations.engine.registry import claims; "
            "print(sorted(m for m in ('sympy', 'derivations.chapters') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
