"""The companion's figures and tables: one module per chapter, and here what they share.

:mod:`~derivations.chapters.ch1.figures` (LSE against the margin, the hard-label loss),
:mod:`~derivations.chapters.ch2.figures` (the smoothed loss, the conventions),
:mod:`~derivations.chapters.ch3.figures` (the flipped label, Monte Carlo, noise at the optimum) and
:mod:`~derivations.chapters.ch4.figures` (training curves, memorisation, reliability) and
:mod:`~derivations.chapters.ch5.figures` (reliability diagrams and the smoothing sweep on test digits) draw each
figure from the library's own functions, in one style (:func:`style`, the sheet ``companion.mplstyle`` beside this
module), and number it with its caption and alt text (:class:`Numbered`, next to the function that draws it).
This module decides where figures go (:func:`destination`) and how their bytes are fixed (:func:`save`), refuses a figure that cannot be
read at the size it is shown (:func:`problems`), and shows figures and tables in a notebook (:class:`Shown`,
:class:`Table`).

The size a figure is shown at: drawn :data:`COLUMN` inches wide at 100 CSS px to the inch (the book's column,
688 CSS px at a 1280 px window), saved at :data:`DENSITY` times those pixels and shown at half its pixel width, so
that it is sharp and a point of its text is a point on the page.

PNG from Matplotlib's Agg backend is byte-stable for a given Matplotlib and
FreeType version once the ``Software`` metadata (which carries the version)
is dropped; the versions are pinned in ``uv.lock``.
"""
from __future__ import annotations

import base64
import html
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.text import Text

__all__ = ["destination", "committed_figures", "save", "style", "STYLE_SHEET", "COLUMN", "DENSITY", "MIN_POINTS",
           "problems", "legend_outside", "math_int", "Numbered", "Shown", "Table", "Tables", "page_figure_problems", "on_family"]

#: The one style sheet of every figure (shipped with the package: pyproject.toml's package-data).
STYLE_SHEET = Path(__file__).with_name("companion.mplstyle")
#: The book's column, in inches at 100 CSS px to the inch: a figure this wide is shown at its true size.
COLUMN = 6.88
#: Image pixels per CSS pixel: a figure is saved at ``100 * DENSITY`` dpi and shown at ``1 / DENSITY`` of its width.
DENSITY = 2
#: The smallest text a figure may hold, in points at the size it is shown.
MIN_POINTS = 8.0


def style():
    """The context every figure is drawn in: the companion's style sheet (:data:`STYLE_SHEET`).

    >>> with style():
    ...     print(plt.rcParams["savefig.dpi"], plt.rcParams["figure.figsize"][0])
    200.0 6.88
    """
    return plt.rc_context(fname=STYLE_SHEET)


#: The repository's root when the package runs from a checkout (else ``None``: an installed copy).
_CHECKOUT = Path(__file__).resolve().parents[2]
_CHECKOUT = _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else None


def committed_figures() -> Path | None:
    """The committed ``figures/`` of the checkout (``None`` for an installed copy of the package)."""
    return None if _CHECKOUT is None else _CHECKOUT / "figures"


def destination(changed: dict, requested=None) -> Path:
    """Where a notebook whose values differ from its chapter's defaults by ``changed`` writes its figures, when
    ``requested`` is asked for (the notebook's ``FIGURES``): never the committed ``figures/`` for other values.

    * ``requested``, unless it is the committed ``figures/`` and ``changed`` is not empty (the runner asks for
      ``figures/`` when it runs the notebooks in place, ``build/runs/<values>/figures`` for a reader's values;
      a test asks for a temporary folder);
    * else ``build/runs/<changed>/figures`` of the checkout (``defaults`` when nothing changed): a notebook
      run in Jupyter, or executed by any other tool, writes no tracked file. Outside a checkout, ``./figures``.

    >>> destination({"K": 37}, committed_figures()).relative_to(committed_figures().parent).as_posix()
    'build/runs/K=37/figures'
    >>> destination({}, "/tmp/elsewhere").as_posix()
    '/tmp/elsewhere'
    """
    from derivations.engine.parameters import run_folder_name

    committed = committed_figures()
    if requested is not None:
        chosen = Path(requested)
        if not (committed is not None and changed and chosen.resolve() == committed.resolve()):
            return chosen
    if _CHECKOUT is None:
        return Path.cwd() / "figures"
    return _CHECKOUT / "build" / "runs" / (run_folder_name(changed) or "defaults") / "figures"


# -- the check: a figure readable at the size it is shown ---------------------------------------------------------

#: ASCII standing in for mathematics, outside ``$...$`` (mathtext says it: ``$\epsilon$``, ``$\to$``, ``$K = 10$``).
ASCII_MATH = re.compile(r"\beps\b|->|<-|\w_\w|\b(?:sqrt|log|exp)\(|\^|(?<![\w(])[A-Za-z] ?(?:=|<|>|!=) ?[\w(.-]")


def shown_scale(fig: plt.Figure) -> float:
    """How much a figure is scaled when shown: 1 up to the column's width, narrower for a wider figure.

    >>> shown_scale(plt.figure(figsize=(COLUMN, 3))), shown_scale(plt.figure(figsize=(2 * COLUMN, 3)))
    (1.0, 0.5)
    """
    return float(min(1.0, COLUMN / fig.get_figwidth()))


def _texts(fig: plt.Figure) -> list[Text]:
    """Every text the figure draws (tick labels only for the ticks in view), once laid out."""
    fig.canvas.draw()
    axes = [a for ax in fig.axes for a in (ax.xaxis, ax.yaxis)]
    ticks = {id(t) for a in axes for tick in a.majorTicks + a.minorTicks for t in (tick.label1, tick.label2)}
    # the ticks in view, as the axis draws them (Matplotlib's own selection; labels of the others are not drawn)
    shown = [t for a in axes for tick in a._update_ticks() for t in (tick.label1, tick.label2)]
    found = [t for t in fig.findobj(Text) if id(t) not in ticks] + shown
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def _text_problems(fig: plt.Figure) -> list[str]:
    """Text smaller than :data:`MIN_POINTS` at the size shown, ASCII mathematics, text cut off by the figure's edge."""
    scale, out = shown_scale(fig), []
    renderer, edge = fig.canvas.get_renderer(), fig.bbox.padded(1.0)
    for t in _texts(fig):
        s = t.get_text()
        if t.get_fontsize() * scale < MIN_POINTS - 1e-9:
            out.append(f"text {s!r} is {t.get_fontsize() * scale:.1f} pt at the size shown (at least {MIN_POINTS:g})")
        if ASCII_MATH.search(re.sub(r"\$[^$]*\$", "", s)):
            out.append(f"text {s!r} writes mathematics in ASCII (use mathtext: $\\epsilon$, $\\to$, $K = 10$)")
        box = t.get_window_extent(renderer)
        if not (edge.contains(box.x0, box.y0) and edge.contains(box.x1, box.y1)):
            out.append(f"text {s!r} is cut off by the figure's edge")
    return out


def _segments_meet(xy: np.ndarray, box) -> bool:
    """Whether the polyline (or the point) ``xy`` (display coordinates, NaN breaks it) meets the box.

    >>> from matplotlib.transforms import Bbox
    >>> box = Bbox([[0, 0], [1, 1]])
    >>> _segments_meet(np.array([[-1, 0.5], [2, 0.5]]), box), _segments_meet(np.array([[-1, 2], [2, 2]]), box)
    (True, False)
    """
    xy = np.atleast_2d(np.asarray(xy, dtype=float))
    p, q = (xy[:-1], xy[1:]) if len(xy) > 1 else (xy, xy)
    ok = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1)
    d, t0, t1 = q - p, np.zeros(len(p)), np.ones(len(p))
    for k, lo, hi in ((0, box.x0, box.x1), (1, box.y0, box.y1)):
        inside = (p[:, k] >= lo) & (p[:, k] <= hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = (lo - p[:, k]) / d[:, k], (hi - p[:, k]) / d[:, k]
        flat = d[:, k] == 0
        t0 = np.maximum(t0, np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(a, b)))
        t1 = np.minimum(t1, np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(a, b)))
    return bool((ok & (t0 <= t1)).any())


def _data_meets(ax: plt.Axes, box) -> list[str]:
    """The data artists of ``ax`` (lines, markers, patches, collections) that meet ``box`` (display coordinates)."""
    hits = []
    for line in ax.lines:
        xy = line.get_transform().transform(line.get_xydata())
        if line.get_visible() and len(xy) and _segments_meet(xy if line.get_linestyle() not in ("None", "", " ")
                                                             else np.repeat(xy, 2, axis=0), box):
            hits.append(f"line {line.get_label()!r}")
    for patch in ax.patches:
        path = patch.get_transform().transform_path(patch.get_path())
        if patch.get_visible() and path.intersects_bbox(box, filled=patch.get_fill()):
            hits.append(f"patch {patch.get_label()!r}")
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            met = _segments_meet(np.repeat(coll.get_offset_transform().transform(coll.get_offsets()), 2, axis=0), box)
        else:
            tr = coll.get_transform()
            met = any(tr.transform_path(p).intersects_bbox(box, filled=len(coll.get_facecolor()) > 0)
                      for p in coll.get_paths())
        if coll.get_visible() and met:
            hits.append(f"collection {coll.get_label()!r}")
    return hits


def _legend_problems(fig: plt.Figure) -> list[str]:
    """Legends whose box covers plotted data (of any panel), where the data are drawn (inside their axes)."""
    out = []
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    renderer = fig.canvas.get_renderer()
    for legend in legends:
        frame = legend.get_window_extent(renderer)
        for ax in fig.axes:
            over = frame.intersection(frame, ax.bbox)
            hits = _data_meets(ax, over) if over is not None and over.width > 0 and over.height > 0 else []
            if hits:
                first = [t.get_text() for t in legend.get_texts()][:1]
                out.append(f"the legend {first} covers plotted data: {', '.join(sorted(set(hits)))}")
    return out


def problems(fig: plt.Figure) -> list[str]:
    """What makes ``fig`` unreadable at the size it is shown (an empty list: nothing).

    Text below :data:`MIN_POINTS` points once the figure is scaled to the column (:func:`shown_scale`), ASCII standing
    in for mathematics (:data:`ASCII_MATH`), text cut off by the figure's edge, and a legend whose box covers plotted
    data (lines, markers, bars, bands) in any of the figure's panels.

    >>> with style():
    ...     fig, ax = plt.subplots()
    ...     _ = ax.plot([0, 1], [0, 1], label="a line")
    ...     _ = ax.legend(loc="center", fontsize=6)
    >>> for p in problems(fig): print(p)
    text 'a line' is 6.0 pt at the size shown (at least 8)
    the legend ['a line'] covers plotted data: line 'a line'
    """
    return _text_problems(fig) + _legend_problems(fig)


def save(fig: plt.Figure, name: str, out: Path) -> Path:
    r"""Write ``fig`` to ``<out>/<name>.png`` atomically, close it, return the path; refuse (``ValueError``,
    naming each problem) a figure that :func:`problems` finds unreadable, and write nothing then.

    >>> import tempfile
    >>> def demo(text):
    ...     with tempfile.TemporaryDirectory() as folder:
    ...         with style():
    ...             fig = plt.figure()
    ...             _ = fig.text(0.5, 0.5, text)
    ...             return save(fig, "demo", Path(folder)).name
    >>> demo(r"$\epsilon \to 0$")
    'demo.png'
    >>> demo("eps -> 0")
    Traceback (most recent call last):
    ...
    ValueError: figure 'demo' refused: text 'eps -> 0' writes mathematics in ASCII (use mathtext: $\epsilon$, $\to$, $K = 10$)
    """
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"figure name must be letters, digits, '_' or '-'; got {name!r}")
    try:
        found = problems(fig)
        if found:
            raise ValueError(f"figure {name!r} refused: " + "; ".join(found))
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{name}.png"
        tmp = path.with_suffix(".png.tmp")
        fig.savefig(tmp, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    os.replace(tmp, path)
    return path


def legend_outside(fig: plt.Figure, where: str = "lower center", ncols: int = 1, axes=None, last: Sequence[str] = ()):
    """One legend for the figure, outside every panel (``where``: ``"lower center"`` below them, ``"right upper"``
    beside them, as Matplotlib's ``"outside ..."`` locations), with the labels of ``axes`` (default: every panel),
    each label once, those in ``last`` at the end. Off the data whatever the data are.

    >>> with style():
    ...     fig, (a, b) = plt.subplots(1, 2)
    ...     _ = a.plot([0, 1], label="one"), b.plot([1, 0], label="one"), b.plot([1, 1], label="two")
    ...     print([t.get_text() for t in legend_outside(fig, ncols=2).get_texts()], problems(fig))
    ['one', 'two'] []
    """
    handles: dict[str, object] = {}
    for ax in axes if axes is not None else fig.axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    labels = sorted(handles, key=lambda label: label in last)         # stable: the others keep their order
    return fig.legend([handles[k] for k in labels], labels, loc=f"outside {where}", ncols=ncols)


def math_int(n: int) -> str:
    """An integer for mathematics (mathtext or TeX), its thousands grouped: ``{,}`` keeps a comma from spacing.

    >>> math_int(100000), math_int(10)
    ('100{,}000', '10')
    """
    return f"{n:,}".replace(",", "{,}")


# -- what a notebook shows: a numbered figure with its caption and alt text, a table --------------------------------

def _png_width(path: Path) -> int:
    """A PNG's width in pixels, from its header."""
    with open(path, "rb") as f:
        return struct.unpack(">I", f.read(24)[16:20])[0]


def _math_html(markdown: str) -> str:
    r"""Prose with ``$...$`` mathematics as HTML: the prose escaped, the mathematics as Sphinx writes inline math
    (a ``span.math`` holding ``\(...\)``, which MathJax typesets in the book and JupyterLab typesets in outputs).

    >>> _math_html(r"loss $<$ 1 at $\epsilon$")
    'loss <span class="math notranslate nohighlight">\\(&lt;\\)</span> 1 at <span class="math notranslate nohighlight">\\(\\epsilon\\)</span>'
    """
    parts = re.split(r"\$([^$]+)\$", markdown)
    return "".join(html.escape(p, quote=False) if i % 2 == 0 else
                   rf'<span class="math notranslate nohighlight">\({html.escape(p, quote=False)}\)</span>'
                   for i, p in enumerate(parts))


@dataclass(frozen=True)
class Shown:
    """A saved figure as a notebook shows it: ``<figure>`` with the image at its true size (half its pixel width),
    its alt text, and its numbered caption; as plain text (what nbval compares beside the HTML), the caption.
    It is a path too (``os.fspath``): the PNG written by :func:`save`."""

    path: Path
    label: str        #: "Figure 2.1."
    caption: str      #: what to look at: prose with ``$...$`` mathematics
    alt: str          #: what the figure shows, in words, for a reader who cannot see it

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def width(self) -> int:
        """The width it is shown at, in CSS pixels."""
        return _png_width(self.path) // DENSITY

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        anchor = "figure-" + self.label.removeprefix("Figure ").rstrip(".").replace(".", "-")
        return (f'<figure class="companion-figure" id="{anchor}" style="margin: 1em 0; padding: 0">'
                f'<img src="data:image/png;base64,{data}" width="{self.width}" style="max-width: 100%; height: auto"'
                f' alt="{html.escape(self.alt)}">'
                f"<figcaption><strong>{self.label}</strong> {_math_html(self.caption)}</figcaption></figure>")

    def __repr__(self) -> str:
        from derivations.engine.text import plain

        return f"{self.label} {plain(self.caption)}"


class Numbered:
    """A chapter's figures, numbered in the order its notebook shows them (Figure 2.1, 2.2, ...): each figure's
    function ends with :meth:`show`, which gives the figure its caption and alt text (their one home).

    >>> import tempfile
    >>> FIGURES = Numbered(7, ("ch7_first", "ch7_second"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with style():
    ...         shown = FIGURES.show(plt.figure(), "ch7_second", "The $x$ axis.", "An empty figure, white all over.",
    ...                              out=Path(folder))
    ...     print(repr(shown), shown.width)
    ...     print(re.sub(r'base64,[^"]+', "base64,...", shown._repr_html_()))
    Figure 7.2. The x axis. 688
    <figure class="companion-figure" id="figure-7-2" style="margin: 1em 0; padding: 0"><img \
src="data:image/png;base64,..." width="688" style="max-width: 100%; height: auto" \
alt="An empty figure, white all over."><figcaption><strong>Figure 7.2.</strong> \
The <span class="math notranslate nohighlight">\\(x\\)</span> axis.</figcaption></figure>
    """

    def __init__(self, chapter: int, names: Sequence[str]):
        self.chapter, self.names = chapter, tuple(names)

    def label(self, name: str) -> str:
        """``Figure <chapter>.<place>.`` of the figure named ``name``."""
        if name not in self.names:
            raise ValueError(f"figure {name!r} is not among chapter {self.chapter}'s figures {self.names}")
        return f"Figure {self.chapter}.{self.names.index(name) + 1}."

    def show(self, fig: plt.Figure, name: str, caption: str, alt: str, *, out: Path) -> Shown:
        """Save ``fig`` into the folder ``out`` (:func:`save`, which may refuse it) and show it numbered, with
        ``caption`` and ``alt``."""
        try:
            label = self.label(name)
        except ValueError:
            plt.close(fig)
            raise
        return Shown(save(fig, name, out), label, caption, alt)


class Table:
    r"""A table for the notebook: Markdown for people (headers and cells may hold ``$...$`` mathematics), aligned
    plain text for nbval and the terminal. ``breaks``: Markdown starts a new line of a cell before it (a cell's
    interval `` [...]`` goes on a line of its own, so that a wide table fits the column).

    >>> t = Table(["labels", r"mean $q_y$"], [["hard", "0.99"], [r"$\alpha = 0.1$", "0.90"]])
    >>> print(t._repr_markdown_())
    | labels | mean $q_y$ |
    |:---|---:|
    | hard | 0.99 |
    | $\alpha = 0.1$ | 0.90 |
    >>> t
    labels   mean q_y
    hard         0.99
    α = 0.1      0.90
    """

    def __init__(self, head: list, body: list, breaks: str | None = None):
        self.head, self.body, self.breaks = head, body, breaks

    def _repr_markdown_(self) -> str:
        from derivations.engine.text import table_cell

        def cell(c: str) -> str:
            c = table_cell(c)
            return c.replace(self.breaks, "<br>" + self.breaks.lstrip()) if self.breaks else c

        rule = "|" + "|".join([":---"] + ["---:"] * (len(self.head) - 1)) + "|"
        return "\n".join(["| " + " | ".join(map(cell, self.head)) + " |", rule]
                         + ["| " + " | ".join(map(cell, r)) + " |" for r in self.body])

    def __repr__(self) -> str:
        from derivations.engine.text import plain

        rows = [[plain(c) for c in r] for r in [self.head] + self.body]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.head))]
        return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                         .rstrip() for r in rows)


class Tables(list):
    """Several tables shown one after the other."""

    def _repr_markdown_(self) -> str:
        return "\n\n".join(t._repr_markdown_() for t in self)

    def __repr__(self) -> str:
        return "\n\n".join(repr(t) for t in self)


# -- the book's check: every figure of a page has real alt text and a numbered caption --------------------------------

#: Alt text that is a file's path or name, or a hash, rather than a description.
_PATH_LIKE = re.compile(r"^\S*[/\\]\S*$|\.(?:png|svg|jpe?g|gif)\b|\b[0-9a-f]{16,}\b", re.I)
#: A numbered caption: "Figure <chapter>.<n>." then words.
_NUMBERED = re.compile(r"^\s*Figure \d+\.\d+\.\s+\S+")


class _Figures(HTMLParser):
    """A page's images, each with the caption of the ``<figure>`` it sits in (``None``: in none)."""

    def __init__(self):
        super().__init__()
        self.images: list[dict] = []      # {"alt": ..., "figure": index into self.captions or None}
        self.captions: list[str] = []
        self._open: list[int] = []        # the figures open, innermost last
        self._in_caption = 0

    def handle_starttag(self, tag, attrs):
        if tag == "figure":
            self._open.append(len(self.captions))
            self.captions.append("")
        elif tag == "figcaption":
            self._in_caption += 1
        elif tag == "img":
            self.images.append({"alt": dict(attrs).get("alt") or "", "figure": self._open[-1] if self._open else None})

    def handle_endtag(self, tag):
        if tag == "figure" and self._open:
            self._open.pop()
        elif tag == "figcaption":
            self._in_caption -= 1

    def handle_data(self, data):
        if self._in_caption and self._open:
            self.captions[self._open[-1]] += data


def page_figure_problems(page: str, min_words: int = 4) -> list[str]:
    """What a page's figures lack (an empty list: nothing): every ``<img>`` has alt text of ``min_words`` words or
    more that is no path, file name or hash, and sits in a ``<figure>`` whose ``<figcaption>`` is numbered.

    >>> good = '<figure><img src="x.png" alt="Two curves that fall to zero"><figcaption>Figure 1.2. Look.</figcaption></figure>'
    >>> page_figure_problems(good)
    []
    >>> for p in page_figure_problems('<p><img src="a.png" alt="../_images/0f3a9c2b5d7e8f1a.png"></p>'): print(p)
    image 1: alt text '../_images/0f3a9c2b5d7e8f1a.png' is a path or hash, not a description
    image 1: not in a <figure> with a numbered <figcaption> ("Figure N.M. ...")
    """
    found = _Figures()
    found.feed(page)
    out = []
    for i, img in enumerate(found.images, 1):
        alt = img["alt"].strip()
        if _PATH_LIKE.search(alt):
            out.append(f"image {i}: alt text {alt!r} is a path or hash, not a description")
        elif len(alt.split()) < min_words:
            out.append(f"image {i}: alt text {alt!r} has fewer than {min_words} words")
        caption = found.captions[img["figure"]] if img["figure"] is not None else ""
        if not _NUMBERED.match(caption):
            out.append(f'image {i}: not in a <figure> with a numbered <figcaption> ("Figure N.M. ...")')
    return out


def on_family(f, first, K: int, fill: float = 0.0, budget: int = 2_000_000):
    """``f`` evaluated on the logit vectors ``(first[i], fill, ..., fill)`` of length ``K``, in chunks of rows.

    A figure's curve over a family of logits, at any K, never holding more than
    about ``budget`` logits at once. ``f`` maps an ``(n, K)`` array to ``n`` values.

    >>> import numpy as np
    >>> on_family(lambda z: z.sum(axis=1), np.array([1.0, 2.0]), 3, fill=1.0).tolist()
    [3.0, 4.0]
    """
    first = np.asarray(first, dtype=float)
    rows = max(1, budget // K)
    out = np.empty(first.size)
    for i in range(0, first.size, rows):
        z = np.full((min(rows, first.size - i), K), fill)
        z[:, 0] = first[i:i + rows]
        out[i:i + rows] = f(z)
    return out
