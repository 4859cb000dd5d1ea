"""The nbval tolerance for recorded metrics (tests/nbval_metrics.py) passes what it should and fails the rest."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbval_metrics import compare_metrics, metric_tolerance, tolerance_for

from recsys_utils import course

TESTS = course.ROOT / "tests"


def test_within_the_tolerance_passes_and_outside_fails():
    tol = {"test_rmse": 0.002}
    assert compare_metrics({"test_rmse": 0.8610}, {"test_rmse": 0.8595}, tol) == []
    [problem] = compare_metrics({"test_rmse": 0.8620}, {"test_rmse": 0.8595}, tol)
    assert "test_rmse" in problem and "beyond the tolerance 0.002" in problem


def test_exact_by_default_for_numbers_strings_and_booleans():
    assert compare_metrics({"n": 3, "name": "a", "ok": True}, {"n": 3, "name": "a", "ok": True}, {}) == []
    assert len(compare_metrics({"rmse": 0.859501}, {"rmse": 0.8595}, {})) == 1
    assert len(compare_metrics({"name": "b"}, {"name": "a"}, {"*": 1.0})) == 1   # a tolerance covers numbers only
    assert len(compare_metrics({"ok": False}, {"ok": True}, {"*": 1.0})) == 1


def test_missing_or_new_metrics_fail():
    assert "not recorded by the fresh run" in compare_metrics({}, {"a": 1.0}, {"a": 1.0})[0]
    assert "not stored" in compare_metrics({"a": 1.0, "b": 2.0}, {"a": 1.0}, {})[0]


def test_exact_names_win_over_patterns_tried_in_order():
    tol = {"*_rmse": 0.01, "hybrid_test_rmse": 0.001, "*": 0.5}
    assert tolerance_for("hybrid_test_rmse", tol) == 0.001
    assert tolerance_for("keras_mf_test_rmse", tol) == 0.01
    assert tolerance_for("keras_epochs", tol) == 0.5
    assert tolerance_for("anything", {}) is None


def test_bad_tolerances_are_refused():
    nb = nbformat.v4.new_notebook(metadata={"course": {"metric_tolerance": {"rmse": -1}}})
    with pytest.raises(ValueError, match="must be a number >= 0"):
        metric_tolerance(nb)


@pytest.mark.parametrize("prefix", ["03", "04", "05"])
def test_committed_tolerances_are_valid_and_name_recorded_metrics(prefix):
    """Every tolerance a notebook states applies to at least one metric it records (no dead entries)."""
    [path] = course.notebooks([prefix])
    tol = metric_tolerance(nbformat.read(str(path), as_version=4))
    assert tol, f"notebook {prefix} trains with TensorFlow: its metrics need stated tolerances"
    recorded = course.read_metrics(path)
    for key in tol:
        assert any(tolerance_for(name, {key: tol[key]}) is not None for name in recorded), key


def _tiny_notebook(path, stored_rmse, tolerance):
    """One cell that records rmse=0.5, stored as if it had recorded ``stored_rmse``."""
    source = "from recsys_utils.course import record_metrics\nrecord_metrics(rmse=0.5, name='a')"
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        course.METRICS_MIME: {"rmse": stored_rmse, "name": "a"},
        "text/plain": f"Headline metrics\nrmse  {stored_rmse:.4f}\nname  a"})]
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "course": {"metric_tolerance": tolerance}})
    nbformat.write(nb, str(path))


@pytest.mark.notebook
def test_nbval_fails_a_metric_outside_its_tolerance_and_passes_one_inside(tmp_path):
    """The hook really replaces nbval's byte comparison: run nbval on a tiny notebook, twice."""
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
        "from nbval_metrics import install\n\n\ndef pytest_collection_modifyitems(items):\n    install(items)\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    outcomes = {}
    for name, stored, tol in (("outside", 0.6, {"rmse": 0.05}), ("inside", 0.53, {"rmse": 0.05}),
                              ("exact", 0.5, {})):
        _tiny_notebook(tmp_path / f"{name}.ipynb", stored, tol)
        command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q",
                   f"{name}.ipynb"]
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        outcomes[name] = (run.returncode, run.stdout)
    assert outcomes["outside"][0] == 1 and "beyond the tolerance 0.05" in outcomes["outside"][1]
    assert outcomes["inside"][0] == 0, outcomes["inside"][1]
    assert outcomes["exact"][0] == 0, outcomes["exact"][1]
