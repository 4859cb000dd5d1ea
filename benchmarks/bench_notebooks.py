"""Wall-clock time of whole notebooks, default and smoke configurations, against their time budgets.

Usage (from the repository root)::

    RECSYS_DATA_HOME=/path/to/datasets .venv/bin/python benchmarks/bench_notebooks.py [--only 04 05] [--repeats 3]
        [--config default|smoke]

Each run executes a notebook top to bottom in a fresh kernel with papermill
(:func:`recsys_utils.course.execute`) into a temporary folder; the committed notebooks are left
untouched. Runs alternate (04 default, 04 smoke, 05 default, ..., then the next repeat) so that
machine noise hits every configuration alike. The script prints every run, then per notebook and
configuration the median, min and max, and the verdict against the budget the course sets for it
on an idle 2-core CPU. Times include kernel start-up and the TensorFlow import.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from recsys_utils import course

from common import machine_header, positive_int, timed

# seconds, on an idle 2-core CPU (the issues' targets); notebooks without a budget are only reported
BUDGET_S = {
    ("04", "default"): 300.0, ("04", "smoke"): 60.0,
    ("05", "default"): 480.0, ("05", "smoke"): 90.0,
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=["04", "05"], help="notebook numbers (default: 04 05)")
    p.add_argument("--repeats", type=positive_int, default=3, help="runs per notebook and configuration (default 3)")
    p.add_argument("--config", choices=["default", "smoke"], help="time one configuration only")
    return p.parse_args(argv)


def run_once(notebook, config, out_dir):
    """Seconds to execute ``notebook`` once with ``config`` ("default" or "smoke")."""
    params = course.smoke_parameters(notebook) if config == "smoke" else {}
    return timed(course.execute, notebook, Path(out_dir) / f"{notebook.stem}.{config}.ipynb", params)[1]


def main(argv=None):
    args = parse_args(argv)
    notebooks = course.notebooks(args.only)
    if not notebooks:
        raise SystemExit(f"no notebook matches --only {' '.join(args.only)}")
    print(machine_header("bench_notebooks"), flush=True)
    configs = [args.config] if args.config else ["default", "smoke"]
    times = {(nb.name[:2], c): [] for nb in notebooks for c in configs}
    with tempfile.TemporaryDirectory() as out_dir:
        for rep in range(1, args.repeats + 1):
            for nb in notebooks:
                for config in configs:
                    seconds = run_once(nb, config, out_dir)
                    times[(nb.name[:2], config)].append(seconds)
                    print(f"run {rep} {nb.name[:2]} {config:<8} {seconds:7.1f}s", flush=True)
    print(f"\nmedians over {args.repeats} run(s) (papermill, fresh kernel each):")
    for (number, config), ts in times.items():
        med = statistics.median(ts)
        budget = BUDGET_S.get((number, config))
        verdict = "" if budget is None else f"  {'within' if med <= budget else 'OVER'} the {budget:.0f}s budget"
        print(f"  {number} {config:<8} median {med:7.1f}s  (min {min(ts):.1f}s, max {max(ts):.1f}s){verdict}")


if __name__ == "__main__":
    main()
