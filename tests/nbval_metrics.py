"""nbval and TensorFlow: what CI compares exactly, and what it compares with a stated tolerance.

nbval re-executes every notebook and compares each code cell's fresh output with the stored one, byte for
byte (after ``tests/nbval_sanitize.cfg``). TensorFlow's thread pools are fixed at import
(``recsys_utils.keras_models.backend``), so one machine gives the same numbers on any core count; another CPU
type (another instruction set) still changes the last digits of anything TensorFlow trained. The convention,
for any notebook that trains with TensorFlow:

* a cell whose output shows numbers from TensorFlow training carries nbval's ``nbval-ignore-output`` tag
  (it still has to run without error); cells are split so that data, counts and NumPy/SciPy results stay in
  cells that are compared exactly;
* the cell that calls :func:`recsys_utils.course.record_metrics` (its stored output carries
  :data:`recsys_utils.course.METRICS_MIME`) is compared by :func:`compare_metrics` instead of byte for byte:
  fresh against stored metrics, key by key. A metric named in the notebook's metadata
  ``course.metric_tolerance`` (a dict ``{name or fnmatch pattern: absolute tolerance}``; an exact name wins
  over a pattern, patterns are tried in order) may differ by at most that tolerance; every other metric
  (strings, booleans, numbers without a tolerance) must be equal, so exact is the default. Both runs must
  record the same keys. The cell's other outputs (the metrics table shown as text) are not compared, since
  they show the same metrics; any further output of that cell is compared as nbval would.

``notebooks/conftest.py`` installs the hook for nbval's cell items; ``tests/test_nbval_metrics.py`` shows that
a metric outside its tolerance fails the cell. The tests of each notebook use :func:`tolerance_for` to check
the notebook's recorded numbers against ``benchmarks/results/seeds.csv`` with the same tolerances.
"""
from __future__ import annotations

import fnmatch
import math
import types

from recsys_utils.course import METRICS_MIME

__all__ = ["metric_tolerance", "tolerance_for", "compare_metrics", "metrics_in", "install",
           "disagreements_with_seed_row"]


def metric_tolerance(nb) -> dict:
    """The notebook's ``course.metric_tolerance`` metadata: ``{name or pattern: tolerance}`` (empty: all exact)."""
    tolerance = dict(nb.metadata.get("course", {}).get("metric_tolerance", {}))
    for key, value in tolerance.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"course.metric_tolerance[{key!r}] must be a number >= 0, got {value!r}")
    return tolerance


def tolerance_for(name: str, tolerance: dict) -> float | None:
    """The absolute tolerance for metric ``name`` (exact name first, then patterns in order); None: exact."""
    if name in tolerance:
        return float(tolerance[name])
    for pattern, value in tolerance.items():
        if fnmatch.fnmatchcase(name, pattern):
            return float(value)
    return None


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compare_metrics(fresh: dict, stored: dict, tolerance: dict) -> list[str]:
    """Every way ``fresh`` differs from ``stored`` beyond ``tolerance``, one line each (empty: they agree)."""
    problems = []
    for key in sorted(set(stored) - set(fresh)):
        problems.append(f"{key}: stored {stored[key]!r}, not recorded by the fresh run")
    for key in sorted(set(fresh) - set(stored)):
        problems.append(f"{key}: recorded by the fresh run ({fresh[key]!r}), not stored")
    for key in [k for k in stored if k in fresh]:
        old, new = stored[key], fresh[key]
        tol = tolerance_for(key, tolerance)
        if tol is not None and _is_number(old) and _is_number(new):
            if not (math.isfinite(old) and math.isfinite(new)) or abs(new - old) > tol:
                problems.append(f"{key}: stored {old!r}, fresh {new!r}, difference {new - old:+.6g} "
                                f"beyond the tolerance {tol:g}")
        elif type(old) is not type(new) or old != new:
            problems.append(f"{key}: stored {old!r}, fresh {new!r} (compared exactly"
                            + ("" if tol is None else f"; the tolerance {tol:g} applies to numbers only") + ")")
    return problems


def metrics_in(outputs) -> dict | None:
    """The metrics recorded in a list of cell outputs, or None when no output carries them."""
    found = None
    for out in outputs:
        data = out.get("data", {}) if hasattr(out, "get") else {}
        if METRICS_MIME in data:
            found = {**(found or {}), **data[METRICS_MIME]}
    return found


def _compare_with_tolerance(item, test, ref, skip_compare=None, *, tolerance, original):
    """nbval's ``compare_outputs`` for the metrics cell: metrics with tolerances, the rest as nbval would."""
    problems = compare_metrics(metrics_in(test) or {}, metrics_in(ref) or {}, tolerance)
    if problems:
        item.comparison_traceback = ["recorded metrics differ (tolerances: notebook metadata course.metric_tolerance):",
                                     *problems]
        return False
    rest = [[o for o in outs if metrics_in([o]) is None] for outs in (test, ref)]
    return original(*rest, skip_compare)


def install(items) -> int:
    """Switch the metrics cell of every collected notebook to :func:`compare_metrics`; returns how many."""
    n = 0
    for item in items:
        cell = getattr(item, "cell", None)
        if type(item).__name__ != "IPyNbCell" or cell is None or metrics_in(cell.get("outputs", [])) is None:
            continue
        tolerance = metric_tolerance(item.parent.nb)
        original = item.compare_outputs

        def compare(self, test, ref, skip_compare=None, _tol=tolerance, _orig=original):
            return _compare_with_tolerance(self, test, ref, skip_compare, tolerance=_tol, original=_orig)

        item.compare_outputs = types.MethodType(compare, item)
        n += 1
    return n


def disagreements_with_seed_row(prefix: str, seeds_csv=None) -> tuple[int, list[str]]:
    """Notebook ``prefix``'s recorded metrics against benchmarks/results/seeds.csv's row for its own SEED.

    The benchmark trains the notebook's models through the same functions; the row for the notebook's seed
    must agree with the notebook's run within the notebook's tolerances (exact metrics: to the 6 decimals
    that :func:`recsys_utils.course.record_metrics` keeps). Returns ``(metrics compared, problems)``.
    """
    import nbformat
    import pandas as pd

    from recsys_utils import course

    [path] = course.notebooks([prefix])
    nb = nbformat.read(str(path), as_version=4)
    params = _literal_parameters(nb)
    seed, dataset = params["SEED"], params["DATASET"]
    rows = pd.read_csv(seeds_csv or course.ROOT / "benchmarks" / "results" / "seeds.csv", dtype={"notebook": str})
    rows = rows[(rows["notebook"] == prefix) & (rows["dataset"] == dataset) & (rows["seed"] == seed)]
    stored = course.read_metrics(path)
    bench = {r.metric: float(r.value) for r in rows.itertuples() if r.metric in stored}
    tolerance = metric_tolerance(nb)
    effective = {k: max(tolerance_for(k, tolerance) or 0.0, 1.5e-6) for k in bench}
    return len(bench), compare_metrics(bench, {k: stored[k] for k in bench}, effective)


def _literal_parameters(nb) -> dict:
    import ast

    [cell] = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    return {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(cell.source).body
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)}
