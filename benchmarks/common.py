"""What every benchmark shares: where results go, the machine header, timing, BLAS threads, CSV output.

The benchmarks are scripts (``python benchmarks/bench_x.py``), so this module is imported as ``common``:
Python puts the script's folder first on ``sys.path``; tests/test_benchmarks.py does the same.
Importing a benchmark has no side effects: each one parses its arguments in ``main(argv)``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def machine_header(name: str, **extra) -> str:
    """One line naming the benchmark and the machine it ran on, to print before the results."""
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    parts = [f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs{load}",
             f"python {platform.python_version()}"]
    parts += [f"{key.replace('_', ' ')} {value}" for key, value in extra.items()]
    return f"{name}: " + ", ".join(parts)


def timed(fn: Callable, *args, **kwargs) -> tuple[object, float]:
    """``(fn(*args, **kwargs), wall-clock seconds)``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def seconds(fn: Callable, repeats: int = 1, warmup: int = 0, summary: Callable = statistics.median) -> float:
    """``summary`` (median, or ``min`` for the fastest) of ``repeats`` timed calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    return summary([timed(fn)[1] for _ in range(repeats)])


def blas_env(threads: int) -> dict:
    """Environment variables that limit NumPy's BLAS to ``threads`` threads (read once, when NumPy loads)."""
    return {var: str(threads) for var in BLAS_VARS}


def limit_blas_threads_from_argv(argv: list[str], default: int) -> None:
    """Apply ``--threads`` from the command line before NumPy is imported (call it under ``__main__`` only).

    BLAS reads its thread count once, when NumPy is first imported, so a script sets it before its imports;
    a benchmark imported by a test leaves the environment alone.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--threads", type=int, default=default)
    os.environ.update(blas_env(parser.parse_known_args(argv)[0].threads))


def blas_threads() -> str:
    """The BLAS thread limit in force, for the header ('unlimited' when none was set)."""
    return os.environ.get("OPENBLAS_NUM_THREADS", "unlimited")


def write_csv(table, path) -> Path:
    """Write a pandas table to ``path`` atomically (never a half-written results file); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    table.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def shown(path) -> str:
    """``path`` relative to the repository when inside it, for messages."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def fail(message: str):
    """Stop a benchmark with one line on stderr and exit status 1 (no traceback)."""
    print(message, file=sys.stderr)
    raise SystemExit(1)


def cached_datasets(names, max_ratings=None, seed=0):
    """Yield ``(name, data set, ratings)`` for each cached data set; print why one is skipped.

    ``ratings`` is the whole table, or a seeded sample of ``max_ratings`` rows for a smoke run. Nothing
    is downloaded: a set missing from the data home (ml-100k without RECSYS_DATA_HOME) is skipped.
    """
    from recsys_utils import load_movielens

    for name in names:
        try:
            ds = load_movielens(name, download_if_missing=False)
        except Exception as exc:  # not in the data home
            print(f"skipping {name}: {str(exc).splitlines()[0]}")
            continue
        ratings = ds.ratings
        if max_ratings and max_ratings < len(ratings):
            ratings = ratings.sample(max_ratings, random_state=seed)
        yield name, ds, ratings
