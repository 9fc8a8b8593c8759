"""The student's own outputs, as submitted, next to the autograded re-run (graders' view).

Autograding re-runs each notebook with short training budgets, so the re-run shows
untrained curves and small tables next to written answers that interpret the student's
full-budget figures.  Two cell-metadata conventions of the source notebooks (kept by
``nbgrader generate_assignment`` in ``labs/``, with the cell ids) say what to show:

- a code cell whose outputs a written question interprets carries
  ``{"lab_utils": {"student_output": true}}``;
- the written-answer cell carries ``{"lab_utils": {"refers_to": [<cell id>, ...]}}`` (the
  nbformat ids of those code cells).

Two nbgrader preprocessors (configured in ``nbgrader_config.py``):

- :class:`StashStudentOutputs`, in ``Autograde.sanitize_preprocessors`` *before*
  ``ClearOutput``: finds, for each such released cell, the submitted cell -- by metadata and
  cell id, by cell id, by metadata and source text, by source text, by similar source text
  (editors such as Colab drop ids and metadata; see :mod:`lab_utils.instructor.reshape`) --
  and stashes its outputs, bounded (:func:`bound_outputs`), in the notebook's metadata; it
  tags the submitted cell so the output can be shown beside it after realignment.
- :class:`ShowStudentOutputs`, in ``Autograde.autograde_preprocessors`` after
  ``SaveAutoGrades`` (so no grade depends on it): inserts after the re-run cell a locked
  Markdown cell headed :data:`STUDENT_OUTPUT_LABEL` and a locked code cell holding the
  student's outputs, both without nbgrader metadata (ungraded; never executed).

The formgrader shows the autograded notebook, and ``nbgrader generate_feedback`` renders it:
both show these cells (the feedback shows the student their own outputs back).
"""

from __future__ import annotations

import copy
import difflib
import json

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Int

from lab_utils.instructor.markscheme import grade_id, is_written_answer, lab_meta

#: Label of the outputs shown to graders.
STUDENT_OUTPUT_LABEL = "The student's own output, as submitted"
#: Key of the stash in the notebook's ``lab_utils`` metadata (removed once shown).
STASH_KEY = "student_outputs"
#: Cell metadata key (under ``lab_utils``) tagging the submitted cell of a released cell.
TAG_KEY = "submitted_output_of"
#: Cell metadata key (under ``lab_utils``) of the cell that shows them to graders.
SHOWN_KEY = "shows_student_output_of"
#: Smallest similarity (difflib ratio) for an edited cell to be recognised by its text.
MIN_SIMILARITY = 0.6


def referenced_cells(released_nb) -> dict[str, list[str]]:
    """Released cell id -> grade ids of the written answers referring to it, for every code
    cell flagged ``student_output`` or referred to (in notebook order)."""
    refs: dict[str, list[str]] = {}
    for cell in released_nb.cells:
        if is_written_answer(cell):
            for rid in lab_meta(cell).get("refers_to") or []:
                refs.setdefault(str(rid), []).append(grade_id(cell))
    out = {}
    for cell in released_nb.cells:
        cid = cell.get("id")
        if cell.cell_type == "code" and (lab_meta(cell).get("student_output") or cid in refs):
            out[cid] = refs.get(cid, [])
    return out


def _norm(source) -> str:
    if isinstance(source, list):
        source = "".join(source)
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _ids(cell) -> set:
    """The cell's id, and the one Colab keeps in the metadata."""
    return {cell.get("id"), cell.get("metadata", {}).get("id")} - {None}


def find_submitted(released_cell, cells, taken=()) -> tuple[int | None, str]:
    """``(index in cells, how it was found)`` of the submitted copy of ``released_cell``
    (``(None, why not)`` if none).  Cells in ``taken`` are skipped."""
    rid, text = released_cell.get("id"), _norm(released_cell.source)
    code = [(i, c) for i, c in enumerate(cells) if c.cell_type == "code" and i not in taken]

    def flagged(c):
        return bool(lab_meta(c).get("student_output"))

    def last(matches):  # of several copies, the last one that has outputs, else the last
        with_outputs = [i for i, c in matches if c.get("outputs")]
        return (with_outputs or [i for i, _ in matches])[-1]

    rules = [
        ("its metadata and cell id", lambda c: flagged(c) and rid in _ids(c)),
        ("its cell id", lambda c: rid in _ids(c)),
        ("its metadata and source text", lambda c: flagged(c) and _norm(c.source) == text),
        ("its source text", lambda c: _norm(c.source) == text),
    ]
    for how, rule in rules:
        matches = [(i, c) for i, c in code if rule(c)]
        if matches:
            return last(matches), how
    best, best_ratio = None, MIN_SIMILARITY
    for i, c in code:
        ratio = difflib.SequenceMatcher(None, text, _norm(c.source), autojunk=False).ratio()
        ratio += 0.1 * flagged(c)  # of two similar cells, prefer the one with the metadata
        if ratio >= best_ratio:
            best, best_ratio = i, ratio
    if best is not None:
        return best, "similar source text (the student edited the cell)"
    return None, "no cell of the submission has its id, its metadata or its text"


def _size(output) -> int:
    return len(json.dumps(output, ensure_ascii=False).encode("utf-8"))


def _text_of(output):
    """(key, text) of a text-only output that can be cut, else None."""
    if output.get("output_type") == "stream":
        return "text", output.get("text", "")
    data = output.get("data", {})
    if output.get("output_type") in ("execute_result", "display_data") and \
            set(data) <= {"text/plain"} and data:
        return "text/plain", data["text/plain"]
    return None


def _human(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB" if n >= 1e3 else f"{n} B"


def bound_outputs(outputs, max_outputs: int = 20, max_bytes: int = 1_000_000):
    """``(kept outputs, notes on what was cut)``: the last ``max_outputs`` outputs within
    ``max_bytes`` (of JSON); a text output that does not fit keeps its tail, an image or
    other rich output that does not fit is left out."""
    kept, notes, budget = [], [], max_bytes
    dropped_old = 0
    for output in reversed(list(outputs)):
        if len(kept) >= max_outputs:
            dropped_old += 1
            continue
        output = copy.deepcopy(output)
        size = _size(output)
        if size <= budget:
            kept.append(output)
            budget -= size
            continue
        text = _text_of(output)
        if text is not None and budget > 2000:
            key, value = text
            value = "".join(value) if isinstance(value, list) else value
            tail = value.encode("utf-8")[-(budget - 1000):].decode("utf-8", "ignore")
            marker = f"[... {_human(len(value.encode('utf-8')) - len(tail.encode('utf-8')))} "
            marker += "cut: only the end of this output is shown]\n"
            if key == "text":
                output["text"] = marker + tail
            else:
                output["data"]["text/plain"] = marker + tail
            notes.append(f"a text output of {_human(size)} was cut to its last "
                         f"{_human(len(tail.encode('utf-8')))}")
            kept.append(output)
            budget -= _size(output)
            continue
        kinds = sorted(output.get("data", {})) or [output.get("output_type", "output")]
        notes.append(f"an output ({', '.join(kinds)}) of {_human(size)} was left out "
                     f"(more than the {_human(max_bytes)} of outputs shown for this cell)")
    if dropped_old:
        notes.append(f"{dropped_old} earlier output(s) not shown (only the last "
                     f"{max_outputs} are kept)")
    return list(reversed(kept)), notes


def stash_outputs(released, nb, max_outputs: int = 20, max_bytes: int = 1_000_000,
                  max_total_bytes: int = 4_000_000) -> dict:
    """Released cell id -> what to show graders (``found``, ``found_by``, ``referred_by``,
    bounded ``outputs`` and ``notes`` on what was cut), for every cell of
    :func:`referenced_cells`; each submitted cell found is tagged (``lab_utils`` metadata
    :data:`TAG_KEY`) so that it can be found again once the notebook is realigned.  Each
    cell keeps at most ``max_bytes`` and the notebook ``max_total_bytes`` (in cell order)."""
    by_id = {c.get("id"): c for c in released.cells}
    stash, taken, total = {}, set(), max_total_bytes
    for rid, referrers in referenced_cells(released).items():
        index, how = find_submitted(by_id[rid], nb.cells, taken)
        entry = {"found_by": how, "referred_by": referrers, "outputs": [], "notes": [],
                 "found": index is not None}
        if index is not None:
            taken.add(index)
            cell = nb.cells[index]
            entry["outputs"], entry["notes"] = bound_outputs(
                cell.get("outputs", []), max_outputs, max(min(max_bytes, total), 0))
            total -= sum(_size(o) for o in entry["outputs"])
            meta = cell.setdefault("metadata", {}).setdefault("lab_utils", {})
            if isinstance(meta, dict):
                meta[TAG_KEY] = rid
        stash[rid] = entry
    return stash


class StashStudentOutputs(NbGraderPreprocessor):
    """nbgrader sanitizing preprocessor (before ``ClearOutput``): stash the submitted outputs
    of the cells written questions interpret (module docstring)."""

    max_outputs = Int(20, help="Outputs kept per cell (the last ones)").tag(config=True)
    max_bytes = Int(1_000_000, help="Bytes of outputs (JSON) kept per cell").tag(config=True)
    max_total_bytes = Int(4_000_000, help="Bytes of outputs kept per notebook").tag(config=True)

    def preprocess(self, nb, resources):
        from lab_utils.instructor.reshape import released_notebook

        released = released_notebook(self, resources,
                                     "the student's outputs are not shown to graders")
        if released is None:
            return nb, resources
        stash = stash_outputs(released, nb, self.max_outputs, self.max_bytes,
                              self.max_total_bytes)
        if stash:
            nb.metadata.setdefault("lab_utils", {})[STASH_KEY] = stash
        return nb, resources


def _label(rid: str, entry: dict) -> str:
    refs = ", ".join(f"`{r}`" for r in entry.get("referred_by", [])) or "none"
    text = (f"**{STUDENT_OUTPUT_LABEL}** (not re-run, not graded) -- the outputs the "
            f"submitted notebook holds for the cell above (released cell `{rid}`, found by "
            f"{entry.get('found_by')}); the cell above shows the autograder's re-run, with "
            f"short training budgets. Written answers that interpret it: {refs}.")
    if not entry.get("found"):
        text += ("\n\n*Not found in the submission* (the student deleted or rewrote the "
                 "cell): nothing to show.")
    elif not entry.get("outputs"):
        text += ("\n\n*No output*: the student did not run this cell, or cleared its outputs "
                 "before submitting.")
    if entry.get("notes"):
        text += "\n\nCut to keep the notebook small: " + "; ".join(entry["notes"]) + "."
    return text


def student_output_cells(rid: str, entry: dict) -> list:
    """The locked, ungraded cells that show a stashed entry: a Markdown cell headed
    :data:`STUDENT_OUTPUT_LABEL` (how the cell was found, what was cut), then, if the student's
    cell had outputs, a code cell holding them (its outputs are the student's alone, so a
    check of the re-run's outputs, e.g. "a plot was displayed", is not fooled by a label)."""
    meta = {"editable": False, "deletable": False, "lab_utils": {SHOWN_KEY: rid}}
    label = nbformat.v4.new_markdown_cell(_label(rid, entry))
    label.id = f"student-output-{rid}"[:64]
    label.metadata = copy.deepcopy(meta)
    if not entry.get("outputs"):
        return [label]
    cell = nbformat.v4.new_code_cell(
        f"# {STUDENT_OUTPUT_LABEL}: outputs saved in the submitted notebook (not re-run, "
        f"not graded).")
    cell.id = f"student-outputs-{rid}"[:64]
    cell.outputs = [nbformat.from_dict(o) for o in entry["outputs"]]
    cell.metadata = copy.deepcopy(meta)
    return [label, cell]


class ShowStudentOutputs(NbGraderPreprocessor):
    """nbgrader autograde preprocessor (after ``SaveAutoGrades``): show each stashed entry
    in cells right after the re-run cell (module docstring)."""

    def preprocess(self, nb, resources):
        meta = nb.metadata.get("lab_utils", {})
        stash = meta.pop(STASH_KEY, None) if isinstance(meta, dict) else None
        nb.cells = [c for c in nb.cells if SHOWN_KEY not in lab_meta(c)]
        if not stash:
            return nb, resources
        for rid, entry in stash.items():
            at = self._anchor(nb.cells, rid, entry)
            nb.cells[at:at] = student_output_cells(rid, entry)
        return nb, resources

    @staticmethod
    def _anchor(cells, rid, entry) -> int:
        """Where to insert: after the tagged submitted cell, else after the cell with the
        released id, else before the first written answer that refers to it, else last."""
        for rule in (lambda c: lab_meta(c).get(TAG_KEY) == rid,
                     lambda c: c.get("id") == rid):
            for i, cell in enumerate(cells):
                if rule(cell):
                    return i + 1
        referrers = set(entry.get("referred_by", []))
        for i, cell in enumerate(cells):
            if is_written_answer(cell) and grade_id(cell) in referrers:
                return i
        return len(cells)


__all__ = ["STUDENT_OUTPUT_LABEL", "ShowStudentOutputs", "StashStudentOutputs",
           "bound_outputs", "find_submitted", "referenced_cells", "stash_outputs",
           "student_output_cells"]
