import collections
import os
import tempfile
from pathlib import Path

import pytest

from tests import once

REPO = Path(__file__).resolve().parents[1]

#: The build log this process created (the run's main process), see :mod:`tests.once`.
_OWN_BUILD_LOG: list[Path] = []


def pytest_configure(config):
    """The main process names the run's build log; xdist workers inherit the variable."""
    if once.BUILD_LOG_ENV not in os.environ:
        fd, path = tempfile.mkstemp(prefix="lab-tests-builds-", suffix=".log")
        os.close(fd)
        os.environ[once.BUILD_LOG_ENV] = path
        _OWN_BUILD_LOG.append(Path(path))
    once.run_digest(REPO)  # before the workers start: they inherit it


def _built_twice(log: Path) -> list[str]:
    counts = collections.Counter(name for name, _, _ in once.builds(log))
    return sorted(name for name, count in counts.items() if count > 1)


def pytest_sessionfinish(session):
    if _OWN_BUILD_LOG and _built_twice(_OWN_BUILD_LOG[0]):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    """Which shared result (graded class, report, kernel grades) was built by whom, once."""
    if not _OWN_BUILD_LOG:
        return
    log = _OWN_BUILD_LOG[0]
    rows = once.builds(log)
    if rows:
        terminalreporter.section("built once (tests/once.py)")
        for name, worker, seconds in rows:
            terminalreporter.write_line(f"{name:<48} {worker:>5} {seconds:7.1f} s")
        for name in _built_twice(log):
            terminalreporter.write_line(f"BUILT MORE THAN ONCE: {name}", red=True)
    log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory) -> Path:
    """Where :func:`tests.once.build_once` keeps this run's shared results."""
    return once.shared_root(tmp_path_factory)


def _shared_data() -> Path | None:
    """The provisioned MovieLens folder: $LAB_UTILS_DATA_DIR (the root conftest sets it to
    ../shared/data when it is not set)."""
    candidate = os.environ.get("LAB_UTILS_DATA_DIR")
    if candidate and (Path(candidate) / "ml-100k" / "u.data").is_file():
        return Path(candidate)
    return None


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def movielens_home() -> Path:
    home = _shared_data()
    if home is None:
        pytest.fail("MovieLens 100k is not provisioned: set LAB_UTILS_DATA_DIR to the folder "
                    "that contains ml-100k/ (CI uses ../shared/data)")
    return home


@pytest.fixture(scope="session")
def released_lab(tmp_path_factory, repo, shared_root):
    """``released_lab(lab)``: a new course folder with ``lab`` released (and its gradebook).

    Each lab is released once per run -- the same build the lab's graded class starts from
    (:mod:`tests.support.courses`) -- and copied for every call: no module releases every lab
    again (~20 s of nbgrader)."""
    from tests.support import courses

    def released(lab: str) -> Path:
        return courses.new_course(shared_root, tmp_path_factory.mktemp(f"course-{lab}"), repo,
                                  [lab])

    return released
