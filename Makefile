# labourwatch: `make demo` runs the main job on embedded defaults, `make test` runs the tests.
# Both set everything up first (Debian packages where apt exists, a virtual environment, the project).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two stamps: what `make demo` needs (the project and its runtime), and what the tests add (the dev extras).
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed
# The embedding model is built once per checkout and shared by the test lanes.
export LABOURWATCH_TEST_CACHE_DIR ?= $(CURDIR)/var/test-cache
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
# Three workers (pytest-xdist) on 2 cores: the suite is isolated per test (own home, own PostgreSQL database)
# and much of it waits on PostgreSQL, subprocesses and servers — 12.4 min against 17.4 min with two workers.
PYTEST_ARGS ?= -n 3

.PHONY: setup setup-runtime system-deps system-deps-runtime demo test test-fast lint docs clean

# Everything the tests need; `make demo` sets up only what the main job needs (no chromium, no test tools).
# The Debian packages and the Python environment are installed side by side (-j2).
setup:
	@$(MAKE) --no-print-directory -j2 system-deps $(STAMP)
setup-runtime:
	@$(MAKE) --no-print-directory -j2 system-deps-runtime $(RUNTIME_STAMP)

# fonts-noto-cjk: CJK text in charts and the PDF brief; libharfbuzz-subset0: fast font subsetting in
# WeasyPrint (both for the main job); poppler-utils: pdftotext/pdftoppm/pdffonts in tests; chromium: sources
# crawled with `render: true` (scrapy-playwright) and the dashboard's browser test (Playwright for Python), both
# driving Debian's chromium (`playwright install` is never needed).
system-deps:
	@$(MAKE) --no-print-directory apt-need NEED_TOOLS="pdftoppm chromium"
system-deps-runtime:
	@$(MAKE) --no-print-directory apt-need NEED_TOOLS=""

# Installs, with apt where it exists, the runtime's Debian packages and the package of each tool in NEED_TOOLS
# (the tool and its package share a name, except pdftoppm from poppler-utils).
.PHONY: apt-need
apt-need:
	@if command -v apt-get >/dev/null 2>&1; then \
	  need=""; \
	  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need="$$need fonts-noto-cjk"; \
	  ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need="$$need libharfbuzz-subset0"; \
	  for tool in $(NEED_TOOLS); do \
	    command -v $$tool >/dev/null 2>&1 || need="$$need $$( [ $$tool = pdftoppm ] && echo poppler-utils || echo $$tool )"; \
	  done; \
	  if [ -n "$$need" ]; then \
	    echo "installing Debian packages:$$need"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need >/dev/null; \
	  fi; \
	else echo "no apt-get: install a CJK font (Noto Sans CJK), poppler-utils and chromium yourself"; fi

# pip installs torch (pinned to 2.13.0, the CPU build: a plain resolve would pull a multi-GB CUDA build; without
# byte-compiling its files, 8 s against 20 s), then uv installs the project: 15 s against pip's 100 s for the
# same 236 packages on a fresh machine. uv keeps the torch already installed, since the pin is exact.
$(RUNTIME_STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip "uv>=0.9"
	$(BIN)/pip install -q --no-compile torch==2.13.0
	$(BIN)/uv pip install -q --python $(BIN)/python -e .
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP)
	$(BIN)/uv pip install -q --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

demo: setup-runtime
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
