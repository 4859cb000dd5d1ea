r"""Bayesian factorization machine with implicit features ("SVD++ flipped"), by blocked Gibbs sampling, in NumPy.

Rendle, Zhang & Koren, *On the difficulty of evaluating baselines*, 2019 (the model); Rendle, *Scaling
factorization machines to relational data*, VLDB 2013 (Gibbs sampling of FMs); Freudenthaler, Schmidt-Thieme
& Rendle 2011 (the hyper-priors). The ``myfm`` package samples the same model in C++, one coordinate at a time,
with Normal-Gamma hyper-priors (one mean and precision per group and coordinate); here each group's rows
``[w, v]`` get one Normal-Wishart prior, as in BPMF, and whole rows are drawn at once.

Features
--------
Each rating ``(u, i)`` is described by the sparse feature vector ::

    x = [ e_u | e_i | c_u 1[N(u)] | d_i 1[R(i)] ],   c_u = |N(u)|^-1/2,  d_i = |R(i)|^-1/2

one-hot user, one-hot movie, the user's set ``N(u)`` of rated movies and the movie's set ``R(i)`` of raters,
each set normalized (:func:`implicit_sets`, :func:`fm_features`). By default the sets come from the training
ratings; ``fit(..., implicit=pairs)`` adds pairs known without their rating, e.g. which movies each user rated
in the test period (the Netflix-prize setting: the *ratings* stay hidden, the *fact* of rating is used).

Model
-----
A factorization machine with one weight ``w_j`` and one k-vector ``v_j`` per feature column ::

    y(x) = mu + w0 + sum_j w_j x_j + sum_{j < j'} (v_j . v_j') x_j x_j',    r ~ N(y(x), 1/alpha)

with ``mu`` the training mean (a fixed offset). The columns fall into four groups ``g`` (users ``[w_u, v_u]``,
movies ``[w_i, q_i]``, implicit movies ``[w'_j, y_j]``, implicit users ``[w''_v, z_v]``) and every row
``theta = [w, v]`` of group ``g`` has the prior ``N(mu_g, Lambda_g^-1)`` with a Normal-Wishart hyper-prior
on ``(mu_g, Lambda_g)`` (as :class:`~recsys_utils.bayes.BayesianMF`: ``beta0=2, nu0=k+1, W0=I``); ``w0`` has
the prior ``N(0, 1)`` and ``alpha`` Gamma(1, 1). For this layout the pairwise sum splits per side: with
``s_u = c_u sum_{j in N(u)} y_j`` and ``t_i = d_i sum_{v in R(i)} z_v``, the user's and movie's vectors are
``a_u = v_u + s_u`` and ``b_i = q_i + t_i``, and ::

    y(u, i) = mu + w0 + B_u + B_i + a_u . b_i
    B_u = w_u + c_u sum_{j in N(u)} w'_j + v_u . s_u + (|s_u|^2 - c_u^2 sum_{j in N(u)} |y_j|^2) / 2

(``B_i`` likewise): the biases ``B_u`` and the pair ``(a_u, b_i)`` are what prediction needs, so the model
keeps samples of ``a_u`` and ``b_i`` exactly as BayesianMF keeps ``p_u`` and ``q_i``.

Gibbs conditionals
------------------
``y`` is *linear* in any one row ``theta`` (an FM has no ``v_j . v_j`` term), ``y = e + h . theta``, so the
conditional of a set of rows that never share a rating is a product of Gaussians, each with ::

    precision A = Lambda_g + alpha sum_rows h h^T,    mean A^-1 (Lambda_g mu_g + alpha sum_rows h (r - e))

the k x k system of ALS plus a draw (:func:`~recsys_utils.bayes.sample_gaussian`). Per group:

1. users ``[w_u, v_u]``: ``h = [1, b_i + s_u]`` over the user's ratings. No rating has two users, so every
   user is drawn at once (:func:`~recsys_utils.bayes.sample_factors`). 2. movies: ``h = [1, a_u + t_i]``, the same.
3. implicit movies ``[w'_j, y_j]``: ``y_j`` enters every rating of every user ``u`` with ``j in N(u)``, with
   ``h = c_u [1, b_i + v_u + s_u^(-j)]`` (``s_u^(-j) = s_u - c_u y_j``; the quadratic terms cancel). Two movies in
   one user's set are *not* conditionally independent (their product ``c_u^2 y_j . y_j'`` is in the
   prediction), so they cannot be drawn together. The sampler colours the movies greedily so that no two of
   one colour share a user (:func:`~recsys_utils.fm_gibbs.color_members`), and draws one colour at a time,
   every movie of it in one batched solve: exact Gibbs, in about ``max_u |N(u)|`` steps instead of
   ``n_items`` (685 instead of 1,682 on ml-100k's u1). The sums over ``u``'s ratings reduce to per-user
   statistics fixed during the step, ``n_u``, ``sum b_i``, ``sum b_i b_i^T``, ``sum rho``, ``sum rho b_i``
   (``rho`` = rating minus everything but this group), so a colour costs ``O(pairs k^2)`` whatever the users'
   rating counts (:func:`~recsys_utils.fm_gibbs.sample_implicit_group`).
4. implicit users ``[w''_v, z_v]``: the mirror image (users coloured so that no two rated a common movie).
5. ``(mu_g, Lambda_g)`` per group: Normal-Wishart conditional
   (:func:`~recsys_utils.bayes.sample_normal_wishart`); 6. ``w0``: Gaussian; 7. ``alpha``: Gamma
   (:func:`~recsys_utils.bayes.sample_precision`).

Predictions average ``mu + w0 + B_u + B_i + a_u . b_i`` over the kept sweeps (``B`` by running means, the
products over every ``thin``-th stored sample, as BayesianMF). Unseen users or movies fall back to the
posterior global bias plus the known side's bias, with one :class:`~recsys_utils.base.UnknownIdWarning`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from .base import IterativeEstimator
from .bayes import BayesianMF, _pair_scores, sample_precision
from .checks import check_interactions
from .fm_gibbs import ColorPlan, GibbsState, color_members, sample_implicit_group

__all__ = ["BayesianFM", "implicit_sets", "fm_features", "color_members", "ColorPlan", "sample_implicit_group"]

# --- features ------------------------------------------------------------------------------------
def implicit_sets(user_index, item_index, n_users, n_items):
    """The normalized implicit sets of every user and every movie, as two sparse matrices.

    Parameters
    ----------
    user_index, item_index : int arrays (n,), the (user, movie) pairs known to have a rating (duplicates allowed)
    n_users, n_items : int

    Returns
    -------
    user_sets : scipy.sparse.csr_matrix (n_users, n_items), ``1/sqrt(|N(u)|)`` on each movie of ``N(u)``
    item_sets : scipy.sparse.csr_matrix (n_items, n_users), ``1/sqrt(|R(i)|)`` on each rater of ``R(i)``
    """
    u, i = np.asarray(user_index), np.asarray(item_index)
    M = sparse.csr_matrix((np.ones(len(u)), (u, i)), shape=(n_users, n_items))
    M.sum_duplicates()
    M.data[:] = 1.0

    def normalized(S):
        S = S.tocsr()
        counts = np.diff(S.indptr)
        S.data = np.repeat(1.0 / np.sqrt(np.maximum(counts, 1)), counts)
        return S

    return normalized(M), normalized(M.T)


def fm_features(user_index, item_index, user_sets, item_sets):
    """The FM design matrix: one row ``[e_u | e_i | user's set | movie's set]`` per pair.

    Parameters
    ----------
    user_index, item_index : int arrays (n,); -1 (an unseen id) gives that side no column at all
    user_sets, item_sets : from :func:`implicit_sets`

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, n_users + n_items + n_items + n_users)
    """
    u, i = np.asarray(user_index), np.asarray(item_index)
    nu, ni = user_sets.shape
    n = len(u)
    ku, ki = u >= 0, i >= 0
    rows = np.arange(n)
    onehot_u = sparse.csr_matrix((np.ones(ku.sum()), (rows[ku], u[ku])), shape=(n, nu))
    onehot_i = sparse.csr_matrix((np.ones(ki.sum()), (rows[ki], i[ki])), shape=(n, ni))
    pick_u = sparse.csr_matrix((np.ones(ku.sum()), (rows[ku], u[ku])), shape=(n, nu))
    pick_i = sparse.csr_matrix((np.ones(ki.sum()), (rows[ki], i[ki])), shape=(n, ni))
    return sparse.hstack([onehot_u, onehot_i, pick_u @ user_sets, pick_i @ item_sets], format="csr")


class BayesianFM(IterativeEstimator):
    """Bayesian factorization machine with implicit features, fitted by blocked Gibbs sampling.

    The model, the features and the conditionals are in the module docstring. With ``user_sets=False`` and
    ``item_sets=False`` it is BPMF with separate priors for users' and movies' biases and factors.

    Parameters
    ----------
    n_factors : int
        Dimension ``k`` of every ``v_j``.
    n_samples : int
        Gibbs sweeps in all, burn-in included: ``n_samples - burn_in`` sweeps are kept and averaged.
    burn_in : int
        First sweeps discarded (``0 <= burn_in < n_samples``).
    beta : float or None
        Observation precision ``alpha``, fixed; ``None`` (the default) samples it under a Gamma(1, 1) prior.
    thin : int
        Keep every ``thin``-th kept sample of ``a_u`` and ``b_i`` for prediction (memory, as BayesianMF).
    user_sets, item_sets : bool
        Use each user's normalized set of rated movies, each movie's normalized set of raters, as features.
    init_std : float
        Standard deviation of the Gaussian initial factors (weights start at 0).
    random_state : int or None
        Seeds the initial factors and every draw.
    verbose : bool
        Show a tqdm progress bar over sweeps.
    rating_scale : (float, float) or None
        As in :class:`~recsys_utils.mf.MatrixFactorization`.

    Attributes
    ----------
    user_factor_samples_ : (n_stored, n_users, k), samples of ``a_u = v_u + s_u``
    item_factor_samples_ : (n_stored, n_items, k), samples of ``b_i = q_i + t_i``
    user_bias_, item_bias_ : posterior means of ``B_u`` and ``B_i`` (every kept sweep)
    global_mean_ : float, posterior mean of ``mu + w0``
    user_sets_ : scipy.sparse.csr_matrix (n_users, n_items); item_sets_ : (n_items, n_users), the features used
    n_colors_ : dict, the number of colours (sequential batched steps) of each implicit group
    params_ : dict, the last sweep's rows ``[w, v]`` of each group (``users, items, user_sets, item_sets``) and ``w0``
    beta_ : float, the last sweep's noise precision
    history_ : pandas.DataFrame, as :class:`~recsys_utils.bayes.BayesianMF`'s
    ids_ : :class:`~recsys_utils.encoding.IdMap`
    """

    def __init__(self, n_factors=10, n_samples=300, burn_in=50, beta=None, thin=5, user_sets=True, item_sets=True,
                 init_std=0.1, random_state=None, verbose=False, rating_scale=None):
        self.n_factors = n_factors
        self.n_samples = n_samples
        self.burn_in = burn_in
        self.beta = beta
        self.thin = thin
        self.user_sets = user_sets
        self.item_sets = item_sets
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose
        self.rating_scale = rating_scale

    _check_params = BayesianMF._check_params  # the same parameters, the same one-line messages
    _predict_idx = BayesianMF._predict_idx  # posterior mean of mu + B_u + B_i + a_u . b_i over the samples
    _score_matrix = BayesianMF._score_matrix

    def fit(self, ratings, eval_set=None, implicit=None):
        """Fit on a ratings table (``user_id, item_id, rating``); returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame
        eval_set : pandas.DataFrame, optional
            Ratings scored after every sweep into ``history_`` (unseen ids use the bias fallback, silently).
        implicit : pandas.DataFrame, optional
            Extra ``(user_id, item_id)`` pairs known to be rated, without their ratings (a ``rating`` column
            is ignored), added to the implicit sets: e.g. the test period's pairs, the Netflix-prize setting.
            Pairs whose user or movie is not in ``ratings`` are dropped (they have no parameters).
        """
        if implicit is not None and not (isinstance(implicit, pd.DataFrame)
                                         and {"user_id", "item_id"} <= set(implicit.columns)):
            raise ValueError(f"implicit must be a DataFrame with columns user_id and item_id (pairs known to be "
                             f"rated, e.g. test[['user_id', 'item_id']]), got {type(implicit).__name__}")
        self._implicit = None if implicit is None else check_interactions(implicit)
        try:
            return super().fit(ratings, eval_set)
        finally:
            del self._implicit

    def _fit(self, u, i, r, ev=None):
        nu, ni, k = self.ids_.n_users, self.ids_.n_items, int(self.n_factors)
        lo, hi = self.rating_scale_
        pu, pi = u, i
        if self._implicit is not None:
            eu, ei = self.ids_.user_index(self._implicit["user_id"]), self.ids_.item_index(self._implicit["item_id"])
            known = (eu >= 0) & (ei >= 0)
            pu, pi = np.r_[u, eu[known]], np.r_[i, ei[known]]
        self.user_sets_, self.item_sets_ = implicit_sets(pu, pi, nu, ni)
        rng = np.random.default_rng(self.random_state)
        st = GibbsState(u, i, r, self.global_mean_, self.user_sets_, self.item_sets_, k, bool(self.user_sets),
                    bool(self.item_sets), self.init_std, rng)
        if self.beta is not None:
            st.alpha = float(self.beta)
        self.n_colors_ = {name: len(plan.steps) for name, plan in st.plans.items()}
        n_kept = int(self.n_samples) - int(self.burn_in)
        n_store = -(-n_kept // int(self.thin))
        As, Bs = np.empty((n_store, nu, k)), np.empty((n_store, ni, k))
        sums = {"w0": 0.0, "bu": np.zeros(nu), "bi": np.zeros(ni), "a": np.zeros((nu, k)), "b": np.zeros((ni, k))}
        avg_train, avg_ev, kept, rows = np.zeros(len(r)), None if ev is None else np.zeros(len(ev[2])), 0, []

        def rmse(y, pred):
            e = y - np.clip(pred, lo, hi)
            return float(np.sqrt(np.einsum("n,n->", e, e) / len(e)))

        sweeps = range(1, int(self.n_samples) + 1)
        if self.verbose:
            from tqdm.auto import tqdm

            sweeps = tqdm(sweeps, desc="Bayesian FM", unit="sweep")
        for sweep in sweeps:
            pred = st.sweep()
            if self.beta is None:
                st.alpha = sample_precision(r - pred, rng)
            a, b, bu, bi = st.sides()
            gm = self.global_mean_ + st.w0
            pred_ev = None if ev is None else _pair_scores(gm, bu, bi, a, b, *ev[:2])
            is_kept = sweep > self.burn_in
            if is_kept:
                kept += 1
                avg_train += (pred - avg_train) / kept
                if ev is not None:
                    avg_ev += (pred_ev - avg_ev) / kept
                for name, value in (("w0", st.w0), ("bu", bu), ("bi", bi), ("a", a), ("b", b)):
                    sums[name] += value
                if (kept - 1) % int(self.thin) == 0:
                    As[(kept - 1) // int(self.thin)], Bs[(kept - 1) // int(self.thin)] = a, b
            rows.append((sweep, is_kept, st.alpha, rmse(r, pred), rmse(r, avg_train) if is_kept else np.nan,
                         np.nan if ev is None else rmse(ev[2], pred_ev),
                         rmse(ev[2], avg_ev) if is_kept and ev is not None else np.nan))
            if self.verbose:
                sweeps.set_postfix(train_rmse=f"{rows[-1][3]:.4f}")
        self.user_factor_samples_, self.item_factor_samples_ = As, Bs
        self.global_mean_ = self.global_mean_ + sums["w0"] / kept
        self.user_bias_, self.item_bias_ = sums["bu"] / kept, sums["bi"] / kept
        self.user_factors_, self.item_factors_ = sums["a"] / kept, sums["b"] / kept
        self.params_ = {**{name: theta.copy() for name, theta in st.theta.items()}, "w0": st.w0}
        self.beta_ = st.alpha
        self.history_ = pd.DataFrame(rows, columns=["sweep", "kept", "beta", "train_rmse", "train_rmse_avg",
                                                    "eval_rmse", "eval_rmse_avg"])
        return self
