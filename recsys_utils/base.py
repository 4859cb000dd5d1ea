"""The shared shape of every rating predictor in the package.

Every model follows the scikit-learn estimator conventions: the constructor
only stores its arguments, ``fit`` learns attributes that end in ``_`` and
returns ``self``, and ``predict(user_ids, item_ids)`` is vectorized.

Unknown ids at predict time
---------------------------
A user or item that was not in the training data has no learned parameters.
All models in this package then fall back to what they do know (the global
mean plus whichever bias is known, :func:`known_bias_prediction`) and emit one
:class:`UnknownIdWarning` that says how many pairs were affected.

Score matrices
--------------
Ranking needs every item scored for a user. Every fitted model in the package
answers ``model.score_matrix(users)`` with an (n_users, n_items) array of
unclipped scores, in one vectorized product.
"""
from __future__ import annotations

import warnings

import numpy as np

from .checks import check_rating_scale, check_ratings
from .encoding import IdMap

__all__ = ["RatingEstimator", "UnknownIdWarning", "NotFittedError", "known_bias_prediction", "bias_score_matrix",
           "check_user_rows", "IterativeEstimator"]


class UnknownIdWarning(UserWarning):
    """Raised (as a warning) when ``predict`` meets ids never seen in ``fit``."""


class NotFittedError(RuntimeError):
    """Raised when ``predict`` is called before ``fit``."""


def known_bias_prediction(mu, user_bias, item_bias, u, i):
    """``mu + b_u + b_i`` with each bias counted only where its index is known (``>= 0``). Shape (n,).

    The fallback of every model for pairs with an unseen user or item: what the
    model knows about the pair, and nothing it does not.
    """
    u, i = np.asarray(u), np.asarray(i)
    return (mu + np.where(u >= 0, user_bias[np.maximum(u, 0)], 0.0)
            + np.where(i >= 0, item_bias[np.maximum(i, 0)], 0.0))


def check_user_rows(users, n_users):
    """User indices for a score matrix: all users when ``None``, else validated integers in ``[0, n_users)``."""
    if users is None:
        return np.arange(n_users)
    users = np.asarray(users)
    if users.ndim != 1 or (users.size and not np.issubdtype(users.dtype, np.integer)):
        raise ValueError(f"users must be a 1-D array of user indices (from the IdMap), got shape {users.shape} "
                         f"and dtype {users.dtype}")
    if users.size and (users.min() < 0 or users.max() >= n_users):
        bad = users.min() if users.min() < 0 else users.max()
        raise ValueError(f"user index {bad} is outside 0..{n_users - 1}: pass indices from the training IdMap")
    return users


def bias_score_matrix(mu, user_bias, item_bias, users):
    """``mu + b_u + b_i`` for ``users`` (indices) and every item. Shape (len(users), n_items)."""
    scores = np.full((len(users), len(item_bias)), mu)
    scores += user_bias[users, None]
    scores += item_bias[None, :]
    return scores


class RatingEstimator:
    """Base class: id mapping, input checks, clipping and unknown-id fallback.

    Subclasses implement ``_fit(u, i, r)`` on contiguous indices and
    ``_predict_idx(u, i)``, where an index of -1 marks an unknown id.
    """

    rating_scale = None  # subclasses may take it as a constructor argument

    # -- to implement ---------------------------------------------------
    def _fit(self, u, i, r):  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict_idx(self, u, i):  # pragma: no cover - abstract
        raise NotImplementedError

    def _score_matrix(self, users):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared ---------------------------------------------------------
    def _prepare_fit(self, ratings):
        scale = check_rating_scale(self.rating_scale)
        ratings = check_ratings(ratings, self.rating_scale if scale is not None else None)
        self.ids_ = IdMap.from_ratings(ratings)
        r = ratings["rating"].to_numpy(dtype=float)
        self.rating_scale_ = scale if scale is not None else (float(r.min()), float(r.max()))
        self.global_mean_ = float(r.mean())
        u = self.ids_.user_index(ratings["user_id"])
        i = self.ids_.item_index(ratings["item_id"])
        return u, i, r

    def fit(self, ratings):
        """Fit on a ratings table (``user_id, item_id, rating``); returns ``self``."""
        u, i, r = self._prepare_fit(ratings)
        self._fit(u, i, r)
        return self

    def _check_fitted(self):
        if not hasattr(self, "ids_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(ratings) first")

    def _to_indices(self, user_ids, item_ids):
        self._check_fitted()
        users = np.asarray(user_ids).ravel()
        items = np.asarray(item_ids).ravel()
        if users.size != items.size:
            raise ValueError(
                f"got {users.size} user ids but {items.size} item ids: pass one item per user"
            )
        u = self.ids_.user_index(users)
        i = self.ids_.item_index(items)
        unknown = (u < 0) | (i < 0)
        if unknown.any():
            warnings.warn(
                f"{int(unknown.sum())} of {u.size} pairs have a user or item unseen in fit; "
                "their predictions fall back to the global mean plus the known biases",
                UnknownIdWarning,
                stacklevel=3,
            )
        return u, i

    def predict(self, user_ids, item_ids) -> np.ndarray:
        """Predicted ratings for pairs (``user_ids[k]``, ``item_ids[k]``), clipped to the scale.

        Parameters
        ----------
        user_ids, item_ids : array-like of shape (n,)
            Original ids, as in the ratings table.

        Returns
        -------
        numpy.ndarray of shape (n,)
        """
        u, i = self._to_indices(user_ids, item_ids)
        lo, hi = self.rating_scale_
        return np.clip(self._predict_idx(u, i), lo, hi)

    def score_matrix(self, users=None) -> np.ndarray:
        """Unclipped predicted ratings of ``users`` for every item, in one vectorized product.

        Clipping is skipped on purpose: it would create ties at the top of the scale.

        Parameters
        ----------
        users : int array of shape (n,), optional
            User *indices* (``ids_.user_index(user_ids)``); default every training user.

        Returns
        -------
        numpy.ndarray of shape (len(users), n_items)
        """
        self._check_fitted()
        return self._score_matrix(check_user_rows(users, self.ids_.n_users))

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class IterativeEstimator(RatingEstimator):
    """A model fitted in passes (epochs, sweeps) that can score an ``eval_set`` after each pass.

    Subclasses implement ``_check_params()`` and ``_fit(u, i, r, ev)``, where ``ev`` is
    ``(u, i, r)`` of the eval_set on the training index space (-1 for an unseen id), or None;
    they record the scores in ``history_``.
    """

    def _check_params(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, ratings, eval_set=None):
        """Fit on a ratings table (``user_id, item_id, rating``); returns ``self``.

        Parameters
        ----------
        ratings : pandas.DataFrame
        eval_set : pandas.DataFrame, optional
            Ratings scored after every pass into ``history_`` (unseen ids use the bias fallback, silently).
        """
        self._check_params()
        if eval_set is not None:
            eval_set = check_ratings(eval_set, self.rating_scale, what="eval_set")
        u, i, r = self._prepare_fit(ratings)
        ev = None
        if eval_set is not None:
            ev = (self.ids_.user_index(eval_set["user_id"]), self.ids_.item_index(eval_set["item_id"]),
                  eval_set["rating"].to_numpy(dtype=float))
        self._fit(u, i, r, ev)
        return self
