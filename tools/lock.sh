#!/usr/bin/env bash
# `make lock`: write requirements.lock (and requirements-lab.lock) with uv from requirements.txt and constraints.txt:
# every transitive version pinned, for every platform and every Python from requires-python's floor on (--universal).
# `make check-wheels`: every pin of the locks has a wheel for each supported Python (tools/find_python.sh --range),
# on Linux x86_64 (uv resolves the pins against the package index without building anything: it needs the network).
#   tools/lock.sh UV [--check-wheels]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
uv="${1:?usage: tools/lock.sh UV [--check-wheels]}"
cd "$root"
command -v "$uv" >/dev/null 2>&1 || { echo "error: uv not found at '$uv' (make installs it into the venv; or pip install uv)" >&2; exit 2; }
floor="$(sed -n 's/^requires-python *= *">=\([0-9.]*\)".*/\1/p' pyproject.toml)"
[ -n "$floor" ] || { echo "error: cannot read requires-python's floor in pyproject.toml" >&2; exit 2; }
# the lock's own floor: soupsieve (through nbconvert) needs 3.11.5
lock_floor="$floor.5"
if [ "${2:-}" = "--check-wheels" ]; then
  for v in $(bash tools/find_python.sh --range); do
    for lock in requirements.lock requirements-lab.lock; do
      pv="$v"; [ "$v" = "$floor" ] && pv="$lock_floor"
      "$uv" pip compile --quiet "$lock" --no-deps --only-binary :all: --python-version "$pv" \
        --python-platform x86_64-manylinux_2_28 -o /dev/null \
        || { echo "error: a pin of $lock has no wheel for Python $v on Linux x86_64 (above)" >&2; exit 1; }
      echo "every pin of $lock has a wheel for Python $v (Linux x86_64)"
    done
  done
  exit 0
fi
common=(--universal --python-version "$lock_floor" --no-header --annotation-style line --quiet)
"$uv" pip compile "${common[@]}" requirements.txt -c constraints.txt -o requirements.lock
"$uv" pip compile "${common[@]}" requirements-lab.txt -c requirements.lock -o requirements-lab.lock
echo "wrote requirements.lock ($(grep -c '==' requirements.lock) pins) and requirements-lab.lock ($(grep -c '==' requirements-lab.lock) pins)"
