# gallery-gql: the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck schema postgres-binaries clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The embedded cluster uses the machine's PostgreSQL server binaries; install them when absent.
postgres-binaries:
	@./scripts/ensure-postgres.sh

demo: install postgres-binaries
	$(BIN)/gallery-gql demo

test: install postgres-binaries
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check gallery_gql tests migrations
	$(BIN)/ruff format --check gallery_gql tests migrations

typecheck:
	$(BIN)/mypy gallery_gql

schema:
	$(BIN)/gallery-gql export-schema --output schema.graphql

clean:
	rm -rf $(VENV) .gallery-gql
