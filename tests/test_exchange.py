"""nbgrader's exchange through the CLI, on one account (no hub, no root): ``release
--exchange``, a student's ``nbgrader fetch_assignment`` and ``submit``, ``collect --exchange``
(the exchange's time stamp and submission secret kept), and the command line's one-line
errors.  The multi-user round trip on a real JupyterHub is ``tests/test_hub.py``."""

import datetime as dt
import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dateutil.parser import parse

from lab_utils.instructor import cli, timestamps

REPO = Path(__file__).resolve().parent.parent
LAB = "lab1_embeddings"
COURSE_ID = "dl-embeddings-recsys"


@pytest.fixture
def course(tmp_path, monkeypatch):
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions" / LAB, course / "solutions" / LAB)
    # the hub's global nbgrader config (exchange root and course id from the environment)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(REPO / "hub" / "jupyter"))
    monkeypatch.setenv("NBGRADER_EXCHANGE", str(tmp_path / "exchange"))
    monkeypatch.setenv("NBGRADER_COURSE_ID", COURSE_ID)
    (tmp_path / "exchange").mkdir(mode=0o777)
    (tmp_path / "exchange").chmod(0o777)
    return course


def _student(cwd, *args):
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd,
                          capture_output=True, text=True, env=os.environ)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow  # five nbgrader processes (≈ 20 s on the loaded machine)
def test_release_collect_through_the_exchange(course, tmp_path, capsys):
    assert cli.main(["release", LAB, "--exchange", "--course-dir", str(course)]) == 0
    outbound = tmp_path / "exchange" / COURSE_ID / "outbound" / LAB / f"{LAB}.ipynb"
    assert outbound.is_file()

    home = tmp_path / "student"
    home.mkdir()
    _student(home, "fetch_assignment", LAB)
    assert (home / LAB / f"{LAB}.ipynb").is_file()
    _student(home, "submit", LAB)
    inbound = list((tmp_path / "exchange" / COURSE_ID / "inbound").iterdir())
    assert len(inbound) == 1
    exchange_time = parse((inbound[0] / "timestamp.txt").read_text())

    assert cli.main(["collect", LAB, "--exchange", "--course-dir", str(course)]) == 0
    student = getpass.getuser()
    submitted = course / "submitted" / student / LAB
    assert (submitted / f"{LAB}.ipynb").is_file()
    # the secret the student's feedback will be named after travels with the submission
    assert (submitted / "submission_secret.txt").read_text() == \
        (inbound[0] / "submission_secret.txt").read_text()
    recorded = parse((submitted / "timestamp.txt").read_text())
    assert abs(recorded.replace(tzinfo=dt.UTC) - exchange_time.replace(tzinfo=dt.UTC)) \
        < dt.timedelta(seconds=1)
    rows = timestamps.read_report(course, LAB)
    assert [(r["student"], r["source"]) for r in rows] == [(student, "timestamp.txt")]
    assert "timestamp.txt (1)" in capsys.readouterr().out


def test_collect_needs_a_source_or_the_exchange(course, tmp_path, capsys):
    assert cli.main(["collect", LAB, "--course-dir", str(course)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--exchange" in err and len(err.splitlines()) == 1, err
    assert cli.main(["collect", LAB, str(tmp_path), "--exchange",
                     "--course-dir", str(course)]) == 2
    err = capsys.readouterr().err.strip()
    assert "drop" in err and len(err.splitlines()) == 1, err
