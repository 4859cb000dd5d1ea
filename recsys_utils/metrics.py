"""Error metrics for rating prediction (vectorized, with clear errors).

Both arguments must be 1-D arrays (lists, NumPy arrays or pandas Series) of
finite numbers and of equal length; anything else raises a one-line error.
"""
from __future__ import annotations

import numpy as np

from .checks import check_values

__all__ = ["rmse", "mae"]


def _as_pair(y_true, y_pred):
    """Validate and return two 1-D float arrays of finite numbers, of equal, non-zero length."""
    a = check_values("y_true", y_true)
    b = check_values("y_pred", y_pred)
    if a.size != b.size:
        raise ValueError(
            f"y_true has {a.size} values but y_pred has {b.size}: pass one prediction per rating"
        )
    if a.size == 0:
        raise ValueError("y_true and y_pred are empty: pass at least one rating")
    return a, b


def rmse(y_true, y_pred) -> float:
    """Root mean squared error, sqrt(mean((y_true - y_pred)**2)).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)

    Returns
    -------
    float
    """
    a, b = _as_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, mean(|y_true - y_pred|).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)

    Returns
    -------
    float
    """
    a, b = _as_pair(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))
