"""The class report (``python -m lab_utils report LAB``, :mod:`lab_utils.instructor.classreport`).

Unit tests (fast): the failure messages of :mod:`lab_utils.checks` are parsed and grouped
by check and hint; test cells are mapped to their exercise in every lab.

End to end (slow, ~60 s on 2 cores): a simulated class of Lab 1 -- the perfect submission,
the untouched lab, two different mistakes, one of them made by two students, and a corrupt
file -- is graded once through nbgrader (:func:`graded_class`, reused by the browser test
of the page), then the report's tables are checked against what the cases say each
submission loses.
"""

import contextlib
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lab_utils import checks
from lab_utils.instructor import classreport, cli, grading
from tests.cases import CASES
from tests.support import courses, simclass

LAB = "lab1_embeddings"
REPO = Path(__file__).resolve().parents[1]
HUB = "https://hub.example.org/user/teacher"
TABLES = ("scores", "exercises", "failures", "manual")


def _message(check, *args, **kwargs) -> str:
    with pytest.raises(checks.CheckError) as caught:
        check(*args, **kwargs)
    return str(caught.value)


# --- unit tests --------------------------------------------------------------------------


def test_check_messages_group_by_check_and_hint():
    a = _message(checks.check_close, "f(x)", [1.0, 2.0, 3.0], [1.0, 0.0, 3.0], "revisit f")
    b = _message(checks.check_close, "f(x)", [9.0, 2.0, 7.0], [1.0, 2.0, 3.0], "revisit f")
    assert a != b  # different values, indices and counts ...
    assert classreport.parse_failure(a) == classreport.parse_failure(b) == ("f(x)", "revisit f")
    shape = _message(checks.check_close, "f(x)", [1.0], [1.0, 2.0], "revisit f")
    assert classreport.parse_failure(shape) == ("f(x) (shape)", "revisit f")  # another check
    other_hint = _message(checks.check_close, "f(x)", 1.0, 2.0, "another idea")
    assert classreport.parse_failure(other_hint) == ("f(x)", "another idea")


def test_hidden_test_messages_keep_their_check_and_hint():
    def run(value):
        with checks.hidden("g on other inputs", hint="edge cases"):
            if value is None:
                raise ValueError("boom")
            checks.check_close("g([0])", value, 1.0, "g is defined at 0")

    assert classreport.parse_failure(_message(run, 5.0)) == ("hidden test, g([0])",
                                                             "g is defined at 0")
    assert "hidden reference" in _message(run, 5.0)
    assert classreport.parse_failure(_message(run, None)) == ("hidden test, g on other inputs",
                                                              "edge cases")


def test_other_messages_are_their_own_check():
    assert classreport.parse_failure("NameError: name 'x' is not defined") == (
        "NameError: name 'x' is not defined", "")


def _test_cell(*outputs):
    cell = nbformat.v4.new_code_cell("checks.check_close(...)")
    cell.outputs = [nbformat.v4.new_output(**o) for o in outputs]
    return cell


def test_failures_are_read_from_the_test_cells_outputs():
    message = _message(checks.check_equal, "h()", 1, 2, "read h again")
    error = {"output_type": "error", "ename": "CheckError", "evalue": message, "traceback": []}
    assert classreport.failures_of(_test_cell(error)) == [message]
    not_done = {"output_type": "error", "ename": "NotImplementedError", "evalue": "",
                "traceback": []}
    assert "not attempted" in classreport.failures_of(_test_cell(not_done))[0]
    with pytest.raises(checks.CheckError) as wrapped, checks.visible("f()", "h"):
        raise NotImplementedError()
    as_check = {"output_type": "error", "ename": "CheckError", "evalue": str(wrapped.value),
                "traceback": []}
    assert "not attempted" in classreport.failures_of(_test_cell(as_check))[0]
    other = {"output_type": "error", "ename": "KeyError", "evalue": "'pig'\nmore",
             "traceback": []}
    assert classreport.failures_of(_test_cell(other)) == ["KeyError: 'pig'"]
    stderr = {"output_type": "stream", "name": "stderr", "text": "W0000 a warning\n"}
    assert "stderr" in classreport.failures_of(_test_cell(stderr))[0]
    assert classreport.failures_of(_test_cell()) == []
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        earned = checks.partial_credit(2, {"first": lambda: checks.check_equal(
            "k()", 1, 2, "read k"), "second": lambda: None})
    assert earned == 1.0
    stdout = {"output_type": "stream", "name": "stdout", "text": printed.getvalue()}
    parts = classreport.failures_of(_test_cell(stdout))
    assert [classreport.parse_failure(p) for p in parts] == [("k()", "read k")]


@pytest.mark.parametrize("lab", sorted(CASES))
def test_every_test_cell_belongs_to_the_exercise_it_follows(lab):
    source = nbformat.read(REPO / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    exercises = classreport.exercises_of(source, lab)
    code = [e for e in exercises if not e.written]
    tests = [c for e in code for c in e.cells]
    assert sorted(tests) == sorted(simclass.autograded_tests(source))  # each one, once
    answers = [grading.grade_id(c) for c in source.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert {e.name for e in code} <= set(answers)
    ids = [grading.grade_id(c) for c in source.cells]
    for exercise in code:  # its tests come after its answer cell, before the next one
        start = ids.index(exercise.name)
        stop = min([ids.index(a) for a in answers if ids.index(a) > start], default=len(ids))
        assert all(start < ids.index(t) < stop for t in exercise.cells), exercise
    written = [c for e in exercises if e.written for c in e.cells]
    assert written and all(c.startswith("written") for c in written), written


def test_lab1_exercises_are_labelled_from_their_statement():
    source = nbformat.read(REPO / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    exercises = {e.name: e for e in classreport.exercises_of(source, LAB)}
    assert exercises["one_hot_encode"].label == "Exercise 1"
    assert exercises["build_pair_model"].cells == ["test_build_pair_model"]
    assert exercises["written_tsne"].label == "Question B"


def test_report_help_names_the_default_formgrader_url(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["report", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {classreport.FORMGRADER_URL})" in help_text
    assert "python -m lab_utils report lab1_embeddings" in help_text


# --- a graded class ----------------------------------------------------------------------


def _cli(course, *args):
    """``python -m lab_utils <args>`` in a new process."""
    return subprocess.run([sys.executable, "-m", "lab_utils", *args, "--course-dir",
                           str(course)], capture_output=True, text=True, env=grading._env())


def _main(course, *args) -> tuple[int, str]:
    """(exit status, stderr) of the same command run in this process (faster)."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main([*args, "--course-dir", str(course)])
    return status, stderr.getvalue()


def graded_class(repo, shared_root, movielens_home) -> dict:
    """The simulated Lab 1 class of ``tests/test_class.py`` (the perfect submission, the
    untouched lab, a realistic mistake and the lab-independent faults), reported by the
    CLI; graded and reported once per test run (:mod:`tests.once`).  Also used by
    ``tests/test_browser_report.py``.
    """
    from tests import once
    from tests.test_class import FAULT_LAB, grade_lab

    assert FAULT_LAB == LAB
    graded = grade_lab(LAB, repo, shared_root, movielens_home)
    course = graded["course"]

    def build(folder):
        after = _cli(course, "report", LAB, "--formgrader-url", HUB,
                     "--autograde-csv", str(course / "report.csv"))
        (folder / "after.json").write_text(json.dumps(
            {"returncode": after.returncode, "stdout": after.stdout, "stderr": after.stderr}))

    folder = once.build_once(shared_root, f"report-{LAB}-{once.run_digest(repo)}",
                             build)
    graded["after"] = subprocess.CompletedProcess(
        args=["report", LAB], **json.loads((folder / "after.json").read_text()))
    reports = course / "reports" / LAB
    graded["page"] = reports / "report.html"
    graded["tables"] = {}
    for name in TABLES:
        with open(reports / f"{name}.csv", newline="", encoding="utf-8") as fh:
            graded["tables"][name] = list(csv.DictReader(fh))
    graded["max"] = {k: v.max_score for k, v in grading.scores(course, LAB, "perfect").items()}
    return graded


@pytest.fixture(scope="module")
def graded(repo, shared_root, movielens_home):
    return graded_class(repo, shared_root, movielens_home)


slow = pytest.mark.slow


@slow
def test_the_report_command_writes_the_page_and_tables(graded):
    after = graded["after"]
    assert after.returncode == 0, after.stdout + after.stderr
    assert str(graded["page"]) in after.stdout
    names = sorted(p.name for p in graded["page"].parent.iterdir())
    assert names == sorted(["report.html", "rubric.html", *(f"{t}.csv" for t in TABLES)])
    assert not any(s in n for n in names for s in graded["subs"])  # no student in file names


@slow
def test_a_lab_not_graded_yet_is_one_line_and_status_1(repo, tmp_path, shared_root):
    course = courses.new_course(shared_root, tmp_path / "course", repo, [LAB])  # not graded
    status, stderr = _main(course, "report", LAB)
    assert status == 1 and stderr.count("\n") == 1, stderr
    assert f"no graded submission of {LAB}" in stderr
    assert f"python -m lab_utils autograde {LAB}" in stderr


@slow
def test_an_unknown_lab_is_one_line_and_status_2(graded):
    status, stderr = _main(graded["course"], "report", "lab9_nothing")
    assert status == 2 and stderr.count("\n") == 1, stderr
    assert "unknown lab 'lab9_nothing'" in stderr
    status, stderr = _main(graded["course"], "report", LAB, "--autograde-csv", "missing.csv")
    assert status == 1 and "missing.csv does not exist" in stderr


@slow
def test_scores_table_lists_graded_and_reported_submissions(graded):
    rows = {r["student_id"]: r for r in graded["tables"]["scores"]}
    subs = graded["subs"]
    assert set(rows) == set(subs)
    written = {k for k in graded["max"] if k.startswith("written")}
    for student, sub in subs.items():
        row = rows[student]
        if sub.lost is None and isinstance(sub.content, tuple):  # misnamed: never collected
            assert row["status"] == "no submission", student
            continue
        if sub.lost is None:
            assert row["status"] == "not graded", student
            assert row["message"] == graded["report"][student]["message"], student
            continue
        assert row["status"] == "graded"
        # autograded points kept; written answers count 0 until graded by hand
        expected = sum(v for k, v in graded["max"].items()
                       if k not in sub.lost and k not in written)
        assert float(row["score"]) == expected, student


@slow
def test_exercise_table_counts_full_partial_and_no_credit_from_the_cases(graded):
    subs = {s: sub for s, sub in graded["subs"].items() if sub.lost is not None}
    rows = graded["tables"]["exercises"]
    assert [r["exercise"] for r in rows][:2] == ["one_hot_encode", "distances"]
    for row in rows:
        cells = set(row["cells"].split())
        assert float(row["points"]) == sum(graded["max"][c] for c in cells)
        assert int(row["graded"]) == len(subs)
        if row["kind"] == "written":
            # the untouched lab's answer is the stub: 0 without a human; the others wait
            assert (int(row["no_credit"]), int(row["awaiting_manual_grading"])) == (
                1, len(subs) - 1), row
            continue
        none = sum(cells <= set(sub.lost) for sub in subs.values())
        partial = sum(bool(cells & set(sub.lost)) and not cells <= set(sub.lost)
                      for sub in subs.values())
        assert int(row["no_credit"]) == none, row
        assert int(row["partial_credit"]) == partial, row
        assert int(row["full_credit"]) == len(subs) - none - partial, row
    by_name = {r["exercise"]: r for r in rows}
    # the untouched lab loses both distances; the cosine mistake, made twice (once with its
    # test cell deleted), loses the cosine similarity only
    assert (int(by_name["distances"]["no_credit"]), int(by_name["distances"]["partial_credit"])
            ) == (1, 2)


@slow
def test_failures_are_grouped_with_their_counts(graded):
    subs = {s: sub for s, sub in graded["subs"].items() if sub.lost is not None}
    rows = graded["tables"]["failures"]
    tests = {c for sub in subs.values() for c in sub.lost}
    for test in tests:  # one message per student and failed test
        lost_by = sum(test in sub.lost for sub in subs.values())
        assert sum(int(r["students"]) for r in rows if r["cell"] == test) == lost_by, test
    graded_count = len(subs)
    distances = [r for r in rows if r["cell"] == "test_cosine_similarity"]
    # the cosine mistake, made by two students (one deleted the test cell): one group, first
    assert int(distances[0]["students"]) == 2 and "cosine" in distances[0]["hint"]
    assert float(distances[0]["share"]) == round(2 / graded_count, 3)
    assert "not attempted" in distances[1]["check"] and int(distances[1]["students"]) == 1
    one_hot = [r for r in rows if r["cell"] == "test_one_hot_encode"]
    assert [int(r["students"]) for r in one_hot] == [1]  # only the untouched lab
    assert "not attempted" in one_hot[0]["check"]


@slow
def test_manual_table_links_each_waiting_answer_to_the_formgrader(graded):
    rows = graded["tables"]["manual"]
    waiting = [s for s, sub in graded["subs"].items() if sub.lost is not None
               and s != "untouched"]
    written = [k for k in graded["max"] if k.startswith("written")]
    assert sorted((r["student_id"], r["cell"]) for r in rows) == sorted(
        (s, c) for s in waiting for c in written)
    assert all(re.fullmatch(rf"{HUB}/formgrader/submissions/[0-9a-f]+", r["formgrader"])
               for r in rows)


@slow
def test_the_page_is_self_contained(graded):
    page = graded["page"].read_text(encoding="utf-8")
    assert f"{HUB}/formgrader/manage_submissions/{LAB}" in page
    sources = re.findall(r'<img[^>]* src="([^"]{0,30})', page)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"<(script|link)\b", page)  # nothing fetched: no script, no style
    for table in ("score-stats", "not-graded", "exercises", "manual"):
        assert f'id="{table}"' in page
