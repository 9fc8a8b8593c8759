"""Benchmark every lab: run each solution notebook headless, time it, collect its metrics.

Writes ``benchmarks/results.json``::

    {"labs": {<lab id>: {"wall_s": ..., "peak_rss_mib": ..., "autograde_s": ...,
                         "metrics": {<model>: {<metric>: value}}}}}

and prints the same as Markdown (also saved as ``benchmarks/results.md``).  Each
notebook runs in its own process so that its peak memory is its own.  ``autograde_s``
is the time nbgrader takes to autograde one perfect submission of the lab;
``class_sequential_s`` / ``class_parallel_s`` grade a simulated class (the perfect and
untouched notebooks and every mistake of :mod:`tests.cases`) one at a time
and one per core; ``kernel_grades_equal`` says whether nbgrader's grade of every mistake
equals the one-kernel shortcut the tests use (``simclass.kernel_grades``).  ``targets``
compares the figures with the quality and speed targets of the
labs' issues (:data:`TARGETS`); a missed target makes the run exit with status 1.

Usage: ``make bench`` or ``python benchmarks/run.py [lab ...]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # tests.support (simulated classes) and tests.cases
    sys.path.insert(0, str(REPO))

#: Quality and speed targets of the labs' issues: (model or None for the lab itself,
#: metric, "<=" or ">=", bound).  Measured on every run and reported; a miss fails the run.
TARGETS = {
    "lab1_embeddings": [
        (None, "wall_s", "<=", 90), (None, "peak_rss_mib", "<=", 1536),
        (None, "autograde_s", "<=", 20),
    ],
    "lab2_regularization": [
        (None, "wall_s", "<=", 90), (None, "peak_rss_mib", "<=", 1536),
        (None, "autograde_s", "<=", 20),
    ],
    "lab3_recsys_explicit": [
        ("ensemble", "rmse", "<=", 0.910), (None, "autograde_s", "<=", 20),
        ("mf", "rmse", "<=", 0.935), (None, "wall_s", "<=", 90),
        (None, "peak_rss_mib", "<=", 1536),
    ],
    "lab4_triplet_implicit": [
        ("triplet_MF_ensemble", "auc", ">=", 0.935),
        ("triplet_MF_ensemble", "ndcg@10", ">=", 0.42),
        (None, "wall_s", "<=", 90), (None, "peak_rss_mib", "<=", 1536),
        (None, "autograde_s", "<=", 20),
    ],
}


#: Targets of grading a class on dask.distributed (issue #12), checked on
#: :func:`cluster_timing`'s figures: (metric, op, bound).  The speed-up bound applies on a
#: machine of 2 cores or more.
CLUSTER_TARGETS = [("cluster_speedup", ">=", 1.8), ("cluster_overhead_s", "<=", 1.0),
                   ("cluster_grades_equal", ">=", True)]


def _target(what: str, op: str, bound, value) -> dict:
    """One target's line of the report: met when ``value <op> bound`` (missing = missed)."""
    met = value is not None and (value <= bound if op == "<=" else value >= bound)
    return {"what": what, "target": f"{op} {bound}", "value": value, "met": met}


def _missed(where: str, targets: list[dict]) -> bool:
    """Print each missed target on stderr; True if any was missed."""
    missed = [t for t in targets if not t["met"]]
    for t in missed:
        print(f"{where}: target missed: {t['what']} {t['target']}, got {t['value']}",
              file=sys.stderr)
    return bool(missed)


def _target_lines(where: str, targets: list[dict]) -> list[str]:
    return [f"- {where}: {t['what']} {t['target']}: {t['value']} "
            f"({'met' if t['met'] else 'MISSED'})" for t in targets]


def check_cluster_targets(res: dict) -> list[dict]:
    """Compare :func:`cluster_timing`'s figures with :data:`CLUSTER_TARGETS`."""
    return [_target(metric, op, bound, res.get(metric)) for metric, op, bound in CLUSTER_TARGETS
            if metric != "cluster_speedup" or res.get("cluster_cores", 0) >= 2]


#: All the labs' solutions together, full budgets, on 2 cores (seconds).
TOTAL_WALL_S = 240


def check_total(labs: dict) -> dict | None:
    """The all-labs wall-time target, once every lab of the course has been run."""
    from lab_utils.instructor import grading

    if set(grading.list_labs(REPO)) - set(labs):
        return None
    return _target("all labs wall_s", "<=", TOTAL_WALL_S,
                   round(sum(res["wall_s"] for res in labs.values()), 1))


def check_targets(lab: str, res: dict) -> list[dict]:
    """Compare a lab's measured figures with its targets (missing figure = missed)."""
    report = []
    for model, metric, op, bound in TARGETS.get(lab, []):
        value = res.get(metric) if model is None else res.get("metrics", {}).get(model, {}).get(
            metric)
        report.append(_target(f"{model or lab} {metric}", op, bound, value))
    return report


def run_one(lab: str) -> dict:
    """Execute solutions/<lab>/<lab>.ipynb in full mode (this process's child kernel)."""
    import nbformat
    from nbclient import NotebookClient

    path = REPO / "solutions" / lab / f"{lab}.ipynb"
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        bench_file = Path(tmp) / "metrics.jsonl"
        os.environ["LAB_UTILS_BENCH_FILE"] = str(bench_file)
        for key in ("NBGRADER_EXECUTION", "LAB_UTILS_FAST"):
            os.environ.pop(key, None)
        client = NotebookClient(nb, timeout=1800, kernel_name="python3", allow_errors=True,
                                record_timing=True,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        wall = time.perf_counter() - start
        metrics = {}
        if bench_file.exists():
            for line in bench_file.read_text().splitlines():
                record = json.loads(line)
                metrics.update(record["metrics"])
    errors = [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}" if out.output_type == "error"
        else f"cell {i}: stderr: {out.text[:200]}"
        for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error" or (out.output_type == "stream" and out.name == "stderr")
    ]
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(peak_kib / 1024, 1),
            "metrics": metrics, "errors": errors, "slowest_cells": slowest_cells(nb)}


def slowest_cells(nb, n: int = 5) -> list[dict]:
    """The ``n`` code cells that took longest (nbclient's per-cell timing), slowest first:
    index, seconds, the nbgrader grade id if any, and the cell's first line."""
    from datetime import datetime

    timed = []
    for index, cell in enumerate(nb.cells):
        times = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code" or not {"iopub.execute_input", "shell.execute_reply"} <= set(
                times):
            continue
        seconds = (datetime.fromisoformat(times["shell.execute_reply"].replace("Z", "+00:00"))
                   - datetime.fromisoformat(times["iopub.execute_input"].replace("Z", "+00:00"))
                   ).total_seconds()
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        timed.append({"cell": index, "seconds": round(seconds, 1),
                      "grade_id": cell.metadata.get("nbgrader", {}).get("grade_id", ""),
                      "first_line": first[:60]})
    return sorted(timed, key=lambda t: -t["seconds"])[:n]


def autograde_one(lab: str) -> float:
    """Seconds nbgrader takes to autograde one perfect submission of ``lab``."""
    from lab_utils.instructor import grading

    with tempfile.TemporaryDirectory() as tmp:
        course = grading.new_course(Path(tmp) / "course", REPO, [lab])
        source, released = grading.read_lab(course, lab)
        grading.submit(course, "perfect", lab, grading.perfect_submission(source, released))
        start = time.perf_counter()
        grading.autograde(course, lab, student="perfect")
        return round(time.perf_counter() - start, 1)


def class_timing(lab: str) -> dict:
    """Grade a simulated class (perfect, untouched, each realistic mistake of the lab)
    sequentially and in parallel; return both wall times, whether the grades agree, and
    whether every mistake's nbgrader grade equals the one-kernel shortcut of the tests."""
    from lab_utils.instructor import grading
    from tests.support import simclass

    timings, grades = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, jobs in (("sequential", 1), ("parallel", os.cpu_count() or 1)):
            course = grading.new_course(Path(tmp) / mode, REPO, [lab])
            source, released = grading.read_lab(course, lab)
            subs = {**simclass.lab_class(source, released, lab),
                    **simclass.mistakes(source, released, lab)}
            for name, sub in subs.items():
                grading.submit(course, name, lab, sub.content)
            start = time.perf_counter()
            grading.autograde_class(course, lab, list(subs), jobs=jobs)
            timings[f"class_{mode}_s"] = round(time.perf_counter() - start, 1)
            grades[mode] = {n: {k: v.score for k, v in grading.scores(course, lab, n).items()
                                if not v.manual} for n in subs}
        perfect = grading.perfect_submission(source, released)
        wrong = simclass.mistakes(source, released, lab)
        baseline, kernel = simclass.kernel_grades(source, perfect, wrong,
                                                  cwd=course / "labs" / lab)
    return {**timings, "class_size": len(subs), "class_jobs": os.cpu_count() or 1,
            "class_grades_equal": grades["sequential"] == grades["parallel"],
            "kernel_grades_equal": all(kernel[n] == grades["sequential"][n] for n in wrong)
            and baseline == grades["sequential"]["perfect"]}


def _scale_class(course, lab: str, size: int) -> list[str]:
    """Submit ``size`` submissions of ``lab``: the simulated class (perfect, untouched, every
    mistake) repeated under new student ids.  Used by :func:`cluster_timing`."""
    from lab_utils.instructor import grading
    from tests.support import simclass

    source, released = grading.read_lab(course, lab)
    subs = {**simclass.lab_class(source, released, lab), **simclass.mistakes(source, released, lab)}
    names = sorted(subs)
    students = []
    for i in range(size):
        name = names[i % len(names)]
        student = f"s{i:03d}_{name}"
        grading.submit(course, student, lab, subs[name].content)
        students.append(student)
    return students


def cluster_timing(lab: str = "lab1_embeddings", size: int = 40, overhead_runs: int = 3) -> dict:
    """Grade a simulated class of ``size`` submissions of ``lab`` two ways, and measure the
    task path's overhead per submission.

    - ``cluster_sequential_s``: one plain ``nbgrader autograde <lab>`` of the whole class
      (one process, one submission after another);
    - ``cluster_local_s``: ``grading.autograde_class`` on a new LocalCluster of one worker
      process per core (its start-up included);
    - ``cluster_overhead_s``: seconds per submission of the task path (task built, shipped,
      graded in a temporary course, recorded; on a running 1-worker cluster that has
      imported nbgrader once) minus those of a bare ``nbgrader autograde --student`` of the
      same submissions (negative: the task path spares nbgrader's start-up).

    The grades of the two runs are compared cell by cell (``cluster_grades_equal``).
    """
    from lab_utils.instructor import cluster, grading

    cores = os.cpu_count() or 1
    out = {"cluster_lab": lab, "cluster_size": size, "cluster_cores": cores}
    grades = {}
    with tempfile.TemporaryDirectory() as tmp:
        template = grading.new_course(Path(tmp) / "template", REPO, [lab])
        courses = {}
        for mode in ("sequential", "local", "overhead"):
            courses[mode] = Path(tmp) / mode
            shutil.copytree(template, courses[mode])
            students = _scale_class(courses[mode], lab, size)
        start = time.perf_counter()
        grading.autograde(courses["sequential"], lab)
        out["cluster_sequential_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        outcomes = grading.autograde_class(courses["local"], lab, students, jobs=cores)
        out["cluster_local_s"] = round(time.perf_counter() - start, 1)
        out["cluster_graded"] = sum(o.status == "graded" for o in outcomes.values())
        for mode in ("sequential", "local"):
            grades[mode] = {s: {k: v.score for k, v in
                                grading.scores(courses[mode], lab, s).items()} for s in students}
        out["cluster_grades_equal"] = grades["sequential"] == grades["local"]
        out["cluster_speedup"] = round(out["cluster_sequential_s"] / out["cluster_local_s"], 2)

        sample = students[:overhead_runs]
        start = time.perf_counter()
        for student in sample:
            grading.autograde(courses["overhead"], lab, student=student)
        bare = (time.perf_counter() - start) / len(sample)
        with cluster.connect(jobs=1) as client:
            # the worker is up and has imported nbgrader (a one-time cost per worker)
            client.run(importlib.import_module, "nbgrader.converters.autograde")
            start = time.perf_counter()
            grading.autograde_class(courses["overhead"], lab, sample, client=client)
            task = (time.perf_counter() - start) / len(sample)
    out.update(cluster_bare_per_submission_s=round(bare, 2),
               cluster_task_per_submission_s=round(task, 2),
               cluster_overhead_s=round(task - bare, 2))
    return out


def to_markdown(results: dict) -> str:
    lines = ["| lab | wall (s) | peak RSS (MiB) | autograde (s) | class seq / par (s) "
             "| model | metrics |", "|---|---:|---:|---:|---:|---|---|"]
    for lab, res in results["labs"].items():
        first = True
        for model, values in (res.get("metrics") or {"-": {}}).items():
            shown = ", ".join(f"{k} {v:.4g}" for k, v in values.items())
            klass = (f"{res['class_sequential_s']} / {res['class_parallel_s']} "
                     f"({res['class_size']} subs)" if "class_size" in res else "-")
            head = (f"| {lab} | {res['wall_s']} | {res['peak_rss_mib']} | "
                    f"{res.get('autograde_s', '-')} | {klass} |") if first else "| | | | | |"
            lines.append(f"{head} {model} | {shown} |")
            first = False
    slow = [f"- {lab}: " + "; ".join(f"cell {c['cell']} {c['seconds']} s "
                                       f"(`{c['grade_id'] or c['first_line']}`)"
                                       for c in res["slowest_cells"])
            for lab, res in results["labs"].items() if res.get("slowest_cells")]
    if slow:
        lines += ["", "Slowest cells (full budgets):", *slow]
    targets = [line for lab, res in results["labs"].items()
               for line in _target_lines(lab, res.get("targets", []))]
    if results.get("total"):
        targets += _target_lines("all labs", [results["total"]])
    if targets:
        lines += ["", "Targets:", *targets]
    c = results.get("cluster")
    if c:
        lines += ["", f"Class of {c['cluster_size']} submissions of {c['cluster_lab']} "
                  f"({c['cluster_cores']} cores): sequential `nbgrader autograde` "
                  f"{c['cluster_sequential_s']} s, LocalCluster {c['cluster_local_s']} s "
                  f"(speed-up {c['cluster_speedup']}x, grades equal: "
                  f"{c['cluster_grades_equal']}); per submission: bare `nbgrader autograde "
                  f"--student` {c['cluster_bare_per_submission_s']} s, task path "
                  f"{c['cluster_task_per_submission_s']} s (overhead "
                  f"{c['cluster_overhead_s']} s)"]
        lines += _target_lines("cluster", c.get("targets", []))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="lab ids (default: all)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--no-autograde", action="store_true", help="skip autograde timing")
    parser.add_argument("--no-class", action="store_true",
                        help="skip grading a simulated class sequentially and in parallel")
    parser.add_argument("--no-cluster", action="store_true",
                        help="skip grading a class of 40 submissions on a LocalCluster")
    parser.add_argument("--cluster-only", action="store_true",
                        help="only grade the class of 40 on a LocalCluster (keeps the other "
                             "figures of results.json)")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0
    out_path = REPO / "benchmarks" / "results.json"
    if args.cluster_only:
        results = json.loads(out_path.read_text()) if out_path.exists() else {"labs": {}}
        missed = _run_cluster(results)
        _write(results, out_path)
        return 1 if missed else 0

    from lab_utils.instructor import grading

    labs = args.labs or grading.list_labs(REPO)
    results = json.loads(out_path.read_text()) if out_path.exists() and args.labs else {}
    results.setdefault("labs", {})
    failed = False
    for lab in labs:
        print(f"running {lab} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, __file__, "--one", lab], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            failed = True
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        errors = res.pop("errors")
        if errors:
            failed = True
            print(f"{lab}: errors while running the solution:", *errors, sep="\n  ",
                  file=sys.stderr)
        if not args.no_autograde:
            res["autograde_s"] = autograde_one(lab)
        if not args.no_class:
            res.update(class_timing(lab))
        res["targets"] = check_targets(lab, res)
        failed = _missed(lab, res["targets"]) or failed
        results["labs"][lab] = res
    total = check_total(results["labs"])
    if total:
        results["total"] = total
        failed = _missed("all labs", [total]) or failed
    if not args.no_cluster:
        failed = _run_cluster(results) or failed
    _write(results, out_path)
    return 1 if failed else 0


def _run_cluster(results: dict) -> bool:
    """Run :func:`cluster_timing` into ``results["cluster"]``; True if a target is missed."""
    print("grading a class on a LocalCluster ...", file=sys.stderr, flush=True)
    res = cluster_timing()
    res["targets"] = check_cluster_targets(res)
    results["cluster"] = res
    return _missed("cluster", res["targets"])


def _write(results: dict, out_path: Path) -> None:
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    table = to_markdown(results)
    (REPO / "benchmarks" / "results.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    sys.exit(main())
