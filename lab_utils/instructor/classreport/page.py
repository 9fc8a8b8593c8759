"""The class report page: one self-contained HTML file (inline CSS, embedded plots)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from lab_utils import messages
from lab_utils.instructor.classreport.plots import exercise_bars, score_histogram
from lab_utils.instructor.classreport.reading import ClassData
from lab_utils.instructor.classreport.tables import exercise_table, failure_table

#: Failure groups shown per exercise on the page (``failures.csv`` has them all).
TOP_FAILURES = 5

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #222; margin: 0; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 40px; }
h1 { font-size: 1.5em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.2em; margin: 1.5em 0 0.5em; border-bottom: 2px solid #dde; }
h3 { font-size: 1.02em; margin: 1.1em 0 0.3em; }
p { margin: 0.4em 0; }
.muted { color: #666; font-size: 0.9em; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 6px 14px;
        min-width: 110px; font-size: 0.9em; }
.card b { display: block; font-size: 1.45em; }
.row { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
.row > div { flex: 1; min-width: 320px; }
img { max-width: 100%; height: auto; background: #fff; border: 1px solid #dde;
      border-radius: 6px; }
table { border-collapse: collapse; background: #fff; font-size: 0.88em; margin: 6px 0; }
th, td { border: 1px solid #dde; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef0f4; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; white-space: nowrap; }
table.wide { width: 100%; }
table.failures { table-layout: fixed; }
table.failures th:nth-child(1) { width: 17%; }
table.failures th:nth-child(2) { width: 8%; }
table.failures th:nth-child(3) { width: 30%; }
table.failures th:nth-child(4) { width: 27%; }
td { overflow-wrap: break-word; }
a { color: #1a5fb4; }
"""


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, table_id: str, cls: str = "", numeric=(), raw=()) -> str:
    """An HTML table of ``frame``: values escaped, except the (pre-built HTML) ``raw``
    columns; ``numeric`` columns right-aligned."""
    if frame.empty:
        return '<p class="muted">none</p>'

    def td(column, value, tag="td"):
        align = ' class="num"' if column in numeric else ""
        text = html.escape(str(value)) if tag == "th" else (
            str(value) if column in raw else _cell_text(value))
        return f"<{tag}{align}>{text}</{tag}>"

    head = "".join(td(c, c, "th") for c in frame.columns)
    body = "".join("<tr>" + "".join(td(c, v) for c, v in zip(frame.columns, row, strict=True))
                   + "</tr>" for row in frame.itertuples(index=False))
    return (f'<table id="{table_id}" class="{cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _share(count: int, total: int) -> str:
    return f"{count} ({count / total:.0%})" if total and count else str(count)


def _expected_got(message: str) -> str:
    """'expected <x>, got <y>' of a checks message ('' for any other message)."""
    found = messages.parse(message)
    return f"expected {found.expected}, got {found.got}" if found else ""


def _img(png: str, alt: str, element_id: str) -> str:
    return f'<img alt="{alt}" id="{element_id}" src="data:image/png;base64,{png}">'


def render(data: ClassData) -> str:
    """The report page (self-contained HTML) of :class:`ClassData`."""
    esc = html.escape
    students = data.students
    graded = students[students["status"] == "graded"]
    not_graded = students[students["status"] != "graded"]
    scores = graded["score"].astype(float)
    n = len(graded)
    exercises = exercise_table(data)
    failures = failure_table(data)
    pending = int((graded["written_to_grade"] > 0).sum())
    out_of = f" / {data.max_score:g}"

    cards = [("graded", n), ("not graded", (students["status"] == "not graded").sum()),
             ("no submission", (students["status"] == "no submission").sum()),
             ("mean", f"{scores.mean():.1f}{out_of}" if n else "–"),
             ("median", f"{scores.median():.1f}{out_of}" if n else "–"),
             ("written answers to grade", len(data.manual))]
    parts = [f"<h1>Class report · {esc(data.lab)}</h1>",
             f'<p class="muted">Generated {esc(data.generated)} from the gradebook and the '
             "autograded notebooks. The same tables as CSV beside this page: scores.csv, "
             "exercises.csv, failures.csv, manual.csv.</p>",
             '<div class="cards">' + "".join(f'<div class="card">{esc(k)}<b>{esc(str(v))}</b>'
                                            "</div>" for k, v in cards) + "</div>"]

    # Scores: histogram beside its figures and the submissions that could not be graded.
    stats = pd.DataFrame([{"submissions": n, "mean": scores.mean(), "median": scores.median(),
                           "min": scores.min(), "max": scores.max(), "out of": data.max_score}
                          ]).round(2) if n else pd.DataFrame()
    note = (f"<p>{pending} of {n} graded submissions still have written answers to grade; "
            "until then those answers count 0.</p>" if pending else "")
    parts += ["<h2>Scores</h2>", '<div class="row">',
              _img(score_histogram(scores, data.max_score), "score histogram",
                   "score-histogram"),
              f"<div>{_table(stats, 'score-stats', numeric=stats.columns)}{note}",
              "<h3>Not graded</h3>",
              _table(not_graded[["student_id", "status", "message"]], "not-graded", "wide"),
              "</div></div>"]

    # Exercises: the item analysis.
    shown = pd.DataFrame({
        "exercise": [e.title for e in data.exercises],
        "kind": exercises["kind"], "graded cells": exercises["cells"].str.replace(" ", ", "),
        "points": exercises["points"],
        **{name: [_share(int(v), n) for v in exercises[column]] for name, column in [
            ("full credit", "full_credit"), ("partial", "partial_credit"),
            ("no credit", "no_credit"), ("to grade by hand", "awaiting_manual_grading")]},
        "mean": exercises["mean_score"]})
    parts += ["<h2>Exercises</h2>",
              "<p>An exercise is an answer cell and the test cells after it, or a written "
              "answer. Shares are of the graded submissions.</p>",
              _img(exercise_bars(exercises), "credit per exercise", "exercise-bars"),
              _table(shown, "exercises", "wide", numeric=["points", "full credit", "partial",
                                                           "no credit", "to grade by hand",
                                                           "mean"])]

    # Most frequent failures, per exercise.
    parts += ["<h2>Most frequent failures</h2>",
              "<p>Failed test cells grouped by check and hint, with the values that differ "
              f"from student to student left out; the {TOP_FAILURES} most frequent per "
              "exercise (all in failures.csv). <i>Example</i>: the most frequent "
              "expected / got.</p>"]
    for exercise in data.exercises:
        rows = failures[failures["exercise"] == exercise.name].head(TOP_FAILURES)
        if rows.empty:
            continue
        shown = pd.DataFrame({"test cell": rows["cell"],
                              "students": [_share(int(v), n) for v in rows["students"]],
                              "check": rows["check"], "hint": rows["hint"],
                              "example": [_expected_got(m) for m in rows["example"]]})
        parts += [f"<h3>{esc(exercise.title)}</h3>",
                  _table(shown, f"failures-{exercise.name}", "wide failures",
                         numeric=["students"])]
    if failures.empty:
        parts.append('<p class="muted">No test failed.</p>')

    # Written answers waiting for a human.
    parts += ["<h2>Written answers to grade</h2>",
              f'<p>In the formgrader: <a href="{esc(data.formgrader)}">{esc(data.formgrader)}'
              "</a> (Jupyter started in the course folder; each link below opens one "
              "submission).</p>"]
    written = [e for e in data.exercises if e.written]
    if written:
        links = ", ".join(f'<a href="rubric.html#{esc(e.name)}">{esc(e.title)}</a>'
                          for e in written)
        parts.append(f'<p>Mark schemes (graders only; <a href="rubric.html">rubric.html</a>, '
                     f"or <code>python -m lab_utils rubric {esc(data.lab)}</code>): "
                     f"{links}.</p>")
    if data.manual.empty:
        parts.append('<p class="muted">None: every answer is graded.</p>')
    else:
        per_submission = data.manual.groupby(["student_id", "formgrader"], sort=True).agg(
            answers=("exercise", ", ".join), points=("points", "sum")).reset_index()
        per_submission["formgrader"] = [f'<a href="{esc(u)}">open</a>'
                                        for u in per_submission["formgrader"]]
        parts.append(_table(per_submission[["student_id", "answers", "points", "formgrader"]],
                            "manual", numeric=["points"], raw=["formgrader"]))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Class report · {esc(data.lab)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")
