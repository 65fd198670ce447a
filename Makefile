# Two commands do all set-up (see README):
#   make run   - virtualenv, install, migrate, seed the demo if the store is empty, serve :8050
#   make test  - install test needs (and Chromium when possible), lint, type-check, run every test
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_SCALE ?= small
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: run test lint seed serve chromium clean

$(BIN)/.installed: requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

seed: $(BIN)/.installed
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app seed-demo --if-empty --demo-users --scale $(DEMO_SCALE)

serve: $(BIN)/.installed
	$(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

run: seed serve

# What the browser and PDF tests use, each installed with apt when it is missing and we are root:
# Chromium, poppler-utils (pdftotext, pdffonts) and a Chinese font. Otherwise those tests skip
# with a reason (CI sets REQUIRE_BROWSER=1, which turns the skip into a failure).
chromium:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	[ -n "$$(fc-list :lang=zh 2>/dev/null)" ] || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -q $$missing >/dev/null \
	    || (apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null); \
	  else echo "Missing$$missing and not root: browser and PDF tests will be skipped."; fi; \
	fi

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

# The read-replica tests start a PostgreSQL primary and streaming replica of their own (initdb,
# pg_basebackup, pg_ctl from PG_BIN, run as user postgres): they need root, else they skip with a
# reason (CI sets REQUIRE_REPLICA=1, which turns the skip into a failure).
test: $(BIN)/.installed-dev chromium lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/artifacts
