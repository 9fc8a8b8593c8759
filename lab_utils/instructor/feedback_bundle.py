"""Feedback back to students: a folder (and its zip) the LMS's bulk upload matches.

nbgrader writes ``feedback/<student>/<lab>/<lab>.html`` (hidden tests stripped by
``ClearHiddenTestsAndTracebacks``, see nbgrader_config.py).  This module copies each
student's page, with a ``comments.txt`` of their score and the grader's comments once
manual grading is done, under the name the LMS expects (docs/instructor.md, "Feedback
back to students"):

- ``canvas``: one file per student, ``<name>_<Canvas user id>_<lab>_feedback.html``
  (the naming of Canvas's "Download Submissions", which "Re-upload Submissions" reads the
  user id back from: the part after the first underscore).  The comments go into the page.
- ``moodle``: one folder per student, ``<Full name>_<participant id>_assignsubmission_file_``
  (the naming of Moodle's "Download all submissions", which "Upload multiple feedback
  files in a zip" matches on the participant id), holding ``<lab>_feedback.html`` and
  ``comments.txt``.
- ``plain`` (no LMS): ``<student>/<lab>_feedback.html`` and ``comments.txt``.

The Canvas roster is its gradebook export (``ID`` is the user id); the Moodle roster is the
assignment's grading worksheet (``Identifier`` is ``Participant <id>``).  One column holds
nbgrader's student id (``--id-column``, as for the export).

Used by ``python -m lab_utils feedback LAB --bundle DIR``.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from lab_utils.instructor import lms

LAYOUTS = ("plain", "canvas", "moodle")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower()) or "student"


def comments(course_dir, lab: str, student: str) -> str | None:
    """Score and grader comments of a fully graded submission, else None (manual grading
    still to do: nothing is sent before it is finished)."""
    from nbgrader.api import Gradebook, MissingEntry

    from lab_utils.instructor.gradebook import db_url

    with Gradebook(db_url(course_dir)) as gb:
        try:
            sub = gb.find_submission(lab, student)
        except MissingEntry:
            return None
        if sub.needs_manual_grade:
            return None
        penalty = float(sub.late_submission_penalty or 0.0)
        lines = [f"{lab}: {max(0.0, sub.score - penalty):g} / {sub.max_score:g}"
                 + (f" (raw {sub.score:g}, late penalty {penalty:g})" if penalty else "")]
        for nb in sub.notebooks:
            for comment in nb.comments:
                text = comment.manual_comment
                if text and text.strip():
                    lines.append(f"- {comment.name}: {text.strip()}")
    return "\n".join(lines) + "\n"


def _roster_names(roster, layout, id_column):
    if roster is None:
        raise lms.RosterError(f"--lms {layout} needs --roster: the CSV downloaded from the "
                              f"LMS (see docs/instructor.md, 'Feedback back to students')")
    key = "canvas" if layout == "canvas" else "moodle"
    _, rows = lms.read_roster(roster, key, id_column)
    return rows


def write_bundle(course_dir, lab: str, target, layout: str = "plain", roster=None,
                 id_column: str | None = None) -> tuple[Path, list[Path]]:
    """Write the bundle of ``lab`` into ``target`` (emptied first) and ``target``.zip.

    Returns
    -------
    (zip path, entries)
        One entry (file or folder) per student with feedback.
    """
    from lab_utils.instructor.gradebook import folder

    course_dir, target = Path(course_dir), Path(target)
    pages = sorted(folder(course_dir, "feedback").glob(f"*/{lab}/{lab}.html"))
    students = [p.parent.parent.name for p in pages]
    rows = _roster_names(roster, layout, id_column) if layout != "plain" else {}
    if layout != "plain":
        missing = sorted(set(students) - set(rows))
        if missing:
            raise lms.RosterError(f"no row in roster {roster} for {', '.join(missing)}: their "
                                  f"feedback could not be named for the LMS")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    entries = []
    for page, student in zip(pages, students, strict=True):
        note = comments(course_dir, lab, student)
        if layout == "canvas":
            row = rows[student]
            entry = target / f"{_slug(row.get('Student', student))}_{row['ID']}_{lab}_feedback.html"
            text = page.read_text(encoding="utf-8")
            if note:
                block = f"<pre id='grader-comments'>{html.escape(note)}</pre>"
                text = text.replace("<body>", "<body>" + block, 1) if "<body>" in text \
                    else block + text
            entry.write_text(text, encoding="utf-8")
        else:
            if layout == "moodle":
                row = rows[student]
                participant = re.sub(r"\D", "", row.get("Identifier", ""))
                if not participant:
                    raise lms.RosterError(f"roster {roster}: no participant number in the "
                                          f"'Identifier' column for {student}: use the "
                                          f"assignment's grading worksheet as the roster")
                name = row.get("Full name") or student
                entry = target / f"{name}_{participant}_assignsubmission_file_"
            else:
                entry = target / student
            entry.mkdir()
            shutil.copy(page, entry / f"{lab}_feedback.html")
            if note:
                (entry / "comments.txt").write_text(note, encoding="utf-8")
        entries.append(entry)
    archive = shutil.make_archive(str(target), "zip", root_dir=target)
    return Path(archive), entries
