"""Run the course: execute notebooks headless and collect their headline metrics.

Command line (``make run`` / ``make smoke`` / ``make notebooks`` call it)::

    python -m recsys_utils.course run [--smoke] [--dataset ml-100k] [--only 01 02] [--output output]
    python -m recsys_utils.course refresh [--only 03]   # re-execute committed notebooks in place
    python -m recsys_utils.course refresh --solutions [--only 03]   # the same for solutions/NN_solutions.ipynb
    python -m recsys_utils.course table [--write|--check]   # the results ledger (recsys_utils.ledger)
    python -m recsys_utils.course metrics               # every metric stored in the committed notebooks

Conventions every notebook follows
----------------------------------
* its first code cell is tagged ``parameters`` and holds UPPER-CASE settings
  (``SEED``, ``DATASET``, ``N_EPOCHS`` ...) that papermill can override;
* its fast *smoke* configuration is stored in the notebook metadata under
  ``course.smoke_parameters`` (a dict of those settings);
* it ends by calling :func:`record_metrics` with its headline numbers, which
  shows them as a table and stores them in the output under
  :data:`METRICS_MIME`, where :func:`read_metrics` finds them.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .kernel import kernel_manager_class

__all__ = ["record_metrics", "read_metrics", "notebooks", "solutions", "notebook_parameters", "smoke_parameters",
           "execute", "run", "table"]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
SOLUTION_DIR = ROOT / "solutions"  # solutions/NN_solutions.ipynb: the worked exercises of notebook NN
METRICS_MIME = "application/vnd.recsys-course.metrics+json"
METRIC_DECIMALS = 6


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def record_metrics(**metrics):
    """Show a notebook's headline metrics and store them for the tests and ``make run``.

    Values must be JSON numbers, strings or booleans.
    """
    from IPython.display import display

    clean = {}
    for k, v in metrics.items():
        if hasattr(v, "item"):  # numpy scalar
            v = v.item()
        if not isinstance(v, (int, float, str, bool)):
            raise TypeError(f"metric {k!r} must be a number, string or bool, not {type(v).__name__}")
        if isinstance(v, float):
            # stored rounded: the last bits of a float vary with BLAS threading, and
            # nbval compares stored outputs exactly
            v = round(v, METRIC_DECIMALS)
        clean[k] = v
    width = max(map(len, clean), default=0)
    text = "\n".join(f"{k:<{width}}  {_fmt(v)}" for k, v in clean.items())
    display({METRICS_MIME: clean, "text/plain": "Headline metrics\n" + text}, raw=True)


def read_metrics(nb) -> dict:
    """The metrics a notebook recorded (a path or a loaded nbformat notebook)."""
    import nbformat

    if not hasattr(nb, "cells"):
        nb = nbformat.read(str(nb), as_version=4)
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if METRICS_MIME in data:
                found.update(data[METRICS_MIME])
    return found


def _numbered(folder: Path, pattern: str, only=None) -> list[Path]:
    """Files of ``folder`` matching ``pattern``, in name order; with ``only``, those starting with its prefixes."""
    paths = sorted(folder.glob(pattern))
    return [p for p in paths if any(p.name.startswith(o) for o in only)] if only else paths


def notebooks(only=None) -> list[Path]:
    """The course notebooks in order (``NN_name.ipynb``), optionally filtered by prefix."""
    return _numbered(NOTEBOOK_DIR, "[0-9][0-9]_*.ipynb", only)


def solutions(only=None) -> list[Path]:
    """The exercise solutions in order (``solutions/NN_solutions.ipynb``), optionally filtered by prefix."""
    return _numbered(SOLUTION_DIR, "[0-9][0-9]_solutions.ipynb", only)


def smoke_parameters(path) -> dict:
    """The fast configuration stored in the notebook's metadata."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return dict(nb.metadata.get("course", {}).get("smoke_parameters", {}))


def notebook_parameters(prefix: str, smoke: bool = False) -> dict:
    """The literal values of notebook ``prefix``'s ``parameters`` cell, with its smoke parameters on top if ``smoke``.

    Tests and benchmarks read grids and limits (``REGS``, ``N_EPOCHS``) from here instead of copying them; a
    setting that is an expression rather than a literal is left out.
    """
    [path] = notebooks([prefix])
    params = parameters_of(path)
    if smoke:
        params.update(smoke_parameters(path))
    return params


def parameters_of(path) -> dict:
    """The literal values of the ``parameters`` cell of the notebook at ``path`` (expressions left out)."""
    import ast

    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    [cell] = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    params = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                params[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:  # an expression, not a literal
                pass
    return params


def execute(path, output, parameters=None, timeout=None):
    """Execute ``path`` with papermill into ``output`` (fresh kernel, working directory: ``path``'s folder)."""
    import papermill as pm

    return pm.execute_notebook(
        str(path),
        str(output),
        parameters=parameters or {},
        cwd=str(Path(path).resolve().parent),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=timeout,
        kernel_manager_class=kernel_manager_class(),
    )


def run(smoke=False, dataset=None, only=None, output="output", stream=sys.stdout) -> int:
    """Execute every notebook, print notebook / status / time / metrics; return an exit code."""
    out_dir = Path(output)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, failed = [], 0
    paths = notebooks(only)
    if not paths:
        print(f"no notebooks match {only!r} in {NOTEBOOK_DIR}", file=stream)
        return 2
    for path in paths:
        params = smoke_parameters(path) if smoke else {}
        if dataset:
            params["DATASET"] = dataset
        print(f"running {path.name} {json.dumps(params) if params else ''}", file=stream, flush=True)
        start = time.perf_counter()
        try:
            nb = execute(path, out_dir / path.name, params)
            status, metrics = "ok", read_metrics(nb)
        except Exception as exc:  # report and go on with the next notebook
            failed += 1
            message = str(exc).strip()
            status, metrics = "FAILED", {"error": message.splitlines()[-1][:120] if message else type(exc).__name__}
        rows.append((path.name, status, time.perf_counter() - start, metrics))
    print(_table(rows), file=stream)
    _write_metrics_csv(rows, out_dir / "metrics.csv")
    print(f"executed notebooks and every metric (metrics.csv) are in {out_dir}/", file=stream)
    return 1 if failed else 0


WIDTH = 100  # the run table fits a terminal of this many columns


def _headline(metrics, room) -> str:
    """Up to three metrics that fit in ``room`` characters: test RMSEs and NDCGs first, else the first ones."""
    keys = [k for k in metrics if "test_rmse" in k or "ndcg" in k or k == "error"] or list(metrics)
    shown = []
    for k in keys[:3]:
        item = f"{k}={_fmt(metrics[k])}"
        if len(", ".join([*shown, item])) > room:
            break
        shown.append(item)
    return ", ".join(shown)


def _table(rows) -> str:
    """One line per notebook within WIDTH columns: short name, status, seconds, 2-3 headline metrics."""
    names = [r[0].removesuffix(".ipynb") for r in rows]
    w = min(max([len("notebook")] + [len(n) for n in names]), 28)
    head = f"{'notebook':<{w}} {'status':<6} {'time':>7}  "
    lines = ["", head + "headline metrics (all of them: metrics.csv)", "-" * WIDTH]
    for name, (_, status, secs, metrics) in zip(names, rows):
        lines.append(f"{name[:w]:<{w}} {status:<6} {secs:>6.1f}s  {_headline(metrics, WIDTH - len(head))}")
    return "\n".join(lines)


def _write_metrics_csv(rows, path):
    """Every recorded metric, one row each: notebook, metric, value."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["notebook", "metric", "value"])
        for name, _, _, metrics in rows:
            for k, v in metrics.items():
                out.writerow([name, k, v])


def refresh(only=None, solutions_only=False) -> int:
    """Re-execute notebooks (or, with ``solutions_only``, the solutions) in place with their default parameters."""
    for path in (solutions(only) if solutions_only else notebooks(only)):
        start = time.perf_counter()
        print(f"refreshing {path.name} ...", flush=True)
        nb = execute(path, path)
        _strip_papermill_metadata(path)
        print(f"  done in {time.perf_counter() - start:.1f}s: {read_metrics(nb)}", flush=True)
    return 0


def _strip_papermill_metadata(path):
    """Drop papermill's run-specific metadata (timestamps, durations) so diffs stay small."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "tags" in cell.metadata and not cell.metadata["tags"]:
            del cell.metadata["tags"]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, str(path))


def table(write=False, check=False, stream=sys.stdout) -> int:
    """Print the course's results ledger; ``write`` regenerates README.md's block and docs/article_claims.md.

    Both are generated from the stored notebooks' metrics. Returns 1 under ``check`` when either is stale.
    """
    from . import claims, ledger

    metrics = {p.name[:2]: read_metrics(p) for p in notebooks()}
    readme_path, claims_path = ROOT / "README.md", ROOT / claims.CLAIMS_PATH
    readme = readme_path.read_text(encoding="utf-8")
    generated = {readme_path: ledger.update_readme(readme, metrics),
                 claims_path: claims.claims_markdown(metrics)}
    stale = [p for p, text in generated.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} is stale: run `python -m recsys_utils.course table --write`", file=stream)
        if not stale:
            print("README.md's results ledger and docs/article_claims.md are up to date", file=stream)
        return 1 if stale else 0
    if write:
        for p in stale:   # write a temporary file, then rename: never a half-written page
            tmp = p.with_name(p.name + ".tmp")
            tmp.write_text(generated[p], encoding="utf-8")
            tmp.replace(p)
    print(ledger.ledger_markdown(metrics), file=stream)
    return 0


def stored_metrics(only=None, stream=sys.stdout) -> int:
    """Print every headline metric stored in the committed notebooks (no execution)."""
    rows = [(p.name, "stored", 0.0, read_metrics(p)) for p in notebooks(only)]
    lines = ["| notebook | headline metrics (stored outputs) |", "|---|---|"]
    for name, _, _, metrics in rows:
        m = ", ".join(f"{k}={_fmt(v)}" for k, v in metrics.items())
        lines.append(f"| [{name}](notebooks/{name}) | {m} |")
    print("\n".join(lines), file=stream)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recsys_utils.course", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="execute every notebook into an output folder and print a table")
    p_run.add_argument("--smoke", action="store_true", help="use each notebook's fast smoke parameters")
    p_run.add_argument("--dataset", help="DATASET for every notebook, e.g. ml-100k")
    p_run.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 01 03")
    p_run.add_argument("--output", default="output", help="folder for the executed copies")
    p_ref = sub.add_parser("refresh", help="re-execute the committed notebooks in place")
    p_ref.add_argument("--only", nargs="*")
    p_ref.add_argument("--solutions", action="store_true", help="refresh solutions/NN_solutions.ipynb instead")
    p_tab = sub.add_parser("table", help="print the course's results ledger (README.md's results table)")
    mode = p_tab.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="also rewrite README.md's generated ledger block")
    mode.add_argument("--check", action="store_true", help="exit 1 if README.md's ledger block is stale")
    p_met = sub.add_parser("metrics", help="print every metric stored in the committed notebooks")
    p_met.add_argument("--only", nargs="*")
    args = parser.parse_args(argv)
    if args.cmd == "run":
        return run(args.smoke, args.dataset, args.only, args.output)
    if args.cmd == "table":
        return table(args.write, args.check)
    if args.cmd == "metrics":
        return stored_metrics(args.only)
    return refresh(args.only, args.solutions)


if __name__ == "__main__":
    sys.exit(main())
