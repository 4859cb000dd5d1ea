"""Data in, predictions out: input dicts, a checked ``fit``, one vectorized ``predict``, softmax helpers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import known_bias_prediction
from ..checks import check_choice, check_int, check_number
from ..encoding import IdMap
from ..features import SideFeatures
from .backend import keras, layers, set_seed

__all__ = ["make_inputs", "check_inputs", "fit_model", "predict_ratings", "mf_weights", "rating_levels", "to_classes",
           "print_summary"]


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


def fit_model(model, inputs, y, *, validation_data=None, n_epochs=10, batch_size=1024, patience=None, monitor=None,
              random_state=None, verbose=0, callbacks=()):
    """``model.fit`` after :func:`check_inputs`, with optional EarlyStopping(restore_best_weights=True).

    Parameters
    ----------
    model : compiled keras.Model
    inputs : dict name -> array (n rows); y : (n,) targets (ratings, or classes for softmax)
    validation_data : (inputs, y), optional
        Carve it out of the *training* data (never the test set).
    n_epochs, batch_size : int
        Passes over the data (Keras's ``epochs``) and ratings per gradient step.
    patience : int, optional
        Stop after this many epochs without improvement of ``monitor`` and restore the best weights.
    monitor : str, optional
        Defaults to ``"val_rmse"`` (regression) / ``"val_loss"`` (softmax) with validation data, else ``"loss"``.
    random_state : int, optional
        Calls :func:`~recsys_utils.keras_models.set_seed` first (shuffling and dropout then repeat exactly).

    Returns
    -------
    pandas.DataFrame, one row per epoch (``epoch``, ``loss``, ``rmse``, ``val_loss``, ``val_rmse`` ...)
    """
    check_int("n_epochs", n_epochs)
    check_int("batch_size", batch_size)
    if patience is not None:
        check_int("patience", patience)
    inputs, _ = check_inputs(model, inputs, y)
    val = None
    if validation_data is not None:
        vx, vy = validation_data
        vx, _ = check_inputs(model, vx, vy, what="validation inputs")
        val = (vx, np.asarray(vy))
    if random_state is not None:
        set_seed(random_state)
    cbs = list(callbacks)
    if patience is not None:
        if monitor is None:
            names = [m.name for m in model.metrics if hasattr(m, "name")]
            metric = "rmse" if "rmse" in names or model.loss == "mse" else "loss"
            monitor = f"val_{metric}" if val is not None else metric
        cbs.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True))
    hist = model.fit(inputs, np.asarray(y), validation_data=val, epochs=n_epochs, batch_size=batch_size,
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
    check_choice("how", how, ("expected", "argmax"))
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
        return known_bias_prediction(w["mu"], w["bu"], w["bi"], u[unknown], i[unknown])
    check_number("fallback", fallback, minimum=-np.inf)
    return np.full(int(unknown.sum()), float(fallback))



def print_summary(model):
    """``model.summary()`` as plain text: no colour codes, and no empty HTML block in stored notebook outputs.

    Keras renders the summary with ``rich``, whose console detects Jupyter and then adds an
    empty ``<pre>`` display to the cell even when the text is captured; telling it, for this
    call only, that it is not in Jupyter leaves just the printed table.
    """
    import rich.console

    lines = []
    detect = rich.console._is_jupyter
    rich.console._is_jupyter = lambda: False
    try:
        model.summary(print_fn=lambda text, **kwargs: lines.append(text))
    finally:
        rich.console._is_jupyter = detect
    print("\n".join(lines))
