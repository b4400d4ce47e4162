#!/usr/bin/env bash
# `make lock`: uv.lock from pyproject.toml (every transitive version pinned, for every platform and every supported
# Python), then the files exported from it for pip, which hold no pin of their own:
#   requirements.txt          what `make` installs (the extras and the default group, `test`), for
#                             `pip install -r requirements.txt -e .`, and the constraints of `make crosscheck`
#   binder/requirements.txt   what a reader needs to run the notebooks on Binder: the package and its companion
# Each file's header is the command that wrote it; tests/test_packaging.py runs it again and compares.
# `make check-wheels`: every pin of uv.lock (every group) has a wheel for each supported Python
# (tools/find_python.sh --range) on Linux x86_64 (uv resolves the pins against the package index without building
# anything: it needs the network).
#   tools/lock.sh UV [--check-wheels]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
uv="${1:?usage: tools/lock.sh UV [--check-wheels]}"
cd "$root"
command -v "$uv" >/dev/null 2>&1 || { echo "error: uv not found at '$uv' (tools/setup_venv.sh --uv .venv)" >&2; exit 2; }
if [ "${2:-}" = "--check-wheels" ]; then
  floor="$(sed -n 's/^requires-python *= *">=\([0-9.]*\)".*/\1/p' pyproject.toml)"
  # the lock's own floor (tool.uv.environments in pyproject.toml): soupsieve, through beautifulsoup4, needs 3.11.5
  lock_floor="$(sed -n "s/^environments = \[\"python_full_version >= '\([0-9.]*\)'\"\]/\1/p" pyproject.toml)"
  [ -n "$floor" ] && [ -n "$lock_floor" ] || { echo "error: cannot read the Python floors in pyproject.toml" >&2; exit 2; }
  pins="$(mktemp)"
  trap 'rm -f "$pins"' EXIT
  "$uv" export --quiet --frozen --all-groups --all-extras --no-hashes --no-emit-project --no-header -o "$pins"
  for v in $(bash tools/find_python.sh --range); do
    pv="$v"; [ "$v" = "$floor" ] && pv="$lock_floor"
    "$uv" pip compile --quiet "$pins" --no-deps --only-binary :all: --python-version "$pv" \
      --python-platform x86_64-manylinux_2_28 -o /dev/null \
      || { echo "error: a pin of uv.lock has no wheel for Python $v on Linux x86_64 (above)" >&2; exit 1; }
    echo "every pin of uv.lock ($(grep -c '==' "$pins") packages, every group) has a wheel for Python $v (Linux x86_64)"
  done
  exit 0
fi
"$uv" lock
"$uv" export --quiet --frozen --all-extras --no-hashes --no-emit-project -o requirements.txt
"$uv" export --quiet --frozen --no-default-groups --extra companion --no-hashes -o binder/requirements.txt
echo "wrote uv.lock ($(grep -c '^\[\[package\]\]' uv.lock) packages), requirements.txt ($(grep -c '==' requirements.txt)" \
     "pins) and binder/requirements.txt ($(grep -c '==' binder/requirements.txt) pins)"
