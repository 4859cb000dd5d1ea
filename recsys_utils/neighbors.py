"""Item-to-item top-N recommenders on the 0/1 "who watched what" matrix: ItemKNN and EASE.

Both learn an (n_items, n_items) matrix ``S`` of item-to-item weights from the
user x item 0/1 matrix ``X`` (:func:`~recsys_utils.ranking.interaction_matrix`)
and score a user by adding up the rows of the items they have::

    scores = X[users] @ S          # (n_users, n_items) = (n_users, n_items) @ (n_items, n_items)

* :class:`ItemKNN`: ``S`` is the cosine similarity of the item columns of
  ``X`` (the similarity the course's source article uses for vectors), each
  item keeping only its ``n_neighbors`` most similar items.
* :class:`EASE`: ``S`` is *learned*: the ridge regression that predicts each
  item column from all the other ones (Steck, WWW 2019, "Embarrassingly
  Shallow Autoencoders for Sparse Data"), in closed form.

Memory: a dense (n_items, n_items) matrix takes ``8 n_items^2`` bytes in
float64 and half that in float32: 0.64 GB for ml-latest-small's 9,000 movies,
7.2 GB for 30,000 items, 80 GB for 100,000. EASE always holds one; ItemKNN
keeps a sparse matrix with at most ``n_items * n_neighbors`` entries (with
``n_neighbors=None``, every pair of items that shares a user: a quarter of all
pairs on ml-latest-small).

Like :class:`~recsys_utils.implicit.ImplicitALS`, ``fit`` takes ``user_id,
item_id`` pairs (a ``rating`` column is ignored, duplicates count once), and
the users and items are those of the training pairs (``ids_``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.linalg as sl
import scipy.sparse as sp
from scipy.linalg import lapack

from .base import NotFittedError, check_user_rows
from .checks import check_choice, check_int, check_interactions, check_number
from .encoding import IdMap
from .ranking import interaction_matrix

__all__ = ["ItemKNN", "EASE", "cosine_similarity", "keep_top_k", "ease_weights"]

_BLOCK = 1024  # rows handled at once in the blocked loops (keeps temporaries at _BLOCK x n_items)


# ---------------------------------------------------------------------------
# ItemKNN
# ---------------------------------------------------------------------------
def cosine_similarity(X, shrinkage=0.0) -> sp.csr_matrix:
    """Item-item cosine ``S_ij = x_i . x_j / (||x_i|| ||x_j|| + shrinkage)``, zero diagonal.

    ``x_i`` is column ``i`` of ``X``. The shrinkage pulls similarities that rest
    on few common users towards 0.

    Parameters
    ----------
    X : scipy.sparse matrix of shape (n_users, n_items)
    shrinkage : float >= 0

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n_items, n_items), non-zero where two items share a user
    """
    C = sp.csr_matrix(X.T @ X)  # (n_items, n_items) co-occurrence counts x_i . x_j
    norms = np.sqrt(C.diagonal())  # (n_items,) ||x_i||
    C = sp.csr_matrix(C - sp.diags(C.diagonal()))  # zero diagonal: an item is not its own neighbour
    C.eliminate_zeros()
    rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))  # row index of every stored entry
    C.data = C.data / (norms[rows] * norms[C.indices] + shrinkage)
    return C


def keep_top_k(S, k) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of every row of ``S`` (fewer where a row has fewer non-zeros).

    Ties at the cut-off are broken arbitrarily (but the same way on every run).

    Parameters
    ----------
    S : scipy.sparse matrix of shape (n, m), non-negative
    k : int >= 1

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, m)
    """
    S = sp.csr_matrix(S)
    n, m = S.shape
    if k >= m:
        return S.copy()
    blocks = []
    for start in range(0, n, _BLOCK):
        dense = S[start:start + _BLOCK].toarray()  # (b, m)
        top = np.argpartition(dense, m - k, axis=1)[:, m - k:]  # (b, k), unordered
        vals = np.take_along_axis(dense, top, axis=1)
        indptr = np.arange(0, top.size + 1, k)
        blocks.append(sp.csr_matrix((vals.ravel(), top.ravel(), indptr), shape=dense.shape))
    out = sp.csr_matrix(sp.vstack(blocks))
    out.eliminate_zeros()  # rows with fewer than k neighbours picked some zeros
    out.sort_indices()
    return out


# ---------------------------------------------------------------------------
# EASE
# ---------------------------------------------------------------------------
def _mirror_upper(a):
    """Copy the upper triangle of the square array ``a`` onto its lower one, in place; returns ``a``.

    LAPACK's ``potri`` fills only one triangle of the inverse. Done in row blocks,
    so the temporaries stay small.
    """
    n = len(a)
    for r0 in range(0, n, _BLOCK):
        r1 = min(r0 + _BLOCK, n)
        a[r0:r1, :r0] = a[:r0, r0:r1].T  # left of the diagonal block: all below the diagonal
        d = a[r0:r1, r0:r1]
        d[...] = np.triu(d) + np.triu(d, 1).T
    return a


def _inverse_cholesky(X, reg, dtype):
    """``(X^T X + reg I)^{-1}`` by Cholesky (LAPACK ``potrf`` then ``potri``), (n_items, n_items)."""
    G = sp.csr_matrix(X.T @ X).astype(dtype).toarray()  # (n_items, n_items) Gram matrix
    G[np.diag_indices_from(G)] += reg
    G = G.T  # the same symmetric matrix, in the column-major order LAPACK works in (no copy)
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (G,))
    U, info = potrf(G, lower=False, overwrite_a=True, clean=False)  # G = U^T U, U upper, written into G
    if info == 0:
        U, info = potri(U, lower=False, overwrite_c=True)  # upper triangle of G^{-1}
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky inversion failed (LAPACK info={info}): X^T X + reg I is not "
                                    "numerically positive definite; increase reg")
    return _mirror_upper(U)


def _inverse_woodbury(X, reg, dtype):
    """``(X^T X + reg I)^{-1} = (I - X^T (X X^T + reg I)^{-1} X) / reg`` (Woodbury identity), (n_items, n_items).

    Only an (n_users, n_users) system is factored: cheaper when users are fewer than items.
    """
    X = sp.csr_matrix(X, dtype=dtype)
    K = (X @ X.T).toarray()  # (n_users, n_users)
    K[np.diag_indices_from(K)] += reg
    Y = sl.cho_solve(sl.cho_factor(K, check_finite=False), X.toarray(), check_finite=False)  # (n_users, n_items)
    P = np.asarray(X.T @ Y)  # (n_items, n_items), X^T K^{-1} X
    P *= -1.0 / reg
    P[np.diag_indices_from(P)] += 1.0 / reg
    return P


def ease_weights(X, reg, dtype="float64", solver="auto") -> np.ndarray:
    """EASE's item-item weights ``B = I - P diag(1 / diag P)``, ``P = (X^T X + reg I)^{-1}``.

    Parameters
    ----------
    X : scipy.sparse matrix of shape (n_users, n_items)
    reg : float > 0
    dtype : {"float64", "float32"}
    solver : {"auto", "cholesky", "woodbury"}
        How to invert: Cholesky of the (n_items, n_items) Gram matrix, or the
        Woodbury identity through an (n_users, n_users) system (same ``B``);
        ``"auto"`` takes Woodbury when there are fewer users than items.

    Returns
    -------
    numpy.ndarray of shape (n_items, n_items), zero diagonal
    """
    if solver == "auto":
        solver = "woodbury" if X.shape[0] < X.shape[1] else "cholesky"
    invert = _inverse_cholesky if solver == "cholesky" else _inverse_woodbury
    P = invert(X, reg, dtype)
    B = P  # in place: B_ij = -P_ij / P_jj off the diagonal, 0 on it
    B /= -P.diagonal().copy()[None, :]
    B[np.diag_indices_from(B)] = 0.0
    return B


# ---------------------------------------------------------------------------
# the two models
# ---------------------------------------------------------------------------
class _ItemToItem:
    """Shared by :class:`ItemKNN` and :class:`EASE`: pairs -> ``X``, ``scores = X[users] @ weights_``."""

    def _check_params(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _item_weights(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, interactions: pd.DataFrame):
        """Fit on a table of ``user_id, item_id`` pairs (every row counts as a 1); returns ``self``.

        A ``rating`` column, if present, is ignored. Duplicate pairs count once.
        """
        self._check_params()
        pairs = check_interactions(interactions)
        self.ids_ = IdMap.from_ratings(pairs)
        self.user_items_ = interaction_matrix(pairs, self.ids_)  # (n_users, n_items) 0/1
        self.weights_ = self._item_weights(self.user_items_)  # (n_items, n_items)
        return self

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(interactions) first")

    def score_matrix(self, users=None) -> np.ndarray:
        """Scores ``X[users] @ weights_`` of ``users`` (indices; default all) for every item.

        Returns
        -------
        numpy.ndarray of shape (len(users), n_items)
        """
        self._check_fitted()
        X = self.user_items_[check_user_rows(users, self.ids_.n_users)]  # (len(users), n_items) sparse
        scores = X @ self.weights_
        return scores.toarray() if sp.issparse(scores) else np.asarray(scores)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


class ItemKNN(_ItemToItem):
    """Item-based nearest neighbours with cosine similarity (Sarwar et al. 2001; Deshpande & Karypis 2004).

    ``S_ij = x_i . x_j / (||x_i|| ||x_j|| + shrinkage)`` for the item columns
    ``x_i`` of the 0/1 matrix ``X``, with ``S_ii = 0``; each row ``i`` keeps
    only its ``n_neighbors`` largest entries (the items most similar to ``i``),
    and ``score(u, j) = sum_{i in items of u} S_ij``: every item a user has
    votes for its neighbours.

    Parameters
    ----------
    n_neighbors : int >= 1 or None
        Neighbours kept per item; ``None`` keeps all.
    shrinkage : float >= 0
        Added to the denominator: similarities resting on few common users shrink.

    Attributes
    ----------
    weights_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
        The pruned similarity ``S``, at most ``n_items * n_neighbors`` non-zeros.
    user_items_ : scipy.sparse.csr_matrix of shape (n_users, n_items), the training ``X``
    ids_ : :class:`~recsys_utils.encoding.IdMap`

    Notes
    -----
    Time: the sparse product ``X^T X``, at most ``n_users * max_items_per_user^2``
    multiply-adds, then one pass over it. Memory: ``S`` before pruning holds
    every pair of items with a common user (up to ``n_items^2`` entries, 12
    bytes each), pruned in blocks of rows.
    """

    def __init__(self, n_neighbors=None, shrinkage=0.0):
        self.n_neighbors = n_neighbors
        self.shrinkage = shrinkage

    def _check_params(self):
        if self.n_neighbors is not None:
            check_int("n_neighbors", self.n_neighbors)
        check_number("shrinkage", self.shrinkage)

    def _item_weights(self, X):
        S = cosine_similarity(X, float(self.shrinkage))
        return S if self.n_neighbors is None else keep_top_k(S, int(self.n_neighbors))


class EASE(_ItemToItem):
    """Embarrassingly Shallow AutoEncoder (Steck, WWW 2019): a closed-form item-item ridge regression.

    Learns ``B`` (n_items, n_items) that rebuilds each item column of ``X``
    from the *other* items:

    .. math::

        \\min_B \\lVert X - XB \\rVert_F^2 + \\lambda \\lVert B \\rVert_F^2
        \\quad \\text{s.t.} \\quad \\operatorname{diag}(B) = 0

    Without the constraint ``B = I`` would copy every item onto itself. With a
    Lagrange multiplier ``mu_j`` per constraint, setting the gradient to zero
    gives ``(X^T X + lambda I) B = X^T X - diag(mu)``, so with ``G = X^T X +
    lambda I`` and ``P = G^{-1}``: ``B = I - P diag(lambda + mu) = I - P
    diag(gamma)``. The constraint ``B_jj = 1 - P_jj gamma_j = 0`` fixes
    ``gamma_j = 1 / P_jj``, hence ``B = I - P diag(1 / diag P)``, i.e.
    ``B_ij = -P_ij / P_jj`` off the diagonal. Scores are ``X B``.

    Parameters
    ----------
    reg : float > 0
        ``lambda``; a few hundred on MovieLens-sized data (chosen on a validation split).
    dtype : {"float64", "float32"}
        Precision of ``G``, ``P`` and ``B`` (float32: half the memory and faster).
    solver : {"auto", "cholesky", "woodbury"}
        ``"auto"`` (default) takes ``"woodbury"`` when there are fewer users than
        items, else ``"cholesky"``. ``"cholesky"`` inverts the (n_items, n_items) ``G`` with LAPACK
        ``potrf`` + ``potri``; ``"woodbury"`` gets the same ``P`` from an
        (n_users, n_users) Cholesky system, much faster when users are fewer
        than items (610 vs 9,000 on ml-latest-small).

    Attributes
    ----------
    weights_ : numpy.ndarray of shape (n_items, n_items), ``B``, zero diagonal
    user_items_ : scipy.sparse.csr_matrix of shape (n_users, n_items), the training ``X``
    ids_ : :class:`~recsys_utils.encoding.IdMap`

    Notes
    -----
    Cost with ``"cholesky"``: ``n_items^3`` flops (``n^3/3`` for the factor,
    ``2 n^3/3`` for the inverse) and one dense ``n_items^2`` array (``G``,
    ``P`` and ``B`` share it): 10-30 s for ml-latest-small's 9,000 items on
    2 cores, 27 times that (minutes) and 7 GB (float64) for 30,000; at about 100,000 items
    ``B`` no longer fits in a single machine's memory (80 GB in float64).
    ``"woodbury"`` costs ``n_users n_items^2`` flops but the same memory.
    """

    def __init__(self, reg=300.0, dtype="float64", solver="auto"):
        self.reg = reg
        self.dtype = dtype
        self.solver = solver

    def _check_params(self):
        check_number("reg", self.reg, strict=True)
        check_choice("dtype", self.dtype, ("float64", "float32"))
        check_choice("solver", self.solver, ("auto", "cholesky", "woodbury"))

    def _item_weights(self, X):
        return ease_weights(X, float(self.reg), self.dtype, self.solver)
