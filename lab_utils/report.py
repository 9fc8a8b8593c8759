"""Headline metrics that a lab records for ``make bench`` (Labs 1-4).

A solution notebook ends with ``record_metrics("lab1_embeddings", {...})``.  Outside the
benchmark this only returns the cleaned metrics (nothing is written); when the
benchmark runs it sets ``LAB_UTILS_BENCH_FILE`` and each call appends one JSON line.
"""

from __future__ import annotations

import json
import os

BENCH_FILE_ENV = "LAB_UTILS_BENCH_FILE"


def record_metrics(lab: str, metrics: dict) -> dict:
    """Record ``{model: {metric: value}}`` for the benchmark and return it with plain floats.

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
