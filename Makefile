# gallery-gql: the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs exactly the versions of uv.lock; it is fetched once from PyPI into .tools/.
UV_VERSION := 0.13.9
UV := .tools/uv-$(UV_VERSION)/bin/uv

.PHONY: install lock demo test test-floors check lint typecheck schema documents postgres-binaries browser-deps peer-deps conformance-deps bench-deps clean

install: $(STAMP)

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check \
		--target .tools/uv-$(UV_VERSION) 'uv==$(UV_VERSION)'

$(STAMP): pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet --python $(PYTHON) \
		--extra dev --extra tracing
	touch $(STAMP)

# After changing dependencies in pyproject.toml: re-resolve uv.lock (commit both).
lock: | $(UV)
	$(UV) lock

# The embedded cluster uses the machine's PostgreSQL server binaries; install them when absent.
postgres-binaries:
	@./scripts/ensure-postgres.sh

demo: install postgres-binaries
	$(BIN)/gallery-gql demo

# Headless Chromium for the browser tests (tests/web skips them when it is absent).
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if [ "$$(id -u)" != "0" ]; then \
		echo "chromium/chromedriver missing: browser tests will be skipped" \
			"(install them: apt-get install chromium chromium-driver)" >&2; exit 0; fi; \
	echo "Installing chromium and chromium-driver (apt-get)..."; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null

# PostGraphile, the benchmark's peer, from the lockfile (`gallery-gql bench` runs it when
# present; its test skips without it). ~3 s; never fails the build.
PEER_STAMP := peers/postgraphile/node_modules/.package-lock.json

peer-deps: $(PEER_STAMP)

$(PEER_STAMP): peers/postgraphile/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm missing: the bench will skip the PostGraphile peer (install Node.js 18+)" >&2; \
		exit 0; fi; \
	npm ci --prefix peers/postgraphile --no-audit --no-fund --loglevel=error \
		|| echo "npm ci failed: the PostGraphile peer and its test will be skipped" >&2

# wrk, the native load generator of the served comparisons (scripts/served_bench.py and
# tests/ops/test_bench_native.py skip it with the reason printed when absent), from apt
# as root. Never fails the build.
bench-deps:
	@if command -v wrk >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != "0" ]; then \
		echo "wrk missing: the native load runs will be skipped (apt-get install wrk)" >&2; \
		exit 0; fi; \
	echo "Installing wrk (apt-get)..."; \
	export DEBIAN_FRONTEND=noninteractive; \
	{ apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; } \
		|| echo "apt-get could not install wrk: the native load runs will be skipped" >&2

# The graphql-http audit and relay-compiler, from the lockfile (tests/web/test_conformance.py
# skips without them). ~5 s; never fails the build.
CONFORMANCE_STAMP := conformance/node_modules/.package-lock.json

conformance-deps: $(CONFORMANCE_STAMP)

$(CONFORMANCE_STAMP): conformance/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm missing: the graphql-http audit and relay-compiler checks will be skipped" \
			"(install Node.js 18+)" >&2; exit 0; fi; \
	npm ci --prefix conformance --no-audit --no-fund --loglevel=error \
		|| echo "npm ci failed: the conformance checks will be skipped" >&2

# What CI runs (.ci/run): the checks the README promises, then the whole suite, a test
# module per process (pytest-xdist; each process starts its own PostgreSQL cluster).
TEST_WORKERS ?= 2
test: lint typecheck postgres-binaries browser-deps peer-deps conformance-deps bench-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# The suite against the lowest versions pyproject.toml admits (uv's lowest-direct
# resolution, in .venv-floors/): after changing a floor, so that `pip install .` works.
test-floors: postgres-binaries | $(UV)
	rm -rf .venv-floors
	$(UV) venv --quiet --python $(PYTHON) .venv-floors
	$(UV) pip install --quiet --python .venv-floors/bin/python --resolution lowest-direct \
		-e '.[dev,tracing]'
	.venv-floors/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check gallery_gql tests migrations scripts
	$(BIN)/ruff format --check gallery_gql tests migrations scripts
	$(BIN)/lint-imports --no-cache

# The package strictly; tests, migrations and scripts with checked bodies (pyproject.toml).
typecheck: install
	$(BIN)/mypy gallery_gql
	$(BIN)/mypy tests migrations scripts

schema:
	$(BIN)/gallery-gql export-schema --output schema.graphql

# After changing an operation of the gallery page or GraphiQL's examples (a test checks it).
documents:
	$(BIN)/gallery-gql documents export --output gallery_gql/api/documents/trusted_documents.json

clean:
	rm -rf $(VENV) .tools .gallery-gql
