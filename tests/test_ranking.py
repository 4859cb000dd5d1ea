"""Top-N lists and ranking metrics against hand-computed examples and brute-force loops."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_utils import BiasBaseline, IdMap, NotFittedError
from recsys_utils.ranking import (
    catalogue_coverage,
    evaluate_scores,
    hit_rate_at_k,
    interaction_matrix,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    similar_items,
    top_n,
)

# Three users, six items. User 0 likes {1, 5}, user 1 likes {3}, user 2 likes nothing
# (left out of every average).
REC = np.array([[0, 1, 2], [3, 4, 5], [5, 4, 3]])
REL = sp.csr_matrix(np.array([[0, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0]]))
L2, L3 = np.log2(2.0), np.log2(3.0)


# --- hand-computed values --------------------------------------------------------
def test_precision_recall_hit_rate_by_hand():
    # user 0 hits at rank 2 only, user 1 at rank 1 only
    assert precision_at_k(REC, REL, 3) == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert recall_at_k(REC, REL, 3) == pytest.approx((1 / 2 + 1 / 1) / 2)
    assert hit_rate_at_k(REC, REL, 3) == pytest.approx(1.0)
    assert precision_at_k(REC, REL, 1) == pytest.approx((0 + 1) / 2)
    assert hit_rate_at_k(REC, REL, 1) == pytest.approx(0.5)
    assert recall_at_k(REC, REL, 2) == pytest.approx((1 / 2 + 1) / 2)


def test_ndcg_by_hand():
    user0 = (1 / L3) / (1 / L2 + 1 / L3)  # hit at rank 2; ideal: hits at ranks 1 and 2
    user1 = 1.0  # hit at rank 1, one relevant item
    assert ndcg_at_k(REC, REL, 3) == pytest.approx((user0 + user1) / 2)
    assert ndcg_at_k(REC, REL, 1) == pytest.approx((0 + 1) / 2)


def test_map_by_hand():
    user0 = (1 / 2) / min(3, 2)  # precision@2 at the one hit, divided by min(k, R)
    assert map_at_k(REC, REL, 3) == pytest.approx((user0 + 1.0) / 2)
    # a user with hits at ranks 1 and 3 out of 4 relevant items, k = 3
    rec = np.array([[0, 9, 1]])
    rel = sp.csr_matrix((np.ones(4), ([0, 0, 0, 0], [0, 1, 2, 3])), shape=(1, 10))
    assert map_at_k(rec, rel, 3) == pytest.approx((1 / 1 + 2 / 3) / 3)


def test_per_user_values_and_nan_for_users_without_relevant_items():
    p = precision_at_k(REC, REL, 3, per_user=True)
    np.testing.assert_allclose(p[:2], [1 / 3, 1 / 3])
    assert np.isnan(p[2])
    np.testing.assert_allclose(ndcg_at_k(REC, REL, 3, per_user=True)[:2], [(1 / L3) / (1 / L2 + 1 / L3), 1.0])


def test_filler_slots_are_never_hits():
    # -1 of user 1 must not alias user 0's last item (index n_items - 1 = 5, relevant for user 0)
    rec = np.array([[5, -1], [-1, -1]])
    rel = sp.csr_matrix(np.array([[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1]]))
    np.testing.assert_allclose(hit_rate_at_k(rec, rel, 2, per_user=True), [1.0, 0.0])


def test_dense_bool_relevance_gives_the_same_numbers():
    assert ndcg_at_k(REC, REL.toarray().astype(bool), 3) == pytest.approx(ndcg_at_k(REC, REL, 3))


def test_coverage_by_hand():
    assert catalogue_coverage(REC, 6) == pytest.approx(6 / 6)
    assert catalogue_coverage(REC, 6, k=1) == pytest.approx(3 / 6)  # items 0, 3, 5
    assert catalogue_coverage(np.array([[2, -1]]), 4) == pytest.approx(1 / 4)


def test_ranking_metrics_collects_all():
    m = ranking_metrics(REC, REL, 3)
    assert m["ndcg@3"] == pytest.approx(ndcg_at_k(REC, REL, 3))
    assert m["coverage@3"] == pytest.approx(1.0)
    assert set(m) == {"precision@3", "recall@3", "ndcg@3", "map@3", "hit_rate@3", "coverage@3"}


def test_metrics_against_a_python_loop():
    rng = np.random.default_rng(0)
    n_users, n_items, k = 30, 25, 5
    rec = np.array([rng.permutation(n_items)[:k] for _ in range(n_users)])
    rel = sp.random(n_users, n_items, density=0.2, random_state=1, format="csr")
    rel.data[:] = 1
    p, r, nd, ap = [], [], [], []
    for u in range(n_users):
        liked = set(rel[u].indices)
        if not liked:
            continue
        h = [int(i in liked) for i in rec[u]]
        p.append(sum(h) / k)
        r.append(sum(h) / len(liked))
        dcg = sum(x / np.log2(j + 2) for j, x in enumerate(h))
        nd.append(dcg / sum(1 / np.log2(j + 2) for j in range(min(k, len(liked)))))
        ap.append(sum(sum(h[: j + 1]) / (j + 1) * h[j] for j in range(k)) / min(k, len(liked)))
    assert precision_at_k(rec, rel, k) == pytest.approx(np.mean(p))
    assert recall_at_k(rec, rel, k) == pytest.approx(np.mean(r))
    assert ndcg_at_k(rec, rel, k) == pytest.approx(np.mean(nd))
    assert map_at_k(rec, rel, k) == pytest.approx(np.mean(ap))


# --- errors ------------------------------------------------------------------------
@pytest.mark.parametrize("k", [0, -1, 2.5, True, None])
def test_bad_k(k):
    with pytest.raises(ValueError, match="k must be an integer >= 1, got "):
        precision_at_k(REC, REL, k)


def test_k_larger_than_the_lists():
    with pytest.raises(ValueError, match="ask top_n for n >= 4"):
        ndcg_at_k(REC, REL, 4)
    with pytest.raises(ValueError, match="only 3 items per user"):
        catalogue_coverage(REC, 6, k=4)


def test_mismatched_users():
    with pytest.raises(ValueError, match="3 users but relevant has 2"):
        recall_at_k(REC, REL[:2], 2)


def test_item_index_out_of_range_and_repeats():
    with pytest.raises(ValueError, match="outside 0..5"):
        map_at_k(np.array([[6]]), REL[:1], 1)
    with pytest.raises(ValueError, match="repeats an item"):
        hit_rate_at_k(np.array([[1, 1]]), REL[:1], 2)
    with pytest.raises(ValueError, match="2-D integer array"):
        precision_at_k(np.array([0.0, 1.0]), REL[:1], 1)
    with pytest.raises(ValueError, match="n_items is 3"):
        catalogue_coverage(REC, 3)


def test_no_relevant_items_at_all():
    with pytest.raises(ValueError, match="no user has a relevant item"):
        precision_at_k(REC[2:], REL[2:], 1)


# --- top_n -----------------------------------------------------------------------
def _brute_top_n(scores, exclude, n):
    out = []
    for u in range(scores.shape[0]):
        seen = set(exclude[u].indices)
        cand = [i for i in np.argsort(-scores[u], kind="stable") if i not in seen][:n]
        out.append(cand + [-1] * (n - len(cand)))
    return np.array(out)


def test_top_n_matches_a_brute_force_loop_and_skips_seen_items():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(40, 50))
    exclude = sp.random(40, 50, density=0.3, random_state=4, format="csr")
    got = top_n(scores, exclude=exclude, n=7)
    np.testing.assert_array_equal(got, _brute_top_n(scores, exclude, 7))
    rows, cols = exclude.nonzero()
    assert not np.isin(np.arange(40)[:, None] * 50 + got, rows * 50 + cols).any()


def test_top_n_without_exclusion_and_with_dense_mask():
    scores = np.array([[0.1, 0.9, 0.5], [3.0, 1.0, 2.0]])
    np.testing.assert_array_equal(top_n(scores, n=2), [[1, 2], [0, 2]])
    np.testing.assert_array_equal(top_n(scores, exclude=np.array([[0, 1, 0], [0, 0, 0]], bool), n=3),
                                  [[2, 0, -1], [0, 2, 1]])


def test_top_n_pads_with_minus_one_when_items_run_out():
    scores = np.arange(8.0).reshape(2, 4)
    exclude = sp.csr_matrix(np.array([[1, 1, 1, 0], [0, 0, 0, 0]]))
    np.testing.assert_array_equal(top_n(scores, exclude, n=4), [[3, -1, -1, -1], [3, 2, 1, 0]])


def test_top_n_does_not_modify_its_input():
    scores = np.ones((2, 3))
    top_n(scores, exclude=sp.eye(2, 3, format="csr"), n=1)
    assert (scores == 1).all()


def test_top_n_errors():
    with pytest.raises(ValueError, match="2-D"):
        top_n(np.zeros(4))
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        top_n(np.zeros((2, 4)), n=0)
    with pytest.raises(ValueError, match="at most 4"):
        top_n(np.zeros((2, 4)), n=5)
    with pytest.raises(ValueError, match="NaN"):
        top_n(np.array([[np.nan, 1.0]]), n=1)
    with pytest.raises(ValueError, match="exclude has shape"):
        top_n(np.zeros((2, 4)), exclude=sp.csr_matrix((3, 4)), n=1)


def test_similar_items_cosine_ignores_length_dot_rewards_it():
    Q = np.array([[1.0, 0.0], [0.9, 0.1], [2.0, 2.0]])
    np.testing.assert_array_equal(similar_items(Q, 0, n=2, metric="cosine"), [[1, 2]])
    np.testing.assert_array_equal(similar_items(Q, 0, n=2, metric="dot"), [[2, 1]])
    assert 0 not in similar_items(Q, [0], n=2)
    with pytest.raises(ValueError, match="'cosine' or 'dot'"):
        similar_items(Q, 0, metric="euclid")


# --- tables to matrices, models to scores -------------------------------------------
def _tables():
    train = pd.DataFrame({"user_id": [10, 10, 20, 20, 30], "item_id": [1, 2, 2, 3, 1],
                          "rating": [5.0, 3.0, 4.0, 2.0, 1.0]})
    test = pd.DataFrame({"user_id": [10, 20, 20, 30, 30], "item_id": [3, 1, 9, 2, 3],
                         "rating": [4.0, 5.0, 5.0, 2.0, 3.5]})
    return train, test


def test_interaction_matrix_and_relevance_threshold():
    train, test = _tables()
    ids = IdMap.from_ratings(train)
    np.testing.assert_array_equal(interaction_matrix(train, ids).toarray(), [[1, 1, 0], [0, 1, 1], [1, 0, 0]])
    # item 9 is unknown to ids (dropped); user 30's ratings are below 4
    np.testing.assert_array_equal(interaction_matrix(test, ids, min_rating=4).toarray(),
                                  [[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="needs a rating column"):
        interaction_matrix(train[["user_id", "item_id"]], ids, min_rating=4)


def test_evaluate_scores_oracle_and_reversed():
    train, test = _tables()
    ids = IdMap.from_ratings(train)
    oracle = interaction_matrix(test, ids, min_rating=4).toarray()
    m = evaluate_scores(oracle, train, test, ids, k=1)
    assert m["precision@1"] == 1.0 and m["ndcg@1"] == 1.0 and m["n_eval_users"] == 2
    # training items score highest here, but they are excluded from the lists
    seen_first = oracle + 10 * interaction_matrix(train, ids).toarray()
    assert evaluate_scores(seen_first, train, test, ids, k=1)["precision@1"] == 1.0
    sub = evaluate_scores(oracle[[1]], train, test, ids, k=1, users=[1])
    assert sub["n_eval_users"] == 1 and sub["recall@1"] == 1.0
    with pytest.raises(ValueError, match=r"scores have shape \(2, 3\)"):
        evaluate_scores(oracle[:2], train, test, ids, k=1)


def test_score_matrix_equals_unclipped_predictions():
    train, _ = _tables()
    model = BiasBaseline().fit(train)
    S = model.score_matrix()
    u, i = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    np.testing.assert_allclose(S, model._predict_idx(u.ravel(), i.ravel()).reshape(3, 3))
    np.testing.assert_allclose(model.score_matrix(users=[2]), S[[2]])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BiasBaseline().score_matrix()


def test_score_matrix_of_matrix_factorization():
    mf = pytest.importorskip("recsys_utils.mf")
    train, _ = _tables()
    model = mf.MatrixFactorization(n_factors=2, n_epochs=3, random_state=0).fit(train)
    u, i = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    np.testing.assert_allclose(model.score_matrix(), model._predict_idx(u.ravel(), i.ravel()).reshape(3, 3))


def test_top_n_breaks_ties_by_the_lower_item_index_like_a_brute_force_sort():
    """Ties (popularity counts, clipped ratings) must give the same lists on every CPU: lowest index first."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_users, n_items = int(rng.integers(1, 6)), int(rng.integers(1, 12))
        n = int(rng.integers(1, n_items + 1))
        scores = rng.integers(0, 4, (n_users, n_items)).astype(float)  # many ties
        exclude = rng.random((n_users, n_items)) < 0.3
        got = top_n(scores, exclude=exclude, n=n)
        for u in range(n_users):
            left = [i for i in range(n_items) if not exclude[u, i]]
            want = sorted(left, key=lambda i: (-scores[u, i], i))[:n]
            assert got[u].tolist() == want + [-1] * (n - len(want))
