"""Ranking metrics (Lab 4) against scikit-learn and by hand; positive pairs."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score, roc_auc_score

from lab_utils import metrics, sampling
from lab_utils.instructor import evaluation


def _problem(seed, num_users=30, num_items=50, ties=False):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(num_users + 1, num_items + 1))
    if ties:
        scores = np.round(scores, 0)
    pairs = np.array([(u, i) for u in range(1, num_users + 1) for i in range(1, num_items + 1)])
    kind = rng.choice(3, size=len(pairs), p=[0.8, 0.12, 0.08])  # 0 nothing, 1 train, 2 test
    return scores, pairs[kind == 1], pairs[kind == 2]


@pytest.mark.parametrize("ties", [False, True])
def test_auc_matches_sklearn_with_and_without_ties(ties):
    rng = np.random.default_rng(1)
    pos, neg = rng.normal(1, 1, 40), rng.normal(0, 1, 300)
    if ties:
        pos, neg = np.round(pos), np.round(neg)
    y = np.r_[np.ones(40), np.zeros(300)]
    assert evaluation.auc_score(pos, neg) == pytest.approx(roc_auc_score(y, np.r_[pos, neg]))
    assert evaluation.auc_score([1.0], [1.0]) == 0.5
    assert type(evaluation.auc_score(pos, neg)) is float


def _reference(scores, train, test, k):
    """Per-user metrics with scikit-learn, written independently of lab_utils."""
    out = []
    for user in np.unique(test[:, 0]):
        seen = set(train[train[:, 0] == user, 1])
        positives = set(test[test[:, 0] == user, 1]) - seen
        items = [i for i in range(1, scores.shape[1]) if i not in seen]
        if not positives:
            continue
        y = np.array([i in positives for i in items], dtype=float)
        s = scores[user, items]
        ranked = [items[j] for j in np.argsort(-s, kind="stable")[:k]]
        hits = sum(i in positives for i in ranked)
        out.append((roc_auc_score(y, s), hits / k, hits / len(positives),
                    ndcg_score([y], [s], k=k, ignore_ties=True), float(hits > 0)))
    return np.mean(out, axis=0), len(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranking_metrics_match_sklearn(seed):
    scores, train, test = _problem(seed)
    got = evaluation.ranking_metrics(scores, train, test, k=10)
    expected, users = _reference(scores, train, test, 10)
    assert got["users"] == users
    for name, value in zip(["auc", "precision@10", "recall@10", "ndcg@10", "hr@10"], expected,
                           strict=True):
        assert got[name] == pytest.approx(value), name
        assert type(got[name]) is float


def test_perfect_and_reversed_scores():
    scores, train, test = _problem(3)
    oracle = np.zeros_like(scores)
    oracle[test[:, 0], test[:, 1]] = 1.0
    oracle[train[:, 0], train[:, 1]] = 5.0  # must be excluded, not counted as misses
    best = evaluation.ranking_metrics(oracle, train, test, k=3)
    assert best["auc"] == 1.0 and best["ndcg@3"] == pytest.approx(1.0) and best["hr@3"] == 1.0
    worst = evaluation.ranking_metrics(-oracle, train, test, k=3)
    assert worst["auc"] == 0.0 and worst["hr@3"] == 0.0


def test_constant_scores_give_auc_one_half():
    scores, train, test = _problem(4)
    assert evaluation.ranking_metrics(np.zeros_like(scores), train, test)["auc"] == 0.5


def test_top_k_excludes_training_positives_and_breaks_ties_by_id():
    scores = np.zeros((3, 7))
    scores[1, [2, 5]] = 1.0
    top = evaluation.top_k_items(scores, np.array([[1, 5]]), [1, 2], k=3)
    assert top.tolist() == [[2, 1, 3], [1, 2, 3]]


def test_coverage_and_popular_share():
    recs = np.array([[1, 2], [1, 3]])
    assert metrics.catalogue_coverage(recs, 10) == 0.3
    assert metrics.popular_share(recs, [1]) == 0.5


def test_no_user_to_evaluate_is_an_error():
    with pytest.raises(ValueError, match="at least one user"):
        evaluation.ranking_metrics(np.zeros((2, 3)), [[1, 1]], [[1, 1]])


def test_positive_pairs_threshold():
    ratings = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [3, 4, 3], "rating": [4, 3, 5]})
    assert sampling.positive_pairs(ratings).tolist() == [[1, 3], [2, 3]]
    with pytest.raises(KeyError, match="user_id, item_id, rating"):
        sampling.positive_pairs(ratings.drop(columns="rating"))
