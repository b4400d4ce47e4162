"""Figures fit for print (issue 32): readable at the size shown, one style, numbered captions and real alt text.

* :func:`derivations.engine.figures.save` refuses a figure that cannot be read at the size it is shown: text below
  8 pt, ASCII standing in for mathematics, text cut off, a legend over plotted data. The refusals are shown here on
  bad figures, and every chapter's figure functions pass at the defaults and at edge values;
* every figure is drawn with the one style sheet, at the column's width and twice its pixels (the committed PNGs);
* the stored notebooks show each figure in a ``<figure>`` with its numbered caption, in order, and real alt text,
  and each image there is the committed PNG, shown at half its pixel width; the chapters' tables are tables;
* the built book's pages (when built): every ``<img>`` has real alt text and a numbered caption.
"""
from __future__ import annotations

import base64
import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from derivations.chapters import CHAPTERS
from derivations.engine import figures
from derivations.engine.figures import COLUMN, DENSITY, MIN_POINTS, page_figure_problems, problems, save, style

ROOT = Path(__file__).resolve().parents[1]
#: The chapters with figures, and their figure modules.
FIGURE_CHAPTERS = {n: __import__(f"derivations.chapters.ch{n}.figures", fromlist=["FIGURES"])
                   for n in CHAPTERS if (ROOT / "derivations" / "chapters" / f"ch{n}" / "figures.py").exists()}


@pytest.fixture
def folder(tmp_path):
    """Figures are written into a temporary folder."""
    return tmp_path


def refused(fig, match: str, folder: Path):
    """``save`` refuses ``fig`` with a message matching ``match``, writes nothing and closes the figure."""
    number = fig.number
    with pytest.raises(ValueError, match=match):
        save(fig, "bad", folder)
    assert not list(folder.iterdir()), "a refused figure was written"
    assert not plt.fignum_exists(number), "a refused figure was left open"


# -- the check refuses bad figures ------------------------------------------------------------------------------

def test_small_text_is_refused(folder):
    with style():
        fig, ax = plt.subplots()
        ax.set_xlabel("a label", fontsize=MIN_POINTS - 1)
    refused(fig, r"text 'a label' is 7\.0 pt", folder)


def test_a_figure_wider_than_the_column_is_judged_at_the_size_it_is_shown(folder):
    with style():
        fig, ax = plt.subplots(figsize=(2 * COLUMN, 3))     # shown at half its size: 9 pt text reads as 4.5 pt
        ax.set_xlabel("a label")
    refused(fig, r"text 'a label' is 4\.5 pt at the size shown", folder)


@pytest.mark.parametrize("text", ["eps = 0.1", "flipped loss -> smoothed loss", "loss H(p_eps)", "gap log(K)",
                                  "K = 10", "flip_fresh"])
def test_ascii_mathematics_is_refused(folder, text):
    with style():
        fig, ax = plt.subplots()
        ax.set_title(text)
    refused(fig, "writes mathematics in ASCII", folder)


@pytest.mark.parametrize("text", [r"$\epsilon = 0.1$", r"flipped loss $\to$ smoothed loss", r"loss $H(p_\epsilon)$",
                                  "(a) hard labels, flipped once", "test ECE (15 bins)"])
def test_mathtext_and_words_pass(folder, text):
    with style():
        fig, ax = plt.subplots()
        ax.set_title(text)
    assert problems(fig) == []
    assert save(fig, "good", folder).exists()


def test_text_cut_off_is_refused(folder):
    with style():
        fig = plt.figure()
        fig.text(0.9, 0.5, "a label that runs off the edge")
    refused(fig, "cut off by the figure's edge", folder)


@pytest.mark.parametrize("draw", ["line", "markers", "bars", "band", "scatter", "panel"])
def test_a_legend_over_data_is_refused(folder, draw):
    """Whatever the data are (a line, markers alone, bars, a band, a scatter), and in whichever panel."""
    x = np.linspace(0, 1, 50)
    with style():
        fig, (ax, other) = plt.subplots(1, 2)
        if draw == "line":
            ax.plot([0, 1], [0, 1], label="data")
        elif draw == "markers":
            ax.plot(x, 0.5 + 0 * x, "o", label="data")
        elif draw == "bars":
            ax.bar([0.5], [1.0], width=0.8, label="data")
        elif draw == "band":
            ax.fill_between(x, 0.1, 0.9, label="data")
        elif draw == "scatter":
            ax.scatter(x, 0.5 + 0 * x, label="data")
        else:   # the legend of one panel reaching over the other's data
            other.plot([0, 1], [0.5, 0.5], label="data")
            ax.plot([0, 1], [0, 0], label="other")
            ax.legend(loc="center left", bbox_to_anchor=(0.5, 0.5), fontsize=8, handlelength=12)
        if draw != "panel":
            ax.set_xlim(0, 1), ax.set_ylim(0, 1)
            ax.legend(loc="center")
    refused(fig, "covers plotted data", folder)


def test_a_legend_in_a_place_the_data_avoid_passes(folder):
    with style():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 0.2], label="low line")
        ax.set_ylim(0, 1)
        ax.legend(loc="upper right")
    assert problems(fig) == []


def test_a_legend_outside_the_panels_passes_whatever_the_data(folder):
    with style():
        fig, (a, b) = plt.subplots(1, 2)
        a.fill_between([0, 1], 0, 1, label="everywhere")
        b.plot(np.linspace(0, 1, 9), np.linspace(0, 1, 9), "o-", label="diagonal")
        figures.legend_outside(fig, ncols=2)
    assert problems(fig) == []


def test_an_unknown_figure_name_is_refused(folder):
    chapter = figures.Numbered(9, ("ch9_one",))
    with style():
        fig = plt.figure()
    with pytest.raises(ValueError, match="not among chapter 9's figures"):
        chapter.show(fig, "ch9_two", "A caption.", "An alt text of words.", out=folder)
    assert not plt.fignum_exists(fig.number) and not list(folder.iterdir())


# -- every chapter figure passes, at the defaults and at edge values ---------------------------------------------

def _small_ch4_plan(K, eps):
    from derivations.chapters.ch4.training import TrainingPlan

    return TrainingPlan(K=K, eps=eps, seed=0, n_free=60, free_steps=600, n_train=200, n_test=100, steps=150)


def _ch4(K, eps, out):
    from derivations.chapters.ch4 import figures as f
    from derivations.chapters.ch4 import worked as ch4
    from derivations.chapters.ch4.training import MODES

    free = ch4.free_logits(_small_ch4_plan(K, eps))
    reg = ch4.softmax_regression(_small_ch4_plan(K, eps))
    return [f.plot_training_curves(free.runs, K, eps, "ch4_free_logits", out=out),
            f.plot_memorisation(free.runs, free.y, eps, out=out),
            f.plot_training_curves(reg.runs, reg.K, eps, "ch4_softmax_regression", out=out),
            f.plot_reliability({m: reg.test_probs(m) for m in MODES}, reg.y_test, out=out)]


def _ch5(eps, out):
    from derivations.chapters.ch5 import distillation, geometry
    from derivations.chapters.ch5 import figures as f
    from derivations.chapters.ch5 import worked as ch5

    x = ch5.experiment(ch5.Plan(eps=eps, seed=7, seeds=2, per_class=2, hidden=32, steps=60, resamples=200))
    p = geometry.Plan(seed=7, seeds=2, per_class=2, hidden=32, steps=60)
    return [f.plot_sweep(x, out=out), f.plot_reliability(x, out=out), geometry.plot_penultimate(p, out=out),
            distillation.plot_distillation(p, out=out), f.plot_regimes(x, out=out)]


def _ch3(K, eps, out):
    from derivations.chapters.ch3 import figures as f
    from derivations.chapters.ch3 import worked as ch3

    z = ch3.example_logits(K, 1)
    running = ch3.monte_carlo(z, eps, 2000, 2)[1]
    return [f.plot_flip_distribution(K, eps, 5000, 0, out=out), f.plot_noise_at_optimum((2, K, 100), out=out),
            ch3.monte_carlo_figure(z, eps, running, out=out)]


#: Each chapter's figures, drawn by its own functions at values (K, eps), the edges among them, into the folder out.
DRAWN = {
    1: lambda K, eps, out: [FIGURE_CHAPTERS[1].plot_margin_error(out=out),
                            FIGURE_CHAPTERS[1].plot_hard_loss_approximation(K, out=out)],
    2: lambda K, eps, out: [FIGURE_CHAPTERS[2].plot_loss_vs_gap(K, yours=eps, out=out),
                            FIGURE_CHAPTERS[2].plot_conventions(out=out)],
    3: _ch3,
    4: _ch4,
    5: lambda K, eps, out: _ch5(eps, out),
}
VALUES = [(1, 10, 0.1), (1, 100_000, 0.1), (1, 2, 0.1),
          (2, 10, 0.1), (2, 2, 1.0), (2, 100_000, 0.0), (2, 3, 2 / 3),
          (3, 10, 0.1), (3, 2, 1.0), (3, 100_000, 0.0), (3, 4, 0.75),
          (4, 4, 0.1), (4, 2, 0.0), (4, 3, 1.0), (4, 1000, 0.5),
          (5, 10, 0.1), (5, 10, 1.0)]


def test_every_chapter_with_figures_is_drawn_here():
    assert set(DRAWN) == set(FIGURE_CHAPTERS), "a chapter's figures are not tested: add it to DRAWN"


@pytest.mark.slow                      # every figure at other values
@pytest.mark.parametrize("chapter,K,eps", VALUES)
def test_every_chapter_figure_passes_the_check_and_is_shown_with_its_caption(folder, chapter, K, eps):
    """Each figure function saves through the check (which would raise), and shows its figure numbered in the
    chapter's order, at the column's width, with a caption and alt text of words."""
    shown = DRAWN[chapter](K, eps, folder)
    names = FIGURE_CHAPTERS[chapter].FIGURES.names
    assert sorted(Path(s).stem for s in shown) == sorted(names), "a figure of the chapter was not drawn"
    for s in shown:
        place = names.index(Path(s).stem) + 1
        assert s.label == f"Figure {chapter}.{place}." and repr(s).startswith(s.label)
        assert s.width == round(COLUMN * 100), f"{s.label} is shown {s.width} CSS px wide"
        assert page_figure_problems(s._repr_html_(), min_words=12) == [], s.label
        assert "Look " in s.caption, f"{s.label}: its caption does not say where to look"
        assert not figures.ASCII_MATH.search(re.sub(r"\$[^$]*\$", "", s.caption)), s.caption


# -- one style, the size shown, the committed PNGs ----------------------------------------------------------------

def _png_header(path: Path) -> tuple[int, int, float]:
    """Width and height in pixels, and the resolution in dots per inch (its pHYs chunk)."""
    data = path.read_bytes()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    at = data.index(b"pHYs")
    return width, height, int.from_bytes(data[at + 4:at + 8], "big") * 0.0254


def test_every_committed_figure_is_drawn_at_the_column_width_and_twice_its_pixels():
    pngs = sorted((ROOT / "figures").glob("*.png"))
    names = {n for m in FIGURE_CHAPTERS.values() for n in m.FIGURES.names}
    assert {p.stem for p in pngs} == names, "figures/ and the chapters' numbered figures differ"
    for p in pngs:
        width, height, dpi = _png_header(p)
        assert width == round(COLUMN * 100 * DENSITY) and round(dpi) == 100 * DENSITY, (p.name, width, dpi)


def test_the_chapters_draw_with_the_one_style_sheet_only():
    """No chapter sets its own rcParams or style: each figure is drawn in ``style()``, the sheet's."""
    for n in FIGURE_CHAPTERS:
        source = (ROOT / "derivations" / "chapters" / f"ch{n}" / "figures.py").read_text()
        assert "with style():" in source, f"chapter {n} draws outside the style sheet"
        assert not re.search(r"rc_context|rcParams|style\.use|\bSTYLE\b", source), f"chapter {n} sets its own style"
    sheet = matplotlib.rc_params_from_file(figures.STYLE_SHEET, use_default_template=False)
    assert sheet["savefig.dpi"] == 100 * DENSITY and sheet["figure.figsize"][0] == COLUMN
    assert min(sheet[k] for k in ("font.size", "xtick.labelsize", "ytick.labelsize", "legend.fontsize")) >= MIN_POINTS


def test_the_style_sheet_ships_with_the_package():
    """Every file of the package that is not Python is package data (pyproject.toml), so `pip install .` ships it."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = [p for p in (ROOT / "derivations").rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert figures.STYLE_SHEET in files
    for p in files:
        package = ".".join(p.parent.relative_to(ROOT).parts)
        assert any(fnmatch(p.name, pattern) for pattern in data.get(package, [])), f"{p} is not package data"


# -- the stored notebooks: numbered figures in order, real alt text, the committed PNGs, tables -------------------

def _outputs(chapter: int):
    """(source, output) of every code cell's outputs in the chapter's stored notebook."""
    nb = json.loads((ROOT / "notebooks" / f"{CHAPTERS[chapter].notebook}.ipynb").read_text(encoding="utf-8"))
    return [("".join(c["source"]), o) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("chapter", sorted(FIGURE_CHAPTERS))
def test_the_notebook_shows_each_figure_numbered_in_order_with_the_committed_png(chapter):
    names = FIGURE_CHAPTERS[chapter].FIGURES.names
    shown = ["".join(o["data"]["text/html"]) for _, o in _outputs(chapter)
             if "companion-figure" in "".join(o.get("data", {}).get("text/html", ""))]
    assert not [o for _, o in _outputs(chapter) if "image/png" in o.get("data", {})], "a bare image output"
    assert len(shown) == len(names), f"chapter {chapter} shows {len(shown)} figures, numbers {len(names)}"
    for place, (page, name) in enumerate(zip(shown, names), 1):
        assert page_figure_problems(page, min_words=12) == [], name
        assert re.search(rf"<figcaption><strong>Figure {chapter}\.{place}\.</strong>", page), f"{name} out of order"
        png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1))
        assert png == (ROOT / "figures" / f"{name}.png").read_bytes(), f"{name}: not the committed PNG"
        width = int(re.search(r'<img [^>]*width="(\d+)"', page).group(1))
        assert width * DENSITY == int.from_bytes(png[16:20], "big"), f"{name} is not shown at half its pixels"


@pytest.mark.parametrize("chapter", [4, 5])
def test_the_chapters_tables_are_tables(chapter):
    """A table cell's output is a Markdown table (headers typeset), never printed text."""
    tables = [(s, o) for s, o in _outputs(chapter) if re.search(r"_table\(", s)]
    assert tables, f"chapter {chapter} shows no table"
    for source, o in tables:
        assert o["output_type"] == "execute_result", f"{source!r} prints its table"
        assert "".join(o["data"]["text/markdown"]).startswith("| "), source
        assert not re.search(r"\beps\b|<-|flip_fresh|p\(true\)", "".join(o["data"]["text/markdown"])), source


# -- the built book ---------------------------------------------------------------------------------------------

def test_the_book_check_fails_on_the_old_images():
    """What the book showed before: an ``<img>`` whose alt text is its hashed path, in no ``<figure>``."""
    old = '<div class="cell_output docutils container"><img alt="../_images/0a1b2c3d4e5f60718293a4b5c6d7e8f9.png" ' \
          'src="../_images/0a1b2c3d4e5f60718293a4b5c6d7e8f9.png" /></div>'
    found = page_figure_problems(old)
    assert any("path or hash" in p for p in found) and any("numbered <figcaption>" in p for p in found)
    assert page_figure_problems('<figure><img alt="A chart"><figcaption>A chart.</figcaption></figure>') != []

