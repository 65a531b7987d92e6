# The README's two commands: `make book` builds the website, `make test` runs every test.
# Both create the virtual environment (.venv) and install everything on first use.
# Fast mode (small sizes) unless called with FULL=1, e.g. `make book FULL=1` on a GPU machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

ifdef FULL
export SSLBOOK_FAST := 0
else
export SSLBOOK_FAST := 1
endif
# No progress-bar residue in executed pages.
export SSLBOOK_PROGRESS ?= 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

CHAPTER_NOTEBOOKS = $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
NBVAL := $(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
         --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help venv book pdf test lint pytest nbval workflows serve verify-seeds plant-errors bench sync clean

help:
	@echo "make book          build the website into _build/html (executes every chapter), then make pdf"
	@echo "make pdf           the whole book as one PDF, _build/pdf/sslbook.pdf (from the executed build; Chromium)"
	@echo "make test          ruff, pytest (package, pairing, built site), nbval on every chapter, workflow checks"
	@echo "make serve         serve _build/html on http://127.0.0.1:$(PORT)/"
	@echo "make verify-seeds  run every chapter at seeds 0-9, print a chapter x seed table (local, not in CI)"
	@echo "make plant-errors  plant single wrong constants in the package, one at a time; count red chapters (local)"
	@echo "make bench         benchmarks: book build times, trainer vs a peer library, exact calculators (local)"
	@echo "make sync          regenerate each chapter's .ipynb from its .md (jupytext)"
	@echo "FULL=1             full mode (large runs, meant for a GPU)"

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $@

venv: $(STAMP)

book: $(STAMP)
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build -W -n --keep-going .
	$(MAKE) --no-print-directory pdf PDF_BUILD=_build
	@echo
	@echo "Book built: file://$(CURDIR)/_build/html/index.html  (or: make serve)"

# The book as one PDF (issue #19), printed by Debian's Chromium from the executed HTML build in
# $(PDF_BUILD)/html (nothing runs again): $(PDF_BUILD)/pdf/sslbook.pdf, copied beside the site as
# $(PDF_BUILD)/html/sslbook.pdf. Without a build, `make book` first (it ends with this step).
PDF_BUILD ?= _build
pdf: $(STAMP)
	@if [ -f $(PDF_BUILD)/html/index.html ]; then \
	  $(BIN)/python _ext/pdfbook.py --build $(PDF_BUILD) --site; \
	elif [ "$(PDF_BUILD)" = _build ]; then \
	  echo "No executed build in _build/html: make book (it ends with make pdf)"; $(MAKE) --no-print-directory book; \
	else echo "No executed build in $(PDF_BUILD)/html" >&2; exit 1; fi

lint: $(STAMP)
	$(BIN)/ruff check sslbook tests bench _ext

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

nbval: $(STAMP)
	$(NBVAL) $(CHAPTER_NOTEBOOKS)

workflows: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline .github/workflows/

test: lint pytest nbval workflows
	@echo "make test: all checks passed."

serve:
	@test -f _build/html/index.html || { echo "No build: run 'make book' first"; exit 1; }
	@echo "Serving the book at http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# Every chapter's verifications at seeds 0-9 (nbval per notebook and seed, 2 in parallel); a table, non-zero on failure.
SEEDS ?= 0,1,2,3,4,5,6,7,8,9
verify-seeds: $(STAMP)
	$(BIN)/python bench/verify_seeds.py --seeds $(SEEDS) --jobs 2

# Planted errors (issue #15): single wrong constants in the package, one at a time; which chapters turn red.
PLANT_ARGS ?=
plant-errors: $(STAMP)
	$(BIN)/python bench/plant_errors.py $(PLANT_ARGS)

# Benchmarks (not a test): prints tables, writes _build/bench/bench.json. The peer library is installed into
# _build/bench/pydeps only (bench/requirements.txt), never into the project's environment.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps --target _build/bench/pydeps -r bench/requirements.txt
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

sync: $(STAMP)
	for md in $$(grep -rl --include='*.md' '^```{code-cell}' book | grep -v '/_'); do \
	  $(BIN)/jupytext --to ipynb $$md -o $${md%.md}.ipynb; done

clean:
	rm -rf _build
