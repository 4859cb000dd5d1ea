"""Bayesian probabilistic matrix factorization (BPMF) by Gibbs sampling, from scratch in NumPy.

Salakhutdinov & Mnih, *Bayesian Probabilistic Matrix Factorization using Markov Chain Monte Carlo*, ICML 2008.

Model
-----
With ``mu`` the training mean (fixed, not sampled) and ``alpha`` the observation precision::

    r_ui ~ N(mu + w_u . x_i, 1/alpha)
    w_u ~ N(mu_U, Lambda_U^-1),  (mu_U, Lambda_U) ~ Normal-Wishart(mu0=0, beta0=2, nu0=d, W0=I)

and the same for the items. With ``biased=True`` (the default) the biases ride along as one extra
coordinate, as in ALS: the user's coordinates are ``w_u = [p_u, b_u]`` and it sees item ``i`` as
``x_i = [q_i, 1]`` with target ``r - mu - b_i`` (the items likewise), so ``d = k + 1`` and the bias gets
the same learned Gaussian prior as the factors (correlated with them). With ``biased=False`` this is the
paper's model, ``d = k``.

``alpha`` is the constructor's ``beta``. By default (``beta=None``) it is sampled too, from its Gamma
conditional under a Gamma(1, 1) prior; a number fixes it (the paper fixes 2). Sampled, it settles near
1/(residual variance): 1.6 on ml-100k's u1, where it gives test RMSE 0.905 against 0.915 with the fixed
2, and 1/noise^2 on synthetic data.

Gibbs sweep
-----------
1. ``(mu_U, Lambda_U) | U``: Normal-Wishart conditional (:func:`sample_normal_wishart`); the Wishart draw
   uses the Bartlett decomposition (:func:`sample_wishart`).
2. every ``w_u | V, mu_U, Lambda_U``: Gaussian with precision ``A_u = Lambda_U + alpha sum_i x_i x_i^T`` and
   mean ``A_u^-1 (alpha sum_i y_ui x_i + Lambda_U mu_U)`` -- the k x k system of ALS plus a draw
   (:func:`sample_factors`), all users at once in the padded blocks of ALS.
3. and 4. the same for the items; 5. ``alpha`` when ``beta=None`` (:func:`sample_precision`).

Predictions
-----------
The prediction is the posterior mean of ``mu + b_u + b_i + p_u . q_i`` over the kept sweeps (after the
burn-in), which is *not* ``mu + b̄_u + b̄_i + p̄_u . q̄_i``. Biases enter linearly, so their running means
suffice; the products need the samples: the model keeps every ``thin``-th kept sample of ``P`` and ``Q``
(``(n_users + n_items) * k * 8`` bytes each: 0.2 MB for ml-100k and 0.8 MB for ml-latest-small at
k=10), never an ``n_users x n_items`` matrix, and averages ``p_u . q_i`` over them at predict time. The
default ``thin=5`` keeps 50 of 250 sweeps (40 MB on ml-latest-small instead of 190 MB) and costs 0.0005
of test RMSE on ml-100k's u1 (consecutive sweeps are strongly correlated); ``thin=1`` keeps them all.
Predictions are clipped to the rating scale, score matrices are not. Unseen ids fall back to ``mu`` plus
the known mean bias, with one :class:`~recsys_utils.base.UnknownIdWarning`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._grouping import group_by_index
from .base import IterativeEstimator, known_bias_prediction
from .checks import check_int, check_number, check_rating_scale

__all__ = ["BayesianMF", "sample_wishart", "sample_normal_wishart", "sample_factors", "sample_gaussian",
           "sample_precision"]

BETA0 = 2.0  # prior strength of mu_U around mu0 = 0 (Normal-Wishart), as in the paper
PRECISION_PRIOR = (1.0, 1.0)  # Gamma(shape, rate) prior of alpha when beta=None


def sample_wishart(W, nu, rng):
    """One draw ``Lambda ~ Wishart(W, nu)`` (mean ``nu W``) by the Bartlett decomposition.

    With ``W = L L^T`` (Cholesky) and ``A`` lower-triangular with ``A_jj = sqrt(chi2(nu - j))``
    (``j = 0..d-1``) and standard normals below the diagonal, ``Lambda = (L A)(L A)^T``.
    Needs ``nu > d - 1``.

    Parameters
    ----------
    W : (d, d) symmetric positive definite scale matrix
    nu : float, degrees of freedom
    rng : numpy.random.Generator
    """
    d = len(W)
    A = np.zeros((d, d))
    A[np.diag_indices(d)] = np.sqrt(rng.chisquare(nu - np.arange(d)))
    A[np.tril_indices(d, -1)] = rng.standard_normal(d * (d - 1) // 2)
    LA = np.linalg.cholesky(W) @ A
    return LA @ LA.T


def sample_normal_wishart(F, rng, beta0=BETA0, mu0=None, nu0=None, W0=None):
    """One draw of ``(mu, Lambda)`` given the rows of ``F``, under a Normal-Wishart prior (paper, eq. 14).

    Posterior parameters, with ``N`` rows of mean ``f`` and scatter ``S = sum (F_n - f)(F_n - f)^T``::

        beta* = beta0 + N,  nu* = nu0 + N,  mu* = (beta0 mu0 + N f) / beta*
        W*^-1 = W0^-1 + S + beta0 N / beta* (mu0 - f)(mu0 - f)^T

    then ``Lambda ~ Wishart(W*, nu*)`` and ``mu ~ N(mu*, (beta* Lambda)^-1)``.

    Parameters
    ----------
    F : (N, d) the current user (or item) coordinates
    rng : numpy.random.Generator
    beta0 : float; mu0 : (d,), default 0; nu0 : float, default d; W0 : (d, d), default I

    Returns
    -------
    mu : (d,)
    Lambda : (d, d)
    """
    N, d = F.shape
    mu0 = np.zeros(d) if mu0 is None else np.asarray(mu0, dtype=float)
    nu0 = d if nu0 is None else nu0
    W0 = np.eye(d) if W0 is None else np.asarray(W0, dtype=float)
    f = F.mean(axis=0)
    C = F - f
    beta_n, nu_n = beta0 + N, nu0 + N
    mu_n = (beta0 * mu0 + N * f) / beta_n
    diff = mu0 - f
    W_n = np.linalg.inv(np.linalg.inv(W0) + C.T @ C + (beta0 * N / beta_n) * np.outer(diff, diff))
    Lam = sample_wishart((W_n + W_n.T) / 2, nu_n, rng)
    L = np.linalg.cholesky(beta_n * Lam)
    return mu_n + np.linalg.solve(L.T, rng.standard_normal(d)), Lam


def sample_factors(idx_self, idx_other, target, other_features, n_self, alpha, mu, Lam, rng, groups=None):
    """One draw of every entity's coordinates from its Gaussian conditional, in padded blocks.

    For entity ``s`` with ratings ``(s, o)``, features ``x_o`` (rows of ``other_features``) and targets
    ``y``: precision ``A_s = Lam + alpha X_s^T X_s``, mean ``m_s = A_s^-1 (alpha X_s^T y_s + Lam mu)``.
    With ``A_s = L L^T`` the draw is ``L^-T (L^-1 b + z)``, ``z ~ N(0, I)``: mean ``m_s`` and covariance
    ``A_s^-1``. Entities without ratings are drawn from the prior ``N(mu, Lam^-1)``.

    Parameters
    ----------
    idx_self, idx_other : int arrays (n,), each rating's index on the side drawn and on the fixed side
    target : (n,) what ``w_s . x_o`` should explain (``r - mu - b_o``)
    other_features : (n_other, d)
    n_self : int
    alpha : float, observation precision
    mu : (d,), Lam : (d, d), the prior mean and precision
    rng : numpy.random.Generator
    groups : ``group_by_index(idx_self, n_self)``, to reuse across sweeps

    Returns
    -------
    numpy.ndarray of shape (n_self, d)
    """
    d = other_features.shape[1]
    groups = group_by_index(idx_self, n_self) if groups is None else groups
    F = np.vstack([other_features, np.zeros((1, d))])  # padding (position len(target)) -> a zero row
    other_all = np.r_[idx_other, len(other_features)]
    y_all = np.r_[target, 0.0]
    prior_rhs = Lam @ mu
    # entities with no rating keep a draw from the prior
    out = mu + np.linalg.solve(np.linalg.cholesky(Lam).T, rng.standard_normal((d, n_self))).T
    for ents, pos in groups:
        X = F[other_all[pos]]  # (B, L, d)
        A = alpha * np.matmul(X.transpose(0, 2, 1), X) + Lam  # (B, d, d)
        b = alpha * np.einsum("bld,bl->bd", X, y_all[pos]) + prior_rhs  # (B, d)
        out[ents] = sample_gaussian(A, b, rng)
    return out


def sample_gaussian(A, b, rng):
    """One draw from each ``N(A^-1 b, A^-1)`` of a batch, given precisions ``A`` and ``b = A m``.

    With ``A = L L^T`` (Cholesky) the draw is ``L^-T (L^-1 b + z)``, ``z ~ N(0, I)``: its mean is
    ``L^-T L^-1 b = A^-1 b`` and its covariance ``L^-T L^-1 = A^-1``; no inverse is formed.

    Parameters
    ----------
    A : (B, d, d) symmetric positive definite precisions
    b : (B, d)
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of shape (B, d)
    """
    L = np.linalg.cholesky(A)
    c = np.linalg.solve(L, b[..., None])  # L^-1 b, (B, d, 1)
    z = rng.standard_normal(c.shape)
    return np.linalg.solve(L.transpose(0, 2, 1), c + z)[..., 0]


def sample_precision(residuals, rng, shape0=PRECISION_PRIOR[0], rate0=PRECISION_PRIOR[1]):
    """One draw of ``alpha ~ Gamma(shape0 + n/2, rate0 + sum(e^2)/2)``: its conditional given the residuals."""
    e = np.asarray(residuals, dtype=float)
    return float(rng.gamma(shape0 + e.size / 2, 1.0 / (rate0 + np.einsum("n,n->", e, e) / 2)))


class BayesianMF(IterativeEstimator):
    """Bayesian matrix factorization (BPMF) fitted by Gibbs sampling; predictions are posterior means.

    Parameters
    ----------
    n_factors : int
        Dimension ``k`` of ``p_u`` and ``q_i``.
    n_samples : int
        Gibbs sweeps in all, burn-in included: ``n_samples - burn_in`` sweeps are kept and averaged.
    burn_in : int
        First sweeps discarded (``0 <= burn_in < n_samples``).
    beta : float or None
        Observation precision (``alpha`` in the paper; noise std ``1/sqrt(beta)``), fixed; ``None`` (the
        default) samples it each sweep under a Gamma(1, 1) prior.
    thin : int
        Keep every ``thin``-th kept sample of the factors for prediction (memory; see the module docstring).
        The biases and the ``history_`` averages use every kept sweep.
    biased : bool
        Model ``b_u`` and ``b_i`` as an extra coordinate of the user and item vectors.
    init_std : float
        Standard deviation of the Gaussian initial factors (biases start at 0).
    random_state : int or None
        Seeds the initial factors and every draw.
    verbose : bool
        Show a tqdm progress bar over sweeps.
    rating_scale : (float, float) or None
        As in :class:`~recsys_utils.mf.MatrixFactorization`.

    Attributes
    ----------
    user_factor_samples_ : (n_stored, n_users, k); item_factor_samples_ : (n_stored, n_items, k)
    user_factors_, item_factors_ : posterior means of ``p_u``, ``q_i`` (for inspection only)
    user_bias_, item_bias_ : posterior means of the biases (zeros when ``biased=False``)
    global_mean_ : float
    beta_ : float, the last sweep's observation precision (``beta`` itself when fixed)
    history_ : pandas.DataFrame, one row per sweep: ``sweep, kept, beta, train_rmse`` (this sweep's
        sample), ``train_rmse_avg`` (average of the kept sweeps so far), ``eval_rmse``, ``eval_rmse_avg``
        (NaN without ``eval_set``; averages NaN during the burn-in)
    ids_ : :class:`~recsys_utils.encoding.IdMap`
    """

    def __init__(self, n_factors=10, n_samples=300, burn_in=50, beta=None, thin=5, biased=True, init_std=0.1,
                 random_state=None, verbose=False, rating_scale=None):
        self.n_factors = n_factors
        self.n_samples = n_samples
        self.burn_in = burn_in
        self.beta = beta
        self.thin = thin
        self.biased = biased
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose
        self.rating_scale = rating_scale

    def _check_params(self):
        check_int("n_factors", self.n_factors)
        check_int("n_samples", self.n_samples)
        check_int("burn_in", self.burn_in, minimum=0)
        if self.n_samples <= self.burn_in:
            raise ValueError(f"n_samples must be greater than burn_in, got n_samples={self.n_samples} and "
                             f"burn_in={self.burn_in}: n_samples counts every sweep, the burn-in included")
        if self.beta is not None:
            check_number("beta", self.beta, strict=True)
        check_int("thin", self.thin)
        check_number("init_std", self.init_std)
        check_rating_scale(self.rating_scale)


    def _fit(self, u, i, r, ev=None):
        nu, ni, k = self.ids_.n_users, self.ids_.n_items, int(self.n_factors)
        biased, mu, lo, hi = bool(self.biased), self.global_mean_, *self.rating_scale_
        d = k + 1 if biased else k
        rng = np.random.default_rng(self.random_state)
        U = rng.normal(0.0, self.init_std, (nu, d))  # [p_u, b_u]
        V = rng.normal(0.0, self.init_std, (ni, d))  # [q_i, b_i]
        if biased:
            U[:, k] = V[:, k] = 0.0
        alpha = float(self.beta) if self.beta is not None else 1.0 / max(np.var(r), 1e-12)
        groups_u, groups_i = group_by_index(u, nu), group_by_index(i, ni)
        n_kept = int(self.n_samples) - int(self.burn_in)
        n_store = -(-n_kept // int(self.thin))
        Ps, Qs = np.empty((n_store, nu, k)), np.empty((n_store, ni, k))
        sums = {"bu": np.zeros(nu), "bi": np.zeros(ni), "P": np.zeros((nu, k)), "Q": np.zeros((ni, k))}
        avg_train, avg_ev, kept, rows = np.zeros(len(r)), None if ev is None else np.zeros(len(ev[2])), 0, []

        def rmse(y, pred):
            e = y - np.clip(pred, lo, hi)
            return float(np.sqrt(np.einsum("n,n->", e, e) / len(e)))  # not BLAS ddot: threads cost more here

        sweeps = range(1, int(self.n_samples) + 1)
        if self.verbose:
            from tqdm.auto import tqdm

            sweeps = tqdm(sweeps, desc="BPMF", unit="sweep")
        for sweep in sweeps:
            mu_u, lam_u = sample_normal_wishart(U, rng)
            U = sample_factors(u, i, r - mu - (V[i, k] if biased else 0.0), _features(V, k, biased), nu,
                               alpha, mu_u, lam_u, rng, groups_u)
            mu_v, lam_v = sample_normal_wishart(V, rng)
            V = sample_factors(i, u, r - mu - (U[u, k] if biased else 0.0), _features(U, k, biased), ni,
                               alpha, mu_v, lam_v, rng, groups_i)
            P, Q = U[:, :k], V[:, :k]
            bu, bi = (U[:, k], V[:, k]) if biased else (np.zeros(nu), np.zeros(ni))
            pred = mu + bu[u] + bi[i] + np.einsum("nk,nk->n", P[u], Q[i])
            if self.beta is None:
                alpha = sample_precision(r - pred, rng)
            pred_ev = None if ev is None else _pair_scores(mu, bu, bi, P, Q, *ev[:2])
            is_kept = sweep > self.burn_in
            if is_kept:
                kept += 1
                avg_train += (pred - avg_train) / kept
                if ev is not None:
                    avg_ev += (pred_ev - avg_ev) / kept
                for name, value in (("bu", bu), ("bi", bi), ("P", P), ("Q", Q)):
                    sums[name] += value
                if (kept - 1) % int(self.thin) == 0:
                    Ps[(kept - 1) // int(self.thin)], Qs[(kept - 1) // int(self.thin)] = P, Q
            rows.append((sweep, is_kept, alpha, rmse(r, pred), rmse(r, avg_train) if is_kept else np.nan,
                         np.nan if ev is None else rmse(ev[2], pred_ev),
                         rmse(ev[2], avg_ev) if is_kept and ev is not None else np.nan))
            if self.verbose:
                sweeps.set_postfix(train_rmse=f"{rows[-1][3]:.4f}")
        self.user_factor_samples_, self.item_factor_samples_ = Ps, Qs
        self.user_bias_, self.item_bias_ = sums["bu"] / kept, sums["bi"] / kept
        self.user_factors_, self.item_factors_ = sums["P"] / kept, sums["Q"] / kept
        self.beta_ = alpha
        self.history_ = pd.DataFrame(rows, columns=["sweep", "kept", "beta", "train_rmse", "train_rmse_avg",
                                                    "eval_rmse", "eval_rmse_avg"])
        return self

    def _predict_idx(self, u, i):
        both = (u >= 0) & (i >= 0)
        uu, ii = np.where(both, u, 0), np.where(both, i, 0)
        dot = np.zeros(len(u))
        for P, Q in zip(self.user_factor_samples_, self.item_factor_samples_):  # memory O(n k), not O(S n k)
            dot += np.einsum("nk,nk->n", P[uu], Q[ii])
        dot /= len(self.user_factor_samples_)
        known = known_bias_prediction(self.global_mean_, self.user_bias_, self.item_bias_, u, i)
        return known + np.where(both, dot, 0.0)

    def _score_matrix(self, users):
        S, _, k = self.user_factor_samples_.shape
        # the average of S products p_u^s . q_i^s is one product of the samples laid side by side
        P = self.user_factor_samples_[:, users].transpose(1, 0, 2).reshape(len(users), S * k)
        Q = self.item_factor_samples_.transpose(1, 0, 2).reshape(-1, S * k)
        scores = (P @ Q.T) / S
        scores += self.global_mean_ + self.user_bias_[users, None] + self.item_bias_[None, :]
        return scores


def _features(F, k, biased):
    """How the other side sees an entity: ``[f, 1]`` with biases (the bias coordinate replaced by 1), else ``f``."""
    if not biased:
        return F
    X = F.copy()
    X[:, k] = 1.0
    return X


def _pair_scores(mu, bu, bi, P, Q, u, i):
    """Unclipped scores of one sample for index pairs, with the known-bias fallback where an index is -1."""
    both = (u >= 0) & (i >= 0)
    uu, ii = np.where(both, u, 0), np.where(both, i, 0)
    dot = np.einsum("nk,nk->n", P[uu], Q[ii])
    return known_bias_prediction(mu, bu, bi, u, i) + np.where(both, dot, 0.0)
