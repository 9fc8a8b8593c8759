import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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
def released_course(tmp_path_factory, repo):
    """A fresh course directory with every lab released (and its gradebook)."""
    from lab_utils.instructor import grading

    return grading.new_course(tmp_path_factory.mktemp("course"), repo)
