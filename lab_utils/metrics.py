"""Metrics shared by the labs that answer no exercise (the student package).

- Lab 4: :func:`catalogue_coverage`, :func:`popular_share` (how concentrated top-k lists are).
- Labs 1-4: :func:`record_metrics`, the headline figures a solution notebook may record for
  ``make bench`` (outside the benchmark it only returns them with plain floats).

What an exercise asks students to write (RMSE and MAE, per-user AUC, NDCG@k, top-k lists,
cosine similarity matrices) lives on the instructor side, in
:mod:`lab_utils.instructor.evaluation`.
"""

from __future__ import annotations

import json
import os

import numpy as np

from lab_utils.config import BENCH_FILE_ENV


def catalogue_coverage(recommended, num_items: int) -> float:
    """Share of the catalogue that appears in at least one top-k list (Lab 4 ethics)."""
    return float(np.unique(np.asarray(recommended)).size / num_items)


def popular_share(recommended, popular_items) -> float:
    """Share of all recommendations that are among ``popular_items`` (Lab 4 ethics)."""
    recommended = np.asarray(recommended).ravel()
    return float(np.isin(recommended, np.asarray(popular_items)).mean())


def record_metrics(lab: str, metrics: dict) -> dict:
    """Record ``{model: {metric: value}}`` for the benchmark and return it with plain floats.

    A solution notebook (Labs 1-4) ends with ``record_metrics("lab1_embeddings", {...})``.
    Nothing is written unless the benchmark set ``LAB_UTILS_BENCH_FILE``; then each call
    appends one JSON line to that file.

    Parameters
    ----------
    lab : str
        Lab id, e.g. ``"lab1_embeddings"``.
    metrics : dict
        Model name -> metric name -> number.
    """
    clean = {
        str(model): {str(name): round(float(value), 6) for name, value in values.items()}
        for model, values in metrics.items()
    }
    path = os.environ.get(BENCH_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"lab": lab, "metrics": clean}) + "\n")
    return clean
