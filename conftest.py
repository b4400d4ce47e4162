"""Test-session set-up shared by the unit tests and nbval.

Notebooks executed by nbval run as committed, so their figures go where a notebook
run by hand at its defaults writes them (its ``FIGURES`` is ``None``:
:func:`derivations.engine.figures.destination`), ``build/runs/defaults/figures``,
never over the committed ``figures/``; the session empties that folder first, and
``tests/test_freshness.py`` compares the two, and runs last.

Every claim is computed once per session: ``DERIVATIONS_RESULTS`` points at a
fresh folder of this session only (:mod:`derivations.engine.results`), which the first
test worker to collect fills, on every core, while the others wait on a lock
(the notebooks' kernels and the ``python -m derivations`` subprocess inherit it).

pytest-xdist (``make test``, ``make check``: the Makefile's ``XDIST``, ``-n auto --dist
loadfile``) shares the test files among the cores, one file per worker, in the order of
the collection (``--no-loadscope-reorder``): the longest files first
(:data:`_LONGEST_FIRST`), so that no core is left alone with a long file at the end.
A bare ``pytest tests/test_x.py`` runs in one process.

The markers (registered in pyproject.toml, ``--strict-markers``): ``notebook`` on every
notebook cell (:func:`pytest_itemcollected`), ``browser`` and ``slow`` in the test files.
A ``browser`` test needs the system programs of :data:`SYSTEM`: where one is missing it
skips, naming ``make system``, except in CI or as root, where ``make test`` installs them
(tools/ensure_system.sh) and a missing one is an error, so that CI skips none. The notebook cells that
have run are logged so that ``tests/test_freshness.py`` can wait for notebooks on
another worker.
"""
import functools
import gc
import os
import shutil
import tempfile
from pathlib import Path

import pytest

#: The session's folders this process made (set once per session: this module may be imported twice, by pytest
#: and by the freshness test, and the test workers inherit them): removed when the run passes, kept and named
#: when it does not (:func:`pytest_terminal_summary`), so that its figures and results can be looked at.
_MADE: list[str] = []
if "DERIVATIONS_SESSION_RESULTS" not in os.environ:
    os.environ["DERIVATIONS_SESSION_RESULTS"] = tempfile.mkdtemp(prefix="derivations-results-")
    _MADE.append(os.environ["DERIVATIONS_SESSION_RESULTS"])
    # the first process of the session (not a test worker, which inherits the variable): what an earlier run's
    # notebooks left in the folder the freshness test reads goes
    shutil.rmtree(Path(__file__).resolve().parent / "build" / "runs" / "defaults" / "figures", ignore_errors=True)
os.environ["DERIVATIONS_RESULTS"] = os.environ["DERIVATIONS_SESSION_RESULTS"]

#: The mutation test: its runs are computed with the claims.
_MUTATIONS = "tests/test_mutations.py::test_some_mutant_of_the_claim_is_killed"

#: Tests (and the notebooks) that read most claims: when any is to run, all claims are computed up front (of
#: tests/test_registry.py only the test of every claim's evidence: its others decide claims of their own).
_READERS = ("notebooks/", _MUTATIONS, "tests/test_report.py", "tests/test_registry.py::test_claim_evidence_supports",
            "tests/test_shown_verdicts.py", "tests/test_site.py", "tests/test_run_in_book.py")


#: The files that take longest (measured), longest first; the others follow in their order, the freshness test last.
_LONGEST_FIRST = ("tests/test_site.py", "tests/test_run_in_book.py", "tests/test_contributing.py", "tests/test_worked.py", "tests/test_runner.py",
                  "tests/test_jupyter.py", "tests/test_rerun_book.py", "notebooks/04_training.ipynb",
                  "notebooks/03_label_flipping.ipynb", "notebooks/01_hard_labels.ipynb", "notebooks/02_soft_labels.ipynb",
                  "notebooks/05_real_data.ipynb", "tests/test_ch5.py", "tests/test_smoothing.py",
                  "notebooks/00_overview.ipynb", "tests/test_parameters.py", "tests/test_registry.py")


#: The programs a ``browser`` test runs (``make system`` installs them; ``$CHROMIUM`` names a Chromium of yours).
SYSTEM = ("chromium", "npm", "pdftoppm", "pdftotext")


def pytest_itemcollected(item):
    if item.path.suffix == ".ipynb":
        item.add_marker(pytest.mark.notebook)


@functools.cache
def _missing_programs() -> tuple[str, ...]:
    from book.browser import find_chromium

    return tuple(p for p in SYSTEM if (find_chromium() if p == "chromium" else shutil.which(p)) is None)


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") and (missing := _missing_programs()):
        why = (f"{', '.join(missing)} not found: `make system` installs them (apt-get)"
               + (", or set CHROMIUM to a Chromium or Chrome" if "chromium" in missing else ""))
        if os.environ.get("CI") or os.geteuid() == 0:     # CI and containers: `make test` installs them first
            pytest.fail(f"{why}; in CI and as root `make test` installs them (tools/ensure_system.sh), and no test "
                        f"may skip for want of them", pytrace=False)
        pytest.skip(why)


def _rank(nodeid: str) -> int:
    path = nodeid.split("::", 1)[0]
    if path == "tests/test_freshness.py":
        return len(_LONGEST_FIRST) + 1
    return _LONGEST_FIRST.index(path) if path in _LONGEST_FIRST else len(_LONGEST_FIRST)


@pytest.hookimpl(trylast=True)        # after -m and -k have deselected: what is computed is what runs
def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda i: _rank(i.nodeid))     # stable: each file's tests keep their order
    if any(i.nodeid.startswith(_READERS) for i in items):
        _compute_every_claim_once(mutants=any(i.nodeid.startswith(_MUTATIONS) for i in items))


def pytest_collection_finish(session):
    """The notebook cells this session will run (after any deselection, ``-k`` included)."""
    cells = [i.nodeid for i in session.items if i.nodeid.startswith("notebooks/")]
    _cells_file("expected").write_text("".join(c + "\n" for c in cells))


#: The notebooks whose kernel nbval has started in this process.
_KERNELS: set[str] = set()


class _NbvalKernelLock:
    """A plugin of one hook (:meth:`pytest_runtest_setup`), registered by :func:`pytest_configure` beside this
    file's own ``pytest_runtest_setup`` (which skips browser tests when a program is missing)."""

    @staticmethod
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(item):
        yield from _kernel_lock(item)


def pytest_configure(config):
    config.pluginmanager.register(_NbvalKernelLock(), "nbval-kernel-lock")


def _kernel_lock(item):
    """nbval starts a notebook's kernel when the notebook's first cell is set up, over TCP: nbval 0.11 builds its
    kernel manager itself, with no option or configuration for IPC, which the runner and the tests' own kernels
    use (``derivations.runner.kernel_config``). Its manager picks free ports and closes them, and the kernel binds
    them a second later: a kernel started meanwhile on another test worker could pick the same port
    (``ZMQError: Address already in use``, jupyter/jupyter_client#154). So nbval's kernels start one at a time
    across the workers, each until it answers (a lock in the session's folder)."""
    first = item.nodeid.startswith("notebooks/") and item.parent.nodeid not in _KERNELS
    if not first:
        yield
        return
    import fcntl

    _KERNELS.add(item.parent.nodeid)
    with open(os.path.join(os.environ["DERIVATIONS_SESSION_RESULTS"], "kernel.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def pytest_runtest_logfinish(nodeid, location):
    """Log each notebook cell that has run: with pytest-xdist (``--dist loadfile``) the notebooks may run on
    another worker than ``tests/test_freshness.py``, which waits until every collected cell has run."""
    if nodeid.startswith("notebooks/"):
        with _cells_file("ran").open("a") as log:
            log.write(nodeid + "\n")


def pytest_sessionfinish(session, exitstatus):
    """The session's folders go when the run passed (or selected nothing): each run left about 10 MB."""
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        while _MADE:
            shutil.rmtree(_MADE.pop(), ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus):
    if _MADE:
        terminalreporter.write_line(f"this session's folders are kept: {', '.join(_MADE)}")


def pytest_unconfigure(config):
    """Freeze what is alive: at exit CPython collects garbage over every object still tracked, and a worker
    holds millions (SymPy's caches), about 0.4 s per process while the run waits for its workers to end.
    Frozen objects are not visited; the operating system takes the memory back."""
    gc.freeze()


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The book (``book.builder.build``), built once per test session into the session's folder and shared by the
    files that visit it (``tests/test_site.py``, ``tests/test_run_in_book.py``): on several test workers the first
    to ask builds while the others wait on a lock. Its ``html`` folder; tests read and serve it, never write in it."""
    import fcntl

    from book.builder import build

    out = Path(os.environ["DERIVATIONS_SESSION_RESULTS"], "book", "html")
    with open(os.path.join(os.environ["DERIVATIONS_SESSION_RESULTS"], "book.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not out.with_name("built").exists():
                build(Path(__file__).resolve().parent / "notebooks", out, Path(__file__).resolve().parent / "build" / "npm")
                out.with_name("built").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out


def _cells_file(which: str) -> Path:
    """The session's list of notebook cells collected (``expected``) or run so far (``ran``)."""
    return Path(os.environ["DERIVATIONS_SESSION_RESULTS"], f"cells.{which}")


def _compute_every_claim_once(mutants: bool):
    """Every claim into the session's shared results, on every core; with several test workers, the first
    to get here computes while the others wait, then read (each claim computed once). With ``mutants``, each
    claim's mutants up to the first kill too, in the process that has just computed the claim (what the check
    compiled is there for them), for the mutation test to read."""
    import fcntl

    import derivations.chapters  # noqa: F401  (the chapters' claims, named to the registry)
    from audit.mutation import TIMEOUT, report
    from derivations.engine.registry import claims, run_all

    claims()                                   # the catalogue imported (registry.add_catalogue) before the freeze
    gc.freeze()                                # SymPy's many short-lived objects: see derivations/__main__.py
    gc.set_threshold(50_000, 20, 20)
    with open(os.path.join(os.environ["DERIVATIONS_SESSION_RESULTS"], "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if mutants:
                report(claims(), timeout=TIMEOUT, jobs=os.cpu_count() or 1)
            run_all(claims(), jobs=os.cpu_count() or 1)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
