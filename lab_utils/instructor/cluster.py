"""Grade a class on dask.distributed: one isolated task per submission, one gradebook writer.

nbgrader has no parallel autograde (upstream: jupyter/nbgrader#174, open since 2015) and
its gradebook is SQLite, which is not safe for concurrent writers (and corrupts when shared
over NFS between machines).  So, as the courses that grade at scale do:

- **one task per submission** (:func:`grade_submission`, run on a Dask worker).  The task
  carries its inputs as bytes -- the course's ``nbgrader_config.py``, the lab's source
  folder, a copy of the gradebook trimmed to the course's assignments (no student, no
  grade: :func:`lab_bundle`) and the student's submitted files -- so no filesystem is
  shared between the coordinator and the workers.  It builds a temporary course of its
  own, runs nbgrader's autograde there *in the worker process* (no Python start-up per
  submission; the course's preprocessors and fixes are configured by its
  ``nbgrader_config.py``) and returns the autograded files and the per-cell grades and
  comments.  A wall-clock limit per submission kills the grading kernel.
- **one writer** (:func:`record`, on the coordinator): it writes the course's real
  gradebook through nbgrader's API -- the fields nbgrader's ``SaveAutoGrades`` writes, as
  in the maintainers' merge recipe (jupyter/nbgrader#1424) -- and places the autograded
  files in ``autograded/<student>/<lab>/``.  Grades are updated in place, so regrading a
  student replaces their grades and never duplicates them; manual scores are kept, as
  ``nbgrader autograde --force`` keeps them.

The scheduler is dask's: a task whose worker dies is run again on another worker
(``distributed.scheduler.allowed-failures``, default 3), and the coordinator records each
student's result exactly once, as it arrives.  The default cluster is a
``distributed.LocalCluster`` of worker processes (one per core, one thread each); a running
cluster (Slurm through dask-jobqueue, Kubernetes through dask-kubernetes or dask-gateway)
is used the same way through its scheduler address.

Used by :func:`lab_utils.instructor.grading.autograde_class` (and so by
``python -m lab_utils autograde``, the simulated-class tests and the benchmark).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from lab_utils.config import CELL_TIMEOUT_ENV, SINGLE_THREAD_ENV, cell_timeout
from lab_utils.instructor.grading import db_url, last_error

#: The course's release folder (``CourseDirectory.release_directory`` in nbgrader_config.py):
#: the released notebook travels with each task, for ``reshape.ReshapeSubmission``.
RELEASE_DIRECTORY = "labs"

#: Default wall-clock limit of one submission, in seconds (besides nbgrader's cell timeout).
DEFAULT_LIMIT = 900

#: Dask settings of the grading workers.  A grading task is one long call that mostly waits
#: for its kernel; by default each worker also samples that thread's stack every 10 ms (the
#: dashboard's profiler) and wakes every 20 ms to measure its event loop, which competes with
#: the task's own Python threads (nbclient, ZMQ) for the GIL.  Measured on 2 cores, 12 Lab 1
#: submissions on a LocalCluster of 2 workers, runs alternated: 10.6-10.7 s per submission
#: with dask's defaults, 9.7-9.8 s with these (wall 67.9-68.0 s -> 62.3-62.5 s).  Applied to
#: the LocalCluster (its workers inherit the coordinator's config); on a running cluster set
#: them where the workers start (the README's Slurm and Kubernetes examples do, through the
#: equivalent ``DASK_...`` environment variables of :data:`WORKER_ENV`).
WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}

#: :data:`WORKER_CONFIG` as environment variables (dask's ``DASK_`` naming).
WORKER_ENV = {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
              for key, value in WORKER_CONFIG.items()}

#: Tasks in flight per worker thread: enough to keep every worker busy, few enough that a
#: class of thousands of submissions is never held in the scheduler's memory at once.
IN_FLIGHT_PER_THREAD = 2


@dataclass(frozen=True)
class LabBundle:
    """What every task of one lab carries (built once per run by :func:`lab_bundle`)."""

    lab: str
    config: bytes  # the course's nbgrader_config.py
    source: dict  # path relative to solutions/<lab>/ -> bytes
    gradebook: bytes  # the course's gradebook without students, submissions or grades
    released: dict  # path relative to labs/<lab>/ -> bytes: what ReshapeSubmission aligns to


@dataclass(frozen=True)
class Job:
    """One submission to grade: the lab's bundle and the student's submitted files."""

    bundle: LabBundle
    student: str
    files: dict  # path relative to submitted/<student>/<lab>/ -> bytes
    cell_timeout: int
    limit: float


@dataclass
class TaskResult:
    """What a task returns.  ``status``: ``"graded"``, ``"timeout"`` or ``"error"``.

    ``notebooks`` maps each notebook name to ``{"grades": {cell: auto_score},
    "comments": {cell: auto_comment}, "late_submission_penalty": float | None}``;
    ``files`` holds ``autograded/<student>/<lab>/`` (relative path -> bytes).
    """

    student: str
    status: str
    seconds: float
    message: str = ""
    timestamp: object = None
    notebooks: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    worker: str = ""


def _read_tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_tree(folder: Path, files: dict) -> None:
    for rel, data in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def trimmed_gradebook(path) -> bytes:
    """A copy of the gradebook at ``path`` holding the assignments and their cells only.

    That is what ``nbgrader generate_assignment`` recorded and what autograde needs (the
    notebooks, the graded cells, the source of the locked cells and their checksums); the
    students, submissions, grades and comments are dropped, so that the copy stays small
    however large the class.  Used by :func:`lab_bundle`.
    """
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "gradebook.db"
        source = sqlite3.connect(path)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # a consistent copy even while another process writes
            for model in (Comment, Grade, SubmittedNotebook, SubmittedAssignment, Student):
                target.execute(f"DELETE FROM {model.__tablename__}")  # noqa: S608
            target.commit()
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()
        return copy.read_bytes()


def lab_bundle(course_dir, lab: str) -> LabBundle:
    """The inputs every task of ``lab`` shares, read from the course directory."""
    course_dir = Path(course_dir)
    gradebook = course_dir / "gradebook.db"
    if not gradebook.is_file():
        raise FileNotFoundError(f"no gradebook.db in {course_dir}: release the lab first "
                                f"(python -m lab_utils release {lab})")
    return LabBundle(lab=lab, config=(course_dir / "nbgrader_config.py").read_bytes(),
                     source=_read_tree(course_dir / "solutions" / lab),
                     gradebook=trimmed_gradebook(gradebook),
                     released=_read_tree(course_dir / RELEASE_DIRECTORY / lab))


def submission_job(course_dir, bundle: LabBundle, student: str, limit: float = DEFAULT_LIMIT,
                   timeout: int | None = None) -> Job:
    """The task input of one student's submission (``submitted/<student>/<lab>/``)."""
    folder = Path(course_dir) / "submitted" / student / bundle.lab
    return Job(bundle=bundle, student=student, files=_read_tree(folder),
               cell_timeout=cell_timeout() if timeout is None else timeout, limit=limit)


# --- the task: runs on a worker ---------------------------------------------------------


class _KernelReaper:
    """Kill, once ``limit`` seconds have passed, every process this one started since.

    The grading kernel is such a process (jupyter_client starts it in a session of its own,
    so it must be killed explicitly, with its children).  Killing it makes nbclient raise
    ``DeadKernelError``, which ends nbgrader's run of the notebook.  Used by
    :func:`grade_submission`.
    """

    def __init__(self, limit: float):
        import psutil

        self._me = psutil.Process()
        self._before = {p.pid for p in self._me.children(recursive=True)}
        self._done = threading.Event()
        self.fired = False
        self._thread = threading.Thread(target=self._run, args=(limit,), daemon=True)

    def _kill_new_children(self):
        import psutil

        procs = [p for p in self._me.children(recursive=True) if p.pid not in self._before]
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(procs, timeout=5)

    def _run(self, limit):
        if self._done.wait(limit):
            return
        self.fired = True
        while not self._done.is_set():  # a kernel started after the first kill dies too
            self._kill_new_children()
            self._done.wait(0.5)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        if self.fired:
            self._kill_new_children()


def _read_results(url: str, lab: str, student: str) -> tuple[object, dict]:
    from nbgrader.api import Gradebook

    notebooks = {}
    with Gradebook(url) as gb:
        submission = gb.find_submission(lab, student)
        for nb in submission.notebooks:
            notebooks[nb.name] = {
                "grades": {g.name: g.auto_score for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "late_submission_penalty": nb.late_submission_penalty,
            }
        return submission.timestamp, notebooks


def grade_submission(job: Job) -> TaskResult:
    """Autograde one submission in a temporary course of its own (runs on a Dask worker).

    The grading kernel computes with one thread (``SINGLE_THREAD_ENV``) and nbgrader's
    cell timeout is ``job.cell_timeout``; past ``job.limit`` seconds the kernel is killed
    and the result's status is ``"timeout"``.  Never raises for a bad submission: what went
    wrong is in the result.
    """
    import socket

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.exc import SAWarning
    from traitlets.config.loader import PyFileConfigLoader

    start = time.perf_counter()
    bundle, lab, student = job.bundle, job.bundle.lab, job.student
    worker = f"{socket.gethostname()}:{os.getpid()}"
    os.environ.update(SINGLE_THREAD_ENV)  # inherited by the grading kernel
    os.environ[CELL_TIMEOUT_ENV] = str(job.cell_timeout)  # read by nbgrader_config.py
    with tempfile.TemporaryDirectory(prefix=f"autograde-{student}-") as tmp:
        course = Path(tmp)
        (course / "nbgrader_config.py").write_bytes(bundle.config)
        (course / "gradebook.db").write_bytes(bundle.gradebook)
        _write_tree(course / "solutions" / lab, bundle.source)
        _write_tree(course / RELEASE_DIRECTORY / lab, bundle.released)
        _write_tree(course / "submitted" / student / lab, job.files)
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = db_url(course)
        # the kernel's own log (not the notebook's output): its start-up warning about TCP
        # would otherwise print once per submission under the progress bar
        extra = list(config.Execute.extra_arguments) if "extra_arguments" in config.Execute \
            else []
        config.Execute.extra_arguments = [*extra, "--IPKernelApp.log_level=ERROR"]
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        with _KernelReaper(job.limit) as reaper, warnings.catch_warnings():
            # nbgrader 0.9.6's Gradebook trips SQLAlchemy autoflush warnings (harmless; an
            # `nbgrader autograde` process prints them too, to a log nobody reads)
            warnings.simplefilter("ignore", SAWarning)
            outcome = api.autograde(lab, student, force=True, create=True)
        seconds = time.perf_counter() - start
        if reaper.fired:
            return TaskResult(student, "timeout", seconds,
                              f"still running after the limit of {job.limit:g} s per "
                              f"submission: grading stopped, scores 0", worker=worker)
        if not outcome["success"]:
            log = "\n".join(outcome.get(key) or "" for key in ("log", "error"))
            return TaskResult(student, "error", seconds, f"nbgrader: {last_error(log)}",
                              worker=worker)
        timestamp, notebooks = _read_results(db_url(course), lab, student)
        files = _read_tree(course / "autograded" / student / lab)
    return TaskResult(student, "graded", time.perf_counter() - start, timestamp=timestamp,
                      notebooks=notebooks, files=files, worker=worker)


# --- the coordinator: the only writer -----------------------------------------------------


def recorded(course_dir, lab: str) -> set[str]:
    """Students whose submission of ``lab`` is in the gradebook *and* in ``autograded/``.

    A run interrupted between the two (the gradebook is written first) leaves the student
    out, so that a rerun grades them again.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course_dir = Path(course_dir)
    with Gradebook(db_url(course_dir)) as gb:
        try:
            in_db = {s.student.id for s in gb.find_assignment(lab).submissions}
        except MissingEntry:
            return set()
    return {s for s in in_db if (course_dir / "autograded" / s / lab).is_dir()}


def record(course_dir, lab: str, result: TaskResult) -> None:
    """Write one task's result into the course (coordinator only: the one writer).

    A graded submission: its grades and comments are written into the gradebook, in one
    transaction, with the fields nbgrader's ``SaveAutoGrades`` writes (``auto_score``,
    ``needs_manual_grade`` -- kept ``True`` where a human already gave a manual score --
    and ``auto_comment``), then its autograded files replace
    ``autograded/<student>/<lab>/``.  Any other result: the student's stale submission of
    the lab, if any, is removed from the gradebook and from ``autograded/``, so that it
    scores 0 in the export as the report says.
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    course_dir = Path(course_dir)
    target = course_dir / "autograded" / result.student / lab
    with Gradebook(db_url(course_dir)) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader 0.9.6's autoflush, harmless
        gb.update_or_create_student(result.student)
        if result.status != "graded":
            with contextlib.suppress(MissingEntry):
                gb.remove_submission(lab, result.student)
            shutil.rmtree(target, ignore_errors=True)
            return
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
    _write_tree(staging, result.files)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


@contextlib.contextmanager
def connect(jobs: int | None = None, scheduler: str | None = None,
            scheduler_file: str | None = None):
    """A ``distributed.Client``: to a running cluster, or to a new ``LocalCluster``.

    The LocalCluster has ``jobs`` worker *processes* (default: one per core) of one thread
    each, configured with :data:`WORKER_CONFIG`; it is shut down on exit.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler or scheduler_file:
        with Client(scheduler, scheduler_file=scheduler_file) as client:
            yield client
        return
    workers = max(1, jobs or os.cpu_count() or 1)
    with dask.config.set(WORKER_CONFIG), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _progress_bar(total: int, lab: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"autograde {lab}", unit="submission", disable=not enabled,
                dynamic_ncols=True)


def grade_class(course_dir, lab: str, students, client, limit: float = DEFAULT_LIMIT,
                progress: bool = False, on_record=None) -> dict[str, TaskResult]:
    """Grade ``students``' submissions of ``lab`` on ``client``'s cluster and record them.

    At most :data:`IN_FLIGHT_PER_THREAD` tasks per worker thread are in flight; each result
    is recorded as soon as it arrives, so an interrupted run keeps every grade recorded so
    far.  ``on_record(result)`` is called after each record (the tests use it).

    Returns
    -------
    dict
        Student id -> :class:`TaskResult`, in the order the results arrived.
    """
    from distributed import as_completed

    pending = list(students)
    if not pending:
        return {}
    bundle = lab_bundle(course_dir, lab)
    run = uuid.uuid4().hex[:8]
    results, owner = {}, {}
    counts = {"done": 0, "failed": 0}

    def submit_more(queue):
        capacity = IN_FLIGHT_PER_THREAD * max(1, sum(client.nthreads().values()))
        while pending and queue.count() < capacity:
            student = pending.pop(0)
            job = submission_job(course_dir, bundle, student, limit)
            future = client.submit(grade_submission, job, key=f"autograde-{lab}-{student}-{run}",
                                   pure=False, retries=1)
            owner[future.key] = student
            queue.add(future)

    queue = as_completed()
    with _progress_bar(len(pending), lab, progress) as bar:
        try:
            submit_more(queue)
            for future in queue:
                try:
                    result = future.result()
                except Exception as exc:  # the task failed twice, or killed its workers
                    result = TaskResult(owner[future.key], "error", 0.0,
                                        f"the grading task failed on the cluster "
                                        f"({type(exc).__name__}: {exc})"[:300])
                record(course_dir, lab, result)
                results[result.student] = result
                counts["done" if result.status == "graded" else "failed"] += 1
                bar.set_postfix_str(f"done {counts['done']}, failed {counts['failed']}, "
                                    f"remaining {len(students) - len(results)}")
                bar.update()
                if on_record:
                    on_record(result)
                submit_more(queue)
        except BaseException:
            client.cancel(list(queue.futures))
            raise
    return results


__all__ = ["DEFAULT_LIMIT", "WORKER_CONFIG", "WORKER_ENV", "Job", "LabBundle", "TaskResult",
           "connect", "db_url", "grade_class", "grade_submission", "lab_bundle", "record",
           "recorded", "submission_job", "trimmed_gradebook"]
