"""Sphinx configuration of the book (``make html``; ``tools/book.py`` stages the sources and runs Sphinx).

The sources Sphinx reads are staged by ``tools/book.py`` into a folder of their own (the committed, executed
notebooks, this folder's pages, the generated corrected note); this file is read from here (``sphinx-build -c``).
Notebooks are rendered as stored, never executed. MathJax 3 is served from the site (``_static/mathjax``).
Each claim's view in a chapter gets the anchor ``claim-<id>`` (dots as hyphens) and the label ``claim-<id>``,
which the corrected note links to with ``{ref}``.
"""
from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent

project = "Soft Targets v/s Label Flipping: an executable companion"
author = "The soft-targets-companion authors"
copyright = "the companion's authors (code, MIT); the note: its author"
extensions = ["myst_nb", "sphinxcontrib.bibtex"]

# the committed notebooks are rendered as stored: never executed here
nb_execution_mode = "off"
# show() returns Markdown with $$ math: parse it as MyST so that the math renders
nb_render_markdown_format = "myst"
myst_enable_extensions = ["dollarmath"]
# "As printed:\n$$...$$" in a show() output is one paragraph: its $$ ... $$ is display math all the same
myst_dmath_double_inline = True
suppress_warnings = ["mystnb.unknown_mime_type"]

bibtex_bibfiles = [str(HERE / "references.bib")]
# pybtex looks its plugins up among the entry points of every installed distribution, at every citation (0.9 s of
# a 3.5 s build): the ones this book uses are looked up once here and registered with pybtex's own register_plugin,
# which its lookup reads first (the same classes; any other is still found the slow way)
_PYBTEX_PLUGINS = [("pybtex.style.formatting", "plain"), ("pybtex.style.names", "plain"), ("pybtex.style.names", "last"),
                   ("pybtex.style.labels", "number"), ("pybtex.style.sorting", "author_year_title"),
                   ("pybtex.backends", "docutils"), ("pybtex.backends", "plaintext")]


def _register_pybtex_plugins():
    from pybtex.plugin import find_plugin, register_plugin

    for group, name in _PYBTEX_PLUGINS:
        register_plugin(group, name, find_plugin(group, name), force=True)


_register_pybtex_plugins()
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

html_theme = "sphinx_book_theme"
html_title = "Soft Targets v/s Label Flipping"
html_static_path = [str(HERE / "_static")]       # tools/book.py adds the trimmed MathJax and the live formulas
html_css_files = ["book.css"]
# live-formulas.js: generated from the registry (tools/live_figures.py), staged by tools/book.py; live.js draws with it
html_js_files = ["book.js", "live-formulas.js", "live.js"]
html_favicon = str(HERE / "_static" / "favicon.svg")      # else browsers ask for /favicon.ico
html_show_sourcelink = False
html_copy_source = False
# the search page shows titles only: a summary is fetched from the page, which file:// forbids
html_show_search_summary = False
# no general index: the book has no index entries, and Sphinx's genindex.html was an empty page
html_use_index = False
html_last_updated_fmt = None
# light, named: without it the theme reads an empty mode and logs a console error
html_context = {"default_mode": "light"}
html_theme_options = {
    "show_navbar_depth": 1,
    "show_toc_level": 1,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
    "use_sidenotes": False,
}

mathjax_path = "mathjax/tex-chtml.js"
mathjax3_config = {
    "loader": {"load": []},
    "options": {"enableMenu": False},
    "startup": {"typeset": True},
}


def claim_ids() -> set[str]:
    """Every registered claim's id."""
    from derivations.engine.registry import claims

    return {c.id for c in claims()}


def anchor_of(claim_id: str) -> str:
    """The HTML id of a claim's view in its chapter: ``ch1.softmax`` -> ``claim-ch1-softmax``."""
    return "claim-" + re.sub(r"[^a-z0-9]+", "-", claim_id.lower())


def add_claim_anchors(app, doctree) -> None:
    """Give every claim view (a paragraph that opens with the claim's id in bold, after its raw ``<a name>``) its
    anchor and label."""
    from docutils import nodes

    ids, std = app.env.claim_ids, app.env.domains.standard_domain
    for strong in list(doctree.findall(nodes.strong)):
        para = strong.parent
        first = [c for c in para.children if not isinstance(c, nodes.raw) and c.astext().strip()][:1] \
            if isinstance(para, nodes.paragraph) else []
        if strong.astext() in ids and first == [strong]:
            anchor = anchor_of(strong.astext())
            para["ids"].append(anchor)
            label = f"claim-{strong.astext()}".lower()            # {ref} lower-cases its target
            std.anonlabels[label] = (app.env.docname, anchor)
            std.labels[label] = (app.env.docname, anchor, strong.astext())


def load_claim_ids(app) -> None:
    """Read the registry once per build."""
    app.env.claim_ids = claim_ids()


def setup(app):
    """The claim anchors (see the module's docstring)."""
    app.connect("builder-inited", load_claim_ids)
    app.connect("doctree-read", add_claim_anchors)
    return {"parallel_read_safe": False}
