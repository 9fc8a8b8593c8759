"""Publish the labs for Google Colab: the course package's URL, set once.

On Colab the first cell of every lab installs the course package before importing it.
Where from is a course setting, made once in ``nbgrader_config.py``::

    c.SetCoursePackage.url = "https://github.com/<org>/<repo>/releases/download/v0.1.0/lab_utils-0.1.0-py3-none-any.whl"

and written into the released labs by ``make release`` (``nbgrader generate_assignment``
runs :class:`SetCoursePackage` first).  The source notebooks in ``solutions/`` keep a
placeholder.  Used by ``nbgrader_config.py`` and by ``tests/test_colab.py`` (which points
the URL at a freshly built wheel).
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

#: The line of the set-up cell that names the package (``COURSE_PACKAGE = "..."``).
PACKAGE_LINE = re.compile(r'^(?P<head>\s*COURSE_PACKAGE = )"[^"\n]*"', re.MULTILINE)


def set_package_url(source: str, url: str) -> str:
    """``source`` with the string on its ``COURSE_PACKAGE = "..."`` line replaced by ``url``."""
    if '"' in url or "\n" in url:
        raise ValueError(f"SetCoursePackage.url must be a plain URL, got {url!r}")
    return PACKAGE_LINE.sub(lambda m: f'{m.group("head")}"{url}"', source)


def package_urls(nb) -> list[str]:
    """Every ``COURSE_PACKAGE`` value of a notebook (one per lab: its set-up cell)."""
    return [m.group(0).split('"')[1] for cell in nb.cells if cell.cell_type == "code"
            for m in PACKAGE_LINE.finditer(cell.source)]


class SetCoursePackage(NbGraderPreprocessor):
    """``nbgrader generate_assignment`` preprocessor: write the course package's URL into
    the set-up cell of the student version (see the module docstring)."""

    url = Unicode("", help="pip requirement (a URL: wheel of a GitHub release, git+https://"
                           "...@tag) that the labs install on Google Colab").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if self.url and cell.cell_type == "code" and "COURSE_PACKAGE" in cell.source:
            cell.source = set_package_url(cell.source, self.url)
        return cell, resources


__all__ = ["PACKAGE_LINE", "SetCoursePackage", "package_urls", "set_package_url"]
