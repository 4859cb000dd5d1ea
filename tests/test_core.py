"""Encoding, splits, metrics, the synthetic generator and the baselines, checked by value."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from recsys_utils import (
    BiasBaseline,
    GlobalMean,
    IdMap,
    ItemMean,
    NotFittedError,
    UnknownIdWarning,
    UserMean,
    load_movielens,
    mae,
    make_low_rank_ratings,
    per_user_split,
    random_split,
    rmse,
    temporal_split,
)
from recsys_utils.baselines import tune_bias_baseline
from recsys_utils.splits import course_split


@pytest.fixture(scope="module")
def small():
    return load_movielens("ml-latest-small")


# --- metrics ---------------------------------------------------------------
def test_rmse_and_mae_by_hand():
    y, p = [1, 2, 3, 4], [2, 2, 5, 4]
    assert rmse(y, p) == pytest.approx(np.sqrt((1 + 0 + 4 + 0) / 4))
    assert mae(y, p) == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match=r"y_true must be 1-D, got shape \(1, 1\): pass 1-D arrays"):
        rmse(np.array([[3.0]]), [3.0])


@pytest.mark.parametrize("metric", [rmse, mae])
@pytest.mark.parametrize("y, p, msg", [
    ([1, 2], [1], "y_true has 2 values but y_pred has 1"),
    ([], [], "empty"),
    ([1, np.nan], [1, 2], "y_true contains NaN"),
    ([1, 2], [np.nan, 2], "y_pred contains NaN"),
])
def test_metric_errors(metric, y, p, msg):
    with pytest.raises(ValueError, match=msg):
        metric(y, p)


# --- encoding --------------------------------------------------------------
def test_idmap_round_trip_and_unknowns():
    df = pd.DataFrame({"user_id": [10, 3, 10, 7], "item_id": [193609, 1, 1, 50], "rating": [1.0, 2, 3, 4]})
    ids = IdMap.from_ratings(df)
    assert ids.users.tolist() == [3, 7, 10] and ids.items.tolist() == [1, 50, 193609]
    enc = ids.encode(df)
    assert enc["user_idx"].tolist() == [2, 0, 2, 1]
    assert enc["item_idx"].tolist() == [2, 0, 0, 1]
    assert ids.users[enc["user_idx"]].tolist() == df["user_id"].tolist()
    assert ids.user_index([7, 99]).tolist() == [1, -1]
    with pytest.raises(ValueError, match="1 item_ids are not in the mapping \\(first: 5\\)"):
        ids.encode(pd.DataFrame({"user_id": [3], "item_id": [5], "rating": [1.0]}))
    assert ids.encode(pd.DataFrame({"user_id": [3], "item_id": [5]}), strict=False)["item_idx"].tolist() == [-1]


def test_encoding_of_the_real_data_is_contiguous(small):
    ids = IdMap.from_ratings(small.ratings)
    enc = ids.encode(small.ratings)
    assert (ids.n_users, ids.n_items) == (610, 9724)
    assert enc["item_idx"].max() == 9723 and small.ratings["item_id"].max() == 193609


# --- splits ----------------------------------------------------------------
def _keys(df):
    return set(zip(df["user_id"], df["item_id"]))


@pytest.mark.parametrize("split", [
    lambda r: random_split(r, 0.2, random_state=1),
    lambda r: per_user_split(r, 0.2, random_state=1),
    lambda r: temporal_split(r, 0.2),
])
def test_splits_are_a_partition(small, split):
    train, test = split(small.ratings)
    assert len(train) + len(test) == len(small.ratings)
    assert not (_keys(train) & _keys(test))
    assert sorted(train.index.append(test.index)) == list(small.ratings.index)
    assert len(test) == pytest.approx(0.2 * len(small.ratings), rel=0.02)


def test_per_user_split_keeps_every_test_user_in_train(small):
    train, test = per_user_split(small.ratings, 0.2, random_state=3)
    assert set(test["user_id"]) <= set(train["user_id"])
    n = small.ratings.groupby("user_id").size()
    held = test.groupby("user_id").size().reindex(n.index, fill_value=0)
    assert (held == np.round(0.2 * n).astype(int)).all()


def test_per_user_split_keeps_min_train_for_tiny_users():
    df = pd.DataFrame({"user_id": [1, 2, 2], "item_id": [1, 1, 2], "rating": [3.0, 4, 5]})
    train, test = per_user_split(df, 0.9, random_state=0, min_train=1)
    assert train.groupby("user_id").size().tolist() == [1, 1]


def test_splits_are_seeded(small):
    a, _ = per_user_split(small.ratings, random_state=5)
    b, _ = per_user_split(small.ratings, random_state=5)
    c, _ = per_user_split(small.ratings, random_state=6)
    assert a.index.equals(b.index) and not a.index.equals(c.index)
    assert course_split(small.ratings)[1].index.equals(per_user_split(small.ratings, 0.2, random_state=42)[1].index)


def test_temporal_split_holds_out_each_users_latest(small):
    train, test = temporal_split(small.ratings, 0.2)
    last_train = train.groupby("user_id")["timestamp"].max()
    first_test = test.groupby("user_id")["timestamp"].min()
    assert (first_test >= last_train.reindex(first_test.index)).all()


@pytest.mark.parametrize("kwargs, msg", [
    ({"test_size": 0}, r"test_size must be a fraction in \(0, 1\), got 0"),
    ({"test_size": 1.5}, "test_size must be a fraction"),
    ({"min_train": 0}, "min_train must be an integer >= 1, got 0"),
])
def test_split_errors(small, kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        per_user_split(small.ratings, **kwargs)


def test_temporal_split_needs_timestamps():
    with pytest.raises(ValueError, match="needs a timestamp column"):
        temporal_split(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [1.0]}))


# --- synthetic data -------------------------------------------------------
def test_synthetic_truth_explains_ratings_up_to_the_noise():
    s = make_low_rank_ratings(n_users=300, n_items=200, n_factors=4, density=0.2, noise=0.3, random_state=1)
    r = s.ratings
    resid = r["rating"] - s.true_rating(r["user_id"], r["item_id"])
    assert resid.std() == pytest.approx(0.3, rel=0.05)
    assert abs(resid.mean()) < 0.02
    assert r["user_id"].nunique() == 300 and r["item_id"].nunique() == 200
    assert len(r) == pytest.approx(0.2 * 300 * 200, rel=0.05)
    # the noiseless interaction matrix has exactly the requested rank
    assert np.linalg.matrix_rank(s.user_factors @ s.item_factors.T) == 4
    again = make_low_rank_ratings(n_users=300, n_items=200, n_factors=4, density=0.2, noise=0.3, random_state=1)
    pd.testing.assert_frame_equal(r, again.ratings)


@pytest.mark.parametrize("kwargs, msg", [
    ({"n_factors": 0}, "n_factors must be an integer >= 1, got 0"),
    ({"density": 0}, "density must be in"),
    ({"noise": -1}, "noise must be a non-negative finite number, got -1"),
])
def test_synthetic_errors(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        make_low_rank_ratings(**kwargs)


# --- baselines ------------------------------------------------------------
TOY = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 30, 30],
                    "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})


def test_mean_baselines_by_hand():
    assert GlobalMean().fit(TOY).predict([1], [10]).tolist() == [3.0]
    assert UserMean().fit(TOY).predict([1, 2, 3], [10, 10, 10]).tolist() == [4.0, 2.5, 2.0]
    assert ItemMean().fit(TOY).predict([1, 1, 1], [10, 20, 30]).tolist() == [4.5, 3.0, 1.5]


def test_bias_baseline_equals_the_ridge_solution():
    """Alternating updates converge to the joint least-squares solution."""
    s = make_low_rank_ratings(n_users=40, n_items=30, n_factors=2, density=0.3, random_state=2)
    r = s.ratings
    reg_u, reg_i = 3.0, 5.0
    model = BiasBaseline(reg_user=reg_u, reg_item=reg_i, n_epochs=300).fit(r)
    nu, ni = 40, 30
    X = np.zeros((len(r), nu + ni))
    X[np.arange(len(r)), r["user_id"]] = 1
    X[np.arange(len(r)), nu + r["item_id"]] = 1
    A = np.vstack([X, np.diag(np.r_[np.full(nu, np.sqrt(reg_u)), np.full(ni, np.sqrt(reg_i))])])
    y = np.r_[r["rating"] - r["rating"].mean(), np.zeros(nu + ni)]
    b = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(model.user_bias_, b[:nu], atol=1e-6)
    np.testing.assert_allclose(model.item_bias_, b[nu:], atol=1e-6)


def test_predictions_clip_to_the_scale_and_unknown_ids_fall_back():
    m = BiasBaseline(reg_user=0, reg_item=0).fit(TOY)
    assert m.rating_scale_ == (1.0, 5.0)
    with pytest.warns(UnknownIdWarning, match="1 of 2 pairs have a user or item unseen"):
        p = m.predict([1, 99], [10, 10])
    assert p[1] == pytest.approx(m.global_mean_ + m.item_bias_[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all((1 <= m.predict([1, 2, 3], [10, 20, 30])) & (m.predict([1, 2, 3], [10, 20, 30]) <= 5))


@pytest.mark.parametrize("bad, msg", [
    (TOY.drop(columns="rating"), "lacks column\\(s\\) rating"),
    (TOY.iloc[:0], "is empty"),
    (TOY.assign(rating=[1.0, np.nan, 3, 4, 5]), "1 missing or non-numeric rating"),
    (TOY.assign(rating=["5", "x", "3", "4", "5"]), "1 missing or non-numeric rating"),
    (TOY.assign(user_id=[1, None, 2, 2, 3]), "missing user_id or item_id"),
    ([[1, 2, 3]], "must be a pandas DataFrame"),
])
def test_bad_training_data(bad, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        BiasBaseline().fit(bad)


def test_predict_errors():
    with pytest.raises(NotFittedError, match="not fitted yet: call fit"):
        UserMean().predict([1], [1])
    with pytest.raises(ValueError, match="got 2 user ids but 1 item ids"):
        UserMean().fit(TOY).predict([1, 2], [10])
    with pytest.raises(ValueError, match="n_epochs must be an integer >= 1, got 0"):
        BiasBaseline(n_epochs=0).fit(TOY)


def test_bias_baseline_beats_global_mean_on_the_course_split(small):
    train, test = course_split(small.ratings)
    scores = {m: rmse(test["rating"], m.fit(train).predict(test["user_id"], test["item_id"]))
              for m in (GlobalMean(), BiasBaseline())}
    glob, bias = scores.values()
    assert bias < glob - 0.1


def test_tune_bias_baseline_chooses_on_validation_only(small):
    train, test = course_split(small.ratings)
    model, sweep = tune_bias_baseline(train, regs=[0, 3, 100], random_state=1)
    assert model.reg_user == model.reg_item == sweep["validation RMSE"].idxmin() == 3
    fit_part, valid = course_split(train, random_state=1)
    assert not (_keys(valid) & _keys(test)) and not (_keys(fit_part) & _keys(test))
    manual = BiasBaseline(100, 100).fit(fit_part)
    manual_rmse = rmse(valid["rating"], manual.predict(valid["user_id"], valid["item_id"]))
    assert sweep.loc[100, "validation RMSE"] == pytest.approx(manual_rmse)
    assert not hasattr(model, "ids_"), "returned unfitted"
