"""Weighted ALS on implicit feedback: closed forms, monotone loss, beats random, fold-in; the CG solver."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_utils.implicit import (
    ImplicitALS,
    _cg_ridge_step,
    _loss_from_dots,
    _Observed,
    _weighted_ridge_step,
    fold_in_user,
    implicit_loss,
)
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
    with pytest.raises(ValueError, match="solver must be one of 'exact', 'cg', got 'lu'"):
        ImplicitALS(solver="lu").fit(df)
    with pytest.raises(ValueError, match="cg_steps must be an integer >= 1, got 0"):
        ImplicitALS(solver="cg", cg_steps=0).fit(df)
    with pytest.raises(ValueError, match="dtype must be one of 'float64', 'float32', got 'int8'"):
        ImplicitALS(dtype="int8").fit(df)
    with pytest.raises(ValueError, match="dtype must be one of .*got 'nonsense'"):
        ImplicitALS(dtype="nonsense").fit(df)


# ---------------------------------------------------------------------------
# the default solver is the code the notebooks ran; the CG solver against it
# ---------------------------------------------------------------------------
def _previous_ridge_step(idx_self, idx_other, weight, other_factors, n_self, reg, groups):
    """``_weighted_ridge_step`` as it was before the CG solver was added (commit 5c91cbe), verbatim."""
    Y = np.asarray(other_factors, dtype=float)
    k = Y.shape[1]
    G = Y.T @ Y + reg * np.eye(k)
    F = np.vstack([Y, np.zeros((1, k))])
    other_all = np.r_[idx_other, len(Y)]
    w_all = np.r_[weight, 0.0]
    out = np.zeros((n_self, k))
    for ents, pos in groups:
        X = F[other_all[pos]]
        w = w_all[pos]
        A = G + np.matmul(X.transpose(0, 2, 1), X * w[..., None])
        rhs = np.einsum("blk,bl->bk", X, 1.0 + w)
        out[ents] = np.linalg.solve(A, rhs[..., None])[..., 0]
    return out


def _previous_fit(train, n_factors, reg, alpha, n_epochs, init_std, seed):
    """``ImplicitALS.fit`` as it was before the CG solver was added: factors and loss history."""
    from recsys_utils.encoding import IdMap

    pairs = train[["user_id", "item_id"]].drop_duplicates()
    ids = IdMap.from_ratings(pairs)
    u, i = ids.user_index(pairs["user_id"]), ids.item_index(pairs["item_id"])
    nu, ni = ids.n_users, ids.n_items
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, init_std, (nu, n_factors))
    Y = rng.normal(0.0, init_std, (ni, n_factors))
    w = np.full(len(u), float(alpha))
    groups_u, groups_i = group_by_index(u, nu), group_by_index(i, ni)
    losses = []
    for _ in range(n_epochs):
        X = _previous_ridge_step(u, i, w, Y, nu, reg, groups_u)
        Y = _previous_ridge_step(i, u, w, X, ni, reg, groups_i)
        losses.append(implicit_loss(u, i, w, X, Y, reg))
    return X, Y, losses


@pytest.mark.parametrize("seed", [0, 3])
def test_default_solver_gives_bit_identical_factors_to_the_previous_code(seed):
    """Notebooks 06 and 07 store outputs of the default solver: adding CG must not move a single bit."""
    train, _ = _two_taste_problem(seed, n_users=50, n_items=30)
    train = pd.concat([train, train.iloc[:7]])  # duplicate pairs count once, as before
    X, Y, losses = _previous_fit(train, 5, 0.8, 3.0, 5, 0.1, seed)
    m = ImplicitALS(n_factors=5, reg=0.8, alpha=3.0, n_epochs=5, init_std=0.1, random_state=seed).fit(train)
    assert m.solver == "exact" and m.user_factors_.dtype == np.float64
    np.testing.assert_array_equal(m.user_factors_, X)
    np.testing.assert_array_equal(m.item_factors_, Y)
    np.testing.assert_array_equal(m.history_["loss"].to_numpy(), losses)


def _random_pairs(rng, n_rows, n_cols, density):
    mask = rng.random((n_rows, n_cols)) < density
    mask[np.arange(n_rows), rng.integers(0, n_cols, n_rows)] = True  # every row observed at least once
    rows, cols = np.nonzero(mask)
    perm = rng.permutation(len(rows))  # any input order
    return rows[perm], cols[perm]


def test_observed_products_equal_their_dense_forms():
    rng = np.random.default_rng(4)
    rows, cols = _random_pairs(rng, 12, 15, 0.4)
    w = rng.random(len(rows)) + 0.5
    obs = _Observed(rows, cols, w, 13, 15, np.float64, 3, chunk_bytes=64 * 3 * 8)  # row 12 has no pairs
    V, Z = rng.normal(size=(13, 3)), rng.normal(size=(15, 3))
    W = np.zeros((13, 15))
    W[rows, cols] = w
    assert obs._chunk == 64 < len(rows) < 128  # two chunks, the second one partial
    assert (np.diff(obs.rows) >= 0).all() and sorted(zip(obs.rows, obs.cols)) == sorted(zip(rows, cols))
    dots = obs.dots(V, Z)
    np.testing.assert_allclose(dots, (V @ Z.T)[obs.rows, obs.cols])
    np.testing.assert_allclose(obs.weight, W[obs.rows, obs.cols])
    np.testing.assert_allclose(obs.times(obs.weight * dots, Z), (W * (V @ Z.T)) @ Z)


def _dense_system(rows, cols, w, n_rows, Y, reg):
    """Every row's A_r = Y^T C_r Y + reg I and b_r = Y^T C_r p_r, built from the dense C and P."""
    n, k = Y.shape
    C, P = np.ones((n_rows, n)), np.zeros((n_rows, n))
    C[rows, cols] += w
    P[rows, cols] = 1.0
    A = np.einsum("ik,ri,il->rkl", Y, C, Y) + reg * np.eye(k)
    b = np.einsum("ik,ri->rk", Y, C * P)
    return A, b


def test_cg_steps_lower_every_rows_objective_and_reach_the_dense_least_squares_solution():
    rng = np.random.default_rng(5)
    n_rows, n, k, reg = 9, 14, 4, 0.6
    rows, cols = _random_pairs(rng, n_rows, n, 0.3)
    w = np.full(len(rows), 3.0)
    Y, X0 = rng.normal(size=(n, k)), rng.normal(size=(n_rows, k))
    A, b = _dense_system(rows, cols, w, n_rows, Y, reg)

    def objective(X):  # x^T A x / 2 - b^T x per row: the loss with Y fixed, up to a constant
        return 0.5 * np.einsum("rk,rkl,rl->r", X, A, X) - np.einsum("rk,rk->r", b, X)

    obs = _Observed(rows, cols, w, n_rows, n, np.float64, k)
    previous = objective(X0)
    for steps in range(1, k + 1):
        X = _cg_ridge_step(obs, X0, Y, reg, steps)
        current = objective(X)
        assert (current <= previous + 1e-12).all(), f"step {steps} raised an objective"
        assert (current < objective(X0) - 1e-9).all()
        previous = current
    # k steps solve a k-dimensional SPD system exactly (up to rounding): the brute-force weighted least squares
    X = _cg_ridge_step(obs, X0, Y, reg, k)
    for r in range(n_rows):
        own = cols[rows == r]
        np.testing.assert_allclose(X[r], _reference_ridge(Y, own, np.ones(len(own)), reg, 3.0), rtol=1e-7, atol=1e-9)
    assert not np.allclose(_cg_ridge_step(obs, X0, Y, reg, 1), X, rtol=1e-3)  # one step is not yet there


def test_cg_step_equals_the_exact_batched_step_when_run_to_convergence():
    rng = np.random.default_rng(6)
    rows, cols = _random_pairs(rng, 25, 18, 0.25)
    w = rng.random(len(rows)) * 4
    Y = rng.normal(size=(18, 6))
    exact = _weighted_ridge_step(rows, cols, w, Y, 26, 0.4, group_by_index(rows, 26))
    X0 = rng.normal(size=(26, 6))
    X = _cg_ridge_step(_Observed(rows, cols, w, 26, 18, np.float64, 6, chunk_bytes=1), X0, Y, 0.4, 30)
    np.testing.assert_allclose(X, exact, rtol=1e-8, atol=1e-10)  # row 25 (no pairs) goes to zero
    # the chunk size changes how the pairs are visited, not the arithmetic
    big = _cg_ridge_step(_Observed(rows, cols, w, 26, 18, np.float64, 6), X0, Y, 0.4, 30)
    np.testing.assert_array_equal(X, big)


def test_loss_from_dots_equals_implicit_loss():
    rng = np.random.default_rng(7)
    rows, cols = _random_pairs(rng, 6, 8, 0.4)
    w = rng.random(len(rows))
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(8, 3))
    perm = rng.permutation(len(rows))
    s = np.einsum("nk,nk->n", X[rows], Y[cols])
    assert _loss_from_dots(s[perm], w[perm], X, Y, 0.2) == pytest.approx(implicit_loss(rows, cols, w, X, Y, 0.2),
                                                                        rel=1e-12)


def test_cg_fit_follows_the_exact_fit_when_given_enough_steps():
    """With as many CG steps as the system has unknowns (and some), every half-sweep is the exact solve."""
    train, _ = _two_taste_problem(3)
    kw = dict(n_factors=4, reg=0.5, alpha=5.0, n_epochs=4, init_std=0.1, random_state=1)
    exact = ImplicitALS(**kw).fit(train)
    cg = ImplicitALS(**kw, solver="cg", cg_steps=12).fit(train)
    np.testing.assert_allclose(cg.user_factors_, exact.user_factors_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cg.item_factors_, exact.item_factors_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cg.history_["loss"], exact.history_["loss"], rtol=1e-9)
    few = ImplicitALS(**kw, solver="cg", cg_steps=1).fit(train)  # one step per sweep: not the exact path
    assert not np.allclose(few.item_factors_, exact.item_factors_, rtol=1e-2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cg_fit_loss_never_increases_and_it_learns_the_two_tastes(dtype):
    train, test = _two_taste_problem(4)
    m = ImplicitALS(n_factors=4, reg=0.5, alpha=5.0, n_epochs=8, random_state=0, solver="cg", cg_steps=2,
                    dtype=dtype).fit(train)
    assert m.user_factors_.dtype == np.dtype(dtype) and m.item_factors_.dtype == np.dtype(dtype)
    loss = m.history_["loss"].to_numpy()
    tol = 1e-9 if dtype == "float64" else 1e-5
    assert (np.diff(loss) <= tol * loss[0]).all()
    u = m.ids_.user_index(train["user_id"])
    i = m.ids_.item_index(train["item_id"])
    X, Y = m.user_factors_.astype(float), m.item_factors_.astype(float)
    assert loss[-1] == pytest.approx(implicit_loss(u, i, np.full(len(u), 5.0), X, Y, 0.5), rel=1e-5)
    ours = evaluate_scores(m.score_matrix(), train, test, m.ids_, k=10)
    assert ours["precision@10"] > 0.95
    again = ImplicitALS(n_factors=4, reg=0.5, alpha=5.0, n_epochs=8, random_state=0, solver="cg", cg_steps=2,
                        dtype=dtype).fit(train)
    np.testing.assert_array_equal(m.item_factors_, again.item_factors_)
    x = m.fold_in_user([0, 2, 4])  # fold-in solves exactly, whatever the solver
    np.testing.assert_allclose(x, fold_in_user(Y, m.ids_.item_index([0, 2, 4]), reg=0.5, alpha=5.0))


def test_exact_solver_stores_float32_when_asked():
    train, _ = _two_taste_problem(5)
    kw = dict(n_factors=3, reg=0.5, alpha=2.0, n_epochs=3, random_state=0)
    m64, m32 = ImplicitALS(**kw).fit(train), ImplicitALS(**kw, dtype=np.float32).fit(train)
    assert m32.item_factors_.dtype == np.float32 and m32.score_matrix().dtype == np.float32
    np.testing.assert_allclose(m32.item_factors_, m64.item_factors_, rtol=1e-4, atol=1e-6)
    assert "solver='exact'" in repr(m64) and "cg_steps=3" in repr(m64)
