"""Simulated classes of submissions, for the grading tests and the benchmark.

A *class* maps a student id to a :class:`Submission`: what the student hands in (a
notebook, raw bytes, or a notebook under a wrong file name) and which test cells it must
lose (``None``: it cannot be graded and must be reported).  Built from a lab's source
and released notebooks and its cases in :mod:`tests.cases`:

- :func:`lab_class` -- the perfect submission, the untouched lab and one realistic
  mistake: graded end to end through nbgrader for every lab;
- :func:`fault_class` -- what goes wrong *around* the answers (a syntax error, an
  exception in an extra first cell, an infinite loop, duplicated and deleted test cells,
  another kernel, an empty, corrupt or misnamed file): independent of the lab's content,
  graded end to end on one lab;
- :func:`reshaped_class` -- submissions as editors leave them (cells split, merged,
  moved, retyped or deleted; saved by Colab, VS Code or an nbformat 4.4 client; metadata
  lost; megabytes of stale output; correct but noisy answers), built with
  :mod:`tests.support.editors`: graded end to end on one lab;
- :func:`colab_pair` -- a correct submission and the untouched lab as Colab saves them;
- :func:`right_answers` -- every correct alternative of the lab (its ``right`` cases);
  :func:`right_groups` packs them into as few notebooks as possible, and
  :func:`with_rights` answers a group inside a submission (full marks on its exercises);
  :func:`exercise_checks` runs each exercise's visible and hidden tests on the solution and
  every alternative under many notebook seeds, and on every mistake with and without its
  hidden tests, in one kernel;
- :func:`mistakes` -- every realistic mistake of the lab (at least one per answer cell);
  :func:`kernel_grades` grades them all in one kernel by re-running only the exercise's
  cells, and the tests check on one mistake per lab that nbgrader gives the same grade.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import nbformat
from nbgrader.utils import determine_grade, is_grade, is_solution

from lab_utils.instructor import grading
from tests.cases import CASES
from tests.support import editors
from tests.support.editors import colab_saved


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


def wrong_cases(lab: str) -> dict[str, tuple]:
    """``lab``'s wrong cases as ``(answer cell, old, new, lost test cells, options)``.

    A case may carry a fifth element, a dict of options: ``{"hidden_only": True}`` marks a
    mistake that only the hidden tests catch, on purpose (its hint must not name it); every
    other mistake must be caught by the visible test already.
    """
    out = {}
    for name, case in CASES[lab]["wrong"].items():
        if len(case) not in (4, 5) or (len(case) == 5 and not isinstance(case[4], dict)):
            raise ValueError(f"{lab} wrong case {name}: expected (answer cell, old, new, "
                             "lost[, options])")
        out[name] = (*case[:4], dict(case[4]) if len(case) == 5 else {})
    return out


def mistakes(source, released, lab: str) -> dict[str, Submission]:
    """Every realistic mistake of ``lab``: the perfect submission with one exercise wrong."""
    perfect = grading.perfect_submission(source, released)
    return {name: Submission(edit(perfect, cell_id, old, new), list(lost))
            for name, (cell_id, old, new, lost, _) in wrong_cases(lab).items()}


def replace_cell(nb, cell_id: str, new: str):
    """A copy of ``nb`` whose cell ``cell_id`` holds ``new`` instead of its whole source."""
    nb = copy.deepcopy(nb)
    _cell(nb, cell_id).source = new
    return nb


def _apply(nb, edits):
    """``nb`` with a right case's edits: ``(answer cell, old, new)``, ``old=None`` replacing
    the whole cell by ``new``."""
    for cell_id, old, new in edits:
        nb = replace_cell(nb, cell_id, new) if old is None else edit(nb, cell_id, old, new)
    return nb


def right_answers(source, released, lab: str) -> dict[str, Submission]:
    """Every correct alternative of ``lab`` (its cases' ``right``): the perfect submission
    with one exercise answered another correct way; each must earn full marks."""
    perfect = grading.perfect_submission(source, released)
    return {name: Submission(_apply(perfect, edits), [])
            for name, edits in CASES[lab].get("right", {}).items()}


def _right_by_exercise(lab: str) -> dict[str, list[str]]:
    """The right cases of ``lab`` grouped by the first answer cell they edit, in order."""
    groups: dict[str, list[str]] = {}
    for name, edits in CASES[lab].get("right", {}).items():
        groups.setdefault(edits[0][0], []).append(name)
    return groups


def right_groups(lab: str) -> list[list[str]]:
    """``lab``'s right cases packed into as few groups as possible, each group answerable in
    one notebook: group ``k`` holds the k-th correct alternative of every exercise that has
    one, so that the number of groups is the largest number of alternatives of one exercise,
    not the number of right cases.  A case that edits the cells of another case of the same
    group goes to the next group."""
    cases = CASES[lab].get("right", {})
    pending = [name for names in zip_longest(*_right_by_exercise(lab).values())
               for name in names if name]
    groups = []
    while pending:
        group, touched, later = [], set(), []
        for name in pending:
            cells = {cell_id for cell_id, *_ in cases[name]}
            if cells & touched:
                later.append(name)
                continue
            group.append(name)
            touched |= cells
        groups.append(group)
        pending = later
    return groups


def right_cells(lab: str, names) -> set[str]:
    """The answer cells that the right cases ``names`` of ``lab`` edit."""
    return {cell_id for name in names for cell_id, *_ in CASES[lab]["right"][name]}


def with_rights(sub: Submission, lab: str, names) -> Submission:
    """``sub`` with the right cases ``names`` of ``lab`` applied (cells it does not change
    otherwise): the same cells lost, more correct alternatives graded on the way."""
    return Submission(_apply(sub.content, [e for name in names
                                           for e in CASES[lab]["right"][name]]), sub.lost)


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

    Faults that touch different cells share a submission (each submission is a full
    grading run, so the class stays small), and its expected grades still say which fault
    was mishandled:

    - ``harmless_faults``: an exception in an extra first cell (the rest still runs), a
      duplicated test cell (the last copy is graded), a deleted test cell (restored and
      graded) and another kernel name (the course's kernel is used): scores like the
      perfect submission;
    - ``broken_answers``: a syntax error in one answer, an infinite loop in another (cut by
      the cell timeout) and a wrong answer whose test cell was deleted: each loses its
      exercise's points, and only those;
    - ``empty_notebook`` and ``corrupt_file`` are reported; ``wrong_filename`` is reported
      when the class is collected (it never reaches the grader).
    """
    case = CASES[lab]
    perfect = grading.perfect_submission(source, released)
    wrong = mistakes(source, released, lab)
    harmless = _duplicated(_without(perfect, case["deleted_test"]), case["duplicated_test"])
    harmless.metadata["kernelspec"] = {"name": "python3-old-env", "display_name": "Old env",
                                       "language": "python"}
    harmless.cells.insert(0, nbformat.v4.new_code_cell("raise RuntimeError('my own experiment')"))
    syntax_cell, *_ = case["wrong"][case["syntax_error"]]
    loop_cell, *_ = case["wrong"][case["infinite_loop"]]
    if len({syntax_cell, loop_cell, case["wrong"][case["compare"]][0]}) != 3:
        raise ValueError(f"{lab}: the syntax error, the infinite loop and the compare case "
                         "must be in three different answer cells")
    compare = wrong[case["compare"]]
    broken = _without(compare.content, compare.lost[0])
    broken = _prefixed(broken, syntax_cell, "def broken(:\n    pass\n\n")
    # endless, but asleep: the cell timeout cuts it as it cuts a busy loop, without burning
    # the CPU that the rest of the suite grades with
    broken = _prefixed(broken, loop_cell, "import time\n\nwhile True:\n    time.sleep(0.2)\n\n")
    lost = [*compare.lost, *wrong[case["syntax_error"]].lost, *wrong[case["infinite_loop"]].lost]
    return {
        "harmless_faults": Submission(harmless, []),
        "broken_answers": Submission(broken, list(dict.fromkeys(lost))),
        "empty_notebook": Submission(nbformat.v4.new_notebook(), None),
        "corrupt_file": Submission(b'{"cells": [ this is not JSON', None),
        "wrong_filename": Submission(("Copy of my lab.ipynb", perfect), None),
    }


def answer_cells(nb) -> list[str]:
    """Grade ids of the autograded answer cells (code cells a student writes in)."""
    return [grading.grade_id(c) for c in nb.cells if c.cell_type == "code" and is_solution(c)]


def exercise_tests(nb, answer_id: str) -> list[str]:
    """The autograded test cells of an answer cell: those before the next answer cell."""
    tests, seen = [], False
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            if seen:
                break
            seen = grading.grade_id(cell) == answer_id
        elif seen and cell.cell_type == "code" and is_grade(cell):
            tests.append(grading.grade_id(cell))
    return tests


#: Put before a "noisy" answer: its functions print, write to stderr, warn and log each
#: time they run.
NOISE = """
import functools as _functools
import logging as _logging
import sys as _sys
import warnings as _warnings


def _noisy(function):
    @_functools.wraps(function)
    def wrapper(*args, **kwargs):
        print("calling", function.__name__)
        print("debug:", function.__name__, file=_sys.stderr)
        _warnings.warn(f"{function.__name__}: a warning from my own code", stacklevel=2)
        _logging.getLogger("my_lab").warning("%s called", function.__name__)
        return function(*args, **kwargs)
    return wrapper
"""


def noisy(nb, answer_ids):
    """Make the functions of some answer cells print, write to stderr, warn and log each
    time they run (while their tests run too); what they return is unchanged."""
    nb = copy.deepcopy(nb)
    for answer_id in answer_ids:
        cell = _cell(nb, answer_id)
        names = [line[4:].split("(")[0] for line in cell.source.split("\n")
                 if line.startswith("def ")]
        cell.source = (NOISE.strip() + "\n\n\n" + cell.source + "\n\n\n"
                       + "\n".join(f"{n} = _noisy({n})" for n in names))
    return nb


def _heavy_outputs(nb, megabytes: float = 1.0):
    """Give every code cell that is not graded the outputs of a long, chatty session."""
    nb = copy.deepcopy(nb)
    line = "0.123456789 " * 8 + "\n"
    text = line * int(megabytes * 1e6 / len(line))
    image = "iVBORw0KGgo" + "A" * int(megabytes * 1e6)
    for count, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code" and not is_grade(cell):
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text),
                            nbformat.v4.new_output("display_data",
                                                   data={"image/png": image,
                                                         "text/plain": "<Figure>"})]
    return nb


def _claims_success(nb, test_id: str):
    """A stale output on a test cell: it passed once, before the answer was broken."""
    nb = copy.deepcopy(nb)
    cell = _cell(nb, test_id)
    cell.execution_count = 42
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="All checks passed.\n")]
    return nb


def _merge_at(nb, grade_id: str, offset: int = 0):
    return editors.merge_with_next(nb, editors.index_of(nb, grade_id) + offset)


def reshaped_class(source, released, lab: str) -> dict[str, Submission]:
    """Submissions as editors leave them, each graded as the student meant it.

    Lab-independent (graded end to end on one lab); the lab needs at least four answer
    cells.  Several reshapings share a notebook when they touch different exercises, so
    that the expected grades still say which reshaping failed:

    - ``lab_edits_a``: answer 1 split in two, a test of answer 2 split in two, answer 3
      merged with its test cell, answer 4 turned into a Markdown cell: full marks;
    - ``lab_edits_b``: a test of answer 1 turned into a raw cell, answer 3 deleted (loses
      its tests only), an answer whose halves run on their own (answer 4, else 2 or 1) split
      with a cell of the student's between the halves, and another of answers 2 and 4 moved
      below its tests;
    - ``merged_and_moved``: the last test of answer 1 merged with the cell below it,
      answer 2 merged into the cell above it, answers 3 and 4 deleted (several: they lose
      their tests), the last test cell moved to the end, and the student's own line typed
      into the locked set-up cell (Colab ignores the lock), which answer 1 relies on;
    - ``vscode_saved``, ``old_client_4_4``, ``metadata_lost``: the perfect submission saved
      by VS Code, by an nbformat 4.4 client (no cell ids, another kernel), by an editor that
      drops cell metadata: full marks;
    - ``colab_saved``: the perfect submission, every answer of which prints, writes to
      stderr, warns and logs while its tests run, saved by Colab: full marks;
    - ``colab_untouched``: the released lab saved by Colab: 0;
    - ``heavy_stale_output``: megabytes of saved outputs, and a wrong (and noisy) answer
      whose test cell still shows a stale "All checks passed.": loses that exercise.
    """
    perfect = grading.perfect_submission(source, released)
    answers = answer_cells(released)
    if len(answers) < 4:
        raise ValueError(f"{lab}: reshaped_class needs 4 answer cells, found {len(answers)}")
    a1, a2, a3, a4 = answers[:4]
    tests = {a: exercise_tests(released, a) for a in answers}
    all_tests = autograded_tests(released)

    nb = editors.split_cell(perfect, a1)
    nb = editors.split_cell(nb, tests[a2][0])
    nb = _merge_at(nb, a3)
    lab_edits_a = editors.retype(nb, a4, "markdown")

    # The answer split around a cell of the student's is one whose halves run on their own
    # (split between two functions, as a student would): a function cut in the middle with
    # a cell between its halves fails in the student's own notebook too.
    split = next((a for a in (a4, a2, a1) if editors.top_level_split(_cell(perfect, a))), a4)
    moved = a2 if split != a2 else a4
    nb = editors.retype(perfect, tests[a1][0], "raw")
    nb = editors.move(nb, moved, len(tests[moved]))
    nb = editors.delete(nb, a3)
    own = nbformat.v4.new_code_cell("print('checking my answer so far')")
    lab_edits_b = editors.split_cell(nb, split, between=own)

    setup = next(c for c in perfect.cells if c.cell_type == "code" and not is_grade(c)
                 and c.metadata.get("nbgrader", {}).get("locked"))
    nb = copy.deepcopy(perfect)
    _cell(nb, grading.grade_id(setup)).source += "\n\nMY_SETUP_DONE = True  # my own line"
    _cell(nb, a1).source = "assert MY_SETUP_DONE\n" + _cell(nb, a1).source
    nb = _merge_at(nb, tests[a1][-1])
    nb = _merge_at(nb, a2, -1)
    nb = editors.delete(editors.delete(nb, a3), a4)
    merged_and_moved = editors.move(nb, all_tests[-1])

    compare = CASES[lab]["compare"]
    wrong = mistakes(source, released, lab)[compare]
    wrong_answer = CASES[lab]["wrong"][compare][0]
    heavy = noisy(_heavy_outputs(wrong.content), [wrong_answer])
    heavy = _claims_success(heavy, wrong.lost[0])

    return {
        "lab_edits_a": Submission(lab_edits_a, []),
        "lab_edits_b": Submission(lab_edits_b, tests[a3]),
        "merged_and_moved": Submission(merged_and_moved, tests[a3] + tests[a4]),
        "vscode_saved": Submission(editors.vscode_saved(perfect), []),
        "old_client_4_4": Submission(editors.old_client_saved(perfect), []),
        "metadata_lost": Submission(editors.without_metadata(perfect), []),
        **colab_pair(released, noisy(perfect, answers)),
        "heavy_stale_output": Submission(heavy, wrong.lost),
    }


def colab_pair(released, correct) -> dict[str, Submission]:
    """A correct submission (full marks) and the untouched lab (0) as Colab saves them."""
    return {
        "colab_saved": Submission(colab_saved(correct), []),
        "colab_untouched": Submission(colab_saved(released), autograded_tests(released)),
    }


def autograded_scores(scores: dict) -> dict:
    """The autograded cells of :func:`grading.scores`' per-cell scores (written answers,
    graded by hand, left out)."""
    return {k: v for k, v in scores.items() if not v.manual}


def score_differences(subs: dict[str, Submission], results: dict) -> list[str]:
    """Where graded submissions did not score as their cases say (empty when all did).

    ``results`` maps a student to :func:`grading.scores`' per-cell scores; written answers
    are left out.  A submission must lose exactly its ``lost`` test cells, scoring 0 there.
    Used by the simulated-class tests (``tests/test_class.py``, ``tests/test_reshaped.py``).
    """
    problems = []
    for student, sub in subs.items():
        if sub.lost is None:
            continue
        scores = autograded_scores(results.get(student, {}))
        lost = {k for k, v in scores.items() if v.score != v.max_score}
        if not scores:
            problems.append(f"{student}: no autograded score")
        elif lost != set(sub.lost) or any(scores[k].score != 0 for k in sub.lost):
            problems.append(f"{student}: lost {sorted(lost)}, expected {sorted(sub.lost)}")
    return problems


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


def autograde_score(cell):
    """The points nbgrader's autograde gives an executed test cell, as this course configures
    it (``nbgrader_config.py``): its preprocessors that change a score run first -- the
    course's :class:`~lab_utils.instructor.nbgrader_ext.StderrIsNotFailure` (``IgnorePattern``
    has no pattern here) -- then nbgrader's own ``determine_grade``.  The fast graders of this
    module score with it, so they give nbgrader's grade to a passing test that wrote to stderr.
    """
    from lab_utils.instructor.nbgrader_ext import StderrIsNotFailure

    cell, _ = StderrIsNotFailure().preprocess_cell(copy.deepcopy(cell), {}, 0)
    return determine_grade(cell)[0]


def _test_grades(cells) -> dict[str, float]:
    return {grading.grade_id(c): autograde_score(c) for c in cells
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


#: Re-seeds the notebook as its set-up cell does with ``setup_notebook(seed=...)``: Python's
#: ``random``, NumPy's global generator and TensorFlow/Keras (default initialisers included).
RESEED = "import keras as _keras\n_keras.utils.set_random_seed({seed})"


def _failure(cell) -> str:
    """The last line of a failed test cell's error (or its stderr), for a report."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue', '')}"[:400]
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return "stderr: " + out.get("text", "")[:400]
    return "partial credit"


@dataclass
class ExerciseChecks:
    """What :func:`exercise_checks` found in one lab.

    ``failures``: ``(answer, seed, test cell, message)`` for every test cell below full
    marks on a correct answer (the solution, ``solution:<answer cell>``, or a ``right``
    case); ``runs``: the (correct answer, seed) pairs run; ``catches``: for each ``wrong``
    case, ``{"visible": [...], "hidden": [...]}``, the test cells below full marks with
    their hidden tests removed (as students see them) and with them (as nbgrader grades);
    ``seconds``: wall time of the top-to-bottom run and of each exercise.
    """

    failures: list
    runs: int
    catches: dict
    seconds: dict


def _visible(source: str) -> str:
    """A test cell as the student version shows it: its hidden-test regions removed."""
    from lab_utils.instructor.nbgrader_ext import split_regions

    return "\n".join(split_regions(source)[0])


def exercise_checks(source, lab: str, cwd, seeds=range(20), timeout: int = 300,
                    wrong: bool = True) -> ExerciseChecks:
    """Run every exercise's tests on its correct and wrong answers, in one kernel.

    One kernel runs the ``source`` notebook with its solution markers stripped (the perfect
    submission, hidden tests included) once, top to bottom, as nbgrader runs it (grading
    mode: short training budgets).  Then, exercise by exercise:

    - the solution and every ``right`` case of ``lab`` that edits it run under each
      notebook seed: the notebook is re-seeded (:data:`RESEED`), the answer cell(s) run,
      then the exercise's test cells, visible and hidden (the source's), each scored by
      nbgrader's own ``determine_grade``: any test cell below full marks is a failure;
    - (``wrong=True``) every ``wrong`` case runs once (seed 0): its answer cell, then each
      test cell of the exercise (and any other cell it must lose) as the student sees it
      (hidden tests removed) and as nbgrader grades it.

    The demonstration cells between an answer and its tests are not re-run (they may
    train); the solution is put back before the next exercise.
    """
    from nbclient import NotebookClient

    perfect = grading.perfect_submission(source, source)
    nb = _with_source_tests(perfect, source)
    index = {grading.grade_id(c): i for i, c in enumerate(nb.cells) if grading.grade_id(c)}
    max_points = {grading.grade_id(c): float(c.metadata["nbgrader"].get("points", 0))
                  for c in nb.cells if c.cell_type == "code" and is_grade(c)
                  and not is_solution(c)}
    env = dict(grading._env(), NBGRADER_EXECUTION="autograde")
    client = NotebookClient(copy.deepcopy(nb), timeout=timeout, kernel_name="python3",
                            allow_errors=True, resources={"metadata": {"path": str(cwd)}})

    def run(cell, i=0):
        cell = copy.deepcopy(cell)
        client.execute_cell(cell, i)
        return cell

    def below_full(test_id, visible=False):
        cell = copy.deepcopy(nb.cells[index[test_id]])
        if visible:
            cell.source = _visible(cell.source)
        cell = run(cell, index[test_id])
        score = autograde_score(cell)
        return (score is None or float(score) < max_points[test_id]), cell

    def run_answer(edited, answer_ids, seed):
        for k, a in enumerate(answer_ids):  # re-seeded in the first answer cell
            cell = copy.deepcopy(_cell(edited, a))
            if k == 0:
                cell.source = RESEED.format(seed=seed) + "\n" + cell.source
            run(cell, index[a])

    cases = CASES[lab]
    result = ExerciseChecks([], 0, {}, {})
    start = time.perf_counter()
    with client.setup_kernel(env=env):
        baseline = {}
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                done = run(cell, i)
                if grading.grade_id(cell) in max_points:
                    baseline[grading.grade_id(cell)] = autograde_score(done)
        broken = {k: v for k, v in baseline.items() if v != max_points[k]}
        if broken:
            raise RuntimeError(f"{lab}: the perfect submission does not get full marks "
                               f"top to bottom: {broken}")
        result.seconds["top_to_bottom"] = round(time.perf_counter() - start, 1)
        for answer_id in answer_cells(nb):
            start = time.perf_counter()
            alternatives = [(f"solution:{answer_id}", [])]
            alternatives += [(name, edits) for name, edits in cases.get("right", {}).items()
                             if edits[0][0] == answer_id]
            touched = {answer_id}
            for label, edits in alternatives:
                answer_ids = list(dict.fromkeys([answer_id] + [e[0] for e in edits]))
                touched.update(answer_ids)
                edited = _apply(perfect, edits)
                for seed in seeds:
                    run_answer(edited, answer_ids, seed)
                    for a in answer_ids:
                        for test_id in exercise_tests(nb, a):
                            failed, cell = below_full(test_id)
                            if failed:
                                result.failures.append((label, seed, test_id, _failure(cell)))
                    result.runs += 1
            for name, (cell_id, old, new, lost, _) in (wrong_cases(lab).items() if wrong
                                                        else ()):
                if cell_id != answer_id:
                    continue
                run_answer(edit(perfect, cell_id, old, new), [cell_id], 0)
                tests = list(dict.fromkeys(exercise_tests(nb, cell_id) + list(lost)))
                result.catches[name] = {
                    "visible": [t for t in tests if below_full(t, visible=True)[0]],
                    "hidden": [t for t in tests if below_full(t)[0]]}
            for a in touched:  # the solution back, for the next exercises
                run(nb.cells[index[a]], index[a])
            result.seconds[answer_id] = round(time.perf_counter() - start, 1)
    return result


__all__ = ["Submission", "answer_cells", "autograded_scores", "autograded_tests", "colab_pair",
           "colab_saved", "edit", "exercise_tests", "fault_class", "kernel_grades", "lab_class",
           "mistakes", "noisy", "replace_cell", "reshaped_class", "right_answers", "right_cells",
           "right_groups", "with_rights",
           "score_differences", "exercise_checks", "ExerciseChecks", "wrong_cases",
           "write_class"]
