"""The one place that imports Keras (with its TensorFlow backend) for the course, quietly and reproducibly.

Importing this module sets the environment TensorFlow reads once, at its own import:
``TF_CPP_MIN_LOG_LEVEL=3`` (no C++ log lines in notebook outputs) and
``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN's custom kernels change floating-point results
from machine to machine). Values already in the environment are kept. Every other
module gets ``keras`` from here, never by importing it first.

Threads
-------
TensorFlow splits large matrix products over its thread pool, and the split sets
the order of the floating-point sums: by default the pool has one thread per core,
so a 1-core and a 2-core run of the same seeded model differ in the last digits of
its predictions (measured: ``taskset -c 0`` changed a notebook's RMSE in the fourth
decimal). Right after import, this module fixes both pools to :data:`TF_THREADS`
threads (2, the workshop laptop's cores; ``$RECSYS_TF_THREADS`` overrides it), so
one machine gives the same numbers whatever its core count. Other CPU models (another
instruction set) still differ in the last digits: the course checks TF-trained
numbers with tolerances, never byte for byte.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from .._quiet import redirect_fds  # noqa: E402

__all__ = ["keras", "layers", "ops", "set_seed", "TF_THREADS"]

TF_THREADS = int(os.environ.get("RECSYS_TF_THREADS", "2"))


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
            _fix_threads(tensorflow)
    return keras


def _fix_threads(tensorflow):
    """Both thread pools to TF_THREADS (possible only before TensorFlow runs its first operation)."""
    try:
        tensorflow.config.threading.set_intra_op_parallelism_threads(TF_THREADS)
        tensorflow.config.threading.set_inter_op_parallelism_threads(TF_THREADS)
    except RuntimeError:  # TensorFlow already ran something in this process: its pools are fixed now
        import warnings

        warnings.warn(
            "TensorFlow was initialized before recsys_utils.keras_models was imported, so its thread pools "
            "follow the core count and results may differ between machines: import recsys_utils.keras_models "
            "first (restart the kernel)",
            RuntimeWarning,
            stacklevel=3,
        )


keras = _import_keras_quietly()
layers, ops = keras.layers, keras.ops


def set_seed(random_state):
    """Seed Python, NumPy and the backend, and make TensorFlow ops deterministic."""
    keras.utils.set_random_seed(int(random_state))
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
