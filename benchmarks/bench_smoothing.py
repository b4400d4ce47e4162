"""Benchmark: closed-form blockwise smoothed cross-entropy against the materialised computation.

    .venv/bin/python benchmarks/bench_smoothing.py [--repeats 5] [--quick]

Not part of the test suite. For each shape (float32 logits, eps = 0.1, note
convention) it times ``smoothed_cross_entropy`` (closed form, row blocks) and
``smoothed_cross_entropy_materialised`` (builds the N x K soft targets and the
N x K log-softmax), alternating the two so that machine load hits both alike,
and reports the median of the repeats, their ratio in the same run, and the
peak memory each allocates beyond its inputs (tracemalloc traces NumPy's
allocations) as a percentage of the logits' size, with and without the
returned array of N losses. Prints a Markdown table and the machine.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np

from derivations.library.smoothing import smoothed_cross_entropy, smoothed_cross_entropy_materialised

SHAPES = ((1024, 131072), (10_000_000, 10))
QUICK_SHAPES = ((256, 32768), (1_000_000, 10))
EPS = 0.1
TARGET_RATIO, TARGET_MEMORY = 0.5, 10.0


def inputs(n: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, k), dtype=np.float32)
    z *= 4
    y = rng.integers(0, k, size=n)
    return z, y


def peak_extra_bytes(fn, z, y) -> int:
    """Peak bytes allocated while ``fn(z, y, EPS)`` runs (its result included)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    out = fn(z, y, EPS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del out
    return peak - before


def seconds(fn, z, y) -> float:
    t = time.perf_counter()
    fn(z, y, EPS)
    return time.perf_counter() - t


def bench(n: int, k: int, repeats: int) -> dict:
    z, y = inputs(n, k)
    fast, naive = smoothed_cross_entropy, smoothed_cross_entropy_materialised
    a, b = fast(z, y, EPS), naive(z, y, EPS)
    agree = float(np.max(np.abs(a.astype(np.float64) - b) / np.maximum(1.0, np.abs(b))))
    t_fast, t_naive = [], []
    for _ in range(repeats):
        t_fast.append(seconds(fast, z, y))
        t_naive.append(seconds(naive, z, y))
    out_bytes = n * z.itemsize
    m_fast, m_naive = peak_extra_bytes(fast, z, y), peak_extra_bytes(naive, z, y)
    return {
        "shape": f"{n:,} x {k:,}", "logits_mb": z.nbytes / 2**20,
        "fast_s": statistics.median(t_fast), "naive_s": statistics.median(t_naive),
        "fast_mem": 100 * m_fast / z.nbytes, "fast_mem_no_out": 100 * (m_fast - out_bytes) / z.nbytes,
        "naive_mem": 100 * m_naive / z.nbytes, "agree": agree,
    }


def table(rows: list[dict], repeats: int) -> str:
    head = ("| float32 logits N x K | logits | closed form, blockwise | materialised | ratio | "
            "extra memory, closed form (without the N losses) | extra memory, materialised | max rel. difference |\n"
            "|---|---|---|---|---|---|---|---|\n")
    body = "\n".join(
        f"| {r['shape']} | {r['logits_mb']:.0f} MiB | {r['fast_s'] * 1e3:.0f} ms | {r['naive_s'] * 1e3:.0f} ms | "
        f"{r['fast_s'] / r['naive_s']:.2f}x | {r['fast_mem']:.1f}% ({r['fast_mem_no_out']:.1f}%) | "
        f"{r['naive_mem']:.0f}% | {r['agree']:.1e} |" for r in rows)
    return head + body + f"\n\nMedian of {repeats} runs each, alternating; eps = {EPS}; targets: ratio <= " \
                         f"{TARGET_RATIO}x, extra memory <= {TARGET_MEMORY:.0f}% of the logits."


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, NumPy {np.__version__}, "
            f"{platform.system()} {platform.release()}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller shapes, for a smoke run")
    args = ap.parse_args(argv)
    rows = [bench(n, k, args.repeats) for n, k in (QUICK_SHAPES if args.quick else SHAPES)]
    print(table(rows, args.repeats))
    print(f"\nMachine: {machine()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
