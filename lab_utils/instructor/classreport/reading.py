"""Reading a graded lab from the course folder (the class report's data).

The gradebook through nbgrader's API (scores, maximum points, what needs manual grading),
the autograded notebooks ``autograded/<student>/<lab>/<notebook>.ipynb`` (the failure
messages are the outputs of their test cells, grouped by :func:`lab_utils.messages.group`),
the source notebooks (the order of the cells, hence which test belongs to which exercise)
and the autograde status file ``autograde-<lab>.csv``.
"""

from __future__ import annotations

import csv
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd
from nbgrader.utils import is_grade, is_solution, is_task

from lab_utils import messages
from lab_utils.instructor import grading

#: Base URL of the Jupyter server that runs the formgrader (``--formgrader-url``).
FORMGRADER_URL = "http://localhost:8888"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ReportError(RuntimeError):
    """The report cannot be written; the message is one line that says what to do."""


@dataclass
class Exercise:
    """One exercise: an answer cell and the graded cells that follow it, or a written
    answer graded by hand."""

    name: str  # the answer cell's grade id (a written answer: its own grade id)
    label: str  # "Exercise 3", "Question A" (from the statement above it), or ""
    notebook: str
    cells: list[str]  # grade ids of its graded cells (tests, or the written answer)
    points: float = 0.0
    written: bool = False

    @property
    def title(self) -> str:
        return f"{self.label} · {self.name}" if self.label else self.name


@dataclass
class ClassData:
    """What the report shows, read from the course folder by :func:`collect`."""

    lab: str
    max_score: float
    exercises: list[Exercise]
    students: pd.DataFrame  # one row per student (scores.csv)
    cells: pd.DataFrame  # one row per graded submission and graded cell
    failures: pd.DataFrame  # one row per failed test cell (and failed part)
    manual: pd.DataFrame  # one row per answer waiting for manual grading
    formgrader: str = ""
    generated: str = field(default_factory=lambda: datetime.datetime.now().strftime(
        "%Y-%m-%d %H:%M"))


def _label(markdown: str) -> str:
    """"Exercise 3" or "Question A" from a statement ``**Exercise 3 (2 points).** ...``."""
    found = re.findall(r"\*\*((?:Exercise|Question) [\w.]+?)\b", markdown)
    return found[-1] if found else ""


def exercises_of(notebook, name: str) -> list[Exercise]:
    """The exercises of a source notebook, in order.

    An answer code cell starts an exercise; every autograded test cell after it (until the
    next answer cell) belongs to it.  A written answer (a graded Markdown answer cell or a
    task) is an exercise by itself.  Points are filled in from the gradebook.
    """
    out: list[Exercise] = []
    statement = ""
    current = None
    for cell in notebook.cells:
        grade_id = grading.grade_id(cell)
        if cell.cell_type == "markdown" and not is_grade(cell) and not is_solution(cell):
            statement = cell.source
            continue
        if not grade_id or not (is_grade(cell) or is_solution(cell) or is_task(cell)):
            continue
        if cell.cell_type != "code" or is_task(cell) or is_grade(cell) and is_solution(cell):
            out.append(Exercise(grade_id, _label(statement), name, [grade_id], written=True))
            current, statement = None, ""
        elif is_solution(cell):
            current = Exercise(grade_id, _label(statement), name, [])
            out.append(current)
            statement = ""
        elif current is None:  # a test before any answer cell: an exercise of its own
            out.append(Exercise(grade_id, "", name, [grade_id]))
        else:
            current.cells.append(grade_id)
    return [e for e in out if e.cells]


def _statuses(path: Path) -> dict[str, dict]:
    """Rows of the autograde status CSV (student id -> row), or {} without the file."""
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def _first_line(text: str) -> str:
    lines = [line.strip() for line in _ANSI.sub("", text or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


#: (check, hint) of a failure message (:func:`lab_utils.messages.group`).
parse_failure = messages.group


def failures_of(cell) -> list[str]:
    """The failure messages of an executed test cell (first line each; [] if none shown)."""
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if errors:
        ename, evalue = errors[-1].get("ename", ""), _first_line(errors[-1].get("evalue", ""))
        failure = messages.parse(evalue)
        if (ename == "NotImplementedError" and not evalue) or (
                ename == "CheckError" and failure and failure.got.startswith(
                    "NotImplementedError")):
            # raised as is, or turned into a check message by checks.visible / checks.call
            return ["not attempted: the answer cell still raises NotImplementedError"]
        if ename == "CheckError" or failure:
            return [evalue]
        return [f"{ename}: {evalue}" if evalue else ename]
    texts = [o for o in outputs if o.get("output_type") == "stream"]
    parts = [part[1] for o in texts if o.get("name") == "stdout"
             for part in map(messages.parse_part, _ANSI.sub("", o.get("text", "")).splitlines())
             if part]
    if parts:
        return parts
    stderr = [o.get("text", "") for o in texts if o.get("name") == "stderr"]
    if stderr:
        return [f"wrote to stderr (nbgrader then gives 0): {_first_line(''.join(stderr))}"]
    return []


def _autograded_failures(path: Path, tests: set[str]) -> dict[str, list[str]]:
    """Test grade id -> failure messages in one autograded notebook (the last copy of a
    duplicated test counts, as for nbgrader)."""
    if not path.is_file():
        return {}
    notebook = nbformat.read(path, as_version=4)
    return {grading.grade_id(c): failures_of(c) for c in notebook.cells
            if c.cell_type == "code" and grading.grade_id(c) in tests}


def collect(course_dir, lab: str, autograde_csv=None, formgrader_url: str = FORMGRADER_URL
            ) -> ClassData:
    """Read everything the report shows about ``lab`` from the course folder.

    Raises
    ------
    ReportError
        No gradebook, the lab is not in it, or nothing of the lab was graded yet.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course_dir).resolve()
    if autograde_csv and not Path(autograde_csv).is_file():
        raise ReportError(f"{autograde_csv} does not exist: give the CSV that autograde wrote "
                          f"(--report), or leave it out to read autograde-{lab}.csv")
    statuses = _statuses(Path(autograde_csv) if autograde_csv
                         else course / f"autograde-{lab}.csv")
    if not (course / "gradebook.db").is_file():
        raise ReportError(f"no gradebook.db in {course}: release, collect and autograde "
                          f"{lab} first (python -m lab_utils autograde {lab})")
    base = formgrader_url.rstrip("/")
    with Gradebook(grading.db_url(course)) as gb:
        try:
            assignment = gb.find_assignment(lab)
        except MissingEntry:
            raise ReportError(f"{lab} is not in {course}/gradebook.db: release it "
                              f"(python -m lab_utils release {lab}) and autograde it") from None
        exercises = []
        for notebook in assignment.notebooks:
            source = course / "solutions" / lab / f"{notebook.name}.ipynb"
            if not source.is_file():
                raise ReportError(f"{source} is missing: the report orders the exercises as "
                                  f"in the source notebook; restore it from the repository")
            found = exercises_of(nbformat.read(source, as_version=4), notebook.name)
            points = {c.name: c.max_score for c in [*notebook.grade_cells, *notebook.task_cells]}
            for exercise in found:
                exercise.cells = [c for c in exercise.cells if c in points]
                exercise.points = sum(points[c] for c in exercise.cells)
            exercises += [e for e in found if e.cells]
        owner = {(e.notebook, c): e for e in exercises for c in e.cells}
        students, cells, failures, manual = [], [], [], []
        graded = set()
        for submission in sorted(assignment.submissions, key=lambda s: s.student_id):
            student = submission.student_id
            if statuses.get(student, {}).get("status", "graded") not in ("graded", "skipped"):
                continue  # graded by an earlier run, but its last autograde failed
            graded.add(student)
            students.append({"student_id": student, "status": "graded",
                             "score": submission.score, "max_score": submission.max_score,
                             "written_to_grade": 0, "message": ""})
            for notebook in submission.notebooks:
                nb_name = notebook.notebook.name
                path = course / "autograded" / student / lab / f"{nb_name}.ipynb"
                messages = _autograded_failures(path, {c for n, c in owner if n == nb_name})
                for grade in notebook.grades:
                    exercise = owner.get((nb_name, grade.name))
                    if exercise is None:
                        continue
                    cells.append({"student_id": student, "exercise": exercise.name,
                                  "cell": grade.name, "score": grade.score or 0.0,
                                  "max_score": grade.max_score,
                                  "pending": bool(grade.needs_manual_grade)})
                    if grade.needs_manual_grade:
                        students[-1]["written_to_grade"] += 1
                        manual.append({"student_id": student, "exercise": exercise.title,
                                       "cell": grade.name, "points": grade.max_score,
                                       "formgrader": f"{base}/formgrader/submissions/"
                                                     f"{notebook.id}"})
                    elif not exercise.written and (grade.score or 0) < grade.max_score:
                        for message in messages.get(grade.name) or [
                                "lost points without a message in the autograded notebook"]:
                            check, hint = parse_failure(message)
                            failures.append({"exercise": exercise.name, "cell": grade.name,
                                             "check": check, "hint": hint,
                                             "message": message, "student_id": student})
        for student, row in statuses.items():
            if student not in graded:
                students.append({"student_id": student, "status": "not graded",
                                 "score": None, "max_score": assignment.max_score,
                                 "written_to_grade": 0,
                                 "message": row.get("message") or row.get("status", "")})
        known = {row["student_id"] for row in students}
        for other in sorted(s.id for s in gb.students if s.id not in known):
            students.append({"student_id": other, "status": "no submission", "score": None,
                             "max_score": assignment.max_score, "written_to_grade": 0,
                             "message": f"in the gradebook, but no submission of {lab}"})
        if not graded and not statuses:
            raise ReportError(f"no graded submission of {lab} in {course}: run "
                              f"`python -m lab_utils autograde {lab}` first")
        max_score = assignment.max_score

    def frame(rows, columns):
        return pd.DataFrame(rows, columns=columns)

    return ClassData(
        lab=lab, max_score=max_score, exercises=exercises,
        students=frame(students, ["student_id", "status", "score", "max_score",
                                  "written_to_grade", "message"]),
        cells=frame(cells, ["student_id", "exercise", "cell", "score", "max_score", "pending"]),
        failures=frame(failures, ["exercise", "cell", "check", "hint", "message",
                                  "student_id"]),
        manual=frame(manual, ["student_id", "exercise", "cell", "points", "formgrader"]),
        formgrader=f"{base}/formgrader/manage_submissions/{lab}")
