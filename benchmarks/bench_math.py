"""Benchmark: the book's math rendered by MathJax 4 (as built), MathJax 3.2.2, or KaTeX at build time (issue 32, 8).

    .venv/bin/python benchmarks/bench_math.py [--out /tmp/mathbench] [--runs 5] [--prints 3] [--pages P ...]

Not part of the test suite. From the built site ``build/html`` (built first with ``book/builder.py`` when absent;
it is copied at the start, so a rebuild meanwhile does not disturb the run), three variants of the whole site are
made in ``--out``:

* ``mathjax4``: the site as built (MathJax 4.1.3, New Computer Modern font, ``displayOverflow: "linebreak"``);
* ``mathjax3``: the same pages with MathJax 3.2.2 (npm ``mathjax@3.2.2``: ``es5/tex-chtml.js`` and its woff-v2
  fonts in ``_static/mathjax``), each page's ``window.MathJax`` config replaced by :data:`MATHJAX3_CONFIG`;
* ``katex``: the math rendered at build time: every ``\\(...\\)`` / ``\\[...\\]`` of the pages' ``span.math`` and
  ``div.math`` (myst-nb's LaTeX outputs are ``div.output.text_latex.math``), and any MathJax-delimited math left
  in the text, rendered to HTML + MathML by KaTeX (npm ``katex@~0.16``) in one node process for every formula of
  every page (JSON on stdin); KaTeX's CSS and fonts in ``_static/katex``, the MathJax scripts removed. A formula
  KaTeX cannot parse is counted (rendered with ``throwOnError: false``) and its unsupported command listed.

Then headless Chromium (``book.browser.Browser``) loads the pages over http (a local ``http.server`` on
127.0.0.1), with the HTTP cache disabled (every load a first visit), the variants alternated in turn
(A B C A B C ...) so that drift of the machine hits each alike, and measures per page and variant:

* weight: bytes transferred (Resource Timing ``transferSize``), split into HTML, math script, math CSS, math
  fonts and the rest; and an estimate with gzip (level 6) of the text files, as a compressing server would send;
* times from navigation start, median of ``--runs`` loads: first contentful paint; *math typeset* (MathJax: its
  ``startup.pageReady``, which typesets the page, done, i.e. ``MathJax.startup.promise`` resolving, hooked by a
  script run before the page's own; KaTeX: ``DOMContentLoaded``, the math being in the HTML); *ready*: math
  typeset and the ``load`` event passed; *ready + fonts*: and the last math font received;
* print time: ``Browser.print_pdf`` right after a load, median of ``--prints`` loads;
* display formulas wider than their column at 1280 px and at 390 px window width (the window sized before the
  page loads; every ``<details>`` opened first): ``mjx-container[display="true"]`` or ``.katex-display`` whose
  ``scrollWidth > clientWidth + 1``.

The KaTeX pre-rendering is timed too (node's own time, the node process, the whole step). A Markdown table is
printed and written to ``build/bench-math/results.md`` (with the machine: cores, load average before and after).
"""
from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ["00_overview", "02_soft_labels", "03_label_flipping", "corrected_note"]
VARIANTS = ["mathjax4", "mathjax3", "katex"]
MATHJAX3_VERSION = "3.2.2"
KATEX_SPEC = "~0.16"                       # the latest 0.16.x
MATHJAX3_CONFIG = {"loader": {"load": []},
                   "options": {"enableMenu": False,
                               "processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"},
                   "startup": {"typeset": True}}
WIDTHS = [(1280, 900), (390, 844)]

# what a page's inline MathJax config looks like in Sphinx's output
CONFIG_SCRIPT = re.compile(r"<script>window\.MathJax = (\{.*?\})</script>", re.S)
MATHJAX_SCRIPT = re.compile(r'<script[^>]*src="_static/mathjax/[^"]*"[^>]*>\s*</script>\s*')

# a page cut into tokens: comments, raw-text elements (whole), math elements (their TeX as text), tags, text
TOKENS = re.compile(r"""
   (?P<comment><!--.*?-->)
 | (?P<raw><(?P<rn>script|style|textarea)\b[^>]*>.*?</(?P=rn)\s*>)
 | (?P<math>(?P<mopen><(?P<mt>span|div)\s+class="(?:[^"]*\s)?math(?:\s[^"]*)?"[^>]*>)(?P<mtex>[^<]*)(?P<mclose></(?P=mt)>))
 | (?P<tag><[^>]*>)
 | (?P<text>[^<]+)
""", re.S | re.X)
# MathJax's default delimiters (TeX input): \( \) inline; \[ \] and $$ $$ displayed
DELIMITED = re.compile(r"\\\((?P<i>.*?)\\\)|\\\[(?P<d>.*?)\\\]|\$\$(?P<dd>.*?)\$\$", re.S)
SKIPPED = {"pre", "code"}                  # MathJax's skipHtmlTags (script, style, textarea are raw tokens)

RENDER_JS = r"""
// every formula of every page, read as JSON on stdin ([{tex, display}]), rendered by KaTeX: JSON on stdout
const katex = require("katex");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", chunk => { input += chunk; });
process.stdin.on("end", () => {
  const t0 = process.hrtime.bigint();
  const items = JSON.parse(input);
  const results = items.map(({tex, display}) => {
    const warnings = [];
    const options = {displayMode: display, throwOnError: true, output: "htmlAndMathml",
                     strict: (code, message) => { warnings.push(code + ": " + message); return "ignore"; }};
    try {
      return {html: katex.renderToString(tex, options), error: null, warnings};
    } catch (e) {
      let out;
      try { out = katex.renderToString(tex, {...options, throwOnError: false}); }
      catch (e2) { out = '<span class="katex-error">' + tex.replace(/&/g, "&amp;").replace(/</g, "&lt;") + "</span>"; }
      return {html: out, error: String(e && e.message || e), warnings};
    }
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({version: katex.version, ms, results}));
});
"""

# run in every page before its own scripts: the moments that make "ready". The config the page gives MathJax gets
# a pageReady that runs MathJax's own (the default: typeset the page) and notes when it began and ended; startup's
# promise, which resolves right after, is noted too (late when it was already resolved when found)
HOOK_JS = r"""
(function () {
  var b = window.__bench = {}, config;
  Object.defineProperty(window, "MathJax", {configurable: true, get: function () { return config; },
    set: function (v) {
      delete window.MathJax;                     // a plain property again from now on
      if (v && typeof v === "object" && !v.version) {
        var startup = v.startup = v.startup || {}, own = startup.pageReady;
        startup.pageReady = function () {
          b.typeset_start = performance.now();
          return Promise.resolve(own ? own() : window.MathJax.startup.defaultPageReady()).then(function () {
            b.mathjax = performance.now();
            b.containers = document.querySelectorAll("mjx-container").length;
          });
        };
      }
      window.MathJax = v;
    }});
  function hook() {
    var M = window.MathJax;
    if (b.hooked || !(M && M.startup && M.startup.promise)) { return; }
    b.hooked = performance.now();
    M.startup.promise.then(function () { b.promise = performance.now(); });
  }
  document.addEventListener("load", function (e) { if (e.target && e.target.tagName === "SCRIPT") { hook(); } }, true);
  document.addEventListener("DOMContentLoaded", function () { b.dcl = performance.now(); hook(); });
  window.addEventListener("load", function () { b.load = performance.now(); hook(); });
})();
"""

# once the page is ready: its fonts in, its requests settled; then what it loaded, and its formulas
MEASURE_JS = r"""
new Promise(function (resolve) {
  var b = window.__bench || {};
  document.fonts.ready.then(function () {
    var n = -1, quiet = 0;
    (function settle() {
      var now = performance.getEntriesByType("resource").length;
      quiet = now === n ? quiet + 1 : 0; n = now;
      if (quiet < 6) { setTimeout(settle, 50); return; }
      var nav = performance.getEntriesByType("navigation")[0];
      var fcp = performance.getEntriesByName("first-contentful-paint")[0];
      var entries = [{name: location.href, kind: "html", transfer: nav.transferSize, body: nav.encodedBodySize,
                      end: nav.responseEnd}];
      performance.getEntriesByType("resource").forEach(function (e) {
        entries.push({name: e.name, kind: e.initiatorType, transfer: e.transferSize, body: e.encodedBodySize,
                      end: e.responseEnd});
      });
      resolve({marks: b, fcp: fcp ? fcp.startTime : null, entries: entries,
               formulas: document.querySelectorAll("mjx-container, .katex, .katex-error").length,
               mathjax_errors: document.querySelectorAll("mjx-merror, [data-mjx-error]").length,
               katex_errors: document.querySelectorAll(".katex-error").length});
    })();
  });
})
"""

# display formulas wider than their box, every <details> opened first
WIDE_JS = r"""
new Promise(function (resolve) {
  document.fonts.ready.then(function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      var boxes = document.querySelectorAll('mjx-container[display="true"], .katex-display'), wide = [];
      boxes.forEach(function (box) {
        if (box.clientWidth === 0 || box.closest("#site-check")) { return; }
        if (box.scrollWidth > box.clientWidth + 1) {
          wide.push({need: box.scrollWidth, room: box.clientWidth, in_details: !!box.closest("details"),
                     text: (box.textContent || "").replace(/\s+/g, " ").slice(0, 50)});
        }
      });
      resolve({display: boxes.length, wide: wide, width: window.innerWidth});
    }); });
  });
})
"""


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def ensure_site(site: Path) -> None:
    """Build the book into ``site`` unless it is there."""
    if not (site / "index.html").exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "book.py"), "--out", str(site)], check=True, cwd=ROOT)


def npm_install(cache: Path) -> Path:
    """MathJax 3.2.2 and the latest KaTeX 0.16.x installed with npm into ``cache`` (once); its node_modules."""
    nm = cache / "node_modules"

    def version(name: str) -> str | None:
        meta = nm / name / "package.json"
        return json.loads(meta.read_text())["version"] if meta.exists() else None
    if version("mathjax") != MATHJAX3_VERSION or not (version("katex") or "").startswith("0.16."):
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
                        str(cache), f"mathjax@{MATHJAX3_VERSION}", f"katex@{KATEX_SPEC}"], check=True)
    return nm


def pages_of(site: Path) -> list[Path]:
    return sorted(site.glob("**/*.html"))


def make_mathjax3(site: Path, dest: Path, nm: Path) -> None:
    """The site with MathJax 3.2.2 in place of MathJax 4."""
    shutil.copytree(site, dest, ignore=lambda d, names: ["mathjax"] if Path(d).name == "_static" else [])
    mj = dest / "_static" / "mathjax"
    (mj / "output" / "chtml" / "fonts").mkdir(parents=True)
    shutil.copy2(nm / "mathjax" / "es5" / "tex-chtml.js", mj / "tex-chtml.js")
    shutil.copytree(nm / "mathjax" / "es5" / "output" / "chtml" / "fonts" / "woff-v2",
                    mj / "output" / "chtml" / "fonts" / "woff-v2")
    config = json.dumps(MATHJAX3_CONFIG)
    for page in pages_of(dest):
        text = page.read_text(encoding="utf-8")
        if "_static/mathjax/" not in text:
            continue
        new, n = CONFIG_SCRIPT.subn(lambda m: f"<script>window.MathJax = {config}</script>", text)
        if n != 1:
            raise SystemExit(f"{page}: {n} MathJax configs, expected 1")
        page.write_text(new, encoding="utf-8")


def split_page(text: str) -> tuple[list, list[dict], int]:
    """A page as a list of strings and formula indexes (into the returned formulas: {tex, display}), and how many
    formulas were found in the text outside math elements."""
    parts, formulas, stray, skip = [], [], 0, 0

    def formula(tex: str, display: bool) -> int:
        formulas.append({"tex": tex, "display": display})
        return len(formulas) - 1

    def delimited(raw: str) -> list:
        """The pieces of a text: its delimited formulas as indexes, the rest as it was."""
        out, pos = [], 0
        for m in DELIMITED.finditer(raw):
            out.append(raw[pos:m.start()])
            tex = next(g for g in (m.group("i"), m.group("d"), m.group("dd")) if g is not None)
            out.append(formula(html.unescape(tex).strip(), m.group("i") is None))
            pos = m.end()
        return out + [raw[pos:]]

    matched = 0
    for m in TOKENS.finditer(text):
        matched += m.group("math") is not None
        if m.group("math") is not None and not skip:
            if DELIMITED.sub("", m.group("mtex")).strip() or not DELIMITED.search(m.group("mtex")):
                raise ValueError(f"a math element that is not delimited TeX alone: {m.group(0)[:80]!r}")
            pieces = [p for p in delimited(m.group("mtex")) if not isinstance(p, str)]      # the TeX alone
            parts += [m.group("mopen"), *pieces, m.group("mclose")]
        elif m.group("tag") is not None:
            name = re.match(r"</?\s*([A-Za-z0-9]+)", m.group("tag"))
            if name and name.group(1).lower() in SKIPPED:
                skip += -1 if m.group("tag").startswith("</") else 1
            parts.append(m.group(0))
        elif m.group("text") is not None and not skip and DELIMITED.search(m.group("text")):
            pieces = delimited(m.group("text"))
            stray += sum(isinstance(p, int) for p in pieces)
            parts += pieces
        else:
            parts.append(m.group(0))
    elements = len(re.findall(r'<(?:span|div)\s+class="(?:[^"]*\s)?math(?:\s[^"]*)?"', text))
    if elements != matched:
        raise ValueError(f"{elements - matched} math elements holding more than text")
    return parts, formulas, stray


def make_katex(site: Path, dest: Path, nm: Path) -> dict:
    """The site with its math rendered by KaTeX at build time; what it took and what failed."""
    t_step = time.perf_counter()
    shutil.copytree(site, dest, ignore=lambda d, names: ["mathjax"] if Path(d).name == "_static" else [])
    kx = dest / "_static" / "katex"
    kx.mkdir(parents=True)
    shutil.copy2(nm / "katex" / "dist" / "katex.min.css", kx / "katex.min.css")
    shutil.copytree(nm / "katex" / "dist" / "fonts", kx / "fonts")
    cut, everything, stray = {}, [], 0
    for page in pages_of(dest):
        parts, formulas, n = split_page(page.read_text(encoding="utf-8"))
        cut[page] = (parts, len(everything))
        everything += formulas
        stray += n
    script = nm.parent / "katex-render.cjs"
    script.write_text(RENDER_JS)
    t_node = time.perf_counter()
    run = subprocess.run(["node", str(script)], input=json.dumps(everything), capture_output=True, text=True,
                         check=True, cwd=nm.parent)
    node_wall = time.perf_counter() - t_node
    rendered = json.loads(run.stdout)
    results = rendered["results"]
    head = ('<link rel="stylesheet" type="text/css" href="_static/katex/katex.min.css" />\n'
            # as book.css does for MathJax's: a displayed formula wider than the column scrolls inside it
            '<style>.katex-display { overflow-x: auto; overflow-y: hidden; }</style>\n')
    for page, (parts, base) in cut.items():
        rel = os.path.relpath(dest / "_static", page.parent).replace(os.sep, "/")
        out = "".join(p if isinstance(p, str) else results[base + p]["html"] for p in parts)
        out, n_config = CONFIG_SCRIPT.subn("", out)
        out, n_script = MATHJAX_SCRIPT.subn("", out)
        if n_script:
            out = out.replace("</head>", head.replace("_static/", rel + "/") + "</head>", 1)
        if "_static/mathjax" in out or "window.MathJax" in out:
            raise SystemExit(f"{page}: MathJax left in the page")
        page.write_text(out, encoding="utf-8")
    errors = [(everything[i]["tex"], r["error"]) for i, r in enumerate(results) if r["error"]]
    unsupported = Counter()
    for _, message in errors:
        m = re.search(r"Undefined control sequence: (\\\S+?)(?: at|$)|No such environment: (\S+?)(?: at|$)", message)
        unsupported[(m.group(1) or m.group(2)) if m else re.sub(r" at position.*", "", message)] += 1
    warnings = Counter(w.split(":")[0] for r in results for w in r["warnings"])
    return {"version": rendered["version"], "formulas": len(everything), "stray": stray, "pages": len(cut),
            "node_ms": rendered["ms"], "node_wall_s": node_wall, "step_s": time.perf_counter() - t_step,
            "errors": errors, "unsupported": unsupported, "warnings": warnings}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def classify(url: str) -> str:
    path = url.split("?")[0].split("#")[0]
    math = "/_static/mathjax/" in path or "/_static/katex/" in path
    if path.endswith((".woff2", ".woff", ".ttf", ".otf")):
        return "math fonts" if math else "other"
    if math and path.endswith(".js"):
        return "math JS"
    if math and path.endswith(".css"):
        return "math CSS"
    return "other"


def weight(entries: list[dict], root: Path, base: str) -> dict:
    """Bytes per kind (the first entry is the page's HTML), as transferred and as gzip would send the text."""
    out = Counter()
    for i, e in enumerate(entries):
        kind = "HTML" if i == 0 else classify(e["name"])
        out[kind] += e["transfer"]
        out["total"] += e["transfer"]
        local = root / e["name"].split("?")[0].split("#")[0][len(base):]
        data = local.read_bytes() if local.is_file() else b""
        gz = len(gzip.compress(data, 6)) if local.suffix in (".html", ".js", ".css", ".svg", ".json") else len(data)
        out["gz " + kind] += gz
        out["gz total"] += gz
    return dict(out)


def measure(out: Path, runs: int, prints: int, pages: list[str]) -> dict:
    from book.browser import Browser

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    res = {"loads": {}, "prints": {}, "wide": {}, "errors": {}, "chromium": None}
    try:
        for _ in range(100):                      # the server is up
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        with Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--hide-scrollbars",
                     timeout=120) as browser:
            res["chromium"] = browser.send("Browser.getVersion")["product"]
            tab = browser.open("about:blank", watch=True)
            browser.send("Network.setCacheDisabled", {"cacheDisabled": True}, tab)
            browser.send("Page.enable", {}, tab)               # else the script below is never run
            browser.send("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK_JS}, tab)
            browser.screenshot(tab, *WIDTHS[0])
            for page in pages:
                for r in range(-1, max(runs, prints)):           # round -1: one warm-up load of each, not counted
                    for v in VARIANTS:
                        url = f"{base}{v}/{page}.html"
                        if browser.visit(tab, url, "site-check") is None:
                            raise SystemExit(f"{url}: never ready")
                        m = browser.evaluate(tab, MEASURE_JS)
                        errors = browser.errors(tab)
                        if r < 0:
                            res["errors"][(v, page)] = errors
                            continue
                        if r < runs:
                            marks = m["marks"]
                            # math typeset: MathJax's pageReady done; KaTeX's is in the HTML: DOMContentLoaded
                            typeset = marks.get("mathjax", marks.get("promise")) if v.startswith("mathjax") \
                                else marks["dcl"]
                            ready = max(typeset, marks["load"])                  # and the page loaded
                            fonts_end = max([e["end"] for e in m["entries"] if classify(e["name"]) == "math fonts"],
                                            default=0)
                            res["loads"].setdefault((v, page), []).append(
                                {"typeset": typeset, "ready": ready, "dcl": marks.get("dcl"), "load": marks["load"],
                                 "typeset_start": marks.get("typeset_start"), "promise": marks.get("promise"),
                                 "fcp": m["fcp"], "ready_fonts": max(ready, fonts_end),
                                 "weight": weight(m["entries"], out, base), "formulas": m["formulas"],
                                 "resources": [[e["name"][len(base):], e["transfer"]] for e in m["entries"]],
                                 "containers_at_ready": marks.get("containers"),
                                 "mathjax_errors": m["mathjax_errors"], "katex_errors": m["katex_errors"]})
                        if r < prints:
                            t = time.perf_counter()
                            pdf = browser.print_pdf(tab)
                            res["prints"].setdefault((v, page), []).append(
                                {"ms": (time.perf_counter() - t) * 1000,
                                 "pages": len(re.findall(rb"/Type\s*/Page[^s]", pdf)), "bytes": len(pdf)})
                    print(f"  {page}: round {r + 1} of {max(runs, prints)} done", file=sys.stderr)
            browser.close_tab(tab)
            for w, h in WIDTHS:
                tab = browser.open("about:blank")
                browser.screenshot(tab, w, h)          # the window's size before the page loads
                for page in pages:
                    for v in VARIANTS:
                        url = f"{base}{v}/{page}.html"
                        if browser.visit(tab, url, "site-check") is None:
                            raise SystemExit(f"{url}: never ready")
                        res["wide"][(v, page, w)] = browser.evaluate(tab, WIDE_JS)
                browser.close_tab(tab)
    finally:
        server.terminate()
        server.wait()
    return res


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def kb(n: float) -> str:
    return f"{n / 1024:,.0f}"


def report(res: dict, katex: dict, pages: list[str], runs: int, prints: int, machine: dict) -> str:
    rows, per_page, checks, first = [], [], [], None
    for v in VARIANTS:
        loads = {p: res["loads"][(v, p)] for p in pages}
        w = {p: Counter(loads[p][0]["weight"]) for p in pages}
        tot = Counter()
        for p in pages:
            tot.update(w[p])
        of = {key: {p: med([x[key] for x in loads[p] if x[key] is not None]) for p in pages}
              for key in ("fcp", "typeset", "ready", "ready_fonts")}
        printed = {p: med([x["ms"] for x in res["prints"][(v, p)]]) for p in pages}
        formulas = sum(loads[p][0]["formulas"] for p in pages)
        errs = sum(loads[p][0]["katex_errors" if v == "katex" else "mathjax_errors"] for p in pages)
        wide = {wd: sum(len(res["wide"][(v, p, wd)]["wide"]) for p in pages) for wd, _ in WIDTHS}
        display = sum(res["wide"][(v, p, WIDTHS[0][0])]["display"] for p in pages)
        math_gz = tot["gz math JS"] + tot["gz math CSS"] + tot["gz math fonts"]
        sums = {"fcp": sum(of["fcp"].values()), "typeset": sum(of["typeset"].values()),
                "ready": sum(of["ready"].values()), "ready_fonts": sum(of["ready_fonts"].values()),
                "print": sum(printed.values()), "gz": tot["gz total"]}
        first = first or sums

        def rel(key: str, shown=lambda x: f"{x:,.0f}") -> str:
            return shown(sums[key]) + ("" if sums is first else f" ({(sums[key] / first[key] - 1) * 100:+.0f} %)")
        rows.append(
            f"| {v} | {formulas} ({display}) | {errs} | {kb(tot['total'])} = {kb(tot['HTML'])} + "
            f"{kb(tot['math JS'])} + {kb(tot['math CSS'])} + {kb(tot['math fonts'])} + {kb(tot['other'])} | "
            f"{rel('gz', kb)}: HTML {kb(tot['gz HTML'])}, "
            f"math {kb(math_gz)} | {rel('fcp')} | {rel('typeset')} | {rel('ready')} | {rel('ready_fonts')} | "
            f"{rel('print')} | {wide[1280]} / {wide[390]} |")
        for p in pages:
            pr, rd = res["prints"][(v, p)], [x["ready"] for x in loads[p]]
            per_page.append(
                f"| {p} | {v} | {loads[p][0]['formulas']} | {kb(w[p]['total'])} ({kb(w[p]['gz total'])}) | "
                f"{kb(w[p]['HTML'])} | {kb(w[p]['math JS'])} | {kb(w[p]['math fonts'])} | {of['fcp'][p]:,.0f} | "
                f"{of['typeset'][p]:,.0f} | {of['ready'][p]:,.0f} ({min(rd):,.0f}-{max(rd):,.0f}) | "
                f"{of['ready_fonts'][p]:,.0f} | {printed[p]:,.0f} | {pr[0]['pages']} | "
                f"{len(res['wide'][(v, p, 1280)]['wide'])} / {len(res['wide'][(v, p, 390)]['wide'])} |")
            if v != "katex":
                late = [x for x in loads[p] if x["containers_at_ready"] != x["formulas"]]
                if late:
                    checks.append(f"- {v} {p}: {len(late)} loads with formulas still to typeset when marked ready")
            if len({x["weight"]["total"] for x in loads[p]}) > 1:
                checks.append(f"- {v} {p}: the weight differed between loads: "
                              f"{sorted({x['weight']['total'] for x in loads[p]})}")
    lines = [
        "# Math rendering: MathJax 4 (as built), MathJax 3.2.2, KaTeX at build time",
        "",
        f"Pages: {', '.join(pages)}. {runs} loads per page and variant, alternated (A B C A B C, after one warm-up "
        f"load each), the HTTP cache disabled (each load a first visit), over http from `http.server` on "
        f"127.0.0.1, window 1280 x 900; print (`print_pdf` right after a load): median of {prints}.",
        "",
        f"Machine: {machine['cores']} cores, {machine['platform']}; other processes may be running: load average "
        f"(1, 5, 15 min) {machine['load_before']} before, {machine['load_after']} after. {machine['chromium']}; "
        f"node {machine['node']}; KaTeX {katex['version']}; MathJax {machine['mathjax4']} (as built) and "
        f"{MATHJAX3_VERSION}.",
        "",
        "Sums over the pages (against mathjax4 in brackets); times are the sum of each page's median, ms from "
        "navigation start. *FCP*: first contentful paint (MathJax's pages show their TeX raw until typeset). "
        "*Math typeset*: "
        "MathJax's pageReady (its typesetting) done, KaTeX's page parsed (DOMContentLoaded). *Ready*: math typeset "
        "and the page loaded (`load`). *Fonts*: ready and the last math font received. Weight: bytes "
        "transferred (Resource Timing), and the same files gzipped (level 6; woff2 as is), as a compressing server "
        "would send them.",
        "",
        "| variant | formulas (displayed) | render errors | weight KB = HTML + math JS + math CSS + math fonts + "
        "other | gzip estimate KB | FCP ms | math typeset ms | ready ms | ready + fonts ms | print ms | display too "
        "wide 1280 / 390 px |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"KaTeX pre-rendering, every page of the site ({katex['pages']} files, {katex['formulas']} formulas, "
        f"{katex['stray']} of them outside math elements): {katex['node_ms']:,.0f} ms in node's rendering, "
        f"{katex['node_wall_s'] * 1000:,.0f} ms the node process (start, read, render, write), "
        f"{katex['step_s'] * 1000:,.0f} ms the whole step (copy, cut, render, write the pages). "
        f"Formulas KaTeX fails on: {len(katex['errors'])}"
        + (f" (unsupported: {', '.join(f'`{k}` x{n}' for k, n in katex['unsupported'].most_common())})"
           if katex["errors"] else "")
        + (f"; strict-mode warnings: {', '.join(f'{k} x{n}' for k, n in katex['warnings'].most_common())}"
           if katex["warnings"] else "; no strict-mode warnings") + ".",
        "",
        "Per page (weight: transferred, gzip estimate in brackets; FCP: first contentful paint; ready: median "
        "(range)):",
        "",
        "| page | variant | formulas | weight KB | HTML KB | math JS KB | math fonts KB | FCP ms | math typeset ms | "
        "ready ms | ready + fonts ms | print ms | PDF pages | too wide 1280 / 390 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *per_page,
    ]
    lines += ["", "Display formulas too wide, per window width: how many of those shown, and the widest (px needed / "
              "px there); every one in `results.json`:", ""]
    for v in VARIANTS:
        for p in pages:
            said = []
            for wd, _ in WIDTHS:
                r = res["wide"][(v, p, wd)]
                top = max(r["wide"], key=lambda x: x["need"] - x["room"], default=None)
                said.append(f"{wd} px: {len(r['wide'])} of {r['display']}"
                            + (f" (widest {top['need']} / {top['room']})" if top else ""))
            lines.append(f"- {v} {p}: " + "; ".join(said))
    shown = [(k, x) for k, r in sorted(res["wide"].items()) if k[0] == "mathjax4" for x in r["wide"]]
    lines += [f"- mathjax4's: {p} at {wd} px, {x['need']} / {x['room']}{' (in a fold)' if x['in_details'] else ''}: "
              f"`{x['text']}`" for (_, p, wd), x in shown]
    odd = [(k, e) for k, e in res["errors"].items() if e]
    if odd:
        lines += ["", "Browser errors (warm-up load):", ""] + [f"- {v} {p}: {'; '.join(e)[:300]}" for (v, p), e in odd]
    if checks:
        lines += ["", "Checks that failed:", "", *checks]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", type=Path, default=ROOT / "build" / "html", help="the built site (built if absent)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/mathbench"), help="where the variants are made")
    ap.add_argument("--results", type=Path, default=ROOT / "build" / "bench-math" / "results.md")
    ap.add_argument("--runs", type=int, default=5, help="timed loads per page and variant")
    ap.add_argument("--prints", type=int, default=3, help="timed prints per page and variant")
    ap.add_argument("--pages", nargs="+", default=PAGES)
    args = ap.parse_args(argv)

    machine = {"cores": os.cpu_count(), "platform": platform.platform(terse=True), "load_before": loadavg()}
    ensure_site(args.site)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for v in VARIANTS + ["site"]:
        shutil.rmtree(out / v, ignore_errors=True)
    shutil.copytree(args.site, out / "site")                 # a snapshot: a rebuild meanwhile changes nothing here
    nm = npm_install(out / "npm")
    found = re.search(r'="(4\.\d+\.\d+)"', (out / "site" / "_static" / "mathjax" / "tex-chtml.js").read_text())
    mj4 = found.group(1) if found else "4 (as built)"
    machine.update(node=subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
                   mathjax4=mj4)
    shutil.copytree(out / "site", out / "mathjax4")
    make_mathjax3(out / "site", out / "mathjax3", nm)
    katex = make_katex(out / "site", out / "katex", nm)
    print(f"KaTeX {katex['version']}: {katex['formulas']} formulas in {katex['node_ms']:.0f} ms "
          f"({katex['node_wall_s']:.2f} s node, {katex['step_s']:.2f} s step), {len(katex['errors'])} errors",
          file=sys.stderr)
    for tex, message in katex["errors"]:
        print(f"  KaTeX error: {message} in {tex[:100]!r}", file=sys.stderr)
    res = measure(out, args.runs, args.prints, args.pages)
    machine.update(load_after=loadavg(), chromium=res["chromium"])
    text = report(res, katex, args.pages, args.runs, args.prints, machine)
    print(text)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(text, encoding="utf-8")
    (args.results.parent / "results.json").write_text(json.dumps(
        {"machine": machine, "katex": {k: (v if not isinstance(v, Counter) else dict(v)) for k, v in katex.items()},
         "loads": {" ".join(k): v for k, v in res["loads"].items()},
         "prints": {" ".join(k): v for k, v in res["prints"].items()},
         "wide": {f"{k[0]} {k[1]} {k[2]}": v for k, v in res["wide"].items()}}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
