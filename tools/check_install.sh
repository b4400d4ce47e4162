#!/usr/bin/env bash
# `pip install .` into a clean, temporary venv, then use the library from outside the checkout: what a reader
# who wants only the library gets (no notebooks, no pinned requirements). The venv must then hold NumPy and
# the package alone; `python -m derivations` must say what to install; after `pip install '.[companion]'` it runs.
#   tools/check_install.sh [PYTHON]      (default: the newest supported python3.x on PATH)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${1:-$(bash "$root/tools/find_python.sh")}"
bash "$root/tools/find_python.sh" --check "$py"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
vpy="$tmp/venv/bin/python"
"$vpy" -m pip install --quiet --disable-pip-version-check "$root"
cd "$tmp"                                   # away from the checkout: the installed copy is imported
"$vpy" -m pip show soft-targets-companion | grep -E '^(Name|Version|License-Expression|Requires):'
# what pip installed: NumPy and the package, beside the venv's own installer (pip; setuptools on Python 3.11)
installed="$("$vpy" -m pip list --format=freeze --disable-pip-version-check | cut -d= -f1 | tr 'A-Z_' 'a-z-' \
             | grep -vxE 'pip|setuptools|wheel' | sort | paste -sd' ')"
if [ "$installed" != "numpy soft-targets-companion" ]; then
  echo "FAILED: pip install . should bring NumPy and the package only; the venv holds: $installed" >&2; exit 1
fi
size="$(du -sm "$tmp/venv" | cut -f1)"
echo "pip install . installed: $installed ($size MB venv, pip included)"
"$vpy" - "$tmp/venv" <<'PY'
import importlib.metadata, pathlib, sys
import derivations
from derivations import flip_labels, log_sum_exp, smoothed_cross_entropy
import numpy as np
assert pathlib.Path(derivations.__file__).is_relative_to(sys.argv[1]), derivations.__file__
assert importlib.metadata.version("soft-targets-companion") == derivations.__version__
z, y = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, -np.inf]]), np.array([0, -100])
loss = smoothed_cross_entropy(z, y, label_smoothing=0.1)
flips = flip_labels(np.zeros(1000, dtype=int), 3, 0.1, np.random.default_rng(0))
for gone in ("sympy", "mpmath", "matplotlib", "sklearn", "scipy"):
    assert gone not in sys.modules, gone
print(f"imported {derivations.__name__} {derivations.__version__} from the venv; "
      f"log_sum_exp([0, 0]) = {float(log_sum_exp([0.0, 0.0])):.6f}, smoothed loss (mean, row 2 ignored) "
      f"{float(loss):.6f}, {int((flips != 0).sum())} of 1000 labels flipped")
PY
# without the companion, python -m derivations names what to install (exit 1, one line)
if msg="$("$vpy" -m derivations --jobs 1 2>&1)"; then echo "FAILED: python -m derivations ran without SymPy" >&2; exit 1; fi
grep -q "pip install 'soft-targets-companion\[companion\]'" <<<"$msg" || { echo "FAILED: unexpected: $msg" >&2; exit 1; }
echo "python -m derivations without the companion: $msg"
"$vpy" -m pip install --quiet --disable-pip-version-check "$root[companion]"
# the companion brings neither scikit-learn nor SciPy: chapter 5's digits ship in the package, with their credit
"$vpy" - "$tmp/venv" <<'PY'
import importlib.util, pathlib, sys
from derivations.chapters.ch5 import digits
for gone in ("sklearn", "scipy"):
    assert importlib.util.find_spec(gone) is None, f"the companion installed {gone}"
X, y = digits.load()
assert pathlib.Path(digits.data_file()).is_relative_to(sys.argv[1]) and digits.data_file().with_name("digits.md").is_file()
print(f"chapter 5's digits from the installed package: {X.shape[0]} images, {digits.data_file().stat().st_size:,} bytes")
PY
"$vpy" -m derivations --jobs 1 | tail -1     # the claims and the note's transcription ship too
echo "pip install . into a clean venv ($("$py" -c 'import sys; print("Python %d.%d" % sys.version_info[:2])')): ok"
