"""Apache Spark's ALS for the course (notebook 07), and the tools to measure how cost grows with data.

Spark is optional (``pip install -e .[spark]``) and needs a Java runtime. This module
imports without either; only the functions that start Spark need them.

* :func:`check_java` / :func:`java_available`: is a usable ``java`` there? When it is
  not, :class:`JavaMissingError` says in one line what to install (in a notebook it
  shows that line and no stack trace).
* :func:`spark_session`: a quiet session (log level ERROR, the JVM's own console
  output sent to a log file, no progress bars); for ``local`` masters it binds to
  ``127.0.0.1`` (``SPARK_LOCAL_IP``) so a laptop's network settings do not matter.
* :func:`fit_spark_als`: ``pyspark.ml.recommendation.ALS`` on a pandas ratings table
  (``user_id, item_id, rating``): fit time, test predictions and RMSE.
* :func:`make_movielens_like`: synthetic ratings shaped like MovieLens (power-law
  popularity of movies, heavy-tailed user activity, at least 20 ratings per user,
  half-star ratings), from 1e5 to 1e7 ratings and beyond.
* :func:`memory_model`: ``(users + items) * k * 8`` bytes of factors plus a cost
  per rating, and :func:`max_ratings_fitting`, its inverse.

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

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._base import check_ratings
from .encoding import IdMap

__all__ = [
    "JavaMissingError", "java_version", "java_available", "check_java", "pyspark_available",
    "spark_session", "spark_ratings_frame", "collect_predictions", "SparkALSResult", "als_estimator",
    "fit_spark_als",
    "jvm_pid", "peak_rss_bytes", "movielens_shape", "power_law_weights", "make_movielens_like",
    "memory_model", "max_ratings_fitting",
]

INSTALL_HINT = (
    "install a Java 17 or 21 runtime (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless; "
    "macOS: brew install openjdk@17; conda: conda install -c conda-forge openjdk=17) "
    "and put java on PATH or set JAVA_HOME"
)


class JavaMissingError(RuntimeError):
    """No usable Java runtime for Spark. Its message is one line that says what to install."""

    def _render_traceback_(self):
        # IPython shows this instead of a stack trace
        return [f"JavaMissingError: {self}"]


# ---------------------------------------------------------------------------
# Java and pyspark
# ---------------------------------------------------------------------------
def _java_executable():
    """The ``java`` Spark would start: ``$JAVA_HOME/bin/java`` if JAVA_HOME is set, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = Path(home) / "bin" / "java"
        return str(exe) if exe.is_file() and os.access(exe, os.X_OK) else None
    return shutil.which("java")


def java_version():
    """``(major, text)`` of the Java that Spark would use, or ``None`` when there is none.

    ``text`` is the first line of ``java -version`` (e.g. ``openjdk version "17.0.15" 2025-04-15``);
    ``major`` is 8 for ``1.8.0_x`` and 17 for ``17.0.x``.
    """
    exe = _java_executable()
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stderr or out.stdout).strip().splitlines()
    if out.returncode != 0 or not text:
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', text[0])
    if not m:
        return None
    major = int(m.group(1))
    if major == 1 and m.group(2):  # "1.8.0_292" is Java 8
        major = int(m.group(2))
    return major, text[0]


def _required_java():
    """Minimum Java major version for the installed pyspark (17 for Spark 4, 8 for Spark 3)."""
    try:
        from importlib.metadata import version

        return 17 if int(version("pyspark").split(".")[0]) >= 4 else 8
    except Exception:  # pyspark not installed: ask for what current Spark needs
        return 17


def check_java():
    """Return the ``java -version`` line, or raise :class:`JavaMissingError` saying what to install.

    Raises
    ------
    JavaMissingError
        One line: no java (or a broken ``JAVA_HOME``), or a Java older than the
        installed Spark needs.
    """
    found = java_version()
    need = _required_java()
    if found is None:
        home = os.environ.get("JAVA_HOME")
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH and JAVA_HOME is not set"
        raise JavaMissingError(f"Spark needs Java but {where}: {INSTALL_HINT}.")
    major, text = found
    if major < need:
        raise JavaMissingError(f"Spark needs Java {need}+ but found {text!r}: {INSTALL_HINT}.")
    return text


def java_available() -> bool:
    """True when a Java recent enough for the installed Spark is there."""
    try:
        check_java()
    except JavaMissingError:
        return False
    return True


def pyspark_available() -> bool:
    """True when ``pyspark`` can be imported (the ``spark`` extra)."""
    import importlib.util

    return importlib.util.find_spec("pyspark") is not None


def _require_pyspark():
    if not pyspark_available():
        raise ImportError("pyspark is not installed: pip install -e .[spark]  (or pip install pyspark)")


# ---------------------------------------------------------------------------
# the session
# ---------------------------------------------------------------------------
def _local_cores(master):
    m = re.fullmatch(r"local\[(\d+|\*)(?:,\s*\d+)?\]", master)
    if master == "local":
        return 1
    if m:
        return (os.cpu_count() or 1) if m.group(1) == "*" else int(m.group(1))
    return None


def spark_session(master="local[*]", app_name="recsys-course", *, driver_memory="2g", shuffle_partitions=None,
                  log_level="ERROR", jvm_log=None, local_ip="127.0.0.1", checkpoint_dir=None, conf=None):
    """Start (or reuse) a quiet SparkSession.

    Parameters
    ----------
    master : str
        ``"local[*]"`` (all cores of this machine), ``"local[2]"``, or a cluster URL such as
        ``"spark://host:7077"``, ``"yarn"``, ``"k8s://https://host:443"``.
    app_name : str
    driver_memory : str
        JVM heap of the driver (in local mode the driver does all the work).
    shuffle_partitions : int, optional
        ``spark.sql.shuffle.partitions``; default: 2 x the local cores, or Spark's 200 on a cluster.
    log_level : str
        Spark's log level once the JVM is up.
    jvm_log : path, optional
        File that receives the JVM's console output (start-up banners, warnings);
        default ``spark-jvm.log`` in a temporary folder. Notebooks stay clean.
    local_ip : str or None
        ``SPARK_LOCAL_IP`` for local masters (not overridden when already set).
    checkpoint_dir : str, optional
        Where Spark checkpoints; ALS cuts its lineage there every ``checkpointInterval`` (10)
        iterations, without which 20+ iterations die of a ``StackOverflowError``. Default: a
        temporary folder for local masters; on a cluster pass a shared folder (e.g. on HDFS).
    conf : dict, optional
        Any further ``spark.*`` settings.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    JavaMissingError
        Before anything starts, when Java is missing (one line, what to install).
    """
    _require_pyspark()
    check_java()
    cores = _local_cores(master)
    if cores is not None and local_ip:
        os.environ.setdefault("SPARK_LOCAL_IP", local_ip)
    from pyspark.sql import SparkSession

    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": driver_memory,
        "spark.sql.session.timeZone": "UTC",
    }
    if shuffle_partitions is None and cores is not None:
        shuffle_partitions = 2 * cores
    if shuffle_partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(int(shuffle_partitions))
    settings.update(conf or {})
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    log = Path(jvm_log) if jvm_log else _staging_root() / "spark-jvm.log"
    with _redirect_fds(log), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark's note about pandas 3
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    if checkpoint_dir is None and cores is not None:
        checkpoint_dir = str(_staging_root() / "checkpoints")
    if checkpoint_dir is not None:
        spark.sparkContext.setCheckpointDir(str(checkpoint_dir))
    return spark


class _redirect_fds:
    """Point file descriptors 1 and 2 at a log file while the JVM starts (it inherits them)."""

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self):
        import sys

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # pragma: no cover - exotic streams
                pass
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.saved = [os.dup(1), os.dup(2)]
        os.dup2(self.fd, 1)
        os.dup2(self.fd, 2)
        return self

    def __exit__(self, *exc):
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)
        os.close(self.fd)
        return False


_STAGING = None


def _staging_root():
    """A temporary folder for this process (data files Spark reads, the JVM log), removed at exit."""
    global _STAGING
    if _STAGING is None:
        _STAGING = Path(tempfile.mkdtemp(prefix="recsys-spark-"))
        atexit.register(shutil.rmtree, _STAGING, True)
    return _STAGING


# ---------------------------------------------------------------------------
# data in, predictions out
# ---------------------------------------------------------------------------
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
        if _local_cores(spark.sparkContext.master) is None:
            # a cluster and no shared folder: ship the rows through the driver (fine for course-sized data)
            rows = zip(range(len(user)), user.tolist(), item.tolist(), rating.tolist())
            return spark.createDataFrame(list(rows), schema=schema).repartition(max(1, int(n_files)), "row")
        staging_dir = _staging_root()
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


def als_estimator(*, rank=10, reg=0.1, n_iter=10, seed=0, implicit=False, alpha=1.0, cold_start="nan",
                  n_blocks=2):
    """``pyspark.ml.recommendation.ALS`` on columns ``user, item, rating`` (see :func:`fit_spark_als`)."""
    from pyspark.ml.recommendation import ALS

    if cold_start not in ("nan", "drop"):
        raise ValueError(f"cold_start must be 'nan' or 'drop', got {cold_start!r}")
    return ALS(rank=int(rank), regParam=float(reg), maxIter=int(n_iter), seed=int(seed), implicitPrefs=implicit,
               alpha=float(alpha), coldStartStrategy=cold_start, numUserBlocks=int(n_blocks),
               numItemBlocks=int(n_blocks), userCol="user", itemCol="item", ratingCol="rating")


def fit_spark_als(spark, train, test=None, *, rank=10, reg=0.1, n_iter=10, seed=0, center=True,
                  implicit=False, alpha=1.0, cold_start="nan", n_blocks=2, rating_scale=None, staging_dir=None):
    """Fit Spark's ALS on a pandas ratings table; score a test table.

    Parameters
    ----------
    spark : SparkSession
    train : DataFrame with ``user_id, item_id, rating``
    test : DataFrame with ``user_id, item_id, rating``, optional
    rank, reg, n_iter, seed : ALS ``rank``, ``regParam``, ``maxIter``, ``seed``
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
    als = als_estimator(rank=rank, reg=reg, n_iter=n_iter, seed=seed, implicit=implicit, alpha=alpha,
                        cold_start=cold_start, n_blocks=n_blocks)
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


def jvm_pid(spark):
    """Process id of the JVM behind ``spark`` (the driver; in local mode it does all the work)."""
    return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())


def peak_rss_bytes(pid=None):
    """Peak resident memory (``VmHWM``) of a process so far, in bytes; ``None`` off Linux.

    Parameters
    ----------
    pid : int, optional; default this process
    """
    path = Path(f"/proc/{pid or 'self'}/status")
    try:
        for line in path.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------
# synthetic MovieLens-shaped data
# ---------------------------------------------------------------------------
def movielens_shape(n_ratings, ratings_per_user=140.0, items_per_sqrt_rating=3.3):
    """``(n_users, n_items)`` of a MovieLens-like set with ``n_ratings`` ratings.

    Users grow with the ratings (MovieLens 10M/20M/25M: about 140-150 ratings per user);
    movies grow like the square root (1e5 ratings: about 1,000 movies; 1e7: about 10,000,
    close to ml-10m's 10,677).
    """
    n_ratings = int(n_ratings)
    if n_ratings < 1000:
        raise ValueError(f"n_ratings must be at least 1000, got {n_ratings}")
    n_users = max(20, int(round(n_ratings / ratings_per_user)))
    n_items = max(50, int(round(items_per_sqrt_rating * np.sqrt(n_ratings))))
    return n_users, n_items


def power_law_weights(n, exponent, offset):
    """Probabilities ``proportional to (rank + offset) ** -exponent`` for ranks 1..n. Shape (n,).

    ``offset`` flattens the head (the most popular few are not far apart), ``exponent``
    sets the tail's log-log slope.
    """
    w = (np.arange(1, n + 1) + float(offset)) ** -float(exponent)
    return w / w.sum()


def make_movielens_like(n_ratings, *, seed=0, min_per_user=20, item_exponent=1.0, user_exponent=0.8,
                        rank=5, noise=0.7, ratings_per_user=140.0, items_per_sqrt_rating=3.3):
    """Synthetic ratings with MovieLens' shape: exactly ``n_ratings`` distinct (user, movie) pairs.

    * movie popularity follows a power law (:func:`power_law_weights`, tail slope
      ``-item_exponent``), the head flattened over the top 1% of movies;
    * user activity is heavy-tailed too (slope ``-user_exponent``) with at least
      ``min_per_user`` ratings each, as in every MovieLens set; no user rates more than
      a third of the movies (on sets below about 1e5 ratings: 1.5 times the mean);
    * ratings are half stars in [0.5, 5] from a rank-``rank`` model with biases plus noise.

    Movies are drawn for each user by popularity without repeats (duplicates are redrawn; a
    user still short after 30 rounds gets the rest uniformly from the movies it has not rated).
    Ids are 0-based: user 0 is the most active user, movie 0 the most popular movie.

    Parameters
    ----------
    n_ratings : int, at least 1000
    seed : int

    Returns
    -------
    pandas.DataFrame with columns ``user_id`` (int32), ``item_id`` (int32), ``rating`` (float64)
    """
    n_users, n_items = movielens_shape(n_ratings, ratings_per_user, items_per_sqrt_rating)
    n_ratings = int(n_ratings)
    # at most a third of the movies per user (more on tiny sets, where users must rate more of them)
    cap = min(n_items, max(min_per_user, n_items // 3, int(np.ceil(1.5 * n_ratings / n_users))))
    if n_users * min_per_user > n_ratings:
        raise ValueError(f"min_per_user={min_per_user} needs more ratings than n_ratings={n_ratings}: lower it")
    rng = np.random.default_rng(seed)
    # ratings per user: the floor plus a power-law share of the rest, capped (excess goes to others)
    counts = np.full(n_users, min_per_user, dtype=np.int64)
    w = power_law_weights(n_users, user_exponent, 0.01 * n_users)
    while counts.sum() < n_ratings:
        room = cap - counts
        share = np.where(room > 0, w, 0.0)
        extra = rng.multinomial(n_ratings - counts.sum(), share / share.sum())
        counts += np.minimum(extra, room)
    pop = power_law_weights(n_items, item_exponent, 0.01 * n_items)
    cdf = np.cumsum(pop)
    keys = np.empty(0, dtype=np.int64)  # user * n_items + item of the pairs kept so far, sorted
    need = counts.copy()
    for _ in range(30):
        # draw more than needed, in order; keep each user's first `need` new distinct movies
        # (sequential sampling without replacement, proportional to popularity)
        users = np.repeat(np.arange(n_users, dtype=np.int64), need + need // 2 + np.where(need > 0, 2, 0))
        cand = users * n_items + np.minimum(np.searchsorted(cdf, rng.random(len(users)) * cdf[-1]), n_items - 1)
        seen = np.searchsorted(keys, cand)
        old = keys[np.minimum(seen, len(keys) - 1)] == cand if len(keys) else np.zeros(len(cand), bool)
        first = np.zeros(len(cand), bool)
        first[np.unique(cand, return_index=True)[1]] = True
        new = np.flatnonzero(first & ~old)  # in draw order, so grouped by user
        rank_in_user = np.arange(len(new)) - np.searchsorted(users[new], users[new])
        new = new[rank_in_user < need[users[new]]]
        keys = np.sort(np.r_[keys, cand[new]])
        need -= np.bincount(users[new], minlength=n_users)
        if not need.any():
            break
    # the rare user still short (a heavy user whose missing movies are all unpopular): uniform fill
    for user in np.flatnonzero(need):
        rated = keys[(keys >= user * n_items) & (keys < (user + 1) * n_items)] - user * n_items
        free = np.setdiff1d(np.arange(n_items), rated)
        keys = np.sort(np.r_[keys, user * n_items + rng.choice(free, need[user], replace=False)])
    u, i = np.divmod(keys, n_items)
    # half-star ratings from a low-rank model with biases
    P = rng.normal(0, 0.6 / np.sqrt(rank), (n_users, rank))  # (n_users, rank)
    Q = rng.normal(0, 0.6 / np.sqrt(rank), (n_items, rank))  # (n_items, rank)
    bu, bi = rng.normal(0, 0.35, n_users), rng.normal(0, 0.45, n_items)
    truth = 3.5 + bu[u] + bi[i] + np.einsum("nk,nk->n", P[u], Q[i]) + rng.normal(0, noise, len(u))
    rating = np.clip(np.round(truth * 2) / 2, 0.5, 5.0)
    return pd.DataFrame({"user_id": u.astype(np.int32), "item_id": i.astype(np.int32), "rating": rating})


# ---------------------------------------------------------------------------
# the memory model
# ---------------------------------------------------------------------------
def memory_model(n_users, n_items, n_ratings, k, bytes_per_rating=24.0):
    """Bytes an ALS fit needs: ``(n_users + n_items) * k * 8`` for the factors plus the ratings.

    The default 24 bytes per rating are a user index, an item index and a rating in
    64 bits each. Real solvers need more per rating for their working arrays: measure
    the constant (benchmarks/bench_scaling.py) and pass it as ``bytes_per_rating``.

    Returns
    -------
    float, bytes
    """
    return float((n_users + n_items) * k * 8 + n_ratings * bytes_per_rating)


def max_ratings_fitting(memory_bytes, k, bytes_per_rating=24.0, **shape):
    """Largest MovieLens-shaped ``n_ratings`` whose :func:`memory_model` fits in ``memory_bytes``.

    Users and items grow with the ratings as in :func:`movielens_shape` (keywords go to it).
    Found by bisection on a log scale; returns an int.
    """
    def need(n):
        return memory_model(*movielens_shape(n, **shape), n, k, bytes_per_rating)

    lo, hi = 1000.0, 1000.0
    if need(lo) > memory_bytes:
        raise ValueError(f"{memory_bytes} bytes do not hold even 1000 ratings at k={k}")
    while need(hi) <= memory_bytes:
        lo, hi = hi, hi * 2
    for _ in range(100):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if need(mid) <= memory_bytes else (lo, mid)
        if hi - lo < 1:
            break
    return int(lo)
