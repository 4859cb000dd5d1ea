"""Notebooks 03-05's compared models over several seeds, for the verdicts those notebooks print.

Usage (from the repository root; about 13 minutes on an idle 2-core machine for three seeds)::

    .venv/bin/python benchmarks/bench_seeds.py [--seeds 42 43 44] [--only 03 04 05] [--dataset ml-latest-small]
        [--smoke] [--max-ratings N] [--csv benchmarks/results/seeds.csv]

For each notebook and seed it trains exactly the models that a verdict of that notebook compares
(notebook 03: Keras MF early-stopped, converged, with the table-wide L2, and NumPy ALS; notebook 04: the deep
model with and without side features, the softmax variant, the improved model and its MF references;
notebook 05: the dropout ablation, early stopping, the Keras MF and the four NumPy MF), through the same
functions the notebooks call (:mod:`recsys_utils.keras_models.recipes`), with the notebook's own parameters
read from its ``parameters`` cell (``--smoke``: with its smoke parameters on top). The seed is the model seed;
the course split and the validation splits stay those of the notebook's ``SEED``, so every seed is scored on
the same test ratings, and the notebook's own ``SEED`` is one of the seeds (its row is the notebook's run).

TensorFlow runs on 2 threads (fixed by ``recsys_utils.keras_models``) and NumPy's BLAS as in the notebooks
(unlimited unless ``--threads``). Rows ``dataset, notebook, metric, seed, value`` go to ``--csv``, rewritten
atomically after every notebook and seed (rows of other notebooks, seeds and data sets are kept); the
notebooks read them with :func:`recsys_utils.seeds.load_seeds`.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

if __name__ == "__main__" and "--threads" in sys.argv:  # BLAS reads its thread count when NumPy is imported
    from common import limit_blas_threads_from_argv

    limit_blas_threads_from_argv(sys.argv[1:], default=1)

import pandas as pd  # noqa: E402

from recsys_utils import course  # noqa: E402

from common import RESULTS, blas_threads, machine_header, positive_int, shown, timed, write_csv  # noqa: E402

COLUMNS = ["dataset", "notebook", "metric", "seed", "value"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44],
                   help="model seeds (default 42 43 44; 42 is the notebooks' SEED)")
    p.add_argument("--only", nargs="+", default=["03", "04", "05"], choices=["03", "04", "05"])
    p.add_argument("--dataset", default="ml-latest-small")
    p.add_argument("--smoke", action="store_true", help="the notebooks' smoke parameters (fast, for tests)")
    p.add_argument("--max-ratings", type=positive_int,
                   help="keep a seeded random sample of this many ratings (tiny smoke runs)")
    p.add_argument("--threads", type=int, help="BLAS threads for NumPy (default: unlimited, as the notebooks)")
    p.add_argument("--csv", default=str(RESULTS / "seeds.csv"),
                   help="where to write the rows (default benchmarks/results/seeds.csv)")
    return p.parse_args(argv)


notebook_parameters = course.notebook_parameters  # the notebook's own settings, read from its parameters cell


def _data(name, max_ratings, seed):
    from recsys_utils import load_movielens

    ds = load_movielens(name)
    if max_ratings and max_ratings < len(ds.ratings):
        ds = dataclasses.replace(ds, ratings=ds.ratings.sample(max_ratings, random_state=seed).reset_index(drop=True))
    return ds


def _split(ds, p):
    from recsys_utils import IdMap, course_split

    train, test = course_split(ds.ratings, random_state=p["SEED"])
    return train, test, IdMap.from_ratings(train)


def _als(train, test, seed, **kw):
    from recsys_utils import rmse
    from recsys_utils.mf import MatrixFactorization

    mf = MatrixFactorization(method="als", random_state=seed, **kw).fit(train)
    return rmse(test["rating"], mf.predict(test["user_id"], test["item_id"]))


def run_03(ds, p, seed) -> dict:
    """Notebook 03: Keras MF early-stopped / converged / table-wide L2, and NumPy ALS (10 and 50 sweeps)."""
    from recsys_utils import keras_models as km
    from recsys_utils import per_user_split, rmse
    from recsys_utils.keras_models import recipes

    train, test, ids = _split(ds, p)
    fit_part, val_part = per_user_split(train, test_size=p["VALIDATION_SIZE"], random_state=p["SEED"])
    common = dict(global_mean=train["rating"].mean(), n_factors=p["N_FACTORS"], reg=p["REG"],
                  learning_rate=p["LEARNING_RATE"], batch_size=p["BATCH_SIZE"], seed=seed)
    early = dict(n_epochs=p["N_EPOCHS"], patience=p["PATIENCE"])

    def score(model):
        return rmse(test["rating"], km.predict_ratings(model, test, ids, clip=ds.rating_scale))

    model, hist = recipes.keras_mf(ids, fit_part, val_part, **early, **common)
    converged, _ = recipes.keras_mf(ids, train, n_epochs=p["CONVERGE_EPOCHS"], **common)
    table_l2, _ = recipes.keras_mf(ids, fit_part, val_part, reg_mode="weights", **early, **common)
    return {
        "keras_mf_test_rmse": score(model), "keras_epochs": len(hist),
        "converged_keras_test_rmse": score(converged), "table_l2_test_rmse": score(table_l2),
        "numpy_mf_test_rmse": _als(train, test, seed, n_factors=p["N_FACTORS"], reg=p["REG"],
                                   n_epochs=p["ALS_EPOCHS"]),
        "converged_als_test_rmse": _als(train, test, seed, n_factors=p["N_FACTORS"], reg=p["REG"],
                                        n_epochs=p["ALS_LONG_SWEEPS"]),
    }


def run_04(ds, p, seed) -> dict:
    """Notebook 04: deep model on ids / with side features / softmax; improved model; Keras MF and NumPy ALS."""
    from recsys_utils import keras_models as km
    from recsys_utils import per_user_split, rmse
    from recsys_utils.baselines import tune_bias_baseline
    from recsys_utils.keras_models import recipes

    train, test, ids = _split(ds, p)
    fit_part, val_part = per_user_split(train, test_size=p["VALIDATION_SIZE"], random_state=p["SEED"])
    baseline = tune_bias_baseline(train, random_state=p["SEED"])[0].fit(train)
    features, levels = km.side_features(ds, ids), km.rating_levels(train)
    deep = dict(n_factors=p["K"], n_epochs=p["N_EPOCHS"], batch_size=p["BATCH_SIZE"], patience=p["PATIENCE"],
                learning_rate=p["DEEP_LEARNING_RATE"], seed=seed)

    def predict(model, side=None, split_ids=ids, **kw):
        return km.predict_ratings(model, test, split_ids, side, fallback=baseline.predict, clip=ds.rating_scale, **kw)

    out = {}
    ids_only, _ = recipes.deep_early_stopped(ids, fit_part, val_part, output_bias="mean", **deep)
    with_side, _ = recipes.deep_early_stopped(ids, fit_part, val_part, side=features, output_bias="mean", **deep)
    softmax, _ = recipes.deep_early_stopped(ids, fit_part, val_part, levels=levels, **deep)
    regression_pred = predict(ids_only)
    out["deep_ids_only_test_rmse"] = rmse(test["rating"], regression_pred)
    out["deep_side_features_test_rmse"] = rmse(test["rating"], predict(with_side, features))
    out["regression_accuracy"] = recipes.nearest_level_accuracy(regression_pred, test["rating"], levels)
    for how in ("argmax", "expected"):
        pred = predict(softmax, levels=levels, how=how)
        out[f"softmax_{how}_test_rmse"] = rmse(test["rating"], pred)
        out[f"softmax_{how}_accuracy"] = recipes.nearest_level_accuracy(pred, test["rating"], levels)
    hybrid, split_ids, feats, _ = recipes.improved_model(
        ds, train, n_factors=p["N_FACTORS"], reg=p["REG"], n_epochs=p["HYBRID_EPOCHS"], patience=p["HYBRID_PATIENCE"],
        validation_size=p["VALIDATION_SIZE"], split_seed=p["SEED"], batch_size=p["MF_BATCH_SIZE"],
        learning_rate=p["MF_LEARNING_RATE"], seed=seed)
    out["hybrid_test_rmse"] = rmse(test["rating"], predict(hybrid, feats, split_ids))
    keras_mf, _ = recipes.keras_mf(ids, fit_part, val_part, global_mean=train["rating"].mean(),
                                   n_factors=p["N_FACTORS"], reg=p["REG"], learning_rate=p["MF_LEARNING_RATE"],
                                   n_epochs=p["HYBRID_EPOCHS"], batch_size=p["MF_BATCH_SIZE"],
                                   patience=p["HYBRID_PATIENCE"], seed=seed)
    out["keras_mf_test_rmse"] = rmse(test["rating"], predict(keras_mf))
    out["numpy_mf_test_rmse"] = _als(train, test, seed, n_factors=p["N_FACTORS"], reg=p["REG"],
                                     n_epochs=p["ALS_EPOCHS"])
    return out


def run_05(ds, p, seed) -> dict:
    """Notebook 05: the article's dropout model, the dropout ablation, early stopping, Keras MF, four NumPy MF."""
    from recsys_utils import course_split, rmse
    from recsys_utils import keras_models as km
    from recsys_utils.baselines import tune_bias_baseline
    from recsys_utils.keras_models import recipes
    from recsys_utils.mf import MatrixFactorization

    train, test, ids = _split(ds, p)
    bias = tune_bias_baseline(train, random_state=p["SEED"])[0].fit(train)
    curves = dict(fallback=bias.predict, clip=ds.rating_scale, n_factors=p["K"], n_epochs=p["N_EPOCHS"],
                  batch_size=p["BATCH_SIZE"], seed=seed)
    n_layers = len(km.ARTICLE_DROPOUT)
    out = {}
    _, article = recipes.deep_with_curves(ids, train, test, **curves)
    last = article.iloc[-1]
    out.update(article_keras_loss_rmse=last["sqrt(Keras loss)"], article_train_rmse=last["train RMSE, inference"],
               article_test_rmse=last["test RMSE"])
    for rate in p["DROPOUT_RATES"]:
        _, c = recipes.deep_with_curves(ids, train, test, dropout=(rate,) * n_layers, **curves)
        tag = f"dropout{rate:g}".replace(".", "")
        out.update({f"{tag}_train_rmse": c["train RMSE, inference"].iloc[-1],
                    f"{tag}_test_rmse": c["test RMSE"].iloc[-1], f"{tag}_best_test_rmse": c["test RMSE"].min()})
    fit_part, valid = course_split(train, random_state=p["SEED"])
    no_dropout = (0.0,) * n_layers
    _, no_es = recipes.deep_with_curves(ids, fit_part, test, dropout=no_dropout, **curves)
    es, _ = recipes.deep_early_stopped(ids, fit_part, valid, n_factors=p["K"], n_epochs=p["N_EPOCHS"],
                                       batch_size=p["BATCH_SIZE"], patience=p["PATIENCE"], dropout=no_dropout,
                                       seed=seed)

    def score(model, ratings):
        return rmse(ratings["rating"], km.predict_ratings(model, ratings, ids, fallback=bias.predict,
                                                          clip=ds.rating_scale))

    out.update(deep_no_es_train_rmse=no_es["train RMSE, inference"].iloc[-1],
               deep_no_es_test_rmse=no_es["test RMSE"].iloc[-1],
               deep_es_train_rmse=score(es, fit_part), deep_es_test_rmse=score(es, test))
    keras_mf, _ = recipes.keras_mf(ids, train, global_mean=bias.global_mean_, n_factors=p["KERAS_MF_K"],
                                   reg=p["MF_STRONG_REG"], n_epochs=p["N_EPOCHS"], batch_size=p["BATCH_SIZE"],
                                   seed=seed)
    out.update(keras_mf_train_rmse=score(keras_mf, train), keras_mf_test_rmse=score(keras_mf, test))
    for size, d in (("small", p["MF_SMALL_D"]), ("large", p["MF_LARGE_D"])):
        for strength, reg in (("weak", p["MF_WEAK_REG"]), ("strong", p["MF_STRONG_REG"])):
            mf = MatrixFactorization(n_factors=d, reg=reg, n_epochs=p["MF_EPOCHS"], method="als", random_state=seed)
            hist = mf.fit(train, eval_set=test).history_
            out[f"mf_{size}_{strength}_train_rmse"] = hist["train_rmse"].iloc[-1]
            out[f"mf_{size}_{strength}_test_rmse"] = hist["eval_rmse"].iloc[-1]
    return out


RUNS = {"03": run_03, "04": run_04, "05": run_05}


def _merge(path, dataset, notebook, seed, metrics) -> pd.DataFrame:
    """The CSV's rows with this notebook and seed's replaced by ``metrics``."""
    new = pd.DataFrame([(dataset, notebook, k, seed, float(v)) for k, v in metrics.items()], columns=COLUMNS)
    try:
        old = pd.read_csv(path, dtype={"notebook": str})
    except FileNotFoundError:
        old = pd.DataFrame(columns=COLUMNS)
    keep = ~((old["dataset"] == dataset) & (old["notebook"] == notebook) & (old["seed"] == seed))
    rows = pd.concat([old[keep], new], ignore_index=True) if keep.any() else new
    return rows.sort_values(["dataset", "notebook", "metric", "seed"]).reset_index(drop=True)


def main(argv=None):
    import warnings

    from recsys_utils import UnknownIdWarning

    args = parse_args(argv)
    warnings.simplefilter("ignore", UnknownIdWarning)  # cold test movies fall back to biases, as in the notebooks
    ds = _data(args.dataset, args.max_ratings, seed=0)
    print(machine_header("bench_seeds", blas_threads=blas_threads(), tf_threads=2, dataset=ds.name,
                         ratings=f"{len(ds.ratings):,}", smoke=args.smoke), flush=True)
    results = {}
    for notebook in args.only:
        params = notebook_parameters(notebook, smoke=args.smoke)
        for seed in args.seeds:
            metrics, secs = timed(RUNS[notebook], ds, params, seed)
            results[(notebook, seed)] = metrics
            write_csv(_merge(args.csv, ds.name, notebook, seed, metrics), args.csv)
            print(f"notebook {notebook} seed {seed}: {len(metrics)} metrics in {secs:.0f} s", flush=True)
    table = pd.DataFrame([(nb, seed, k, v) for (nb, seed), m in results.items() for k, v in m.items()],
                         columns=["notebook", "seed", "metric", "value"])
    summary = table.groupby(["notebook", "metric"])["value"].agg(["mean", "min", "max"])
    summary["spread (max-min)"] = summary["max"] - summary["min"]
    print(f"\nover seeds {' '.join(map(str, args.seeds))}:")
    print(summary.round(4).to_string())
    print(f"rows written to {shown(args.csv)}")


if __name__ == "__main__":
    main()
