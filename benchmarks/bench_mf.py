"""Our NumPy matrix factorization vs scikit-surprise's SVD, side by side on the same splits.

Usage (from the repository root; needs the ``bench`` extra: ``pip install -e .[bench]``)::

    RECSYS_DATA_HOME=/path/to/datasets .venv/bin/python benchmarks/bench_mf.py [--folds 5] [--threads 1]

* ``ml-latest-small``: ``--folds`` folds of a seeded random K-fold split of the rows.
* ``ml-100k``: the official ``u1``..``u5`` splits, when ml-100k is in the data home.

Every model is fitted on the same train rows in the same process, one fold after the
other, so machine noise hits all of them alike. Fit time is the wall-clock time of
``fit``; the ratio columns are medians over folds of (ours / Surprise tuned SVD).
BLAS threads are limited to ``--threads`` (default 1: Surprise is single-threaded).
"""
from __future__ import annotations

import argparse
import sys
import warnings

if __name__ == "__main__":  # BLAS reads its thread count when NumPy is first imported: apply --threads first
    from common import limit_blas_threads_from_argv

    limit_blas_threads_from_argv(sys.argv[1:], default=1)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from recsys_utils import course_split, mae, rmse  # noqa: E402
from recsys_utils.mf import MatrixFactorization  # noqa: E402

from common import RESULTS, blas_threads, cached_datasets, machine_header, positive_int, shown, timed, write_csv  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folds", type=positive_int, default=5, help="folds on ml-latest-small (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the K-fold split and of every model")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads for NumPy (default 1; applied when run as a script)")
    p.add_argument("--datasets", nargs="*", default=["ml-latest-small", "ml-100k"])
    p.add_argument("--max-ratings", type=positive_int,
                   help="keep a seeded random sample of this many ratings per data set (tiny smoke runs)")
    p.add_argument("--csv", default=str(RESULTS / "mf.csv"),
                   help="where to write the per-split rows (default benchmarks/results/mf.csv; '' for none)")
    return p.parse_args(argv)


def _surprise():
    """scikit-surprise's SVD, Dataset and Reader; an optional dependency (the ``bench`` extra)."""
    try:
        from surprise import SVD, Dataset, Reader
    except ImportError:
        sys.exit("scikit-surprise is not installed: pip install -e .[bench]  (or pip install scikit-surprise)")
    return SVD, Dataset, Reader


REFERENCE = "Surprise SVD tuned"
COURSE = "course"  # the notebooks' split: course_split(ratings, random_state=42)


def models(seed):
    """name -> (kind, factory). Ours: the best configurations found on notebook 02's course split."""
    SVD = _surprise()[0]
    return {
        REFERENCE: ("surprise", lambda: SVD(n_factors=50, n_epochs=100, lr_all=0.01, reg_all=0.1, random_state=seed)),
        "Surprise SVD default": ("surprise", lambda: SVD(random_state=seed)),
        "ours ALS k=30 reg=0.13 8 sweeps": (
            "ours", lambda: MatrixFactorization(n_factors=30, reg=0.13, n_epochs=8, method="als", random_state=seed)),
        "ours ALS k=50 reg=0.12 8 sweeps": (
            "ours", lambda: MatrixFactorization(n_factors=50, reg=0.12, n_epochs=8, method="als", random_state=seed)),
        "ours ALS k=100 reg=0.1 6 sweeps": (
            "ours", lambda: MatrixFactorization(n_factors=100, reg=0.1, n_epochs=6, method="als", random_state=seed)),
        "ours SGD k=50 reg=0.1 lr=0.01 30 ep": (
            "ours", lambda: MatrixFactorization(n_factors=50, reg=0.1, lr=0.01, n_epochs=30, method="sgd",
                                                batch_size=256, random_state=seed)),
    }


def kfold(ratings, n_folds, seed):
    """Seeded random K-fold over rows: yields (train, test)."""
    parts = np.array_split(np.random.default_rng(seed).permutation(len(ratings)), n_folds)
    for k in range(n_folds):
        test = np.zeros(len(ratings), dtype=bool)
        test[parts[k]] = True
        yield f"fold{k + 1}", ratings[~test], ratings[test]


def run_one(kind, factory, train, test, scale):
    model = factory()
    if kind == "surprise":
        _, Dataset, Reader = _surprise()
        data = Dataset.load_from_df(train[["user_id", "item_id", "rating"]], Reader(rating_scale=scale))
        _, seconds = timed(model.fit, data.build_full_trainset())
        pred = np.array([model.predict(u, i).est for u, i in zip(test["user_id"], test["item_id"])])
    else:
        model.rating_scale = scale
        _, seconds = timed(model.fit, train)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unseen ids fall back to biases, as in Surprise
            pred = model.predict(test["user_id"], test["item_id"])
    y = test["rating"].to_numpy()
    return rmse(y, pred), mae(y, pred), seconds


def bench(name, splits, scale, seed):
    rows = []
    specs = models(seed)
    for split, train, test in splits:
        for model_name, (kind, factory) in specs.items():
            r, a, s = run_one(kind, factory, train, test, scale)
            rows.append(dict(dataset=name, split=split, model=model_name, rmse=r, mae=a, fit_s=s))
            print(f"  {name} {split:<6} {model_name:<36} RMSE {r:.4f}  MAE {a:.4f}  fit {s:6.2f}s", flush=True)
    df = pd.DataFrame(rows)
    ref = df[df.model == REFERENCE].set_index("split")
    df["time_ratio"] = df.fit_s / df.split.map(ref.fit_s)
    df["rmse_ratio"] = df.rmse / df.split.map(ref.rmse)
    # the course split (notebooks 01-06) is reported per row, not pooled into the medians over folds
    columns = ["rmse", "mae", "fit_s", "time_ratio", "rmse_ratio"]
    table = df[df.split != COURSE].groupby("model", sort=False)[columns].median()
    table.columns = ["RMSE", "MAE", "fit s", "time ours/ref", "RMSE ours/ref"]
    return table, df


def main(argv=None):
    args = parse_args(argv)
    _surprise()  # fail early, in one line, without scikit-surprise
    print(machine_header("bench_mf", BLAS_threads=blas_threads(), numpy=np.__version__))
    results, per_split = [], []
    for name, ds, ratings in cached_datasets(args.datasets, args.max_ratings, args.seed):
        if name == "ml-100k" and args.max_ratings is None:
            splits = [(f"u{k}", *ds.official_split(f"u{k}")) for k in range(1, 6)]
        else:
            splits = list(kfold(ratings, args.folds, args.seed))
        splits.append((COURSE, *course_split(ratings, random_state=42)))
        print(f"{name}: {len(splits) - 1} splits and the course split, {len(ratings):,} ratings")
        table, rows = bench(name, splits, tuple(ds.rating_scale), args.seed)
        results.append((name, len(splits), table))
        per_split.append(rows)
    for name, n, table in results:
        print(f"\n{name}: medians over {n - 1} splits (ratios vs {REFERENCE!r}, per split)")
        print(table.to_string(float_format=lambda v: f"{v:.4f}" if v < 10 else f"{v:.1f}"))
    if per_split:
        course_rows = pd.concat(per_split).query("split == @COURSE").set_index(["dataset", "model"])
        course_table = course_rows["rmse"].unstack(0).round(4).to_string()
        print(f"\nthe notebooks' course split (seed 42), test RMSE:\n{course_table}")
    if args.csv and per_split:
        path = write_csv(pd.concat(per_split).round(6), args.csv)
        print(f"\nper-split rows written to {shown(path)}")


if __name__ == "__main__":
    main()
