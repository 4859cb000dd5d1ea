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
  :func:`side_features` for a MovieLens data set (all three live in
  :mod:`recsys_utils.features`, which needs no TensorFlow, and are re-exported here).

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
    The article's network, with its defaults: ``n_factors=128`` (the article's k) user and movie embeddings,
    concatenated, Dropout 0.2, Dense 128 relu, Dropout 0.5, Dense 32 relu,
    Dropout 0.5, Dense 8 relu, Dropout 0.5, Dense 1 linear; MSE; Adam. Or a
    softmax over the rating levels with cross-entropy (``output="softmax"``).
:func:`build_hybrid_model`
    MF (biases + dot product) plus an MLP on the concatenated embeddings and side
    features: the improved model of notebook 04.

Modules
-------
:mod:`.backend` (the one quiet import of Keras and TensorFlow; :func:`set_seed`),
:mod:`.custom_layers` (:class:`PerRatingL2`, :class:`AddConstant`), :mod:`.builders`
(the three builders), :mod:`.training` (inputs, fit, predict).

Helpers
-------
:func:`make_inputs` (ratings table + IdMap -> input dict), :func:`check_inputs`,
:func:`fit_model` (validated ``fit`` with EarlyStopping), :func:`predict_ratings`
(one vectorized ``predict``, unknown ids handled), :func:`mf_weights`,
:func:`rating_levels` / :func:`to_classes` for the softmax variant, :func:`set_seed`.
"""
from __future__ import annotations

from ..features import SideFeatures, categorical, check_side_specs, numeric, side_features
from .backend import keras, layers, ops, set_seed
from .builders import (
                       ARTICLE_DROPOUT,
                       ARTICLE_HIDDEN,
                       ARTICLE_K,
                       STEPS_PER_EXECUTION,
                       build_deep_model,
                       build_hybrid_model,
                       build_mf_model,
)
from .custom_layers import AddConstant, PerRatingL2
from .training import (
                       check_inputs,
                       fit_model,
                       make_inputs,
                       mf_weights,
                       predict_ratings,
                       print_summary,
                       rating_levels,
                       to_classes,
)

__all__ = [
    "keras", "layers", "ops", "set_seed",
    "ARTICLE_K", "ARTICLE_DROPOUT", "ARTICLE_HIDDEN", "STEPS_PER_EXECUTION",
    "build_mf_model", "build_deep_model", "build_hybrid_model", "PerRatingL2", "AddConstant",
    "categorical", "numeric", "check_side_specs", "SideFeatures", "side_features",
    "make_inputs", "check_inputs", "fit_model", "predict_ratings", "mf_weights", "rating_levels", "to_classes",
    "print_summary",
]
