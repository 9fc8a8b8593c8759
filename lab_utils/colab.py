"""Google Colab: detect it, and keep the labs' data on Colab's disk.

Used by :func:`lab_utils.setup.setup_notebook` (the first cell of every lab) and by
:func:`lab_utils.selfcheck.check_notebook`.  The first cell of each lab installs this
package on Colab before importing it (see docs/student.md, "Students on Google Colab");
everything Colab-specific after that lives here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lab_utils.config import DATA_DIR_ENV

#: Folder, under Colab's working folder (``/content``), that the data are downloaded to.
COLAB_DATA_FOLDER = "data"


def in_colab() -> bool:
    """True in a Google Colab kernel (which imports ``google.colab`` when it starts)."""
    return "google.colab" in sys.modules


def use_colab_disk() -> Path | None:
    """On Colab, point the data layer at ``/content/data`` unless the course set a folder.

    Colab's working folder (``/content``) is the runtime's own disk, shown in the *Files*
    pane; it lasts as long as the runtime, so MovieLens is downloaded once per session.
    ``$LAB_UTILS_DATA_DIR``, when set, wins.  Elsewhere nothing changes.

    Returns
    -------
    pathlib.Path or None
        The data folder chosen on Colab, None elsewhere.
    """
    if not in_colab():
        return None
    os.environ.setdefault(DATA_DIR_ENV, str(Path.cwd() / COLAB_DATA_FOLDER))
    return Path(os.environ[DATA_DIR_ENV])


def current_notebook(timeout: float = 30.0) -> dict:
    """The notebook open in this Colab tab, as a dict (unsaved changes included).

    A Colab kernel cannot read its notebook from disk (it lives in Google Drive): the
    front end sends it on request, as otter-grader's Colab support does.
    """
    from google.colab import _message  # only on Colab

    reply = _message.blocking_request("get_ipynb", request="", timeout_sec=timeout)
    if not reply or "ipynb" not in reply:
        raise RuntimeError("Colab did not send the notebook (no reply within "
                           f"{timeout:.0f} s): save it (Ctrl+S) and run the cell again")
    return reply["ipynb"]


__all__ = ["COLAB_DATA_FOLDER", "current_notebook", "in_colab", "use_colab_disk"]
