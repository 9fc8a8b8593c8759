"""Submissions as real editors leave them: graded as the student meant them, or reported.

One class of reshaped submissions (``simclass.reshaped_class``: cells split, merged,
moved, retyped, deleted; saved by Colab, VS Code, an nbformat 4.4 client or an editor
that drops cell metadata; megabytes of stale output; correct but noisy answers) plus
another lab's notebook under this lab's name is graded once, through
``grading.autograde_class``, on :data:`LAB`; two of them are graded again by a plain
``nbgrader autograde`` in another course directory, to show that both paths agree.

For every lab, without running a kernel, the Colab-saved copies of the perfect
submission and of the untouched lab (and the other editors' copies) come out of the
course's sanitizing preprocessors exactly as the originals do -- so they get the
originals' grades (full marks and 0, proven for every lab by tests/test_class.py).
"""

import copy

import nbformat
import pytest

from lab_utils.instructor import grading, reshape
from lab_utils.instructor.nbgrader_ext import STDERR_NOTE, StderrIsNotFailure
from tests.support import courses, editors, simclass

LAB = "lab1_embeddings"  # the fastest lab: the reshapings do not depend on the content
OTHER_LAB = "lab2_regularization"
#: Saved by editors that change only metadata: they reach nbgrader exactly as the original
#: (perfect: full marks, untouched: 0, graded by tests/test_class.py) for every lab
#: (test_saved_copies_are_graded_as_the_originals), so not run through a kernel again.
#: The Colab copy of the perfect submission is graded for real.
METADATA_ONLY = {"vscode_saved", "old_client_4_4", "metadata_lost", "colab_untouched"}


@pytest.fixture(scope="module")
def graded(repo, tmp_path_factory, shared_root):
    course = courses.new_course(shared_root, tmp_path_factory.mktemp("reshaped"), repo, [LAB])
    source, released = grading.read_lab(course, LAB)
    subs = simclass.reshaped_class(source, released, LAB)
    subs = {s: sub for s, sub in subs.items() if s not in METADATA_ONLY}
    other = grading.perfect_submission(*grading.read_lab(repo, OTHER_LAB))
    subs["other_lab_notebook"] = simclass.Submission(other, None)
    for student, sub in subs.items():
        grading.submit(course, student, LAB, sub.content)
    outcomes = grading.autograde_class(course, LAB, list(subs), jobs=2)
    results = {s: grading.scores(course, LAB, s) for s, o in outcomes.items()
               if o.status == "graded"}
    return {"course": course, "subs": subs, "outcomes": outcomes, "results": results,
            "source": source, "released": released}


@pytest.mark.slow
def test_every_submission_is_graded_or_reported(graded):
    outcomes, subs = graded["outcomes"], graded["subs"]
    assert set(outcomes) == set(subs)
    for student, sub in subs.items():
        expected = "error" if sub.lost is None else "graded"
        assert outcomes[student].status == expected, (student, outcomes[student].message)
    message = outcomes["other_lab_notebook"].message
    assert "none of the lab's answer cells" in message and "\n" not in message, message


@pytest.mark.slow
def test_each_reshaped_submission_scores_as_the_student_meant(graded):
    assert simclass.score_differences(graded["subs"], graded["results"]) == []


@pytest.mark.slow
def test_colab_saved_solution_gets_full_marks(graded):
    full = simclass.autograded_scores(graded["results"]["colab_saved"])
    assert all(v.score == v.max_score > 0 for v in full.values()), full
    assert graded["subs"]["colab_saved"].content.nbformat_minor == 0  # as Colab saves


def _autograded(graded, student):
    path = graded["course"] / "autograded" / student / LAB / f"{LAB}.ipynb"
    return nbformat.read(path, as_version=4)


@pytest.mark.slow
def test_noisy_output_is_kept_and_marked_in_the_graded_notebook(graded):
    nb = _autograded(graded, "colab_saved")  # its answers print, warn and log
    tests = [c for c in nb.cells if c.cell_type == "code"
             and c.metadata.get("nbgrader", {}).get("grade")]
    texts = [o.get("text", "") for c in tests for o in c.outputs]
    assert any(STDERR_NOTE in t and "a warning from my own code" in t for t in texts)
    assert not any(o.output_type == "stream" and o.name == "stderr"
                   for c in tests for o in c.outputs)
    # the wrong, noisy answer still fails: an error output scores 0 whatever the noise
    wrong = _autograded(graded, "heavy_stale_output")
    lost = graded["subs"]["heavy_stale_output"].lost[0]
    cell = next(c for c in wrong.cells if grading.grade_id(c) == lost)
    assert [o.output_type for o in cell.outputs if o.output_type == "error"] == ["error"]
    assert "All checks passed." not in str(cell.outputs)  # the stale output is gone


@pytest.mark.slow
def test_what_was_reshaped_is_recorded(graded):
    notes = _autograded(graded, "merged_and_moved").metadata["lab_utils"]["reshaped"]
    text = "\n".join(notes)
    assert "merged cells" in text and "was moved" in text and "is missing" in text
    assert "recognised by the functions it defines" in text  # the answer merged upwards


@pytest.mark.slow
def test_plain_nbgrader_autograde_agrees(graded, repo, tmp_path, shared_root):
    """The most reshaped notebook graded by a plain `nbgrader autograde LAB`."""
    course = courses.new_course(shared_root, tmp_path / "plain", repo, [LAB])
    students = ["merged_and_moved"]
    for student in students:
        grading.submit(course, student, LAB, graded["subs"][student].content)
    grading.run_nbgrader(course, "autograde", LAB, "--force")
    for student in students:
        plain = {k: v.score for k, v in grading.scores(course, LAB, student).items()}
        assert plain == {k: v.score for k, v in graded["results"][student].items()}, student


# --- every lab, no kernel: what nbgrader grades is what the original would be -------------


EDITORS = {"colab": editors.colab_saved, "vscode": editors.vscode_saved,
           "nbformat 4.4": editors.old_client_saved, "no metadata": editors.without_metadata}


@pytest.mark.slow
@pytest.mark.parametrize("lab", ["lab1_embeddings", "lab2_regularization",
                                 "lab3_recsys_explicit", "lab4_triplet_implicit"])
def test_saved_copies_are_graded_as_the_originals(released_lab, lab):
    released_course = released_lab(lab)
    source, released = grading.read_lab(released_course, lab)
    perfect = grading.perfect_submission(source, released)
    for original in (perfect, released):
        expected = reshape.summary(reshape.sanitize(released_course, lab, original))
        for name, save in EDITORS.items():
            got = reshape.sanitize(released_course, lab, save(original))
            assert reshape.summary(got) == expected, f"{lab}: {name} copy"
    edited = simclass.reshaped_class(source, released, lab)["lab_edits_a"].content
    assert reshape.summary(reshape.sanitize(released_course, lab, edited)) == \
        reshape.summary(reshape.sanitize(released_course, lab, perfect)), f"{lab}: lab_edits_a"


# --- units ---------------------------------------------------------------------------------


def _released(repo):
    return nbformat.read(repo / "labs" / LAB / f"{LAB}.ipynb", as_version=4)


def test_another_notebook_is_not_the_lab(repo):
    realigner = reshape.Realigner(_released(repo))
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')"),
                                            nbformat.v4.new_markdown_cell("# My notes")])
    with pytest.raises(reshape.NotTheLabError, match="another notebook"):
        realigner.realign(other)


def test_a_deleted_answer_is_restored_before_the_students_own_cells(repo):
    """The released answer comes back right after the exercise's text; a cell the student
    wrote there runs after it (so code written there still wins)."""
    released = _released(repo)
    first = simclass.answer_cells(released)[0]
    nb = editors.delete(released, first)
    text = editors.index_of(nb, simclass.exercise_tests(released, first)[0]) - 1
    nb.cells.insert(text + 1, nbformat.v4.new_code_cell("x = 1  # mine"))
    out = reshape.Realigner(released).realign(nb)
    i = [grading.grade_id(c) for c in out.cells].index(first)
    assert out.cells[i].source == released.cells[editors.index_of(released, first)].source
    assert out.cells[i + 1].source == "x = 1  # mine"


def test_every_cell_gets_a_unique_id_and_nbformat_45(repo):
    nb = editors.old_client_saved(_released(repo))
    nb.cells.append(copy.deepcopy(nb.cells[-1]))
    out = reshape.Realigner(_released(repo)).realign(nb)
    ids = [c["id"] for c in out.cells]
    assert len(set(ids)) == len(ids) and out.nbformat_minor >= 5
    nbformat.validate(out)


def _test_cell(outputs):
    cell = nbformat.v4.new_code_cell("checks.check_equal(...)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "grade_id": "test_x", "points": 2, "schema_version": 3}
    cell.outputs = outputs
    return cell


def _grade(cell):
    from nbgrader.utils import determine_grade

    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = StderrIsNotFailure().preprocess(nb, {})
    return determine_grade(nb.cells[0])[0]


def test_stderr_of_a_passing_test_is_not_a_failure():
    warning = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: careful\n")
    printed = nbformat.v4.new_output("stream", name="stdout", text="hello\n")
    assert _grade(_test_cell([printed, warning])) == 2
    error = nbformat.v4.new_output("error", ename="CheckError", evalue="wrong", traceback=[])
    assert _grade(_test_cell([warning, error])) == 0
    assert _grade(_test_cell([error])) == 0
    partial = nbformat.v4.new_output("execute_result", data={"text/plain": "1.5"},
                                     execution_count=1)
    assert _grade(_test_cell([warning, partial])) == 1.5


def test_cells_without_metadata_are_recognised(repo):
    source, released = grading.read_lab(repo, LAB)
    perfect = grading.perfect_submission(source, released)
    realigner = reshape.Realigner(released)
    out = realigner.realign(editors.without_metadata(perfect))
    assert any("no cell carries nbgrader metadata" in n for n in realigner.notes)
    assert [grading.grade_id(c) for c in out.cells] == [grading.grade_id(c) for c in perfect.cells]
    assert [c.source for c in out.cells] == [c.source for c in perfect.cells]


def test_a_busy_grader_waits_for_a_cells_last_outputs(repo):
    """nbgrader fails a whole submission when a cell's outputs arrive more than
    ``iopub_timeout`` after its reply (nbclient's default: 4 s, which a chatty correct
    submission exceeded on a loaded grading machine)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(repo)).load_config()
    assert config.Execute.iopub_timeout >= 30
