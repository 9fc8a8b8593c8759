"""Grading a class on dask.distributed survives its faults (2 workers).

The faults do not depend on the lab: the class answers the grading machinery's test lab
(:mod:`tests.support.minilab`, graded in about a second; the course's labs go through the
same cluster in ``tests/test_class.py``).  One class -- the perfect submission, a mistake
and a submission that never finishes -- is graded on a LocalCluster of 2 worker processes
while one worker is killed in the middle of grading (the perfect submission and the mistake
open with a student's cell that sleeps 5 s, so that they are still being graded
when the worker dies or Ctrl-C lands).  The same submissions are graded by a plain sequential
``nbgrader autograde`` (the reference, cell by cell), then regraded; and a class of two
(a twin of the perfect submission and the mistake) goes through the CLI, interrupted
half-way by Ctrl-C, then run again.  See
:mod:`lab_utils.instructor.cluster`.
"""

import copy
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib

import nbformat
import psutil
import pytest

from lab_utils.instructor import cli, cluster, gradebook, grading
from tests.support import courses, minilab

LAB = minilab.LAB
# s per submission: a submission below (its sleep included) takes 6-12 s in its sandbox on
# 2 cores shared with other work; the endless one is graded first, and sleeps beside the others
LIMIT = 25
COMPARE = "mistake"
#: The student's first cell in the perfect submission and the mistake: still being graded
#: when the killer strikes (a task that has run KILL_AFTER s, its kernel started) or Ctrl-C.
SLEEP = "import time\n\ntime.sleep(5)  # my own cell"
KILL_AFTER = 1.5


# --- fast: no notebook is executed -----------------------------------------------------


def test_cluster_pins_are_in_dev(repo):
    """The tests need the instructor extra (Dask included): `make test` installs `.[dev]`."""
    extras = tomllib.loads((repo / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert {"dask", "distributed"} <= {d.split("==")[0] for d in extras["instructor"]}
    for name in ("dev", "slurm", "kubernetes"):
        assert "lab-utils[instructor]" in extras[name], name
        assert all("==" in dep for dep in extras[name] if "[" not in dep), name


def test_trimmed_gradebook_keeps_the_lab_and_drops_the_class(template, tmp_path):
    from nbgrader.api import Gradebook

    released_course = shutil.copytree(template, tmp_path / "course")
    grading.add_students(released_course, ["alice", "bob"])
    path = tmp_path / "trimmed" / "gradebook.db"
    path.parent.mkdir()
    path.write_bytes(gradebook.trimmed_copy(released_course / "gradebook.db"))
    with Gradebook(gradebook.db_url(path.parent)) as gb, \
            Gradebook(gradebook.db_url(released_course)) as full:
        assert gb.students == [] and {s.id for s in full.students} >= {"alice", "bob"}
        lab, original = gb.find_assignment(LAB), full.find_assignment(LAB)
        assert [nb.name for nb in lab.notebooks] == [nb.name for nb in original.notebooks]
        assert ({c.name: c.checksum for c in lab.notebooks[0].source_cells}
                == {c.name: c.checksum for c in original.notebooks[0].source_cells})
        assert lab.max_score == original.max_score > 0


@pytest.mark.parametrize("args, message", [
    (["--scheduler-file", "nowhere.json"], "scheduler file nowhere.json does not exist"),
    (["--timeout", "0"], "--timeout must be a positive number"),
])
def test_cli_option_errors_are_one_line(template, tmp_path, capsys, args, message):
    released_course = shutil.copytree(template, tmp_path / "course")
    grading.submit(released_course, "alice", LAB, released_course / "labs" / LAB / f"{LAB}.ipynb")
    status = cli.main(["autograde", LAB, "--course-dir", str(released_course), *args])
    err = capsys.readouterr().err
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1, err


# --- the class, graded on a LocalCluster while faults happen -----------------------------


@pytest.fixture(scope="module")
def template(repo, tmp_path_factory, shared_root):
    """A released course with the test lab (copied for every run: release once)."""
    lab_repo = minilab.repository(tmp_path_factory.mktemp("minilab"), repo)
    return courses.new_course(shared_root, tmp_path_factory.mktemp("template"), lab_repo, [LAB])


@pytest.fixture(scope="module")
def klass(template):
    source, released = grading.read_lab(template, LAB)
    perfect = minilab.with_first_cell(grading.perfect_submission(source, released), SLEEP)
    sleeper = minilab.with_first_cell(perfect, "import time\ntime.sleep(10**6)")
    return {"perfect": perfect, COMPARE: minilab.mistake(perfect),
            "twin": copy.deepcopy(perfect), "sleeper": sleeper}


def _course(template, tmp_path_factory, name, klass, students):
    course = tmp_path_factory.mktemp(name) / "course"
    shutil.copytree(template, course)
    for student in students:
        grading.submit(course, student, LAB, klass[student])
    return course


def _grades(course, student):
    """Per-cell (auto score, needs manual grade) and auto comments of one submission."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook.db_url(course)) as gb:
        nb = gb.find_submission(LAB, student).notebooks[0]
        return ({g.name: (g.auto_score, g.needs_manual_grade) for g in nb.grades},
                {c.name: c.auto_comment for c in nb.comments})


def _rows(course):
    """Rows per student in the gradebook's submission and grade tables."""
    with sqlite3.connect(course / "gradebook.db") as db:
        subs = dict(db.execute("SELECT student_id, COUNT(*) FROM submitted_assignment "
                               "GROUP BY student_id"))
        grades = dict(db.execute(
            "SELECT sa.student_id, COUNT(*) FROM grade g JOIN submitted_notebook sn ON "
            "g.notebook_id = sn.id JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
            "GROUP BY sa.student_id"))
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return subs, grades


@pytest.fixture(scope="module")
def client():
    """The LocalCluster that ``autograde`` starts: 2 worker processes, one thread each."""
    with cluster.connect(jobs=2) as c:
        yield c


@pytest.mark.slow
def test_a_local_cluster_gives_the_environment_back():
    """Dask's nannies set OMP_NUM_THREADS=1 and others in the process that starts them:
    whatever this process starts after grading (a notebook, the benchmark's next lab) must
    not inherit them."""
    before = dict(os.environ)
    with cluster.connect(jobs=1) as c:
        assert set(c.run(lambda: os.environ.get("OMP_NUM_THREADS")).values()) == {"1"}
    assert dict(os.environ) == before


def test_worker_env_is_worker_config_for_dask():
    import dask

    from_env = dask.config.collect(paths=[], env=cluster.WORKER_ENV)  # as a worker reads it
    assert {k: dask.config.get(k, config=from_env) for k in cluster.WORKER_CONFIG} == \
        cluster.WORKER_CONFIG


@pytest.mark.slow
def test_local_cluster_workers_run_with_the_grading_config(client):
    import dask

    def settings():
        return {k: dask.config.get(k) for k in cluster.WORKER_CONFIG}

    seen = client.run(settings)
    assert len(seen) == 2 and all(s == cluster.WORKER_CONFIG for s in seen.values()), seen


def _kill_a_grading_worker(client, victims, killed, stop):
    """Once a task of one of ``victims`` has run :data:`KILL_AFTER` s on a worker and its
    kernel has started, SIGKILL that worker (only it: its sandboxed kernel must die with it),
    noting the processes it had started."""
    pids = client.run(os.getpid)
    seen = {}
    while not stop.is_set():
        for address, keys in client.processing().items():
            for key in keys:
                student = next((s for s in victims if f"-{s}-" in str(key)), None)
                if student is None:
                    continue
                if time.monotonic() - seen.setdefault(key, time.monotonic()) >= KILL_AFTER:
                    worker = psutil.Process(pids[address])
                    children = worker.children(recursive=True)
                    if not children:  # its kernel is not started yet
                        continue
                    worker.kill()
                    killed.update(student=student, pid=pids[address], children=children)
                    return
        stop.wait(0.5)


@pytest.fixture(scope="module")
def faulty_run(client, template, tmp_path_factory, klass):
    students = ["sleeper", "perfect", COMPARE]
    course = _course(template, tmp_path_factory, "faulty", klass, students)
    killed, stop, records = {}, threading.Event(), []
    killer = threading.Thread(target=_kill_a_grading_worker,
                              args=(client, ["perfect", COMPARE], killed, stop))
    killer.start()
    try:
        start = time.perf_counter()
        outcomes = grading.autograde_class(course, LAB, students, client=client, limit=LIMIT,
                                           on_record=records.append)
        seconds = time.perf_counter() - start
    finally:
        stop.set()
        killer.join()
    leftovers = client.run(lambda: [p.pid for p in psutil.Process().children(recursive=True)])
    return {"course": course, "outcomes": outcomes, "killed": killed, "records": records,
            "seconds": seconds, "leftovers": leftovers}


@pytest.mark.slow
def test_a_killed_worker_s_submission_is_graded_once_elsewhere(faulty_run):
    killed, records = faulty_run["killed"], faulty_run["records"]
    assert killed, "no worker was killed while grading (the test did not exercise the fault)"
    assert sorted(r.student for r in records) == sorted(faulty_run["outcomes"])  # once each
    regraded = next(r for r in records if r.student == killed["student"])
    assert regraded.status == "graded"
    assert not regraded.worker.endswith(f":{killed['pid']}")
    assert killed["children"], "the killed worker had no grading kernel"
    _, alive = psutil.wait_procs(killed["children"], timeout=10)
    assert not alive, f"the killed worker left {alive} behind"
    subs, grades = _rows(faulty_run["course"])
    graded = [s for s, o in faulty_run["outcomes"].items() if o.status == "graded"]
    assert {s: subs.get(s) for s in graded} == {s: 1 for s in graded}
    assert len(set(grades[s] for s in graded)) == 1  # one grade row per graded cell, no more


@pytest.mark.slow
def test_a_submission_that_never_finishes_is_cut_reported_and_scores_zero(faulty_run):
    outcomes = faulty_run["outcomes"]
    assert outcomes["sleeper"].status == "timeout"
    assert f"limit of {LIMIT} s" in outcomes["sleeper"].message
    assert LIMIT <= outcomes["sleeper"].seconds < LIMIT + 15
    assert {s: o.status for s, o in outcomes.items() if s != "sleeper"} == {
        "perfect": "graded", COMPARE: "graded"}
    assert "sleeper" not in _rows(faulty_run["course"])[0]  # no submission: 0 in the export
    assert not (faulty_run["course"] / "autograded" / "sleeper").exists()
    # the kernel was killed, not abandoned: no worker has a child process left
    assert faulty_run["leftovers"] and all(v == [] for v in faulty_run["leftovers"].values())


@pytest.mark.slow
def test_cluster_grades_equal_a_sequential_nbgrader_autograde(faulty_run, template,
                                                              tmp_path_factory, klass):
    # the mistake: full marks in some cells, none in others (the cluster graded perfect too)
    course = _course(template, tmp_path_factory, "sequential", klass, [COMPARE])
    grading.autograde(course, LAB)  # a plain `nbgrader autograde`
    assert _grades(faulty_run["course"], COMPARE) == _grades(course, COMPARE)
    cells = [nbformat.read(c / "autograded" / COMPARE / LAB / f"{LAB}.ipynb", as_version=4)
             for c in (faulty_run["course"], course)]
    assert [c.source for c in cells[0].cells] == [c.source for c in cells[1].cells]
    scores = _grades(course, COMPARE)[0]
    assert {k for k, (v, _) in scores.items() if v == 0 and k.startswith("test_")}


@pytest.mark.slow
def test_grading_twice_gives_identical_grades_in_one_row(faulty_run, client):
    course = faulty_run["course"]
    before = _grades(course, COMPARE)
    outcomes = grading.autograde_class(course, LAB, [COMPARE, "perfect"], client=client,
                                       limit=LIMIT, force=False)
    assert {s: o.status for s, o in outcomes.items()} == {COMPARE: "skipped",
                                                           "perfect": "skipped"}
    outcomes = grading.autograde_class(course, LAB, [COMPARE], client=client, limit=LIMIT)
    assert outcomes[COMPARE].status == "graded"
    assert _grades(course, COMPARE) == before
    subs, grades = _rows(course)
    assert subs[COMPARE] == 1 and grades[COMPARE] == grades["perfect"]


# --- the CLI interrupted by Ctrl-C, then run again ---------------------------------------


def _default_sigint():
    """In the child: Ctrl-C as in a terminal, even when this run ignores SIGINT (a shell's
    background job does, and Python then installs no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(course, *args):
    return subprocess.Popen([sys.executable, "-m", "lab_utils", "autograde", LAB,
                             "--course-dir", str(course), *args], env=grading._env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


@pytest.mark.slow
def test_ctrl_c_keeps_the_grades_written_and_a_rerun_grades_the_rest(
        faulty_run, template, tmp_path_factory, klass):
    students = ["twin", COMPARE]  # one worker: the second is in flight when the first is done
    course = _course(template, tmp_path_factory, "interrupted", klass, students)
    proc = _cli(course, "--jobs", "1")
    deadline = time.monotonic() + 240
    # the autograded folder is written last (after the gradebook): a cheap look, so that
    # Ctrl-C lands while the second submission is still being graded, however loaded the
    # machine (gradebook.recorded() opens the gradebook: seconds under load)
    autograded = gradebook.folder(course, "autograded")
    while not list(autograded.glob(f"*/{LAB}")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted:" in err and "run the same command again" in err
    done = gradebook.recorded(course, LAB)
    assert done and done < set(students)  # half-way
    clean = {"twin": _grades(faulty_run["course"], "perfect"),
             COMPARE: _grades(faulty_run["course"], COMPARE)}
    for student in done:  # intact, and equal to the clean run's
        assert _grades(course, student) == clean[student], student

    proc = _cli(course, "--jobs", "2", "--report", str(course / "again.csv"))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    report = (course / "again.csv").read_text()
    for student in students:
        status = "skipped" if student in done else "graded"
        assert f"{student},{status}," in report, report
    assert f"{len(done)} already graded" in out
    for student in students:
        assert _grades(course, student) == clean[student], student
    subs, _ = _rows(course)
    assert subs == {s: 1 for s in students}


# --- no grade lost: a failed regrade keeps every earlier grade and comment ----------------


def _snapshot(course, student):
    """Every grade (automatic, manual, flags) and comment of a submission, and its files."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook.db_url(course)) as gb:
        nb = gb.find_submission(LAB, student).notebooks[0]
        grades = {g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                  for g in nb.grades}
        comments = {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments}
    folder = course / "autograded" / student / LAB
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    return grades, comments, files


def _grade_by_hand(course, student):
    """What a grader does in the formgrader: manual scores, an override, comments."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook.db_url(course)) as gb:
        nb = gb.find_submission(LAB, student).notebooks[0]
        written = [g for g in nb.grades if g.cell.cell_type == "markdown"]
        assert written, "the lab has no written answer to grade by hand"
        for grade in written:
            grade.manual_score = grade.max_score / 2
            grade.needs_manual_grade = False
        tested = next(g for g in nb.grades if g.cell.cell_type == "code")
        tested.manual_score, tested.extra_credit = 0.5, 1.0
        for comment in nb.comments:
            comment.manual_comment = f"well argued ({comment.name})"
        gb.db.commit()


def test_a_failed_grading_records_nothing_over_earlier_grades(template, tmp_path):
    from nbgrader.api import Gradebook

    course = shutil.copytree(template, tmp_path / "course")
    with Gradebook(gradebook.db_url(course)) as gb:
        gb.update_or_create_student("alice")
        gb.update_or_create_submission(LAB, "alice")
    (course / "autograded" / "alice" / LAB).mkdir(parents=True)
    (course / "autograded" / "alice" / LAB / f"{LAB}.ipynb").write_text("{}")
    _grade_by_hand(course, "alice")
    before = _snapshot(course, "alice")
    for status in ("error", "timeout"):
        result = cluster.record_result(course, LAB, cluster.GradingResult("alice", status, 1.0,
                                                                          "it broke"))
        assert result.kept_previous and "earlier grades kept" in result.message
        assert _snapshot(course, "alice") == before
    fresh = cluster.record_result(course, LAB, cluster.GradingResult("bob", "error", 1.0, "x"))
    assert not fresh.kept_previous  # nothing to keep: scores 0 in the export


@pytest.mark.slow
def test_a_regrade_cut_or_on_a_killed_worker_loses_no_grade(faulty_run, client, tmp_path):
    course = shutil.copytree(faulty_run["course"], tmp_path / "course")
    _grade_by_hand(course, "perfect")
    before = _snapshot(course, "perfect")

    outcomes = grading.autograde_class(course, LAB, ["perfect"], client=client, limit=3)
    cut = outcomes["perfect"]
    assert cut.status == "timeout" and cut.kept_previous, cut
    report = grading.write_report(outcomes, tmp_path / "report.csv").read_text()
    assert "earlier grades kept" in report and ",yes," in report, report
    assert _snapshot(course, "perfect") == before

    killed, stop = {}, threading.Event()
    killer = threading.Thread(target=_kill_a_grading_worker,
                              args=(client, ["perfect"], killed, stop))
    killer.start()
    try:
        outcomes = grading.autograde_class(course, LAB, ["perfect"], client=client, limit=LIMIT)
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was killed while regrading"
    assert outcomes["perfect"].status == "graded", outcomes["perfect"]
    grades, comments, _ = _snapshot(course, "perfect")
    # manual scores, extra credit, comments and the automatic scores intact; as nbgrader does,
    # a regraded cell that a human had scored is flagged for another look
    assert {k: v[:3] for k, v in grades.items()} == {k: v[:3] for k, v in before[0].items()}
    assert comments == before[1]
    assert all(grades[k][3] for k, v in before[0].items() if v[1] is not None)
