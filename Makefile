# Set-up and everyday commands. Needs only Python 3.11+ (`make run`, `make test`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto --dist loadgroup

# Installs happen only when pyproject.toml is newer than these stamps.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install lint typecheck demo serve clean

run: $(STAMP)
	$(BIN)/teahub demo
	$(BIN)/teahub serve --host $(HOST) --port $(PORT)

# Exit status 5 (no tests collected) is a failure, said out loud.
test: $(TEST_STAMP)
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; fi; \
	exit $$status

install: $(STAMP)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests

typecheck: $(TEST_STAMP)
	$(BIN)/mypy src

demo: $(STAMP)
	$(BIN)/teahub demo

serve: $(STAMP)
	$(BIN)/teahub serve --host $(HOST) --port $(PORT)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@ $(STAMP)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
