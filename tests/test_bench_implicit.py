"""benchmarks/bench_implicit.py runs end to end on a tiny input, in seconds, and leaves benchmarks/results/ alone."""
from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

from helpers import BENCHMARKS, import_benchmark

pytestmark = pytest.mark.usefixtures("benchmark_results_untouched")
TINY = ["--max-users", "25", "--repeats", "2", "--threads", "1", "--epochs", "3", "--factors", "8"]


def bench_implicit():
    return import_benchmark("bench_implicit")


def test_importing_it_has_no_side_effects(monkeypatch, capsys):
    """No argument parsing, no output, no BLAS limit, and not even `implicit` imported until main() runs."""
    monkeypatch.setattr(sys, "argv", ["pytest", "--not-a-benchmark-option"])
    blas = {var: os.environ.get(var) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    sys.modules.pop("bench_implicit", None)
    assert callable(bench_implicit().main)
    assert capsys.readouterr() == ("", "")
    assert {var: os.environ.get(var) for var in blas} == blas


def test_default_output_is_the_results_file():
    args = bench_implicit().parse_args([])
    assert args.output == BENCHMARKS / "results" / "implicit.csv"
    assert (args.repeats, args.threads, args.factors, args.reg, args.alpha, args.epochs, args.cg_steps) == \
        (5, [1, 2], 32, 5.0, 5.0, 10, 3)  # notebook 06's IALS_* parameters, median of 5 runs


def test_tiny_run_writes_the_table_where_told(tmp_path, capsys):
    pytest.importorskip("implicit", reason="the implicit package (the bench extra) is missing: pip install -e .[bench]")
    out = tmp_path / "implicit.csv"
    bench_implicit().main(TINY + ["--output", str(out)])
    printed = capsys.readouterr().out
    assert "25 users" in printed and "confidence 6 (ours alpha=5, implicit alpha=6)" in printed
    assert "target at 1 thread(s): ours CG float32" in printed and f"wrote {out}" in printed
    rows = pd.read_csv(out)
    assert list(zip(rows["model"], rows["solver"], rows["dtype"])) == [
        ("ours", "exact", "float64"), ("ours", "cg", "float64"), ("ours", "cg", "float32"),
        ("implicit", "cg", "float32"), ("implicit", "cholesky", "float32")]
    assert {"n_factors", "reg", "alpha", "confidence", "n_epochs", "cg_steps", "threads", "runs", "ndcg@10",
            "recall@10", "ndcg_seed42", "fit_s", "fit_s_min", "time_ratio", "cpu_s", "cpu_ratio",
            "ndcg_diff"} <= set(rows.columns)
    assert (rows["runs"] == 2).all() and (rows["threads"] == 1).all() and (rows["n_factors"] == 8).all()
    assert rows["confidence"].eq(6.0).all()
    assert list(rows["alpha"]) == [5.0, 5.0, 5.0, 6.0, 6.0]  # implicit's confidence is alpha * 1, ours 1 + alpha
    assert list(rows["cg_steps"]) == [0, 3, 3, 3, 0]
    ref = rows[(rows["model"] == "implicit") & (rows["solver"] == "cg")].iloc[0]
    assert ref["time_ratio"] == 1.0 and ref["cpu_ratio"] == 1.0 and ref["ndcg_diff"] == 0.0
    assert rows["ndcg@10"].between(0, 1).all() and (rows["fit_s"] > 0).all()
    assert (rows["fit_s_min"] <= rows["fit_s"]).all()
    # float32 changes the arithmetic, not the lists: same NDCG as the float64 CG to the fourth decimal
    cg = rows[(rows["model"] == "ours") & (rows["solver"] == "cg")]
    assert cg["ndcg@10"].max() - cg["ndcg@10"].min() < 1e-3


def test_it_says_in_one_line_when_implicit_is_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "implicit", None)  # import implicit -> ImportError
    with pytest.raises(SystemExit) as exit_info:
        bench_implicit().main(TINY + ["--output", str(tmp_path / "x.csv")])
    assert exit_info.value.code == 1
    assert list(tmp_path.iterdir()) == []
