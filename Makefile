# The README's two commands: `make run` and `make test`. Both set up .venv first and
# skip whatever is already installed (the stamp is newer than pyproject.toml).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.layerlab-installed

.PHONY: run test lint bench clean setup package package-test self-test

# Packaging (README: "Installing and packaging"). Kept out of `make test`: a build takes
# about five minutes and 3 GB of disk. The bundle is built in its own venv with the CPU
# build of TensorFlow (packaging/requirements.py says why), pinned to the versions in .venv.
BUNDLE_VENV := build/bundle-venv
BUNDLE_STAMP := $(BUNDLE_VENV)/.layerlab-bundle-installed
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' gui_app/__init__.py)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB := dist/layerlab_$(VERSION)_$(DEB_ARCH).deb
PACKAGE_INPUTS := pyproject.toml $(shell find gui_app resources packaging -type f \
	-not -name '*.pyc' -not -path '*/__pycache__/*' 2>/dev/null)
DEB_LEVEL ?= 1

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/layerlab

# The window's tests run one file per process: each starts with no windows, engines or
# threads left over from the files before it. Every file runs; the failed ones are named at
# the end. (Two causes of late crashes and hangs in one long process were found and fixed:
# Qt called from Python threads, see ui/mailbox.py, and undo commands deleted twice by the
# garbage collector, see ui/controller.py clear_undo_stacks.)
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q --durations=10 tests/core tests/engine \
		tests/test_selftest.py
	@failed=""; for f in tests/ui/test_*.py; do \
		echo "== $$f"; \
		QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q $$f || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED (exit status not 0):$$failed"; exit 1; fi

lint: $(STAMP)
	$(BIN)/ruff check gui_app tests benchmarks packaging

bench: $(STAMP)
	$(BIN)/python benchmarks/summary_latency.py

self-test: $(STAMP)
	$(BIN)/layerlab --self-test

$(BUNDLE_STAMP): pyproject.toml packaging/requirements.py $(STAMP)
	@mkdir -p build
	@test -x $(BUNDLE_VENV)/bin/python || $(PYTHON) -m venv $(BUNDLE_VENV)
	$(BUNDLE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BIN)/python packaging/requirements.py > build/bundle-requirements.txt
	$(BUNDLE_VENV)/bin/python -m pip install --quiet -r build/bundle-requirements.txt
	@touch $@

$(DEB): $(BUNDLE_STAMP) $(PACKAGE_INPUTS)
	$(BUNDLE_VENV)/bin/python packaging/build_linux.py --deb-level $(DEB_LEVEL)

package: $(BUNDLE_STAMP)
	$(BUNDLE_VENV)/bin/python packaging/build_linux.py --deb-level $(DEB_LEVEL)

package-test: $(DEB)
	$(BUNDLE_VENV)/bin/python packaging/test_package.py

clean:
	rm -rf $(VENV) build dist *.egg-info
