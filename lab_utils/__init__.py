"""Helpers for the deep-learning labs: embeddings, regularisation and recommender systems.

Modules, each with one purpose:

- :mod:`lab_utils.setup` -- silence TensorFlow, seed everything, grading-mode budgets.
- :mod:`lab_utils.datasets` -- MovieLens 100k (downloaded, verified, cached).
- :mod:`lab_utils.toydata` -- small offline datasets made on the fly (Lab 1).
- :mod:`lab_utils.checks` -- check functions used by the labs' test cells.
- :mod:`lab_utils.metrics` -- regression and ranking metrics (Labs 3 and 4).
- :mod:`lab_utils.sampling` -- negative sampling for triplet training (Lab 4).
- :mod:`lab_utils.plots` -- plots shared by the labs.
- :mod:`lab_utils.report` -- headline metrics recorded for ``make bench``.

Importing this package has no side effects: it writes nothing and does not import
TensorFlow.  Call :func:`lab_utils.setup.setup_notebook` first thing in a lab.
"""

from lab_utils.setup import budget, is_grading, setup_notebook

__version__ = "0.1.0"

__all__ = ["__version__", "budget", "is_grading", "setup_notebook"]
