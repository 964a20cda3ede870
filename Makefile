# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export APP_ENV ?= development

.PHONY: run test lint typecheck check clean translations lock mutate bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)

# Installs come only from the locks: exact versions, every file checked against its hash,
# nothing resolved on the day. The project itself is installed without build isolation,
# with the setuptools the lock pins, so no unpinned build tool is fetched either.
# PyICU has no wheels: it is compiled against Debian's ICU (apt-get install libicu-dev
# pkg-config g++), with the setuptools that the build lock pins, installed first.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
BUILD_LOCK := requirements-build.lock
PIP_INSTALL = $(BIN)/python -m pip install --quiet --disable-pip-version-check

$(VENV)/.installed: $(LOCK) $(BUILD_LOCK) pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) --require-hashes --no-deps -r $(BUILD_LOCK)
	$(PIP_INSTALL) --require-hashes --no-deps --no-build-isolation -r $(LOCK)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) $(BUILD_LOCK) pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) --require-hashes --no-deps -r $(BUILD_LOCK)
	$(PIP_INSTALL) --require-hashes --no-deps --no-build-isolation -r $(DEV_LOCK)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	@touch $@ $(VENV)/.installed

# Refresh the locks after changing dependencies in pyproject.toml or requirements-build.in,
# or to take upstream releases (say so in the commit). uv resolves for every platform and
# Python from 3.11 on; installing needs only pip. uv itself is pinned and lives apart.
UV_VERSION := 0.13.9
UV := .venv-lock/bin/uv
$(UV):
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

lock: $(UV)
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--no-header pyproject.toml requirements-build.in -o $(LOCK)
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--no-header --extra dev -c $(LOCK) pyproject.toml requirements-build.in -o $(DEV_LOCK)
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
		--no-header -c $(LOCK) requirements-build.in -o $(BUILD_LOCK)

run: $(VENV)/.installed
	$(BIN)/flask --app wsgi db upgrade
	@echo
	@echo "  Serving http://$(HOST):$(PORT)/"
	@echo "  Create the first admin, in another terminal:"
	@echo "    APP_ENV=development $(BIN)/flask --app wsgi create-admin YOUR-USERNAME"
	@echo
	$(BIN)/gunicorn --config python:statements.gunicorn_conf --bind $(HOST):$(PORT) --workers 2 wsgi:app

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

# Mutation testing of the security-critical code ([tool.mutmut] in pyproject.toml), a
# developer's tool that CI does not run: each survivor is a change to that code which no
# test notices; they are printed and left in mutants/survivors.txt. MUTANTS names the
# mutants to test (mutmut names or globs, e.g. MUTANTS='crypto.merkle.*'), each again on
# every run: by default crypto/, security.py, the auth service, the mixer of anonymous
# writes, and the access checks of the drafting and publishing services. Always on SQLite: the workers run side by side,
# each on files of its own, where they would share (and reset) one PostgreSQL database;
# TEST_REDIS_URL, when set, is used (each test keeps its own prefix there).
MUTANTS ?= crypto.* statements.security.* statements.auth.service.* \
	statements.writes.* statements.write_apply.* statements.write_queues.* statements.mixer.* \
	statements.drafting.access.* \
	statements.drafting.invitations.x__invitation__mutmut_* \
	statements.drafting.versions.x__writable__mutmut_* \
	statements.drafting.contributions.x_own_ids__mutmut_* \
	statements.drafting.contributions.x__own__mutmut_* \
	statements.drafting.contributions.x_find_contribution__mutmut_* \
	statements.drafting.moderation.x__moderatable__mutmut_* \
	statements.publishing.endorsements.x_signon_open__mutmut_* \
	statements.publishing.endorsements.x__require_* \
	statements.publishing.endorsements.x_require_signon__mutmut_* \
	statements.publishing.signing_keys.x__staff__mutmut_* \
	statements.publishing.signing_keys.x__unwrap__mutmut_* \
	statements.publishing.service.x__coordinated__mutmut_*
mutate: $(VENV)/.installed-dev
	TEST_DATABASE_URL= $(BIN)/mutmut run $(foreach m,$(MUTANTS),'$(m)')
	@$(BIN)/mutmut results | grep -v ': not checked$$' > mutants/survivors.txt || true
	@echo; echo "Survivors ($$(wc -l < mutants/survivors.txt)), in mutants/survivors.txt;" \
		"see one with: $(BIN)/mutmut show NAME"
	@cat mutants/survivors.txt

# After changing any user-facing text: extract it, merge it into each language's
# catalogue (new messages come out empty, for translators), and compile. Dari's catalogue
# is fa_AF, CLDR's name for it (the pages say lang="prs": see statements/i18n.py).
TRANSLATIONS := statements/translations
translations: $(VENV)/.installed-dev
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --no-location \
		--sort-output --project "Joint statements" -o $(TRANSLATIONS)/messages.pot .
	for lang in th my ms fa fa_AF ps ar; do \
		if [ -f $(TRANSLATIONS)/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete \
				-i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; \
		else \
			$(BIN)/pybabel -q init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$lang; \
		fi; \
	done
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/browser/node_modules

# The benchmark (bench/): the app under gunicorn with production settings beside a bare
# Flask app, measured with wrk; ratios and raw figures on one screen, in under 15 minutes.
# Not part of CI. On PostgreSQL and Redis, with the mixed load: give a database of its own,
#   make bench BENCH_DATABASE_URL=postgresql+psycopg://... BENCH_REDIS_URL=redis://...
bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null || { \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && $$sudo apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)
