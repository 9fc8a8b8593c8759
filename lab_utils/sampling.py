"""Positive pairs and uniform negative sampling for triplet training (Lab 4).

The training procedure of the slides: gather the positive ``(user, item)`` pairs once;
at every epoch shuffle them and draw, for each pair, one negative item uniformly at
random from the whole catalogue.  Every function takes an explicit ``seed`` (or a
:class:`numpy.random.Generator`) so that a run is reproducible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def positive_pairs(ratings: pd.DataFrame, min_rating: int = 4) -> np.ndarray:
    """The ``(user_id, item_id)`` pairs rated at least ``min_rating`` (Lab 4).

    Parameters
    ----------
    ratings : pandas.DataFrame
        Columns ``user_id``, ``item_id``, ``rating``.
    min_rating : int
        Ratings at or above it count as positive (implicit) feedback.

    Returns
    -------
    numpy.ndarray of int64, shape (n, 2)
    """
    missing = {"user_id", "item_id", "rating"} - set(ratings.columns)
    if missing:
        raise KeyError(f"positive_pairs: expected columns user_id, item_id, rating, "
                       f"got {list(ratings.columns)}")
    keep = ratings["rating"].to_numpy() >= min_rating
    return ratings.loc[keep, ["user_id", "item_id"]].to_numpy(dtype="int64")


def sample_triplets(pairs, num_items: int, seed, *, first_id: int = 1):
    """One epoch of triplets: shuffled positive pairs and uniform random negatives (Lab 4).

    Parameters
    ----------
    pairs : array-like, shape (n, 2)
        ``(user_id, item_id)`` positive pairs.
    num_items : int
        Item ids range over ``first_id .. first_id + num_items - 1``.
    seed : int or numpy.random.Generator
        Source of randomness; pass a Generator to draw a new sample at every epoch.
    first_id : int
        Smallest item id (1 for MovieLens).

    Returns
    -------
    (user_id, positive_item_id, negative_item_id) : tuple of numpy.ndarray of int64
        As in the slides, a negative is drawn from the whole catalogue: it is
        occasionally one of the user's positives, a noise the method tolerates.
    """
    rng = np.random.default_rng(seed)
    pairs = np.asarray(pairs, dtype="int64").reshape(-1, 2)
    order = rng.permutation(len(pairs))
    negatives = rng.integers(first_id, first_id + num_items, size=len(pairs))
    return pairs[order, 0], pairs[order, 1], negatives.astype("int64")


__all__ = ["positive_pairs", "sample_triplets"]
