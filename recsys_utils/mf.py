"""Matrix factorization (矩阵分解) from scratch in NumPy: SGD and ALS.

Model
-----
Each user ``u`` and item ``i`` get a ``k``-dimensional vector and a bias::

    r_hat(u, i) = mu + b_u + b_i + p_u . q_i

fitted on the **observed** ratings only, by minimizing

.. math::

    J = \\tfrac12 \\sum_{(u,i)\\in\\Omega} \\Big[(r_{ui} - \\hat r_{ui})^2
        + \\lambda (\\lVert p_u\\rVert^2 + \\lVert q_i\\rVert^2)
        + \\lambda_b (b_u^2 + b_i^2)\\Big]

The penalty sits *inside* the sum, once per rating (as in Funk's SVD, in
scikit-surprise's ``SVD`` and in the ALS-WR paper of Zhou et al., 2008), so a
user with ``n_u`` ratings pays ``lambda * n_u * |p_u|^2``.

How the penalty grows with the rating count is a choice (``reg`` and
``reg_bias`` of :class:`MatrixFactorization`). A number ``lambda`` is the
per-rating penalty above (the default). A pair ``(lambda_0, lambda)`` adds a
*floor* that does not grow with the count: an entity with ``n`` ratings pays
``(lambda_0 + n * lambda)`` times its squared norm. The per-rating penalty
alone barely shrinks an entity with one rating (a movie rated once, 5 stars,
keeps a bias near ``5 - mu``); the floor shrinks it like the pseudo-counts of
the bias baseline (``b_i = sum(r - mu - b_u) / (lambda_0 + n_i)`` when
``lambda = 0`` and the factors are 0), and hardly changes entities with many
ratings. Entities without ratings pay nothing (they have no parameters to fit).
Both solvers minimize this same ``J`` (:func:`objective`):

* ``method="sgd"``: shuffled mini-batches; every rating contributes its own
  gradient (:func:`rating_gradients`), scattered onto the users and items of
  the batch with ``np.bincount``. With ``batch_size=1`` this is classic SGD.
* ``method="als"``: alternating exact minimization. With the item side fixed,
  ``J`` is a ridge regression per user with the closed form
  ``(Q_u^T Q_u + lambda n_u I) p_u = Q_u^T y_u`` (the bias rides along as an
  extra coordinate); :func:`als_half_step` solves all users at once with a
  batched ``np.linalg.solve`` and then the items likewise. Each half-step can
  only lower ``J``.

Unknown ids at predict time
---------------------------
A user or item unseen in ``fit`` has no vector. Its prediction falls back to
``mu`` plus whichever bias is known (the dot product counts as 0), and
``predict`` emits one :class:`~recsys_utils.base.UnknownIdWarning` saying how
many pairs were affected.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ._grouping import group_by_index
from .base import IterativeEstimator, bias_score_matrix, known_bias_prediction
from .checks import check_choice, check_int, check_number, check_rating_scale, check_ratings
from .encoding import IdMap

__all__ = [
    "MatrixFactorization",
    "predict_raw",
    "objective",
    "rating_gradients",
    "objective_gradients",
    "sgd_epoch",
    "group_by_index",
    "als_half_step",
    "penalty_parts",
    "entity_penalty",
]

METHODS = ("als", "sgd")


def penalty_parts(reg, name="reg"):
    """``reg`` as ``(floor, per_rating)``: a number is per rating (floor 0), a pair is ``(floor, per_rating)``.

    An entity with ``n`` ratings pays ``(floor + n * per_rating)`` times its squared norm.

    Raises
    ------
    ValueError
        One line, unless ``reg`` is a non-negative finite number or a pair of them.
    """
    if isinstance(reg, (tuple, list)):
        if len(reg) != 2:
            raise ValueError(f"{name} must be a number or a pair (floor, per_rating), got {reg!r}")
        check_number(f"{name} floor", reg[0])
        check_number(f"{name} per_rating", reg[1])
        return float(reg[0]), float(reg[1])
    check_number(name, reg)
    return 0.0, float(reg)


def entity_penalty(reg, counts):
    """Total penalty coefficient ``floor + n * per_rating`` of each entity, 0 where ``n == 0``. Shape (n_entities,)."""
    floor, per = penalty_parts(reg)
    counts = np.asarray(counts, dtype=float)
    return np.where(counts > 0, floor + counts * per, 0.0)


def _per_rating(reg, u, i, n_users, n_items):
    """A penalty spread over each entity's ratings: (user side, item side) arrays of shape (n,).

    Rating ``(u, i)`` carries ``floor / n_u + per_rating`` of user ``u``'s penalty, so summed
    over the user's ratings it is ``floor + n_u * per_rating``. A plain number stays a number.
    """
    floor, per = penalty_parts(reg)
    if floor == 0.0:
        return per
    nu = np.bincount(u, minlength=n_users)
    ni = np.bincount(i, minlength=n_items)
    return per + floor / nu[u], per + floor / ni[i]


# ---------------------------------------------------------------------------
# pure functions on index arrays: the maths of the model
# ---------------------------------------------------------------------------
def predict_raw(u, i, P, Q, bu, bi, mu):
    """Unclipped ``mu + b_u + b_i + p_u . q_i`` for index arrays.

    Parameters
    ----------
    u, i : int arrays of shape (n,)
    P : (n_users, k)
    Q : (n_items, k)
    bu : (n_users,)
    bi : (n_items,)
    mu : float

    Returns
    -------
    numpy.ndarray of shape (n,)
    """
    return mu + bu[u] + bi[i] + np.einsum("nk,nk->n", P[u], Q[i])


def objective(u, i, r, P, Q, bu, bi, mu, reg, reg_bias=None):
    """The regularized loss ``J`` that both solvers minimize (see module docstring).

    Parameters
    ----------
    u, i : int arrays of shape (n,)
        User and item index of each rating.
    r : float array of shape (n,)
    P, Q, bu, bi, mu : model parameters, as in :func:`predict_raw`
    reg : float or (float, float)
        Penalty on the factors: ``lambda`` paid once per rating, or ``(floor, lambda)``
        (see :func:`penalty_parts`).
    reg_bias : float or (float, float), optional
        Penalty on the biases, in the same form; defaults to ``reg``.

    Returns
    -------
    float
    """
    reg_bias = reg if reg_bias is None else reg_bias
    e = r - predict_raw(u, i, P, Q, bu, bi, mu)
    nu = np.bincount(u, minlength=len(bu))  # ratings per user, (n_users,)
    ni = np.bincount(i, minlength=len(bi))  # ratings per item, (n_items,)
    penalty = entity_penalty(reg, nu) @ np.sum(P**2, axis=1) + entity_penalty(reg, ni) @ np.sum(Q**2, axis=1)
    penalty += entity_penalty(reg_bias, nu) @ bu**2 + entity_penalty(reg_bias, ni) @ bi**2
    return float(0.5 * (e @ e + penalty))


def rating_gradients(e, pu, qi, bu, bi, reg, reg_bias=None):
    """Gradient of one rating's term of ``J`` w.r.t. its four parameters.

    The term is ``0.5 * (e^2 + reg (|p_u|^2 + |q_i|^2) + reg_bias (b_u^2 + b_i^2))``
    with ``e = r - r_hat``; since ``d e / d p_u = -q_i`` etc.:

    * ``dp_u = -e q_i + reg p_u``, ``dq_i = -e p_u + reg q_i``
    * ``db_u = -e + reg_bias b_u``, ``db_i = -e + reg_bias b_i``

    Parameters
    ----------
    e : (n,) errors ``r - r_hat``
    pu, qi : (n, k) the user and item vectors of each rating
    bu, bi : (n,) the user and item bias of each rating
    reg, reg_bias : float, or a pair ``(user side, item side)`` of (n,) arrays
        Each rating's share of the penalty (``reg_bias`` defaults to ``reg``); a
        penalty with a floor is spread over the ratings by the solvers.

    Returns
    -------
    dpu, dqi : (n, k)
    dbu, dbi : (n,)
    """
    reg_bias = reg if reg_bias is None else reg_bias
    ru, ri = reg if isinstance(reg, tuple) else (reg, reg)
    rbu, rbi = reg_bias if isinstance(reg_bias, tuple) else (reg_bias, reg_bias)
    e_col = e[:, None]
    return (-e_col * qi + np.reshape(ru, (-1, 1)) * pu, -e_col * pu + np.reshape(ri, (-1, 1)) * qi,
            -e + rbu * bu, -e + rbi * bi)


def _scatter_rows(idx, values, n):
    """Sum rows of ``values`` (m, k) into ``n`` groups by ``idx``: (n, k). One bincount call."""
    k = values.shape[1]
    flat = (idx[:, None] * k + np.arange(k)).ravel()
    return np.bincount(flat, weights=values.ravel(), minlength=n * k).reshape(n, k)


def objective_gradients(u, i, r, P, Q, bu, bi, mu, reg, reg_bias=None):
    """Full gradient of :func:`objective`: per-rating gradients summed per user / item.

    Returns
    -------
    dP : (n_users, k)
    dQ : (n_items, k)
    dbu : (n_users,)
    dbi : (n_items,)
    """
    reg_bias = reg if reg_bias is None else reg_bias
    e = r - predict_raw(u, i, P, Q, bu, bi, mu)
    shares = (_per_rating(reg, u, i, len(P), len(Q)), _per_rating(reg_bias, u, i, len(P), len(Q)))
    dpu, dqi, dbu, dbi = rating_gradients(e, P[u], Q[i], bu[u], bi[i], *shares)
    return (
        _scatter_rows(u, dpu, len(P)),
        _scatter_rows(i, dqi, len(Q)),
        np.bincount(u, weights=dbu, minlength=len(bu)),
        np.bincount(i, weights=dbi, minlength=len(bi)),
    )


def sgd_epoch(u, i, r, P, Q, bu, bi, mu, lr, reg, reg_bias=None, batch_size=256, rng=None, biased=True):
    """One pass of mini-batch SGD over the ratings, in shuffled order. Updates in place.

    Each batch takes the step ``theta -= lr * sum of the batch's per-rating gradients``
    (:func:`rating_gradients`); ``batch_size=1`` is plain per-rating SGD.

    Parameters
    ----------
    u, i, r : (n,) rating indices and values
    P, Q, bu, bi : parameters, modified in place
    mu : float
    lr : float, learning rate
    batch_size : int
    rng : numpy.random.Generator, for the shuffle
    biased : bool, whether the biases are learned (else they stay at 0)
    """
    rng = np.random.default_rng() if rng is None else rng
    reg_bias = reg if reg_bias is None else reg_bias
    # each rating's share of the penalty: a number, or (user side, item side) arrays (n,)
    shares = [_per_rating(x, u, i, len(P), len(Q)) for x in (reg, reg_bias)]
    order = rng.permutation(len(r))
    for start in range(0, len(r), batch_size):
        b = order[start : start + batch_size]
        ub, ib = u[b], i[b]
        pu, qi = P[ub], Q[ib]
        e = r[b] - (mu + bu[ub] + bi[ib] + np.einsum("nk,nk->n", pu, qi))
        reg_b, reg_bias_b = (s if not isinstance(s, tuple) else (s[0][b], s[1][b]) for s in shares)
        dpu, dqi, dbu, dbi = rating_gradients(e, pu, qi, bu[ub], bi[ib], reg_b, reg_bias_b)
        # scatter onto the users / items of this batch only
        uu, uinv = np.unique(ub, return_inverse=True)
        ii, iinv = np.unique(ib, return_inverse=True)
        P[uu] -= lr * _scatter_rows(uinv, dpu, len(uu))
        Q[ii] -= lr * _scatter_rows(iinv, dqi, len(ii))
        if biased:
            bu[uu] -= lr * np.bincount(uinv, weights=dbu, minlength=len(uu))
            bi[ii] -= lr * np.bincount(iinv, weights=dbi, minlength=len(ii))


def als_half_step(idx_self, idx_other, target, other_factors, n_self, reg, reg_bias=None,
                  fit_bias=True, groups=None):
    """Exact minimization of ``J`` over one side (users, say) with the other side fixed.

    For entity ``s`` with ratings ``(s, o)``: stack ``x_o = [q_o, 1]`` into ``X_s``
    (n_s, k+1) and ``y_s = target`` (``r - mu - b_o``), then solve

    .. math:: (X_s^T X_s + \\mathrm{diag}(d,\\dots,d,d_b))\\,[p_s; b_s] = X_s^T y_s

    with ``d = floor + n_s * lambda`` (just ``n_s * lambda`` for a per-rating
    penalty, ALS-WR) and ``d_b`` likewise from ``reg_bias``, for every entity at
    once. Entities without ratings get zeros.

    Parameters
    ----------
    idx_self, idx_other : int arrays (n,), index of each rating on the side being
        solved and on the fixed side
    target : (n,) ``r - mu - b_other``
    other_factors : (n_other, k)
    n_self : int
    reg, reg_bias : float or (floor, per_rating), penalties (``reg_bias`` defaults to ``reg``)
    fit_bias : bool, if False the bias is not fitted (returned as zeros)
    groups : output of ``group_by_index(idx_self, n_self)``, to reuse across sweeps

    Returns
    -------
    factors : (n_self, k)
    bias : (n_self,)
    """
    reg_bias = reg if reg_bias is None else reg_bias
    k = other_factors.shape[1]
    groups = group_by_index(idx_self, n_self) if groups is None else groups
    dim = k + 1 if fit_bias else k
    # x_o = [q_o, 1]; the padding (position len(target)) points at an extra zero row
    F = np.zeros((len(other_factors) + 1, dim))
    F[:-1, :k] = other_factors
    if fit_bias:
        F[:-1, k] = 1.0
    other_all = np.r_[idx_other, len(other_factors)]
    y_all = np.r_[target, 0.0]
    (floor, per), (floor_b, per_b) = penalty_parts(reg), penalty_parts(reg_bias, "reg_bias")
    ridge, ridge_floor = np.full(dim, per), np.full(dim, floor)  # per rating, and once per entity
    if fit_bias:
        ridge[k], ridge_floor[k] = per_b, floor_b
    out = np.zeros((n_self, dim))
    for ents, pos in groups:
        X = F[other_all[pos]]  # (B, L, dim)
        y = y_all[pos]  # (B, L)
        n_s = (pos < len(target)).sum(axis=1)  # (B,)
        D = ridge_floor + n_s[:, None] * ridge  # (B, dim), the diagonal of the penalty
        L = pos.shape[1]
        if L >= dim or not np.all(D > 0):
            # primal: (X^T X + D) w = X^T y, a (dim x dim) system per entity
            A = np.matmul(X.transpose(0, 2, 1), X)  # (B, dim, dim)
            A[:, np.arange(dim), np.arange(dim)] += D
            rhs = np.einsum("bld,bl->bd", X, y)  # (B, dim)
            out[ents] = np.linalg.solve(A, rhs[..., None])[..., 0]
        else:
            # fewer ratings than unknowns: the same solution from an (L x L) system,
            # w = D^-1 X^T (X D^-1 X^T + I)^-1 y   (push-through identity)
            XD = X / D[:, None, :]  # (B, L, dim)
            K = np.matmul(XD, X.transpose(0, 2, 1))  # (B, L, L)
            K[:, np.arange(L), np.arange(L)] += 1.0
            alpha = np.linalg.solve(K, y[..., None])  # (B, L, 1)
            out[ents] = np.matmul(XD.transpose(0, 2, 1), alpha)[..., 0]
    if fit_bias:
        return out[:, :k], out[:, k]
    return out, np.zeros(n_self)


# ---------------------------------------------------------------------------
# the estimator
# ---------------------------------------------------------------------------
class MatrixFactorization(IterativeEstimator):
    """Biased matrix factorization ``mu + b_u + b_i + p_u . q_i``, fitted by ALS or SGD.

    Parameters
    ----------
    n_factors : int
        Dimension ``k`` of the user and item vectors.
    reg : float or (float, float)
        L2 penalty on the vectors: ``lambda`` paid once per rating, or a pair
        ``(floor, lambda)``: an entity with ``n`` ratings pays ``floor + n * lambda``
        (module docstring, :func:`penalty_parts`).
    lr : float
        SGD learning rate (unused by ALS).
    n_epochs : int
        SGD passes over the data, or ALS sweeps (users then items).
    method : {"als", "sgd"}
    init_std : float
        Standard deviation of the Gaussian initial vectors.
    random_state : int or None
        Seeds the initial vectors and the SGD shuffles.
    verbose : bool
        Show a tqdm progress bar over epochs.
    reg_bias : float, (float, float) or None
        Penalty on the biases, in the same two forms; ``None`` means ``reg``. A floor
        here, e.g. ``(25, 0.13)``, stops a movie rated once by one fan from getting a
        bias near ``5 - mu`` (notebook 06 measures what that does to top-N lists).
    biased : bool
        Learn ``b_u`` and ``b_i`` (else they stay 0 and the model is the plain
        ``mu + p_u . q_i``).
    batch_size : int
        SGD mini-batch size (1 = classic per-rating SGD).
    rating_scale : (float, float) or None
        Valid rating range: ``fit`` rejects ratings outside it and ``predict``
        clips to it. ``None`` takes the training data's min and max.

    Attributes
    ----------
    user_factors_ : (n_users, k)
    item_factors_ : (n_items, k)
    user_bias_ : (n_users,)
    item_bias_ : (n_items,)
    global_mean_ : float
    history_ : pandas.DataFrame with columns ``epoch, train_rmse, eval_rmse``
        (``eval_rmse`` is NaN without an ``eval_set``).
    ids_ : :class:`~recsys_utils.encoding.IdMap`

    Notes
    -----
    Unseen users or items at predict time fall back to ``mu`` plus the known
    bias, with one ``UnknownIdWarning`` (see the module docstring).
    """

    def __init__(self, n_factors=30, reg=0.13, lr=0.01, n_epochs=10, method="als", init_std=0.1,
                 random_state=None, verbose=False, reg_bias=None, biased=True, batch_size=256,
                 rating_scale=None):
        self.n_factors = n_factors
        self.reg = reg
        self.lr = lr
        self.n_epochs = n_epochs
        self.method = method
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose
        self.reg_bias = reg_bias
        self.biased = biased
        self.batch_size = batch_size
        self.rating_scale = rating_scale

    # -- checks ----------------------------------------------------------
    def _check_params(self):
        check_choice("method", self.method, METHODS)
        check_int("n_factors", self.n_factors)
        check_int("n_epochs", self.n_epochs)
        check_int("batch_size", self.batch_size)
        penalty_parts(self.reg, "reg")
        if self.reg_bias is not None:
            penalty_parts(self.reg_bias, "reg_bias")
        check_number("lr", self.lr, strict=True)
        check_number("init_std", self.init_std)
        check_rating_scale(self.rating_scale)

    # -- fitting (fit(ratings, eval_set) comes from IterativeEstimator) ---
    def _fit(self, u, i, r, ev=None):
        nu, ni, k = self.ids_.n_users, self.ids_.n_items, int(self.n_factors)
        rng = np.random.default_rng(self.random_state)
        P = rng.normal(0.0, self.init_std, (nu, k))  # (n_users, k)
        Q = rng.normal(0.0, self.init_std, (ni, k))  # (n_items, k)
        bu, bi = np.zeros(nu), np.zeros(ni)
        mu = self.global_mean_
        reg, reg_bias = _as_penalty(self.reg), _as_penalty(self.reg_bias)
        if self.method == "als":
            groups_u, groups_i = group_by_index(u, nu), group_by_index(i, ni)
        rows = []
        epochs = range(1, int(self.n_epochs) + 1)
        if self.verbose:
            from tqdm.auto import tqdm

            epochs = tqdm(epochs, desc=f"MF-{self.method}", unit="epoch")
        for epoch in epochs:
            if self.method == "als":
                P, bu = als_half_step(u, i, r - mu - bi[i], Q, nu, reg, reg_bias, self.biased, groups_u)
                Q, bi = als_half_step(i, u, r - mu - bu[u], P, ni, reg, reg_bias, self.biased, groups_i)
            else:
                with np.errstate(over="ignore", invalid="ignore"):
                    sgd_epoch(u, i, r, P, Q, bu, bi, mu, self.lr, reg, reg_bias, int(self.batch_size), rng,
                              self.biased)
                if not np.isfinite(P).all() or not np.isfinite(Q).all():
                    raise ValueError(f"SGD diverged at epoch {epoch}: lower lr (now {self.lr}) or batch_size")
            self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_ = P, Q, bu, bi
            train_rmse = self._rmse_idx(u, i, r)
            eval_rmse = self._rmse_idx(*ev) if ev is not None else np.nan
            rows.append((epoch, train_rmse, eval_rmse))
            if self.verbose:
                epochs.set_postfix(train_rmse=f"{train_rmse:.4f}")
        self.history_ = pd.DataFrame(rows, columns=["epoch", "train_rmse", "eval_rmse"])
        return self

    def _rmse_idx(self, u, i, r):
        lo, hi = self.rating_scale_
        if (u < 0).any() or (i < 0).any():
            pred = self._predict_idx(u, i)
        else:  # training ratings: no fallback needed
            pred = predict_raw(u, i, self.user_factors_, self.item_factors_, self.user_bias_,
                               self.item_bias_, self.global_mean_)
        e = r - np.clip(pred, lo, hi)
        return float(np.sqrt(e @ e / len(e)))

    # -- prediction ------------------------------------------------------
    def _predict_idx(self, u, i):
        ku, ki = u >= 0, i >= 0
        uu, ii = np.where(ku, u, 0), np.where(ki, i, 0)
        dot = np.einsum("nk,nk->n", self.user_factors_[uu], self.item_factors_[ii])
        known = known_bias_prediction(self.global_mean_, self.user_bias_, self.item_bias_, u, i)
        return known + np.where(ku & ki, dot, 0.0)

    def _score_matrix(self, users):
        scores = bias_score_matrix(self.global_mean_, self.user_bias_, self.item_bias_, users)
        scores += self.user_factors_[users] @ self.item_factors_.T  # (n, k) @ (k, n_items)
        return scores

    def objective(self, ratings):
        """Value of ``J`` (module docstring) on a ratings table of known users and items."""
        self._check_fitted()
        ratings = check_ratings(ratings)
        enc = self.ids_.encode(ratings)
        return objective(enc["user_idx"].to_numpy(), enc["item_idx"].to_numpy(), enc["rating"].to_numpy(float),
                         self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_,
                         self.global_mean_, self.reg, self.reg_bias)

    # -- persistence -----------------------------------------------------
    def save(self, path):
        """Write the fitted model to ``path`` (``.npz`` added if missing; no pickled objects); return the path."""
        self._check_fitted()
        path = _npz_path(path)
        params = {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}
        params["rating_scale"] = list(params["rating_scale"]) if params["rating_scale"] is not None else None
        np.savez(
            path,
            params=np.array(json.dumps(params)),
            user_ids=_plain(self.ids_.users), item_ids=_plain(self.ids_.items),
            user_factors=self.user_factors_, item_factors=self.item_factors_,
            user_bias=self.user_bias_, item_bias=self.item_bias_,
            global_mean=np.array(self.global_mean_), rating_scale=np.array(self.rating_scale_, dtype=float),
            history=self.history_.to_numpy(dtype=float),
        )
        return path

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save` (``path`` with or without ``.npz``), checked like ``fit``.

        Raises
        ------
        ValueError
            One line, when the file's parameters or array shapes do not make a valid model.
        """
        path = _npz_path(path)
        try:
            z = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise FileNotFoundError(f"no saved model at {path}: pass the path given to save()") from None
        with z:
            try:
                model = cls(**json.loads(str(z["params"])))
                model._check_params()
                if model.rating_scale is not None:
                    model.rating_scale = tuple(model.rating_scale)
                model.ids_ = IdMap(pd.Index(z["user_ids"], name="user_id"), pd.Index(z["item_ids"], name="item_id"))
                model.user_factors_, model.item_factors_ = z["user_factors"], z["item_factors"]
                model.user_bias_, model.item_bias_ = z["user_bias"], z["item_bias"]
                model.global_mean_ = float(z["global_mean"])
                model.rating_scale_ = tuple(float(x) for x in z["rating_scale"])
                h = z["history"]
                model.history_ = pd.DataFrame({"epoch": h[:, 0].astype(int), "train_rmse": h[:, 1],
                                               "eval_rmse": h[:, 2]})
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise ValueError(f"{path} is not a valid saved MatrixFactorization ({exc}): "
                                 "save the model again") from None
        model._check_loaded(path)
        return model

    def _check_loaded(self, path):
        """The shapes and numbers a fitted model must have (``load`` trusts nothing in the file)."""
        nu, ni, k = self.ids_.n_users, self.ids_.n_items, int(self.n_factors)
        expected = {"user_factors": (self.user_factors_, (nu, k)), "item_factors": (self.item_factors_, (ni, k)),
                    "user_bias": (self.user_bias_, (nu,)), "item_bias": (self.item_bias_, (ni,))}
        for name, (a, shape) in expected.items():
            if a.shape != shape or not np.issubdtype(a.dtype, np.floating) or not np.isfinite(a).all():
                raise ValueError(f"{path}: {name} has shape {a.shape} (expected {shape} of finite floats for "
                                 f"{nu} users, {ni} items, k={k}): the file is inconsistent, save the model again")
        if not self.ids_.users.is_unique or not self.ids_.items.is_unique:
            raise ValueError(f"{path}: repeated user or item ids: the file is inconsistent, save the model again")
        if not np.isfinite(self.global_mean_):
            raise ValueError(f"{path}: global_mean is {self.global_mean_}: the file is inconsistent, "
                             "save the model again")
        try:
            check_rating_scale(self.rating_scale_)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}: the file is inconsistent, save the model again") from None
        lo, hi = self.rating_scale_
        if not lo <= self.global_mean_ <= hi:
            raise ValueError(f"{path}: global_mean {self.global_mean_} lies outside rating_scale {self.rating_scale_}: "
                             "the file is inconsistent, save the model again")


def _as_penalty(reg):
    """A penalty setting as the solvers take it: a float, a (floor, per_rating) tuple, or None."""
    if reg is None:
        return None
    floor, per = penalty_parts(reg)
    return (floor, per) if isinstance(reg, (tuple, list)) else per


def _npz_path(path):
    """``path`` as a Path ending in ``.npz`` (what ``np.savez`` writes)."""
    from pathlib import Path

    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def _plain(index):
    """Ids as a numeric or fixed-width string array (``np.savez`` without pickle)."""
    a = np.asarray(index)
    return a.astype(str) if a.dtype == object else a
