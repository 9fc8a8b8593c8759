"""Grades into the LMS: Canvas's gradebook import CSV and Moodle's grade import CSV.

Both are written from the gradebook (raw score, late penalty and final score as
``nbgrader export`` computes them) and a *roster*: the CSV the instructor downloads from
the LMS, which carries the LMS's own ids.  One roster column holds nbgrader's student id
(the JupyterHub user name): by default Canvas's ``SIS Login ID`` and Moodle's
``ID number`` (``--id-column`` to choose another).  A student in one list and not the
other stops the export with one line naming them.

Canvas (Grades > Import; documented in the Canvas Instructor Guide, "How do I import
grades in the Gradebook?"): the columns ``Student``, ``ID``, ``SIS User ID``,
``SIS Login ID``, ``Section``, then one column per assignment named ``<name> (<assignment
id>)``; a second row whose first cell is ``Points Possible`` may follow the header.  The
roster is Canvas's own gradebook export, so a lab whose column is already there (its name
starts with the lab id) keeps Canvas's header and updates that assignment; otherwise a
column ``<lab>`` creates a new assignment on import.

Moodle (Grades > Import > CSV file; MoodleDocs "Import grades"): a header row, one row
per student; at import the teacher maps one identifying column (``Map from``: here the
roster's id column, which is written first, with ``Email address``) to a user field
(``Map to``: ID number, email, username or user id) and each other column to a grade item
or to its feedback.  One column per lab holds the final score, and ``Feedback: <lab>``
the raw score and late penalty.

Used by ``python -m lab_utils export --format canvas|moodle``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FORMATS = ("csv", "canvas", "moodle")
DEFAULT_ID_COLUMN = {"canvas": "SIS Login ID", "moodle": "ID number"}
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["First name", "Last name", "Email address"]
POINTS_POSSIBLE = "Points Possible"


class RosterError(ValueError):
    """The roster does not match the gradebook; the message is one line."""


@dataclass
class Grade:
    """One student's grade for one lab, as ``nbgrader export`` computes it."""

    student: str
    lab: str
    raw_score: float
    penalty: float
    score: float
    max_score: float


def grades(course_dir) -> dict[str, dict[str, Grade]]:
    """Student id -> lab -> :class:`Grade`, for every student and lab of the gradebook
    (0 where nothing was submitted, as nbgrader's export)."""
    from nbgrader.api import Gradebook, MissingEntry

    from lab_utils.instructor.gradebook import db_url

    out = {}
    with Gradebook(db_url(course_dir)) as gb:
        labs = [(a.name, float(a.max_score)) for a in gb.assignments]
        for student in gb.students:
            row = out.setdefault(student.id, {})
            for lab, max_score in labs:
                try:
                    sub = gb.find_submission(lab, student.id)
                except MissingEntry:
                    row[lab] = Grade(student.id, lab, 0.0, 0.0, 0.0, max_score)
                    continue
                raw = float(sub.score)
                penalty = float(sub.late_submission_penalty or 0.0)
                row[lab] = Grade(student.id, lab, raw, penalty, max(0.0, raw - penalty),
                                 max_score)
    return out


def read_roster(path, lms: str, id_column: str | None = None) -> tuple[list[str], dict]:
    """(header, nbgrader id -> roster row) of an LMS download (Canvas's ``Points
    Possible`` and other non-student rows are skipped)."""
    id_column = id_column or DEFAULT_ID_COLUMN[lms]
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        if id_column not in header:
            raise RosterError(f"roster {path} has no column {id_column!r} (columns: "
                              f"{', '.join(header)}): pass --id-column with the column "
                              f"that holds the JupyterHub user names")
        rows = {}
        for row in reader:
            first = (row.get(header[0]) or "").strip()
            if lms == "canvas" and first in (POINTS_POSSIBLE, "Manual Posting",
                                             "Student, Test"):
                continue
            key = (row.get(id_column) or "").strip()
            if key:
                rows[key] = row
    return header, rows


def check_roster(path, gradebook_ids, roster_ids, id_column) -> None:
    """Raise :class:`RosterError` (one line) unless both sides list the same students."""
    only_gb = sorted(set(gradebook_ids) - set(roster_ids))
    only_roster = sorted(set(roster_ids) - set(gradebook_ids))
    if not (only_gb or only_roster):
        return
    parts = []
    if only_gb:
        parts.append(f"in the gradebook but not in roster {path} (column {id_column!r}): "
                     f"{', '.join(only_gb)}")
    if only_roster:
        parts.append(f"in the roster but not in the gradebook: {', '.join(only_roster)} "
                     f"(collect their submissions, or add them with `nbgrader db student add`"
                     f" to export a 0)")
    raise RosterError("; ".join(parts) + "; fix the roster or the gradebook and export again")


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else ""


def write_canvas(path, table: dict, roster, id_column: str | None = None) -> Path:
    """Write Canvas's gradebook import CSV of the final scores (see the module doc)."""
    id_column = id_column or DEFAULT_ID_COLUMN["canvas"]
    header, rows = read_roster(roster, "canvas", id_column)
    check_roster(roster, table, rows, id_column)
    labs = sorted({lab for per_lab in table.values() for lab in per_lab})
    lab_headers = [next((h for h in header if h == lab or h.startswith(f"{lab} (")), lab)
                   for lab in labs]
    max_scores = {lab: next(iter(table.values()))[lab].max_score for lab in labs}
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CANVAS_COLUMNS + lab_headers)
        writer.writerow([f"    {POINTS_POSSIBLE}", "", "", "", ""]
                        + [_number(max_scores[lab]) for lab in labs])
        for student in sorted(table, key=lambda s: rows[s].get("Student", s)):
            row = rows[student]
            writer.writerow([row.get(c, "") for c in CANVAS_COLUMNS]
                            + [_number(table[student][lab].score) for lab in labs])
    return path


def write_moodle(path, table: dict, roster, id_column: str | None = None) -> Path:
    """Write Moodle's grade import CSV of the final scores and feedback (module doc)."""
    id_column = id_column or DEFAULT_ID_COLUMN["moodle"]
    header, rows = read_roster(roster, "moodle", id_column)
    check_roster(roster, table, rows, id_column)
    labs = sorted({lab for per_lab in table.values() for lab in per_lab})
    people = [c for c in MOODLE_COLUMNS if c in header and c != id_column]
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([id_column, *people]
                        + [col for lab in labs for col in (lab, f"Feedback: {lab}")])
        for student in sorted(table):
            row = rows[student]
            cells = [row[id_column], *(row.get(c, "") for c in people)]
            for lab in labs:
                g = table[student][lab]
                note = (f"raw score {_number(g.raw_score)}/{_number(g.max_score)}, late "
                        f"penalty {_number(g.penalty)}") if g.penalty else ""
                cells += [_number(g.score), note]
            writer.writerow(cells)
    return path
