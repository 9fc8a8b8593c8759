"""Root conftest: the order in which `make test` hands the suite to its two xdist workers.

`make test` runs pytest-xdist with ``-n 2 --dist loadscope --no-loadscope-reorder``: each
test module, and each notebook nbval executes, stays whole on one worker (a notebook's cells
share one kernel), and the scopes are handed out in collection order.  This hook sorts that
order so the longest scopes start first and the quick unit tests fill the gaps at the end.
It lives at the repository root so that it also orders the nbval items of ``solutions/``.

The order is only about time: the costly results that several modules share (a graded
class per lab, its report, the mistakes graded in one kernel) are built once per run by
whichever worker asks first, through a file-locked folder (``tests/once.py``), under any
scheduling -- ``XDIST=`` (one process), ``--dist load`` or ``loadscope``.

(``--dist loadgroup`` would split finer, but pytest-xdist 3.8.0 -- the newest release --
sets ``item._nodeid``, which pytest 9.2 no longer reads: the groups are silently ignored and
a notebook's cells get spread over both workers; checked again for issue 27.)
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
    "tests/test_cluster.py",
    "tests/test_class.py",  # one scope per lab (a test class each)
    "tests/test_right_seeds.py",  # one scope per lab (a test class each)
    "tests/test_reshaped.py",
    "tests/test_sandbox.py",
    "tests/test_hub.py",
    "tests/test_colab.py",
    "tests/test_term.py",
    "solutions/lab4_triplet_implicit/lab4_triplet_implicit.ipynb",
    "solutions/lab3_recsys_explicit/lab3_recsys_explicit.ipynb",
    "solutions/lab2_regularization/lab2_regularization.ipynb",
    "tests/test_graderview.py",
    "tests/test_exchange.py",
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
