"""The generator of the live figures' formulas (book/live_figures.py), without a browser.

What the browser computes is checked in tests/test_site.py, on the built book. Here: the generator's own checks
refuse a wrong reduction and a wrong stable form, and the file it writes holds every quantity, from a registered
claim, as plain JavaScript.
"""
from __future__ import annotations

import re

import pytest
import sympy as sp

from book import live_figures as lf


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


#: Arguments where a product inside a logarithm overflows or underflows in floating point (``(K-1)/eps`` is
#: ``Infinity`` below ``eps`` = 1.8e-308 (K-1), ``eps/(K-1)`` is 0 at 5e-324), and K at each end.
TINY_EPS, EDGE_KS = (5e-324, 1e-310, 1e-300), (2, 10, 100_000)
#: A few roundings of 2^-53 relative each, and in the subnormal range the spacing of the doubles there.
FLOAT_RTOL, FLOAT_ATOL = 16 * 2.0 ** -53, 4 * 2.0 ** -1074


def test_no_logarithm_of_a_product_overflows_at_the_smallest_eps():
    """The optimal gap, the minimum loss and the loss variance at the optimum, as the browser evaluates them (floating
    point, the printed form), are finite at the smallest eps and within a few roundings of the registered expression
    (mpmath, at a precision that holds 1 - 5e-324); unsplit, the gap and the variance were Infinity at 1e-310."""
    import mpmath
    import numpy as np

    S = lf.SYMBOLS
    for name in ("ch2_opt_gap", "ch2_min_loss", "ch3_optimum_variance"):
        d = lf.derive(name)
        f = sp.lambdify([S["K"], S["epsilon"]], d.printed, modules=[{"log1p": np.log1p}, "numpy"])
        exact = sp.lambdify([S["K"], S["epsilon"]], d.reduced, modules="mpmath")
        for k in EDGE_KS:
            for eps in TINY_EPS:
                with np.errstate(over="raise", invalid="raise", divide="raise"), mpmath.workdps(400):
                    got, want = float(f(np.float64(k), np.float64(eps))), exact(mpmath.mpf(k), mpmath.mpf(eps))
                assert np.isfinite(got) and abs(got - want) <= FLOAT_RTOL * abs(want) + FLOAT_ATOL, (name, k, eps, got)


def test_at_the_uniform_edge_the_values_are_its_mathematics():
    """At eps = (K-1)/K exactly (which no double is): the uniform target 1/K, alpha 1, the optimal gap 0, the minimum
    loss log K, the loss variance at the optimum 0; each quantity of K and eps has its value there in the generated
    file (F.at_uniform), as plain JavaScript, and no other quantity has one."""
    K = lf.K
    want = {"ch2_target_true": 1 / K, "ch2_target_other": 1 / K, "ch2_alpha_of_eps": 1, "ch2_opt_gap": 0,
            "ch2_min_loss": sp.log(K), "ch3_flip_true": 1 / K, "ch3_flip_other": 1 / K, "ch3_flip_away": (K - 1) / K,
            "ch3_optimum_variance": 0, "ch3_gradient_trace": (K - 1) / K}
    text = lf.ensure().read_text(encoding="utf-8")
    for q in lf.QUANTITIES:
        got = lf.derive(q.name).at_uniform
        body = re.search(rf"F\.at_uniform\.{q.name} = function \(K\) \{{\n    return (.*?);\n  }};", text, re.S)
        if q.args != ("K", "epsilon"):
            assert got is None and body is None, q.name
            continue
        assert sp.simplify(got - want[q.name]) == 0, (q.name, got)
        assert body and not re.search(r"Piecewise|zoo|nan|epsilon", body[1]), (q.name, body)
    assert set(want) == {q.name for q in lf.QUANTITIES if q.args == ("K", "epsilon")}
