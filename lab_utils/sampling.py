"""Positive pairs for triplet training (Lab 4).

The training procedure of the slides: gather the positive ``(user, item)`` pairs once;
at every epoch shuffle them and draw, for each pair, one negative item uniformly at
random from the whole catalogue.  Students write the per-epoch sampler themselves in
Lab 4 (``sample_epoch``); this module provides the positive pairs it starts from.
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


__all__ = ["positive_pairs"]
