# PeerHub: `make run` serves the site, `make test` runs the suite (both on the embedded default:
# SQLite, eager Celery tasks). Set DATABASE_URL / REDIS_URL for the full stack (see README.md).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# The first interpreter that is Python 3.12 or newer: python3.13, python3.12, python3, then
# pyenv's installed versions. Override with `make PYTHON=/path/to/python3.12 ...`.
ifndef PYTHON
PYTHON := $(shell for p in python3.13 python3.12 python3 \
	$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  if "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    command -v "$$p"; break; \
	  fi; \
	done)
endif

HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: help install run serve migrate seed test test-fullstack lint format worker beat fullstack check-python bench clean

help:
	@echo "make run        install, migrate, load demo data, serve http://$(HOST):$(PORT)"
	@echo "make test       install and run the test suite (SQLite, eager tasks)"
	@echo "make lint       ruff check and format check"
	@echo "make worker     a Celery worker (needs REDIS_URL)"
	@echo "make beat       Celery beat (needs REDIS_URL)"
	@echo "make fullstack  web + worker + beat against DATABASE_URL and REDIS_URL"

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "PeerHub needs Python 3.12 or newer (Django 6). None was found as python3.13, python3.12," >&2; \
	  echo "python3 or under pyenv. Install one, or run: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)" >&2; \
	  exit 1; \
	fi

$(BIN)/python: | check-python
	"$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo "PeerHub on http://$(HOST):$(PORT)/  (demo accounts are listed in README.md)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: install
	$(BIN)/celery -A peerhub worker --loglevel=info

beat: install
	$(BIN)/celery -A peerhub beat --loglevel=info --schedule=var/celerybeat-schedule

# The full stack on this machine: PostgreSQL and Redis must be running and named by
# DATABASE_URL and REDIS_URL; web, worker and beat run side by side until Ctrl-C.
fullstack: install
	@if [ -z "$$DATABASE_URL" ] || [ -z "$$REDIS_URL" ]; then \
	  echo "Set DATABASE_URL and REDIS_URL, e.g." >&2; \
	  echo "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/peerhub REDIS_URL=redis://127.0.0.1:6379/0 make fullstack" >&2; \
	  exit 1; \
	fi
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	mkdir -p var
	trap 'kill 0' EXIT INT TERM; \
	$(BIN)/celery -A peerhub worker --loglevel=info & \
	$(BIN)/celery -A peerhub beat --loglevel=info --schedule=var/celerybeat-schedule & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The benchmark against the current DATABASE_URL (seed it first: README.md, "Benchmarks").
BENCH_ARGS ?=
bench: install
	$(BIN)/python manage.py benchmark $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
