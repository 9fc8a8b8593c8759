"""The student release: what an instructor pushes to a *public* repository (issue 23).

``python -m lab_utils publish DIR`` (``make publish``) writes into ``DIR``:

- ``labs/`` -- the student versions of the labs (as ``make release`` generated them);
- ``dist/lab_utils-<version>-py3-none-any.whl`` -- the **student wheel**: ``lab_utils``
  without ``lab_utils/instructor/`` (nor ``__main__``, the instructor's command line),
  built from a staged copy with a student ``pyproject.toml`` (the runtime dependencies
  only: no nbgrader, no dask).  It is what the labs' set-up cell installs on Colab: upload
  it as the asset that ``c.SetCoursePackage.url`` in ``nbgrader_config.py`` names;
- ``README.md`` -- the student guide (``docs/student.md``), the labs' Colab links and how
  to install the wheel.

``solutions/`` (solutions, hidden tests, mark schemes), ``tests/`` (whose cases hold
solution lines) and the instructor package stay in the course's *private* repository, as
nbgrader's own practice has it.  Before anything is written, :func:`leaks` checks that no
line of a solution region, hidden test or mark scheme of any source notebook occurs in any
file of the release (the wheel unzipped): publishing stops if one does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import nbformat

from lab_utils.instructor.markscheme import split_mark_scheme
from lab_utils.instructor.nbgrader_ext import SOLUTION_BEGIN, SOLUTION_END, split_regions

#: Parts of ``lab_utils/`` that no student gets (the instructor package, its command line).
NOT_FOR_STUDENTS = ("instructor", "__main__.py")

#: ``c.SetCoursePackage.url`` of a GitHub release: its repository names the Colab links.
_GITHUB = re.compile(r"github\.com/(?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/")

#: A line too short or too generic to be an answer (blank, brackets, ``return x``).
MIN_LINE = 12


class PublishError(Exception):
    """The release cannot be written (a leak, a missing lab, a failed wheel build)."""


# ----------------------------------------------------------------------- what must not leak


def _is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def _secret_and_public(cell) -> tuple[list[str], list[str]]:
    """(lines a student must not see, lines the student version shows) of one source cell."""
    source = cell.source
    public, hidden = split_regions(source)
    rest, scheme = split_mark_scheme("\n".join(public))
    secret = hidden + (scheme or "").split("\n")
    if _is_solution(cell):
        if cell.cell_type == "code" and SOLUTION_BEGIN in rest:
            shown, solution = split_regions(rest, SOLUTION_BEGIN, SOLUTION_END)
            return secret + solution, shown
        return secret + rest.split("\n"), []  # nbgrader replaces the whole cell
    return secret, rest.split("\n")


def _meaningful(line: str) -> bool:
    line = line.strip()
    return len(line) >= MIN_LINE and any(ch.isalnum() for ch in line) and not (
        line.startswith("###") and ("SOLUTION" in line or "HIDDEN TESTS" in line))


def secret_lines(solutions_dir) -> set[str]:
    """Stripped lines of every solution region, hidden test and mark scheme of the source
    notebooks (``solutions/<lab>/<lab>.ipynb``) that no public part of them shows, and that
    are long enough to be an answer (:data:`MIN_LINE` characters, not just brackets)."""
    secret, public = set(), set()
    for path in sorted(Path(solutions_dir).glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            hidden, shown = _secret_and_public(cell)
            secret |= {line.strip() for line in hidden if _meaningful(line)}
            public |= {line.strip() for line in shown}
    return secret - public


def _texts(path: Path):
    """(name, text) of every readable text in ``path``: a folder's files, a wheel's (or
    zip's) members, a notebook's cell sources and outputs."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            yield from _texts(child)
    elif path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                yield f"{path}!{member}", zf.read(member).decode("utf-8", errors="replace")
    else:
        text = path.read_bytes().decode("utf-8", errors="replace")
        yield str(path), text
        if path.suffix == ".ipynb":  # the JSON escapes quotes: the cells as they read
            nb = nbformat.reads(text, as_version=4)
            for cell in nb.cells:
                outputs = [o.get("text", "") for o in cell.get("outputs", [])]
                yield f"{path} cell {cell.get('id', '?')}", "\n".join([cell.source, *outputs])


def leaks(solutions_dir, *paths) -> list[str]:
    """``"<file>: <line>"`` for every secret line (:func:`secret_lines`) found in the files
    under ``paths`` (folders, wheels and zips are opened); empty when nothing leaks."""
    secret = secret_lines(solutions_dir)
    found = []
    for path in paths:
        for name, text in _texts(Path(path)):
            lines = {line.strip() for line in text.split("\n")}
            found += [f"{name}: {line}" for line in sorted(lines & secret)]
    return found


# ------------------------------------------------------------------------ the student wheel


def _toml_list(values) -> str:
    return "[\n" + "".join(f"    {_toml_str(v)},\n" for v in values) + "]"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def student_pyproject(repo) -> str:
    """The student package's ``pyproject.toml``: the course's name, version and runtime
    dependencies (no optional extras: no nbgrader, no dask), ``lab_utils.instructor`` left
    out, the student guide as its README, no command-line entry point."""
    project = tomllib.loads((Path(repo) / "pyproject.toml").read_text("utf-8"))["project"]
    license_ = project.get("license", "MIT")
    license_ = license_ if isinstance(license_, str) else license_.get("text", "MIT")
    return "\n".join([
        "# Generated by python -m lab_utils publish: the student package (issue 23).",
        "[build-system]",
        'requires = ["setuptools>=61"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        f"name = {_toml_str(project['name'])}",
        f"version = {_toml_str(project['version'])}",
        f"description = {_toml_str(project.get('description', ''))}",
        'readme = "README.md"',
        f"requires-python = {_toml_str(project.get('requires-python', '>=3.11'))}",
        f"license = {{text = {_toml_str(license_)}}}",
        f"dependencies = {_toml_list(project.get('dependencies', []))}",
        "",
        "[tool.setuptools.packages.find]",
        'include = ["lab_utils*"]',
        'exclude = ["lab_utils.instructor*"]',
        "",
    ])


def _stage(repo: Path, stage: Path) -> None:
    shutil.copytree(repo / "lab_utils", stage / "lab_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *NOT_FOR_STUDENTS))
    (stage / "pyproject.toml").write_text(student_pyproject(repo), encoding="utf-8")
    shutil.copy(repo / "docs" / "student.md", stage / "README.md")


def student_wheel(repo, dist) -> Path:
    """Build the student wheel into ``dist`` from a staged copy (the repository is never
    written to) and return its path.  Offline: the build uses this environment's
    setuptools (``--no-build-isolation``)."""
    repo, dist = Path(repo).resolve(), Path(dist)
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lab_utils-student-") as tmp:
        stage = Path(tmp) / "src"
        _stage(repo, stage)
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                               "--no-build-isolation", "-w", str(dist), str(stage)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise PublishError(f"building the student wheel failed: {proc.stderr[-2000:]}")
    wheels = sorted(dist.glob("lab_utils-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise PublishError(f"building the student wheel wrote no wheel into {dist}")
    wheel = wheels[-1]
    inside = zipfile.ZipFile(wheel).namelist()
    bad = [n for n in inside if n.startswith(("lab_utils/instructor/", "lab_utils/__main__"))]
    if bad:
        raise PublishError(f"the student wheel holds instructor files: {bad[:3]}")
    return wheel


# ---------------------------------------------------------------------------- the release


def github_repository(config_file) -> str | None:
    """``owner/name`` of the GitHub repository that ``c.SetCoursePackage.url`` in
    ``nbgrader_config.py`` points at (a release asset), or None."""
    path = Path(config_file)
    if not path.is_file():
        return None
    match = re.search(r"SetCoursePackage\.url\s*=\s*\(?\s*((?:\"[^\"]*\"\s*)+)",
                      path.read_text("utf-8"))
    url = "".join(re.findall(r'"([^"]*)"', match.group(1))) if match else ""
    found = _GITHUB.search(url)
    return found.group("repo") if found else None


def colab_url(github: str, lab: str, branch: str = "main") -> str:
    """The Colab link of a lab in the public repository ``github`` (``owner/name``)."""
    return (f"https://colab.research.google.com/github/{github}/blob/{branch}/labs/{lab}/"
            f"{lab}.ipynb")


def student_readme(repo, labs, github: str | None, branch: str, wheel: Path) -> str:
    """The public repository's README: the student guide, then the Colab links and how to
    install the course package."""
    guide = (Path(repo) / "docs" / "student.md").read_text("utf-8").rstrip()
    lines = [guide, "", "## Open a lab", ""]
    if github:
        lines += [f"- [{lab}]({colab_url(github, lab, branch)}) (Google Colab)" for lab in labs]
    else:
        lines += [f"- `labs/{lab}/{lab}.ipynb`" for lab in labs]
    lines += ["", "On your own machine or a JupyterHub, install the course package first:", "",
              "```", f"pip install dist/{wheel.name}", "```", ""]
    return "\n".join(lines)


def publish(repo, dest, github: str | None = None, branch: str = "main") -> dict:
    """Write the student release of the course in ``repo`` into ``dest`` (see the module
    docstring); refuse (:class:`PublishError`) if any secret line would be published.

    Returns ``{"labs": [...], "wheel": path, "readme": path, "github": owner/name or None}``.
    """
    repo, dest = Path(repo).resolve(), Path(dest).resolve()
    if dest == repo:
        raise PublishError("the release folder must not be the course repository itself")
    if not (repo / "pyproject.toml").is_file() or not (repo / "lab_utils").is_dir():
        raise PublishError(f"{repo} is not the course repository (pyproject.toml and "
                           "lab_utils/ beside solutions/): run publish there")
    labs = sorted(p.name for p in (repo / "labs").iterdir()
                  if (p / f"{p.name}.ipynb").is_file()) if (repo / "labs").is_dir() else []
    if not labs:
        raise PublishError(f"no released lab in {repo / 'labs'}: run make release first")
    github = github or github_repository(repo / "nbgrader_config.py")
    with tempfile.TemporaryDirectory(prefix="lab_utils-publish-") as tmp:
        out = Path(tmp) / "release"
        for lab in labs:
            shutil.copytree(repo / "labs" / lab, out / "labs" / lab,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        wheel = student_wheel(repo, out / "dist")
        (out / "README.md").write_text(student_readme(repo, labs, github, branch, wheel),
                                       encoding="utf-8")
        found = leaks(repo / "solutions", out)
        if found:
            raise PublishError(f"{len(found)} solution or hidden-test lines would be "
                               f"published, e.g. {found[0]}")
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("labs", "dist"):
            shutil.rmtree(dest / name, ignore_errors=True)
        for item in out.iterdir():
            target = dest / item.name
            if item.is_dir():
                shutil.copytree(item, target)
            else:
                shutil.copy(item, target)
    return {"labs": labs, "wheel": dest / "dist" / wheel.name, "readme": dest / "README.md",
            "github": github}


__all__ = ["NOT_FOR_STUDENTS", "PublishError", "colab_url", "github_repository", "leaks",
           "publish", "secret_lines", "student_pyproject", "student_readme", "student_wheel"]
