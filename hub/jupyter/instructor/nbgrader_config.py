"""The instructor's server (formgrader, Assignments tab, terminals): the course folder's own
nbgrader_config.py (source and release folders, the grading sandbox, late policy), found
through ``COURSE_DIR`` (set by hub/jupyterhub_config.py), whatever folder the server or a
terminal starts in."""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

_course = os.environ.get("COURSE_DIR", "")
if os.path.isfile(os.path.join(_course, "nbgrader_config.py")):
    load_subconfig(os.path.join(_course, "nbgrader_config.py"))  # noqa: F821
