"""Benchmark: the report and the test suite, as whole processes, against the targets of issue 10.

    .venv/bin/python benchmarks/bench_suite.py [--repeat 3] [--skip-tests]

Times, with the median (and range) of ``--repeat`` runs after one untimed warm-up:

* ``python -m derivations`` (every claim computed from scratch, one process per core):
  target <= 5 s wall, peak memory <= 300 MB (the largest process's peak RSS);
* ``python -m pytest`` (what ``make test`` runs after set-up; a clean run, so every claim is
  computed once): target <= 30 s wall.

Peak memory is the largest peak resident set of any process of the run (``ru_maxrss`` of the
children), in MB (10^6 bytes). Prints a Markdown table; exits 1 if a target is missed.

    .venv/bin/python benchmarks/bench_suite.py --against 0d7c0d3 [--repeat 3]

The same two commands and ``make check`` (against the reference's whole suite: issue 35's budgets, at most 1.3 and
0.5 times it), each run in turn in this checkout and in a checkout of the reference commit (a git worktree in
``build/bench-ref/``, with its own venv set up by its own Makefile, and ``../shared`` beside it), A B A B ...: the
medians of both and the median of the ratios pair by pair. This machine's speed drifts (2.4 times between two days
of 2026-12), so a target set on one day is checked on another as a ratio to the code it was set against.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What `make test` gives pytest-xdist (the Makefile's XDIST; pyproject.toml's addopts no longer does): the same
#: options passed to the reference commit's pytest only repeat its addopts.
XDIST = re.search(r"^XDIST := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
CASES = [
    ("python -m derivations", [sys.executable, "-m", "derivations"], 5.0, 300.0),
    ("python -m pytest (make test after set-up)", [sys.executable, "-m", "pytest", "-q", *XDIST], 30.0, None),
]
#: With ``--against``: each command, the reference's command it is timed against, and issue 35's budget for the
#: ratio (None: none set). ``make check`` is held to half of the reference's whole suite.
AGAINST = [
    (*CASES[0][:2], CASES[0][1], None),
    (*CASES[1][:2], CASES[1][1], 1.3),
    ("python -m pytest -m 'not browser and not slow' (make check)",
     [sys.executable, "-m", "pytest", "-q", *XDIST, "-m", "not browser and not slow"], CASES[1][1], 0.5),
]


def one(cmd: list[str], where: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process of one run, in a fresh child process tree, in the
    checkout ``where`` with its own venv's Python, and the environment ``make`` gives (Makefile's exports)."""
    python = str(where / ".venv" / "bin" / "python")
    cmd = [python if c == sys.executable else c for c in cmd]
    probe = [python, "-c",
             "import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)",
             *cmd]
    env = {k: v for k, v in os.environ.items()                      # nothing shared: clean runs
           if not k.startswith("DERIVATIONS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONHASHSEED="0", MPLBACKEND="Agg")
    out = subprocess.run(probe, cwd=where, env=env, capture_output=True, text=True, check=True).stdout.split()
    if out[2] != "0":
        raise SystemExit(f"{' '.join(cmd)} exited {out[2]} in {where}")
    return float(out[0]), int(out[1]) * 1024 / 1e6


def reference(commit: str) -> Path:
    """A checkout of ``commit`` in ``build/bench-ref/`` (a git worktree, made once), ``../shared`` beside it, and
    its venv set up by its own Makefile for this Python."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True,
                         text=True).stdout.strip()
    if not sha:
        raise SystemExit(f"--against: {commit!r} is no commit of this repository")
    where = ROOT / "build" / "bench-ref" / sha[:12]
    if not where.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(where), sha], cwd=ROOT, check=True,
                       capture_output=True)
    shared = where.parent / "shared"
    if not shared.exists():
        shared.symlink_to(ROOT.parent / "shared")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run(["make", "-s", "-C", str(where), f"PYTHON={base}",
                    f".venv/.installed-{sys.version_info[0]}.{sys.version_info[1]}"], check=True)
    return where


def against(commit: str, repeat: int, cases) -> bool:
    """Each case run in this checkout (A) and its reference command in ``commit``'s checkout (B) in turn, with the
    load average before each run; medians, the pairwise ratio A/B and its budget. Whether every budget is met."""
    where = reference(commit)
    print(f"A: this checkout; B: {commit} ({where.name}), {repeat} runs each, in turn after one warm-up each\n")
    print("| command | A wall s (median, min-max) | B wall s (median, min-max) | A/B (median of pairs, min-max) | "
          "budget | load (1 min) before the runs |")
    print("| --- | --- | --- | --- | --- | --- |")
    met = True
    for name, cmd, ref_cmd, budget in cases:
        one(cmd), one(ref_cmd, where)                               # warm-up
        pairs, loads = [], []
        for _ in range(repeat):
            loads.append(os.getloadavg()[0])
            a = one(cmd)[0]
            loads.append(os.getloadavg()[0])
            pairs.append((a, one(ref_cmd, where)[0]))
        a, b, r = [p[0] for p in pairs], [p[1] for p in pairs], [p[0] / p[1] for p in pairs]
        ok = budget is None or statistics.median(r) <= budget
        met &= ok
        print(f"| `{name}` | {statistics.median(a):.1f} ({min(a):.1f}-{max(a):.1f}) | {statistics.median(b):.1f} "
              f"({min(b):.1f}-{max(b):.1f}) | {statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f}) | "
              f"{'-' if budget is None else f'<= {budget:g}: ' + ('met' if ok else 'MISSED')} | "
              f"{min(loads):.1f}-{max(loads):.1f} |", flush=True)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-tests", action="store_true", help="only python -m derivations")
    parser.add_argument("--against", metavar="COMMIT", help="each command against this commit's, in turn (A/B)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}\n")
    if args.against:
        return 0 if against(args.against, args.repeat, AGAINST[:1] if args.skip_tests else AGAINST) else 1
    print("| command | wall s (median, min-max) | target | peak MB (largest process) | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    missed = False
    for name, cmd, t_target, m_target in CASES[:1] if args.skip_tests else CASES:
        one(cmd)                                                    # warm-up: imports, .pyc files, disk cache
        runs = [one(cmd) for _ in range(args.repeat)]
        wall, mem = [r[0] for r in runs], [r[1] for r in runs]
        ok = statistics.median(wall) <= t_target and (m_target is None or max(mem) <= m_target)
        missed |= not ok
        print(f"| `{name}` | {statistics.median(wall):.1f} ({min(wall):.1f}-{max(wall):.1f}) | <= {t_target:g} | "
              f"{max(mem):.0f} | {'<= %g' % m_target if m_target else '-'} | {'yes' if ok else 'NO'} |")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
