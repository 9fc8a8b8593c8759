"""Students on Google Colab, tested here without Colab.

A clean environment outside the repository: a virtual environment that sees the grader's
dependencies (TensorFlow, Keras, ...) but not ``lab_utils``; a stand-in ``google.colab``
package imported when each kernel starts (as Colab's kernel does); the student wheel (as
``python -m lab_utils publish`` builds it), and its URL written into each lab's first cell
as ``make release`` writes the course's (``SetCoursePackage``); MovieLens served over
loopback as the course's mirror. Lab 4 and Lab 1 (the fastest MovieLens lab and the other
kind) then run there whole with the short budgets: the first cell installs the package from
the wheel and the data are downloaded into Colab's working folder. Labs 2 and 3 run, one
after the other in one kernel (each costs TensorFlow's import), their set-up and the cells
before their first exercise, then every import they make (Lab 3's fairlearn, which Colab
lacks, included): their whole solutions already run twice per ``make test`` (nbval and the
autograded class), and their set-up cell is the same code, checked by
``test_released_labs_carry_the_course_package_url``.
``check_notebook()`` runs there too, fetching the notebook from the (stand-in) Colab front
end.
"""

import http.server
import json
import os
import subprocess
import sys
import sysconfig
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import is_solution
from traitlets.config.loader import PyFileConfigLoader

from lab_utils import colab, datasets, selfcheck
from lab_utils.config import DATA_DIR_ENV, FAST_ENV, MOVIELENS_URL_ENV
from lab_utils.instructor import colab_release, grading, publish

LABS = ["lab1_embeddings", "lab2_regularization", "lab3_recsys_explicit",
        "lab4_triplet_implicit"]

STANDIN = {
    "__init__.py": '"""Stand-in for Google Colab\'s package (tests only)."""\n',
    "_message.py": '''"""Stand-in for Colab's front-end messages: reads $STANDIN_NOTEBOOK."""
import json
import os


def blocking_request(request_type, request="", timeout_sec=5):
    assert request_type == "get_ipynb", request_type
    with open(os.environ["STANDIN_NOTEBOOK"], encoding="utf-8") as fh:
        return {"ipynb": json.load(fh)}
''',
}

DRIVER = '''"""Run one notebook in this environment, as Colab would (stops at the first error)."""
import sys

import nbformat
from nbclient import NotebookClient

nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[3]}}).execute()
nbformat.write(nb, sys.argv[2])
'''


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(folder: Path):
    handler = partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _wheel(repo: Path, root: Path) -> Path:
    """The student wheel, as ``python -m lab_utils publish`` builds it (``lab_utils``
    without the instructor side), from a staged copy: the repository is never written to."""
    return publish.student_wheel(repo, root / "dist")


def _venv(root: Path) -> Path:
    """A venv without lab_utils that sees the grader's other packages (a folder of links
    to its site-packages, the editable lab_utils left out: as Colab, which has TensorFlow
    but not the course package)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    deps = root / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.startswith(("__editable__", "lab_utils")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "grader_deps.pth").write_text(f"{deps}\n")
    return venv


@pytest.fixture(scope="module")
def env(repo, tmp_path_factory, movielens_home):
    root = tmp_path_factory.mktemp("colab")
    assert repo not in root.parents
    wheel = _wheel(repo, root)
    venv = _venv(root)
    standin = root / "standin" / "google" / "colab"
    standin.mkdir(parents=True)
    for name, text in STANDIN.items():
        (standin / name).write_text(text)
    startup = root / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab  # as Colab's kernel does\n")
    mirror = root / "mirror"
    mirror.mkdir()
    with zipfile.ZipFile(mirror / "ml-100k.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(datasets.MOVIELENS_100K.files):
            zf.write(movielens_home / "ml-100k" / name, f"ml-100k/{name}")
    httpd = _serve(mirror)
    content = root / "content"  # Colab's working folder
    content.mkdir()
    (root / "driver.py").write_text(DRIVER)
    variables = {
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(root / "home"), "IPYTHONDIR": str(root / "ipython"),
        "PYTHONPATH": str(root / "standin"), "PYTHONNOUSERSITE": "1",
        FAST_ENV: "1", MOVIELENS_URL_ENV: f"http://127.0.0.1:{httpd.server_port}/ml-100k.zip",
        "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
    }
    yield {"root": root, "wheel": wheel, "python": venv / "bin" / "python", "env": variables,
           "content": content}
    httpd.shutdown()
    httpd.server_close()


def _for_colab(nb, wheel: Path):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = colab_release.set_package_url(cell.source, wheel.as_uri())
    return nb


def _imports(nb) -> list[str]:
    return [line for c in nb.cells if c.cell_type == "code"
            for line in c.source.splitlines() if line.startswith(("import ", "from "))]


def _heads(notebooks):
    """One notebook (one kernel: each costs TensorFlow's import): each notebook's cells up to
    its first exercise, one after the other, then one cell with every import they make."""
    cells = []
    for nb in notebooks:
        cells += nb.cells[:next(i for i, c in enumerate(nb.cells) if is_solution(c))]
    imports = list(dict.fromkeys(line for nb in notebooks for line in _imports(nb)))
    cells.append(nbformat.v4.new_code_cell("\n".join(imports)))
    return nbformat.v4.new_notebook(metadata=notebooks[0].metadata, cells=cells)


#: Run whole on the stand-in Colab; Lab 1 runs whole too, as the perfect student version the
#: self-check executes, and Labs 2 and 3 their heads, in one kernel (:func:`_heads`).
WHOLE = ("lab4_triplet_implicit",)  # the fastest MovieLens lab
HEADS = ("lab3_recsys_explicit", "lab2_regularization")


def _run(env, name: str, nb, extra=None):
    path = env["root"] / f"{name}.ipynb"
    nbformat.write(nb, path)
    proc = subprocess.run([str(env["python"]), str(env["root"] / "driver.py"), str(path),
                           str(env["root"] / f"{name}.out.ipynb"), str(env["content"])],
                          env={**env["env"], **(extra or {})}, cwd=env["content"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{name}: {proc.stderr[-3000:]}"
    return nbformat.read(env["root"] / f"{name}.out.ipynb", as_version=4)


def _imports_lab_utils(env) -> subprocess.CompletedProcess:
    return subprocess.run([str(env["python"]), "-c",
                           "import lab_utils; print(lab_utils.__file__)"],
                          env=env["env"], cwd=env["content"], capture_output=True, text=True)


@pytest.mark.slow
def test_the_solutions_run_on_colab_from_the_built_package(env, repo):
    assert _imports_lab_utils(env).returncode != 0, "lab_utils importable before the set-up"
    notebooks = {lab: _for_colab(nbformat.read(repo / "solutions" / lab / f"{lab}.ipynb", 4),
                                 env["wheel"]) for lab in LABS}
    # Lab 4 first: its set-up cell installs the package, then it downloads MovieLens
    ran = {"lab4_triplet_implicit": _run(env, "lab4_triplet_implicit",
                                         notebooks["lab4_triplet_implicit"])}
    where = _imports_lab_utils(env)
    assert where.returncode == 0, where.stderr
    installed = Path(where.stdout.strip()).resolve()
    assert env["root"] / "venv" in installed.parents and repo not in installed.parents
    assert (env["content"] / "data" / "ml-100k" / "u.data").is_file()  # Colab's disk

    # the self-check, asked from "Colab": the perfect student version of Lab 1
    source, released = grading.read_lab(repo, "lab1_embeddings")
    perfect = env["root"] / "lab1_perfect.ipynb"
    nbformat.write(_for_colab(grading.perfect_submission(source, released), env["wheel"]),
                   perfect)
    setup = notebooks["lab1_embeddings"].cells[
        next(i for i, c in enumerate(notebooks["lab1_embeddings"].cells)
             if c.cell_type == "code")]
    asker = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(setup.source),
        nbformat.v4.new_code_cell("from lab_utils import check_notebook\n"
                                  "tests = check_notebook()\n"
                                  "assert tests and not any(t.error for t in tests)")])
    jobs = [("heads", _heads([notebooks[lab] for lab in HEADS]), None),
            ("selfcheck", asker, {"STANDIN_NOTEBOOK": str(perfect)})]
    with ThreadPoolExecutor(max_workers=2) as pool:
        ran.update(zip([j[0] for j in jobs], pool.map(lambda j: _run(env, *j), jobs),
                       strict=True))
    report = "".join(o.get("text", "") for o in ran["selfcheck"].cells[1].outputs)
    count = len([c for c in released.cells if selfcheck._is_test(c)])
    assert f"{count} of {count} visible tests pass" in report, report
    assert "Other cells that raised an error" not in report, report  # Lab 1 ran whole, clean
    for name, nb in ran.items():
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if o.output_type == "error"]
        assert errors == [], name


# --- no kernel ---------------------------------------------------------------------------


def test_released_labs_carry_the_course_package_url(repo):
    config = PyFileConfigLoader("nbgrader_config.py", path=str(repo)).load_config()
    url = config.SetCoursePackage.url
    assert url.startswith(("https://", "git+https://")), url
    for lab in LABS:
        released = nbformat.read(repo / "labs" / lab / f"{lab}.ipynb", as_version=4)
        assert colab_release.package_urls(released) == [url], lab
        first = next(c for c in released.cells if c.cell_type == "code")
        assert 'if "google.colab" in sys.modules:' in first.source
        assert "%pip install" in first.source and "{COURSE_PACKAGE}" in first.source


#: Imported by a lab but not on Colab: the lab's set-up cell installs it (at the course's pin).
NOT_ON_COLAB = ("fairlearn",)


def test_a_package_colab_lacks_is_installed_by_the_set_up_cell(repo):
    pyproject = (repo / "pyproject.toml").read_text()
    for lab in LABS:
        nb = nbformat.read(repo / "solutions" / lab / f"{lab}.ipynb", as_version=4)
        setup = next(c for c in nb.cells if c.cell_type == "code")
        install = next(line for line in setup.source.splitlines() if "%pip install" in line)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for package in NOT_ON_COLAB:
            if f"from {package}" in code or f"import {package}" in code:
                pin = next(p for p in install.split() if p.startswith(f"{package}=="))
                assert f'"{pin}' in pyproject, (lab, pin)  # the course's pin


def test_no_lab_reads_a_file_relative_to_the_repository(repo):
    for lab in LABS:
        nb = nbformat.read(repo / "solutions" / lab / f"{lab}.ipynb", as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for pattern in ("../", "solutions/", "labs/", "open(", "read_csv(", "np.load("):
            assert pattern not in code, f"{lab} reads a file through {pattern!r}"


def test_colab_data_go_to_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, "unset below")  # restored whatever the code sets
    monkeypatch.delenv(DATA_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    assert colab.use_colab_disk() is None and DATA_DIR_ENV not in os.environ
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    assert colab.use_colab_disk() == tmp_path / "data"
    assert datasets.get_data_home() == tmp_path / "data"
    assert not (tmp_path / "data").exists()  # nothing written until data are needed
    monkeypatch.setenv(DATA_DIR_ENV, "/srv/course-data")  # the course's folder wins
    assert colab.use_colab_disk() == Path("/srv/course-data")


def test_mirror_url_swaps_only_the_address(monkeypatch):
    monkeypatch.setenv(MOVIELENS_URL_ENV, "http://mirror.example/ml-100k.zip")
    mirrored = datasets._mirrored(datasets.MOVIELENS_100K)
    assert mirrored.url == "http://mirror.example/ml-100k.zip"
    assert mirrored.files == datasets.MOVIELENS_100K.files  # every file still verified


def test_self_check_report_lists_every_visible_test():
    def test_cell(grade_id, outputs):
        cell = nbformat.v4.new_code_cell("checks...")
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id,
                                     "points": 2}
        cell.outputs = outputs
        return cell

    warning = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: hm\n")
    error = nbformat.v4.new_output("error", ename="CheckError", evalue="f(1): expected 2",
                                   traceback=[])
    answer = nbformat.v4.new_code_cell("def f(x): ...")
    answer.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="np",
                                             traceback=[])]
    nb = nbformat.v4.new_notebook(cells=[answer, test_cell("test_a", [warning]),
                                         test_cell("test_b", [error])])
    tests, others = selfcheck.results(nb)
    text = selfcheck.report(tests, others, "lab.ipynb", 3.0)
    assert "PASS  test_a" in text and "FAIL  test_b (2 points): CheckError" in text
    assert "1 of 2 visible tests pass (2 of 4 points)" in text
    assert "cell 1 (NameError: np)" in text


def test_self_check_is_skipped_while_grading(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert selfcheck.check_notebook() is None

