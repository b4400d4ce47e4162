#!/usr/bin/env bash
# Pictures of the book for the README (`make screenshot`), taken in headless Chromium once MathJax has typeset
# them: a chapter's claim as a reader sees it, its checks folded (docs/site-screenshot.png); the corrected note
# (docs/corrected-note-screenshot.png); a printed page of chapter 3, its verdict table (docs/pdf-page-screenshot.png);
# chapter 2's live figure at K = 3, eps = 0.8 (docs/live-figure-ch2.png, values set by the page's address);
# chapter 2's first screen, at 1280 px and on a 390 px phone (docs/first-screen-ch2*.png): its title, verdicts and
# live figure; a derivation on the page, the code above what it typesets and its verdict (docs/derivation-ch2.png);
# a chapter's figure with its numbered caption (docs/figure-ch4.png); long formulas broken over lines, chapter 3's
# at 1280 px (docs/formulas-ch3.png) and a line of the note on a phone (docs/formulas-ch2-phone.png); chapter 1's verdicts on a phone, a card per claim
# (docs/verdicts-ch1-phone.png).
set -euo pipefail
python=${PYTHON:-.venv/bin/python}
"$python" -m book.builder \
  --screenshot 03_label_flipping.html#claim-ch3-same-q docs/site-screenshot.png \
  --screenshot corrected_note.html#label-smoothing docs/corrected-note-screenshot.png \
  --screenshot 02_soft_labels.html docs/first-screen-ch2.png \
  --phone-screenshot 02_soft_labels.html docs/first-screen-ch2-phone.png \
  --screenshot 02_soft_labels.html#added-the-closed-form-and-the-relation-to-the-hard-loss docs/derivation-ch2.png \
  --screenshot "02_soft_labels.html?K=3&eps=0.8&g=-3#live-ch2-smoothing" docs/live-figure-ch2.png \
  --screenshot 04_training.html#figure-4-1 docs/figure-ch4.png \
  --screenshot 03_label_flipping.html#added-what-differs-the-noise docs/formulas-ch3.png \
  --phone-screenshot 02_soft_labels.html#the-approximation-by-the-largest-logit-m docs/formulas-ch2-phone.png \
  --phone-screenshot 01_hard_labels.html#chapter-1-verdicts docs/verdicts-ch1-phone.png \
  --pdf-screenshot 03_label_flipping.html "verdict claim eq. what" docs/pdf-page-screenshot.png
