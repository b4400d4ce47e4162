"""The book and its build: Sphinx's configuration and pages (``conf.py``, ``*.md``, ``_static/``) beside the
Python that builds them, outside the package (the wheel ships ``derivations`` only).

* :mod:`book.builder` - stages the executed notebooks and runs Sphinx (``make html``), prints the PDF (``make pdf``);
* :mod:`book.browser` - headless Chromium: find it, load a page, measure it, print it;
* :mod:`book.corrected_note` - the note with its errata corrected, as a page of the book;
* :mod:`book.live_figures` - the live figures' formulas, generated from the registry.

Run from the repository's root as ``python -m book.builder``.
"""
