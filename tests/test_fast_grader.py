"""The fast grader of the tests (``simclass.kernel_grades``) scores a test cell as this
course's nbgrader autograde does: with the course's ``StderrIsNotFailure`` before nbgrader's
``determine_grade`` (issue 27: it used to score without it)."""

import nbformat
from nbgrader.utils import determine_grade

from tests.support import simclass


def _test_cell(*outputs):
    cell = nbformat.v4.new_code_cell("checks.check_equal(...)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "points": 2, "grade_id": "test_x", "schema_version": 3}
    cell.outputs = [nbformat.v4.new_output(**o) for o in outputs]
    return cell


def test_a_passing_test_that_wrote_to_stderr_keeps_its_points():
    cell = _test_cell({"output_type": "stream", "name": "stderr", "text": "UserWarning: x\n"})
    assert determine_grade(cell)[0] == 0  # nbgrader's bare rule
    assert simclass.autograde_score(cell) == 2  # the course's pipeline
    assert cell.outputs[0]["name"] == "stderr"  # the caller's cell is left as it was


def test_a_failing_test_still_scores_zero():
    error = {"output_type": "error", "ename": "CheckError", "evalue": "f: expected 1, got 2. "
             "Hint: h", "traceback": []}
    stderr = {"output_type": "stream", "name": "stderr", "text": "W warning\n"}
    assert simclass.autograde_score(_test_cell(stderr, error)) == 0
    assert simclass.autograde_score(_test_cell()) == 2
