#!/usr/bin/env bash
# `pip install .` into a clean, temporary venv, then use the library from outside the checkout:
# what a reader who wants only the library gets (no notebooks, no pinned requirements).
#   tools/check_install.sh [PYTHON]      (default: the newest supported python3.x on PATH)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${1:-$(bash "$root/tools/find_python.sh")}"
bash "$root/tools/find_python.sh" --check "$py"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$root"
cd "$tmp"                                   # away from the checkout: the installed copy is imported
"$tmp/venv/bin/python" -m pip show soft-targets-companion | grep -E '^(Name|Version|License-Expression|Requires):'
"$tmp/venv/bin/python" - "$tmp/venv" <<'PY'
import importlib.metadata, pathlib, sys
import derivations
from derivations import flip_labels, log_sum_exp, smoothed_cross_entropy
import numpy as np
assert pathlib.Path(derivations.__file__).is_relative_to(sys.argv[1]), derivations.__file__
assert importlib.metadata.version("soft-targets-companion") == derivations.__version__
loss = smoothed_cross_entropy(np.array([[2.0, 0.0, -1.0]]), np.array([0]), 0.1)
flips = flip_labels(np.zeros(1000, dtype=int), 3, 0.1, np.random.default_rng(0))
print(f"imported {derivations.__name__} {derivations.__version__} from the venv; "
      f"log_sum_exp([0, 0]) = {float(log_sum_exp([0.0, 0.0])):.6f}, smoothed loss {float(loss[0]):.6f}, "
      f"{int((flips != 0).sum())} of 1000 labels flipped")
PY
"$tmp/venv/bin/python" -m derivations --jobs 1 | tail -1     # the claims and the note's transcription ship too
echo "pip install . into a clean venv ($("$py" -c 'import sys; print("Python %d.%d" % sys.version_info[:2])')): ok"
