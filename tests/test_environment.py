"""environment.yml (conda) and requirements.txt (pip) name the same packages at the same versions."""
import subprocess
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PIP = {"matplotlib-base": "matplotlib"}
CONDA_ONLY = {"python", "pip"}


def pip_pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{line}: pin with =="
        pins[req.name.lower()] = spec.version
    return pins


def conda_pins(path: Path) -> tuple[dict[str, str], str]:
    env = yaml.safe_load(path.read_text())
    pins, python = {}, None
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # the pip: section
            continue
        name, _, version = dep.partition("=")
        if name == "python":
            python = version
        if name in CONDA_ONLY:
            continue
        assert version, f"{dep}: pin a version"
        pins[CONDA_TO_PIP.get(name, name).lower()] = version
    return pins, python


def test_environment_yml_matches_requirements():
    pip = pip_pins(ROOT / "requirements.txt")
    conda, python = conda_pins(ROOT / "environment.yml")
    assert conda == pip
    supported = subprocess.run(["bash", str(ROOT / "tools" / "find_python.sh"), "--range"], capture_output=True,
                               text=True, check=True).stdout.split()
    assert python in supported, f"environment.yml asks for Python {python}; supported: {supported}"
    assert "conda-forge" in yaml.safe_load((ROOT / "environment.yml").read_text())["channels"]


def test_constraints_agree_with_requirements():
    pins = pip_pins(ROOT / "requirements.txt")
    constraints = pip_pins(ROOT / "constraints.txt")
    for name, version in pins.items():
        assert constraints.get(name) == version, name


def test_test_path_stays_lean():
    """No `jupyter` metapackage or JupyterLab on the test path (they slow every nbval run)."""
    pins = pip_pins(ROOT / "requirements.txt")
    assert not {"jupyter", "jupyterlab", "notebook"} & set(pins)
