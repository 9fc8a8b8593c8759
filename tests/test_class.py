"""Grade simulated classes end to end, as an instructor would.

Every lab: the untouched lab, one realistic mistake and the lab's correct alternatives
(``right_<k>``: the solution with the k-th alternative of each exercise, full marks) are
collected from a folder, autograded through the CLI (``python -m lab_utils autograde``),
given feedback and exported; the solution itself (``perfect``) is graded with Lab 1's class,
and ``right_1`` stands for it in the others (each grading costs ~15 s of CPU, so the last
group of alternatives rides in the mistake's submission: :func:`_packing`).  Every
other realistic mistake of every lab (at least one per answer cell) is graded in one kernel
per lab by re-running just its exercise, in ``tests/test_right_seeds.py`` (nbgrader's own
scoring rule); the ``compare`` mistake graded here by nbgrader loses exactly its cells too.

One lab (:data:`FAULT_LAB`) also receives the lab-independent faults: a syntax error, an
exception in an extra first cell, an infinite loop (cut by a short cell timeout),
duplicated and deleted test cells, another kernel name, an empty notebook, a corrupt file
and a misnamed file -- each graded or reported as documented, never crashing the run.
See :mod:`tests.support.simclass` for the classes.  That a sequential grading gives the
parallel grades is shown in ``tests/test_cluster.py`` (the cluster against a plain
``nbgrader autograde``, and a regrade).
"""

import csv
import inspect
import subprocess
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup

from lab_utils.config import CELL_TIMEOUT_ENV
from lab_utils.instructor import grading, markscheme, nbgrader_ext
from tests import once
from tests.cases import CASES
from tests.support import courses, simclass

pytestmark = pytest.mark.slow

FAULT_LAB = "lab1_embeddings"  # the fastest lab: the faults do not depend on the content
FAULT_CELL_TIMEOUT = "30"  # s; the lab's slowest cell takes ~4 s while grading


def _cli(course, *args, status=0, env=None):
    proc = subprocess.run([sys.executable, "-m", "lab_utils", *args, "--course-dir", str(course)],
                          capture_output=True, text=True, env=env or grading._env())
    assert proc.returncode == status, proc.stdout + proc.stderr
    return proc.stdout


def _packing(lab) -> tuple[dict[str, list[str]], list[list[str]]]:
    """Where ``lab``'s groups of right cases (:func:`simclass.right_groups`) are graded:
    ``(riders, alone)``.  Each grading costs ~15 s of CPU, so ``riders`` maps a submission
    of the class to the group it also answers -- the last group answers the other exercises
    of the ``compare`` mistake, which must still lose exactly its own cells, and on
    :data:`FAULT_LAB` the group before it those of ``harmless_faults`` (full marks) -- and
    ``alone`` lists the groups graded as ``right_1``, ``right_2``, ... (the first always)."""
    alone, riders = simclass.right_groups(lab), {}
    hosts = {CASES[lab]["compare"]: {CASES[lab]["wrong"][CASES[lab]["compare"]][0]}}
    if lab == FAULT_LAB:
        hosts["harmless_faults"] = set()  # its faults are in test cells and an extra cell
    for host, cells in hosts.items():
        if len(alone) > 1 and not simclass.right_cells(lab, alone[-1]) & cells:
            riders[host] = alone.pop()
    return riders, alone


def _class_of(lab, source, released) -> dict:
    """The simulated class of ``lab`` (deterministic: rebuilt by every reader)."""
    subs = simclass.lab_class(source, released, lab)
    if lab == FAULT_LAB:
        subs.update(simclass.fault_class(source, released, lab))
    else:  # right_1 -- the solution with a correct alternative in every exercise -- stands
        del subs["perfect"]  # for it: one grading fewer (the report and faults use Lab 1's)
    riders, alone = _packing(lab)
    for host, names in riders.items():
        subs[host] = simclass.with_rights(subs[host], lab, names)
    perfect = simclass.Submission(grading.perfect_submission(source, released), [])
    subs.update({f"right_{k}": simclass.with_rights(perfect, lab, names)
                 for k, names in enumerate(alone, 1)})  # full marks each
    return subs


def _reference(graded) -> str:
    """The class's submission that must score every point: ``perfect`` where it is graded
    (:data:`FAULT_LAB`), else ``right_1``."""
    return "perfect" if "perfect" in graded["subs"] else "right_1"


def grade_lab(lab, repo, shared_root, movielens_home) -> dict:
    """The lab's class, collected, autograded (CLI), given feedback and exported.

    Graded once per test run (:func:`tests.once.build_once`): every module and xdist
    worker that asks -- ``tests/test_classreport.py`` reports on the Lab 1 class -- reads
    the same course folder.
    """
    if lab not in grading.list_labs(repo):
        pytest.fail(f"{lab} has class cases but no source notebook")

    def build(folder):
        course = courses.new_course(shared_root, folder / "course", repo, [lab])
        source, released = grading.read_lab(course, lab)
        subs = _class_of(lab, source, released)
        env = dict(grading._env(), LAB_UTILS_DATA_DIR=str(movielens_home))
        if lab == FAULT_LAB:
            env[CELL_TIMEOUT_ENV] = FAULT_CELL_TIMEOUT
        collected = simclass.write_class(folder / "collected", lab, subs)
        out = _cli(course, "collect", lab, str(collected), env=env)
        handed_in = {s for s, sub in subs.items() if not isinstance(sub.content, tuple)}
        assert f"imported {len(handed_in)} submissions" in out
        reported = {s for s, sub in subs.items() if sub.lost is None}
        log = _cli(course, "autograde", lab, "--jobs", "2", "--report",
                   str(course / "report.csv"),
                   status=1 if reported - (set(subs) - handed_in) else 0, env=env)
        _cli(course, "feedback", lab, env=env)
        _cli(course, "export", str(course / "grades.csv"), env=env)
        (folder / "collect.log").write_text(out, encoding="utf-8")
        (folder / "autograde.log").write_text(log, encoding="utf-8")

    folder = once.build_once(shared_root, f"graded-{lab}-{once.run_digest(repo)}",
                             build)
    course = folder / "course"
    source, released = grading.read_lab(course, lab)
    with open(course / "report.csv", newline="", encoding="utf-8") as fh:
        report = {row["student_id"]: row for row in csv.DictReader(fh)}
    results = {s: grading.scores(course, lab, s) for s, r in report.items()
               if r["status"] == "graded"}
    return {"lab": lab, "course": course, "source": source, "released": released,
            "subs": _class_of(lab, source, released), "report": report, "results": results,
            "collect_log": (folder / "collect.log").read_text(encoding="utf-8"),
            "autograde_log": (folder / "autograde.log").read_text(encoding="utf-8")}


@pytest.fixture(scope="class")
def graded(request, repo, shared_root, movielens_home):
    """The graded class of the test class's lab (``TestClass<Lab>`` below)."""
    return grade_lab(request.cls.lab, repo, shared_root, movielens_home)


def test_every_lab_has_cases(repo):
    assert sorted(CASES) == grading.list_labs(repo)


def test_the_mistakes_cover_every_exercise(graded):
    answer_cells = {grading.grade_id(c) for c in graded["source"].cells
                    if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    wrong_cells = {cell for cell, *_ in CASES[graded["lab"]]["wrong"].values()}
    assert wrong_cells == answer_cells


def test_every_submission_is_graded_or_reported(graded):
    report, subs = graded["report"], graded["subs"]
    misnamed = {s for s, sub in subs.items() if isinstance(sub.content, tuple)}
    assert set(report) == set(subs) - misnamed
    errors = {s: r["message"] for s, r in report.items() if r["status"] != "graded"}
    assert set(errors) == {s for s, sub in subs.items() if sub.lost is None} - misnamed
    for student in misnamed:
        assert f"{student}: no " in graded["collect_log"]
        assert subs[student].content[0] in graded["collect_log"]
    if graded["lab"] == FAULT_LAB:
        assert "not a valid notebook" in errors["corrupt_file"]
        assert "none of the lab's answer cells" in errors["empty_notebook"]
        assert "corrupt_file: " in graded["autograde_log"]  # one line per problem


def test_each_graded_submission_scores_as_expected(graded):
    assert simclass.score_differences(graded["subs"], graded["results"]) == []


def test_every_right_case_gets_full_marks(graded):
    """The lab's correct alternatives (``right``), packed into ``right_<k>`` submissions
    (full marks) and into the submissions of :func:`_packing`'s riders (which lose only
    their own cells, checked by ``test_each_graded_submission_scores_as_expected``), are all
    graded through nbgrader."""
    lab = graded["lab"]
    rights = [s for s in graded["subs"] if s.startswith("right_")]
    assert bool(rights) == bool(CASES[lab].get("right"))
    riders, alone = _packing(lab)
    graded_cases = [name for names in [*alone, *riders.values()] for name in names]
    assert sorted(graded_cases) == sorted(CASES[lab].get("right", {}))
    assert len(rights) == len(alone)
    for student in [*rights, *riders]:
        assert student in graded["results"], f"{student} was not graded"
    for student in rights:
        scores = simclass.autograded_scores(graded["results"][student])
        short = {k: (v.score, v.max_score) for k, v in scores.items() if v.score != v.max_score}
        assert scores and short == {}, f"{student} lost points: {short}"


def test_perfect_runs_clean_while_graded(graded):
    """No error and nothing on stderr in any cell of the autograded perfect notebook (or of
    ``right_1``, which stands for it)."""
    lab, course, student = graded["lab"], graded["course"], _reference(graded)
    nb = nbformat.read(course / "autograded" / student / lab / f"{lab}.ipynb", as_version=4)
    problems = [f"cell {i}: {o.get('ename', '')} {o.get('text', '')[:200]}"
                for i, c in enumerate(nb.cells) if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert problems == []
    assert any(o.output_type == "display_data" for c in nb.cells if c.cell_type == "code"
               for o in c.outputs), "no plot was displayed"


def test_written_answers_wait_for_a_human(graded):
    manual = [v for v in graded["results"][_reference(graded)].values() if v.manual]
    assert manual and all(v.needs_manual_grade for v in manual)


def test_csv_has_one_row_per_student(graded):
    rows = list(csv.DictReader(open(graded["course"] / "grades.csv")))
    students = [r["student_id"] for r in rows if r["assignment"] == graded["lab"]]
    assert sorted(students) == sorted(graded["subs"])
    by_student = {r["student_id"]: float(r["raw_score"]) for r in rows}
    for student, sub in graded["subs"].items():
        if sub.lost is None:
            assert by_student[student] == 0, student
    auto_max = sum(v.max_score for v in
                   simclass.autograded_scores(graded["results"][_reference(graded)]).values())
    assert by_student[_reference(graded)] == auto_max
    assert by_student["untouched"] == 0


def _secret_hidden_lines(source_nb):
    """Lines of the hidden test regions that appear nowhere else in the source notebook."""
    hidden, public = set(), set()
    for cell in source_nb.cells:
        shown, secret = nbgrader_ext.split_regions(cell.source)
        hidden |= {line.strip() for line in secret}
        public |= {line.strip() for line in shown}
    return {line for line in hidden if len(line) > 12 and line not in public}


def test_feedback_shows_no_hidden_test(graded):
    lab, course = graded["lab"], graded["course"]
    hidden = _secret_hidden_lines(graded["source"])
    assert hidden, f"{lab} has no hidden tests"
    pages = sorted((course / "feedback").glob(f"*/{lab}/{lab}.html"))
    assert len(pages) >= len(graded["results"])
    for page in pages:
        text = BeautifulSoup(page.read_text(), "html.parser").get_text()
        assert "HIDDEN TESTS" not in text, page
        leaked = [line for line in hidden if line in text]
        assert leaked == [], f"{page} shows hidden test lines: {leaked[:3]}"
        # mark schemes are for graders only (the perfect answers hold them too)
        assert markscheme.MARK_SCHEME_LABEL not in text and "Mark scheme (" not in text, page
    compare = CASES[lab]["compare"]
    assert "Hint:" in (course / "feedback" / compare / lab / f"{lab}.html").read_text()


# --- lab-independent: once, on FAULT_LAB ---------------------------------------------


@pytest.fixture(scope="class")
def fault_lab(graded):
    if graded["lab"] != FAULT_LAB:
        pytest.skip(f"lab-independent check, run on {FAULT_LAB}")
    return graded


def test_validate_passes_the_perfect_submission(fault_lab, tmp_path):
    """nbgrader's Validate button passes the perfect submission (that the untouched lab
    fails every test cell is checked in every lab's class: it scores 0)."""
    lab, course = fault_lab["lab"], fault_lab["course"]
    perfect = tmp_path / "perfect" / f"{lab}.ipynb"
    perfect.parent.mkdir()
    nbformat.write(fault_lab["subs"]["perfect"].content, perfect)
    proc = grading.run_nbgrader(course, "validate", perfect)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout[-2000:]


# --- one test class per lab ---------------------------------------------------------------
# pytest-xdist's loadscope gives each class a scope of its own, so the four labs' classes are
# graded on both workers (a parametrized module fixture kept all four on one).


def _as_method(func):
    """``func`` as a method of a test class (``self`` first, the same fixtures after)."""
    def method(self, **kwargs):
        return func(**kwargs)

    signature = inspect.signature(func)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(parameters=[self_param,
                                                         *signature.parameters.values()])
    method.__name__, method.__doc__ = func.__name__, func.__doc__
    return method


_LAB_TESTS = {name: func for name, func in list(globals().items())
              if name.startswith("test_") and callable(func)
              and {"graded", "fault_lab"} & set(inspect.signature(func).parameters)}
for _name in _LAB_TESTS:
    del globals()[_name]
for _lab in sorted(CASES):
    _cls = "TestClass" + "".join(part.capitalize() for part in _lab.split("_"))
    globals()[_cls] = type(_cls, (), {"lab": _lab, **{name: _as_method(func)
                                                      for name, func in _LAB_TESTS.items()}})
