#!/usr/bin/env bash
# The Python interpreters this project supports, found on this machine.
#
#   tools/find_python.sh            the newest supported python3.x on PATH that runs (what `make` uses)
#   tools/find_python.sh --all      every supported interpreter found: on PATH, then pyenv's (`make test-pythons`)
#   tools/find_python.sh --check P  exit 0 if interpreter P is supported, else say why (exit 1)
#   tools/find_python.sh --range    the supported minor versions, e.g. "3.11 3.12 3.13 3.14"
#
# The supported range has one home, pyproject.toml: `requires-python` (">=3.A", no upper cap) is its floor, and
# the classifiers "Programming Language :: Python :: 3.x" list the minors tested, from the floor up
# (tests/test_packaging.py keeps them in step with the CI matrix). An interpreter newer than the newest listed is
# accepted, as pip accepts it, with a note that it is untested.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
spec="$(sed -n 's/^requires-python *= *"\(.*\)"/\1/p' "$root/pyproject.toml")"
lo="$(sed -n 's/^>=3\.\([0-9]*\)[0-9.]*$/\1/p' <<<"$spec")"
hi="$(sed -n 's/.*"Programming Language :: Python :: 3\.\([0-9]*\)".*/\1/p' "$root/pyproject.toml" | sort -n | tail -1)"
[ -n "$lo" ] && [ -n "$hi" ] || { echo "error: cannot read requires-python '$spec' (>=3.A) and the Python classifiers in pyproject.toml" >&2; exit 2; }
minors=()
for ((m = hi; m >= lo; m--)); do minors+=("3.$m"); done      # newest first

# the interpreter's "3.x", or nothing when it does not run (a pyenv shim for a version not selected fails)
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }

# at or above the floor (requires-python); one newer than the newest tested is said to be untested
supported() { local v; v="$(version_of "$1")"; [ -n "$v" ] && [ "${v%%.*}" = 3 ] && [ "${v#3.}" -ge "$lo" ]; }

case "${1:-}" in
  --range)
    echo "${minors[@]}" ;;
  --check)
    p="${2:?--check needs an interpreter}"
    if ! command -v "$p" >/dev/null 2>&1 && [ ! -x "$p" ]; then
      echo "error: Python interpreter '$p' not found; supported: Python ${minors[-1]} to ${minors[0]} ($spec in pyproject.toml)" >&2; exit 1
    fi
    if supported "$p"; then
      v="$(version_of "$p")"
      [ "${v#3.}" -le "$hi" ] || echo "note: '$p' is Python $v, newer than the newest tested (${minors[0]}); requires-python ($spec) admits it"
      exit 0
    fi
    v="$(version_of "$p")"
    echo "error: '$p' is Python ${v:-(does not run)}; supported: Python ${minors[-1]} and newer ($spec in pyproject.toml; tested: ${minors[*]}). Name another with PYTHON=..." >&2
    exit 1 ;;
  --all)
    seen=()
    for v in "${minors[@]}"; do
      cands=()
      c="$(command -v "python$v" 2>/dev/null || true)"; [ -n "$c" ] && cands+=("$c")
      if command -v pyenv >/dev/null 2>&1; then
        for d in "$(pyenv root)"/versions/"$v".*/bin/"python$v"; do [ -x "$d" ] && cands+=("$d"); done
      fi
      for c in "${cands[@]}"; do
        if [ "$(version_of "$c")" = "$v" ]; then
          [[ " ${seen[*]-} " == *" $v "* ]] || { echo "$c"; seen+=("$v"); }
          break
        fi
      done
    done ;;
  "")
    for v in "${minors[@]}"; do
      c="$(command -v "python$v" 2>/dev/null || true)"
      if [ -n "$c" ] && [ "$(version_of "$c")" = "$v" ]; then echo "$c"; exit 0; fi
    done
    c="$(command -v python3 2>/dev/null || true)"
    if [ -n "$c" ] && supported "$c"; then echo "$c"; exit 0; fi
    echo "error: no supported Python on PATH (Python ${minors[-1]} and newer, $spec in pyproject.toml); name one with PYTHON=..." >&2
    exit 1 ;;
  *)
    echo "usage: $0 [--all | --check PYTHON | --range]" >&2; exit 2 ;;
esac
