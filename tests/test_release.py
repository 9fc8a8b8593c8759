"""The committed student versions are exactly what nbgrader generates from solutions/."""

import nbformat
import pytest

from lab_utils.instructor import grading, nbgrader_ext

SOLUTION_LINE_MIN = 25  # solution lines at least this long must not appear in labs/


def _labs(repo):
    return grading.list_labs(repo)


def _summary(nb):
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nb.cells]


def test_every_lab_is_released(repo):
    labs = _labs(repo)
    assert labs, "no lab found in solutions/"
    assert sorted(p.name for p in (repo / "labs").iterdir() if p.is_dir()) == labs


def test_committed_labs_equal_a_fresh_generation(repo, released_lab):
    for lab in _labs(repo):
        committed = nbformat.read(repo / "labs" / lab / f"{lab}.ipynb", as_version=4)
        fresh = nbformat.read(released_lab(lab) / "labs" / lab / f"{lab}.ipynb", as_version=4)
        assert _summary(committed) == _summary(fresh), f"labs/{lab} is stale: run make release"


@pytest.mark.parametrize("folder", ["labs", "solutions"])
def test_notebooks_are_stored_without_outputs(repo, folder):
    paths = sorted((repo / folder).rglob("*.ipynb"))
    assert paths
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path}: outputs"


def test_student_versions_hold_no_solutions_nor_hidden_tests(repo):
    for lab in _labs(repo):
        source = nbformat.read(repo / "solutions" / lab / f"{lab}.ipynb", as_version=4)
        text = (repo / "labs" / lab / f"{lab}.ipynb").read_text()
        for marker in ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "checks.hidden"]:
            assert marker not in text, f"labs/{lab} contains {marker!r}"
        secret, public = [], set()
        for cell in source.cells:
            shown, hidden = nbgrader_ext.split_regions(cell.source)
            shown, solution = nbgrader_ext.split_regions(
                "\n".join(shown), nbgrader_ext.SOLUTION_BEGIN, nbgrader_ext.SOLUTION_END)
            secret += [line.strip() for line in hidden + solution
                       if len(line.strip()) >= SOLUTION_LINE_MIN]
            public |= {line.strip() for line in shown}
        secret = [line for line in secret if line not in public]
        assert secret, f"{lab}: no solution or hidden test found in the source"
        student = nbformat.reads(text, as_version=4)
        student_lines = {line.strip() for c in student.cells for line in c.source.split("\n")}
        leaked = [line for line in secret if line in student_lines]
        assert leaked == [], f"labs/{lab} leaks: {leaked[:3]}"
