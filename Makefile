# Two commands do everything: `make run` (execute notebooks, regenerate figures)
# and `make test` (unit tests + nbval strict). Both set up .venv first when needed.
# Python: the newest supported python3.x on PATH (tools/find_python.sh), or the one named by PYTHON=...
# The supported range has one home: requires-python in pyproject.toml.
PYTHON ?= $(shell bash tools/find_python.sh)
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(PYVER)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: run sweep html pdf screenshot test test-pythons check-install crosscheck verify mutants lab bench clean-venv help

help:
	@echo "make run     execute every notebook in place and regenerate figures/"
	@echo "make run K=1000 EPS=0.05   the same with your values, into build/runs/ (committed files untouched);"
	@echo "            any parameter of derivations/engine/parameters.py; CHAPTERS=1,2,3 to run only those"
	@echo "make sweep  every chapter over a grid of values (edges, K 2..1000, seeds, random draws)"
	@echo "make html    the book: the notebooks as an offline site (Sphinx) in build/html/"
	@echo "make pdf     the corrected note and the whole book as PDF in build/pdf/ (headless Chromium)"
	@echo "make bench   run the benchmarks in benchmarks/"
	@echo "make test    unit tests, doctests and nbval (strict) on every notebook"
	@echo "make check-install   pip install . into a clean venv and use the library from outside the checkout"
	@echo "make crosscheck   targets, losses and gradients against JAX/optax and PyTorch, installed into .venv-crosscheck"
	@echo "make test-pythons   make test on every supported Python found here ($$(bash tools/find_python.sh --range))"
	@echo "            PYTHON=python3.12 make ...   use that interpreter (.venv is rebuilt for it)"
	@echo "make verify  print the verdict of every claim (python -m derivations)"
	@echo "make mutants every wrong variant of every claim's formulas, and which ones its check misses"
	@echo "make lab     install JupyterLab into .venv and start it"

# (Re)create the virtual environment when a requirements file or the Python changes, then install the
# pinned requirements and the package itself with pip, editable (`pip show soft-targets-companion`).
$(STAMP): requirements.txt constraints.txt pyproject.toml
	@bash tools/find_python.sh --check "$(PYTHON)"
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PYVER)" ]; \
	  then echo "$(VENV) holds another Python: rebuilding it with $(PYTHON) ($(PYVER))"; rm -rf $(VENV); fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# the .pth file that made the package importable before it was pip-installed (issue 11)
	@rm -f "$$($(BIN)/python -c 'import site; print(site.getsitepackages()[0])')/soft_targets_companion.pth"
	@rm -f $(VENV)/.installed $(VENV)/.installed-*
	@touch $@

# `make run K=1000 EPS=0.05 [SEED=1 N_MC=...] [CHAPTERS=1,2,3]`: every NAME=value given on the command line
# (except the Makefile's own PYTHON, VENV, CHAPTERS, JOBS) goes to the runner, which checks it against
# derivations/engine/parameters.py before any notebook runs and writes into build/runs/<values>/ (notebooks, figures, html).
OWN_VARS     := PYTHON VENV CHAPTERS JOBS
RUN_SETTINGS := $(strip $(foreach v,$(sort $(.VARIABLES)),$(if $(filter command line,$(origin $v)),$(if $(filter $v,$(OWN_VARS)),,--set $v=$($v)))))

run: $(STAMP)
	@$(if $(RUN_SETTINGS),command -v npm >/dev/null || bash tools/ensure_system.sh,true)
	$(BIN)/python tools/run_notebooks.py $(RUN_SETTINGS) $(if $(CHAPTERS),--chapters $(CHAPTERS)) $(if $(JOBS),--jobs $(JOBS)) $(if $(RUN_SETTINGS),--html)

# every chapter over a grid of value sets (edges, K from 2 to 1000, several seeds, random draws)
sweep: $(STAMP)
	@command -v npm >/dev/null || bash tools/ensure_system.sh
	$(BIN)/python tools/sweep.py --markdown build/sweep/table.md $(if $(JOBS),--jobs $(JOBS))

html: $(STAMP)
	@command -v npm >/dev/null || bash tools/ensure_system.sh
	$(BIN)/python tools/book.py

pdf: $(STAMP)
	@bash tools/ensure_system.sh
	$(BIN)/python tools/book.py --pdf build/pdf

screenshot: $(STAMP)
	bash tools/screenshot.sh

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

test: $(STAMP)
	bash tools/ensure_system.sh
	$(BIN)/python -m pytest

# `pip install .` into a clean temporary venv, and the library used from outside the checkout
check-install:
	bash tools/check_install.sh $(PYTHON)

# JAX, optax and PyTorch (CPU, pinned: requirements-crosscheck.txt) in their own environment (never .venv),
# installed with pip, which takes the CPU build of torch on this machine's disk (uv would fetch a CUDA build);
# re-created from scratch when its requirements, the package's pins or the Python change; then this package,
# editable, so one process imports all of them.
XVENV  := .venv-crosscheck
XSTAMP := $(XVENV)/.installed-$(PYVER)
$(XSTAMP): requirements-crosscheck.txt requirements.txt constraints.txt pyproject.toml
	@bash tools/find_python.sh --check "$(PYTHON)"
	rm -rf $(XVENV)
	$(PYTHON) -m venv $(XVENV)
	$(XVENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-crosscheck.txt -c constraints.txt
	$(XVENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# this package's targets, losses and gradients against optax's and PyTorch's, float32 and float64
# (tools/crosscheck.py); the library's speed against torch's on the same threads: benchmarks/bench_smoothing.py
crosscheck: $(XSTAMP)
	$(XVENV)/bin/python tools/crosscheck.py

# `make test` with every supported interpreter found (PATH, then pyenv), each in its own venv (.venvs/3.x;
# the one .venv already holds is reused). Stops at the first failure and says which Python it was.
test-pythons:
	@found="$$(bash tools/find_python.sh --all)"; [ -n "$$found" ] || { echo "no supported Python found"; exit 1; }; \
	for py in $$found; do \
	  v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); venv=.venvs/$$v; \
	  if [ -x .venv/bin/python ] && [ "$$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$$v" ]; then venv=.venv; fi; \
	  echo "== Python $$v ($$py) in $$venv"; \
	  $(MAKE) --no-print-directory test PYTHON=$$py VENV=$$venv || { echo "make test FAILED on Python $$v ($$py)"; exit 1; }; \
	done; echo "make test passed on Python $$(echo $$found | xargs -n1 sh -c '"$$0" -c "import sys; print(\"%d.%d\" % sys.version_info[:2])"' | paste -sd' ')"

verify: $(STAMP)
	$(BIN)/python -m derivations

mutants: $(STAMP)
	$(BIN)/python -m derivations mutants --all

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-lab.txt
	$(BIN)/jupyter lab notebooks/

clean-venv:
	rm -rf $(VENV) .venvs
