"""Every README example as written, then every chapter over value sets across the valid range; a table; exit 1 on any
failure.

    python -m audit.sweep [--jobs 2] [--draws 6] [--seed S] [--only NAME ...] [--markdown FILE] [--environment]

1. **The README's examples**: every ``make run ...`` line of a code block of README.md, read at run time
   (:func:`readme_examples`), run as written through ``make`` (each into its own clean folder, with its book).
   The plain ``make run`` (in place) must leave ``git status`` as it found it.
2. **Value sets** (:func:`grid`): the edges (eps = 0, within 1e-9 of 0 and of 1, (K-1)/K, above it, 1; K = 2),
   K from 2 to 1,000 for every chapter and up to 100,000 for chapters 1-3 (at several eps), seeds above 2^31,
   the smallest sample sizes, and ``--draws`` random sets drawn across the whole valid range from ``--seed``
   (drawn and printed when not given, so that a failure can be rerun). Each (value set, chapter) runs as
   ``make run`` would, into ``build/sweep/<values>/``.
3. **Partial chapter sets with their book** (:func:`partial_sets`): the runner (``--chapters ... --html``) into a
   clean folder: the book must build the first time, with no dead link.
4. **Wheels**: every pin of the locks has a wheel for each supported Python, 3.14 included
   (``tools/lock.sh --check-wheels``; network).

The committed notebooks and figures are not touched (but by step 1's ``make run``, which rewrites them identically).
With ``--environment`` (``make sweep``), ``JOBS``, ``DRAWS`` and ``SWEEP_SEED`` come from the environment.
The overview (chapter 0) reads no parameter: it runs in the README's plain ``make run`` and in ``make test``.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from derivations.chapters import CHAPTERS, PARAMETERS, parse_all, run_folder_name
from derivations.runner import run_one

ROOT = Path(__file__).resolve().parents[1]

ALL = tuple(n for n in CHAPTERS if n > 0)          # every chapter with a notebook to rerun (0, the overview, reads none)
#: Chapters whose K may go to 100,000 (the others' largest K is smaller).
WIDE = tuple(n for n in ALL if CHAPTERS[n].k_max and CHAPTERS[n].k_max >= 100_000)


def readme_examples(readme: Path = ROOT / "README.md") -> list[tuple[list[str], str | None]]:
    """The ``make run`` commands of README.md's code blocks: ``(["K=1000", "EPS=0.05"], None)`` (a trailing
    ``# comment`` dropped), or with the ``error: ...`` line the README shows after it (an example of a refusal).
    Read each time, so that a README rewritten is swept as it stands."""
    out, fenced, lines = [], False, readme.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"\s*(?:\$\s*)?make\s+run\b(.*)$", line) if fenced else None
        if m:
            args = shlex.split(m[1], comments=True)
            if all(re.fullmatch(r"[A-Z_]+=\S*", a) for a in args):
                after = lines[i + 1].strip() if i + 1 < len(lines) else ""
                out.append((args, after if after.startswith("error: ") else None))
    return out


def _eps_near_edges(rng: random.Random) -> float:
    """eps across [0, 1]: uniform, or within 1e-9 of an edge (both edges as often)."""
    pick = rng.random()
    if pick < 0.5:
        return rng.random()
    d = rng.uniform(0.0, 1e-9)
    return d if pick < 0.75 else 1.0 - d


def grid(draws: int, seed: int) -> list[tuple[str, dict, tuple[int, ...]]]:
    """``(name, settings, chapters)`` for every value set of the sweep."""
    big = 2 ** 31
    fixed = [
        ("defaults", {}, ALL),
        ("eps = 0 (hard labels)", {"EPS": 0.0}, ALL),
        ("eps = 1e-10 (within 1e-9 of 0)", {"EPS": 1e-10}, ALL),
        ("eps = 1 - 1e-10 (within 1e-9 of 1)", {"EPS": 1 - 1e-10}, ALL),
        ("eps = 1", {"EPS": 1.0}, ALL),
        ("K = 10, eps = (K-1)/K", {"K": 10, "EPS": 0.9}, ALL),
        ("K = 10, eps above (K-1)/K", {"K": 10, "EPS": 0.95}, ALL),
        ("K = 2, eps = 1 (a swap)", {"K": 2, "EPS": 1.0}, ALL),
        ("K = 2, eps = 1/2", {"K": 2, "EPS": 0.5}, ALL),
        ("K = 3, eps = 2/3", {"K": 3, "EPS": 2 / 3}, ALL),
        ("K = 100, eps = 0.01", {"K": 100, "EPS": 0.01}, ALL),
        ("K = 1000, eps = 0.999 = (K-1)/K", {"K": 1000, "EPS": 0.999}, ALL),
        ("K = 100000, eps = 0.1 (default)", {"K": 100_000}, WIDE),
        ("K = 100000, eps = 0", {"K": 100_000, "EPS": 0.0}, WIDE),
        ("K = 100000, eps = 1 - 1e-10", {"K": 100_000, "EPS": 1 - 1e-10}, WIDE),
        ("K = 100000, eps = 0.99999 = (K-1)/K", {"K": 100_000, "EPS": 0.99999}, WIDE),
        ("seed 2^31 + 1", {"SEED": big + 1}, ALL),
        ("seed 2^63 - 1", {"SEED": 2 ** 63 - 1}, ALL),
        ("smallest samples", {"N_DRAWS": 100, "N_MC": 100, "N_FREE": 50, "N_TRAIN": 200, "N_TEST": 100,
                              "N_SEEDS": 2, "N_PER_DIGIT": 1, "HIDDEN": 4, "STEPS": 10}, ALL),
        ("chapter 5: more images, a wider network", {"N_PER_DIGIT": 10, "HIDDEN": 256, "STEPS": 600}, (5,)),
    ]
    rng = random.Random(seed)
    drawn = []
    for i in range(draws):
        wide = i % 2 == 0                                   # every other draw: K up to 100,000, chapters 1-3
        chapters = WIDE if wide else ALL
        k_max = min(CHAPTERS[c].k_max for c in chapters if CHAPTERS[c].k_max)
        K = int(round(math.exp(rng.uniform(math.log(2), math.log(k_max)))))
        settings = {"K": K, "EPS": _eps_near_edges(rng), "SEED": rng.randrange(2 ** 64)}
        drawn.append((f"random draw {i + 1}", settings, chapters))
    return fixed + drawn


def partial_sets(seed: int) -> list[tuple[str, dict, tuple[int, ...]]]:
    """Some chapters only, each with its book: the ones issue 24 found failing, and one drawn."""
    rng = random.Random(seed + 1)
    chapters = tuple(sorted(rng.sample([1, 2, 3], rng.randint(1, 2))))
    return [("partial: K = 2, eps = 1/2, chapters 2, 3", {"K": 2, "EPS": 0.5}, (2, 3)),
            ("partial: seed 4, chapter 5", {"SEED": 4}, (5,)),
            ("partial: K = 51, chapter 1", {"K": 51}, (1,)),
            (f"partial: drawn, chapters {', '.join(map(str, chapters))}",
             {"K": int(round(math.exp(rng.uniform(math.log(2), math.log(100_000))))), "EPS": _eps_near_edges(rng)},
             chapters)]


def _make_env() -> dict:
    """The environment of a ``make run`` of the sweep: no parameter inherited from the sweep's own."""
    return {k: v for k, v in os.environ.items() if k not in PARAMETERS and k not in ("CHAPTERS", "BOOK")
            and not k.startswith("DERIVATIONS_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout


def run_readme(args: list[str], error: str | None, jobs: int) -> tuple[bool, str, float]:
    """``make run ARGS`` as the README writes it, with this interpreter's venv; an example of a refusal must be
    refused with the README's own message."""
    venv, minor = Path(sys.prefix), "%d.%d" % sys.version_info[:2]
    before = _git_status() if not args else None
    t = time.perf_counter()
    r = subprocess.run(["make", "--no-print-directory", "-o", f"{venv}/.installed-{minor}", "run", *args,
                        f"PYTHON={sys.executable}", f"VENV={venv}", f"JOBS={jobs}"],
                       cwd=ROOT, capture_output=True, text=True, env=_make_env())
    secs = time.perf_counter() - t
    last = ((r.stderr.strip() or r.stdout.strip()).splitlines() or [""])[-1]
    if error is not None:
        shown = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
        ok = r.returncode == 2 and shown == [error]
        return ok, "refused as the README shows" if ok else f"expected {error!r}; got {shown or last!r}", secs
    if r.returncode != 0:
        return False, last, secs
    if before is not None and _git_status() != before:
        return False, "make run (in place) changed git status", secs
    return True, "ok", secs


def _task(name: str, settings: dict, chapter: int, out: str, timeout: int):
    Path(out).mkdir(parents=True, exist_ok=True)
    path = ROOT / CHAPTERS[chapter].path
    t = time.perf_counter()
    ok, msg = run_one(path, timeout, Path(out) / path.name, settings, figures=Path(out) / "figures")
    return ok, msg, time.perf_counter() - t


def _partial(settings: dict, chapters: tuple[int, ...], out: str, timeout: int):
    """The runner on some chapters with its book, into a clean folder."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, str(ROOT / "tools" / "run_notebooks.py"), "--chapters", ",".join(map(str, chapters)),
           "--jobs", "1", "--html", "--out", out, "--timeout", str(timeout)]
    cmd += [a for n, v in settings.items() for a in ("--set", f"{n}={v!r}")]
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=_make_env())
    msg = "ok"
    if r.returncode != 0:                               # the whole output kept beside the run, named in the table
        log = Path(out + ".log")
        log.write_text(r.stdout + r.stderr, encoding="utf-8")
        msg = ((r.stderr.strip() or r.stdout.strip()).splitlines() or ["?"])[-1] + f" (output: {log})"
    return r.returncode == 0, msg, time.perf_counter() - t


def markdown_table(rows) -> str:
    """One row per value set, one column per chapter (``ok 4.1 s`` or ``FAILED``), and one for the book or command."""
    order, cells = [], {}
    for name, values, chapter, result, secs, _ in rows:
        if (name, values) not in cells:
            order.append((name, values))
            cells[(name, values)] = {}
        cells[(name, values)][chapter] = f"{result} {secs:.1f} s"
    head = "| value set | values | " + " | ".join(f"ch{c}" for c in ALL) + " | whole run |"
    lines = [head, "|---|---|" + "---|" * (len(ALL) + 1)]
    for key in order:
        lines.append(f"| {key[0]} | `{key[1]}` | " + " | ".join(cells[key].get(c, "-") for c in ALL)
                     + f" | {cells[key].get('all', '-')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=None, help="notebooks run at the same time (default 2)")
    ap.add_argument("--draws", type=int, default=None, help="random value sets (default 6)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the random value sets (default: drawn, printed)")
    ap.add_argument("--only", nargs="*", help="run only the value sets whose name contains one of these")
    ap.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--environment", action="store_true", help="JOBS, DRAWS and SWEEP_SEED from the environment")
    args = ap.parse_args(argv)
    if args.environment:
        for opt, name in (("jobs", "JOBS"), ("draws", "DRAWS"), ("seed", "SWEEP_SEED")):
            text = os.environ.get(name)
            if getattr(args, opt) is None and text is not None:
                if not text.strip().isdigit():
                    print(f"error: {name} must be a non-negative integer; got {text!r}; nothing was run", file=sys.stderr)
                    return 2
                setattr(args, opt, int(text))
    jobs = max(1, args.jobs or 2)
    draws = 6 if args.draws is None else args.draws
    seed = secrets.randbits(32) if args.seed is None else args.seed

    def keep(name: str) -> bool:
        return not args.only or any(o in name for o in args.only)

    examples = [(a, e) for a, e in readme_examples() if keep("README: make run " + " ".join(a))]
    sets = [s for s in grid(draws, seed) if keep(s[0])]
    partial = [s for s in partial_sets(seed) if keep(s[0])]
    print(f"sweep: {len(examples)} README examples, {len(sets)} value sets, {len(partial)} partial sets with their "
          f"book; random draws from seed {seed} (rerun them with --seed {seed}, or make sweep SWEEP_SEED={seed})",
          flush=True)
    rows, failed, t0 = [], 0, time.perf_counter()

    def report(name, label, chapter, ok, msg, secs):
        nonlocal failed
        failed += not ok
        rows.append((name, label, chapter, "ok" if ok else "FAILED", secs, "" if ok else msg))
        print(f"{name:<44} {label:<44} {('ch' + str(chapter)) if chapter != 'all' else 'all':<4} "
              f"{'ok' if ok else 'FAILED':<6} {secs:6.1f} s" + ("" if ok else f"\n    {msg}"), flush=True)
        if args.markdown:                              # as it goes: a sweep stopped early keeps what it found
            args.markdown.parent.mkdir(parents=True, exist_ok=True)
            args.markdown.write_text(markdown_table(rows), encoding="utf-8")

    for a, error in examples:                            # one at a time: each runs its own notebooks side by side
        ok, msg, secs = run_readme(a, error, jobs)
        report("README: make run " + " ".join(a) + (" (refused)" if error else ""), " ".join(a) or "defaults, in place",
               "all", ok, msg, secs)
    tasks = []
    for name, settings, chapters in sets:
        values = parse_all([f"{k}={v!r}" for k, v in settings.items()], chapters)   # refuses a bad grid
        out = ROOT / "build" / "sweep" / (run_folder_name(values) or "defaults")
        tasks += [("one", name, values, c, str(out)) for c in chapters]
    for name, settings, chapters in partial:
        values = parse_all([f"{k}={v!r}" for k, v in settings.items()], chapters)
        # "+", not ",": Sphinx reads html_static_path as a comma-separated list (book/builder.py)
        out = ROOT / "build" / "sweep" / "partial" / (run_folder_name(values) + "_CHAPTERS=" + "+".join(map(str, chapters)))
        tasks.append(("partial", name, values, chapters, str(out)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [(t, pool.submit(_task, *t[1:], args.timeout) if t[0] == "one" else
                    pool.submit(_partial, t[2], t[3], t[4], args.timeout)) for t in tasks]
        for (kind, name, values, chapter, _), fut in futures:
            ok, msg, secs = fut.result()
            label = run_folder_name(values) or "defaults"
            report(name, label + ("" if kind == "one" else " CHAPTERS=" + ",".join(map(str, chapter))),
                   chapter if kind == "one" else "all", ok, msg, secs)
    if keep("wheels"):
        uv = shutil.which("uv") or str(Path(sys.prefix) / "bin" / "uv")
        t = time.perf_counter()
        r = subprocess.run(["bash", str(ROOT / "tools" / "lock.sh"), uv, "--check-wheels"], cwd=ROOT,
                           capture_output=True, text=True)
        report("wheels of every pin, each supported Python", "tools/lock.sh --check-wheels", "all", r.returncode == 0,
               (r.stderr.strip() or r.stdout.strip()).splitlines()[-1] if r.returncode else "ok", time.perf_counter() - t)
    total = time.perf_counter() - t0
    print(f"\n{len(rows)} runs, {failed} failed, {total:.0f} s wall time ({jobs} at a time); seed {seed}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_table(rows), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
