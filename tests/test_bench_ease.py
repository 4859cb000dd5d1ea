"""benchmarks/bench_ease.py runs end to end on a tiny input, in seconds, and leaves benchmarks/results/ alone."""
from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

from helpers import BENCHMARKS, import_benchmark

pytestmark = pytest.mark.usefixtures("benchmark_results_untouched")
TINY = ["--max-items", "300", "--repeats", "1", "--grid", "100", "300", "--neighbors", "20", "all",
        "--shrinkage", "0"]








def test_importing_it_has_no_side_effects(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pytest", "--not-a-benchmark-option"])
    blas = {var: os.environ.get(var) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    sys.modules.pop("bench_ease", None)
    assert callable(bench_ease().main)
    assert capsys.readouterr() == ("", "")
    assert {var: os.environ.get(var) for var in blas} == blas


def test_tiny_run_writes_the_table_where_told(tmp_path, capsys):
    out = tmp_path / "ease.csv"
    bench_ease().main(TINY + ["--output", str(out)])
    printed = capsys.readouterr().out
    assert "603 users x 300 items in train" in printed and "float32 vs float64" in printed
    rows = pd.read_csv(out)
    valid, test = rows[rows["stage"] == "validation"], rows[rows["stage"] == "test"]
    assert sorted(valid["params"]) == ["k=20 shrink=0", "k=all shrink=0", "lambda=100", "lambda=300"]
    assert list(test["model"]) == ["popularity", "EASE", "EASE", "EASE", "EASE", "ItemKNN"]
    ease = test[test["model"] == "EASE"]
    assert set(zip(ease["dtype"], ease["solver"])) == {(d, s) for d in ("float64", "float32")
                                                       for s in ("cholesky", "woodbury")}
    assert ease["ndcg@10"].max() - ease["ndcg@10"].min() < 1e-3  # same B whatever the dtype and solver
    assert ease["ndcg@10"].iloc[0] > test.loc[test["model"] == "popularity", "ndcg@10"].iloc[0]
    assert rows["ndcg@10"].between(0, 1).all() and (ease["fit_s"] > 0).all()


def test_nothing_is_written_without_output(tmp_path, monkeypatch, capsys):
    module = bench_ease()
    assert module.parse_args(["--output"]).output == BENCHMARKS / "results" / "ease.csv"
    assert module.parse_args([]).output is None
    assert module.parse_args(["--neighbors", "all", "5"]).neighbors == [None, 5]
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    module.main(["--max-items", "100", "--repeats", "1", "--grid", "100", "--neighbors", "20", "--shrinkage", "0"])
    assert "wrote" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def bench_ease():
    return import_benchmark("bench_ease")
