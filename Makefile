# trainingmgr: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run install install-dev migrate demo test coverage lint format bench bench-scale bench-serve clean translations lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "trainingmgr needs Python 3.11 or newer (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)

# Installs exactly what the lock names (versions and hashes), then the project itself without
# resolving anything: a clone today and a clone in a year get the same packages.
# `make lock` refreshes the lock files (docs/dependencies.md says how to bump a dependency).
define install_locked
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(1)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
endef

$(VENV)/.installed: requirements/main.txt pyproject.toml | $(BIN)/python
	$(call install_locked,requirements/main.txt)
	@touch $@

$(VENV)/.installed-dev: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(call install_locked,requirements/dev.txt)
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo

run: demo
	@echo "Serving trainingmgr on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	@echo "E-mail is delivered by this process (MAIL_BACKEND=$${MAIL_BACKEND:-console}; console prints it here)."
	BASE_URL="$${BASE_URL:-http://$(HOST):$(PORT)}" MAIL_DELIVERY_IN_PROCESS=1 \
		$(FLASK) run --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install-dev
	@scripts/ensure-test-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL: $$TEST_DATABASE_URL"; \
		$(BIN)/python -m pytest; \
	else \
		echo "TEST_DATABASE_URL is not set: skipped the PostgreSQL run (.ci/run sets it)."; \
	fi

# Line and branch coverage of trainingmgr/ by the SQLite suite (pytest-cov): a table of the
# files with their missed lines and branches, and htmlcov/index.html.
coverage: install-dev
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -p no:cacheprovider --cov=trainingmgr \
		--cov-branch --cov-report=term:skip-covered --cov-report=html $(ARGS)

# Re-extract the texts to translate, merge them into the Russian and Azerbaijani catalogues
# (new texts are untranslated, or "fuzzy" guesses that compile ignores until reviewed) and
# compile them. The .mo files are kept in the repository, so `make run` needs no compile step.
TRANSLATIONS := trainingmgr/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k js_plural:1,2 --project trainingmgr \
		--sort-by-file -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

bench: install-dev
	$(BIN)/python -m benchmarks

# Re-resolve the newest versions that pyproject.toml allows into the lock files, with hashes,
# for every platform and Python >= 3.11 (uv, pinned here, does the resolving).
UV_VERSION := 0.13.9
LOCK := $(BIN)/uv pip compile pyproject.toml requirements/build.in --universal \
	--python-version 3.11 --generate-hashes --no-header --annotation-style line $(LOCK_ARGS)
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(LOCK) --extra dev -o requirements/dev.txt
	$(LOCK) --constraint requirements/dev.txt -o requirements/main.txt
	@echo "Lock refreshed: review 'git diff requirements/', then run make test and make bench."

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# The scale benchmark on PostgreSQL: 100,000 people generated with COPY, every page timed
# against its budget. BENCH_DATABASE_URL names a scratch database (it is emptied).
bench-scale: install-dev
	@test -n "$$BENCH_DATABASE_URL" || { echo "Set BENCH_DATABASE_URL=postgresql://.../bench (a scratch database)"; exit 2; }
	$(BIN)/python -m benchmarks.scale $(ARGS)

# Served throughput under gunicorn (this gunicorn.conf.py, 2 workers): the roster of 120 against
# /healthz, on the data make bench-scale generated in BENCH_DATABASE_URL. Loopback only.
bench-serve: install-dev
	@test -n "$$BENCH_DATABASE_URL" || { echo "Set BENCH_DATABASE_URL to the database of make bench-scale"; exit 2; }
	$(BIN)/python -m benchmarks.serve $(ARGS)
