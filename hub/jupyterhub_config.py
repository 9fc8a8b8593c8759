"""JupyterHub for the course on one machine (The Littlest JupyterHub's way: local system users).

    sudo /opt/dl-labs/.venv/bin/jupyterhub -f /opt/dl-labs/hub/jupyterhub_config.py

Students and the instructor are Linux accounts (PAM login), in the groups named below; each
gets their own JupyterLab, started as that user from the course environment (this
repository's ``.venv``: ``make venv`` plus ``pip install -e ".[hub]"``), with MovieLens
through ``LAB_UTILS_DATA_DIR``.  nbgrader's exchange is one shared folder: students fetch
and submit in JupyterLab's *Assignments* tab; the instructor releases, collects and returns
feedback with ``python -m lab_utils release|collect|feedback ... --exchange/--release`` and
has the formgrader.  Everything a machine changes is an environment variable below (the
integration test, ``tests/test_hub.py``, runs this file as it is on loopback).  See
docs/cluster-and-hub.md, "Serving on a JupyterHub", for the set-up commands and for Zero to
JupyterHub on Kubernetes.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (injected by traitlets)

HERE = Path(__file__).resolve().parent
#: The course environment (its bin/ has jupyterhub-singleuser, python, nbgrader).
COURSE_ENV = Path(os.environ.get("COURSE_ENV", sys.prefix))
#: The instructor's course folder (a clone of this repository: nbgrader_config.py,
#: solutions/, the gradebook); only the instructor can read it.
INSTRUCTOR = os.environ.get("COURSE_INSTRUCTOR", "instructor")
COURSE_DIR = os.environ.get("COURSE_DIR", f"/home/{INSTRUCTOR}/dl-labs")
#: Linux groups allowed to log in (one per role).
STUDENT_GROUP = os.environ.get("COURSE_STUDENT_GROUP", "dl-students")
INSTRUCTOR_GROUP = os.environ.get("COURSE_INSTRUCTOR_GROUP", "dl-instructors")
#: nbgrader's exchange (created once: mkdir -p, chmod 0777; see the docs) and course id.
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
COURSE_ID = os.environ.get("NBGRADER_COURSE_ID", "dl-embeddings-recsys")
#: MovieLens 100k, read-only for everyone (python -m lab_utils fetch --data-home DIR).
DATA_DIR = os.environ.get("LAB_UTILS_DATA_DIR", "/srv/course-data")
#: The hub's own state (its database, cookie secret); root only.
STATE = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))

# --- the hub -------------------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("COURSE_HUB_URL", "http://:8000")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# configurable-http-proxy from npm, installed beside the repository (make hub-deps)
_proxy = HERE.parent / ".hub-deps" / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [str(_proxy) if _proxy.exists() else "configurable-http-proxy"]
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{os.environ.get('COURSE_HUB_PROXY_API_PORT', '8001')}")

# --- who may log in: local accounts (PAM), by group ----------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.LocalAuthenticator.allowed_groups = {STUDENT_GROUP, INSTRUCTOR_GROUP}
# Not an admin: the instructor grades through the exchange, never inside students' servers.
c.Authenticator.admin_users = set()

# --- each user's server: JupyterLab from the course environment, as that Linux user --------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(COURSE_ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120  # TensorFlow's first import on a loaded machine
c.Spawner.http_timeout = 120


def _jupyter_config_path(spawner) -> str:
    """Students: the Assignments tab only (no formgrader, no course list, no create-assignment
    toolbar); the instructor: every nbgrader extension and the course's nbgrader config."""
    role = "instructor" if spawner.user.name == INSTRUCTOR else "student"
    return os.pathsep.join([str(HERE / "jupyter" / role), str(HERE / "jupyter")])


c.Spawner.environment = {
    "JUPYTER_CONFIG_PATH": _jupyter_config_path,
    "LAB_UTILS_DATA_DIR": DATA_DIR,
    "NBGRADER_EXCHANGE": EXCHANGE,
    "NBGRADER_COURSE_ID": COURSE_ID,
    "COURSE_DIR": COURSE_DIR,
    "PATH": os.pathsep.join([str(COURSE_ENV / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}
# Idle servers are not culled here: add jupyterhub-idle-culler as a service on a busy hub.
