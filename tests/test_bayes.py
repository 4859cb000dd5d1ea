"""BayesianMF (BPMF by Gibbs sampling): each conditional against its closed form, recovery of synthetic
low-rank data, no overfitting at a large rank, posterior-mean predictions, the package conventions."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recsys_utils import MatrixFactorization, NotFittedError, UnknownIdWarning, make_low_rank_ratings, random_split
from recsys_utils.bayes import BayesianMF, sample_factors, sample_normal_wishart, sample_precision, sample_wishart
from recsys_utils.metrics import rmse
from recsys_utils.mf import group_by_index

N_DRAWS = 20_000
Z = 4.5  # Monte-Carlo tolerance, in standard errors (a correct sampler fails one check in ~10^5)


def assert_mc_close(estimate, expected, std_error, what):
    z = np.abs(np.asarray(estimate) - expected) / std_error
    assert z.max() < Z, f"{what}: {np.round(estimate, 4)} vs {np.round(expected, 4)} ({z.max():.1f} std errors)"


# --- each Gibbs conditional against its closed form ---------------------------------------------
def test_factor_conditional_matches_the_closed_form_gaussian():
    """Users with 6 ratings (a padded block), 1 rating, and none (drawn from the prior), k=2."""
    rng = np.random.default_rng(0)
    d, n_users = 2, 3
    X_items = rng.normal(size=(7, d))
    u, i = np.array([0, 0, 0, 0, 0, 0, 1]), np.array([0, 1, 2, 3, 4, 5, 6])
    y = rng.normal(size=7)
    alpha, mu, Lam = 1.5, np.array([0.3, -0.2]), np.array([[2.0, 0.6], [0.6, 1.0]])
    groups = group_by_index(u, n_users)
    assert any(pos.shape[1] > 6 for _, pos in groups)  # user 0's block is padded
    draws = np.stack([sample_factors(u, i, y, X_items, n_users, alpha, mu, Lam, rng, groups)
                      for _ in range(N_DRAWS)])  # (N, n_users, d)
    for user in range(n_users):
        X, yu = X_items[i[u == user]], y[u == user]
        A = Lam + alpha * X.T @ X  # posterior precision
        cov = np.linalg.inv(A)
        mean = cov @ (alpha * X.T @ yu + Lam @ mu)
        sample = draws[:, user]
        assert_mc_close(sample.mean(0), mean, np.sqrt(np.diag(cov) / N_DRAWS), f"mean of user {user}")
        cov_se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / N_DRAWS)
        assert_mc_close(np.cov(sample.T), cov, cov_se, f"covariance of user {user}")
    assert abs(np.corrcoef(draws[:, 0, 0], draws[:, 1, 0])[0, 1]) < Z / np.sqrt(N_DRAWS)  # independent users


def test_wishart_draw_matches_scipy_mean_and_variance():
    rng = np.random.default_rng(1)
    W, nu = np.array([[1.0, 0.3, 0.0], [0.3, 0.5, -0.1], [0.0, -0.1, 0.8]]), 5.0
    draws = np.stack([sample_wishart(W, nu, rng) for _ in range(N_DRAWS)])
    ref = stats.wishart(df=nu, scale=W)
    np.testing.assert_allclose(ref.mean(), nu * W)
    assert_mc_close(draws.mean(0), ref.mean(), np.sqrt(ref.var() / N_DRAWS), "mean of Lambda")
    np.testing.assert_allclose(draws.var(0), ref.var(), rtol=0.1)
    assert np.allclose(draws, draws.transpose(0, 2, 1)) and (np.linalg.eigvalsh(draws) > 0).all()


def test_normal_wishart_conditional_matches_the_papers_posterior():
    """Posterior of (mu, Lambda) given N rows (Salakhutdinov & Mnih 2008, eq. 14), with a non-default prior."""
    rng = np.random.default_rng(2)
    F = rng.normal([1.0, -0.5], [0.7, 1.2], size=(12, 2))
    mu0, beta0, nu0, W0 = np.array([0.5, -1.0]), 3.0, 2.0, np.array([[2.0, 0.2], [0.2, 1.0]])
    N, d = F.shape
    f, S = F.mean(0), np.cov(F.T, bias=True)
    beta_n, nu_n = beta0 + N, nu0 + N
    mu_n = (beta0 * mu0 + N * f) / beta_n
    W_n = np.linalg.inv(np.linalg.inv(W0) + N * S + beta0 * N / beta_n * np.outer(mu0 - f, mu0 - f))
    draws = [sample_normal_wishart(F, rng, beta0=beta0, mu0=mu0, nu0=nu0, W0=W0) for _ in range(N_DRAWS)]
    mus, lams = np.stack([m for m, _ in draws]), np.stack([lam for _, lam in draws])
    ref = stats.wishart(df=nu_n, scale=W_n)
    assert_mc_close(lams.mean(0), nu_n * W_n, np.sqrt(ref.var() / N_DRAWS), "mean of Lambda")
    # mu | Lambda ~ N(mu_n, (beta_n Lambda)^-1), so Cov(mu) = E[Lambda^-1] / beta_n = W_n^-1 / (beta_n (nu_n - d - 1))
    cov_mu = np.linalg.inv(W_n) / (beta_n * (nu_n - d - 1))
    assert_mc_close(mus.mean(0), mu_n, np.sqrt(np.diag(cov_mu) / N_DRAWS), "mean of mu")
    np.testing.assert_allclose(np.cov(mus.T), cov_mu, rtol=0.1, atol=0.1 * np.abs(cov_mu).max())


def test_noise_precision_conditional_is_the_gamma_posterior():
    rng = np.random.default_rng(3)
    e = rng.normal(0, 0.5, 40)
    shape, rate = 1 + e.size / 2, 1 + e @ e / 2  # Gamma(1, 1) prior
    draws = np.array([sample_precision(e, rng) for _ in range(N_DRAWS)])
    assert_mc_close(draws.mean(), shape / rate, np.sqrt(shape / rate**2 / N_DRAWS), "mean of alpha")
    np.testing.assert_allclose(draws.var(), shape / rate**2, rtol=0.1)


# --- what the sampler learns ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    data = make_low_rank_ratings(n_users=400, n_items=300, n_factors=3, density=0.3, noise=0.3, random_state=0)
    return data.noise, *random_split(data.ratings, random_state=0)


def _test_rmse(model, test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownIdWarning)
        return rmse(test["rating"], model.predict(test["user_id"], test["item_id"]))


def test_recovers_low_rank_data_down_to_the_noise_and_learns_the_noise(synthetic):
    noise, train, test = synthetic
    model = BayesianMF(n_factors=3, n_samples=120, burn_in=40, random_state=0).fit(train)
    assert 0.95 * noise < _test_rmse(model, test) < 1.1 * noise
    kept_beta = model.history_.loc[model.history_["kept"], "beta"].mean()
    assert kept_beta == pytest.approx(1 / noise**2, rel=0.15)  # the sampled precision finds the noise


def test_large_rank_does_not_overfit_where_unregularized_als_does(synthetic):
    noise, train, test = synthetic
    bpmf = _test_rmse(BayesianMF(n_factors=20, n_samples=60, burn_in=20, random_state=0).fit(train), test)
    als = _test_rmse(MatrixFactorization(n_factors=20, reg=0.001, method="als", random_state=0).fit(train), test)
    assert bpmf < 1.1 * noise
    assert bpmf < 0.8 * als


@pytest.fixture(scope="module")
def small():
    return make_low_rank_ratings(60, 50, n_factors=3, density=0.3, noise=0.3, random_state=1).ratings


def fitted(small, **kw):
    return BayesianMF(**{"n_factors": 3, "n_samples": 30, "burn_in": 10, "random_state": 0, **kw}).fit(small)


def test_predictions_are_the_posterior_mean_of_the_kept_samples_not_the_product_of_means(small):
    train, test = small.iloc[:-60], small.iloc[-60:]
    model = BayesianMF(n_factors=3, n_samples=30, burn_in=10, thin=1, random_state=0).fit(train, eval_set=test)
    assert model.user_factor_samples_.shape == (20, model.ids_.n_users, 3)
    enc = model.ids_.encode(train)
    u, i = enc["user_idx"].to_numpy(), enc["item_idx"].to_numpy()
    dots = np.einsum("snk,snk->sn", model.user_factor_samples_[:, u], model.item_factor_samples_[:, i])
    expected = model.global_mean_ + model.user_bias_[u] + model.item_bias_[i] + dots.mean(0)
    got = model.predict(train["user_id"], train["item_id"])
    np.testing.assert_allclose(got, np.clip(expected, *model.rating_scale_), atol=1e-12)
    plug_in = model.global_mean_ + model.user_bias_[u] + model.item_bias_[i] + np.einsum(
        "nk,nk->n", model.user_factors_[u], model.item_factors_[i])
    assert np.abs(plug_in - expected).max() > 1e-3  # E[p.q] != E[p].E[q]
    # history_ averages the same kept sweeps
    h = model.history_
    assert list(h.columns) == ["sweep", "kept", "beta", "train_rmse", "train_rmse_avg", "eval_rmse", "eval_rmse_avg"]
    assert len(h) == 30 and h["kept"].sum() == 20 and h["train_rmse_avg"].isna().sum() == 10
    assert h["eval_rmse_avg"].iloc[-1] == pytest.approx(_test_rmse(model, test), abs=1e-12)
    assert h["train_rmse_avg"].iloc[-1] == pytest.approx(rmse(train["rating"], got), abs=1e-12)


def test_thin_keeps_every_thin_th_sample_and_a_fixed_beta_stays_fixed(small):
    model = fitted(small, thin=7, beta=2.0)
    assert model.user_factor_samples_.shape[0] == 3 and model.item_factor_samples_.shape[0] == 3  # of 20 kept
    assert (model.history_["beta"] == 2.0).all() and model.beta_ == 2.0
    assert np.isnan(model.history_["eval_rmse"]).all()


def test_the_same_seed_gives_identical_predictions_and_another_seed_differs(small):
    a, b, c = fitted(small), fitted(small), fitted(small, random_state=1)
    pa = a.predict(small.user_id, small.item_id)
    np.testing.assert_array_equal(pa, b.predict(small.user_id, small.item_id))
    pd.testing.assert_frame_equal(a.history_, b.history_)
    assert np.abs(pa - c.predict(small.user_id, small.item_id)).max() > 1e-3


@pytest.mark.parametrize("biased", [True, False])
def test_unseen_ids_fall_back_to_the_mean_plus_known_biases(small, biased):
    model = fitted(small, biased=biased)
    assert model.user_bias_.any() == biased
    with pytest.warns(UnknownIdWarning, match="3 of 3 pairs"):
        got = model.predict([0, 999, 999], [999, 0, 999])
    mu, bu, bi = model.global_mean_, model.user_bias_, model.item_bias_
    np.testing.assert_allclose(got, np.clip([mu + bu[0], mu + bi[0], mu], *model.rating_scale_))


def test_score_matrix_is_the_unclipped_prediction(small):
    model = fitted(small.assign(rating=small["rating"].clip(1, 5)), rating_scale=(1, 5))
    S = model.score_matrix()
    assert S.shape == (60, 50)
    users, items = np.meshgrid(model.ids_.users, model.ids_.items, indexing="ij")
    lo, hi = model.rating_scale_
    np.testing.assert_allclose(np.clip(S, lo, hi).ravel(), model.predict(users.ravel(), items.ravel()), atol=1e-12)
    np.testing.assert_allclose(model.score_matrix([3, 0]), S[[3, 0]], atol=1e-12)
    assert ((S < lo) | (S > hi)).any()  # not clipped
    with pytest.raises(ValueError, match="user index 60 is outside 0..59"):
        model.score_matrix([60])


# --- conventions and bad input ---------------------------------------------------------------------
def test_fit_returns_self_and_predict_needs_fit(small):
    model = BayesianMF(n_factors=2, n_samples=3, burn_in=0)
    assert model.fit(small) is model and "n_samples=3" in repr(model)
    with pytest.raises(NotFittedError, match="call fit"):
        BayesianMF().predict([0], [0])


@pytest.mark.parametrize("kw, message", [
    (dict(n_factors=0), "n_factors must be an integer >= 1, got 0"),
    (dict(n_samples=50, burn_in=50), "n_samples must be greater than burn_in, got n_samples=50 and burn_in=50"),
    (dict(n_samples=10), "n_samples must be greater than burn_in, got n_samples=10 and burn_in=50"),
    (dict(n_samples=0), "n_samples must be an integer >= 1, got 0"),
    (dict(burn_in=-1), "burn_in must be an integer >= 0, got -1"),
    (dict(beta=0), "beta must be a positive finite number, got 0"),
    (dict(beta=-2.0), "beta must be a positive finite number, got -2.0"),
    (dict(beta=float("nan")), "beta must be a positive finite number, got nan"),
    (dict(thin=0), "thin must be an integer >= 1, got 0"),
    (dict(rating_scale=(5, 1)), "rating_scale must be"),
])
def test_bad_parameters_raise_one_line(small, kw, message):
    with pytest.raises(ValueError, match=f"^{message}") as info:
        BayesianMF(**kw).fit(small)
    assert "\n" not in str(info.value)


def test_bad_eval_set_is_named(small):
    with pytest.raises(ValueError, match="eval_set lacks column"):
        BayesianMF(n_samples=3, burn_in=1).fit(small, eval_set=small.drop(columns="rating"))
