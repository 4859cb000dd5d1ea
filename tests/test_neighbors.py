"""ItemKNN and EASE against brute-force references, their score matrices, errors, and a beats-random check."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_utils import NotFittedError
from recsys_utils.neighbors import EASE, ItemKNN
from recsys_utils.ranking import evaluate_scores


def _random_pairs(seed, n_users=25, n_items=10, density=0.35):
    """A random 0/1 matrix with no empty row or column, and its (user_id, item_id) pairs.

    Ids are the row and column numbers, so the fitted IdMap keeps that order.
    """
    rng = np.random.default_rng(seed)
    X = (rng.random((n_users, n_items)) < density).astype(float)
    X[np.arange(n_users), np.arange(n_users) % n_items] = 1.0  # every user and item occurs
    u, i = np.nonzero(X)
    return X, pd.DataFrame({"user_id": u, "item_id": i})


# --- EASE ------------------------------------------------------------------------
def _ease_by_columns(X, reg):
    """For each item j: min_b ||X[:, j] - X b||^2 + reg ||b||^2 with b_j = 0, by the ridge normal equations."""
    n = X.shape[1]
    B = np.zeros((n, n))
    for j in range(n):
        others = np.delete(np.arange(n), j)
        A = X[:, others]  # (n_users, n - 1)
        B[others, j] = np.linalg.solve(A.T @ A + reg * np.eye(n - 1), A.T @ X[:, j])
    return B


@pytest.mark.parametrize("solver", ["cholesky", "woodbury"])
def test_ease_equals_one_constrained_ridge_regression_per_item(solver):
    X, pairs = _random_pairs(0, n_users=30, n_items=12)
    model = EASE(reg=2.5, solver=solver)
    assert model.fit(pairs) is model
    expected = _ease_by_columns(X, 2.5)
    for j in range(X.shape[1]):
        np.testing.assert_allclose(model.weights_[:, j], expected[:, j], rtol=0, atol=1e-8, err_msg=f"column {j}")
    assert model.weights_.dtype == np.float64
    np.testing.assert_array_equal(np.diag(model.weights_), 0.0)
    np.testing.assert_allclose(model.score_matrix(), X @ expected, atol=1e-8)


@pytest.mark.parametrize("solver", ["cholesky", "woodbury"])
def test_ease_in_float32_is_close_to_float64(solver):
    X, pairs = _random_pairs(1, n_users=40, n_items=15)
    model = EASE(reg=5.0, dtype="float32", solver=solver).fit(pairs)
    assert model.weights_.dtype == np.float32
    np.testing.assert_array_equal(np.diag(model.weights_), 0.0)
    np.testing.assert_allclose(model.weights_, _ease_by_columns(X, 5.0), rtol=0, atol=1e-5)


def test_ease_solvers_agree_beyond_one_block_of_rows():
    """1,100 items: more than the 1,024 rows that the Cholesky path mirrors at once."""
    _, pairs = _random_pairs(8, n_users=300, n_items=1100, density=0.02)
    chol, wood = (EASE(reg=3.0, solver=s).fit(pairs) for s in ("cholesky", "woodbury"))
    assert chol.ids_.n_items > 1024
    chol, wood = chol.weights_, wood.weights_
    np.testing.assert_allclose(chol, wood, rtol=0, atol=1e-10)


# --- ItemKNN ---------------------------------------------------------------------
def _knn_by_loops(X, shrinkage, k):
    """Cosine with shrinkage for every pair of items, each row's k largest kept, then per-user sums."""
    n_users, n = X.shape
    S = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                S[i, j] = X[:, i] @ X[:, j] / (np.linalg.norm(X[:, i]) * np.linalg.norm(X[:, j]) + shrinkage)
    if k is not None:
        for i in range(n):
            S[i, np.argsort(-S[i])[k:]] = 0.0
    scores = np.zeros((n_users, n))
    for u in range(n_users):
        for i in range(n):
            if X[u, i]:
                scores[u] += S[i]
    return S, scores


def test_item_knn_with_all_neighbours_equals_the_double_loop():
    X, pairs = _random_pairs(7)
    S, scores = _knn_by_loops(X, 0.0, None)
    model = ItemKNN().fit(pairs)
    np.testing.assert_allclose(model.weights_.toarray(), S, atol=1e-12)
    np.testing.assert_allclose(model.score_matrix(), scores, atol=1e-12)
    # keeping at least as many neighbours as there are other items is keeping all
    np.testing.assert_allclose(ItemKNN(n_neighbors=9).fit(pairs).score_matrix(), scores, atol=1e-12)


def test_item_knn_with_k_neighbours_and_shrinkage_equals_the_double_loop():
    X, pairs = _random_pairs(2)  # a seed without ties at the cut-off k=3 (0/1 data has many): one right answer
    full, _ = _knn_by_loops(X, 1.5, None)
    row_sorted = -np.sort(-full, axis=1)
    assert (row_sorted[:, 2] - row_sorted[:, 3]).min() > 1e-3 and (row_sorted[:, 3] > 0).all()
    S, scores = _knn_by_loops(X, 1.5, 3)
    model = ItemKNN(n_neighbors=3, shrinkage=1.5).fit(pairs)
    assert (np.diff(model.weights_.indptr) == 3).all()
    np.testing.assert_allclose(model.weights_.toarray(), S, atol=1e-12)
    np.testing.assert_allclose(model.score_matrix(), scores, atol=1e-12)
    assert not np.allclose(scores, _knn_by_loops(X, 1.5, None)[1])  # the pruning mattered


# --- the shape every model shares --------------------------------------------------
MODELS = {"ease": lambda: EASE(reg=3.0), "ease32": lambda: EASE(reg=3.0, dtype="float32"),
          "knn": lambda: ItemKNN(n_neighbors=4, shrinkage=1.0)}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_score_matrix_shape_rows_and_user_checks(make):
    _, pairs = _random_pairs(4)
    with pytest.raises(NotFittedError, match=r"not fitted yet: call fit\(interactions\) first"):
        make().score_matrix()
    model = make().fit(pairs)
    S = model.score_matrix()
    assert S.shape == (25, 10) and isinstance(S, np.ndarray)
    np.testing.assert_array_equal(model.score_matrix(np.array([7, 0, 7])), S[[7, 0, 7]])
    assert model.score_matrix(np.array([], dtype=int)).shape == (0, 10)
    with pytest.raises(ValueError, match="user index 25 is outside 0..24"):
        model.score_matrix([25])
    with pytest.raises(ValueError, match="user index -1 is outside"):
        model.score_matrix([-1])


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_ratings_are_ignored_duplicates_count_once_and_ids_come_from_training(make):
    _, pairs = _random_pairs(5)
    pairs = pairs.assign(user_id=pairs["user_id"] * 10 + 3, item_id="m" + pairs["item_id"].astype(str))
    noisy = pd.concat([pairs, pairs.iloc[:7]]).assign(rating=np.linspace(0.5, 5.0, len(pairs) + 7))
    a, b = make().fit(pairs), make().fit(noisy)
    np.testing.assert_array_equal(a.score_matrix(), b.score_matrix())
    assert list(a.ids_.items) == sorted(pairs["item_id"].unique())
    # an item seen only in the test set has no column: evaluate_scores drops it, as for ImplicitALS
    test = pd.DataFrame({"user_id": [3, 13], "item_id": ["m-new", "m2"], "rating": [5.0, 5.0]})
    assert a.ids_.item_index(["m-new"])[0] == -1
    assert evaluate_scores(a.score_matrix(), pairs, test, a.ids_)["n_eval_users"] <= 1


@pytest.mark.parametrize("model, message", [
    (EASE(reg=0), "reg must be a positive finite number, got 0"),
    (EASE(reg=-1.0), "reg must be a positive finite number, got -1.0"),
    (EASE(reg=float("nan")), "reg must be a positive finite number, got nan"),
    (EASE(dtype="float16"), "dtype must be one of 'float64', 'float32', got 'float16'"),
    (EASE(solver="qr"), "solver must be one of 'auto', 'cholesky', 'woodbury', got 'qr'"),
    (ItemKNN(n_neighbors=0), "n_neighbors must be an integer >= 1, got 0"),
    (ItemKNN(n_neighbors=2.0), "n_neighbors must be an integer >= 1, got 2.0"),
    (ItemKNN(shrinkage=-1), "shrinkage must be a non-negative finite number, got -1"),
])
def test_bad_arguments_raise_one_line_value_errors(model, message):
    _, pairs = _random_pairs(6)
    with pytest.raises(ValueError) as info:
        model.fit(pairs)
    assert str(info.value) == message and "\n" not in str(info.value)


@pytest.mark.parametrize("model", [EASE(), ItemKNN()], ids=["ease", "knn"])
def test_fit_refuses_bad_tables(model):
    df = pd.DataFrame({"user_id": [1], "item_id": [2]})
    with pytest.raises(ValueError, match="columns user_id and item_id"):
        model.fit(df.rename(columns={"item_id": "movie"}))
    with pytest.raises(ValueError, match="is empty"):
        model.fit(df.iloc[:0])
    assert repr(model).startswith(type(model).__name__ + "(")


# --- they learn something ----------------------------------------------------------
def _three_tastes(seed=0, n_users=90, n_items=60):
    """User u likes the 20 items i with i % 3 == u % 3; watched 8 of them plus 2 random others.

    The test set ("relevant") is the 12 liked items the user has not watched.
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for u in range(n_users):
        liked = rng.permutation(np.arange(u % 3, n_items, 3))
        other = rng.choice(np.setdiff1d(np.arange(n_items), liked), 2, replace=False)
        train += [(u, i, 5.0) for i in np.r_[liked[:8], other]]
        test += [(u, i, 5.0) for i in liked[8:]]
    cols = ["user_id", "item_id", "rating"]
    return pd.DataFrame(train, columns=cols), pd.DataFrame(test, columns=cols)


def test_both_beat_random_lists_by_a_wide_margin():
    train, test = _three_tastes()
    ease = EASE(reg=50.0).fit(train)
    knn = ItemKNN(n_neighbors=15).fit(train)
    rand = evaluate_scores(np.random.default_rng(0).random((90, 60)), train, test, ease.ids_)
    # 12 of a user's 50 unseen items are relevant: random top-10 lists hold about 2.4 of them
    assert rand["precision@10"] < 0.35
    for model in (ease, knn):
        got = evaluate_scores(model.score_matrix(), train, test, model.ids_)
        # measured: random 0.25 precision, 0.25 NDCG; EASE 0.94, 0.96; ItemKNN 0.99, 1.00
        assert got["precision@10"] > 0.9, type(model).__name__
        assert got["ndcg@10"] > rand["ndcg@10"] + 0.6, type(model).__name__
