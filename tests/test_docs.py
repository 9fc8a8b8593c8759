"""Docs each reader can find: every command that README.md and docs/*.md show exists, and
every relative link resolves (to a file, and to a heading when it names one).

- ``python -m lab_utils <command>``: ``<command> --help`` runs (in this process);
- ``make <target>``: ``make -n <target>`` runs (prints, executes nothing);
- ``[text](path#anchor)``: the file exists and, for a Markdown page, has that heading
  (GitHub's anchor of it).

Commands are read from code only (inline code and fenced blocks), not from prose.
"""

import contextlib
import io
import re
import subprocess
from pathlib import Path

import pytest

from lab_utils.instructor import cli

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_CLI = re.compile(r"python -m lab_utils ([a-z][a-z_-]*)")
_MAKE = re.compile(r"(?:^|[\s;&|(])make((?: +[A-Za-z][\w.-]*(?:=\S*)?)+)")


def _code(text: str) -> list[str]:
    blocks = _FENCE.findall(text)
    return blocks + _INLINE.findall(_FENCE.sub("", text))


def _shown(pattern) -> dict[str, list[str]]:
    """What ``pattern`` captures in the pages' code -> the pages that show it."""
    found: dict[str, list[str]] = {}
    for page in PAGES:
        for code in _code(page.read_text(encoding="utf-8")):
            for match in pattern.finditer(code):
                found.setdefault(match.group(1), []).append(page.name)
    return found


def _make_targets() -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    for words, pages in _shown(_MAKE).items():
        for word in words.split():
            if "=" not in word:  # VARIABLE=value is not a target
                targets.setdefault(word, []).extend(pages)
    return targets


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces -> '-'."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_anchor(h) for h in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.MULTILINE)}


def test_the_pages_show_commands():
    assert {"autograde", "fetch", "report"} <= set(_shown(_CLI))
    assert {"lab", "test", "check", "bench"} <= set(_make_targets())


@pytest.mark.parametrize("command", sorted(_shown(_CLI)))
def test_every_cli_command_shown_exists(command):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), \
            pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0, f"python -m lab_utils {command} --help failed (shown in " \
                                   f"{_shown(_CLI)[command]})"
    assert f"python -m lab_utils {command}" in out.getvalue()


@pytest.mark.parametrize("target", sorted(_make_targets()))
def test_every_make_target_shown_exists(target):
    proc = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, f"make -n {target} (shown in {_make_targets()[target]}): " \
                                 f"{proc.stderr}"


def _links():
    for page in PAGES:
        text = _FENCE.sub("", page.read_text(encoding="utf-8"))
        for target in _LINK.findall(text):
            if not re.match(r"^[a-z]+:", target):  # http:, https:, mailto: ...
                yield pytest.param(page, target, id=f"{page.name}->{target}")


@pytest.mark.parametrize(("page", "target"), list(_links()))
def test_every_relative_link_resolves(page, target):
    path, _, anchor = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    assert resolved.exists(), f"{page.name}: {target} does not exist"
    if anchor and resolved.suffix == ".md":
        assert anchor in _anchors(resolved), f"{page.name}: no heading #{anchor} in {path}"


def test_anchors_follow_github():
    assert _anchor("What `make test` checks (and CI runs)") == "what-make-test-checks-and-ci-runs"
    assert _anchor("Grading on a cluster, serving on a hub") == \
        "grading-on-a-cluster-serving-on-a-hub"
