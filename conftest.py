"""Test-session set-up shared by the unit tests and nbval.

Notebooks executed by nbval write their figures into a temporary folder (the
kernels inherit ``DERIVATIONS_FIGURES``), never over the committed ``figures/``;
``tests/test_freshness.py`` then compares the two, and runs last.
"""
import os
import tempfile

import pytest

# set once per session (this module may be imported twice: by pytest and by the freshness test)
if "DERIVATIONS_FRESH_FIGURES" not in os.environ:
    os.environ["DERIVATIONS_FRESH_FIGURES"] = tempfile.mkdtemp(prefix="fresh-figures-")
os.environ["DERIVATIONS_FIGURES"] = os.environ["DERIVATIONS_FRESH_FIGURES"]


def pytest_collection_modifyitems(session, config, items):
    last = [i for i in items if i.nodeid.startswith("tests/test_freshness.py")]
    items[:] = [i for i in items if i not in last] + last
