"""Synthetic low-rank ratings with a known ground truth.

``r_ui = mu + b_u + b_i + p_u . q_i + noise`` with Gaussian factors, observed on
a random subset of cells. Because the truth is known, a model that recovers it
reaches a test RMSE equal to the noise level ``noise`` -- and no lower.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SyntheticRatings", "make_low_rank_ratings"]


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
    rank: int = 5,
    density: float = 0.1,
    noise: float = 0.1,
    mean: float = 3.5,
    bias_scale: float = 0.3,
    seed: int = 0,
) -> SyntheticRatings:
    """Draw a rank-``rank`` rating matrix and observe a ``density`` fraction of it.

    Every user and every item gets at least one rating. Factor entries are
    drawn with standard deviation ``1/sqrt(rank)`` so that the interaction
    term has variance about 1 whatever the rank.
    """
    for name, v in (("n_users", n_users), ("n_items", n_items), ("rank", rank)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not 0 < density <= 1:
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    P = rng.normal(0, 1 / np.sqrt(rank), (n_users, rank))  # (n_users, rank)
    Q = rng.normal(0, 1 / np.sqrt(rank), (n_items, rank))  # (n_items, rank)
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
