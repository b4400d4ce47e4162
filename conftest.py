"""Test-session set-up shared by the unit tests and nbval.

Notebooks executed by nbval write their figures into a temporary folder (the
kernels inherit ``DERIVATIONS_FIGURES``), never over the committed ``figures/``;
``tests/test_freshness.py`` then compares the two, and runs last.

Every claim is computed once per session: ``DERIVATIONS_RESULTS`` points at a
fresh folder of this session only (:mod:`derivations.results`), which this
process fills, on every core, before the tests that read many claims run (the
notebooks' kernels and the ``python -m derivations`` subprocess inherit it).
"""
import gc
import os
import tempfile

# set once per session (this module may be imported twice: by pytest and by the freshness test)
if "DERIVATIONS_FRESH_FIGURES" not in os.environ:
    os.environ["DERIVATIONS_FRESH_FIGURES"] = tempfile.mkdtemp(prefix="fresh-figures-")
os.environ["DERIVATIONS_FIGURES"] = os.environ["DERIVATIONS_FRESH_FIGURES"]
if "DERIVATIONS_SESSION_RESULTS" not in os.environ:
    os.environ["DERIVATIONS_SESSION_RESULTS"] = tempfile.mkdtemp(prefix="derivations-results-")
os.environ["DERIVATIONS_RESULTS"] = os.environ["DERIVATIONS_SESSION_RESULTS"]

#: Test files (and the notebooks) that read most claims: when any is collected, all claims are computed up front.
_READERS = ("notebooks/", "tests/test_mutations.py", "tests/test_report.py", "tests/test_registry.py")


def pytest_collection_modifyitems(session, config, items):
    last = [i for i in items if i.nodeid.startswith("tests/test_freshness.py")]
    items[:] = [i for i in items if i not in last] + last
    if any(i.nodeid.startswith(_READERS) for i in items):
        from derivations.registry import claims, run_all

        gc.freeze()                            # SymPy's many short-lived objects: see derivations/__main__.py
        gc.set_threshold(50_000, 20, 20)
        run_all(claims(), jobs=os.cpu_count() or 1)
