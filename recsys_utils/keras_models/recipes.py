"""The TensorFlow-trained experiments of notebooks 03-05 as functions of a seed.

Each notebook trains its models through these functions, and ``benchmarks/bench_seeds.py`` calls the
very same functions with the notebook's parameters for several seeds: the notebook prints its verdicts
from that benchmark's ``results/seeds.csv`` (mean and spread over the seeds), so the two can never train
different models. Every function seeds Python, NumPy and TensorFlow itself (:func:`set_seed`) before it
builds a model, so its result depends only on its arguments, not on what ran before it.

The seed is the *model* seed (initial weights, batch order, dropout masks); the data split is passed in
ready-made, so every seed is scored on the same test ratings.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..encoding import IdMap
from ..features import side_features as _side_features
from ..metrics import rmse
from ..splits import per_user_split
from .backend import keras, set_seed
from .builders import ARTICLE_DROPOUT, build_deep_model, build_hybrid_model, build_mf_model
from .training import fit_model, make_inputs, predict_ratings, to_classes

__all__ = ["keras_mf", "deep_early_stopped", "improved_model", "EpochRMSE", "deep_with_curves",
           "nearest_level_accuracy"]


def _xy(ratings, ids, features=None, targets=None):
    y = ratings["rating"].to_numpy(float)
    return make_inputs(ratings, ids, features), (y if targets is None else targets(y))


def keras_mf(ids: IdMap, fit_part, val_part=None, *, global_mean, n_factors, reg, n_epochs, batch_size, seed,
             learning_rate=1e-3, patience=None, reg_mode="per_rating"):
    """Keras MF (``build_mf_model``) fitted on ``fit_part``; early-stopped on ``val_part`` when given.

    Notebook 03 (early-stopped, converged on all training ratings, table-wide L2 with
    ``reg_mode="weights"``), notebook 04 (the MF reference) and notebook 05 (a fixed number of epochs).

    Returns
    -------
    (keras.Model, history DataFrame)
    """
    set_seed(seed)
    model = build_mf_model(ids.n_users, ids.n_items, n_factors, reg, reg_mode=reg_mode, global_mean=global_mean,
                           learning_rate=learning_rate, random_state=seed)
    val = None if val_part is None else _xy(val_part, ids)
    hist = fit_model(model, *_xy(fit_part, ids), validation_data=val, n_epochs=n_epochs, batch_size=batch_size,
                     patience=patience if val is not None else None, random_state=seed)
    return model, hist


def deep_early_stopped(ids: IdMap, fit_part, val_part, *, n_factors, n_epochs, batch_size, patience, seed,
                       dropout=ARTICLE_DROPOUT, side=None, levels=None, learning_rate=1e-3, output_bias=None):
    """The article's architecture fitted on ``fit_part``, early-stopped on ``val_part``.

    ``side``: :class:`~recsys_utils.features.SideFeatures` to add as inputs. ``levels`` (the rating levels)
    makes it the softmax variant (cross-entropy over one class per level). ``output_bias="mean"`` starts
    the linear output at the mean rating of ``fit_part`` (notebook 04); None starts it at 0 (the article).

    Returns
    -------
    (keras.Model, history DataFrame)
    """
    softmax = levels is not None
    targets = (lambda y: to_classes(y, levels)) if softmax else None
    if output_bias == "mean":
        output_bias = float(fit_part["rating"].mean())
    set_seed(seed)
    model = build_deep_model(ids.n_users, ids.n_items, n_factors=n_factors, dropout=dropout,
                             side_features=None if side is None else side.specs,
                             output="softmax" if softmax else "regression",
                             n_classes=len(levels) if softmax else None, learning_rate=learning_rate,
                             output_bias=None if softmax else output_bias, random_state=seed)
    hist = fit_model(model, *_xy(fit_part, ids, side, targets), validation_data=_xy(val_part, ids, side, targets),
                     n_epochs=n_epochs, batch_size=batch_size, patience=patience, random_state=seed)
    return model, hist


def improved_model(ds, train_part, *, n_factors, reg, n_epochs, patience, validation_size, split_seed, seed,
                   batch_size=4096, learning_rate=0.01):
    """Notebook 04's improved model (MF + MLP + side features) fitted on ``train_part``.

    A validation split of ``validation_size`` of each user's ratings (seeded by ``split_seed``) is carved
    out of ``train_part`` for early stopping.

    Returns
    -------
    (keras.Model, IdMap, SideFeatures, epochs run)
    """
    split_ids = IdMap.from_ratings(train_part)
    feats = _side_features(ds, split_ids)
    fit_p, val_p = per_user_split(train_part, test_size=validation_size, random_state=split_seed)
    set_seed(seed)
    model = build_hybrid_model(split_ids.n_users, split_ids.n_items, n_factors, reg, side_features=feats.specs,
                               global_mean=float(train_part["rating"].mean()), learning_rate=learning_rate,
                               random_state=seed)
    hist = fit_model(model, *_xy(fit_p, split_ids, feats), validation_data=_xy(val_p, split_ids, feats),
                     n_epochs=n_epochs, batch_size=batch_size, patience=patience, random_state=seed)
    return model, split_ids, feats, len(hist)


class EpochRMSE(keras.callbacks.Callback):
    """After every epoch, the RMSE in inference mode (dropout off) on each named ratings table.

    ``score(model, ratings) -> float`` computes it (notebook 05: one vectorized predict, clipped).
    """

    def __init__(self, score, **tables):
        super().__init__()
        self.score, self.tables = score, tables
        self.rmse = {name: [] for name in tables}

    def on_epoch_end(self, epoch, logs=None):
        for name, ratings in self.tables.items():
            self.rmse[name].append(self.score(self.model, ratings))


def deep_with_curves(ids: IdMap, fit_on, test, *, fallback, clip, n_factors, n_epochs, batch_size, seed,
                     dropout=ARTICLE_DROPOUT):
    """Notebook 05: the article's network fitted on ``fit_on`` for ``n_epochs``, and its three errors per epoch.

    Returns
    -------
    (keras.Model, DataFrame indexed by epoch with ``sqrt(Keras loss)``, ``train RMSE, inference``, ``test RMSE``)
    """
    def score(model, ratings):
        return rmse(ratings["rating"], predict_ratings(model, ratings, ids, fallback=fallback, clip=clip))

    set_seed(seed)
    model = build_deep_model(ids.n_users, ids.n_items, n_factors=n_factors, dropout=dropout, random_state=seed)
    tracker = EpochRMSE(score, train=fit_on, test=test)
    hist = fit_model(model, *_xy(fit_on, ids), n_epochs=n_epochs, batch_size=batch_size, random_state=seed,
                     callbacks=[tracker])
    curves = pd.DataFrame({"sqrt(Keras loss)": np.sqrt(hist["loss"]).to_numpy(),
                           "train RMSE, inference": tracker.rmse["train"], "test RMSE": tracker.rmse["test"]},
                          index=pd.RangeIndex(1, len(hist) + 1, name="epoch"))
    return model, curves


def nearest_level_accuracy(pred, truth, levels) -> float:
    """Share of predictions that, rounded to the nearest rating level, hit the true rating (notebook 04)."""
    pred, levels = np.asarray(pred, dtype=float), np.asarray(levels, dtype=float)
    nearest = levels[np.abs(pred[:, None] - levels).argmin(axis=1)]
    return float(np.mean(nearest == np.asarray(truth, dtype=float)))
