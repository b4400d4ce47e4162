# Two commands do everything: `make run` (execute notebooks, regenerate figures)
# and `make test` (unit tests + nbval strict). Both set up .venv first when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: run sweep html screenshot test verify mutants lab bench clean-venv help

help:
	@echo "make run     execute every notebook in place and regenerate figures/"
	@echo "make run K=1000 EPS=0.05   the same with your values, into build/runs/ (committed files untouched);"
	@echo "            any parameter of derivations/parameters.py; CHAPTERS=1,2,3 to run only those"
	@echo "make sweep  every chapter over a grid of values (edges, K 2..1000, seeds, random draws)"
	@echo "make html    render the notebooks into an offline site in build/html/"
	@echo "make bench   run the benchmarks in benchmarks/"
	@echo "make test    unit tests, doctests and nbval (strict) on every notebook"
	@echo "make verify  print the verdict of every claim (python -m derivations)"
	@echo "make mutants every wrong variant of every claim's formulas, and which ones its check misses"
	@echo "make lab     install JupyterLab into .venv and start it"

# (Re)create the virtual environment when a requirements file changes.
$(STAMP): requirements.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@# the package itself, "editable": a .pth file pointing at this checkout (no build step)
	@$(BIN)/python -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "soft_targets_companion.pth").write_text("$(CURDIR)\n")'
	@touch $@

# `make run K=1000 EPS=0.05 [SEED=1 N_MC=...] [CHAPTERS=1,2,3]`: every NAME=value given on the command line
# (except the Makefile's own PYTHON, CHAPTERS, JOBS) goes to the runner, which checks it against
# derivations/parameters.py before any notebook runs and writes into build/runs/<values>/ (notebooks, figures, html).
OWN_VARS     := PYTHON CHAPTERS JOBS
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
	$(BIN)/python tools/build_html.py

screenshot: html
	bash tools/screenshot.sh

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

test: $(STAMP)
	bash tools/ensure_system.sh
	$(BIN)/python -m pytest

verify: $(STAMP)
	$(BIN)/python -m derivations

mutants: $(STAMP)
	$(BIN)/python -m derivations.mutation --all

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-lab.txt
	$(BIN)/jupyter lab notebooks/

clean-venv:
	rm -rf $(VENV)
