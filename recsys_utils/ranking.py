"""From scores to recommendations: top-N lists and ranking metrics, vectorized.

Every recommender in the course ends in a **score matrix** of shape
``(n_users, n_items)`` (predicted ratings, dot products, popularity counts ...).
A recommendation list is the ``n`` best-scored items a user has *not* rated
yet; :func:`top_n` computes it for all users at once with ``np.partition``
and a sparse mask of the items to exclude.

Relevance
---------
A recommended item is a **hit** when the user rated it in the held-out test
set with ``rating >= threshold`` (4 stars by default): the user saw it *and*
liked it. :func:`interaction_matrix` builds that set as a sparse 0/1 matrix.
Metrics are averaged over the users with at least one relevant test item
(other users cannot score a hit under any model and are left out).

Metrics at cut-off ``k`` (``hit_j`` = 1 when the item at rank ``j`` is relevant,
``R`` = the user's number of relevant items):

* precision@k = ``sum_j hit_j / k``
* recall@k = ``sum_j hit_j / R``
* hit rate@k = 1 if any ``hit_j`` else 0
* NDCG@k = ``sum_j hit_j / log2(j + 1)`` divided by its best possible value,
  ``sum_{j <= min(k, R)} 1 / log2(j + 1)`` (ranks ``j`` start at 1)
* MAP@k: mean over users of AP@k = ``sum_j precision@j * hit_j / min(k, R)``
* catalogue coverage = share of all items that appear in at least one list.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .base import check_user_rows
from .checks import check_indices, check_int

__all__ = [
    "interaction_matrix",
    "top_n",
    "similar_items",
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "map_at_k",
    "hit_rate_at_k",
    "catalogue_coverage",
    "ranking_metrics",
    "evaluate_scores",
]

RELEVANCE_THRESHOLD = 4.0


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------
def interaction_matrix(ratings: pd.DataFrame, ids, *, min_rating=None) -> sp.csr_matrix:
    """Sparse 0/1 matrix of who rated what, on the index space of ``ids``.

    Parameters
    ----------
    ratings : pandas.DataFrame with ``user_id``, ``item_id`` (and ``rating``
        when ``min_rating`` is given)
    ids : :class:`~recsys_utils.encoding.IdMap`
        Rows and columns; pairs with an id unknown to it are dropped.
    min_rating : float, optional
        Keep only rows with ``rating >= min_rating`` (e.g. 4 for "liked").

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_users, n_items), float 0/1
    """
    if min_rating is not None:
        if "rating" not in ratings.columns:
            raise ValueError("min_rating needs a rating column: pass a table with user_id, item_id, rating")
        ratings = ratings[ratings["rating"].to_numpy(dtype=float) >= min_rating]
    u = ids.user_index(ratings["user_id"])
    i = ids.item_index(ratings["item_id"])
    known = (u >= 0) & (i >= 0)
    m = sp.csr_matrix((np.ones(int(known.sum())), (u[known], i[known])), shape=(ids.n_users, ids.n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _check_k(k, name="k"):
    check_int(name, k)
    return int(k)


def top_n(scores, exclude=None, n=10) -> np.ndarray:
    """The ``n`` best-scored items of every user, best first, skipping excluded ones.

    One ``np.partition`` over the whole matrix finds each row's ``n``-th largest
    score in linear time; the items above it, and the lowest-indexed items equal
    to it, make the list, and only those ``n`` are then sorted.

    Parameters
    ----------
    scores : array-like of shape (n_users, n_items)
        Higher is better. NaN is not allowed.
    exclude : scipy.sparse matrix or bool array of shape (n_users, n_items), optional
        Non-zero entries (typically the training ratings, ``interaction_matrix(train, ids)``)
        are never recommended. A nested list is taken only if it holds booleans.
    n : int
        List length, ``1 <= n <= n_items``.

    Returns
    -------
    numpy.ndarray of int, shape (n_users, n)
        Item indices. Where a user has fewer than ``n`` items left the list
        ends in ``-1``. Ties are broken by the lower item index, so the lists
        are the same on every machine.
    """
    s = np.asarray(scores)
    if s.ndim != 2:
        raise ValueError(f"scores must be a 2-D (n_users, n_items) matrix, got shape {s.shape}: "
                         "use scores[None, :] for one user")
    n = _check_k(n, "n")
    n_users, n_items = s.shape
    if n > n_items:
        raise ValueError(f"n={n} is larger than the number of items ({n_items}): ask for at most {n_items}")
    s = s.astype(np.result_type(s.dtype, np.float32), copy=True)  # we write -inf into it
    if np.isnan(s).any():
        raise ValueError("scores contain NaN: fill them (e.g. with -inf) before ranking")
    if exclude is not None:
        exclude = _check_exclude(exclude)
        if exclude.shape != s.shape:
            raise ValueError(f"exclude has shape {exclude.shape} but scores have {s.shape}: "
                             "build both on the same users and items")
        rows, cols = exclude.nonzero()
        s[rows, cols] = -np.inf
    # the n-th largest score of each row, then every item above it and, among the items equal to it, the
    # lowest indices: the same list on every machine (np.argpartition alone breaks ties by CPU-specific code)
    kth = np.partition(s, n_items - n, axis=1)[:, n_items - n, None]  # (n_users, 1)
    above = s > kth
    tied = s == kth
    room = n - above.sum(axis=1)  # (n_users,) how many tied items each list still takes
    chosen = above | tied
    cut = np.flatnonzero(tied.sum(axis=1) > room)  # rows with more tied items than room: keep the lowest indices
    if cut.size:
        chosen[cut] &= ~(tied[cut] & (np.cumsum(tied[cut], axis=1) > room[cut, None]))  # exactly n per row
    cand = np.nonzero(chosen)[1].reshape(n_users, n)  # (n_users, n), ascending item index
    cand_scores = np.take_along_axis(s, cand, axis=1)
    order = np.argsort(-cand_scores, axis=1, kind="stable")  # best first; ties keep the lower index first
    top = np.take_along_axis(cand, order, axis=1).astype(np.int64)
    top[np.take_along_axis(cand_scores, order, axis=1) == -np.inf] = -1
    return top


def _check_exclude(exclude):
    """``exclude`` as given when sparse or an array; a list or other array-like only when it is boolean."""
    if sp.issparse(exclude) or isinstance(exclude, np.ndarray):
        return exclude
    try:
        arr = np.asarray(exclude)
    except ValueError:  # ragged, e.g. per-user lists of item indices
        arr = None
    if arr is None or arr.dtype != bool:
        raise TypeError(f"exclude must be a scipy.sparse matrix or boolean array (n_users, n_items), got "
                        f"{type(exclude).__name__}: build it with interaction_matrix(train, ids)")
    return arr


def similar_items(item_factors, item_idx, n=10, metric="cosine") -> np.ndarray:
    """The ``n`` items most similar to each of ``item_idx`` (the item itself excluded).

    Parameters
    ----------
    item_factors : (n_items, k)
    item_idx : int or array-like of shape (m,)
        Item indices in ``0..n_items-1`` (``ids_.item_index(item_ids)``).
    n : int
    metric : {"cosine", "dot"}
        ``cosine`` compares directions only; ``dot`` also rewards long vectors.

    Returns
    -------
    numpy.ndarray of int, shape (m, n)
    """
    Q = np.asarray(item_factors, dtype=float)
    if Q.ndim != 2:
        raise ValueError(f"item_factors must be a 2-D (n_items, k) matrix, got shape {Q.shape}")
    idx = check_indices("item_idx", item_idx, len(Q))
    if metric == "cosine":
        norms = np.linalg.norm(Q, axis=1)
        Q = Q / np.where(norms > 0, norms, 1.0)[:, None]
    elif metric != "dot":
        raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}")
    scores = Q[idx] @ Q.T  # (m, n_items)
    self_mask = sp.csr_matrix((np.ones(len(idx)), (np.arange(len(idx)), idx)), shape=scores.shape)
    return top_n(scores, exclude=self_mask, n=n)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------
def _hits(recommended, relevant, k):
    """Validate inputs; return hits (n_users, k) bool and relevant counts (n_users,)."""
    k = _check_k(k)
    rec = np.asarray(recommended)
    if rec.ndim != 2 or not np.issubdtype(rec.dtype, np.integer):
        raise ValueError("recommended must be a 2-D integer array of item indices (n_users, n), as from top_n")
    if k > rec.shape[1]:
        raise ValueError(f"k={k} but recommended holds only {rec.shape[1]} items per user: "
                         f"ask top_n for n >= {k}")
    rel = sp.csr_matrix(relevant)
    if rel.shape[0] != rec.shape[0]:
        raise ValueError(f"recommended has {rec.shape[0]} users but relevant has {rel.shape[0]}: "
                         "pass one row per user in both, in the same order")
    n_items = rel.shape[1]
    rec = rec[:, :k]
    if rec.size and (rec.min() < -1 or rec.max() >= n_items):
        raise ValueError(f"recommended holds item indices outside 0..{n_items - 1} (or the -1 filler): "
                         "use the same item indexing as relevant")
    srt = np.sort(rec, axis=1)
    if ((srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] >= 0)).any():
        raise ValueError("recommended repeats an item within one user's list: recommend each item once")
    rel.eliminate_zeros()
    rel.sort_indices()
    counts = np.diff(rel.indptr)  # (n_users,)
    keys = np.repeat(np.arange(rel.shape[0], dtype=np.int64), counts) * n_items + rel.indices  # sorted
    rec_keys = np.arange(rec.shape[0], dtype=np.int64)[:, None] * n_items + rec  # (n_users, k)
    if len(keys) == 0:
        return np.zeros(rec.shape, dtype=bool), counts
    pos = np.minimum(np.searchsorted(keys, rec_keys), len(keys) - 1)
    hits = (rec >= 0) & (keys[pos] == rec_keys)  # -1 fillers would alias the previous user's last item
    return hits, counts


def _average(per_user, counts, per_user_out):
    if per_user_out:
        return np.where(counts > 0, per_user, np.nan)
    if not (counts > 0).any():
        raise ValueError("no user has a relevant item: lower the relevance threshold or check the test set")
    return float(per_user[counts > 0].mean())


def precision_at_k(recommended, relevant, k=10, per_user=False):
    """Share of the top ``k`` that is relevant, averaged over users with a relevant item.

    Parameters
    ----------
    recommended : int array (n_users, n >= k), item indices best first (-1 = empty slot)
    relevant : scipy.sparse matrix or bool array (n_users, n_items); non-zero = relevant
    k : int
    per_user : bool
        Return the (n_users,) values (NaN for users without relevant items).
    """
    hits, counts = _hits(recommended, relevant, k)
    return _average(hits.sum(axis=1) / k, counts, per_user)


def recall_at_k(recommended, relevant, k=10, per_user=False):
    """Share of each user's relevant items found in the top ``k`` (see :func:`precision_at_k`)."""
    hits, counts = _hits(recommended, relevant, k)
    return _average(hits.sum(axis=1) / np.maximum(counts, 1), counts, per_user)


def hit_rate_at_k(recommended, relevant, k=10, per_user=False):
    """Share of users with at least one relevant item in the top ``k``."""
    hits, counts = _hits(recommended, relevant, k)
    return _average(hits.any(axis=1).astype(float), counts, per_user)


def ndcg_at_k(recommended, relevant, k=10, per_user=False):
    """Normalized discounted cumulative gain with binary relevance (module docstring)."""
    hits, counts = _hits(recommended, relevant, k)
    discount = 1.0 / np.log2(np.arange(2, k + 2))  # (k,), rank j -> 1/log2(j+1)
    dcg = hits @ discount
    ideal = np.cumsum(discount)[np.clip(counts, 1, k) - 1]
    return _average(dcg / ideal, counts, per_user)


def map_at_k(recommended, relevant, k=10, per_user=False):
    """Mean average precision at ``k``: AP@k = sum_j precision@j * hit_j / min(k, R)."""
    hits, counts = _hits(recommended, relevant, k)
    prec_at_j = np.cumsum(hits, axis=1) / np.arange(1, k + 1)  # (n_users, k)
    ap = (prec_at_j * hits).sum(axis=1) / np.clip(counts, 1, k)
    return _average(ap, counts, per_user)


def catalogue_coverage(recommended, n_items, k=None) -> float:
    """Share of the ``n_items`` catalogue that appears in at least one top-``k`` list."""
    rec = np.asarray(recommended)
    if rec.ndim != 2:
        raise ValueError("recommended must be a 2-D array of item indices (n_users, n), as from top_n")
    n_items = _check_k(n_items, "n_items")
    if k is not None:
        k = _check_k(k)
        if k > rec.shape[1]:
            raise ValueError(f"k={k} but recommended holds only {rec.shape[1]} items per user")
        rec = rec[:, :k]
    if rec.size and rec.max() >= n_items:
        raise ValueError(f"recommended holds item index {rec.max()} but n_items is {n_items}")
    check_indices("recommended", rec, n_items, padding=True)
    return float(np.unique(rec[rec >= 0]).size / n_items)


def ranking_metrics(recommended, relevant, k=10) -> dict:
    """All the metrics of this module at cut-off ``k``, as a dict."""
    n_items = sp.csr_matrix(relevant).shape[1]
    return {
        f"precision@{k}": precision_at_k(recommended, relevant, k),
        f"recall@{k}": recall_at_k(recommended, relevant, k),
        f"ndcg@{k}": ndcg_at_k(recommended, relevant, k),
        f"map@{k}": map_at_k(recommended, relevant, k),
        f"hit_rate@{k}": hit_rate_at_k(recommended, relevant, k),
        f"coverage@{k}": catalogue_coverage(recommended, n_items, k),
    }


# ---------------------------------------------------------------------------
# from a score matrix (``model.score_matrix(users)``) to metrics
# ---------------------------------------------------------------------------
def evaluate_scores(scores, train, test, ids, k=10, threshold=RELEVANCE_THRESHOLD, users=None) -> dict:
    """Ranking metrics of a score matrix: recommend top-``k`` unseen items, compare with ``test``.

    Parameters
    ----------
    scores : (n_users, n_items), or (len(users), n_items) when ``users`` is given
    train : pandas.DataFrame
        Its (user, item) pairs are excluded from the lists.
    test : pandas.DataFrame
        Held-out ratings; relevant = ``rating >= threshold``. Pairs whose
        user or item is unknown to ``ids`` cannot be recommended and are dropped.
    ids : :class:`~recsys_utils.encoding.IdMap` that indexes the rows and columns
    k : int
    threshold : float
    users : int array, optional
        Evaluate only these user indices (rows of ``scores``, in this order).

    Returns
    -------
    dict of metric name -> float (see :func:`ranking_metrics`), plus ``n_eval_users``
    """
    users = check_user_rows(users, ids.n_users)
    expected = (len(users), ids.n_items)
    if np.shape(scores) != expected:
        raise ValueError(f"scores have shape {np.shape(scores)} but the users and ids give {expected}: "
                         "score every item for every evaluated user")
    exclude = interaction_matrix(train, ids)[users]
    relevant = interaction_matrix(test, ids, min_rating=threshold)[users]
    out = ranking_metrics(top_n(scores, exclude=exclude, n=k), relevant, k)
    out["n_eval_users"] = int((np.diff(relevant.indptr) > 0).sum())
    return out
