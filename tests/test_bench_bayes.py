"""benchmarks/bench_bayes.py runs end to end on a tiny input in seconds and leaves benchmarks/results/ alone."""
from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

from helpers import import_benchmark

pytestmark = pytest.mark.usefixtures("benchmark_results_untouched")
TINY = ["--datasets", "ml-latest-small", "--max-ratings", "3000", "--n-samples", "12", "--burn-in", "4", "--no-myfm"]






def test_importing_has_no_side_effects(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pytest", "--not-a-benchmark-option"])
    blas = {var: os.environ.get(var) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    sys.modules.pop("bench_bayes", None)
    assert callable(bench_bayes().main)
    assert capsys.readouterr() == ("", "")
    assert {var: os.environ.get(var) for var in blas} == blas


def test_tiny_run_writes_only_where_told(tmp_path, capsys):
    csv = tmp_path / "bayes.csv"
    table = bench_bayes().main([*TINY, "--csv", str(csv)])
    rows = pd.read_csv(csv)
    assert list(rows["model"]) == ["ours BPMF (beta sampled)", "ours BPMF (beta=2, paper)"] == list(table["model"])
    assert (rows["split"] == "course").all() and rows["rmse"].between(0.5, 1.5).all()
    assert (rows["fit_s"] > 0).all() and rows["time_ratio"].isna().all()  # no peer, no ratio
    out = capsys.readouterr().out
    assert "ml-latest-small course: 2,4" in out and "rows written to" in out and "target" not in out


def test_a_smoke_run_writes_no_csv_by_default(capsys):
    bench_bayes().main(TINY)  # the benchmark_results_untouched fixture checks benchmarks/results/
    assert "rows written" not in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--n-samples", "10", "--burn-in", "10"], "--burn-in must be in 0..9"),
    (["--burn-in", "-1"], "--burn-in must be in 0..299"),
])
def test_bad_options_fail_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        bench_bayes().main(argv)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_targets_are_judged_on_our_default_model():
    row = pd.Series(dict(dataset="ml-100k", split="u1", rmse=0.905, fit_s=12.0))
    assert bench_bayes().verdict(row).endswith("met (0.9050, 12.0 s)")
    assert "NOT met" in bench_bayes().verdict(row.replace(12.0, 61.0))
    assert "NOT met" in bench_bayes().verdict(pd.Series(dict(dataset="ml-latest-small", split="course",
                                                              rmse=0.86, fit_s=1.0)))


def bench_bayes():
    return import_benchmark("bench_bayes")
