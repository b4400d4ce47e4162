"""Issue 36: a derivation cell edited and run in the book's page, offline, with nothing installed.

Two halves:

* In CPython, in a subprocess that cannot import NumPy: ``book/_static/run_cells.py`` runs every derivation cell of
  every chapter that has them, each after only the cells it depends on, from the modules the book ships
  (``derivations.zip``) and the manifests the build writes (``book/builder.py``: ``stage_runner``), and gives back,
  cell by cell, exactly the stored outputs of the notebook (the steps' LaTeX, the verdict's Markdown; only the
  summary of the folded numeric checks says that they were computed when the book was built).
* In Chromium (``book/browser.py``), with every host but 127.0.0.1 unresolvable: the book is served (built once
  per session, ``conftest.built_book``); nothing of Python loads before a click; "Edit and run" on chapter 2's
  soft target's cell runs it and shows the stored output again; the soft target of the notation cell is edited (``1 - eps`` to ``1 - 2*eps``) and the cell
  run again: its output changes and its verdict turns to ERRATUM; an error shows in words under the cell; Reset puts
  back the verified code and the stored output; a run that does not end is stopped, and the next run works; no
  request leaves the site (the page's, the worker's, and what the server saw); over ``file://`` the control says to
  serve the book; the printed page shows the stored output and where to run the cells.

:func:`run_in_book` drives a loaded chapter-2 page and returns what it saw.
"""
from __future__ import annotations

import collections
import functools
import http.server
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from book import builder
from book.browser import Browser, find_chromium

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

#: The page's derivation cell that decides the soft target, and the notation cell that defines it (``p``).
SOFT_TARGET, NOTATION = 'as_printed("ch2.soft_target")', "def p(i)"
#: The edit: the true class's soft target 1 - eps made 1 - 2 eps, after which the printed line no longer holds.
EDIT = ("(1 - eps) * KroneckerDelta", "(1 - 2*eps) * KroneckerDelta")
# How long the first result and a re-run take is measured, not asserted here (a timed test fails with the machine's
# load, not with the code): docs/measurements.md has the timings against the 8 s and 1 s.


# -- in CPython ---------------------------------------------------------------------------------------------------
_CHECK = r"""
import importlib.abc, json, sys
class Refused(importlib.abc.MetaPathFinder):          # the page has no NumPy: neither has this process
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("numpy", "scipy", "matplotlib", "IPython"):
            raise ImportError(f"{name} is not in the book's Python")
sys.meta_path.insert(0, Refused())
sys.path[:0] = [sys.argv[1], sys.argv[2]]               # the shipped modules, then run_cells.py
import run_cells
manifest = json.load(open(sys.argv[3], encoding="utf-8"))
run_cells.setup(manifest)
first = {c["index"]: run_cells.run(c["index"]) for c in manifest["cells"]}
again = {c["index"]: run_cells.run(c["index"]) for c in manifest["cells"]}   # from what the first runs kept
print(json.dumps({"first": first, "again": again}))
"""


def _stored(cell: dict) -> list[tuple[str, str]]:
    """A notebook cell's stored outputs, as the runner gives them: (kind, text)."""
    out = []
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        if "text/markdown" in data:
            out.append(("markdown", "".join(data["text/markdown"])))
        elif "text/latex" in data:
            out.append(("latex", "".join(data["text/latex"])))
        elif o["output_type"] == "stream":
            out.append(("text", "".join(o["text"])))
    return out


@pytest.fixture(scope="module")
def shipped(built_book, tmp_path_factory):
    """What the book ships for its pages to run (the session's book, ``conftest.built_book``, as it serves them):
    the manifests and the modules; the modules unpacked into a folder."""
    run = built_book / "_static" / "run"
    modules = tmp_path_factory.mktemp("modules")
    with zipfile.ZipFile(run / "derivations.zip") as z:
        z.extractall(modules)
    return run, modules


@pytest.mark.browser                # the book's runner: Pyodide from npm, compiled by Node
def test_the_book_ships_python_for_every_chapter_with_derivation_cells(shipped):
    run, modules = shipped
    chapters = {nb.stem for nb in (ROOT / "notebooks").glob("*.ipynb")
                if any("derivation" in c["metadata"].get("tags", []) for c in json.loads(nb.read_text())["cells"])}
    assert chapters and {p.stem for p in run.glob("*.json")} == chapters
    names = {p.name for p in run.iterdir()}
    for name in builder.RUN_DISTRIBUTIONS:
        assert any(n.startswith(f"{name}-") and n.endswith(f"-pyodide-{builder.PYODIDE_VERSION}.zip") for n in names)
    # no chapter's package is shipped (its __init__ finds every chapter, whose claims import NumPy)
    assert not list(modules.glob("derivations/chapters/**/__init__.py"))
    assert (modules / "derivations" / "engine" / "derive.py").read_bytes() == \
        (ROOT / "derivations" / "engine" / "derive.py").read_bytes()


@pytest.mark.browser                # the book's runner: Pyodide from npm, compiled by Node
def test_every_cell_run_after_its_dependencies_alone_gives_its_stored_output_without_numpy(shipped):
    """Each chapter in a process of its own (side by side): every derivation cell run after only the cells it
    depends on (from the namespace kept for them), compared with the notebook's stored outputs; then every cell
    again, from what the first runs kept (the namespaces, the slow statements' results), compared again."""
    run, modules = shipped
    procs = {m.stem: subprocess.Popen([sys.executable, "-c", _CHECK, str(modules), str(ROOT / "book" / "_static"),
                                       str(m)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      cwd=tempfile.gettempdir())
             for m in sorted(run.glob("*.json"))}
    built = f"<summary>How it was checked {_built_note()}: "
    for stem, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{stem}: {err[-3000:]}"
        runs = json.loads(out)
        nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        assert sum(r["recalled"] for r in runs["again"].values()) > 0, stem       # the slow statements recalled
        for index, r in [*runs["first"].items(), *runs["again"].items()]:
            assert r["error"] is None, f"{stem}, cell {index}: {r['error']}"
            got = [("markdown" if o["kind"] == "verdict" else o["kind"],
                    o["text"].replace(built, "<summary>How it was checked: ")) for o in r["outputs"]]
            assert got == _stored(nb["cells"][int(index)]), f"{stem}, cell {index}: not its stored output"
            verdicts = [o for o in r["outputs"] if o["kind"] == "verdict"]
            assert all(v["verdict"] == v["verified"] and not v["problems"] for v in verdicts), (stem, index)


def _built_note() -> str:
    sys.path.insert(0, str(ROOT / "book" / "_static"))
    try:
        import run_cells
    finally:
        sys.path.remove(str(ROOT / "book" / "_static"))
    return run_cells.BUILT_NOTE


def test_dependencies_follow_names_read_before_they_are_bound():
    sys.path.insert(0, str(ROOT / "book" / "_static"))
    try:
        from run_cells import dependencies
    finally:
        sys.path.remove(str(ROOT / "book" / "_static"))
    cells = {1: "from sympy import *", 2: "a = 1\nb = 2", 3: "c = a + 1", 4: "def f(x):\n    return x + b",
             5: "a = 5", 6: "d = [c]\nd[0] = f(c)", 7: "print(d, [a for a in range(3)])", 8: "c = c + 1"}
    assert dependencies(cells, 3) == [1, 2]
    assert dependencies(cells, 6) == [1, 2, 3, 4]          # f reads b at its call: the cell of b too
    assert dependencies(cells, 7) == [1, 2, 3, 4, 6]       # the comprehension's a is its own
    assert dependencies(cells, 8) == [1, 2, 3]             # c read before it is bound again
    with pytest.raises(SyntaxError):
        dependencies({**cells, 3: "c = ("}, 3)


@pytest.fixture
def runner():
    """``run_cells`` with a chapter of plain cells (no claims: the engine's words are not set up, nor changed for
    the other tests of this process): ``runner(cells)`` sets the chapter's cells and returns the module."""
    sys.path.insert(0, str(ROOT / "book" / "_static"))
    try:
        import run_cells
    finally:
        sys.path.remove(str(ROOT / "book" / "_static"))
    saved = dict(run_cells._STATE)

    def chapter(cells: dict):
        run_cells._STATE.update(cells=cells, numeric={}, snapshots={}, outputs=None,
                                memo=collections.OrderedDict(), library=frozenset())
        return run_cells

    yield chapter
    run_cells._STATE.clear()
    run_cells._STATE.update(saved)


def _printed(result: dict) -> str:
    assert result["error"] is None, result["error"]
    return "".join(o["text"] for o in result["outputs"] if o["kind"] == "text")


def test_a_function_a_cell_defined_reads_the_namespace_of_the_run_it_is_used_in(runner):
    """A run whose edit rebinds a name that a function of a cell above reads changes that run only: the namespace
    kept for the cells above is not the one the edited run changed (it was, until this test)."""
    rc = runner({1: "k = 2\n\ndef f(x):\n    return k * x", 2: "print(f(3))"})
    assert _printed(rc.run(2)) == "6\n"
    assert _printed(rc.run(2, {2: "k = 5\nprint(f(3))"})) == "15\n"
    assert _printed(rc.run(2)) == "6\n"
    assert _printed(rc.run(2, {2: "k = 5\nprint(f(3))"})) == "15\n"


def test_what_a_run_changes_in_place_is_not_kept_for_the_next(runner):
    rc = runner({1: "xs = [1, 2]\nm = {'a': [1]}", 2: "xs.append(3)\nm['a'].append(2)\nprint(xs, m)"})
    for _ in range(3):
        assert _printed(rc.run(2)) == "[1, 2, 3] {'a': [1, 2]}\n"


_SLOW = ("import time\n\ndef slow(x):\n    time.sleep(0.05)\n    print('computed', x)\n    return factor * x\n\n"
         "factor = 2")


def test_a_slow_statement_is_recalled_while_its_inputs_are_the_same_and_run_when_they_change(runner):
    rc = runner({1: _SLOW, 2: "n = 3\ny = slow(n)\nprint(y)"})
    first = rc.run(2)
    assert _printed(first) == "computed 3\n6\n" and first["recalled"] == 0
    again = rc.run(2)
    assert _printed(again) == "computed 3\n6\n" and again["recalled"] == 1      # its printing shown again
    assert _printed(rc.run(2, {2: "n = 4\ny = slow(n)\nprint(y)"})) == "computed 4\n8\n"
    edited_above = rc.run(2, {1: _SLOW.replace("factor = 2", "factor = 3")})   # what slow reads changed
    assert _printed(edited_above) == "computed 3\n9\n" and edited_above["recalled"] == 0
    moved = rc.run(2, {1: "# a line above\n" + _SLOW, 2: "n = 3\n\ny = slow(n)   # the same statement\nprint(y)"})
    assert _printed(moved) == "computed 3\n6\n" and moved["recalled"] == 1    # where it stands changes nothing


def test_a_statement_that_changes_what_it_reads_is_always_run(runner):
    rc = runner({1: _SLOW + "\nys = [1]", 2: "ys.append(slow(1))\nprint(ys)"})
    for _ in range(3):
        r = rc.run(2)
        assert _printed(r) == "computed 1\n[1, 2]\n" and r["recalled"] == 0


def test_a_slow_sum_is_evaluated_once_across_edits_that_keep_it(runner, monkeypatch):
    """Issue 36: the value of a sum SymPy evaluated slowly is kept across runs (``Sum.doit``, keyed by the sum), so
    that an edited statement evaluating the same sum finds it; a sum that differs (a symbol's assumptions) does not."""
    rc = runner({1: "from sympy import *\nK = symbols('K', integer=True, positive=True)\nj = symbols('j', integer=True)"
                    "\nz = IndexedBase('z')",
                 2: "s = Sum(KroneckerDelta(j, 1) * z[j] ** 2 + z[j], (j, 1, K))\nprint(s.doit())"})
    monkeypatch.setattr(rc, "MEMO_SECONDS", 0.0)
    monkeypatch.setitem(rc._STATE, "sums", collections.OrderedDict())
    rc._remembering_sums()
    first = _printed(rc.run(2))
    assert first == "z[1]**2 + Sum(z[j], (j, 1, K))\n"
    from sympy import IndexedBase, KroneckerDelta, Sum, Symbol, symbols

    j, K, z = symbols("j", integer=True), symbols("K", integer=True, positive=True), IndexedBase("z")
    key, = [k for k in rc._STATE["sums"] if k[0] == Sum(KroneckerDelta(j, 1) * z[j] ** 2 + z[j], (j, 1, K))]
    rc._STATE["sums"][key] = Symbol("remembered")          # what the next run reads, if it reads the kept value
    assert _printed(rc.run(2, {2: "s = Sum(KroneckerDelta(j, 1) * z[j] ** 2 + z[j], (j, 1, K))\nprint(2 * s.doit())"})) \
        == "2*remembered\n"
    real = rc.run(2, {2: "z = IndexedBase('z', real=True)\ns = Sum(KroneckerDelta(j, 1) * z[j] ** 2 + z[j], (j, 1, K))"
                         "\nprint(s.doit())"})
    assert _printed(real) == first


def test_values_are_told_apart_by_their_type_and_structure(runner):
    rc = runner({})
    fp = rc._fingerprint
    from sympy import Float, Integer, Rational, Symbol

    assert fp(1) != fp(1.0) != fp(True) and fp(0.0) != fp(-0.0)
    assert fp(Integer(1)) != fp(1) and fp(Rational(1, 2)) != fp(Float(0.5))
    assert fp(Float("0.1", 15)) != fp(Float("0.1", 30))
    assert fp(Symbol("x")) != fp(Symbol("x", positive=True)) and fp(Symbol("x")) == fp(Symbol("x"))
    assert fp([Symbol("x"), (1, "a")]) == fp([Symbol("x"), (1, "a")]) != fp((Symbol("x"), (1, "a")))
    with pytest.raises(rc._Unprinted):
        fp(iter([1]))
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(rc._Unprinted):
        fp(cycle)


# -- in the browser -------------------------------------------------------------------------------------------------
class _Server(http.server.SimpleHTTPRequestHandler):
    """The book's folder, as any static server serves it; every request is written down (path, status)."""

    seen: list

    def log_message(self, *args):
        pass

    def log_request(self, code="-", size="-"):
        self.seen.append((self.path, int(code) if isinstance(code, int) else code))


@pytest.fixture(scope="module")
def chapter2(built_book):
    """The session's book (``conftest.built_book``, shared with tests/test_site.py), served on 127.0.0.1 by a server
    of this file's own; the server's log of requests."""
    out = built_book
    seen: list = []
    handler = type("Handler", (_Server,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(out)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield out, f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()


#: The page's derivation cell whose code holds ``needle``.
_CELL = """(function (needle) { return Array.prototype.find.call(document.querySelectorAll(".cell.tag_derivation"),
  function (c) { var pre = c.querySelector(".cell_input pre"); return pre && pre.textContent.indexOf(needle) >= 0; });
})(%s)"""
# a run ended (its Run button enabled again and a final word in its status): that status, and the run's output
_DONE = """new Promise(function (resolve) {
  var end = Date.now() + %d, cell = """ + _CELL + """;
  (function poll() {
    try {
      var s = cell.querySelector(".run-status").textContent, b = cell.querySelector(".run-run");
      if (b && !b.disabled && /^(Ran|Stopped|Not run)/.test(s)) {
        var out = cell.querySelector(".run-output"), stored = cell.querySelector(":scope > .cell_output:not(.run-output)");
        var error = out && out.querySelector(".run-error");
        resolve({status: s, text: out ? out.innerText : "", latex: out ? out.querySelectorAll(".text_latex").length : 0,
                 formulas: out ? out.querySelectorAll("mjx-container").length : 0,
                 verdict: out ? out.getAttribute("data-verdict") : null, error: error ? error.textContent : null,
                 stored_hidden: stored ? stored.hidden : null});
      } else if (Date.now() > end) { resolve({status: "timeout: " + s}); } else { setTimeout(poll, 20); }
    } catch (err) { resolve({status: "the test's poll failed: " + err}); }
  })();
})"""


def _click(browser, tab, needle: str, button: str) -> float:
    """Click a control of the cell holding ``needle``; the page's clock then (ms)."""
    return browser.evaluate(tab, f"(function () {{ var t = performance.now(); {_CELL % json.dumps(needle)}"
                                 f".querySelector({json.dumps(button)}).click(); return t; }})()")


def _run(browser, tab, needle: str, button: str = ".run-run", wait: float = 90) -> dict:
    t0 = time.monotonic()
    _click(browser, tab, needle, button)
    done = browser.evaluate(tab, _DONE % (int(wait * 1000), json.dumps(needle)), wait=wait + 10)
    done["seconds"] = time.monotonic() - t0
    return done


def _edit(browser, tab, needle: str, old: str, new: str) -> None:
    browser.evaluate(tab, f"(function () {{ var e = {_CELL % json.dumps(needle)}.querySelector('textarea'); "
                          f"if (e.value.indexOf({json.dumps(old)}) < 0) throw new Error('no such text'); "
                          f"e.value = e.value.replace({json.dumps(old)}, {json.dumps(new)}); }})()")


def run_in_book(browser: Browser, tab: str, base: str) -> dict:
    """Drive a chapter-2 page loaded in ``tab`` (watched) from ``base``: what it showed and loaded, step by step."""
    seen: dict = {"controls": browser.evaluate(tab, "document.querySelectorAll('.run-open').length"),
                  "before": browser.requests(tab)}
    seen["first"] = _run(browser, tab, SOFT_TARGET, ".run-open")
    seen["runs"] = browser.evaluate(tab, "BookRun.runs")
    seen["rerun"] = _run(browser, tab, SOFT_TARGET)
    seen["notation"] = _run(browser, tab, NOTATION, ".run-open")           # it shows nothing: it defines p
    _edit(browser, tab, NOTATION, *EDIT)
    seen["edited"] = _run(browser, tab, SOFT_TARGET)
    seen["edited_run"] = browser.evaluate(tab, "BookRun.runs")
    _edit(browser, tab, SOFT_TARGET, "verdict(", "nope + verdict(")
    seen["error"] = _run(browser, tab, SOFT_TARGET)
    _click(browser, tab, SOFT_TARGET, ".run-reset")
    _click(browser, tab, NOTATION, ".run-reset")
    seen["reset"] = browser.evaluate(tab, f"""(function (cell) {{ return {{
      code: cell.querySelector("textarea").value, output: !!cell.querySelector(".run-output"),
      stored: !cell.querySelector(":scope > .cell_output").hidden}}; }})({_CELL % json.dumps(SOFT_TARGET)})""")
    _edit(browser, tab, SOFT_TARGET, "verdict(", "while True:\n    pass\nverdict(")
    _click(browser, tab, SOFT_TARGET, ".run-run")
    time.sleep(1.5)
    seen["stopped"] = _run(browser, tab, SOFT_TARGET, ".run-stop")
    _click(browser, tab, SOFT_TARGET, ".run-reset")
    seen["after_stop"] = _run(browser, tab, SOFT_TARGET)
    seen["worker"] = browser.evaluate(tab, "BookRun.workerResources()", wait=30)
    seen["requests"] = browser.requests(tab)
    seen["errors"] = browser.errors(tab)
    return seen


@pytest.fixture(scope="module")
def page(chapter2):
    out, base, served = chapter2
    with Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", executable=find_chromium()) as browser:
        tab = browser.open("about:blank", watch=True)
        assert browser.visit(tab, base + "02_soft_labels.html", "site-check") is not None
        served_before = list(served)
        seen = run_in_book(browser, tab, base)
        seen["served_before"], seen["served"] = served_before, list(served)
        seen["base"] = base
        # over file://: the control says what to do
        browser.visit(tab, (out / "02_soft_labels.html").as_uri(), "site-check")
        _click(browser, tab, SOFT_TARGET, ".run-open")
        seen["file"] = browser.evaluate(tab, f"{_CELL % json.dumps(SOFT_TARGET)}.querySelector('.run-status').textContent")
        seen["file_worker"] = browser.evaluate(tab, "BookRun.state.worker === null")
        # printed: the stored output, and where to run the cells
        browser.visit(tab, base + "02_soft_labels.html", "site-check")
        pdf = browser.print_pdf(tab)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            seen["printed"] = subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True,
                                             text=True, check=True).stdout
    return seen


def _is_python(path: str) -> bool:
    return bool(re.search(r"/_static/(pyodide/|run/|run-worker\.js|run_cells\.py)", path))


@pytest.mark.browser
def test_nothing_of_python_loads_before_a_click(page):
    assert page["controls"] == 17                              # chapter 2's derivation cells shown with their code
    assert not [u for u in page["before"] if _is_python(u)]
    assert not [p for p, _ in page["served_before"] if _is_python(p)]


@pytest.mark.browser
def test_a_first_run_shows_the_stored_output_again(page):
    first = page["first"]
    assert first["status"].startswith("Ran in"), first
    assert "Python started in" in first["status"] and "8, 9" in first["status"]
    assert first["verdict"] == "holds" and first["latex"] == 2 and first["formulas"] >= 2 and first["stored_hidden"]
    assert "How it was checked when the book was built" in first["text"]
    r = page["runs"]["15"]
    assert r["error"] is None and r["ran"] == [8, 9, 15]
    assert page["rerun"]["verdict"] == "holds"


@pytest.mark.browser
def test_an_edited_soft_target_changes_the_output_and_the_verdict(page):
    assert "No output" in page["notation"]["text"]
    edited = page["edited"]
    assert edited["verdict"] == "erratum", edited
    assert "Your derivation changes the verdict: holds in the book, ERRATUM here." in edited["text"]
    assert "9 (edited)" in edited["status"]
    verdict = next(o for o in page["edited_run"]["15"]["outputs"] if o["kind"] == "verdict")
    assert r"Printed line: $\left(\epsilon," in verdict["text"] and "not $0$" in verdict["text"]
    assert any("numeric check finds it right" in p for p in verdict["problems"])


@pytest.mark.browser
def test_an_error_is_readable_under_the_cell(page):
    assert page["error"]["error"] == "NameError: name 'nope' is not defined (line 5 of cell 15)"


@pytest.mark.browser
def test_reset_restores_the_verified_code_and_its_output(page):
    stored = json.loads((ROOT / "notebooks" / "02_soft_labels.ipynb").read_text())["cells"][15]["source"]
    assert page["reset"] == {"code": "".join(stored), "output": False, "stored": True}


@pytest.mark.browser
def test_a_long_run_is_stopped_and_the_next_run_works(page):
    assert page["stopped"]["status"].startswith("Stopped"), page["stopped"]
    assert page["after_stop"]["verdict"] == "holds" and "Python started in" in page["after_stop"]["status"]


@pytest.mark.browser
def test_no_request_leaves_the_site(page):
    base = page["base"]
    assert page["worker"] and all(u.startswith(base) for u in page["worker"]), page["worker"]
    assert any(u.endswith("pyodide.asm.wasm") for u in page["worker"])
    assert any(re.search(r"/run/sympy-[\d.]+-pyodide-[\d.]+\.zip$", u) for u in page["worker"])
    assert all(u.startswith(base) for u in page["requests"])
    assert not [(p, code) for p, code in page["served"] if not (isinstance(code, int) and code < 400)]
    assert not page["errors"]


@pytest.mark.browser
def test_over_file_the_control_says_to_serve_the_book(page):
    assert "make serve" in page["file"] and "http://127.0.0.1:8000/02_soft_labels.html" in page["file"]
    assert page["file_worker"]


@pytest.mark.browser
def test_the_printed_page_shows_the_stored_output_and_where_to_run_it(page):
    text = " ".join(page["printed"].split())
    assert "can be edited and run in its page of the book" in text and "make serve" in text
    assert "Edit and run" not in text and "ch2.soft_target" in text
