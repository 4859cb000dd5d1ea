"""Grouping ratings by entity into padded dense blocks: the kernel behind every batched ALS solve.

Used by explicit ALS (:mod:`recsys_utils.mf`) and weighted implicit ALS
(:mod:`recsys_utils.implicit`); public as :func:`recsys_utils.mf.group_by_index`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["group_by_index"]


def group_by_index(idx, n, growth=1.25):
    """Group rating positions by entity, padded into a few dense blocks.

    Entities whose rating counts round up to the same width of a geometric
    ladder (1, 2, 3, 4, 5, 7, 9, ... growing by ``growth``) share a block of
    that width. The padding points at position ``len(idx)``, a sentinel that
    callers map to a zero row. Padding wastes at most ``growth - 1`` of the
    work, and every block is one batched matrix product.

    Parameters
    ----------
    idx : int array of shape (n_ratings,), entity index of each rating
    n : int, number of entities
    growth : float > 1, ratio between consecutive block widths

    Returns
    -------
    list of (entities, positions)
        ``entities`` (B,) entity indices, ``positions`` (B, L) rating positions.
    """
    idx = np.asarray(idx)
    counts = np.bincount(idx, minlength=n)  # (n,)
    order = np.argsort(idx, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    ladder = [1]
    while ladder[-1] < counts.max():
        ladder.append(max(ladder[-1] + 1, int(np.ceil(ladder[-1] * growth))))
    width = np.where(counts > 0, np.asarray(ladder)[np.searchsorted(ladder, counts)], 0)
    groups = []
    for w in np.unique(width[width > 0]):
        ents = np.flatnonzero(width == w)
        col = np.arange(w)
        valid = col[None, :] < counts[ents, None]  # (B, w)
        pos = np.where(valid, starts[ents, None] + col[None, :], len(idx))
        pos = np.where(valid, order[np.minimum(pos, len(idx) - 1)], len(idx))
        groups.append((ents, pos))
    return groups
