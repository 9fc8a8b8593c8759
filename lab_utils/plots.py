"""Plots shared by the labs.

- Labs 1 and 3: :func:`pca_vs_tsne`, :func:`scatter_2d` (embedding maps).
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
                annotations=None):
    """Side-by-side PCA and t-SNE projections of ``vectors`` coloured by ``labels`` (Lab 1, 3).

    Parameters
    ----------
    vectors : array-like, shape (n, d)
    labels : array-like, shape (n,)
    perplexity : float
        t-SNE perplexity (must be smaller than n).
    seed : int
        Seed of t-SNE's random initialisation: another seed gives another layout.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    vectors = np.asarray(vectors, dtype="float64")
    pca = PCA(n_components=2, random_state=seed).fit_transform(vectors)
    tsne = TSNE(n_components=2, perplexity=min(perplexity, len(vectors) - 1), init="pca",
                random_state=seed).fit_transform(vectors)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    scatter_2d(axes[0], pca, labels, f"PCA: {title}", annotations)
    scatter_2d(axes[1], tsne, labels, f"t-SNE (perplexity {perplexity:g}, seed {seed}): {title}",
               annotations)
    fig.tight_layout()
    return fig
