"""Every parameter a chapter reads: its name, range, default, and which chapters read it.

One home for the values a reader may set with ``make run NAME=value``. The
runner (``tools/run_notebooks.py``) refuses an unknown name, a value out of
range, or a ``K`` above a selected chapter's maximum *before any notebook runs*;
each notebook's ``parameters`` cell holds the defaults below (a test keeps them
in step) and its next cell calls :func:`check` so a value typed by hand in
Jupyter is refused the same way.

Chapters 1-3 are closed forms and sampling, linear in K: they accept K up to
100,000. Chapter 4 trains models whose cost grows with K times the data size:
it accepts K up to 1,000 (see ``derivations.training.TrainingPlan``). Chapter 5 does not read K: its data
(scikit-learn's digits) have K = 10 classes; its SEED is the first of five seeds.

>>> parse("K", "1000", chapters=[4])
1000
>>> parse("K", "5000", chapters=[1, 4])
Traceback (most recent call last):
...
ValueError: K must be an integer in [2, 1000] for chapter 4 (notebooks/04_training.ipynb); got '5000'. Chapters 1, 2, 3 accept K up to 100000: run them alone with CHAPTERS=1,2,3
>>> parse("EPS", "1.5", chapters=[2])
Traceback (most recent call last):
...
ValueError: EPS must be a number in [0, 1]; got '1.5'
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Parameter", "Chapter", "PARAMETERS", "CHAPTERS", "parse", "parse_all", "check", "run_folder_name"]


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


@dataclass(frozen=True)
class Chapter:
    """A chapter notebook and the parameters it reads, with their defaults."""

    number: int
    notebook: str
    defaults: dict
    k_max: int | None = None

    @property
    def path(self) -> str:
        return f"notebooks/{self.notebook}.ipynb"


PARAMETERS: dict[str, Parameter] = {p.name: p for p in (
    Parameter("K", int, 2, None, "number of classes"),
    Parameter("EPS", float, 0.0, 1.0, "the note's smoothing parameter eps = flip probability"),
    Parameter("SEED", int, 0, None, "seed of every random draw of the chapter"),
    Parameter("N_DRAWS", int, 100, 10_000_000, "flips per sampling check (chapter 3)"),
    Parameter("N_MC", int, 100, 10_000_000, "flips in the Monte Carlo convergence check (chapter 3)"),
    Parameter("N_FREE", int, 50, 2000, "examples of the free-logit model (chapter 4)"),
    Parameter("N_TRAIN", int, 200, 10_000, "training examples of softmax regression (chapter 4)"),
    Parameter("N_TEST", int, 100, 10_000, "held-out examples of softmax regression (chapter 4)"),
)}

CHAPTERS: dict[int, Chapter] = {c.number: c for c in (
    Chapter(0, "00_overview", {}),
    Chapter(1, "01_hard_labels", {"K": 10, "SEED": 0}, k_max=100_000),
    Chapter(2, "02_soft_labels", {"K": 10, "EPS": 0.1, "SEED": 0}, k_max=100_000),
    Chapter(3, "03_label_flipping", {"K": 10, "EPS": 0.1, "SEED": 0, "N_DRAWS": 200_000, "N_MC": 100_000},
            k_max=100_000),
    Chapter(4, "04_training", {"K": 4, "EPS": 0.1, "SEED": 0, "N_FREE": 400, "N_TRAIN": 2000, "N_TEST": 2000},
            k_max=1000),
    Chapter(5, "05_real_data", {"EPS": 0.1, "SEED": 0}),
)}


def _number(p: Parameter, text: str):
    text = text.strip()
    if p.kind is int:
        if not text.lstrip("+").isdigit() and not (text.startswith("-") and text[1:].isdigit()):
            raise ValueError
        return int(text)
    v = float(text)
    if not math.isfinite(v):
        raise ValueError
    return v


def parse(name: str, text, chapters=None):
    """Parse ``text`` as parameter ``name`` for the given chapters (default: all that read it).

    ``ValueError`` names the parameter, its valid range and the value; for K it
    names the chapter whose maximum is exceeded.
    """
    if name not in PARAMETERS:
        raise ValueError(f"unknown parameter {name!r}; known: {', '.join(PARAMETERS)}")
    p = PARAMETERS[name]
    chosen = [CHAPTERS[c] for c in (chapters if chapters is not None else CHAPTERS)]
    readers = [c for c in chosen if name in c.defaults]
    if not readers:
        who = ", ".join(str(c.number) for c in CHAPTERS.values() if name in c.defaults)
        raise ValueError(f"{name} is read only by chapter(s) {who}, which are not selected")
    text = str(text)
    try:
        v = _number(p, text)
    except ValueError:
        raise ValueError(f"{name} must be {p.valid()}; got {text.strip()!r}") from None
    if v < p.low or (p.high is not None and v > p.high):
        raise ValueError(f"{name} must be {p.valid()}; got {text.strip()!r}")
    if name == "K":
        for c in readers:
            if c.k_max is not None and v > c.k_max:
                hint = ""
                larger = [o for o in CHAPTERS.values() if "K" in o.defaults and o.k_max and o.k_max > c.k_max]
                if larger:
                    nums = ", ".join(str(o.number) for o in larger)
                    hint = (f". Chapters {nums} accept K up to {max(o.k_max for o in larger)}: run them alone "
                            f"with CHAPTERS={','.join(str(o.number) for o in larger)}")
                raise ValueError(f"K must be an integer in [2, {c.k_max}] for chapter {c.number} ({c.path}); "
                                 f"got {text.strip()!r}{hint}")
    return v


def parse_all(items, chapters=None) -> dict:
    """``["K=1000", "EPS=0.05"]`` -> ``{"K": 1000, "EPS": 0.05}``, each value checked by :func:`parse`.

    >>> parse_all(["EPS=0.05", "K=1000"])
    {'K': 1000, 'EPS': 0.05}
    """
    out = {}
    for item in items:
        name, sep, text = str(item).partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"a setting is NAME=VALUE; got {item!r}")
        if name in out:
            raise ValueError(f"{name} is set twice")
        out[name] = parse(name, text, chapters)
    return {n: out[n] for n in PARAMETERS if n in out}          # canonical order


def check(chapter: int, **values) -> dict:
    """Validate a chapter's values as the runner does (for values typed by hand in a notebook).

    Returns the values; ``ValueError`` for a missing, unknown or invalid one.

    >>> check(2, K=10, EPS=0.1, SEED=0)
    {'K': 10, 'EPS': 0.1, 'SEED': 0}
    """
    c = CHAPTERS[chapter]
    missing = sorted(set(c.defaults) - set(values))
    extra = sorted(set(values) - set(c.defaults))
    if missing or extra:
        raise ValueError(f"chapter {chapter} reads {', '.join(c.defaults)}; missing {missing}, unknown {extra}")
    for name, v in values.items():
        p = PARAMETERS[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (p.kind is int and int(v) != v):
            raise ValueError(f"{name} must be {p.valid()}; got {v!r}")
        parse(name, repr(int(v) if p.kind is int else float(v)), [chapter])
    return dict(values)


def run_folder_name(values: dict) -> str:
    """The folder under ``build/runs/`` for these values: ``K=1000_EPS=0.05`` (canonical order).

    >>> run_folder_name({"EPS": 0.05, "K": 1000})
    'K=1000_EPS=0.05'
    """
    return "_".join(f"{n}={values[n]!r}" for n in PARAMETERS if n in values)
