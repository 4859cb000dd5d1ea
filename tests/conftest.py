"""Shared fixtures: one cached papermill run per notebook, its metrics on each data set, and the ``notebook`` mark.

Plain helper functions (no fixtures) live in ``helpers.py``; ``require_ml100k`` is imported from there.
"""

from __future__ import annotations

import json

import pytest

from recsys_utils import course

from helpers import benchmark_results_digest, dataset_available, require_ml100k


def pytest_collection_modifyitems(items):
    """Mark every test that executes a notebook, so that ``-m "not notebook"`` (``make test-fast``) skips it.

    A test executes a notebook exactly when it uses the ``run_smoke`` fixture (directly or through
    ``smoke_metrics``) or ``run_solution_smoke``; marking by fixture keeps a new test from being forgotten.
    """
    for item in items:
        if {"run_smoke", "run_solution_smoke"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.notebook)


_SMOKE_CACHE: dict = {}


@pytest.fixture(scope="session")
def smoke_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("smoke")


@pytest.fixture(scope="session")
def run_smoke(smoke_dir):
    """``run_smoke("03", DATASET=...)`` -> executed notebook (papermill, smoke parameters).

    Runs once per notebook and parameter set in a test session; later calls reuse it.
    """

    def _run(prefix: str, **overrides):
        [path] = course.notebooks([prefix])
        params = {**course.smoke_parameters(path), **overrides}
        key = (path.name, json.dumps(params, sort_keys=True, default=str))  # values may be lists (grids)
        if key not in _SMOKE_CACHE:
            suffix = "-".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "smoke"
            _SMOKE_CACHE[key] = course.execute(path, smoke_dir / f"{path.stem}.{suffix}.ipynb", params)
        return _SMOKE_CACHE[key]

    return _run


@pytest.fixture(scope="session")
def run_solution_smoke(smoke_dir):
    """``run_solution_smoke("03")`` -> solutions/03_solutions.ipynb executed with its smoke parameters (once).

    A solution that compares with ml-100k names it in an ``OTHER_DATASET`` parameter; where ml-100k is not
    cached (it cannot ship with the course) the run passes ``OTHER_DATASET=None`` and that solution prints
    that it was skipped instead of downloading.
    """
    def _run(prefix: str):
        [path] = course.solutions([prefix])
        params = course.smoke_parameters(path)
        if "OTHER_DATASET" in course.parameters_of(path) and not dataset_available("ml-100k"):
            params["OTHER_DATASET"] = None
        key = ("solutions", path.name)
        if key not in _SMOKE_CACHE:
            _SMOKE_CACHE[key] = course.execute(path, smoke_dir / f"{path.stem}.smoke.ipynb", params)
        return _SMOKE_CACHE[key]

    return _run


@pytest.fixture(params=[None, "ml-100k"], ids=["default-data", "ml-100k"])
def smoke_dataset(request):
    """The data set a notebook's claims are checked on: its default (None), then ml-100k when cached.

    None passes no DATASET override, so the run is shared with test_notebooks.py's smoke runs.
    """
    if request.param == "ml-100k":
        require_ml100k()
    return request.param


@pytest.fixture
def smoke_metrics(run_smoke, smoke_dataset):
    """``smoke_metrics("02")`` -> the metrics notebook 02 recorded in its smoke run on ``smoke_dataset``.

    A test using it runs once per data set; it also asks for ``smoke_dataset`` when a claim depends on the data.
    """

    def _metrics(prefix: str) -> dict:
        overrides = {"DATASET": smoke_dataset} if smoke_dataset else {}
        return course.read_metrics(run_smoke(prefix, **overrides))

    return _metrics


@pytest.fixture
def benchmark_results_untouched():
    """The committed benchmarks/results/ files must survive every benchmark smoke run."""
    before = benchmark_results_digest()
    yield
    assert benchmark_results_digest() == before, "a benchmark smoke test wrote to benchmarks/results/"
