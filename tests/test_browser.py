"""A lab in the browser a student uses: JupyterLab in headless Chromium.

Starts JupyterLab on loopback, opens a solution notebook (a copy) in Debian's Chromium
driven by Playwright, runs all cells through JupyterLab's own "Run All Cells" command,
and asserts that every code cell ran with no error and nothing on stderr, and that a plot
was displayed.  A screenshot is saved in ``test-artifacts/``.

What is checked here is JupyterLab's side (the front end, the kernel it starts, the
set-up cell, plots), the same for every lab: it runs on one lab, :data:`BROWSER_LABS`.
Every lab's "no error, nothing on stderr, a plot shown" is checked on the autograded
perfect submission (``tests/test_class.py``); nbval runs every lab with its full budgets.

Chromium comes from Debian's package (``make browser-deps``, run by ``make test``);
Playwright's own browser download is not used.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lab_utils.instructor import grading

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
TOKEN = "lab-utils-browser-test"

COLLECT_CELLS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model) return null;
  const cells = panel.content.model.cells;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const out = {path: panel.context.path, status: kernel ? kernel.status : "none", cells: []};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== "code") continue;
    out.cells.push({count: cell.executionCount, outputs: cell.outputs.toJSON()});
  }
  return out;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, repo, movielens_home):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser-deps` (make test "
                    "does) or `apt-get install chromium`")
    root = tmp_path_factory.mktemp("browser")
    for lab in BROWSER_LABS:
        shutil.copy(repo / "solutions" / lab / f"{lab}.ipynb", root / f"{lab}.ipynb")
    settings = root / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notifications = root / ".settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port = _free_port()
    # Short training budgets (LAB_UTILS_FAST): nbval already runs the full solutions.
    env = dict(os.environ, LAB_UTILS_DATA_DIR=str(movielens_home), LAB_UTILS_FAST="1",
               JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"),
               JUPYTER_RUNTIME_DIR=str(root / ".runtime"))
    log = open(root / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={TOKEN}",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=None", "--ServerApp.allow_root=True",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail("JupyterLab did not start: " + (root / "jupyterlab.log").read_text()[-2000:])
    yield base, root
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


BROWSER_LABS = ["lab1_embeddings"]


def test_browser_labs_exist(repo):
    assert set(BROWSER_LABS) <= set(grading.list_labs(repo))


@pytest.mark.parametrize("lab", BROWSER_LABS)
def test_lab_runs_in_jupyterlab(lab, jupyterlab, browser, repo):
    base, _ = jupyterlab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # ?reset: a fresh workspace, so that no other lab's tab is restored
        page.goto(f"{base}/lab/tree/{lab}.ipynb?reset&token={TOKEN}", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.wait_for_function(
            "(path) => { const s = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " return s && s.context && s.context.path === path && s.sessionContext &&"
            " s.sessionContext.session && s.sessionContext.session.kernel &&"
            " s.sessionContext.session.kernel.status === 'idle'; }", arg=f"{lab}.ipynb",
            timeout=120_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        deadline = time.time() + 600
        state = None
        while time.time() < deadline:
            state = page.evaluate(COLLECT_CELLS)
            assert state is None or state["path"] == f"{lab}.ipynb", state and state["path"]
            if (state and state["status"] == "idle"
                    and all(c["count"] is not None for c in state["cells"])):
                break
            time.sleep(2)
        artifacts = repo / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / f"browser-{lab}.png"), full_page=False)
        assert state and all(c["count"] is not None for c in state["cells"]), \
            f"{lab}: not every cell ran in JupyterLab within 10 minutes"
        problems = [
            f"cell {i}: {o.get('ename', '')} {o.get('evalue', '')}{o.get('text', '')}"[:300]
            for i, cell in enumerate(state["cells"]) for o in cell["outputs"]
            if o["output_type"] == "error"
            or (o["output_type"] == "stream" and o.get("name") == "stderr")
        ]
        assert problems == [], f"{lab} in JupyterLab: {problems}"
        assert sum(1 for c in state["cells"] for o in c["outputs"]
                   if o["output_type"] == "display_data") >= 1, "no plot was displayed"
    finally:
        page.close()
