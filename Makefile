# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export APP_ENV ?= development

.PHONY: run test lint typecheck check clean translations

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/flask --app wsgi db upgrade
	@echo
	@echo "  Serving http://$(HOST):$(PORT)/"
	@echo "  Create the first admin, in another terminal:"
	@echo "    APP_ENV=development $(BIN)/flask --app wsgi create-admin YOUR-USERNAME"
	@echo
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --log-level warning wsgi:app

# The browser tests inject axe-core, an npm package pinned in tests/browser/package-lock.json.
# Installed only where npm exists: without it (or without /usr/bin/chromium) those tests
# are reported as skipped, with how to install them, and fail on CI.
AXE := tests/browser/node_modules/axe-core/axe.min.js
NPM := $(shell command -v npm 2>/dev/null)

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@touch $@

# pytest exits 5 when a selection (PYTEST_ARGS) matches no test: that is not a failure.
# PYTEST_ARGS='-m "not browser"' leaves out the browser journeys.
test: $(VENV)/.installed-dev $(if $(NPM),$(AXE))
	$(BIN)/python -m pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

check: lint typecheck test

# After changing any user-facing text: extract it, merge it into each language's
# catalogue (new messages come out empty, for translators), and compile.
TRANSLATIONS := statements/translations
translations: $(VENV)/.installed-dev
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --no-location \
		--sort-output --project "Joint statements" -o $(TRANSLATIONS)/messages.pot .
	for lang in th my ms fa; do \
		if [ -f $(TRANSLATIONS)/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete \
				-i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; \
		else \
			$(BIN)/pybabel -q init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; \
		fi; \
	done
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/browser/node_modules
