"""Train/test splits of a ratings table. Train and test never share a row.

* :func:`random_split` -- rows drawn uniformly at random (seeded).
* :func:`per_user_split` -- each user keeps most ratings in train and holds out
  a fraction; every test user also appears in training. **The course split.**
* :func:`temporal_split` -- each user's *latest* ratings are held out, which is
  how a deployed recommender meets the future.

ml-100k's official splits (``u1``..``u5``, ``ua``, ``ub``) come from
:meth:`recsys_utils.data.MovieLens.official_split`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .checks import check_fraction, check_int, check_ratings

__all__ = ["random_split", "per_user_split", "temporal_split", "course_split", "COURSE_SEED"]

COURSE_SEED = 42


def random_split(ratings: pd.DataFrame, test_size: float = 0.2, random_state: int = 0):
    """Hold out ``round(test_size * n)`` rows drawn uniformly at random.

    Returns
    -------
    train, test : pandas.DataFrame
        Disjoint; their union is ``ratings``. Original row order kept.
    """
    check_ratings(ratings)
    check_fraction("test_size", test_size)
    rng = np.random.default_rng(random_state)
    n = len(ratings)
    is_test = np.zeros(n, dtype=bool)
    is_test[rng.permutation(n)[: int(round(test_size * n))]] = True
    return ratings[~is_test], ratings[is_test]


def _holdout_by_rank(ratings, order_key, test_size, min_train):
    """Hold out, per user, the rows that come last in ``order_key`` order."""
    users = ratings["user_id"].to_numpy()
    order = np.lexsort((order_key, users))  # by user, then key
    sorted_users = users[order]
    # position of each row inside its user's block, and the block sizes
    starts = np.r_[0, np.flatnonzero(sorted_users[1:] != sorted_users[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(users)])
    pos = np.arange(len(users)) - np.repeat(starts, sizes)
    n_test = np.minimum(np.round(test_size * sizes).astype(int), np.maximum(sizes - min_train, 0))
    keep = pos < np.repeat(sizes - n_test, sizes)
    is_test = np.empty(len(users), dtype=bool)
    is_test[order] = ~keep
    return ratings[~is_test], ratings[is_test]


def per_user_split(ratings: pd.DataFrame, test_size: float = 0.2, random_state: int = 0, min_train: int = 1):
    """Hold out a random ``test_size`` fraction of each user's ratings.

    Each user keeps at least ``min_train`` ratings in train, so every user in
    test is known at training time.
    """
    check_ratings(ratings)
    check_fraction("test_size", test_size)
    check_int("min_train", min_train)
    key = np.random.default_rng(random_state).random(len(ratings))
    return _holdout_by_rank(ratings, key, test_size, int(min_train))


def temporal_split(ratings: pd.DataFrame, test_size: float = 0.2, min_train: int = 1):
    """Hold out each user's latest ``test_size`` fraction of ratings (by timestamp).

    Ties in time are broken by ``item_id`` so the split is deterministic.
    """
    check_ratings(ratings)
    check_fraction("test_size", test_size)
    check_int("min_train", min_train)
    if "timestamp" not in ratings.columns:
        raise ValueError("temporal_split needs a timestamp column: use per_user_split instead")
    if pd.isna(ratings["timestamp"]).any():
        n = int(pd.isna(ratings["timestamp"]).sum())
        raise ValueError(f"ratings has {n} missing timestamp(s): drop those rows before a temporal split")
    # lexsort on a structured key: timestamp first, then item_id
    key = np.lexsort((ratings["item_id"].to_numpy(), ratings["timestamp"].to_numpy()))
    rank = np.empty(len(ratings), dtype=np.int64)
    rank[key] = np.arange(len(ratings))
    return _holdout_by_rank(ratings, rank, test_size, int(min_train))


def course_split(ratings: pd.DataFrame, random_state: int = COURSE_SEED):
    """The split every notebook uses: 20% of each user's ratings held out, seeded."""
    return per_user_split(ratings, test_size=0.2, random_state=random_state)
