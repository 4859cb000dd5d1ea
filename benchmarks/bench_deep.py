"""Speed of notebook 04's models: seconds per epoch of the article's deep model, and per-row vs vectorized predict.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_deep.py [--dataset ml-latest-small] [--repeats 3] [--no-determinism]

On the course split's training ratings (minus notebook 04's validation share) it times, in one process:

* one epoch of the article's model (k=128, dropout 0.2/0.5/0.5/0.5, Dense 128/32/8) at batch 100
  (the article's; as built, several steps per graph call, and with Keras's default of one) and at batch 1000,
  and one epoch of Keras MF (notebook 03) at batch 4096;
  each after one untimed warm-up epoch; the median over ``--repeats`` epochs is reported;
* ``model.predict`` on one row at a time (the article's loop, ``--loop-rows`` rows) vs one
  vectorized ``predict`` over all training ratings.

From those it extrapolates the article's recipe (50 epochs at batch 100) and its training-RMSE loop.
TensorFlow's deterministic mode is on by default, as in the notebooks (``--no-determinism`` to compare).
"""
from __future__ import annotations

import argparse

from recsys_utils import IdMap, course_split, load_movielens, per_user_split
from recsys_utils import keras_models as km  # its backend module quiets TensorFlow

from common import machine_header, positive_int, seconds, timed


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="ml-latest-small")
    p.add_argument("--repeats", type=positive_int, default=3, help="timed epochs per configuration (median reported)")
    p.add_argument("--loop-rows", type=positive_int, default=50, help="rows scored one predict() call at a time")
    p.add_argument("--max-ratings", type=positive_int,
                   help="train on the first this many ratings of the fit part only (tiny smoke runs)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-determinism", action="store_true", help="skip tf.config.experimental.enable_op_determinism")
    return p.parse_args(argv)


def time_epochs(model, x, y, batch_size, repeats):
    """Median seconds of one epoch, after one untimed warm-up epoch (tracing, optimizer slots)."""
    return seconds(lambda: model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0), repeats, warmup=1)


def main(argv=None):
    args = parse_args(argv)
    if args.no_determinism:
        km.keras.utils.set_random_seed(args.seed)
    else:
        km.set_seed(args.seed)
    ds = load_movielens(args.dataset)
    train, _ = course_split(ds.ratings, random_state=args.seed)
    fit_part, _ = per_user_split(train, test_size=0.1, random_state=args.seed)
    if args.max_ratings:
        fit_part = fit_part.iloc[: args.max_ratings]
    ids = IdMap.from_ratings(train)
    x, y = km.make_inputs(fit_part, ids), fit_part["rating"].to_numpy()
    n = len(y)
    print(machine_header("bench_deep", keras=km.keras.__version__, backend=km.keras.backend.backend()))
    print(f"{ds.name}: {n:,} ratings per epoch; op determinism {'off' if args.no_determinism else 'on'}; "
          f"median of {args.repeats} epochs after a warm-up")

    def one_step_per_call():
        """The article's model as built, recompiled identically but with Keras's default steps_per_execution=1."""
        model = km.build_deep_model(ids.n_users, ids.n_items, random_state=args.seed)
        model.compile(optimizer=km.keras.optimizers.Adam(float(model.optimizer.learning_rate)), loss=model.loss,
                      metrics=[km.keras.metrics.RootMeanSquaredError(name="rmse")], steps_per_execution=1)
        return model

    rows = []
    for name, build, batch in (
        ("article deep model", lambda: km.build_deep_model(ids.n_users, ids.n_items, random_state=args.seed), 100),
        ("  same, 1 step/call", one_step_per_call, 100),
        ("article deep model", lambda: km.build_deep_model(ids.n_users, ids.n_items, random_state=args.seed), 1000),
        ("Keras MF k=30", lambda: km.build_mf_model(ids.n_users, ids.n_items, 30, 0.13, random_state=args.seed), 4096),
    ):
        secs = time_epochs(build(), x, y, batch, args.repeats)
        rows.append((name, batch, secs))
        print(f"  {name:<20} batch {batch:>5}: {secs:6.2f} s/epoch  {1 / secs:6.3f} epochs/s  "
              f"{n / secs:9,.0f} ratings/s  {secs / -(-n // batch) * 1000:6.1f} ms/step", flush=True)
    per_epoch_100 = rows[0][2]
    print(f"article's recipe, 50 epochs at batch 100: about {50 * per_epoch_100 / 60:.1f} min "
          f"(steps_per_execution={km.STEPS_PER_EXECUTION} vs 1: {rows[1][2] / per_epoch_100:.2f}x faster; "
          f"batch 1000 is {per_epoch_100 / rows[2][2]:.1f}x faster per epoch)")

    model = km.build_deep_model(ids.n_users, ids.n_items, random_state=args.seed)
    model.predict({k: v[:1] for k, v in x.items()}, verbose=0)  # warm-up
    rows = [{"user": x["user"][k : k + 1], "item": x["item"][k : k + 1]} for k in range(min(args.loop_rows, n))]
    _, loop = timed(lambda: [model.predict(row, verbose=0) for row in rows])
    per_row = loop / len(rows)
    km.predict_ratings(model, {k: v[:1000] for k, v in x.items()})  # warm-up at the large batch size
    _, vector = timed(km.predict_ratings, model, x)
    print(f"predict: {per_row * 1000:.1f} ms per row in a loop ({len(rows)} rows) vs {vector:.2f} s for all "
          f"{n:,} rows at once ({vector / n * 1e6:.1f} µs/row): speed-up {per_row * n / vector:,.0f}x; "
          f"the article's loop over these rows would take about {per_row * n / 60:.0f} min")


if __name__ == "__main__":
    main()
