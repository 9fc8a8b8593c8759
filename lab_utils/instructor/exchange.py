"""nbgrader's exchange on a JupyterHub: release to it, collect from it, release feedback.

On a hub (``hub/``, docs/cluster-and-hub.md) students fetch and submit in JupyterLab's
Assignments tab; their files pass through nbgrader's exchange folder (``c.Exchange.root``,
shared by every user of the machine, one subfolder per ``c.CourseDirectory.course_id``).
These wrap the three nbgrader commands an instructor runs there:

- :func:`release` -- ``nbgrader release_assignment``: the generated student version of a lab
  into ``<exchange>/<course>/outbound/<lab>/``;
- :func:`collect` -- ``nbgrader collect`` into a staging folder, then the import path every
  other source of submissions takes (:func:`lab_utils.instructor.grading.import_submissions`),
  so the exchange's ``timestamp.txt`` feeds the deadline rules; the submission's
  ``submission_secret.txt`` is kept beside it (``release_feedback`` names each student's
  feedback file after it);
- :func:`release_feedback` -- ``nbgrader release_feedback``: the feedback HTML into
  ``<exchange>/<course>/feedback/<hash>.html``, which only the student who holds the
  submission's secret can name (the folder cannot be listed).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from lab_utils.instructor import grading

#: Files of an exchange submission that travel with the notebook into ``submitted/``.
SIDECARS = ("submission_secret.txt",)


def release(course_dir, labs) -> list[str]:
    """Copy the released (student) version of each lab into the exchange's outbound."""
    for lab in labs:
        grading.run_nbgrader(course_dir, "release_assignment", lab, "--force")
    return list(labs)


def collect(course_dir, lab: str, timestamps_csv=None) -> tuple[list[str], dict[str, str]]:
    """Collect ``lab``'s latest submission of every student from the exchange into
    ``submitted/``, with its submission time (``timestamp.txt``); returns what
    :func:`~lab_utils.instructor.grading.import_submissions` returns."""
    course_dir = Path(course_dir)
    with tempfile.TemporaryDirectory(prefix=f"exchange-{lab}-", dir=course_dir) as tmp:
        # nbgrader's collect writes <submitted_directory>/<student>/<lab>/ (with the
        # exchange's timestamp.txt): pointed at a staging folder, it leaves submitted/ to
        # the common import path
        grading.run_nbgrader(course_dir, "collect", lab, "--update",
                             f"--CourseDirectory.submitted_directory={tmp}")
        staging = Path(tmp)
        if not any(staging.iterdir()):
            return [], {}
        students, problems = grading.import_submissions(course_dir, lab, staging,
                                                        timestamps_csv=timestamps_csv)
        submitted = course_dir / "submitted"
        for student in students:
            for name in SIDECARS:
                sidecar = staging / student / lab / name
                if sidecar.is_file():
                    shutil.copy(sidecar, submitted / student / lab / name)
    return students, problems


def release_feedback(course_dir, lab: str) -> None:
    """Put the generated feedback of ``lab`` where students fetch it (Assignments tab)."""
    grading.run_nbgrader(course_dir, "release_feedback", lab)
