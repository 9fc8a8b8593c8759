"""The class report page in a browser: headless Chromium opens ``reports/<lab>/report.html``.

The page is the report of the simulated Lab 1 class of ``tests/test_class.py`` (graded
and reported once per test run: :func:`test_classreport.graded_class`).  Checked: the page
renders offline from its single file, both plots are decoded images, the tables are there,
and it fits a laptop screen without sideways scrolling.  A screenshot of the whole page is
saved as ``test-artifacts/report-<lab>.png``.

Chromium is Debian's package (``make browser-deps``), launched as in ``tests/test_browser.py``.
"""

from pathlib import Path

import pytest

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_classreport import LAB, graded_class

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def graded(repo, shared_root, movielens_home) -> dict:
    return graded_class(repo, shared_root, movielens_home)


def test_report_renders_with_its_plots(graded, repo):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser-deps` (make test "
                    "does) or `apt-get install chromium`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport=LAPTOP)
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(graded["page"].as_uri(), wait_until="load")
            artifacts = repo / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / f"report-{LAB}.png"), full_page=True)
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({id: e.id, complete: e.complete,"
                       " width: e.naturalWidth, shown: e.getBoundingClientRect().width}))")
            tables = page.eval_on_selector_all("table", "els => els.map(e => e.id)")
            rows = page.eval_on_selector_all("#exercises tbody tr", "els => els.length")
            title = page.inner_text("h1")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        finally:
            browser.close()
    assert title == f"Class report · {LAB}"
    assert [i["id"] for i in images] == ["score-histogram", "exercise-bars"]
    for image in images:
        assert image["complete"] and image["width"] > 0, image  # decoded, not broken
        assert 300 < image["shown"] <= LAPTOP["width"], image
    assert {"score-stats", "not-graded", "exercises", "manual"} <= set(tables)
    assert any(t.startswith("failures-") for t in tables)
    assert rows == len(graded["tables"]["exercises"]) > 0
    assert overflow <= 0, "the page scrolls sideways on a laptop screen"
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
