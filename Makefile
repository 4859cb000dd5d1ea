# The whole course in three commands. Needs only python3 (3.10+) and the package registry.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# TensorFlow's settings (quiet logs, no oneDNN) are made in one place: recsys_utils/keras_models/backend.py.

.PHONY: setup run smoke lint test-fast test lab notebooks site bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,spark,site]"
	touch $@

## run: execute every notebook headless (papermill) into output/ and print the results table
run: setup
	$(PY) -m recsys_utils.course run --output output $(ARGS)

## smoke: the same with every notebook's fast smoke parameters
smoke: setup
	$(PY) -m recsys_utils.course run --smoke --output output/smoke $(ARGS)

## lint: ruff on the package, the tests and the benchmarks (not the notebooks: see [tool.ruff] in pyproject.toml)
lint: setup
	$(VENV)/bin/ruff check recsys_utils tests benchmarks

## test-fast: lint, then the unit tests without executing any notebook (no nbval, no papermill, no Spark start-up)
test-fast: lint
	$(PY) -m pytest -m "not notebook and not slow" tests $(ARGS)

## test: what CI runs: lint, unit tests, nbval against the stored outputs, papermill smoke runs
test: lint
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks $(ARGS)

## lab: open JupyterLab on the notebooks (as root, e.g. in a container, JupyterLab needs --allow-root)
lab: setup
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root,)

## notebooks: re-execute the committed notebooks in place (fresh kernel, top to bottom)
notebooks: setup
	$(PY) -m recsys_utils.course refresh $(ARGS)

## site: build the course website (Jupyter Book, offline, from the stored outputs) into site/_build/html
site: setup
	$(PY) site/build.py $(ARGS)

## bench: re-run the benchmarks, writing benchmarks/results/ (about 35 min on 2 cores; BENCH="topn mf" picks some)
BENCH ?= topn mf deep scaling notebooks bayes ease implicit seeds ranks
bench: $(VENV)/.bench-installed
	for b in $(BENCH); do $(PY) benchmarks/bench_$$b.py $(ARGS) || exit 1; done

# bench_mf compares with scikit-surprise, the optional `bench` extra
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,spark,bench]"
	touch $@

clean:
	rm -rf output .pytest_cache
