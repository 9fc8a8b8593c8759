"""Correct answers earn their points under any seed; mistakes are caught in sight (issue 23).

For each lab, one kernel runs the perfect submission once (grading mode: no real
training), then, exercise by exercise (:func:`tests.support.simclass.exercise_checks`):

- the solution and every ``right`` case of ``tests/cases/<lab>.py`` run under notebook
  seeds 0..19, each followed by the exercise's visible *and hidden* test cells, scored by
  nbgrader's rule: no test cell may fall below full marks;
- every ``wrong`` case runs once, its exercise's test cells with and without their hidden
  tests: the visible test must already catch it, unless the case says ``hidden_only`` (and
  then the visible test must not: the flag is true); graded with the hidden tests, it loses
  exactly the test cells the case lists (``tests/test_class.py`` shows on each lab's
  ``compare`` case that nbgrader grades it the same).

So that the test can be seen to fail, each lab's run also carries a *decoy*: the first
answer correct in some seeds only (its first function deleted when Python's ``random``
draws below 0.5 after the re-seed).  Exactly those seeds must be reported for it.
"""

import dataclasses
import json
import os
import random
import time
from pathlib import Path

import nbformat
import pytest

from lab_utils.instructor import grading
from tests.cases import CASES
from tests.support import simclass

SEEDS = range(20)
DECOY = "decoy_seed_dependent"

#: If set, a folder where each lab's results are written (``<lab>.json``), for
#: ``python -m tests.support.catch_table --from-dump`` (the table without a second run).
DUMP_ENV = "LAB_UTILS_CATCH_DUMP"


def _decoy(source):
    """A right case for the first answer cell that is wrong whenever ``random.random()``
    draws below 0.5 after the notebook is re-seeded."""
    perfect = grading.perfect_submission(source, source)
    answer = simclass.answer_cells(source)[0]
    text = simclass._cell(perfect, answer).source
    name = next(line[4:].split("(")[0] for line in text.split("\n") if line.startswith("def "))
    decoy = text + f"\n\nif __import__('random').random() < 0.5:\n    del {name}\n"
    return [(answer, None, decoy)]


def test_every_exercise_has_a_right_case(repo):
    """Each answer cell has at least one correct alternative (``right``) in its lab's cases."""
    missing = {}
    for lab in sorted(CASES):
        source = nbformat.read(repo / "solutions" / lab / f"{lab}.ipynb", as_version=4)
        covered = {cell for edits in CASES[lab].get("right", {}).values() for cell, *_ in edits}
        gaps = [a for a in simclass.answer_cells(source) if a not in covered]
        if gaps:
            missing[lab] = gaps
    assert missing == {}, f"exercises without a right case: {missing}"


def _lab_class(lab: str):
    """One test class per lab: pytest-xdist's ``loadscope`` gives each class its own scope,
    so the labs' seed runs spread over the workers (a parametrized function would keep all
    four on one)."""

    @pytest.mark.slow
    def test_right_answers_pass_under_20_seeds_and_visible_tests_catch_mistakes(
            self, repo, tmp_path, movielens_home, monkeypatch):
        check_lab(lab, repo, tmp_path, movielens_home, monkeypatch)

    name = "TestSeeds" + "".join(part.capitalize() for part in lab.split("_"))
    return name, type(name, (), {"lab": lab, "test_right_answers_pass_under_20_seeds_and_"
                                 "visible_tests_catch_mistakes":
                                 test_right_answers_pass_under_20_seeds_and_visible_tests_catch_mistakes})


def check_lab(lab, repo, tmp_path, movielens_home, monkeypatch):
    """Every right case of ``lab`` passes its visible and hidden tests under seeds 0..19 and
    every wrong case is caught as its flags say (the decoy proves the test can fail)."""
    monkeypatch.setenv("LAB_UTILS_DATA_DIR", str(movielens_home))
    source = nbformat.read(repo / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    cases = dict(CASES[lab], right={**CASES[lab].get("right", {}), DECOY: _decoy(source)})
    monkeypatch.setitem(CASES, lab, cases)
    start = time.perf_counter()
    checks = simclass.exercise_checks(source, lab, cwd=tmp_path, seeds=SEEDS)
    elapsed = time.perf_counter() - start
    print(f"{lab}: {checks.runs} (answer, seed) runs and {len(checks.catches)} mistakes in "
          f"{elapsed:.1f} s: {checks.seconds}")
    if os.environ.get(DUMP_ENV):
        real_checks = dataclasses.replace(
            checks, failures=[f for f in checks.failures if f[0] != DECOY])
        Path(os.environ[DUMP_ENV]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ[DUMP_ENV]) / f"{lab}.json").write_text(json.dumps(
            {"checks": dataclasses.asdict(real_checks), "seconds": elapsed,
             "seeds": len(SEEDS)}))

    decoy_seeds = {seed for name, seed, *_ in checks.failures if name == DECOY}
    expected = {s for s in SEEDS if random.Random(s).random() < 0.5}
    assert 0 < len(expected) < len(SEEDS)
    assert decoy_seeds == expected, "the seed test missed (or invented) the decoy's failures"
    real = [f for f in checks.failures if f[0] != DECOY]
    assert real == [], "\n".join(f"{name} seed {seed}: {test} -- {message}"
                                 for name, seed, test, message in real)
    alternatives = len(simclass.answer_cells(source)) + len(cases["right"])
    assert checks.runs == len(SEEDS) * alternatives

    wrong = simclass.wrong_cases(lab)
    assert sorted(checks.catches) == sorted(wrong)
    problems = []
    for name, (*_, lost, options) in wrong.items():
        caught = checks.catches[name]
        if not caught["hidden"]:
            problems.append(f"{name}: caught by no test cell (expected {lost})")
        elif options.get("hidden_only") and caught["visible"]:
            problems.append(f"{name}: marked hidden_only but the visible test catches it")
        elif not options.get("hidden_only") and not caught["visible"]:
            problems.append(f"{name}: only the hidden tests catch it (a student sees PASS)")
        if set(caught["hidden"]) != set(lost):  # graded as nbgrader does: exactly its cells
            problems.append(f"{name}: loses {sorted(caught['hidden'])}, expected {lost}")
    assert problems == [], "\n".join(problems)


for _lab in sorted(CASES):
    _name, _cls = _lab_class(_lab)
    globals()[_name] = _cls
