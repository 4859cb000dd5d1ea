"""The one place that imports Keras (with its TensorFlow backend) for the course, quietly.

Importing this module sets the environment TensorFlow reads once, at its own import:
``TF_CPP_MIN_LOG_LEVEL=3`` (no C++ log lines in notebook outputs) and
``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN's custom kernels change floating-point results
from machine to machine). Values already in the environment are kept. Every other
module gets ``keras`` from here, never by importing it first.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from .._quiet import redirect_fds  # noqa: E402

__all__ = ["keras", "layers", "ops", "set_seed"]


def _import_keras_quietly():
    """Import keras (and its TensorFlow backend) with the C-level stderr muted.

    TensorFlow 2.21 prints absl lines with timestamps and process ids ("Could not
    find cuda drivers ...") *before* its logging reads TF_CPP_MIN_LOG_LEVEL, so the
    environment variable cannot silence them.
    """
    with redirect_fds(fds=(2,)):
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow

            # "N out of the last M calls ... triggered tf.function retracing" (a predict() per row does that)
            # names a memory address and a count that varies: keep it out of notebook outputs
            tensorflow.get_logger().setLevel("ERROR")
    return keras


keras = _import_keras_quietly()
layers, ops = keras.layers, keras.ops


def set_seed(random_state):
    """Seed Python, NumPy and the backend, and make TensorFlow ops deterministic."""
    keras.utils.set_random_seed(int(random_state))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
