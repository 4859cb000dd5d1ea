"""Plain helpers for the tests (fixtures are in conftest.py).

Importable as ``from helpers import ...``: pytest puts tests/ on ``sys.path`` because it holds the rootdir's
conftest.py and has no ``__init__.py``.
"""

from __future__ import annotations

import pytest

from recsys_utils import course
from recsys_utils.data import DATASETS, data_home


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


def committed_metrics(prefix: str) -> dict:
    """The metrics the committed notebook ``prefix`` recorded in its default run (no execution: fast)."""
    return course.read_metrics(course.notebooks([prefix])[0])


notebook_parameters = course.notebook_parameters  # the parameters cell of a notebook, as benchmarks read it


BENCHMARKS = course.ROOT / "benchmarks"


def import_benchmark(name: str):
    """Import ``benchmarks/<name>.py`` the way ``python benchmarks/<name>.py`` finds its ``common`` module."""
    import importlib
    import sys

    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)


def benchmark_results_digest() -> dict:
    """SHA-256 of every committed file in benchmarks/results/ (notebooks 04, 07 and 08 read them)."""
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((BENCHMARKS / "results").glob("*"))}
