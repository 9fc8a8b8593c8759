"""Root conftest: the order in which `make test` hands the suite to its two xdist workers.

`make test` runs pytest-xdist with ``-n 2 --dist loadscope --no-loadscope-reorder``: each
test module, and each notebook nbval executes, stays whole on one worker (their
module-scoped fixtures grade a class or start a server once; a notebook's cells share one
kernel), and the scopes are handed out in collection order.  This hook sorts that order so
the longest scopes start first and the quick unit tests fill the gaps at the end.  It lives
at the repository root so that it also orders the nbval items of ``solutions/``.

(``--dist loadgroup`` would split finer, but pytest-xdist 3.8 sets ``item._nodeid``, which
pytest 9.2 no longer reads: the groups are silently ignored and a notebook's cells get
spread over both workers.)
"""

import pytest

#: Slow scopes, longest first (measured on 2 cores; see `make test`'s --durations).
SCOPE_ORDER = [
    "tests/test_class.py",
    "solutions/lab4_triplet_implicit/lab4_triplet_implicit.ipynb",
    "tests/test_cluster.py",
    "tests/test_reshaped.py",
    "tests/test_colab.py",
    "solutions/lab3_recsys_explicit/lab3_recsys_explicit.ipynb",
    "solutions/lab2_regularization/lab2_regularization.ipynb",
    "tests/test_classreport.py",
    "tests/test_browser.py",
    "solutions/lab1_embeddings/lab1_embeddings.ipynb",
]


def _scope(item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    def rank(item):
        scope = _scope(item)
        if scope in SCOPE_ORDER:
            return (0, SCOPE_ORDER.index(scope))
        return (1, 0) if item.get_closest_marker("slow") else (2, 0)

    items.sort(key=rank)
