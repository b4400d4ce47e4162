"""`make test` never asks for a password: tools/ensure_system.sh installs Chromium, npm and poppler only as root (CI, a
container), or when asked (`make system`); elsewhere a missing program makes the browser tests skip with a reason that
names `make system`, except in CI or as root, where it is an error (conftest.py), so that CI skips none.

The script runs as a user (`nobody`, with setpriv, when the suite runs as root; else the suite's own user) on a PATH
of stand-ins: none of the programs, and a `sudo` and an `apt-get` that write down that they ran.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest

import conftest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def as_user():
    """Run tools/ensure_system.sh as a user, on a PATH where nothing is installed: yields (run, the log). In a
    folder that the user may read (pytest's own are the suite's user's alone)."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: no user to run as")
    tmp_path = Path(tempfile.mkdtemp(prefix="ensure-system-"))
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "ran"
    for name in ("dirname", "id"):
        (bin_ / name).symlink_to(shutil.which(name))
    for name in ("sudo", "apt-get"):
        (bin_ / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n')
    (bin_ / "python3").write_text("#!/bin/sh\nexit 1\n")       # find_chromium finds none
    script = tmp_path / "tools" / "ensure_system.sh"
    script.parent.mkdir()
    shutil.copy(ROOT / "tools" / "ensure_system.sh", script)
    for p in (*bin_.iterdir(), script):
        p.chmod(0o755)
    for p in (tmp_path, bin_, script.parent):
        p.chmod(0o777)
    prefix = (shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups") if os.geteuid() == 0 else ()

    def run(*args):
        return subprocess.run([*prefix, "/bin/bash", str(script), *args], capture_output=True, text=True, timeout=60,
                              env={"PATH": str(bin_), "HOME": str(tmp_path)})
    try:
        yield run, log
    finally:
        shutil.rmtree(tmp_path)


def test_make_test_installs_nothing_as_a_user_and_names_make_system(as_user):
    run, log = as_user
    r = run("--if-root")
    assert r.returncode == 0, r.stderr
    assert "missing: chromium npm poppler-utils. `make system` installs them" in r.stderr and "skip" in r.stderr
    assert not log.exists(), "sudo or apt-get ran"


def test_make_pdf_as_a_user_stops_and_names_make_system(as_user):
    run, log = as_user
    r = run("npm")
    assert r.returncode == 1 and "missing: npm. `make system` installs them" in r.stderr
    assert not log.exists()


def test_make_system_asks_sudo(as_user):
    run, log = as_user
    r = run("--sudo", "npm")
    assert "sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends npm" in log.read_text()
    assert r.returncode == 1 and "npm still missing after apt-get" in r.stderr      # the stand-ins install nothing


def test_the_makefile_runs_no_sudo_in_make_test():
    dry = subprocess.run(["make", "-n", "test", f"PYTHON={sys.executable}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert "ensure_system.sh --if-root" in dry.stdout and "sudo" not in dry.stdout


def test_a_missing_program_skips_naming_make_system_but_fails_in_ci_and_as_root(monkeypatch):
    browser_test = types.SimpleNamespace(get_closest_marker=lambda name: name == "browser")
    monkeypatch.setattr(conftest, "_missing_programs", lambda: ("chromium", "pdftoppm"))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(pytest.skip.Exception, match=r"chromium, pdftoppm not found: `make system` installs them"):
        conftest.pytest_runtest_setup(browser_test)
    conftest.pytest_runtest_setup(types.SimpleNamespace(get_closest_marker=lambda name: None))   # others run
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no test may skip"):
        conftest.pytest_runtest_setup(browser_test)
    monkeypatch.delenv("CI")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(pytest.fail.Exception, match="as root `make test` installs them"):
        conftest.pytest_runtest_setup(browser_test)
