"""Where chapter 5's claims hold: the experiment over the training set's size.

How over-confident hard labels leave the network, and so how much smoothing can help, depends on how many images
it fits (Guo et al., 2017, trace over-confidence to a network over-fitting its training loss). :func:`sweep` runs
the chapter's experiment, at its defaults but for the number of training images of each digit, at :data:`SIZES`
(3, the defaults; 10; 30; and 74, all that the split leaves), and keeps for each size what the claims test, with
intervals that resample the images and the seeds jointly and decisions that take the seed as the unit
(:mod:`derivations.chapters.ch5.inference`):

* ``over``: hard labels' mean confidence minus accuracy (over-confident when above 0);
* ``gain``: hard labels' test ECE minus that of the alpha chosen by validation NLL (smoothing helps when above 0);
* ``gap``: the ECE of that alpha minus that of hard labels after temperature scaling, fitted by the same criterion
  (about as well when inside the margin, :func:`~derivations.chapters.ch5.inference.equivalence`).

Training the networks of the larger sizes takes minutes (74 images of each digit: 740 images, 25 times the
defaults' 30), far beyond what a notebook run should cost, so the sweep is computed once, by

    python -m derivations.chapters.ch5.regimes --write

and stored in ``regimes.json`` beside this module, with the plan it ran.
The notebook reads it (:func:`load`), and draws the reader's own run over it. ``tests/test_ch5.py`` keeps the file
honest: its entry at the defaults is what the chapter computes at the defaults, to the digit, and a seed of another
size is trained again and agrees.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from derivations.chapters.ch5 import CHAPTER
from derivations.chapters.ch5 import worked as ch5
from derivations.chapters.ch5.inference import MARGIN, SEED_FALSE_ALARM, direction, equivalence

__all__ = ["SIZES", "FILE", "QUANTITIES", "Point", "plan_at", "point", "sweep", "load", "write", "where"]

#: Training images of each digit at which the sweep runs: the defaults' 3, then 10, 30, and 74 (all that a split
#: leaves after 50 validation and at least 50 test images of each digit).
SIZES = (3, 10, 30, 74)
#: Where the sweep is stored.
FILE = Path(__file__).with_name("regimes.json")
#: What each size keeps: name -> (what it is, the claim's relation to 0).
QUANTITIES = {
    "over": ("hard labels: mean confidence minus accuracy", ">"),
    "gain": ("test ECE of hard labels minus that of the alpha chosen by validation NLL", ">"),
    "gap": ("test ECE of the alpha chosen by validation NLL minus that of temperature scaling", "~"),
}
_DIGITS = 6


@dataclass(frozen=True)
class Point:
    """One quantity at one size: its value (mean over seeds), the seeds' own values, its 95% interval and its
    interval at :data:`~derivations.chapters.ch5.inference.SEED_FALSE_ALARM`, and the outcome of the claim's test
    there (``"confirmed"``, ``"refuted"``, ``"undecided"``)."""

    value: float
    per_seed: list
    ci95: list
    interval: list
    outcome: str


def plan_at(per_class: int) -> ch5.Plan:
    """The chapter's plan at its defaults, with ``per_class`` training images of each digit. At ``eps = 0`` it
    trains the sweep of alpha alone (nothing flips)."""
    d = CHAPTER.defaults
    return ch5.Plan(eps=0.0, seed=d["SEED"], seeds=d["N_SEEDS"], per_class=per_class, hidden=d["HIDDEN"],
                    steps=d["STEPS"])


def _round(v):
    return [round(float(a), _DIGITS) for a in v] if np.ndim(v) else round(float(v), _DIGITS)


def point(x: ch5.Experiment) -> dict:
    """What the sweep keeps of one experiment (see the module's docstring), with its selected alphas and how far the
    training loss ends above its minimum: hard labels', and the largest of the smoothed networks'."""
    r = x.results
    chosen, tempered = ch5.CRITERIA[ch5.CLAIMED]
    ece = {n: r.lines[n].stats["ECE width"] for n in ("hard labels", chosen, tempered)}
    pooled = {"over": r.lines["hard labels"].stats["over"], "gain": ece["hard labels"] - ece[chosen],
              "gap": ece[chosen] - ece[tempered]}
    out = {}
    for name, p in pooled.items():
        op = QUANTITIES[name][1]
        d = equivalence(p.value, p.reps, p.seeds) if op == "~" else direction(p.value, p.reps, p.seeds, op)
        out[name] = asdict(Point(_round(p.value), _round(p.per_seed), _round(p.interval()), _round([d.lo, d.hi]),
                                 d.outcome))
    out["ece"] = {n: _round(p.value) for n, p in ece.items()}
    out["selected"] = [float(a) for a in r.selected[ch5.CLAIMED]]
    out["hard_excess"] = _round(float(r.excess[:, x.index("hard labels")].max()))
    grid = [i for i, m in enumerate(x.models) if m.grid and m.alpha > 0]
    out["smoothed_excess"] = _round(float(r.excess[:, grid].max()))
    return out


def sweep(sizes=SIZES, experiment=None) -> dict:
    """The sweep over ``sizes`` (see the module's docstring): ``{"plan": ..., "false_alarm": ..., "margin": ...,
    "sizes": {size: point}}``. ``experiment(plan)`` trains and measures (default
    :func:`~derivations.chapters.ch5.worked.experiment`)."""
    run = ch5.experiment if experiment is None else experiment
    base = plan_at(sizes[0])
    out = {"plan": {k: v for k, v in asdict(base).items() if k not in ("eps", "per_class")},
           "false_alarm": SEED_FALSE_ALARM, "margin": MARGIN, "sizes": {}}
    for n in sizes:
        print(f"chapter 5 regimes: {n} training images of each digit ...", file=sys.stderr, flush=True)
        out["sizes"][str(n)] = point(run(plan_at(n)))
    return out


def write(data: dict, path: Path = FILE) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def load(path: Path = FILE) -> dict:
    """The stored sweep (see the module's docstring)."""
    return json.loads(path.read_text(encoding="utf-8"))


def where(data: dict, name: str, outcome: str = "confirmed") -> list[int]:
    """The sizes at which the claim's test on quantity ``name`` came out ``outcome``.

    >>> where({"sizes": {"3": {"over": {"outcome": "confirmed"}}, "30": {"over": {"outcome": "undecided"}}}}, "over")
    [3]
    """
    return [int(n) for n, p in data["sizes"].items() if p[name]["outcome"] == outcome]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m derivations.chapters.ch5.regimes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"store the sweep in {FILE.name} (else print it)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        data = sweep()
    if args.write:
        write(data)
        print(f"wrote {FILE}", file=sys.stderr)
    else:
        print(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
