"""When each submission was handed in, from the best source ``collect`` has.

In this order (the first that knows a student's time wins):

1. ``zip`` -- the time stored with the file's entry in an LMS zip download (zip entries
   carry no time zone: read in ``zip_timezone`` of course.toml, else its ``timezone``);
2. ``timestamp.txt`` -- nbgrader's exchange file beside the notebook
   (``<student>/timestamp.txt`` or ``<student>/<lab>/timestamp.txt``);
3. ``timestamps.csv`` -- a file the instructor provides (``student,timestamp`` and an
   optional ``lab`` column; times without an offset are in the course's time zone);
4. ``mtime`` -- the file's modification time (last resort: copying a file can change it).

The time is written to ``submitted/<student>/<lab>/timestamp.txt`` (UTC), where
``nbgrader autograde`` reads it, and the source of each time to ``collect-<lab>.csv`` in the
course folder.  Used by :func:`lab_utils.instructor.grading.import_submissions`.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

from lab_utils.instructor import deadlines

SOURCES = ("zip", "timestamp.txt", "timestamps.csv", "mtime")


def report_path(course_dir, lab: str) -> Path:
    return Path(course_dir) / f"collect-{lab}.csv"


def zip_entry_times(archive, lab: str, tz) -> dict[str, dt.datetime]:
    """Student id -> time of their ``<student>_<lab>.ipynb`` entry in the zip (the newest
    when there are several)."""
    times = {}
    suffix = f"_{lab}.ipynb"
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = Path(info.filename).name
            if not name.endswith(suffix) or info.is_dir():
                continue
            student = name[: -len(suffix)]
            when = dt.datetime(*info.date_time, tzinfo=tz)
            if student not in times or when > times[student]:
                times[student] = when
    return times


def _exchange_time(folder: Path, lab: str, tz) -> dt.datetime | None:
    from dateutil.parser import parse

    for path in (folder / "timestamp.txt", folder / lab / "timestamp.txt"):
        if path.is_file() and path.read_text(encoding="utf-8").strip():
            value = parse(path.read_text(encoding="utf-8").strip())
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def read_csv(path, lab: str, tz) -> dict[str, dt.datetime]:
    """Student id -> time from an instructor's ``timestamps.csv``."""
    times = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not {"student", "timestamp"} <= set(reader.fieldnames or []):
            raise deadlines.DeadlineError(f"{path}: expected the columns student,timestamp "
                                          f"(and optionally lab), got "
                                          f"{','.join(reader.fieldnames or [])}")
        for row in reader:
            if row.get("lab") in (None, "", lab):
                times[row["student"].strip()] = deadlines.parse_time(row["timestamp"], tz)
    return times


def record(course_dir, lab: str, source, students, timestamps_csv=None) -> list[dict]:
    """Find each imported student's submission time, write it where nbgrader reads it and
    report which source gave it.

    Parameters
    ----------
    source
        The folder or zip ``collect`` imported from.
    timestamps_csv
        The instructor's CSV (default: ``timestamps.csv`` in the course folder, if any).

    Returns
    -------
    list of dict
        One row per student: ``student``, ``submitted_at`` (ISO 8601, UTC) and ``source``
        (one of :data:`SOURCES`), also written to ``collect-<lab>.csv``.
    """
    course_dir, source = Path(course_dir), Path(source)
    dates = deadlines.load(course_dir)
    tz = dates.timezone
    from_zip = (zip_entry_times(source, lab, dates.zip_timezone or tz)
                if source.is_file() and zipfile.is_zipfile(source) else {})
    csv_path = Path(timestamps_csv) if timestamps_csv else course_dir / "timestamps.csv"
    from_csv = read_csv(csv_path, lab, tz) if csv_path.is_file() else {}
    rows = []
    from lab_utils.instructor.gradebook import folder

    submitted = folder(course_dir, "submitted")
    for student in students:
        dest = submitted / student / lab
        when, how = from_zip.get(student), "zip"
        if when is None and source.is_dir():
            when, how = _exchange_time(source / student, lab, tz), "timestamp.txt"
        if when is None and (dest / "timestamp.txt").is_file() and from_zip:
            when, how = _exchange_time(dest, lab, tz), "timestamp.txt"  # zip_collect's
        if when is None and student in from_csv:
            when, how = from_csv[student], "timestamps.csv"
        if when is None:
            candidates = ([source / student / f"{lab}.ipynb", source / student / lab /
                           f"{lab}.ipynb"] if source.is_dir() else [])
            found = [p for p in candidates if p.is_file()] or [dest / f"{lab}.ipynb"]
            when = dt.datetime.fromtimestamp(found[0].stat().st_mtime, dt.UTC)
            how = "mtime"
        utc = when.astimezone(dt.UTC)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "timestamp.txt").write_text(utc.isoformat(" "), encoding="utf-8")
        rows.append({"student": student, "submitted_at": utc.isoformat(" "), "source": how})
    with open(report_path(course_dir, lab), "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["student", "submitted_at", "source"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_report(course_dir, lab: str) -> list[dict]:
    """The rows :func:`record` wrote for ``lab`` (empty if collect never ran)."""
    path = report_path(course_dir, lab)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
