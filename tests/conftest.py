import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path | None:
    """The provisioned MovieLens folder: $LAB_UTILS_DATA_DIR, else ../shared/data."""
    candidates = [os.environ.get("LAB_UTILS_DATA_DIR"), REPO.parent / "shared" / "data"]
    for candidate in candidates:
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


# --- running the suite on two workers ------------------------------------------------
# `make test` runs pytest-xdist with `-n 2 --dist loadgroup --no-loadscope-reorder`: the
# slow modules (and each notebook nbval executes) are kept whole on one worker, since their
# module-scoped fixtures grade a class or start a server once (a module that shares a
# graded class with another names their common group in ``XDIST_GROUP``); the longest groups start
# first, and the unit tests fill the gaps at the end.  Without xdist the marks do nothing
# but the order is the same.

#: Slow groups, longest first (measured on 2 cores; see `make test`'s --durations).
GROUP_ORDER = [
    "nbval-lab4_triplet_implicit",
    "test_class-lab1_embeddings",
    "test_class-lab4_triplet_implicit",
    "test_class-lab2_regularization",
    "nbval-lab3_recsys_explicit",
    "nbval-lab2_regularization",
    "test_class-lab3_recsys_explicit",
]


def _xdist_group(item) -> str | None:
    if item.path.suffix == ".ipynb":  # nbval: one notebook, one kernel
        return f"nbval-{item.path.stem}"
    if item.get_closest_marker("slow") is None:
        return None
    module = getattr(item.module, "XDIST_GROUP", item.path.stem)
    by = getattr(item.module, "XDIST_GROUP_BY", None)
    if by and hasattr(item, "callspec") and by in item.callspec.params:
        return f"{module}-{item.callspec.params[by]}"
    return module


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    ranks = {}
    for item in items:
        group = _xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
        ranks[item.nodeid] = (0, GROUP_ORDER.index(group)) if group in GROUP_ORDER else (
            (1, 0) if group else (2, 0))
    items.sort(key=lambda item: ranks[item.nodeid])
