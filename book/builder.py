"""Build the book: the offline site (Sphinx + myst-nb) and, on request, its PDFs (headless Chromium).

    python -m book.builder [--notebooks DIR] [--out DIR] [--pdf DIR]

Defaults: ``notebooks/`` -> ``build/html/``. The sources are staged into ``<out>.src/``:
every ``*.ipynb`` of the notebooks folder as stored (with a per-chapter references
section appended to the copy, :data:`CHAPTER_REFERENCES`), the pages of ``book/``,
and the corrected note (``book/corrected_note.py``). Sphinx reads them with
``book/conf.py`` and never executes a notebook. MathJax 4 and its New Computer
Modern font are installed from the npm registry (pinned below) into ``build/npm``
once; the part the pages use is copied into the site (``_static/mathjax``), so no
page loads anything from outside its folder. MathJax 4 breaks a displayed formula
too wide for its column over lines, at the reader's width (docs/measurements.md:
the choice against MathJax 3 and KaTeX). The live figures' formulas are JavaScript generated from the
registry (``book/live_figures.py``), copied into the site beside MathJax; the
figures' runtime is ``book/_static/live.js``. The claims' verdicts come from ``DERIVATIONS_RESULTS``
(:mod:`derivations.engine.results`), by default ``build/results``.

With ``--pdf DIR``, the corrected note (``corrected-note.pdf``) and the whole book
(``book.pdf``: every page, in reading order, joined by poppler's ``pdfunite``) are
printed there with the print stylesheet (``book/_static/book.css``) after each
displayed formula is fitted to the column (``fitForPrint`` in ``book/_static/book.js``).
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["MATHJAX_VERSION", "MATHJAX_PARTS", "CHAPTER_REFERENCES", "ensure_mathjax", "stage", "build",
           "PYODIDE_VERSION", "ensure_pyodide", "stage_runner", "run_manifest",
           "reading_order", "print_pdfs", "PRINTED", "NEAR_EMPTY", "sheet_fills", "near_empty", "print_page", "join", "screenshots", "pdf_screenshots", "main"]

MATHJAX_VERSION = "4.1.3"
#: The npm packages installed: MathJax and its default font (the same version).
MATHJAX_PACKAGES = ["mathjax", "@mathjax/mathjax-newcm-font"]
#: What the pages use of them (in ``node_modules``) -> where it goes in the site's ``_static/mathjax``: TeX input and
#: CommonHTML output in one script; the font's web fonts and the ranges of characters it loads when a page needs them
#: (book/conf.py points MathJax's ``fonts`` path at ``[mathjax]/fonts``).
MATHJAX_PARTS = {"mathjax/tex-chtml.js": "tex-chtml.js",
                 "@mathjax/mathjax-newcm-font/chtml/woff2": "fonts/mathjax-newcm-font/chtml/woff2",
                 "@mathjax/mathjax-newcm-font/chtml/dynamic": "fonts/mathjax-newcm-font/chtml/dynamic"}
BOOK = ROOT / "book"

#: The references section appended to each chapter's page (a notebook's stem prefix -> its Markdown): author-year
#: citations, followed by the list of the entries the paragraph cites (:func:`_references_section`).
CHAPTER_REFERENCES = {
    "00": "The note under audit is {cite:t}`pillai2019softtargets`. Label smoothing was introduced by "
          "{cite:t}`szegedy2016rethinking`; {cite:t}`muller2019does` study when it helps (calibration, "
          "distillation); {cite:t}`xie2016disturblabel` regularise by flipping labels afresh at every "
          "iteration (DisturbLabel), the process of chapter 3.",
    "01": "Chapter 1 checks the opening of {cite:t}`pillai2019softtargets`. The bounds "
          "$\\max_j z_j < \\mathrm{LSE}(z) \\le \\max_j z_j + \\log K$ are standard "
          "{cite:p}`boyd2004convex`.",
    "02": "Chapter 2 checks the note's label smoothing {cite:p}`pillai2019softtargets`, as introduced by "
          "{cite:t}`szegedy2016rethinking` (the frameworks' $\\alpha/K$ convention comes from there).",
    "03": "Chapter 3 checks the note's label flipping {cite:p}`pillai2019softtargets`. Flipping afresh at "
          "every use is DisturbLabel {cite:p}`xie2016disturblabel`; the sampling checks use Bernstein's "
          "inequality {cite:p}`boucheron2013concentration`.",
    "04": "Training with soft and flipped labels compares with {cite:t}`szegedy2016rethinking` and "
          "{cite:t}`xie2016disturblabel`; calibration as in {cite:t}`muller2019does` and "
          "{cite:t}`guo2017calibration`; the statistical bands use Bernstein's inequality "
          "{cite:p}`boucheron2013concentration`.",
    "05": "Chapter 5 tests two published claims: that networks trained on hard labels are over-confident, with "
          "temperature scaling as the remedy {cite:p}`guo2017calibration{Section 3 and Figure 1; Section 4.2; "
          "the ECE with 15 bins of their Table 1}`, and that label smoothing calibrates about as well as temperature "
          "scaling {cite:p}`muller2019does{Section 3 and Figure 2}`. The digits {cite:p}`alpaydin1998digits` "
          "come with scikit-learn {cite:p}`pedregosa2011scikit`; the network trains with Adam "
          "{cite:p}`kingma2015adam`. A calibrated model's ECE is found by consistency resampling "
          "{cite:p}`brocker2007reliability`, the intervals by the bootstrap {cite:p}`efron1993bootstrap`; "
          "flipping afresh is DisturbLabel {cite:p}`xie2016disturblabel`.",
}

#: A citation of :data:`CHAPTER_REFERENCES`: ``{cite:t}`key```, ``{cite:p}`key1,key2{post-text}```.
_CITE = re.compile(r"(\{cite:[a-z]+\}`)([^`]+)`")


def _references_section(stem: str, refs: str) -> str:
    """A chapter's references section: its paragraph, then the list of the entries it cites. The chapter cites under
    a key prefix of its own (``ch03-``), so that its citations link to its own list; the References page lists the
    unprefixed keys, which the other pages cite."""
    from sphinxcontrib.bibtex.citation_target import parse_citation_targets

    prefix = f"ch{stem[:2]}-"
    cited = _CITE.sub(lambda m: m[1] + ",".join((f"{{{t.pre}}}" if t.pre else "") + prefix + t.key +
                                                (f"{{{t.post}}}" if t.post else "")
                                                for t in parse_citation_targets(m[2])) + "`", refs)
    return f"## References\n\n{cited}\n\n```{{bibliography}}\n:keyprefix: {prefix}\n```\n"


def ensure_mathjax(cache: Path) -> Path:
    """Install :data:`MATHJAX_PACKAGES` at MATHJAX_VERSION with npm into ``cache`` unless already there; return its
    ``node_modules`` folder."""
    with _cache_lock(cache):
        return _ensure_mathjax(cache)


def _ensure_mathjax(cache: Path) -> Path:
    modules = cache / "node_modules"

    def installed(name: str) -> bool:
        meta = modules / name / "package.json"
        return meta.exists() and json.loads(meta.read_text())["version"] == MATHJAX_VERSION
    if not all(installed(name) for name in MATHJAX_PACKAGES):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install MathJax for the offline site (apt-get install npm)")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
                        str(cache), *(f"{name}@{MATHJAX_VERSION}" for name in MATHJAX_PACKAGES)], check=True)
    return modules


def _write_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` unless the file holds it already (Sphinx rebuilds only what changed)."""
    if not (path.exists() and path.read_bytes() == data):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


#: A Markdown link to another notebook of the book: ``[text](02_soft_labels.ipynb#anchor)``.
_NOTEBOOK_LINK = re.compile(r"\[([^\]]+)\]\(([0-9][\w-]*)\.ipynb(#[^)]*)?\)")


def _unlink_absent(text: str, present: set[str]) -> str:
    """Links to notebooks that are not in this book (a rerun of some chapters) become their text and a note."""
    return _NOTEBOOK_LINK.sub(lambda m: m[0] if m[2] in present else f"{m[1]} (not in this rerun)", text)


def _chapter_copy(nb_path: Path, present: set[str] | None = None) -> bytes:
    """The notebook as stored, with its chapter's references section appended as a last Markdown cell; links to
    notebooks not in ``present`` (the stems of the book's notebooks) are left out with a note."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    if present is not None:
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                cell["source"] = _unlink_absent(src, present)
    refs = CHAPTER_REFERENCES.get(nb_path.stem[:2])
    if refs:
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "id": "book-references",
                            "source": _references_section(nb_path.stem, refs)})
    return json.dumps(nb, ensure_ascii=False, indent=1).encode()


def _verdict_outcomes():
    """The outcomes of the claims the corrected note marks (read from, or computed into, the results folder)."""
    os.environ.setdefault("DERIVATIONS_RESULTS", str(ROOT / "build" / "results"))
    Path(os.environ["DERIVATIONS_RESULTS"]).mkdir(parents=True, exist_ok=True)
    from book.corrected_note import note_claims
    from derivations.engine.registry import run_all

    return run_all(note_claims(), jobs=os.cpu_count() or 1)


def stage(notebooks: Path, src: Path, mathjax: Path) -> None:
    """Put every source Sphinx reads into ``src``: the notebooks, ``book/``'s pages, the corrected note, the
    trimmed MathJax (from ``mathjax``, npm's ``node_modules``) (``src/_mathjax/mathjax``) and the live figures' formulas (``src/_live/live-formulas.js``,
    generated from the registry by ``book/live_figures.py``), the last two static folders of the site."""
    from book import live_figures
    from book.corrected_note import markdown
    from derivations.chapters import CHAPTERS

    wanted = {nb.name for nb in notebooks.glob("*.ipynb")}
    for old in src.glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    present = {Path(n).stem for n in wanted}
    for nb in sorted(notebooks.glob("*.ipynb")):
        _write_if_changed(src / nb.name, _chapter_copy(nb, present))
    for page in BOOK.glob("*.md"):
        _write_if_changed(src / page.name, page.read_bytes())
    # the corrected note links each claim to its chapter's page: only to the chapters this book holds
    chapters = {n for n, c in CHAPTERS.items() if c.notebook in present}
    _write_if_changed(src / "corrected_note.md", markdown(_verdict_outcomes(), chapters).encode())
    _write_if_changed(src / "_live" / "live-formulas.js", live_figures.ensure().read_bytes())
    dest = src / "_mathjax" / "mathjax"
    shutil.rmtree(dest, ignore_errors=True)              # nothing of another version is left to be served
    for part, to in MATHJAX_PARTS.items():
        if (mathjax / part).is_dir():
            shutil.copytree(mathjax / part, dest / to, dirs_exist_ok=True)
        else:
            _write_if_changed(dest / to, (mathjax / part).read_bytes())


# -- the derivations a reader edits and runs in the page (issue 36) -------------------------------------------------
#: Pyodide (CPython compiled to WebAssembly) from the npm registry, installed into ``build/pyodide`` once, like MathJax.
PYODIDE_VERSION = "314.0.8"
#: What the page's worker (``book/_static/run-worker.js``) loads of the npm package -> the site's ``_static/pyodide``:
#: the runtime and Python's standard library. Its package lock goes there without its packages (its ``info`` alone:
#: the runtime checks its version): the packages it names are on a CDN, and the page loads none of them.
PYODIDE_PARTS = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
#: The pure-Python distributions the derivation cells import (SymPy and mpmath; pylatexenc, which the engine's text
#: module reads): this environment's installed copies, the versions the notebooks ran with (pinned in
#: uv.lock), without their test suites, compiled for Pyodide's Python (:func:`_packed_distributions`).
RUN_DISTRIBUTIONS = ("sympy", "mpmath", "pylatexenc")
#: The modules of the project the cells import in the page, with every module of the package they import in turn.
RUN_ROOTS = ("derivations.engine.derive", "derivations.engine.display")


@contextlib.contextmanager
def _cache_lock(cache: Path):
    """The cache folder held by this process alone while it fills it: two builds at once (the test suite's workers)
    would otherwise write the same files, one removing what the other has not yet read."""
    import fcntl

    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_pyodide(cache: Path) -> Path:
    """Install the npm package ``pyodide`` at :data:`PYODIDE_VERSION` into ``cache`` unless already there; return the
    package's folder. Without a network, a build fails here only when the cache is missing."""
    with _cache_lock(cache):
        return _ensure_pyodide(cache)


def _ensure_pyodide(cache: Path) -> Path:
    package = cache / "node_modules" / "pyodide"
    meta = package / "package.json"
    if not (meta.exists() and json.loads(meta.read_text())["version"] == PYODIDE_VERSION
            and all((package / part).exists() for part in (*PYODIDE_PARTS, "pyodide-lock.json"))):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install Pyodide, which runs the derivations in the book's pages "
                             "(apt-get install npm)")
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
                               str(cache), f"pyodide@{PYODIDE_VERSION}"], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"could not install Pyodide {PYODIDE_VERSION} from the npm registry into {cache} (the "
                             f"book's runnable derivations need it once; later builds use that copy offline):\n"
                             f"{done.stderr.strip()[-1500:]}")
    return package


#: Run by Node with Pyodide's own interpreter (``pyodide.mjs``, argv: the package folder, then pairs of a zip of a
#: distribution's sources and the zip to write): each distribution compiled to bytecode for the page's Python (its
#: ``.pyc`` files in place of its ``.py`` files, which the page would otherwise compile at every first import: 4.2 s
#: against 0.6 s for ``import sympy`` on this machine, docs/measurements.md), its other files kept.
_COMPILE = r"""
const [pkg, ...pairs] = process.argv.slice(1);
const { pathToFileURL } = await import("node:url");
const { loadPyodide } = await import(pathToFileURL(pkg + "/pyodide.mjs").href);
const fs = await import("node:fs");
const info = JSON.parse(fs.readFileSync(pkg + "/pyodide-lock.json", "utf8")).info;
const py = await loadPyodide({ indexURL: pkg + "/", lockFileContents: JSON.stringify({ info, packages: {} }) });
for (let i = 0; i < pairs.length; i += 2) {
  py.FS.mkdirTree("/tmp/src");
  py.unpackArchive(new Uint8Array(fs.readFileSync(pairs[i])), "zip", { extractDir: "/tmp/src" });
  py.runPython(`
import compileall, io, os, shutil, warnings, zipfile
with warnings.catch_warnings():
    warnings.simplefilter("ignore")                      # SymPy's own tests' SyntaxWarnings (left out anyway)
    ok = compileall.compile_dir("/tmp/src", quiet=2, legacy=True)
assert ok, "compileall failed"
out = io.BytesIO()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for root, dirs, files in sorted(os.walk("/tmp/src")):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith(".py"):
                path = os.path.join(root, f)
                info = zipfile.ZipInfo(os.path.relpath(path, "/tmp/src"), (2020, 1, 1, 0, 0, 0))
                z.writestr(info, open(path, "rb").read(), zipfile.ZIP_DEFLATED)
shutil.rmtree("/tmp/src")
data = out.getvalue()
`);
  fs.writeFileSync(pairs[i + 1], py.globals.get("data").toJs());
}
"""


def _packed_distributions(names, pyodide: Path, into: Path) -> list[Path]:
    """Each installed distribution of ``names`` as a zip of its files compiled for the page's Python (its tests
    left out), made once per version of it and of Pyodide into ``into``: Pyodide unpacks it into its
    ``site-packages``."""
    with _cache_lock(into):
        return _pack(names, pyodide, into)


def _pack(names, pyodide: Path, into: Path) -> list[Path]:
    import importlib.metadata
    import zipfile

    out, todo = [], []
    for name in names:
        dist = importlib.metadata.distribution(name)
        target = into / f"{name}-{dist.version}-pyodide-{PYODIDE_VERSION}.zip"
        out.append(target)
        if target.exists():
            continue
        into.mkdir(parents=True, exist_ok=True)
        sources = target.with_suffix(".sources")
        files = sorted((f for f in dist.files or () if not re.search(r"(^|/)(tests|benchmarks|__pycache__)/|^\.\.|"
                                                                  r"^bin/|\.pyc$", str(f))), key=str)
        with zipfile.ZipFile(sources, "w", zipfile.ZIP_STORED) as z:
            for f in files:
                if f.locate().is_file():
                    z.writestr(str(f), f.locate().read_bytes())
        todo += [str(sources.resolve()), str(target.with_suffix(".tmp").resolve())]
    if todo:
        node = shutil.which("node") or shutil.which("nodejs")
        if node is None:
            raise SystemExit("Node (which comes with npm) is needed to compile the Python packages of the book's "
                             "runnable derivations for Pyodide")
        done = subprocess.run([node, "--input-type=module", "-e", _COMPILE, str(pyodide.resolve()), *todo],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"compiling the book's Python packages with Pyodide failed:\n{done.stderr[-3000:]}")
        for sources, tmp in zip(todo[::2], todo[1::2]):
            Path(sources).unlink()
            os.replace(tmp, Path(tmp).with_suffix(".zip"))
    return out


def run_modules(roots=RUN_ROOTS) -> list[Path]:
    """The project's source files the cells import in the page: the modules of ``roots`` and every module of the
    package they import (at the top or inside a function), found in their source, with the packages ``derivations``
    and ``derivations.engine``. A chapter's package is left out (its ``__init__`` finds every chapter): in the page it
    is a namespace package, and a module of it (a chapter's ``contexts``) is imported alone."""
    seen: dict[str, Path] = {}
    todo = [*roots, "derivations", "derivations.engine"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        base = ROOT / Path(*name.split("."))
        path = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if not path.exists() or (path.name == "__init__.py" and name not in ("derivations", "derivations.engine")):
            continue
        seen[name] = path
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("derivations"):
                todo += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("derivations")]
    return sorted(set(seen.values()))


#: Where the page finds the readings of the note's symbols a claim names (:class:`~derivations.engine.notation.Context`):
#: modules free of NumPy (a chapter's ``contexts``, ``{chapter}`` its number).
CONTEXT_MODULES = ("derivations.engine.notation", "derivations.chapters.ch{chapter}.contexts")


def _context_name(claim) -> str | None:
    """``module:name`` of the claim's context in one of :data:`CONTEXT_MODULES`; ``None`` for the default."""
    import importlib.util

    if claim.context is None:
        return None
    for module in (m.format(chapter=claim.chapter) for m in CONTEXT_MODULES):
        if importlib.util.find_spec(module) is None:
            continue
        for name, value in vars(importlib.import_module(module)).items():
            if value is claim.context:
                return f"{module}:{name}"
    raise SystemExit(f"{claim.id}: its context is in none of {', '.join(CONTEXT_MODULES)}: a module free of NumPy, "
                     "which the book's pages import to run the chapter's derivation cells")


def _claim_record(claim) -> dict:
    """A claim as the page registers it (no check of its own: its numeric checks, as computed now, beside it)."""
    from derivations.engine.registry import numeric_of

    n = numeric_of(claim)
    numeric = None if n is None else {
        "findings": [{k: v.item() if hasattr(v, "item") else v for k, v in vars(f).items()}   # NumPy scalars: plain
                     for f in n.findings],
        "counterexample": None if n.counterexample is None else str(n.counterexample),
        **{form: None if getattr(n, form) is None else bool(getattr(n, form))
           for form in ("printed", "assuming", "corrected")}}
    return {"id": claim.id, "chapter": claim.chapter, "section": claim.section, "order": claim.order,
            "title": claim.title, "printed": claim.printed, "stated": claim.stated.value,
            "assumption": claim.assumption, "corrected": claim.corrected, "remark": claim.remark,
            "source": claim.source, "inputs": dict(claim.inputs), "shares": claim.shares,
            "context": _context_name(claim), "numeric": numeric}


def run_manifest(notebook: Path) -> dict | None:
    """What the page of ``notebook`` needs to run its derivation cells (``book/_static/run_cells.py`` reads it): the
    cells as stored (tagged ``derivation``; ``hidden`` when the page shows their output only) and every claim they
    name, with its numeric checks as computed now. ``None`` for a notebook without derivation cells."""
    from derivations.chapters import claims  # every chapter's claims, named to the registry
    from derivations.engine import cells as derivation_cells
    from derivations.engine.registry import REGISTRY, run_all

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = [{"index": i, "source": "".join(c["source"]) if isinstance(c["source"], list) else c["source"],
              "hidden": "remove-input" in c["metadata"].get("tags", [])}
             for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and derivation_cells.TAG in c["metadata"].get("tags", [])]
    if not cells:
        return None
    claims()                                                  # read: every chapter's claims registered
    named = {m for c in cells for m in re.findall(r"""["'](ch\d+\.\w+)["']""", c["source"]) if m in REGISTRY}
    wanted = sorted((REGISTRY[i] for i in named if REGISTRY[i].derived), key=lambda c: (c.chapter, c.order))
    run_all(wanted, jobs=os.cpu_count() or 1)                 # their evidence: computed once, in parallel, or read
    return {"notebook": notebook.name, "pyodide": PYODIDE_VERSION, "cells": cells,
            "claims": [_claim_record(c) for c in wanted]}


def stage_runner(notebooks: Path, src: Path, pyodide: Path) -> None:
    """Put what the pages need to run their derivation cells into ``src/_run``, a static folder of the site: Pyodide
    (from ``pyodide``, the npm package) in ``pyodide/``; in ``run/``, the distributions the cells import
    (:data:`RUN_DISTRIBUTIONS`), the project's modules they import (``derivations.zip``: :func:`run_modules`), and a
    manifest for each chapter with derivation cells (``<notebook>.json``: :func:`run_manifest`). The page loads
    none of it until the reader runs a cell (``book/_static/run.js``)."""
    import io
    import zipfile

    dest = src / "_run"
    for part in PYODIDE_PARTS:
        _write_if_changed(dest / "pyodide" / part, (pyodide / part).read_bytes())
    lock = {"info": json.loads((pyodide / "pyodide-lock.json").read_text())["info"], "packages": {}}
    _write_if_changed(dest / "pyodide" / "pyodide-lock.json", json.dumps(lock).encode())
    run = dest / "run"
    packages = []
    for packed in _packed_distributions(RUN_DISTRIBUTIONS, pyodide, pyodide.parents[1] / "packed"):
        _write_if_changed(run / packed.name, packed.read_bytes())
        packages.append(packed.name)
    packages.append("derivations.zip")
    keep = set(packages)
    contexts = set()
    for nb in sorted(notebooks.glob("*.ipynb")):
        manifest = run_manifest(nb)
        if manifest is not None:
            manifest["packages"] = packages                  # what the worker unpacks
            _write_if_changed(run / f"{nb.stem}.json", json.dumps(manifest, ensure_ascii=False, indent=0).encode())
            keep.add(f"{nb.stem}.json")
            contexts |= {c["context"].split(":")[0] for c in manifest["claims"] if c["context"]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path in run_modules((*RUN_ROOTS, *sorted(contexts))) + [ROOT / "derivations" / "engine" / "note.md"]:
            z.writestr(zipfile.ZipInfo(path.relative_to(ROOT).as_posix(), (2020, 1, 1, 0, 0, 0)), path.read_bytes(),
                       zipfile.ZIP_DEFLATED)
    _write_if_changed(run / "derivations.zip", buffer.getvalue())
    for old in run.iterdir():                                # nothing of an earlier build is left to be served
        if old.name not in keep:
            old.unlink()


def build(notebooks: Path, out: Path, cache: Path, announcement: str | None = None) -> list[Path]:
    """Build the site into ``out`` (Sphinx, html builder, warnings are errors); return its pages in reading order.

    ``announcement`` (HTML) opens every page, above the page's own header (the theme's announcement bar):
    a rerun's values (``tools/run_notebooks.py``)."""
    from sphinx.cmd.build import build_main

    src = out.with_name(out.name + ".src")
    if "," in str(src):              # html_static_path below is a comma-separated list: a comma would split a path
        raise SystemExit(f"the book cannot be built into a folder whose path holds a comma: {out}")
    stage(notebooks, src, ensure_mathjax(cache))
    stage_runner(notebooks, src, ensure_pyodide(cache.parent / "pyodide"))
    _doctrees_of_this_checkout(src / ".doctrees")
    args = ["-b", "html", "-q", "-W", "--keep-going", "-c", str(BOOK), "-d", str(src / ".doctrees"),
            "-D", f"html_static_path={BOOK / '_static'},{src / '_mathjax'},{src / '_live'},{src / '_run'}",
            str(src), str(out)]
    if announcement:
        args[-2:-2] = ["-D", f"html_theme_options.announcement={announcement}"]
    if build_main(args) != 0:
        raise SystemExit(f"sphinx-build failed (sources in {src})")
    return reading_order(out)


def _doctrees_of_this_checkout(doctrees: Path) -> None:
    """Sphinx's saved environment, kept between builds into one folder, names this checkout's files (the
    bibliography's path among them): one saved by a build from another checkout (a clone elsewhere, a moved folder)
    made the next build fail in sphinxcontrib-bibtex (``KeyError`` on the other ``references.bib``). It is dropped
    then, and the book built afresh."""
    origin = doctrees / "checkout.txt"
    if doctrees.exists() and (not origin.exists() or origin.read_text(encoding="utf-8") != str(BOOK)):
        shutil.rmtree(doctrees)
    doctrees.mkdir(parents=True, exist_ok=True)
    origin.write_text(str(BOOK), encoding="utf-8")


def reading_order(out: Path) -> list[Path]:
    """The site's pages in reading order: the index, then each next page (the theme's "next" link)."""
    import re

    pages, page = [], out / "index.html"
    while page.exists() and page not in pages:
        pages.append(page)
        nxt = re.search(r'<a class="right-next"\s+href="([^"#]+)', page.read_text(encoding="utf-8"))
        if not nxt:
            break
        page = (page.parent / nxt[1]).resolve()
    return pages


def print_pdfs(out: Path, pdf_dir: Path, whole_book: bool = True) -> list[Path]:
    """Print the corrected note, and the whole book when asked, from the built site into ``pdf_dir``."""
    from book.browser import Browser

    pdf_dir.mkdir(parents=True, exist_ok=True)
    pages = reading_order(out) if whole_book else [out / "corrected_note.html"]
    with Browser("--host-resolver-rules=MAP * ~NOTFOUND") as browser, tempfile.TemporaryDirectory() as tmp:
        printed = browser.print_pages([p.as_uri() for p in pages], "site-check", **PRINTED)
        for i, page in enumerate(pages):                 # a page whose last sheet is nearly empty: printed again
            if near_empty(printed[i]):
                tab = browser.open(page.as_uri())
                browser.text_of(tab, "site-check")
                printed[i] = print_page(browser, tab)
                browser.close_tab(tab)
        files = []
        for page, data in zip(pages, printed):
            files.append(Path(tmp, page.stem + ".pdf"))
            files[-1].write_bytes(data)
        results = [pdf_dir / "corrected-note.pdf"]
        shutil.copyfile(files[[p.name for p in pages].index("corrected_note.html")], results[0])
        if whole_book:
            results.append(pdf_dir / "book.pdf")
            join(files, results[-1], pages)
    return results


#: How a page is printed: bookmarks from its headings (Chromium's outline of a tagged PDF), and in the foot of
#: each sheet the page's title and the sheet's number within it (a chapter's pages are numbered from 1)
PRINTED = {
    "generateDocumentOutline": True,
    "displayHeaderFooter": True,
    "headerTemplate": "<div></div>",
    "footerTemplate": '<div style="font: 9px sans-serif; color: #555; width: 100%; text-align: center;">'
                      '<span class="title"></span> &middot; page <span class="pageNumber"></span> of '
                      '<span class="totalPages"></span></div>',
}


#: A sheet whose content reaches less than this fraction of the printable height is nearly empty (a chapter's last
#: two references alone on a sheet); and the scales a page is printed at, in turn, until its last sheet is not.
NEAR_EMPTY, SCALES = 0.15, (1.0, 0.96, 0.92, 0.88)
#: A word of a sheet's foot (the page's title and number, in the bottom margin): below this fraction of its height.
_FOOT = 1 - 14 / 297


def sheet_fills(pdf: bytes) -> list[float]:
    """How far down each sheet of a printed PDF its content reaches, as a fraction of the sheet (its foot left
    out): poppler's ``pdftotext -bbox``."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        boxes = subprocess.run(["pdftotext", "-bbox", f.name, "-"], check=True, capture_output=True, text=True).stdout
    fills = []
    for sheet in re.split(r"<page ", boxes)[1:]:
        height = float(re.match(r'width="[\d.]+" height="([\d.]+)"', sheet)[1])
        bottoms = [float(y) / height for y in re.findall(r'<word xMin="[-\d.]+" yMin="[-\d.]+" xMax="[-\d.]+" '
                                                          r'yMax="([-\d.]+)"', sheet)]
        fills.append(max([b for b in bottoms if b < _FOOT], default=0.0))
    return fills


def near_empty(pdf: bytes) -> bool:
    """Whether a printed page's last sheet is nearly empty (:data:`NEAR_EMPTY`; a page of one sheet never is)."""
    fills = sheet_fills(pdf)
    return len(fills) > 1 and fills[-1] < NEAR_EMPTY


def print_page(browser, tab: str, fit: str | None = None) -> bytes:
    """A loaded page printed as the book prints it (:data:`PRINTED`), at the largest of :data:`SCALES` at which its
    last sheet is not nearly empty (at the smallest if none: the fewest sheets). ``fit``: the page's fitting hook,
    :meth:`~book.browser.Browser.print_pdf`'s default if not given."""
    extra = {} if fit is None else {"fit": fit}
    for scale in SCALES:
        pdf = browser.print_pdf(tab, **extra, **PRINTED, scale=scale)
        if not near_empty(pdf):
            break
    return pdf


def join(files: list[Path], into: Path, pages: list[Path]) -> None:
    """The printed pages as one PDF, with a bookmark for each page (its title) and, under it, its headings'
    bookmarks (poppler's ``pdfunite`` drops them), and the book's title (``project`` of book/conf.py) in its
    metadata. Chromium names a heading's bookmark from its printed lines, which can run words together or repeat
    one ("to zerozero"): each is named by the heading of the page's HTML (``pages``, in the order of ``files``)
    whose letters it holds (:func:`_heading_named`)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for f, page in zip(files, pages, strict=True):
        reader, start = PdfReader(f), len(writer.pages)
        writer.append(reader, import_outline=False)
        headings = _headings(page)
        top = writer.add_outline_item(title=headings[0] if headings else page.stem, page_number=start)

        def add(items, parent, depth=0):
            last = parent
            for item in items:
                if isinstance(item, list):
                    add(item, last, depth + 1)
                    continue
                name = _heading_named(str(item.title), headings)
                if depth == 0 or name == "Contents":      # the page's own title (above), the printed contents list
                    continue
                last = writer.add_outline_item(title=name, page_number=start + reader.get_destination_page_number(item),
                                               parent=parent)
        add(reader.outline, top)
    writer.add_metadata({"/Title": _book_title(),
                         "/Subject": "The note by M. K. R. Pillai (2019), every line derived and checked"})
    with into.open("wb") as out:
        writer.write(out)


def _book_title() -> str:
    """The book's title, as book/conf.py names the Sphinx project."""
    tree = ast.parse((BOOK / "conf.py").read_text(encoding="utf-8"))
    return next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                and any(getattr(t, "id", None) == "project" for t in n.targets))


def _headings(page: Path) -> list[str]:
    """The text of each heading of a built page (its permalink sign left out)."""
    import html

    found = re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", page.read_text(encoding="utf-8"), re.S)
    return [" ".join(html.unescape(re.sub(r"<a class=\"headerlink\".*?</a>|<[^>]+>", "", h)).split()) for h in found]


def _heading_named(printed: str, headings: list[str]) -> str:
    """The longest heading whose letters ``printed`` holds in order, run together or with a line repeated as
    Chromium names bookmarks; else ``printed`` as it is.

    >>> _heading_named("8. The step to zerozero", ["8. The step", "8. The step to zero"])
    '8. The step to zero'
    >>> _heading_named("Added: the closed form, and theAdded: the closed form, and therelation", ["Added: the closed form, and the relation"])
    'Added: the closed form, and the relation'
    """
    bare = "".join(printed.split())

    def held(h: str) -> bool:
        letters = iter(bare)
        return all(c in letters for c in h)                   # a subsequence of the printed letters
    fits = [h for h in headings if h and len("".join(h.split())) * 5 >= len(bare) * 2 and held("".join(h.split()))]
    return max(fits, key=len) if fits else " ".join(printed.split())


def screenshots(out: Path, shots: list[tuple[str, Path, tuple[int, int]]]) -> None:
    """A picture of each ``(page[#anchor], file, (width, height))`` of the built site, once MathJax has typeset
    it: the window is that size, scrolled to the anchor."""
    from book.browser import Browser

    if not shots:                                   # make html asks for none: it needs no browser
        return
    with Browser("--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars") as browser:
        for page, path, size in shots:
            tab = browser.open("about:blank")
            browser.screenshot(tab, *size)           # the window's size first: MathJax breaks formulas for its width
            browser.visit(tab, out.as_uri() + "/" + page, "site-check")
            browser.evaluate(tab, "new Promise(r => { const a = location.hash && document.getElementById("
                                  "decodeURIComponent(location.hash.slice(1))); if (a) a.scrollIntoView(); "
                                  "setTimeout(r, 300); })")
            path.write_bytes(browser.screenshot(tab, *size))
            browser.close_tab(tab)
            print(os.path.relpath(path, Path.cwd()))


def pdf_screenshots(out: Path, shots: list[tuple[str, str, Path]], dpi: int = 80) -> None:
    """A picture of one printed page for each ``(page, words, file)``: the site's page printed alone to PDF (the
    print stylesheet, formulas fitted, folds opened), and its first PDF page whose text holds ``words`` rendered
    by poppler's ``pdftoppm``."""
    from book.browser import Browser

    if not shots:
        return
    with Browser("--host-resolver-rules=MAP * ~NOTFOUND") as browser, tempfile.TemporaryDirectory() as tmp:
        printed = browser.print_pages([out.as_uri() + "/" + page for page, _, _ in shots], "site-check")
        for (page, words, path), data in zip(shots, printed):
            pdf = Path(tmp, "page.pdf")
            pdf.write_bytes(data)
            pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout.split("\f")
            n = next((i + 1 for i, text in enumerate(pages) if words in " ".join(text.split())), None)
            if n is None:
                raise SystemExit(f"{page}: no printed page holds {words!r}")
            subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(dpi), "-f", str(n), "-l", str(n), str(pdf),
                            str(path.with_suffix(""))], check=True)
            print(f"{os.path.relpath(path, Path.cwd())} (page {n} of {page} printed)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "html")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "npm", help="where npm installs MathJax")
    ap.add_argument("--pdf", type=Path, help="also print the corrected note and the whole book into this folder")
    ap.add_argument("--screenshot", nargs=2, action="append", default=[], metavar=("PAGE", "PNG"),
                    help="after the build, a picture of PAGE (e.g. corrected_note.html#label-smoothing) into PNG")
    ap.add_argument("--phone-screenshot", nargs=2, action="append", default=[], metavar=("PAGE", "PNG"),
                    help="the same in a phone's window, 390 px wide")
    ap.add_argument("--pdf-screenshot", nargs=3, action="append", default=[], metavar=("PAGE", "WORDS", "PNG"),
                    help="after the build, PAGE printed to PDF alone, and a picture of its first printed page that "
                         "holds WORDS into PNG")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    pages = build(args.notebooks.resolve(), args.out.resolve(), args.cache.resolve())
    print(f"{os.path.relpath(args.out / 'index.html', Path.cwd())}: {len(pages)} pages, "
          f"{time.perf_counter() - t:.1f} s")
    if args.pdf:
        t = time.perf_counter()
        for pdf in print_pdfs(args.out.resolve(), args.pdf.resolve()):
            print(f"{os.path.relpath(pdf, Path.cwd())}: {time.perf_counter() - t:.1f} s")
    screenshots(args.out.resolve(), [(page, Path(png), (1280, 900)) for page, png in args.screenshot]
                + [(page, Path(png), (390, 844)) for page, png in args.phone_screenshot])
    pdf_screenshots(args.out.resolve(), [(page, words, Path(png)) for page, words, png in args.pdf_screenshot])
    return 0


if __name__ == "__main__":
    sys.exit(main())
