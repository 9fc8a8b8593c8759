"""Build an expensive test folder once per test run, whatever the scheduling.

The slow tests share a few costly results -- a simulated class of each lab graded through
nbgrader, the class report of one of them, each lab's mistakes graded in one kernel --
between test modules and, under pytest-xdist, between worker processes.  Only public
mechanisms are used: each result is a folder under :func:`shared_root` (the run's temporary
base: the documented xdist recipe, ``tmp_path_factory.getbasetemp().parent`` under a
worker), named by the content it is built from (:func:`run_digest`) and guarded by a file lock
(the ``filelock`` package), so whichever worker or module asks first builds it and every
other one waits and reads it.  A module-level cache, a custom xdist scheduler or a test
order is not needed for it to be built once.

Each build appends a line to :envvar:`LAB_TESTS_BUILD_LOG` (set by ``tests/conftest.py``
for the whole run); the run's summary lists the builds and fails the run if one was built
twice.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from filelock import FileLock

#: The file every build of this run appends ``<name> <worker> <seconds>`` to.
BUILD_LOG_ENV = "LAB_TESTS_BUILD_LOG"
#: :func:`digest` of :func:`inputs`, taken once when the run starts (``tests/conftest.py``)
#: and inherited by the xdist workers: files edited during the run do not rename a result.
DIGEST_ENV = "LAB_TESTS_INPUTS_DIGEST"
_DONE, _FAILED = ".built", ".failed"


def shared_root(tmp_path_factory) -> Path:
    """A folder every process of this test run sees: under xdist the run's base temp (the
    parent of each worker's), else the base temp."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return root / "built-once"


def digest(paths: Iterable[Path]) -> str:
    """12 hex digits of SHA-256 over the files under ``paths`` (names and contents)."""
    sha = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                sha.update(str(file.relative_to(path.parent)).encode() + b"\0")
                sha.update(file.read_bytes() + b"\0")
    return sha.hexdigest()[:12]


def inputs(repo: Path) -> list[Path]:
    """What the shared results are built from: the labs' sources, the package, the cases,
    the simulated classes and the nbgrader configuration."""
    return [repo / "solutions", repo / "lab_utils", repo / "tests" / "cases",
            repo / "tests" / "support", repo / "nbgrader_config.py"]


def run_digest(repo: Path) -> str:
    """The digest of :func:`inputs` at the start of this run (computed here if unset)."""
    if DIGEST_ENV not in os.environ:
        os.environ[DIGEST_ENV] = digest(inputs(repo))
    return os.environ[DIGEST_ENV]


def build_once(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``root/name``, filled by ``build(folder)`` the first time any process of
    the run asks for it.

    A build that raised is not retried: every later caller gets the same error (with the
    first traceback) rather than repeating minutes of work to fail again.
    """
    import time

    root.mkdir(parents=True, exist_ok=True)
    folder = root / name
    with FileLock(str(root / f"{name}.lock")):
        if (folder / _FAILED).is_file():
            raise RuntimeError(f"building {name} failed earlier in this run:\n"
                               + (folder / _FAILED).read_text())
        if not (folder / _DONE).is_file():
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            start = time.perf_counter()
            try:
                build(folder)
            except BaseException:
                (folder / _FAILED).write_text(traceback.format_exc())
                _log(f"{name}:FAILED", time.perf_counter() - start)
                raise
            (folder / _DONE).write_text("")
            _log(name, time.perf_counter() - start)
    return folder


def _log(name: str, seconds: float) -> None:
    path = os.environ.get(BUILD_LOG_ENV)
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{name} {worker} {seconds:.1f}\n")


def builds(log: Path) -> list[tuple[str, str, float]]:
    """(name, worker, seconds) of every build logged in ``log``."""
    if not log.is_file():
        return []
    rows = [line.split() for line in log.read_text(encoding="utf-8").splitlines() if line]
    return [(name, worker, float(seconds)) for name, worker, seconds in rows]
