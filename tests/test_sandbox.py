"""Student code cannot touch the grader (lab_utils/instructor/sandbox.py).

Fast: the sandbox's command line and environment, the one-line refusal without bubblewrap.
Slow: an attack suite on the grading machinery's test lab (:mod:`tests.support.minilab`; the
sandbox does not depend on the lab, and every course lab is graded sandboxed by
``tests/test_class.py``) -- submissions of the untouched lab whose first answer cell
tries to write the gradebook, the course folder and the course package, to read
``solutions/``/``source/`` and another student's submission, to reach a loopback server
the test runs, to fork or allocate without end, to silence its errors, to kill its own
kernel (the attacks that leave their kernel alive share one submission, see
:data:`SUBMISSIONS`) -- graded through the CLI's path (a LocalCluster) beside a perfect
submission, and the gradebook and package attacks through a plain ``nbgrader autograde``
(the formgrader's button).  Each attack scores what the untouched lab scores (0), every
other submission is graded, nothing the attacks print says they got through, the test's
server saw no connection, and the course folder, the package and the repository's
solutions are byte for byte unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import socket
import sqlite3
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest

from lab_utils.config import SANDBOX_MEMORY_ENV, SANDBOX_PROCESSES_ENV
from lab_utils.instructor import cli, gradebook, grading, sandbox
from tests.support import courses, minilab

LAB = "lab1_embeddings"  # the refusal without bubblewrap
#: The attack suite's lab: the machinery's test lab (graded in about a second, through the
#: course's own config and sandbox); what it tests is the sandbox, not a lab's content.
ATTACKED_LAB = minilab.LAB
ESCAPED = "ESCAPED"  # what an attack prints when it got through


# --- fast ------------------------------------------------------------------------------


def test_the_kernel_environment_keeps_no_secret(tmp_path):
    environ = {"PATH": "/usr/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "LAB_UTILS_CELL_TIMEOUT": "9",
               "JUPYTERHUB_API_TOKEN": "t0k3n", "AWS_SECRET_ACCESS_KEY": "s", "HOME": "/root",
               "PYTHONPATH": "/work/main", "GITHUB_TOKEN": "g"}
    env = sandbox.kernel_environment(environ, tmp_path)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3" and env["LAB_UTILS_CELL_TIMEOUT"] == "9"
    assert env["HOME"] == str(tmp_path / "home")
    for secret in ("JUPYTERHUB_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "PYTHONPATH", "GITHUB_TOKEN"):
        assert secret not in env, secret


def test_the_sandbox_shows_the_package_not_the_repository(repo, tmp_path):
    command = sandbox.bwrap_command(["python"], tmp_path, memory_mb=1, processes=1, file_mb=1,
                                    tmp_mb=1, uid=-1, gid=-1)
    bound = [command[i + 1] for i, arg in enumerate(command) if arg in ("--ro-bind", "--bind")]
    inside_repo = [Path(p) for p in bound if Path(p).resolve().is_relative_to(repo)]
    assert (repo / "lab_utils").resolve() in {p.resolve() for p in inside_repo}
    assert all(p.resolve() in {(repo / "lab_utils").resolve(), (repo / ".venv").resolve()}
               for p in inside_repo), inside_repo
    assert "--unshare-net" in command or "--unshare-all" in command
    assert command[command.index("--bind") + 1] == str(tmp_path)  # the only writable folder


def test_without_bubblewrap_grading_refuses_in_one_line(tmp_path, capsys, monkeypatch, repo):
    sandbox.unavailable_reason.cache_clear()
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    reason = sandbox.unavailable_reason()
    sandbox.unavailable_reason.cache_clear()
    assert "bubblewrap" in reason and "--no-sandbox" in reason and "\n" not in reason
    monkeypatch.setattr(sandbox, "unavailable_reason", lambda: reason)
    course = tmp_path / "course"
    course.mkdir()
    for name in ("nbgrader_config.py",):
        (course / name).write_text((repo / name).read_text())
    (course / "solutions" / LAB).mkdir(parents=True)
    (course / "solutions" / LAB / f"{LAB}.ipynb").write_text(
        (repo / "solutions" / LAB / f"{LAB}.ipynb").read_text())
    (course / "labs" / LAB).mkdir(parents=True)
    (course / "labs" / LAB / f"{LAB}.ipynb").write_text(
        (repo / "labs" / LAB / f"{LAB}.ipynb").read_text())
    grading.submit(course, "alice", LAB, course / "labs" / LAB / f"{LAB}.ipynb")
    monkeypatch.setattr(cli, "_released", lambda course, lab: None)
    from lab_utils.instructor import deadlines

    monkeypatch.setattr(deadlines, "sync_gradebook", lambda *a, **k: None)
    status = cli.main(["autograde", LAB, "--course-dir", str(course)])
    err = capsys.readouterr().err
    assert status == 2 and "cannot grade" in err and "bubblewrap" in err, err
    assert len(err.strip().splitlines()) == 1, err


# --- the attack suite ------------------------------------------------------------------


def _attacks(paths: dict, port: int) -> dict[str, str]:
    """Code a curious student puts in the first answer cell; it prints ESCAPED when it
    gets through.  ``paths`` names the real files (the strongest student knows them)."""
    p = {k: str(v) for k, v in paths.items()}
    return {
        "write_gradebook": f"""
            import glob, sqlite3
            for db in [{p['gradebook']!r}, *glob.glob('/tmp/autograde-*/gradebook.db')]:
                try:
                    con = sqlite3.connect(db)
                    con.execute("UPDATE grade SET manual_score = 99")
                    con.commit()
                    print("{ESCAPED} gradebook", db)
                except Exception as exc:
                    print("blocked:", type(exc).__name__)
            """,
        "write_course": f"""
            for target in [{p['course'] + '/pwned.txt'!r}, {p['repo'] + '/pwned.txt'!r}]:
                try:
                    open(target, "w").write("x")
                    print("{ESCAPED} course", target)
                except OSError as exc:
                    print("blocked:", type(exc).__name__)
            """,
        "write_package": f"""
            import lab_utils, os
            for target in [os.path.join(os.path.dirname(lab_utils.__file__), "checks.py"),
                           {p['package'] + '/pwned.py'!r}]:
                try:
                    open(target, "a").write("# pwned\\n")
                    print("{ESCAPED} package", target)
                except OSError as exc:
                    print("blocked:", type(exc).__name__)
            """,
        "read_answers": f"""
            for source in [{p['solutions']!r}, {p['course_source']!r}, {p['other_student']!r}]:
                try:
                    text = open(source).read()
                    print("{ESCAPED} read", source, len(text))
                except OSError as exc:
                    print("blocked:", type(exc).__name__)
            """,
        "network": f"""
            import socket
            for host in ["127.0.0.1", "localhost"]:
                try:
                    socket.create_connection((host, {port}), timeout=3).sendall(b"hi")
                    print("{ESCAPED} network", host)
                except OSError as exc:
                    print("blocked:", type(exc).__name__)
            """,
        "fork_bomb": """
            import os
            children = 0
            try:
                while True:
                    if os.fork() == 0:
                        import time
                        time.sleep(3600)
                    children += 1
            except OSError as exc:
                print("blocked after", children, "processes:", type(exc).__name__)
            """,
        "allocate": """
            hoard = []
            try:
                while True:
                    hoard.append(bytearray(50 * 2**20))
            except MemoryError:
                print("blocked after", len(hoard) * 50, "MiB")
            del hoard
            """,
        "silence_errors": """
            import sys, os
            import lab_utils.checks as checks_module
            for name in dir(checks_module):
                if name.startswith("check") or name in ("fail", "visible", "hidden"):
                    setattr(checks_module, name, lambda *a, **k: __import__("contextlib")
                            .nullcontext())
            get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
            sys.excepthook = lambda *a: None
            sys.stderr = open(os.devnull, "w")
            """,
        "kill_kernel": """
            import os, signal
            os.kill(os.getpid(), signal.SIGKILL)
            """,
    }


#: The attacks that cannot take their kernel down share one submission (each block catches
#: its own failure and says which attack it was); the others get one each.
REACHING = ["write_gradebook", "write_course", "write_package", "read_answers", "network"]
SUBMISSIONS = {
    "reach_out": [*REACHING, "silence_errors"],  # silencing last: the others print what they met
    "fork_bomb": ["fork_bomb"],
    "allocate": ["allocate"],
    "kill_kernel": ["kill_kernel"],
}


def _submission_code(attacks: dict[str, str], names: list[str]) -> str:
    """The attacks ``names`` one after another, each block's messages tagged with its name."""
    return "\n".join(textwrap.dedent(attacks[name]).replace('"blocked:"', f'"blocked {name}:"')
                     for name in names)


def _with_attack(released, code: str):
    """The untouched lab with ``code`` first in its first answer cell."""
    from nbgrader.utils import is_solution

    nb = copy.deepcopy(released)
    cell = next(c for c in nb.cells if is_solution(c) and c.cell_type == "code")
    cell.source = textwrap.dedent(code).strip() + "\n\n" + cell.source
    return nb


def _digest(*folders, skip=()) -> dict[str, str]:
    out = {}
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            rel = str(path)
            if not path.is_file() or "__pycache__" in path.parts or any(s in rel for s in skip):
                continue
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


class _Listener:
    """A loopback TCP server that records every connection it accepts."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


#: Written by grading (compared separately), not by a submission.
_GRADING_OUTPUT = ("gradebook.db", "/autograded/", "/feedback/", "/reports/", "autograde-")


#: What the plain `nbgrader autograde` is attacked with, as one student.
PLAIN_ATTACKS, PLAIN_STUDENT = ["write_gradebook", "write_package"], "plain_attacker"


@pytest.fixture(scope="module")
def attacked(repo, tmp_path_factory, shared_root):
    mp = pytest.MonkeyPatch()  # tighter limits, inherited by the local cluster's workers
    mp.setenv(SANDBOX_MEMORY_ENV, "1536")
    mp.setenv(SANDBOX_PROCESSES_ENV, "160")
    listener = _Listener()
    try:
        lab_repo = minilab.repository(tmp_path_factory.mktemp("minilab"), repo)
        course = courses.new_course(shared_root, tmp_path_factory.mktemp("attacked") / "course",
                                    lab_repo, [ATTACKED_LAB])
        source, released = grading.read_lab(course, ATTACKED_LAB)
        grading.submit(course, "perfect", ATTACKED_LAB,
                       grading.perfect_submission(source, released))
        package = sandbox.package_dir()
        notebook = Path(ATTACKED_LAB) / f"{ATTACKED_LAB}.ipynb"
        paths = {"gradebook": gradebook.gradebook_path(course), "course": course, "repo": repo,
                 "package": package,
                 "solutions": lab_repo / "solutions" / notebook,
                 "course_source": gradebook.folder(course, "source") / notebook,
                 "other_student": gradebook.folder(course, "submitted") / "perfect" / notebook}
        attacks = _attacks(paths, listener.port)
        for student, names in SUBMISSIONS.items():
            grading.submit(course, student, ATTACKED_LAB,
                           _with_attack(released, _submission_code(attacks, names)))
        before = _digest(course, package, repo / "solutions", lab_repo, skip=_GRADING_OUTPUT)
        outcomes = grading.autograde_class(course, ATTACKED_LAB, ["perfect", *SUBMISSIONS], jobs=2)
        # the formgrader's button: a plain `nbgrader autograde` of the gradebook and package
        # attacks
        plain = courses.new_course(shared_root, tmp_path_factory.mktemp("plain") / "course",
                                   lab_repo, [ATTACKED_LAB])
        plain_paths = dict(paths, gradebook=gradebook.gradebook_path(plain), course=plain)
        grading.submit(plain, PLAIN_STUDENT, ATTACKED_LAB, _with_attack(released, _submission_code(
            _attacks(plain_paths, listener.port), PLAIN_ATTACKS)))
        plain_before = _digest(plain, skip=_GRADING_OUTPUT)
        grading.autograde(plain, ATTACKED_LAB)
        yield {"course": course, "outcomes": outcomes, "attacks": attacks, "before": before,
               "after": _digest(course, package, repo / "solutions", lab_repo,
                                skip=_GRADING_OUTPUT),
               "plain": plain, "plain_before": plain_before,
               "plain_after": _digest(plain, skip=_GRADING_OUTPUT),
               "connections": listener.connections}
    finally:
        listener.close()
        mp.undo()


def _auto_total(course, student) -> float:
    return sum(c.score or 0.0 for c in grading.scores(course, ATTACKED_LAB, student).values()
               if not c.manual)


def _printed(course, student) -> str:
    path = gradebook.folder(course, "autograded") / student / ATTACKED_LAB / f"{ATTACKED_LAB}.ipynb"
    if not path.is_file():
        return ""
    nb = nbformat.read(path, as_version=4)
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("output_type") == "stream")


#: Attacks whose kernel may die (the fork bomb's children keep the process quota, so the next
#: cell that needs a thread may kill the kernel): then the submission is reported with what
#: the sandbox saw, and scores 0 like the untouched lab.
MAY_DIE = {"fork_bomb", "allocate", "kill_kernel"}


@pytest.mark.slow
def test_every_attack_scores_what_the_untouched_lab_scores(attacked):
    course, outcomes = attacked["course"], attacked["outcomes"]
    assert outcomes["perfect"].status == "graded"
    assert _auto_total(course, "perfect") > 0
    recorded = gradebook.recorded(course, ATTACKED_LAB)
    for name in SUBMISSIONS:
        outcome = outcomes[name]
        if outcome.status == "error" and name in MAY_DIE:
            assert outcome.message.startswith(("the kernel died", "the sandbox killed")), (
                name, outcome.message)
            assert name not in recorded  # no grade: 0 in the export
            continue
        assert name != "kill_kernel", outcome
        assert outcome.status == "graded", (name, outcome.message)
        assert _auto_total(course, name) == 0.0, name


@pytest.mark.slow
def test_no_attack_got_through(attacked):
    course, outcomes = attacked["course"], attacked["outcomes"]
    for name in SUBMISSIONS:
        printed = _printed(course, name)
        assert ESCAPED not in printed, (name, printed)
    for name in REACHING:  # each attack ran, and was blocked
        assert f"blocked {name}:" in _printed(course, "reach_out"), name
    for name in ("fork_bomb", "allocate"):
        if outcomes[name].status == "graded":
            assert "blocked after" in _printed(course, name), name
    assert attacked["connections"] == 0


@pytest.mark.slow
def test_the_course_the_package_and_the_solutions_are_unchanged(attacked, repo):
    assert attacked["after"] == attacked["before"]
    assert attacked["plain_after"] == attacked["plain_before"]
    assert not (repo / "pwned.txt").exists()
    with sqlite3.connect(gradebook.gradebook_path(attacked["course"])) as db:
        assert db.execute("SELECT COUNT(*) FROM grade WHERE manual_score IS NOT NULL"
                          ).fetchone() == (0,)


@pytest.mark.slow
def test_a_plain_nbgrader_autograde_is_sandboxed_too(attacked):
    plain = attacked["plain"]
    assert _auto_total(plain, PLAIN_STUDENT) == 0.0
    printed = _printed(plain, PLAIN_STUDENT)
    assert ESCAPED not in printed, printed
    for name in PLAIN_ATTACKS:
        assert f"blocked {name}:" in printed, (name, printed)
    with sqlite3.connect(gradebook.gradebook_path(plain)) as db:
        assert db.execute("SELECT COUNT(*) FROM grade WHERE manual_score IS NOT NULL"
                          ).fetchone() == (0,)
