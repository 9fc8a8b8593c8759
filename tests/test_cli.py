"""The instructor CLI fails in one clear line, with a non-zero exit status, on every error a
user can cause; ``--help`` of each command shows an example."""

import re
import subprocess
import sys
import zipfile

import pytest

from lab_utils.instructor import cli, grading

LAB = "lab1_embeddings"


@pytest.fixture
def run(capsys):
    """``python -m lab_utils ARGS`` in this process: (exit status, stdout, stderr)."""

    def _run(*args):
        try:
            status = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse: --help and usage errors
            status = exc.code
        out, err = capsys.readouterr()
        return status, out, err

    return _run


def _run_process(*args):
    proc = subprocess.run([sys.executable, "-m", "lab_utils", *map(str, args)],
                          capture_output=True, text=True, env=grading._env())
    return proc.returncode, proc.stdout, proc.stderr


def _one_error_line(stderr: str, *words: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture(scope="module")
def course(tmp_path_factory, repo):
    """A course folder with Lab 1's source (not released: the CLI tests need no release)."""
    import shutil

    path = tmp_path_factory.mktemp("cli-course")
    shutil.copy(repo / "nbgrader_config.py", path / "nbgrader_config.py")
    shutil.copytree(repo / "solutions" / LAB, path / "solutions" / LAB)
    return path


@pytest.mark.parametrize("command", sorted(cli.EXAMPLES))
def test_help_of_every_command_shows_an_example(run, command):
    status, out, _ = run(command, "--help")
    assert status == 0
    assert "example" in out and f"python -m lab_utils {command}" in out


def test_every_command_has_an_example():
    """The commands the parser offers (its usage line, ``{fetch,release,...}``: public
    output, not argparse's internals) are exactly those with an example."""
    usage = " ".join(cli.build_parser().format_usage().split())
    offered = re.search(r"\{([^}]+)\}", usage)
    assert offered, usage
    assert set(offered[1].split(",")) == set(cli.EXAMPLES)


def test_missing_course_folder(run, tmp_path):
    status, _, err = run("autograde", LAB, "--course-dir", tmp_path / "nowhere")
    assert status == 2
    _one_error_line(err, "does not exist", "--course-dir")


def test_folder_without_nbgrader_config(run, tmp_path):
    status, _, err = run("release", "--course-dir", tmp_path)
    assert status == 2
    _one_error_line(err, "no nbgrader_config.py", str(tmp_path))


def test_unknown_lab(run, course):
    status, _, err = run("autograde", "lab9_nothing", "--course-dir", course)
    assert status == 2
    _one_error_line(err, "unknown lab 'lab9_nothing'", LAB)


def test_no_submissions(run, course):
    status, _, err = run("autograde", LAB, "--course-dir", course)
    assert status == 1
    _one_error_line(err, "no submissions", "collect")


def test_collect_from_a_missing_folder(run, course, tmp_path):
    status, _, err = run("collect", LAB, tmp_path / "incoming", "--course-dir", course)
    assert status == 2
    _one_error_line(err, "does not exist")


def test_collect_a_bad_zip(run, course, tmp_path):
    bad = tmp_path / "download.zip"
    bad.write_bytes(b"PK this is not a zip")
    status, _, err = run("collect", LAB, bad, "--course-dir", course)
    assert status == 2
    _one_error_line(err, "not a folder nor a readable zip", "download it again")


def test_collect_finds_nothing(run, course, tmp_path):
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "no notebooks here")
    (tmp_path / "incoming" / "alice").mkdir(parents=True)
    status, out, err = run("collect", LAB, tmp_path / "incoming", "--course-dir", course)
    assert status == 1
    _one_error_line(err, f"no {LAB}.ipynb found")
    assert "alice: no lab1_embeddings.ipynb" in out  # the student is still listed


def test_feedback_before_grading(run, course):
    status, _, err = run("feedback", LAB, "--course-dir", course)
    assert status == 1
    _one_error_line(err, "no autograded submission", "autograde")


def test_export_to_a_missing_folder(run, course, tmp_path):
    status, _, err = run("export", tmp_path / "nowhere" / "grades.csv", "--course-dir", course)
    assert status == 2
    _one_error_line(err, "folder", "does not exist")


def test_nbgrader_failure_is_one_line_and_the_log_is_kept(run, tmp_path, repo):
    import shutil

    shutil.copy(repo / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    (tmp_path / "solutions" / LAB).mkdir(parents=True)
    (tmp_path / "solutions" / LAB / f"{LAB}.ipynb").write_text('{"cells": [ not JSON')
    status, _, err = _run_process("release", "--course-dir", tmp_path)
    assert status == 1
    line = _one_error_line(err, "nbgrader generate_assignment", "failed", "full output")
    log = tmp_path / "nbgrader-release.log"
    assert log.is_file() and str(log) in line and log.read_text().strip()


def test_usage_error_is_one_line(run):
    status, _, err = run("autograde")
    assert status == 2
    _one_error_line(err, "required", "--help")


def test_the_installed_command_is_this_cli(repo):
    import tomllib

    scripts = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["lab-utils"].partition(":")
    import importlib

    assert getattr(importlib.import_module(module), function) is cli.main
