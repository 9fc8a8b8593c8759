"""The course on a real JupyterHub: nbgrader's exchange round trip, end to end (issue 28).

Runs as root (CI does): creates Linux accounts for one instructor and two students (unique
names, removed afterwards), starts JupyterHub with the repository's recipe
(``hub/jupyterhub_config.py``, unchanged, pointed at a temporary folder through its
environment variables) on loopback, and plays a lab's whole cycle as those users:

1. the instructor releases Lab 1 to the exchange (``python -m lab_utils release --exchange``,
   run as the instructor's account);
2. student A fetches it and submits the solution through their own JupyterLab server's
   nbgrader endpoints, reached through the hub's proxy with A's API token; student B
   fetches and submits the untouched notebook in JupyterLab's Assignments tab, driven in
   headless Chromium after a PAM login (screenshot in ``test-artifacts/``);
3. the instructor collects from the exchange (the submission times come from its
   ``timestamp.txt``), autogrades through the CLI (bubblewrap sandbox), generates and
   releases feedback;
4. each student fetches their own feedback; B cannot list the exchange's inbound or
   feedback folders nor read anything in A's home (a read attempt as B, and the modes).

Grades: A scores every autograded point, B scores 0.  Students' servers have no
formgrader; the instructor's has it.
"""

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from lab_utils.instructor import grading, timestamps

pytestmark = [pytest.mark.slow, pytest.mark.hub]

REPO = Path(__file__).resolve().parent.parent
LAB = "lab1_embeddings"
COURSE_ID = "dl-embeddings-recsys"
CHP = REPO / ".hub-deps" / "node_modules" / ".bin" / "configurable-http-proxy"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SERVICE_TOKEN = secrets.token_hex(16)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*cmd, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True,
                          **kwargs)


def _http(method, url, token, form=None, body=None, timeout=120):
    """(status, parsed JSON or text) of one request with ``Authorization: token``."""
    headers = {"Authorization": f"token {token}"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class Hub:
    """The running hub, its users and their tokens."""

    def __init__(self, base, root, course, users, env):
        self.base, self.root, self.course, self.users, self.env = base, root, course, users, env
        self.tokens = {}

    def admin(self, method, path, **kwargs):
        return _http(method, f"{self.base}/hub/api{path}", SERVICE_TOKEN, **kwargs)

    def as_user(self, name, method, path, **kwargs):
        """A request to ``name``'s own server, through the proxy, with ``name``'s token."""
        return _http(method, f"{self.base}/user/{name}{path}", self.tokens[name], **kwargs)

    def run_as(self, name, *cmd, cwd=None) -> subprocess.CompletedProcess:
        """``cmd`` as the Linux user ``name``, with the environment the hub gives servers."""
        home = pwd.getpwnam(name).pw_dir
        env = [f"{k}={v}" for k, v in {**self.env, "HOME": home, "USER": name}.items()]
        return subprocess.run(["runuser", "-u", name, "--", "env", "-i", *env, *map(str, cmd)],
                              cwd=cwd or home, capture_output=True, text=True, timeout=900)


def _readable_by_all(path: Path) -> bool:
    """Whether any user can reach and read ``path`` (every folder above it searchable)."""
    path = Path(os.path.realpath(path))
    return all(p.stat().st_mode & stat.S_IXOTH for p in path.parents) and bool(
        path.stat().st_mode & stat.S_IROTH)


def _course_env(root: Path) -> Path:
    """The course environment the users' servers run from: this environment when every user
    can run its interpreter, else (here: a pyenv Python under /root, mode 0700) the same
    interpreter and packages as hard links under ``root`` -- what a hub does anyway (an
    environment under /opt, readable by all)."""
    if _readable_by_all(Path(sys.executable)):
        return Path(sys.prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(os.path.realpath(sys.executable)).parent.parent
    python = root / "python"
    if subprocess.run(["cp", "-al", base, python], capture_output=True).returncode != 0:
        shutil.rmtree(python, ignore_errors=True)
        _run("cp", "-a", base, python)  # another filesystem: a copy
    # the interpreter finds libpython through an absolute RUNPATH (base/lib): point it at
    # its own folder's ../lib instead, in a copy of the binary (same length, NUL-padded)
    exe = python / "bin" / Path(os.path.realpath(sys.executable)).name
    binary, old = exe.read_bytes(), str(base / "lib").encode() + b"\0"
    if old in binary:
        new = b"$ORIGIN/../lib"
        binary = binary.replace(old, new + b"\0" * (len(old) - len(new)))
    exe.unlink()
    exe.write_bytes(binary)
    exe.chmod(0o755)
    probe = subprocess.run(["runuser", "-u", "nobody", "--", str(exe), "-c", "print(1)"],
                           capture_output=True, text=True)
    if probe.stdout.strip() != "1":
        pytest.skip(f"this environment's Python ({exe}) cannot be run by other users, nor a "
                    f"copy of it: {probe.stderr.strip()[-300:]}")
    env = root / "env"
    _run(exe, "-m", "venv", "--without-pip", env)
    site = env / "lib" / version / "site-packages"
    site.rmdir()
    source = Path(sys.prefix) / "lib" / version / "site-packages"
    if subprocess.run(["cp", "-al", source, site], capture_output=True).returncode != 0:
        shutil.rmtree(site, ignore_errors=True)
        _run("cp", "-a", source, site)  # another filesystem: a copy
    for data in ("share", "etc"):  # JupyterLab's extensions, the server extensions' switches
        (env / data).symlink_to(Path(sys.prefix) / data)
    # the console scripts (jupyterhub-singleuser, nbgrader, alembic, ...) with this Python
    shebang = f"#!{Path(sys.prefix) / 'bin' / 'python'}"
    for script in (Path(sys.prefix) / "bin").iterdir():
        target = env / "bin" / script.name
        if script.is_file() and not script.is_symlink() and not target.exists():
            with open(script, "rb") as fh:
                first = fh.readline().decode(errors="replace").strip()
            if first.startswith(shebang):
                text = script.read_text()
                target.write_text(f"#!{env / 'bin' / 'python'}" + text[len(first):])
                target.chmod(0o755)
    return env


def _user_env(root, course, role, env) -> dict:
    """What hub/jupyterhub_config.py's Spawner.environment gives a server (for the CLI)."""
    hub_dir = REPO / "hub" / "jupyter"
    return {
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(hub_dir / role), str(hub_dir)]),
        "LAB_UTILS_DATA_DIR": os.environ.get("LAB_UTILS_DATA_DIR", ""),
        "NBGRADER_EXCHANGE": str(root / "exchange"),
        "NBGRADER_COURSE_ID": COURSE_ID,
        "COURSE_DIR": str(course),
        "PATH": os.pathsep.join([str(env / "bin"), "/usr/local/bin",
                                 "/usr/bin", "/bin"]),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.skip("the hub test creates Linux accounts and starts JupyterHub as root "
                    "(CI runs as root): run it as root")
    if not CHP.exists():
        pytest.fail("configurable-http-proxy is not installed: run `make hub-deps` "
                    "(make test does)")
    suffix = secrets.token_hex(3)
    names = {"instructor": f"hubi{suffix}", "a": f"hubsa{suffix}", "b": f"hubsb{suffix}"}
    groups = {"student": f"hubst{suffix}", "instructor": f"hubin{suffix}"}
    # not under /tmp: the grading sandbox gives each kernel a /tmp of its own, which would
    # hide a course environment kept there
    root = Path(tempfile.mkdtemp(prefix="lab-utils-hub-test-", dir="/var/tmp"))
    root.chmod(0o755)
    created_users, created_groups, hub_proc = [], [], None
    try:
        for group in groups.values():
            _run("groupadd", group)
            created_groups.append(group)
        for role, name in names.items():
            group = groups["instructor" if role == "instructor" else "student"]
            _run("useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name)
            created_users.append(name)
            Path(pwd.getpwnam(name).pw_dir).chmod(0o700)  # the recipe's requirement
        _run("chpasswd", input=f"{names['b']}:{SERVICE_TOKEN}\n")  # B logs in (PAM)

        # nbgrader's exchange: one folder every user can write (docs/cluster-and-hub.md)
        (root / "exchange").mkdir(mode=0o777)
        (root / "exchange").chmod(0o777)
        course_env = _course_env(root)
        state = root / "state"
        state.mkdir(mode=0o700)
        # the instructor's course folder: the course's config and Lab 1's source
        course = root / "course"
        course.mkdir()
        shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(REPO / "solutions" / LAB, course / "solutions" / LAB)
        _run("chown", "-R", f"{names['instructor']}:{names['instructor']}", course)
        course.chmod(0o700)

        port = _free_port()
        config = root / "jupyterhub_config.py"
        config.write_text(
            f"load_subconfig({str(REPO / 'hub' / 'jupyterhub_config.py')!r})\n"
            f"c.JupyterHub.services = [{{'name': 'hub-test', 'api_token': {SERVICE_TOKEN!r}}}]\n"
            "c.JupyterHub.load_roles = [{'name': 'hub-test', 'services': ['hub-test'],\n"
            "    'scopes': ['admin:users', 'admin:servers', 'tokens', 'read:users']}]\n")
        env = dict(os.environ,
                   COURSE_HUB_URL=f"http://127.0.0.1:{port}",
                   COURSE_HUB_API_PORT=str(_free_port()),
                   COURSE_HUB_PROXY_API_PORT=str(_free_port()),
                   COURSE_HUB_STATE=str(state), COURSE_ENV=str(course_env),
                   COURSE_INSTRUCTOR=names["instructor"],
                   COURSE_DIR=str(course), COURSE_STUDENT_GROUP=groups["student"],
                   COURSE_INSTRUCTOR_GROUP=groups["instructor"],
                   NBGRADER_EXCHANGE=str(root / "exchange"), NBGRADER_COURSE_ID=COURSE_ID)
        log = open(root / "jupyterhub.log", "w")
        hub_proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)],
                                    cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            if hub_proc.poll() is not None:
                break
            try:
                if _http("GET", f"{base}/hub/api/", SERVICE_TOKEN, timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("JupyterHub did not start: "
                        + (root / "jupyterhub.log").read_text()[-3000:])
        if hub_proc.poll() is not None:
            pytest.fail("JupyterHub exited: " + (root / "jupyterhub.log").read_text()[-3000:])

        instructor_env = _user_env(root, course, "instructor", course_env)
        h = Hub(base, root, course, names, instructor_env)
        h.python = course_env / "bin" / "python"
        for name in names.values():
            assert h.admin("POST", f"/users/{name}")[0] == 201
            status, reply = h.admin("POST", f"/users/{name}/tokens",
                                    body={"note": "hub test", "expires_in": 3600})
            assert status == 201, reply
            h.tokens[name] = reply["token"]
        # every server at once (each takes seconds to start on a loaded machine)
        for name in names.values():
            status, reply = h.admin("POST", f"/users/{name}/server")
            assert status in (201, 202), (f"{name}'s server: {status} {reply}\n"
                                          + (root / "jupyterhub.log").read_text()[-3000:])
        deadline = time.time() + 180
        pending = set(names.values())
        while pending and time.time() < deadline:
            for name in list(pending):
                status, model = h.admin("GET", f"/users/{name}")
                server = (model.get("servers") or {}).get("", {}) if status == 200 else {}
                if server.get("ready"):
                    pending.discard(name)
            time.sleep(1)
        assert not pending, (f"servers of {pending} not ready after 180 s: "
                             + (root / "jupyterhub.log").read_text()[-3000:])
        yield h
    finally:
        if hub_proc is not None:
            for name in created_users:
                try:
                    _http("DELETE", f"{base}/hub/api/users/{name}/server", SERVICE_TOKEN,
                          timeout=30)
                except OSError:
                    pass
            hub_proc.send_signal(signal.SIGTERM)
            try:
                hub_proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                hub_proc.kill()
                hub_proc.wait()
        if (root / "jupyterhub.log").is_file():  # the hub's log, for a failure's story
            (REPO / "test-artifacts").mkdir(exist_ok=True)
            shutil.copy(root / "jupyterhub.log", REPO / "test-artifacts" / "hub-jupyterhub.log")
        for name in created_users:
            subprocess.run(["userdel", "--force", "--remove", name], capture_output=True)
        for group in created_groups:
            subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _assignment(listing, status=None):
    assert listing["success"], listing
    found = [a for a in listing["value"] if a["assignment_id"] == LAB
             and a["course_id"] == COURSE_ID and (status is None or a["status"] == status)]
    return found[0] if found else None


def _browser_fetch_and_submit(hub, name, artifacts):
    """Student ``name`` logs in (PAM), opens the Assignments tab, fetches and submits."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{hub.base}/hub/login", timeout=120_000)
            page.fill("#username_input", name)
            page.fill("#password_input", SERVICE_TOKEN)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
            page.wait_for_selector("#jp-menu-panel", timeout=120_000)
            page.locator("#jp-menu-panel").get_by_text("Nbgrader", exact=True).click()
            page.get_by_text("Assignment List", exact=True).click()
            fetch = page.locator("#nbgrader-assignment-list button", has_text="Fetch").first
            fetch.wait_for(timeout=120_000)
            fetch.click()
            submit = page.locator("#nbgrader-assignment-list button", has_text="Submit").first
            submit.wait_for(timeout=120_000)
            submit.click()
            page.locator("#nbgrader-assignment-list", has_text="submitted").first.wait_for(
                timeout=120_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(artifacts / "hub-assignments-tab.png"))
            menu = page.locator("#jp-menu-panel").get_by_text("Nbgrader", exact=True)
            menu.click()
            labels = page.locator(".lm-Menu-itemLabel").all_inner_texts()
            page.keyboard.press("Escape")
            return labels
        finally:
            chromium.close()


def test_exchange_round_trip(hub):
    start = time.perf_counter()
    a, b, instructor = hub.users["a"], hub.users["b"], hub.users["instructor"]
    query = f"/assignments?course_id={COURSE_ID}"

    # students get the Assignments tab, not the formgrader; the instructor gets it
    assert hub.as_user(a, "GET", "/formgrader")[0] == 404
    assert hub.as_user(instructor, "GET", "/formgrader")[0] == 200

    # 1. the instructor releases Lab 1 to the exchange (the CLI, as the instructor)
    proc = hub.run_as(instructor, hub.python, "-m", "lab_utils", "release", LAB,
                      "--exchange", cwd=hub.course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outbound = hub.root / "exchange" / COURSE_ID / "outbound" / LAB / f"{LAB}.ipynb"
    assert outbound.is_file()

    # 2. A fetches through their server's nbgrader endpoint and submits the solution
    status, listing = hub.as_user(a, "GET", query)
    assert status == 200 and _assignment(listing, "released"), listing
    status, listing = hub.as_user(a, "POST", "/assignments/fetch",
                                  form={"course_id": COURSE_ID, "assignment_id": LAB})
    assert status == 200 and _assignment(listing, "fetched"), listing
    source = nbformat.read(hub.course / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    released = nbformat.read(hub.course / "labs" / LAB / f"{LAB}.ipynb", as_version=4)
    solved = grading.perfect_submission(source, released)
    status, reply = hub.as_user(a, "PUT", f"/api/contents/{LAB}/{LAB}.ipynb",
                                body={"type": "notebook", "format": "json",
                                      "content": json.loads(nbformat.writes(solved))})
    assert status == 200, reply
    status, listing = hub.as_user(a, "POST", "/assignments/submit",
                                  form={"course_id": COURSE_ID, "assignment_id": LAB})
    assert status == 200 and _assignment(listing, "submitted"), listing

    #    B fetches and submits the untouched notebook in the Assignments tab (Chromium)
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    browser_start = time.perf_counter()
    menu = _browser_fetch_and_submit(hub, b, artifacts)
    browser_seconds = time.perf_counter() - browser_start
    assert "Assignment List" in menu and "Formgrader" not in menu, menu
    status, listing = hub.as_user(b, "GET", query)
    assert status == 200 and _assignment(listing, "submitted"), listing

    # 3. the instructor collects, autogrades (sandboxed), writes and releases feedback
    steps = {}
    for command in (["collect", LAB, "--exchange"], ["autograde", LAB, "--jobs", "2"],
                    ["feedback", LAB, "--release"]):
        step_start = time.perf_counter()
        proc = hub.run_as(instructor, hub.python, "-m", "lab_utils", *command,
                          cwd=hub.course)
        steps[command[0]] = time.perf_counter() - step_start
        logs = "".join(p.read_text()[-3000:] for p in hub.course.glob("nbgrader-*.log"))
        assert proc.returncode == 0, f"{command}: {proc.stdout}{proc.stderr}{logs}"
    times = {row["student"]: row["source"] for row in timestamps.read_report(hub.course, LAB)}
    assert times == {a: "timestamp.txt", b: "timestamp.txt"}, times
    full = grading.scores(hub.course, LAB, a)
    auto = [s for s in full.values() if not s.manual and not s.needs_manual_grade]
    assert auto and sum(s.max_score for s in auto) > 0
    assert sum(s.score for s in auto) == pytest.approx(sum(s.max_score for s in auto)), \
        {s.grade_id: (s.score, s.max_score) for s in auto if s.score != s.max_score}
    untouched = grading.scores(hub.course, LAB, b)
    assert sum(s.score or 0 for s in untouched.values() if not s.manual) == 0

    # 4. each student fetches their own feedback
    feedback = {}
    for name in (a, b):
        status, listing = hub.as_user(name, "POST", "/assignments/fetch_feedback",
                                      form={"course_id": COURSE_ID, "assignment_id": LAB})
        assert status == 200, listing
        home = Path(pwd.getpwnam(name).pw_dir)
        found = sorted(home.glob(f"{LAB}/feedback/*/{LAB}.html"))
        assert found, f"{name} has no feedback in {home / LAB / 'feedback'}"
        feedback[name] = found[-1]
    for name in (a, b):  # each got their own: the instructor's feedback file, byte for byte
        generated = hub.course / "feedback" / name / LAB / f"{LAB}.html"
        assert feedback[name].read_bytes() == generated.read_bytes(), name
    assert feedback[a].read_bytes() != feedback[b].read_bytes()

    #    and B can read neither A's submission nor A's feedback
    course_x = hub.root / "exchange" / COURSE_ID
    for folder in (course_x / "inbound", course_x / "feedback"):
        assert not folder.stat().st_mode & stat.S_IROTH, f"{folder} can be listed by anyone"
    home_a = Path(pwd.getpwnam(a).pw_dir)
    assert stat.S_IMODE(home_a.stat().st_mode) == 0o700
    attempt = ("import os, sys\n"
               "denied = []\n"
               "for path in sys.argv[1:]:\n"
               "    try:\n"
               "        os.listdir(path) if os.path.isdir(path) else open(path).read()\n"
               "    except PermissionError:\n"
               "        denied.append(path)\n"
               "print('\\n'.join(denied))\n")
    targets = [course_x / "inbound", course_x / "feedback", home_a,
               home_a / LAB / f"{LAB}.ipynb", feedback[a]]
    proc = hub.run_as(b, hub.python, "-c", attempt, *targets)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.splitlines()) == sorted(map(str, targets)), proc.stdout
    print(f"hub round trip: {time.perf_counter() - start:.1f} s after the servers were up "
          f"(browser step {browser_seconds:.1f} s, "
          + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()) + ")")
