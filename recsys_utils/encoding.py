"""Contiguous 0-based ids for users and items, with the mapping kept both ways.

MovieLens ids are arbitrary integers with gaps (ml-latest-small's movie ids run
up to 193,609 for 9,742 movies). Embedding tables and factor matrices want rows
0..n-1, so every model maps ids to indices first and back again afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .checks import check_ids

__all__ = ["IdMap"]


@dataclass(frozen=True)
class IdMap:
    """Two-way mapping between original ids and contiguous indices.

    Attributes
    ----------
    users : pandas.Index
        ``users[u]`` is the original id of user index ``u``; shape (n_users,).
    items : pandas.Index
        ``items[i]`` is the original id of item index ``i``; shape (n_items,).
    """

    users: pd.Index
    items: pd.Index

    @classmethod
    def from_ratings(cls, ratings: pd.DataFrame) -> IdMap:
        """Index every user and item that occurs in ``ratings`` (sorted by id).

        Ids of one column must be of one comparable type: mixing ``int`` and ``str``
        raises ``TypeError``.
        """
        return cls(
            users=pd.Index(check_ids("user_id", ratings["user_id"]), name="user_id"),
            items=pd.Index(check_ids("item_id", ratings["item_id"]), name="item_id"),
        )

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def user_index(self, user_ids) -> np.ndarray:
        """Indices of ``user_ids``; -1 where an id is unknown. Shape (n,)."""
        return self.users.get_indexer(np.asarray(user_ids).ravel())

    def item_index(self, item_ids) -> np.ndarray:
        """Indices of ``item_ids``; -1 where an id is unknown. Shape (n,)."""
        return self.items.get_indexer(np.asarray(item_ids).ravel())

    def encode(self, ratings: pd.DataFrame, *, strict: bool = True) -> pd.DataFrame:
        """Return a copy of ``ratings`` with ``user_idx`` and ``item_idx`` columns.

        With ``strict=True`` an unknown id raises ``ValueError`` naming it.
        """
        out = ratings.copy()
        out["user_idx"] = self.user_index(out["user_id"])
        out["item_idx"] = self.item_index(out["item_id"])
        if strict:
            for col, ids in (("user_idx", "user_id"), ("item_idx", "item_id")):
                bad = out.loc[out[col] < 0, ids]
                if len(bad):
                    raise ValueError(
                        f"{len(bad)} {ids}s are not in the mapping (first: {bad.iloc[0]}): "
                        "build the IdMap from data that contains them"
                    )
        return out
