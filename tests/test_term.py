"""An instructor's term: deadlines, an extension and late work, LMS exports, feedback bundles.

One simulated class of four perfect submissions is collected with known submission times
(one source each: ``timestamps.csv``, an exchange ``timestamp.txt``, the file's modification
time) and graded once through ``python -m lab_utils``.  What a term adds does not depend on
the lab: the class answers the grading machinery's test lab (:mod:`tests.support.minilab`,
graded in about a second each, through the course's config and sandbox).  The course
(``course.toml``): due 2026-10-09 17:00 Europe/London (16:00 UTC), 10 % per started day,
capped at 50 %, 0 after 7 days; ``cai`` has an extension to 2026-10-11 17:00.

=====  ===========================  ==============  =========================
 id     handed in (London time)      source          penalty
=====  ===========================  ==============  =========================
 ana    2026-10-09 16:30              timestamps.csv  none (on time)
 ben    2026-10-10 19:00 (+26 h)      timestamp.txt   20 % (2 started days)
 cai    2026-10-10 20:00              timestamps.csv  none (extension)
 dee    2026-10-18 18:00 (9 days)     mtime           100 % (after 7 days)
=====  ===========================  ==============  =========================

The Canvas and Moodle files are read back with parsers written from the formats'
documentation (Canvas: "How do I import grades in the Gradebook?"; MoodleDocs: "Import
grades"), not with the writer's code.
"""

import csv
import datetime as dt
import os
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest

from lab_utils.instructor import deadlines, grading, timestamps
from tests.support import courses, minilab

LAB = minilab.LAB
#: A course lab, for the command that refuses a lab never released (nothing is graded).
COURSE_LAB = "lab1_embeddings"
LONDON = "Europe/London"
COURSE_TOML = f"""\
timezone = "{LONDON}"

[due]
{LAB} = "2026-10-09 17:00"

[late]
per = "day"
percent = 10
cap = 50
zero_after_days = 7
"""
HANDED_IN = {"ana": "2026-10-09 16:30", "ben": "2026-10-10 19:00",
             "cai": "2026-10-10 20:00", "dee": "2026-10-18 18:00"}
PERCENT = {"ana": 0, "ben": 20, "cai": 0, "dee": 100}
SOURCE = {"ana": "timestamps.csv", "ben": "timestamp.txt", "cai": "timestamps.csv",
          "dee": "mtime"}
NAMES = {"ana": ("Ana", "Alves"), "ben": ("Ben", "Brown"), "cai": ("Cai", "Chen"),
         "dee": ("Dee", "Diaz")}
CANVAS_IDS = {"ana": "1101", "ben": "1102", "cai": "1103", "dee": "1104"}


def _cli(course, *args, status=0):
    proc = subprocess.run([sys.executable, "-m", "lab_utils", *map(str, args),
                           "--course-dir", str(course)],
                          capture_output=True, text=True, env=grading._env())
    assert proc.returncode == status, proc.stdout + proc.stderr
    return proc


def _run(course, *args, status=0):
    """``python -m lab_utils`` in this process (no start-up cost): (stdout, stderr)."""
    import contextlib
    import io

    from lab_utils.instructor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*map(str, args), "--course-dir", str(course)])
    assert code == status, out.getvalue() + err.getvalue()
    return out.getvalue(), err.getvalue()


def _london(text):
    return deadlines.parse_time(text, deadlines.ZoneInfo(LONDON))


def canvas_roster(path, students=CANVAS_IDS):
    """A Canvas gradebook export: fixed columns, the assignment, the Points Possible row."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                    f"{LAB} (4242)", "Current Score"])
        w.writerow(["    Points Possible", "", "", "", "", "15", "(read only)"])
        for s, cid in students.items():
            first, last = NAMES.get(s, (s.capitalize(), "Doe"))
            w.writerow([f"{last}, {first}", cid, f"S{cid}", s, "DL 2026", "", ""])
    return path


def moodle_roster(path, worksheet=False):
    """Moodle's grade export (or, for feedback files, the assignment's grading worksheet)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        if worksheet:
            w.writerow(["Identifier", "Full name", "ID number", "Email address", "Status",
                        "Grade"])
        else:
            w.writerow(["First name", "Last name", "ID number", "Institution",
                        "Department", "Email address"])
        for i, s in enumerate(sorted(NAMES)):
            first, last = NAMES[s]
            if worksheet:
                w.writerow([f"Participant {900 + i}", f"{first} {last}", s,
                            f"{s}@uni.example", "Submitted", ""])
            else:
                w.writerow([first, last, s, "Uni", "CS", f"{s}@uni.example"])
    return path


@pytest.fixture(scope="module")
def term(repo, tmp_path_factory, shared_root):
    """The class collected with its times, graded once, feedback generated."""
    root = tmp_path_factory.mktemp("term")
    course = courses.new_course(shared_root, root / "course",
                                minilab.repository(root / "repo", repo), [LAB])
    (course / deadlines.COURSE_FILE).write_text(COURSE_TOML, encoding="utf-8")
    (course / deadlines.EXTENSIONS_FILE).write_text(
        f"student,lab,new_due\ncai,{LAB},2026-10-11 17:00\n", encoding="utf-8")
    source, released = grading.read_lab(course, LAB)
    perfect = grading.perfect_submission(source, released)
    incoming = root / "incoming"
    for student in HANDED_IN:
        (incoming / student).mkdir(parents=True)
        nbformat.write(perfect, incoming / student / f"{LAB}.ipynb")
    (incoming / "ben" / "timestamp.txt").write_text(
        str(_london(HANDED_IN["ben"]).astimezone(dt.UTC)), encoding="utf-8")
    dee = _london(HANDED_IN["dee"]).timestamp()
    os.utime(incoming / "dee" / f"{LAB}.ipynb", (dee, dee))
    (course / "timestamps.csv").write_text(
        "student,timestamp\n" + "".join(f"{s},{HANDED_IN[s]}\n" for s in ("ana", "cai")),
        encoding="utf-8")
    collected = _cli(course, "collect", LAB, incoming).stdout
    graded = _cli(course, "autograde", LAB, "--jobs", "2").stdout
    _cli(course, "feedback", LAB)
    return {"course": course, "root": root, "collect": collected, "autograde": graded,
            "source": source}


@pytest.mark.slow
def test_collect_records_times_and_their_source(term):
    course = term["course"]
    assert "timestamps.csv (2)" in term["collect"] and "mtime (1)" in term["collect"]
    rows = {r["student"]: r for r in timestamps.read_report(course, LAB)}
    assert {s: r["source"] for s, r in rows.items()} == SOURCE
    for student, when in HANDED_IN.items():
        written = (course / "submitted" / student / LAB / "timestamp.txt").read_text()
        assert dt.datetime.fromisoformat(written) == _london(when), student


@pytest.mark.slow
def test_collect_from_an_lms_zip_uses_its_entry_times(term, tmp_path):
    import shutil

    course = tmp_path / "course"
    shutil.copytree(term["course"], course)  # its own gradebook: the class is untouched
    released = course / "labs" / LAB / f"{LAB}.ipynb"
    archive = tmp_path / "download.zip"
    entries = {"ana": (2026, 10, 9, 17, 30, 0), "ben": (2026, 10, 8, 9, 0, 0)}
    with zipfile.ZipFile(archive, "w") as zf:
        for student, when in entries.items():
            zf.writestr(zipfile.ZipInfo(f"{student}_{LAB}.ipynb", when), released.read_bytes())
    out, _ = _run(course, "collect", LAB, archive)  # timestamps.csv also lists ana: zip wins
    assert "zip (2)" in out
    rows = {r["student"]: r for r in timestamps.read_report(course, LAB)}
    assert {s: rows[s]["source"] for s in entries} == {"ana": "zip", "ben": "zip"}
    # collected earlier, not in this zip: their nbgrader timestamp.txt is kept
    assert rows["cai"]["source"] == "timestamp.txt"
    assert dt.datetime.fromisoformat(rows["cai"]["submitted_at"]) == _london(HANDED_IN["cai"])
    for student, when in entries.items():
        written = (course / "submitted" / student / LAB / "timestamp.txt").read_text()
        assert dt.datetime.fromisoformat(written) == \
            dt.datetime(*when, tzinfo=deadlines.ZoneInfo(LONDON)), student


def _nbgrader_export(course, path):
    grading.run_nbgrader(course, "export", "--to", path)
    with open(path, newline="") as fh:
        return {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == LAB}


@pytest.mark.slow
def test_penalties_match_nbgrader_export_and_formgrader(term, tmp_path):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course = term["course"]
    ours_path = tmp_path / "grades.csv"
    _run(course, "export", ours_path)
    ours = {r["student_id"]: r for r in csv.DictReader(open(ours_path, newline=""))}
    theirs = _nbgrader_export(course, tmp_path / "nbgrader.csv")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    formgrader = {s["student"]: s for s in api.get_submissions(LAB)}
    for student, percent in PERCENT.items():
        raw = float(theirs[student]["raw_score"])
        assert raw > 0, student
        expected = round(raw * percent / 100, 6)
        assert float(theirs[student]["late_submission_penalty"] or 0) == pytest.approx(expected)
        assert float(theirs[student]["score"]) == pytest.approx(raw - expected)
        assert ours[student] == theirs[student]
        assert float(formgrader[student]["score"]) == pytest.approx(raw)  # formgrader's raw
        assert dt.datetime.fromisoformat(formgrader[student]["timestamp"]) == \
            deadlines.utc_naive(_london(HANDED_IN[student]))
    from nbgrader.api import Gradebook

    with Gradebook(grading.db_url(course)) as gb:
        for student, percent in PERCENT.items():
            sub = gb.find_submission(LAB, student)
            assert float(sub.late_submission_penalty or 0) == pytest.approx(
                round(sub.score * percent / 100, 6))
        assert gb.find_submission(LAB, "cai").extension == dt.timedelta(days=2)
    assert "ben -" in term["autograde"] and "dee -" in term["autograde"]
    assert "ana -" not in term["autograde"] and "cai -" not in term["autograde"]


def read_canvas_import(path):
    """Canvas gradebook import, from its documentation: the header names Student, ID,
    SIS User ID, SIS Login ID, Section, then assignments as 'name (id)'; an optional
    'Points Possible' row; then one row per student matched by ID or SIS ids."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assignments = header[5:]
    body = rows[1:]
    points = {}
    if body and body[0][0].strip() == "Points Possible":
        points = dict(zip(assignments, map(float, body[0][5:]), strict=True))
        body = body[1:]
    students = {r[3]: {"ID": r[1], **{a: float(v) for a, v in zip(assignments, r[5:],
                                                                   strict=True)}}
                for r in body}
    return assignments, points, students


def read_moodle_import(path, map_from):
    """Moodle grade import, from its documentation: a header row, one row per user, one
    column mapped from (here ``map_from``), grade item columns and feedback columns."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames
        rows = {r[map_from]: r for r in reader}
    items = [h for h in header if h not in (map_from, "First name", "Last name",
                                            "Email address") and not h.startswith("Feedback")]
    return items, rows


@pytest.mark.slow
def test_canvas_and_moodle_exports_read_back(term, tmp_path):
    course = term["course"]
    theirs = _nbgrader_export(course, tmp_path / "nbgrader.csv")
    out = tmp_path / "canvas.csv"
    _run(course, "export", out, "--format", "canvas", "--roster",
         canvas_roster(tmp_path / "canvas-roster.csv"))
    assignments, points, students = read_canvas_import(out)
    assert assignments == [f"{LAB} (4242)"]  # Canvas's own column: updates that assignment
    assert points[assignments[0]] == float(theirs["ana"]["max_score"])
    assert {s: v["ID"] for s, v in students.items()} == CANVAS_IDS
    for student, row in students.items():
        assert row[assignments[0]] == pytest.approx(float(theirs[student]["score"]), abs=0.01)
    out = tmp_path / "moodle.csv"
    _run(course, "export", out, "--format", "moodle", "--roster",
         moodle_roster(tmp_path / "moodle-roster.csv"))
    items, rows = read_moodle_import(out, "ID number")
    assert items == [LAB] and set(rows) == set(HANDED_IN)
    for student, row in rows.items():
        assert float(row[LAB]) == pytest.approx(float(theirs[student]["score"]), abs=0.01)
        assert ("late penalty" in row[f"Feedback: {LAB}"]) == (PERCENT[student] > 0)


@pytest.mark.slow
def test_roster_mismatch_is_one_line(term, tmp_path):
    roster = canvas_roster(tmp_path / "short.csv",
                           {s: c for s, c in CANVAS_IDS.items() if s != "dee"} | {"eve": "1105"})
    _, stderr = _run(term["course"], "export", tmp_path / "x.csv", "--format", "canvas",
                     "--roster", roster, status=1)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "dee" in lines[0] and "eve" in lines[0] and "roster" in lines[0]
    assert not (tmp_path / "x.csv").exists()


def _hidden_lines(source_nb):
    lines = []
    for cell in source_nb.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                cell.source, re.S):
            lines += [line.strip() for line in block.splitlines() if len(line.strip()) > 15]
    assert lines, "the lab has hidden tests"
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["plain", "canvas", "moodle"])
def test_feedback_bundle_one_entry_per_student(term, tmp_path, layout):
    from lab_utils.instructor import feedback_bundle

    course = term["course"]
    if layout == "plain":  # the command (feedback generated again, then bundled)
        _run(course, "feedback", LAB, "--bundle", tmp_path / "bundle")
    else:
        roster = (canvas_roster(tmp_path / "roster.csv") if layout == "canvas" else
                  moodle_roster(tmp_path / "roster.csv", worksheet=True))
        feedback_bundle.write_bundle(course, LAB, tmp_path / "bundle", layout, roster)
    entries = sorted(p.name for p in (tmp_path / "bundle").iterdir())
    assert len(entries) == len(HANDED_IN)
    if layout == "canvas":  # <name>_<user id>_...: Canvas reads the id after the first _
        assert {e.split("_")[1] for e in entries} == set(CANVAS_IDS.values())
    elif layout == "moodle":  # <Full name>_<participant id>_assignsubmission_file_
        assert all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+_9\d\d_assignsubmission_file_", e)
                   for e in entries), entries
    else:
        assert entries == sorted(HANDED_IN)
    with zipfile.ZipFile(tmp_path / "bundle.zip") as zf:
        text = "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                         if not n.endswith("/"))
    for line in _hidden_lines(term["source"]):
        assert line not in text, line


@pytest.mark.slow
def test_bundle_adds_comments_once_manual_grading_is_done(term, tmp_path):
    import shutil

    from nbgrader.api import Gradebook

    from lab_utils.instructor import feedback_bundle
    from lab_utils.instructor.gradebook import db_url

    course = tmp_path / "course"
    shutil.copytree(term["course"], course)  # its own gradebook: the class is untouched
    with Gradebook(db_url(course)) as gb:
        notebook = gb.find_submission_notebook(LAB, LAB, "ana")
        for grade in notebook.grades:
            if grade.needs_manual_grade:  # what the formgrader does when a grader scores
                grade.manual_score = grade.max_score
                grade.needs_manual_grade = False
        comment = notebook.comments[0]
        comment.manual_comment = "Clear comparison of memory and meaning."
        gb.db.commit()
    _, entries = feedback_bundle.write_bundle(course, LAB, tmp_path / "bundle")
    notes = {e.name: (e / "comments.txt").read_text() for e in entries
             if (e / "comments.txt").is_file()}
    assert list(notes) == ["ana"]  # the others still wait for a human
    assert "Clear comparison of memory and meaning." in notes["ana"]


def test_autograde_of_a_lab_never_released_is_one_line(repo, tmp_path):
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "nbgrader_config.py").write_bytes((repo / "nbgrader_config.py").read_bytes())
    import shutil

    shutil.copytree(repo / "solutions" / COURSE_LAB, course / "solutions" / COURSE_LAB)
    for student in ("ana", "ben", "cai"):
        grading.submit(course, student, COURSE_LAB,
                       repo / "labs" / COURSE_LAB / f"{COURSE_LAB}.ipynb")
    proc = _cli(course, "autograde", COURSE_LAB, status=1)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "never released" in lines[0]
    assert f"python -m lab_utils release {COURSE_LAB}" in lines[0]
    assert "Traceback" not in proc.stderr


def test_late_policy_units_cap_and_zero():
    policy = deadlines.LatePolicy(per="hour", percent=5, cap=30, zero_after_days=2)
    assert policy.percent_lost(0) == 0 and policy.percent_lost(-10) == 0
    assert policy.percent_lost(1) == 5 and policy.percent_lost(3601) == 10
    assert policy.percent_lost(20 * 3600) == 30  # capped
    assert policy.percent_lost(2 * 86400 + 1) == 100  # zero after two days
    assert deadlines.LatePolicy().percent_lost(10**6) == 0  # no policy
    assert isinstance(policy.penalty(10, 3601), float) and policy.penalty(10, 3601) == 1.0


def test_zip_entry_times_are_read_in_the_course_time_zone(tmp_path):
    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo(f"sub/ana_{LAB}.ipynb", (2026, 10, 9, 17, 30, 0)), "{}")
        zf.writestr(zipfile.ZipInfo(f"sub/ana_{LAB}.ipynb.bak", (2026, 10, 19, 0, 0, 0)), "")
        zf.writestr(zipfile.ZipInfo(f"sub/ben_{LAB}.ipynb", (2026, 10, 8, 9, 0, 0)), "{}")
    times = timestamps.zip_entry_times(archive, LAB, deadlines.ZoneInfo(LONDON))
    assert times == {"ana": _london("2026-10-09 17:30"), "ben": _london("2026-10-08 09:00")}


def test_course_config_errors_are_one_line(tmp_path):
    (tmp_path / deadlines.COURSE_FILE).write_text('timezone = "Mars/Olympus"\n')
    with pytest.raises(deadlines.DeadlineError, match="unknown time zone 'Mars/Olympus'"):
        deadlines.load(tmp_path)
    (tmp_path / deadlines.COURSE_FILE).write_text(COURSE_TOML)
    (tmp_path / deadlines.EXTENSIONS_FILE).write_text("student,lab,new_due\nana,lab7,"
                                                      "2026-10-11\n")
    with pytest.raises(deadlines.DeadlineError, match="lab 'lab7' has no due date"):
        deadlines.load(tmp_path)
    (tmp_path / deadlines.EXTENSIONS_FILE).write_text(f"student,lab,new_due\nana,{LAB},"
                                                      f"2026-10-11 09:00\n")
    dates = deadlines.load(tmp_path)
    assert dates.due_for(LAB, "ana") == _london("2026-10-11 09:00")
    assert dates.due_for(LAB, "ben") == _london("2026-10-09 17:00")
    assert dates.due_for(LAB).utcoffset() == dt.timedelta(hours=1)  # BST in October


def test_cli_help_lists_the_term_commands(capsys):
    from lab_utils.instructor.cli import build_parser

    parser = build_parser()
    assert "similarity" in parser.format_help()
    for command, option in (("export", "--roster"), ("feedback", "--bundle"),
                            ("collect", "--timestamps"), ("similarity", "--top")):
        with pytest.raises(SystemExit):
            parser.parse_args([command, "--help"])
        assert option in capsys.readouterr().out, command
