"""Wall-clock time of notebook 05 (training vs test error), default and smoke configurations.

Usage (from the repository root)::

    RECSYS_DATA_HOME=/path/to/datasets .venv/bin/python benchmarks/bench_nb05.py [--repeats 3] [--only smoke]

Each run executes ``notebooks/05_train_vs_test_error.ipynb`` top to bottom in a fresh kernel
with papermill (:func:`recsys_utils.course.execute`) into a temporary folder, the committed
notebook is left untouched. The two configurations alternate (default, smoke, default, ...)
so that machine noise hits both alike; the script prints every run, then the medians, the
ratio default / smoke, and the time budgets (default under 6 minutes, smoke under 90 s on
an idle 2-core CPU). The times include kernel start-up and the TensorFlow import.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from recsys_utils import course

NOTEBOOK = course.NOTEBOOK_DIR / "05_train_vs_test_error.ipynb"
BUDGET_S = {"default": 360.0, "smoke": 90.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="runs per configuration (default 3)")
    p.add_argument("--only", choices=sorted(BUDGET_S), help="time one configuration only")
    return p.parse_args(argv)


def run_once(config, out_dir):
    """Seconds to execute the notebook once with ``config`` ("default" or "smoke")."""
    params = course.smoke_parameters(NOTEBOOK) if config == "smoke" else {}
    start = time.perf_counter()
    course.execute(NOTEBOOK, Path(out_dir) / f"05.{config}.ipynb", params)
    return time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)
    configs = [args.only] if args.only else ["default", "smoke"]
    times = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as out_dir:
        for rep in range(1, args.repeats + 1):
            for config in configs:
                seconds = run_once(config, out_dir)
                times[config].append(seconds)
                print(f"run {rep} {config:<8} {seconds:7.1f}s", flush=True)
    print(f"\nnotebook 05, medians over {args.repeats} runs (papermill, fresh kernel each):")
    for config, ts in times.items():
        med = statistics.median(ts)
        verdict = "within" if med <= BUDGET_S[config] else "OVER"
        print(f"  {config:<8} median {med:7.1f}s  (min {min(ts):.1f}s, max {max(ts):.1f}s)  "
              f"{verdict} the {BUDGET_S[config]:.0f}s budget")
    if len(configs) == 2:
        print(f"  ratio default / smoke: {statistics.median(times['default']) / statistics.median(times['smoke']):.1f}")


if __name__ == "__main__":
    main()
