"""BayesianFM (Bayesian factorization machine with implicit features): the features against a brute-force loop,
the per-side decomposition against the generic FM formula, each Gibbs conditional against its closed form
(brute-force design rows of the generic FM), the colouring, recovery of synthetic data, the conventions."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest

from recsys_utils import UnknownIdWarning, make_low_rank_ratings, random_split
from recsys_utils.fm import BayesianFM, fm_features, implicit_sets
from recsys_utils.fm_gibbs import ColorPlan, GibbsState, color_members, owner_stats, sample_implicit_group
from recsys_utils.metrics import rmse

N_DRAWS = 2000
Z = 4.5  # Monte-Carlo tolerance, in standard errors


def assert_mc_close(estimate, expected, std_error, what):
    z = np.abs(np.asarray(estimate) - expected) / std_error
    assert z.max() < Z, f"{what}: {np.round(estimate, 4)} vs {np.round(expected, 4)} ({z.max():.1f} std errors)"


def assert_gaussian_draws(draws, mean, cov, what):
    """Sample mean and covariance of (N, d) draws against N(mean, cov)."""
    n = len(draws)
    assert_mc_close(draws.mean(0), mean, np.sqrt(np.diag(cov) / n), f"mean of {what}")
    cov_se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert_mc_close(np.cov(draws.T), cov, cov_se, f"covariance of {what}")


# --- features ------------------------------------------------------------------------------------
def test_implicit_sets_and_fm_features_match_a_brute_force_loop():
    rng = np.random.default_rng(0)
    nu, ni = 7, 5
    u, i = rng.integers(0, nu, 30), rng.integers(0, ni, 30)  # duplicates on purpose
    user_sets, item_sets = implicit_sets(u, i, nu, ni)
    expect_u, expect_i = np.zeros((nu, ni)), np.zeros((ni, nu))
    for user in range(nu):
        rated = {int(item) for uu, item in zip(u, i) if uu == user}
        for item in rated:
            expect_u[user, item] = 1 / np.sqrt(len(rated))
    for item in range(ni):
        raters = {int(uu) for uu, it in zip(u, i) if it == item}
        for user in raters:
            expect_i[item, user] = 1 / np.sqrt(len(raters))
    np.testing.assert_allclose(user_sets.toarray(), expect_u)
    np.testing.assert_allclose(item_sets.toarray(), expect_i)
    pu, pi = np.array([0, 3, -1, 2]), np.array([1, -1, 4, 2])
    X = fm_features(pu, pi, user_sets, item_sets).toarray()
    assert X.shape == (4, nu + ni + ni + nu)
    for row, (user, item) in enumerate(zip(pu, pi)):
        expect = np.zeros(nu + ni + ni + nu)
        if user >= 0:
            expect[user] = 1
            expect[nu + ni:nu + 2 * ni] = expect_u[user]
        if item >= 0:
            expect[nu + item] = 1
            expect[nu + 2 * ni:] = expect_i[item]
        np.testing.assert_allclose(X[row], expect)


def test_colouring_never_puts_two_members_of_one_set_together():
    rng = np.random.default_rng(1)
    u, i = rng.integers(0, 30, 200), rng.integers(0, 40, 200)
    user_sets, _ = implicit_sets(u, i, 30, 40)
    colors = color_members(user_sets)
    M = (user_sets.toarray() > 0)
    for color in range(colors.max() + 1):
        assert M[:, colors == color].sum(axis=1).max() <= 1
    assert colors.max() + 1 >= M.sum(axis=1).max()  # at least the largest set
    assert ((colors < 0) == (M.sum(axis=0) == 0)).all()  # only members of no set are left out
    bad = np.zeros(40, int)
    with pytest.raises(ValueError, match="^colour 0 holds two members of one owner's set") as info:
        ColorPlan(user_sets, bad)
    assert "\n" not in str(info.value)


# --- the decomposition and the conditionals, against the generic FM -------------------------------
def tiny_state(seed=0, k=2, implicit_extra=True):
    """A random state of a tiny problem: 6 users, 5 movies, 18 ratings, every group with random rows."""
    rng = np.random.default_rng(seed)
    nu, ni = 6, 5
    u = np.r_[np.arange(nu), rng.integers(0, nu, 12)]
    i = np.r_[rng.integers(0, ni, nu), rng.permutation(np.r_[np.arange(ni), rng.integers(0, ni, 7)])]
    r = rng.normal(3.5, 1.0, len(u))
    pu, pi = (np.r_[u, [0, 1, 2]], np.r_[i, [4, 4, 3]]) if implicit_extra else (u, i)
    user_sets, item_sets = implicit_sets(pu, pi, nu, ni)
    st = GibbsState(u, i, r, float(r.mean()), user_sets, item_sets, k, True, True, 0.5, rng)
    for theta in st.theta.values():
        theta[:, 0] = rng.normal(0, 0.3, len(theta))
    st.w0, st.alpha = 0.2, 1.7
    st.refresh()
    return st


def generic_fm(st, theta=None):
    """``mu + w0 + sum_j w_j x_j + sum_{j<j'} v_j . v_j' x_j x_j'`` on the explicit design matrix."""
    theta = st.theta if theta is None else theta
    X = fm_features(st.u, st.i, st.user_sets, st.item_sets)
    T = np.vstack([theta["users"], theta["items"], theta["user_sets"], theta["item_sets"]])
    w, V = T[:, 0], T[:, 1:]
    XV = X @ V
    return st.mu + st.w0 + X @ w + 0.5 * ((XV**2).sum(1) - (X.multiply(X) @ V**2).sum(1))


def closed_form(st, group, row, mu, Lam):
    """The Gaussian conditional of ``theta[group][row]``: ``y`` is linear in it, so its design rows ``h`` come
    from the generic FM at the unit vectors (brute force, no use of the sampler's algebra)."""
    d = st.k + 1
    base = copy.deepcopy(st.theta)
    base[group][row] = 0.0
    e = generic_fm(st, base)
    H = np.empty((len(st.r), d))
    for col in range(d):
        unit = copy.deepcopy(base)
        unit[group][row, col] = 1.0
        H[:, col] = generic_fm(st, unit) - e
    A = Lam + st.alpha * H.T @ H
    cov = np.linalg.inv(A)
    return cov @ (Lam @ mu + st.alpha * H.T @ (st.r - e)), cov


def test_the_per_side_decomposition_is_the_generic_fm():
    st = tiny_state()
    np.testing.assert_allclose(st.predict_rows(), generic_fm(st), atol=1e-12)


PRIOR = (np.array([0.1, -0.2, 0.3]), np.array([[2.0, 0.3, 0.0], [0.3, 1.5, -0.2], [0.0, -0.2, 1.0]]))


def draws_of(st, draw, group, rows):
    snapshot, out = copy.deepcopy(st.theta), []
    for _ in range(N_DRAWS):
        st.theta = copy.deepcopy(snapshot)
        st.refresh()
        draw()
        out.append(st.theta[group][rows].copy())
    st.theta = snapshot
    st.refresh()
    return np.stack(out)  # (N, len(rows), d)


@pytest.mark.parametrize("group, method", [("users", "draw_users"), ("items", "draw_items")])
def test_one_hot_conditionals_match_the_closed_form(group, method):
    st = tiny_state(seed=2)
    mu, Lam = PRIOR
    draws = draws_of(st, lambda: getattr(st, method)(mu, Lam), group, [0, 3])
    for col, row in enumerate([0, 3]):
        mean, cov = closed_form(st, group, row, mu, Lam)
        assert_gaussian_draws(draws[:, col], mean, cov, f"{group} row {row}")


@pytest.mark.parametrize("group, method", [("user_sets", "draw_user_sets"), ("item_sets", "draw_item_sets")])
def test_implicit_group_conditionals_match_the_closed_form(group, method):
    """One colour of two members that share no owner (drawn together), every other member held fixed."""
    st = tiny_state(seed=3)
    mu, Lam = PRIOR
    sets = st.user_sets if group == "user_sets" else st.item_sets
    M = sets.toarray() > 0  # (owners, members)
    pairs = [(a, b) for a in range(M.shape[1]) for b in range(a + 1, M.shape[1])
             if M[:, a].any() and M[:, b].any() and not (M[:, a] & M[:, b]).any()]
    single = int(np.argmax(M.sum(axis=0)))  # the member with the most owners, alone
    rows = list(pairs[0]) if pairs else [single]
    colors = np.full(M.shape[1], -1)
    colors[rows] = 0
    plan = ColorPlan(sets, colors)
    draws = draws_of(st, lambda: getattr(st, method)(mu, Lam, plan), group, rows)
    for col, row in enumerate(rows):
        mean, cov = closed_form(st, group, row, mu, Lam)
        assert_gaussian_draws(draws[:, col], mean, cov, f"{group} member {row}")
    if len(rows) == 2:
        assert abs(np.corrcoef(draws[:, 0, 1], draws[:, 1, 1])[0, 1]) < Z / np.sqrt(N_DRAWS)
    # the sums the pass keeps up to date in place equal a fresh computation
    colors[:] = -1
    colors[single] = 0
    s_before = st.s.copy()
    getattr(st, method)(mu, Lam, ColorPlan(sets, colors))
    if group == "user_sets":
        assert not np.allclose(st.s, s_before)
    np.testing.assert_allclose(st.predict_rows(), generic_fm(st), atol=1e-10)


def test_a_whole_implicit_pass_keeps_its_running_sums_exact():
    st = tiny_state(seed=4)
    mu, Lam = PRIOR
    Y = st.theta["user_sets"]
    plan = st.plans["user_sets"]
    s, sq = st.s.copy(), st.sq_s.copy()
    U, (b, bi) = st.theta["users"], st.item_side()
    rho = st.r - st.mu - st.w0 - U[st.u, 0] - bi[st.i] - np.einsum("nk,nk->n", U[st.u, 1:], b[st.i])
    sample_implicit_group(Y, s, sq, plan, U[:, 1:], owner_stats(st.u, st.i, st.incidence, b, rho), mu, Lam, st.alpha,
                          st.rng)
    np.testing.assert_allclose(s, st.user_sets @ Y, atol=1e-12)
    np.testing.assert_allclose(sq, st.user_sets_sq @ (Y[:, 1:] ** 2).sum(1), atol=1e-12)


def test_global_bias_conditional_matches_the_closed_form():
    st = tiny_state(seed=5)
    e = st.r - (generic_fm(st) - st.w0)
    prec = 1.0 + st.alpha * len(e)
    draws = []
    for _ in range(N_DRAWS):
        st.w0 = 0.2
        st.draw_w0()
        draws.append(st.w0)
    assert_gaussian_draws(np.array(draws)[:, None], [st.alpha * e.sum() / prec], np.array([[1 / prec]]), "w0")


# --- what the sampler learns -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    data = make_low_rank_ratings(n_users=200, n_items=120, n_factors=2, density=0.3, noise=0.3, random_state=0)
    return data.noise, *random_split(data.ratings, random_state=0)


def _test_rmse(model, test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownIdWarning)
        return rmse(test["rating"], model.predict(test["user_id"], test["item_id"]))


def test_recovers_low_rank_data_down_to_the_noise_and_learns_the_noise(synthetic):
    noise, train, test = synthetic
    model = BayesianFM(n_factors=2, n_samples=40, burn_in=15, random_state=0).fit(train, eval_set=test)
    assert 0.95 * noise < _test_rmse(model, test) < 1.1 * noise
    kept_beta = model.history_.loc[model.history_["kept"], "beta"].mean()
    assert kept_beta == pytest.approx(1 / noise**2, rel=0.2)
    assert model.history_["eval_rmse_avg"].iloc[-1] == pytest.approx(_test_rmse(model, test), abs=0.01)  # thin=5


@pytest.fixture(scope="module")
def small():
    return make_low_rank_ratings(40, 30, n_factors=2, density=0.3, noise=0.3, random_state=1).ratings


def fitted(small, **kw):
    return BayesianFM(**{"n_factors": 2, "n_samples": 12, "burn_in": 4, "random_state": 0, **kw}).fit(small)


def test_the_same_seed_gives_identical_samples_and_another_seed_differs(small):
    a, b, c = fitted(small), fitted(small), fitted(small, random_state=1)
    np.testing.assert_array_equal(a.user_factor_samples_, b.user_factor_samples_)
    for name in ("users", "items", "user_sets", "item_sets"):
        np.testing.assert_array_equal(a.params_[name], b.params_[name])
    pd.testing.assert_frame_equal(a.history_, b.history_)
    assert np.abs(a.predict(small.user_id, small.item_id) - c.predict(small.user_id, small.item_id)).max() > 1e-3


def test_predictions_average_the_stored_samples_and_the_score_matrix_is_unclipped(small):
    model = fitted(small, thin=1)
    assert model.user_factor_samples_.shape == (8, 40, 2) and model.item_factor_samples_.shape == (8, 30, 2)
    enc = model.ids_.encode(small)
    u, i = enc["user_idx"].to_numpy(), enc["item_idx"].to_numpy()
    dots = np.einsum("snk,snk->sn", model.user_factor_samples_[:, u], model.item_factor_samples_[:, i]).mean(0)
    expected = np.clip(model.global_mean_ + model.user_bias_[u] + model.item_bias_[i] + dots, *model.rating_scale_)
    np.testing.assert_allclose(model.predict(small.user_id, small.item_id), expected, atol=1e-12)
    assert model.history_["train_rmse_avg"].iloc[-1] == pytest.approx(rmse(small["rating"], expected), abs=1e-12)
    S = model.score_matrix([2, 0])
    np.testing.assert_allclose(np.clip(S[0, i[u == 2]], *model.rating_scale_), expected[u == 2], atol=1e-12)


def test_unseen_ids_fall_back_to_the_global_bias_plus_known_biases(small):
    model = fitted(small)
    with pytest.warns(UnknownIdWarning, match="3 of 3 pairs"):
        got = model.predict([0, 999, 999], [999, 0, 999])
    mu, bu, bi = model.global_mean_, model.user_bias_, model.item_bias_
    np.testing.assert_allclose(got, np.clip([mu + bu[0], mu + bi[0], mu], *model.rating_scale_))


def test_implicit_pairs_join_the_sets_and_unknown_ids_are_dropped(small):
    extra = pd.DataFrame({"user_id": [0, 1, 999], "item_id": [5, 6, 0]})
    model = fitted(small, n_samples=3, burn_in=1)
    with_extra = BayesianFM(n_factors=2, n_samples=3, burn_in=1, random_state=0).fit(small, implicit=extra)
    ids = model.ids_
    u = np.r_[ids.user_index(small.user_id), ids.user_index([0, 1])]
    i = np.r_[ids.item_index(small.item_id), ids.item_index([5, 6])]
    expect_u, expect_i = implicit_sets(u, i, ids.n_users, ids.n_items)
    np.testing.assert_allclose(with_extra.user_sets_.toarray(), expect_u.toarray())
    np.testing.assert_allclose(with_extra.item_sets_.toarray(), expect_i.toarray())
    assert with_extra.user_sets_.nnz > model.user_sets_.nnz


def test_without_sets_it_is_a_bias_and_factor_model(small):
    model = fitted(small, user_sets=False, item_sets=False)
    assert model.n_colors_ == {} and not model.params_["user_sets"].any() and not model.params_["item_sets"].any()


# --- conventions and bad input ---------------------------------------------------------------------
def test_fit_returns_self(small):
    model = BayesianFM(n_factors=2, n_samples=3, burn_in=0)
    assert model.fit(small) is model and "n_samples=3" in repr(model)


@pytest.mark.parametrize("kw, message", [
    (dict(n_factors=0), "n_factors must be an integer >= 1, got 0"),
    (dict(n_samples=50, burn_in=50), "n_samples must be greater than burn_in, got n_samples=50 and burn_in=50"),
    (dict(burn_in=-1), "burn_in must be an integer >= 0, got -1"),
    (dict(beta=-2.0), "beta must be a positive finite number, got -2.0"),
    (dict(thin=0), "thin must be an integer >= 1, got 0"),
    (dict(init_std=-1.0), "init_std must be a non-negative finite number, got -1.0"),
])
def test_bad_parameters_raise_one_line(small, kw, message):
    with pytest.raises(ValueError, match=f"^{message}") as info:
        BayesianFM(**kw).fit(small)
    assert "\n" not in str(info.value)


def test_bad_implicit_pairs_are_named(small):
    with pytest.raises(ValueError, match="^implicit must be a DataFrame with columns user_id and item_id") as info:
        BayesianFM(n_samples=3, burn_in=1).fit(small, implicit=[(0, 1)])
    assert "\n" not in str(info.value)
