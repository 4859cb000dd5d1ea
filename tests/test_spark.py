"""recsys_utils.spark: the Java check, synthetic MovieLens-shaped data, the memory model, Spark ALS vs NumPy ALS."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from recsys_utils import UnknownIdWarning, course_split, make_low_rank_ratings, rmse
from recsys_utils.memory import max_ratings_fitting, memory_model
from recsys_utils.mf import MatrixFactorization
from recsys_utils.spark import java_available, local_cores, pyspark_available
from recsys_utils.synthetic import make_movielens_like, movielens_shape, power_law_weights

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = textwrap.dedent("""
    from recsys_utils.spark import JavaMissingError, check_java, java_available, java_version, spark_session
    print("available", java_available())
    print("version", java_version())
    try:
        check_java()
    except JavaMissingError as err:
        print("message", err)
        print("rendered", err._render_traceback_())
    if not java_available():  # spark_session must refuse before it launches anything
        try:
            spark_session("local[1]")
        except (JavaMissingError, ImportError) as err:
            print("session", type(err).__name__)
""")


def _probe(env_changes, drop=()):
    """Run PROBE in a fresh interpreter with a changed environment; return {key: rest of line}."""
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_changes, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    return {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in lines}, lines


def _fake_java(tmp_path, banner):
    """A JAVA_HOME whose bin/java prints ``banner`` to stderr, like ``java -version``."""
    bin_dir = tmp_path / "jdk" / "bin"
    bin_dir.mkdir(parents=True)
    exe = bin_dir / "java"
    exe.write_text(f"#!/bin/sh\necho '{banner}' >&2\n")
    exe.chmod(0o755)
    return str(tmp_path / "jdk")


# ---------------------------------------------------------------------------
# Java missing: one line that says what to install, never a stack trace
# ---------------------------------------------------------------------------
def test_java_hidden_from_path_gives_one_line_install_hint(tmp_path):
    found, lines = _probe({"PATH": str(tmp_path)}, drop=("JAVA_HOME",))
    assert found["available"] == "False"
    assert found["version"] == "None"
    msg = found["message"]
    assert "no java on PATH and JAVA_HOME is not set" in msg
    assert "openjdk-17" in msg and "JAVA_HOME" in msg
    assert not any("Traceback" in ln for ln in lines)
    # IPython shows exactly this one line instead of a traceback
    assert found["rendered"] == repr([f"JavaMissingError: {msg}"])
    # spark_session refuses before launching anything (ImportError only without pyspark)
    assert found["session"] == ("JavaMissingError" if pyspark_available() else "ImportError")


def test_broken_java_home_is_named(tmp_path):
    found, _ = _probe({"JAVA_HOME": str(tmp_path / "nowhere"), "PATH": str(tmp_path)})
    assert found["available"] == "False"
    assert f"JAVA_HOME={tmp_path / 'nowhere'} has no bin/java" in found["message"]


def test_java_8_is_too_old_for_spark_4(tmp_path):
    home = _fake_java(tmp_path, 'java version "1.8.0_292"')
    found, _ = _probe({"JAVA_HOME": home})
    assert found["version"] == "(8, 'java version \"1.8.0_292\"')"
    if pyspark_available() and int(__import__("pyspark").__version__.split(".")[0]) >= 4:
        assert "Spark needs Java 17+" in found["message"] and "1.8.0_292" in found["message"]


def test_java_17_banner_is_parsed(tmp_path):
    home = _fake_java(tmp_path, 'openjdk version "17.0.15" 2025-04-15')
    found, _ = _probe({"JAVA_HOME": home})
    assert found["available"] == "True"
    assert found["version"] == "(17, 'openjdk version \"17.0.15\" 2025-04-15')"
    assert "message" not in found


def test_local_core_counts_from_master_urls():
    assert local_cores("local") == 1
    assert local_cores("local[3]") == 3
    assert local_cores("local[4, 2]") == 4
    assert local_cores("local[*]") == (os.cpu_count() or 1)
    assert local_cores("spark://head:7077") is None
    assert local_cores("yarn") is None


# ---------------------------------------------------------------------------
# synthetic MovieLens-shaped data
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth():
    return make_movielens_like(200_000, random_state=3)


def test_generator_gives_exact_count_of_distinct_pairs(synth):
    assert len(synth) == 200_000
    assert not synth.duplicated(["user_id", "item_id"]).any()
    n_users, n_items = movielens_shape(200_000)
    assert (synth["user_id"].nunique(), synth["item_id"].nunique()) == (n_users, n_items)
    assert synth["user_id"].max() == n_users - 1 and synth["item_id"].max() == n_items - 1


def test_generator_ratings_are_half_stars(synth):
    r = synth["rating"].to_numpy()
    assert r.min() >= 0.5 and r.max() <= 5.0
    np.testing.assert_array_equal(r * 2, np.round(r * 2))
    assert 3.0 < r.mean() < 4.0 and 0.6 < r.std() < 1.2  # MovieLens: mean about 3.5, sd about 1


def test_generator_has_movielens_users(synth):
    per_user = synth["user_id"].value_counts()
    _, n_items = movielens_shape(200_000)
    assert per_user.min() >= 20
    assert per_user.max() <= n_items // 3
    assert per_user.max() > 5 * per_user.median()  # heavy tail


def test_generator_popularity_is_a_power_law(synth):
    counts = np.sort(synth["item_id"].value_counts().to_numpy())[::-1]
    top10 = counts[: len(counts) // 10].sum() / counts.sum()
    assert top10 > 0.3  # uniform popularity would give 0.1
    ranks = np.arange(1, len(counts) + 1)
    tail = (ranks >= 10) & (ranks <= len(counts) // 2)
    slope = np.polyfit(np.log(ranks[tail]), np.log(counts[tail]), 1)[0]
    assert -1.1 < slope < -0.5  # MovieLens: -0.75 (ml-100k) to -1.0 (ml-latest-small)
    # popularity follows the item's rank: movie 0 is the most rated
    assert counts[0] == synth["item_id"].value_counts()[0]


def test_generator_is_seeded():
    a, b, c = (make_movielens_like(5000, random_state=s) for s in (1, 1, 2))
    assert a.equals(b)
    assert not a.equals(c)


def test_generator_rejects_tiny_sizes():
    with pytest.raises(ValueError, match="n_ratings must be at least 1000"):
        make_movielens_like(500)
    with pytest.raises(ValueError, match="min_per_user=200 needs more ratings"):
        make_movielens_like(10_000, min_per_user=200)


def test_power_law_weights_by_hand():
    w = power_law_weights(4, exponent=1.0, offset=1.0)
    expected = np.array([1 / 2, 1 / 3, 1 / 4, 1 / 5])
    np.testing.assert_allclose(w, expected / expected.sum())
    w = power_law_weights(1000, exponent=0.8, offset=0.0)
    assert w[0] / w[9] == pytest.approx(10**0.8)


# ---------------------------------------------------------------------------
# the memory model
# ---------------------------------------------------------------------------
def test_memory_model_arithmetic():
    # (1000 + 500) * 10 * 8 = 120,000 bytes of factors + 100,000 * 24 bytes of ratings
    assert memory_model(1000, 500, 100_000, 10) == 2_520_000
    assert memory_model(1000, 500, 100_000, 10, bytes_per_rating=100) == 120_000 + 10_000_000
    # ml-25m at k=100: 224,964 x 100 x 8 = 179,971,200 + 600,002,280
    assert memory_model(162_541, 62_423, 25_000_095, 100) == 179_971_200 + 600_002_280


def test_max_ratings_fitting_inverts_the_model():
    # no factors: 24 MB hold exactly one million 24-byte ratings
    assert abs(max_ratings_fitting(24_000_000, n_factors=0) - 1_000_000) <= 1
    budget = 16 * 2**30
    n = max_ratings_fitting(budget, n_factors=50, bytes_per_rating=100)
    need = memory_model(*movielens_shape(n), n, 50, 100)
    assert need <= budget < memory_model(*movielens_shape(int(n * 1.001)), int(n * 1.001), 50, 100)
    with pytest.raises(ValueError, match="do not hold even 1000 ratings"):
        max_ratings_fitting(1000, n_factors=10)


# ---------------------------------------------------------------------------
# Spark's ALS against ours (needs pyspark and Java)
# ---------------------------------------------------------------------------
def _skip_without_spark():
    if not pyspark_available():
        pytest.skip("pyspark is not installed: pip install -e .[spark] to run the Spark tests")
    if not java_available():
        pytest.skip("no usable Java for Spark: install a Java 17 runtime (e.g. openjdk-17-jre-headless)")


@pytest.fixture(scope="module")
def spark():
    _skip_without_spark()
    from recsys_utils.spark import spark_session

    session = spark_session("local[2]", "test-spark", driver_memory="1g")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def small():
    truth = make_low_rank_ratings(n_users=120, n_items=90, n_factors=3, density=0.3, noise=0.1, random_state=5)
    return course_split(truth.ratings, random_state=0), truth.noise


def test_spark_and_numpy_als_agree(spark, small):
    from recsys_utils.spark import fit_spark_als

    (train, test), noise = small
    # rank 5 = the truth's rank 3 + the user and item biases, which Spark's model has no room for otherwise
    res = fit_spark_als(spark, train, test, n_factors=5, reg=0.01, n_epochs=20, random_state=0)
    ours = MatrixFactorization(n_factors=5, reg=0.01, n_epochs=20, method="als", biased=False,
                               random_state=0).fit(train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownIdWarning)
        pred = ours.predict(test["user_id"], test["item_id"])
    ours_rmse = rmse(test["rating"], pred)
    assert res.rmse == pytest.approx(rmse(test["rating"], res.predictions))
    assert abs(res.rmse - ours_rmse) < 0.01
    assert res.rmse < 1.5 * noise  # both recover the low-rank truth
    assert np.corrcoef(pred, res.predictions)[0, 1] > 0.99
    assert res.mean == pytest.approx(train["rating"].mean())


def test_spark_als_is_deterministic_with_a_seed(spark, small):
    from recsys_utils.spark import fit_spark_als

    (train, test), _ = small
    a = fit_spark_als(spark, train, test, n_factors=3, reg=0.05, n_epochs=5, random_state=7)
    b = fit_spark_als(spark, train, test, n_factors=3, reg=0.05, n_epochs=5, random_state=7)
    np.testing.assert_array_equal(a.predictions, b.predictions)


def test_spark_regparam_is_scaled_by_rating_counts(spark, small):
    """Spark's last half-step solves (Q_u^T Q_u + regParam * n_u I) p_u = Q_u^T y_u for every user."""
    from recsys_utils.spark import fit_spark_als

    (train, _), _ = small
    res = fit_spark_als(spark, train, n_factors=3, reg=0.3, n_epochs=3, random_state=0)
    P = dict(res.model.userFactors.collect())
    Q = dict(res.model.itemFactors.collect())
    enc = res.ids.encode(train)
    for u in (0, 17, 50):
        rows = enc[enc["user_idx"] == u]
        Qu = np.array([Q[i] for i in rows["item_idx"]])  # (n_u, k)
        y = rows["rating"].to_numpy() - res.mean
        solve = np.linalg.solve(Qu.T @ Qu + 0.3 * len(rows) * np.eye(3), Qu.T @ y)
        np.testing.assert_allclose(solve, P[u], atol=1e-5)  # Spark keeps float32 factors


def test_cold_pairs_fall_back_to_the_mean(spark, small):
    from recsys_utils.spark import fit_spark_als

    (train, test), _ = small
    test = test.iloc[:5].copy()
    test.loc[test.index[0], "user_id"] = 10_000  # unseen user
    test.loc[test.index[1], "item_id"] = 10_000  # unseen item
    for strategy in ("nan", "drop"):
        res = fit_spark_als(spark, train, test, n_factors=3, reg=0.05, n_epochs=3, random_state=0, cold_start=strategy)
        np.testing.assert_array_equal(res.cold, [True, True, False, False, False])
        lo, hi = train["rating"].min(), train["rating"].max()
        np.testing.assert_allclose(res.predictions[:2], np.clip(train["rating"].mean(), lo, hi))
    with pytest.raises(ValueError, match="cold_start must be 'nan' or 'drop'"):
        fit_spark_als(spark, train, test, cold_start="zero")
