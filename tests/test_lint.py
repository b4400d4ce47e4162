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
    assert ruff, "ruff is not installed (it is in requirements.txt: make test installs it)"
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
    for path in _modules("derivations", "tools"):
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
