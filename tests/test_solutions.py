"""Every exercise of every notebook has a hint and a worked solution that runs.

* ``notebooks/NN_*.ipynb``'s Exercises section numbers its exercises ``1.``, ``2.`` ...; each item carries a
  one-line ``*Hint: ...*`` and the section links to ``../solutions/NN_solutions.ipynb``.
* ``solutions/NN_solutions.ipynb`` has one ``## Exercise i`` section per exercise, in order; each section's
  code ends with an ``assert`` of the outcome the solution claims.
* The solutions are committed executed at their full settings (read on the site and on GitHub) and run here
  under papermill with the smoke configuration in ``course.smoke_parameters``: a failing assertion fails
  the test, so a solution cannot rot silently.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from recsys_utils import course

NOTEBOOKS = course.notebooks()
PREFIXES = [p.name[:2] for p in NOTEBOOKS]


def _exercises(path) -> list[str]:
    """The numbered items of a notebook's ``## Exercises`` section (one string per exercise)."""
    nb = nbformat.read(str(path), as_version=4)
    [cell] = [c for c in nb.cells if c.cell_type == "markdown" and re.search(r"^## Exercises", c.source, re.M)]
    section = cell.source.split("## Exercises", 1)[1]
    items = re.split(r"^(?=\d+\. )", section, flags=re.M)[1:]
    return [item.strip() for item in items]


def _solution_sections(path) -> dict[int, list]:
    """Exercise number -> the cells of the solution notebook's ``## Exercise N`` section."""
    nb = nbformat.read(str(path), as_version=4)
    sections: dict[int, list] = {}
    current = None
    for cell in nb.cells:
        m = re.match(r"## Exercise (\d+)\b", cell.source) if cell.cell_type == "markdown" else None
        if m:
            current = int(m.group(1))
            assert current not in sections, f"{path.name}: Exercise {current} appears twice"
            sections[current] = []
        elif cell.cell_type == "markdown" and cell.source.startswith("## "):
            current = None  # a closing section (e.g. "## Back to the notebook")
        elif current is not None:
            sections[current].append(cell)
    return sections


def _asserts(source: str) -> int:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: count textually
        return source.count("assert ")
    return sum(isinstance(node, ast.Assert) for node in ast.walk(tree))


@pytest.fixture(params=PREFIXES)
def prefix(request):
    return request.param


def _solution_path(prefix):
    found = course.solutions([prefix])
    assert found, f"solutions/{prefix}_solutions.ipynb is missing: every notebook's exercises need worked solutions"
    return found[0]


def test_every_exercise_has_a_hint_and_the_section_links_to_its_solutions(prefix):
    [path] = course.notebooks([prefix])
    items = _exercises(path)
    assert items, f"{path.name}: no numbered exercises"
    for i, item in enumerate(items, 1):
        assert re.search(r"\*Hint:[^*]+\*", item), f"{path.name} Exercise {i} has no one-line *Hint: ...*"
    nb = nbformat.read(str(path), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"(../solutions/{prefix}_solutions.ipynb)" in text, f"{path.name} does not link to its solutions"


def test_long_exercises_say_how_long_they_take(prefix):
    """An exercise whose hint or text speaks of minutes states an estimate ("about N min")."""
    [path] = course.notebooks([prefix])
    for i, item in enumerate(_exercises(path), 1):
        if re.search(r"\bminutes?\b|\bmin\b", item):
            assert re.search(r"(about|≈|~)\s*\d+(–\d+)?\s*min", item), (
                f"{path.name} Exercise {i} mentions minutes without an estimate like 'about 5 min'")


def test_solution_notebook_covers_every_exercise(prefix):
    [nb_path] = course.notebooks([prefix])
    path = _solution_path(prefix)
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# {prefix} · Solutions")
    assert f"(../notebooks/{nb_path.name})" in nb.cells[0].source, "link back to the notebook"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run top to bottom in a fresh kernel"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"], "stored error output"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one code cell tagged 'parameters'"
    names = {t.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign)
             for t in node.targets}
    assert {"SEED", "DATASET"} <= names
    smoke = course.smoke_parameters(path)
    assert smoke and set(smoke) <= names, "a smoke configuration in metadata course.smoke_parameters"
    sections = _solution_sections(path)
    n = len(_exercises(nb_path))
    assert sorted(sections) == list(range(1, n + 1)), f"{path.name}: sections {sorted(sections)}, exercises 1..{n}"
    for i, cells in sections.items():
        code_cells = [c for c in cells if c.cell_type == "code"]
        assert code_cells, f"{path.name} Exercise {i}: no code"
        assert _asserts(code_cells[-1].source), f"{path.name} Exercise {i}: the last code cell must assert the outcome"
        assert all(c.outputs for c in code_cells if c.source.strip()), f"{path.name} Exercise {i}: unexecuted cell"


def test_solution_links_point_to_existing_files(prefix):
    path = _solution_path(prefix)
    nb = nbformat.read(str(path), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"[a-z]+://", link):
            assert (path.parent / link).exists(), f"{path.name}: broken link {link}"


def test_solutions_run_at_the_smoke_setting(prefix, run_solution_smoke):
    path = _solution_path(prefix)
    nb = run_solution_smoke(prefix)  # papermill raises if an assertion fails
    ran = [c for c in nb.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    stored = [c for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]
    assert len(ran) == len(stored) and all(c.get("execution_count") for c in ran), "every cell ran"
