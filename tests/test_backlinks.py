"""The back-links: each library function's "Checked by:" line names exactly the claims whose checks call it.

The ids are computed from the registry (``audit/backlinks.py`` follows each claim's check through the code it
reaches), so a line that names a claim which does not call the function, or misses one which does, fails here;
``python -m audit.backlinks --write`` rewrites the lines.
"""
from __future__ import annotations

import inspect

import pytest

from audit.backlinks import _reached, checked_by, problem, public_functions


@pytest.mark.parametrize("name", sorted(public_functions()))
def test_the_back_link_is_the_computed_one(name):
    doc = inspect.getdoc(public_functions()[name]) or ""
    found = problem(doc, checked_by()[name])
    assert found is None, f"{name}: {found} (python -m audit.backlinks --write)"


def test_every_claim_is_followed_to_some_function():
    """The search reaches into every chapter with claims: a claim of each calls some library function."""
    from derivations.chapters import claims

    reached = {cid.split(".")[0] for ids in checked_by().values() for cid in ids}
    assert reached == {c.id.split(".")[0] for c in claims()}


def test_the_search_follows_closures_globals_and_modules_but_not_the_engine():
    from derivations.engine import checks
    from derivations.library import numeric as num

    targets = {id(num.softmax): "softmax", id(num.log_sum_exp): "lse"}
    in_closure = (lambda f: lambda: f)(num.softmax)                   # handed to a closure: followed
    assert _reached(in_closure, targets) == set()                     # a lambda of this test module: not chapter code
    assert _reached(checks.against(num.softmax, None), targets) == {"softmax"}   # engine closure cells
    assert _reached(checks.largest, targets) == set()                 # the engine's own code is not followed


def _documented():
    """Every function of the package whose docstring has a ``Used in:`` line, with its docstring."""
    import importlib
    import pkgutil

    import derivations

    out = {}
    for info in pkgutil.walk_packages(derivations.__path__, "derivations."):
        module = importlib.import_module(info.name)
        for name, f in inspect.getmembers(module, inspect.isfunction):
            doc = inspect.getdoc(f) or ""
            if f.__module__ == module.__name__ and "\nUsed in:" in "\n" + doc:
                out[f"{info.name}.{name}"] = (f, doc)
    return out


@pytest.mark.parametrize("name", sorted(_documented()))
def test_every_used_in_line_names_what_reaches_the_function(name):
    """A ``Used in:`` line may name chapters, claims and functions of its module: each must reach the function
    (the chapter from its own code, its notebook's imports or its claims; a claim from its check)."""
    from audit.backlinks import used_in_problem

    f, doc = _documented()[name]
    found = used_in_problem(f, doc)
    assert found is None, f"{name}: {found}"


def test_a_wrong_used_in_line_is_caught():
    from audit.backlinks import used_in_problem
    from derivations.library import numeric

    assert used_in_problem(numeric.lse_parts, "Used in: softmax") == "softmax does not call it"
    assert used_in_problem(numeric.lse_parts, "Used in: ch1.softmax") == "ch1.softmax's check does not reach it"
    assert used_in_problem(numeric.rowwise_max, "Used in: chapter 1") == "chapter 1 does not reach it"
    assert used_in_problem(numeric.rowwise_max, "Used in: chapter 4 (through row_softmax)") is None
