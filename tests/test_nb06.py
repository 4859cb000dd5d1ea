"""Notebook 06's claims, checked on its smoke run (papermill, smoke parameters).

Measured NDCG@10, default run on ml-latest-small: implicit ALS 0.237 > popularity 0.153 > MF with
the penalty floor 0.116 > bias baseline (λ tuned for RMSE) 0.035 > deep model 0.010 > random 0.002,
and the NumPy MF with the per-rating penalty and the best RMSE ranks at about the random level,
0.0005 (its lists are movies with one training rating), so MF vs random is deliberately not asserted.
Smoke runs (100 users) before the floor was added: ml-latest-small 0.248 / 0.141 / 0.028 / 0.079 /
0.0007, MF 0.0; ml-100k 0.342 / 0.193 / 0.047 / 0.062 / 0.007, MF 0.008 (the one-epoch deep model's
place varies, so it is only compared with random).
"""

from __future__ import annotations

from helpers import committed_metrics


def test_nb06_ranking_order(smoke_metrics):
    m = smoke_metrics("06")
    ndcg = {k[len("ndcg10_"):]: v for k, v in m.items() if k.startswith("ndcg10_") and "_seed_" not in k}
    assert set(ndcg) == {"random", "popularity", "bias_baseline", "mf", "mf_floor", "deep_model", "implicit_als"}
    # trained ranking models beat random by a wide margin
    for name in ("popularity", "implicit_als"):
        assert ndcg[name] > ndcg["random"] + 0.03, name
    assert ndcg["bias_baseline"] > ndcg["random"] + 0.02
    assert ndcg["deep_model"] > ndcg["random"] + 0.005  # a short-trained deep model: a smaller margin
    # the measured order at the top
    assert ndcg["implicit_als"] > ndcg["popularity"] + 0.03
    assert ndcg["popularity"] > ndcg["bias_baseline"] + 0.02
    # good RMSE is not good ranking: MF has the lower RMSE, the bias baseline the better list
    assert m["test_rmse_mf"] < m["test_rmse_bias"]
    assert ndcg["mf"] < ndcg["bias_baseline"] - 0.02
    assert ndcg["mf"] < 0.05
    # the penalty floor is chosen on validation; at smoke budgets (3 sweeps, a 2 x 2 grid) the rule "no worse
    # validation RMSE" may keep the per-rating penalty, and then the two models are the same model
    # (the default run's targets are checked on the committed notebook below)
    if (m["mf_bias_floor"], m["mf_factor_floor"]) == (0, 0):
        assert ndcg["mf_floor"] == ndcg["mf"]
    else:
        assert ndcg["mf_floor"] > ndcg["mf"]


def test_nb06_default_run_implicit_lists_are_personal():
    """The committed run: implicit ALS's top-10 lists cover far more of the catalogue than one shared list.

    One list for all 610 users would cover 10 of about 9,000 movies (0.1%); measured: 8.3%.
    """
    assert committed_metrics("06")["coverage10_implicit"] > 0.05


def test_nb06_penalty_floor_meets_its_targets():
    """The committed run, issue 11's targets for the course's MF.

    The floored MF beats the bias baseline's NDCG@10 by more than its spread over 3 seeds (every seed
    above it), beats random's by at least 10x, and keeps its test RMSE on all test ratings <= 0.860
    (notebook 02's per-rating ALS: 0.8598). Measured: 0.1153 ± 0.0013 vs 0.0350; 44x random; 0.8600.
    """
    m = committed_metrics("06")
    floor_mean, spread = m["ndcg10_mf_floor_seed_mean"], m["ndcg10_mf_floor_seed_spread"]
    assert floor_mean - spread > m["ndcg10_bias_baseline"] + spread
    assert floor_mean >= 10 * m["ndcg10_random_seed_mean"]
    assert m["mf_floor_test_rmse_all"] <= 0.860
    assert m["ndcg10_mf"] < m["ndcg10_random"] + 0.005          # the failure is still shown
    assert (m["mf_bias_floor"], m["mf_factor_floor"]) != (0, 0)   # validation chose a floor
