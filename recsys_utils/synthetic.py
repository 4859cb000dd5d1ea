"""Synthetic ratings: a low-rank truth to recover, and MovieLens-shaped sets of any size.

* :func:`make_low_rank_ratings`: ``r_ui = mu + b_u + b_i + p_u . q_i + noise`` with
  Gaussian factors, observed on a random subset of cells. Because the truth is
  known, a model that recovers it reaches a test RMSE equal to the noise level
  ``noise`` -- and no lower.
* :func:`make_movielens_like`: ratings with MovieLens' shape (power-law popularity
  of movies, heavy-tailed user activity, at least 20 ratings per user, half-star
  ratings), from 1e5 to 1e7 ratings and beyond: the data of notebook 07's scaling
  experiment.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .checks import check_int, check_number

__all__ = ["SyntheticRatings", "make_low_rank_ratings", "movielens_shape", "power_law_weights",
           "make_movielens_like"]


@dataclass(frozen=True)
class SyntheticRatings:
    """Ratings plus the truth that generated them.

    Attributes
    ----------
    ratings : DataFrame with ``user_id, item_id, rating, timestamp`` (ids start at 0)
    user_factors : (n_users, rank)
    item_factors : (n_items, rank)
    user_bias : (n_users,)
    item_bias : (n_items,)
    mean : float
    noise : float, standard deviation of the added noise
    """

    ratings: pd.DataFrame
    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    mean: float
    noise: float

    def true_rating(self, user_ids, item_ids) -> np.ndarray:
        """Noise-free rating of the given pairs. Shape (n,)."""
        u = np.asarray(user_ids)
        i = np.asarray(item_ids)
        dot = np.einsum("nk,nk->n", self.user_factors[u], self.item_factors[i])
        return self.mean + self.user_bias[u] + self.item_bias[i] + dot


def make_low_rank_ratings(
    n_users: int = 500,
    n_items: int = 400,
    n_factors: int = 5,
    density: float = 0.1,
    noise: float = 0.1,
    mean: float = 3.5,
    bias_scale: float = 0.3,
    random_state: int = 0,
) -> SyntheticRatings:
    """Draw a rank-``n_factors`` rating matrix and observe a ``density`` fraction of it.

    Every user and every item gets at least one rating. Factor entries are
    drawn with standard deviation ``1/sqrt(n_factors)`` so that the interaction
    term has variance about 1 whatever the rank.
    """
    for name, v in (("n_users", n_users), ("n_items", n_items), ("n_factors", n_factors)):
        check_int(name, v)
    if not (isinstance(density, (int, float)) and 0 < density <= 1):
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    check_number("noise", noise)
    k = n_factors
    rng = np.random.default_rng(random_state)
    P = rng.normal(0, 1 / np.sqrt(k), (n_users, k))  # (n_users, k)
    Q = rng.normal(0, 1 / np.sqrt(k), (n_items, k))  # (n_items, k)
    bu = rng.normal(0, bias_scale, n_users)
    bi = rng.normal(0, bias_scale, n_items)
    n_obs = max(int(round(density * n_users * n_items)), max(n_users, n_items))
    cells = rng.choice(n_users * n_items, size=n_obs, replace=False)
    # make sure every user and item is observed at least once
    extra = np.r_[np.arange(n_users) * n_items + rng.integers(0, n_items, n_users),
                  rng.integers(0, n_users, n_items) * n_items + np.arange(n_items)]
    cells = np.unique(np.r_[cells, extra])
    u, i = np.divmod(cells, n_items)
    truth = SyntheticRatings(pd.DataFrame(), P, Q, bu, bi, float(mean), float(noise))
    r = truth.true_rating(u, i) + rng.normal(0, noise, len(u))
    ratings = pd.DataFrame(
        {"user_id": u, "item_id": i, "rating": r, "timestamp": rng.integers(0, 10**9, len(u))}
    )
    return SyntheticRatings(ratings, P, Q, bu, bi, float(mean), float(noise))


# ---------------------------------------------------------------------------
# synthetic MovieLens-shaped data
# ---------------------------------------------------------------------------
def movielens_shape(n_ratings, ratings_per_user=140.0, items_per_sqrt_rating=3.3):
    """``(n_users, n_items)`` of a MovieLens-like set with ``n_ratings`` ratings.

    Users grow with the ratings (MovieLens 10M/20M/25M: about 140-150 ratings per user);
    movies grow like the square root (1e5 ratings: about 1,000 movies; 1e7: about 10,000,
    close to ml-10m's 10,677).
    """
    n_ratings = int(n_ratings)
    if n_ratings < 1000:
        raise ValueError(f"n_ratings must be at least 1000, got {n_ratings}")
    n_users = max(20, int(round(n_ratings / ratings_per_user)))
    n_items = max(50, int(round(items_per_sqrt_rating * np.sqrt(n_ratings))))
    return n_users, n_items


def power_law_weights(n, exponent, offset):
    """Probabilities ``proportional to (rank + offset) ** -exponent`` for ranks 1..n. Shape (n,).

    ``offset`` flattens the head (the most popular few are not far apart), ``exponent``
    sets the tail's log-log slope.
    """
    w = (np.arange(1, n + 1) + float(offset)) ** -float(exponent)
    return w / w.sum()


def make_movielens_like(n_ratings, *, random_state=0, min_per_user=20, item_exponent=1.0, user_exponent=0.8,
                        n_factors=5, noise=0.7, ratings_per_user=140.0, items_per_sqrt_rating=3.3):
    """Synthetic ratings with MovieLens' shape: exactly ``n_ratings`` distinct (user, movie) pairs.

    * movie popularity follows a power law (:func:`power_law_weights`, tail slope
      ``-item_exponent``), the head flattened over the top 1% of movies;
    * user activity is heavy-tailed too (slope ``-user_exponent``) with at least
      ``min_per_user`` ratings each, as in every MovieLens set; no user rates more than
      a third of the movies (on sets below about 1e5 ratings: 1.5 times the mean);
    * ratings are half stars in [0.5, 5] from a rank-``n_factors`` model with biases plus noise.

    Movies are drawn for each user by popularity without repeats (duplicates are redrawn; a
    user still short after 30 rounds gets the rest uniformly from the movies it has not rated).
    Ids are 0-based: user 0 is the most active user, movie 0 the most popular movie.

    Parameters
    ----------
    n_ratings : int, at least 1000
    random_state : int

    Returns
    -------
    pandas.DataFrame with columns ``user_id`` (int32), ``item_id`` (int32), ``rating`` (float64)
    """
    n_users, n_items = movielens_shape(n_ratings, ratings_per_user, items_per_sqrt_rating)
    n_ratings = int(n_ratings)
    # at most a third of the movies per user (more on tiny sets, where users must rate more of them)
    cap = min(n_items, max(min_per_user, n_items // 3, int(np.ceil(1.5 * n_ratings / n_users))))
    if n_users * min_per_user > n_ratings:
        raise ValueError(f"min_per_user={min_per_user} needs more ratings than n_ratings={n_ratings}: lower it")
    rng = np.random.default_rng(random_state)
    # ratings per user: the floor plus a power-law share of the rest, capped (excess goes to others)
    counts = np.full(n_users, min_per_user, dtype=np.int64)
    w = power_law_weights(n_users, user_exponent, 0.01 * n_users)
    while counts.sum() < n_ratings:
        room = cap - counts
        share = np.where(room > 0, w, 0.0)
        extra = rng.multinomial(n_ratings - counts.sum(), share / share.sum())
        counts += np.minimum(extra, room)
    pop = power_law_weights(n_items, item_exponent, 0.01 * n_items)
    cdf = np.cumsum(pop)
    keys = np.empty(0, dtype=np.int64)  # user * n_items + item of the pairs kept so far, sorted
    need = counts.copy()
    for _ in range(30):
        # draw more than needed, in order; keep each user's first `need` new distinct movies
        # (sequential sampling without replacement, proportional to popularity)
        users = np.repeat(np.arange(n_users, dtype=np.int64), need + need // 2 + np.where(need > 0, 2, 0))
        cand = users * n_items + np.minimum(np.searchsorted(cdf, rng.random(len(users)) * cdf[-1]), n_items - 1)
        seen = np.searchsorted(keys, cand)
        old = keys[np.minimum(seen, len(keys) - 1)] == cand if len(keys) else np.zeros(len(cand), bool)
        first = np.zeros(len(cand), bool)
        first[np.unique(cand, return_index=True)[1]] = True
        new = np.flatnonzero(first & ~old)  # in draw order, so grouped by user
        rank_in_user = np.arange(len(new)) - np.searchsorted(users[new], users[new])
        new = new[rank_in_user < need[users[new]]]
        keys = np.sort(np.r_[keys, cand[new]])
        need -= np.bincount(users[new], minlength=n_users)
        if not need.any():
            break
    # the rare user still short (a heavy user whose missing movies are all unpopular): uniform fill
    for user in np.flatnonzero(need):
        rated = keys[(keys >= user * n_items) & (keys < (user + 1) * n_items)] - user * n_items
        free = np.setdiff1d(np.arange(n_items), rated)
        keys = np.sort(np.r_[keys, user * n_items + rng.choice(free, need[user], replace=False)])
    u, i = np.divmod(keys, n_items)
    # half-star ratings from a low-rank model with biases
    P = rng.normal(0, 0.6 / np.sqrt(n_factors), (n_users, n_factors))  # (n_users, k)
    Q = rng.normal(0, 0.6 / np.sqrt(n_factors), (n_items, n_factors))  # (n_items, k)
    bu, bi = rng.normal(0, 0.35, n_users), rng.normal(0, 0.45, n_items)
    truth = 3.5 + bu[u] + bi[i] + np.einsum("nk,nk->n", P[u], Q[i]) + rng.normal(0, noise, len(u))
    rating = np.clip(np.round(truth * 2) / 2, 0.5, 5.0)
    return pd.DataFrame({"user_id": u.astype(np.int32), "item_id": i.astype(np.int32), "rating": rating})
