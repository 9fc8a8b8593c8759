"""Every environment variable the package reads or sets, named in one place.

Both rooms use these names: the student side (:mod:`lab_utils.setup`,
:mod:`lab_utils.datasets`, :mod:`lab_utils.metrics`) and the instructor side
(:mod:`lab_utils.instructor`, ``nbgrader_config.py``, the benchmark and the tests).
"""

from __future__ import annotations

#: Folder that *contains* ``ml-100k/`` (beats the per-user cache, loses to ``data_home=``).
DATA_DIR_ENV = "LAB_UTILS_DATA_DIR"

#: URL of a course mirror of ``ml-100k.zip`` (e.g. for Colab, or a campus server), used
#: instead of GroupLens; each extracted file is still checked against the pinned SHA-256.
MOVIELENS_URL_ENV = "LAB_UTILS_MOVIELENS_URL"

#: Set in the fresh kernel that ``lab_utils.check_notebook`` runs a notebook in, so that a
#: ``check_notebook()`` call inside that notebook does not start another one.
SELFCHECK_ENV = "LAB_UTILS_SELFCHECK"

#: ``"1"``: run the labs with their short training budgets (as while grading).
FAST_ENV = "LAB_UTILS_FAST"

#: Set by nbgrader in the kernel it grades or validates a notebook with.
NBGRADER_EXECUTION_ENV = "NBGRADER_EXECUTION"

#: Seconds a cell may run while nbgrader executes a notebook (read by nbgrader_config.py).
CELL_TIMEOUT_ENV = "LAB_UTILS_CELL_TIMEOUT"
DEFAULT_CELL_TIMEOUT = 120

#: Default wall-clock limit of one submission while autograding, in seconds (the CLI's
#: ``--timeout``; besides nbgrader's cell timeout and the sandbox's own limits).
DEFAULT_SUBMISSION_LIMIT = 900

#: JSON-lines file that ``record_metrics`` appends to while the benchmark runs.
BENCH_FILE_ENV = "LAB_UTILS_BENCH_FILE"

#: Set before TensorFlow is imported so that it writes nothing to stderr (nbgrader scores a
#: test cell 0 when it writes to stderr).
TF_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "KERAS_BACKEND": "tensorflow",
    "GRPC_VERBOSITY": "ERROR",
}

#: Every grading kernel computes with one thread: parallel graders then do not fight over
#: the cores (two kernels with a thread pool each ran 2-4x slower than one after the other),
#: and a submission gets bit-identical results whether graded alone or beside others.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


def cell_timeout(environ=None) -> int:
    """nbgrader's per-cell timeout in seconds: ``$LAB_UTILS_CELL_TIMEOUT`` or 120."""
    import os

    environ = os.environ if environ is None else environ
    return int(environ.get(CELL_TIMEOUT_ENV, DEFAULT_CELL_TIMEOUT))

#: ``"off"``: grading kernels run without the bubblewrap sandbox (the CLI's --no-sandbox);
#: read by :mod:`lab_utils.instructor.sandbox`.
SANDBOX_ENV = "LAB_UTILS_SANDBOX"

#: Limits of a sandboxed grading kernel: memory in MiB (default 4096), processes and threads
#: (default 512), wall time of a whole notebook in seconds (default 1800).
SANDBOX_MEMORY_ENV = "LAB_UTILS_SANDBOX_MEMORY_MB"
SANDBOX_PROCESSES_ENV = "LAB_UTILS_SANDBOX_PROCESSES"
SANDBOX_WALL_ENV = "LAB_UTILS_SANDBOX_WALL_S"
