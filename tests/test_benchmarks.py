"""Every benchmark runs end to end on a tiny input, in seconds, and leaves benchmarks/results/ alone.

The timings themselves are not checked (they depend on the machine); that each script still runs, writes
where it is told and refuses bad options with one clear line is.
"""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

from helpers import BENCHMARKS
from helpers import import_benchmark as bench

BENCH = BENCHMARKS
pytestmark = pytest.mark.usefixtures("benchmark_results_untouched")
SCRIPTS = ["bench_bayes", "bench_deep", "bench_ease", "bench_implicit", "bench_mf", "bench_notebooks", "bench_ranks",
           "bench_scaling", "bench_seeds", "bench_topn"]


def test_benchmarks_are_all_tested():
    assert sorted(p.stem for p in BENCH.glob("bench_*.py")) == SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_importing_a_benchmark_has_no_side_effects(name, monkeypatch, capsys):
    """No argument parsing, no output, no BLAS thread limit set at import: only ``main(argv)`` runs anything.

    (TensorFlow sets a few variables of its own when bench_deep imports it: those are not the benchmark's.)
    """
    monkeypatch.setattr(sys, "argv", ["pytest", "--not-a-benchmark-option"])
    blas = {var: os.environ.get(var) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    sys.modules.pop(name, None)
    module = bench(name)
    assert callable(module.main)
    assert capsys.readouterr() == ("", "")
    assert {var: os.environ.get(var) for var in blas} == blas


def test_bench_topn_tiny(capsys):
    bench("bench_topn").main(["--repeats", "1", "--max-users", "20"])
    out = capsys.readouterr().out
    assert "top-10 for 20 users" in out and "vectorized top_n" in out  # main() checks both ways agree


def test_bench_mf_tiny(tmp_path, capsys):
    pytest.importorskip("surprise", reason="scikit-surprise (the bench extra) is missing: pip install -e .[bench]")
    csv = tmp_path / "mf.csv"
    bench("bench_mf").main(["--datasets", "ml-latest-small", "--folds", "2", "--max-ratings", "3000",
                            "--csv", str(csv)])
    rows = pd.read_csv(csv)
    assert sorted(rows["split"].unique()) == ["course", "fold1", "fold2"]
    assert rows.groupby("split")["model"].nunique().eq(6).all()
    assert rows.loc[rows["model"] == "Surprise SVD tuned", "rmse_ratio"].eq(1.0).all()
    assert rows["rmse"].between(0.5, 1.5).all()
    assert "medians over 2 splits" in capsys.readouterr().out


def test_bench_deep_tiny(capsys):
    bench("bench_deep").main(["--repeats", "1", "--loop-rows", "2", "--max-ratings", "500"])
    out = capsys.readouterr().out
    assert "500 ratings per epoch" in out and "ms per row in a loop (2 rows)" in out


def test_bench_scaling_numpy_tiny(tmp_path, capsys):
    out = tmp_path / "scaling.csv"
    bench("bench_scaling").main(["--sizes", "2000", "--engines", "numpy", "--iters", "2", "--repeats", "1",
                                 "--threads", "1", "--out", str(out)])
    [row] = pd.read_csv(out).to_dict("records")
    assert (row["engine"], row["n_ratings"], row["iters"]) == ("numpy", 2000, 2)
    assert row["epoch_s"] == pytest.approx(row["fit_s"] - row["fit1_s"], abs=2e-4)  # stored to 4 decimals
    assert row["work_mb"] > 0 and row["rss_mb"] > row["work_mb"]


@pytest.mark.parametrize("iters", ["1", "0"])
def test_bench_scaling_needs_two_iterations(iters, capsys):
    """The time per epoch is (t_iters - t_1) / (iters - 1): one iteration used to divide by zero."""
    with pytest.raises(SystemExit) as exit_info:
        bench("bench_scaling").parse_args(["--iters", iters])
    assert exit_info.value.code == 2
    assert f"--iters must be at least 2, got {iters}" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_scaling_spark_tiny(tmp_path):
    """Spark's JVM start-up and warm-up fit take half a minute or more: ``make test`` only."""
    spark = pytest.importorskip("recsys_utils.spark")
    if not spark.pyspark_available() or not spark.java_available():
        pytest.skip("pyspark or a Java 17+ runtime is missing: pip install -e .[spark] and install Java 17")
    out = tmp_path / "scaling.csv"
    bench("bench_scaling").main(["--sizes", "2000", "--engines", "spark", "--iters", "2", "--repeats", "1",
                                 "--master", "local[1]", "--driver-memory", "1g", "--out", str(out)])
    [row] = pd.read_csv(out).to_dict("records")
    assert (row["engine"], row["n_ratings"]) == ("spark", 2000)
    assert row["rss_mb"] > 0


@pytest.mark.notebook
def test_bench_notebooks_tiny(capsys):
    """Executes notebook 01's smoke configuration once (a few seconds), into a temporary folder."""
    bench("bench_notebooks").main(["--only", "01", "--repeats", "1", "--config", "smoke"])
    out = capsys.readouterr().out
    assert "run 1 01 smoke" in out and "01 smoke    median" in out


def test_bench_notebooks_refuses_an_unknown_notebook():
    with pytest.raises(SystemExit, match="no notebook matches --only 99"):
        bench("bench_notebooks").main(["--only", "99"])
