"""Per-lab cases for the grading round trip: one realistic mistake per lab.

``wrong`` edits one answer cell of the perfect submission (old -> new text); ``loses``
lists the test cells that must then score 0 -- and no other cell may lose points.
``deleted_test`` is a test cell a student deletes (nbgrader must restore and run it).
``duplicated_test`` is a test cell a student duplicates.
"""

CASES = {
    "lab1_embeddings": {
        "wrong": ("distances", "return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))",
                  "return float(x @ y)"),
        "loses": ["test_distances"],
        "deleted_test": "test_distances",
        "duplicated_test": "test_one_hot_encode",
    },
    "lab2_regularization": {
        "wrong": ("dropout_forward", "return x * keep / (1.0 - rate)", "return x * keep"),
        "loses": ["test_dropout_forward"],
        "deleted_test": "test_dropout_forward",
        "duplicated_test": "test_build_mlp",
    },
}
