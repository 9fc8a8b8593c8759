"""Root conftest: the order in which `make test` hands the suite to its two xdist workers.

`make test` runs pytest-xdist with ``-n 2 --dist loadscope --no-loadscope-reorder``: each
test module, and each notebook nbval executes, stays whole on one worker (their
module-scoped fixtures grade a class or start a server once; a notebook's cells share one
kernel), and the scopes are handed out in collection order.  This hook sorts that order so
the longest scopes start first and the quick unit tests fill the gaps at the end.  It lives
at the repository root so that it also orders the nbval items of ``solutions/``.

Some modules share a costly module fixture with another one: :data:`SAME_SCOPE` puts them
in that module's scope (a custom ``loadscope`` scheduler), so that the worker which graded
the Lab 1 class of ``tests/test_class.py`` also reports on it instead of the other worker
grading it a second time.

(``--dist loadgroup`` would split finer, but pytest-xdist 3.8 sets ``item._nodeid``, which
pytest 9.2 no longer reads: the groups are silently ignored and a notebook's cells get
spread over both workers.)
"""

import os
from pathlib import Path

import pytest

from lab_utils.config import DATA_DIR_ENV

#: The provisioned MovieLens folder beside the project (CI's ``../shared/data``).
SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def pytest_configure(config):
    """Without ``LAB_UTILS_DATA_DIR``, point it at :data:`SHARED_DATA` if that holds
    MovieLens: every kernel the suite starts inherits it (nbval's included), so a plain
    ``make test`` never tries to download MovieLens."""
    if DATA_DIR_ENV not in os.environ and (SHARED_DATA / "ml-100k" / "u.data").is_file():
        os.environ[DATA_DIR_ENV] = str(SHARED_DATA)

#: Slow scopes, longest first (measured on 2 cores; see `make test`'s --durations).
SCOPE_ORDER = [
    "tests/test_class.py",
    "solutions/lab4_triplet_implicit/lab4_triplet_implicit.ipynb",
    "tests/test_cluster.py",
    "tests/test_reshaped.py",
    "tests/test_colab.py",
    "solutions/lab3_recsys_explicit/lab3_recsys_explicit.ipynb",
    "solutions/lab2_regularization/lab2_regularization.ipynb",
    "tests/test_browser.py",
    "solutions/lab1_embeddings/lab1_embeddings.ipynb",
]


#: Modules run in the scope of another (same worker, after it): they reuse its graded class
#: (``test_class.grade_lab`` grades each lab once per process).
SAME_SCOPE = {
    "tests/test_classreport.py": "tests/test_class.py",
    "tests/test_browser_report.py": "tests/test_class.py",
}


def _scope(item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    def rank(item):
        scope = _scope(item)
        guest = scope in SAME_SCOPE  # after its host's tests
        scope = SAME_SCOPE.get(scope, scope)
        if scope in SCOPE_ORDER:
            return (0, SCOPE_ORDER.index(scope), guest)
        return (1, 0, guest) if item.get_closest_marker("slow") else (2, 0, guest)

    items.sort(key=rank)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` with the scopes of :data:`SAME_SCOPE` merged."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class MergedScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return SAME_SCOPE.get(scope.split("::", 1)[0], scope)

    return MergedScopes(config, log)
