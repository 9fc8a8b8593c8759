"""Thin wrappers around nbgrader for the course's instructor workflow and its tests.

A *course directory* holds ``nbgrader_config.py``, ``solutions/<lab>/<lab>.ipynb``
(sources), ``labs/`` (released student versions), ``submitted/<student>/<lab>/``,
``autograded/``, ``feedback/`` and ``gradebook.db``.  Every function here runs nbgrader
itself rather than re-implementing it: as a subprocess with the same Python, or -- to
autograde a class -- in Dask workers, one task per submission
(:mod:`lab_utils.instructor.cluster`).

Used by ``python -m lab_utils`` (release, collect, autograde, feedback, export), by the
simulated-class tests of every lab and by the benchmark.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.utils import is_solution

from lab_utils.config import SINGLE_THREAD_ENV
from lab_utils.instructor import cluster, gradebook, sandbox
from lab_utils.instructor.cluster import GradingResult
from lab_utils.instructor.gradebook import add_students, db_url  # noqa: F401 (re-exported)
from lab_utils.instructor.nbgrader_ext import SOLUTION_BEGIN, SOLUTION_END, last_error


class GradingError(RuntimeError):
    """nbgrader failed.  ``str()`` is one line (the command, its exit status and its last
    error line); ``log`` holds nbgrader's whole output."""

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.log = log


def _env() -> dict:
    env = dict(os.environ, **SINGLE_THREAD_ENV)
    bindir = str(Path(sys.executable).parent)  # nbgrader calls `alembic` from PATH
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course_dir, *args, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``course_dir`` and return the completed process."""
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *map(str, args)],
        cwd=course_dir,
        env=_env(),
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        log = proc.stdout + proc.stderr
        raise GradingError(f"nbgrader {' '.join(map(str, args))} failed (exit "
                           f"{proc.returncode}) in {course_dir}: {last_error(log)}", log)
    return proc


def list_labs(course_dir) -> list[str]:
    """Lab ids: the folders of the source folder (``solutions/``) that hold
    ``<lab>/<lab>.ipynb``."""
    root = gradebook.folder(course_dir, "source")
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}.ipynb").is_file())


def release(course_dir, labs=None) -> list[str]:
    """Generate the student versions ``labs/<lab>/<lab>.ipynb`` from ``solutions/``."""
    labs = list(labs or list_labs(course_dir))
    for lab in labs:
        run_nbgrader(course_dir, "generate_assignment", lab, "--force")
    return labs


def new_course(path, repo_root, labs=None) -> Path:
    """Create a course directory at ``path`` from the repository's config and sources.

    The released versions and the gradebook are generated afresh.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    repo_root = Path(repo_root)
    shutil.copy(repo_root / "nbgrader_config.py", path / "nbgrader_config.py")
    labs = list(labs or list_labs(repo_root))
    source, target = gradebook.folder(repo_root, "source"), gradebook.folder(path, "source")
    for lab in labs:
        shutil.copytree(source / lab, target / lab, dirs_exist_ok=True)
    release(path, labs)
    return path


def strip_solution_markers(source: str) -> str:
    """The solution code as a student would have typed it (marker lines removed)."""
    return "\n".join(line for line in source.split("\n")
                     if SOLUTION_BEGIN not in line and SOLUTION_END not in line)


def grade_id(cell) -> str | None:
    """The nbgrader ``grade_id`` of a cell, or None for an ordinary cell."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def perfect_submission(source_nb, released_nb):
    """The released notebook with every answer cell filled in from the source notebook."""
    answers = {grade_id(c): c.source for c in source_nb.cells if is_solution(c)}
    nb = copy.deepcopy(released_nb)
    for cell in nb.cells:
        if is_solution(cell):
            cell.source = strip_solution_markers(answers[grade_id(cell)])
    return nb


def read_lab(course_dir, lab):
    """(source notebook, released notebook) of ``lab`` in ``course_dir``."""
    source = nbformat.read(gradebook.folder(course_dir, "source") / lab / f"{lab}.ipynb",
                           as_version=4)
    released = nbformat.read(gradebook.folder(course_dir, "release") / lab / f"{lab}.ipynb",
                             as_version=4)
    return source, released


def submit(course_dir, student: str, lab: str, notebook) -> Path:
    """Place a submission (a notebook object or a file path) where nbgrader expects it."""
    target = gradebook.folder(course_dir, "submitted") / student / lab / f"{lab}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, (str, os.PathLike)):
        shutil.copy(notebook, target)
    else:
        nbformat.write(notebook, target)
    return target


def autograde(course_dir, lab: str, student: str | None = None, force: bool = True):
    """Autograde the submissions of ``lab`` (one student or all)."""
    args = ["autograde", lab]
    if student:
        args += ["--student", student]
    if force:
        args.append("--force")
    return run_nbgrader(course_dir, *args)


def generate_feedback(course_dir, lab: str, student: str | None = None):
    """Write HTML feedback to ``feedback/<student>/<lab>/<lab>.html``."""
    args = ["generate_feedback", lab, "--force"]
    if student:
        args += ["--student", student]
    return run_nbgrader(course_dir, *args)


@dataclass
class CellScore:
    grade_id: str
    score: float | None
    max_score: float
    needs_manual_grade: bool
    manual: bool


def scores(course_dir, lab: str, student: str) -> dict[str, CellScore]:
    """Per-cell scores of one autograded submission, read from the gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url(course_dir)) as gb:
        submission = gb.find_submission(lab, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                manual = grade.cell.cell_type == "markdown"
                out[grade.name] = CellScore(grade.name, grade.score, grade.max_score,
                                            bool(grade.needs_manual_grade), manual)
    return out


# --- instructor workflow: import a class, grade it in parallel, report, export ---------


def import_submissions(course_dir, lab: str, source,
                       timestamps_csv=None) -> tuple[list[str], dict[str, str]]:
    """Copy a folder or a zip of collected submissions into ``submitted/``.

    Accepted layouts, for every student:

    - a folder ``<source>/<student>/<lab>.ipynb`` (or ``<student>/<lab>/<lab>.ipynb``);
    - a zip downloaded from an LMS: handed to ``nbgrader zip_collect``, which reads the
      student id from each file name ``<student>_<lab>.ipynb`` (see nbgrader_config.py).

    Every student found is registered in the gradebook, so that the export has a row for
    them even when their submission cannot be graded.  Each imported submission's time is
    written to its ``timestamp.txt`` from the best source there is (the zip entry, an
    exchange ``timestamp.txt``, ``timestamps_csv``, the file's modification time) and the
    source of each to ``collect-<lab>.csv`` (:func:`lab_utils.instructor.timestamps.record`).

    Returns
    -------
    (imported, problems)
        Student ids whose notebook was imported, and student id -> what was wrong for the
        folders without a ``<lab>.ipynb``.
    """
    course_dir, source = Path(course_dir), Path(source)
    problems = {}
    if source.suffix == ".zip":
        archive = course_dir / "downloaded" / lab / "archive"
        archive.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, archive / source.name)
        run_nbgrader(course_dir, "zip_collect", lab, "--force")
        submitted = course_dir / "submitted"
        students = sorted(p.parent.name for p in submitted.glob(f"*/{lab}"))
    else:
        students = []
        for folder in sorted(p for p in source.iterdir() if p.is_dir()):
            for candidate in (folder / f"{lab}.ipynb", folder / lab / f"{lab}.ipynb"):
                if candidate.is_file():
                    submit(course_dir, folder.name, lab, candidate)
                    students.append(folder.name)
                    break
            else:
                found = sorted(p.name for p in folder.rglob("*") if p.is_file())
                problems[folder.name] = (f"no {lab}.ipynb in {folder} (found: "
                                         f"{', '.join(found) or 'nothing'}); graded 0")
    add_students(course_dir, [*students, *problems])
    from lab_utils.instructor import timestamps

    timestamps.record(course_dir, lab, source, students, timestamps_csv)
    return students, problems


def _precheck(path: Path) -> str:
    """'' if ``path`` is a readable notebook, else why not (reported, graded 0)."""
    if not path.is_file():
        return f"no file {path.name} in the submission"
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # JSON errors, schema errors, binary files
        return f"{path.name} is not a valid notebook ({type(exc).__name__}: {exc})"[:300]
    if not nb.cells:
        # Anything else goes to nbgrader: reshape.ReshapeSubmission restores deleted answer
        # cells, recognises cells whose metadata an editor dropped, and reports a notebook
        # that holds none of the lab's cells (another notebook saved under this name).
        return f"{path.name} holds none of the lab's answer cells (an empty notebook)"
    return ""


def autograde_class(course_dir, lab: str, students=None, jobs: int | None = None, *,
                    scheduler: str | None = None, scheduler_file: str | None = None,
                    limit: float | None = None, force: bool = True, progress: bool = False,
                    client=None, on_record=None, sandbox_kernels: bool | None = None
                    ) -> dict[str, GradingResult]:
    """Autograde every submission of ``lab`` on dask.distributed, one task per submission.

    Each submission is graded in a temporary course of its own on a Dask worker, its kernel
    in the bubblewrap sandbox (:mod:`lab_utils.instructor.sandbox`), and this process alone
    writes the gradebook (:mod:`lab_utils.instructor.gradebook`): one broken or endless
    submission never stops the others, a failed regrade never removes earlier grades, and
    grades equal a sequential ``nbgrader autograde``.  The cluster is a new
    ``LocalCluster`` of ``jobs`` worker processes (default: one per core), or the running one
    at ``scheduler`` (an address) or ``scheduler_file``, or ``client``'s.  A file that is not
    a notebook of the lab is reported without being sent to a worker.

    Parameters
    ----------
    limit
        Wall-clock seconds one submission may take (default
        :data:`cluster.DEFAULT_LIMIT`); past it, its kernel is killed and it scores 0 (or
        keeps its earlier grades).
    force
        Regrade submissions already recorded (the default); else they are skipped and
        reported with status ``"skipped"``.
    progress
        Show a progress bar on stderr (the CLI does).
    on_record
        Called with each task's result once it is recorded (tests).
    sandbox_kernels
        Grade in the sandbox (default: unless ``LAB_UTILS_SANDBOX=off``).  Raises
        :class:`lab_utils.instructor.sandbox.SandboxUnavailable` (one line) before grading
        anything when this machine or a worker cannot sandbox.

    Returns
    -------
    dict
        Student id -> :class:`GradingResult` (status ``"graded"``, ``"skipped"``,
        ``"timeout"`` or ``"error"``), in the order of ``students``.
    """
    course_dir = Path(course_dir)
    submitted = gradebook.folder(course_dir, "submitted")
    if students is None:
        students = sorted(p.parent.name for p in submitted.glob(f"*/{lab}"))
    students = list(students)
    if sandbox_kernels is None:
        sandbox_kernels = sandbox.enabled()
    if sandbox_kernels and client is None and not (scheduler or scheduler_file):
        reason = sandbox.unavailable_reason()  # the local cluster's workers are this machine
        if reason:
            raise sandbox.SandboxUnavailable(reason)
    add_students(course_dir, students)
    outcomes, to_grade = {}, []
    done = set() if force else gradebook.recorded(course_dir, lab)
    for student in students:
        if student in done:
            outcomes[student] = GradingResult(student, "skipped", 0.0,
                                              "already autograded (--force to regrade)")
            continue
        problem = _precheck(submitted / student / lab / f"{lab}.ipynb")
        if problem:
            outcomes[student] = cluster.record_result(
                course_dir, lab, GradingResult(student, "error", 0.0, problem))
        else:
            to_grade.append(student)
    limit = cluster.DEFAULT_LIMIT if limit is None else limit
    if to_grade:
        with (contextlib.nullcontext(client) if client is not None else
              cluster.connect(jobs, scheduler, scheduler_file)) as active:
            outcomes.update(cluster.grade_class(
                course_dir, lab, to_grade, active, limit=limit, progress=progress,
                on_record=on_record, sandbox=sandbox_kernels))
    return {s: outcomes[s] for s in students}


def export_grades(course_dir, path) -> Path:
    """Write nbgrader's CSV export (one row per student and lab) to ``path``."""
    path = Path(path).resolve()
    run_nbgrader(course_dir, "export", "--to", path)
    return path


def write_report(outcomes: dict, path, sandboxed: bool = True) -> Path:
    """Write how each submission fared as CSV (``autograde-<lab>.csv``): status, seconds,
    message, whether a failed regrade kept the student's earlier grades, and whether the
    kernel ran in the sandbox (``no``: graded with ``--no-sandbox``)."""
    import csv

    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student_id", "status", "seconds", "message", "earlier_grades_kept",
                         "sandbox"])
        for o in outcomes.values():
            writer.writerow([o.student, o.status, f"{o.seconds:.1f}", o.message,
                             "yes" if o.kept_previous else "", "yes" if sandboxed else "no"])
    return path
