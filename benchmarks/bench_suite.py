"""Benchmark: the report and the test suite, as whole processes, against the targets of issue 10.

    .venv/bin/python benchmarks/bench_suite.py [--repeat 3] [--skip-tests]

Times, with the median (and range) of ``--repeat`` runs after one untimed warm-up:

* ``python -m derivations`` (every claim computed from scratch, one process per core):
  target <= 5 s wall, peak memory <= 300 MB (the largest process's peak RSS);
* ``python -m pytest`` (what ``make test`` runs after set-up; a clean run, so every claim is
  computed once): target <= 30 s wall.

Peak memory is the largest peak resident set of any process of the run (``ru_maxrss`` of the
children), in MB (10^6 bytes). Prints a Markdown table; exits 1 if a target is missed.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    ("python -m derivations", [sys.executable, "-m", "derivations"], 5.0, 300.0),
    ("python -m pytest (make test after set-up)", [sys.executable, "-m", "pytest", "-q"], 30.0, None),
]


def one(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process of one run, in a fresh child process tree."""
    probe = [sys.executable, "-c",
             "import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)",
             *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERIVATIONS_")}   # nothing shared: clean runs
    out = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.split()
    if out[2] != "0":
        raise SystemExit(f"{' '.join(cmd)} exited {out[2]}")
    return float(out[0]), int(out[1]) * 1024 / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-tests", action="store_true", help="only python -m derivations")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}\n")
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
