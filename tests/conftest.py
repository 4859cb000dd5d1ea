"""Shared fixtures: data-set availability, and one cached papermill run per notebook."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from recsys_utils import course
from recsys_utils.data import DATASETS, data_home

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def dataset_available(name: str) -> bool:
    """True when ``name`` is in the data home already (no download needed)."""
    return (data_home() / DATASETS[name].folder).is_dir()


def require_ml100k():
    """Skip, saying why, when ml-100k is not cached (it cannot ship with the course)."""
    if not dataset_available("ml-100k"):
        pytest.skip(
            f"ml-100k is not in the data home {data_home()}: set RECSYS_DATA_HOME to a folder "
            "holding ml-100k/ (CI uses ../shared/datasets) to run these tests"
        )


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
        key = (path.name, tuple(sorted(params.items())))
        if key not in _SMOKE_CACHE:
            suffix = "-".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "smoke"
            _SMOKE_CACHE[key] = course.execute(path, smoke_dir / f"{path.stem}.{suffix}.ipynb", params)
        return _SMOKE_CACHE[key]

    return _run
