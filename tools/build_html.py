"""Render the notebooks into a static site that reads offline.

    python tools/build_html.py [--notebooks DIR] [--out DIR]

Defaults: ``notebooks/`` -> ``build/html/``. Each notebook becomes ``NAME.html``
(figures are embedded in the notebooks' outputs); ``index.html`` links them
with the verdict table from the claim registry. MathJax 2 is installed from the
npm registry (pinned below) into ``build/npm`` once, and the part CommonHTML
output needs is copied into ``<out>/mathjax``, so no page loads anything from
outside its folder. Every page carries a small script (``site-check.js``) that,
once MathJax has finished, writes a JSON summary (images, formulas, errors,
resources loaded) into a hidden ``<pre id="site-check">``; the browser test reads it.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATHJAX_VERSION = "2.7.9"
MATHJAX_PARTS = [
    "MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
    "jax/output/CommonHTML", "jax/element", "fonts/HTML-CSS/TeX/woff",
]
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"

SITE_CHECK_JS = r"""
(function () {
  function report() {
    var imgs = Array.prototype.slice.call(document.images);
    var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                     .map(function (i) { return i.src.slice(0, 80); });
    var jax = (window.MathJax && MathJax.Hub) ? MathJax.Hub.getAllJax() : [];
    var errors = document.querySelectorAll('.MathJax_Error, .mjx-noError, merror, .mjx-merror').length;
    var text = document.body.innerText;
    var out = {
      mathjax: !!(window.MathJax && MathJax.Hub),
      formulas: jax.length,
      math_errors: errors + (text.indexOf('Math Processing Error') >= 0 ? 1 : 0),
      raw_tex_left: (text.match(/\$\$/g) || []).length,
      images: imgs.length,
      broken_images: broken,
      resources: performance.getEntriesByType('resource').map(function (e) { return e.name; }),
      title: document.title
    };
    var pre = document.createElement('pre');
    pre.id = 'site-check';
    pre.style.display = 'none';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener('load', function () {
    if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(report); } else { report(); }
  });
})();
"""

INDEX_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; }
.erratum { color: #b00020; font-weight: bold; } .under { color: #8a5a00; } img { max-width: 100%; }
"""


def ensure_mathjax(cache: Path) -> Path:
    """Install mathjax@MATHJAX_VERSION with npm into ``cache`` unless already there."""
    pkg = cache / "node_modules" / "mathjax"
    meta = pkg / "package.json"
    if meta.exists() and json.loads(meta.read_text())["version"] == MATHJAX_VERSION:
        return pkg
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to install MathJax for the offline site (apt-get install npm)")
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error",
                    "--prefix", str(cache), f"mathjax@{MATHJAX_VERSION}"], check=True)
    return pkg


def copy_mathjax(pkg: Path, out: Path) -> None:
    dest = out / "mathjax"
    if (dest / "MathJax.js").exists():
        return
    for part in MATHJAX_PARTS:
        src = pkg / part
        if src.is_dir():
            shutil.copytree(src, dest / part, dirs_exist_ok=True)
        else:
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)


def notebook_title(nb_path: Path) -> str:
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return nb_path.stem


@lru_cache(maxsize=1)
def _exporter():
    """One exporter for every page (its templates load once)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = MATHJAX_URL
    exporter.require_js_url = ""
    return exporter


def render_notebook(nb_path: Path, out: Path) -> Path:
    body, _ = _exporter().from_filename(str(nb_path))
    body = body.replace('<script src=""></script>', "")
    # the template's Mermaid loader imports from a CDN when a page has diagrams; ours have none
    body = re.sub(r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded".*?</script>', "",
                  body, flags=re.S)
    # links between notebooks point at the rendered pages
    body = re.sub(r'href="([\w.-]+)\.ipynb(#[^"]*)?"', lambda m: f'href="{m[1]}.html{m[2] or ""}"', body)
    body = body.replace("</body>", '<script src="site-check.js"></script>\n</body>')
    body = body.replace("<head>", '<head>\n<link rel="icon" href="data:,">', 1)
    page = out / f"{nb_path.stem}.html"
    page.write_text(body, encoding="utf-8")
    return page


def verdict_rows() -> str:
    from derivations.report import as_rows, collect

    rows = []
    for r in as_rows(collect()):
        cls = {"erratum": "erratum", "holds under an assumption": "under"}.get(r["computed_verdict"], "")
        place = f"ch{r['chapter']} {'eq.' if r['source'] == 'note' else 'added'} {r['order']}"
        rows.append(f"<tr><td><code>{r['id']}</code></td><td>{place}</td><td>{html.escape(r['title'])}</td>"
                    f"<td class=\"{cls}\">{r['computed_verdict']}</td></tr>")
    return "\n".join(rows)


def write_index(pages: list[tuple[Path, str]], out: Path) -> None:
    items = "\n".join(f'<li><a href="{p.name}">{html.escape(t)}</a></li>' for p, t in pages)
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Soft Targets v/s Label Flipping: executable companion</title>
<style>{INDEX_CSS}</style>
<script src="{MATHJAX_URL}"></script></head>
<body>
<h1>Soft Targets v/s Label Flipping: executable derivation companion</h1>
<p>Every displayed equation of the 2019 note, re-derived with SymPy, checked numerically with NumPy and mpmath,
and given a computed verdict: <b>holds</b>, <b>holds under an assumption</b>, or <b>erratum</b>.
The loss under hard labels is \\(\\mathrm{{LSE}}(z) - z_1\\).</p>
<h2>Chapters</h2>
<ul>
{items}
</ul>
<h2>Verdicts</h2>
<table><tr><th>claim</th><th>place</th><th>what</th><th>verdict</th></tr>
{verdict_rows()}
</table>
<script src="site-check.js"></script>
</body></html>
""", encoding="utf-8")


def build(notebooks: Path, out: Path, cache: Path, on_page: Callable[[Path], object] | None = None) -> list[Path]:
    """Render the site into ``out``; return its pages, the index first. ``on_page`` is called with each page
    as soon as it is written, MathJax and the check script being in place (a browser may load it meanwhile)."""
    out.mkdir(parents=True, exist_ok=True)
    copy_mathjax(ensure_mathjax(cache), out)
    (out / "site-check.js").write_text(SITE_CHECK_JS, encoding="utf-8")
    pages = []
    for nb in sorted(notebooks.glob("*.ipynb")):
        pages.append((render_notebook(nb, out), notebook_title(nb)))
        if on_page:
            on_page(pages[-1][0])
    write_index(pages, out)
    if on_page:
        on_page(out / "index.html")
    return [out / "index.html"] + [p for p, _ in pages]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "html")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "npm", help="where npm installs MathJax")
    args = ap.parse_args(argv)
    for page in build(args.notebooks, args.out, args.cache):
        print(os.path.relpath(page, Path.cwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
