# Two commands do everything: `make run` (execute notebooks, regenerate figures)
# and `make test` (unit tests + nbval strict). Both set up .venv first when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: run html screenshot test verify lab bench clean-venv help

help:
	@echo "make run     execute every notebook in place and regenerate figures/"
	@echo "make run K=1000 EPS=0.05   the same with your values, into build/runs/ (committed files untouched)"
	@echo "make html    render the notebooks into an offline site in build/html/"
	@echo "make bench   run the benchmarks in benchmarks/"
	@echo "make test    unit tests, doctests and nbval (strict) on every notebook"
	@echo "make verify  print the verdict of every claim (python -m derivations)"
	@echo "make lab     install JupyterLab into .venv and start it"

# (Re)create the virtual environment when a requirements file changes.
$(STAMP): requirements.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@# the package itself, "editable": a .pth file pointing at this checkout (no build step)
	@$(BIN)/python -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "soft_targets_companion.pth").write_text("$(CURDIR)\n")'
	@touch $@

# `make run K=1000 EPS=0.05 [SEED=1]`: run every chapter with these values into build/runs/<values>/
empty :=
space := $(empty) $(empty)
RUN_VALUES   := $(strip $(if $(K),K=$(K)) $(if $(EPS),EPS=$(EPS)) $(if $(SEED),SEED=$(SEED)))
RUN_SETTINGS := $(addprefix --set ,$(RUN_VALUES))
RUN_OUT      := $(if $(RUN_VALUES),--out build/runs/$(subst $(space),_,$(RUN_VALUES)))

run: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(RUN_SETTINGS) $(RUN_OUT)
ifneq ($(RUN_VALUES),)
	$(BIN)/python tools/build_html.py --notebooks build/runs/$(subst $(space),_,$(RUN_VALUES)) --out build/runs/$(subst $(space),_,$(RUN_VALUES))/html
endif

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

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-lab.txt
	$(BIN)/jupyter lab notebooks/

clean-venv:
	rm -rf $(VENV)
