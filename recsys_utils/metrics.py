"""Error metrics for rating prediction (vectorized, with clear errors)."""
from __future__ import annotations

import numpy as np

__all__ = ["rmse", "mae"]


def _as_pair(y_true, y_pred):
    """Validate and return two 1-D float arrays of equal, non-zero length."""
    a = np.asarray(y_true, dtype=float).ravel()
    b = np.asarray(y_pred, dtype=float).ravel()
    if a.size != b.size:
        raise ValueError(
            f"y_true has {a.size} values but y_pred has {b.size}: pass one prediction per rating"
        )
    if a.size == 0:
        raise ValueError("y_true and y_pred are empty: pass at least one rating")
    if np.isnan(a).any() or np.isnan(b).any():
        where = "y_true" if np.isnan(a).any() else "y_pred"
        raise ValueError(f"{where} contains NaN: drop or fill missing values before scoring")
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
