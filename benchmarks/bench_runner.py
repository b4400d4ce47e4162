"""Benchmark: how fast a derivation runs in the book's page (issue 36, item 4: the first result within 8 s of the
click, a re-run of an edited cell within 1 s).

    .venv/bin/python benchmarks/bench_runner.py [--site build/html ...] [--runs 5] [--reruns 3]

Not part of the test suite (timings belong here, not in tests). Each ``--site`` (a built book, ``make html``;
default ``build/html``, built first when absent; give two to compare two builds, e.g. a copy of an earlier one) is
served by Python's ``http.server`` on 127.0.0.1, and headless Chromium (``book.browser.Browser``), every other host
unresolvable, measures, the sites taken in turn (A B A B ...) so that the machine's drift hits each alike:

* **first result, cold**: a fresh browser profile each time (no HTTP cache, no compiled WebAssembly kept),
  chapter 2's page loaded, "Edit and run" clicked on the soft target's cell (notebook cell 15, after cells 8 and 9):
  the seconds from the click to its output typeset (the page's own clock: ``BookRun.runs[15].clientSeconds``), and
  the worker's stages (Python's runtime ready, the packages unpacked, ``import sympy``, the chapter set up);
* **first result, second visit**: the same page loaded again in that browser (its cache kept), clicked again;
* **re-runs**: in chapter 3's page (a profile of its own), each of :data:`RERUNS`' cells run once, then run again
  unchanged, then, for each kind of edit in :data:`RERUNS` (each changes what the cell derives or checks), a new
  edit run (one never run before) and run again, ``--reruns`` times each; and chapter 2's soft target re-run
  unchanged and after its notation cell is edited (``1 - eps`` to ``1 - 2*eps``), as tests/test_run_in_book.py does.

The first result is also measured in CPU seconds (Linux's ``/proc``): of all the browser's threads, and of the
page's worker thread alone (the Python), which other work on the machine stretches much less than the wall clock.
``--runs 0`` measures the re-runs only.

Prints a Markdown table (median, range, runs) per site, and the machine's load average before and after; writes
the raw times as JSON beside (``--json``).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from book.browser import Browser, find_chromium  # noqa: E402

#: Chapter 2's soft target (notebook cell 15) and its notation cell (9), as in tests/test_run_in_book.py.
SOFT_TARGET, NOTATION = 'as_printed("ch2.soft_target")', "def p(i)"
NOTATION_EDIT = ("(1 - eps) * KroneckerDelta", "(1 - 2*eps) * KroneckerDelta")
#: Chapter 3's cells re-run: (a needle in its code, its notebook index, [(what the edit does, old, new), ...]); ``new``
#: holds ``{k}``, the repetition (1, 2, ...): each repetition a new edit, never run before.
RERUNS = [
    ('as_printed("ch3.gradient_covariance")', 39, [
        ("fewer pairs checked (line 9 of 13; holds)", "for s, t in pairs]", "for s, t in pairs[:-{k}]]"),
        ("the noise times k + 1 (line 4 of 13; ERRATUM)", "noise = cov.lhs.replace(Pr, flipped).doit()",
         "noise = ({k} + 1)*cov.lhs.replace(Pr, flipped).doit()"),
    ]),
    ('as_printed("ch3.optimum_noise")', 43, [
        ("the spread times k + 1 (last line; ERRATUM)", "noise.rhs - spread", "noise.rhs - ({k} + 1)*spread"),
        ("every logit shifted by k (line 4 of 15; holds)", "lambda w: point.rhs(w))", "lambda w: point.rhs(w) + {k})"),
    ]),
]

_CELL = """(function (needle) { return Array.prototype.find.call(document.querySelectorAll(".cell.tag_derivation"),
  function (c) { var pre = c.querySelector(".cell_input pre"); return pre && pre.textContent.indexOf(needle) >= 0; });
})(%s)"""
# a run ended: its status and the page's record of it
_DONE = """new Promise(function (resolve) {
  var end = Date.now() + %d, cell = """ + _CELL + """, index = %d;
  (function poll() {
    var s = cell.querySelector(".run-status").textContent, b = cell.querySelector(".run-run");
    if (b && !b.disabled && /^(Ran|Stopped|Not run)/.test(s)) {
      var r = BookRun.runs[index] || {};
      resolve({status: s, client: r.clientSeconds, stages: r.stages, ran: r.ran, error: r.error,
               verdict: (cell.querySelector(".run-output") || {getAttribute: function () { return null; }})
                        .getAttribute("data-verdict")});
    } else if (Date.now() > end) { resolve({status: "timeout: " + s}); } else { setTimeout(poll, 20); }
  })();
})"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".mjs": "text/javascript", ".wasm": "application/wasm"}

    def log_message(self, *args):
        pass


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _run(browser, tab, needle: str, index: int, button: str, wait: float = 300) -> dict:
    browser.evaluate(tab, f"{_CELL % json.dumps(needle)}.querySelector({json.dumps(button)}).click()")
    done = browser.evaluate(tab, _DONE % (int(wait * 1000), json.dumps(needle), index), wait=wait + 10)
    if not str(done.get("status", "")).startswith("Ran") or done.get("error"):
        raise SystemExit(f"cell {index}: {done}")
    return done


def _edit(browser, tab, needle: str, old: str, new: str) -> None:
    browser.evaluate(tab, f"(function () {{ var e = {_CELL % json.dumps(needle)}.querySelector('textarea'); "
                          f"if (e.value.indexOf({json.dumps(old)}) < 0) throw new Error('no such text'); "
                          f"e.value = e.value.replace({json.dumps(old)}, {json.dumps(new)}); }})()")


def _browser() -> Browser:
    return Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", timeout=320)


def _cpu(browser: Browser) -> dict:
    """CPU seconds (user + system) the browser's threads (its process group's) have used so far, by thread name
    (Linux's ``comm``; the page's worker is ``DedicatedWorker``, the background compilers ``ThreadPoolForeg``), and
    in all (``""``): a measure of the work, less stretched than the wall clock by other work on the machine."""
    group, tick, out = os.getpgid(browser._proc.pid), os.sysconf("SC_CLK_TCK"), {"": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != group:      # the process group (field 5)
                continue
            tasks = list((stat.parent / "task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                name = (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used = (int(fields[11]) + int(fields[12])) / tick          # utime, stime (fields 14, 15)
            out[name] = out.get(name, 0.0) + used
            out[""] += used
    return out


def first_result(base: str) -> dict:
    """A cold first result (fresh profile) and a second visit's, on chapter 2's soft target."""
    with _browser() as browser:
        tab = browser.open("about:blank")
        browser.visit(tab, base + "02_soft_labels.html", "site-check")
        time.sleep(1)                                     # the page's own work (MathJax) done
        cpu = _cpu(browser)
        cold = _run(browser, tab, SOFT_TARGET, 15, ".run-open")
        after = _cpu(browser)
        cold_cpu, worker_cpu = after[""] - cpu[""], after.get("DedicatedWorker", 0) - cpu.get("DedicatedWorker", 0)
        rerun = _run(browser, tab, SOFT_TARGET, 15, ".run-run")
        _run(browser, tab, NOTATION, 9, ".run-open")
        _edit(browser, tab, NOTATION, *NOTATION_EDIT)
        edited = _run(browser, tab, SOFT_TARGET, 15, ".run-run")
        browser.visit(tab, base + "02_soft_labels.html", "site-check")
        warm = _run(browser, tab, SOFT_TARGET, 15, ".run-open")
    return {"cold": cold["client"], "cold, CPU seconds": cold_cpu, "cold, worker thread CPU seconds": worker_cpu,
            "stages": cold["stages"], "warm": warm["client"],
            "rerun 15": rerun["client"], "rerun 15, notation edited": edited["client"]}


def reruns(base: str, times: int) -> dict:
    """Chapter 3's heavy cells: the first run, re-runs unchanged, and after each kind of edit: a new edit (never run
    before), and that edit run again."""
    out: dict = {}
    with _browser() as browser:
        tab = browser.open("about:blank")
        browser.visit(tab, base + "03_label_flipping.html", "site-check")
        for needle, index, edits in RERUNS:
            out[f"{index}: first run"] = [_run(browser, tab, needle, index, ".run-open")["client"]]
            out[f"{index}: re-run"] = [_run(browser, tab, needle, index, ".run-run")["client"] for _ in range(times)]
            for what, old, new in edits:
                fresh, again = [], []
                for k in range(1, times + 1):
                    browser.evaluate(tab, f"{_CELL % json.dumps(needle)}.querySelector('.run-reset').click()")
                    _run(browser, tab, needle, index, ".run-run")            # the verified code, run (kept)
                    _edit(browser, tab, needle, old, new.format(k=k))
                    fresh.append(_run(browser, tab, needle, index, ".run-run")["client"])
                    again.append(_run(browser, tab, needle, index, ".run-run")["client"])
                out[f"{index}: a new edit, {what}"] = fresh
                out[f"{index}: the same edit run again, {what}"] = again
            browser.evaluate(tab, f"{_CELL % json.dumps(needle)}.querySelector('.run-reset').click()")
    return out


def _summary(values: list[float]) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{med:.2f} s ({min(values):.2f}–{max(values):.2f}, {len(values)})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", action="append", type=Path, help="a built book (default build/html); repeatable")
    ap.add_argument("--runs", type=int, default=5, help="cold first results per site (default 5)")
    ap.add_argument("--reruns", type=int, default=3, help="re-runs of each kind per cell (default 3)")
    ap.add_argument("--skip-reruns", action="store_true", help="measure the first result only")
    ap.add_argument("--json", type=Path, default=ROOT / "build" / "bench-runner.json")
    args = ap.parse_args(argv)
    sites = args.site or [ROOT / "build" / "html"]
    if find_chromium() is None:
        raise SystemExit("no Chromium found (book/browser.find_chromium)")
    if not args.site and not (sites[0] / "index.html").exists():           # make bench: the book built first
        subprocess.run([sys.executable, "-m", "book.builder", "--out", str(sites[0])], check=True, cwd=ROOT)
    for s in sites:
        if not (s / "_static" / "run").is_dir():
            raise SystemExit(f"{s}: not a built book with runnable derivations (make html)")
    servers = {s: serve(s) for s in sites}
    load_before = os.getloadavg()
    results: dict = {str(s): {"cold": [], "cold, CPU seconds": [], "cold, worker thread CPU seconds": [],
                              "warm": [], "stages": [], "rerun 15": [], "rerun 15, notation edited": []}
                     for s in sites}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for r in range(args.runs):
        for s in sites:                                   # in turn: A B A B ...
            got = first_result(servers[s][1])
            res = results[str(s)]
            for k in ("cold", "cold, CPU seconds", "cold, worker thread CPU seconds", "warm", "rerun 15",
                      "rerun 15, notation edited"):
                res[k].append(got[k])
            res["stages"].append(got["stages"])
            print(f"run {r + 1}, {s}: cold {got['cold']:.2f} s ({got['cold, CPU seconds']:.2f} s of CPU, the worker "
                  f"{got['cold, worker thread CPU seconds']:.2f}), warm "
                  f"{got['warm']:.2f} s, load "
                  f"{os.getloadavg()[0]:.1f}", file=sys.stderr)
    if not args.skip_reruns:
        for s in sites:
            for k, v in reruns(servers[s][1], args.reruns).items():
                results[str(s)][k] = v
            print(f"re-runs, {s}: done", file=sys.stderr)
    load_after = os.getloadavg()
    for server, _ in servers.values():
        server.shutdown()
    print(f"Measured {started}, {platform.machine()} with {os.cpu_count()} cores, load average "
          f"{load_before[0]:.1f} / {load_before[1]:.1f} before and {load_after[0]:.1f} / {load_after[1]:.1f} after "
          f"(1 / 5 min); median (range, runs).\n")
    keys = [k for k in results[str(sites[0])] if k != "stages"]
    print("| | " + " | ".join(str(s) for s in sites) + " |")
    print("|---|" + "---|" * len(sites))
    for k in keys:
        print(f"| {k} | " + " | ".join(_summary(results[str(s)].get(k, [])) for s in sites) + " |")
    for s in sites:                                        # the worker's stages of the cold runs: medians
        stages: dict = {}
        for run in results[str(s)]["stages"]:
            for name, t in run or []:
                stages.setdefault(name, []).append(t)
        print(f"\n{s}, the worker's stages (seconds since it started, median): " +
              "; ".join(f"{name} {statistics.median(ts):.2f}" for name, ts in stages.items()))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"started": started, "load": [load_before, load_after], "results": results},
                                    indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
