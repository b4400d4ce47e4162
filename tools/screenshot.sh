#!/usr/bin/env bash
# Pictures of the book for the README (`make screenshot`): a chapter (docs/site-screenshot.png), the
# corrected note (docs/corrected-note-screenshot.png) and chapter 2's live figure at K = 3, eps = 0.8
# (docs/live-figure-ch2.png, values set by the page's address), taken in headless Chromium once MathJax has
# typeset them.
set -euo pipefail
python=${PYTHON:-.venv/bin/python}
"$python" tools/book.py \
  --screenshot 01_hard_labels.html#the-cross-entropy-chain docs/site-screenshot.png \
  --screenshot corrected_note.html#label-smoothing docs/corrected-note-screenshot.png \
  --screenshot "02_soft_labels.html?K=3&eps=0.8&g=-3#live-ch2-smoothing" docs/live-figure-ch2.png
