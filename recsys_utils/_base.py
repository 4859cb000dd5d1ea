"""Input checks and the shared shape of every rating predictor in the package.

Every model follows the scikit-learn estimator conventions: the constructor
only stores its arguments, ``fit`` learns attributes that end in ``_`` and
returns ``self``, and ``predict(user_ids, item_ids)`` is vectorized.

Unknown ids at predict time
---------------------------
A user or item that was not in the training data has no learned parameters.
All models in this package then fall back to what they do know (the global
mean plus whichever bias is known) and emit one :class:`UnknownIdWarning`
that says how many pairs were affected.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .encoding import IdMap

__all__ = ["RatingEstimator", "UnknownIdWarning", "check_ratings", "NotFittedError"]

REQUIRED = ("user_id", "item_id", "rating")


def check_int(name, v, minimum=1):
    """Raise a one-line ValueError unless ``v`` is an integer (not a bool) >= ``minimum``."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")


def check_nonneg(name, v, strict=False):
    """Raise a one-line ValueError unless ``v`` is a finite number >= 0 (> 0 when ``strict``)."""
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)
    if not ok or v < 0 or (strict and v == 0):
        raise ValueError(f"{name} must be a {'positive' if strict else 'non-negative'} finite number, got {v!r}")


class UnknownIdWarning(UserWarning):
    """Raised (as a warning) when ``predict`` meets ids never seen in ``fit``."""


class NotFittedError(RuntimeError):
    """Raised when ``predict`` is called before ``fit``."""


def check_ratings(ratings, rating_scale=None, *, what: str = "ratings") -> pd.DataFrame:
    """Check a ratings table and return it with a float ``rating`` column.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Must have columns ``user_id``, ``item_id``, ``rating``.
    rating_scale : (float, float), optional
        When given, every rating must lie inside it.
    """
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(
            f"{what} must be a pandas DataFrame with columns user_id, item_id, rating, "
            f"not {type(ratings).__name__}"
        )
    missing = [c for c in REQUIRED if c not in ratings.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {', '.join(missing)}: pass a table with user_id, item_id, rating"
        )
    if len(ratings) == 0:
        raise ValueError(f"{what} is empty: pass at least one rating")
    r = pd.to_numeric(ratings["rating"], errors="coerce")
    if r.isna().any():
        n = int(r.isna().sum())
        raise ValueError(f"{what} has {n} missing or non-numeric rating(s): drop or fix them first")
    if ratings["user_id"].isna().any() or ratings["item_id"].isna().any():
        raise ValueError(f"{what} has missing user_id or item_id values: drop those rows first")
    if rating_scale is not None:
        lo, hi = rating_scale
        bad = (r < lo) | (r > hi)
        if bad.any():
            raise ValueError(
                f"{what} has {int(bad.sum())} rating(s) outside the scale [{lo}, {hi}] "
                f"(e.g. {r[bad].iloc[0]}): fix the data or pass rating_scale=(min, max)"
            )
    if r.dtype != float:
        ratings = ratings.assign(rating=r.astype(float))
    return ratings


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

    # -- shared ---------------------------------------------------------
    def _prepare_fit(self, ratings):
        ratings = check_ratings(ratings, self.rating_scale)
        self.ids_ = IdMap.from_ratings(ratings)
        r = ratings["rating"].to_numpy(dtype=float)
        self.rating_scale_ = (
            tuple(self.rating_scale) if self.rating_scale is not None else (float(r.min()), float(r.max()))
        )
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

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_"))
        return f"{type(self).__name__}({params})"
