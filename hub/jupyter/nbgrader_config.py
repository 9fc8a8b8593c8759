"""nbgrader's global configuration on the course hub: every user's server reads it
(``JUPYTER_CONFIG_PATH``, set by hub/jupyterhub_config.py; ``/etc/jupyter`` on a plain
install).  The exchange is one folder shared by every user of the machine; the course id
names this course's subfolder in it (several courses can share one hub and one exchange)."""

import os

c = get_config()  # noqa: F821  (injected by traitlets)

c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "dl-embeddings-recsys")
