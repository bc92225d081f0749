# labourwatch: `make demo` runs the main job on embedded defaults, `make test` runs the tests.
# Both set everything up first (Debian packages where apt exists, a virtual environment, the project).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The embedding model is built once per checkout and shared by the test lanes.
export LABOURWATCH_TEST_CACHE_DIR ?= $(CURDIR)/var/test-cache
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
# Three workers (pytest-xdist) on 2 cores: the suite is isolated per test (own home, own PostgreSQL database)
# and much of it waits on PostgreSQL, subprocesses and servers — 12.4 min against 17.4 min with two workers.
PYTEST_ARGS ?= -n 3

.PHONY: setup system-deps demo test test-fast lint docs clean

setup: system-deps $(STAMP)

# fonts-noto-cjk: CJK text in charts and the PDF brief; libharfbuzz-subset0: fast font subsetting in
# WeasyPrint; poppler-utils: pdftotext/pdftoppm/pdffonts in tests; chromium: sources crawled with
# `render: true` (scrapy-playwright) and the dashboard's browser test (Playwright for Python), both driving
# Debian's chromium (`playwright install` is never needed).
system-deps:
	@if command -v apt-get >/dev/null 2>&1; then \
	  need=""; \
	  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need="$$need fonts-noto-cjk"; \
	  command -v pdftoppm >/dev/null 2>&1 || need="$$need poppler-utils"; \
	  ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need="$$need libharfbuzz-subset0"; \
	  command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	  if [ -n "$$need" ]; then \
	    echo "installing Debian packages:$$need"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need >/dev/null; \
	  fi; \
	else echo "no apt-get: install a CJK font (Noto Sans CJK), poppler-utils and chromium yourself"; fi

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned to the CPU build: a plain resolve would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(BIN)/labourwatch demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: setup lint
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

# The documentation site (MkDocs Material, offline, strict) in var/site: open var/site/index.html.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache .grimp_cache .import_linter_cache .hypothesis
