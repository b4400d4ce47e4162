#!/usr/bin/env bash
# Install the system programs the site and PDF tests need, when missing: Chromium (Debian's
# package) to render pages headless and print them, npm to fetch MathJax for the offline site,
# and poppler-utils (pdftoppm, pdfunite) to check and join the PDFs.
#   tools/ensure_system.sh          all three (make test, make pdf)
#   tools/ensure_system.sh npm      only npm (a rerun's book: tools/run_notebooks.py)
set -euo pipefail
wanted=("${@:-chromium npm poppler-utils}")
wanted=(${wanted[*]})
need=()
for w in "${wanted[@]}"; do
  case "$w" in
    chromium) command -v chromium >/dev/null 2>&1 || need+=(chromium) ;;
    npm) command -v npm >/dev/null 2>&1 || need+=(npm) ;;
    poppler-utils) command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils) ;;
    *) echo "error: tools/ensure_system.sh knows chromium, npm and poppler-utils; got '$w'" >&2; exit 2 ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing ${need[*]} (apt-get)"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: ${need[*]} missing and not root (no sudo): install them first" >&2; exit 1; }
  sudo=sudo
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
for c in "${need[@]/poppler-utils/pdftoppm}"; do command -v "$c" >/dev/null || { echo "error: $c still missing after apt-get" >&2; exit 1; }; done
