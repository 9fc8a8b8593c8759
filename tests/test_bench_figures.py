"""``benchmarks/figures.py``: each lab's headline-figure expression is one Python expression
over names its solution notebook defines (the benchmark evaluates it in the notebook's
kernel after the last cell, so a renamed variable would only show up in ``make bench``)."""

import ast
import builtins
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from figures import FIGURES  # noqa: E402

LABS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())


def _bound_in_notebook(lab: str) -> set[str]:
    nb = nbformat.read(REPO / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    names = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _free_names(expression: str) -> set[str]:
    tree = ast.parse(expression, mode="eval")
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
              and isinstance(n.ctx, ast.Load)}
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
             and isinstance(n.ctx, ast.Store)}  # comprehension targets
    return loaded - local - set(dir(builtins))


def test_every_lab_has_figures():
    assert sorted(FIGURES) == LABS


@pytest.mark.parametrize("lab", LABS)
def test_figures_use_names_the_notebook_defines(lab):
    free = _free_names(FIGURES[lab])
    assert free, "an expression over no notebook name records nothing the lab computed"
    assert free <= _bound_in_notebook(lab), sorted(free - _bound_in_notebook(lab))


def test_free_names_ignore_comprehension_variables():
    assert _free_names("{k: v for k, v in d.items()}") == {"d"}
    assert _free_names("len(x) + y") == {"x", "y"}
