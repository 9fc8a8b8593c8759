"""Notebook set-up shared by every lab: quiet TensorFlow, seeds, grading-mode budgets.

nbgrader gives a test cell zero points as soon as anything reaches stderr, and
TensorFlow logs to stderr (oneDNN notices, absl ``E0000`` lines, retracing
warnings).  :func:`setup_notebook` must therefore run *before* TensorFlow is
imported: it is the first code cell of every lab.
"""

from __future__ import annotations

import logging
import os
import random
import warnings

import numpy as np

from lab_utils.colab import use_colab_disk
from lab_utils.config import FAST_ENV, NBGRADER_EXECUTION_ENV, TF_QUIET_ENV


def setup_notebook(seed: int = 0, *, deterministic: bool = True, xla: bool = False) -> None:
    """Silence TensorFlow, fix every random seed and make TF ops deterministic.

    Used as the first code cell of every lab (Labs 1-4).  On Google Colab it also keeps
    the data on Colab's disk (:func:`lab_utils.colab.use_colab_disk`).

    Parameters
    ----------
    seed : int
        Seed for Python's ``random``, NumPy and TensorFlow/Keras.
    deterministic : bool
        Ask TensorFlow for deterministic kernels, so that a notebook graded twice
        gets the same grade.
    xla : bool
        Let Keras compile models with ``jit_compile=True`` (Lab 4).  Keras turns XLA off
        whenever TensorFlow's op determinism is enabled, so ``xla=True`` leaves that switch
        off: XLA's compiled CPU programs are deterministic by themselves (two runs of Lab 4
        give the same figures).
    """
    use_colab_disk()  # on Google Colab only: the data go to /content/data
    for key, value in TF_QUIET_ENV.items():
        os.environ.setdefault(key, value)
    # Library chatter that would otherwise land on stderr in graded cells.
    for module in ("keras", "tensorflow", "sklearn", "matplotlib"):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)
    warnings.filterwarnings("ignore", message=".*input_shape.*", category=UserWarning)
    logging.getLogger("matplotlib").setLevel(logging.ERROR)

    random.seed(seed)
    np.random.seed(seed)

    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    tf.autograph.set_verbosity(0)
    keras.utils.set_random_seed(seed)
    if deterministic and not xla:
        tf.config.experimental.enable_op_determinism()


def is_grading() -> bool:
    """Return True while nbgrader executes the notebook (autograde or validate).

    nbgrader sets ``NBGRADER_EXECUTION`` in the kernel's environment; ``LAB_UTILS_FAST=1``
    has the same effect (used by the quick tests).
    """
    return bool(os.environ.get(NBGRADER_EXECUTION_ENV)) or os.environ.get(FAST_ENV) == "1"


def budget(full, fast):
    """Pick the full training budget normally, the short one while grading.

    Ungraded training cells use it (``epochs = budget(full=20, fast=2)``) so that a
    class is graded in seconds per notebook.  Graded tests never depend on these
    budgets: they check functions and models on small deterministic inputs.

    Parameters
    ----------
    full, fast
        Any values (epochs, sample sizes, ...).

    Returns
    -------
    The ``fast`` value under :func:`is_grading`, else ``full``.
    """
    return fast if is_grading() else full
