"""nbval on the notebooks: recorded metrics are compared with the tolerances in each notebook's metadata.

The mechanism is described in ``tests/nbval_metrics.py``; this file only installs it, so that it applies
however the notebooks are collected (``pytest --nbval ... tests notebooks`` or a single notebook).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from nbval_metrics import install  # noqa: E402


def pytest_collection_modifyitems(items):
    install(items)
