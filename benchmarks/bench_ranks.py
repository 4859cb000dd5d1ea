"""Rank sweep: BPMF by Gibbs sampling against point-estimate ALS (weak and tuned lambda), on the course split.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_ranks.py [--als-ranks 2 5 10 20 30 50 100] [--bpmf-ranks 2 5 10 20 30]
        [--seeds 42 43 44] [--bpmf-seed-ranks 10] [--n-samples 100] [--burn-in 20] [--threads 1] [--output [PATH]]

Notebook 08 reads it: notebook 05 showed a point estimate overfitting as its vectors grow unless lambda is
tuned; averaging over the posterior (BPMF, ``recsys_utils.bayes.BayesianMF``) has no lambda at all. Protocol:
``train, test = course_split(ratings)`` of ml-latest-small (seed 42); test RMSE over all test ratings (unseen
movies fall back to the biases), train RMSE over the training ratings, predictions clipped to the scale.

* ALS: ``MatrixFactorization`` as in notebook 02 (biases, ``SWEEP_EPOCHS`` = 8 sweeps), with notebook 02's
  weak ``lambda = 0.01`` and its chosen ``lambda = 0.13`` (per rating), for every rank of ``--als-ranks`` and
  every seed of ``--seeds`` (the seed only changes the initial vectors).
* BPMF: ``BayesianMF`` with the noise precision sampled, ``--n-samples`` sweeps of which ``--burn-in`` are
  discarded, for every rank of ``--bpmf-ranks`` with the first seed, and with every seed at the ranks of
  ``--bpmf-seed-ranks`` (a Gibbs sweep at rank 30 costs about ten times one at rank 10, so not all ranks get
  three chains).

Rows go to ``benchmarks/results/ranks.csv`` only with ``--output`` (``--output PATH`` writes elsewhere).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

if __name__ == "__main__":  # BLAS reads its thread count when NumPy is first imported: apply --threads first
    from common import limit_blas_threads_from_argv

    limit_blas_threads_from_argv(sys.argv[1:], default=1)

import pandas as pd  # noqa: E402

from recsys_utils import UnknownIdWarning, course_split, load_movielens, rmse  # noqa: E402
from recsys_utils.bayes import BayesianMF  # noqa: E402
from recsys_utils.mf import MatrixFactorization  # noqa: E402

from common import RESULTS, blas_threads, fail, machine_header, positive_int, shown, timed, write_csv  # noqa: E402

ALS_REGS = {"ALS, weak λ": 0.01, "ALS, tuned λ": 0.13}  # notebook 02's REG_WEAK and REG
ALS_EPOCHS = 8  # notebook 02's SWEEP_EPOCHS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-latest-small")
    p.add_argument("--als-ranks", nargs="+", type=positive_int, default=[2, 5, 10, 20, 30, 50, 100])
    p.add_argument("--bpmf-ranks", nargs="+", type=positive_int, default=[2, 5, 10, 20, 30])
    p.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    p.add_argument("--bpmf-seed-ranks", nargs="*", type=positive_int, default=[10],
                   help="BPMF ranks run with every seed (the others with the first seed only)")
    p.add_argument("--n-samples", type=positive_int, default=100, help="Gibbs sweeps in all, burn-in included")
    p.add_argument("--burn-in", type=int, default=20)
    p.add_argument("--threads", type=positive_int, default=1,
                   help="BLAS threads (default 1; applied only when run as a script)")
    p.add_argument("--max-ratings", type=positive_int, help="keep a seeded sample of this many ratings (smoke runs)")
    p.add_argument("--output", type=Path, nargs="?", const=RESULTS / "ranks.csv",
                   help="write the rows as CSV (bare --output: benchmarks/results/ranks.csv); default: write nothing")
    args = p.parse_args(argv)
    if not 0 <= args.burn_in < args.n_samples:
        fail(f"--burn-in must be in 0..{args.n_samples - 1} (below --n-samples), got {args.burn_in}")
    return args


def evaluate(model, train, test):
    """(train RMSE, test RMSE) of a fitted rating model, predictions clipped to the rating scale."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownIdWarning)
        return (rmse(train["rating"], model.predict(train["user_id"], train["item_id"])),
                rmse(test["rating"], model.predict(test["user_id"], test["item_id"])))


def runs(args):
    """(model name, rank, seed, lambda, constructor) for every fit of the sweep."""
    out = []
    for name, reg in ALS_REGS.items():
        for rank in args.als_ranks:
            for seed in args.seeds:
                out.append((name, rank, seed, reg, lambda rank=rank, reg=reg, seed=seed: MatrixFactorization(
                    n_factors=rank, reg=reg, n_epochs=ALS_EPOCHS, random_state=seed)))
    for rank in args.bpmf_ranks:
        for seed in args.seeds if rank in args.bpmf_seed_ranks else args.seeds[:1]:
            out.append(("BPMF (Gibbs)", rank, seed, float("nan"), lambda rank=rank, seed=seed: BayesianMF(
                n_factors=rank, n_samples=args.n_samples, burn_in=args.burn_in, random_state=seed)))
    return out


def main(argv=None):
    args = parse_args(argv)
    ratings = load_movielens(args.dataset).ratings
    if args.max_ratings:
        ratings = ratings.sample(n=min(args.max_ratings, len(ratings)), random_state=0)
    train, test = course_split(ratings)
    print(machine_header("bench_ranks", blas_threads=blas_threads()))
    print(f"{args.dataset}: course split, {len(train):,} train / {len(test):,} test ratings; "
          f"BPMF {args.n_samples} sweeps, {args.burn_in} burn-in")
    rows = []
    for name, rank, seed, reg, make in runs(args):
        model, fit_s = timed(make().fit, train)
        train_rmse, test_rmse = evaluate(model, train, test)
        rows.append({"dataset": args.dataset, "split": "course", "model": name, "rank": rank, "seed": seed,
                     "reg": reg, "n_samples": args.n_samples if name.startswith("BPMF") else float("nan"),
                     "train_rmse": train_rmse, "test_rmse": test_rmse, "fit_s": fit_s})
        print(f"  {name:<14} rank {rank:>3} seed {seed}: train {train_rmse:.4f} test {test_rmse:.4f} "
              f"({fit_s:.1f} s)", flush=True)
    table = pd.DataFrame(rows)
    by = table.groupby(["rank", "model"])["test_rmse"]
    print("\ntest RMSE by rank, mean over seeds (spread = max - min where there are several):")
    print(pd.concat({"mean": by.mean().unstack(), "spread": (by.max() - by.min()).unstack()}, axis=1)
          .to_string(float_format="{:.4f}".format))
    if args.output:
        print(f"\nwrote {shown(write_csv(table, args.output))}")
    return table


if __name__ == "__main__":
    main()
