"""A minimal lab for the tests of the grading machinery, graded in about a second.

A course lab's grading costs ~15 s of CPU, a third of it TensorFlow's import; the tests of
what happens *around* the answers -- a cluster worker killed, a submission that never ends,
Ctrl-C, a failed regrade, deadlines and late penalties, LMS exports, feedback bundles --
do not depend on the lab's content.  They grade :data:`LAB` instead: a source notebook
shaped like the course's (a locked set-up cell, answer cells, test cells with visible and
hidden tests and points, a written answer graded by hand, nbgrader metadata as in
``solutions/``), released and graded by the course's own ``nbgrader_config.py``, sandbox
included.  Every real lab is graded end to end by ``tests/test_class.py``.

:func:`repository` writes it as a repository (``nbgrader_config.py`` and
``solutions/<lab>/``), which :func:`tests.support.courses.new_course` releases once per run.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat

from tests.support import simclass

LAB = "lab0_mini"
#: The mistake of :func:`mistake`: the answer cell it breaks and the test cell it loses.
MISTAKE = ("double", "test_double")


def _cell(kind: str, source: str, grade_id: str, *, solution=False, grade=False,
          locked=False, points=None):
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(
        source)
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def source_notebook():
    """The source notebook (solutions and hidden tests), as ``solutions/`` holds a lab."""
    cells = [
        _cell("markdown", "# Lab 0 -- the grading machinery's test lab", "md-01", locked=True),
        _cell("code", "import numpy as np\n\nfrom lab_utils import checks", "setup-02",
              locked=True),
        _cell("code", 'def double(x):\n    """Twice x."""\n    ### BEGIN SOLUTION\n'
              "    return 2 * np.asarray(x)\n    ### END SOLUTION", "double", solution=True),
        _cell("code", 'hint = "doubling multiplies by two"\n'
              'checks.check_close("double(3)", double(3), 6, hint)\n'
              "### BEGIN HIDDEN TESTS\n"
              'checks.check_close("double([1, -2])", double([1, -2]), [2, -4], hint)\n'
              "### END HIDDEN TESTS", "test_double", grade=True, locked=True, points=2),
        _cell("code", 'def norm(v):\n    """The Euclidean length of v."""\n'
              "    ### BEGIN SOLUTION\n    return float(np.sqrt(np.sum(np.square(v))))\n"
              "    ### END SOLUTION", "norm", solution=True),
        _cell("code", 'hint = "the square root of the sum of squares"\n'
              'checks.check_close("norm([3, 4])", norm([3, 4]), 5.0, hint)', "test_norm",
              grade=True, locked=True, points=1),
        _cell("markdown", "**Question.** Why is the norm never negative?", "md-07",
              locked=True),
        _cell("markdown", "### BEGIN SOLUTION\nA square root of a sum of squares.\n"
              "### END SOLUTION", "written_norm", solution=True, grade=True, points=1),
    ]
    return nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"}})


def repository(folder: Path, repo: Path) -> Path:
    """A repository holding only :data:`LAB`, with ``repo``'s ``nbgrader_config.py``."""
    folder = Path(folder)
    (folder / "solutions" / LAB).mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(repo) / "nbgrader_config.py", folder / "nbgrader_config.py")
    nbformat.write(source_notebook(), folder / "solutions" / LAB / f"{LAB}.ipynb")
    return folder


def mistake(perfect):
    """``perfect`` with :data:`MISTAKE`'s answer wrong: it loses that test cell only."""
    return simclass.edit(perfect, MISTAKE[0], "2 * np.asarray(x)", "np.asarray(x) + 2")


def with_first_cell(nb, source: str):
    """``nb`` with a cell of the student's own first (not graded)."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(0, nbformat.v4.new_code_cell(source))
    return nb
