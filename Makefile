# Clearance: one command to see the handbook, one to run every test.
#   make handbook    set up .venv with what the handbook needs, validate the repository,
#                    build and serve the handbook
#   make test        add the test tools to .venv (and Debian's chromium where apt-get can
#                    install it) and run the whole test suite
#   make test-fast   the tests that take seconds: no wheel or site builds, no browser
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# One stamp per set of packages, so 'make test' after 'make handbook' adds the test tools.
RUNTIME_STAMP := $(VENV)/.clearance-runtime
TEST_STAMP    := $(VENV)/.clearance-test
HOST   ?= 127.0.0.1:8000
# The browser the browser tests drive (tests/site_browser_test.py reads the same variable).
CLEARANCE_CHROMIUM ?= chromium
# mkdocs-material prints a banner about its end of life on every build; it is noise here.
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup check handbook build test test-fast browser pdf-tools lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Clearance needs Python 3.11 or newer")'
	@echo "==> Creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# pip is not --quiet here: it prints each package as it collects and installs it.
$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing Clearance and what the handbook needs into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing Clearance with its test tools into $(VENV) (pytest, Playwright, mypy, ruff, ...)"
	$(BIN)/python -m pip install --progress-bar on -e '.[test,bench]'
	@touch $@ $(RUNTIME_STAMP)

setup: $(RUNTIME_STAMP)

check: setup
	$(BIN)/clearance check

build: check
	$(BIN)/mkdocs build --strict

handbook: check
	$(BIN)/mkdocs serve --strict --dev-addr $(HOST)

# Debian's chromium, installed with apt-get where that works (root on Debian, as in CI).
# Elsewhere one line says what to install and the browser tests skip, except under
# CI=true, where a browser test that cannot run fails.
browser:
	@command -v '$(CLEARANCE_CHROMIUM)' >/dev/null 2>&1 && exit 0; \
	if [ "$$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "==> Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0; \
	fi; \
	case "$${CI:-}" in 1|true|True|TRUE|yes|Yes|YES) \
	  echo "make browser: '$(CLEARANCE_CHROMIUM)' not found and apt-get cannot install it; CI runs the browser tests, so this fails" >&2; \
	  exit 1;; \
	esac; \
	echo "Browser tests will skip: install Chromium (Debian: sudo apt-get install chromium) or set CLEARANCE_CHROMIUM to its path."

# Debian's Pango (WeasyPrint prints evidence packs through it; fonts-dejavu-core is the
# font the packs embed) and poppler-utils (the evidence tests read the PDFs back with
# pdftotext, pdftoppm and pdffonts), installed with apt-get where that works. Elsewhere
# one line says what to install and the PDF tests skip, except under CI=true.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils
pdf-tools:
	@{ ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' && command -v pdftotext >/dev/null 2>&1 \
	  && [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; } && exit 0; \
	if [ "$$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "==> Installing Debian's Pango, DejaVu fonts and poppler-utils for evidence packs"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null && exit 0; \
	fi; \
	case "$${CI:-}" in 1|true|True|TRUE|yes|Yes|YES) \
	  echo "make pdf-tools: Pango or poppler-utils missing and apt-get cannot install them; CI runs the evidence PDF tests, so this fails" >&2; \
	  exit 1;; \
	esac; \
	echo "Evidence PDF tests will skip: install $(PDF_PACKAGES) (Debian: sudo apt-get install ...)."

test: $(TEST_STAMP) browser pdf-tools
	$(BIN)/python -m pytest

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: $(TEST_STAMP)
	$(BIN)/ruff check tools tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) site .pytest_cache build dist
