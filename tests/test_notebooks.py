"""Every notebook in notebooks/ is picked up automatically.

* Its stored outputs are checked by nbval (``make test`` passes ``--nbval notebooks``):
  a fresh kernel re-runs it and each stored output must match.
* Here, it runs under papermill with its smoke parameters and must record its metrics;
  and its structure follows the course conventions.

Each notebook's own claims are in test_nbNN.py.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from recsys_utils import course

NOTEBOOKS = course.notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(1, len(numbers) + 1)), "notebooks must be numbered 01, 02, ... without gaps"


@pytest.fixture(params=NOTEBOOKS, ids=IDS)
def nb_path(request):
    return request.param


def _parameters_cell(nb):
    tagged = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one code cell must be tagged 'parameters'"
    return tagged[0]


def test_structure(nb_path):
    nb = nbformat.read(str(nb_path), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(c.source.strip() for c in nb.cells), "no empty cells"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run top to bottom in a fresh kernel"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"], "stored error output"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {nb_path.name[:2]}")
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("What you will learn", "## Summary", "## Exercises"):
        assert heading in text, f"missing {heading!r}"
    assert course.read_metrics(nb), "the notebook must call record_metrics"


def test_parameters_cell_and_smoke_configuration(nb_path):
    nb = nbformat.read(str(nb_path), as_version=4)
    cell = _parameters_cell(nb)
    names = {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets}
    assert names and all(n.isupper() for n in names), "parameters must be UPPER-CASE assignments"
    assert {"SEED", "DATASET"} <= names
    smoke = course.smoke_parameters(nb_path)
    assert smoke, "store a smoke configuration in metadata course.smoke_parameters"
    assert set(smoke) <= names, f"smoke parameters {set(smoke) - names} are not in the parameters cell"


def test_links_point_to_existing_files(nb_path):
    nb = nbformat.read(str(nb_path), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert local, "navigation links are missing"
    for link in local:
        assert (nb_path.parent / link).exists(), f"broken link {link}"
    assert "README.md" in local, "link to the index (README.md)"


def test_index_lists_every_notebook():
    index = (course.NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    for p in NOTEBOOKS:
        assert f"({p.name})" in index, f"{p.name} is missing from notebooks/README.md"


def test_smoke_run_records_metrics(nb_path, run_smoke):
    nb = run_smoke(nb_path.name[:2])
    metrics = course.read_metrics(nb)
    assert metrics and all(isinstance(v, (int, float, str, bool)) for v in metrics.values())

