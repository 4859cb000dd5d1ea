"""Keras 3 models for notebooks 03-06: matrix factorization and the article's deep model.

Every model takes a dict of 1-D arrays, one row per rating:

* ``"user"``, ``"item"``: contiguous 0-based indices from an
  :class:`~recsys_utils.encoding.IdMap` (the article fed raw 1-based MovieLens
  ids and therefore needed ``Embedding(n_users + 1, k)``; with an ``IdMap`` the
  tables have exactly ``n_users`` and ``n_items`` rows);
* optional side features (嵌入 everything, as the article suggests): an integer
  code per row for a *categorical* feature (occupation ...), a float vector per
  row for a *numeric* one (genres multi-hot, standardized year ...). Their specs
  come from :func:`categorical` and :func:`numeric`, or all at once from
  :func:`side_features` for a MovieLens data set.

Builders
--------
:func:`build_mf_model`
    ``mu + b_u + b_i + p_u . q_i`` as two ``Embedding`` tables and a ``Dot``.
    Its default L2 penalty is charged **once per rating** (``reg_mode="per_rating"``):
    the loss of a batch is ``mean(e^2) + reg * mean(|p_u|^2 + |q_i|^2) + reg_bias *
    mean(b_u^2 + b_i^2)``, whose expectation over batches is ``2 J / n`` for the
    objective ``J`` of :class:`recsys_utils.mf.MatrixFactorization`. So the same
    ``reg`` means the same model in both. ``reg_mode="weights"`` is Keras's usual
    ``embeddings_regularizer=l2(reg)``, which charges the *whole table* in every batch.
:func:`build_deep_model`
    The article's network, with its defaults: k=128 user and movie embeddings,
    concatenated, Dropout 0.2, Dense 128 relu, Dropout 0.5, Dense 32 relu,
    Dropout 0.5, Dense 8 relu, Dropout 0.5, Dense 1 linear; MSE; Adam. Or a
    softmax over the rating levels with cross-entropy (``output="softmax"``).
:func:`build_hybrid_model`
    MF (biases + dot product) plus an MLP on the concatenated embeddings and side
    features: the improved model of notebook 04.

Helpers
-------
:func:`make_inputs` (ratings table + IdMap -> input dict), :func:`check_inputs`,
:func:`fit_model` (validated ``fit`` with EarlyStopping), :func:`predict_ratings`
(one vectorized ``predict``, unknown ids handled), :func:`mf_weights`,
:func:`rating_levels` / :func:`to_classes` for the softmax variant, :func:`set_seed`.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def _import_keras_quietly():
    """Import keras (and its TensorFlow backend) with the C-level stderr muted.

    TensorFlow 2.21 prints absl lines with timestamps and process ids ("Could not
    find cuda drivers ...") *before* its logging reads TF_CPP_MIN_LOG_LEVEL, so the
    environment variable cannot silence them; in a notebook they would make every
    stored output differ from a fresh run.
    """
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no usable fd 2: import normally
        import keras
        return keras
    os.dup2(devnull, 2)
    try:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow

            # "N out of the last M calls ... triggered tf.function retracing" (a predict() per row does that)
            # names a memory address and a count that varies: keep it out of notebook outputs
            tensorflow.get_logger().setLevel("ERROR")
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
    return keras


keras = _import_keras_quietly()
layers, ops = keras.layers, keras.ops

from ._base import check_int  # noqa: E402
from .encoding import IdMap  # noqa: E402

__all__ = [
    "ARTICLE_DROPOUT", "ARTICLE_HIDDEN", "build_mf_model", "build_deep_model", "build_hybrid_model",
    "categorical", "numeric", "SideFeatures", "side_features", "make_inputs", "check_inputs", "fit_model",
    "predict_ratings", "mf_weights", "rating_levels", "to_classes", "set_seed", "print_summary", "PerRatingL2", "AddConstant",
]

ARTICLE_K = 128
ARTICLE_DROPOUT = (0.2, 0.5, 0.5, 0.5)
ARTICLE_HIDDEN = (128, 32, 8)  # the article's Dense(k), Dense(k/4), Dense(k/16) with k = 128
OUTPUTS = ("regression", "softmax")
REG_MODES = ("per_rating", "weights")


# ---------------------------------------------------------------------------
# argument checks (one-line ValueErrors, raised before any layer is built)
# ---------------------------------------------------------------------------
def _check_number(name, v, minimum=0.0):
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)
    if not ok or v < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {v!r}")


def _check_dropout(dropout, hidden):
    dropout, hidden = tuple(dropout), tuple(hidden)
    for h in hidden:
        check_int("every hidden layer size", h)
    if len(dropout) != len(hidden) + 1:
        raise ValueError(
            f"dropout needs one rate before each of the {len(hidden)} hidden layers and one after the last "
            f"({len(hidden) + 1} rates), got {len(dropout)}: {dropout!r}"
        )
    for p in dropout:
        ok = isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool)
        if not ok or not 0 <= p < 1:
            raise ValueError(f"every dropout rate must lie in [0, 1), got {p!r} in {dropout!r}")
    return dropout, hidden


# ---------------------------------------------------------------------------
# two tiny layers (serializable, so saved .keras models reload)
# ---------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="recsys_utils")
class PerRatingL2(layers.Layer):
    """Identity that adds ``reg * mean over the batch of |x_row|^2`` to the loss.

    Put after an ``Embedding`` lookup it charges each vector once per rating in
    the batch, like the per-rating penalty of :mod:`recsys_utils.mf`.
    """

    def __init__(self, reg=0.0, **kwargs):
        super().__init__(**kwargs)
        self.reg = float(reg)

    def call(self, x):
        if self.reg > 0:
            self.add_loss(self.reg * ops.mean(ops.sum(ops.square(x), axis=-1)))
        return x

    def get_config(self):
        return {**super().get_config(), "reg": self.reg}


@keras.saving.register_keras_serializable(package="recsys_utils")
class AddConstant(layers.Layer):
    """``x + value`` for a fixed float (the global mean ``mu``; not trained)."""

    def __init__(self, value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.value = float(value)

    def call(self, x):
        return x + self.value

    def get_config(self):
        return {**super().get_config(), "value": self.value}


# ---------------------------------------------------------------------------
# side features
# ---------------------------------------------------------------------------
def categorical(n_values, dim=8):
    """Spec of a categorical side feature: integer codes in ``[0, n_values)``, embedded in ``dim``."""
    check_int("n_values", n_values)
    check_int("dim", dim)
    return {"kind": "categorical", "n_values": int(n_values), "dim": int(dim)}


def numeric(width=1):
    """Spec of a numeric side feature: ``width`` floats per rating (a multi-hot vector, a standardized number)."""
    check_int("width", width)
    return {"kind": "numeric", "width": int(width)}


def _check_side_specs(side):
    if side is None:
        return {}
    if not isinstance(side, dict):
        raise ValueError(f"side_features must be a dict name -> categorical(...) / numeric(...), got {type(side).__name__}")
    for name, spec in side.items():
        if name in ("user", "item"):
            raise ValueError(f"side feature name {name!r} is reserved for the ids: rename it")
        kind = spec.get("kind") if isinstance(spec, dict) else None
        if kind == "categorical":
            categorical(spec.get("n_values"), spec.get("dim", 8))
        elif kind == "numeric":
            numeric(spec.get("width", 1))
        else:
            raise ValueError(f"side feature {name!r}: spec must come from categorical(...) or numeric(...), got {spec!r}")
    return dict(side)


def _side_inputs(side, seed):
    """Keras Inputs for the side features and the tensors to concatenate: (inputs dict, list of tensors)."""
    inputs, parts = {}, []
    for n, (name, spec) in enumerate(side.items()):
        if spec["kind"] == "categorical":
            x = keras.Input(shape=(), dtype="int32", name=name)
            emb = layers.Embedding(spec["n_values"], spec["dim"], name=f"{name}_embedding",
                                   embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=_sub(seed, 10 + n)))
            parts.append(emb(x))
        else:
            x = keras.Input(shape=(spec["width"],), dtype="float32", name=name)
            parts.append(x)
        inputs[name] = x
    return inputs, parts


@dataclass
class SideFeatures:
    """Per-user and per-item feature tables for a data set, aligned with an IdMap.

    Attributes
    ----------
    specs : dict name -> spec, to pass as ``side_features=`` to the builders
    user_tables : dict name -> array with ``n_users`` rows (indexed by user index)
    item_tables : dict name -> array with ``n_items`` rows (indexed by item index)
    described : list of str, one line per feature (what it is, how it was encoded)
    """

    specs: dict
    user_tables: dict = field(default_factory=dict)
    item_tables: dict = field(default_factory=dict)
    described: list = field(default_factory=list)

    def lookup(self, u, i):
        """Feature arrays for rating rows with user indices ``u`` and item indices ``i`` (shape (n,) each)."""
        out = {name: table[u] for name, table in self.user_tables.items()}
        out.update({name: table[i] for name, table in self.item_tables.items()})
        return out

    def subset(self, names):
        """The same features restricted to ``names`` (order kept)."""
        missing = [n for n in names if n not in self.specs]
        if missing:
            raise ValueError(f"unknown side feature(s) {missing}: choose from {list(self.specs)}")
        keep = [n for n in self.specs if n in names]
        return SideFeatures({n: self.specs[n] for n in keep},
                            {n: t for n, t in self.user_tables.items() if n in keep},
                            {n: t for n, t in self.item_tables.items() if n in keep},
                            [d for d in self.described if d.split(":")[0] in keep])


def _standardize(x):
    x = np.asarray(x, dtype=float)
    mean = np.nanmean(x)
    std = np.nanstd(x) or 1.0
    return np.nan_to_num((x - mean) / std, nan=0.0).astype("float32")[:, None]  # (n, 1); missing -> the mean


def _codes(values):
    codes, uniques = pd.factorize(pd.Series(values).astype(str), sort=True)
    return codes.astype("int32"), len(uniques)


def side_features(ds, ids: IdMap, dim=8) -> SideFeatures:
    """Movie genres and year for every data set; user age, gender, occupation, zip region where known.

    Parameters
    ----------
    ds : :class:`~recsys_utils.data.MovieLens`
    ids : IdMap of the training ratings (rows of the tables follow its indices)
    dim : int, embedding size of each categorical feature

    Returns
    -------
    SideFeatures
    """
    items = ds.items.set_index("item_id").reindex(ids.items)
    genres = items["genres"].fillna("").astype(str).str.get_dummies(sep="|")  # (n_items, n_genres)
    feats = SideFeatures({})
    feats.specs["genres"] = numeric(genres.shape[1])
    feats.item_tables["genres"] = genres.to_numpy("float32")
    feats.described.append(f"genres: movie, multi-hot over {genres.shape[1]} genres")
    feats.specs["year"] = numeric(1)
    feats.item_tables["year"] = _standardize(items["year"].astype("float64"))
    feats.described.append("year: movie, release year standardized (missing -> mean)")
    if ds.users is not None:
        users = ds.users.set_index("user_id").reindex(ids.users)
        feats.specs["age"] = numeric(1)
        feats.user_tables["age"] = _standardize(users["age"])
        feats.described.append("age: user, standardized")
        for name, values, what in (
            ("gender", users["gender"], "user, categorical"),
            ("occupation", users["occupation"], "user, categorical"),
            ("zip_region", users["zip"].astype(str).str[0].where(lambda s: s.str.isdigit(), "other"),
             "user, first digit of the zip code (non-US codes -> 'other'), categorical"),
        ):
            codes, n = _codes(values)
            feats.specs[name] = categorical(n, dim)
            feats.user_tables[name] = codes
            feats.described.append(f"{name}: {what} with {n} values")
    return feats


# ---------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------
def _sub(seed, k):
    """A distinct, reproducible seed for the k-th initializer (None stays None)."""
    return None if seed is None else int(seed) * 1000 + k


def _id_inputs():
    return keras.Input(shape=(), dtype="int32", name="user"), keras.Input(shape=(), dtype="int32", name="item")


# Batches run per call into the compiled graph: the same updates in the same order, with less Python
# overhead between small batches (10-26% faster at the article's batch size of 100 on 2 CPU cores,
# benchmarks/bench_deep.py).
STEPS_PER_EXECUTION = 32


def _compile(model, output, learning_rate):
    if output == "softmax":
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        loss, metrics = "mse", [keras.metrics.RootMeanSquaredError(name="rmse")]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics,
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


def _mf_parts(u_in, i_in, n_users, n_items, n_factors, reg, reg_bias, use_bias, reg_mode, init_std, seed):
    """Embeddings, penalties, dot product and biases: (interaction tensor (batch, 1), [bias tensors], p_u, q_i)."""
    def table(name, n, dim, init, k):
        kw = {}
        if reg_mode == "weights" and (reg_bias if dim == 1 else reg) > 0:
            kw["embeddings_regularizer"] = keras.regularizers.L2(reg_bias if dim == 1 else reg)
        return layers.Embedding(n, dim, embeddings_initializer=init, name=name, **kw)

    normal = lambda k: keras.initializers.RandomNormal(0.0, init_std, seed=_sub(seed, k))  # noqa: E731
    pu = table("user_factors", n_users, n_factors, normal(1), 1)(u_in)  # (batch, k)
    qi = table("item_factors", n_items, n_factors, normal(2), 2)(i_in)  # (batch, k)
    if reg_mode == "per_rating":
        pu = PerRatingL2(reg, name="user_factors_l2")(pu)
        qi = PerRatingL2(reg, name="item_factors_l2")(qi)
    dot = layers.Dot(axes=1, name="dot")([pu, qi])  # (batch, 1)
    biases = []
    if use_bias:
        for name, n, x in (("user_bias", n_users, u_in), ("item_bias", n_items, i_in)):
            b = table(name, n, 1, "zeros", 0)(x)  # (batch, 1)
            if reg_mode == "per_rating":
                b = PerRatingL2(reg_bias, name=f"{name}_l2")(b)
            biases.append(b)
    return dot, biases, pu, qi


def _check_mf_args(n_users, n_items, n_factors, reg, reg_bias, reg_mode, init_std, global_mean, learning_rate):
    check_int("n_users", n_users)
    check_int("n_items", n_items)
    check_int("n_factors (k)", n_factors)
    _check_number("reg", reg)
    _check_number("reg_bias", reg if reg_bias is None else reg_bias)
    if reg_mode not in REG_MODES:
        raise ValueError(f"reg_mode must be 'per_rating' or 'weights', got {reg_mode!r}")
    _check_number("init_std", init_std)
    _check_number("global_mean", global_mean, minimum=-np.inf)
    _check_number("learning_rate", learning_rate, minimum=1e-12)


def build_mf_model(n_users, n_items, n_factors=30, reg=0.0, use_bias=True, *, reg_bias=None, global_mean=0.0,
                   reg_mode="per_rating", init_std=0.1, learning_rate=1e-3, seed=None, compile=True):
    """Biased matrix factorization ``mu + b_u + b_i + p_u . q_i`` as a Keras functional model.

    Parameters
    ----------
    n_users, n_items : int
        Rows of the embedding tables (indices 0..n-1, from an IdMap).
    n_factors : int
        ``k``, the length of every user and item vector.
    reg : float
        L2 penalty on the vectors. With ``reg_mode="per_rating"`` (default) it is
        the ``lambda`` of :class:`recsys_utils.mf.MatrixFactorization`: each batch
        adds ``reg * mean(|p_u|^2 + |q_i|^2)`` over its ratings. With
        ``reg_mode="weights"`` it is Keras's ``L2(reg)`` on the whole tables.
    use_bias : bool
        Learn ``b_u`` and ``b_i`` (1-dimensional embeddings, zero-initialized).
    reg_bias : float, optional
        Penalty on the biases; defaults to ``reg``.
    global_mean : float
        ``mu``, a fixed constant added to every prediction (the training mean).
    init_std : float
        Standard deviation of the Gaussian initial vectors.
    learning_rate : float
        Adam's learning rate.
    seed : int, optional
        Seeds the initializers (the same seed builds the same initial weights).
    compile : bool
        Compile with MSE loss, Adam and an ``rmse`` metric.

    Returns
    -------
    keras.Model
        Inputs ``{"user": (batch,), "item": (batch,)}`` int32; output (batch, 1).
    """
    _check_mf_args(n_users, n_items, n_factors, reg, reg_bias, reg_mode, init_std, global_mean, learning_rate)
    reg_bias = reg if reg_bias is None else reg_bias
    u_in, i_in = _id_inputs()
    dot, biases, _, _ = _mf_parts(u_in, i_in, n_users, n_items, n_factors, reg, reg_bias, use_bias, reg_mode,
                                  init_std, seed)
    out = layers.Add(name="dot_plus_biases")([dot, *biases]) if biases else dot
    out = AddConstant(global_mean, name="global_mean")(out)  # (batch, 1)
    model = keras.Model({"user": u_in, "item": i_in}, out, name="matrix_factorization")
    return _compile(model, "regression", learning_rate) if compile else model


def _mlp(x, hidden, dropout, seed, prefix=""):
    x = layers.Dropout(dropout[0], seed=_sub(seed, 50), name=f"{prefix}dropout_0")(x)
    for n, (h, p) in enumerate(zip(hidden, dropout[1:]), start=1):
        x = layers.Dense(h, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(_sub(seed, 50 + 2 * n)),
                         name=f"{prefix}dense_{n}")(x)
        x = layers.Dropout(p, seed=_sub(seed, 51 + 2 * n), name=f"{prefix}dropout_{n}")(x)
    return x


def build_deep_model(n_users, n_items, k=ARTICLE_K, dropout=ARTICLE_DROPOUT, hidden=ARTICLE_HIDDEN, side_features=None,
                     output="regression", n_classes=None, *, learning_rate=1e-3, output_bias=None, seed=None,
                     compile=True):
    """The article's deep model (深度模型): concatenated embeddings, then Dropout/Dense relu layers.

    Defaults are the article's: ``k=128``; Dropout 0.2, Dense 128 relu, Dropout 0.5,
    Dense 32 relu, Dropout 0.5, Dense 8 relu, Dropout 0.5, Dense 1 linear; MSE; Adam.

    Parameters
    ----------
    n_users, n_items : int
        Rows of the user and movie embedding tables (IdMap indices).
    k : int
        Length of the user and movie embeddings.
    dropout : sequence of ``len(hidden) + 1`` rates in [0, 1)
        The first acts on the concatenated embeddings, the others after each hidden layer.
    hidden : sequence of int
        Sizes of the relu layers.
    side_features : dict name -> :func:`categorical` / :func:`numeric` spec, optional
        Extra inputs concatenated with the two embeddings.
    output : {"regression", "softmax"}
        A linear rating with MSE loss, or ``n_classes`` probabilities (one per
        rating level, see :func:`to_classes`) with cross-entropy.
    n_classes : int
        Number of rating levels; required for ``output="softmax"``.
    learning_rate : float
        Adam's learning rate (Keras's default 0.001, as the article's ``"adam"``).
    output_bias : float, optional
        Initial bias of the linear output (e.g. the training mean); the article starts at 0.
    seed : int, optional
        Seeds initializers and dropout masks.
    compile : bool

    Returns
    -------
    keras.Model
        Inputs ``{"user", "item", *side_features}``; output (batch, 1) or (batch, n_classes).
    """
    check_int("n_users", n_users)
    check_int("n_items", n_items)
    check_int("k", k)
    dropout, hidden = _check_dropout(dropout, hidden)
    side = _check_side_specs(side_features)
    if output not in OUTPUTS:
        raise ValueError(f"output must be 'regression' or 'softmax', got {output!r}")
    if output == "softmax":
        check_int("n_classes (for output='softmax')", n_classes, minimum=2)
    _check_number("learning_rate", learning_rate, minimum=1e-12)
    if output_bias is not None:
        _check_number("output_bias", output_bias, minimum=-np.inf)
    u_in, i_in = _id_inputs()
    uniform = lambda n: keras.initializers.RandomUniform(-0.05, 0.05, seed=_sub(seed, n))  # noqa: E731
    user_vec = layers.Embedding(n_users, k, embeddings_initializer=uniform(1), name="user_embedding")(u_in)  # (batch, k)
    item_vec = layers.Embedding(n_items, k, embeddings_initializer=uniform(2), name="item_embedding")(i_in)  # (batch, k)
    side_in, side_parts = _side_inputs(side, seed)
    x = layers.Concatenate(name="concat")([user_vec, item_vec, *side_parts])  # (batch, 2k + side width)
    x = _mlp(x, hidden, dropout, seed)
    init = keras.initializers.GlorotUniform(_sub(seed, 99))
    if output == "softmax":
        out = layers.Dense(n_classes, activation="softmax", kernel_initializer=init, name="rating_probabilities")(x)
    else:
        bias = "zeros" if output_bias is None else keras.initializers.Constant(float(output_bias))
        out = layers.Dense(1, activation="linear", kernel_initializer=init, bias_initializer=bias, name="rating")(x)
    model = keras.Model({"user": u_in, "item": i_in, **side_in}, out, name="deep_model")
    return _compile(model, output, learning_rate) if compile else model


def build_hybrid_model(n_users, n_items, n_factors=30, reg=0.0, k=32, hidden=(64, 16), dropout=(0.2, 0.3, 0.3),
                       side_features=None, *, global_mean=0.0, reg_bias=None, init_std=0.1, learning_rate=1e-3,
                       seed=None, compile=True):
    """MF and a small MLP side by side: ``mu + b_u + b_i + p_u . q_i + mlp([u_k, i_k, side])``.

    The MF part is :func:`build_mf_model` (per-rating L2 ``reg``); the MLP has its
    own ``k``-dimensional embeddings, the side features, dropout, and a linear
    output that starts at 0, so training starts from plain MF.

    Returns
    -------
    keras.Model with inputs ``{"user", "item", *side_features}`` and output (batch, 1).
    """
    _check_mf_args(n_users, n_items, n_factors, reg, reg_bias, "per_rating", init_std, global_mean, learning_rate)
    check_int("k", k)
    dropout, hidden = _check_dropout(dropout, hidden)
    side = _check_side_specs(side_features)
    reg_bias = reg if reg_bias is None else reg_bias
    u_in, i_in = _id_inputs()
    dot, biases, _, _ = _mf_parts(u_in, i_in, n_users, n_items, n_factors, reg, reg_bias, True, "per_rating",
                                  init_std, seed)
    uniform = lambda n: keras.initializers.RandomUniform(-0.05, 0.05, seed=_sub(seed, n))  # noqa: E731
    user_vec = layers.Embedding(n_users, k, embeddings_initializer=uniform(3), name="mlp_user_embedding")(u_in)
    item_vec = layers.Embedding(n_items, k, embeddings_initializer=uniform(4), name="mlp_item_embedding")(i_in)
    side_in, side_parts = _side_inputs(side, seed)
    x = layers.Concatenate(name="concat")([user_vec, item_vec, *side_parts])
    x = _mlp(x, hidden, dropout, seed, prefix="mlp_")
    mlp_out = layers.Dense(1, kernel_initializer="zeros", name="mlp_rating")(x)  # (batch, 1)
    out = layers.Add(name="mf_plus_mlp")([dot, *biases, mlp_out])
    out = AddConstant(global_mean, name="global_mean")(out)
    model = keras.Model({"user": u_in, "item": i_in, **side_in}, out, name="hybrid_model")
    return _compile(model, "regression", learning_rate) if compile else model


# ---------------------------------------------------------------------------
# data in, predictions out
# ---------------------------------------------------------------------------
def make_inputs(ratings, ids: IdMap, features: SideFeatures | None = None):
    """Turn a ratings table into a model's input dict.

    Parameters
    ----------
    ratings : DataFrame with ``user_id`` and ``item_id`` (original ids)
    ids : IdMap of the training data
    features : SideFeatures, optional (adds one array per side feature)

    Returns
    -------
    dict name -> array of n rows: ``user`` and ``item`` (n,) int32 indices, side features.

    Raises
    ------
    ValueError if an id is not in ``ids`` (use :func:`predict_ratings` for tables with unknown ids).
    """
    enc = ids.encode(ratings[["user_id", "item_id"]], strict=True)
    u, i = enc["user_idx"].to_numpy("int32"), enc["item_idx"].to_numpy("int32")
    out = {"user": u, "item": i}
    if features is not None:
        out.update(features.lookup(u, i))
    return out


def _embedding_sizes(model):
    """{input name: rows of the smallest Embedding table it feeds}."""
    sizes = {}
    for layer in model.layers:
        if isinstance(layer, layers.Embedding):
            src = getattr(layer.input, "name", None)
            if src in model.input:
                sizes[src] = min(sizes.get(src, layer.input_dim), layer.input_dim)
    return sizes


def check_inputs(model, inputs, y=None, *, what="inputs"):
    """Check an input dict against a model before fit/predict; return ``(inputs, n)`` with arrays.

    One-line ``ValueError`` for: a missing or unexpected input, arrays of different
    lengths (or not matching ``y``), an index outside its embedding table, non-finite
    numbers or targets, a numeric feature of the wrong width.
    """
    if not isinstance(inputs, dict):
        raise ValueError(f"{what} must be a dict name -> array (see make_inputs), got {type(inputs).__name__}")
    expected = dict(model.input)
    missing = [n for n in expected if n not in inputs]
    extra = [n for n in inputs if n not in expected]
    if missing or extra:
        raise ValueError(f"{what} must have exactly the keys {sorted(expected)}: missing {missing}, unexpected {extra}")
    arrays = {n: np.asarray(inputs[n]) for n in expected}
    lengths = {n: len(a) if a.ndim else -1 for n, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"{what} arrays must all have one row per rating, got lengths {lengths}")
    n = next(iter(lengths.values()))
    if n <= 0:
        raise ValueError(f"{what} are empty: pass at least one rating")
    if y is not None:
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"got {n} input rows but {len(y)} targets: pass one target per rating")
        if not np.isfinite(y.astype(float)).all():
            raise ValueError("targets contain NaN or infinite values: drop those rows")
    sizes = _embedding_sizes(model)
    for name, a in arrays.items():
        if name in sizes:
            if not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"{what}[{name!r}] must hold integer indices, got dtype {a.dtype}")
            lo, hi = int(a.min()), int(a.max())
            if lo < 0 or hi >= sizes[name]:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"{what}[{name!r}] has index {bad} outside the embedding table of {sizes[name]} rows: "
                    "encode ids with the training IdMap and size the model with it"
                )
            arrays[name] = a.astype("int32")
        else:
            width = expected[name].shape[-1] if len(expected[name].shape) > 1 else None
            if width is not None and (a.ndim != 2 or a.shape[1] != width):
                raise ValueError(f"{what}[{name!r}] must have shape (n, {width}), got {a.shape}")
            if not np.isfinite(a.astype(float)).all():
                raise ValueError(f"{what}[{name!r}] contains NaN or infinite values")
            arrays[name] = a.astype("float32")
    return arrays, n


def set_seed(seed):
    """Seed Python, NumPy and the backend, and make TensorFlow ops deterministic."""
    keras.utils.set_random_seed(int(seed))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def fit_model(model, inputs, y, *, validation_data=None, epochs=10, batch_size=1024, patience=None, monitor=None,
              seed=None, verbose=0, callbacks=()):
    """``model.fit`` after :func:`check_inputs`, with optional EarlyStopping(restore_best_weights=True).

    Parameters
    ----------
    model : compiled keras.Model
    inputs : dict name -> array (n rows); y : (n,) targets (ratings, or classes for softmax)
    validation_data : (inputs, y), optional
        Carve it out of the *training* data (never the test set).
    epochs, batch_size : int
    patience : int, optional
        Stop after this many epochs without improvement of ``monitor`` and restore the best weights.
    monitor : str, optional
        Defaults to ``"val_rmse"`` (regression) / ``"val_loss"`` (softmax) with validation data, else ``"loss"``.
    seed : int, optional
        Calls :func:`set_seed` first (shuffling and dropout then repeat exactly).

    Returns
    -------
    pandas.DataFrame, one row per epoch (``epoch``, ``loss``, ``rmse``, ``val_loss``, ``val_rmse`` ...)
    """
    check_int("epochs", epochs)
    check_int("batch_size", batch_size)
    if patience is not None:
        check_int("patience", patience)
    inputs, _ = check_inputs(model, inputs, y)
    val = None
    if validation_data is not None:
        vx, vy = validation_data
        vx, _ = check_inputs(model, vx, vy, what="validation inputs")
        val = (vx, np.asarray(vy))
    if seed is not None:
        set_seed(seed)
    cbs = list(callbacks)
    if patience is not None:
        if monitor is None:
            metric = "rmse" if "rmse" in [m.name for m in model.metrics if hasattr(m, "name")] or model.loss == "mse" else "loss"
            monitor = f"val_{metric}" if val is not None else metric
        cbs.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True))
    hist = model.fit(inputs, np.asarray(y), validation_data=val, epochs=epochs, batch_size=batch_size,
                     verbose=verbose, callbacks=cbs, shuffle=True)
    out = pd.DataFrame(hist.history)
    out.insert(0, "epoch", np.arange(1, len(out) + 1))
    return out


def rating_levels(ratings):
    """The sorted distinct rating values (the classes of the softmax model), shape (n_classes,)."""
    r = ratings["rating"] if isinstance(ratings, pd.DataFrame) else ratings
    return np.unique(np.asarray(r, dtype=float))


def to_classes(r, levels):
    """Class index of each rating in ``levels`` (ValueError for a value that is not a level), shape (n,)."""
    r, levels = np.asarray(r, dtype=float), np.asarray(levels, dtype=float)
    idx = np.clip(np.searchsorted(levels, r), 0, len(levels) - 1)
    bad = levels[idx] != r
    if bad.any():
        raise ValueError(f"rating {r[bad][0]} is not one of the levels {levels.tolist()}: build levels from the data")
    return idx.astype("int32")


def mf_weights(model):
    """The MF parameters of a model from :func:`build_mf_model` / :func:`build_hybrid_model`, as NumPy arrays.

    Returns
    -------
    dict with ``P`` (n_users, k), ``Q`` (n_items, k), ``bu`` (n_users,), ``bi`` (n_items,), ``mu`` float
    (biases are zeros when the model has none).
    """
    names = {layer.name for layer in model.layers}
    if "user_factors" not in names:
        raise ValueError(f"model {model.name!r} has no MF layers (user_factors): pass a model from build_mf_model")
    P = model.get_layer("user_factors").get_weights()[0]
    Q = model.get_layer("item_factors").get_weights()[0]
    has_bias = "user_bias" in names
    bu = model.get_layer("user_bias").get_weights()[0][:, 0] if has_bias else np.zeros(len(P), "float32")
    bi = model.get_layer("item_bias").get_weights()[0][:, 0] if has_bias else np.zeros(len(Q), "float32")
    return {"P": P, "Q": Q, "bu": bu, "bi": bi, "mu": model.get_layer("global_mean").value}


def _predict_known(model, inputs, batch_size, levels, how):
    out = model.predict(inputs, batch_size=batch_size, verbose=0)
    if out.shape[-1] == 1:
        return out[:, 0].astype(float)
    if levels is None:
        raise ValueError("a softmax model needs levels= (rating_levels(train)) to turn probabilities into ratings")
    levels = np.asarray(levels, dtype=float)
    if len(levels) != out.shape[-1]:
        raise ValueError(f"got {len(levels)} levels for a model with {out.shape[-1]} classes")
    if how == "argmax":
        return levels[np.argmax(out, axis=1)]
    return out.astype(float) @ levels  # the expected rating under the predicted distribution


def predict_ratings(model, data, ids=None, features=None, *, fallback="auto", clip=None, levels=None,
                    how="expected", batch_size=8192):
    """Predicted ratings from one vectorized ``predict`` (not one call per row).

    Parameters
    ----------
    model : keras.Model from this module
    data : input dict (see :func:`make_inputs`), or a ratings table with ``user_id`` and ``item_id``
    ids : IdMap, required with a table
    features : SideFeatures, when the model takes side features (with a table)
    fallback : "auto", float, or callable ``(user_ids, item_ids) -> ratings``
        Prediction for table rows whose user or item is unknown to ``ids``. ``"auto"``
        uses ``mu`` plus the known bias for MF models (like :mod:`recsys_utils.mf`)
        and raises for other models when unknown ids occur.
    clip : (lo, hi), optional
        Clip predictions to the rating scale.
    levels : array, for softmax models (see :func:`rating_levels`)
    how : {"expected", "argmax"}
        Softmax models: the probability-weighted mean of the levels, or the most likely level.
    batch_size : int

    Returns
    -------
    numpy.ndarray of shape (n,)
    """
    if how not in ("expected", "argmax"):
        raise ValueError(f"how must be 'expected' or 'argmax', got {how!r}")
    check_int("batch_size", batch_size)
    if isinstance(data, pd.DataFrame):
        if ids is None:
            raise ValueError("predicting from a ratings table needs ids= (the training IdMap)")
        u, i = ids.user_index(data["user_id"]), ids.item_index(data["item_id"])
        known = (u >= 0) & (i >= 0)
        pred = np.empty(len(data))
        if known.any():
            inputs = {"user": u[known].astype("int32"), "item": i[known].astype("int32")}
            if features is not None:
                inputs.update(features.lookup(u[known], i[known]))
            inputs, _ = check_inputs(model, inputs)
            pred[known] = _predict_known(model, inputs, batch_size, levels, how)
        if (~known).any():
            pred[~known] = _fallback(model, fallback, data, u, i, ~known)
    else:
        inputs, _ = check_inputs(model, data)
        pred = _predict_known(model, inputs, batch_size, levels, how)
    return np.clip(pred, *clip) if clip is not None else pred


def _fallback(model, fallback, data, u, i, unknown):
    if callable(fallback):
        return np.asarray(fallback(data["user_id"].to_numpy()[unknown], data["item_id"].to_numpy()[unknown]), float)
    if fallback == "auto":
        if "user_factors" not in {layer.name for layer in model.layers}:
            raise ValueError(
                f"{int(unknown.sum())} rows have a user or item unknown to ids: pass fallback= "
                "(a number such as the training mean, or a fitted baseline's predict)"
            )
        w = mf_weights(model)
        uu, ii = u[unknown], i[unknown]
        return (w["mu"] + np.where(uu >= 0, w["bu"][np.maximum(uu, 0)], 0.0)
                + np.where(ii >= 0, w["bi"][np.maximum(ii, 0)], 0.0))
    _check_number("fallback", fallback, minimum=-np.inf)
    return np.full(int(unknown.sum()), float(fallback))



def print_summary(model):
    """``model.summary()`` as plain text (no terminal colour codes in stored notebook outputs)."""
    model.summary(print_fn=lambda line, **kwargs: print(line))
