"""Apache Spark's ALS for the course (notebook 07): Java, a quiet session, ALS on pandas tables.

Spark is optional (``pip install -e .[spark]``) and needs a Java runtime. This module
imports without either; only the functions that start Spark need them.

* :func:`check_java` / :func:`java_available`: is a usable ``java`` there? When it is
  not, :class:`JavaMissingError` says in one line what to install (in a notebook it
  shows that line and no stack trace).
* :func:`spark_session`: a quiet session (log level ERROR, the JVM's own console
  output sent to a log file, no progress bars); for ``local`` masters it binds to
  ``127.0.0.1`` (``SPARK_LOCAL_IP``) so a laptop's network settings do not matter.
* :func:`fit_spark_als`: ``pyspark.ml.recommendation.ALS`` on a pandas ratings table
  (``user_id, item_id, rating``): fit time, test predictions and RMSE. Its arguments use
  the course's names (``n_factors``, ``n_epochs``, ``random_state``), mapped to Spark's
  ``rank``, ``maxIter`` and ``seed``.

Modules: :mod:`.java` (is Java there?), :mod:`.session` (the session, the JVM's pid),
:mod:`.als` (ALS on pandas tables). The data and the memory model of notebook 07's
scaling experiment need no Spark: :func:`recsys_utils.synthetic.make_movielens_like`
and :mod:`recsys_utils.memory`.

Spark's ALS and ours solve the same problem
-------------------------------------------
Spark's explicit-feedback ALS minimizes
``sum (r_ui - p_u.q_i)^2 + regParam * (sum_u n_u |p_u|^2 + sum_i n_i |q_i|^2)``:
the penalty of each user (item) is scaled by its number of ratings (ALS-WR, Zhou et
al. 2008). That is :class:`recsys_utils.mf.MatrixFactorization` with ``reg = regParam``
and ``biased=False``, except that Spark has no global mean: ``center=True`` (the
default here) subtracts the training mean before Spark sees the ratings and adds it
back to the predictions.
"""
from __future__ import annotations

from .als import SparkALSResult, als_estimator, collect_predictions, fit_spark_als, spark_ratings_frame
from .java import INSTALL_HINT, JavaMissingError, check_java, java_available, java_version, pyspark_available
from .session import jvm_pid, local_cores, spark_session

__all__ = [
    "JavaMissingError", "INSTALL_HINT", "java_version", "java_available", "check_java", "pyspark_available",
    "spark_session", "jvm_pid", "local_cores",
    "spark_ratings_frame", "collect_predictions", "SparkALSResult", "als_estimator", "fit_spark_als",
]
