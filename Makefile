# The README's two commands: `make run` and `make test`. Both set up .venv first and
# skip whatever is already installed (the stamp is newer than pyproject.toml).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.layerlab-installed

.PHONY: run test lint bench clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/layerlab

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check gui_app tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/summary_latency.py

clean:
	rm -rf $(VENV) build *.egg-info
