"""nbgrader plug-ins of the course (configured in ``nbgrader_config.py``), and the one
parser of hidden-test regions that the plug-ins, the tests and the class report share.

:class:`ClearHiddenTestsAndTracebacks` is used by ``nbgrader generate_feedback``: the
feedback a student receives must not reveal hidden tests.  nbgrader's default feedback
shows each test cell exactly as it ran -- hidden region included (upstream:
jupyter/nbgrader#917, open) -- and an error's traceback quotes a few source lines around
the failing line, which can fall inside the hidden region.  This preprocessor removes the
hidden region from the source *and* drops every traceback line that quotes it.

:class:`DeduplicateIdsDropMetadata` is used by ``nbgrader autograde`` so that a
duplicated graded cell does not crash it (upstream: jupyter/nbgrader#1083).

:class:`StderrIsNotFailure` is used by ``nbgrader autograde`` so that a correct answer
that warns, logs or prints to stderr while its test runs keeps its points: a test cell
fails by raising, and only an ``error`` output scores it 0.

:func:`last_error` reads one line out of a failed nbgrader run's log.

The realignment of reshaped submissions (deleted, split, merged, moved, retyped cells)
lives in :mod:`lab_utils.instructor.reshape`.
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import ClearHiddenTests, DeduplicateIds, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# IPython quotes source lines as "---> 12 code" or "     12 code".
_QUOTED = re.compile(r"^\s*(?:-*>)?\s*\d+\s(.*)$")


HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
SOLUTION_BEGIN, SOLUTION_END = "BEGIN SOLUTION", "END SOLUTION"


def split_regions(source: str, begin: str = HIDDEN_BEGIN, end: str = HIDDEN_END):
    """Split a cell's source into ``(public lines, region lines)`` around marked regions.

    A line containing ``begin`` opens a region and one containing ``end`` closes it (as
    nbgrader's ``ClearHiddenTests`` / ``ClearSolutions`` read them); the marker lines count
    as region lines.  Used for hidden tests (the default markers) and for solutions
    (``SOLUTION_BEGIN``, ``SOLUTION_END``).
    """
    public, region, inside = [], [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        (region if inside else public).append(line)
        if end in line:
            inside = False
    return public, region


def hidden_lines(source: str, begin: str = HIDDEN_BEGIN, end: str = HIDDEN_END) -> set[str]:
    """Stripped, non-empty lines of the hidden regions of a cell (markers included)."""
    return {line.strip() for line in split_regions(source, begin, end)[1] if line.strip()}


def scrub_traceback(entry: str, hidden: set[str]) -> str:
    """Remove from one traceback entry every quoted source line that is in ``hidden``."""
    kept = []
    for line in entry.split("\n"):
        match = _QUOTED.match(_ANSI.sub("", line))
        if match and match.group(1).strip() in hidden:
            continue
        kept.append(line)
    return "\n".join(kept)


class ClearHiddenTestsAndTracebacks(ClearHiddenTests):
    """Strip hidden test regions from grade cells and from their error tracebacks."""

    def preprocess_cell(self, cell, resources, cell_index):
        hidden = set()
        if cell.cell_type == "code":
            hidden = hidden_lines(cell.source, self.begin_test_delimeter,
                                   self.end_test_delimeter)
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if hidden:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [scrub_traceback(t, hidden) for t in output["traceback"]]
        return cell, resources


class DeduplicateIdsDropMetadata(DeduplicateIds):
    """Like nbgrader's DeduplicateIds, but a duplicate loses its ``nbgrader`` key entirely.

    nbgrader 0.9.6 empties the duplicate's metadata (``{}``), and with
    ``OverwriteCells.add_missing_cells`` on, ``add_missing_task_cells`` then fails with
    ``KeyError: 'grade_id'`` on that empty dict: a student who duplicated a graded cell
    crashed the autograder.  As in nbgrader, the *last* copy of a cell is graded and the
    earlier copies become ordinary cells.  Upstream: jupyter/nbgrader#1083 (duplicated cells
    break autograding) and #1770 (``add_missing_cells``, whose lookup trips on the emptied
    metadata).
    """

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.get("metadata", {}).get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


#: Put before what a test cell wrote to stderr once it no longer counts as a failure.
STDERR_NOTE = "[stderr, not counted as a failure: the test passed]\n"


class StderrIsNotFailure(NbGraderPreprocessor):
    """A test cell that did not raise keeps its points, whatever it wrote to stderr.

    nbgrader 0.9.6 scores a test cell 0 as soon as one of its outputs is a ``stderr``
    stream (``nbgrader.utils.determine_grade``), so a *correct* answer that issues a
    warning, logs a record (Python's logging writes to stderr) or prints to
    ``sys.stderr`` while its test runs lost every point.  The course's tests fail by
    raising (:class:`lab_utils.checks.CheckError`, or any exception of the student's
    code), which nbgrader records as an ``error`` output.  So, in autograded test cells
    only, and only when the cell has no ``error`` output, each stderr stream becomes a
    stdout stream headed by :data:`STDERR_NOTE` (kept in the graded notebook and the
    feedback).  A cell that raised, timed out or lost its kernel keeps its ``error`` output
    and still scores 0; answer cells and ordinary cells are left alone.

    Placed in ``Autograde.autograde_preprocessors`` between ``Execute`` and
    ``SaveAutoGrades``.  Upstream: nbgrader's stderr rule is ``determine_grade``; its own
    remedy, ``IgnorePattern`` (jupyter/nbgrader#1904), deletes stderr outputs that match a
    pattern known in advance, which a student's own warnings never are.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            return cell, resources
        outputs = cell.get("outputs", [])
        if any(o.get("output_type") == "error" for o in outputs):
            return cell, resources
        for output in outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                output["name"] = "stdout"
                output["text"] = STDERR_NOTE + output.get("text", "")
        return cell, resources


# --- nbgrader's log -----------------------------------------------------------------------

_RAISED = re.compile(r"^(?:[\w]+\.)*(\w+(?:Error|Exception): .*)$")


def last_error(log: str) -> str:
    """One line for a failed nbgrader run: why the sandbox killed the kernel, if it did;
    else the last exception its log shows (module path
    dropped; nbgrader's closing ``NbGraderException: Please see the above traceback`` only
    when nothing more specific was raised), else the last line that mentions an error.

    Used for the autograde report's message, whether nbgrader ran in a process of its own
    or in a Dask worker (:mod:`lab_utils.instructor.cluster`)."""
    from lab_utils.instructor.sandbox import KILLED_MARK

    lines = [line.strip() for line in log.splitlines() if line.strip()]
    killed = [line.split(KILLED_MARK, 1)[1].strip() for line in lines if KILLED_MARK in line]
    if killed:  # the sandbox killed the kernel: say why, not nbgrader's DeadKernelError
        return killed[-1][:300]
    raised = [m.group(1) for m in map(_RAISED.match, lines) if m]
    specific = [r for r in raised if not r.startswith("NbGraderException")]
    if raised:
        return (specific or raised)[-1][:300]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors or lines or ["no output"])[-1][:300]
