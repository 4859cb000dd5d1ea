"""benchmarks/bench_ranks.py runs end to end on a tiny input in seconds and leaves benchmarks/results/ alone."""
from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

from helpers import BENCHMARKS, import_benchmark

pytestmark = pytest.mark.usefixtures("benchmark_results_untouched")
TINY = ["--max-ratings", "3000", "--als-ranks", "2", "5", "--bpmf-ranks", "2", "--seeds", "1", "2",
        "--bpmf-seed-ranks", "2", "--n-samples", "8", "--burn-in", "2"]


def bench_ranks():
    return import_benchmark("bench_ranks")


def test_importing_it_has_no_side_effects(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pytest", "--not-a-benchmark-option"])
    blas = {var: os.environ.get(var) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    sys.modules.pop("bench_ranks", None)
    assert callable(bench_ranks().main)
    assert capsys.readouterr() == ("", "")
    assert {var: os.environ.get(var) for var in blas} == blas


def test_tiny_run_writes_the_rows_where_told(tmp_path, capsys):
    out = tmp_path / "ranks.csv"
    table = bench_ranks().main([*TINY, "--output", str(out)])
    rows = pd.read_csv(out)
    assert len(rows) == len(table) == 2 * 2 * 2 + 2  # two ALS penalties x two ranks x two seeds, BPMF two chains
    assert set(rows["model"]) == {"ALS, weak λ", "ALS, tuned λ", "BPMF (Gibbs)"}
    bpmf = rows[rows["model"] == "BPMF (Gibbs)"]
    assert list(bpmf["seed"]) == [1, 2] and (bpmf["n_samples"] == 8).all() and bpmf["reg"].isna().all()
    assert rows["test_rmse"].between(0.5, 1.5).all() and (rows["fit_s"] > 0).all()
    assert "wrote" in capsys.readouterr().out


def test_nothing_is_written_without_output(tmp_path, monkeypatch, capsys):
    module = bench_ranks()
    assert module.parse_args(["--output"]).output == BENCHMARKS / "results" / "ranks.csv"
    assert module.parse_args([]).output is None
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    module.main([*TINY[:-4], "--n-samples", "4", "--burn-in", "1"])
    assert "wrote" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_bad_burn_in_fails_in_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        bench_ranks().parse_args(["--n-samples", "10", "--burn-in", "10"])
    assert info.value.code == 1
    assert "--burn-in must be in 0..9" in capsys.readouterr().err
