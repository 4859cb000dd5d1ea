"""benchmarks/bench_seeds.py runs on a tiny input without touching benchmarks/results/; recsys_utils.seeds calls
a difference only beyond the spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_utils import seeds as sd

from helpers import import_benchmark as bench

pytestmark = pytest.mark.usefixtures("benchmark_results_untouched")


def _rows(csv):
    return pd.read_csv(csv, dtype={"notebook": str})


def test_bench_seeds_tiny_rewrites_only_its_own_rows(tmp_path, capsys):
    csv = tmp_path / "seeds.csv"
    args = ["--smoke", "--max-ratings", "3000", "--only", "03", "--csv", str(csv)]
    bench("bench_seeds").main([*args, "--seeds", "1", "2"])
    first = _rows(csv)
    assert sorted(first["seed"].unique()) == [1, 2]
    assert set(first["notebook"]) == {"03"} and set(first["dataset"]) == {"ml-latest-small"}
    per_seed = first.groupby("seed")["metric"].apply(frozenset)
    assert per_seed.nunique() == 1 and {"keras_mf_test_rmse", "converged_keras_test_rmse"} <= per_seed.iloc[0]
    assert np.isfinite(first["value"]).all()
    assert "over seeds 1 2" in capsys.readouterr().out
    bench("bench_seeds").main([*args, "--seeds", "2"])   # seed 2 again: its rows are replaced, seed 1's kept
    second = _rows(csv)
    assert len(second) == len(first)
    pd.testing.assert_frame_equal(second[second["seed"] == 1].reset_index(drop=True),
                                  first[first["seed"] == 1].reset_index(drop=True))


@pytest.mark.slow
def test_bench_seeds_tiny_runs_every_notebook(tmp_path):
    """Notebooks 04 and 05 train more models: about a minute even on a tiny input."""
    csv = tmp_path / "seeds.csv"
    bench("bench_seeds").main(["--smoke", "--max-ratings", "3000", "--seeds", "7", "--csv", str(csv)])
    rows = _rows(csv)
    assert set(rows["notebook"]) == {"03", "04", "05"}
    for notebook, metric in (("04", "hybrid_test_rmse"), ("04", "softmax_argmax_accuracy"),
                             ("05", "dropout05_best_test_rmse"), ("05", "mf_large_strong_train_rmse")):
        assert ((rows["notebook"] == notebook) & (rows["metric"] == metric)).sum() == 1, metric


def test_bench_seeds_parameters_are_the_notebooks():
    params = bench("bench_seeds").notebook_parameters("04")
    assert params["SEED"] == 42 and "HYBRID_PATIENCE" in params
    assert bench("bench_seeds").notebook_parameters("04", smoke=True)["N_EPOCHS"] < params["N_EPOCHS"]


def test_the_notebooks_seed_is_one_of_the_benchmarks():
    assert bench("bench_seeds").notebook_parameters("05")["SEED"] in bench("bench_seeds").parse_args([]).seeds


def test_a_verdict_needs_a_difference_beyond_the_larger_spread():
    a, b = sd.Measured([0.850, 0.852, 0.851]), sd.Measured([0.860, 0.861, 0.862])
    assert (a.mean, round(a.spread, 6), a.n) == (pytest.approx(0.851), 0.002, 3)
    assert sd.verdict(a, b, "beats", "is worse") == "beats"
    assert sd.verdict(b, a, "beats", "is worse") == "is worse"
    wide = sd.Measured([0.840, 0.870])   # spread 0.030 > the difference of the means
    assert sd.verdict(wide, b, "beats", "is worse") == sd.NO_DIFFERENCE == "no measurable difference at this budget"
    assert sd.verdict(sd.Measured(0.8604), sd.Measured([0.8600, 0.8590]), "beats", "is worse") == sd.NO_DIFFERENCE


def test_fmt_and_load_seeds(tmp_path):
    assert sd.fmt(sd.Measured([0.85, 0.86])) == "0.8550 ± 0.0100"
    assert sd.fmt(sd.Measured(0.8604)) == "0.8604"
    csv = tmp_path / "seeds.csv"
    pd.DataFrame([("ml-latest-small", "04", "hybrid_test_rmse", s, v) for s, v in ((42, 0.858), (43, 0.859))]
                 + [("ml-100k", "04", "hybrid_test_rmse", 42, 0.91)],
                 columns=["dataset", "notebook", "metric", "seed", "value"]).to_csv(csv, index=False)
    table = sd.load_seeds(csv, "04", "ml-latest-small")
    assert list(table.columns) == [42, 43] and sd.measured(table, "hybrid_test_rmse").mean == pytest.approx(0.8585)
    assert sd.load_seeds(csv, "05", "ml-latest-small").empty and sd.load_seeds(tmp_path / "none.csv", "04", "x").empty
    assert "seeds 42, 43" in sd.described(table)
    with pytest.raises(KeyError, match="re-run benchmarks/bench_seeds.py"):
        sd.measured(table, "no_such_metric")
