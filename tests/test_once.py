"""``tests/once.py``: a shared result is built once per run, however many processes ask."""

import subprocess
import sys

import pytest

from tests import once

_ASK = """
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests import once

def build(folder):
    with open(Path({root!r}) / "calls", "a") as fh:
        fh.write("built\\n")
    time.sleep(0.5)  # long enough for the other processes to arrive and wait
    (folder / "result.txt").write_text("42")

print((once.build_once(Path({root!r}), "answer", build) / "result.txt").read_text())
"""


def test_concurrent_processes_build_once_and_all_read_it(tmp_path, repo, monkeypatch):
    log = tmp_path / "builds.log"
    monkeypatch.setenv(once.BUILD_LOG_ENV, str(log))
    code = _ASK.format(repo=str(repo), root=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert outputs == ["42", "42", "42"]
    assert (tmp_path / "calls").read_text() == "built\n"
    assert [name for name, _, _ in once.builds(log)] == ["answer"]


def test_a_failed_build_is_not_repeated(tmp_path, monkeypatch):
    log = tmp_path / "builds.log"
    monkeypatch.setenv(once.BUILD_LOG_ENV, str(log))
    calls = []

    def build(folder):
        calls.append(folder)
        raise ValueError("nbgrader broke")

    with pytest.raises(ValueError):
        once.build_once(tmp_path, "broken", build)
    with pytest.raises(RuntimeError, match="nbgrader broke"):
        once.build_once(tmp_path, "broken", build)
    assert len(calls) == 1
    assert [name for name, _, _ in once.builds(log)] == ["broken:FAILED"]  # logged once


def test_digest_follows_content(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.py").write_text("1")
    first = once.digest([tmp_path / "a"])
    assert once.digest([tmp_path / "a"]) == first
    (tmp_path / "a" / "x.py").write_text("2")
    assert once.digest([tmp_path / "a"]) != first
