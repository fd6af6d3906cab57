# The results tracker. Two commands: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app tracker
PG_BIN ?= /usr/lib/postgresql/15/bin
# The suite runs in parallel (pytest-xdist), one worker per core; TEST_WORKERS=0 runs it in
# one process, TEST_WORKERS=4 in four. Worksteal: an idle worker takes tests queued on a busy one.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal
# The throwaway PostgreSQL cluster lives in memory (/dev/shm) when it has 2 GB free: each test
# creates a database from a template, a tenth of a second or more on a slow disk even with
# fsync off, 30 ms in memory. TEST_TMPDIR=/some/folder puts it elsewhere.
TEST_TMPDIR ?= $(shell df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 && $$4 > 2097152 {print "/dev/shm"}')

.PHONY: run dev test test-sqlite test-postgres browser-deps install install-test lint bench bench-check clean translations catalogue

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The app and what it needs to serve (psycopg for PostgreSQL, gunicorn for deployment).
$(VENV)/.installed-run: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e '.[postgres,server]'
	touch $@

# Everything the tests need on top.
$(VENV)/.installed-test: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e '.[postgres,server,test]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

# The interface languages: each tracker/translations/<lang>/LC_MESSAGES/messages.po (in git)
# compiled to its .mo (not in git) when the .po is newer. `make run`, `dev` and the tests do it.
# scripts/compile_catalogue.py is `pybabel compile -i PO -o MO` less one false alarm (a header
# such as "% of target" read as a printf placeholder); every other check still fails the build.
PO_FILES := $(wildcard tracker/translations/*/LC_MESSAGES/messages.po)
translations: $(PO_FILES:.po=.mo)

%/LC_MESSAGES/messages.mo: %/LC_MESSAGES/messages.po | $(VENV)/.installed-run
	$(BIN)/python scripts/compile_catalogue.py $< $@

# For developers after changing strings: extract every message (babel.cfg) to messages.pot,
# then merge it into each language's .po; translate the new entries, then `make translations`.
catalogue: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file --no-wrap \
		--project "Results tracker" -o tracker/translations/messages.pot .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations --no-wrap

# gunicorn (scripts/gunicorn_conf.py): threaded workers, one per core by default;
# WORKERS=4 THREADS=8 make run to change them, PORT=8000 for another port.
run: install translations
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) load-demo-if-empty
	@echo "Serving the results tracker on http://127.0.0.1:$(PORT) with gunicorn  (Ctrl-C stops it)"
	PORT=$(PORT) $(if $(WORKERS),TRACKER_WORKERS=$(WORKERS)) $(if $(THREADS),TRACKER_THREADS=$(THREADS)) \
		$(BIN)/gunicorn -c scripts/gunicorn_conf.py wsgi:app

# The development server (reloads on edits, shows tracebacks): not for real use.
dev: install translations
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) load-demo-if-empty
	$(FLASK) run --debug --host 127.0.0.1 --port $(PORT)

# Real-browser tests use Debian's Chromium; installed here when it is missing.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# SQLite always (with the browser tests); PostgreSQL too when the server binaries are on the
# machine (a throwaway cluster on 127.0.0.1, removed afterwards). The last line says which ran.
test: install-test browser-deps translations
	@echo "== the suite on SQLite, with the browser tests =="
	$(PYTEST)
	@if [ -x $(PG_BIN)/initdb ]; then \
		echo "== the suite on PostgreSQL 15 (browser tests ran on SQLite) =="; \
		$(MAKE) --no-print-directory test-postgres && \
		echo "PASSED on SQLite (with the browser tests) and on PostgreSQL 15."; \
	else \
		echo "PostgreSQL server binaries not found in $(PG_BIN): ONLY SQLite ran."; \
	fi

test-sqlite: install-test browser-deps translations
	$(PYTEST)

test-postgres: install-test translations
	$(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) $(BIN)/python scripts/with_postgres.py $(PYTEST) -m "not browser"

lint: install-test
	$(BIN)/ruff check tracker tests bench scripts

# Every bench script, with its figures (the load test runs 60 s, then 60 s with a SIGKILL).
bench: install-test
	$(BIN)/python bench/run_all.py

# A short load with the server killed half-way: fails on any error or lost write (used by CI).
bench-check: install-test
	$(BIN)/python bench/load.py --seconds $(or $(BENCH_SECONDS),30) --kill

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
