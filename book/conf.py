"""Sphinx configuration of the book (``make html``; ``book/builder.py`` stages the sources and runs Sphinx).

The sources Sphinx reads are staged by ``book/builder.py`` into a folder of their own (the committed, executed
notebooks, this folder's pages, the generated corrected note); this file is read from here (``sphinx-build -c``).
Notebooks are rendered as stored, never executed. MathJax 4 is served from the site (``_static/mathjax``).
Each claim's view in a chapter gets the anchor ``claim-<id>`` (dots as hyphens) and the label ``claim-<id>``,
which the corrected note links to with ``{ref}``.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The repository (one home: pyproject.toml's project.urls), for the Binder button of each chapter.
REPOSITORY = tomllib.loads((HERE.parent / "pyproject.toml").read_text())["project"]["urls"]["Repository"]

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
# One citation style, author–year: "Rajasekharan Pillai (2019)" in the text ({cite:t}), "(Szegedy et al., 2016)"
# in parentheses ({cite:p}), each linked to its entry; the entries are led by author and date, the date given once
# ("Rajasekharan Pillai, M. K. (2019, October 23). Bonus 2: …"), sorted by author and year, with no label.
bibtex_default_style = "author_year"
bibtex_reference_style = "author_year_round"


def _author_year_styles():
    """The pybtex formatting style of the entries, its labels (the keys: unique, never shown) and the referencing
    style of the citations (sphinxcontrib-bibtex's author_year, with round brackets and a plain "et al.")."""
    from dataclasses import dataclass
    from dataclasses import field as dc_field

    from pybtex.style.formatting import toplevel
    from pybtex.style.formatting.unsrt import Style as UnsrtStyle
    from pybtex.style.formatting.unsrt import pages
    from pybtex.style.labels import BaseLabelStyle
    from pybtex.style.template import field, join, names, optional, optional_field, sentence, tag
    from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    class KeyLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            return (entry.key for entry in sorted_entries)

    class AuthorYearStyle(UnsrtStyle):
        """unsrt's entries, led by "Last, F. (year[, month day])." instead of ending with the date."""

        default_name_style = "lastfirst"
        default_label_style = "key"
        default_sorting_style = "author_year_title"

        def __init__(self, **kwargs):
            super().__init__(**{"abbreviate_names": True, **kwargs})

        def format_names(self, role, as_sentence=True):
            names_ = names(role, sep=", ", sep2=", and ", last_sep=", and ")      # "Last, F., and Other, G."
            return sentence[names_] if as_sentence else names_

        def lead(self):
            date = join["(", field("year"), optional[", ", field("month"), " ", field("day")], ")"]
            return sentence(sep=" ")[self.format_names("author", as_sentence=False), date]

        def get_article_template(self, e):
            volume_and_pages = optional[join[field("volume"), optional["(", field("number"), ")"], ":", pages]]
            return toplevel[self.lead(), self.format_title(e, "title"),
                            sentence[tag("em")[field("journal")], volume_and_pages], self.format_web_refs(e)]

        def get_book_template(self, e):
            return toplevel[self.lead(), self.format_btitle(e, "title"), sentence[field("publisher")],
                            self.format_web_refs(e)]

        def get_inproceedings_template(self, e):
            return toplevel[self.lead(), self.format_title(e, "title"),
                            join(sep=" ")["In", sentence[self.format_btitle(e, "booktitle", as_sentence=False),
                                                         self.format_volume_and_series(e, as_sentence=False),
                                                         optional[pages]]],
                            sentence[optional_field("publisher")], self.format_web_refs(e)]

        def get_misc_template(self, e):
            return toplevel[self.lead(), self.format_title(e, "title"), sentence[optional_field("howpublished")],
                            sentence[optional_field("note")], self.format_web_refs(e)]

    def round_brackets():
        return BracketStyle(left="(", right=")", sep="; ")

    @dataclass
    class RoundAuthorYear(AuthorYearReferenceStyle):
        bracket_textual: BracketStyle = dc_field(default_factory=round_brackets)
        bracket_parenthetical: BracketStyle = dc_field(default_factory=round_brackets)
        bracket_author: BracketStyle = dc_field(default_factory=round_brackets)
        bracket_label: BracketStyle = dc_field(default_factory=round_brackets)
        bracket_year: BracketStyle = dc_field(default_factory=round_brackets)
        person: PersonStyle = dc_field(default_factory=lambda: PersonStyle(other=" et al."))

    return {("pybtex.style.formatting", "author_year"): AuthorYearStyle, ("pybtex.style.labels", "key"): KeyLabels,
            ("sphinxcontrib.bibtex.style.referencing", "author_year_round"): RoundAuthorYear}


# pybtex looks its plugins up among the entry points of every installed distribution, at every citation (0.9 s of
# a 3.5 s build): the ones this book uses are looked up once here and registered with pybtex's own register_plugin,
# which its lookup reads first (the same classes; any other is still found the slow way), beside the book's own
# (_author_year_styles)
_PYBTEX_PLUGINS = [("pybtex.style.names", "lastfirst"), ("pybtex.style.names", "last"),
                   ("pybtex.style.sorting", "author_year_title"),
                   ("pybtex.backends", "docutils"), ("pybtex.backends", "plaintext")]


def _register_pybtex_plugins():
    from pybtex.plugin import find_plugin, register_plugin
    from sphinxcontrib.bibtex import plugin as bibtex_plugin

    for group, name in _PYBTEX_PLUGINS:
        register_plugin(group, name, find_plugin(group, name), force=True)
    for (group, name), cls in _author_year_styles().items():
        (bibtex_plugin.register_plugin if group.startswith("sphinxcontrib.") else register_plugin)(group, name, cls,
                                                                                                 force=True)


_register_pybtex_plugins()


def _unlabelled_citations():
    """A post-transform: the entries of a bibliography are led by author and date, so their labels (the keys) are
    not shown (no "[1]" before an entry). Each entry's text is put in a container of its own, which Sphinx's
    basic.css (``div.citation > p``: indented for the label, no space below) does not style: an entry is spaced as
    a paragraph."""
    from docutils import nodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class UnlabelledCitations(SphinxPostTransform):
        default_priority = 6            # after sphinxcontrib-bibtex's BibliographyTransform (5) has made the entries

        def run(self, **kwargs):
            for citation in self.document.findall(nodes.citation):
                text = [c for c in citation.children if not isinstance(c, nodes.label)]
                citation.children = []
                citation += nodes.container("", *text, classes=["bibliography-entry"])

    return UnlabelledCitations


html_theme = "sphinx_book_theme"
html_title = "Soft Targets v/s Label Flipping"
html_static_path = [str(HERE / "_static")]       # book/builder.py adds the trimmed MathJax and the live formulas
html_css_files = ["book.css", "figures.css", "run.css"]
# live-formulas.js: generated from the registry (book/live_figures.py), staged by book/builder.py; live.js draws with it
# run.js: a derivation cell edited and run in the page (issue 36); it loads Python (run-worker.js) only when asked
html_js_files = ["book.js", "live-formulas.js", "live.js", "run.js"]
html_favicon = str(HERE / "_static" / "favicon.svg")      # else browsers ask for /favicon.ico
html_show_sourcelink = False
# the download button's source: each page's as staged (a chapter's .ipynb under its own name, not .ipynb.txt)
html_copy_source = True
html_sourcelink_suffix = ""
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
    # a chapter's page: download its notebook (or print it), or launch it on Binder, as the README's badge does
    # (the repository's notebooks/ at HEAD, in JupyterLab); the theme shows the launch button on notebook pages only
    "use_download_button": True,
    "repository_url": REPOSITORY,
    "repository_branch": "HEAD",
    "path_to_docs": "notebooks",
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
    "use_sidenotes": False,
}

mathjax_path = "mathjax/tex-chtml.js"
mathjax4_config = {
    # the font's files are in the site (book/builder.py), beside MathJax: never fetched from a CDN
    "loader": {"load": [], "paths": {"fonts": "[mathjax]/fonts"}},
    # no menu, and none of the assistive tools that load a speech worker: the pages keep MathJax's hidden MathML,
    # which screen readers read
    "options": {"enableMenu": False,
                "menuOptions": {"settings": {"enrich": False, "speech": False, "braille": False,
                                             "collapsible": False, "explorer": False}}},
    # a displayed formula wider than its column is broken over lines at the reader's width (issue 32)
    # (at 98 % of the column: MathJax measures a line a pixel or two short of what the browser draws)
    "output": {"displayOverflow": "linebreak", "linebreaks": {"width": "98%"}},
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
    """The claim anchors (see the module's docstring); the bibliographies' entries without labels."""
    app.connect("builder-inited", load_claim_ids)
    app.connect("doctree-read", add_claim_anchors)
    app.add_post_transform(_unlabelled_citations())
    return {"parallel_read_safe": False}
