"""Due dates, extensions and the late policy of the course, applied through nbgrader.

One place holds them: ``course.toml`` beside ``nbgrader_config.py`` (see
docs/instructor.md, "Deadlines, extensions and late work")::

    timezone = "Europe/London"          # every time below without an offset is in it

    [due]
    lab1_embeddings = "2026-10-09 17:00"

    [late]
    per = "day"            # "day" or "hour": the unit of lateness; "none": no penalty
    percent = 10           # of the score lost per started unit late
    cap = 50               # never more than this percent (100: no cap)
    zero_after_days = 7    # later than this: the score is 0 (leave out: never)

Per-student extensions are rows of ``extensions.csv`` in the same folder
(``student,lab,new_due``).

nbgrader already knows due dates (``Assignment.duedate``), extensions
(``SubmittedAssignment.extension``), submission times (``timestamp.txt``) and late
penalties (its ``AssignLatePenalties`` preprocessor calls ``c.AssignLatePenalties.plugin_class``,
here :class:`CourseLatePolicy`, and stores the penalty in the gradebook the formgrader and
``nbgrader export`` read).  This module only writes the course's dates into the gradebook
(:func:`sync_gradebook`) and runs nbgrader's preprocessor on the recorded submissions
(:func:`apply_late_penalties`) -- needed because each submission is graded in a temporary
course of its own (:mod:`lab_utils.instructor.cluster`) that has neither ``course.toml``
nor the student's extension.

Used by ``python -m lab_utils collect|autograde|export``.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbgrader.plugins import LateSubmissionPlugin

COURSE_FILE = "course.toml"
EXTENSIONS_FILE = "extensions.csv"
UNITS = {"day": 86400.0, "hour": 3600.0}


class DeadlineError(ValueError):
    """``course.toml`` or ``extensions.csv`` is wrong; the message is one line."""


@dataclass(frozen=True)
class LatePolicy:
    """How much a late submission loses, in percent of its score.

    ``per``: ``"day"``, ``"hour"`` or ``"none"``; ``percent`` is lost per *started* unit
    late, at most ``cap`` percent; more than ``zero_after_days`` days late loses
    everything.
    """

    per: str = "none"
    percent: float = 0.0
    cap: float = 100.0
    zero_after_days: float | None = None

    def percent_lost(self, seconds_late: float) -> float:
        """Percent of the score lost ``seconds_late`` seconds after the due date."""
        if seconds_late <= 0:
            return 0.0
        if self.zero_after_days is not None and seconds_late > self.zero_after_days * 86400:
            return 100.0
        if self.per == "none":
            return 0.0
        units = math.ceil(seconds_late / UNITS[self.per])
        return float(min(self.cap, units * self.percent, 100.0))

    def penalty(self, score: float, seconds_late: float) -> float:
        """Points lost by a notebook that scored ``score`` (a plain float)."""
        return float(round(score * self.percent_lost(seconds_late) / 100.0, 6))


@dataclass
class CourseDates:
    """What ``course.toml`` and ``extensions.csv`` say (times are aware datetimes)."""

    timezone: ZoneInfo
    due: dict = field(default_factory=dict)  # lab -> datetime
    policy: LatePolicy = field(default_factory=LatePolicy)
    extensions: dict = field(default_factory=dict)  # (student, lab) -> datetime
    zip_timezone: ZoneInfo | None = None  # the LMS's clock for zip entry times

    def due_for(self, lab: str, student: str | None = None):
        """The due date of ``lab`` for ``student`` (their extension if any), or None."""
        return self.extensions.get((student, lab)) or self.due.get(lab)


def parse_time(text: str, tz: ZoneInfo) -> dt.datetime:
    """An ISO 8601 time (``2026-10-09 17:00``, ``2026-10-09T17:00:00+01:00``); a time
    without an offset is in ``tz``."""
    try:
        value = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise DeadlineError(f"time {text!r}: expected ISO 8601 such as "
                            f"'2026-10-09 17:00' (optionally with an offset)") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def utc_naive(value: dt.datetime) -> dt.datetime:
    """``value`` as nbgrader stores times: naive UTC."""
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DeadlineError(f"{where}: unknown time zone {name!r}: expected an IANA name "
                            f"such as 'Europe/London' or 'UTC'") from None


def load(course_dir) -> CourseDates:
    """Read ``course.toml`` and ``extensions.csv`` of ``course_dir`` (both optional: no
    file, no due date and no penalty)."""
    course_dir = Path(course_dir)
    path = course_dir / COURSE_FILE
    data = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DeadlineError(f"{path} is not valid TOML ({exc})") from None
    tz = _zone(data.get("timezone", "UTC"), str(path))
    zip_tz = _zone(data["zip_timezone"], str(path)) if "zip_timezone" in data else None
    late = dict(data.get("late", {}))
    unknown = set(late) - {"per", "percent", "cap", "zero_after_days"}
    if unknown:
        raise DeadlineError(f"{path} [late]: unknown setting(s) {', '.join(sorted(unknown))}: "
                            f"expected per, percent, cap, zero_after_days")
    policy = LatePolicy(per=late.get("per", "none"), percent=float(late.get("percent", 0)),
                        cap=float(late.get("cap", 100)),
                        zero_after_days=late.get("zero_after_days"))
    if policy.per not in ("none", *UNITS):
        raise DeadlineError(f"{path} [late] per: expected 'day', 'hour' or 'none', got "
                            f"{policy.per!r}")
    due = {lab: parse_time(value, tz) for lab, value in data.get("due", {}).items()}
    dates = CourseDates(timezone=tz, due=due, policy=policy, zip_timezone=zip_tz)
    ext_path = course_dir / EXTENSIONS_FILE
    if ext_path.is_file():
        with open(ext_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not {"student", "lab", "new_due"} <= set(reader.fieldnames or []):
                raise DeadlineError(f"{ext_path}: expected the columns student,lab,new_due, "
                                    f"got {','.join(reader.fieldnames or [])}")
            for line, row in enumerate(reader, start=2):
                if row["lab"] not in due:
                    raise DeadlineError(f"{ext_path} line {line}: lab {row['lab']!r} has no "
                                        f"due date in {path}")
                dates.extensions[(row["student"].strip(), row["lab"].strip())] = \
                    parse_time(row["new_due"], tz)
    return dates


def sync_gradebook(course_dir, lab: str | None = None) -> CourseDates:
    """Write the due dates (every lab, or ``lab``) and the extensions of the recorded
    submissions into the course's gradebook, where nbgrader and the formgrader read them.

    A lab without a due date in ``course.toml`` is left as it is in the gradebook.  The
    writing is :func:`lab_utils.instructor.gradebook.set_due_dates` (every gradebook write
    lives there)."""
    from lab_utils.instructor.gradebook import gradebook_path, set_due_dates

    dates = load(course_dir)
    if not gradebook_path(course_dir).is_file():
        return dates
    due = {name: utc_naive(when) for name, when in dates.due.items()
           if lab in (None, name) and when is not None}
    extensions = {key: new_due - dates.due[key[1]] for key, new_due in dates.extensions.items()
                  if key[1] in due and new_due is not None}
    set_due_dates(course_dir, due, extensions)
    return dates


class CourseLatePolicy(LateSubmissionPlugin):
    """nbgrader's late-submission plugin for this course: the policy of ``course.toml``.

    Set in nbgrader_config.py as ``c.AssignLatePenalties.plugin_class``.  nbgrader calls it
    with the seconds past the student's due date (extension included); the course folder is
    the one of the gradebook nbgrader is writing.
    """

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float):
        db = getattr(self.parent, "db_url", "") or ""
        root = Path(db.removeprefix("sqlite:///")).parent if db.startswith("sqlite:///") \
            else Path.cwd()
        if not (root / COURSE_FILE).is_file():
            self.log.info("no %s in %s: no late penalty", COURSE_FILE, root)
            return None
        policy = load(root).policy
        return policy.penalty(float(score or 0.0), float(total_seconds_late))


@dataclass
class Lateness:
    """One recorded submission: when it came, its due date and what it lost."""

    student: str
    timestamp: dt.datetime | None
    due: dt.datetime | None
    seconds_late: float
    raw_score: float
    penalty: float


def apply_late_penalties(course_dir, lab: str) -> list[Lateness]:
    """Run nbgrader's ``AssignLatePenalties`` (with the course's configuration, so with
    :class:`CourseLatePolicy`) on every recorded submission of ``lab``: the gradebook then
    holds the penalties the formgrader and ``nbgrader export`` show.

    The due dates and extensions are synced first (:func:`sync_gradebook`); a penalty is
    computed from the score at that time, so run it again (``python -m lab_utils export``
    does) after manual grading.
    """
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config.loader import PyFileConfigLoader

    from lab_utils.instructor.gradebook import db_url

    course_dir = Path(course_dir).resolve()
    sync_gradebook(course_dir, lab)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    url = db_url(course_dir)
    with Gradebook(url) as gb:
        try:
            pairs = [(s.student.id, nb.name) for s in gb.find_assignment(lab).submissions
                     for nb in s.notebooks]
        except MissingEntry:
            return []
    for student, notebook in pairs:
        resources = {"nbgrader": {"notebook": notebook, "assignment": lab,
                                  "student": student, "db_url": url}}
        AssignLatePenalties(config=config).preprocess(nbformat.v4.new_notebook(), resources)
    out = []
    with Gradebook(url) as gb:
        for submission in gb.find_assignment(lab).submissions:
            out.append(Lateness(
                submission.student.id, submission.timestamp, submission.duedate,
                float(submission.total_seconds_late), float(submission.score),
                float(sum(nb.late_submission_penalty or 0.0 for nb in submission.notebooks))))
    return sorted(out, key=lambda x: x.student)
