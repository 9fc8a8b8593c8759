"""The student release holds no answer (issue 23).

``python -m lab_utils publish DIR`` writes what goes to the public repository: ``labs/``,
the student wheel (``lab_utils`` without ``lab_utils.instructor``) and a README with the
Colab links.  No line of a solution region, hidden test or mark scheme of any source
notebook may occur in any file of it, the wheel unzipped included.
"""

import subprocess
import sys
import zipfile

import nbformat
import pytest

from lab_utils.instructor import publish
from lab_utils.instructor.nbgrader_ext import SOLUTION_BEGIN, SOLUTION_END, split_regions


def _trivial(line: str) -> bool:
    """Blank, brackets only, or shorter than 12 characters: no answer by itself."""
    line = line.strip()
    return len(line) < 12 or not any(ch.isalnum() for ch in line)


def _region_lines(repo) -> dict[str, set[str]]:
    """Per lab, the non-trivial lines of its solution regions and hidden tests that no
    public cell of any source notebook shows (read here directly, not through
    ``publish``)."""
    out, public = {}, set()
    for path in sorted((repo / "solutions").glob("*/*.ipynb")):
        secret = set()
        for cell in nbformat.read(path, as_version=4).cells:
            shown, hidden = split_regions(cell.source)
            solution = []
            if cell.metadata.get("nbgrader", {}).get("solution"):
                if SOLUTION_BEGIN in cell.source:
                    shown, solution = split_regions("\n".join(shown), SOLUTION_BEGIN,
                                                    SOLUTION_END)
                else:
                    shown, solution = [], shown
            secret |= {line.strip() for line in hidden + solution
                       if not _trivial(line) and "### " not in line}
            public |= {line.strip() for line in shown}
        out[path.parent.name] = secret
    return {lab: secret - public for lab, secret in out.items()}


@pytest.fixture(scope="module")
def release(repo, tmp_path_factory):
    dest = tmp_path_factory.mktemp("public") / "dl-labs-public"
    proc = subprocess.run([sys.executable, "-m", "lab_utils", "publish", str(dest),
                           "--github", "test-org/test-labs"],
                          cwd=repo, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "published" in proc.stdout
    wheels = sorted((dest / "dist").glob("lab_utils-*.whl"))
    assert len(wheels) == 1
    return {"dest": dest, "wheel": wheels[0], "stdout": proc.stdout}


def _texts(root):
    """Every file under ``root`` as text, wheels unzipped, notebooks as cell sources."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    yield f"{path.name}!{name}", zf.read(name).decode("utf-8", "replace")
        else:
            text = path.read_text("utf-8", errors="replace")
            yield str(path.relative_to(root)), text
            if path.suffix == ".ipynb":
                nb = nbformat.reads(text, as_version=4)
                yield str(path.relative_to(root)), "\n".join(c.source for c in nb.cells)


@pytest.mark.slow
def test_no_solution_or_hidden_line_in_the_release_or_the_wheel(repo, release):
    secrets = _region_lines(repo)
    assert all(len(lines) >= 20 for lines in secrets.values()), {
        lab: len(lines) for lab, lines in secrets.items()}  # the reader works
    every = set().union(*secrets.values())
    leaked = [f"{name}: {line}" for name, text in _texts(release["dest"])
              for line in sorted({x.strip() for x in text.split("\n")} & every)]
    assert leaked == [], leaked[:5]
    assert publish.leaks(repo / "solutions", release["dest"]) == []


@pytest.mark.slow
def test_the_wheel_is_the_student_package(release):
    with zipfile.ZipFile(release["wheel"]) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"lab_utils"}
    assert "lab_utils/setup.py" in names and "lab_utils/checks.py" in names
    assert not [n for n in names if n.startswith(("lab_utils/instructor", "lab_utils/__main__"))]
    requires = [line for line in metadata.decode().splitlines()
                if line.startswith("Requires-Dist:")]
    assert any("keras==" in line for line in requires)
    assert not [line for line in requires if any(
        dep in line for dep in ("nbgrader", "dask", "distributed", "copydetect"))], requires
    assert "Student guide" in metadata.decode()  # its README is the student guide


@pytest.mark.slow
def test_the_release_holds_the_labs_and_the_colab_links(repo, release):
    dest = release["dest"]
    labs = sorted(p.name for p in (repo / "labs").iterdir() if p.is_dir())
    assert sorted(p.name for p in (dest / "labs").iterdir()) == labs
    for lab in labs:
        assert (dest / "labs" / lab / f"{lab}.ipynb").read_bytes() == (
            repo / "labs" / lab / f"{lab}.ipynb").read_bytes()
    readme = (dest / "README.md").read_text("utf-8")
    for lab in labs:
        assert publish.colab_url("test-org/test-labs", lab) in readme
    assert release["wheel"].name in readme
    assert sorted(p.name for p in dest.iterdir()) == ["README.md", "dist", "labs"]
    assert not (dest / "solutions").exists()


def test_leaks_finds_a_solution_line_in_a_file_and_in_a_wheel(repo, tmp_path):
    """The check can fail: a solution line planted in a text file and in a zip is found."""
    secret = sorted(publish.secret_lines(repo / "solutions"))
    assert len(secret) > 100
    line = secret[len(secret) // 2]
    (tmp_path / "notes.md").write_text(f"# notes\n    {line}\n")
    with zipfile.ZipFile(tmp_path / "pkg.whl", "w") as zf:
        zf.writestr("lab_utils/helper.py", f"def f():\n    {line}\n")
    found = publish.leaks(repo / "solutions", tmp_path)
    assert len(found) == 2 and all(f.endswith(line) for f in found), found
    (tmp_path / "notes.md").write_text("nothing to see\n")
    (tmp_path / "pkg.whl").unlink()
    assert publish.leaks(repo / "solutions", tmp_path) == []


def test_student_pyproject_leaves_the_instructor_side_out(repo):
    text = publish.student_pyproject(repo)
    assert 'exclude = ["lab_utils.instructor*"]' in text
    assert "nbgrader" not in text and "dask" not in text
    assert "[project.scripts]" not in text


def test_colab_repository_comes_from_the_course_package_url(tmp_path):
    config = tmp_path / "nbgrader_config.py"
    config.write_text('c.SetCoursePackage.url = (\n    "https://github.com/an-org/the-labs/'
                      'releases/download/v1/"\n    "lab_utils-0.1.0-py3-none-any.whl"\n)\n')
    assert publish.github_repository(config) == "an-org/the-labs"
    config.write_text('c.SetCoursePackage.url = "https://example.org/lab_utils.whl"\n')
    assert publish.github_repository(config) is None
