"""Released course folders for the tests, each released once per run and copied.

``nbgrader generate_assignment`` takes ~5 s of CPU per lab, and a dozen test modules need a
course with Lab 1 released: :func:`new_course` releases each set of labs once per run
(:func:`tests.once.build_once`, shared by every module and xdist worker) and copies the
result, which is what :func:`lab_utils.instructor.grading.new_course` would have written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lab_utils.instructor import grading
from tests import once


def new_course(shared_root: Path, path, repo: Path, labs=None) -> Path:
    """A course folder at ``path`` with ``labs`` (default: every lab) released.

    Parameters
    ----------
    shared_root : Path
        The run's shared folder (the ``shared_root`` fixture).
    path : path-like
        Where the course goes (created; may exist and be empty).
    repo : Path
        The repository the course is made from.
    labs : list of str, optional
    """
    labs = sorted(labs or grading.list_labs(repo))
    name = f"released-{'+'.join(labs)}-{once.run_digest(repo)}"
    built = once.build_once(shared_root, name,
                            lambda folder: grading.new_course(folder / "course", repo, labs))
    shutil.copytree(built / "course", path, dirs_exist_ok=True)
    return Path(path)
