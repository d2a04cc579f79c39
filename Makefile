# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export MADOGUCHI_HOME ?= $(CURDIR)/var

.PHONY: run test bench lint install install-test system-packages translations screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

system-packages:
	scripts/system-packages

run: install system-packages
	$(BIN)/madoguchi db upgrade
	test -f "$(MADOGUCHI_HOME)/seal/seal.p12" || $(BIN)/madoguchi seal init-dev
	$(BIN)/madoguchi deploy workflows
	$(BIN)/madoguchi catalogue import workflows/catalogue.csv
	$(BIN)/madoguchi demo
	$(BIN)/madoguchi serve --host 127.0.0.1 --port 5000

test: install-test
	scripts/system-packages --test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto -q

bench: install system-packages
	$(BIN)/python bench/run.py

translations: install
	$(BIN)/python scripts/translations.py

# PNGs of the key pages for the documentation, from a throw-away demo instance.
screenshots: install-test
	scripts/system-packages --test
	$(BIN)/python scripts/screenshots.py

lint: install-test
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
