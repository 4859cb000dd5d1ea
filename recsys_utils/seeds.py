"""Verdicts over seeds: a difference is called only where it exceeds the run-to-run spread.

``benchmarks/bench_seeds.py`` trains notebooks 03-05's TensorFlow models (and the NumPy models they are
compared with) for several seeds and writes one row per notebook, metric and seed to
``benchmarks/results/seeds.csv``. A notebook reads its rows with :func:`load_seeds` and prints

* every model as ``mean ± spread``, where the **spread is max − min over the seeds** (:func:`fmt`);
* a verdict word only where the two means differ by more than the larger of the two spreads
  (:func:`verdict`), and otherwise "no measurable difference at this budget".

A reference measured once (no seeds, e.g. Surprise's SVD from ``results/mf.csv``) has spread 0.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["NO_DIFFERENCE", "load_seeds", "Measured", "measured", "fmt", "measurable", "verdict", "described"]

NO_DIFFERENCE = "no measurable difference at this budget"


def load_seeds(path, notebook, dataset) -> pd.DataFrame:
    """The benchmark's values for ``notebook`` ("04") on ``dataset``: a table metric x seed (empty if none)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame()
    rows = pd.read_csv(path, dtype={"notebook": str})
    rows = rows[(rows["notebook"] == notebook) & (rows["dataset"] == dataset)]
    return rows.pivot_table(index="metric", columns="seed", values="value", aggfunc="first")


class Measured:
    """One quantity over seeds (or a single reference value): ``mean``, ``spread`` (max − min), ``n``."""

    def __init__(self, values):
        values = np.atleast_1d(np.asarray(values, dtype=float))
        values = values[~np.isnan(values)]
        if not len(values):
            raise ValueError("no values: the benchmark has no row for this metric")
        self.values = values
        self.mean = float(values.mean())
        self.spread = float(values.max() - values.min())
        self.n = len(values)

    def __repr__(self):
        return fmt(self)


def measured(table: pd.DataFrame, metric: str) -> Measured:
    """``metric``'s values over the seeds of a :func:`load_seeds` table."""
    if metric not in table.index:
        raise KeyError(f"{metric!r} is not in the seeds table: re-run benchmarks/bench_seeds.py")
    return Measured(table.loc[metric].to_numpy())


def fmt(m: Measured, digits: int = 4) -> str:
    """``0.8578 ± 0.0012`` (mean ± max−min spread over the seeds), or the value alone for a single run."""
    return f"{m.mean:.{digits}f}" if m.n == 1 else f"{m.mean:.{digits}f} ± {m.spread:.{digits}f}"


def measurable(a: Measured, b: Measured) -> bool:
    """True when the means differ by more than the larger of the two spreads."""
    return abs(a.mean - b.mean) > max(a.spread, b.spread)


def verdict(a: Measured, b: Measured, if_lower: str, if_higher: str) -> str:
    """``if_lower`` when a's mean is measurably below b's, ``if_higher`` when above, else :data:`NO_DIFFERENCE`."""
    if not measurable(a, b):
        return NO_DIFFERENCE
    return if_lower if a.mean < b.mean else if_higher


def described(table: pd.DataFrame) -> str:
    """Which seeds a :func:`load_seeds` table holds and what ``±`` means, for a notebook to print once."""
    seeds = ", ".join(str(s) for s in table.columns)
    return f"mean ± spread (max − min) over seeds {seeds}, from benchmarks/bench_seeds.py"
