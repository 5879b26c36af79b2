# The two commands of the README:
#   make demo   # set up, prepare the embedded model, run the main job (RLSP on the embedded default)
#   make test   # set up, run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
export RLSP_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: setup demo test lint format clean-venv

setup:
	@VENV=$(VENV) bash scripts/setup_env.sh

demo: setup
	$(VENV)/bin/rlsp demo $(ARGS)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean-venv:
	rm -rf $(VENV)
