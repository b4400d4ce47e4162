"""The generator of the live figures' formulas (tools/live_figures.py), without a browser.

What the browser computes is checked in tests/test_site.py, on the built book. Here: the generator's own checks
refuse a wrong reduction and a wrong stable form, and the file it writes holds every quantity, from a registered
claim, as plain JavaScript.
"""
from __future__ import annotations

import re

import pytest
import sympy as sp

from tools import live_figures as lf


def test_a_reduction_that_differs_from_the_claim_is_refused():
    q = next(q for q in lf.QUANTITIES if q.name == "ch2_target_other")
    right = lf._reduced(q)
    lf._check_reduction(q, right)
    with pytest.raises(lf.ReductionError, match="differs from ch2.soft_target at K = 2"):
        lf._check_reduction(q, right * (1 + lf.SYMBOLS["epsilon"] / 1000))


def test_a_stable_form_that_differs_is_refused(monkeypatch):
    q = next(q for q in lf.QUANTITIES if q.name == "ch1_lower")
    reduced = lf._reduced(q)
    lf._stable_form(q, reduced)
    monkeypatch.setattr(lf, "_stable", lambda e: e.replace(lambda a: isinstance(a, sp.log), lambda a: sp.log(a.args[0] + 1)))
    with pytest.raises(lf.ReductionError, match="ch1_lower: the stable form"):
        lf._stable_form(q, reduced)


def test_a_family_sums_its_given_classes_and_k_minus_n_times_the_others():
    g, K = lf.SYMBOLS["g"], lf.K
    f = lf.Family(g, 1, rest=0)
    assert sp.simplify(f.sum(lambda j: sp.exp(f.z(j))) - (sp.exp(g) + sp.E + K - 2)) == 0
    assert sp.simplify(f.sum(lambda j: sp.KroneckerDelta(j, 1) * f.z(j), start=1) - g) == 0
    assert f.sum(lambda j: f.z(j), start=2) == 1


def test_the_generated_file_holds_every_quantity_as_plain_javascript():
    from derivations.chapters import get

    text = lf.ensure().read_text(encoding="utf-8")
    for q in lf.QUANTITIES:
        get(q.claim)                                     # a registered claim
        body = re.search(rf"F\.{q.name} = function \(([^)]*)\) \{{\n    return (.*?);\n  }};", text, re.S)
        assert body and body[1] == ", ".join(q.args), q.name
        assert not re.search(r"Sum|Piecewise|KroneckerDelta|zoo|nan|oo\b|(?<!Math\.)log1p\(|\bI\b", body[2]), (q.name, body[2])
