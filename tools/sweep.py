"""Run every chapter over a grid of value sets and print a table; exit 1 if any run fails.

    python tools/sweep.py [--jobs 2] [--draws 4] [--seed 2026] [--only NAME ...] [--markdown FILE]

The grid (:func:`grid`) covers the edge values (eps = 0, (K-1)/K, above it, 1;
K = 2), K from 2 to 1,000 (and 100,000 for the closed-form chapters 1-3),
several seeds, the smallest sample sizes, and ``--draws`` random value sets
drawn from ``--seed`` (printed, so a failure can be rerun). Each (value set,
chapter) runs as ``make run`` would, into ``build/sweep/<values>/``; the
committed notebooks and figures are not touched. The overview (chapter 0)
reads no parameter and is left to ``make run`` / ``make test``.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derivations.chapters import CHAPTERS, parse_all, run_folder_name  # noqa: E402
from tools.run_notebooks import run_one  # noqa: E402

ALL = (1, 2, 3, 4, 5)


def grid(draws: int, seed: int) -> list[tuple[str, dict, tuple[int, ...]]]:
    """``(name, settings, chapters)`` for every value set of the sweep."""
    fixed = [
        ("defaults", {}, ALL),
        ("eps = 0 (hard labels)", {"EPS": 0.0}, ALL),
        ("eps = 1", {"EPS": 1.0}, ALL),
        ("K = 10, eps = (K-1)/K", {"K": 10, "EPS": 0.9}, ALL),
        ("K = 10, eps above (K-1)/K", {"K": 10, "EPS": 0.95}, ALL),
        ("K = 2, eps = 1 (a swap)", {"K": 2, "EPS": 1.0}, ALL),
        ("K = 2, eps = 1/2", {"K": 2, "EPS": 0.5}, ALL),
        ("K = 3, eps = 2/3", {"K": 3, "EPS": 2 / 3}, ALL),
        ("K = 3", {"K": 3}, ALL),
        ("K = 100, eps = 0.01", {"K": 100, "EPS": 0.01}, ALL),
        ("K = 1000, eps = 0.05", {"K": 1000, "EPS": 0.05}, ALL),
        ("K = 1000, eps = 0.999 = (K-1)/K", {"K": 1000, "EPS": 0.999}, ALL),
        ("K = 100000 (chapters 1-3)", {"K": 100_000, "EPS": 0.05}, (1, 2, 3)),
        ("seed 7", {"SEED": 7}, ALL),
        ("seed 123456789", {"SEED": 123456789}, ALL),
        ("smallest samples", {"N_DRAWS": 100, "N_MC": 100, "N_FREE": 50, "N_TRAIN": 200, "N_TEST": 100,
                              "N_SEEDS": 2, "N_PER_DIGIT": 1, "HIDDEN": 4, "STEPS": 10}, ALL),
        ("chapter 5: more images, a wider network", {"N_PER_DIGIT": 10, "HIDDEN": 256, "STEPS": 600}, (5,)),
    ]
    rng = random.Random(seed)
    drawn = []
    for i in range(draws):
        K = int(round(math.exp(rng.uniform(math.log(2), math.log(1000)))))
        eps = round(rng.random(), 4)
        drawn.append((f"random draw {i + 1}", {"K": K, "EPS": eps, "SEED": rng.randrange(10 ** 6)}, ALL))
    return fixed + drawn


def markdown_table(rows) -> str:
    """One row per value set, one column per chapter: ``ok 4.1 s`` or ``FAILED``."""
    order, cells = [], {}
    for name, values, chapter, result, secs, _ in rows:
        if (name, values) not in cells:
            order.append((name, values))
            cells[(name, values)] = {}
        cells[(name, values)][chapter] = f"{result} {secs:.1f} s"
    head = "| value set | values | " + " | ".join(f"ch{c}" for c in ALL) + " |"
    lines = [head, "|---|---|" + "---|" * len(ALL)]
    for key in order:
        lines.append(f"| {key[0]} | `{key[1]}` | " + " | ".join(cells[key].get(c, "-") for c in ALL) + " |")
    return "\n".join(lines) + "\n"


def _task(name: str, settings: dict, chapter: int, out: str, timeout: int):
    os.environ["DERIVATIONS_FIGURES"] = str(Path(out) / "figures")
    Path(out).mkdir(parents=True, exist_ok=True)
    path = ROOT / CHAPTERS[chapter].path
    t = time.perf_counter()
    ok, msg = run_one(path, timeout, Path(out) / path.name, settings)
    return ok, msg, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2, help="notebooks run at the same time (default 2)")
    ap.add_argument("--draws", type=int, default=4, help="random value sets (default 4)")
    ap.add_argument("--seed", type=int, default=2026, help="seed of the random value sets (default 2026)")
    ap.add_argument("--only", nargs="*", help="run only the value sets whose name contains one of these")
    ap.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = ap.parse_args(argv)
    sets = [s for s in grid(args.draws, args.seed) if not args.only or any(o in s[0] for o in args.only)]
    print(f"sweep: {len(sets)} value sets, random draws from seed {args.seed}", flush=True)
    tasks = []
    for name, settings, chapters in sets:
        values = parse_all([f"{k}={v!r}" for k, v in settings.items()], chapters)   # refuses a bad grid
        out = ROOT / "build" / "sweep" / (run_folder_name(values) or "defaults")
        tasks += [(name, values, c, str(out)) for c in chapters]
    rows, failed = [], 0
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [(t, pool.submit(_task, *t, args.timeout)) for t in tasks]
        for (name, values, chapter, _), fut in futures:
            ok, msg, secs = fut.result()
            failed += not ok
            label = run_folder_name(values) or "defaults"
            rows.append((name, label, chapter, "ok" if ok else "FAILED", secs, "" if ok else msg))
            print(f"{name:<34} {label:<40} ch{chapter}  {'ok' if ok else 'FAILED':<6} {secs:6.1f} s"
                  + ("" if ok else f"\n    {msg}"), flush=True)
    total = time.perf_counter() - t0
    print(f"\n{len(rows)} runs, {failed} failed, {total:.0f} s wall time ({args.jobs} at a time)")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_table(rows), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
