"""Helpers for the deep-learning labs: embeddings, regularisation and recommender systems.

Two rooms.  What a student's notebook imports, each module with one purpose:

- :mod:`lab_utils.setup` -- silence TensorFlow, seed everything, grading-mode budgets.
- :mod:`lab_utils.datasets` -- MovieLens 100k (downloaded, verified, cached).
- :mod:`lab_utils.checks` -- check functions used by the labs' test cells.
- :mod:`lab_utils.metrics` -- what no exercise asks for: top-k concentration (Lab 4) and the
  headline figures a lab may record for ``make bench`` (the metrics students write live on
  the instructor side, :mod:`lab_utils.instructor.evaluation`).
- :mod:`lab_utils.plots` -- plots shared by the labs.
- :mod:`lab_utils.toydata` -- small offline datasets made on the fly (Lab 1).
- :mod:`lab_utils.sampling` -- positive pairs for triplet training (Lab 4).
- :mod:`lab_utils.colab` -- Google Colab: detection, data on Colab's disk.
- :mod:`lab_utils.selfcheck` -- :func:`check_notebook`: does the notebook pass every
  visible test from top to bottom? (nbgrader's Validate, also on Colab).
- :mod:`lab_utils.config` -- the names of the environment variables the package reads.

What an instructor or CI runs lives in :mod:`lab_utils.instructor` (nbgrader workflow,
nbgrader fixes, command line, simulated classes); no lab imports it.

Importing this package has no side effects: it writes nothing and does not import
TensorFlow.  Call :func:`lab_utils.setup.setup_notebook` first thing in a lab.
"""

from lab_utils.selfcheck import check_notebook
from lab_utils.setup import budget, is_grading, setup_notebook

__version__ = "0.1.0"

__all__ = ["__version__", "budget", "check_notebook", "is_grading", "setup_notebook"]
