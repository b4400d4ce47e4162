#!/usr/bin/env bash
# Pictures of the book for the README (`make screenshot`): a chapter (docs/site-screenshot.png) and the
# corrected note (docs/corrected-note-screenshot.png), taken in headless Chromium once MathJax has typeset them.
set -euo pipefail
python=${PYTHON:-.venv/bin/python}
"$python" tools/book.py \
  --screenshot 01_hard_labels.html#the-cross-entropy-chain docs/site-screenshot.png \
  --screenshot corrected_note.html#label-smoothing docs/corrected-note-screenshot.png
