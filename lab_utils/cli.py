"""Command line: ``python -m lab_utils <command>`` (also installed as ``lab-utils``).

``fetch`` pre-downloads and verifies every dataset the labs use: what ``make lab`` runs
and what an instructor runs when building a JupyterHub image.

The instructor commands wrap nbgrader (run them in the course directory, the one with
``nbgrader_config.py``)::

    python -m lab_utils release                       # labs/ from solutions/
    python -m lab_utils collect lab1_embeddings DIR   # DIR/<student>/lab1_embeddings.ipynb
    python -m lab_utils collect lab1_embeddings lms-download.zip
    python -m lab_utils autograde lab1_embeddings     # all submissions, one per core
    python -m lab_utils feedback lab1_embeddings      # feedback/<student>/<lab>/<lab>.html
    python -m lab_utils export grades.csv             # one row per student and lab
"""

from __future__ import annotations

import argparse
import sys

from lab_utils import datasets


def _fetch(args: argparse.Namespace) -> int:
    try:
        folder = datasets.fetch_movielens_100k(args.data_home)
    except datasets.DataError as exc:
        if args.offline_ok and isinstance(exc, datasets.DataNotFoundError):
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "download disabled"
            print(f"lab_utils fetch: offline? MovieLens 100k not downloaded ({cause}); "
                  f"carrying on. Labs 3-4 need it: see README, 'Data without internet'.")
            return 0
        print(f"lab_utils fetch: {exc}", file=sys.stderr)
        return 1
    print(f"MovieLens 100k: verified {len(datasets.MOVIELENS_100K.files)} files in {folder}")
    return 0


def _release(args) -> int:
    from lab_utils import grading

    labs = grading.release(args.course_dir, args.labs or None)
    print(f"released {', '.join(labs)} into {args.course_dir}/labs")
    return 0


def _collect(args) -> int:
    from lab_utils import grading

    students, problems = grading.import_submissions(args.course_dir, args.lab, args.source)
    for student, problem in problems.items():
        print(f"  {student}: {problem}")
    print(f"{args.lab}: imported {len(students)} submissions into {args.course_dir}/submitted"
          + (f"; {len(problems)} students without a usable file (listed above)" if problems
             else ""))
    return 0 if students else 1


def _autograde(args) -> int:
    import time

    from lab_utils import grading

    start = time.perf_counter()
    outcomes = grading.autograde_class(args.course_dir, args.lab, args.student or None,
                                       jobs=args.jobs)
    report = grading.write_report(outcomes, args.report or f"autograde-{args.lab}.csv")
    errors = [o for o in outcomes.values() if o.status != "graded"]
    for o in errors:
        print(f"  {o.student}: {o.message}")
    print(f"{args.lab}: graded {len(outcomes) - len(errors)} of {len(outcomes)} submissions "
          f"in {time.perf_counter() - start:.0f} s; {len(errors)} reported (see {report})")
    return 0


def _feedback(args) -> int:
    from lab_utils import grading

    grading.generate_feedback(args.course_dir, args.lab)
    print(f"{args.lab}: feedback written to {args.course_dir}/feedback/<student>/{args.lab}/")
    return 0


def _export(args) -> int:
    from lab_utils import grading

    print(f"grades written to {grading.export_grades(args.course_dir, args.to)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab_utils", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download and verify every dataset the labs use")
    fetch.add_argument(
        "--data-home",
        default=None,
        help=f"folder that holds ml-100k/ (default: ${datasets.DATA_DIR_ENV}, else the user cache)",
    )
    fetch.add_argument(
        "--offline-ok",
        action="store_true",
        help="if the data cannot be downloaded, print a one-line notice and exit 0",
    )
    fetch.set_defaults(func=_fetch)

    def course(p):
        p.add_argument("--course-dir", default=".", help="folder with nbgrader_config.py")
        return p

    p = course(sub.add_parser("release", help="generate labs/ from solutions/"))
    p.add_argument("labs", nargs="*", help="lab ids (default: all)")
    p.set_defaults(func=_release)
    p = course(sub.add_parser("collect", help="import a folder or LMS zip of submissions"))
    p.add_argument("lab")
    p.add_argument("source", help="folder of <student>/<lab>.ipynb, or a .zip")
    p.set_defaults(func=_collect)
    p = course(sub.add_parser("autograde", help="autograde all submissions of a lab"))
    p.add_argument("lab")
    p.add_argument("--student", action="append", help="only these students (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="parallel graders (default: cores)")
    p.add_argument("--report", help="CSV of statuses (default: autograde-<lab>.csv)")
    p.set_defaults(func=_autograde)
    p = course(sub.add_parser("feedback", help="generate HTML feedback for a lab"))
    p.add_argument("lab")
    p.set_defaults(func=_feedback)
    p = course(sub.add_parser("export", help="export all grades to CSV"))
    p.add_argument("to", nargs="?", default="grades.csv")
    p.set_defaults(func=_export)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
