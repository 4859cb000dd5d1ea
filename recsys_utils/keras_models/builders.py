"""Model builders: MF, the article's deep model and the hybrid, as Keras 3 functional models.

Every model takes a dict of 1-D arrays, one row per rating: ``"user"`` and ``"item"``
(IdMap indices, int32) and one array per side feature (see :mod:`recsys_utils.features`).
"""
from __future__ import annotations

import numpy as np

from ..checks import check_choice, check_fraction, check_int, check_number
from ..features import check_side_specs
from .backend import keras, layers
from .custom_layers import AddConstant, PerRatingL2

__all__ = ["ARTICLE_K", "ARTICLE_DROPOUT", "ARTICLE_HIDDEN", "STEPS_PER_EXECUTION",
           "build_mf_model", "build_deep_model", "build_hybrid_model"]

ARTICLE_K = 128
ARTICLE_DROPOUT = (0.2, 0.5, 0.5, 0.5)
ARTICLE_HIDDEN = (128, 32, 8)  # the article's Dense(k), Dense(k/4), Dense(k/16) with k = 128
OUTPUTS = ("regression", "softmax")
REG_MODES = ("per_rating", "weights")


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
        check_fraction(f"every dropout rate (in {dropout!r})", p, allow_zero=True)
    return dropout, hidden


def _side_inputs(side, seed):
    """Keras Inputs for the side features and the tensors to concatenate: (inputs dict, list of tensors)."""
    inputs, parts = {}, []
    for n, (name, spec) in enumerate(side.items()):
        if spec["kind"] == "categorical":
            x = keras.Input(shape=(), dtype="int32", name=name)
            emb = layers.Embedding(spec["n_values"], spec["dim"], name=f"{name}_embedding",
                                   embeddings_initializer=keras.initializers.RandomUniform(
                                       -0.05, 0.05, seed=_sub(seed, 10 + n)))
            parts.append(emb(x))
        else:
            x = keras.Input(shape=(spec["width"],), dtype="float32", name=name)
            parts.append(x)
        inputs[name] = x
    return inputs, parts


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
    check_int("n_factors", n_factors)
    check_number("reg", reg)
    check_number("reg_bias", reg if reg_bias is None else reg_bias)
    check_choice("reg_mode", reg_mode, REG_MODES)
    check_number("init_std", init_std)
    check_number("global_mean", global_mean, minimum=-np.inf)
    check_number("learning_rate", learning_rate, strict=True)


def build_mf_model(n_users, n_items, n_factors=30, reg=0.0, use_bias=True, *, reg_bias=None, global_mean=0.0,
                   reg_mode="per_rating", init_std=0.1, learning_rate=1e-3, random_state=None, compile=True):
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
    random_state : int, optional
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
                                  init_std, random_state)
    out = layers.Add(name="dot_plus_biases")([dot, *biases]) if biases else dot
    out = AddConstant(global_mean, name="global_mean")(out)  # (batch, 1)
    model = keras.Model({"user": u_in, "item": i_in}, out, name="matrix_factorization")
    return _compile(model, "regression", learning_rate) if compile else model


def _mlp(x, hidden, dropout, seed, prefix=""):
    x = layers.Dropout(dropout[0], seed=_sub(seed, 50), name=f"{prefix}dropout_0")(x)
    for n, (h, p) in enumerate(zip(hidden, dropout[1:]), start=1):
        init = keras.initializers.GlorotUniform(_sub(seed, 50 + 2 * n))
        x = layers.Dense(h, activation="relu", kernel_initializer=init,
                         name=f"{prefix}dense_{n}")(x)
        x = layers.Dropout(p, seed=_sub(seed, 51 + 2 * n), name=f"{prefix}dropout_{n}")(x)
    return x


def build_deep_model(n_users, n_items, n_factors=ARTICLE_K, dropout=ARTICLE_DROPOUT, hidden=ARTICLE_HIDDEN,
                     side_features=None, output="regression", n_classes=None, *, learning_rate=1e-3, output_bias=None,
                     random_state=None, compile=True):
    """The article's deep model (深度模型): concatenated embeddings, then Dropout/Dense relu layers.

    Defaults are the article's: ``k=128`` (here ``n_factors``); Dropout 0.2, Dense 128 relu, Dropout 0.5,
    Dense 32 relu, Dropout 0.5, Dense 8 relu, Dropout 0.5, Dense 1 linear; MSE; Adam.

    Parameters
    ----------
    n_users, n_items : int
        Rows of the user and movie embedding tables (IdMap indices).
    n_factors : int
        Length ``k`` of the user and movie embeddings (the article's ``k``).
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
    random_state : int, optional
        Seeds initializers and dropout masks.
    compile : bool

    Returns
    -------
    keras.Model
        Inputs ``{"user", "item", *side_features}``; output (batch, 1) or (batch, n_classes).
    """
    check_int("n_users", n_users)
    check_int("n_items", n_items)
    check_int("n_factors", n_factors)
    dropout, hidden = _check_dropout(dropout, hidden)
    side = check_side_specs(side_features)
    check_choice("output", output, OUTPUTS)
    if output == "softmax":
        check_int("n_classes (for output='softmax')", n_classes, minimum=2)
    check_number("learning_rate", learning_rate, strict=True)
    if output_bias is not None:
        check_number("output_bias", output_bias, minimum=-np.inf)
    seed = random_state
    u_in, i_in = _id_inputs()
    uniform = lambda n: keras.initializers.RandomUniform(-0.05, 0.05, seed=_sub(seed, n))  # noqa: E731
    k = n_factors
    user_vec = layers.Embedding(n_users, k, embeddings_initializer=uniform(1), name="user_embedding")(u_in)  # (b, k)
    item_vec = layers.Embedding(n_items, k, embeddings_initializer=uniform(2), name="item_embedding")(i_in)  # (b, k)
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


def build_hybrid_model(n_users, n_items, n_factors=30, reg=0.0, n_mlp_factors=32, hidden=(64, 16),
                       dropout=(0.2, 0.3, 0.3), side_features=None, *, global_mean=0.0, reg_bias=None, init_std=0.1,
                       learning_rate=1e-3, random_state=None, compile=True):
    """MF and a small MLP side by side: ``mu + b_u + b_i + p_u . q_i + mlp([u_k, i_k, side])``.

    The MF part is :func:`build_mf_model` (``n_factors``, per-rating L2 ``reg``); the MLP
    has its own ``n_mlp_factors``-dimensional embeddings, the side features, dropout, and a linear
    output that starts at 0, so training starts from plain MF.

    Returns
    -------
    keras.Model with inputs ``{"user", "item", *side_features}`` and output (batch, 1).
    """
    _check_mf_args(n_users, n_items, n_factors, reg, reg_bias, "per_rating", init_std, global_mean, learning_rate)
    check_int("n_mlp_factors", n_mlp_factors)
    dropout, hidden = _check_dropout(dropout, hidden)
    side = check_side_specs(side_features)
    reg_bias = reg if reg_bias is None else reg_bias
    seed, k = random_state, n_mlp_factors
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
