"""The nbgrader round trip of every lab, in a temporary course directory.

One autograde run per lab grades a small class of submissions:

- ``perfect``: the solution submitted as a student -> full autograded marks;
- ``untouched``: the student version as released -> 0 on every autograded cell;
- ``one_wrong``: one realistic mistake -> loses exactly that exercise's points;
- ``duplicated``: a test cell duplicated -> nbgrader grades the last copy (full marks);
- ``deleted``: a test cell deleted -> nbgrader restores it, so it still counts
  (full marks when the answer is right, 0 for it when the answer is wrong).

Then: grading ``perfect`` again gives the same scores; feedback shows no hidden test;
``nbgrader validate`` passes the solution and fails every test of the untouched lab.
"""

import copy
import re
import shutil

import pytest
from bs4 import BeautifulSoup
from lab_cases import CASES

from lab_utils import grading, nbgrader_ext

pytestmark = pytest.mark.slow


def _labs(repo):
    return grading.list_labs(repo)


def _cell(nb, grade_id):
    matches = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(matches) == 1, f"no unique cell {grade_id}"
    return matches[0]


def _wrong(nb, case):
    nb = copy.deepcopy(nb)
    cell_id, old, new = case["wrong"]
    cell = _cell(nb, cell_id)
    assert old in cell.source, f"{cell_id} does not contain {old!r}"
    cell.source = cell.source.replace(old, new)
    return nb


def _without(nb, grade_id):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nb


def _duplicated(nb, grade_id):
    nb = copy.deepcopy(nb)
    index = nb.cells.index(_cell(nb, grade_id))
    twin = copy.deepcopy(nb.cells[index])
    twin["id"] = twin["id"] + "-copy"
    nb.cells.insert(index + 1, twin)
    return nb


@pytest.fixture(scope="module", params=sorted(CASES))
def graded(request, repo, tmp_path_factory, movielens_home, monkeypatch_module):
    lab = request.param
    if lab not in _labs(repo):
        pytest.fail(f"{lab} has round-trip cases but no source notebook")
    monkeypatch_module.setenv("LAB_UTILS_DATA_DIR", str(movielens_home))
    course = grading.new_course(tmp_path_factory.mktemp(lab), repo, [lab])
    source, released = grading.read_lab(course, lab)
    case = CASES[lab]
    perfect = grading.perfect_submission(source, released)
    wrong = _wrong(perfect, case)
    submissions = {
        "perfect": perfect,
        "untouched": released,
        "one_wrong": wrong,
        "duplicated": _duplicated(perfect, case["duplicated_test"]),
        "deleted": _without(perfect, case["deleted_test"]),
        "deleted_wrong": _without(wrong, case["loses"][0]),
    }
    for student, nb in submissions.items():
        grading.submit(course, student, lab, nb)
    grading.autograde(course, lab)
    results = {s: grading.scores(course, lab, s) for s in submissions}
    return lab, course, case, source, results


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _auto(scores):
    return {k: v for k, v in scores.items() if not v.manual}


def _total(scores):
    return sum(v.score for v in _auto(scores).values())


def _max(scores):
    return sum(v.max_score for v in _auto(scores).values())


def test_every_lab_has_cases(repo):
    assert sorted(CASES) == _labs(repo)


def test_perfect_gets_full_marks(graded):
    lab, _, _, _, results = graded
    perfect = results["perfect"]
    assert _max(perfect) > 0
    lost = {k: v.score for k, v in _auto(perfect).items() if v.score != v.max_score}
    assert lost == {}, f"{lab}: the solution loses points in {lost}"
    manual = [v for v in perfect.values() if v.manual]
    assert manual and all(v.needs_manual_grade for v in manual), "written answers need a human"


def test_untouched_gets_zero_everywhere(graded):
    _, _, _, _, results = graded
    assert {k: v.score for k, v in _auto(results["untouched"]).items()} == {
        k: 0 for k in _auto(results["untouched"])}


def test_one_wrong_loses_exactly_that_exercise(graded):
    _, _, case, _, results = graded
    lost = {k for k, v in _auto(results["one_wrong"]).items() if v.score != v.max_score}
    assert lost == set(case["loses"])
    assert all(results["one_wrong"][k].score == 0 for k in case["loses"])


def test_duplicated_test_cell_is_graded_once(graded):
    _, _, _, _, results = graded
    assert set(results["duplicated"]) == set(results["perfect"])
    assert _total(results["duplicated"]) == _total(results["perfect"])


def test_deleted_test_cell_is_restored_and_graded(graded):
    _, _, case, _, results = graded
    assert set(results["deleted"]) == set(results["perfect"])
    assert _total(results["deleted"]) == _max(results["perfect"])
    assert _total(results["deleted_wrong"]) == _total(results["one_wrong"])


def test_grading_twice_gives_the_same_scores(graded):
    lab, course, _, _, results = graded
    grading.autograde(course, lab, student="perfect")
    grading.autograde(course, lab, student="one_wrong")
    for student in ("perfect", "one_wrong"):
        again = grading.scores(course, lab, student)
        assert {k: v.score for k, v in again.items()} == {
            k: v.score for k, v in results[student].items()}


def _hidden_lines(source_nb):
    """Lines of the hidden test regions that appear nowhere else in the source notebook."""
    hidden = set()
    for cell in source_nb.cells:
        hidden |= nbgrader_ext.hidden_lines(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    public = {line.strip() for c in source_nb.cells for line in
              re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", c.source,
                     flags=re.S).split("\n")}
    return {line for line in hidden - public if len(line) > 12}


def test_feedback_shows_no_hidden_test(graded):
    lab, course, _, source, _ = graded
    grading.generate_feedback(course, lab)
    hidden = _hidden_lines(source)
    assert hidden, f"{lab} has no hidden tests"
    for student in ("perfect", "untouched", "one_wrong"):
        html = (course / "feedback" / student / lab / f"{lab}.html").read_text()
        text = BeautifulSoup(html, "html.parser").get_text()
        assert "HIDDEN TESTS" not in text
        leaked = [line for line in hidden if line in text]
        assert leaked == [], f"{student}'s feedback shows hidden test lines: {leaked[:3]}"
    assert "Hint:" in (course / "feedback" / "one_wrong" / lab / f"{lab}.html").read_text()


def test_validate_solution_and_untouched_lab(graded, tmp_path):
    lab, course, _, _, _ = graded
    solution = course / "solutions" / lab / f"{lab}.ipynb"
    proc = grading.run_nbgrader(course, "validate", solution)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout[-2000:]
    student = tmp_path / f"{lab}.ipynb"
    shutil.copy(course / "labs" / lab / f"{lab}.ipynb", student)
    proc = grading.run_nbgrader(course, "validate", "--invert", student)
    assert "Success! The notebook does not pass any tests." in proc.stdout, proc.stdout[-2000:]
