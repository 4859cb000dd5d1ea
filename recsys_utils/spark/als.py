"""Spark's ALS on pandas ratings tables: data in, predictions back in row order, RMSE."""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..checks import check_int, check_number, check_ratings
from ..encoding import IdMap
from .session import local_cores, staging_root

__all__ = ["spark_ratings_frame", "collect_predictions", "SparkALSResult", "als_estimator", "fit_spark_als"]


def spark_ratings_frame(spark, user, item, rating=None, *, n_files=2, staging_dir=None):
    """A Spark DataFrame ``(row, user, item, rating)`` from index arrays, read from CSV files.

    The arrays are written to ``n_files`` CSV files that Spark reads with a fixed schema;
    no Arrow or Python workers involved, and the same files give the same partitions on
    every run. On a cluster ``staging_dir`` must be storage every node can read; without
    one the rows go through the driver (``createDataFrame``), which is fine for the
    course's data sets. Big data should be read where it lies (``spark.read.csv``).

    Parameters
    ----------
    spark : SparkSession
    user, item : int arrays of shape (n,), contiguous indices (int32 range)
    rating : float array of shape (n,), optional (zeros when omitted)
    n_files : int, number of files (and input partitions)
    staging_dir : str or path, optional; default a temporary folder (local masters)

    Returns
    -------
    pyspark.sql.DataFrame with ``n`` rows; ``row`` is the position in the input arrays.
    """
    user, item = np.asarray(user), np.asarray(item)
    rating = np.zeros(len(user)) if rating is None else np.asarray(rating, dtype=float)
    if not len(user) == len(item) == len(rating):
        raise ValueError(f"user, item and rating must have the same length, got {len(user)}, {len(item)}, "
                         f"{len(rating)}")
    schema = "row LONG, user INT, item INT, rating DOUBLE"
    if staging_dir is None:
        if local_cores(spark.sparkContext.master) is None:
            # a cluster and no shared folder: ship the rows through the driver (fine for course-sized data)
            rows = zip(range(len(user)), user.tolist(), item.tolist(), rating.tolist())
            return spark.createDataFrame(list(rows), schema=schema).repartition(max(1, int(n_files)), "row")
        staging_dir = staging_root()
    folder = Path(tempfile.mkdtemp(prefix="ratings-", dir=staging_dir))
    table = pd.DataFrame({"row": np.arange(len(user)), "user": user, "item": item, "rating": rating})
    for k, chunk in enumerate(np.array_split(np.arange(len(table)), max(1, int(n_files)))):
        table.iloc[chunk].to_csv(folder / f"part-{k:05d}.csv", header=False, index=False)
    return spark.read.csv(str(folder), schema=schema)


def collect_predictions(model, frame, n):
    """``model.transform(frame)`` back in row order: float array (n,), NaN where Spark gave none.

    Spark joins the factors onto the rows, so the output order is not the input order;
    the ``row`` column puts every prediction back in place. Rows that the cold-start
    strategy ``"drop"`` removed stay NaN.
    """
    out = np.full(n, np.nan)
    rows = model.transform(frame).select("row", "prediction").collect()
    if rows:
        idx = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        val = np.fromiter((np.nan if r[1] is None else r[1] for r in rows), dtype=float, count=len(rows))
        out[idx] = val
    return out


@dataclass
class SparkALSResult:
    """What :func:`fit_spark_als` returns.

    Attributes
    ----------
    model : pyspark.ml.recommendation.ALSModel
    ids : IdMap, the users and items of the training table (Spark's ``user``/``item`` are its indices)
    mean : float, subtracted before fitting (0.0 when ``center=False``)
    fit_seconds : float, wall-clock time of ``ALS.fit``
    predictions : (n_test,) clipped predictions, with ``mean`` for cold pairs; ``None`` without test
    cold : (n_test,) bool, pairs Spark could not score (unseen user or item); ``None`` without test
    rmse : float or None
    """

    model: object
    ids: IdMap
    mean: float
    fit_seconds: float
    predictions: np.ndarray | None = None
    cold: np.ndarray | None = None
    rmse: float | None = None


def als_estimator(*, n_factors=10, reg=0.1, n_epochs=10, random_state=0, implicit=False, alpha=1.0,
                  cold_start="nan", n_blocks=2):
    """``pyspark.ml.recommendation.ALS`` on columns ``user, item, rating`` (see :func:`fit_spark_als`).

    The course's names map to Spark's: ``n_factors`` -> ``rank``, ``n_epochs`` -> ``maxIter``,
    ``random_state`` -> ``seed``, ``reg`` -> ``regParam``.
    """
    from pyspark.ml.recommendation import ALS

    check_int("n_factors", n_factors)
    check_int("n_epochs", n_epochs)
    check_int("n_blocks", n_blocks)
    check_number("reg", reg)
    check_number("alpha", alpha)
    if cold_start not in ("nan", "drop"):
        raise ValueError(f"cold_start must be 'nan' or 'drop', got {cold_start!r}")
    return ALS(rank=int(n_factors), regParam=float(reg), maxIter=int(n_epochs), seed=int(random_state),
               implicitPrefs=implicit,
               alpha=float(alpha), coldStartStrategy=cold_start, numUserBlocks=int(n_blocks),
               numItemBlocks=int(n_blocks), userCol="user", itemCol="item", ratingCol="rating")


def fit_spark_als(spark, train, test=None, *, n_factors=10, reg=0.1, n_epochs=10, random_state=0, center=True,
                  implicit=False, alpha=1.0, cold_start="nan", n_blocks=2, rating_scale=None, staging_dir=None):
    """Fit Spark's ALS on a pandas ratings table; score a test table.

    Parameters
    ----------
    spark : SparkSession
    train : DataFrame with ``user_id, item_id, rating``
    test : DataFrame with ``user_id, item_id, rating``, optional
    n_factors, reg, n_epochs, random_state : ALS ``rank``, ``regParam``, ``maxIter``, ``seed``
    center : bool
        Fit on ``rating - mean(train)`` and add the mean back (Spark has no global mean).
    implicit, alpha : ALS ``implicitPrefs`` and ``alpha``
    cold_start : {"nan", "drop"}, ALS ``coldStartStrategy``
    n_blocks : int, ``numUserBlocks`` and ``numItemBlocks`` (and the number of input files)
    rating_scale : (float, float), optional; predictions are clipped to it (default: train min, max)

    Returns
    -------
    SparkALSResult
    """
    train = check_ratings(train)
    ids = IdMap.from_ratings(train)
    r = train["rating"].to_numpy(dtype=float)
    mean = float(r.mean()) if center else 0.0
    frame = spark_ratings_frame(spark, ids.user_index(train["user_id"]), ids.item_index(train["item_id"]),
                                r - mean, n_files=n_blocks, staging_dir=staging_dir)
    als = als_estimator(n_factors=n_factors, reg=reg, n_epochs=n_epochs, random_state=random_state,
                        implicit=implicit, alpha=alpha, cold_start=cold_start, n_blocks=n_blocks)
    start = time.perf_counter()
    model = als.fit(frame)
    result = SparkALSResult(model, ids, mean, time.perf_counter() - start)
    if test is not None:
        test = check_ratings(test, what="test")
        # unseen ids become the index one past the end: Spark has no factors for them (cold)
        u = ids.user_index(test["user_id"])
        i = ids.item_index(test["item_id"])
        u, i = np.where(u < 0, ids.n_users, u), np.where(i < 0, ids.n_items, i)
        raw = collect_predictions(model, spark_ratings_frame(spark, u, i, n_files=n_blocks,
                                                             staging_dir=staging_dir), len(test))
        lo, hi = rating_scale if rating_scale is not None else (r.min(), r.max())
        cold = np.isnan(raw)
        pred = np.clip(np.where(cold, 0.0, raw) + mean, lo, hi)
        e = test["rating"].to_numpy(dtype=float) - pred
        result.predictions, result.cold, result.rmse = pred, cold, float(np.sqrt(e @ e / len(e)))
    return result
