"""Argument checks shared by every module: one function per kind of check, one message style.

Each check raises a one-line ``ValueError`` (``TypeError`` for an argument of the
wrong type) that names the argument, says what it must be and shows what it got, so
a learner can fix the call without reading a stack trace::

    >>> check_int("n_factors", 0)
    Traceback (most recent call last):
    ValueError: n_factors must be an integer >= 1, got 0
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "check_int", "check_number", "check_fraction", "check_choice", "check_rating_scale", "check_ratings",
    "check_values", "check_ids", "check_indices", "check_interactions", "REQUIRED_COLUMNS",
]

REQUIRED_COLUMNS = ("user_id", "item_id", "rating")


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def check_int(name, value, minimum=1):
    """Raise unless ``value`` is an integer (not a bool) ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_number(name, value, minimum=0.0, *, strict=False):
    """Raise unless ``value`` is a finite real number ``>= minimum`` (``> minimum`` when ``strict``).

    NaN, infinities, bools and strings are refused. ``minimum=-np.inf`` accepts any finite number.
    """
    ok = _is_real(value) and np.isfinite(value) and (value > minimum if strict else value >= minimum)
    if not ok:
        if minimum == 0:
            what = "a positive finite number" if strict else "a non-negative finite number"
        elif np.isinf(minimum):
            what = "a finite number"
        else:
            what = f"a finite number {'>' if strict else '>='} {minimum}"
        raise ValueError(f"{name} must be {what}, got {value!r}")


def check_fraction(name, value, *, allow_zero=False):
    """Raise unless ``0 < value < 1`` (``0 <= value < 1`` with ``allow_zero``)."""
    ok = _is_real(value) and (0 <= value < 1 if allow_zero else 0 < value < 1)
    if not ok:
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"{name} must be a fraction in {interval}, got {value!r}")


def check_choice(name, value, choices):
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def check_rating_scale(rating_scale):
    """Return ``rating_scale`` as a ``(lo, hi)`` float tuple with finite ``lo < hi``; ``None`` passes."""
    if rating_scale is None:
        return None
    try:
        lo, hi = rating_scale
    except (TypeError, ValueError):
        raise ValueError(f"rating_scale must be (min, max) with min < max, got {rating_scale!r}: "
                         "pass two finite numbers, e.g. (1, 5)") from None
    if not (_is_real(lo) and _is_real(hi) and np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"rating_scale must be (min, max) with min < max, got {rating_scale!r}: "
                         "pass two finite numbers, e.g. (1, 5)")
    return float(lo), float(hi)


def check_ratings(ratings, rating_scale=None, *, what: str = "ratings") -> pd.DataFrame:
    """Check a ratings table and return it with a float ``rating`` column.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Must have columns ``user_id``, ``item_id``, ``rating``.
    rating_scale : (float, float), optional
        When given, every rating must lie inside it.
    what : str
        The argument's name in messages.
    """
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(
            f"{what} must be a pandas DataFrame with columns user_id, item_id, rating, "
            f"not {type(ratings).__name__}"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in ratings.columns]
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
    inf = np.isinf(r.to_numpy(dtype=float))
    if inf.any():
        raise ValueError(f"{what} has {int(inf.sum())} infinite rating(s) (e.g. {r[inf].iloc[0]}): "
                         "drop or fix them first")
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


def check_values(name, values) -> np.ndarray:
    """Return ``values`` (list, array or pandas Series) as a 1-D float array of finite numbers.

    ``None``, strings and other non-numbers raise ``TypeError``; other shapes
    (a 2-D array, even an (n, 1) column, or a scalar), NaN and infinities raise
    ``ValueError``. An empty array passes.
    """
    if values is None:
        raise TypeError(f"{name} must be a 1-D array of numbers, got None: pass the ratings or predictions")
    a = np.asarray(values)
    if a.dtype.kind == "O":
        bad = [v for v in a.ravel() if not _is_real(v)][:1]
        if bad:
            bad = bad[0]
            raise TypeError(f"{name} must hold numbers, got {bad!r} ({type(bad).__name__}): "
                            "convert it first, e.g. pd.to_numeric(...) or .astype(float)")
        a = a.astype(float)
    elif a.dtype.kind not in "biuf":
        example = a.ravel()[0].item() if a.size else a.dtype
        raise TypeError(f"{name} must hold numbers, got {example!r} (dtype {a.dtype}): "
                        "convert it first, e.g. pd.to_numeric(...) or .astype(float)")
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}: pass 1-D arrays (use .ravel())")
    a = a.astype(float, copy=False)
    finite = np.isfinite(a)
    if not finite.all():
        what = "NaN" if np.isnan(a).any() else f"infinite values (e.g. {a[~finite][0]})"
        raise ValueError(f"{name} contains {what}: drop or fill them before scoring")
    return a


def check_ids(name, values) -> np.ndarray:
    """Return the sorted unique ids of ``values`` (a ``user_id`` or ``item_id`` column).

    Ids of types that cannot be compared (e.g. ``1`` and ``"a"``) raise ``TypeError``.
    """
    unique = values.unique() if isinstance(values, pd.Series) else pd.unique(np.asarray(values))
    try:
        return np.sort(unique)
    except TypeError:
        kinds = " and ".join(sorted({type(v).__name__ for v in unique}))
        raise TypeError(f"{name} mixes {kinds} ids: convert the column to one type, e.g. .astype(str)") from None


def check_indices(name, values, n, *, what="item", padding=False) -> np.ndarray:
    """Return ``values`` as a 1-D integer array of indices in ``0..n-1``.

    With ``padding=True`` the value -1 (:func:`~recsys_utils.ranking.top_n`'s
    filler for short lists) is allowed too, and any shape is accepted.
    """
    a = np.atleast_1d(np.asarray(values))
    if a.size and (a.dtype.kind not in "iu" or (a.ndim != 1 and not padding)):
        raise TypeError(f"{name} must be {'' if padding else '1-D '}integer {what} indices, "
                        f"got dtype {a.dtype} and shape {a.shape}: map ids with ids_.{what}_index(...)")
    low = -1 if padding else 0
    if a.size and (a.min() < low or a.max() >= n):
        bad = a.min() if a.min() < low else a.max()
        allowed = f"0..{n - 1}" + (" (or -1, top_n's padding for short lists)" if padding else "")
        raise ValueError(f"{name} holds {what} index {bad}, outside {allowed}: "
                         f"pass {what} indices from the training IdMap")
    return a if a.size else a.astype(np.intp)


def check_interactions(interactions) -> pd.DataFrame:
    """The distinct ``(user_id, item_id)`` pairs of an implicit-feedback table (a rating column is ignored)."""
    if not isinstance(interactions, pd.DataFrame) or not {"user_id", "item_id"} <= set(interactions.columns):
        raise ValueError("interactions must be a DataFrame with columns user_id and item_id")
    if len(interactions) == 0:
        raise ValueError("interactions is empty: pass at least one (user_id, item_id) pair")
    return interactions[["user_id", "item_id"]].drop_duplicates()
