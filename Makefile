# Two commands do everything: `make run` (execute notebooks, regenerate figures)
# and `make test` (unit tests + nbval strict). Both set up .venv first when needed (uv sync from uv.lock).
# The inner loop while editing: `make check` (no browser, nothing slow).
# Python: the newest supported python3.x on PATH (tools/find_python.sh), or the one named by PYTHON=...
# The supported range has one home: requires-python in pyproject.toml.
PYTHON ?= $(shell bash tools/find_python.sh)
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(PYVER)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
# Python keeps what it compiles (__pycache__, which git ignores) even where PYTHONDONTWRITEBYTECODE is set, as on this
# project's machines: uv installs no .pyc files, and with none written every kernel and test process compiled SymPy
# from source again (`import sympy` 4.7 s against 1.0 s; docs/measurements.md)
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run sweep html serve pdf screenshot test check system test-pythons check-install crosscheck verify mutants lab lock
.PHONY: check-wheels bench clean distclean help

help:
	@echo "make run     execute every notebook in place and regenerate figures/"
	@echo "make run K=1000 EPS=0.05   the same with your values, into build/runs/ (committed files untouched);"
	@echo "            any parameter of derivations/engine/parameters.py; CHAPTERS=1,2,3 to run only those; BOOK=0: no book"
	@echo "make sweep  the README's examples, then every chapter over value sets across the valid range (printed seed)"
	@echo "make html    the book: the notebooks as an offline site (Sphinx) in build/html/"
	@echo "make serve   the book over HTTP at http://127.0.0.1:8000/ (PORT=... make serve): its derivations run in the page"
	@echo "make pdf     the corrected note and the whole book as PDF in build/pdf/ (headless Chromium)"
	@echo "make bench   run the benchmarks in benchmarks/"
	@echo "make test    unit tests, doctests and nbval (strict) on every notebook, the book in a headless browser"
	@echo "make check   the same without the browser and the slow tests: the inner loop while editing"
	@echo "make system  install Chromium, npm and poppler (apt-get; sudo unless root): without them the browser tests skip"
	@echo "make check-install   pip install . into a clean venv and use the library from outside the checkout"
	@echo "make crosscheck   targets, losses and gradients against JAX/optax and PyTorch, installed into .venv-crosscheck"
	@echo "make test-pythons   make test on every supported Python found here ($$(bash tools/find_python.sh --range))"
	@echo "            PYTHON=python3.12 make ...   use that interpreter (.venv is rebuilt for it)"
	@echo "make verify  print the verdict of every claim (soft-targets, or python -m derivations)"
	@echo "make mutants every wrong variant of every claim's formulas, and which ones its check misses"
	@echo "make lab     install JupyterLab into .venv and start it (as root: with --allow-root)"
	@echo "make lock    rewrite uv.lock from pyproject.toml, then requirements.txt and binder/requirements.txt from it (uv)"
	@echo "make check-wheels   every pin has a wheel for each supported Python (network)"
	@echo "make clean   remove build/ and the caches (not .venv); make distclean: .venv and the other venvs too"

# (Re)create the virtual environment when the lock, pyproject.toml or the Python changes: tools/setup_venv.sh runs
# `uv sync --locked` (uv.lock: every transitive version pinned), which installs the default group (`test`, with `run`
# and `book`) and the package itself, editable; the uv is the version pinned there (pip-installed beside the venv,
# in $(VENV)/.uv, when PATH has not that one).
$(STAMP): uv.lock pyproject.toml tools/setup_venv.sh
	@bash tools/find_python.sh --check "$(PYTHON)"
	bash tools/setup_venv.sh "$(PYTHON)" "$(VENV)"
	@# the .pth file that made the package importable before it was pip-installed (issue 11)
	@rm -f "$$($(BIN)/python -c 'import site; print(site.getsitepackages()[0])')/soft_targets_companion.pth"
	@rm -f $(VENV)/.installed $(VENV)/.installed-*
	@touch $@

# Values are data, never shell: every NAME=value given on make's command line (except the Makefile's own: PYTHON,
# VENV, CHROMIUM) is handed to the runner through the environment, exactly as typed (`$(value ...)`: make expands
# nothing in it, and no recipe pastes it into a command line), with the list of those names, so that an unknown
# name is refused rather than dropped; a parameter set in the environment (`K=37 make run`) is honoured the same
# way. `make run K=1000 EPS=0.05 [SEED=1 N_MC=...] [CHAPTERS=1,2,3] [JOBS=1] [BOOK=0]`: the runner checks every
# value against derivations/engine/parameters.py before any notebook runs and writes into build/runs/<values>/
# (notebooks, figures, and the book unless BOOK=0); the targets that read no parameter refuse one.
OWN_VARS  := PYTHON VENV CHROMIUM
# the Chromium the browser tests drive (book/browser.py: find_chromium), when given: `make test CHROMIUM=...`
ifdef CHROMIUM
export CHROMIUM
endif
RUN_NAMES := $(strip $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $v)),$(if $(filter $v,$(OWN_VARS)),,$v))))
$(foreach v,$(RUN_NAMES),$(eval override $v := $$(value $v))$(eval export $v))
export DERIVATIONS_MAKE_NAMES := $(RUN_NAMES)
NO_VALUES = @$(BIN)/python tools/run_notebooks.py --refuse-values "make $@"

run: $(STAMP)
	$(BIN)/python tools/run_notebooks.py --environment

# every README example as written, then chapters over value sets drawn across the valid range (from a seed it
# prints), partial chapter sets with their book, and the wheels of every pin for each supported Python
sweep: $(STAMP)
	$(NO_VALUES)
	@command -v npm >/dev/null || bash tools/ensure_system.sh npm
	$(BIN)/python -m audit.sweep --markdown build/sweep/table.md --environment

html: $(STAMP)
	$(NO_VALUES)
	@command -v npm >/dev/null || bash tools/ensure_system.sh npm
	$(BIN)/python -m book.builder

# the book over HTTP, on this machine only (127.0.0.1): a derivation cell runs in the page (Pyodide, in a worker),
# which a page opened as a file may not start. Built first when build/html has no book (`make html` rebuilds it).
# Python's own server, told the types Pyodide's files need (.mjs as JavaScript, .wasm as WebAssembly).
serve: $(STAMP)
	$(NO_VALUES)
	@test -f build/html/index.html || $(MAKE) --no-print-directory html
	@echo "serving build/html at http://127.0.0.1:$${PORT:-8000}/ (Ctrl+C stops)"
	@$(BIN)/python -c 'import functools, http.server as h, sys; \
	  h.SimpleHTTPRequestHandler.extensions_map.update({".mjs": "text/javascript", ".wasm": "application/wasm"}); \
	  h.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), functools.partial(h.SimpleHTTPRequestHandler, \
	    directory="build/html")).serve_forever()' "$${PORT:-8000}"

pdf: $(STAMP)
	$(NO_VALUES)
	@PYTHON=$(BIN)/python bash tools/ensure_system.sh
	$(BIN)/python -m book.builder --pdf build/pdf

screenshot: $(STAMP)
	bash tools/screenshot.sh

bench: $(STAMP)
	$(NO_VALUES)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The test files shared among the cores (pytest-xdist), one file per worker, in the order conftest.py gives them
# (longest first), not by their number of tests. A bare `pytest tests/test_x.py` runs in one process.
XDIST := -n auto --dist loadfile --no-loadscope-reorder

# Chromium, npm and poppler are installed first where this runs as root (CI, a container: tools/ensure_system.sh);
# elsewhere nothing is installed (no sudo, no password) and the browser tests skip, naming `make system`.
test: $(STAMP)
	$(NO_VALUES)
	@PYTHON=$(BIN)/python bash tools/ensure_system.sh --if-root
	$(BIN)/python -m pytest $(XDIST)

# the inner loop: every test but those that drive the browser or are slow (copies of the repository, whole books,
# many kernels); the notebooks under nbval included. `make test` runs them all.
check: $(STAMP)
	$(NO_VALUES)
	$(BIN)/python -m pytest $(XDIST) -m "not browser and not slow"

# what `make test` leaves to you when not root: Chromium, npm and poppler-utils, with apt-get (sudo, which asks)
system:
	@PYTHON=$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) bash tools/ensure_system.sh --sudo

# `pip install .` into a clean temporary venv, and the library used from outside the checkout
check-install:
	bash tools/check_install.sh $(PYTHON)

# JAX, optax and PyTorch (CPU, pinned: requirements-crosscheck.txt) in their own environment (never .venv),
# installed with pip, which takes the CPU build of torch on this machine's disk (uv would fetch a CUDA build, and
# so torch stays out of uv.lock); the packages that uv.lock pins too (NumPy, SymPy, ...) at its versions, through
# its export requirements.txt as constraints; re-created from scratch when its requirements, the lock's export or
# the Python change; then this package, editable, so one process imports all of them.
XVENV  := .venv-crosscheck
XSTAMP := $(XVENV)/.installed-$(PYVER)
$(XSTAMP): requirements-crosscheck.txt requirements.txt pyproject.toml
	@bash tools/find_python.sh --check "$(PYTHON)"
	rm -rf $(XVENV)
	$(PYTHON) -m venv $(XVENV)
	$(XVENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-crosscheck.txt -c requirements.txt
	$(XVENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# this package's targets, losses and gradients against optax's and PyTorch's, float32 and float64
# (audit/crosscheck.py); the library's speed against torch's on the same threads: benchmarks/bench_smoothing.py
crosscheck: $(XSTAMP)
	$(XVENV)/bin/python -m audit.crosscheck

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
	$(NO_VALUES)
	$(BIN)/python -m derivations

mutants: $(STAMP)
	$(NO_VALUES)
	$(BIN)/python -m audit.mutation --all

# JupyterLab (the `lab` group of uv.lock, synced with the default one), then started on notebooks/; as root
# (containers, CI images) with --allow-root, which JupyterLab otherwise asks for, and a notice. LAB_ARGS: more of
# JupyterLab's options.
LABSTAMP := $(VENV)/.lab-installed
$(LABSTAMP): $(STAMP)
	bash tools/setup_venv.sh "$(PYTHON)" "$(VENV)" lab
	@touch $@

lab: $(LABSTAMP)
	$(NO_VALUES)
	@root=; if [ "$$(id -u)" = 0 ]; then root=--allow-root; \
	  echo "note: running as root, so JupyterLab starts with --allow-root (it refuses root otherwise)"; fi; \
	  set -x; exec $(BIN)/jupyter lab $$root $$LAB_ARGS notebooks/

# uv.lock from pyproject.toml (uv, network), then its exports (requirements.txt, binder/requirements.txt); and the
# check that every pin has a wheel for each supported Python, 3.14 included (network; not in `make test`: it is the
# package index that is checked, not this code; `make sweep` and .ci/run run it)
lock: $(STAMP)
	bash tools/lock.sh "$$(bash tools/setup_venv.sh --uv $(VENV))"

check-wheels: $(STAMP)
	bash tools/lock.sh "$$(bash tools/setup_venv.sh --uv $(VENV))" --check-wheels

# what builds and runs leave (the book, runs, PDFs, the npm packages fetched for the book, caches); not the venvs
clean:
	rm -rf build dist .pytest_cache .ruff_cache .hypothesis *.egg-info
	find . -path ./.venv -prune -o -path ./.venvs -prune -o -path ./.venv-crosscheck -prune -o -path ./.git -prune \
	  -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .venvs .venv-crosscheck
