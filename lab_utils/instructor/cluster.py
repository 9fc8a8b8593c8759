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
- **one writer** (:func:`record_result`, on the coordinator, through
  :func:`lab_utils.instructor.gradebook.record`): it writes the course's real gradebook
  through nbgrader's API -- the fields nbgrader's ``SaveAutoGrades`` writes, as in the
  maintainers' merge recipe (jupyter/nbgrader#1424) -- and places the autograded files in
  ``autograded/<student>/<lab>/``.  Grades are updated in place, so regrading a student
  replaces their grades and never duplicates them; manual scores and comments are kept;
  a failed, cut or lost regrade replaces nothing.
- **every grading kernel sandboxed** (:mod:`lab_utils.instructor.sandbox`, configured in
  ``nbgrader_config.py``): the student's code never sees the worker's files, the task's
  temporary gradebook or the network.

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
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from lab_utils.config import (
    CELL_TIMEOUT_ENV,
    DEFAULT_SUBMISSION_LIMIT,
    SANDBOX_ENV,
    SINGLE_THREAD_ENV,
    cell_timeout,
)
from lab_utils.instructor import gradebook, sandbox
from lab_utils.instructor.gradebook import db_url
from lab_utils.instructor.nbgrader_ext import last_error

#: Default wall-clock limit of one submission, in seconds (besides nbgrader's cell timeout).
DEFAULT_LIMIT = DEFAULT_SUBMISSION_LIMIT

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
    released: dict  # path relative to the release folder's <lab>/ -> bytes (ReshapeSubmission)


@dataclass(frozen=True)
class Job:
    """One submission to grade: the lab's bundle and the student's submitted files."""

    bundle: LabBundle
    student: str
    files: dict  # path relative to submitted/<student>/<lab>/ -> bytes
    cell_timeout: int
    limit: float
    sandbox: bool = True  # grade in the bubblewrap sandbox (lab_utils.instructor.sandbox)


@dataclass
class GradingResult:
    """How one submission fared: what a task returns, what is recorded and reported.

    ``status``: ``"graded"``, ``"timeout"``, ``"error"`` or ``"skipped"`` (already graded,
    not regraded).  ``notebooks`` maps each notebook name to ``{"grades": {cell:
    auto_score}, "comments": {cell: auto_comment}, "late_submission_penalty": float |
    None}``; ``files`` holds ``autograded/<student>/<lab>/`` (relative path -> bytes).
    ``kept_previous``: the grading failed and the student's earlier grades were kept.
    """

    student: str
    status: str
    seconds: float
    message: str = ""
    timestamp: object = None
    notebooks: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    worker: str = ""
    kept_previous: bool = False


def _read_tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def lab_bundle(course_dir, lab: str) -> LabBundle:
    """The inputs every task of ``lab`` shares, read from the course directory."""
    course_dir = Path(course_dir)
    path = gradebook.gradebook_path(course_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no gradebook {path}: release the lab first "
                                f"(python -m lab_utils release {lab})")
    return LabBundle(lab=lab, config=(course_dir / "nbgrader_config.py").read_bytes(),
                     source=_read_tree(gradebook.folder(course_dir, "source") / lab),
                     gradebook=gradebook.trimmed_copy(path),
                     released=_read_tree(gradebook.folder(course_dir, "release") / lab))


def submission_job(course_dir, bundle: LabBundle, student: str, limit: float = DEFAULT_LIMIT,
                   timeout: int | None = None, sandbox: bool = True) -> Job:
    """The task input of one student's submission (``submitted/<student>/<lab>/``)."""
    folder = gradebook.folder(course_dir, "submitted") / student / bundle.lab
    return Job(bundle=bundle, student=student, files=_read_tree(folder),
               cell_timeout=cell_timeout() if timeout is None else timeout, limit=limit,
               sandbox=sandbox)


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


def grade_submission(job: Job) -> GradingResult:
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
    os.environ[SANDBOX_ENV] = "on" if job.sandbox else "off"  # read by sandbox.py
    with tempfile.TemporaryDirectory(prefix=f"autograde-{student}-") as tmp:
        course = Path(tmp)
        (course / "nbgrader_config.py").write_bytes(bundle.config)
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = "sqlite:///" + str(course / "gradebook.db")
        coursedir = CourseDirectory(config=config)
        (course / "gradebook.db").write_bytes(bundle.gradebook)
        gradebook.write_tree(course / coursedir.source_directory / lab, bundle.source)
        gradebook.write_tree(course / coursedir.release_directory / lab, bundle.released)
        gradebook.write_tree(course / coursedir.submitted_directory / student / lab, job.files)
        # the kernel's own log (not the notebook's output): its start-up warning about TCP
        # would otherwise print once per submission under the progress bar
        extra = list(config.Execute.extra_arguments) if "extra_arguments" in config.Execute \
            else []
        config.Execute.extra_arguments = [*extra, "--IPKernelApp.log_level=ERROR"]
        api = NbGraderAPI(coursedir=coursedir, config=config)
        kills_before = len(sandbox.KILLS)
        with _KernelReaper(job.limit) as reaper, warnings.catch_warnings():
            # nbgrader 0.9.6's Gradebook trips SQLAlchemy autoflush warnings (harmless; an
            # `nbgrader autograde` process prints them too, to a log nobody reads)
            warnings.simplefilter("ignore", SAWarning)
            outcome = api.autograde(lab, student, force=True, create=True)
        seconds = time.perf_counter() - start
        if reaper.fired:
            return GradingResult(student, "timeout", seconds,
                              f"still running after the limit of {job.limit:g} s per "
                              f"submission: grading stopped, scores 0", worker=worker)
        if not outcome["success"]:
            log = "\n".join(outcome.get(key) or "" for key in ("log", "error"))
            killed = sandbox.KILLS[kills_before:]  # the sandbox says why the kernel died
            message = killed[-1] if killed else f"nbgrader: {last_error(log)}"
            return GradingResult(student, "error", seconds, message[:300], worker=worker)
        timestamp, notebooks = _read_results(db_url(course), lab, student)
        files = _read_tree(course / coursedir.autograded_directory / student / lab)
    return GradingResult(student, "graded", time.perf_counter() - start, timestamp=timestamp,
                         notebooks=notebooks, files=files, worker=worker)


# --- the coordinator: the only writer (through lab_utils.instructor.gradebook) ------------


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
    with _environment_restored(), dask.config.set(WORKER_CONFIG), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _environment_restored():
    """Give this process its environment back when the LocalCluster is gone.

    A LocalCluster's nannies run in this process and, to spawn each worker with Dask's
    ``distributed.nanny.pre-spawn-environ`` (``OMP_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``,
    ``OPENBLAS_NUM_THREADS=1``, ``MALLOC_TRIM_THRESHOLD_``...), set those variables in *this*
    process's ``os.environ`` and leave them there (dask/distributed#6681: "even if this means
    poisoning the process running the Nanny").  Every process started afterwards inherited
    them: measured in the benchmark, Lab 4's solution notebook ran in 118-126 s after a class
    had been graded in the same process, against 75-78 s before.
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        if dict(os.environ) != saved:
            os.environ.clear()
            os.environ.update(saved)


def _progress_bar(total: int, lab: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=f"autograde {lab}", unit="submission", disable=not enabled,
                dynamic_ncols=True)


def record_result(course_dir, lab: str, result: GradingResult) -> GradingResult:
    """Record ``result`` (:func:`lab_utils.instructor.gradebook.record`); a failed grading
    of a student graded before keeps their earlier grades, and the result says so."""
    if gradebook.record(course_dir, lab, result):
        result.kept_previous = True
        result.message = (f"{result.message}; earlier grades kept (only a successful "
                          f"grading replaces them)").lstrip("; ")
    return result


def check_workers(client, sandbox: bool = True) -> None:
    """Raise :class:`lab_utils.instructor.sandbox.SandboxUnavailable` (one line) when a
    worker of ``client``'s cluster cannot sandbox a grading kernel."""
    if not sandbox:
        return
    from lab_utils.instructor import sandbox as sandboxing

    reasons = {reason for reason in client.run(sandboxing.unavailable_reason).values() if reason}
    if reasons:
        raise sandboxing.SandboxUnavailable(f"on a grading worker: {sorted(reasons)[0]}")


def grade_class(course_dir, lab: str, students, client, limit: float = DEFAULT_LIMIT,
                progress: bool = False, on_record=None, sandbox: bool = True
                ) -> dict[str, GradingResult]:
    """Grade ``students``' submissions of ``lab`` on ``client``'s cluster and record them.

    At most :data:`IN_FLIGHT_PER_THREAD` tasks per worker thread are in flight; each result
    is recorded as soon as it arrives, so an interrupted run keeps every grade recorded so
    far, and a failed grading never removes earlier grades (:func:`record_result`).
    ``on_record(result)`` is called after each record (the tests use it).  Every worker is
    checked first: it must be able to sandbox the grading kernels (unless ``sandbox`` is
    False).

    Returns
    -------
    dict
        Student id -> :class:`GradingResult`, in the order the results arrived.
    """
    from distributed import as_completed

    pending = list(students)
    if not pending:
        return {}
    check_workers(client, sandbox)
    bundle = lab_bundle(course_dir, lab)
    run = uuid.uuid4().hex[:8]
    results, owner = {}, {}
    counts = {"done": 0, "failed": 0}

    def submit_more(queue):
        capacity = IN_FLIGHT_PER_THREAD * max(1, sum(client.nthreads().values()))
        while pending and queue.count() < capacity:
            student = pending.pop(0)
            job = submission_job(course_dir, bundle, student, limit, sandbox=sandbox)
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
                    result = GradingResult(owner[future.key], "error", 0.0,
                                           f"the grading task failed on the cluster "
                                           f"({type(exc).__name__}: {exc})"[:300])
                record_result(course_dir, lab, result)
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


__all__ = ["DEFAULT_LIMIT", "WORKER_CONFIG", "WORKER_ENV", "GradingResult", "Job", "LabBundle",
           "check_workers", "connect", "grade_class", "grade_submission", "lab_bundle",
           "record_result", "submission_job"]
