"""The class report of a graded lab: what the class understood, exercise by exercise.

``python -m lab_utils report LAB`` (and the end of ``autograde``) writes
``reports/<lab>/report.html`` in the course folder -- one self-contained page (inline CSS,
plots as embedded PNGs, no network needed) -- and the same tables as CSV beside it:

- ``scores.csv``: one row per student: status (graded, not graded and why, no
  submission), score and maximum, written answers still to grade;
- ``exercises.csv``: per exercise (an answer cell with the test cells that follow it, or
  a written answer): points, how many graded submissions got full, partial or no credit,
  or still wait for manual grading -- the item analysis that shows which lesson to fix;
- ``failures.csv``: the failure messages of the test cells grouped by exercise, check and
  hint (the checks of :mod:`lab_utils.checks` fail with ``<what>: expected <x>, got <y>.
  Hint: <concept>``), with how many students each;
- ``manual.csv``: the written answers waiting for a human, with their formgrader links;
- ``rubric.html``: every written question's mark scheme (graders only,
  :func:`lab_utils.instructor.markscheme.write_rubric`), which the page links question by
  question.

The package: :mod:`.reading` (the course folder -> :class:`ClassData`), :mod:`.tables`,
:mod:`.plots` and :mod:`.page` (the HTML); :func:`write_class_report` writes them all.
Everything is read from the course folder, so the report is the same after a local or a
cluster run: the gradebook through nbgrader's API (scores, maximum points, what needs
manual grading), the autograded notebooks ``autograded/<student>/<lab>/<notebook>.ipynb``
(the failure messages are the outputs of their test cells), the source notebooks (the
order of the cells, hence which test belongs to which exercise) and the autograde status
file ``autograde-<lab>.csv`` (:func:`lab_utils.instructor.grading.write_report`: the
submissions that could not be graded, and why).

Used by :mod:`lab_utils.instructor.cli` (``report``, and the end of ``autograde``).
"""

from __future__ import annotations

from pathlib import Path

from lab_utils.instructor.classreport.page import TOP_FAILURES, render
from lab_utils.instructor.classreport.plots import exercise_bars, score_histogram
from lab_utils.instructor.classreport.reading import (
    FORMGRADER_URL,
    ClassData,
    Exercise,
    ReportError,
    collect,
    exercises_of,
    failures_of,
    parse_failure,
)
from lab_utils.instructor.classreport.tables import exercise_table, failure_table

__all__ = ["FORMGRADER_URL", "TOP_FAILURES", "ClassData", "Exercise", "ReportError", "collect",
           "exercise_bars", "exercise_table", "exercises_of", "failure_table", "failures_of",
           "parse_failure", "render", "score_histogram", "write_class_report"]


def write_class_report(course_dir, lab: str, autograde_csv=None,
                       formgrader_url: str = FORMGRADER_URL) -> Path:
    """Write ``reports/<lab>/report.html`` and its CSV tables in the course folder.

    Parameters
    ----------
    course_dir : path
        The course folder (with ``gradebook.db`` and ``autograded/``).
    lab : str
        The lab id.
    autograde_csv : path, optional
        The autograde status CSV (default ``autograde-<lab>.csv`` in the course folder).
    formgrader_url : str
        Base URL of the Jupyter server running the formgrader.

    Returns
    -------
    Path
        The HTML page.
    """
    data = collect(course_dir, lab, autograde_csv, formgrader_url)
    folder = Path(course_dir).resolve() / "reports" / lab
    folder.mkdir(parents=True, exist_ok=True)
    data.students.to_csv(folder / "scores.csv", index=False)
    exercise_table(data).to_csv(folder / "exercises.csv", index=False)
    failure_table(data).to_csv(folder / "failures.csv", index=False)
    data.manual.to_csv(folder / "manual.csv", index=False)
    if (Path(course_dir) / "solutions" / lab / f"{lab}.ipynb").is_file():
        from lab_utils.instructor.markscheme import write_rubric

        write_rubric(course_dir, lab, folder)  # rubric.html: the page links its sections
    page = folder / "report.html"
    page.write_text(render(data), encoding="utf-8")
    return page
