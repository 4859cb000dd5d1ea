# The whole course in three commands. Needs only python3 (3.10+) and the package registry.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Quiet TensorFlow's C++ logs so they never land in stored notebook outputs.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: setup run smoke test lab notebooks bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,spark]"
	touch $@

## run: execute every notebook headless (papermill) into output/ and print the results table
run: setup
	$(PY) -m recsys_utils.course run --output output $(ARGS)

## smoke: the same with every notebook's fast smoke parameters
smoke: setup
	$(PY) -m recsys_utils.course run --smoke --output output/smoke $(ARGS)

## test: unit tests, nbval against the stored outputs, papermill smoke runs
test: setup
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks $(ARGS)

## lab: open JupyterLab on the notebooks
lab: setup
	$(VENV)/bin/jupyter lab notebooks/

## notebooks: re-execute the committed notebooks in place (fresh kernel, top to bottom)
notebooks: setup
	$(PY) -m recsys_utils.course refresh $(ARGS)

clean:
	rm -rf output .pytest_cache
