"""Metrics shared by the labs.

- Lab 1: :func:`neighbour_category_accuracy` (do nearest neighbours share a category?).
- Lab 3: :func:`rmse`, :func:`mae` (explicit feedback, regression).
- Lab 4: ranking metrics (implicit feedback).
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
