"""Benchmark and speed guard: the smoothed cross-entropy against the materialised computation, a NumPy floor
and PyTorch.

    .venv/bin/python benchmarks/bench_smoothing.py [--repeats 5] [--quick]
    .venv-crosscheck/bin/python benchmarks/bench_smoothing.py     (with PyTorch: `make crosscheck` builds it)

Not part of the test suite (``make bench`` runs it). **Speed guard** (exit 1 when it fails), at 1024 x
131072 float32 logits (``--quick``: 128 x 131072, the same rows, fewer), ``label_smoothing=0.1``, ``reduction="mean"``:

* at most ``FLOOR_RATIO`` (1.5) times the one-pass NumPy floor (:func:`one_pass_floor`): the least work of any
  NumPy softmax cross-entropy, one exponential and one row sum per logit, in one pass over the logits (the
  library's row blocks, each exponentiated in place in one buffer that stays in cache, and summed as the
  library sums rows), without the max shift (so it overflows beyond logits of about 88 in float32), validation
  or labels. Reported beside it, not guarded: NumPy's naive ``np.log(np.exp(z).sum(axis=1))``
  (:func:`naive_lse`), which writes and reads back an N x K temporary;
* faster than ``torch.nn.functional.cross_entropy`` on the same input (``torch.from_numpy``, no copy) with
  as many threads as the machine has cores (PyTorch's default; the library's NumPy runs its exponentials
  on one), and, reported beside it, with one thread. Skipped, saying so, where PyTorch is not importable.

Each is the median of the repeats, the candidates alternating so that machine load hits them alike. The
floor ratio is taken on CPU time (both sides run on one thread, so it equals wall time on an idle machine and
is not stretched by other work on the cores); the comparison with PyTorch, which uses several threads, on
wall time.

For each shape (float32 logits, the note's eps = 0.1) it also times ``smoothed_cross_entropy`` (closed form, row blocks) and
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

from derivations.library.numeric import loss_rtol
from derivations.library.smoothing import BLOCK_ELEMENTS, smoothed_cross_entropy, smoothed_cross_entropy_materialised

SHAPES = ((1024, 131072), (10_000_000, 10))
QUICK_SHAPES = ((256, 32768), (1_000_000, 10))
GUARD_SHAPE, QUICK_GUARD_SHAPE = (1024, 131072), (128, 131072)
EPS = ALPHA = 0.1
TARGET_RATIO, TARGET_MEMORY = 0.5, 10.0
FLOOR_RATIO = 1.5


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
    out = fn(z, y, eps=EPS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del out
    return peak - before


def seconds(fn, *args, **kw) -> float:
    t = time.perf_counter()
    fn(*args, **kw)
    return time.perf_counter() - t


def fast(z, y, eps):
    return smoothed_cross_entropy(z, y, eps=eps, reduction="none")


def bench(n: int, k: int, repeats: int) -> dict:
    z, y = inputs(n, k)
    naive = smoothed_cross_entropy_materialised
    a, b = fast(z, y, eps=EPS), naive(z, y, eps=EPS)
    agree = float(np.max(np.abs(a.astype(np.float64) - b) / np.maximum(1.0, np.abs(b))))
    t_fast, t_naive = [], []
    for _ in range(repeats):
        t_fast.append(seconds(fast, z, y, eps=EPS))
        t_naive.append(seconds(naive, z, y, eps=EPS))
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


def naive_lse(z: np.ndarray) -> np.ndarray:
    """NumPy's naive log-sum-exp, unshifted: ``log(sum_j exp(z_j))`` with an N x K temporary (moderate logits)."""
    return np.log(np.exp(z).sum(axis=1))


def one_pass_floor(z: np.ndarray) -> np.ndarray:
    """The work of :func:`naive_lse` in one pass over the logits: the library's row blocks, each exponentiated in
    place in one buffer and summed as the library sums the exponentials (NumPy's pairwise sum; a matrix-vector
    product up to 64 columns), a row of more than 64 at a time with 1-D calls where a block is one row, as the
    library's own (fewer calls). The least NumPy work of any softmax cross-entropy."""
    n, k = z.shape
    rows = max(1, BLOCK_ELEMENTS // k)
    out = np.empty(n, dtype=z.dtype)
    buf = np.empty((rows, k), dtype=z.dtype)
    if rows == 1 and k > 64:
        row = buf[0]
        for i in range(n):
            out[i] = np.exp(z[i], out=row).sum()
        return np.log(out, out=out)
    ones = np.ones(k, dtype=z.dtype)
    for r0 in range(0, n, rows):
        w = np.exp(z[r0:r0 + rows], out=buf[:min(rows, n - r0)])
        out[r0:r0 + rows] = w @ ones if k <= 64 else w.sum(axis=1)
    return np.log(out, out=out)


def torch_mean(torch, z, y):
    return torch.nn.functional.cross_entropy(z, y, label_smoothing=ALPHA, reduction="mean")


def guard(n: int, k: int, repeats: int) -> tuple[str, bool]:
    """The speed guard (see the module docstring): a Markdown table and whether it holds."""
    z, y = inputs(n, k)
    ours = lambda: smoothed_cross_entropy(z, y, label_smoothing=ALPHA)           # noqa: E731
    runs = {"smoothed_cross_entropy (label_smoothing=0.1, mean)": ours,
            "one-pass NumPy floor: exp and row sum, block by block": lambda: one_pass_floor(z),
            "naive NumPy np.log(np.exp(z).sum(axis=1)) (not guarded)": lambda: naive_lse(z)}
    try:
        import torch
    except ImportError:
        torch = None
    cores = os.cpu_count() or 1
    if torch is not None:
        zt, yt = torch.from_numpy(z), torch.from_numpy(y)
        got, want = float(ours()), float(torch_mean(torch, zt, yt))
        assert abs(got - want) <= 4 * loss_rtol(k, np.float32) * (1 + abs(want)) + 1e-6, (got, want)

        def torch_with(threads):
            def run():
                torch.set_num_threads(threads)
                return torch_mean(torch, zt, yt)
            return run
        runs[f"torch.nn.functional.cross_entropy, {cores} threads"] = torch_with(cores)
        if cores > 1:
            runs["torch.nn.functional.cross_entropy, 1 thread"] = torch_with(1)
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    for fn in runs.values():
        fn()                                                                   # warm-up
    for _ in range(repeats):
        for name, fn in runs.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    med = {name: statistics.median(t) for name, t in wall.items()}
    med_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    me = "smoothed_cross_entropy (label_smoothing=0.1, mean)"
    base, base_cpu = med[me], med_cpu[me]
    lines = [f"**Speed guard**, {n:,} x {k:,} float32 logits ({z.nbytes / 2**20:.0f} MiB), median of {repeats}, "
             "alternating:", "",
             "| computation | wall | CPU (all threads) | this package / it, wall | this package / it, CPU |",
             "|---|---|---|---|---|"]
    lines += [f"| {name} | {t * 1e3:.0f} ms | {med_cpu[name] * 1e3:.0f} ms | {base / t:.2f}x | "
              f"{base_cpu / med_cpu[name]:.2f}x |" for name, t in med.items()]
    floor = "one-pass NumPy floor: exp and row sum, block by block"
    # both run on one thread: their CPU times are their wall times on an idle machine, and stay so when other
    # work shares the cores (which stretches wall time, not CPU time)
    ratio = base_cpu / med_cpu[floor]
    ok = ratio <= FLOOR_RATIO
    lines += ["", f"- at most {FLOOR_RATIO}x the one-pass NumPy floor (CPU time: both single-threaded): "
              f"{ratio:.2f}x: " + ("ok" if ok else "FAILED")]
    if torch is None:
        lines.append("- faster than PyTorch: skipped, torch is not importable here (run this script with "
                     ".venv-crosscheck/bin/python, which `make crosscheck` builds)")
    else:
        t_torch = med[f"torch.nn.functional.cross_entropy, {cores} threads"]
        faster = base < t_torch
        ok &= faster
        lines.append(f"- faster than PyTorch {torch.__version__} with {cores} threads (wall time): "
                     f"{base / t_torch:.2f}x its time: " + ("ok" if faster else "FAILED"))
    return "\n".join(lines), ok


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
    text, ok = guard(*(QUICK_GUARD_SHAPE if args.quick else GUARD_SHAPE), args.repeats)
    print(text + "\n")
    rows = [bench(n, k, args.repeats) for n, k in (QUICK_SHAPES if args.quick else SHAPES)]
    print(table(rows, args.repeats))
    print(f"\nMachine: {machine()}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end "
          "(the timings are shared with whatever else ran)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
