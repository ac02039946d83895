# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# JupyterHub's proxy, from npm, for the tests that run a real hub (Node is on the machine)
CHP := $(VENV)/node/node_modules/.bin/configurable-http-proxy
PORT ?= 8866

.PHONY: run test venv system-deps lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	# The notebooks' Voila page template (no CDN stylesheets); an editable install skips data files.
	mkdir -p $(VENV)/share/jupyter/voila/templates
	ln -sfn $(CURDIR)/alwidgets/share/jupyter/voila/templates/alwidgets $(VENV)/share/jupyter/voila/templates/alwidgets
	# A kernelspec that runs this venv's Python, for nbclient, Voila and JupyterLab.
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	./scripts/system-deps.sh

run: $(STAMP)
	mkdir -p labels
	$(PY) -m alwidgets serve --port $(PORT)

$(CHP):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node configurable-http-proxy@5.3.0

test: $(STAMP) $(CHP) system-deps
	$(VENV)/bin/ruff check alwidgets tests benchmarks
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check alwidgets tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/label_efficiency.py
	$(PY) benchmarks/latency.py

clean:
	rm -rf $(VENV) labels .pytest_cache
