"""Graders see what students saw: the student's own outputs beside the autograded re-run,
and each written question's mark scheme -- never shown to students (issue 25, point 2).

Cheap checks on every lab (source and released notebooks, no kernel), unit tests of the
finding and bounding rules, and one slow round trip through real nbgrader: a submission
whose interpreted cells carry fabricated outputs (a stream with a distinctive marker and a
small PNG each) is autograded and given feedback; the autograded notebook (the formgrader's
view, rendered as the formgrader renders it) shows every output and every mark scheme, the
feedback shows the outputs and no mark scheme, and the grades are the perfect submission's.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import struct
import zlib

import nbformat
import pytest
from bs4 import BeautifulSoup

from lab_utils.instructor import grading, markscheme, reshape, student_outputs
from lab_utils.instructor.markscheme import MARK_SCHEME_LABEL, split_mark_scheme
from lab_utils.instructor.student_outputs import STUDENT_OUTPUT_LABEL

LABS = ["lab1_embeddings", "lab2_regularization", "lab3_recsys_explicit",
        "lab4_triplet_implicit"]
#: Labs whose written questions still lack a mark scheme or a valid ``refers_to`` at the
#: deadline: lab -> reason (xfail).  Empty when every lab helper is done.
UNFINISHED: dict[str, str] = {}


def _source(repo, lab):
    return nbformat.read(repo / "solutions" / lab / f"{lab}.ipynb", as_version=4)


def _released(repo, lab):
    return nbformat.read(repo / "labs" / lab / f"{lab}.ipynb", as_version=4)


def _lab_param(lab):
    marks = [pytest.mark.xfail(reason=UNFINISHED[lab], strict=False)] if lab in UNFINISHED else []
    return pytest.param(lab, marks=marks, id=lab)


def _plain(text: str) -> str:
    """Words only (Markdown, HTML rendering and line wrapping differ; the words do not)."""
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", text).split()).lower()


def _scheme_chunks(questions, public: str) -> set[str]:
    """40-character runs of words of the mark schemes that the student may never see: those
    not found in ``public`` (what the student sees anyway: the lab's own text, their own
    answers -- a scheme may quote the question or the model answer)."""
    public = _plain(public)
    chunks = set()
    for q in questions:
        words = _plain(q.mark_scheme or "")
        chunks |= {words[i:i + 40] for i in range(0, max(len(words) - 40, 0), 20)}
    return {c for c in chunks if c not in public}


def _public_text(nb) -> str:
    """The text of every cell but the written answers (and their mark schemes)."""
    return "\n".join(c.source for c in nb.cells if not markscheme.is_written_answer(c))


# --- every lab: the conventions are followed, nothing leaks ----------------------------


@pytest.mark.parametrize("lab", [_lab_param(lab) for lab in LABS])
def test_every_written_question_has_a_mark_scheme_and_valid_refers_to(repo, lab):
    nb = _source(repo, lab)
    questions = markscheme.written_questions(nb)
    assert questions, f"{lab} has no written question"
    code_ids = {c.get("id") for c in nb.cells if c.cell_type == "code"}
    problems = []
    for q in questions:
        if not q.mark_scheme:
            problems.append(f"{lab}/{q.grade_id}: no '{markscheme.MARK_SCHEME_BEGIN}' block")
        elif f"({q.points:g} point" not in q.mark_scheme:
            problems.append(f"{lab}/{q.grade_id}: the mark scheme does not say "
                            f"'({q.points:g} points)' (the cell is worth {q.points:g})")
        for rid in q.refers_to:
            if rid not in code_ids:
                problems.append(f"{lab}/{q.grade_id}: refers_to {rid!r}, which is no code "
                                f"cell id of the source notebook")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("lab", LABS)
def test_released_lab_keeps_the_conventions_and_no_mark_scheme(repo, lab):
    source, released = _source(repo, lab), _released(repo, lab)
    text = "\n".join(c.source for c in released.cells)
    assert "mark scheme" not in text.lower(), f"labs/{lab} holds a mark-scheme block"
    questions = markscheme.written_questions(source)
    leaked = [c for c in _scheme_chunks(questions, _public_text(source)) if c in _plain(text)]
    assert leaked == [], f"labs/{lab} shows mark-scheme text: {leaked[:2]}"
    # nbgrader generate_assignment keeps the ids and the lab_utils metadata
    assert student_outputs.referenced_cells(released) == \
        student_outputs.referenced_cells(source), f"labs/{lab} is stale: regenerate it"


# --- unit: mark schemes -----------------------------------------------------------------


def test_split_mark_scheme():
    body = "### BEGIN SOLUTION\nAnswer.\n<!-- mark scheme -->\n**Mark scheme (2 points).** X\n" \
           "<!-- /mark scheme -->\n### END SOLUTION"
    rest, scheme = split_mark_scheme(body)
    assert scheme == "**Mark scheme (2 points).** X"
    assert "mark scheme" not in rest.lower() and "Answer." in rest
    assert split_mark_scheme("Just an answer.") == ("Just an answer.", None)
    rest, scheme = split_mark_scheme("A\n<!-- mark scheme -->\nunclosed")
    assert (rest, scheme) == ("A", "unclosed")


def test_a_block_outside_the_solution_region_is_not_released():
    cell = nbformat.v4.new_markdown_cell(
        "YOUR ANSWER HERE\n<!-- mark scheme -->\n**Mark scheme (1 point).** secret\n"
        "<!-- /mark scheme -->")
    cell, _ = markscheme.ClearMarkSchemes().preprocess_cell(cell, {}, 0)
    assert cell.source == "YOUR ANSWER HERE"


def test_rubric_command_names_questions_without_a_scheme(repo, capsys):
    from lab_utils.instructor.cli import main

    assert main(["rubric", LABS[0], "--course-dir", str(repo)]) == 0
    out = capsys.readouterr().out
    for q in markscheme.written_questions(_source(repo, LABS[0])):
        assert f"## {q.grade_id} ({q.points:g} point" in out
        assert (q.mark_scheme in out) if q.mark_scheme else (f"**No mark scheme** for "
                                                              f"{q.grade_id}" in out)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**Question.** Why?"),
        nbformat.v4.new_markdown_cell("Because.", metadata={"nbgrader": {
            "grade": True, "solution": True, "grade_id": "written_why", "points": 1}})])
    text = markscheme.rubric_markdown("labX", markscheme.written_questions(nb))
    assert "without a mark scheme: written_why" in text and "**Question.** Why?" in text


# --- unit: finding and bounding the student's outputs -------------------------------------


def _png(seed: int) -> str:
    """A distinct 1x1 PNG (base64) per seed."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    pixel = bytes([0, seed % 256, (seed * 37) % 256, 200])
    raw = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))
    return base64.b64encode(raw).decode()


def _marker(rid: str) -> str:
    return f"STUDENT-RAN-{rid}-FULL-BUDGET"


def _with_outputs(nb, rids):
    """``nb`` with fabricated outputs (a marker stream, a PNG) in the cells ``rids``."""
    nb = copy.deepcopy(nb)
    for k, cell in enumerate(nb.cells):
        if cell.get("id") in rids:
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=_marker(cell.id) + "\n"),
                nbformat.v4.new_output("display_data", data={"image/png": _png(k),
                                                             "text/plain": "<Figure>"})]
    return nb


def _lab_with_refs(repo):
    for lab in LABS:
        refs = student_outputs.referenced_cells(_released(repo, lab))
        if refs:
            return lab, refs
    pytest.fail("no released lab flags a cell student_output or refers_to one yet")


def test_outputs_are_found_by_id_by_text_and_by_similar_text(repo):
    lab, refs = _lab_with_refs(repo)
    released = _released(repo, lab)
    sub = _with_outputs(released, set(refs))
    first, *others = list(refs)
    for cell in sub.cells:  # Colab: a new id in the metadata, no lab_utils metadata
        if cell.get("id") == first:
            cell.id = "colab1"
            cell.metadata = {"id": "colab1"}
            cell.source = cell.source + "\n# my own comment"
    stash = student_outputs.stash_outputs(released, sub)
    assert set(stash) == set(refs)
    assert stash[first]["found_by"].startswith("similar source text")
    for rid in others:
        assert stash[rid]["found_by"] == "its metadata and cell id"
    for rid, entry in stash.items():
        assert entry["found"] and _marker(rid) in entry["outputs"][0]["text"], rid
    from tests.support.editors import colab_saved

    colab = student_outputs.stash_outputs(released, colab_saved(_with_outputs(released,
                                                                            set(refs))))
    assert {e["found_by"] for e in colab.values()} == {"its source text"}
    assert all(_marker(rid) in colab[rid]["outputs"][0]["text"] for rid in refs)
    untouched = student_outputs.stash_outputs(released, copy.deepcopy(released))
    assert all(e["found"] and e["outputs"] == [] for e in untouched.values())
    gone = copy.deepcopy(released)
    gone.cells = [c for c in gone.cells if c.get("id") != first]
    assert student_outputs.stash_outputs(released, gone)[first]["found"] is False


def test_outputs_are_bounded_and_the_cut_is_said():
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"epoch {i}\n")
               for i in range(30)]
    kept, notes = student_outputs.bound_outputs(outputs, max_outputs=5)
    assert [o["text"] for o in kept] == [f"epoch {i}\n" for i in range(25, 30)]
    assert notes == ["25 earlier output(s) not shown (only the last 5 are kept)"]
    big_text = nbformat.v4.new_output("stream", name="stdout", text="x" * 50_000 + "END")
    big_image = nbformat.v4.new_output("display_data", data={"image/png": "A" * 60_000})
    kept, notes = student_outputs.bound_outputs([big_image, big_text], max_bytes=20_000)
    assert len(kept) == 1 and kept[0]["text"].endswith("END")
    assert "cut" in kept[0]["text"] and len(json.dumps(kept)) <= 20_000
    assert any("cut to its last" in n for n in notes)
    assert any("image/png" in n and "left out" in n for n in notes)


def test_a_notebook_keeps_a_bounded_total_of_outputs(repo):
    lab, refs = _lab_with_refs(repo)
    released = _released(repo, lab)
    sub = copy.deepcopy(released)
    for cell in sub.cells:
        if cell.get("id") in refs:
            cell.outputs = [nbformat.v4.new_output("display_data",
                                                   data={"image/png": "A" * 30_000})]
    stash = student_outputs.stash_outputs(released, sub, max_total_bytes=70_000)
    kept = [rid for rid in refs if stash[rid]["outputs"]]
    assert kept == list(refs)[:2]  # in cell order, until the notebook's budget is spent
    assert all("left out" in " ".join(stash[rid]["notes"]) for rid in list(refs)[2:])


def _sanitize_without_the_feature(course, lab, nb):
    """``reshape.sanitize`` with the course's sanitizing preprocessors but the stash."""
    from traitlets.config.loader import PyFileConfigLoader
    from traitlets.utils.importstring import import_item

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    names = [n for n in config.Autograde.sanitize_preprocessors if "student_outputs" not in n]
    assert len(names) == len(config.Autograde.sanitize_preprocessors) - 1
    resources = {"nbgrader": {"notebook": lab, "assignment": lab, "student": "preview",
                              "db_url": config.CourseDirectory.db_url}}
    nb = copy.deepcopy(nb)
    for name in names:
        nb, resources = import_item(name)(config=config).preprocess(nb, resources)
    return nb


def test_sanitizing_grades_the_same_cells_with_and_without_the_feature(repo, released_lab):
    """The stash changes no cell nbgrader grades (types, sources, nbgrader metadata)."""
    lab, refs = _lab_with_refs(repo)
    released_course = released_lab(lab)
    source, released = grading.read_lab(released_course, lab)
    sub = _with_outputs(grading.perfect_submission(source, released), set(refs))
    with_feature = reshape.sanitize(released_course, lab, sub)
    stash = with_feature.metadata["lab_utils"]["student_outputs"]
    assert set(stash) == set(refs) and all(e["outputs"] for e in stash.values())
    without = _sanitize_without_the_feature(released_course, lab, sub)
    assert "student_outputs" not in without.metadata.get("lab_utils", {})
    assert reshape.summary(with_feature) == reshape.summary(without)


# --- slow: through real nbgrader ----------------------------------------------------------


def _formgrader_html(course, lab, student) -> str:
    """The autograded notebook rendered as nbgrader's formgrader renders it."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    path = course / "autograded" / student / lab / f"{lab}.ipynb"
    resources = {"assignment_id": lab, "notebook_id": lab, "submission_id": "s", "index": 0,
                 "total": 1, "base_url": "", "student": student, "last_name": None,
                 "first_name": None, "notebook_path": str(path)}
    return HTMLExporter(config=config).from_filename(str(path), resources=resources)[0]


@pytest.mark.slow
def test_graders_see_the_students_outputs_and_mark_schemes(repo, released_lab, movielens_home):
    lab, refs = _lab_with_refs(repo)
    course, student = released_lab(lab), "graderview-student"
    source, released = grading.read_lab(course, lab)
    questions = markscheme.written_questions(source)
    sub = _with_outputs(grading.perfect_submission(source, released), set(refs))
    for cell in sub.cells:  # students do not write mark schemes
        cell.source = split_mark_scheme(cell.source)[0]
    grading.submit(course, student, lab, sub)
    grading.autograde(course, lab, student)
    grading.generate_feedback(course, lab, student)

    # grades: the perfect submission's (every autograded cell full marks, written ones open)
    scores = grading.scores(course, lab, student)
    auto = {k: (v.score, v.max_score) for k, v in scores.items() if not v.manual}
    assert auto and all(score == top for score, top in auto.values()), auto
    assert {k for k, v in scores.items() if v.manual} == {q.grade_id for q in questions}

    graded = nbformat.read(course / "autograded" / student / lab / f"{lab}.ipynb",
                           as_version=4)
    cells = graded.cells
    released_source = {c.id: c.source for c in released.cells}
    for rid in refs:
        shown = [i for i, c in enumerate(cells)
                 if c.metadata.get("lab_utils", {}).get("shows_student_output_of") == rid]
        assert len(shown) == 2, f"{rid}: {len(shown)} cells show the student's output"
        label, cell = (cells[i] for i in shown)
        assert shown[1] == shown[0] + 1 and all("nbgrader" not in cells[i].metadata
                                                for i in shown)  # ungraded
        assert cells[shown[0] - 1].source == released_source[rid]  # right after the re-run
        assert label.cell_type == "markdown" and STUDENT_OUTPUT_LABEL in label.source
        assert [o.get("text") for o in cell.outputs[:1]] == [_marker(rid) + "\n"]
        assert any("image/png" in o.get("data", {}) for o in cell.outputs[1:])
    for q in questions:
        at = next(i for i, c in enumerate(cells)
                  if c.metadata.get("nbgrader", {}).get("grade_id") == q.grade_id)
        scheme = cells[at + 1]
        assert scheme.metadata["lab_utils"]["mark_scheme_of"] == q.grade_id
        assert MARK_SCHEME_LABEL in scheme.source and "nbgrader" not in scheme.metadata
        if q.mark_scheme:
            assert q.mark_scheme in scheme.source

    formgrader = _formgrader_html(course, lab, student)
    feedback = (course / "feedback" / student / lab / f"{lab}.html").read_text()
    for name, page in [("formgrader", formgrader), ("feedback", feedback)]:
        text = BeautifulSoup(page, "html.parser").get_text()
        for k, cell in enumerate(sub.cells):
            if cell.get("id") in refs:
                assert _marker(cell.id) in text, f"{name}: no student output of {cell.id}"
                assert _png(k) in page, f"{name}: no student figure of {cell.id}"
        assert STUDENT_OUTPUT_LABEL in text, name
    assert MARK_SCHEME_LABEL in BeautifulSoup(formgrader, "html.parser").get_text()
    feedback_text = BeautifulSoup(feedback, "html.parser").get_text()
    assert MARK_SCHEME_LABEL not in feedback_text
    public = _public_text(source) + "\n" + "\n".join(c.source for c in sub.cells)
    leaked = [c for c in _scheme_chunks(questions, public) if c in _plain(feedback_text)]
    assert leaked == [], f"the feedback shows mark-scheme text: {leaked[:2]}"


def test_class_report_links_each_written_question_to_its_mark_scheme(repo, tmp_path):
    """The rubric page has a section per written question; the report links each one."""
    import pandas as pd

    from lab_utils.instructor.classreport import page, reading

    lab = LABS[0]
    questions = markscheme.written_questions(_source(repo, lab))
    rubric = markscheme.write_rubric(repo, lab, tmp_path).read_text()
    exercises = []
    for q in questions:
        assert f'<section id="{q.grade_id}">' in rubric
        if q.mark_scheme:
            shown = _plain(BeautifulSoup(rubric, "html.parser").get_text())
            assert _plain(q.mark_scheme)[:60] in shown
        exercises.append(reading.Exercise(name=q.grade_id, label="", notebook=lab,
                                          cells=[q.grade_id], points=q.points, written=True))

    def empty(*columns):
        return pd.DataFrame([], columns=list(columns))

    data = reading.ClassData(
        lab=lab, max_score=sum(q.points for q in questions), exercises=exercises,
        students=empty("student_id", "status", "score", "max_score", "written_to_grade",
                       "message"),
        cells=empty("student_id", "exercise", "cell", "score", "max_score", "pending"),
        failures=empty("exercise", "cell", "check", "hint", "message", "student_id"),
        manual=empty("student_id", "exercise", "cell", "points", "formgrader"))
    html = page.render(data)
    for q in questions:
        assert f'href="rubric.html#{q.grade_id}"' in html, q.grade_id


def test_shown_cells_follow_the_rerun_cell_and_are_valid_nbformat(repo):
    """ShowStudentOutputs in process: after each re-run cell (tagged by the stash, even when
    realignment renumbered its id), a note and the outputs; a cell never found gets the note
    alone, before the first written answer that interprets it; the notebook stays valid."""
    lab, refs = _lab_with_refs(repo)
    released = _released(repo, lab)
    sub = _with_outputs(released, set(refs))
    first = next(rid for rid, referrers in refs.items() if referrers)
    sub.cells = [c for c in sub.cells if c.get("id") != first]  # the student deleted it
    stash = student_outputs.stash_outputs(released, sub)
    for i, cell in enumerate(sub.cells):
        cell.id = f"renumbered-{i}"  # as reshape's _renumber_ids may do
    sub.metadata["lab_utils"] = {student_outputs.STASH_KEY: stash}
    nb, _ = student_outputs.ShowStudentOutputs().preprocess(sub, {})
    nbformat.validate(nb)
    assert student_outputs.STASH_KEY not in nb.metadata["lab_utils"]
    cells = nb.cells
    for rid in refs:
        at = [i for i, c in enumerate(cells)
              if c.metadata.get("lab_utils", {}).get(student_outputs.SHOWN_KEY) == rid]
        assert cells[at[0]].cell_type == "markdown"
        if rid == first:
            assert len(at) == 1 and "Not found in the submission" in cells[at[0]].source
            assert markscheme.is_written_answer(cells[at[0] + 1])
        else:
            assert len(at) == 2 and cells[at[0] - 1].metadata["lab_utils"][
                student_outputs.TAG_KEY] == rid
            assert cells[at[1]].outputs[0]["text"] == _marker(rid) + "\n"
    again, _ = student_outputs.ShowStudentOutputs().preprocess(copy.deepcopy(nb), {})
    assert len(again.cells) == len([c for c in nb.cells if student_outputs.SHOWN_KEY not in
                                    c.metadata.get("lab_utils", {})])  # no stash: none shown
