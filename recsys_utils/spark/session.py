"""A quiet SparkSession for a laptop or a cluster, and the JVM behind it."""
from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from .._quiet import redirect_fds
from .java import check_java, require_pyspark

__all__ = ["spark_session", "jvm_pid", "local_cores", "staging_root"]


def local_cores(master):
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
    require_pyspark()
    check_java()
    cores = local_cores(master)
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
    log = Path(jvm_log) if jvm_log else staging_root() / "spark-jvm.log"
    with redirect_fds(log), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark's note about pandas 3
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    if checkpoint_dir is None and cores is not None:
        checkpoint_dir = str(staging_root() / "checkpoints")
    if checkpoint_dir is not None:
        spark.sparkContext.setCheckpointDir(str(checkpoint_dir))
    return spark


_STAGING = None


def staging_root():
    """A temporary folder for this process (data files Spark reads, the JVM log), removed at exit."""
    global _STAGING
    if _STAGING is None:
        _STAGING = Path(tempfile.mkdtemp(prefix="recsys-spark-"))
        atexit.register(shutil.rmtree, _STAGING, True)
    return _STAGING


def jvm_pid(spark):
    """Process id of the JVM behind ``spark`` (the driver; in local mode it does all the work)."""
    return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
