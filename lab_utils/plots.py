"""Plots shared by the labs.

- Labs 1 and 3: :func:`pca_vs_tsne`, :func:`scatter_2d` (embedding maps); Lab 3:
  :func:`embedding_map` (the same on one t-SNE thread).
- Lab 2: :func:`decision_boundaries`, :func:`learning_curves`.
"""

from __future__ import annotations

import numpy as np


def scatter_2d(ax, points, labels, title: str = "", annotations=None, max_annotations: int = 80):
    """Scatter 2-D points coloured by label, with a legend (at most 20 labels)."""
    labels = np.asarray(labels)
    for value in np.unique(labels):
        mask = labels == value
        ax.scatter(points[mask, 0], points[mask, 1], s=12, label=str(value), alpha=0.8)
    if annotations is not None and len(annotations) <= max_annotations:
        for (x, y), text in zip(points, annotations, strict=True):
            ax.annotate(str(text), (x, y), fontsize=7, alpha=0.7)
    if len(np.unique(labels)) <= 20:
        ax.legend(fontsize=7, markerscale=1.5, loc="best")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


def pca_vs_tsne(vectors, labels, title: str = "", perplexity: float = 30.0, seed: int = 0,
                annotations=None, max_iter: int | None = None):
    """Side-by-side PCA and t-SNE projections of ``vectors`` coloured by ``labels`` (Lab 1, 3).

    Parameters
    ----------
    vectors : array-like, shape (n, d)
    labels : array-like, shape (n,)
    perplexity : float
        t-SNE perplexity (must be smaller than n).
    seed : int
        Seed of t-SNE's random initialisation: another seed gives another layout.
    max_iter : int, optional
        t-SNE's iterations (default 1000, scikit-learn's; 300 while the notebook is being
        graded: a coarser layout in a third of the time).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    from lab_utils.setup import budget

    if max_iter is None:
        max_iter = budget(full=1000, fast=300)

    vectors = np.asarray(vectors, dtype="float64")
    pca = PCA(n_components=2, random_state=seed).fit_transform(vectors)
    tsne = TSNE(n_components=2, perplexity=min(perplexity, len(vectors) - 1), init="pca",
                max_iter=max_iter, random_state=seed).fit_transform(vectors)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    scatter_2d(axes[0], pca, labels, f"PCA: {title}", annotations)
    scatter_2d(axes[1], tsne, labels, f"t-SNE (perplexity {perplexity:g}, seed {seed}): {title}",
               annotations)
    fig.tight_layout()
    return fig


def decision_boundaries(models: dict, X, y, X_val=None, y_val=None, resolution: int = 200):
    """One panel per model: its predicted probability over the plane and the data (Lab 2).

    Parameters
    ----------
    models : dict
        Title -> Keras model mapping 2-D inputs to a probability of class 1.
    X, y : training points and labels (drawn as dots).
    X_val, y_val : optional validation points (drawn as crosses).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X)
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.c_[grid_x.ravel(), grid_y.ravel()].astype("float32")
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4.5), squeeze=False)
    for ax, (title, model) in zip(axes[0], models.items(), strict=True):
        proba = np.asarray(model.predict(grid, verbose=0, batch_size=4096)).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, proba, levels=20, cmap="RdBu_r", alpha=0.6)
        ax.contour(grid_x, grid_y, proba, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=18)
        if X_val is not None:
            ax.scatter(X_val[:, 0], X_val[:, 1], c=y_val, cmap="RdBu_r", marker="x", s=18)
        ax.set_title(title)
    fig.tight_layout()
    return fig


def learning_curves(histories: dict, metric: str = "loss"):
    """Plot ``metric`` per epoch for several training histories (Lab 2).

    Parameters
    ----------
    histories : dict
        Label -> ``keras.callbacks.History`` or its ``.history`` dict.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, history in histories.items():
        values = getattr(history, "history", history)[metric]
        ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    fig.tight_layout()
    return fig


def embedding_map(vectors, labels, title: str = "", perplexity: float = 30.0, seed: int = 0,
                  annotations=None):
    """:func:`pca_vs_tsne` with t-SNE on one OpenMP thread (Lab 3).

    Same figure.  scikit-learn's Barnes-Hut t-SNE spreads over every core with OpenMP; on
    a busy machine (a JupyterHub, CI) its threads wait for each other and a 400-point map
    takes ten times longer than on one thread.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        return pca_vs_tsne(vectors, labels, title=title, perplexity=perplexity, seed=seed,
                           annotations=annotations)
