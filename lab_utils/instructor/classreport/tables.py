"""The class report's tables: per exercise (item analysis) and grouped failures."""

from __future__ import annotations

import pandas as pd

from lab_utils.instructor.classreport.reading import ClassData


def exercise_table(data: ClassData) -> pd.DataFrame:
    """Per exercise: points and how many graded submissions got full / partial / no
    credit, or wait for manual grading (exercises.csv)."""
    graded = int((data.students["status"] == "graded").sum())
    rows = []
    for exercise in data.exercises:
        cells = data.cells[data.cells["exercise"] == exercise.name]
        per_student = cells.groupby("student_id").agg(score=("score", "sum"),
                                                      max_score=("max_score", "sum"),
                                                      pending=("pending", "any"))
        done = per_student[~per_student["pending"]]
        full = int((done["score"] >= done["max_score"]).sum())
        none = int((done["score"] <= 0).sum())
        rows.append({
            "exercise": exercise.name, "label": exercise.label,
            "kind": "written" if exercise.written else "code",
            "cells": " ".join(exercise.cells), "points": exercise.points,
            "graded": graded, "full_credit": full, "partial_credit": len(done) - full - none,
            "no_credit": none, "awaiting_manual_grading": int(per_student["pending"].sum()),
            "mean_score": round(float(done["score"].mean()), 2) if len(done) else None,
        })
    return pd.DataFrame(rows, columns=["exercise", "label", "kind", "cells", "points",
                                       "graded", "full_credit", "partial_credit", "no_credit",
                                       "awaiting_manual_grading", "mean_score"])


def failure_table(data: ClassData) -> pd.DataFrame:
    """The failure messages grouped by exercise, test cell, check and hint, most frequent
    first within each exercise (failures.csv); ``example`` is the most frequent message."""
    columns = ["exercise", "cell", "check", "hint", "students", "share", "example"]
    if data.failures.empty:
        return pd.DataFrame(columns=columns)
    graded = max(1, int((data.students["status"] == "graded").sum()))
    order = {e.name: i for i, e in enumerate(data.exercises)}
    groups = data.failures.groupby(["exercise", "cell", "check", "hint"], sort=False)
    table = groups.agg(students=("student_id", "nunique"),
                       example=("message", lambda m: m.value_counts().index[0])).reset_index()
    table["share"] = (table["students"] / graded).round(3)
    cells = {c: i for e in data.exercises for i, c in enumerate(e.cells)}
    table["_order"] = table["exercise"].map(order)
    table["_cell"] = table["cell"].map(cells)
    table = table.sort_values(["_order", "students", "_cell", "check"],
                              ascending=[True, False, True, True])
    return table[columns].reset_index(drop=True)
