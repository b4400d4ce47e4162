"""``make run``: the notebooks executed by :mod:`derivations.runner`, then the book of the run.

    python tools/run_notebooks.py [NOTEBOOK ...]          (default: every chapter, notebooks/*.ipynb)
    python tools/run_notebooks.py --set K=1000 --set EPS=0.05 [--chapters 1,2,3] [--html]
    python tools/run_notebooks.py --environment          (what `make run` calls: the values from the environment)

The options are the runner's (``soft-targets run --help``), and two of the book's: ``--html`` builds the book
(book/builder.py) from the executed notebooks into ``<out>/html/`` (a banner with the values on every page), and
``--no-html`` builds none; through ``make``, ``BOOK=0`` or ``BOOK=1`` (default: a book for a rerun with values).
The book's build is no part of the package: this script hands it to the runner.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from derivations import runner  # noqa: E402


def banner(settings: dict, chapters: list[int], where: str) -> str:
    """The line every page of a rerun's book opens with: the values, the chapters, and where the run is (HTML)."""
    from html import escape

    values = " ".join(f"{n}={v!r}" for n, v in settings.items())
    which = (f"chapter{'s' if len(chapters) > 1 else ''} " + ", ".join(map(str, chapters))) if chapters else "every chapter"
    return (f'<span class="rerun-banner">A rerun with your values: <code>{escape(values)}</code> ({escape(which)}; '
            f"every other value is its chapter's default), in <code>{escape(where)}/</code>. "
            "The committed book, at the defaults: <code>make html</code>.</span>")


class Book:
    """The book of a run, for :func:`derivations.runner.main`."""

    @staticmethod
    def prepare() -> None:
        """The book needs npm (MathJax for the offline site): installed with tools/ensure_system.sh when missing."""
        if shutil.which("npm") is None:
            subprocess.run(["bash", str(ROOT / "tools" / "ensure_system.sh"), "npm"], check=True)

    @staticmethod
    def build(settings: dict, chapters: list[int] | None, out: Path | None) -> None:
        from book.builder import build
        from derivations.chapters import CHAPTERS

        t = time.perf_counter()
        site = (out or ROOT / "build") / "html"
        build((out or ROOT / "notebooks").resolve(), site.resolve(), ROOT / "build" / "npm",
              announcement=banner(settings, chapters if chapters and len(chapters) < len(CHAPTERS) else [],
                                  os.path.relpath(out, ROOT) if out.resolve().is_relative_to(ROOT) else str(out))
              if settings and out is not None else None)
        print(f"{os.path.relpath(site / 'index.html', Path.cwd()):<40} {time.perf_counter() - t:6.1f} s  ok")


def main(argv: list[str] | None = None, environ=None) -> int:
    return runner.main(argv, environ, book=Book, prog="tools/run_notebooks.py")


if __name__ == "__main__":
    sys.exit(main())
