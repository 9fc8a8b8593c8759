"""Simulated classes of submissions, for the grading tests and the benchmark.

A *class* maps a student id to a :class:`Submission`: what the student hands in (a
notebook, raw bytes, or a notebook under a wrong file name) and which test cells it must
lose (``None``: it cannot be graded and must be reported).  Built from a lab's source
and released notebooks and its cases in :mod:`lab_utils.instructor.cases`:

- :func:`lab_class` -- the perfect submission, the untouched lab and one realistic
  mistake: graded end to end through nbgrader for every lab;
- :func:`fault_class` -- what goes wrong *around* the answers (a syntax error, an
  exception in an extra first cell, an infinite loop, duplicated and deleted test cells,
  another kernel, an empty, corrupt or misnamed file): independent of the lab's content,
  graded end to end on one lab;
- :func:`mistakes` -- every realistic mistake of the lab (at least one per answer cell);
  :func:`kernel_grades` grades them all in one kernel by re-running only the exercise's
  cells, and the tests check on one mistake per lab that nbgrader gives the same grade.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.utils import determine_grade, is_grade, is_solution

from lab_utils.instructor import grading
from lab_utils.instructor.cases import CASES


@dataclass
class Submission:
    """One student's hand-in.

    ``content`` is a notebook, raw ``bytes`` (a corrupt file) or ``(file name, notebook)``
    (a notebook saved under another name).  ``lost`` lists the autograded test cells it
    must score 0 on (every other one full marks), or is ``None`` for a submission that
    cannot be graded and must be reported.
    """

    content: object
    lost: list[str] | None


def _cell(nb, cell_id):
    matches = [c for c in nb.cells if grading.grade_id(c) == cell_id]
    if len(matches) != 1:
        raise KeyError(f"no unique cell {cell_id!r} in the notebook")
    return matches[0]


def edit(nb, cell_id: str, old: str, new: str):
    """A copy of ``nb`` where cell ``cell_id`` has ``old`` replaced by ``new``."""
    nb = copy.deepcopy(nb)
    cell = _cell(nb, cell_id)
    if old not in cell.source:
        raise ValueError(f"{cell_id} does not contain {old!r}: update the lab's cases")
    cell.source = cell.source.replace(old, new)
    return nb


def _prefixed(nb, cell_id: str, prefix: str):
    nb = copy.deepcopy(nb)
    cell = _cell(nb, cell_id)
    cell.source = prefix + cell.source
    return nb


def _without(nb, cell_id: str):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if grading.grade_id(c) != cell_id]
    return nb


def _duplicated(nb, cell_id: str):
    nb = copy.deepcopy(nb)
    index = nb.cells.index(_cell(nb, cell_id))
    twin = copy.deepcopy(nb.cells[index])
    twin["id"] = twin["id"] + "-copy"
    nb.cells.insert(index + 1, twin)
    return nb


def autograded_tests(nb) -> list[str]:
    """The grade ids of the autograded test cells (graded code cells that are not answers)."""
    return [grading.grade_id(c) for c in nb.cells
            if c.cell_type == "code" and is_grade(c) and not is_solution(c)]


def mistakes(source, released, lab: str) -> dict[str, Submission]:
    """Every realistic mistake of ``lab``: the perfect submission with one exercise wrong."""
    perfect = grading.perfect_submission(source, released)
    return {name: Submission(edit(perfect, cell_id, old, new), list(lost))
            for name, (cell_id, old, new, lost) in CASES[lab]["wrong"].items()}


def lab_class(source, released, lab: str) -> dict[str, Submission]:
    """The perfect submission, the untouched lab and the lab's ``compare`` mistake."""
    compare = CASES[lab]["compare"]
    return {
        "perfect": Submission(grading.perfect_submission(source, released), []),
        "untouched": Submission(released, autograded_tests(released)),
        compare: mistakes(source, released, lab)[compare],
    }


def fault_class(source, released, lab: str) -> dict[str, Submission]:
    """Lab-independent faults around the answers, each graded or reported as documented.

    - ``first_cell_exception``, ``duplicated`` (the last copy is graded), ``deleted`` (the
      test cell is restored and graded) and ``other_kernel`` (the course's kernel is used)
      score like the perfect submission;
    - ``syntax_error`` and ``infinite_loop`` (cut by the cell timeout) lose their exercise;
    - ``deleted_wrong``: a wrong answer whose test cell was deleted still loses its points;
    - ``empty_notebook`` and ``corrupt_file`` are reported; ``wrong_filename`` is reported
      when the class is collected (it never reaches the grader).
    """
    case = CASES[lab]
    perfect = grading.perfect_submission(source, released)
    wrong = mistakes(source, released, lab)
    other = copy.deepcopy(perfect)
    other.metadata["kernelspec"] = {"name": "python3-old-env", "display_name": "Old env",
                                    "language": "python"}
    first = copy.deepcopy(perfect)
    first.cells.insert(0, nbformat.v4.new_code_cell("raise RuntimeError('my own experiment')"))
    syntax_cell, *_ = case["wrong"][case["syntax_error"]]
    loop_cell, *_ = case["wrong"][case["infinite_loop"]]
    compare = wrong[case["compare"]]
    return {
        "perfect_again": Submission(copy.deepcopy(perfect), []),
        "first_cell_exception": Submission(first, []),
        "duplicated": Submission(_duplicated(perfect, case["duplicated_test"]), []),
        "deleted": Submission(_without(perfect, case["deleted_test"]), []),
        "other_kernel": Submission(other, []),
        "syntax_error": Submission(_prefixed(perfect, syntax_cell, "def broken(:\n    pass\n\n"),
                                   wrong[case["syntax_error"]].lost),
        "infinite_loop": Submission(_prefixed(perfect, loop_cell, "while True:\n    pass\n\n"),
                                    wrong[case["infinite_loop"]].lost),
        "deleted_wrong": Submission(_without(compare.content, compare.lost[0]), compare.lost),
        "empty_notebook": Submission(nbformat.v4.new_notebook(), None),
        "corrupt_file": Submission(b'{"cells": [ this is not JSON', None),
        "wrong_filename": Submission(("Copy of my lab.ipynb", perfect), None),
    }


def write_class(folder, lab: str, subs: dict[str, Submission]) -> Path:
    """Write a class as an instructor receives it: ``<folder>/<student>/<lab>.ipynb``."""
    folder = Path(folder)
    for student, sub in subs.items():
        target = folder / student
        target.mkdir(parents=True, exist_ok=True)
        if isinstance(sub.content, bytes):
            (target / f"{lab}.ipynb").write_bytes(sub.content)
        elif isinstance(sub.content, tuple):
            name, nb = sub.content
            nbformat.write(nb, target / name)
        else:
            nbformat.write(sub.content, target / f"{lab}.ipynb")
    return folder


def _test_grades(cells) -> dict[str, float]:
    return {grading.grade_id(c): determine_grade(c)[0] for c in cells
            if c.cell_type == "code" and is_grade(c) and not is_solution(c)}


def _with_source_tests(nb, source):
    """A copy of ``nb`` whose test and locked cells are the source's (hidden tests included),
    as nbgrader's ``OverwriteCells`` puts them back before grading."""
    originals = {grading.grade_id(c): c.source for c in source.cells
                 if grading.grade_id(c) and not is_solution(c)}
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if grading.grade_id(cell) in originals:
            cell.source = originals[grading.grade_id(cell)]
    return nb


def kernel_grades(source, perfect, subs: dict[str, Submission], cwd, timeout: int = 300):
    """Grade single-exercise mistakes in one kernel, by nbgrader's scoring rule.

    Test cells run as nbgrader runs them: taken from the ``source`` notebook, hidden tests
    included.  The perfect submission runs once, top to bottom, as nbgrader runs it (grading mode,
    one thread).  Then, for each mistake, the edited answer cell and the rest of its
    exercise (every cell up to the next answer cell: its tests and the demonstrations
    that use it) run again, followed by every later test cell; the scores come from
    nbgrader's own ``determine_grade``.  Before the next exercise's mistakes, the correct
    exercise is re-run, so that they start from the perfect state.

    Returns
    -------
    (perfect scores, {mistake: scores})
        Scores map each autograded test cell's grade id to its points.
    """
    from nbclient import NotebookClient

    nb = _with_source_tests(perfect, source)
    env = dict(grading._env(), NBGRADER_EXECUTION="autograde")
    # nbclient stores every executed cell back into client.nb: give it a scratch copy, and
    # run copies of our cells so that the perfect ones stay as they are.
    client = NotebookClient(copy.deepcopy(nb), timeout=timeout, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(cwd)}})

    def run(cells, indices):
        done = []
        for i in indices:
            cell = copy.deepcopy(cells[i])
            if cell.cell_type == "code":
                client.execute_cell(cell, i)
            done.append(cell)
        return _test_grades(done)

    answers = [i for i, c in enumerate(nb.cells) if is_solution(c) and c.cell_type == "code"]
    plans = []
    for name, sub in subs.items():
        cells = _with_source_tests(sub.content, source).cells
        edited = [i for i, (a, b) in enumerate(zip(nb.cells, cells, strict=True))
                  if a.source != b.source]
        if len(edited) != 1 or edited[0] not in answers:
            raise ValueError(f"{name}: kernel_grades takes one edited answer cell")
        start = edited[0]
        stop = next((i for i in answers if i > start), len(nb.cells))
        later_tests = set(autograded_tests(nbformat.v4.new_notebook(cells=cells[stop:])))
        rerun = list(range(start, stop)) + [
            i for i in range(stop, len(cells)) if grading.grade_id(cells[i]) in later_tests]
        plans.append((start, stop, name, cells, rerun))
    # Mistakes of one exercise follow each other: re-running the exercise with the next
    # mistake replaces the previous one, so the perfect state is restored only between
    # exercises.
    plans.sort(key=lambda plan: plan[0])
    results = {}
    with client.setup_kernel(env=env):
        baseline = run(nb.cells, range(len(nb.cells)))
        for k, (start, stop, name, cells, rerun) in enumerate(plans):
            results[name] = {**baseline, **run(cells, rerun)}
            if k + 1 < len(plans) and plans[k + 1][0] != start:
                restored = run(nb.cells, range(start, stop))  # back to the perfect state
                if any(restored[key] != baseline[key] for key in restored):
                    raise RuntimeError(f"{name}: re-running the correct exercise did not "
                                       f"restore its grades ({restored} vs {baseline})")
    return baseline, results


__all__ = ["Submission", "autograded_tests", "edit", "fault_class", "kernel_grades",
           "lab_class", "mistakes", "write_class"]
