"""Teaching, measured: statements give the goal and the contract, not the code; the student
notebooks hold none of the course's engineering; every lab states its expected time, and the
README's per-lab table says what the notebooks say.

*Dictation* is counted mechanically: an exercise gives its code when an expression of its
solution (a call, an operation, an indexing or a comparison of at least ``SNIPPET_MIN``
characters once blanks are removed) appears in what the student reads -- the Markdown cells
and every string of the student notebook's code cells (hints, docstrings, check names).
Spec details the tests need (a column name) are listed in ``SPEC_DETAILS``. Code the student
is *given* on purpose (the broken model of Lab 3's debugging exercise, the inputs' names) sits
in code, not in strings, and is not counted.
"""

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest

from lab_utils.instructor import grading
from lab_utils.instructor.nbgrader_ext import SOLUTION_BEGIN, SOLUTION_END

REPO = Path(__file__).resolve().parents[1]
LABS = grading.list_labs(REPO)
SNIPPET_MIN = 16
SPEC_DETAILS = {'frame["prediction"]'}  # the column the statements name, checked by the tests
ENGINEERING = re.compile(
    r"NUM_THREADS|MALLOC_|mallopt|jit_compile|intra_op|inter_op|steps_per_execution|"
    r"record_metrics|\bXLA\b|os\.environ|sched_setaffinity")
#: A solution block: the lines between the line holding nbgrader's begin marker and the line
#: holding its end marker (as ``nbgrader_ext.split_regions`` reads them), one match per block.
_SOLUTION = re.compile(rf"^[^\n]*{SOLUTION_BEGIN}[^\n]*\n(.*?)^[^\n]*{SOLUTION_END}",
                       re.MULTILINE | re.DOTALL)
_README_ROW = re.compile(r"^\| `(?P<lab>lab\w+)` \| about (?P<hours>\d+) hours \| "
                         r"(?P<giving>\d+) of (?P<exercises>\d+) \|", re.MULTILINE)
_NOTEBOOK_TIME = re.compile(r"\*\*Expected time:\*\* about (\d+) hours for the graded part")


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("'", '"')


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def solution_snippets(source: str) -> set[str]:
    """The expressions of a solution cell's solution blocks that are long enough to count."""
    snippets = set()
    for block in _SOLUTION.findall(source):
        code = textwrap.dedent(block)
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, (ast.Call, ast.BinOp, ast.Subscript, ast.Compare, ast.Lambda)):
                segment = ast.get_source_segment(code, node)
                if segment and len(_normal(segment)) >= SNIPPET_MIN:
                    snippets.add(segment)
    return snippets


def student_reads(cells: list[dict]) -> str:
    """What a student reads as text: Markdown, and every string in the code cells."""
    texts = []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            texts.append(source)
            continue
        python = re.sub(r"^\s*[%!].*$", "", source, flags=re.MULTILINE)  # IPython magics
        texts += [node.value for node in ast.walk(ast.parse(python))
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    return _normal("\n".join(texts))


def dictation(solution_cells: list[dict], student_cells: list[dict]) -> dict[str, list[str]]:
    """Exercise (solution cell's grade id) -> the expressions of its solution the student reads."""
    text = student_reads(student_cells)
    found = {}
    for cell in solution_cells:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta.get("solution"):
            continue
        given = sorted(s for s in solution_snippets("".join(cell["source"]))
                       if s not in SPEC_DETAILS and _normal(s) in text)
        found[meta["grade_id"]] = given
    return found


def _notebooks(lab: str) -> tuple[list[dict], list[dict]]:
    return (_cells(REPO / "solutions" / lab / f"{lab}.ipynb"),
            _cells(REPO / "labs" / lab / f"{lab}.ipynb"))


def _readme_rows() -> dict[str, dict]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return {m["lab"]: m.groupdict() for m in _README_ROW.finditer(text)}


@pytest.mark.parametrize("lab", LABS)
def test_no_statement_or_hint_gives_the_code_of_an_answer(lab):
    solution, student = _notebooks(lab)
    unread = [c["metadata"]["nbgrader"]["grade_id"] for c in solution
              if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("solution")
              and not solution_snippets("".join(c["source"]))]
    assert not unread, f"{lab}: no expression read from the solutions of {unread}"
    given = {ex: snippets for ex, snippets in dictation(solution, student).items() if snippets}
    assert not given, f"{lab}: statements or hints that hold the solution's code: {given}"


def test_the_dictation_count_finds_a_hint_that_gives_the_code():
    solution, student = _notebooks("lab4_triplet_implicit")
    exercise = next(c for c in solution if c["metadata"].get("nbgrader", {}).get("solution"))
    answer = sorted(solution_snippets("".join(exercise["source"])), key=len)[-1]
    planted = student + [{"cell_type": "code", "metadata": {},
                          "source": [f"hint = 'try {answer}'\n"]}]
    exercise_id = exercise["metadata"]["nbgrader"]["grade_id"]
    assert dictation(solution, student)[exercise_id] == []
    assert answer in dictation(solution, planted)[exercise_id]
    blanks = student + [{"cell_type": "markdown", "metadata": {},
                         "source": [answer.replace(", ", ",\n   ")]}]
    assert answer in dictation(solution, blanks)[exercise_id]


@pytest.mark.parametrize("lab", LABS)
def test_the_readme_counts_what_the_notebooks_hold(lab):
    row = _readme_rows().get(lab)
    assert row, f"README.md has no row for {lab} in its table of expected times and extensions"
    found = dictation(*_notebooks(lab))
    assert int(row["exercises"]) == len(found), f"{lab}: README counts {row['exercises']} " \
        f"exercises, the source notebook has {len(found)} solution cells"
    assert int(row["giving"]) == sum(bool(s) for s in found.values())


@pytest.mark.parametrize("lab", LABS)
def test_the_time_and_the_count_are_stated_alike_everywhere(lab):
    _, student = _notebooks(lab)
    stated = _NOTEBOOK_TIME.findall("".join(student[0]["source"]))
    assert len(stated) == 1, f"{lab}: the first cell must state '**Expected time:** about N " \
                             "hours for the graded part'"
    row = _readme_rows()[lab]
    assert row["hours"] == stated[0]
    student_page = (REPO / "docs" / "student.md").read_text(encoding="utf-8")
    number = int(lab[3])
    section = re.search(rf"\*\*Lab {number},.*?expected time about (\d+)\s+hours", student_page,
                        re.DOTALL)
    assert section and section[1] == stated[0], f"docs/student.md disagrees on {lab}'s time"
    giving = re.search(rf"\*\*Lab {number},.*?gives the code: (\d+)", student_page, re.DOTALL)
    assert giving and giving[1] == row["giving"], \
        f"docs/student.md and README.md disagree on how many of {lab}'s exercises give code"


@pytest.mark.parametrize("lab", LABS)
def test_student_notebooks_hold_no_engineering(lab):
    _, student = _notebooks(lab)
    found = sorted({match[0] for cell in student
                    for match in ENGINEERING.finditer("".join(cell["source"]))})
    assert not found, f"{lab}: threads, allocator, XLA or benchmark plumbing in the student " \
                      f"notebook: {found} (it belongs in lab_utils, behind one call)"


def test_the_engineering_check_finds_a_thread_setting():
    source = "import os\nos.environ['OMP_NUM_THREADS'] = '1'\n"
    assert {m[0] for m in ENGINEERING.finditer(source)} == {"os.environ", "NUM_THREADS"}
    assert not ENGINEERING.search('ax.set_xlabel("epoch")')


def follows_the_cell_conventions(cell: dict) -> bool:
    """Text is locked (a statement) or an answer; code is the locked set-up or given code, an
    answer, a test with points, or a demonstration the student may edit and re-run (no nbgrader
    metadata: another seed, another perplexity) that checks nothing -- a check outside a test
    cell would fail ungraded."""
    meta = cell["metadata"].get("nbgrader")
    if cell["cell_type"] == "markdown":
        return bool(meta and (meta.get("locked") or meta.get("solution")))
    if meta is None:
        source = "".join(cell["source"])
        return "checks." not in source and "### BEGIN" not in source
    return bool(meta.get("locked") or meta.get("solution") or meta.get("grade"))


@pytest.mark.parametrize("lab", LABS)
def test_every_cell_follows_the_cell_conventions(lab):
    solution, _ = _notebooks(lab)
    wrong = [i for i, cell in enumerate(solution) if not follows_the_cell_conventions(cell)]
    assert not wrong, f"{lab}: cells {wrong} break the cell conventions (docs/maintainer.md)"


def test_the_cell_conventions_catch_an_unlocked_text_and_a_stray_check():
    locked = {"nbgrader": {"locked": True, "solution": False, "grade": False}}
    assert follows_the_cell_conventions({"cell_type": "markdown", "metadata": locked,
                                         "source": ["## 1."]})
    assert not follows_the_cell_conventions({"cell_type": "markdown", "metadata": {},
                                             "source": ["## 1."]})
    assert follows_the_cell_conventions({"cell_type": "code", "metadata": {},
                                         "source": ["plots.history(h)"]})
    assert not follows_the_cell_conventions({"cell_type": "code", "metadata": {},
                                             "source": ["checks.check_close('x', 1, 1, '')"]})
    unlocked = {"nbgrader": {"locked": False, "solution": False, "grade": False}}
    assert not follows_the_cell_conventions({"cell_type": "code", "metadata": unlocked,
                                             "source": ["x = 1"]})
