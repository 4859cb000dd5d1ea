"""Notebook 05's claims (training vs test error), checked on its smoke run.

The smoke run trains every deep model for only a couple of epochs with large batches, so
only directions with wide margins are asserted (smoke values on ml-latest-small in the
comments; the default run widens every one of these margins).
"""

from __future__ import annotations

from nbval_metrics import disagreements_with_seed_row

from recsys_utils import seeds as sd
from recsys_utils.course import ROOT

SEEDS = sd.load_seeds(ROOT / "benchmarks" / "results" / "seeds.csv", "05", "ml-latest-small")


def test_nb05_dropout_and_capacity_directions(smoke_metrics):
    m = smoke_metrics("05")
    # dropout raises the inference-mode training error (smoke: 0.81 without, 1.28 at rate 0.5) ...
    assert m["dropout05_train_rmse"] > m["dropout0_train_rmse"] + 0.05
    assert m["dropout05_train_rmse"] > m["dropout02_train_rmse"]
    # ... and the loss Keras prints (dropout on, weights moving) lies above the finished model's
    # training RMSE in inference mode (smoke: 1.92 vs 1.20)
    assert m["article_keras_loss_rmse"] > m["article_train_rmse"] + 0.1
    # MF: large d with a weak penalty memorizes (smoke gap 0.81 vs 0.28 for d=2) ...
    small_gap = m["mf_small_weak_test_rmse"] - m["mf_small_weak_train_rmse"]
    large_gap = m["mf_large_weak_test_rmse"] - m["mf_large_weak_train_rmse"]
    assert large_gap > small_gap + 0.2
    assert m["mf_large_weak_train_rmse"] < m["mf_small_weak_train_rmse"] - 0.2
    # ... and a strong L2 penalty raises the training error but lowers the test error (smoke 0.96 -> 0.86)
    assert m["mf_large_strong_train_rmse"] > m["mf_large_weak_train_rmse"] + 0.2
    assert m["mf_large_strong_test_rmse"] < m["mf_large_weak_test_rmse"] - 0.03
    # the best test model of the course is a dot-product (MF) model, as in Rendle et al. (2020)
    assert "MF" in m["best_model"]
    assert m["best_test_rmse"] == m["best_mf_test_rmse"] < m["best_deep_test_rmse"]
    assert 0.75 < m["best_test_rmse"] < 0.95



def test_nb05_default_run_agrees_with_its_seed_in_the_benchmark():
    """benchmarks/bench_seeds.py trains the notebook's models for its SEED too: the same numbers, within tolerance."""
    n, problems = disagreements_with_seed_row("05")
    assert n >= 20 and problems == []


def test_nb05_summary_matches_the_verdicts_over_seeds():
    """The Summary states the verdicts of section 5 over the benchmark's seeds; these are they."""
    m = lambda key: sd.measured(SEEDS, key)  # noqa: E731
    # dropout's rise of the training error is within the spread of the unstable no-dropout network ...
    assert sd.verdict(m("dropout05_train_rmse"), m("dropout0_train_rmse"), "lower", "higher") == sd.NO_DIFFERENCE
    # ... its best test error over the epochs is lower beyond the spread ...
    assert sd.verdict(m("dropout05_best_test_rmse"), m("dropout0_best_test_rmse"), "lower", "higher") == "lower"
    # ... early stopping lowers the test error, and its cost in training error is not measurable
    assert sd.verdict(m("deep_es_test_rmse"), m("deep_no_es_test_rmse"), "lower", "higher") == "lower"
    assert sd.verdict(m("deep_es_train_rmse"), m("deep_no_es_train_rmse"), "lower", "higher") == sd.NO_DIFFERENCE
    # a tuned dot product is hard to beat (Rendle et al. 2020): the best MF beyond the spread of the best deep model
    best_mf = min((m(k) for k in ("keras_mf_test_rmse", "mf_large_strong_test_rmse")), key=lambda x: x.mean)
    assert sd.verdict(best_mf, m("article_test_rmse"), "lower", "higher") == "lower"
    # the strong L2 penalty raises the training error (the article's L1/L2 analogy)
    assert sd.verdict(m("mf_large_strong_train_rmse"), m("mf_large_weak_train_rmse"), "lower", "higher") == "higher"
