"""pyproject.toml and environment.yml pin the same packages at the same versions (the
student dependencies, the instructor extra and the dev extra)."""

import re
import tomllib

PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)==([^;\s]+)\s*(?:;\s*(.+))?$")


def _pins(lines):
    pins = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            pins[(name.lower(), (marker or "").replace('"', "'").strip())] = version
    return pins


def test_environment_yml_matches_pyproject(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "lab-utils[instructor]" in extras["dev"], "make venv (.[dev]) installs the instructor's"
    declared = [dep for dep in project["dependencies"] + extras["instructor"] + extras["dev"]
                if not dep.startswith("lab-utils[")]
    assert all("==" in dep for dep in declared), "every dependency is pinned exactly"
    from_pyproject = _pins(declared)
    env_lines = [line.strip()[2:] for line in (repo / "environment.yml").read_text().splitlines()
                 if line.strip().startswith("- ") and "==" in line]
    from_env = _pins(env_lines)
    assert from_env == from_pyproject
    assert from_pyproject[("tensorflow-cpu", "sys_platform == 'linux'")].startswith("2.21.")
    assert from_pyproject[("nbgrader", "")] == "0.9.6"
    assert from_pyproject[("nbval", "")].startswith("0.11")
    assert from_pyproject[("jupyterlab", "")].startswith("4.")


def test_python_version_agrees(repo):
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert "python=3.11" in (repo / "environment.yml").read_text()
