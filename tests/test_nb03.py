"""Notebook 03's claims, checked on its smoke run (papermill, smoke parameters) and on its committed run."""

from __future__ import annotations

from helpers import committed_metrics, notebook_parameters


def test_nb03_keras_mf_matches_numpy_mf(smoke_metrics, smoke_dataset):
    m = smoke_metrics("03")
    # Keras MF with the per-rating penalty lands next to NumPy ALS with the same k and lambda
    # (the default configuration meets 0.01; the smoke run trains fewer epochs, hence 0.03)
    assert abs(m["keras_mf_test_rmse"] - m["numpy_mf_test_rmse"]) < 0.03
    assert m["keras_mf_test_rmse"] < m["bias_baseline_test_rmse"] + 0.02
    # the table-wide L2 with the same lambda is a much stronger penalty: clearly worse
    assert m["table_l2_test_rmse"] > m["keras_mf_test_rmse"] + 0.02
    if smoke_dataset == "ml-100k":  # the official u1 split as well
        assert abs(m["u1_keras_mf_test_rmse"] - m["u1_numpy_mf_test_rmse"]) < 0.03


def test_nb03_default_run_meets_the_target():
    """The committed notebook (default parameters): Keras MF within 0.01 RMSE of NumPy MF, stopped early."""
    m = committed_metrics("03")
    assert abs(m["keras_minus_numpy"]) < 0.01
    # early stopping, not the epoch limit, ended training
    assert m["keras_epochs"] < notebook_parameters("03")["N_EPOCHS"]
    # ... and it is not the best this model can do: converged on all training ratings it scores lower (the prose
    # says so; measured 0.8595 vs 0.8649)
    assert m["converged_keras_test_rmse"] < m["keras_mf_test_rmse"] - 0.002


def test_nb03_default_run_converged_models_agree():
    """Early stopping, not Keras, made the neighbour lists disagree: converged, the two optimizers nearly agree."""
    m = committed_metrics("03")
    # early-stopped, the lists agree only in part: well below two ALS seeds, on the four named movies too
    assert m["shared_early"] < 0.5 * m["shared_als_seeds"]
    assert m["neighbour_overlap"] < 0.5 * m["shared_als_seeds"]
    assert abs(m["converged_keras_test_rmse"] - m["converged_als_test_rmse"]) < 0.003
    assert m["shared_converged"] > m["shared_early"] + 2
    # close to how well ALS agrees with itself from another seed
    assert m["shared_converged"] > 0.75 * m["shared_als_seeds"]
