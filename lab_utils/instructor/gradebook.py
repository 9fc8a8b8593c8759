"""The course folder's layout and its gradebook: every write to ``gradebook.db`` lives here.

nbgrader's gradebook is SQLite: concurrent writers lock it, and a file shared between
machines corrupts.  So one process writes it -- the coordinator of a grading run, or the
instructor's command -- always through nbgrader's API (``nbgrader.api.Gradebook``), never
raw SQL, and only here:

- :func:`add_students` registers students (so that exports list them without grades);
- :func:`set_due_dates` writes due dates and extensions (from ``course.toml``);
- :func:`record` writes one graded submission, and **only a successful grading replaces a
  student's grades**: a failed, cut or cancelled regrade leaves every earlier grade, manual
  grade and comment as it was (the result says so), and manual grades and comments survive
  every regrade;
- :func:`trimmed_copy` makes the small, student-free copy of the gradebook each grading
  task carries (it writes a temporary copy, never the course's file).

Paths are read from the course's ``nbgrader_config.py`` (nbgrader's ``CourseDirectory``:
``source_directory``, ``release_directory``, ``submitted_directory``,
``autograded_directory``, ``db_url``), so that changing them there changes them everywhere.

Used by :mod:`lab_utils.instructor.grading`, :mod:`lab_utils.instructor.cluster` and the CLI.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import sqlite3
import tempfile
import uuid
import warnings
from pathlib import Path


@functools.lru_cache(maxsize=32)
def _course_directory(root: str, mtime: float):
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    has_config = (Path(root) / "nbgrader_config.py").is_file()
    config = (PyFileConfigLoader("nbgrader_config.py", path=root).load_config() if has_config
              else Config())
    config.CourseDirectory.root = root
    return CourseDirectory(config=config)


def course_directory(course_dir):
    """nbgrader's ``CourseDirectory`` configured by ``course_dir/nbgrader_config.py``
    (root set to ``course_dir``; nbgrader's defaults when there is no config file)."""
    root = Path(course_dir).resolve()
    config_file = root / "nbgrader_config.py"
    mtime = config_file.stat().st_mtime if config_file.is_file() else 0.0
    return _course_directory(str(root), mtime)


def folder(course_dir, kind: str) -> Path:
    """``course_dir / <the configured folder>`` for ``kind`` in ``"source"``,
    ``"release"``, ``"submitted"``, ``"autograded"``, ``"feedback"``."""
    name = getattr(course_directory(course_dir), f"{kind}_directory")
    return Path(course_dir).resolve() / name


def db_url(course_dir) -> str:
    """The gradebook of a course folder: ``CourseDirectory.db_url`` as its
    ``nbgrader_config.py`` sets it, or nbgrader's default ``<course>/gradebook.db``."""
    url = course_directory(course_dir).db_url
    return url or "sqlite:///" + str(Path(course_dir).resolve() / "gradebook.db")


def gradebook_path(course_dir) -> Path:
    """The SQLite file of :func:`db_url`."""
    return Path(db_url(course_dir).removeprefix("sqlite:///"))


def add_students(course_dir, students) -> None:
    """Register students in the gradebook (so that exports list them even without grades)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url(course_dir)) as gb:
        for student in students:
            gb.update_or_create_student(student)


def set_due_dates(course_dir, due: dict, extensions: dict) -> None:
    """Write due dates and extensions where nbgrader and the formgrader read them.

    ``due`` maps a lab to its due date (naive UTC); ``extensions`` maps ``(student, lab)`` to
    a ``timedelta`` past it.  The recorded submissions of those labs get their extension (or
    none).  Labs not in ``due`` are left as they are.  Used by
    :func:`lab_utils.instructor.deadlines.sync_gradebook`.
    """
    from nbgrader.api import Gradebook

    with Gradebook(db_url(course_dir)) as gb:
        for assignment in gb.assignments:
            if assignment.name not in due:
                continue
            assignment.duedate = due[assignment.name]
            for submission in assignment.submissions:
                submission.extension = extensions.get((submission.student.id, assignment.name))
        gb.db.commit()


def recorded(course_dir, lab: str) -> set[str]:
    """Students whose submission of ``lab`` is in the gradebook *and* in ``autograded/``.

    A run interrupted between the two (the gradebook is written first) leaves the student
    out, so that a rerun grades them again.
    """
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url(course_dir)) as gb:
        try:
            in_db = {s.student.id for s in gb.find_assignment(lab).submissions}
        except MissingEntry:
            return set()
    autograded = folder(course_dir, "autograded")
    return {s for s in in_db if (autograded / s / lab).is_dir()}


def _has_submission(gb, lab: str, student: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gb.find_submission(lab, student)
    except MissingEntry:
        return False
    return True


def record(course_dir, lab: str, result) -> bool:
    """Write one grading result into the course (the coordinator only: the one writer).

    ``result`` is a :class:`lab_utils.instructor.cluster.GradingResult`.  A graded
    submission: its automatic grades and comments are written in one transaction, with the
    fields nbgrader's ``SaveAutoGrades`` writes (``auto_score``, ``needs_manual_grade`` --
    kept ``True`` where a human already gave a manual score -- and ``auto_comment``); manual
    scores and comments are never touched; then its autograded files replace
    ``autograded/<student>/<lab>/`` (written aside, then moved in place).

    Any other result (an error, a timeout, a task lost on the cluster) writes no grade: a
    student graded before keeps every earlier grade, manual grade and comment and their
    autograded files.  Returns True when earlier grades were kept that way (the caller
    reports it), else False.
    """
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    target = folder(course_dir, "autograded") / result.student / lab
    with Gradebook(db_url(course_dir)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader 0.9.6's autoflush, harmless
        gb.update_or_create_student(result.student)
        if result.status != "graded":
            return _has_submission(gb, lab, result.student)
        kwargs = {"timestamp": result.timestamp} if result.timestamp else {}
        gb.update_or_create_submission(lab, result.student, **kwargs)
        for notebook, data in result.notebooks.items():
            nb = gb.find_submission_notebook(notebook, lab, result.student)
            nb.late_submission_penalty = data["late_submission_penalty"]
            for grade in nb.grades:
                grade.auto_score = data["grades"].get(grade.name)
                grade.needs_manual_grade = (grade.manual_score is not None
                                            or grade.auto_score is None)
            for comment in nb.comments:
                comment.auto_comment = data["comments"].get(comment.name)
        gb.db.commit()
    staging = target.with_name(f".{lab}.{uuid.uuid4().hex}")
    write_tree(staging, result.files)
    old = target.with_name(f".{lab}.old.{uuid.uuid4().hex}")
    with contextlib.suppress(FileNotFoundError):
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return False


def write_tree(folder_path: Path, files: dict) -> None:
    """Write ``files`` (relative path -> bytes) under ``folder_path``."""
    for rel, data in files.items():
        path = folder_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def trimmed_copy(path) -> bytes:
    """A copy of the gradebook at ``path`` holding the assignments and their cells only.

    That is what ``nbgrader generate_assignment`` recorded and what autograde needs (the
    notebooks, the graded cells, the source of the locked cells and their checksums); the
    students, submissions, grades and comments are dropped, so that the copy stays small
    however large the class.  SQLite's online backup makes a consistent copy even while
    another process writes; the rows are deleted from that temporary copy only (it is the
    one place this module issues SQL, on a file that is not the course's gradebook).
    """
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "gradebook.db"
        source = sqlite3.connect(path)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            for model in (Comment, Grade, SubmittedNotebook, SubmittedAssignment, Student):
                target.execute(f"DELETE FROM {model.__tablename__}")  # noqa: S608
            target.commit()
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()
        return copy.read_bytes()


__all__ = ["add_students", "course_directory", "db_url", "folder", "gradebook_path", "record",
           "recorded", "set_due_dates", "trimmed_copy", "write_tree"]
