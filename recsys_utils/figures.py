"""Figures that explain (issue 14): small diagrams drawn by code, one function per idea.

Every function returns the matplotlib :class:`~matplotlib.figure.Figure` and the values it drew, so a
test can check the numbers and a notebook cell shows the figure by ending with it. Figures are built
with the object-oriented API (no pyplot state, no ``plt.show``), so they work under any backend.
Only matplotlib and NumPy are imported: :func:`model_diagram` takes an already built Keras model.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

__all__ = ["ShownFigure", "fit_block", "factorization_figure", "one_hot_lookup_figure", "model_layers", "model_diagram",
           "dropout_figure", "confidence_figure", "ndcg_figure", "block_counts", "block_partition_figure"]

HIGHLIGHT = "tab:red"


class ShownFigure(Figure):
    """A Figure that IPython shows as a PNG when a cell ends with it (no pyplot, any backend)."""

    def _repr_png_(self):
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def _matrix(ax, M, title, fmt="{:.1f}", row=None, cmap="Blues", vmin=None, vmax=None, fontsize=8):
    """Draw matrix ``M`` as annotated cells (NaN = unknown, grey '?'); outline row ``row`` in red."""
    M = np.atleast_2d(np.asarray(M, dtype=float))
    shown = np.ma.masked_invalid(M)
    im = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, aspect="equal")
    ax.set_facecolor("0.85")
    for (r, c), v in np.ndenumerate(M):
        dark = not np.isnan(v) and np.dot(im.cmap(im.norm(v))[:3], (0.3, 0.59, 0.11)) < 0.5  # luminance
        label = "?" if np.isnan(v) else fmt.format(v)
        label = label[1:] if label.startswith("-") and float(label) == 0 else label  # no "-0.0"
        ax.text(c, r, label, ha="center", va="center", fontsize=fontsize, color="white" if dark else "black")
    if row is not None:
        ax.add_patch(Rectangle((-0.5, row - 0.5), M.shape[1], 1, fill=False, edgecolor=HIGHLIGHT, lw=2.5))
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _between(fig, x, text):
    fig.text(x, 0.5, text, ha="center", va="center", fontsize=18)


# --- notebook 02: R ≈ P·Qᵀ ------------------------------------------------------------------
def fit_block(R, d=2, reg=0.1, n_iter=50, seed=0):
    """Fit ``R ≈ P @ Q.T`` on the known (non-NaN) cells of a small matrix by ALS: (P (m, d), Q (n, d)).

    Each half-step solves one ridge regression per row (or column): ``(Q_o^T Q_o + reg I) p = Q_o^T r_o``
    over that row's known cells ``o``. Seeded: the same call gives the same factors.
    """
    R = np.asarray(R, dtype=float)
    known = ~np.isnan(R)
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.5, (R.shape[0], d)), rng.normal(0, 0.5, (R.shape[1], d))

    def solve(target, mask, other):
        out = np.zeros((target.shape[0], d))
        for r in range(target.shape[0]):
            X, y = other[mask[r]], target[r, mask[r]]
            out[r] = np.linalg.solve(X.T @ X + reg * np.eye(d), X.T @ y)
        return out

    for _ in range(n_iter):
        P = solve(R, known, Q)
        Q = solve(R.T, known.T, P)
    return P, Q


def factorization_figure(R, P, Q, user, row_labels=None, col_labels=None):
    """R (m×n) ≈ P (m×d) · Qᵀ (d×n), with ``user``'s row outlined in R, P and P·Qᵀ.

    Returns ``(fig, R_hat)`` with ``R_hat = P @ Q.T``, the reconstructed matrix drawn on the right.
    """
    R, P, Q = (np.asarray(a, dtype=float) for a in (R, P, Q))
    (m, n), d = R.shape, P.shape[1]
    R_hat = P @ Q.T
    lo, hi = np.nanmin(R), np.nanmax(R)
    fig = ShownFigure(figsize=(12, 3.2))
    widths = [n, d, n, n]
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": widths, "wspace": 0.35})
    _matrix(axes[0], R, f"R: ratings, m×n = {m}×{n}", row=user, vmin=lo, vmax=hi)
    _matrix(axes[1], P, f"P: m×d = {m}×{d}", fmt="{:.1f}", row=user, cmap="PuOr")
    _matrix(axes[2], Q.T, f"Qᵀ: d×n = {d}×{n}", fmt="{:.1f}", cmap="PuOr")
    _matrix(axes[3], R_hat, f"P·Qᵀ: m×n = {m}×{n}", row=user, vmin=lo, vmax=hi)
    if row_labels is not None:
        axes[0].set_yticks(range(m), [str(s) for s in row_labels], fontsize=7)
    if col_labels is not None:
        for ax in (axes[0], axes[3]):
            ax.set_xticks(range(n), [str(s)[:20] for s in col_labels], rotation=60, ha="right", fontsize=7)
    for ax, sign in zip(axes[:3], ("≈", "·", "=")):
        box = ax.get_position()
        _between(fig, box.x1 + 0.012, sign)
    return fig, R_hat


# --- notebook 03: one-hot × W = row lookup -------------------------------------------------------
def one_hot_lookup_figure(W, index, fmt="{:.2f}"):
    """The one-hot row vector of ``index`` (1×n) times W (n×d) is row ``index`` of W (1×d).

    ``fmt`` formats W's cells (e.g. ``"{:.3f}"`` for a freshly initialized table). Returns ``(fig, product)``
    with ``product = one_hot @ W``, computed by the matrix product.
    """
    W = np.asarray(W, dtype=float)
    n, d = W.shape
    one_hot = np.zeros((1, n))
    one_hot[0, index] = 1.0
    product = one_hot @ W
    fig = ShownFigure(figsize=(11, 3.4))
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [n, d, d], "wspace": 0.4})
    _matrix(axes[0], one_hot, f"one-hot of id {index}: 1×{n}", fmt="{:.0f}", cmap="Greys", vmin=0, vmax=2)
    axes[0].add_patch(Rectangle((index - 0.5, -0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2.5))
    span = np.abs(W).max() or 1.0
    for ax, M, title, row in ((axes[1], W, f"W: {n}×{d}", index),
                              (axes[2], product, f"one-hot · W: 1×{d} = row {index} of W", 0)):
        _matrix(ax, M, title, fmt=fmt, row=row, cmap="PuOr", vmin=-span, vmax=span, fontsize=7)
    for ax, sign in zip(axes[:2], ("·", "=")):
        _between(fig, ax.get_position().x1 + 0.02, sign)
    return fig, product


# --- notebook 04: the built model as a diagram -----------------------------------------------------
def model_layers(model):
    """Rows ``{"name", "type", "shape", "inputs"}`` for ``model.layers`` in order, read from the built model."""
    producer = {}
    rows = []
    for layer in model.layers:
        out = layer.output
        producer[id(out)] = layer.name
        ins = [] if type(layer).__name__ == "InputLayer" else layer.input
        ins = ins if isinstance(ins, (list, tuple)) else [ins]
        rows.append({"name": layer.name, "type": type(layer).__name__, "shape": tuple(out.shape),
                     "inputs": [producer[id(t)] for t in ins if id(t) in producer]})
    return rows


def model_diagram(model):
    """One box per layer of a built Keras functional model (name, class, output shape), arrows along its graph.

    Layers are placed by depth (longest path from an input) and left to right in ``model.layers``
    order. Returns ``(fig, rows)`` with the rows of :func:`model_layers`, in the order drawn.
    """
    rows = model_layers(model)
    depth = {}
    for row in rows:
        depth[row["name"]] = 1 + max((depth[p] for p in row["inputs"]), default=-1)
    levels = max(depth.values()) + 1
    per_level = {lv: [r["name"] for r in rows if depth[r["name"]] == lv] for lv in range(levels)}
    pos = {name: ((k + 1) / (len(names) + 1), 1 - (lv + 0.5) / levels)
           for lv, names in per_level.items() for k, name in enumerate(names)}
    fig = ShownFigure(figsize=(6.5, 0.62 * levels + 0.4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    for row in rows:
        for parent in row["inputs"]:
            ax.add_patch(FancyArrowPatch(pos[parent], pos[row["name"]], arrowstyle="-|>", mutation_scale=10,
                                         shrinkA=11, shrinkB=11, color="0.4"))
    for row in rows:
        shape = "(" + ", ".join("batch" if s is None else str(s) for s in row["shape"]) + ")"
        color = {"InputLayer": "#fde2c8", "Embedding": "#d6e9f8", "Dense": "#d9f0d3",
                 "Dropout": "#eeeeee"}.get(row["type"], "#f3e0f7")
        ax.text(*pos[row["name"]], f"{row['name']}  ·  {row['type']}\noutput {shape}", ha="center",
                va="center", fontsize=8, bbox={"boxstyle": "round,pad=0.35", "fc": color, "ec": "0.3"})
    return fig, rows


# --- notebook 05: inverted dropout ----------------------------------------------------------------
def dropout_figure(x, p=0.5, seed=0, n_masks=10_000):
    """Inverted dropout on activations ``x``: one seeded mask, the kept values times 1/(1-p), and the mean.

    Training multiplies each activation by ``mask / (1 - p)`` with ``mask ~ Bernoulli(1 - p)``, so the
    expected output equals ``x``; inference returns ``x`` itself (no mask, no rescale). Returns
    ``(fig, values)`` with ``mask`` (the first mask), ``train_output`` (x · mask / (1-p)), ``mean_output``
    (mean of the training output over ``n_masks`` seeded masks) and ``inference_output`` (= x).
    """
    x = np.asarray(x, dtype=float)
    rng = np.random.default_rng(seed)
    masks = rng.random((n_masks, x.size)) >= p  # keep with probability 1 - p
    outputs = x * masks / (1 - p)
    values = {"mask": masks[0], "train_output": outputs[0], "mean_output": outputs.mean(axis=0),
              "inference_output": x.copy(), "scale": 1 / (1 - p)}
    fig = ShownFigure(figsize=(10, 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    pos = np.arange(x.size)
    ax1.bar(pos - 0.2, x, 0.4, color="0.6", label="activation x (inference output)")
    ax1.bar(pos + 0.2, values["train_output"], 0.4, color="tab:blue",
            label=f"one training pass: kept × {values['scale']:g}, dropped = 0")
    for j in np.flatnonzero(~values["mask"]):
        ax1.text(j + 0.2, 0, "×", ha="center", va="bottom", color=HIGHLIGHT, fontsize=12)
    ax1.set_title(f"one seeded mask, p = {p:g}: {int(values['mask'].sum())} of {x.size} kept", fontsize=9)
    ax1.legend(fontsize=7, loc="upper left")
    ax2.bar(pos - 0.2, x, 0.4, color="0.6", label="x")
    ax2.bar(pos + 0.2, values["mean_output"], 0.4, color="tab:green",
            label=f"mean of the training output over {n_masks:,} masks")
    gap = np.abs(values["mean_output"] - x).max()
    ax2.set_title(f"expectation: mean ≈ x (largest gap {gap:.3f})", fontsize=9)
    ax2.legend(fontsize=7, loc="upper left")
    for ax in (ax1, ax2):
        ax.set_xticks(pos, [f"x{j + 1}" for j in pos])
        ax.set_ylim(0, max(x.max() * 2 / (1 - p) * 0.55, x.max()) * 1.35)
    return fig, values


# --- notebook 06: confidence and NDCG ------------------------------------------------------------
def confidence_figure(watched, alpha, row_labels=None, col_labels=None):
    """The 0/1 watched block next to its confidence ``c = 1 + alpha * r`` (``1 + alpha`` where watched, else 1).

    Returns ``(fig, confidence)``.
    """
    P = np.asarray(watched, dtype=float)
    C = 1 + alpha * P
    fig = ShownFigure(figsize=(10, 0.42 * P.shape[0] + 1.4))
    axes = fig.subplots(1, 2)
    _matrix(axes[0], P, f"preference p: watched = 1, {P.shape[0]}×{P.shape[1]}", fmt="{:.0f}", vmin=0, vmax=2)
    _matrix(axes[1], C, f"confidence c = 1 + α·p, α = {alpha:g}", fmt="{:g}", cmap="Oranges", vmin=0,
            vmax=1.6 * (1 + alpha))
    for ax in axes:
        if row_labels is not None:
            ax.set_yticks(range(P.shape[0]), [str(s) for s in row_labels], fontsize=7)
        if col_labels is not None:
            ax.set_xticks(range(P.shape[1]), [str(s)[:20] for s in col_labels], rotation=60, ha="right",
                          fontsize=7)
    return fig, C


def ndcg_figure(hits, n_relevant):
    """A ranked list with its hits (1 = relevant), the DCG terms 1/log2(j+1) and the NDCG worked out.

    ``n_relevant`` counts all of the user's relevant items, also those the list missed; the ideal list puts
    ``min(k, n_relevant)`` hits first. Returns ``(fig, values)`` with ``terms`` (per rank, 0 where no
    hit), ``dcg``, ``ideal_terms``, ``idcg`` and ``ndcg``.
    """
    hits = np.asarray(hits, dtype=float)
    k = hits.size
    discount = 1 / np.log2(np.arange(2, k + 2))  # rank j = 1..k -> 1/log2(j+1)
    ideal = (np.arange(k) < min(k, n_relevant)).astype(float)
    values = {"terms": hits * discount, "ideal_terms": ideal * discount}
    values.update(dcg=values["terms"].sum(), idcg=values["ideal_terms"].sum())
    values["ndcg"] = values["dcg"] / values["idcg"]
    fig = ShownFigure(figsize=(10, 3.4))
    ax = fig.add_subplot()
    ranks = np.arange(1, k + 1)
    ax.bar(ranks - 0.2, values["ideal_terms"], 0.4, color="0.8", label=f"ideal list: IDCG = {values['idcg']:.3f}")
    ax.bar(ranks + 0.2, values["terms"], 0.4, color="tab:blue", label=f"this list: DCG = {values['dcg']:.3f}")
    for j, h, t in zip(ranks, hits, values["terms"]):
        ax.text(j + 0.2, t + 0.02, f"hit\n1/log2({j + 1})\n= {t:.3f}" if h else "miss", ha="center",
                va="bottom", fontsize=7, color="tab:blue" if h else "0.5")
    ax.set_xticks(ranks)
    ax.set_xlabel("rank j in the list")
    ax.set_ylabel("gain 1/log2(j+1)")
    ax.set_ylim(0, 1.55)
    ax.set_title(f"{int(hits.sum())} hits in the top {k}, {n_relevant} relevant items in all: "
                 f"NDCG@{k} = {values['dcg']:.3f} / {values['idcg']:.3f} = {values['ndcg']:.3f}", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    return fig, values


# --- notebook 07: Spark's blocks -------------------------------------------------------------------
def block_counts(user_idx, item_idx, n_blocks):
    """Ratings per (user block, movie block) tile when blocks are ``index % n_blocks``: (n_blocks, n_blocks)."""
    counts = np.zeros((n_blocks, n_blocks), dtype=int)
    np.add.at(counts, (np.asarray(user_idx) % n_blocks, np.asarray(item_idx) % n_blocks), 1)
    return counts


def block_partition_figure(user_idx, item_idx, n_blocks):
    """The rating matrix regrouped by block (users and movies hashed by ``index % n_blocks``) as a tile grid.

    Left: every rating as a dot, rows and columns reordered so each block is contiguous, tile borders
    drawn. Right: the tiles' rating counts. Returns ``(fig, counts)`` from :func:`block_counts`.
    """
    u, i = np.asarray(user_idx), np.asarray(item_idx)
    n_users, n_items = u.max() + 1, i.max() + 1
    counts = block_counts(u, i, n_blocks)

    def regroup(idx, n):  # position of each index once sorted by (block, index)
        order = np.lexsort((np.arange(n), np.arange(n) % n_blocks))
        where = np.empty(n, dtype=int)
        where[order] = np.arange(n)
        return where[idx], np.bincount(np.arange(n) % n_blocks, minlength=n_blocks)

    row, n_per_ublock = regroup(u, n_users)
    col, n_per_iblock = regroup(i, n_items)
    fig = ShownFigure(figsize=(11, 4.2))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    ax1.plot(col, row, ",", color="tab:blue", alpha=0.5)
    for cut in np.cumsum(n_per_iblock)[:-1]:
        ax1.axvline(cut - 0.5, color=HIGHLIGHT)
    for cut in np.cumsum(n_per_ublock)[:-1]:
        ax1.axhline(cut - 0.5, color=HIGHLIGHT)
    ax1.set_xlim(-0.5, n_items - 0.5)
    ax1.set_ylim(n_users - 0.5, -0.5)
    ax1.set_xlabel(f"{n_items:,} movies, grouped by movie index mod {n_blocks}")
    ax1.set_ylabel(f"{n_users:,} users, grouped by user index mod {n_blocks}")
    ax1.set_title(f"{len(u):,} ratings in {n_blocks}×{n_blocks} tiles", fontsize=9)
    _matrix(ax2, counts, "ratings per tile (user block × movie block)", fmt="{:,.0f}", vmin=0,
            vmax=2 * counts.max(), fontsize=9)
    ax2.set_xticks(range(n_blocks), [f"movie block {b}\n({c:,} movies)" for b, c in enumerate(n_per_iblock)],
                   fontsize=7)
    ax2.set_yticks(range(n_blocks), [f"user block {b}\n({c:,} users)" for b, c in enumerate(n_per_ublock)],
                   fontsize=7)
    return fig, counts
