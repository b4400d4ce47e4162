"""Reusable check builders: turn a printed formula into :class:`Evidence`.

:func:`equation` handles the note's ``=`` steps. It compares the formula as
printed with the exact expression derived from :mod:`derivations.symbolic`,

* symbolically, for a general ``K`` and for concrete ``K``;
* numerically, at random logits (several ``K``, several scales), against the
  independent NumPy implementation in :mod:`derivations.numeric`;

and, when the printed form is not an identity, under the claim's assumption
and for the corrected form, with a counterexample confirmed in mpmath.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from .registry import Counterexample, Evidence, Fact
from .symbolic import Logits, is_zero

__all__ = ["Assumption", "OTHERS_ZERO", "equation", "sample_logits", "rng_for", "agreement"]

#: Concrete K at which symbolic identities are also checked.
SYMBOLIC_K = (2, 3, 4)
#: Concrete K and logit scales at which numeric checks sample.
NUMERIC_K = (2, 3, 5, 10)
SCALES = (0.1, 1.0, 10.0, 100.0)
POINTS = 64
#: Relative agreement demanded of two float64 evaluations of the same quantity.
RTOL = 1e-9
#: A discrepancy this large (relative) counts as a counterexample.
CE_RTOL = 1e-3


def rng_for(key: str) -> np.random.Generator:
    """A generator seeded from ``key`` (stable across runs and machines).

    >>> float(rng_for("x").random()) == float(rng_for("x").random())
    True
    """
    return np.random.default_rng(zlib.crc32(key.encode()))


def sample_logits(rng: np.random.Generator, K: int, scale: float, n: int = POINTS) -> np.ndarray:
    """``n`` logit vectors with entries uniform in ``[-scale, scale]``, shape ``(n, K)``.

    >>> sample_logits(rng_for("s"), 3, 1.0, n=4).shape
    (4, 3)
    """
    return rng.uniform(-scale, scale, size=(n, K))


def agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise relative discrepancy ``|a - b| / max(1, |b|)``.

    >>> agreement(np.array([1.0, 3.0]), np.array([1.0, 2.0])).tolist()
    [0.0, 0.5]
    """
    return np.abs(a - b) / np.maximum(1.0, np.abs(b))


@dataclass(frozen=True)
class Assumption:
    """A named restriction of the inputs, applied symbolically and numerically."""

    name: str
    apply: Callable[[Logits, sp.Expr], sp.Expr]
    restrict: Callable[[np.ndarray], np.ndarray]


#: The note's unstated assumption in the hard-label chain: z_j = 0 for j != 1.
OTHERS_ZERO = Assumption(
    name="every logit but the true class's is zero (z_j = 0 for j != 1)",
    apply=lambda x, e: x.others_zero(e),
    restrict=lambda z: np.concatenate([z[:, :1], np.zeros_like(z[:, 1:])], axis=1),
)

Formula = Callable[[Logits], sp.Expr]


def _symbolic_zero(diff: Formula, general: bool, what: str, facts: list[Fact],
                   transform=lambda x, e: e) -> bool:
    """Is ``diff`` identically zero? Checked for general K (if asked) and concrete K."""
    results = {}
    if general:
        x = Logits()
        results["general K"] = is_zero(transform(x, diff(x)), force_log=True)
    for K in SYMBOLIC_K:
        x = Logits(K)
        results[f"K={K}"] = is_zero(transform(x, diff(x)))
    verdicts = set(results.values())
    same = len(verdicts) == 1
    value = results.get("general K", all(results.values()))
    where = ", ".join(results)
    if same:
        text = f"{what}: {'zero' if value else 'not zero'} ({where})"
    else:
        text = f"{what}: general and concrete K disagree: " + ", ".join(
            f"{k} {'zero' if v else 'not zero'}" for k, v in results.items())
    facts.append(Fact("symbolic", text, same))
    return value


def _numeric(formula: Formula, reference, key: str, restrict=None):
    """Evaluate ``formula`` (lambdified) and ``reference`` at random logits.

    Returns ``(max discrepancy, worst point, K at worst point)``.
    """
    rng = rng_for(key)
    worst = (-1.0, None, None)
    for K in NUMERIC_K:
        x = Logits(K)
        f = sp.lambdify(x.symbols, formula(x), "numpy")
        for scale in SCALES:
            z = sample_logits(rng, K, scale)
            if restrict is not None:
                z = restrict(z)
            with np.errstate(all="ignore"):
                a = np.broadcast_to(np.asarray(f(*z.T), dtype=float), (len(z),))
            d = agreement(a, reference(z))
            i = int(np.nanargmax(np.where(np.isnan(d), np.inf, d)))
            di = float(np.inf if np.isnan(d[i]) else d[i])
            if di > worst[0]:
                worst = (di, z[i], K)
    return worst


def _mp_value(formula: Formula, z: np.ndarray) -> float:
    """``formula`` at logits ``z`` in mpmath, 50 digits."""
    x = Logits(len(z))
    f = sp.lambdify(x.symbols, formula(x), "mpmath")
    with mpmath.workdps(50):
        return float(f(*[mpmath.mpf(float(v)) for v in z]))


def _counterexample(printed: Formula, exact: Formula, reference, key: str, facts: list[Fact],
                    parameters: dict | None = None):
    """Search random logits for the largest printed-vs-reference discrepancy."""
    d, z, K = _numeric(printed, reference, key + "/counterexample")
    found = d > CE_RTOL
    if not found:
        facts.append(Fact("numeric", f"no counterexample found (largest discrepancy {d:.2g})", False, d))
        return None
    z = np.array([float(f"{v:.3g}") for v in z])  # the point as shown, so a reader can recompute it
    p, q = _mp_value(printed, z), _mp_value(exact, z)
    real = abs(p - q) > CE_RTOL * max(1.0, abs(q))
    ce = Counterexample("value of the line", p, q, K=len(z), z=tuple(float(v) for v in z), parameters=parameters or {})
    facts.append(Fact("numeric", f"counterexample at {ce.point()} confirmed in mpmath", real))
    return ce


def equation(
    printed: Formula,
    exact: Formula,
    reference: Callable[[np.ndarray], np.ndarray],
    assumption: Assumption | None = None,
    corrected: Formula | None = None,
    general: bool = True,
    key: str = "",
) -> Callable[[], Evidence]:
    """A check for a printed ``=`` step: ``printed(x)`` against ``exact(x)``.

    ``reference(z)`` computes the exact value numerically for logits ``z`` of
    shape ``(n, K)`` with the NumPy library. ``assumption`` and ``corrected``
    mirror the claim's fields. ``general=False`` skips the general-K symbolic
    check (for formulas only written for concrete K).

    >>> from derivations.symbolic import log_sum_exp
    >>> from derivations.numeric import log_sum_exp as lse
    >>> check = equation(lambda x: log_sum_exp(x), lambda x: log_sum_exp(x), lse, key="doc")
    >>> check().holds
    True
    """

    def check() -> Evidence:
        facts: list[Fact] = []
        holds = _symbolic_zero(lambda x: printed(x) - exact(x), general, "printed - exact", facts)
        ev = Evidence(holds=holds, facts=facts)
        if holds:
            d, _, _ = _numeric(printed, reference, key + "/agree")
            facts.append(Fact("numeric", f"printed form matches NumPy at random logits (rel. tol {RTOL:g})", d <= RTOL, d))
            return ev
        ev.counterexample = _counterexample(printed, exact, reference, key, facts)
        if assumption is not None:
            ev.holds_under = _symbolic_zero(
                lambda x: printed(x) - exact(x), general, "printed - exact under the assumption",
                facts, transform=assumption.apply,
            )
            if ev.holds_under:
                d, _, _ = _numeric(printed, reference, key + "/assumed", restrict=assumption.restrict)
                facts.append(Fact("numeric", "under the assumption, printed form matches NumPy "
                                  f"(rel. tol {RTOL:g})", d <= RTOL, d))
        if corrected is not None:
            ok = _symbolic_zero(lambda x: corrected(x) - exact(x), general, "corrected - exact", facts)
            d, _, _ = _numeric(corrected, reference, key + "/corrected")
            facts.append(Fact("numeric", f"corrected form matches NumPy at random logits (rel. tol {RTOL:g})", d <= RTOL, d))
            ev.corrected_ok = ok and d <= RTOL
        return ev

    return check
