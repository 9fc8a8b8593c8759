"""The class report of a graded lab: what the class understood, exercise by exercise.

``python -m lab_utils report LAB`` (and the end of ``autograde``) writes
``reports/<lab>/report.html`` in the course folder -- one self-contained page (inline CSS,
plots as embedded PNGs, no network needed) -- and the same tables as CSV beside it:

- ``scores.csv``: one row per student: status (graded, not graded and why, no
  submission), score and maximum, written answers still to grade;
- ``exercises.csv``: per exercise (an answer cell with the test cells that follow it, or
  a written answer): points, how many graded submissions got full, partial or no credit,
  or still wait for manual grading -- the item analysis that shows which lesson to fix;
- ``failures.csv``: the failure messages of the test cells grouped by exercise, check and
  hint (the checks of :mod:`lab_utils.checks` fail with ``<what>: expected <x>, got <y>.
  Hint: <concept>``), with how many students each;
- ``manual.csv``: the written answers waiting for a human, with their formgrader links.

Everything is read from the course folder, so the report is the same after a local or a
cluster run: the gradebook through nbgrader's API (scores, maximum points, what needs
manual grading), the autograded notebooks ``autograded/<student>/<lab>/<notebook>.ipynb``
(the failure messages are the outputs of their test cells), the source notebooks (the
order of the cells, hence which test belongs to which exercise) and the autograde status
file ``autograde-<lab>.csv`` (:func:`lab_utils.instructor.grading.write_report`: the
submissions that could not be graded, and why).

Used by :mod:`lab_utils.instructor.cli` (``report``, and the end of ``autograde``).
"""

from __future__ import annotations

import base64
import csv
import datetime
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
from nbgrader.utils import is_grade, is_solution, is_task

from lab_utils.instructor import grading

#: Base URL of the Jupyter server that runs the formgrader (``--formgrader-url``).
FORMGRADER_URL = "http://localhost:8888"

#: Failure groups shown per exercise on the page (``failures.csv`` has them all).
TOP_FAILURES = 5

#: How a :mod:`lab_utils.checks` failure reads: ``[hidden test, ]<what>: expected <x>,
#: got <y>. Hint: <concept>`` (see ``checks.fail`` and ``checks.hidden``).
_CHECK_MESSAGE = re.compile(
    r"^(?P<hidden>hidden test, )?(?P<what>.*?): expected (?P<expected>.*), "
    r"got (?P<got>.*)\. Hint: (?P<hint>.*)$", re.DOTALL)
#: The part of a ``checks.check_close`` failure that changes with the student's values.
_WHERE_DIFFERS = re.compile(r" \(at index \([^)]*\), \d+ of \d+ values differ\)")
#: A line that ``checks.partial_credit`` prints for each failed part of a test.
_PARTIAL_LINE = re.compile(r"^\[(?P<part>[^\]]+)\] (?P<message>.*: expected .*)$")
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


# --- reading the course folder ---------------------------------------------------------


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


def parse_failure(message: str) -> tuple[str, str]:
    """(check, hint) of a failure message: the same check and hint -> the same group.

    A :mod:`lab_utils.checks` message gives its ``<what>`` (without the part that names
    which values differ) and its hint; any other message is its own check, without hint.
    """
    found = _CHECK_MESSAGE.match(message)
    if not found:
        return message, ""
    what = _WHERE_DIFFERS.sub("", found["what"])
    return ("hidden test, " if found["hidden"] else "") + what, found["hint"].strip()


def failures_of(cell) -> list[str]:
    """The failure messages of an executed test cell (first line each; [] if none shown)."""
    outputs = cell.get("outputs", [])
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if errors:
        ename, evalue = errors[-1].get("ename", ""), _first_line(errors[-1].get("evalue", ""))
        if (ename == "NotImplementedError" and not evalue) or (
                ename == "CheckError" and "got NotImplementedError" in evalue):
            # raised as is, or turned into a check message by checks.visible / checks.call
            return ["not attempted: the answer cell still raises NotImplementedError"]
        if ename == "CheckError" or _CHECK_MESSAGE.match(evalue):
            return [evalue]
        return [f"{ename}: {evalue}" if evalue else ename]
    texts = [o for o in outputs if o.get("output_type") == "stream"]
    parts = [m["message"] for o in texts if o.get("name") == "stdout"
             for m in map(_PARTIAL_LINE.match, _ANSI.sub("", o.get("text", "")).splitlines())
             if m]
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


# --- tables ----------------------------------------------------------------------------


def exercise_table(data: ClassData) -> pd.DataFrame:
    """Per exercise: points and how many graded submissions got full / partial / no
    credit, or wait for manual grading (exercises.csv)."""
    graded = int((data.students["status"] == "graded").sum())
    rows = []
    for exercise in data.exercises:
        cells = data.cells[data.cells["exercise"] == exercise.name]
        per_student = cells.groupby("student_id").agg(score=("score", "sum"),
                                                      max_score=("max_score", "sum"),
                                                      pending=("pending", "any"))
        done = per_student[~per_student["pending"]]
        full = int((done["score"] >= done["max_score"]).sum())
        none = int((done["score"] <= 0).sum())
        rows.append({
            "exercise": exercise.name, "label": exercise.label,
            "kind": "written" if exercise.written else "code",
            "cells": " ".join(exercise.cells), "points": exercise.points,
            "graded": graded, "full_credit": full, "partial_credit": len(done) - full - none,
            "no_credit": none, "awaiting_manual_grading": int(per_student["pending"].sum()),
            "mean_score": round(float(done["score"].mean()), 2) if len(done) else None,
        })
    return pd.DataFrame(rows, columns=["exercise", "label", "kind", "cells", "points",
                                       "graded", "full_credit", "partial_credit", "no_credit",
                                       "awaiting_manual_grading", "mean_score"])


def failure_table(data: ClassData) -> pd.DataFrame:
    """The failure messages grouped by exercise, test cell, check and hint, most frequent
    first within each exercise (failures.csv); ``example`` is the most frequent message."""
    columns = ["exercise", "cell", "check", "hint", "students", "share", "example"]
    if data.failures.empty:
        return pd.DataFrame(columns=columns)
    graded = max(1, int((data.students["status"] == "graded").sum()))
    order = {e.name: i for i, e in enumerate(data.exercises)}
    groups = data.failures.groupby(["exercise", "cell", "check", "hint"], sort=False)
    table = groups.agg(students=("student_id", "nunique"),
                       example=("message", lambda m: m.value_counts().index[0])).reset_index()
    table["share"] = (table["students"] / graded).round(3)
    cells = {c: i for e in data.exercises for i, c in enumerate(e.cells)}
    table["_order"] = table["exercise"].map(order)
    table["_cell"] = table["cell"].map(cells)
    table = table.sort_values(["_order", "students", "_cell", "check"],
                              ascending=[True, False, True, True])
    return table[columns].reset_index(drop=True)


# --- plots -----------------------------------------------------------------------------

COLOURS = {"full": "#1b9e77", "partial": "#f0a340", "none": "#d95f02", "pending": "#b0b0b0"}


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(scores, max_score: float) -> str:
    """Histogram of the graded submissions' scores, with mean and median (base64 PNG)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    scores = np.asarray(scores, dtype=float)
    bins = np.linspace(0, max_score, min(max(int(np.ceil(max_score)), 1), 20) + 1)
    counts, _, _ = ax.hist(scores, bins=bins, color="#4878a8", edgecolor="white")
    ax.set_ylim(0, max(1.0, float(np.max(counts))) * 1.08)
    if scores.size:
        ax.axvline(scores.mean(), color="#222222", linestyle="--",
                   label=f"mean {scores.mean():.1f}")
        ax.axvline(np.median(scores), color="#d95f02", linestyle=":", linewidth=2,
                   label=f"median {np.median(scores):.1f}")
        ax.legend(frameon=False, loc="upper left")
    ax.set_xlim(0, max_score)
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def exercise_bars(table: pd.DataFrame) -> str:
    """Per exercise, the shares of full / partial / no credit and of answers waiting for
    manual grading, as stacked horizontal bars (base64 PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 0.42 * len(table) + 1.1), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"{lab + ' · ' if lab else ''}{name} ({points:g} pt)" for lab, name, points
              in zip(table["label"], table["exercise"], table["points"], strict=True)]
    y = np.arange(len(table))
    graded = table["graded"].clip(lower=1).to_numpy(dtype=float)
    left = np.zeros(len(table))
    parts = [("full_credit", "full", "full credit"), ("partial_credit", "partial", "partial"),
             ("no_credit", "none", "no credit"),
             ("awaiting_manual_grading", "pending", "to grade by hand")]
    for column, colour, name in parts:
        counts = table[column].to_numpy(dtype=float)
        share = counts / graded
        ax.barh(y, share, left=left, color=COLOURS[colour], label=name, height=0.7)
        for yi, li, si, ci in zip(y, left, share, counts, strict=True):
            if si >= 0.06:
                ax.text(li + si / 2, yi, f"{ci:.0f}", ha="center", va="center", fontsize=9,
                        color="white" if colour != "pending" else "#222222")
        left += share
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("share of graded submissions")
    fig.legend(ncols=4, loc="outside upper center", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# --- the page --------------------------------------------------------------------------

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 40px; }
h1 { font-size: 1.5em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.2em; margin: 1.5em 0 0.5em; border-bottom: 2px solid #dde; }
h3 { font-size: 1.02em; margin: 1.1em 0 0.3em; }
p { margin: 0.4em 0; }
.muted { color: #666; font-size: 0.9em; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 6px 14px;
        min-width: 110px; font-size: 0.9em; }
.card b { display: block; font-size: 1.45em; }
.row { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
.row > div { flex: 1; min-width: 320px; }
img { max-width: 100%; height: auto; background: #fff; border: 1px solid #dde;
      border-radius: 6px; }
table { border-collapse: collapse; background: #fff; font-size: 0.88em; margin: 6px 0; }
th, td { border: 1px solid #dde; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef0f4; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; white-space: nowrap; }
table.wide { width: 100%; }
table.failures { table-layout: fixed; }
table.failures th:nth-child(1) { width: 17%; }
table.failures th:nth-child(2) { width: 8%; }
table.failures th:nth-child(3) { width: 30%; }
table.failures th:nth-child(4) { width: 27%; }
td { overflow-wrap: break-word; }
a { color: #1a5fb4; }
"""


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, table_id: str, cls: str = "", numeric=(), raw=()) -> str:
    """An HTML table of ``frame``: values escaped, except the (pre-built HTML) ``raw``
    columns; ``numeric`` columns right-aligned."""
    if frame.empty:
        return '<p class="muted">none</p>'

    def td(column, value, tag="td"):
        align = ' class="num"' if column in numeric else ""
        text = html.escape(str(value)) if tag == "th" else (
            str(value) if column in raw else _cell_text(value))
        return f"<{tag}{align}>{text}</{tag}>"

    head = "".join(td(c, c, "th") for c in frame.columns)
    body = "".join("<tr>" + "".join(td(c, v) for c, v in zip(frame.columns, row, strict=True))
                   + "</tr>" for row in frame.itertuples(index=False))
    return (f'<table id="{table_id}" class="{cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _share(count: int, total: int) -> str:
    return f"{count} ({count / total:.0%})" if total and count else str(count)


def _expected_got(message: str) -> str:
    """'expected <x>, got <y>' of a checks message ('' for any other message)."""
    found = _CHECK_MESSAGE.match(message)
    return f"expected {found['expected']}, got {found['got']}" if found else ""


def _img(png: str, alt: str, element_id: str) -> str:
    return f'<img alt="{alt}" id="{element_id}" src="data:image/png;base64,{png}">'


def render(data: ClassData) -> str:
    """The report page (self-contained HTML) of :class:`ClassData`."""
    esc = html.escape
    students = data.students
    graded = students[students["status"] == "graded"]
    not_graded = students[students["status"] != "graded"]
    scores = graded["score"].astype(float)
    n = len(graded)
    exercises = exercise_table(data)
    failures = failure_table(data)
    pending = int((graded["written_to_grade"] > 0).sum())
    out_of = f" / {data.max_score:g}"

    cards = [("graded", n), ("not graded", (students["status"] == "not graded").sum()),
             ("no submission", (students["status"] == "no submission").sum()),
             ("mean", f"{scores.mean():.1f}{out_of}" if n else "–"),
             ("median", f"{scores.median():.1f}{out_of}" if n else "–"),
             ("written answers to grade", len(data.manual))]
    parts = [f"<h1>Class report · {esc(data.lab)}</h1>",
             f'<p class="muted">Generated {esc(data.generated)} from the gradebook and the '
             "autograded notebooks. The same tables as CSV beside this page: scores.csv, "
             "exercises.csv, failures.csv, manual.csv.</p>",
             '<div class="cards">' + "".join(f'<div class="card">{esc(k)}<b>{esc(str(v))}</b>'
                                            "</div>" for k, v in cards) + "</div>"]

    # Scores: histogram beside its figures and the submissions that could not be graded.
    stats = pd.DataFrame([{"submissions": n, "mean": scores.mean(), "median": scores.median(),
                           "min": scores.min(), "max": scores.max(), "out of": data.max_score}
                          ]).round(2) if n else pd.DataFrame()
    note = (f"<p>{pending} of {n} graded submissions still have written answers to grade; "
            "until then those answers count 0.</p>" if pending else "")
    parts += ["<h2>Scores</h2>", '<div class="row">',
              _img(score_histogram(scores, data.max_score), "score histogram",
                   "score-histogram"),
              f"<div>{_table(stats, 'score-stats', numeric=stats.columns)}{note}",
              "<h3>Not graded</h3>",
              _table(not_graded[["student_id", "status", "message"]], "not-graded", "wide"),
              "</div></div>"]

    # Exercises: the item analysis.
    shown = pd.DataFrame({
        "exercise": [e.title for e in data.exercises],
        "kind": exercises["kind"], "graded cells": exercises["cells"].str.replace(" ", ", "),
        "points": exercises["points"],
        **{name: [_share(int(v), n) for v in exercises[column]] for name, column in [
            ("full credit", "full_credit"), ("partial", "partial_credit"),
            ("no credit", "no_credit"), ("to grade by hand", "awaiting_manual_grading")]},
        "mean": exercises["mean_score"]})
    parts += ["<h2>Exercises</h2>",
              "<p>An exercise is an answer cell and the test cells after it, or a written "
              "answer. Shares are of the graded submissions.</p>",
              _img(exercise_bars(exercises), "credit per exercise", "exercise-bars"),
              _table(shown, "exercises", "wide", numeric=["points", "full credit", "partial",
                                                           "no credit", "to grade by hand",
                                                           "mean"])]

    # Most frequent failures, per exercise.
    parts += ["<h2>Most frequent failures</h2>",
              "<p>Failed test cells grouped by check and hint, with the values that differ "
              f"from student to student left out; the {TOP_FAILURES} most frequent per "
              "exercise (all in failures.csv). <i>Example</i>: the most frequent "
              "expected / got.</p>"]
    for exercise in data.exercises:
        rows = failures[failures["exercise"] == exercise.name].head(TOP_FAILURES)
        if rows.empty:
            continue
        shown = pd.DataFrame({"test cell": rows["cell"],
                              "students": [_share(int(v), n) for v in rows["students"]],
                              "check": rows["check"], "hint": rows["hint"],
                              "example": [_expected_got(m) for m in rows["example"]]})
        parts += [f"<h3>{esc(exercise.title)}</h3>",
                  _table(shown, f"failures-{exercise.name}", "wide failures",
                         numeric=["students"])]
    if failures.empty:
        parts.append('<p class="muted">No test failed.</p>')

    # Written answers waiting for a human.
    parts += ["<h2>Written answers to grade</h2>",
              f'<p>In the formgrader: <a href="{esc(data.formgrader)}">{esc(data.formgrader)}'
              "</a> (Jupyter started in the course folder; each link below opens one "
              "submission).</p>"]
    if data.manual.empty:
        parts.append('<p class="muted">None: every answer is graded.</p>')
    else:
        per_submission = data.manual.groupby(["student_id", "formgrader"], sort=True).agg(
            answers=("exercise", ", ".join), points=("points", "sum")).reset_index()
        per_submission["formgrader"] = [f'<a href="{esc(u)}">open</a>'
                                        for u in per_submission["formgrader"]]
        parts.append(_table(per_submission[["student_id", "answers", "points", "formgrader"]],
                            "manual", numeric=["points"], raw=["formgrader"]))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Class report · {esc(data.lab)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")


def write_class_report(course_dir, lab: str, autograde_csv=None,
                       formgrader_url: str = FORMGRADER_URL) -> Path:
    """Write ``reports/<lab>/report.html`` and its CSV tables in the course folder.

    Parameters
    ----------
    course_dir : path
        The course folder (with ``gradebook.db`` and ``autograded/``).
    lab : str
        The lab id.
    autograde_csv : path, optional
        The autograde status CSV (default ``autograde-<lab>.csv`` in the course folder).
    formgrader_url : str
        Base URL of the Jupyter server running the formgrader.

    Returns
    -------
    Path
        The HTML page.
    """
    data = collect(course_dir, lab, autograde_csv, formgrader_url)
    folder = Path(course_dir).resolve() / "reports" / lab
    folder.mkdir(parents=True, exist_ok=True)
    data.students.to_csv(folder / "scores.csv", index=False)
    exercise_table(data).to_csv(folder / "exercises.csv", index=False)
    failure_table(data).to_csv(folder / "failures.csv", index=False)
    data.manual.to_csv(folder / "manual.csv", index=False)
    page = folder / "report.html"
    page.write_text(render(data), encoding="utf-8")
    return page
