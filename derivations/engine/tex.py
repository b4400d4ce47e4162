r"""Numbers and small formulas as LaTeX, for the texts a reader reads (mathematics between ``$``).

Every text a reader reads writes its mathematics in LaTeX between ``$...$`` (Markdown + MathJax in the
notebooks, the book, the PDF; a plain-text form for the terminal is made from the same source). These helpers
format what a check computes, numbers above all, so that ``1.3e-15`` reads $1.3 \times 10^{-15}$:

>>> number(1.25e-15, ".2e"), number(0.5, ".3g"), number(-3.0, "g"), number(float("inf"))
('1.25 \\times 10^{-15}', '0.5', '-3', '\\infty')
>>> inline(2.5e-7, ".1e"), vector([1.0, -40.0, 0.25])
('$2.5 \\times 10^{-7}$', '(1, -40, 0.25)')
"""
from __future__ import annotations

import math
import re

__all__ = ["number", "inline", "vector", "cases"]

_E = re.compile(r"^(-?)(\d+(?:\.\d+)?)e([-+])0*(\d+)$")


def number(x, spec: str = ".6g") -> str:
    """``x`` formatted with ``spec`` (as ``format``), e-notation written as a power of ten (no ``$``)."""
    x = float(x)
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if math.isnan(x):
        return r"\mathrm{NaN}"
    s = format(x, spec)
    m = _E.match(s)
    if not m:
        return s
    sign, mant, esign, exp = m.groups()
    power = rf"10^{{{'-' if esign == '-' else ''}{exp}}}"
    return f"{sign}{power}" if float(mant) == 1 and "." not in mant else rf"{sign}{mant} \times {power}"


def inline(x, spec: str = ".6g") -> str:
    """:func:`number` between ``$``."""
    return f"${number(x, spec)}$"


def vector(values, spec: str = ".3g") -> str:
    """A tuple of numbers, ``(1, 0, 0)`` (no ``$``)."""
    return "(" + ", ".join(number(v, spec) for v in values) + ")"


def cases(results: dict) -> str:
    r"""The cases of an :func:`~derivations.engine.checks.each_k` result, in words and LaTeX.

    >>> cases({"general K": True, "K=2": True, "K=3": False})
    'general $K$ and $K = 2, 3$'
    >>> cases({"K=2": True})
    '$K = 2$'
    """
    concrete = [k.removeprefix("K=") for k in results if k != "general K"]
    parts = (["general $K$"] if "general K" in results else []) + ([f"$K = {', '.join(concrete)}$"] if concrete else [])
    return " and ".join(parts)
