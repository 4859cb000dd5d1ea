"""benchmarks/bench_bayes.py runs end to end on a tiny input in seconds and leaves benchmarks/results/ alone."""
from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

from helpers import import_benchmark

pytestmark = pytest.mark.usefixtures("benchmark_results_untouched")
TINY = ["--datasets", "ml-latest-small", "--max-ratings", "3000", "--n-samples", "12", "--burn-in", "4", "--no-myfm",
        "--settings", "bpmf"]
COLUMNS = ["dataset", "split", "setting", "model", "rmse", "mae", "fit_s", "fit_cpu_s", "n_factors", "n_samples",
           "burn_in", "time_ratio", "rmse_ratio"]






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
    assert list(rows.columns) == COLUMNS and (rows["setting"] == "bpmf").all()
    assert (rows["split"] == "course").all() and rows["rmse"].between(0.5, 1.5).all()
    assert (rows["fit_s"] > 0).all() and rows["time_ratio"].isna().all()  # no peer, no ratio
    out = capsys.readouterr().out
    assert "ml-latest-small course: 2,4" in out and "rows written to" in out and "target" not in out


def test_the_fm_settings_are_labelled_and_compared_with_myfm_on_the_same_setting(tmp_path, capsys):
    pytest.importorskip("myfm")
    csv = tmp_path / "bayes.csv"
    argv = [*TINY[:-3], "--settings", "train-only", "test-items-known", "--n-samples", "6", "--burn-in", "2",
            "--csv", str(csv)]
    bench_bayes().main(argv)
    rows = pd.read_csv(csv)
    assert list(rows.columns) == COLUMNS
    assert list(zip(rows["setting"], rows["model"])) == [
        ("train-only implicit", "ours Bayesian FM"), ("train-only implicit", "myfm Bayesian FM"),
        ("test-period items known", "ours Bayesian FM"), ("test-period items known", "myfm Bayesian FM")]
    for _, group in rows.groupby("setting"):  # ratios against the peer of the same setting
        peer = group[group["model"] == "myfm Bayesian FM"].iloc[0]
        assert group["rmse_ratio"].tolist() == pytest.approx((group["rmse"] / peer["rmse"]).tolist(), rel=1e-5)
    assert rows["rmse"].between(0.5, 1.5).all() and (rows["fit_cpu_s"] > 0).all()


def test_myfm_gets_the_same_features_as_ours():
    pytest.importorskip("myfm")
    from recsys_utils import IdMap, make_low_rank_ratings
    from recsys_utils.fm import BayesianFM, fm_features

    ratings = make_low_rank_ratings(30, 20, density=0.2, random_state=0).ratings
    train, test = ratings.iloc[:-20], ratings.iloc[-20:]
    ids = IdMap.from_ratings(train)
    for setting in ("train-only implicit", "test-period items known"):
        X, blocks, groups = bench_bayes().fm_relation_blocks(ids, train, test, setting, test)
        extra = test[["user_id", "item_id"]] if setting == "test-period items known" else None
        ours = BayesianFM(n_factors=2, n_samples=2, burn_in=1).fit(train, implicit=extra)
        expect = fm_features(ids.user_index(test["user_id"]), ids.item_index(test["item_id"]), ours.user_sets_,
                             ours.item_sets_).toarray()
        nu, ni = ids.n_users, ids.n_items
        user_rows = blocks[0].data.toarray()[blocks[0].original_to_block]  # [one-hot user | user's set]
        item_rows = blocks[1].data.toarray()[blocks[1].original_to_block]  # [one-hot movie | movie's set]
        got = np.hstack([user_rows[:, :nu], item_rows[:, :ni], user_rows[:, nu:], item_rows[:, ni:]])
        np.testing.assert_allclose(got, expect)
        assert X.shape == (len(test), 0) and groups == [nu, ni, ni, nu]


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


def test_fm_targets_and_the_peer_margin_are_judged_per_setting():
    row = pd.Series(dict(dataset="ml-100k", split="u1", setting="test-period items known", rmse=0.888, fit_s=200.0))
    line = bench_bayes().verdict(row, peer_rmse=0.8861)
    assert "[test-period items known]: target RMSE <= 0.889 in <= 300 s: met" in line
    assert line.endswith("RMSE <= myFM's + 0.003: met (myFM 0.8861)")
    assert "NOT met" in bench_bayes().verdict(row.replace(0.888, 0.8895), peer_rmse=0.8861)  # over the target
    assert "myFM's + 0.003: NOT met" in bench_bayes().verdict(row, peer_rmse=0.884)
    train_only = row.replace("test-period items known", "train-only implicit").replace(0.888, 0.894)
    assert ": target RMSE <= 0.895 in <= 300 s: met" in bench_bayes().verdict(train_only)


def bench_bayes():
    return import_benchmark("bench_bayes")
