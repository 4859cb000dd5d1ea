"""ImplicitALS (exact and conjugate-gradient solvers) vs the `implicit` library's CPU ALS, side by side.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_implicit.py [--repeats 5] [--threads 1 2] [--cg-steps 3]
        [--output PATH] [--max-users N]

Protocol: notebook 06's. ``train, test = course_split(ratings, random_state=42)``
on ml-latest-small; every training pair counts as one interaction (the rating is
ignored); relevant = held-out rating >= 4; top-10 over all items the user has
not rated in ``train``; NDCG@10 and recall@10 from
``recsys_utils.ranking.evaluate_scores``, as notebook 06 computes them.

The same model on both sides: k = 32 factors, L2 penalty 5 on every vector
(paid once per vector in both libraries), 10 sweeps, and the same confidence.
Ours weighs an observed pair ``c = 1 + alpha``; `implicit` uses the matrix value
times its ``alpha`` as the confidence (``c = alpha_implicit * 1``), so it gets
``alpha_implicit = 1 + alpha`` (6 for notebook 06's alpha = 5).

Timing. In one process, for each repeat ``r`` (seed ``42 + r`` for every model,
so run 1 uses notebook 06's seed) and each thread count, every model is fitted
once, in an order rotated from repeat to repeat; the table gives the medians
over the repeats of fit time, NDCG@10 and recall@10 (the seed moves NDCG@10 by
about +-0.005). BLAS is limited with threadpoolctl for both, and `implicit` gets
``num_threads`` equal to it; our NumPy/SciPy code has no threads of its own
beyond BLAS. Fit time is from the training table to fitted factors: for ours,
``ImplicitALS.fit`` (which also computes the loss after every sweep, for
``history_``); for `implicit`, building the id maps and the CSR matrix, then
``AlternatingLeastSquares.fit``. ``time_ratio`` (wall clock), ``cpu_ratio``
(the process's CPU time, all its threads: less sensitive to other jobs taking
turns on the cores) and ``ndcg_diff`` compare each row with `implicit`'s
default solver (CG, 3 steps, float32) at the same thread count; the two time
ratios are taken run by run, then their median. Writes
``benchmarks/results/implicit.csv`` (``--output`` elsewhere).
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_utils import IdMap, course_split, load_movielens
from recsys_utils.implicit import ImplicitALS
from recsys_utils.ranking import evaluate_scores

from common import RESULTS, fail, machine_header, positive_int, shown, timed, write_csv

K = 10
NDCG, RECALL = f"ndcg@{K}", f"recall@{K}"
SEED = 42
REFERENCE = ("implicit", "cg", "float32")  # model, solver, dtype of the row every ratio is taken against
TARGET_RATIO, TARGET_NDCG_GAP = 1.5, 0.005


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-latest-small")
    p.add_argument("--repeats", type=positive_int, default=5, help="fits per model and thread count (default 5)")
    p.add_argument("--threads", type=positive_int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    p.add_argument("--factors", type=positive_int, default=32)
    p.add_argument("--reg", type=float, default=5.0)
    p.add_argument("--alpha", type=float, default=5.0, help="ours: c = 1 + alpha; implicit gets alpha + 1")
    p.add_argument("--epochs", type=positive_int, default=10)
    p.add_argument("--cg-steps", type=positive_int, default=3)
    p.add_argument("--max-users", type=positive_int, help="keep only the first this many users (tiny smoke runs)")
    p.add_argument("--output", type=Path, default=RESULTS / "implicit.csv",
                   help="where the table goes (default benchmarks/results/implicit.csv)")
    return p.parse_args(argv)


def models(args):
    """``(model, solver, dtype, fit(train, seed, threads) -> (ids, user factors, item factors))`` per row."""
    from implicit.cpu.als import AlternatingLeastSquares

    def ours(solver, dtype):
        def fit(train, seed, threads):
            m = ImplicitALS(n_factors=args.factors, reg=args.reg, alpha=args.alpha, n_epochs=args.epochs,
                            random_state=seed, solver=solver, cg_steps=args.cg_steps, dtype=dtype)
            m.fit(train[["user_id", "item_id"]])
            return m.ids_, m.user_factors_, m.item_factors_
        return fit

    def theirs(use_cg):
        def fit(train, seed, threads):
            ids = IdMap.from_ratings(train)
            u, i = ids.user_index(train["user_id"]), ids.item_index(train["item_id"])
            user_items = sp.csr_matrix((np.ones(len(u), np.float32), (u, i)), shape=(ids.n_users, ids.n_items))
            user_items.data[:] = 1.0  # duplicate pairs count once, as in ImplicitALS
            m = AlternatingLeastSquares(factors=args.factors, regularization=args.reg, alpha=1.0 + args.alpha,
                                        iterations=args.epochs, use_cg=use_cg, num_threads=threads,
                                        random_state=seed)
            m.cg_steps = args.cg_steps
            m.fit(user_items, show_progress=False)
            return ids, m.user_factors, m.item_factors
        return fit

    return [("ours", "exact", "float64", ours("exact", "float64")),
            ("ours", "cg", "float64", ours("cg", "float64")),
            ("ours", "cg", "float32", ours("cg", "float32")),
            ("implicit", "cg", "float32", theirs(True)),
            ("implicit", "cholesky", "float32", theirs(False))]


def first_users(ratings, n):
    return ratings[ratings["user_id"].isin(ratings["user_id"].drop_duplicates().iloc[:n])]


def measure(args, train, test):
    """One row per run: model, solver, dtype, threads, run, seed, fit_s, ndcg@10, recall@10."""
    from threadpoolctl import threadpool_limits

    rows, specs = [], models(args)
    for run in range(args.repeats):
        order = specs[run % len(specs):] + specs[:run % len(specs)]  # rotate: no model always runs first
        for threads in args.threads:
            for name, solver, dtype, fit in order:
                with threadpool_limits(limits=threads), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # implicit's "BLAS uses threads" advice
                    cpu = time.process_time()
                    (ids, X, Y), seconds = timed(fit, train, SEED + run, threads)
                    cpu = time.process_time() - cpu
                metrics = evaluate_scores(np.asarray(X) @ np.asarray(Y).T, train, test, ids, k=K)
                rows.append({"model": name, "solver": solver, "dtype": dtype, "threads": threads, "run": run + 1,
                             "seed": SEED + run, "fit_s": seconds, "cpu_s": cpu, NDCG: metrics[NDCG],
                             RECALL: metrics[RECALL]})
    return pd.DataFrame(rows)


def summarize(runs, args):
    """Medians over the runs; ratios against `implicit`'s CG at the same thread count, run by run.

    Each run's fit is divided by the reference's fit of the same run (fitted minutes apart at most), then
    the median is taken: steadier than a ratio of medians when other jobs come and go.
    """
    keys = ["model", "solver", "dtype", "threads"]
    is_ref = (runs["model"] == REFERENCE[0]) & (runs["solver"] == REFERENCE[1]) & (runs["dtype"] == REFERENCE[2])
    ref = runs[is_ref].set_index(["threads", "run"])
    at = pd.MultiIndex.from_frame(runs[["threads", "run"]])
    runs = runs.assign(time_ratio=runs["fit_s"].to_numpy() / ref["fit_s"].reindex(at).to_numpy(),
                       cpu_ratio=runs["cpu_s"].to_numpy() / ref["cpu_s"].reindex(at).to_numpy())
    table = runs.groupby(keys, sort=False).agg(
        runs=("run", "size"), **{NDCG: (NDCG, "median"), RECALL: (RECALL, "median")},
        ndcg_seed42=(NDCG, "first"), fit_s=("fit_s", "median"), fit_s_min=("fit_s", "min"),
        cpu_s=("cpu_s", "median"), time_ratio=("time_ratio", "median"),
        cpu_ratio=("cpu_ratio", "median")).reset_index()
    ref_ndcg = table[(table["model"] == REFERENCE[0]) & (table["solver"] == REFERENCE[1])].set_index("threads")[NDCG]
    table["ndcg_diff"] = table[NDCG] - table["threads"].map(ref_ndcg)
    table.insert(4, "n_factors", args.factors)
    table.insert(5, "reg", args.reg)
    table.insert(6, "alpha", np.where(table["model"] == "ours", args.alpha, 1.0 + args.alpha))
    table.insert(7, "confidence", 1.0 + args.alpha)
    table.insert(8, "n_epochs", args.epochs)
    table.insert(9, "cg_steps", np.where(table["solver"] == "cg", args.cg_steps, 0))
    order = {spec: n for n, spec in enumerate([("ours", "exact"), ("ours", "cg"), ("implicit", "cg"),
                                               ("implicit", "cholesky")])}
    table["_order"] = [order[(m, s)] for m, s in zip(table["model"], table["solver"])]
    table = table.sort_values(["threads", "_order", "dtype"], ascending=[True, True, False])
    return table.drop(columns="_order").round(4).reset_index(drop=True)


def main(argv=None):
    args = parse_args(argv)
    try:
        import implicit
        import threadpoolctl  # noqa: F401  (a dependency of implicit)
    except ImportError:
        fail("bench_implicit needs the implicit package (the bench extra): .venv/bin/pip install -e .[bench]")
    ratings = load_movielens(args.dataset).ratings
    train, test = course_split(ratings, random_state=SEED)
    if args.max_users:
        train, test = first_users(train, args.max_users), first_users(test, args.max_users)
    print(machine_header("bench_implicit", numpy=np.__version__, implicit=implicit.__version__))
    print(f"{args.dataset}: {len(train):,} training pairs, {train['user_id'].nunique()} users x "
          f"{train['item_id'].nunique()} items; k={args.factors}, reg={args.reg}, confidence {1 + args.alpha:g} "
          f"(ours alpha={args.alpha:g}, implicit alpha={1 + args.alpha:g}), {args.epochs} sweeps, "
          f"CG {args.cg_steps} steps; medians of {args.repeats} runs (seeds {SEED}..{SEED + args.repeats - 1}), "
          f"alternating, threads {args.threads}")
    table = summarize(measure(args, train, test), args)
    shown_cols = ["model", "solver", "dtype", "threads", NDCG, RECALL, "ndcg_seed42", "fit_s", "fit_s_min",
                  "time_ratio", "cpu_s", "cpu_ratio", "ndcg_diff"]
    print(table[shown_cols].to_string(index=False))
    fast = table[(table["model"] == "ours") & (table["solver"] == "cg") & (table["dtype"] == "float32")]
    for row in fast.itertuples():
        met = row.time_ratio <= TARGET_RATIO and abs(row.ndcg_diff) <= TARGET_NDCG_GAP
        print(f"target at {row.threads} thread(s): ours CG float32 {row.time_ratio:.2f}x implicit's time "
              f"(<= {TARGET_RATIO}), NDCG@10 {row.ndcg_diff:+.4f} (within {TARGET_NDCG_GAP}): "
              f"{'met' if met else 'MISSED'}")
    print(f"wrote {shown(write_csv(table, args.output))}")


if __name__ == "__main__":
    main()
