"""`make lab` as root (containers, CI images: JupyterLab refuses root without --allow-root) and as a user.

The Makefile's own logic, with a stand-in `jupyter` that prints the command it was given (installing and starting
JupyterLab is `make lab` itself; it was tried both ways by hand, docs/measurements.md). As a user: `nobody`, with
setpriv, when the suite runs as root; else the suite's own user (and the root case is not run).
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def lab_folder():
    """A folder anyone may read: the Makefile, and a venv of stand-ins (python answers the version probe)."""
    folder = Path(tempfile.mkdtemp(prefix="make-lab-"))
    try:
        shutil.copy(ROOT / "Makefile", folder / "Makefile")
        bin_ = folder / "venv" / "bin"
        bin_.mkdir(parents=True)
        (bin_ / "python").write_text("#!/bin/sh\necho 3.11\n")
        (bin_ / "jupyter").write_text('#!/bin/sh\necho "jupyter $*"\n')
        for p in (bin_ / "python", bin_ / "jupyter"):
            p.chmod(0o755)
        for p in (folder, folder / "venv", bin_):
            p.chmod(0o755)
        (folder / "Makefile").chmod(0o644)
        yield folder
    finally:
        shutil.rmtree(folder)


def make_lab(folder: Path, *prefix: str) -> subprocess.CompletedProcess:
    venv = folder / "venv"
    return subprocess.run([*prefix, "make", "--no-print-directory", "-o", f"{venv}/.installed-3.11", "-o",
                           f"{venv}/.lab-installed", "lab", f"PYTHON={venv}/bin/python", f"VENV={venv}"],
                          cwd=folder, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k not in ("K", "EPS", "SEED")})


@pytest.mark.skipif(os.geteuid() != 0, reason="the suite does not run as root")
def test_make_lab_as_root_allows_root_and_says_so(lab_folder):
    r = make_lab(lab_folder)
    assert r.returncode == 0, r.stderr
    assert "note: running as root, so JupyterLab starts with --allow-root" in r.stdout
    assert "jupyter lab --allow-root notebooks/" in r.stdout


def test_make_lab_as_a_user_needs_nothing_more(lab_folder):
    prefix = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: no user to run as")
        prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    r = make_lab(lab_folder, *prefix)
    assert r.returncode == 0, r.stderr
    assert "jupyter lab notebooks/" in r.stdout and "--allow-root" not in r.stdout and "root" not in r.stdout
    assert sys.executable                                   # (the suite's interpreter is not involved)


def test_notebooks_are_stored_as_jupyterlab_saves_them():
    """Opening a notebook in JupyterLab and saving it changes nothing: Lab writes the kernel's ``kernelspec`` (its
    display name "Python 3 (ipykernel)") and the ``language_info`` its kernel reports, so each notebook stores exactly
    these (``derivations/runner.py`` writes them). Tried in JupyterLab 4.6.6 itself (docs/measurements.md): with
    them a notebook opens unmodified and saves byte for byte; with the old ones it opened modified. The Python's
    Python version is the one thing a machine changes (a notebook run on Python 3.12 stores 3.12's)."""
    import platform
    import re

    import nbformat
    from jupyter_client.manager import KernelManager

    from derivations.runner import kernel_config, kernelspec

    km = KernelManager(kernel_name="python3", config=kernel_config())      # the runner's kernel, started its way
    km.start_kernel(extra_arguments=["--IPKernelApp.log_level=ERROR"])
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        info = kc.kernel_info(reply=True, timeout=60)["content"]["language_info"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert info["version"] == platform.python_version()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        meta = nbformat.read(path, as_version=4).metadata
        assert meta.kernelspec == kernelspec() == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                                    "name": "python3"}, path.name
        stored = dict(meta.language_info)
        # the version is the machine's that ran the notebook (Lab writes its kernel's): a full Python version
        assert re.fullmatch(r"3\.\d+\.\d+", stored.pop("version", "")), f"{path.name}: {meta.language_info}"
        assert stored == {k: v for k, v in info.items() if k != "version"}, f"{path.name}: {stored} against {info}"
