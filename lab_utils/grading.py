"""Thin wrappers around nbgrader for the course's instructor workflow and its tests.

A *course directory* holds ``nbgrader_config.py``, ``solutions/<lab>/<lab>.ipynb``
(sources), ``labs/`` (released student versions), ``submitted/<student>/<lab>/``,
``autograded/``, ``feedback/`` and ``gradebook.db``.  Every function here runs nbgrader
itself (as a subprocess, with the same Python) rather than re-implementing it.

Used by the round-trip tests of every lab and by ``python -m lab_utils`` commands.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


class GradingError(RuntimeError):
    """nbgrader failed; the message carries the end of its log."""


def _env() -> dict:
    env = dict(os.environ)
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
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise GradingError(f"nbgrader {' '.join(map(str, args))} failed "
                           f"(exit {proc.returncode}) in {course_dir}:\n{tail}")
    return proc


def list_labs(course_dir) -> list[str]:
    """Lab ids: the folders of ``solutions/`` that hold ``<lab>/<lab>.ipynb``."""
    root = Path(course_dir) / "solutions"
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
    for lab in labs:
        shutil.copytree(repo_root / "solutions" / lab, path / "solutions" / lab,
                        dirs_exist_ok=True)
    release(path, labs)
    return path


def strip_solution_markers(source: str) -> str:
    """The solution code as a student would have typed it (markers removed)."""
    return "\n".join(
        line for line in source.split("\n") if line.strip() not in SOLUTION_MARKERS
    )


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def perfect_submission(source_nb, released_nb):
    """The released notebook with every answer cell filled in from the source notebook."""
    answers = {_grade_id(c): c.source for c in source_nb.cells if _is_solution(c)}
    nb = copy.deepcopy(released_nb)
    for cell in nb.cells:
        if _is_solution(cell):
            cell.source = strip_solution_markers(answers[_grade_id(cell)])
    return nb


def read_lab(course_dir, lab):
    """(source notebook, released notebook) of ``lab`` in ``course_dir``."""
    course_dir = Path(course_dir)
    source = nbformat.read(course_dir / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    released = nbformat.read(course_dir / "labs" / lab / f"{lab}.ipynb", as_version=4)
    return source, released


def submit(course_dir, student: str, lab: str, notebook) -> Path:
    """Place a submission (a notebook object or a file path) where nbgrader expects it."""
    target = Path(course_dir) / "submitted" / student / lab / f"{lab}.ipynb"
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

    db_url = "sqlite:///" + str(Path(course_dir) / "gradebook.db")
    out = {}
    with Gradebook(db_url) as gb:
        submission = gb.find_submission(lab, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                manual = grade.cell.cell_type == "markdown"
                out[grade.name] = CellScore(grade.name, grade.score, grade.max_score,
                                            bool(grade.needs_manual_grade), manual)
    return out
