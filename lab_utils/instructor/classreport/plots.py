"""The class report's plots, as base64 PNGs embedded in the page."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd

COLOURS = {"full": "#1b9e77", "partial": "#f0a340", "none": "#d95f02", "pending": "#b0b0b0"}


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(scores, max_score: float) -> str:
    """Histogram of the graded submissions' scores, with mean and median (base64 PNG)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    scores = np.asarray(scores, dtype=float)
    bins = np.linspace(0, max_score, min(max(int(np.ceil(max_score)), 1), 20) + 1)
    counts, _, _ = ax.hist(scores, bins=bins, color="#4878a8", edgecolor="white")
    ax.set_ylim(0, max(1.0, float(np.max(counts))) * 1.08)
    if scores.size:
        ax.axvline(scores.mean(), color="#222222", linestyle="--",
                   label=f"mean {scores.mean():.1f}")
        ax.axvline(np.median(scores), color="#d95f02", linestyle=":", linewidth=2,
                   label=f"median {np.median(scores):.1f}")
        ax.legend(frameon=False, loc="upper left")
    ax.set_xlim(0, max_score)
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def exercise_bars(table: pd.DataFrame) -> str:
    """Per exercise, the shares of full / partial / no credit and of answers waiting for
    manual grading, as stacked horizontal bars (base64 PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 0.42 * len(table) + 1.1), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"{lab + ' · ' if lab else ''}{name} ({points:g} pt)" for lab, name, points
              in zip(table["label"], table["exercise"], table["points"], strict=True)]
    y = np.arange(len(table))
    graded = table["graded"].clip(lower=1).to_numpy(dtype=float)
    left = np.zeros(len(table))
    parts = [("full_credit", "full", "full credit"), ("partial_credit", "partial", "partial"),
             ("no_credit", "none", "no credit"),
             ("awaiting_manual_grading", "pending", "to grade by hand")]
    for column, colour, name in parts:
        counts = table[column].to_numpy(dtype=float)
        share = counts / graded
        ax.barh(y, share, left=left, color=COLOURS[colour], label=name, height=0.7)
        for yi, li, si, ci in zip(y, left, share, counts, strict=True):
            if si >= 0.06:
                ax.text(li + si / 2, yi, f"{ci:.0f}", ha="center", va="center", fontsize=9,
                        color="white" if colour != "pending" else "#222222")
        left += share
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("share of graded submissions")
    fig.legend(ncols=4, loc="outside upper center", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
