"""Importing collected submissions: a folder per student, or an LMS zip (nbgrader zip_collect)."""

import csv
import zipfile

import nbformat

from lab_utils.instructor import grading
from tests.support import courses


def test_import_an_lms_zip(tmp_path, repo, shared_root):
    lab = "lab1_embeddings"
    course = courses.new_course(shared_root, tmp_path / "course", repo, [lab])
    released = course / "labs" / lab / f"{lab}.ipynb"
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(released, f"alice_{lab}.ipynb")
        zf.write(released, f"bob.smith_{lab}.ipynb")
    students, problems = grading.import_submissions(course, lab, archive)
    assert students == ["alice", "bob.smith"] and problems == {}
    for student in students:
        nb = nbformat.read(course / "submitted" / student / lab / f"{lab}.ipynb", as_version=4)
        assert len(nb.cells) == len(nbformat.read(released, as_version=4).cells)


def test_import_a_folder_reports_misnamed_files(tmp_path, repo, shared_root):
    lab = "lab1_embeddings"
    course = courses.new_course(shared_root, tmp_path / "course", repo, [lab])
    released = course / "labs" / lab / f"{lab}.ipynb"
    incoming = tmp_path / "incoming"
    (incoming / "carol").mkdir(parents=True)
    (incoming / "carol" / f"{lab}.ipynb").write_bytes(released.read_bytes())
    (incoming / "dave").mkdir()
    (incoming / "dave" / "lab1 (1).ipynb").write_bytes(released.read_bytes())
    students, problems = grading.import_submissions(course, lab, incoming)
    assert students == ["carol"]
    assert list(problems) == ["dave"] and "lab1 (1).ipynb" in problems["dave"]
    grading.export_grades(course, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert set(rows) == {"carol", "dave"}
    assert float(rows["dave"]["score"]) == 0
