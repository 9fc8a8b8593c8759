"""Reference evaluators that answer lab exercises: instructor side only, never in a wheel.

Each computes what an exercise asks a student to write, so it must not be importable from
the student package (issue 23): the tests use them as references.

- Labs 1 and 3: :func:`cosine_similarity_matrix`; Lab 1: :func:`neighbour_category_accuracy`
  (do nearest neighbours share a category?).
- Lab 3: :func:`rmse`, :func:`mae` (explicit feedback, regression).
- Lab 4: :func:`ranking_metrics` (AUC, precision, recall, NDCG and hit rate at k),
  :func:`auc_score`, :func:`top_k_items`.
"""

from __future__ import annotations

import numpy as np


def cosine_similarity_matrix(embeddings) -> np.ndarray:
    """Cosine similarity between every pair of rows of ``embeddings`` (n, d) -> (n, n)."""
    x = np.asarray(embeddings, dtype="float64")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.maximum(norms, 1e-12)
    return x @ x.T


def neighbour_category_accuracy(embeddings, categories, k: int = 1) -> float:
    """Share of a symbol's ``k`` nearest neighbours (cosine, itself excluded) in its category.

    Used in Lab 1 to measure whether learned embeddings capture the hidden categories.
    One-hot vectors are all equally far apart, so for them this is chance level
    (ties are broken by index).

    Parameters
    ----------
    embeddings : array-like, shape (n, d)
    categories : array-like, shape (n,)
    k : int

    Returns
    -------
    float
    """
    categories = np.asarray(categories)
    sim = cosine_similarity_matrix(embeddings)
    np.fill_diagonal(sim, -np.inf)
    neighbours = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return float(np.mean(categories[neighbours] == categories[:, None]))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error (Lab 3)."""
    y_true = np.asarray(y_true, dtype="float64").ravel()
    y_pred = np.asarray(y_pred, dtype="float64").ravel()
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error (Lab 3)."""
    y_true = np.asarray(y_true, dtype="float64").ravel()
    y_pred = np.asarray(y_pred, dtype="float64").ravel()
    return float(np.mean(np.abs(y_true - y_pred)))


# --------------------------------------------------------------------------- ranking (Lab 4)


def _pairs_by_user(pairs) -> dict[int, np.ndarray]:
    """Group ``(user_id, item_id)`` pairs (array-like of shape (n, 2)) by user."""
    pairs = np.asarray(pairs, dtype="int64").reshape(-1, 2)
    order = np.argsort(pairs[:, 0], kind="stable")
    users, starts = np.unique(pairs[order, 0], return_index=True)
    groups = np.split(pairs[order, 1], starts[1:])
    return {int(u): np.unique(g) for u, g in zip(users, groups, strict=True)}


def _candidates(num_items: int, first_id: int, exclude: np.ndarray) -> np.ndarray:
    items = np.arange(first_id, num_items + first_id)
    return items[~np.isin(items, exclude)]


def auc_score(scores_pos, scores_neg) -> float:
    """ROC AUC of positive against negative scores; ties count half (Lab 4).

    The probability that a random positive scores higher than a random negative,
    computed from ranks in ``O(n log n)``.
    """
    pos = np.asarray(scores_pos, dtype="float64").ravel()
    neg = np.asarray(scores_neg, dtype="float64").ravel()
    if pos.size == 0 or neg.size == 0:
        raise ValueError("auc_score: expected at least one positive and one negative score, "
                         f"got {pos.size} positives and {neg.size} negatives")
    both = np.concatenate([pos, neg])
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    # Average rank (1-based) of each distinct value, then of each score.
    upper = np.cumsum(counts)
    average_rank = upper - (counts - 1) / 2.0
    ranks = average_rank[inverse]
    n_pos, n_neg = pos.size, neg.size
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def top_k_items(scores, train_pairs, user_ids, k: int = 10, *, first_id: int = 1) -> np.ndarray:
    """The ``k`` best-scored items of each user, their training positives excluded (Lab 4).

    Parameters
    ----------
    scores : array, shape (num_users + first_id, num_items + first_id)
        ``scores[user_id, item_id]``: ids index the array directly (MovieLens ids start
        at 1, so row and column 0 are unused).
    train_pairs : array-like, shape (n, 2)
        ``(user_id, item_id)`` training positives, never recommended again.
    user_ids : array-like of int
    k : int
    first_id : int
        Smallest valid item id.

    Returns
    -------
    numpy.ndarray, shape (len(user_ids), k)
        Item ids, best first; ties are broken by the smaller item id.
    """
    scores = np.asarray(scores, dtype="float64")
    num_items = scores.shape[1] - first_id
    seen = _pairs_by_user(train_pairs)
    out = np.empty((len(user_ids), k), dtype="int64")
    empty = np.array([], dtype="int64")
    for row, user in enumerate(np.asarray(user_ids, dtype="int64")):
        items = _candidates(num_items, first_id, seen.get(int(user), empty))
        best = np.argsort(-scores[user, items], kind="stable")[:k]
        out[row] = items[best]
    return out


def ranking_metrics(scores, train_pairs, test_pairs, k: int = 10, *,
                    first_id: int = 1) -> dict[str, float]:
    """Mean AUC, precision@k, recall@k, NDCG@k and hit rate@k over users (Lab 4).

    The protocol: for every user with at least one test positive, score all items and
    exclude the user's training positives.  AUC compares the test positives with every
    item that is neither a training nor a test positive (ties count half).  The top-k
    metrics use binary relevance on the k best remaining items (ties broken by item id):
    precision = hits / k, recall = hits / #test positives, NDCG = DCG / ideal DCG with
    gains ``1 / log2(rank + 1)``, hit rate = 1 if any hit.  Every metric is averaged over
    users.

    Parameters
    ----------
    scores : array, shape (num_users + first_id, num_items + first_id)
        ``scores[user_id, item_id]``, higher is better.
    train_pairs, test_pairs : array-like, shape (n, 2)
        ``(user_id, item_id)`` positives.
    k : int
    first_id : int

    Returns
    -------
    dict
        ``{"auc", "precision@k", "recall@k", "ndcg@k", "hr@k", "users"}`` as plain floats
        (``users`` is the number of users evaluated).
    """
    scores = np.asarray(scores, dtype="float64")
    num_items = scores.shape[1] - first_id
    seen = _pairs_by_user(train_pairs)
    relevant = _pairs_by_user(test_pairs)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    empty = np.array([], dtype="int64")
    rows = []
    for user, positives in relevant.items():
        items = _candidates(num_items, first_id, seen.get(user, empty))
        positives = positives[np.isin(positives, items)]
        if positives.size == 0:
            continue
        user_scores = scores[user, items]
        is_pos = np.isin(items, positives)
        auc = auc_score(user_scores[is_pos], user_scores[~is_pos])
        top = np.argsort(-user_scores, kind="stable")[:k]
        hits = is_pos[top]
        ideal = discounts[: min(positives.size, k)].sum()
        rows.append((auc, hits.sum() / k, hits.sum() / positives.size,
                     (hits * discounts[: hits.size]).sum() / ideal, float(hits.any())))
    if not rows:
        raise ValueError("ranking_metrics: expected at least one user with a test positive "
                         "that is not a training positive, got none")
    means = np.mean(rows, axis=0)
    names = ["auc", f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"hr@{k}"]
    return {**{n: float(v) for n, v in zip(names, means, strict=True)}, "users": float(len(rows))}
