#!/usr/bin/env bash
# The system programs that the book and its tests need, installed when missing, with Debian's apt-get: Chromium to
# render pages headless and print them, npm to fetch MathJax and Pyodide for the offline site, and poppler-utils
# (pdftoppm, pdftotext) to read the PDFs back.
#   tools/ensure_system.sh [PROGRAM ...]            as root: install what is missing; else: say so, exit 1 (make pdf)
#   tools/ensure_system.sh --if-root [PROGRAM ...]  as root: install; else: say what is missing, exit 0 (make test:
#                                                   the browser tests then skip, naming `make system`)
#   tools/ensure_system.sh --sudo [PROGRAM ...]     install, with sudo unless root (make system: the user asked)
# PROGRAM: chromium, npm, poppler-utils (default: all three). The Chromium is the one the tests drive: $CHROMIUM if
# set, else the first found where book/browser.py looks (find_chromium), run with $PYTHON (default python3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode=required
case "${1:-}" in --if-root|--sudo) mode="${1#--}"; shift ;; esac
wanted=("${@:-chromium npm poppler-utils}")
wanted=(${wanted[*]})

chromium_found() {
  "${PYTHON:-python3}" -c 'import sys; sys.path.insert(0, sys.argv[1]); from book.browser import find_chromium
sys.exit(find_chromium() is None)' "$root"
}
need=()
for w in "${wanted[@]}"; do
  case "$w" in
    chromium) chromium_found || need+=(chromium) ;;
    npm) command -v npm >/dev/null 2>&1 || need+=(npm) ;;
    poppler-utils) { command -v pdftoppm && command -v pdftotext; } >/dev/null 2>&1 || need+=(poppler-utils) ;;
    *) echo "error: tools/ensure_system.sh knows chromium, npm and poppler-utils; got '$w'" >&2; exit 2 ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ -n "${CHROMIUM:-}" ] && [[ " ${need[*]} " == *" chromium "* ]]; then
  echo "error: CHROMIUM=$CHROMIUM is not a program found here" >&2
  exit 1
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  if [ "$mode" != sudo ]; then
    echo "missing: ${need[*]}. \`make system\` installs them (apt-get, with sudo); or set CHROMIUM to a Chromium or" \
         "Chrome of yours.$([ "$mode" = if-root ] && echo ' Until then the tests that need them skip.')" >&2
    [ "$mode" = if-root ] && exit 0
    exit 1
  fi
  command -v sudo >/dev/null 2>&1 || { echo "error: ${need[*]} missing, not root, and no sudo: install them" >&2; exit 1; }
  sudo=(sudo)
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: ${need[*]} missing, and no apt-get here: install them with your package manager" \
       "(macOS: brew install node poppler, and Google Chrome; or set CHROMIUM)" >&2
  exit 1
fi
echo "installing ${need[*]} (apt-get)"
# another apt-get at work (a second `make test` at once) holds dpkg's lock: wait for it rather than fail
${sudo[@]+"${sudo[@]}"} apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive ${sudo[@]+"${sudo[@]}"} apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
  --no-install-recommends "${need[@]}" >/dev/null
for w in "${need[@]}"; do
  case "$w" in
    chromium) chromium_found ;;
    npm) command -v npm >/dev/null ;;
    poppler-utils) command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null ;;
  esac || { echo "error: $w still missing after apt-get" >&2; exit 1; }
done
