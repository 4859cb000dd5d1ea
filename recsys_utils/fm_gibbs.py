"""The Gibbs machinery of :class:`recsys_utils.fm.BayesianFM`: the sampler's state and its conditionals.

The model and the algebra of each conditional are in :mod:`recsys_utils.fm`'s docstring. Here:
:class:`GibbsState` (the four groups' rows, ``w0``, ``alpha``, the set sums, one method per conditional),
:func:`sample_implicit_group` (an implicit group, colour by colour), :func:`color_members` and
:class:`ColorPlan` (which members may be drawn together), :func:`owner_stats` (the per-owner sums).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from ._grouping import group_by_index
from .bayes import sample_factors, sample_normal_wishart

__all__ = ["GibbsState", "sample_implicit_group", "color_members", "ColorPlan", "owner_stats", "side_terms",
           "W0_PRECISION"]

W0_PRECISION = 1.0  # prior N(0, 1) of the global bias w0 (on ratings centred at the training mean)


def color_members(sets):
    """Greedy colouring of the members (columns) of ``sets`` so that no owner (row) holds two of one colour.

    Members are taken by decreasing number of owners and each gets the smallest colour none of its owners
    has used yet (Welsh-Powell). Members of one colour never appear in the same rating's features, so their
    Gibbs conditionals are independent. At least ``max`` owner-set size colours are needed.

    Parameters
    ----------
    sets : scipy.sparse matrix (n_owners, n_members), e.g. ``user_sets`` (owners = users, members = movies)

    Returns
    -------
    numpy.ndarray (n_members,) of colours ``0..n_colors-1``; -1 for members of no set
    """
    csc = sparse.csc_matrix(sets)
    n_owners, n_members = csc.shape
    degree = np.diff(csc.indptr)
    colors = np.full(n_members, -1)
    used = np.zeros((n_owners, max(1, int(np.diff(sparse.csr_matrix(sets).indptr).max(initial=0)) + 8)), bool)
    for j in np.argsort(-degree, kind="stable"):
        if degree[j] == 0:
            break
        owners = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        free = ~used[owners].any(axis=0)
        if not free.any():
            used = np.hstack([used, np.zeros_like(used)])
            free = ~used[owners].any(axis=0)
        colors[j] = int(np.argmax(free))
        used[owners, colors[j]] = True
    return colors


class ColorPlan:
    """The order of an implicit group's Gibbs pass: colours of members that share no owner, pairs grouped by member.

    Parameters
    ----------
    sets : scipy.sparse matrix (n_owners, n_members), the normalized sets (:func:`implicit_sets`)
    colors : int array (n_members,), optional
        A colour per member (-1: not drawn); default :func:`color_members`. Every colour must be a set of
        members no owner holds two of (checked): only then is drawing them together exact.

    Attributes
    ----------
    steps : list of ``(members, owners, c, c^2, local member of each pair, segment starts)``, one per colour
    members, owners, slices : the steps' members and owners end to end, and each step's two slices of them
    empty : members of no set (drawn from the prior)
    sets_t, sets_t2 : (n_members, n_owners) the transposed sets, with ``c`` and ``c^2``
    """

    def __init__(self, sets, colors=None):
        csc = sparse.csc_matrix(sets)
        csc.sort_indices()
        colors = color_members(csc) if colors is None else np.asarray(colors)
        degree = np.diff(csc.indptr)
        self.sets_t = csc.T.tocsr()
        self.sets_t2 = self.sets_t.multiply(self.sets_t).tocsr()
        self.empty = np.flatnonzero(degree == 0)
        self.steps = []
        for color in range(colors.max(initial=-1) + 1):
            members = np.flatnonzero((colors == color) & (degree > 0))
            if not len(members):
                continue
            pos = np.concatenate([np.arange(csc.indptr[j], csc.indptr[j + 1]) for j in members])
            owners, c = csc.indices[pos], csc.data[pos]
            if len(np.unique(owners)) < len(owners):
                raise ValueError(f"colour {color} holds two members of one owner's set: their conditionals are "
                                 "not independent; pass colours from color_members(sets)")
            self.steps.append((members, owners, c[:, None], c**2, np.repeat(np.arange(len(members)), degree[members]),
                               np.r_[0, np.cumsum(degree[members])[:-1]]))
        # every step's pairs and members, laid end to end: a pass gathers what is fixed during it once
        self.members = np.concatenate([step[0] for step in self.steps]) if self.steps else np.zeros(0, int)
        self.owners = np.concatenate([step[1] for step in self.steps]) if self.steps else np.zeros(0, int)
        ends_m = np.cumsum([len(step[0]) for step in self.steps])
        ends_p = np.cumsum([len(step[1]) for step in self.steps])
        self.slices = [(slice(em - len(st[0]), em), slice(ep - len(st[1]), ep))
                       for st, em, ep in zip(self.steps, ends_m, ends_p)]


def _rowdot(a, b):
    return np.einsum("nk,nk->n", a, b)


def sample_implicit_group(theta, s_full, sq, plan, own, stats, mu, Lam, alpha, rng):
    r"""One Gibbs pass over an implicit group, colour by colour; updates ``theta``, ``s_full``, ``sq`` in place.

    Written for the group "movies rated by the user" (owners = users, members = movies); the mirror group
    passes movies as owners. For member ``j`` (row ``theta_j = [w'_j, y_j]``) and an owner ``u`` holding it
    with coefficient ``c = c_u``, let ``S = s_u - c theta_j`` (the owner's set sum without ``j``, weight
    first), ``g = v_u + S[1:]`` and ``phi = S[0] + v_u . S[1:] + (|S[1:]|^2 - sq^(-j)) / 2`` (``sq^(-j)``: the
    owner's ``c^2 sum |y|^2`` without ``j``). Over the owner's ratings, with ``h = c [1, b_i + g]`` and the
    residual without ``theta_j``, ``e = rho - phi - S[1:] . b_i``::

        sum h h^T = c^2 [[n, (m + n g)^T], [m + n g, B + m g^T + g m^T + n g g^T]]
        sum h e   = c [sum e, sum e b_i + g sum e],   sum e = R1 - n phi - S[1:] . m,
                                                     sum e b_i = Rb - phi m - B S[1:]

    with the owner's statistics ``n``, ``m = sum b_i``, ``B = sum b_i b_i^T``, ``R1 = sum rho``,
    ``Rb = sum rho b_i``. Summed over the member's owners, these give the precision
    ``Lam + alpha sum h h^T`` and the mean's right-hand side ``Lam mu + alpha sum h e``. The parts that do
    not change during the pass (``sum c^2 n``, ``sum c^2 m``, ``sum c^2 B``, ``sum c Rb``) are summed for every
    member at once, by sparse products; ``B S = B s_u - c B theta_j`` uses ``B s_u``, kept up to date.

    Parameters
    ----------
    theta : (n_members, d) rows ``[w, v]``, ``d = k + 1``
    s_full : (n_owners, d) ``sets @ theta``; sq : (n_owners,) ``sets^2 @ |theta[:, 1:]|^2``
    plan : :class:`ColorPlan` of the sets
    own : (n_owners, k) the owners' one-hot factors (``v_u``)
    stats : dict with ``n`` (n_owners,), ``m`` (n_owners, k), ``B`` (n_owners, k, k), ``R1`` (n_owners,),
        ``Rb`` (n_owners, k), from the owners' training ratings
    mu : (d,), Lam : (d, d), the group's prior; alpha : float, the noise precision
    rng : numpy.random.Generator
    """
    d = theta.shape[1]
    k = d - 1
    n, m, B, R1, Rb = (stats[key] for key in ("n", "m", "B", "R1", "Rb"))
    Bflat = B.reshape(len(B), k * k)
    cat = np.concatenate
    fixed = cat([plan.sets_t2 @ cat([n[:, None], m, Bflat], 1), plan.sets_t @ Rb], 1)  # per member
    # fixed during the pass, in the steps' order: per pair v | n | R1 | m of the owner and its B, per member
    OW, BO = cat([own, n[:, None], R1[:, None], m], 1)[plan.owners], B[plan.owners]
    FX, TH = fixed[plan.members], theta[plan.members]
    state = cat([s_full, sq[:, None], np.einsum("oab,ob->oa", B, s_full[:, 1:])], 1)  # per owner: s | sq | B s
    prior_rhs = Lam @ mu
    for (members, o, c1, c2, loc, starts), (ms, ps) in zip(plan.steps, plan.slices):
        st, ow, old, fx = state[o], OW[ps], TH[ms].copy(), FX[ms]
        oldp = old[loc]
        S = st[:, :d] - c1 * oldp
        Sv, vo, no, mo = S[:, 1:], ow[:, :k], ow[:, k], ow[:, k + 2:]
        g = vo + Sv
        yy_old = np.einsum("lk,lk->l", oldp[:, 1:], oldp[:, 1:])
        phi = S[:, 0] + np.einsum("lk,lk->l", Sv, vo + 0.5 * Sv) - 0.5 * (st[:, d] - c2 * yy_old)
        se = ow[:, k + 1] - no * phi - np.einsum("lk,lk->l", Sv, mo)
        outer = np.einsum("la,lb->lab", (c2 * no)[:, None] * (0.5 * g) + c2[:, None] * mo, g).reshape(len(o), k * k)
        per_pair = cat([c1 * se[:, None], (c2 * no)[:, None] * g,
                        c1 * (phi[:, None] * mo - g * se[:, None] + st[:, d + 1:]), outer], 1)
        sums = np.add.reduceat(per_pair, starts, axis=0)
        B2 = fx[:, 1 + k:1 + k + k * k].reshape(-1, k, k)
        P = np.empty((len(members), d, d))
        P[:, 0, 0] = fx[:, 0]
        P[:, 0, 1:] = P[:, 1:, 0] = fx[:, 1:1 + k] + sums[:, 1:1 + k]
        Ps = sums[:, 1 + 2 * k:].reshape(-1, k, k)
        P[:, 1:, 1:] = B2 + Ps + Ps.transpose(0, 2, 1)
        rhs = np.empty((len(members), d))
        rhs[:, 0] = sums[:, 0]
        rhs[:, 1:] = fx[:, 1 + k + k * k:] - sums[:, 1 + k:1 + 2 * k] + np.einsum("jab,jb->ja", B2, old[:, 1:])
        A = Lam + alpha * P
        L = np.linalg.cholesky(A)
        # mean A^-1 b plus A^-1 L z: covariance A^-1 L L^T A^-1 = A^-1
        z = rng.standard_normal((len(members), d, 1))
        new = np.linalg.solve(A, (prior_rhs + alpha * rhs)[..., None] + np.matmul(L, z))[..., 0]
        TH[ms] = new
        newp = new[loc]
        dy = c1 * (newp - oldp)
        state[o] += cat([dy, (c2 * (np.einsum("lk,lk->l", newp[:, 1:], newp[:, 1:]) - yy_old))[:, None],
                         np.einsum("lab,lb->la", BO[ps], dy[:, 1:])], 1)
    theta[plan.members] = TH
    if len(plan.empty):
        theta[plan.empty] = mu + np.linalg.solve(np.linalg.cholesky(Lam).T, rng.standard_normal((d, len(plan.empty)))).T
    s_full[:], sq[:] = state[:, :d], state[:, d]
    return theta


class GibbsState:
    """The sampler's state: the four groups' rows, ``w0``, ``alpha``, and the set sums derived from them."""

    def __init__(self, u, i, r, mu, user_sets, item_sets, k, use_user_sets, use_item_sets, init_std, rng):
        nu, ni = user_sets.shape
        self.u, self.i, self.r, self.mu, self.k, self.rng = u, i, r, mu, k, rng
        self.user_sets, self.item_sets = user_sets, item_sets
        self.user_sets_sq = user_sets.multiply(user_sets).tocsr()
        self.item_sets_sq = item_sets.multiply(item_sets).tocsr()
        self.use = {"user_sets": use_user_sets, "item_sets": use_item_sets}
        d = k + 1

        def init(n):
            theta = rng.normal(0.0, init_std, (n, d))
            theta[:, 0] = 0.0
            return theta

        self.theta = {"users": init(nu), "items": init(ni),
                      "user_sets": init(ni) if use_user_sets else np.zeros((ni, d)),
                      "item_sets": init(nu) if use_item_sets else np.zeros((nu, d))}
        self.w0 = 0.0
        self.alpha = 1.0 / max(np.var(r), 1e-12)
        self.incidence = sparse.csr_matrix((np.ones(len(u)), (u, i)), shape=(nu, ni))
        self.incidence_t = self.incidence.T.tocsr()
        self.groups_u, self.groups_i = group_by_index(u, nu), group_by_index(i, ni)
        self.rows = np.arange(len(r))
        self.plans = {name: ColorPlan(sets) for name, sets in (("user_sets", user_sets), ("item_sets", item_sets))
                      if self.use[name]}
        self.refresh()

    # -- derived quantities ---------------------------------------------------------------------------
    def refresh(self):
        """Recompute the set sums from the rows (exact, no drift from the in-place updates)."""
        Y, Z = self.theta["user_sets"], self.theta["item_sets"]
        self.s, self.sq_s = self.user_sets @ Y, self.user_sets_sq @ _rowdot(Y[:, 1:], Y[:, 1:])
        self.t, self.sq_t = self.item_sets @ Z, self.item_sets_sq @ _rowdot(Z[:, 1:], Z[:, 1:])

    def user_side(self):
        return side_terms(self.theta["users"], self.s, self.sq_s)

    def item_side(self):
        return side_terms(self.theta["items"], self.t, self.sq_t)

    def sides(self):
        """``(a, b, B_u, B_i)``: the user and movie vectors and biases of the current sample."""
        (a, bu), (b, bi) = self.user_side(), self.item_side()
        return a, b, bu, bi

    def predict_rows(self):
        a, b, bu, bi = self.sides()
        return self.mu + self.w0 + bu[self.u] + bi[self.i] + _rowdot(a[self.u], b[self.i])

    # -- the conditionals -------------------------------------------------------------------------------
    def draw_hyper(self, name):
        return sample_normal_wishart(self.theta[name], self.rng)

    def draw_w0(self):
        """``w0 | rest ~ N(alpha sum e / p, 1/p)``, ``p = 1 + alpha n``, ``e`` the residuals without ``w0``."""
        e = self.r - (self.predict_rows() - self.w0)
        prec = W0_PRECISION + self.alpha * len(e)
        self.w0 = float(self.alpha * e.sum() / prec + self.rng.standard_normal() / np.sqrt(prec))

    def draw_users(self, mu_g, lam_g):
        """``[w_u, v_u]`` of every user: ``h = [1, b_i + s_u]``, target = rating minus the rest."""
        u, i = self.u, self.i
        _, b, _, bi = self.sides()
        s, sv = self.s, self.s[:, 1:]
        own_sets = s[:, 0] + 0.5 * (_rowdot(sv, sv) - self.sq_s)  # the user's set terms not involving v_u
        target = self.r - self.mu - self.w0 - bi[i] - own_sets[u] - _rowdot(sv[u], b[i])
        H = np.hstack([np.ones((len(u), 1)), b[i] + sv[u]])
        self.theta["users"] = sample_factors(u, self.rows, target, H, len(s), self.alpha, mu_g, lam_g, self.rng,
                                             self.groups_u)

    def draw_items(self, mu_g, lam_g):
        """``[w_i, q_i]`` of every movie: ``h = [1, a_u + t_i]``."""
        u, i = self.u, self.i
        a, _, bu, _ = self.sides()
        t, tv = self.t, self.t[:, 1:]
        own_sets = t[:, 0] + 0.5 * (_rowdot(tv, tv) - self.sq_t)
        target = self.r - self.mu - self.w0 - bu[u] - own_sets[i] - _rowdot(tv[i], a[u])
        H = np.hstack([np.ones((len(u), 1)), a[u] + tv[i]])
        self.theta["items"] = sample_factors(i, self.rows, target, H, len(t), self.alpha, mu_g, lam_g, self.rng,
                                             self.groups_i)

    def draw_user_sets(self, mu_g, lam_g, plan=None):
        """``[w'_j, y_j]`` of every movie as a member of users' sets (:func:`sample_implicit_group`)."""
        U, (b, bi) = self.theta["users"], self.item_side()
        rho = self.r - self.mu - self.w0 - U[self.u, 0] - bi[self.i] - _rowdot(U[self.u, 1:], b[self.i])
        stats = owner_stats(self.u, self.i, self.incidence, b, rho)
        sample_implicit_group(self.theta["user_sets"], self.s, self.sq_s, plan or self.plans["user_sets"], U[:, 1:],
                              stats, mu_g, lam_g, self.alpha, self.rng)
        self.refresh()

    def draw_item_sets(self, mu_g, lam_g, plan=None):
        """``[w''_v, z_v]`` of every user as a member of movies' sets: the mirror image."""
        V, (a, bu) = self.theta["items"], self.user_side()
        rho = self.r - self.mu - self.w0 - V[self.i, 0] - bu[self.u] - _rowdot(V[self.i, 1:], a[self.u])
        stats = owner_stats(self.i, self.u, self.incidence_t, a, rho)
        sample_implicit_group(self.theta["item_sets"], self.t, self.sq_t, plan or self.plans["item_sets"], V[:, 1:],
                              stats, mu_g, lam_g, self.alpha, self.rng)
        self.refresh()

    def sweep(self):
        """One Gibbs sweep over every block, in a fixed order; returns this sample's training predictions."""
        self.draw_w0()
        self.draw_users(*self.draw_hyper("users"))
        self.draw_items(*self.draw_hyper("items"))
        if self.use["user_sets"]:
            self.draw_user_sets(*self.draw_hyper("user_sets"))
        if self.use["item_sets"]:
            self.draw_item_sets(*self.draw_hyper("item_sets"))
        return self.predict_rows()


def side_terms(theta, s, sq):
    """One side's vector ``v + s`` (n, k) and bias ``w + s_w + v . s + (|s|^2 - sq) / 2`` (n,) from its
    one-hot rows ``theta = [w, v]`` and its set sums ``s = sets @ theta_sets``, ``sq = sets^2 @ |y|^2``."""
    sv = s[:, 1:]
    return theta[:, 1:] + sv, theta[:, 0] + s[:, 0] + _rowdot(theta[:, 1:], sv) + 0.5 * (_rowdot(sv, sv) - sq)


def owner_stats(owner_of_row, other_of_row, incidence, other, rho):
    """Per owner, over its training ratings: ``n``, ``m = sum b``, ``B = sum b b^T``, ``R1 = sum rho``,
    ``Rb = sum rho b``, where ``other`` (n_other, k) holds the other side's vectors by entity, ``incidence``
    (n_owners, n_other) is the 0/1 matrix of training ratings and ``rho`` (n,) is given per rating."""
    n_owners, n_other = incidence.shape
    k = other.shape[1]
    E = sparse.csr_matrix((rho, (owner_of_row, np.arange(len(rho)))), shape=(n_owners, len(rho)))
    return {"n": np.asarray(incidence.sum(axis=1)).ravel(),
            "m": incidence @ other,
            "B": (incidence @ np.einsum("na,nb->nab", other, other).reshape(n_other, k * k)).reshape(n_owners, k, k),
            "R1": np.asarray(E.sum(axis=1)).ravel(),
            "Rb": E @ other[other_of_row]}
