"""Notebook 08's claims: the committed default run, the benchmark CSVs it reads, and its smoke runs.

Default run on ml-latest-small (hyper-parameters chosen on a validation split carved from train), measured
NDCG@10: EASE (λ=200) 0.2907 > implicit ALS 0.2371 > item-kNN (50 neighbours, shrinkage 100) 0.2083 >
popularity 0.1532 > MF with notebook 06's penalty floors 0.1161, each gap beyond the spreads over 3 splits
and 3 seeds (at most 0.024); BPMF test RMSE 0.8440 against the course's best before, 0.8578. From
benchmarks/results/bayes.csv on u1: BPMF 0.9055, Bayesian FM 0.8893 (training only) and 0.8841 (test-period
items known). Smoke runs (600 most-rated movies) keep the order at the top on both data sets: ml-latest-small
EASE 0.320 > implicit ALS 0.261 > item-kNN 0.245 > popularity 0.172; ml-100k 0.370 > 0.307 > 0.298 > 0.173
(measured before MF's vector floor was added; MF is only compared with popularity there).
"""

from __future__ import annotations

import math

import pandas as pd

from helpers import BENCHMARKS, committed_metrics, notebook_parameters

RESULTS = BENCHMARKS / "results"


def _spread(m, name):
    return m[f"ndcg10_spread_{name}"]


def test_nb08_committed_ease_reaches_the_target_with_validation_choices():
    m = committed_metrics("08")
    params = notebook_parameters("08")
    assert m["dataset"] == "ml-latest-small"
    assert m["ndcg10_ease"] >= 0.285
    assert m["ease_lambda"] in params["EASE_LAMBDAS"]
    assert m["mf_bias_floor"] in params["MF_BIAS_FLOORS"]
    assert m["mf_factor_floor"] in params["MF_FACTOR_FLOORS"]
    assert (m["mf_bias_floor"], m["mf_factor_floor"]) == (committed_metrics("06")["mf_bias_floor"],
                                                          committed_metrics("06")["mf_factor_floor"])  # one recipe
    assert m["itemknn_shrinkage"] in params["KNN_SHRINKAGES"]
    assert m["itemknn_neighbors"] in [("all" if k is None else k) for k in params["KNN_NEIGHBORS"]]
    rankers = {k: v for k, v in m.items() if k.startswith("ndcg10_") and "spread" not in k}
    assert max(rankers, key=rankers.get) == "ndcg10_ease"  # the course's best top-10 list


def test_nb08_committed_ranking_order_exceeds_the_spreads():
    """Every 'beats' of the ranking section: the gap is larger than both models' spreads over splits and seeds."""
    m = committed_metrics("08")
    for better, worse in (("ease", "implicit_als"), ("ease", "itemknn"), ("implicit_als", "popularity"),
                          ("itemknn", "popularity")):
        noise = max(_spread(m, better), _spread(m, worse))
        assert m[f"ndcg10_{better}"] - m[f"ndcg10_{worse}"] > noise, (better, worse)
    assert all(0 <= _spread(m, n) < 0.03 for n in ("ease", "implicit_als", "itemknn", "mf_floor", "popularity"))
    assert 0.1 < m["ndcg10_popularity"] < m["ndcg10_itemknn"] < m["ndcg10_ease"] < 0.5
    assert m["coverage10_ease"] > 0.01  # personal lists: one shared list covers 10 of ~9,000 movies


def test_nb08_committed_bpmf_beats_the_course_best_before():
    """BPMF's committed test RMSE against the best of notebooks 01-07 as the ledger reads their stored outputs now.

    Computed here, not recorded by notebook 08: those notebooks are re-run independently of it.
    """
    from recsys_utils.ledger import ledger

    m = committed_metrics("08")
    book = ledger()
    best = book.loc[book["notebook"] != "08", "test_rmse"].min()
    ranks = pd.read_csv(RESULTS / "ranks.csv")
    chains = ranks.loc[(ranks["model"] == "BPMF (Gibbs)") & (ranks["rank"] == 10), "test_rmse"]
    assert len(chains) >= 3
    assert math.isclose(best, 0.8578, abs_tol=1e-3)  # the "course's best so far"
    assert best - m["test_rmse_bpmf"] > chains.max() - chains.min()  # beyond the spread over chains
    assert m["bpmf_beats_best_before"] is True


def test_nb08_committed_u1_numbers_match_bayes_csv_and_targets():
    """The u1 numbers the notebook shows are bayes.csv's best rows per setting, and meet the issue's targets."""
    m = committed_metrics("08")
    bayes = pd.read_csv(RESULTS / "bayes.csv")
    if "setting" not in bayes.columns:
        bayes["setting"] = "bpmf"
    u1 = bayes[(bayes["dataset"] == "ml-100k") & (bayes["split"] == "u1")]
    for setting, rows in u1.groupby("setting"):
        key = setting.replace(" ", "_").replace("-", "_")
        ours = rows.loc[rows["model"].str.startswith("ours"), "rmse"].min()
        assert math.isclose(m[f"u1_rmse_{key}"], ours, abs_tol=1e-6), setting  # re-run the notebook after the CSV
    assert m["u1_rmse_bpmf"] <= 0.912  # BPMF's target on u1
    course_fm = bayes[(bayes["split"] == "course") & (bayes["setting"] == "train-only implicit")
                      & bayes["model"].str.startswith("ours")]
    if len(course_fm):  # the Bayesian FM on the course split, beside the course's best before (0.8578)
        assert math.isclose(m["course_rmse_bayesian_fm"], course_fm["rmse"].min(), abs_tol=1e-6)
        assert m["course_rmse_bayesian_fm"] < 0.8578
    targets = {"train_only_implicit": 0.895, "test_period_items_known": 0.889}  # the Bayesian FM's targets
    for key, target in targets.items():
        if f"u1_rmse_{key}" in m:
            assert m[f"u1_rmse_{key}"] <= target, key


def test_ranks_csv_bpmf_needs_no_lambda():
    """The rank sweep the notebook plots: BPMF below tuned ALS at every rank it ran, weak-λ ALS far above."""
    ranks = pd.read_csv(RESULTS / "ranks.csv")
    mean = ranks.groupby(["rank", "model"])["test_rmse"].mean().unstack("model")
    bpmf = mean["BPMF (Gibbs)"].dropna()
    assert len(bpmf) >= 4
    assert (bpmf < mean.loc[bpmf.index, "ALS, tuned λ"]).all()
    assert (mean.loc[bpmf.index, "ALS, weak λ"] > bpmf + 0.05).all()
    assert bpmf.max() - bpmf.min() < 0.01  # flat in d: nothing to tune
    chains = ranks[(ranks["model"] == "BPMF (Gibbs)") & (ranks["rank"] == 10)]
    assert len(chains) >= 3


def test_nb08_smoke_ranking_order(smoke_metrics):
    m = smoke_metrics("08")
    assert m["ndcg10_ease"] > m["ndcg10_implicit_als"] + 0.02
    for name in ("ease", "itemknn", "implicit_als"):
        assert m[f"ndcg10_{name}"] > m["ndcg10_popularity"] + 0.05, name
    assert m["ndcg10_mf_floor"] < m["ndcg10_popularity"]
    assert 0.7 < m["test_rmse_bpmf"] < 1.0
    assert m["bpmf_beats_best_before"] is False  # a subsampled run makes no claim against the course's best
