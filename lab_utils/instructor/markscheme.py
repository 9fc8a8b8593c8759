"""Mark schemes of the written questions: read from the source notebooks, shown to graders,
never to students.

A written question is a manually graded Markdown answer cell of a source notebook
(``solutions/<lab>/<lab>.ipynb``: nbgrader ``solution`` and ``grade`` both true).  After its
model answer the cell holds its mark scheme::

    <nbgrader's solution-begin marker line>
    <model answer>
    <!-- mark scheme -->
    **Mark scheme (2 points).** What earns each point; partial credit; common wrong answers.
    <!-- /mark scheme -->
    <nbgrader's solution-end marker line>

nbgrader replaces the solution region (the whole cell, when it has no region) with "YOUR
ANSWER HERE" in ``labs/``; :class:`ClearMarkSchemes` (in ``GenerateAssignment.preprocessors``)
also removes a block left *outside* the region, so a misplaced block never reaches students.
nbgrader's own ``BEGIN MARK SCHEME`` markers are not used: they only work in task cells.

Graders see the scheme in the autograded notebook (the formgrader's view):
:class:`ShowMarkSchemes` (in ``Autograde.autograde_preprocessors``, after the grades are
saved) inserts after each written answer a locked, ungraded Markdown cell headed
:data:`MARK_SCHEME_LABEL`.  :class:`ClearGradersOnly` (in ``GenerateFeedback.preprocessors``)
removes those cells from the feedback.  ``python -m lab_utils rubric LAB`` prints every
question with its points, text, model answer and mark scheme (:func:`rubric_markdown`), and
the class report links the same page (:func:`write_rubric`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution

from lab_utils.instructor.nbgrader_ext import SOLUTION_BEGIN, SOLUTION_END

MARK_SCHEME_BEGIN = "<!-- mark scheme -->"
MARK_SCHEME_END = "<!-- /mark scheme -->"
#: Heading of the cell graders see after each written answer.
MARK_SCHEME_LABEL = "Mark scheme (graders only)"

_BLOCK = re.compile(r"<!--\s*mark\s+scheme\s*-->(.*?)(?:<!--\s*/\s*mark\s+scheme\s*-->|\Z)",
                    re.S | re.I)


def split_mark_scheme(source: str) -> tuple[str, str | None]:
    """``(source without its mark-scheme blocks, the blocks' text or None)``.

    A block opened and never closed runs to the end of the cell (and is removed too).
    """
    found = [m.group(1).strip() for m in _BLOCK.finditer(source)]
    if not found:
        return source, None
    rest = _BLOCK.sub("", source)
    rest = re.sub(r"\n{3,}", "\n\n", rest).strip("\n")
    return rest, "\n\n".join(found)


def lab_meta(cell) -> dict:
    """The cell's ``lab_utils`` metadata (``{}`` when absent or malformed)."""
    meta = cell.get("metadata", {}).get("lab_utils", {})
    return meta if isinstance(meta, dict) else {}


def is_written_answer(cell) -> bool:
    """A manually graded Markdown answer cell (a written question's answer)."""
    return cell.cell_type == "markdown" and is_solution(cell) and is_grade(cell)


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


@dataclass
class WrittenQuestion:
    """One written question of a source notebook."""

    grade_id: str
    points: float
    cell_id: str | None
    question: str  # the Markdown cell just before the answer cell
    model_answer: str  # solution markers and mark scheme removed
    mark_scheme: str | None
    refers_to: list[str] = field(default_factory=list)
    #: cell id -> the first line of that code cell (what graders recognise it by)
    refers_to_lines: dict = field(default_factory=dict)


def _model_answer(source: str) -> str:
    lines = [line for line in source.split("\n")
             if SOLUTION_BEGIN not in line and SOLUTION_END not in line]
    return "\n".join(lines).strip()


def written_questions(nb) -> list[WrittenQuestion]:
    """The written questions of a source notebook, in notebook order."""
    out = []
    first_lines = {c.get("id"): next((line.strip() for line in c.source.split("\n")
                                      if line.strip() and not line.lstrip().startswith("#")),
                                     "")[:70]
                   for c in nb.cells if c.cell_type == "code"}
    for i, cell in enumerate(nb.cells):
        if not is_written_answer(cell):
            continue
        question = ""
        for prev in reversed(nb.cells[:i]):
            if prev.cell_type == "markdown" and not is_solution(prev):
                question = prev.source.strip()
                break
        answer, scheme = split_mark_scheme(cell.source)
        refers = lab_meta(cell).get("refers_to") or []
        out.append(WrittenQuestion(
            grade_id=grade_id(cell), points=float(cell.metadata["nbgrader"].get("points", 0)),
            cell_id=cell.get("id"), question=question, model_answer=_model_answer(answer),
            mark_scheme=scheme, refers_to=[str(r) for r in refers],
            refers_to_lines={str(r): first_lines.get(str(r), "") for r in refers}))
    return out


def source_notebook(course_dir, lab: str, source_directory: str = "solutions"):
    """The source notebook ``<course>/<source_directory>/<lab>/<lab>.ipynb``."""
    return nbformat.read(Path(course_dir) / source_directory / lab / f"{lab}.ipynb",
                         as_version=4)


def _points(value: float) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _rubric_head(lab: str, questions: list[WrittenQuestion]) -> str:
    missing = [q.grade_id for q in questions if not q.mark_scheme]
    total = sum(q.points for q in questions)
    return "\n".join([
        f"# Written questions of {lab}: mark schemes", "",
        f"{len(questions)} written question(s), {_points(total)} in all; "
        + (f"**without a mark scheme: {', '.join(missing)}**." if missing
           else "every question has a mark scheme."), ""])


def _rubric_question(q: WrittenQuestion) -> str:
    lines = [f"## {q.grade_id} ({_points(q.points)})", "", "**Question.**", "",
             q.question or "(no question text found before the answer cell)", ""]
    if q.refers_to:
        lines += ["**Interprets the outputs of these cells** (graders see the student's own "
                  "outputs next to the autograded re-run):", ""]
        lines += [f"- `{r}`: `{q.refers_to_lines.get(r) or '?'}`" for r in q.refers_to]
        lines += [""]
    lines += ["**Model answer.**", "", q.model_answer or "(none)", ""]
    if q.mark_scheme:
        lines += [q.mark_scheme, ""]
    else:
        lines += [f"**No mark scheme** for {q.grade_id}: add a `{MARK_SCHEME_BEGIN}` ... "
                  f"`{MARK_SCHEME_END}` block to its answer cell (docs/maintainer.md).", ""]
    return "\n".join(lines)


def rubric_markdown(lab: str, questions: list[WrittenQuestion]) -> str:
    """Markdown listing every written question of ``lab``: points, question, model answer,
    mark scheme (or a line saying it has none), and the cells whose outputs it interprets."""
    text = "\n".join([_rubric_head(lab, questions), *map(_rubric_question, questions)])
    return text.rstrip() + "\n"


def write_rubric(course_dir, lab: str, folder) -> Path:
    """Write ``<folder>/rubric.html`` (the rubric of ``lab``, read from ``solutions/``; each
    question is the section ``#<grade id>``) and return it.  Used by the class report, which
    links each written question to it (``python -m lab_utils rubric`` prints the Markdown)."""
    from html import escape

    from nbconvert.filters.markdown import markdown2html

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    questions = written_questions(source_notebook(course_dir, lab))
    sections = [f'<section id="{escape(q.grade_id)}">{markdown2html(_rubric_question(q))}'
                "</section>" for q in questions]
    page = folder / "rubric.html"
    page.write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(lab)}: mark schemes (graders only)</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;"
        "line-height:1.45}section{border-top:1px solid #ccc}</style></head><body>\n"
        + markdown2html(_rubric_head(lab, questions)) + "\n".join(sections)
        + "\n</body></html>\n", encoding="utf-8")
    return page


def mark_scheme_cell(question: WrittenQuestion):
    """The locked, ungraded Markdown cell graders see after a written answer."""
    if question.mark_scheme:
        body = question.mark_scheme
    else:
        body = "(none written for this question yet: see `python -m lab_utils rubric`)"
    source = (f"**{MARK_SCHEME_LABEL}: {question.grade_id} ({_points(question.points)}).** "
              f"Not part of the student's notebook; removed from the feedback.\n\n{body}\n\n"
              f"**Model answer.** {question.model_answer}")
    cell = nbformat.v4.new_markdown_cell(source)
    cell.id = f"mark-scheme-{question.grade_id}"[:64]
    cell.metadata = {"editable": False, "deletable": False,
                     "lab_utils": {"graders_only": True, "mark_scheme_of": question.grade_id}}
    return cell


def is_graders_only(cell) -> bool:
    return bool(lab_meta(cell).get("graders_only"))


def _paths(preprocessor, resources):
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(parent=preprocessor)
    info = resources["nbgrader"]
    return (Path(coursedir.root) / coursedir.source_directory / info["assignment"]
            / f"{info['notebook']}.ipynb")


class ShowMarkSchemes(NbGraderPreprocessor):
    """nbgrader autograde preprocessor: after each written answer, the question's mark scheme
    and model answer in a locked, ungraded Markdown cell (graders only).

    Placed in ``Autograde.autograde_preprocessors`` after ``SaveAutoGrades``: the cells it
    adds carry no nbgrader metadata, so no grade or checksum depends on them.  Reads the
    source notebook from the course's source folder (a grading task on a Dask worker carries
    it too).  Cells of an earlier grader view are dropped first.
    """

    def preprocess(self, nb, resources):
        path = _paths(self, resources)
        nb.cells = [c for c in nb.cells if not is_graders_only(c)]
        if not path.is_file():
            self.log.warning("No source notebook at %s: no mark scheme shown", path)
            return nb, resources
        questions = {q.grade_id: q for q in written_questions(nbformat.read(path, as_version=4))}
        cells = []
        for cell in nb.cells:
            cells.append(cell)
            if is_written_answer(cell) and grade_id(cell) in questions:
                cells.append(mark_scheme_cell(questions[grade_id(cell)]))
        nb.cells = cells
        return nb, resources


class ClearGradersOnly(NbGraderPreprocessor):
    """nbgrader feedback preprocessor: remove the graders-only cells (mark schemes) and any
    mark-scheme block left in a cell, so that feedback never shows them."""

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not is_graders_only(c)]
        for cell in nb.cells:
            if isinstance(cell.source, str) and _BLOCK.search(cell.source):
                cell.source = split_mark_scheme(cell.source)[0]
        return nb, resources


class ClearMarkSchemes(NbGraderPreprocessor):
    """nbgrader generate_assignment preprocessor: remove every mark-scheme block from the
    student version (placed after ``ClearSolutions``; a block inside the solution region is
    already gone, this catches one written after ``END SOLUTION``)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if isinstance(cell.source, str) and _BLOCK.search(cell.source):
            cell.source = split_mark_scheme(cell.source)[0]
        return cell, resources


__all__ = ["MARK_SCHEME_BEGIN", "MARK_SCHEME_END", "MARK_SCHEME_LABEL", "ClearGradersOnly",
           "ClearMarkSchemes", "ShowMarkSchemes", "WrittenQuestion", "mark_scheme_cell",
           "rubric_markdown", "split_mark_scheme", "write_rubric", "written_questions"]
