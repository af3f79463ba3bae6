# Two doors: `make demo` and `make test`. Each creates .venv and installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-demo

# `make test` (and lint, format, bench) installs the test extra, which includes the demo's;
# `make demo` needs only the demo extra.
define install
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "flagbot needs Python >= 3.11: '$(PYTHON)' is missing or older (try make PYTHON=python3.12)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[$(1)]'
	@touch $@
endef

$(STAMP): pyproject.toml
	$(call install,test)

$(DEMO_STAMP): pyproject.toml
	$(call install,demo)

demo: $(DEMO_STAMP)
	$(BIN)/flagbot demo

test: $(STAMP)
	$(BIN)/python -m pytest -n auto -q

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

format: $(STAMP)
	$(BIN)/ruff format bot tests bench
	$(BIN)/ruff check --fix bot tests bench

# Every benchmark runs, even after one misses its goal; the exit status says whether any did.
bench: $(STAMP)
	@failed=""; for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "missed a goal or failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
