#!/usr/bin/env bash
# Screenshot of a rendered page of the offline site (for README): docs/site-screenshot.png.
# Needs `make html` first. Usage: tools/screenshot.sh [PAGE.html[#anchor]]
set -euo pipefail
page=${1:-01_hard_labels.html}
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$profile" \
  --virtual-time-budget=15000 --hide-scrollbars --window-size=1100,900 \
  --screenshot="$PWD/docs/site-screenshot.png" "file://$PWD/build/html/$page" 2>/dev/null
rm -rf "$profile"
echo docs/site-screenshot.png
