"""What students' editors do to a notebook, as functions: for the simulated classes.

Each function returns a reshaped copy of a notebook, the way an editor leaves it:

- JupyterLab: :func:`split_cell` (the cell's metadata is copied to both halves),
  :func:`merge_with_next` (the merged cell keeps the first cell's metadata and type, the
  texts are joined by a blank line), :func:`retype` (metadata kept, outputs dropped),
  :func:`move`, :func:`delete`;
- :func:`colab_saved` -- Google Colab's download (*File -> Download -> .ipynb*): nbformat
  4.0, cell ids moved into the cell metadata, Colab's notebook metadata and kernelspec,
  ``colab``/``outputId`` metadata on code cells, outputs kept; Colab does not honour
  nbgrader's locked/undeletable flags (googlecolab/colabtools#93), so those are dropped;
- :func:`vscode_saved` -- VS Code: its own kernelspec (the student's virtual environment),
  ``vscode`` notebook metadata, a full ``language_info``;
- :func:`old_client_saved` -- the classic Notebook or any nbformat 4.4 client: no cell
  ids, another kernelspec, old per-cell view metadata;
- :func:`without_metadata` -- an editor that drops cell metadata altogether.

Used by :func:`tests.support.simclass.reshaped_class` and the tests of
:mod:`lab_utils.instructor.reshape` (``tests/test_reshaped.py``).
"""

from __future__ import annotations

import copy
import hashlib

import nbformat

from lab_utils.instructor import grading


def index_of(nb, grade_id: str) -> int:
    """Position of the one cell whose grade id is ``grade_id``."""
    found = [i for i, c in enumerate(nb.cells) if grading.grade_id(c) == grade_id]
    if len(found) != 1:
        raise KeyError(f"no unique cell {grade_id!r} in the notebook ({len(found)} found)")
    return found[0]


def _new_id(*parts) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()[:12]


def _blanks(lines: list[str]) -> list[int]:
    """Blank lines inside a cell (neither the first line nor the last)."""
    return [i for i, line in enumerate(lines) if not line.strip() and 0 < i < len(lines) - 1]


def _top_level_blanks(lines: list[str]) -> list[int]:
    """Blank lines followed by an unindented line: between two functions or statements."""
    return [i for i in _blanks(lines) if lines[i + 1][:1] not in (" ", "\t", "")]


def top_level_split(cell) -> bool:
    """Whether the cell can be split between two top-level statements (both halves run)."""
    return bool(_top_level_blanks(cell.source.split("\n")))


def _split_point(lines: list[str]) -> int:
    """Where a student would put the cursor: between two top-level statements nearest the
    middle, else the blank line nearest the middle, else the middle."""
    middle = len(lines) // 2
    blanks = _top_level_blanks(lines) or _blanks(lines)
    return min(blanks, key=lambda i: abs(i - middle)) if blanks else max(1, middle)


def split_cell(nb, grade_id: str, between=None):
    """JupyterLab's *Split Cell*: both halves keep the cell's metadata (nbgrader's too).

    ``between``: an optional cell the student then inserts between the two halves.
    """
    nb = copy.deepcopy(nb)
    i = index_of(nb, grade_id)
    cell = nb.cells[i]
    lines = cell.source.split("\n")
    if len(lines) < 2:
        raise ValueError(f"{grade_id} has one line: nothing to split")
    at = _split_point(lines)
    first, second = copy.deepcopy(cell), copy.deepcopy(cell)
    first.source = "\n".join(lines[:at]).strip("\n")
    second.source = "\n".join(lines[at:]).strip("\n")
    second["id"] = _new_id(cell.get("id"), "split")
    nb.cells[i:i + 1] = [first, *([between] if between is not None else []), second]
    return nb


def merge_with_next(nb, position: int):
    """JupyterLab's *Merge Cell Below* on cell ``position``: the first cell's metadata and
    type, the two texts joined by a blank line."""
    nb = copy.deepcopy(nb)
    first, second = nb.cells[position], nb.cells[position + 1]
    first.source = first.source + "\n\n" + second.source
    if first.cell_type == "code":
        first.outputs, first.execution_count = [], None
    del nb.cells[position + 1]
    return nb


def retype(nb, grade_id: str, cell_type: str):
    """JupyterLab's cell-type menu: same text and metadata, no outputs."""
    nb = copy.deepcopy(nb)
    i = index_of(nb, grade_id)
    old = nb.cells[i]
    new = {"markdown": nbformat.v4.new_markdown_cell, "raw": nbformat.v4.new_raw_cell,
           "code": nbformat.v4.new_code_cell}[cell_type](old.source)
    new.metadata = copy.deepcopy(old.metadata)
    new["id"] = old.get("id", _new_id(grade_id, cell_type))
    nb.cells[i] = new
    return nb


def move(nb, grade_id: str, offset: int | None = None):
    """Drag a cell ``offset`` positions down (``None``: to the end of the notebook)."""
    nb = copy.deepcopy(nb)
    i = index_of(nb, grade_id)
    cell = nb.cells.pop(i)
    nb.cells.insert(len(nb.cells) if offset is None else i + offset, cell)
    return nb


def delete(nb, grade_id: str):
    """Delete a cell (Colab lets a student delete any cell)."""
    nb = copy.deepcopy(nb)
    del nb.cells[index_of(nb, grade_id)]
    return nb


def colab_saved(nb):
    """``nb`` as Google Colab writes it when a student downloads it (see module docstring).

    The nbgrader metadata is kept (Colab keeps cell metadata it does not know);
    :func:`without_metadata` covers an editor that loses it too.
    """
    nb = copy.deepcopy(nb)
    out = nbformat.v4.new_notebook()
    out.nbformat, out.nbformat_minor = 4, 0
    out.metadata = {
        "colab": {"provenance": [], "toc_visible": True, "gpuType": "T4"},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
    }
    for i, cell in enumerate(nb.cells):
        metadata = {"id": _new_id("colab", i, cell.get("id"))}
        if "nbgrader" in cell.metadata:
            metadata["nbgrader"] = cell.metadata["nbgrader"]
        if cell.cell_type == "code":
            metadata["colab"] = {"base_uri": "https://localhost:8080/"}
            metadata["outputId"] = _new_id("output", i)
        cell.metadata = metadata
        cell.pop("id", None)
    out.cells = nb.cells
    return out


def vscode_saved(nb):
    """``nb`` as VS Code's Jupyter extension saves it (its own kernel, its metadata)."""
    nb = copy.deepcopy(nb)
    nb.metadata = {
        "kernelspec": {"display_name": ".venv (3.11.9)", "language": "python", "name": "python3"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3},
                          "file_extension": ".py", "mimetype": "text/x-python",
                          "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3", "version": "3.11.9"},
        "vscode": {"interpreter": {"hash": "0" * 64}},
    }
    for cell in nb.cells:
        cell.metadata.pop("editable", None)  # VS Code ignores (and drops) the lock flags
        cell.metadata.pop("deletable", None)
    return nb


def old_client_saved(nb):
    """``nb`` as the classic Notebook (or any nbformat 4.4 client) saves it: no cell ids,
    the student's own kernelspec, view metadata on code cells."""
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 4
    nb.metadata["kernelspec"] = {"display_name": "Python [conda env:dl]", "language": "python",
                                 "name": "conda-env-dl-py"}
    for cell in nb.cells:
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.metadata["collapsed"] = False
            cell.metadata["scrolled"] = True
    return nb


def without_metadata(nb):
    """``nb`` with every cell's metadata and id dropped (nbformat 4.4)."""
    nb = copy.deepcopy(nb)
    nb.nbformat_minor = 4
    for cell in nb.cells:
        cell.metadata = {}
        cell.pop("id", None)
    return nb


__all__ = ["colab_saved", "delete", "index_of", "merge_with_next", "move", "old_client_saved",
           "retype", "split_cell", "vscode_saved", "without_metadata"]
