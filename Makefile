# Two commands do everything: `make run` (execute notebooks, regenerate figures)
# and `make test` (unit tests + nbval strict). Both set up .venv first when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: run test verify lab bench clean-venv help

help:
	@echo "make run     execute every notebook in place and regenerate figures/"
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

run: $(STAMP)
	$(BIN)/python tools/run_notebooks.py

test: $(STAMP)
	$(BIN)/python -m pytest

verify: $(STAMP)
	$(BIN)/python -m derivations

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-lab.txt
	$(BIN)/jupyter lab notebooks/

clean-venv:
	rm -rf $(VENV)
