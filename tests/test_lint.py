"""`ruff check` is clean: the package, the tests, the tools, the benchmarks and the notebooks' code cells
(rules in pyproject.toml: pyflakes, pycodestyle errors, import order, unused noqa)."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed (it is in the test group: make test installs it)"
    r = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


# -- house rules that ruff does not know ---------------------------------------------------------------
SWEEP_CONSTANTS = {"NUMERIC_K", "SYMBOLIC_K", "SCALES", "APPROX_K", "EXPANDED_K", "SAMPLER_CASES"}


def _modules(*folders):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_no_private_name_is_imported_from_another_module():
    """A leading underscore means "this module's own": the package and the tools import only public names."""
    found = []
    for path in _modules("derivations", "tools", "audit", "book"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {a.name}" for a in node.names
                          if a.name.startswith("_") and a.name != "__version__"]
    assert not found, found


def test_the_catalogue_sweeps_only_through_the_toolkit():
    """No hand-written sweep loop in a chapter's claims (derivations/chapters/*/claims.py): no loop or comprehension over the toolkit's
    K, scale or case constants (checks.each_k and checks.largest do that), no logits sampled by hand, no
    running worst-so-far."""
    found = []
    for path in sorted((ROOT / "derivations" / "chapters").glob("*/claims.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.For, ast.comprehension)):
                names = {n.id for n in ast.walk(node.iter) if isinstance(n, ast.Name)}
                if names & SWEEP_CONSTANTS:
                    found.append(f"{where}:{getattr(node, 'lineno', node.iter.lineno)} loops over "
                                 f"{sorted(names & SWEEP_CONSTANTS)}")
            if isinstance(node, ast.Name) and node.id == "sample_logits":
                found.append(f"{where}:{node.lineno} samples logits by hand")
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", None) == "max"
                    and any(isinstance(t, ast.Name) and any(isinstance(a, ast.Name) and a.id == t.id
                                                            for a in node.value.args) for t in node.targets)):
                found.append(f"{where}:{node.lineno} keeps a running maximum")
    assert not found, "\n".join(found)


#: The house's floors, lowest first: a module may import its own floor's and lower floors' modules, never a higher's.
FLOORS = ("derivations.library", "derivations.engine", "derivations.chapters", "derivations", "book", "audit")


def _floor(module: str) -> int | None:
    """The floor of a dotted module name of this repository (the longest prefix in :data:`FLOORS`), else None."""
    hits = [i for i, f in enumerate(FLOORS) if module == f or module.startswith(f + ".")]
    return max(hits, key=lambda i: len(FLOORS[i])) if hits else None


def test_no_import_runs_back_up():
    """Library, engine, chapters, the package's entry points, the book's build, the audit: each imports only its
    own floor and the floors below (the wheel ships the package alone, so nothing in it may need the book or the
    audit). The audit may import the book's build (its readers of pages), never the reverse."""
    found = []
    for path in _modules("derivations", "book", "audit"):
        rel = path.relative_to(ROOT).with_suffix("")
        here = _floor(".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                there = _floor(name)
                if (there is not None and there > here) or name.split(".")[0] == "tools" and here < FLOORS.index("book"):
                    found.append(f"{rel}:{node.lineno} imports {name}")
    assert not found, found
    assert _floor("derivations.engine.registry") == 1 and _floor("audit.mutation") == 5 and _floor("numpy") is None
