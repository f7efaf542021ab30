# Clearance: one command to see the handbook, one to run every test.
#   make handbook   set up, validate the repository, build and serve the handbook
#   make test       set up and run the whole test suite (installs Chromium if missing)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.clearance-installed
HOST   ?= 127.0.0.1:8000
# mkdocs-material prints a banner about a future MkDocs 2.0 on every build; it is noise here.
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup check handbook build test browser lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Clearance needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@

setup: $(STAMP)

check: setup
	$(BIN)/clearance check

build: check
	$(BIN)/mkdocs build --strict

handbook: check
	$(BIN)/mkdocs serve --strict --dev-addr $(HOST)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check tools tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) site .pytest_cache build dist
