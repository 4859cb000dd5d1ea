"""Two tiny Keras layers the course's models need (serializable, so saved ``.keras`` models reload)."""
from __future__ import annotations

from .backend import keras, layers, ops

__all__ = ["PerRatingL2", "AddConstant"]


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
