"""Command line: ``python -m lab_utils <command>`` (also installed as ``lab-utils``).

``fetch`` pre-downloads and verifies every dataset the labs use: what ``make lab`` runs
and what an instructor runs when building a JupyterHub image.

The instructor commands wrap nbgrader (run them in the course directory, the one with
``nbgrader_config.py``)::

    python -m lab_utils release                       # labs/ from solutions/
    python -m lab_utils collect lab1_embeddings DIR   # DIR/<student>/lab1_embeddings.ipynb
    python -m lab_utils collect lab1_embeddings lms-download.zip
    python -m lab_utils release lab1_embeddings --exchange    # on a JupyterHub (hub/):
    python -m lab_utils collect lab1_embeddings --exchange    #   nbgrader's exchange
    python -m lab_utils feedback lab1_embeddings --release    #   feedback to the exchange
    python -m lab_utils autograde lab1_embeddings     # new submissions, one per core
    python -m lab_utils feedback lab1_embeddings      # feedback/<student>/<lab>/<lab>.html
    python -m lab_utils export grades.csv             # one row per student and lab
    python -m lab_utils export in.csv --format canvas --roster canvas-gradebook.csv
    python -m lab_utils report lab1_embeddings        # reports/<lab>/report.html and CSVs
    python -m lab_utils similarity lab1_embeddings    # reports/<lab>/similarity.html
    python -m lab_utils rubric lab2_regularization    # written questions, mark schemes
    python -m lab_utils publish ../dl-labs-public        # student release (public repo)

Every error a user can cause ends the command with one line on stderr -- what went
wrong, where, and what to do -- and a non-zero exit status (2 for a wrong command line or
course folder, 1 when nbgrader or some submissions failed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import zipfile
from pathlib import Path

from lab_utils import datasets
from lab_utils.config import DATA_DIR_ENV, DEFAULT_SUBMISSION_LIMIT


class CliError(Exception):
    """A mistake the user can fix; the message is one line.  ``status`` is the exit code."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def _course(args) -> Path:
    course = Path(args.course_dir).resolve()
    if not course.is_dir():
        raise CliError(f"course folder {course} does not exist: pass --course-dir with the "
                       f"folder that holds nbgrader_config.py")
    if not (course / "nbgrader_config.py").is_file():
        raise CliError(f"no nbgrader_config.py in {course}: run the command in the course "
                       f"folder or pass --course-dir")
    return course


def _lab(course: Path, lab: str) -> str:
    from lab_utils.instructor import grading

    known = grading.list_labs(course) if (course / "solutions").is_dir() else []
    if lab not in known:
        raise CliError(f"unknown lab {lab!r}: {course}/solutions has "
                       f"{', '.join(known) or 'no lab'} (lab ids are folder names there)")
    return lab


def _course_lab(args) -> tuple[Path, str]:
    """The course folder and the lab of a command that takes ``LAB`` (both checked)."""
    course = _course(args)
    return course, _lab(course, args.lab)


def _released(course: Path, lab: str) -> None:
    """Stop in one line when ``lab`` was never released: nbgrader would otherwise fail once
    per submission ("Please see the above traceback")."""
    from lab_utils.instructor.gradebook import db_url, folder, gradebook_path

    released = folder(course, "release") / lab / f"{lab}.ipynb"
    in_gradebook = False
    if gradebook_path(course).is_file():
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(db_url(course)) as gb:
            try:
                gb.find_assignment(lab)
                in_gradebook = True
            except MissingEntry:
                pass
    if not (released.is_file() and in_gradebook):
        missing = (str(released.relative_to(course)) if not released.is_file() else
                   "its entry in the gradebook")
        raise CliError(f"{lab} was never released (no {missing}): run `python -m lab_utils "
                       f"release {lab}`, then this command again", status=1)


def _fetch(args: argparse.Namespace) -> int:
    try:
        folder = datasets.fetch_movielens_100k(args.data_home)
    except datasets.DataError as exc:
        if args.offline_ok and isinstance(exc, datasets.DataNotFoundError):
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "download disabled"
            print(f"lab_utils fetch: offline? MovieLens 100k not downloaded ({cause}); "
                  f"carrying on. Labs 3-4 need it: see docs/instructor.md, "
                  f"'Data without internet'.")
            return 0
        raise CliError(str(exc), status=1) from exc
    print(f"MovieLens 100k: verified {len(datasets.MOVIELENS_100K.files)} files in {folder}")
    return 0


def _release(args) -> int:
    from lab_utils.instructor import grading

    course = _course(args)
    labs = [_lab(course, lab) for lab in args.labs] or None
    labs = grading.release(course, labs)
    print(f"released {', '.join(labs)} into {course}/labs")
    if args.exchange:
        from lab_utils.instructor import exchange

        exchange.release(course, labs)
        print(f"released {', '.join(labs)} to nbgrader's exchange (students: Assignments tab, "
              f"Fetch)")
    return 0


def _collect(args) -> int:
    from lab_utils.instructor import grading

    course, lab = _course_lab(args)
    if args.exchange:
        return _collect_exchange(args, course, lab)
    if args.source is None:
        raise CliError(f"collect needs the folder or .zip of {lab}'s submissions, or "
                       f"--exchange to collect them from nbgrader's exchange (JupyterHub)")
    source = Path(args.source)
    if not source.exists():
        raise CliError(f"{source} does not exist: give the folder of <student>/{lab}.ipynb "
                       f"or the .zip downloaded from your LMS")
    if source.is_file() and not zipfile.is_zipfile(source):
        raise CliError(f"{source} is not a folder nor a readable zip archive: download it "
                       f"again, or unpack it and give the folder")

    if args.timestamps and not Path(args.timestamps).is_file():
        raise CliError(f"{args.timestamps} does not exist: give the CSV of "
                       f"student,timestamp, or drop --timestamps")
    students, problems = _imported(lambda: grading.import_submissions(
        course, lab, source, timestamps_csv=args.timestamps))
    if not students:
        raise CliError(f"no {lab}.ipynb found in {source}: expected <student>/{lab}.ipynb "
                       f"in a folder, or files named <student>_{lab}.ipynb in a zip", status=1)
    print(f"{lab}: imported {len(students)} submissions into {course}/submitted"
          + (f"; {len(problems)} students without a usable file (listed above)" if problems
             else ""))
    _print_times(course, lab)
    return 0


def _imported(run) -> tuple[list, dict]:
    """Run an import of submissions (``run()`` -> students, problems), print the students
    without a usable file, and turn a deadline configuration error into one line."""
    from lab_utils.instructor import deadlines

    try:
        students, problems = run()
    except deadlines.DeadlineError as exc:
        raise CliError(str(exc)) from exc
    for student, problem in problems.items():
        print(f"  {student}: {problem}")
    return students, problems


def _print_times(course: Path, lab: str) -> None:
    from lab_utils.instructor import timestamps

    rows = timestamps.read_report(course, lab)
    counts = {how: sum(r["source"] == how for r in rows) for how in timestamps.SOURCES}
    print(f"{lab}: submission times from "
          + ", ".join(f"{how} ({n})" for how, n in counts.items() if n)
          + f"; each student's in {timestamps.report_path(course, lab)}")


def _collect_exchange(args, course: Path, lab: str) -> int:
    """``collect LAB --exchange``: nbgrader's collect from the hub's exchange, then the
    common import path (submission times from the exchange's timestamp.txt)."""
    from lab_utils.instructor import exchange

    if args.source is not None:
        raise CliError(f"--exchange collects from nbgrader's exchange: drop {args.source}, or "
                       f"drop --exchange to import that folder or zip")
    students, problems = _imported(lambda: exchange.collect(course, lab,
                                                            timestamps_csv=args.timestamps))
    if not students:
        raise CliError(f"no submission of {lab} in nbgrader's exchange (course "
                       f"{_course_id(course)}): have students submitted in the Assignments "
                       f"tab, and was it released with `release {lab} --exchange`?", status=1)
    print(f"{lab}: collected {len(students)} submissions from the exchange into "
          f"{course}/submitted")
    _print_times(course, lab)
    return 0


def _course_id(course: Path) -> str:
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return config.CourseDirectory.get("course_id", "?")


def _autograde(args) -> int:
    from lab_utils.instructor import grading

    course, lab = _course_lab(args)
    students = args.student or sorted(p.parent.name for p in
                                      (course / "submitted").glob(f"*/{lab}"))
    if not students:
        raise CliError(f"no submissions of {lab} in {course}/submitted: import them first "
                       f"with `python -m lab_utils collect {lab} <folder or zip>`", status=1)
    if args.scheduler_file and not Path(args.scheduler_file).is_file():
        raise CliError(f"scheduler file {args.scheduler_file} does not exist: start the "
                       f"cluster first (see docs/cluster-and-hub.md) or drop "
                       f"--scheduler-file to grade on this machine")
    if args.timeout is not None and args.timeout <= 0:
        raise CliError(f"--timeout must be a positive number of seconds, not {args.timeout}")
    _released(course, lab)
    from lab_utils.instructor import deadlines

    try:
        deadlines.sync_gradebook(course, lab)  # the due date travels with each task
    except deadlines.DeadlineError as exc:
        raise CliError(str(exc)) from exc
    from lab_utils.config import SANDBOX_ENV
    from lab_utils.instructor import sandbox

    if args.no_sandbox:  # the grading kernels (local workers inherit it) and the tasks
        os.environ[SANDBOX_ENV] = "off"
        print(f"{lab}: WARNING: grading without the sandbox (--no-sandbox): student code runs "
              f"with your rights and sees your files", file=sys.stderr)
    start = time.perf_counter()
    try:
        outcomes = grading.autograde_class(
            course, lab, students, jobs=args.jobs, scheduler=args.scheduler,
            scheduler_file=args.scheduler_file, limit=args.timeout, force=args.force,
            progress=True, sandbox_kernels=not args.no_sandbox)
    except sandbox.SandboxUnavailable as exc:
        raise CliError(f"cannot grade {lab} safely: {exc}", status=2) from None
    except KeyboardInterrupt:
        from lab_utils.instructor.gradebook import recorded

        done = len(recorded(course, lab) & set(students))
        raise CliError(f"interrupted: {done} of {len(students)} submissions of {lab} are "
                       f"graded and recorded; run the same command again to grade the "
                       f"rest", status=130) from None
    except OSError as exc:
        if not (args.scheduler or args.scheduler_file):
            raise
        raise CliError(f"cannot reach the Dask scheduler {args.scheduler or args.scheduler_file}"
                       f": {exc}; check the address, or drop --scheduler to grade on this "
                       f"machine", status=1) from exc
    late = [x for x in deadlines.apply_late_penalties(course, lab) if x.penalty > 0]
    report = grading.write_report(outcomes, args.report or course / f"autograde-{lab}.csv",
                                  sandboxed=not args.no_sandbox)
    skipped = [o for o in outcomes.values() if o.status == "skipped"]
    errors = [o for o in outcomes.values() if o.status not in ("graded", "skipped")]
    for o in errors:
        print(f"  {o.student}: {o.message}")
    graded = len(outcomes) - len(errors) - len(skipped)
    print(f"{lab}: graded {graded} of {len(outcomes)} submissions in "
          f"{time.perf_counter() - start:.0f} s; "
          + (f"{len(skipped)} already graded (--force to regrade); " if skipped else "")
          + f"{len(errors)} reported (see {report})")
    if late:
        print(f"{lab}: late penalties (course.toml): "
              + ", ".join(f"{x.student} -{x.penalty:g}" for x in late))
    from lab_utils.instructor import classreport

    try:
        page = classreport.write_class_report(course, lab, autograde_csv=report)
        print(f"{lab}: class report in {page}")
    except classreport.ReportError as exc:  # nothing graded: nothing to report on
        print(f"{lab}: no class report ({exc})")
    return 1 if errors else 0


def _feedback(args) -> int:
    from lab_utils.instructor import grading

    course, lab = _course_lab(args)
    if not (course / "autograded").is_dir() or not any((course / "autograded").glob(f"*/{lab}")):
        raise CliError(f"no autograded submission of {lab} in {course}/autograded: run "
                       f"`python -m lab_utils autograde {lab}` first", status=1)
    grading.generate_feedback(course, lab)
    print(f"{lab}: feedback written to {course}/feedback/<student>/{lab}/")
    if args.release:
        from lab_utils.instructor import exchange

        exchange.release_feedback(course, lab)
        print(f"{lab}: feedback released to nbgrader's exchange (students: Assignments tab, "
              f"Fetch Feedback)")
    if args.bundle:
        from lab_utils.instructor import feedback_bundle, lms

        try:
            archive, entries = feedback_bundle.write_bundle(
                course, lab, Path(args.bundle).resolve(), args.lms, args.roster,
                args.id_column)
        except lms.RosterError as exc:
            raise CliError(str(exc), status=1) from exc
        print(f"{lab}: {len(entries)} students' feedback in {args.bundle} and {archive} "
              f"(named for {args.lms}: see docs/instructor.md, 'Feedback back to students')")
    return 0


def _export(args) -> int:
    from lab_utils.instructor import grading

    course = _course(args)
    from lab_utils.instructor import deadlines, lms

    target = Path(args.to).resolve()
    if not target.parent.is_dir():
        raise CliError(f"cannot write {target}: folder {target.parent} does not exist")
    if args.format != "csv" and not args.roster:
        raise CliError(f"--format {args.format} needs --roster: the CSV of students "
                       f"downloaded from {args.format.capitalize()} (see docs/instructor.md)")
    try:  # penalties from the current scores (manual grades included), due dates, extensions
        for lab in grading.list_labs(course) if (course / "solutions").is_dir() else []:
            deadlines.apply_late_penalties(course, lab)
    except deadlines.DeadlineError as exc:
        raise CliError(str(exc)) from exc
    try:
        if args.format == "csv":
            grading.export_grades(course, target)
        else:
            writer = lms.write_canvas if args.format == "canvas" else lms.write_moodle
            writer(target, lms.grades(course), args.roster, args.id_column)
    except lms.RosterError as exc:
        raise CliError(str(exc), status=1) from exc
    print(f"grades written to {target} ({args.format}: raw score, late penalty, final "
          f"score)" if args.format == "csv" else f"grades written to {target} "
          f"({args.format} import format, final scores)")
    return 0


def _similarity(args) -> int:
    from lab_utils.instructor import similarity

    course, lab = _course_lab(args)
    from lab_utils.instructor.gradebook import folder

    if not any(folder(course, "submitted").glob(f"*/{lab}/{lab}.ipynb")):
        raise CliError(f"no submissions of {lab} in {course}/submitted: import them first "
                       f"with `python -m lab_utils collect {lab} <folder or zip>`", status=1)
    _released(course, lab)
    page = similarity.write_page(course, lab, args.output, top=args.top)
    print(f"{lab}: most similar answers per exercise in {page} (a reason to look, "
          f"never evidence on its own)")
    return 0


def _report(args) -> int:
    from lab_utils.instructor import classreport

    course, lab = _course_lab(args)
    try:
        page = classreport.write_class_report(
            course, lab, autograde_csv=args.autograde_csv,
            formgrader_url=args.formgrader_url or classreport.FORMGRADER_URL)
    except classreport.ReportError as exc:
        raise CliError(str(exc), status=1) from exc
    print(f"{lab}: class report written to {page} (tables as CSV in {page.parent})")
    return 0


def _publish(args) -> int:
    from lab_utils.instructor import publish

    course = _course(args)
    try:
        done = publish.publish(course, args.dest, github=args.github, branch=args.branch)
    except publish.PublishError as exc:
        raise CliError(str(exc), status=1) from exc
    links = "with Colab links to " + done["github"] if done["github"] else "without Colab links"
    print(f"published {', '.join(done['labs'])}, {done['wheel'].name} and README.md "
          f"({links}) into {Path(args.dest).resolve()}: push it to the public repository")
    return 0


def _rubric(args) -> int:
    from lab_utils.instructor import markscheme

    course, lab = _course_lab(args)
    questions = markscheme.written_questions(markscheme.source_notebook(course, lab))
    print(markscheme.rubric_markdown(lab, questions), end="")
    return 0


EXAMPLES = {
    "fetch": "example:\n  python -m lab_utils fetch --data-home /srv/course-data",
    "release": ("examples:\n  python -m lab_utils release lab1_embeddings\n"
                "  python -m lab_utils release lab1_embeddings --exchange"),
    "collect": ("examples:\n  python -m lab_utils collect lab1_embeddings incoming/\n"
                "  python -m lab_utils collect lab1_embeddings lms-download.zip\n"
                "  python -m lab_utils collect lab1_embeddings --exchange"),
    "autograde": ("examples:\n  python -m lab_utils autograde lab1_embeddings\n"
                  "  python -m lab_utils autograde lab1_embeddings --student jdoe42 --force\n"
                  "  python -m lab_utils autograde lab1_embeddings --scheduler-file "
                  "~/scheduler.json"),
    "feedback": ("examples:\n  python -m lab_utils feedback lab1_embeddings\n"
                 "  python -m lab_utils feedback lab1_embeddings --bundle upload/ --lms canvas "
                 "--roster canvas-gradebook.csv\n"
                 "  python -m lab_utils feedback lab1_embeddings --release"),
    "export": ("examples:\n  python -m lab_utils export grades.csv\n"
               "  python -m lab_utils export canvas-import.csv --format canvas "
               "--roster canvas-gradebook.csv\n"
               "  python -m lab_utils export moodle-import.csv --format moodle "
               "--roster moodle-grades.csv --id-column Username"),
    "similarity": "example:\n  python -m lab_utils similarity lab1_embeddings",
    "report": ("examples:\n  python -m lab_utils report lab1_embeddings\n"
               "  python -m lab_utils report lab1_embeddings "
               "--formgrader-url https://hub.example.org/user/teacher"),
    "rubric": "example:\n  python -m lab_utils rubric lab2_regularization > rubric.md",
    "publish": ("examples:\n  python -m lab_utils publish ../dl-labs-public\n"
                "  python -m lab_utils publish ../dl-labs-public --github my-org/dl-labs"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _roster_options(p, roster_help: str) -> None:
    """``--roster`` and ``--id-column`` (the LMS's student list and its id column)."""
    p.add_argument("--roster", metavar="CSV", help=roster_help)
    p.add_argument("--id-column", help="roster column holding nbgrader's student ids "
                   "(default: Canvas 'SIS Login ID', Moodle 'ID number')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m lab_utils", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name, help_text):
        return sub.add_parser(name, help=help_text, description=help_text.capitalize() + ".",
                              epilog=EXAMPLES[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    fetch = command("fetch", "download and verify every dataset the labs use")
    fetch.add_argument(
        "--data-home",
        default=None,
        help=f"folder that holds ml-100k/ (default: ${DATA_DIR_ENV}, else the user cache)",
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

    p = course(command("release", "generate labs/ from solutions/"))
    p.add_argument("labs", nargs="*", help="lab ids (default: all)")
    p.add_argument("--exchange", action="store_true",
                   help="also publish them to nbgrader's exchange (JupyterHub: students fetch "
                        "them in the Assignments tab; docs/cluster-and-hub.md)")
    p.set_defaults(func=_release)
    p = course(command("collect", "import a folder or LMS zip of submissions"))
    p.add_argument("lab")
    p.add_argument("source", nargs="?", help="folder of <student>/<lab>.ipynb, or a .zip")
    p.add_argument("--exchange", action="store_true",
                   help="collect from nbgrader's exchange (JupyterHub) instead, with the "
                        "exchange's submission times")
    p.add_argument("--timestamps", metavar="CSV",
                   help="submission times (student,timestamp) when neither the zip nor an "
                        "exchange timestamp.txt has them (default: timestamps.csv in the "
                        "course folder, if any)")
    p.set_defaults(func=_collect)
    p = course(command("autograde", "autograde all submissions of a lab"))
    p.add_argument("lab")
    p.add_argument("--student", action="append", help="only these students (repeatable)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="grade on a running Dask cluster, e.g. tcp://10.0.0.5:8786 "
                        "(default: a local cluster)")
    p.add_argument("--scheduler-file", metavar="FILE",
                   help="grade on the running Dask cluster described by this JSON file")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="wall-clock limit per submission; past it, it scores 0 and is "
                        f"reported (default: {DEFAULT_SUBMISSION_LIMIT:g})")
    p.add_argument("--force", action="store_true",
                   help="regrade submissions already autograded (default: skip them; a "
                        "failed regrade keeps the earlier grades)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code without the bubblewrap sandbox (where bubblewrap "
                        "is missing, e.g. macOS): it then runs with your rights")
    p.add_argument("--report", help="CSV of statuses (default: autograde-<lab>.csv in the "
                                    "course folder)")
    p.set_defaults(func=_autograde)
    from lab_utils.instructor import feedback_bundle, lms

    p = course(command("feedback", "generate HTML feedback for a lab"))
    p.add_argument("lab")
    p.add_argument("--bundle", metavar="DIR",
                   help="also write one entry per student into DIR (and DIR.zip), named for "
                        "the LMS's bulk upload of feedback files")
    p.add_argument("--lms", choices=feedback_bundle.LAYOUTS, default="plain",
                   help="naming of the bundle (default: plain, <student>/)")
    _roster_options(p, "the LMS's list of students (Canvas: gradebook export; Moodle: the "
                       "assignment's grading worksheet)")
    p.add_argument("--release", action="store_true",
                   help="also release it to nbgrader's exchange (JupyterHub: students fetch "
                        "it in the Assignments tab)")
    p.set_defaults(func=_feedback)
    p = course(command("export", "export all grades (nbgrader's CSV, or an LMS import file)"))
    p.add_argument("to", nargs="?", default="grades.csv")
    p.add_argument("--format", choices=lms.FORMATS, default="csv",
                   help="csv: nbgrader's export (raw score, late penalty, score); canvas or "
                        "moodle: the LMS's grade import CSV (needs --roster)")
    _roster_options(p, "the students as downloaded from the LMS (Canvas: its gradebook "
                       "export; Moodle: its grade export), with the LMS's ids")
    p.set_defaults(func=_export)
    p = course(command("similarity", "flag similar answers per exercise (HTML page)"))
    p.add_argument("lab")
    p.add_argument("--output", help="the page (default: reports/<lab>/similarity.html)")
    p.add_argument("--top", type=int, default=5, help="pairs shown per exercise (default 5)")
    p.set_defaults(func=_similarity)
    p = course(command("report", "write the class report of a graded lab (HTML and CSV)"))
    p.add_argument("lab")
    p.add_argument("--formgrader-url", default=None,
                   help="base URL of the Jupyter server that runs the formgrader, for the "
                        "page's links (default: http://localhost:8888)")
    p.add_argument("--autograde-csv", help="autograde status CSV (default: "
                                           "autograde-<lab>.csv in the course folder)")
    p.set_defaults(func=_report)
    p = course(command("rubric", "print a lab's written questions: points, question, model "
                                 "answer and mark scheme (graders only)"))
    p.add_argument("lab")
    p.set_defaults(func=_rubric)
    p = course(command("publish", "write the student release (labs, student wheel, README with "
                                  "Colab links) for a public repository"))
    p.add_argument("dest", help="folder to write (e.g. a clone of the public repository)")
    p.add_argument("--github", metavar="OWNER/NAME", default=None,
                   help="public repository of the Colab links (default: the one "
                        "c.SetCoursePackage.url names in nbgrader_config.py)")
    p.add_argument("--branch", default="main", help="its branch (default: main)")
    p.set_defaults(func=_publish)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import os

    from lab_utils.instructor.grading import GradingError, _env

    # nbgrader creates a gradebook by calling `alembic` from PATH: find this environment's
    # even when it is not activated (`/path/to/.venv/bin/python -m lab_utils ...`).
    os.environ["PATH"] = _env()["PATH"]

    try:
        return args.func(args)
    except CliError as exc:
        print(f"lab_utils {args.command}: error: {exc}", file=sys.stderr)
        return exc.status
    except GradingError as exc:
        log = Path(getattr(args, "course_dir", ".")).resolve() / f"nbgrader-{args.command}.log"
        try:
            log.write_text(exc.log, encoding="utf-8")
            where = f"nbgrader's full output is in {log}"
        except OSError:
            where = "run the nbgrader command by hand to see its full output"
        print(f"lab_utils {args.command}: error: {exc}; {where}", file=sys.stderr)
        return 1
