#!/usr/bin/env bash
# Set up the virtual environment from the lock: `make` calls it when a requirements file, the lock or the Python
# changes (tools/setup_venv.sh PYTHON VENV [LOCK ...]; default lock: requirements.lock).
#
# requirements.lock pins every package the notebooks, the book and the tests install, transitive ones included,
# with the markers of every platform (`make lock` writes it from requirements.txt and constraints.txt with uv).
# It is installed with uv, about ten times faster than pip (docs/measurements.md): the uv on PATH, else uv
# pip-installed into the venv (UV_VERSION below); if neither works, with pip, from the same lock. Then the
# package itself, editable, without dependencies (the lock holds them). uv reads no pip configuration file.
set -euo pipefail
UV_VERSION=0.13.9
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${1:?usage: tools/setup_venv.sh PYTHON VENV [LOCK ...]}"
venv="${2:?usage: tools/setup_venv.sh PYTHON VENV [LOCK ...]}"
shift 2
locks=("${@:-$root/requirements.lock}")
minor() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

if [ -x "$venv/bin/python" ] && [ "$(minor "$venv/bin/python")" != "$(minor "$py")" ]; then
  echo "$venv holds another Python: rebuilding it with $py ($(minor "$py"))"
  rm -rf "$venv"
fi
uv="$(command -v uv || true)"
[ -z "$uv" ] && [ -x "$venv/bin/uv" ] && uv="$venv/bin/uv"
pip=()
if [ ! -x "$venv/bin/python" ]; then
  if [ -n "$uv" ]; then
    "$uv" venv --quiet --python "$py" "$venv"
  elif "$py" -m pip --version >/dev/null 2>&1; then
    "$py" -m venv --without-pip "$venv"                 # seconds faster than with pip: the interpreter's pip serves
    pip=("$py" -m pip --python "$venv/bin/python")
  else
    "$py" -m venv "$venv"
  fi
fi
if [ ${#pip[@]} -eq 0 ]; then
  if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then pip=("$venv/bin/python" -m pip)
  elif "$py" -m pip --version >/dev/null 2>&1; then pip=("$py" -m pip --python "$venv/bin/python")
  fi
fi
if [ -z "$uv" ] && [ ${#pip[@]} -gt 0 ]; then
  if "${pip[@]}" install --quiet --disable-pip-version-check "uv==$UV_VERSION"; then uv="$venv/bin/uv"
  else echo "could not install uv $UV_VERSION with pip: installing with pip instead (slower)"; fi
fi
if [ -n "$uv" ]; then
  for lock in "${locks[@]}"; do "$uv" pip install --quiet --python "$venv/bin/python" -r "$lock"; done
  "$uv" pip install --quiet --python "$venv/bin/python" --no-deps -e "$root"
elif [ ${#pip[@]} -gt 0 ]; then
  for lock in "${locks[@]}"; do "${pip[@]}" install --quiet --disable-pip-version-check -r "$lock"; done
  "${pip[@]}" install --quiet --disable-pip-version-check --no-deps -e "$root"
else
  echo "error: neither uv nor pip can install into $venv (install uv, or pip for $py)" >&2
  exit 1
fi
