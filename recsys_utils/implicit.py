"""Implicit feedback: matrix factorization of the 0/1 "did the user watch it" matrix.

The article's first matrix is ``R_ij`` = 1 when user ``i`` watched movie ``j``,
else 0. Every cell is known, but a 0 is weak evidence (maybe the user never
saw the movie), a 1 strong evidence. Weighted ALS (Hu, Koren & Volinsky,
2008, "Collaborative filtering for implicit feedback datasets") fits
``x_u . y_i`` to the preference ``p_ui`` over **all** cells, with a confidence
``c_ui = 1 + alpha * v_ui`` that is large on the observed cells:

.. math::

    L = \\sum_{u,i} c_{ui} (p_{ui} - x_u^\\top y_i)^2
        + \\lambda \\Big(\\sum_u \\lVert x_u\\rVert^2 + \\sum_i \\lVert y_i\\rVert^2\\Big)

With the items fixed, each user's vector is a weighted ridge regression with
the closed form ``(Y^T C_u Y + lambda I) x_u = Y^T C_u p_u``. The trick that
makes it cheap: ``Y^T C_u Y = Y^T Y + Y^T (C_u - I) Y``, where ``Y^T Y`` is
shared by all users and ``C_u - I`` is non-zero only on the user's own items.
:func:`fold_in_user` is that one step for a single (new) user.

Two solvers
-----------
``solver="exact"`` (the default) forms every ``A_u = Y^T Y + Y^T (C_u - I) Y +
lambda I`` in padded blocks (:func:`~recsys_utils.mf.group_by_index`) and solves
it: ``O(nnz k^2 + n k^3)`` per half-sweep, where the ``n`` small factorizations
dominate when most entities have few ratings (ml-latest-small's movies: median 2).

``solver="cg"`` runs ``cg_steps`` conjugate-gradient steps on the same systems,
warm-started from the previous sweep's vectors (Takacs, Pilaszy & Tikk, RecSys
2011, "Applications of the conjugate gradient method for implicit feedback
collaborative filtering"; the ``implicit`` library's default). CG never needs
``A_u`` itself, only products ``A_u v``, and those are sparse products for all
users at once. With ``G = Y^T Y + lambda I`` (one ``k x k`` matrix) and ``w_ui =
c_ui - 1`` (non-zero only on observed pairs):

.. math::

    b_u = Y^\\top C_u p_u = \\sum_{i \\in N(u)} (1 + w_{ui})\\, y_i, \\qquad
    A_u v_u = G v_u + \\sum_{i \\in N(u)} w_{ui} (y_i^\\top v_u)\\, y_i

so, stacking the users' ``v_u`` as rows of ``V`` (n_users, k),
``A V = V G + S Y`` where ``S`` is the sparse (n_users, n_items) matrix with
``S_ui = w_ui (y_i . v_u)`` on the observed pairs: one dot product per
observed pair, then one sparse-times-dense product, ``O(nnz k + n k^2)`` per
CG step instead of ``O(nnz k^2 + n k^3)``. Each step (``r = b - A x``,
``d = r`` at the start) is::

    q = A d;  a = r.r / d.q;  x += a d;  r -= a q;  d = r + (r_new.r_new / r.r) d

with its own scalars per user. ``A_u`` is symmetric positive definite
(``lambda > 0``), so every CG step lowers ``x^T A_u x / 2 - b_u^T x`` (``L`` with
the other side fixed, up to a constant): the loss never increases. ``k`` steps
would reach the exact solution; from the previous sweep's vectors 3 give the
same ranking quality (``benchmarks/bench_implicit.py``); ``dtype="float32"``
halves the memory traffic.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._grouping import group_by_index
from .base import NotFittedError, check_user_rows
from .checks import check_choice, check_int, check_interactions, check_number
from .encoding import IdMap

__all__ = ["ImplicitALS", "fold_in_user", "implicit_loss"]

SOLVERS = ("exact", "cg")
DTYPES = ("float64", "float32")


def _weighted_ridge_step(idx_self, idx_other, weight, other_factors, n_self, reg, groups):
    """Solve every entity's ``(G + sum_o w_o y_o y_o^T + reg I) x = sum_o (1 + w_o) y_o``.

    ``G = Y^T Y`` over all of the other side; ``w = c - 1`` on the observed
    pairs. Entities without observations get the zero vector (the exact
    solution for them). Returns (n_self, k).
    """
    Y = np.asarray(other_factors, dtype=float)
    k = Y.shape[1]
    G = Y.T @ Y + reg * np.eye(k)  # (k, k)
    F = np.vstack([Y, np.zeros((1, k))])  # padding position -> zero row
    other_all = np.r_[idx_other, len(Y)]
    w_all = np.r_[weight, 0.0]
    out = np.zeros((n_self, k))
    for ents, pos in groups:
        X = F[other_all[pos]]  # (B, L, k)
        w = w_all[pos]  # (B, L)
        A = G + np.matmul(X.transpose(0, 2, 1), X * w[..., None])  # (B, k, k)
        rhs = np.einsum("blk,bl->bk", X, 1.0 + w)  # (B, k); padding rows are zero
        out[ents] = np.linalg.solve(A, rhs[..., None])[..., 0]
    return out


class _Observed:
    """One side's observed pairs, grouped by row (CSR order): the sparse structure of every CG product.

    ``rows`` index the side being solved (n_rows of them), ``cols`` the fixed
    other side; ``weight`` is ``w = c - 1``, in ``dtype``. Dot products run over
    chunks of pairs whose gathered rows fit in a core's cache (``chunk_bytes``
    each): gathering all ``nnz x k`` at once was twice as slow on a busy machine.
    """

    def __init__(self, rows, cols, weight, n_rows, n_cols, dtype, k, chunk_bytes=1 << 18):
        order = np.argsort(rows, kind="stable")
        self.rows, self.cols = np.asarray(rows)[order], np.asarray(cols)[order]  # (nnz,) each
        self.weight = np.asarray(weight, dtype=dtype)[order]  # (nnz,)
        indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))]
        self._matrix = sp.csr_matrix((self.weight.copy(), self.cols, indptr), shape=(n_rows, n_cols))
        self._chunk = max(64, chunk_bytes // (k * np.dtype(dtype).itemsize))
        self._bufs = np.empty((2, self._chunk, k), dtype)

    def dots(self, V, other):
        """``v_r . o_c`` for every observed pair ``(r, c)``, (nnz,): ``V`` (n_rows, k), ``other`` (n_cols, k)."""
        out = np.empty(len(self.rows), V.dtype)
        A, B = self._bufs
        for lo in range(0, len(out), self._chunk):
            hi = min(lo + self._chunk, len(out))
            a, b = A[: hi - lo], B[: hi - lo]
            np.take(V, self.rows[lo:hi], axis=0, out=a, mode="clip")  # mode="clip": no buffered copy
            np.take(other, self.cols[lo:hi], axis=0, out=b, mode="clip")
            np.einsum("nk,nk->n", a, b, out=out[lo:hi])
        return out

    def times(self, values, other):
        """The sparse (n_rows, n_cols) matrix holding ``values`` on the observed pairs, times ``other``."""
        self._matrix.data = values
        return self._matrix @ other


def _cg_ridge_step(obs, X, Y, reg, steps):
    """``steps`` CG steps on every row's ``(G + Y^T W_r Y) x = Y^T (1 + w)``, from ``X`` (warm start).

    ``G = Y^T Y + reg I``; the products with ``A`` are sparse (module docstring).
    Returns the new (n_rows, k) vectors.
    """
    k = Y.shape[1]
    G = Y.T @ Y + reg * np.eye(k, dtype=Y.dtype)  # (k, k)
    w = obs.weight
    X = X.copy()
    r = obs.times(1.0 + w - w * obs.dots(X, Y), Y) - X @ G  # b - A x, (n_rows, k)
    d = r.copy()
    rr = np.einsum("nk,nk->n", r, r)  # (n_rows,)
    for _ in range(steps):
        q = d @ G + obs.times(w * obs.dots(d, Y), Y)  # A d
        dq = np.einsum("nk,nk->n", d, q)
        a = np.divide(rr, dq, out=np.zeros_like(rr), where=dq > 0)[:, None]
        X += a * d
        r -= a * q
        rr_new = np.einsum("nk,nk->n", r, r)
        beta = np.divide(rr_new, rr, out=np.zeros_like(rr), where=rr > 0)[:, None]
        d *= beta
        d += r
        rr = rr_new
    return X


def _loss_from_dots(s, weight, X, Y, reg):
    """:func:`implicit_loss` from the observed pairs' dot products ``s`` (in any pair order), summed in float64."""
    gram = (X.T @ X).astype(float) * (Y.T @ Y).astype(float)  # (k, k)
    observed = (1.0 + weight) * (1.0 - s) ** 2 - s**2  # (nnz,), in the factors' dtype
    return float(gram.sum() + observed.sum(dtype=float) + reg * (np.vdot(X, X) + np.vdot(Y, Y)))


def _fit_cg(u, i, w, X, Y, reg, n_epochs, steps):
    """The CG sweeps of :meth:`ImplicitALS.fit` from the initial ``X``, ``Y``; returns ``X, Y, losses``."""
    (nu, k), ni = X.shape, len(Y)
    users = _Observed(u, i, w, nu, ni, X.dtype, k)
    items = _Observed(i, u, w, ni, nu, X.dtype, k)
    losses = []
    for _ in range(n_epochs):
        X = _cg_ridge_step(users, X, Y, reg, steps)
        Y = _cg_ridge_step(items, Y, X, reg, steps)
        losses.append(_loss_from_dots(users.dots(X, Y), users.weight, X, Y, reg))
    return X, Y, losses


def fold_in_user(item_factors, item_idx, values=None, *, reg=0.1, alpha=10.0):
    """A new user's vector with the item vectors fixed: one weighted-ALS step.

    Solves ``(Y^T C Y + reg I) x = Y^T C p``, where ``p`` is 1 on ``item_idx``
    and 0 elsewhere, and ``C`` is ``1 + alpha * values`` on ``item_idx`` and 1
    elsewhere: the weighted ridge regression that :class:`ImplicitALS` solves
    for every known user.

    Parameters
    ----------
    item_factors : (n_items, k)
    item_idx : int array of shape (m,), the items the user interacted with
    values : (m,) non-negative strengths, default all 1
    reg, alpha : float, as in :class:`ImplicitALS`

    Returns
    -------
    numpy.ndarray of shape (k,)
    """
    Y = np.asarray(item_factors, dtype=float)
    idx = np.asarray(item_idx).ravel()
    if idx.size == 0:
        raise ValueError("item_idx is empty: the new user must have interacted with at least one item")
    if not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= len(Y):
        raise ValueError(f"item_idx must hold item indices in 0..{len(Y) - 1} (map ids with IdMap.item_index)")
    if len(np.unique(idx)) != idx.size:
        raise ValueError("item_idx repeats an item: pass each item once (sum their values instead)")
    v = np.ones(idx.size) if values is None else np.asarray(values, dtype=float).ravel()
    if v.size != idx.size:
        raise ValueError(f"got {idx.size} items but {v.size} values: pass one value per item")
    if (v < 0).any():
        raise ValueError("values must be non-negative interaction strengths")
    check_number("reg", reg)
    check_number("alpha", alpha)
    groups = [(np.array([0]), np.arange(idx.size)[None, :])]
    return _weighted_ridge_step(np.zeros(idx.size, int), idx, alpha * v, Y, 1, float(reg), groups)[0]


def implicit_loss(u, i, weight, X, Y, reg):
    """The weighted-ALS loss ``L`` (module docstring) without building the dense matrix.

    ``sum_all c (p - s)^2 = sum_all s^2 + sum_obs [c (1 - s)^2 - s^2]`` with
    ``s = x_u . y_i``, and ``sum_all s^2 = sum((X^T X) * (Y^T Y))``.

    Parameters
    ----------
    u, i : int arrays (n,), the observed pairs
    weight : (n,) ``alpha * v`` (so ``c = 1 + weight``)
    X : (n_users, k), Y : (n_items, k), reg : float
    """
    s = np.einsum("nk,nk->n", X[u], Y[i])
    total = np.sum((X.T @ X) * (Y.T @ Y)) + np.sum((1.0 + weight) * (1.0 - s) ** 2 - s**2)
    return float(total + reg * (np.sum(X**2) + np.sum(Y**2)))


class ImplicitALS:
    """Weighted ALS on implicit 0/1 feedback (Hu, Koren & Volinsky 2008).

    Parameters
    ----------
    n_factors : int
        Dimension ``k`` of the vectors.
    reg : float
        L2 penalty ``lambda`` (paid once per vector).
    alpha : float
        Confidence slope: an observed pair weighs ``1 + alpha`` times an unobserved one.
    n_epochs : int
        ALS sweeps (users, then items).
    init_std : float
        Standard deviation of the Gaussian initial vectors.
    random_state : int or None
    solver : {"exact", "cg"}
        ``"exact"`` (default) solves every weighted ridge regression exactly;
        ``"cg"`` takes ``cg_steps`` conjugate-gradient steps from the previous
        sweep's vectors, with sparse products only (module docstring): several
        times faster at the same ranking quality.
    cg_steps : int >= 1
        CG steps per vector and half-sweep (``solver="cg"`` only).
    dtype : {"float64", "float32"}
        Floating type of the factors. ``solver="cg"`` computes in it
        (``"float32"`` is faster again); ``solver="exact"`` solves in float64
        and stores the result in it. The loss is summed in float64.

    Attributes
    ----------
    user_factors_ : (n_users, k) of ``dtype``
    item_factors_ : (n_items, k) of ``dtype``
    ids_ : :class:`~recsys_utils.encoding.IdMap`
    history_ : pandas.DataFrame with columns ``epoch, loss`` (``L`` after each sweep)
    """

    def __init__(self, n_factors=64, reg=5.0, alpha=10.0, n_epochs=10, init_std=0.01, random_state=None, *,
                 solver="exact", cg_steps=3, dtype="float64"):
        self.n_factors = n_factors
        self.reg = reg
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.init_std = init_std
        self.random_state = random_state
        self.solver = solver
        self.cg_steps = cg_steps
        self.dtype = dtype

    def fit(self, interactions: pd.DataFrame):
        """Fit on a table of ``user_id, item_id`` pairs (every row counts as a 1); returns ``self``.

        A ``rating`` column, if present, is ignored: here a rating only says
        "watched". Duplicate pairs count once.
        """
        check_int("n_factors", self.n_factors)
        check_int("n_epochs", self.n_epochs)
        check_number("reg", self.reg, strict=True)
        check_number("alpha", self.alpha)
        check_number("init_std", self.init_std)
        check_choice("solver", self.solver, SOLVERS)
        check_int("cg_steps", self.cg_steps)
        named = isinstance(self.dtype, (str, type, np.dtype))  # "float32", np.float32 or np.dtype("float32")
        dtype = next((n for n in DTYPES if named and np.dtype(n) == self.dtype), self.dtype)
        check_choice("dtype", dtype, DTYPES)
        pairs = check_interactions(interactions)
        self.ids_ = IdMap.from_ratings(pairs)
        u, i = self.ids_.user_index(pairs["user_id"]), self.ids_.item_index(pairs["item_id"])
        nu, ni, k = self.ids_.n_users, self.ids_.n_items, int(self.n_factors)
        rng = np.random.default_rng(self.random_state)
        X = rng.normal(0.0, self.init_std, (nu, k))
        Y = rng.normal(0.0, self.init_std, (ni, k))
        w = np.full(len(u), float(self.alpha))
        reg = float(self.reg)
        if self.solver == "cg":
            X, Y, losses = _fit_cg(u, i, w, X.astype(dtype), Y.astype(dtype), reg, int(self.n_epochs),
                                   int(self.cg_steps))
        else:
            groups_u, groups_i = group_by_index(u, nu), group_by_index(i, ni)
            losses = []
            for _ in range(int(self.n_epochs)):
                X = _weighted_ridge_step(u, i, w, Y, nu, reg, groups_u)
                Y = _weighted_ridge_step(i, u, w, X, ni, reg, groups_i)
                losses.append(implicit_loss(u, i, w, X, Y, reg))
            X, Y = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
        self.user_factors_, self.item_factors_ = X, Y
        self.history_ = pd.DataFrame({"epoch": np.arange(1, len(losses) + 1), "loss": losses})
        return self

    def _check_fitted(self):
        if not hasattr(self, "item_factors_"):
            raise NotFittedError("this ImplicitALS is not fitted yet: call fit(interactions) first")

    def score_matrix(self, users=None) -> np.ndarray:
        """Scores ``x_u . y_i`` of ``users`` (indices; default all) for every item, (len(users), n_items)."""
        self._check_fitted()
        X = self.user_factors_ if users is None else self.user_factors_[check_user_rows(users, len(self.user_factors_))]
        return X @ self.item_factors_.T

    def fold_in_user(self, item_ids, values=None) -> np.ndarray:
        """Vector (k,) of a new user who interacted with ``item_ids`` (original ids; unknown ones are dropped)."""
        self._check_fitted()
        idx = self.ids_.item_index(item_ids)
        v = None if values is None else np.asarray(values, dtype=float).ravel()
        if v is not None and v.size != idx.size:
            raise ValueError(f"got {idx.size} item ids but {v.size} values: pass one value per item")
        keep = idx >= 0
        if not keep.any():
            raise ValueError("none of item_ids was seen in fit: the model knows nothing about them")
        return fold_in_user(self.item_factors_, idx[keep], None if v is None else v[keep],
                            reg=self.reg, alpha=self.alpha)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"ImplicitALS({params})"
