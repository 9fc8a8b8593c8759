"""Per-lab cases for the grading tests: realistic mistakes, one per exercise at least.

``wrong`` maps a submission name to ``(answer cell, old text, new text, lost test cells)``:
the perfect submission with that edit must lose exactly the listed test cells' points.
``syntax_error`` / ``infinite_loop`` name the wrong case whose answer cell is broken that
way instead (same cells lost).  ``deleted_test`` is a test cell a student deletes (nbgrader
restores and runs it); ``duplicated_test`` a test cell a student duplicates.

One module per lab (``tests/cases/<lab>.py``, each defining ``CASES``); :data:`CASES` maps
each lab to its module's ``CASES``.  They live in ``tests/`` so that no wheel carries them
(they hold solution lines word for word).
"""

from tests.cases import (
    lab1_embeddings,
    lab2_regularization,
    lab3_recsys_explicit,
    lab4_triplet_implicit,
)

CASES = {module.__name__.rsplit(".", 1)[1]: module.CASES
         for module in (lab1_embeddings, lab2_regularization, lab3_recsys_explicit,
                        lab4_triplet_implicit)}
