"""`ruff check` is clean: the package, the tests, the tools, the benchmarks and the notebooks' code cells
(rules in pyproject.toml: pyflakes, pycodestyle errors, import order, unused noqa)."""
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
