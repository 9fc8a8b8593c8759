""""Does my notebook pass every visible test, run from top to bottom?" -- one call.

nbgrader's *Validate* button answers that in JupyterLab, but not on Google Colab (no
nbgrader there).  :func:`check_notebook` answers it everywhere: it runs a copy of the
notebook in a fresh kernel, top to bottom, with the short training budgets of grading,
goes on after a failure (Colab's *Run all* stops at the first one), and lists every
visible test cell with PASS or FAIL and the first line of the failure.  The scoring rule
is the grader's: a test passes unless it raises; warnings and log messages do not count.

Used by students, in a new cell at the end of any lab (Labs 1-4)::

    from lab_utils import check_notebook
    check_notebook()

On Colab the notebook is taken from the open tab (unsaved changes included); elsewhere
from the file (``path``, or the only ``lab*.ipynb`` in the working folder: save first).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab_utils.colab import current_notebook, in_colab
from lab_utils.config import FAST_ENV, NBGRADER_EXECUTION_ENV, SELFCHECK_ENV, cell_timeout


@dataclass
class TestResult:
    """One visible test cell after the run: ``error`` is '' when it passed."""

    grade_id: str
    points: float
    error: str


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_test(cell) -> bool:
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) \
        and not meta.get("solution")


def _first_error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
    return ""


def results(executed_nb) -> tuple[list[TestResult], list[str]]:
    """(visible test results, other cells that raised) of an executed notebook."""
    tests, others = [], []
    for i, cell in enumerate(executed_nb.cells):
        error = _first_error(cell) if cell.get("cell_type") == "code" else ""
        if _is_test(cell):
            tests.append(TestResult(_nbgrader(cell).get("grade_id", f"cell {i}"),
                                    float(_nbgrader(cell).get("points", 0)), error))
        elif error:
            name = _nbgrader(cell).get("grade_id") or f"cell {i + 1}"
            others.append(f"{name} ({error[:120]})")
    return tests, others


def report(tests: list[TestResult], others: list[str], name: str, seconds: float) -> str:
    """The text :func:`check_notebook` prints."""
    lines = [f"Self-check of {name}: every cell run from top to bottom in a fresh kernel, "
             f"with the short training budgets used when grading ({seconds:.0f} s)."]
    for t in tests:
        status = "PASS" if not t.error else "FAIL"
        lines.append(f"  {status}  {t.grade_id} ({t.points:g} point{'' if t.points == 1 else 's'})"
                     + (f": {t.error[:300]}" if t.error else ""))
    passed = [t for t in tests if not t.error]
    lines.append(f"{len(passed)} of {len(tests)} visible tests pass "
                 f"({sum(t.points for t in passed):g} of {sum(t.points for t in tests):g} "
                 f"points). Hidden tests run only when the notebook is graded; written "
                 f"answers are graded by hand.")
    if not tests:
        lines.append("No test cell was found: is this the lab's notebook, with its test "
                     "cells? Download a fresh copy of the lab if you deleted them.")
    if others:
        lines.append("Other cells that raised an error: " + "; ".join(others[:5])
                     + (" ..." if len(others) > 5 else ""))
    return "\n".join(lines)


def _find_notebook(path) -> Path:
    if path is not None:
        return Path(path)
    found = sorted(Path.cwd().glob("lab*.ipynb"))
    if len(found) != 1:
        raise FileNotFoundError(
            f"check_notebook: found {len(found)} lab notebooks in {Path.cwd()} "
            f"({', '.join(p.name for p in found) or 'none'}); pass the file, e.g. "
            f"check_notebook('lab1_embeddings.ipynb')")
    return found[0]


def check_notebook(path=None, *, timeout: int | None = None, quiet: bool = False):
    """Run the notebook from top to bottom in a fresh kernel and report every visible test.

    Parameters
    ----------
    path : path-like, optional
        The notebook file (default: on Colab the open notebook; elsewhere the only
        ``lab*.ipynb`` in the working folder -- save it first).
    timeout : int, optional
        Seconds a cell may run (default: the grader's, ``$LAB_UTILS_CELL_TIMEOUT``).
    quiet : bool
        Do not print the report.

    Returns
    -------
    list of TestResult, or None
        None when called while the notebook is being graded or self-checked (the call is
        then skipped, so leaving it in the notebook is harmless).
    """
    import nbformat
    from nbclient import NotebookClient

    if os.environ.get(SELFCHECK_ENV) or os.environ.get(NBGRADER_EXECUTION_ENV):
        return None
    if path is None and in_colab():
        # Colab sends the raw JSON (sources as lists of lines): read it as a file would be
        nb = nbformat.reads(json.dumps(current_notebook()), as_version=4)
        name, cwd = "this notebook", Path.cwd()
    else:
        file = _find_notebook(path)
        nb, name, cwd = nbformat.read(file, as_version=4), file.name, file.resolve().parent
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    env = dict(os.environ, **{FAST_ENV: "1", SELFCHECK_ENV: "1"})
    client = NotebookClient(nb, timeout=timeout or cell_timeout(), kernel_name="python3",
                            allow_errors=True, interrupt_on_timeout=True,
                            resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):  # kernel start-up chatter
        for index, cell in enumerate(nb.cells):
            if cell.get("cell_type") == "code":
                client.execute_cell(cell, index)
    tests, others = results(nb)
    if not quiet:
        print(report(tests, others, name, time.perf_counter() - start))
    return tests


__all__ = ["TestResult", "check_notebook", "report", "results"]
