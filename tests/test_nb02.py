"""Notebook 02's claims, checked on its smoke run (papermill, smoke parameters)."""
from __future__ import annotations

from recsys_utils import course

from conftest import require_ml100k


def _check(m):
    # matrix factorization beats the bias baseline on the test set, ALS at least as well as short SGD
    assert m["test_rmse_als"] < m["bias_baseline_test_rmse"] - 0.005
    assert m["test_rmse_sgd"] < m["bias_baseline_test_rmse"] + 0.02
    assert 0.75 < m["test_rmse_als"] < 1.0
    # on synthetic low-rank data the test RMSE comes down to the noise level, and not below it
    assert 0.95 * m["synthetic_noise"] < m["synthetic_test_rmse"] < 1.15 * m["synthetic_noise"]
    # hyper-parameters chosen on validation, refitted on train: the one test score is in MF's range, near or
    # below the baseline (the smoke run's 3 ALS sweeps are too short to promise a clear win)
    assert m["best_rank"] >= 1 and m["best_reg"] > 0
    assert 0.75 < m["test_rmse_chosen"] < m["bias_baseline_test_rmse"] + 0.02
    # with a weak penalty, a moderate rank overfits: validation error rises well above its d = 1 value
    assert m["valid_rmse_weak_reg_worst"] > m["valid_rmse_weak_reg_d1"] + 0.05


def test_nb02_mf_beats_baseline_and_recovers_truth(run_smoke):
    _check(course.read_metrics(run_smoke("02")))


def test_nb02_on_ml100k(run_smoke):
    require_ml100k()
    _check(course.read_metrics(run_smoke("02", DATASET="ml-100k")))
