#!/usr/bin/env bash
# Set up the virtual environment from uv.lock: `make` calls it when uv.lock, pyproject.toml or the Python changes.
#   tools/setup_venv.sh PYTHON VENV [GROUP ...]   the package, editable, with its extras; the default group (`test`:
#                                                 it includes `run` and `book`) and the groups named (`lab`: make lab)
#   tools/setup_venv.sh --uv VENV                 print the uv that the set-up uses (installed first if missing)
#
# uv.lock pins every package that the notebooks, the book and the tests install, transitive ones included, for every
# platform; pyproject.toml names them ([dependency-groups]) and `make lock` writes the lock (and requirements.txt, its
# export for pip). `uv sync --locked` installs exactly the lock's packages, and refuses a lock that pyproject.toml
# has outgrown. The uv is UV_VERSION: the one on PATH if it is that version, else that version pip-installed into
# VENV/.uv, beside the environment that uv manages (never in it: an exact sync would remove it). Where uv cannot be
# installed, pip installs requirements.txt (the same pins) and the package instead, the default group only.
set -euo pipefail
UV_VERSION=0.13.9
root="$(cd "$(dirname "$0")/.." && pwd)"
usage="usage: tools/setup_venv.sh PYTHON VENV [GROUP ...] | --uv VENV"
minor() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
uv_is_pinned() { [ -n "$1" ] && [ "$("$1" --version 2>/dev/null | cut -d' ' -f2)" = "$UV_VERSION" ]; }
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore UV_PYTHON_DOWNLOADS=never

# the pinned uv, installed into $venv/.uv with the pip of $1 (the interpreter) if neither PATH nor the venv has it;
# prints nothing if it cannot be had
find_uv() {
  local py="$1" venv="$2" uv
  uv="$(command -v uv || true)"
  if uv_is_pinned "$uv"; then echo "$uv"; return; fi
  uv="$venv/.uv/bin/uv"
  if uv_is_pinned "$uv"; then echo "$uv"; return; fi
  rm -rf "$venv/.uv"
  if "$py" -m pip install --quiet --target "$venv/.uv" "uv==$UV_VERSION" >&2 && uv_is_pinned "$uv"; then echo "$uv"; fi
}

if [ "${1:-}" = "--uv" ]; then
  venv="${2:?$usage}"
  [ -x "$venv/bin/python" ] || { echo "error: no environment at $venv (make sets it up)" >&2; exit 1; }
  uv="$(find_uv "$("$venv/bin/python" -c 'import sys; print(sys._base_executable)')" "$venv")"
  [ -n "$uv" ] || { echo "error: uv $UV_VERSION could not be installed" >&2; exit 1; }
  echo "$uv"
  exit 0
fi
py="${1:?$usage}"
venv="${2:?$usage}"
shift 2
groups=()
for g in "$@"; do groups+=(--group "$g"); done

if [ -x "$venv/bin/python" ] && [ "$(minor "$venv/bin/python")" != "$(minor "$py")" ]; then
  echo "$venv holds another Python: rebuilding it with $py ($(minor "$py"))"
  rm -rf "$venv"
fi
[ -x "$venv/bin/python" ] || "$py" -m venv --without-pip "$venv"     # uv fills it; the interpreter's pip serves
pip=()
if "$py" -m pip --version >/dev/null 2>&1; then pip=("$py" -m pip)
else
  "$py" -m venv "$venv" >/dev/null 2>&1 && "$venv/bin/python" -m pip --version >/dev/null 2>&1 \
    && pip=("$venv/bin/python" -m pip)
fi
uv=""
[ ${#pip[@]} -gt 0 ] && uv="$(find_uv "${pip[0]}" "$venv")"
[ -z "$uv" ] && uv_is_pinned "$(command -v uv || true)" && uv="$(command -v uv)"
if [ -n "$uv" ]; then
  cd "$root"
  UV_PROJECT_ENVIRONMENT="$venv" "$uv" sync --quiet --locked --all-extras ${groups[@]+"${groups[@]}"}
elif [ ${#pip[@]} -gt 0 ] && [ ${#groups[@]} -eq 0 ]; then
  echo "could not install uv $UV_VERSION: installing requirements.txt (uv.lock's export) with pip instead (slower)"
  "${pip[@]}" --python "$venv/bin/python" install --quiet -r "$root/requirements.txt"
  "${pip[@]}" --python "$venv/bin/python" install --quiet --no-deps -e "$root"
else
  echo "error: uv $UV_VERSION could not be installed${groups[*]:+ (groups ${*} need it)}, and pip cannot serve" >&2
  exit 1
fi
