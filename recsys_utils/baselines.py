"""Baselines every model must beat: global mean, user mean, item mean, biases.

The regularized bias model predicts ``mu + b_u + b_i`` and is fitted by a few
sweeps of exact alternating updates (each a ridge regression with a closed
form): ``b_i = sum_u (r_ui - mu - b_u) / (reg_item + n_i)`` and likewise for
``b_u``.
"""
from __future__ import annotations

import numpy as np

from .base import RatingEstimator, bias_score_matrix, known_bias_prediction
from .checks import check_int, check_number

__all__ = ["GlobalMean", "UserMean", "ItemMean", "BiasBaseline", "tune_bias_baseline"]


def _group_mean(idx, values, n, fallback, reg=0.0):
    """Per-group (regularized) mean; ``fallback`` where a group is empty. Shape (n,)."""
    sums = np.bincount(idx, weights=values, minlength=n)
    counts = np.bincount(idx, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums / (counts + reg)
    return np.where(counts + reg > 0, out, fallback)


class GlobalMean(RatingEstimator):
    """Predict the mean training rating for every pair."""

    def _fit(self, u, i, r):
        pass

    def _predict_idx(self, u, i):
        return np.full(u.shape, self.global_mean_)

    def _score_matrix(self, users):
        return np.full((len(users), self.ids_.n_items), self.global_mean_)


class UserMean(RatingEstimator):
    """Predict the user's mean training rating (global mean for unknown users)."""

    def _fit(self, u, i, r):
        self.user_means_ = _group_mean(u, r, self.ids_.n_users, self.global_mean_)  # (n_users,)

    def _predict_idx(self, u, i):
        return np.where(u >= 0, self.user_means_[u], self.global_mean_)

    def _score_matrix(self, users):
        return np.repeat(self.user_means_[users, None], self.ids_.n_items, axis=1)


class ItemMean(RatingEstimator):
    """Predict the item's mean training rating (global mean for unknown items)."""

    def _fit(self, u, i, r):
        self.item_means_ = _group_mean(i, r, self.ids_.n_items, self.global_mean_)  # (n_items,)

    def _predict_idx(self, u, i):
        return np.where(i >= 0, self.item_means_[i], self.global_mean_)

    def _score_matrix(self, users):
        return np.repeat(self.item_means_[None, :], len(users), axis=0)


class BiasBaseline(RatingEstimator):
    """Regularized user + item biases: ``r_hat = mu + b_u + b_i``.

    Parameters
    ----------
    reg_user, reg_item : float
        L2 penalties; each acts like that many pseudo-ratings at the mean.
    n_epochs : int
        Alternating sweeps (each lowers the regularized squared error).
    """

    def __init__(self, reg_user=15.0, reg_item=10.0, n_epochs=10):
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_epochs = n_epochs

    def fit(self, ratings):
        """Fit on a ratings table (``user_id, item_id, rating``); returns ``self``."""
        check_number("reg_user", self.reg_user)
        check_number("reg_item", self.reg_item)
        check_int("n_epochs", self.n_epochs)
        return super().fit(ratings)

    def _fit(self, u, i, r):
        nu, ni = self.ids_.n_users, self.ids_.n_items
        resid = r - self.global_mean_
        bu = np.zeros(nu)
        for _ in range(int(self.n_epochs)):
            bi = _group_mean(i, resid - bu[u], ni, 0.0, self.reg_item)  # (n_items,)
            bu = _group_mean(u, resid - bi[i], nu, 0.0, self.reg_user)  # (n_users,)
        self.user_bias_, self.item_bias_ = bu, bi

    def _predict_idx(self, u, i):
        return known_bias_prediction(self.global_mean_, self.user_bias_, self.item_bias_, u, i)

    def _score_matrix(self, users):
        return bias_score_matrix(self.global_mean_, self.user_bias_, self.item_bias_, users)


def tune_bias_baseline(train, regs=(0, 1, 3, 10, 30, 100), random_state=42):
    """Choose the bias penalty on a validation split carved out of ``train``.

    The validation split is the course's per-user holdout applied to ``train``
    (the test set is never touched). Returns the chosen, *unfitted*
    ``BiasBaseline(reg, reg)`` and the sweep table (index ``λ``; columns
    ``fit RMSE``, ``validation RMSE``).
    """
    import pandas as pd

    from .metrics import rmse
    from .splits import course_split

    fit_part, valid = course_split(train, random_state=random_state)
    rows = []
    for lam in regs:
        model = BiasBaseline(reg_user=lam, reg_item=lam).fit(fit_part)
        rows.append({part: rmse(df["rating"], model.predict(df["user_id"], df["item_id"]))
                     for part, df in (("fit RMSE", fit_part), ("validation RMSE", valid))})
    sweep = pd.DataFrame(rows, index=pd.Index(list(regs), name="λ"))
    best = sweep["validation RMSE"].idxmin()
    return BiasBaseline(reg_user=best, reg_item=best), sweep
