"""Benchmark: how long a rerun with the reader's values takes, against the targets of the rerun issue.

    python benchmarks/bench_reruns.py [--repeat 3]

Times, as whole processes (wall clock, and the peak memory of the largest child):

* the default run (what ``make run`` does: every notebook, no HTML), target <= 35 s;
* ``make run K=1000 EPS=0.05``: every chapter plus its HTML site, target <= 90 s.

Both write into a temporary folder, so the committed notebooks are untouched.
Prints a Markdown table with the median of ``--repeat`` runs.
"""
from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "run_notebooks.py"
CASES = [
    ("make run (defaults, all notebooks)", [], False, 35.0),
    ("make run K=1000 EPS=0.05 (all notebooks + HTML)", ["--set", "K=1000", "--set", "EPS=0.05"], True, 90.0),
]


def one(args: list[str], html: bool) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, largest child process) of one runner invocation."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, str(RUNNER), *args, "--out", out] + (["--html"] if html else [])
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=1, help="runs per case; the median is reported (default 1)")
    args = ap.parse_args(argv)
    print("| run | wall clock, median | runs | target | met |")
    print("|---|---:|---:|---:|---|")
    ok = True
    for name, settings, html, target in CASES:
        walls = [one(settings, html)[0] for _ in range(args.repeat)]
        med = statistics.median(walls)
        ok &= med <= target
        print(f"| {name} | {med:.1f} s | {args.repeat} | {target:.0f} s | {'yes' if med <= target else 'NO'} |")
    print(f"\nMachine: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"peak memory of the largest process: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
