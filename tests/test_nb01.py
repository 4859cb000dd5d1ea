"""Notebook 01's headline claim, checked on its smoke run (papermill, smoke parameters)."""

from __future__ import annotations

# (ratings, users) of each data set, as loaded by recsys_utils.load_movielens
SIZES = {None: (100_836, 610), "ml-100k": (100_000, 943)}


def test_nb01_bias_baseline_beats_global_mean(smoke_metrics, smoke_dataset):
    m = smoke_metrics("01")
    assert (m["n_ratings"], m["n_users"]) == SIZES[smoke_dataset]
    assert m["test_rmse_bias"] < m["test_rmse_global_mean"] - 0.05
    assert m["test_rmse_bias"] < min(m["test_rmse_user_mean"], m["test_rmse_item_mean"])
