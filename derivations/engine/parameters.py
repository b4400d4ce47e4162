"""The values a reader may set, and how they are checked: the mechanism of ``make run NAME=value``.

A :class:`Parameter` is a name, a kind (integer or real) and a range; a
:class:`Chapter` is a notebook with the parameters it reads and their defaults.
The three every chapter may read (``K``, ``EPS``, ``SEED``) are :data:`COMMON`;
a chapter declares any other parameter it reads in its own folder
(``derivations/chapters/chN/__init__.py``). :class:`Chapters` holds the chapters
found there (:data:`derivations.chapters.CHAPTERS`, by discovery) and checks values
against them. A value is read from text once, by :meth:`Chapters.parse_all` (the runner,
:mod:`derivations.runner`: ``make run K=1000``, ``soft-targets run --set K=1000``), which refuses an
unknown name, a value out of range, or a ``K`` above a selected chapter's maximum *before any
notebook runs*, naming every bad value; from there it travels as a number: the runner writes it
into the notebook's ``parameters`` cell (which holds its chapter's defaults: a test keeps them
in step), and the next cell hands the numbers to :meth:`Chapters.check`, so that a value typed
by hand in Jupyter is refused with the same ranges. The check's answer (:class:`Values`) also
says where the notebook's figures go (:attr:`Values.figures`), an argument of every figure.

>>> book = Chapters([Chapter(1, "01_a", {"K": 10}, k_max=100_000), Chapter(4, "04_b", {"K": 4, "EPS": 0.1}, k_max=1000)])
>>> book.parse("K", "1000", chapters=[4])
1000
>>> book.parse("K", "5000", chapters=[1, 4])
Traceback (most recent call last):
...
ValueError: K must be an integer in [2, 1000] for chapter 4 (notebooks/04_b.ipynb); got '5000'. Chapters 1 accept K up to 100000: run them alone with CHAPTERS=1
>>> book.parse("EPS", "1.5", chapters=[4])
Traceback (most recent call last):
...
ValueError: EPS must be a number in [0, 1]; got '1.5'
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Parameter", "Chapter", "Chapters", "COMMON", "ParameterError", "BadValues", "Values", "run_folder_name"]


class ParameterError(ValueError):
    """A value typed in a notebook's parameters cell, refused by :meth:`Chapters.check`.

    IPython (Jupyter, nbclient) shows an exception that has ``_render_traceback_`` as the
    lines it returns: here one line, the parameter, its range and what to type in the
    notebook, with no traceback. Elsewhere it is a plain ``ValueError``.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class BadValues(ValueError):
    """Every value :meth:`Chapters.parse_all` refused, one message each (:attr:`errors`), one a line."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


class Values(dict):
    """A chapter's values, as a notebook shows them: one line, "On this page: $K = 10$, $\\epsilon = 0.1$, seed 0."

    >>> Values({"K": 100000, "EPS": 0.5, "SEED": 3, "N_MC": 100000})
    On this page: K = 100,000, ε = 0.5, seed 3, N_MC = 100,000.

    :meth:`Chapters.check` makes them, with the chapter, the values that differ from its defaults
    (:attr:`changed`) and the folder asked for the figures (``None``: the default), from which
    :attr:`figures` says where they go.
    """

    def __init__(self, values=(), chapter: int | None = None, changed: dict | None = None, figures=None):
        super().__init__(values)
        self.chapter, self.changed, self.requested = chapter, dict(changed or {}), figures

    @property
    def figures(self):
        """The folder this notebook's figures are written to (:func:`derivations.engine.figures.destination`):
        the one asked for, except the committed ``figures/`` for values other than the defaults."""
        from derivations.engine.figures import destination

        return destination(self.changed, self.requested)

    _MATH = {"K": "K", "EPS": r"\epsilon"}
    _TEXT = {"K": "K", "EPS": "ε"}

    @staticmethod
    def _number(v) -> str:
        return f"{v:,}" if isinstance(v, int) else f"{v:g}"

    def _items(self, md: bool) -> list[str]:
        out = []
        for name, v in self.items():
            n = self._number(v)
            if name in self._MATH:
                out.append(f"${self._MATH[name]} = {n.replace(',', '{,}')}$" if md else f"{self._TEXT[name]} = {n}")
            elif name == "SEED":
                out.append(f"seed {n}")
            else:
                out.append(f"`{name}` = {n}" if md else f"{name} = {n}")
        return out

    def _repr_markdown_(self) -> str:
        return "On this page: " + ", ".join(self._items(md=True)) + "."

    def __repr__(self) -> str:
        return "On this page: " + ", ".join(self._items(md=False)) + "."


@dataclass(frozen=True)
class Parameter:
    """A value a reader may set: integer or real, in ``[low, high]`` (``high=None``: unbounded)."""

    name: str
    kind: type
    low: float
    high: float | None
    meaning: str

    def valid(self, high: float | None = None) -> str:
        hi = self.high if high is None else high
        what = "an integer" if self.kind is int else "a number"
        return f"{what} >= {self.low:g}" if hi is None else f"{what} in [{self.low:g}, {hi:g}]"


#: The parameters any chapter may read, in this order (a chapter's own follow, in chapter order).
COMMON: tuple[Parameter, ...] = (
    Parameter("K", int, 2, None, "number of classes"),
    Parameter("EPS", float, 0.0, 1.0, "the note's smoothing parameter eps = flip probability"),
    Parameter("SEED", int, 0, None, "seed of every random draw of the chapter"),
)


@dataclass(frozen=True)
class Chapter:
    """A chapter: its number, its notebook (``notebooks/<notebook>.ipynb``), the parameters it reads with their
    defaults, the largest K it accepts, and the parameters of its own (beyond :data:`COMMON`)."""

    number: int
    notebook: str
    defaults: dict
    k_max: int | None = None
    own: tuple[Parameter, ...] = field(default=())

    @property
    def path(self) -> str:
        return f"notebooks/{self.notebook}.ipynb"


def _number(p: Parameter, raw):
    """``raw`` as a value of ``p``'s kind: text as typed (``"1000"``, never ``"1e3"`` for an integer), or a number
    as a notebook holds it (an integer, or a float with an integer's value, for an integer parameter; never a bool).
    ``ValueError`` for anything else, a non-finite number included."""
    if isinstance(raw, str):
        text = raw.strip()
        if p.kind is int:
            if not text.lstrip("+").isdigit() and not (text.startswith("-") and text[1:].isdigit()):
                raise ValueError
            return int(text)
        v = float(text)
    elif isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError
    elif p.kind is int:
        if not math.isfinite(raw) or int(raw) != raw:
            raise ValueError
        return int(raw)
    else:
        v = float(raw)
    if not math.isfinite(v):
        raise ValueError
    return v


class Chapters(Mapping):
    """The chapters by number, and the checks of a reader's values against them."""

    def __init__(self, chapters: Iterable[Chapter]):
        self._by_number = {c.number: c for c in sorted(chapters, key=lambda c: c.number)}
        params: dict[str, Parameter] = {p.name: p for p in COMMON}
        for c in self._by_number.values():
            for p in c.own:
                if params.setdefault(p.name, p) != p:
                    raise ValueError(f"chapter {c.number} declares {p.name} unlike another chapter: {p}")
            unknown = sorted(set(c.defaults) - set(params))
            if unknown:
                raise ValueError(f"chapter {c.number} reads {unknown}, which no chapter declares")
        #: Every parameter some chapter reads, in canonical order.
        self.parameters = {n: p for n, p in params.items() if any(n in c.defaults for c in self._by_number.values())}

    def __getitem__(self, number: int) -> Chapter:
        return self._by_number[number]

    def __iter__(self):
        return iter(self._by_number)

    def __len__(self) -> int:
        return len(self._by_number)

    def parse(self, name: str, text, chapters=None):
        """Parse ``text`` as parameter ``name`` for the given chapters (default: all that read it).

        ``ValueError`` names the parameter, its valid range and the value; for K it
        names the chapter whose maximum is exceeded.
        """
        if name not in self.parameters:
            raise ValueError(f"unknown parameter {name!r}; known: {', '.join(self.parameters)}")
        chosen = [self[c] for c in (chapters if chapters is not None else self)]
        readers = [c for c in chosen if name in c.defaults]
        if not readers:
            who = ", ".join(str(c.number) for c in self.values() if name in c.defaults)
            raise ValueError(f"{name} is read only by chapter(s) {who}, which are not selected")
        return self._value(name, str(text), readers)

    def _value(self, name: str, raw, readers: list[Chapter]):
        """``raw`` (text, or a number) as parameter ``name``'s value, in its range and below the K maximum of every
        chapter of ``readers``; else ``ValueError`` naming the parameter, its range and ``raw``: the one place a
        value is judged."""
        p = self.parameters[name]
        got = repr(raw.strip()) if isinstance(raw, str) else repr(raw)
        try:
            v = _number(p, raw)
        except (ValueError, OverflowError):
            v = None
        if v is None or v < p.low or (p.high is not None and v > p.high):
            raise ValueError(f"{name} must be {p.valid()}; got {got}")
        if name == "K":
            for c in readers:
                if c.k_max is not None and v > c.k_max:
                    raise ValueError(f"K must be an integer in [2, {c.k_max}] for chapter {c.number} ({c.path}); "
                                     f"got {got}{self._larger_k_hint(c)}")
        return v

    def _larger_k_hint(self, c: Chapter) -> str:
        larger = [o for o in self.values() if "K" in o.defaults and o.k_max and o.k_max > c.k_max]
        if not larger:
            return ""
        nums = ", ".join(str(o.number) for o in larger)
        return (f". Chapters {nums} accept K up to {max(o.k_max for o in larger)}: run them alone "
                f"with CHAPTERS={','.join(str(o.number) for o in larger)}")

    def parse_all(self, items, chapters=None) -> dict:
        """``["K=1000", "EPS=0.05"]`` -> ``{"K": 1000, "EPS": 0.05}``, each value checked by :meth:`parse`; the
        one place where a reader's values are read from text. :class:`BadValues` names every bad one.

        >>> book = Chapters([Chapter(2, "02_a", {"K": 10, "EPS": 0.1})])
        >>> book.parse_all(["EPS=0.05", "K=1000"])
        {'K': 1000, 'EPS': 0.05}
        >>> book.parse_all(["K=1", "EPS", "Q=2", "K=3"])
        Traceback (most recent call last):
        ...
        derivations.engine.parameters.BadValues: K must be an integer >= 2; got '1'
        a setting is NAME=VALUE; got 'EPS'
        unknown parameter 'Q'; known: K, EPS
        K is set twice
        """
        out, seen, errors = {}, set(), []
        for item in items:
            name, sep, text = str(item).partition("=")
            name = name.strip()
            try:
                if not sep:
                    raise ValueError(f"a setting is NAME=VALUE; got {item!r}")
                if name in seen:
                    raise ValueError(f"{name} is set twice")
                seen.add(name)
                out[name] = self.parse(name, text, chapters)
            except ValueError as e:
                errors.append(str(e))
        if errors:
            raise BadValues(errors)
        return {n: out[n] for n in self.parameters if n in out}          # canonical order

    def check(self, chapter: int, figures=None, **values) -> Values:
        """Validate a chapter's values, the numbers of its notebook's parameters cell, against the ranges the
        runner applies (:meth:`_value`; for values typed by hand in a notebook).

        Returns the values (:class:`Values`: a notebook shows them as one line; their ``figures`` is where
        the notebook's figures go, from the folder ``figures`` asks for); :class:`ParameterError` (a
        ``ValueError``) for a missing, unknown or invalid one, in one line that says what to type
        in the notebook's parameters cell.

        >>> Chapters([Chapter(2, "02_a", {"K": 10, "EPS": 0.1})]).check(2, K=10, EPS=0.1)
        On this page: K = 10, ε = 0.1.
        >>> Chapters([Chapter(2, "02_a", {"K": 10, "EPS": 0.1})]).check(2, K=1, EPS=0.1)
        Traceback (most recent call last):
        ...
        derivations.engine.parameters.ParameterError: K must be an integer >= 2 for chapter 2; got 1. In this notebook's parameters cell (the first code cell) type a value in that range, e.g. K = 10 (the default), then run the notebook again
        """
        c = self[chapter]
        missing = sorted(set(c.defaults) - set(values))
        extra = sorted(set(values) - set(c.defaults))
        if missing or extra:
            raise ParameterError(f"chapter {chapter} reads {', '.join(c.defaults)}; missing {missing}, unknown "
                                 f"{extra}. The parameters cell of its notebook (the first code cell) sets "
                                 + ", ".join(f"{n} = {v!r}" for n, v in c.defaults.items()))
        for name, v in values.items():
            try:
                self._value(name, v, [c])
            except ValueError:
                p = self.parameters[name]
                high = c.k_max if name == "K" and c.k_max is not None else p.high
                raise ParameterError(
                    f"{name} must be {p.valid(high)} for chapter {chapter}; got {v!r}. In this notebook's parameters "
                    f"cell (the first code cell) type a value in that range, e.g. {name} = {c.defaults[name]!r} "
                    f"(the default), then run the notebook again") from None
        changed = {n: v for n, v in values.items() if v != c.defaults[n]}
        return Values({n: values[n] for n in c.defaults}, chapter=chapter, changed=changed, figures=figures)

    def run_folder_name(self, values: dict) -> str:
        """The folder under ``build/runs/`` for these values: ``K=1000_EPS=0.05`` (canonical order).

        >>> Chapters([Chapter(2, "02_a", {"K": 10, "EPS": 0.1})]).run_folder_name({"EPS": 0.05, "K": 1000})
        'K=1000_EPS=0.05'
        """
        return run_folder_name(values, self.parameters)


def run_folder_name(values: dict, order: Iterable[str] = ()) -> str:
    """``K=1000_EPS=0.05``: the values in the order of ``order`` (names it does not list last, as given)."""
    order = list(order)
    names = [n for n in order if n in values] + [n for n in values if n not in order]
    return "_".join(f"{n}={values[n]!r}" for n in names)
