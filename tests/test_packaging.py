"""The package as pip sees it, and the files around it that must agree: the supported Pythons (one home,
requires-python in pyproject.toml), the version, the licence and the repository's address."""
import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import derivations

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def supported_minors() -> list[str]:
    """The minors tested: the ``Python :: 3.x`` classifiers, from requires-python's floor (``>=3.A``, no upper cap)
    up, with no gap."""
    (lo,) = re.fullmatch(r">=3\.(\d+)(?:\.\d+)?", PROJECT["requires-python"]).groups()
    listed = [c.rsplit(" :: ", 1)[1] for c in PROJECT["classifiers"] if re.search(r"Python :: 3\.\d+$", c)]
    assert listed == [f"3.{m}" for m in range(int(lo), int(lo) + len(listed))], listed
    return listed


def test_python_3_14_is_admitted():
    """No upper cap: a Python newer than those tested is admitted, as pip admits it (Python 3.14 was refused)."""
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(PROJECT["requires-python"])
    assert "3.14.0" in spec and "3.15.0" in spec and "3.10.9" not in spec
    assert "3.14" in supported_minors()


def test_the_workflow_matrix_is_the_supported_range():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["python"] == supported_minors()
    assert any(step.get("run", "").strip() == "make test" for step in job["steps"]), "the README's command"


def test_the_makefile_follows_the_supported_range(tmp_path):
    r = subprocess.run(["bash", str(ROOT / "tools" / "find_python.sh"), "--range"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split() == supported_minors()[::-1]
    newer = tmp_path / "python3.99"                   # newer than every tested minor: admitted, said to be untested
    newer.write_text("#!/bin/sh\necho 3.99\n")
    newer.chmod(0o755)
    r = subprocess.run(["bash", str(ROOT / "tools" / "find_python.sh"), "--check", str(newer)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "newer than the newest tested" in r.stdout


def test_an_unsupported_python_is_refused_with_the_range(tmp_path):
    fake = tmp_path / "python3.10"
    fake.write_text("#!/bin/sh\necho 3.10\n")          # answers the version probe like Python 3.10 would
    fake.chmod(0o755)
    r = subprocess.run(["bash", str(ROOT / "tools" / "find_python.sh"), "--check", str(fake)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f"is Python 3.10; supported: Python {supported_minors()[0]} and newer" in r.stderr and "PYTHON=" in r.stderr


def test_pip_knows_the_installed_distribution():
    """`make` installs the package with pip (editable): metadata, version and licence are pip's."""
    meta = importlib.metadata.metadata(PROJECT["name"])
    assert meta["Version"] == derivations.__version__
    assert meta["License-Expression"] == PROJECT["license"] == "MIT"
    assert importlib.metadata.version(PROJECT["name"]) == derivations.__version__


def imported_modules(paths) -> set[str]:
    """Top-level modules imported by the files ``paths``: import statements, and the string given to
    ``importlib.util.find_spec`` or ``importlib.import_module``; an import
    tried in a ``try`` whose ``except ImportError`` does without it is optional (IPython, for Jupyter's display)."""
    found = set()
    for path in paths:
        tree = ast.parse(path.read_text())
        optional = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) and any(                    # an import
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in t.handlers)
                    for stmt in t.body for n in ast.walk(stmt)}      # tried, with its absence handled: optional
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("find_spec", "import_module") and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"__future__", "derivations"}


def distributions(modules) -> set[str]:
    """The installed distributions that provide ``modules`` (sklearn -> scikit-learn), normalised."""
    provided = importlib.metadata.packages_distributions()
    missing = [m for m in modules if m not in provided]
    assert not missing, f"imported but not installed here: {missing}"
    return {canonicalize_name(d) for m in modules for d in provided[m]}


def names(requirements) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


LIBRARY = [ROOT / "derivations" / "__init__.py", *(ROOT / "derivations" / "library").rglob("*.py")]
#: ``soft-targets run``: what it imports beyond the companion is the ``run`` extra.
RUNNER = [ROOT / "derivations" / "runner.py"]
COMPANION_FILES = [p for p in (ROOT / "derivations").rglob("*.py") if p not in LIBRARY + RUNNER]


def test_the_library_requires_numpy_only():
    """``pip install soft-targets-companion`` brings NumPy alone: the library imports nothing else."""
    assert PROJECT["dependencies"] == ["numpy>=2.0"]
    assert imported_modules(LIBRARY) == {"numpy"}


def test_the_companion_extra_is_what_the_engine_and_chapters_import():
    """Everything the engine, the chapters and ``python -m derivations`` import is in the ``companion`` extra or
    is NumPy, and the extra holds nothing they do not import; ``cli.COMPANION`` names the same packages."""
    from derivations.cli import COMPANION
    used = imported_modules(COMPANION_FILES)
    assert {"sympy", "matplotlib", "threadpoolctl"} <= used, "the scan found the companion's imports"
    extra = names(PROJECT["optional-dependencies"]["companion"])
    assert distributions(used) - names(PROJECT["dependencies"]) == extra
    assert set(COMPANION) == used - {"numpy"}
    assert {canonicalize_name(d) for d in COMPANION.values()} == extra == distributions(COMPANION)


def test_the_run_extra_is_what_the_runner_imports_and_the_kernel():
    """``soft-targets run`` (derivations/runner.py) imports the ``run`` extra's packages and starts ipykernel's
    kernel; ``cli.RUN`` names the same packages, which the command checks for before it runs."""
    from derivations.cli import RUN

    extra = names(PROJECT["optional-dependencies"]["run"])
    used = imported_modules(RUNNER) - {"derivations"}
    assert distributions(used) | {"ipykernel"} == extra == {canonicalize_name(d) for d in RUN.values()}
    assert set(RUN) == used | {"ipykernel"}
    assert PROJECT["scripts"] == {"soft-targets": "derivations.cli:console"}


def test_make_installs_the_companion():
    """The environment ``make`` builds (this one) satisfies every requirement of the package and its extras."""
    extras = PROJECT["optional-dependencies"]
    for r in map(Requirement, PROJECT["dependencies"] + extras["companion"] + extras["run"]):
        assert r.specifier.contains(importlib.metadata.version(r.name), prereleases=True), r


BLOCK = """
import runpy, sys
for name in {blocked!r}:            # as if not installed: import raises ModuleNotFoundError, find_spec gives None
    sys.modules[name] = None
"""
COMPANION_MODULES = ("sympy", "mpmath", "matplotlib", "sklearn", "threadpoolctl", "scipy")


def test_the_library_works_without_the_companion():
    code = BLOCK.format(blocked=COMPANION_MODULES) + (
        "import numpy as np\n"
        "from derivations import smoothed_cross_entropy, flip_labels, log_sum_exp\n"
        "print(round(float(smoothed_cross_entropy([[2.0, 0.0, 0.0]], [0], label_smoothing=0.1)), 6))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0.372878"             # log(e^2 + 2) - (0.9 + 0.1/3) 2


def test_python_m_derivations_says_what_to_install_without_the_companion():
    code = BLOCK.format(blocked=("sympy", "threadpoolctl")) + "runpy.run_module('derivations', run_name='__main__')\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == (
        "python -m derivations needs the companion packages; missing: sympy, threadpoolctl. Install them with: "
        "pip install 'soft-targets-companion[companion]'  (from a clone: pip install '.[companion]', or `make`, "
        "which installs the pinned uv.lock)")


def test_citation_licence_and_version_agree():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["version"] == derivations.__version__
    assert cff["license"] == PROJECT["license"]
    assert cff["repository-code"] == PROJECT["urls"]["Repository"]
    assert "MIT License" in (ROOT / "LICENSE").read_text().splitlines()[0]
    readme = (ROOT / "README.md").read_text()
    binder = re.search(r"https://mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", readme)
    assert binder and PROJECT["urls"]["Repository"].endswith("/" + binder.group(1)), "the Binder badge's repository"


def test_every_path_the_citation_names_exists():
    """A file CITATION.cff names (in any of its texts: a path holds a '/' and ends in a file's extension, so the
    title's 'v/s' is none; an address is no path) is in the repository: it named derivations/note.md after the
    note had moved to derivations/engine/."""
    def texts(value):
        if isinstance(value, dict):
            return [t for v in value.values() for t in texts(v)]
        if isinstance(value, list):
            return [t for v in value for t in texts(v)]
        return [value] if isinstance(value, str) else []

    found = [path for text in texts(yaml.safe_load((ROOT / "CITATION.cff").read_text()))
             for path in re.findall(r"(?<![\w/.:-])(?:[\w.-]+/)+[\w-]+\.\w+", re.sub(r"\w+://\S+", "", text))]
    assert any(p.endswith("note.md") for p in found), found            # the scan finds the transcription
    assert [p for p in found if not (ROOT / p).exists()] == []


def test_the_numeric_api_does_not_load_sympy():
    """``import derivations`` names the catalogue to the registry without importing it (nor SymPy): the claims
    load at their first read (every notebook's ``show`` reads them so, and ``tests/test_registry.py`` checks that
    a catalogue that fails to import raises there)."""
    code = ("import sys; from derivations import log_sum_exp; from derivations.engine.registry import claims; "
            "print(sorted(m for m in ('sympy', 'derivations.chapters') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def _uv() -> str:
    """The uv that ``make`` set the environment up with (tools/setup_venv.sh: its pinned version)."""
    r = subprocess.run(["bash", str(ROOT / "tools" / "setup_venv.sh"), "--uv", sys.prefix], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, f"no uv for this environment (make sets it up): {r.stderr}"
    return r.stdout.strip()


def _locked() -> dict[str, str]:
    """``name -> version`` of every package uv.lock pins."""
    return {p["name"]: p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
            if "version" in p}


def test_the_lock_pins_every_installed_package():
    """The environment is installed from uv.lock (tools/setup_venv.sh: ``uv sync --locked``): every distribution in
    it, transitive ones included, is pinned there at the version installed; and the lock is current, that is, it
    holds what pyproject.toml asks for (``uv lock --check``, offline: it resolves nothing anew)."""
    lock = _locked()
    tools = {"pip", "setuptools", "wheel", "uv", PROJECT["name"]}      # the installers; the package (editable)
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    assert len(installed) > 50, "the scan found too few distributions to prove anything"
    for name, version in installed.items():
        if name in tools:
            continue
        assert lock.get(name) == version, f"{name}: installed {version}, locked {lock.get(name)}"
    r = subprocess.run([_uv(), "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"uv.lock does not hold what pyproject.toml asks (make lock rewrites it):\n{r.stderr}"


#: The files exported from uv.lock for pip, which hold no pin of their own (tools/lock.sh writes them).
EXPORTS = ("requirements.txt", "binder/requirements.txt")


@pytest.mark.parametrize("name", EXPORTS)
def test_the_exports_are_uv_locks(name):
    """Each export is what the command in its header writes from today's uv.lock (run again here, offline): a pin
    changed by hand, or a lock changed without ``make lock``, fails."""
    text = (ROOT / name).read_text()
    header = text.splitlines()[1].lstrip("# ").split()
    assert header[:2] == ["uv", "export"] and header[-2:] == ["-o", name], header
    r = subprocess.run([_uv(), *header[1:-2], "--offline", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[2:] == text.splitlines()[2:], f"{name} is not uv.lock's export: make lock"


def test_the_test_path_stays_lean():
    """No ``jupyter`` metapackage, JupyterLab or notebook server in what ``make`` installs (they slow every nbval
    run): JupyterLab is in the ``lab`` group alone (``make lab``)."""
    pins = {canonicalize_name(Requirement(line.split(";")[0]).name)
            for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0].isalnum()}
    assert "nbval" in pins and not {"jupyter", "jupyterlab", "notebook", "jupyter-server"} & pins


def test_binder_runs_the_notebooks_with_the_package_and_its_companion():
    """binder/ is what a reader needs to run the notebooks (Binder brings JupyterLab and the kernel): the package
    with its companion, at uv.lock's versions, and nothing of the tests or the book; on a supported Python."""
    text = (ROOT / "binder" / "requirements.txt").read_text()
    assert "-e ." in text.splitlines()
    pins = {canonicalize_name(Requirement(line.split(";")[0]).name)
            for line in text.splitlines() if line and line[0].isalnum()}
    assert names(PROJECT["optional-dependencies"]["companion"]) | {"numpy"} <= pins
    assert not {"pytest", "sphinx", "ruff", "nbval", "scikit-learn"} & pins
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime.removeprefix("python-") in supported_minors(), runtime


def _crosscheck() -> dict[str, str | None]:
    """``name -> version`` (None: unpinned) of requirements-crosscheck.txt."""
    reqs = {}
    for line in (ROOT / "requirements-crosscheck.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            reqs[canonicalize_name(req.name)] = next((s.version for s in req.specifier if s.operator == "=="), None)
    return reqs


def test_each_pin_has_one_home():
    """requirements-crosscheck.txt (``make crosscheck``, installed with pip and ``-c requirements.txt``) pins only
    what uv.lock does not hold, and names what it does without a version (the lock's then); torch is pinned (the
    CPU build on this machine's disk; unpinned: a CUDA build); pyproject.toml's groups name packages, no versions."""
    lock, cross = _locked(), _crosscheck()
    assert {"jax", "jaxlib", "optax", "torch"} <= set(cross) and cross["torch"] == "2.13.0"
    for name, version in cross.items():
        if name in lock:
            assert version is None, f"requirements-crosscheck.txt pins {name}, which uv.lock pins: name it only"
        else:
            assert version, f"requirements-crosscheck.txt: pin {name} (uv.lock does not hold it)"
    for group, reqs in PYPROJECT["dependency-groups"].items():
        for r in reqs:
            if isinstance(r, str):
                assert not Requirement(r).specifier, f"group {group}: {r}: the version belongs to uv.lock"


#: Packages of the groups that no file imports, and what uses them.
USED_OTHERWISE = {
    "nbval": "pytest's plugin for the notebooks (--nbval)",
    "pytest-xdist": "pytest's plugin that shares the files among the cores (-n)",
    "ruff": "a program: tests/test_lint.py runs it",
    "myst-nb": "a Sphinx extension named in book/conf.py",
    "sphinx-book-theme": "the book's Sphinx theme, named in book/conf.py",
    "jupyterlab": "a program: make lab",
    "soft-targets-companion": "the package itself, with its companion extra",
}


def _third_party_imports() -> set[str]:
    """Top-level modules that the repository's Python files import (the package, tests, tools, the book's build,
    benchmarks, any folder), less the standard library and the repository's own modules."""
    files = [p for p in ROOT.rglob("*.py")
             if not {".venv", ".venvs", ".venv-crosscheck", "build", ".git"} & set(p.relative_to(ROOT).parts)
             and not p.relative_to(ROOT).parts[0].startswith(".venv")]
    local = {p.stem for p in files} | {p.relative_to(ROOT).parts[0] for p in files}
    return imported_modules(files) - local


def test_what_is_imported_is_declared_and_what_is_declared_is_used():
    """Every third-party module imported anywhere is provided by a package that pyproject.toml declares (the
    dependencies, an extra, a group) or requirements-crosscheck.txt names (JAX, PyTorch: never in .venv); every
    package a group names is imported somewhere, or is used otherwise (:data:`USED_OTHERWISE`, which holds no
    stale entry)."""
    groups = {canonicalize_name(Requirement(r).name) for reqs in PYPROJECT["dependency-groups"].values()
              for r in reqs if isinstance(r, str)}
    declared = (names(PROJECT["dependencies"]) | groups | set(_crosscheck())
                | {n for reqs in PROJECT["optional-dependencies"].values() for n in names(reqs)})
    provided = importlib.metadata.packages_distributions()
    used = set()
    for module in sorted(_third_party_imports()):
        dists = {canonicalize_name(d) for d in provided.get(module, [])} or {canonicalize_name(module)}
        assert dists & declared, f"{module} is imported but no declared package provides it (one of {sorted(dists)})"
        used |= dists & declared
    assert groups - used == set(USED_OTHERWISE), (
        f"named in a group, imported nowhere: {sorted(groups - used - set(USED_OTHERWISE))}; "
        f"said to be used otherwise but not in a group, or imported: {sorted(set(USED_OTHERWISE) - (groups - used))}")


def test_the_package_re_exports_the_library_without_importing_numpy_first():
    """``import derivations`` loads no NumPy (a derivation cell imports the engine and must run where NumPy does not:
    derivations/engine/derive.py): the library's names are imported on first use, from the modules that
    ``derivations._LIBRARY`` names, which list exactly what those modules export."""
    for module, exported in derivations._LIBRARY.items():
        m = importlib.import_module(module)
        assert set(exported) <= set(m.__all__), module
        if module != "derivations.library.numeric":
            assert set(exported) == set(m.__all__), module
    code = ("import sys, derivations, derivations.engine.derive; assert 'numpy' not in sys.modules, 'numpy'; "
            "from derivations import smoothed_cross_entropy; assert 'numpy' in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
