"""Matrix factorization in NumPy: the maths against references, then the estimator."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from recsys_utils import NotFittedError, UnknownIdWarning, make_low_rank_ratings, random_split, rmse
from recsys_utils.mf import (
    MatrixFactorization,
    als_half_step,
    group_by_index,
    objective,
    objective_gradients,
    predict_raw,
    rating_gradients,
    sgd_epoch,
)

REG, REG_BIAS = 0.3, 0.07


@pytest.fixture
def tiny():
    """6 users x 5 items, 17 ratings; user 0 has 5 ratings, user 5 only 1."""
    rng = np.random.default_rng(3)
    cells = [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0), (1, 2), (2, 1), (2, 3), (2, 4),
             (3, 0), (3, 1), (3, 4), (4, 2), (4, 3), (4, 4), (5, 2)]
    u, i = np.array(cells).T
    r = rng.uniform(1, 5, len(u))
    k = 3
    params = dict(P=rng.normal(0, 0.5, (6, k)), Q=rng.normal(0, 0.5, (5, k)),
                  bu=rng.normal(0, 0.3, 6), bi=rng.normal(0, 0.3, 5), mu=3.0)
    return u, i, r, params


def test_predict_raw_by_hand(tiny):
    u, i, r, p = tiny
    expected = [p["mu"] + p["bu"][a] + p["bi"][b] + sum(p["P"][a, f] * p["Q"][b, f] for f in range(3))
                for a, b in zip(u, i)]
    np.testing.assert_allclose(predict_raw(u, i, **p), expected)


def test_objective_by_hand(tiny):
    u, i, r, p = tiny
    total = 0.0
    for a, b, y in zip(u, i, r):
        e = y - predict_raw(np.array([a]), np.array([b]), **p)[0]
        total += 0.5 * (e**2 + REG * (p["P"][a] @ p["P"][a] + p["Q"][b] @ p["Q"][b])
                        + REG_BIAS * (p["bu"][a] ** 2 + p["bi"][b] ** 2))
    assert objective(u, i, r, reg=REG, reg_bias=REG_BIAS, **p) == pytest.approx(total, rel=1e-12)


def test_gradients_match_finite_differences(tiny):
    u, i, r, p = tiny
    grads = dict(zip(("P", "Q", "bu", "bi"), objective_gradients(u, i, r, reg=REG, reg_bias=REG_BIAS, **p)))
    h = 1e-6
    for name, g in grads.items():
        numeric = np.zeros_like(p[name])
        for idx in np.ndindex(p[name].shape):
            plus = {**p, name: p[name].copy()}
            minus = {**p, name: p[name].copy()}
            plus[name][idx] += h
            minus[name][idx] -= h
            numeric[idx] = (objective(u, i, r, reg=REG, reg_bias=REG_BIAS, **plus)
                            - objective(u, i, r, reg=REG, reg_bias=REG_BIAS, **minus)) / (2 * h)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7, err_msg=name)


def test_rating_gradients_one_rating_by_hand():
    pu, qi = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]])
    e = np.array([2.0])
    dpu, dqi, dbu, dbi = rating_gradients(e, pu, qi, np.array([0.1]), np.array([-0.2]), reg=0.5, reg_bias=1.0)
    np.testing.assert_allclose(dpu, [[-2 * 0.5 + 0.5 * 1, -2 * -1.0 + 0.5 * 2]])
    np.testing.assert_allclose(dqi, [[-2 * 1 + 0.5 * 0.5, -2 * 2 + 0.5 * -1]])
    np.testing.assert_allclose(dbu, [-2 + 0.1])
    np.testing.assert_allclose(dbi, [-2 - 0.2])


def test_sgd_full_batch_is_one_gradient_step(tiny):
    u, i, r, p = tiny
    grads = objective_gradients(u, i, r, reg=REG, reg_bias=REG_BIAS, **p)
    new = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    sgd_epoch(u, i, r, new["P"], new["Q"], new["bu"], new["bi"], p["mu"], lr=0.05, reg=REG, reg_bias=REG_BIAS,
              batch_size=len(r), rng=np.random.default_rng(0))
    for name, g in zip(("P", "Q", "bu", "bi"), grads):
        np.testing.assert_allclose(new[name], p[name] - 0.05 * g, err_msg=name)


def test_sgd_batch_size_one_is_sequential_sgd(tiny):
    u, i, r, p = tiny
    lr = 0.05
    ref = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    for n in np.random.default_rng(7).permutation(len(r)):  # the shuffle sgd_epoch will draw
        a, b = u[n], i[n]
        e = r[n] - (ref["mu"] + ref["bu"][a] + ref["bi"][b] + ref["P"][a] @ ref["Q"][b])
        pa = ref["P"][a].copy()
        ref["P"][a] += lr * (e * ref["Q"][b] - REG * pa)
        ref["Q"][b] += lr * (e * pa - REG * ref["Q"][b])
        ref["bu"][a] += lr * (e - REG_BIAS * ref["bu"][a])
        ref["bi"][b] += lr * (e - REG_BIAS * ref["bi"][b])
    new = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    sgd_epoch(u, i, r, new["P"], new["Q"], new["bu"], new["bi"], p["mu"], lr=lr, reg=REG, reg_bias=REG_BIAS,
              batch_size=1, rng=np.random.default_rng(7))
    for name in ("P", "Q", "bu", "bi"):
        np.testing.assert_allclose(new[name], ref[name], err_msg=name)


def test_group_by_index_covers_every_rating_once():
    idx = np.random.default_rng(0).integers(0, 40, 500) ** 2 % 37  # very uneven counts
    groups = group_by_index(idx, 40)
    seen = np.concatenate([pos[pos < len(idx)] for _, pos in groups])
    assert sorted(seen) == list(range(len(idx)))
    for ents, pos in groups:
        for e, row in zip(ents, pos):
            assert set(idx[row[row < len(idx)]]) == {e}


def _lstsq_half_step(u, i, target, Q, n_users, reg, reg_bias, fit_bias=True):
    """Reference: per user, least squares on the stacked system [X; sqrt(n_u D)] w = [y; 0]."""
    k = Q.shape[1]
    out = np.zeros((n_users, k + fit_bias))
    for s in range(n_users):
        rows = u == s
        X = np.c_[Q[i[rows]], np.ones(rows.sum())] if fit_bias else Q[i[rows]]
        ridge = np.r_[np.full(k, reg), [reg_bias] * fit_bias] * rows.sum()
        A = np.r_[X, np.diag(np.sqrt(ridge))]
        b = np.r_[target[rows], np.zeros(len(ridge))]
        out[s] = np.linalg.lstsq(A, b, rcond=None)[0]
    return (out[:, :k], out[:, k]) if fit_bias else (out, np.zeros(n_users))


@pytest.mark.parametrize("fit_bias", [True, False])
def test_als_half_step_equals_stacked_lstsq(tiny, fit_bias):
    # users with 1..5 ratings and k = 3: both the primal (n_u >= k+1) and the dual path
    u, i, r, p = tiny
    target = r - p["mu"] - p["bi"][i]
    P, bu = als_half_step(u, i, target, p["Q"], 6, REG, REG_BIAS, fit_bias=fit_bias)
    P_ref, bu_ref = _lstsq_half_step(u, i, target, p["Q"], 6, REG, REG_BIAS, fit_bias)
    np.testing.assert_allclose(P, P_ref, atol=1e-10)
    np.testing.assert_allclose(bu, bu_ref, atol=1e-10)
    # the item side too, and the half-step is a minimizer: the gradient there is zero
    Q, bi = als_half_step(i, u, r - p["mu"] - bu[u], P, 5, REG, REG_BIAS, fit_bias=fit_bias)
    dP, dQ, dbu, dbi = objective_gradients(u, i, r, P, Q, bu, bi, p["mu"], REG, REG_BIAS)
    np.testing.assert_allclose(dQ, 0, atol=1e-10)
    if fit_bias:
        np.testing.assert_allclose(dbi, 0, atol=1e-10)


def test_objective_never_increases_across_als_sweeps(tiny):
    u, i, r, p = tiny
    P, Q, bu, bi, mu = p["P"], p["Q"], p["bu"], p["bi"], p["mu"]
    values = [objective(u, i, r, P, Q, bu, bi, mu, REG, REG_BIAS)]
    for _ in range(8):
        P, bu = als_half_step(u, i, r - mu - bi[i], Q, 6, REG, REG_BIAS)
        values.append(objective(u, i, r, P, Q, bu, bi, mu, REG, REG_BIAS))
        Q, bi = als_half_step(i, u, r - mu - bu[u], P, 5, REG, REG_BIAS)
        values.append(objective(u, i, r, P, Q, bu, bi, mu, REG, REG_BIAS))
    steps = np.diff(values)
    assert np.all(steps <= 1e-12 * values[0]), steps
    assert values[-1] < 0.5 * values[0]


def test_model_objective_falls_with_more_sweeps():
    data = make_low_rank_ratings(n_users=60, n_items=50, n_factors=3, density=0.3, random_state=1).ratings
    values = [MatrixFactorization(n_factors=3, reg=0.05, n_epochs=n, random_state=0).fit(data).objective(data)
              for n in (1, 2, 4, 8)]
    assert np.all(np.diff(values) <= 0), values


# --- the estimator on synthetic data with a known truth ---------------------
@pytest.fixture(scope="module")
def synth():
    data = make_low_rank_ratings(n_users=300, n_items=200, n_factors=4, density=0.5, noise=0.2, random_state=0)
    train, test = random_split(data.ratings, test_size=0.2, random_state=0)
    return data, train, test


@pytest.mark.parametrize("method, kwargs", [
    ("als", dict(n_epochs=15, reg=0.01)),
    ("sgd", dict(n_epochs=40, reg=0.01, lr=0.02, batch_size=128)),
])
def test_recovers_synthetic_truth_to_noise_level(synth, method, kwargs):
    data, train, test = synth
    model = MatrixFactorization(n_factors=4, method=method, random_state=0, **kwargs).fit(train, eval_set=test)
    test_rmse = rmse(test["rating"], model.predict(test["user_id"], test["item_id"]))
    assert abs(test_rmse - data.noise) <= 0.1 * data.noise, (test_rmse, data.noise)
    assert model.history_["eval_rmse"].iloc[-1] == pytest.approx(test_rmse)
    # and the fitted ratings are close to the noise-free truth
    truth = data.true_rating(test["user_id"], test["item_id"])
    assert rmse(truth, model.predict(test["user_id"], test["item_id"])) < 0.5 * data.noise


def test_learned_attributes_and_history(synth):
    _, train, test = synth
    model = MatrixFactorization(n_factors=5, n_epochs=4, random_state=0).fit(train, eval_set=test)
    assert model.user_factors_.shape == (model.ids_.n_users, 5)
    assert model.item_factors_.shape == (model.ids_.n_items, 5)
    assert model.user_bias_.shape == (model.ids_.n_users,) and model.item_bias_.shape == (model.ids_.n_items,)
    assert model.global_mean_ == pytest.approx(train["rating"].mean())
    h = model.history_
    assert list(h.columns) == ["epoch", "train_rmse", "eval_rmse"] and list(h["epoch"]) == [1, 2, 3, 4]
    train_rmse = rmse(train["rating"], model.predict(train["user_id"], train["item_id"]))
    assert h["train_rmse"].iloc[-1] == pytest.approx(train_rmse)
    assert h["train_rmse"].is_monotonic_decreasing
    no_eval = MatrixFactorization(n_factors=2, n_epochs=2, random_state=0).fit(train)
    assert no_eval.history_["eval_rmse"].isna().all()


def test_unbiased_model_has_zero_biases(synth):
    _, train, _ = synth
    for method in ("als", "sgd"):
        m = MatrixFactorization(n_factors=3, n_epochs=2, method=method, biased=False, random_state=0).fit(train)
        assert not m.user_bias_.any() and not m.item_bias_.any()


@pytest.mark.parametrize("method", ["als", "sgd"])
def test_same_seed_same_factors_other_seed_other_factors(synth, method):
    _, train, _ = synth

    def fit(seed):
        return MatrixFactorization(n_factors=4, n_epochs=3, method=method, random_state=seed).fit(train)

    a, b, c = fit(5), fit(5), fit(6)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    assert not np.allclose(a.user_factors_, c.user_factors_)


@pytest.mark.parametrize("method", ["als", "sgd"])
def test_regularization_shrinks_norms(synth, method):
    _, train, _ = synth
    norms = []
    for reg in (0.001, 0.05, 0.5):
        m = MatrixFactorization(n_factors=4, reg=reg, n_epochs=8, method=method, lr=0.01, random_state=0).fit(train)
        norms.append((np.linalg.norm(m.user_factors_) ** 2 + np.linalg.norm(m.item_factors_) ** 2,
                      np.linalg.norm(m.user_bias_) ** 2 + np.linalg.norm(m.item_bias_) ** 2))
    factors, biases = np.array(norms).T
    assert np.all(np.diff(factors) < 0), factors
    assert np.all(np.diff(biases) < 0), biases


# --- predict: clipping, unknown ids ------------------------------------------
@pytest.fixture(scope="module")
def fitted(synth):
    _, train, _ = synth
    return MatrixFactorization(n_factors=3, n_epochs=3, random_state=0, rating_scale=(0, 8)).fit(train)


def test_predict_clips_to_the_scale(fitted):
    model = MatrixFactorization(n_factors=3, n_epochs=3, random_state=0, rating_scale=(0, 8))
    model.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    model.user_factors_ = fitted.user_factors_ * 100  # push raw predictions far outside [0, 8]
    users, items = model.ids_.users[:50], model.ids_.items[:50]
    raw = model._predict_idx(model.ids_.user_index(users), model.ids_.item_index(items))
    assert raw.min() < 0 and raw.max() > 8
    np.testing.assert_array_equal(model.predict(users, items), np.clip(raw, 0, 8))


def test_unknown_ids_fall_back_to_biases_with_a_warning(fitted):
    known_u, known_i = fitted.ids_.users[0], fitted.ids_.items[0]
    with pytest.warns(UnknownIdWarning, match="2 of 3 pairs"):
        pred = fitted.predict([known_u, -1, known_u], [known_i, known_i, -5])
    mu = fitted.global_mean_
    assert pred[1] == pytest.approx(np.clip(mu + fitted.item_bias_[0], 0, 8))
    assert pred[2] == pytest.approx(np.clip(mu + fitted.user_bias_[0], 0, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.predict([known_u], [known_i])  # known pairs: no warning


# --- bad input -----------------------------------------------------------------
GOOD = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": [1, 2, 1, 3], "rating": [4.0, 3.0, 5.0, 1.0]})


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_factors=-2), "n_factors must be an integer >= 1, got -2"),
    (dict(n_factors=2.5), "n_factors must be an integer >= 1, got 2.5"),
    (dict(n_factors=0), "n_factors must be an integer >= 1"),
    (dict(n_epochs=0), "n_epochs must be an integer >= 1"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(method="svd"), "method must be one of 'als', 'sgd', got 'svd'"),
    (dict(reg=-0.1), "reg must be a non-negative finite number"),
    (dict(reg_bias=float("nan")), "reg_bias must be a non-negative finite number"),
    (dict(lr=0), "lr must be a positive finite number"),
    (dict(init_std=-1), "init_std must be a non-negative finite number"),
    (dict(rating_scale=(5, 1)), r"rating_scale must be \(min, max\) with min < max"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MatrixFactorization(**kwargs).fit(GOOD)


@pytest.mark.parametrize("data, kwargs, match", [
    (GOOD.assign(rating=[4.0, np.nan, 5.0, 1.0]), {}, "1 missing or non-numeric rating"),
    (GOOD.assign(rating=[4.0, 3.0, 9.0, 1.0]), dict(rating_scale=(1, 5)), r"outside the scale \[1, 5\]"),
    (GOOD.iloc[:0], {}, "ratings is empty: pass at least one rating"),
    (GOOD.drop(columns="rating"), {}, "lacks column"),
])
def test_bad_ratings(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        MatrixFactorization(n_epochs=1, **kwargs).fit(data)


def test_bad_eval_set():
    with pytest.raises(ValueError, match="eval_set has 1 missing or non-numeric rating"):
        MatrixFactorization(n_epochs=1).fit(GOOD, eval_set=GOOD.assign(rating=[np.nan, 1.0, 2.0, 3.0]))


def test_mismatched_lengths_and_not_fitted():
    with pytest.raises(NotFittedError, match="call fit"):
        MatrixFactorization().predict([1], [1])
    model = MatrixFactorization(n_factors=2, n_epochs=1).fit(GOOD)
    with pytest.raises(ValueError, match="got 2 user ids but 3 item ids"):
        model.predict([1, 2], [1, 2, 3])


def test_sgd_divergence_says_what_to_change():
    with pytest.raises(ValueError, match="SGD diverged at epoch [0-9]+: lower lr"):
        MatrixFactorization(method="sgd", lr=1e3, n_epochs=50, random_state=0).fit(GOOD)


# --- save / load, progress bar ----------------------------------------------
@pytest.mark.parametrize("ids", ["int", "str"])
def test_save_load_round_trips_predictions_exactly(tmp_path, synth, ids):
    _, train, test = synth
    if ids == "str":
        train, test = (d.assign(user_id="u" + d["user_id"].astype(str)) for d in (train, test))
    model = MatrixFactorization(n_factors=4, n_epochs=3, reg_bias=0.02, random_state=1).fit(train, eval_set=test)
    path = tmp_path / "mf.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as z:  # nothing in the file needs pickle
        assert all(z[key].dtype != object for key in z.files)
    loaded = MatrixFactorization.load(path)
    users, items = test["user_id"].to_numpy(), test["item_id"].to_numpy()
    np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
    pd.testing.assert_frame_equal(loaded.history_, model.history_)
    assert repr(loaded) == repr(model)
    assert loaded.rating_scale_ == model.rating_scale_


def test_progress_bar_only_when_verbose(capsys):
    MatrixFactorization(n_factors=2, n_epochs=2).fit(GOOD)
    assert capsys.readouterr().err == ""
    MatrixFactorization(n_factors=2, n_epochs=2, verbose=True).fit(GOOD)
    assert "MF-als" in capsys.readouterr().err


# --- the penalty floor: reg / reg_bias as (floor, per_rating) ----------------
FLOORED = dict(reg=(0.8, REG), reg_bias=(2.5, REG_BIAS))


def test_penalty_parts_and_entity_penalty():
    from recsys_utils.mf import entity_penalty, penalty_parts

    assert penalty_parts(0.13) == (0.0, 0.13)
    assert penalty_parts((25, 0.13)) == (25.0, 0.13)
    np.testing.assert_allclose(entity_penalty((25, 0.5), [0, 1, 4]), [0.0, 25.5, 27.0])
    for bad, match in (((1, 2, 3), r"reg must be a number or a pair \(floor, per_rating\)"),
                       ((-1, 0.1), "reg floor must be a non-negative finite number"),
                       ((1, float("inf")), "reg per_rating must be a non-negative finite number")):
        with pytest.raises(ValueError, match=match):
            penalty_parts(bad)


def test_floored_objective_by_hand(tiny):
    u, i, r, p = tiny
    (fl, lam), (flb, lamb) = FLOORED["reg"], FLOORED["reg_bias"]
    total = 0.0
    for a, b, y in zip(u, i, r):
        e = y - predict_raw(np.array([a]), np.array([b]), **p)[0]
        total += 0.5 * (e**2 + lam * (p["P"][a] @ p["P"][a] + p["Q"][b] @ p["Q"][b])
                        + lamb * (p["bu"][a] ** 2 + p["bi"][b] ** 2))
    # the floor once per entity that has ratings (all 6 users and 5 items here)
    total += 0.5 * (fl * (np.sum(p["P"] ** 2) + np.sum(p["Q"] ** 2))
                    + flb * (np.sum(p["bu"] ** 2) + np.sum(p["bi"] ** 2)))
    assert objective(u, i, r, **FLOORED, **p) == pytest.approx(total, rel=1e-12)
    # an entity without ratings pays nothing, floor or not
    extra = {**p, "bu": np.r_[p["bu"], 7.0], "P": np.r_[p["P"], np.full((1, 3), 9.0)]}
    assert objective(u, i, r, **FLOORED, **extra) == pytest.approx(total, rel=1e-12)


def test_floored_gradients_match_finite_differences(tiny):
    u, i, r, p = tiny
    grads = dict(zip(("P", "Q", "bu", "bi"), objective_gradients(u, i, r, **FLOORED, **p)))
    h = 1e-6
    for name, g in grads.items():
        numeric = np.zeros_like(p[name])
        for idx in np.ndindex(p[name].shape):
            plus, minus = {**p, name: p[name].copy()}, {**p, name: p[name].copy()}
            plus[name][idx] += h
            minus[name][idx] -= h
            numeric[idx] = (objective(u, i, r, **FLOORED, **plus) - objective(u, i, r, **FLOORED, **minus)) / (2 * h)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("fit_bias", [True, False])
def test_floored_als_half_step_is_the_exact_minimizer(tiny, fit_bias):
    u, i, r, p = tiny
    k = 3
    target = r - p["mu"] - p["bi"][i]
    P, bu = als_half_step(u, i, target, p["Q"], 6, FLOORED["reg"], FLOORED["reg_bias"], fit_bias=fit_bias)
    # reference: per user, the stacked least squares [X; sqrt(D)] w = [y; 0] with D = floor + n * lambda
    for s in range(6):
        rows = u == s
        X = np.c_[p["Q"][i[rows]], np.ones(rows.sum())] if fit_bias else p["Q"][i[rows]]
        d = np.full(k, FLOORED["reg"][0] + rows.sum() * FLOORED["reg"][1])
        if fit_bias:
            d = np.r_[d, FLOORED["reg_bias"][0] + rows.sum() * FLOORED["reg_bias"][1]]
        w = np.linalg.lstsq(np.r_[X, np.diag(np.sqrt(d))], np.r_[target[rows], np.zeros(len(d))], rcond=None)[0]
        np.testing.assert_allclose(P[s], w[:k], atol=1e-10)
        if fit_bias:
            assert bu[s] == pytest.approx(w[k], abs=1e-10)


def test_floored_sgd_full_batch_is_one_gradient_step(tiny):
    u, i, r, p = tiny
    grads = objective_gradients(u, i, r, **FLOORED, **p)
    new = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
    sgd_epoch(u, i, r, new["P"], new["Q"], new["bu"], new["bi"], p["mu"], lr=0.05, **FLOORED,
              batch_size=len(r), rng=np.random.default_rng(0))
    for name, g in zip(("P", "Q", "bu", "bi"), grads):
        np.testing.assert_allclose(new[name], p[name] - 0.05 * g, err_msg=name)


def test_bias_floor_alone_is_the_bias_baseline():
    # no factors to speak of (k=1, huge factor penalty), bias penalty floor only: MF's ALS sweeps are then
    # the bias baseline's alternating updates b_i = sum(r - mu - b_u) / (floor + n_i)
    from recsys_utils import BiasBaseline

    train = make_low_rank_ratings(n_users=40, n_items=30, n_factors=2, density=0.3, random_state=5).ratings
    floor = 4.0
    mf = MatrixFactorization(n_factors=1, reg=1e9, reg_bias=(floor, 0.0), init_std=0.0, n_epochs=60,
                             random_state=0).fit(train)
    base = BiasBaseline(reg_user=floor, reg_item=floor, n_epochs=200).fit(train)
    users, items = train["user_id"].to_numpy(), train["item_id"].to_numpy()
    np.testing.assert_allclose(mf.predict(users, items), base.predict(users, items), atol=1e-6)


def test_floor_shrinks_a_single_rating_movie_not_a_popular_one():
    # movie 99 is rated once, 5 stars; its item bias under a per-rating penalty stays large
    train = make_low_rank_ratings(n_users=60, n_items=40, n_factors=2, density=0.4, random_state=2).ratings
    lone = pd.DataFrame({"user_id": [train["user_id"].iloc[0]], "item_id": [99], "rating": [5.0]})
    data = pd.concat([train.assign(rating=train["rating"].clip(1, 5)), lone], ignore_index=True)
    fits = {name: MatrixFactorization(n_factors=3, n_epochs=15, reg_bias=rb, random_state=0).fit(data)
            for name, rb in (("per rating", 0.13), ("floored", (25.0, 0.13)))}
    lone_bias = {name: m.item_bias_[m.ids_.items.get_loc(99)] for name, m in fits.items()}
    assert lone_bias["per rating"] > 0.5
    assert lone_bias["floored"] < 0.5 * lone_bias["per rating"]
    popular = data["item_id"].value_counts().index[0]
    busy = {name: m.item_bias_[m.ids_.items.get_loc(popular)] for name, m in fits.items()}
    assert busy["floored"] == pytest.approx(busy["per rating"], abs=0.15)


def test_floored_model_saves_and_loads(tmp_path, synth):
    _, train, test = synth
    model = MatrixFactorization(n_factors=3, n_epochs=2, reg=(1.0, 0.1), reg_bias=(10, 0.05), random_state=1)
    model.fit(train)
    loaded = MatrixFactorization.load(model.save(tmp_path / "floored"))
    users, items = test["user_id"].to_numpy(), test["item_id"].to_numpy()
    np.testing.assert_array_equal(loaded.predict(users, items), model.predict(users, items))
    with pytest.raises(ValueError, match=r"reg_bias must be a number or a pair \(floor, per_rating\), got"):
        MatrixFactorization(reg_bias=(1, 2, 3)).fit(train)
