"""The student/instructor split of the dependencies (pyproject's core list and its
``instructor`` extra): every module a lab can import -- ``lab_utils`` top level -- imports
without any package of the instructor extra, and ``lab_utils.instructor`` needs them."""

import subprocess
import sys
import tomllib

import pytest

#: Import names of the instructor extra's packages that no student dependency pulls in
#: (the others -- traitlets, jupyter-client, psutil, ... -- come with JupyterLab and the
#: kernel anyway; the instructor extra declares them because lab_utils.instructor imports
#: them).
INSTRUCTOR_ONLY = {"nbgrader": "nbgrader", "sqlalchemy": "sqlalchemy", "dask": "dask",
                   "distributed": "distributed", "tqdm": "tqdm", "copydetect": "copydetect"}

_PROBE = """
import importlib, pkgutil, sys
blocked = {blocked!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{{name}} belongs to the instructor extra")
sys.meta_path.insert(0, Block())
import lab_utils
# __main__ is the command line (python -m lab_utils), lab_utils.instructor's
names = [m.name for m in pkgutil.iter_modules(lab_utils.__path__)
         if m.name not in ("instructor", "__main__")]
for name in names:
    importlib.import_module(f"lab_utils.{{name}}")
print(" ".join(sorted(names)))
"""


def test_the_blocked_packages_are_in_the_instructor_extra_only(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    names = {dep.split("==")[0].split(";")[0].lower() for dep in project["dependencies"]}
    extra = {dep.split("==")[0].lower() for dep in project["optional-dependencies"]["instructor"]}
    assert set(INSTRUCTOR_ONLY) <= extra and not set(INSTRUCTOR_ONLY) & names


@pytest.mark.parametrize("package", ["lab_utils", "lab_utils.instructor.grading"])
def test_student_modules_import_without_the_instructor_extra(repo, package):
    blocked = sorted(INSTRUCTOR_ONLY.values())
    code = _PROBE.format(blocked=blocked)
    if package != "lab_utils":  # the control: the probe does block something
        code += f"\nimport {package}\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=repo, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin"})
    if package == "lab_utils":
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert {"checks", "datasets", "setup", "messages"} <= set(proc.stdout.split())
    else:
        assert proc.returncode != 0 and "belongs to the instructor extra" in proc.stderr
