# The two commands of the README: `make run` and `make test`. Both set everything up from a fresh clone.
# constraints.txt pins the versions the tests last passed with (regenerate it with `pip freeze` after an upgrade).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

WEB_PORT ?= 5000
MCP_PORT ?= 8080
# `make test` runs the tests in this many processes (pytest-xdist); 0 runs them all in one.
TEST_PROCESSES ?= 2

.PHONY: run test install db lint bench clean ports test-clients

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]' -c constraints.txt
	@touch $(STAMP)

install: $(STAMP)

db: install
	$(BIN)/pm-portal db upgrade

# Checked before anything else, so a taken port is one line rather than a server's traceback.
ports:
	@$(PYTHON) scripts/check_ports.py 127.0.0.1 $(WEB_PORT) $(MCP_PORT)

run: ports db
	@echo ""
	@echo "  Portal:      http://127.0.0.1:$(WEB_PORT)/   (sign up: the first account becomes the administrator)"
	@echo "  MCP worker:  http://127.0.0.1:$(MCP_PORT)/mcp   (Streamable HTTP)"
	@echo "               http://127.0.0.1:$(MCP_PORT)/sse   (SSE)"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" WEB_HOST=127.0.0.1 PORT=$(WEB_PORT) MCP_HOST=127.0.0.1 MCP_PORT=$(MCP_PORT) \
		PUBLIC_PORTAL_URL=http://127.0.0.1:$(WEB_PORT) PUBLIC_MCP_URL=http://127.0.0.1:$(MCP_PORT) \
		$(BIN)/honcho start -f Procfile -p $(WEB_PORT) web mcp

test: install
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadgroup $(PYTEST_ARGS)

# The off-the-shelf MCP clients the end-to-end tests drive (needs npm; quick and offline once installed).
test-clients:
	bash scripts/install-test-clients.sh

# Ruff, the type checker (files and settings in pyproject's [tool.mypy]) and the import contracts
# ([tool.importlinter]: the core imports neither Flask nor MCP nor a front; the fronts not each other).
lint: install
	$(BIN)/ruff check portal mcp_worker tests benchmarks
	$(BIN)/ruff format --check portal mcp_worker tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/worker_bench.py
	$(BIN)/python benchmarks/provider_requests.py

clean:
	rm -rf $(VENV) .pytest_cache
