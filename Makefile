# trainingmgr: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run install install-dev migrate demo test lint format bench bench-scale clean translations

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "trainingmgr needs Python 3.11 or newer (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
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

# Re-extract the texts to translate, merge them into the Russian and Azerbaijani catalogues
# (new texts are untranslated, or "fuzzy" guesses that compile ignores until reviewed) and
# compile them. The .mo files are kept in the repository, so `make run` needs no compile step.
TRANSLATIONS := trainingmgr/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project trainingmgr \
		--sort-by-file -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

bench: install-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# The scale benchmark on PostgreSQL: 100,000 people generated with COPY, every page timed
# against its budget. BENCH_DATABASE_URL names a scratch database (it is emptied).
bench-scale: install-dev
	@test -n "$$BENCH_DATABASE_URL" || { echo "Set BENCH_DATABASE_URL=postgresql://.../bench (a scratch database)"; exit 2; }
	$(BIN)/python -m benchmarks.scale $(ARGS)
