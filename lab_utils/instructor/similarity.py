"""Similar answers flagged: pairwise winnowing per exercise, an HTML page that never accuses.

For each answer cell of a lab (``python -m lab_utils similarity LAB``):

1. each student's answer is read from ``submitted/<student>/<lab>/<lab>.ipynb`` (the cell
   with the exercise's nbgrader ``grade_id``) and the released template's lines are removed
   (the signature, docstring, ``# YOUR CODE HERE``, ``raise NotImplementedError()``);
2. ``copydetect`` (a winnowing detector in the way of MOSS: Schleimer, Wilkerson and Aiken,
   SIGMOD 2003) tokenises it with Pygments, which normalises the names (every variable is
   ``V``, every function ``F``), drops comments, blank lines and formatting, and
   fingerprints its ``K``-character k-grams.  The template's fingerprints and those found
   in more than :func:`common_limit` answers of the class (what every correct student
   writes alike, as MOSS's ``-m``) are ignored;
3. every pair of students is scored: the share of each answer's fingerprinted tokens found
   in the other, averaged over the two.  Exercises whose reference answer is short
   (fewer than :data:`MIN_LINES` code lines or :data:`MIN_TOKENS` normalised tokens: a
   formula that every correct student writes alike) are listed but not ranked.

The page (``reports/<lab>/similarity.html``) shows the :data:`TOP` most similar pairs of
each exercise, their score and the two answers side by side, shared code highlighted.
"""

from __future__ import annotations

import html
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

K = 12  # k-gram length in normalised characters (copydetect's noise threshold)
WINDOW = 1  # winnowing window: 1 keeps every k-gram (answers are short)
MIN_TOKENS = 40  # reference answers shorter than this (normalised) are not ranked
MIN_LINES = 3  # nor those of fewer code lines
TOP = 5  # pairs shown per exercise

EXPLANATION = (
    "A high score means two answers share long stretches of code once names, comments and "
    "formatting are set aside. It can come from working together, from a common source "
    "(lecture notes, a textbook, documentation examples, an AI assistant), from the "
    "template or from an exercise with few natural solutions. It is a reason to look, "
    "never evidence on its own: read the answers side by side and talk with the students "
    "before concluding anything.")


@dataclass
class Pair:
    """Two students' answers to one exercise and how much they share."""

    first: str
    second: str
    score: float
    html_first: str = ""
    html_second: str = ""


@dataclass
class Exercise:
    grade_id: str
    answers: int
    ranked: bool
    reason: str = ""
    pairs: list = field(default_factory=list)


def common_limit(n_answers: int) -> int:
    """A fingerprint found in more answers than this is ignored (MOSS's ``-m`` is 10)."""
    return max(10, n_answers // 2)


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def strip_template(code: str, template: str) -> str:
    """``code`` without the lines it shares with the released template (compared
    stripped), nor trailing blank lines."""
    template_lines = {line.strip() for line in template.splitlines() if line.strip()}
    kept = [line for line in code.splitlines() if line.strip() not in template_lines]
    return "\n".join(kept).strip("\n")


def class_answers(course_dir, lab: str) -> tuple[dict, dict, dict]:
    """(template, reference, answers) per exercise: grade_id -> released source, source
    solution, and {student: answer with the template removed}."""
    from lab_utils.instructor.gradebook import folder
    from lab_utils.instructor.grading import read_lab, strip_solution_markers

    source, released = read_lab(course_dir, lab)
    templates = {_grade_id(c): c.source for c in released.cells
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    references = {_grade_id(c): strip_template(strip_solution_markers(c.source),
                                               templates[_grade_id(c)])
                  for c in source.cells if _grade_id(c) in templates}
    answers = {gid: {} for gid in templates}
    for path in sorted(folder(course_dir, "submitted").glob(f"*/{lab}/{lab}.ipynb")):
        student = path.parent.parent.name
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 -- unreadable: autograde reports it
            continue
        for cell in nb.cells:
            gid = _grade_id(cell)
            if gid in answers and cell.cell_type == "code":
                code = strip_template(cell.source, templates[gid])
                if code.strip():
                    answers[gid][student] = code
    return templates, references, answers


def _fingerprint(code: str, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint("answer.py", K, WINDOW, boilerplate=boilerplate,
                           fp=io.StringIO(code))


def _normalised_length(code: str) -> int:
    from copydetect.utils import filter_code

    return len(filter_code(code, "answer.py")[0])


def _code_lines(code: str) -> int:
    return sum(1 for line in code.splitlines()
               if line.strip() and not line.strip().startswith(("#", '"' * 3, "'" * 3)))


def compare_exercise(grade_id: str, template: str, reference: str, answers: dict,
                     top: int = TOP) -> Exercise:
    """Score every pair of ``answers`` ({student: code}) of one exercise."""
    import numpy as np
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap

    size, lines = _normalised_length(reference), _code_lines(reference)
    if size < MIN_TOKENS or lines < MIN_LINES:
        return Exercise(grade_id, len(answers), False,
                        f"the reference answer is short ({lines} code lines, {size} "
                        f"normalised tokens): correct answers look alike")
    if len(answers) < 2:
        return Exercise(grade_id, len(answers), False, "fewer than two answers")
    template_hashes = list(_fingerprint(template, None).hashes)
    plain = {s: _fingerprint(code, template_hashes) for s, code in answers.items()}
    counts = {}
    for fp in plain.values():
        for h in fp.hashes:
            counts[h] = counts.get(h, 0) + 1
    limit = common_limit(len(answers))
    boilerplate = template_hashes + [h for h, n in counts.items() if n > limit]
    prints = {s: _fingerprint(code, boilerplate) for s, code in answers.items()}
    prints = {s: fp for s, fp in prints.items() if fp.token_coverage > 0}
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        _, (sim_a, sim_b), slices = compare_files(prints[a], prints[b])
        pairs.append((float(sim_a + sim_b) / 2.0, a, b, slices))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    out = []
    for score, a, b, (slices_a, slices_b) in pairs[:top]:
        views = []
        for student, slices in ((a, slices_a), (b, slices_b)):
            code = answers[student]
            if np.size(slices):
                marked, _ = highlight_overlap(code, np.asarray(slices, dtype=int),
                                              "<mark>", "</mark>", escape_html=True)
            else:
                marked = html.escape(code)
            views.append(marked)
        out.append(Pair(a, b, score, *views))
    return Exercise(grade_id, len(answers), True, pairs=out)


def all_pairs(course_dir, lab: str) -> dict[str, Exercise]:
    """Every exercise of ``lab`` with every pair scored (for tests and the page)."""
    templates, references, answers = class_answers(course_dir, lab)
    return {gid: compare_exercise(gid, templates[gid], references[gid], answers[gid],
                                  top=10**9)
            for gid in templates}


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:1300px;color:#222}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.6rem 1rem}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.8rem;margin:.4rem 0 1.2rem}
.pair pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.82rem;margin:0}
mark{background:#ffe08a}h3{margin-bottom:.2rem}.muted{color:#666}
"""


def write_page(course_dir, lab: str, path=None, top: int = TOP) -> Path:
    """Write the similarity page of ``lab`` (default ``reports/<lab>/similarity.html``)."""
    templates, references, answers = class_answers(course_dir, lab)
    exercises = [compare_exercise(gid, templates[gid], references[gid], answers[gid], top)
                 for gid in templates]
    path = Path(path or Path(course_dir) / "reports" / lab / "similarity.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Similar answers · {html.escape(lab)}</title><style>{_STYLE}</style>"
             f"</head><body><h1>Similar answers · {html.escape(lab)}</h1>",
             f"<p class='note' id='what-it-means'>{EXPLANATION}</p>",
             f"<p class='muted'>Method: template code removed; names, comments and formatting "
             f"normalised; winnowing fingerprints (copydetect, k={K}); code that more than "
             f"half the class (at least {common_limit(0)} answers) writes alike is ignored. "
             f"Score: share of each answer found in the other, averaged.</p>"]
    for ex in exercises:
        parts.append(f"<section id='ex-{html.escape(ex.grade_id)}'><h2>"
                     f"{html.escape(ex.grade_id)}</h2>")
        if not ex.ranked:
            parts.append(f"<p class='muted not-ranked'>Not ranked: {html.escape(ex.reason)}."
                         f"</p></section>")
            continue
        parts.append("<table class='pairs'><thead><tr><th>#</th><th>students</th>"
                     "<th>score</th></tr></thead><tbody>")
        for i, pair in enumerate(ex.pairs, 1):
            parts.append(f"<tr><td>{i}</td><td>{html.escape(pair.first)} · "
                         f"{html.escape(pair.second)}</td><td>{pair.score:.2f}</td></tr>")
        parts.append("</tbody></table>")
        for i, pair in enumerate(ex.pairs, 1):
            parts.append(f"<h3>#{i} {html.escape(pair.first)} · {html.escape(pair.second)}"
                         f" <span class='muted'>({pair.score:.2f})</span></h3>"
                         f"<div class='pair'><pre>{pair.html_first}</pre>"
                         f"<pre>{pair.html_second}</pre></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
