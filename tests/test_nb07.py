"""Notebook 07's claims, checked on its smoke run (papermill, smoke parameters). Needs pyspark and Java."""

from __future__ import annotations

import pytest

from recsys_utils.spark import java_available, pyspark_available

from helpers import committed_metrics


@pytest.fixture(autouse=True)
def _need_spark():
    if not pyspark_available():
        pytest.skip("pyspark is not installed: pip install -e .[spark] to run notebook 07")
    if not java_available():
        pytest.skip("no usable Java for Spark: install a Java 17 runtime (e.g. openjdk-17-jre-headless)")


def test_nb07_spark_matches_numpy(smoke_metrics):
    m = smoke_metrics("07")
    # same problem, two engines: practically the same test RMSE, and a sane one
    assert abs(m["rmse_difference"]) < 0.01
    # each stored to 6 decimals
    assert m["rmse_difference"] == pytest.approx(m["spark_test_rmse"] - m["numpy_test_rmse"], abs=2e-6)
    assert 0.8 < m["spark_test_rmse"] < 1.1
    assert m["spark_deterministic"] is True
    # Spark's regParam is scaled by the rating counts (ALS-WR): its user factors solve the scaled system
    assert m["regparam_scaled_gap"] < 1e-4 < 0.05 < m["regparam_unscaled_gap"]
    # implicit ALS ranks held-out pairs above never-rated ones far better than chance
    assert m["implicit_auc"] > 0.75
    # the benchmark's NumPy slope: cost grows with the data, a little faster than linearly (measured 1.15)
    assert 1.0 < m["slope_numpy"] < 1.5
    assert m["numpy_bytes_per_rating"] > 24


def test_nb07_default_run_implicit_model_beats_popularity():
    """The committed run: implicit ALS's AUC (0.910) beside the popularity ranking's (0.879) on the same pairs."""
    m = committed_metrics("07")
    assert 0.75 < m["popularity_auc"] < m["implicit_auc"] - 0.01

