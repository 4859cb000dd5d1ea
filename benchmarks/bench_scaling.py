"""How ALS cost grows with data: our NumPy ALS vs Spark's ALS in local mode, side by side.

Usage (from the repository root; Spark needs the ``spark`` extra and Java 17+)::

    .venv/bin/python benchmarks/bench_scaling.py [--sizes 1e5 3e5 1e6 3e6 1e7] [--master local[2]]

For every size the script draws synthetic MovieLens-shaped ratings
(:func:`recsys_utils.synthetic.make_movielens_like`: power-law movie popularity, heavy-tailed
users), saves them, and fits each engine **in its own fresh subprocess**, one after the
other, with the same rank, regularization and iterations:

* ``numpy``: ``MatrixFactorization(method="als", biased=False)`` with ``--threads`` BLAS threads;
* ``spark``: ``pyspark.ml.recommendation.ALS`` on ``--master`` (default ``local[2]``: the
  same two cores), after a small warm-up fit in the same JVM (start-up and JIT excluded).

Time. Each engine fits with 1 and with ``--iters`` iterations, ``--repeats`` times each (the
fastest kept; Spark above 1e6 ratings once, after a discarded 1-iteration fit on the same data). ``epoch_s`` is the
marginal cost of one iteration, ``(t_iters - t_1) / (iters - 1)``; ``setup_s = t_1 - epoch_s``
is the one-off part (NumPy: grouping ratings by user and item; Spark: reading the input,
shuffling the ratings into blocks, scheduling).

Peak memory, measured per engine in its subprocess:

* ``numpy``: ``work_mb`` is tracemalloc's peak during a separate 1-iteration fit (NumPy
  reports its array buffers to tracemalloc), i.e. what the fit allocates on top of the
  ratings table; ``rss_mb`` is the worker's peak resident set (``VmHWM``: interpreter,
  libraries, the table and the fit).
* ``spark``: ``work_mb`` is the sum of the JVM heap pools' peak usage during the two fits
  (``MemoryPoolMXBean``, reset after the warm-up; an upper bound, pools peak at different
  times); ``rss_mb`` is the JVM process's peak resident set (``VmHWM``), which also holds
  the JVM itself and whatever heap the garbage collector chose to keep (it grows towards
  ``--driver-memory``).

``model_mb`` is :func:`recsys_utils.memory.memory_model` with 24 bytes per rating.
Results go to ``benchmarks/results/scaling.csv`` (read by notebook 07). Timings on a shared
machine are noisy: compare the two engines within one size, and the slopes across sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, ROOT, blas_env, machine_header, positive_int, seconds, shown, timed, write_csv

COLUMNS = ["engine", "n_ratings", "n_users", "n_items", "rank", "iters", "fit_s", "fit1_s", "epoch_s",
           "setup_s", "work_mb", "rss_mb", "model_mb"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="*", type=float, default=[1e5, 3e5, 1e6, 3e6, 1e7],
                   help="numbers of ratings (default 1e5 3e5 1e6 3e6 1e7)")
    p.add_argument("--engines", nargs="*", default=["numpy", "spark"], choices=["numpy", "spark"])
    p.add_argument("--rank", type=int, default=10)
    p.add_argument("--reg", type=float, default=0.1)
    p.add_argument("--iters", type=int, default=5,
                   help="iterations of the long fit (default 5; at least 2: an epoch is (t_iters - t_1) / (iters - 1))")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=positive_int, default=3,
                   help="fits per timing, fastest kept (default 3; Spark above 1e6 ratings: 1)")
    p.add_argument("--threads", type=positive_int, default=2, help="BLAS threads for NumPy (default 2)")
    p.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    p.add_argument("--driver-memory", default="8g", help="Spark driver JVM heap (default 8g)")
    p.add_argument("--out", type=Path, default=RESULTS / "scaling.csv",
                   help="where to write the table (default benchmarks/results/scaling.csv, read by notebook 07)")
    p.add_argument("--worker", choices=["numpy", "spark"], help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.iters < 2:
        p.error(f"--iters must be at least 2, got {args.iters}: the time per epoch is the difference between "
                "an --iters fit and a 1-iteration fit, divided by iters - 1")
    return args


# ---------------------------------------------------------------------------
# workers: one engine, one data set, fresh process; print one JSON line
# ---------------------------------------------------------------------------
def _load(path):
    import numpy as np
    import pandas as pd

    with np.load(path) as z:
        return pd.DataFrame({"user_id": z["u"], "item_id": z["i"], "rating": z["r"]})


def worker_numpy(args):
    import tracemalloc

    from recsys_utils.memory import peak_rss_bytes
    from recsys_utils.mf import MatrixFactorization

    df = _load(args.data)

    def fit(n_iter):
        model = MatrixFactorization(n_factors=args.rank, reg=args.reg, n_epochs=n_iter, method="als",
                                    biased=False, random_state=args.seed)
        return timed(model.fit, df)[1]

    fit1 = seconds(lambda: fit(1), args.repeats, summary=min)
    fitn = seconds(lambda: fit(args.iters), args.repeats, summary=min)
    tracemalloc.start()
    fit(1)
    work = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"fit_s": fitn, "fit1_s": fit1, "work_mb": work / 2**20, "rss_mb": peak_rss_bytes() / 2**20}


def worker_spark(args):
    from recsys_utils.memory import peak_rss_bytes
    from recsys_utils.spark import als_estimator, fit_spark_als, jvm_pid, spark_ratings_frame, spark_session
    from recsys_utils.synthetic import make_movielens_like

    df = _load(args.data)
    spark = spark_session(args.master, "bench-scaling", driver_memory=args.driver_memory)
    fit_spark_als(spark, make_movielens_like(20_000, random_state=1), n_factors=args.rank, reg=args.reg, n_epochs=2,
                  random_state=args.seed)  # warm-up: JIT, first-job costs
    frame = spark_ratings_frame(spark, df["user_id"].to_numpy(), df["item_id"].to_numpy(),
                                df["rating"].to_numpy() - df["rating"].mean())  # read from CSV at every fit

    def fit(n_iter):
        return timed(als_estimator(n_factors=args.rank, reg=args.reg, n_epochs=n_iter, random_state=args.seed).fit,
                     frame)[1]

    fit(1)  # warm-up on these data
    jvm = spark.sparkContext._jvm
    pools = [p for p in jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans()
             if str(p.getType().toString()) == "Heap memory"]
    for p in pools:
        p.resetPeakUsage()
    repeats = args.repeats if len(df) <= 1_000_000 else 1
    fit1 = seconds(lambda: fit(1), repeats, summary=min)
    fitn = seconds(lambda: fit(args.iters), repeats, summary=min)
    heap = sum(p.getPeakUsage().getUsed() for p in pools)
    rss = peak_rss_bytes(jvm_pid(spark))
    spark.stop()
    return {"fit_s": fitn, "fit1_s": fit1, "work_mb": heap / 2**20, "rss_mb": rss / 2**20}


# ---------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------
def run_worker(engine, data, args):
    env = {**os.environ, **blas_env(args.threads), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, __file__, "--worker", engine, "--data", str(data), "--rank", str(args.rank),
           "--reg", str(args.reg), "--iters", str(args.iters), "--repeats", str(args.repeats),
           "--seed", str(args.seed), "--master", args.master, "--driver-memory", args.driver_memory]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        print(f"  {engine} failed (exit {out.returncode}): {tail[0]}", flush=True)
        return None
    return json.loads(lines[-1])


def run(args):
    """The driver: every size, every engine in its own subprocess; the table and the slopes."""
    import numpy as np
    import pandas as pd

    from recsys_utils.memory import memory_model
    from recsys_utils.spark import check_java, pyspark_available
    from recsys_utils.synthetic import make_movielens_like

    engines = list(args.engines)
    if "spark" in engines:
        if not pyspark_available():
            sys.exit("pyspark is not installed: pip install -e .[spark]  (or drop spark from --engines)")
        check_java()  # one line on what to install, no stack trace (see the except below)
    print(machine_header("bench_scaling", rank=args.rank, reg=args.reg, iterations=args.iters,
                         numpy_BLAS_threads=args.threads, spark=args.master), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        for size in args.sizes:
            n = int(size)
            df = make_movielens_like(n, random_state=args.seed)
            n_users, n_items = int(df["user_id"].max()) + 1, int(df["item_id"].max()) + 1
            data = Path(tmp) / f"ratings-{n}.npz"
            np.savez(data, u=df["user_id"].to_numpy(), i=df["item_id"].to_numpy(), r=df["rating"].to_numpy())
            del df
            model_mb = memory_model(n_users, n_items, n, args.rank) / 2**20
            for engine in engines:
                start = time.perf_counter()
                res = run_worker(engine, data, args)
                if res is None:
                    continue
                epoch = (res["fit_s"] - res["fit1_s"]) / (args.iters - 1)
                row = {"engine": engine, "n_ratings": n, "n_users": n_users, "n_items": n_items,
                       "rank": args.rank, "iters": args.iters, **res, "epoch_s": epoch,
                       "setup_s": res["fit1_s"] - epoch, "model_mb": model_mb}
                rows.append(row)
                print(f"{engine:>6} {n:>11,} ratings  {n_users:>7,} users {n_items:>6,} items: "
                      f"fit {res['fit_s']:7.2f} s ({args.iters} it), {epoch:6.3f} s/epoch, "
                      f"setup {row['setup_s']:6.2f} s | work {res['work_mb']:8.1f} MB, "
                      f"RSS {res['rss_mb']:8.1f} MB, model {model_mb:8.1f} MB "
                      f"[{time.perf_counter() - start:.0f} s wall]", flush=True)
            data.unlink()
    table = pd.DataFrame(rows, columns=COLUMNS)
    write_csv(table.round(4), args.out)
    if len(engines) == 2 and len(table):
        wide = table.pivot(index="n_ratings", columns="engine", values=["epoch_s", "work_mb"]).dropna()
        ratio = pd.DataFrame({"spark/numpy time per epoch": wide["epoch_s"]["spark"] / wide["epoch_s"]["numpy"],
                              "spark/numpy peak work memory": wide["work_mb"]["spark"] / wide["work_mb"]["numpy"]})
        print(ratio.round(2).to_string())
    for engine, part in table.groupby("engine"):
        if part["n_ratings"].nunique() < 2:
            continue  # a slope needs two sizes
        slope = np.polyfit(np.log10(part["n_ratings"]), np.log10(part["epoch_s"].clip(lower=1e-4)), 1)[0]
        print(f"{engine}: log-log slope of time per epoch vs ratings {slope:.2f}")
    print(f"wrote {shown(args.out)}")


def main(argv=None):
    args = parse_args(argv)
    if args.worker:  # the subprocess side: one engine, one JSON line
        fn = worker_numpy if args.worker == "numpy" else worker_spark
        print(json.dumps(fn(args)), flush=True)
        return
    from recsys_utils.spark import JavaMissingError

    try:
        run(args)
    except JavaMissingError as err:
        sys.exit(f"JavaMissingError: {err}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # the workers and the driver find recsys_utils even without pip install -e
    main()
