# Two entry points: `make run` (the fleet on this host with the demo workspace) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest protos bench clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mcpfleet up

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy mcpfleet control_plane supervisor_agent sse_edge

# The MCP Inspector CLI (and the Node 22 it needs) for the edge's acceptance test, from the
# repo's own package.json + lockfile; skipped (and that one test with it) when npm is absent.
# `npm ci` refuses this lockfile (an optional dependency of vite, napi-windows-process-start-time,
# is not on the registry); `npm install --no-save` then installs the same locked versions.
INSPECTOR := tests/e2e/inspector
NPM_FLAGS := --no-audit --no-fund --loglevel=error
$(INSPECTOR)/node_modules/.installed: $(INSPECTOR)/package.json $(INSPECTOR)/package-lock.json
	@if command -v npm >/dev/null; then cd $(INSPECTOR) && { npm ci $(NPM_FLAGS) 2>/dev/null || npm install --no-save $(NPM_FLAGS); } \
	&& touch node_modules/.installed; else echo "npm not found: the MCP Inspector test will be skipped"; fi

pytest: $(STAMP) $(INSPECTOR)/node_modules/.installed
	$(BIN)/pytest

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

# The benchmark (not part of `make test`): mcp-proxy 0.13.0 needs mcp < 2, so it gets its own venv.
PROXY_VENV := .venv-mcp-proxy
$(PROXY_VENV)/.installed: bench/mcp-proxy-constraints.txt
	$(PYTHON) -m venv $(PROXY_VENV)
	$(PROXY_VENV)/bin/pip install --quiet -c bench/mcp-proxy-constraints.txt mcp-proxy==0.13.0
	touch $@

bench: $(STAMP) $(PROXY_VENV)/.installed
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.critical_path

clean:
	rm -rf $(VENV) .mcpfleet .pytest_cache .mypy_cache .ruff_cache
