# The two commands of the README. Everything else they need, they set up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi
# Test processes (pytest-xdist): each has its own database; files stay together in one process.
TEST_WORKERS ?= 3
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test bench lint seed translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.run-installed

## make run: migrate the embedded SQLite database, load demo data once, add work that falls
## due in the next minutes, then web (gunicorn, :5000), a Celery worker and beat together;
## one Ctrl-C stops all three
run: $(VENV)/.run-installed
	$(BIN)/flask db-upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask demo-refresh
	$(BIN)/flask run-all --bind 127.0.0.1:5000

## make test: lint, architecture contracts, types of the pure modules, the suite on PostgreSQL and on SQLite, ledger check
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	@PG_URL=$$($(BIN)/python tests/find_postgres.py) || exit 1; \
	if [ -n "$$PG_URL" ]; then \
	  echo "== suite on PostgreSQL"; \
	  TEST_DATABASE_URL="$$PG_URL" $(PYTEST) || exit 1; \
	fi; \
	echo "== suite on SQLite"; \
	TEST_DATABASE_URL= $(PYTEST) -m "not browser and not slow"

bench: $(VENV)/.dev-installed
	for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

## make translations: collect every translatable string, merge it into each language's
## catalog (p2pbank/translations/<lang>/LC_MESSAGES/messages.po) and compile the .mo files
BABEL_KEYWORDS := -k _l -k lazy_gettext -k N_ -k nav_item -k Forbidden -k NotFound -k Conflict \
	-k InvalidState -k InsufficientFunds -k ValidationFailed -k Unauthorized -k DomainError \
	-k require:3
translations: $(VENV)/.dev-installed
	$(BIN)/pybabel extract -F p2pbank/babel.cfg $(BABEL_KEYWORDS) --add-location=file \
	  --sort-by-file --project=p2pbank -o p2pbank/translations/messages.pot p2pbank
	$(BIN)/pybabel update -i p2pbank/translations/messages.pot -d p2pbank/translations \
	  --ignore-obsolete
	$(BIN)/pybabel compile -d p2pbank/translations
