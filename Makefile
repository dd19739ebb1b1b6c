# Recurrent Networks from Scratch. Two commands do everything on a fresh machine:
#   make book   install everything and build the HTML book (executing every page)
#   make test   install everything, lint, build the book, and run every test
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help venv system-deps book test lint format exercises bench linkcheck clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt autograder/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(STAMP)  ## create .venv and install the pinned requirements

system-deps:  ## install the Debian packages the tests use (chromium, chromedriver, bubblewrap)
	@bash .ci/system-deps

book: $(STAMP)  ## build the book into _build/html, executing every page (fails on any error or warning)
	$(PY) -m rnnscratch.booktools.book build

lint: $(STAMP)  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(STAMP) system-deps lint book  ## lint, build the book, run all tests
	$(PY) -m pytest

exercises: $(STAMP)  ## regenerate exercises/ (student release) from solutions/ with nbgrader
	$(PY) -m rnnscratch.exercises.release

bench: $(STAMP)  ## print the performance figures (book build, LSTM speed, grading throughput)
	$(PY) -m rnnscratch.bench

linkcheck: $(STAMP)  ## check external links (needs the internet; not part of CI)
	$(VENV)/bin/jupyter-book build . --builder linkcheck

clean:  ## remove build outputs and grading state (keeps .venv)
	rm -rf _build .pytest_cache .ruff_cache gradebook.db submitted autograded feedback grades.csv reports .grading-secret
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

# --- grading (instructor workflow; see book/instructor-guide.md) ---
.PHONY: grade grading-demo
JOBS ?= 2

grade: $(STAMP) system-deps  ## autograde submitted/ in the sandbox (JOBS=2), then feedback, grades.csv, class reports
	$(PY) -m rnnscratch.grading autograde --jobs $(JOBS)
	$(PY) -m rnnscratch.grading feedback
	$(PY) -m rnnscratch.grading export
	$(PY) -m rnnscratch.grading report

grading-demo: $(STAMP) system-deps  ## grade a synthetic class end to end in a temporary course directory
	$(PY) -m rnnscratch.grading demo --jobs $(JOBS)
