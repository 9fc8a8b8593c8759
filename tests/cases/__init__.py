"""Per-lab cases for the grading tests: realistic mistakes, one per exercise at least.

``wrong`` maps a submission name to ``(answer cell, old text, new text, lost test cells)``:
the perfect submission with that edit must lose exactly the listed test cells' points.
The visible test (the test cell without its hidden tests, as students see it) must already
catch it, unless a fifth element ``{"hidden_only": True}`` says that only the hidden tests
catch it, on purpose -- and then no hint names that mistake.

``right`` maps a name to a list of edits ``(answer cell, old text, new text)`` (``old=None``
replaces the whole answer cell by ``new``, every function of the cell included): a correct
answer a student could write that differs from the solution.  Each must earn full marks
through nbgrader (``tests/test_class.py``) and pass every visible and hidden test cell of
its exercise under notebook seeds 0..19 (``tests/test_right_seeds.py``).
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
