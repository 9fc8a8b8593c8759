"""Small offline datasets generated on the fly (Lab 1).

:func:`make_cooccurrence_data` produces "sentences" of symbols (pig, salad, cake, roof,
door, carrot, ...) whose words come from hidden categories.  A model that only sees
which symbols co-occur learns embeddings in which symbols of a category are close:
the categories are never shown to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Hidden categories and their symbols (8 x 8 = 64 symbols).
CATEGORIES = {
    "farm animal": ["pig", "cow", "sheep", "goat", "horse", "hen", "duck", "donkey"],
    "vegetable": ["carrot", "salad", "potato", "onion", "leek", "pea", "cabbage", "turnip"],
    "dessert": ["cake", "pie", "cookie", "tart", "pudding", "brownie", "muffin", "custard"],
    "house part": ["roof", "door", "window", "wall", "floor", "chimney", "stairs", "attic"],
    "vehicle": ["car", "bus", "train", "bike", "truck", "tram", "scooter", "van"],
    "clothing": ["shirt", "coat", "scarf", "sock", "hat", "glove", "skirt", "boot"],
    "tool": ["hammer", "saw", "drill", "wrench", "chisel", "pliers", "shovel", "rake"],
    "instrument": ["piano", "violin", "flute", "drum", "guitar", "harp", "trumpet", "cello"],
}


@dataclass
class CooccurrenceData:
    """Pairs of symbol ids with a 0/1 label "seen together" (Lab 1).

    Attributes
    ----------
    vocabulary : list of str
        Symbol of each id.
    categories : numpy.ndarray
        Hidden category index of each symbol (for evaluation only).
    category_names : list of str
    sentences : list of list of int
        The generated sentences (symbol ids).
    left, right : numpy.ndarray
        Symbol ids of each training pair.
    label : numpy.ndarray
        1.0 where the pair co-occurred in a sentence, 0.0 for a random (negative) pair.
    """

    vocabulary: list
    categories: np.ndarray
    category_names: list
    sentences: list
    left: np.ndarray
    right: np.ndarray
    label: np.ndarray


def make_cooccurrence_data(
    num_sentences: int = 2000,
    sentence_length: int = 4,
    noise: float = 0.1,
    negatives_per_positive: int = 1,
    seed: int = 0,
) -> CooccurrenceData:
    """Generate sentences from hidden categories and turn them into labelled pairs.

    Each sentence picks one hidden category and draws ``sentence_length`` symbols from
    it; with probability ``noise`` a symbol is replaced by one drawn from the whole
    vocabulary.  Every ordered pair of distinct symbols in a sentence is a positive;
    each positive comes with ``negatives_per_positive`` pairs whose right symbol is
    drawn uniformly at random (label 0).

    Parameters
    ----------
    num_sentences, sentence_length : int
    noise : float
        Probability of an off-topic symbol.
    negatives_per_positive : int
    seed : int
        Seed of the NumPy generator; the same seed gives the same data.

    Returns
    -------
    CooccurrenceData
    """
    rng = np.random.default_rng(seed)
    names = list(CATEGORIES)
    vocabulary = [word for name in names for word in CATEGORIES[name]]
    categories = np.repeat(np.arange(len(names)), [len(CATEGORIES[n]) for n in names])
    members = [np.flatnonzero(categories == c) for c in range(len(names))]

    sentences = []
    for _ in range(num_sentences):
        topic = rng.integers(len(names))
        words = rng.choice(members[topic], size=sentence_length, replace=False)
        off_topic = rng.random(sentence_length) < noise
        words[off_topic] = rng.integers(len(vocabulary), size=int(off_topic.sum()))
        sentences.append([int(w) for w in words])

    left, right = [], []
    for words in sentences:
        for a in words:
            for b in words:
                if a != b:
                    left.append(a)
                    right.append(b)
    left = np.asarray(left, dtype="int32")
    right = np.asarray(right, dtype="int32")
    num_pos = len(left)
    neg_left = np.repeat(left, negatives_per_positive)
    neg_right = rng.integers(len(vocabulary), size=num_pos * negatives_per_positive)
    all_left = np.concatenate([left, neg_left]).astype("int32")
    all_right = np.concatenate([right, neg_right]).astype("int32")
    label = np.concatenate([np.ones(num_pos), np.zeros(len(neg_left))]).astype("float32")
    order = rng.permutation(len(label))
    return CooccurrenceData(
        vocabulary=vocabulary,
        categories=categories,
        category_names=names,
        sentences=sentences,
        left=all_left[order],
        right=all_right[order],
        label=label[order],
    )
