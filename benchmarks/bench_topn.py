"""Top-10 for every user: vectorized ``recsys_utils.ranking.top_n`` vs a per-user Python loop.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_topn.py [--dataset ml-latest-small] [--repeats 7] [--n 10]

Scores are the dot products of random k=32 user and item vectors (the cost of
ranking does not depend on where the scores come from); the training ratings
of the course split are excluded. Both ways are timed in the same process,
alternating, and their outputs are checked to be identical. "vectorized"
includes the score matrix product and building the sparse exclusion mask.
Target: under a second for all users of the default data set.
"""
from __future__ import annotations

import argparse
import statistics

import numpy as np

from recsys_utils import IdMap, course_split, load_movielens
from recsys_utils.ranking import interaction_matrix, top_n

from common import machine_header, positive_int, timed


def vectorized(P, Q, train, ids, n):
    exclude = interaction_matrix(train, ids)  # (n_users, n_items) sparse 0/1
    return top_n(P @ Q.T, exclude=exclude, n=n)


def naive_loop(P, Q, train, ids, n):
    """What one writes first: per user, score all items, sort, skip what they rated."""
    u = ids.user_index(train["user_id"])
    i = ids.item_index(train["item_id"])
    seen = {user: set() for user in range(ids.n_users)}
    for a, b in zip(u.tolist(), i.tolist()):
        seen[a].add(b)
    out = np.full((ids.n_users, n), -1, dtype=np.int64)
    for user in range(ids.n_users):
        scores = Q @ P[user]
        picked = [item for item in np.argsort(-scores, kind="stable") if item not in seen[user]][:n]
        out[user, : len(picked)] = picked
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-latest-small")
    p.add_argument("--repeats", type=positive_int, default=7)
    p.add_argument("--n", type=positive_int, default=10)
    p.add_argument("--factors", type=positive_int, default=32)
    p.add_argument("--max-users", type=positive_int, help="rank for the first this many users only (tiny smoke runs)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    ds = load_movielens(args.dataset)
    train, _ = course_split(ds.ratings)
    if args.max_users:
        train = train[train["user_id"].isin(train["user_id"].drop_duplicates().iloc[: args.max_users])]
    ids = IdMap.from_ratings(train)
    rng = np.random.default_rng(0)
    P = rng.normal(size=(ids.n_users, args.factors))
    Q = rng.normal(size=(ids.n_items, args.factors))
    a, b = vectorized(P, Q, train, ids, args.n), naive_loop(P, Q, train, ids, args.n)
    assert np.array_equal(a, b), "vectorized and loop top-N differ"
    times = {"vectorized": [], "loop": []}
    for _ in range(args.repeats):
        for name, fn in (("vectorized", vectorized), ("loop", naive_loop)):
            times[name].append(timed(fn, P, Q, train, ids, args.n)[1])
    med = {k: statistics.median(v) for k, v in times.items()}
    print(machine_header("bench_topn", numpy=np.__version__))
    print(f"{args.dataset}: top-{args.n} for {ids.n_users} users x {ids.n_items} items, "
          f"median of {args.repeats} repeats (same process, alternating)")
    print(f"  vectorized top_n : {med['vectorized']:.4f} s")
    print(f"  per-user loop    : {med['loop']:.4f} s")
    print(f"  loop / vectorized: {med['loop'] / med['vectorized']:.1f}x")
    print(f"  target < 1 s     : {'met' if med['vectorized'] < 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
