"""Grade a simulated class of every lab, end to end, as an instructor would.

Per lab, a class of at least 20 submissions -- perfect, untouched, every exercise wrong
(at least once), a syntax error, an exception in the first cell, an infinite loop, a
duplicated and a deleted test cell, another kernel name, an empty notebook, a corrupt
file, a wrongly named file -- is imported from a folder, autograded in parallel
(``python -m lab_utils autograde``), given feedback and exported.  Checks:

- the solution gets full autograded marks; the untouched lab 0 on every autograded cell;
- each mistake loses exactly its exercise's points and nothing else;
- duplicated / deleted test cells and another kernel name are graded as documented
  (last copy graded; deleted cells restored and graded; the course kernel is used);
- broken files are reported, never crash the run, and still get a row (0) in the CSV;
- a sequential re-grade in a fresh course gives the same scores as the parallel run;
- feedback shows no hidden test; ``nbgrader validate`` passes the solution and fails
  every test of the untouched lab.
"""

import copy
import csv
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup
from lab_cases import CASES

from lab_utils import grading, nbgrader_ext

pytestmark = pytest.mark.slow

PERFECT_LIKE = ["perfect", "perfect_again", "first_cell_exception", "duplicated", "deleted",
                "other_kernel"]


def _cell(nb, grade_id):
    matches = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(matches) == 1, f"no unique cell {grade_id}"
    return matches[0]


def _edit(nb, cell_id, old, new):
    nb = copy.deepcopy(nb)
    cell = _cell(nb, cell_id)
    assert old in cell.source, f"{cell_id} does not contain {old!r}"
    cell.source = cell.source.replace(old, new)
    return nb


def _replace_cell(nb, cell_id, prefix):
    nb = copy.deepcopy(nb)
    cell = _cell(nb, cell_id)
    cell.source = prefix + cell.source
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


def build_class(lab, source, released, case):
    """Return ({student: notebook or raw bytes or (filename, notebook)}, {student: lost})."""
    perfect = grading.perfect_submission(source, released)
    all_tests = [c.metadata["nbgrader"]["grade_id"] for c in released.cells
                 if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    subs, lost = {}, {}
    for name in PERFECT_LIKE:
        lost[name] = []
    subs["perfect"] = perfect
    subs["perfect_again"] = copy.deepcopy(perfect)
    first = copy.deepcopy(perfect)
    first.cells.insert(0, nbformat.v4.new_code_cell("raise RuntimeError('my own experiment')"))
    subs["first_cell_exception"] = first
    subs["duplicated"] = _duplicated(perfect, case["duplicated_test"])
    subs["deleted"] = _without(perfect, case["deleted_test"])
    other = copy.deepcopy(perfect)
    other.metadata["kernelspec"] = {"name": "python3-old-env", "display_name": "Old env",
                                    "language": "python"}
    subs["other_kernel"] = other
    subs["untouched"], lost["untouched"] = released, all_tests
    subs["empty_notebook"] = nbformat.v4.new_notebook()
    for name, (cell_id, old, new, loses) in case["wrong"].items():
        subs[name], lost[name] = _edit(perfect, cell_id, old, new), loses
    syntax_cell, _, _, syntax_loses = case["wrong"][case["syntax_error"]]
    subs["syntax_error"] = _replace_cell(perfect, syntax_cell, "def broken(:\n    pass\n\n")
    lost["syntax_error"] = syntax_loses
    loop_cell, _, _, loop_loses = case["wrong"][case["infinite_loop"]]
    subs["infinite_loop"] = _replace_cell(perfect, loop_cell, "while True:\n    pass\n\n")
    lost["infinite_loop"] = loop_loses
    wrong_loses = case["wrong"][case["compare"]][3]
    subs["deleted_wrong"] = _without(subs[case["compare"]], wrong_loses[0])
    lost["deleted_wrong"] = wrong_loses
    subs["corrupt_file"] = b'{"cells": [ this is not JSON'
    subs["wrong_filename"] = ("Copy of my lab.ipynb", perfect)
    return subs, lost


def write_class(folder, lab, subs):
    for student, sub in subs.items():
        target = folder / student
        target.mkdir(parents=True)
        if isinstance(sub, bytes):
            (target / f"{lab}.ipynb").write_bytes(sub)
        elif isinstance(sub, tuple):
            nbformat.write(sub[1], target / sub[0])
        else:
            nbformat.write(sub, target / f"{lab}.ipynb")


def _cli(course, *args):
    proc = subprocess.run([sys.executable, "-m", "lab_utils", *args, "--course-dir", str(course)],
                          capture_output=True, text=True, env=grading._env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module", params=sorted(CASES))
def graded(request, repo, tmp_path_factory, movielens_home, monkeypatch_module):
    lab = request.param
    if lab not in grading.list_labs(repo):
        pytest.fail(f"{lab} has class cases but no source notebook")
    monkeypatch_module.setenv("LAB_UTILS_DATA_DIR", str(movielens_home))
    course = grading.new_course(tmp_path_factory.mktemp(lab), repo, [lab])
    source, released = grading.read_lab(course, lab)
    subs, lost = build_class(lab, source, released, CASES[lab])
    collected = tmp_path_factory.mktemp(f"{lab}-collected")
    write_class(collected, lab, subs)
    out = _cli(course, "collect", lab, str(collected))
    assert f"imported {len(subs) - 1} submissions" in out  # the wrongly named file is not found
    assert "wrong_filename: no " in out and "Copy of my lab.ipynb" in out
    out = _cli(course, "autograde", lab, "--jobs", "2", "--report", str(course / "report.csv"))
    report = {row["student_id"]: row for row in csv.DictReader(open(course / "report.csv"))}
    results = {s: grading.scores(course, lab, s) for s, r in report.items()
               if r["status"] == "graded"}
    _cli(course, "feedback", lab)
    _cli(course, "export", str(course / "grades.csv"))
    return {"lab": lab, "course": course, "source": source, "subs": subs, "lost": lost,
            "report": report, "results": results, "autograde_log": out}


def _auto(scores):
    return {k: v for k, v in scores.items() if not v.manual}


def test_every_lab_has_cases(repo):
    assert sorted(CASES) == grading.list_labs(repo)


def test_the_class_is_big_and_covers_every_exercise(graded):
    assert len(graded["subs"]) >= 20
    answer_cells = {c.metadata["nbgrader"]["grade_id"] for c in graded["source"].cells
                    if c.metadata.get("nbgrader", {}).get("solution")
                    and c.cell_type == "code"}
    wrong_cells = {cell for cell, *_ in CASES[graded["lab"]]["wrong"].values()}
    assert wrong_cells == answer_cells


def test_every_submission_is_graded_or_reported(graded):
    report = graded["report"]
    assert set(report) == set(graded["subs"]) - {"wrong_filename"}
    errors = {s: r["message"] for s, r in report.items() if r["status"] != "graded"}
    assert set(errors) == {"corrupt_file", "empty_notebook"}
    assert "not a valid notebook" in errors["corrupt_file"]
    assert "none of the lab's answer cells" in errors["empty_notebook"]


def test_each_submission_scores_as_expected(graded):
    for student, expected_lost in graded["lost"].items():
        scores = _auto(graded["results"][student])
        assert scores, student
        lost = {k for k, v in scores.items() if v.score != v.max_score}
        assert lost == set(expected_lost), f"{student}: lost {sorted(lost)}"
        assert all(scores[k].score == 0 for k in expected_lost), student


def test_written_answers_wait_for_a_human(graded):
    manual = [v for v in graded["results"]["perfect"].values() if v.manual]
    assert manual and all(v.needs_manual_grade for v in manual)


def test_csv_has_one_row_per_student(graded):
    rows = list(csv.DictReader(open(graded["course"] / "grades.csv")))
    students = [r["student_id"] for r in rows if r["assignment"] == graded["lab"]]
    assert sorted(students) == sorted(graded["subs"])
    by_student = {r["student_id"]: float(r["raw_score"]) for r in rows}
    for broken in ("corrupt_file", "empty_notebook", "wrong_filename"):
        assert by_student[broken] == 0, broken
    auto_max = sum(v.max_score for v in _auto(graded["results"]["perfect"]).values())
    assert by_student["perfect"] == auto_max
    assert by_student["untouched"] == 0


def test_sequential_regrade_equals_parallel(graded, repo, tmp_path):
    lab = graded["lab"]
    course = grading.new_course(tmp_path / "sequential", repo, [lab])
    students = ["perfect", CASES[lab]["compare"]]
    for student in students:
        grading.submit(course, student, lab, graded["subs"][student])
    outcomes = grading.autograde_class(course, lab, students, jobs=1)
    assert {o.status for o in outcomes.values()} == {"graded"}
    for student in students:
        again = {k: v.score for k, v in grading.scores(course, lab, student).items()}
        assert again == {k: v.score for k, v in graded["results"][student].items()}, student


def _hidden_lines(source_nb):
    """Lines of the hidden test regions that appear nowhere else in the source notebook."""
    hidden = set()
    for cell in source_nb.cells:
        hidden |= nbgrader_ext.hidden_lines(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    public = "\n".join(re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", c.source,
                              flags=re.S) for c in source_nb.cells)
    return {line for line in hidden if len(line) > 12 and line not in public}


def test_feedback_shows_no_hidden_test(graded):
    lab, course = graded["lab"], graded["course"]
    hidden = _hidden_lines(graded["source"])
    assert hidden, f"{lab} has no hidden tests"
    pages = sorted((course / "feedback").glob(f"*/{lab}/{lab}.html"))
    assert len(pages) >= len(graded["results"])
    for page in pages:
        text = BeautifulSoup(page.read_text(), "html.parser").get_text()
        assert "HIDDEN TESTS" not in text, page
        leaked = [line for line in hidden if line in text]
        assert leaked == [], f"{page} shows hidden test lines: {leaked[:3]}"
    wrong = next(iter(CASES[lab]["wrong"]))
    assert "Hint:" in (course / "feedback" / wrong / lab / f"{lab}.html").read_text()


def test_validate_solution_and_untouched_lab(graded, tmp_path):
    lab, course = graded["lab"], graded["course"]
    solution = course / "solutions" / lab / f"{lab}.ipynb"
    proc = grading.run_nbgrader(course, "validate", solution)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout[-2000:]
    student = tmp_path / f"{lab}.ipynb"
    shutil.copy(course / "labs" / lab / f"{lab}.ipynb", student)
    proc = grading.run_nbgrader(course, "validate", "--invert", student)
    assert "Success! The notebook does not pass any tests." in proc.stdout, proc.stdout[-2000:]
