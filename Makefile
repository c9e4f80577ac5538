# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv with the first Python >= 3.11 found and install the project into it.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# Extra arguments: `make run ARGS="--port 8080"`, `make test PYTEST_ARGS="tests/test_auth_login.py -x"`.
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test lint demo bench schema i18n clean-venv

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "BMC Hub needs Python 3.11 or newer (python3.11, python3.12, ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/bmc-hub serve $(ARGS)

# pytest exits 5 when it ran no test at all; that is a failure here, never a pass.
test: $(VENV)/.installed-dev
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing"; fi; exit $$rc

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

# Rewrite tests/schema.sql, the schema snapshot, after changing a migration or a function file.
schema: $(VENV)/.installed-dev
	$(BIN)/python scripts/dump_schema.py

# Extract the texts marked for translation, update the Danish catalogs (core and each module)
# and compile them (docs/development.md#translations). Translate the new entries, run it again.
i18n: $(VENV)/.installed-dev
	$(BIN)/bmc-hub i18n

demo: $(VENV)/.installed
	$(BIN)/bmc-hub demo

bench: $(VENV)/.installed-dev
	@for f in bench/*.py; do [ -e "$$f" ] && $(BIN)/python "$$f"; done; true

clean-venv:
	rm -rf $(VENV)
