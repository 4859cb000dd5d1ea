"""Weighted ALS on implicit feedback: closed forms, monotone loss, beats random, fold-in."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_utils.implicit import ImplicitALS, _weighted_ridge_step, fold_in_user, implicit_loss
from recsys_utils.mf import group_by_index
from recsys_utils.ranking import evaluate_scores


def _reference_ridge(Y, idx, values, reg, alpha):
    """min_x sum_i c_i (p_i - y_i.x)^2 + reg |x|^2 over ALL items, by least squares on
    the stacked system [sqrt(C) Y; sqrt(reg) I] x = [sqrt(C) p; 0]."""
    n, k = Y.shape
    c, p = np.ones(n), np.zeros(n)
    c[idx] += alpha * values
    p[idx] = 1.0
    A = np.vstack([np.sqrt(c)[:, None] * Y, np.sqrt(reg) * np.eye(k)])
    b = np.r_[np.sqrt(c) * p, np.zeros(k)]
    return np.linalg.lstsq(A, b, rcond=None)[0]


def test_fold_in_equals_the_closed_form_ridge_solution():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(30, 4))
    idx, vals = np.array([3, 7, 12, 29]), np.array([1.0, 2.0, 0.5, 1.0])
    got = fold_in_user(Y, idx, vals, reg=0.7, alpha=3.0)
    np.testing.assert_allclose(got, _reference_ridge(Y, idx, vals, 0.7, 3.0), rtol=1e-10, atol=1e-12)
    # values default to 1; alpha = 0 is plain ridge towards p over all items
    np.testing.assert_allclose(fold_in_user(Y, idx, reg=0.7, alpha=3.0),
                               _reference_ridge(Y, idx, np.ones(4), 0.7, 3.0), rtol=1e-10)
    p = np.zeros(30)
    p[idx] = 1
    np.testing.assert_allclose(fold_in_user(Y, idx, reg=0.7, alpha=0.0),
                               np.linalg.solve(Y.T @ Y + 0.7 * np.eye(4), Y.T @ p), rtol=1e-10)


def test_batched_step_equals_one_fold_in_per_user():
    rng = np.random.default_rng(1)
    n_users, n_items = 12, 20
    u = np.repeat(np.arange(n_users), 5)
    i = np.concatenate([rng.choice(n_items, 5, replace=False) for _ in range(n_users)])
    Y = rng.normal(size=(n_items, 3))
    X = _weighted_ridge_step(u, i, np.full(len(u), 4.0), Y, n_users + 1, 0.5, group_by_index(u, n_users + 1))
    for user in range(n_users):
        np.testing.assert_allclose(X[user], fold_in_user(Y, i[u == user], reg=0.5, alpha=4.0), rtol=1e-9)
    np.testing.assert_array_equal(X[n_users], 0.0)  # a user without interactions


def test_implicit_loss_equals_the_dense_formula():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(5, 2)), rng.normal(size=(6, 2))
    u, i = np.array([0, 0, 3, 4]), np.array([1, 5, 2, 2])
    w = np.array([2.0, 2.0, 1.0, 3.0])
    C, P = np.ones((5, 6)), np.zeros((5, 6))
    C[u, i] += w
    P[u, i] = 1
    dense = np.sum(C * (P - X @ Y.T) ** 2) + 0.3 * (np.sum(X**2) + np.sum(Y**2))
    assert implicit_loss(u, i, w, X, Y, 0.3) == pytest.approx(dense)


def _two_taste_problem(seed=0, n_users=60, n_items=40):
    """Even users watch 8 of the 20 even items, odd users 8 of the odd ones.

    The test set ("relevant") is every same-taste item the user has not watched yet.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for u in range(n_users):
        same = rng.permutation(np.arange(u % 2, n_items, 2))
        train += [(u, i, 5.0) for i in same[:8]]
        test += [(u, i, 5.0) for i in same[8:]]
    cols = ["user_id", "item_id", "rating"]
    return pd.DataFrame(train, columns=cols), pd.DataFrame(test, columns=cols)


def test_beats_random_on_a_tiny_synthetic_problem():
    train, test = _two_taste_problem()
    model = ImplicitALS(n_factors=4, reg=0.5, alpha=5.0, n_epochs=8, random_state=0)
    assert model.fit(train) is model
    ours = evaluate_scores(model.score_matrix(), train, test, model.ids_, k=10)
    rand = evaluate_scores(np.random.default_rng(0).random((60, 40)), train, test, model.ids_, k=10)
    # 12 of a user's 32 unseen items are of their taste: random lists hold about 12/32 of them,
    # a model that learned the two tastes fills its top 10 with them
    assert rand["precision@10"] < 0.5
    assert ours["precision@10"] > 0.95
    assert ours["ndcg@10"] > rand["ndcg@10"] + 0.4


def test_loss_never_increases_and_seed_repeats():
    train, _ = _two_taste_problem(1)
    m1 = ImplicitALS(n_factors=3, reg=0.5, alpha=2.0, n_epochs=6, random_state=7).fit(train)
    assert (np.diff(m1.history_["loss"]) <= 1e-9 * m1.history_["loss"].iloc[0]).all()
    m2 = ImplicitALS(n_factors=3, reg=0.5, alpha=2.0, n_epochs=6, random_state=7).fit(train)
    np.testing.assert_array_equal(m1.item_factors_, m2.item_factors_)
    assert m1.user_factors_.shape == (60, 3) and m1.item_factors_.shape == (40, 3)
    assert "n_factors=3" in repr(m1)


def test_model_fold_in_uses_ids_and_drops_unknown_ones():
    train, _ = _two_taste_problem(2)
    m = ImplicitALS(n_factors=3, reg=0.5, alpha=2.0, n_epochs=4, random_state=0).fit(train)
    x = m.fold_in_user([0, 2, 4, 999])
    np.testing.assert_allclose(x, fold_in_user(m.item_factors_, m.ids_.item_index([0, 2, 4]), reg=0.5, alpha=2.0))
    scores = x @ m.item_factors_.T
    assert scores[m.ids_.item_index([6, 8, 10])].mean() > scores[m.ids_.item_index([7, 9, 11])].mean()
    with pytest.raises(ValueError, match="none of item_ids was seen"):
        m.fold_in_user([999])
    with pytest.raises(ValueError, match="one value per item"):
        m.fold_in_user([0, 2], [1.0])


def test_fold_in_errors():
    Y = np.ones((5, 2))
    with pytest.raises(ValueError, match="empty"):
        fold_in_user(Y, [])
    with pytest.raises(ValueError, match=r"indices in 0..4"):
        fold_in_user(Y, [5])
    with pytest.raises(ValueError, match="repeats an item"):
        fold_in_user(Y, [1, 1])
    with pytest.raises(ValueError, match="2 items but 1 values"):
        fold_in_user(Y, [1, 2], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        fold_in_user(Y, [1], [-1.0])
    with pytest.raises(ValueError, match="reg must be"):
        fold_in_user(Y, [1], reg=-1.0)


def test_fit_errors():
    df = pd.DataFrame({"user_id": [1], "item_id": [2]})
    with pytest.raises(ValueError, match="n_factors must be an integer"):
        ImplicitALS(n_factors=0).fit(df)
    with pytest.raises(ValueError, match="reg must be a positive"):
        ImplicitALS(reg=0.0).fit(df)
    with pytest.raises(ValueError, match="alpha must be"):
        ImplicitALS(alpha=-1.0).fit(df)
    with pytest.raises(ValueError, match="columns user_id and item_id"):
        ImplicitALS().fit(df.rename(columns={"item_id": "movie"}))
    with pytest.raises(ValueError, match="is empty"):
        ImplicitALS().fit(df.iloc[:0])
    with pytest.raises(RuntimeError, match="not fitted"):
        ImplicitALS().score_matrix()
