"""EASE and ItemKNN top-10 lists on the course split, with hyper-parameters chosen on a validation split.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_ease.py [--grid 100 200 300 500 1000] [--neighbors 20 50 100 200 all]
        [--shrinkage 0 10 50 100 200] [--repeats 3] [--threads 2] [--output [PATH]]

Protocol. ``train, test = course_split(ratings)``; a validation split is carved
from ``train`` the same way (``fit_part, val = course_split(train)``). Every
candidate (EASE for each ``lambda`` of ``--grid``, ItemKNN for each neighbourhood
size and shrinkage) is fitted on ``fit_part`` and ranked by NDCG@10 on ``val``;
the best of each family is refitted on all of ``train`` and scored once on
``test``: relevant = held-out rating >= 4, lists over all items the user has not
rated in ``train``. The test set never chooses anything. Popularity (items by
number of ratings in ``train``) is the reference.

EASE's grid search uses the Woodbury solver in float64 (the same ``B`` as the
Cholesky one to ~1e-17, and ten times faster when users are fewer than items);
the chosen ``lambda`` is then fitted with both solvers in float64 and float32,
each timed as the median of ``--repeats`` fits. Fit time excludes scoring.
The table goes to ``benchmarks/results/ease.csv`` only with ``--output``
(``--output PATH`` writes elsewhere).
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

if __name__ == "__main__":  # BLAS reads its thread count when NumPy is first imported: apply --threads first
    from common import limit_blas_threads_from_argv

    limit_blas_threads_from_argv(sys.argv[1:], default=2)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from recsys_utils import IdMap, course_split, load_movielens  # noqa: E402
from recsys_utils.neighbors import EASE, ItemKNN  # noqa: E402
from recsys_utils.ranking import evaluate_scores  # noqa: E402

from common import RESULTS, blas_threads, machine_header, positive_int, shown, timed, write_csv  # noqa: E402

K = 10
NDCG, RECALL, COVERAGE = f"ndcg@{K}", f"recall@{K}", f"coverage@{K}"
TARGET_NDCG, TARGET_FIT_S = 0.285, 15.0


def neighbors_arg(text: str):
    """argparse type: an integer >= 1, or 'all' (None: keep every neighbour)."""
    return None if text == "all" else positive_int(text)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-latest-small")
    p.add_argument("--grid", nargs="+", type=float, default=[100.0, 200.0, 300.0, 500.0, 1000.0],
                   help="EASE lambdas to try (default 100 200 300 500 1000)")
    p.add_argument("--neighbors", nargs="+", type=neighbors_arg, default=[20, 50, 100, 200, None],
                   help="ItemKNN neighbourhood sizes to try, 'all' for no pruning (default 20 50 100 200 all)")
    p.add_argument("--shrinkage", nargs="+", type=float, default=[0.0, 10.0, 50.0, 100.0, 200.0],
                   help="ItemKNN shrinkages to try (default 0 10 50 100 200)")
    p.add_argument("--repeats", type=positive_int, default=3, help="timed EASE fits per setting (default 3)")
    p.add_argument("--threads", type=positive_int, default=2,
                   help="BLAS threads (default 2; applied only when run as a script)")
    p.add_argument("--max-items", type=positive_int, help="keep only this many most-rated items (tiny smoke runs)")
    p.add_argument("--output", type=Path, nargs="?", const=RESULTS / "ease.csv",
                   help="write the table as CSV (bare --output: benchmarks/results/ease.csv); default: write nothing")
    return p.parse_args(argv)


def most_rated(ratings, n_items):
    """The ratings of the ``n_items`` most-rated items."""
    keep = ratings["item_id"].value_counts().index[:n_items]
    return ratings[ratings["item_id"].isin(keep)]


def candidates(args):
    """(model name, parameters shown, constructor) for every setting the validation split ranks."""
    out = [("EASE", f"lambda={lam:g}", lambda lam=lam: EASE(reg=lam, solver="woodbury")) for lam in args.grid]
    for k, shrink in itertools.product(args.neighbors, args.shrinkage):
        shown_k = "all" if k is None else k
        out.append(("ItemKNN", f"k={shown_k} shrink={shrink:g}",
                    lambda k=k, shrink=shrink: ItemKNN(n_neighbors=k, shrinkage=shrink)))
    return out


def score(model, train, test):
    """Ranking metrics of a fitted model's top-10 lists."""
    return evaluate_scores(model.score_matrix(), train, test, model.ids_, k=K)


def popularity(train, test):
    """Metrics of the same top-10 list for everyone: the most-rated items of ``train``."""
    ids = IdMap.from_ratings(train)
    counts = np.bincount(ids.item_index(train["item_id"]), minlength=ids.n_items).astype(float)  # (n_items,)
    return evaluate_scores(np.tile(counts, (ids.n_users, 1)), train, test, ids, k=K)


def row(stage, model, params, metrics, fit_s, dtype="", solver="", repeats=1):
    return {"stage": stage, "model": model, "params": params, "dtype": dtype, "solver": solver,
            NDCG: metrics[NDCG], RECALL: metrics[RECALL], COVERAGE: metrics[COVERAGE],
            "fit_s": fit_s, "repeats": repeats}


def validate(args, train):
    """Fit every candidate on part of ``train``, score it on the rest; the validation rows."""
    fit_part, val = course_split(train)
    rows, makers = [], {}
    for name, params, make in candidates(args):
        model, fit_s = timed(make().fit, fit_part)
        rows.append(row("validation", name, params, score(model, fit_part, val), fit_s))
        makers[name, params] = make
    return pd.DataFrame(rows), makers


def best(valid, name):
    """The parameters of ``name`` with the highest validation NDCG@10."""
    mine = valid[valid["model"] == name]
    return mine.loc[mine[NDCG].idxmax(), "params"]


def test_ease(reg, train, test, repeats):
    """The chosen lambda on all of train, per dtype and solver: metrics and median fit seconds."""
    rows = []
    warmup = train[train["item_id"].isin(train["item_id"].unique()[:200])]
    for dtype, solver in itertools.product(("float64", "float32"), ("cholesky", "woodbury")):
        EASE(reg=reg, dtype=dtype, solver=solver).fit(warmup)  # untimed: LAPACK's first call in a process is slow
        times, model = [], None
        for _ in range(repeats):
            model, fit_s = timed(EASE(reg=reg, dtype=dtype, solver=solver).fit, train)
            times.append(fit_s)
        rows.append(row("test", "EASE", f"lambda={reg:g}", score(model, train, test), statistics.median(times),
                        dtype, solver, repeats))
    return rows


def report(valid, tested, args, n_users, n_items):
    print(machine_header("bench_ease", numpy=np.__version__, blas_threads=blas_threads()))
    print(f"{args.dataset}: {n_users} users x {n_items} items in train; top-{K} over all unrated items, "
          "relevant = test rating >= 4")
    cols = ["model", "params", NDCG, RECALL, COVERAGE, "fit_s"]
    print("\nvalidation split (fit on part of train, scored on the rest), best first:")
    print(valid.sort_values(NDCG, ascending=False)[cols].to_string(index=False, float_format="{:.4f}".format))
    print(f"\ntest split (chosen settings refitted on all of train; fit_s = median of {args.repeats}):")
    print(tested[cols[:2] + ["dtype", "solver"] + cols[2:]].to_string(index=False, float_format="{:.4f}".format))
    ease = tested[tested["model"] == "EASE"]
    f64, f32 = (ease[(ease["dtype"] == d) & (ease["solver"] == "cholesky")].iloc[0] for d in ("float64", "float32"))
    print(f"\nEASE float32 vs float64 (Cholesky): fit {f32['fit_s']:.2f} s vs {f64['fit_s']:.2f} s, "
          f"NDCG@10 changes by {f32[NDCG] - f64[NDCG]:+.2e}")
    top = tested[NDCG].max()
    print(f"target NDCG@10 >= {TARGET_NDCG}: {'met' if top >= TARGET_NDCG else 'MISSED'} ({top:.4f})")
    print(f"target EASE fit <= {TARGET_FIT_S:g} s (float64, Cholesky): "
          f"{'met' if f64['fit_s'] <= TARGET_FIT_S else 'MISSED'} ({f64['fit_s']:.2f} s)")


def main(argv=None):
    args = parse_args(argv)
    ratings = load_movielens(args.dataset).ratings
    if args.max_items:
        ratings = most_rated(ratings, args.max_items)
    train, test = course_split(ratings)
    valid, makers = validate(args, train)
    rows = [row("test", "popularity", "", popularity(train, test), float("nan"))]
    reg = float(best(valid, "EASE").removeprefix("lambda="))
    rows += test_ease(reg, train, test, args.repeats)
    knn_params = best(valid, "ItemKNN")
    model, fit_s = timed(makers["ItemKNN", knn_params]().fit, train)
    rows.append(row("test", "ItemKNN", knn_params, score(model, train, test), fit_s))
    tested = pd.DataFrame(rows)
    ids = IdMap.from_ratings(train)
    report(valid, tested, args, ids.n_users, ids.n_items)
    if args.output:
        print(f"\nwrote {shown(write_csv(pd.concat([valid, tested]), args.output))}")


if __name__ == "__main__":
    main()
