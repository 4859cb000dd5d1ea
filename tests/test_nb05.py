"""Notebook 05's claims (training vs test error), checked on its smoke run.

The smoke run trains every deep model for only a couple of epochs with large batches, so
only directions with wide margins are asserted (smoke values on ml-latest-small in the
comments; the default run widens every one of these margins).
"""

from __future__ import annotations


def test_nb05_dropout_and_capacity_directions(smoke_metrics):
    m = smoke_metrics("05")
    # dropout raises the inference-mode training error (smoke: 0.81 without, 1.28 at rate 0.5) ...
    assert m["dropout05_train_rmse"] > m["dropout0_train_rmse"] + 0.05
    assert m["dropout05_train_rmse"] > m["dropout02_train_rmse"]
    # ... and the loss Keras prints (dropout on, weights moving) lies above the finished model's
    # training RMSE in inference mode (smoke: 1.92 vs 1.20)
    assert m["article_keras_loss_rmse"] > m["article_train_rmse"] + 0.1
    # MF: large d with a weak penalty memorizes (smoke gap 0.81 vs 0.28 for d=2) ...
    small_gap = m["mf_small_weak_test_rmse"] - m["mf_small_weak_train_rmse"]
    large_gap = m["mf_large_weak_test_rmse"] - m["mf_large_weak_train_rmse"]
    assert large_gap > small_gap + 0.2
    assert m["mf_large_weak_train_rmse"] < m["mf_small_weak_train_rmse"] - 0.2
    # ... and a strong L2 penalty raises the training error but lowers the test error (smoke 0.96 -> 0.86)
    assert m["mf_large_strong_train_rmse"] > m["mf_large_weak_train_rmse"] + 0.2
    assert m["mf_large_strong_test_rmse"] < m["mf_large_weak_test_rmse"] - 0.03
    # the best test model of the course is a dot-product (MF) model, as in Rendle et al. (2020)
    assert "MF" in m["best_model"]
    assert m["best_test_rmse"] == m["best_mf_test_rmse"] < m["best_deep_test_rmse"]
    assert 0.75 < m["best_test_rmse"] < 0.95

