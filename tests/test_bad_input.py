"""Bad input to the models, metrics, splits and ranking helpers: one clear, one-line error each.

Every message names the argument, says what is wrong and what to do (the style of
:mod:`recsys_utils.checks`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_utils import BiasBaseline, GlobalMean, IdMap, ImplicitALS, MatrixFactorization, mae, rmse
from recsys_utils.base import RatingEstimator
from recsys_utils.ranking import catalogue_coverage, evaluate_scores, similar_items, top_n
from recsys_utils.splits import per_user_split, temporal_split


def _ratings(**columns):
    """Four users, three items, ratings 1..5; columns override."""
    data = {"user_id": [1, 1, 2, 2, 3, 3, 4], "item_id": [10, 20, 10, 30, 20, 30, 10],
            "rating": [4.0, 3.0, 5.0, 1.0, 2.0, 4.0, 3.0]}
    data.update(columns)
    return pd.DataFrame(data)


def _one_line(excinfo):
    assert "\n" not in str(excinfo.value)


MODELS = {
    "mf-als": lambda: MatrixFactorization(n_factors=2, n_epochs=2, method="als", random_state=0),
    "mf-sgd": lambda: MatrixFactorization(n_factors=2, n_epochs=2, method="sgd", random_state=0),
    "bias": lambda: BiasBaseline(n_epochs=2),
    "global": GlobalMean,
}


# --- 1. infinite ratings --------------------------------------------------------
@pytest.mark.parametrize("bad", [np.inf, -np.inf], ids=["inf", "-inf"])
@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_fit_refuses_an_infinite_rating(make, bad):
    ratings = _ratings(rating=[4.0, 3.0, 5.0, bad, 2.0, 4.0, 3.0])
    with pytest.raises(ValueError, match=r"^ratings has 1 infinite rating\(s\) \(e\.g\. -?inf\): "
                                         r"drop or fix them first$") as e:
        make().fit(ratings)
    _one_line(e)


def test_eval_set_and_splits_refuse_infinite_ratings_too():
    bad = _ratings(rating=[np.inf] * 7)
    with pytest.raises(ValueError, match=r"^eval_set has 7 infinite rating\(s\)"):
        MatrixFactorization(n_factors=2, n_epochs=1).fit(_ratings(), eval_set=bad)
    with pytest.raises(ValueError, match=r"^ratings has 7 infinite rating\(s\)"):
        per_user_split(bad)


# --- 2. metrics -----------------------------------------------------------------
@pytest.mark.parametrize("metric", [rmse, mae])
@pytest.mark.parametrize("y, p, err, msg", [
    ([np.inf], [1], ValueError, r"^y_true contains infinite values \(e\.g\. inf\): drop or fill them before scoring$"),
    ([1, 2], [1, -np.inf], ValueError, r"^y_pred contains infinite values \(e\.g\. -inf\)"),
    (None, None, TypeError, r"^y_true must be a 1-D array of numbers, got None: pass the ratings or predictions$"),
    ([1], None, TypeError, r"^y_pred must be a 1-D array of numbers, got None"),
    (["4"], ["3"], TypeError, r"^y_true must hold numbers, got '4' \(dtype <U1\): convert it first"),
    ([4], pd.Series(["3"]), TypeError, r"^y_pred must hold numbers, got '3' \(str\): convert it first, "
                                       r"e\.g\. pd\.to_numeric\(\.\.\.\) or \.astype\(float\)$"),
    ([1, None], [1, 2], TypeError, r"^y_true must hold numbers, got None \(NoneType\)"),
    ([object()], [1], TypeError, r"^y_true must hold numbers, got <object object"),
    (np.ones((2, 2)), np.ones(4), ValueError, r"^y_true must be 1-D, got shape \(2, 2\): pass 1-D arrays \(use "
                                              r"\.ravel\(\)\)$"),
    (np.ones(3), np.ones((3, 1)), ValueError, r"^y_pred must be 1-D, got shape \(3, 1\): pass 1-D arrays \(use "
                                              r"\.ravel\(\)\)$"),
    (3.0, 3.0, ValueError, r"^y_true must be 1-D, got shape \(\)"),
])
def test_metrics_refuse_bad_values(metric, y, p, err, msg):
    with pytest.raises(err, match=msg) as e:
        metric(y, p)
    _one_line(e)


def test_metrics_still_take_series_lists_and_numeric_object_arrays():
    y = pd.Series([1.0, 2.0, 3.0], index=[7, 8, 9])
    assert rmse(y, [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert mae(pd.Series([1, 2, 3], dtype=object), np.array([1, 2, 5])) == pytest.approx(2 / 3)


# --- 3. temporal_split --------------------------------------------------------
def _timed(**columns):
    return _ratings(timestamp=[5, 1, 3, 4, 2, 6, 7], **columns)


@pytest.mark.parametrize("min_train", [0, -1])
def test_temporal_split_refuses_min_train_below_one(min_train):
    with pytest.raises(ValueError, match=rf"^min_train must be an integer >= 1, got {min_train}$"):
        temporal_split(_timed(), min_train=min_train)


def test_temporal_split_keeps_a_single_rating_user_in_train():
    train, test = temporal_split(_timed(), test_size=0.5)
    assert (train["user_id"] == 4).sum() == 1 and (test["user_id"] == 4).sum() == 0
    assert set(test["user_id"]) <= set(train["user_id"])


def test_temporal_split_refuses_a_nan_timestamp():
    ratings = _timed()
    ratings.loc[2, "timestamp"] = np.nan
    with pytest.raises(ValueError, match=r"^ratings has 1 missing timestamp\(s\): drop those rows before a "
                                         r"temporal split$"):
        temporal_split(ratings)


# --- 4. mixed id types ------------------------------------------------------------
@pytest.mark.parametrize("column", ["user_id", "item_id"])
@pytest.mark.parametrize("make", [*MODELS.values(), lambda: ImplicitALS(n_factors=2, n_epochs=1)],
                         ids=[*MODELS.keys(), "implicit"])
def test_fit_refuses_mixed_int_and_str_ids(make, column):
    ratings = _ratings(**{column: [1, 1, "b", "b", 3, 3, 4]})
    with pytest.raises(TypeError, match=rf"^{column} mixes int and str ids: convert the column to one type, "
                                        r"e\.g\. \.astype\(str\)$") as e:
        make().fit(ratings)
    _one_line(e)


def test_idmap_names_the_mixed_column_and_one_type_still_works():
    with pytest.raises(TypeError, match="^item_id mixes int and str ids"):
        IdMap.from_ratings(_ratings(item_id=["a", 2, "b", 2, "a", 2, "b"]))
    ids = IdMap.from_ratings(_ratings(user_id=["u1", "u1", "u2", "u2", "u3", "u3", "u4"]))
    assert ids.users.tolist() == ["u1", "u2", "u3", "u4"]


# --- 5. rating_scale ------------------------------------------------------------
class _ScaledMean(GlobalMean):
    def __init__(self, rating_scale=None):
        self.rating_scale = rating_scale


SCALE_MSG = r"^rating_scale must be \(min, max\) with min < max, got \(1,\): pass two finite numbers, e\.g\. \(1, 5\)$"


def test_matrix_factorization_refuses_a_one_number_rating_scale():
    with pytest.raises(ValueError, match=SCALE_MSG):
        MatrixFactorization(rating_scale=(1,)).fit(_ratings())


def test_the_base_estimator_refuses_a_one_number_rating_scale():
    assert issubclass(_ScaledMean, RatingEstimator)
    with pytest.raises(ValueError, match=SCALE_MSG):
        _ScaledMean(rating_scale=(1,)).fit(_ratings())
    assert _ScaledMean(rating_scale=(1, 5)).fit(_ratings()).rating_scale_ == (1.0, 5.0)


# --- 6. ranking -------------------------------------------------------------------
Q = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.5, 0.5]])


@pytest.mark.parametrize("idx, bad", [([-1], -1), ([0, 4], 4), (-2, -2)])
def test_similar_items_refuses_out_of_range_items(idx, bad):
    with pytest.raises(ValueError, match=rf"^item_idx holds item index {bad}, outside 0\.\.3: pass item indices "
                                         r"from the training IdMap$"):
        similar_items(Q, idx, n=2)


def test_similar_items_refuses_non_integer_items_and_keeps_valid_results():
    with pytest.raises(TypeError, match=r"^item_idx must be 1-D integer item indices, got dtype float64"):
        similar_items(Q, [1.0], n=2)
    np.testing.assert_array_equal(similar_items(Q, [0, 2], n=2), similar_items(Q, np.array([0, 2]), n=2))
    assert similar_items(Q, [], n=2).shape == (0, 2)


@pytest.mark.parametrize("exclude", [[[0], [1, 2]], [[0, 1], [2, 3]], [[0, 1, 0, 0], [0, 0, 1, 0]]],
                         ids=["ragged-lists", "index-lists", "int-mask"])
def test_top_n_refuses_per_user_item_lists(exclude):
    with pytest.raises(TypeError, match=r"^exclude must be a scipy\.sparse matrix or boolean array \(n_users, "
                                        r"n_items\), got list: build it with interaction_matrix\(train, ids\)$"):
        top_n(np.arange(8.0).reshape(2, 4), exclude=exclude, n=2)


def test_top_n_takes_a_nested_bool_list_like_the_bool_array():
    scores = np.arange(8.0).reshape(2, 4)
    mask = [[False, False, False, True], [True, False, True, False]]
    np.testing.assert_array_equal(top_n(scores, exclude=mask, n=2), top_n(scores, exclude=np.array(mask), n=2))
    np.testing.assert_array_equal(top_n(scores, exclude=mask, n=2), [[2, 1], [3, 1]])


@pytest.mark.parametrize("users, bad", [([-1], -1), ([0, 4], 4)])
def test_evaluate_scores_refuses_out_of_range_users(users, bad):
    ratings = _ratings()
    ids = IdMap.from_ratings(ratings)
    scores = np.zeros((len(users), ids.n_items))
    with pytest.raises(ValueError, match=rf"^user index {bad} is outside 0\.\.3: pass indices from the training "
                                         r"IdMap$"):
        evaluate_scores(scores, ratings, ratings, ids, k=1, users=users)


def test_catalogue_coverage_refuses_negative_items_but_keeps_the_padding():
    assert catalogue_coverage(np.array([[2, -1], [0, -1]]), 4) == 0.5
    with pytest.raises(ValueError, match=r"^recommended holds item index -2, outside 0\.\.3 \(or -1, top_n's "
                                         r"padding for short lists\): pass item indices from the training IdMap$"):
        catalogue_coverage(np.array([[2, -2]]), 4)
    with pytest.raises(ValueError, match="n_items is 4"):
        catalogue_coverage(np.array([[4, -1]]), 4)
    assert catalogue_coverage(top_n(np.array([[1.0, 2.0]]), exclude=sp.csr_matrix([[1.0, 0.0]]), n=2), 2) == 0.5
