"""Similar answers flagged (``python -m lab_utils similarity``) on a simulated class.

The class answers a small lab shaped like Lab 1 (its cells carry nbgrader metadata as
``generate_assignment`` writes them), built here so that the answers are known:

- A, B, C answer every exercise independently, each correctly and in their own way;
- D copies A with the variables renamed; E copies A with independent lines reordered,
  comments, blank lines and spacing changed; F copies E with other names (a copy of a copy);
- every student writes the one-line ``distance`` alike (the short exercise).

Planted pairs are the pairs within {A, D, E, F}; every pair with B or C is independent.
No notebook is executed; the browser test renders the page in headless Chromium and
saves ``test-artifacts/similarity-<lab>.png``.
"""

import re
from pathlib import Path

import nbformat
import pytest

from lab_utils.instructor import similarity

LAB = "lab9_similar"
SIGNATURES = {
    "one_hot": ("def one_hot_encode(symbols, vocabulary):",
                '    """One-hot encode symbols over vocabulary -> float32 array."""'),
    "neighbours": ("def nearest_neighbours(embeddings, index, k=5):",
                   '    """Indices of the k rows closest to row index (itself excluded)."""'),
    "pca": ("def pca_project(X, n_components=2):",
            '    """Coordinates of the rows of X on its first principal directions."""'),
    "distance": ("def euclidean_distance(x, y):", '    """Euclidean distance, a float."""'),
}
REFERENCE = {
    "one_hot": """\
    index = {symbol: k for k, symbol in enumerate(vocabulary)}
    encoded = np.zeros((len(symbols), len(vocabulary)), dtype="float32")
    for row, symbol in enumerate(symbols):
        if symbol not in index:
            raise ValueError(f"{symbol!r} is not in the vocabulary")
        encoded[row, index[symbol]] = 1.0
    return encoded""",
    "neighbours": """\
    E = np.asarray(embeddings, dtype="float64")
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    similarity = E @ E[index]
    similarity[index] = -np.inf
    return np.argsort(-similarity, kind="stable")[:k]""",
    "pca": """\
    X = np.asarray(X, dtype="float64")
    centred = X - X.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    return centred @ directions[:n_components].T""",
    "distance": "    return float(np.sqrt(np.sum((x - y) ** 2)))",
}
INDEPENDENT = {
    "A": {
        "one_hot": """\
    lookup = {}
    for position, word in enumerate(vocabulary):
        lookup[word] = position
    result = np.zeros((len(symbols), len(vocabulary)), dtype=np.float32)
    for i, word in enumerate(symbols):
        if word not in lookup:
            raise ValueError("unknown symbol " + repr(word))
        result[i, lookup[word]] = 1
    return result""",
        "neighbours": """\
    vectors = np.array(embeddings, dtype=float)
    lengths = np.sqrt((vectors ** 2).sum(axis=1))
    unit = vectors / lengths[:, None]
    scores = unit.dot(unit[index])
    scores[index] = -np.inf
    order = np.argsort(scores)[::-1]
    return order[:k]""",
        "pca": """\
    data = np.array(X, dtype=float)
    mean = data.mean(axis=0)
    data = data - mean
    cov = data.T @ data / (len(data) - 1)
    values, vectors = np.linalg.eigh(cov)
    top = vectors[:, np.argsort(values)[::-1][:n_components]]
    return data @ top""",
    },
    "B": {
        "one_hot": """\
    vocab = list(vocabulary)
    missing = [s for s in symbols if s not in vocab]
    if missing:
        raise ValueError(f"not in vocabulary: {missing}")
    ids = np.array([vocab.index(s) for s in symbols], dtype=int)
    return np.eye(len(vocab), dtype="float32")[ids]""",
        "neighbours": """\
    E = np.asarray(embeddings, dtype="float64")
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    sims = E @ E[index]
    ranked = [j for j in np.argsort(-sims, kind="stable") if j != index]
    return np.array(ranked[:k])""",
        "pca": """\
    X = np.asarray(X, dtype="float64")
    centred = X - X.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    return centred @ directions[:n_components].T""",
    },
    "C": {
        "one_hot": """\
    out = []
    for s in symbols:
        if s not in vocabulary:
            raise ValueError(s)
        row = [0.0] * len(vocabulary)
        row[list(vocabulary).index(s)] = 1.0
        out.append(row)
    return np.asarray(out, dtype="float32").reshape(len(symbols), len(vocabulary))""",
        "neighbours": """\
    target = embeddings[index] / np.linalg.norm(embeddings[index])
    result = []
    for j, row in enumerate(embeddings):
        if j == index:
            continue
        result.append((float(row @ target / np.linalg.norm(row)), j))
    result.sort(key=lambda pair: -pair[0])
    return np.array([j for _, j in result[:k]])""",
        "pca": """\
    Xc = X - np.mean(X, axis=0, keepdims=True)
    u, s, vt = np.linalg.svd(Xc)
    return u[:, :n_components] * s[:n_components]""",
    },
}
RENAME_D = {"lookup": "table", "position": "pos", "word": "token", "result": "matrix",
            "i": "r", "vectors": "emb", "lengths": "norms", "unit": "normed",
            "scores": "sim", "order": "best", "data": "Z", "mean": "mu", "cov": "C",
            "values": "eigvals", "top": "W"}
RENAME_F = {"table": "d", "lookup": "d", "word": "w", "result": "onehot", "i": "n",
            "vectors": "V", "unit": "u", "scores": "cos", "data": "M", "cov": "S",
            "values": "lam", "top": "proj"}
# E: independent lines swapped (one_hot: the matrix is allocated before the lookup table)
SWAPS = {"one_hot": ("    lookup = {}\n    for position, word in enumerate(vocabulary):\n"
                     "        lookup[word] = position\n",
                     "    result = np.zeros((len(symbols), len(vocabulary)), "
                     "dtype=np.float32)\n")}
PLANTED = {"A", "D", "E", "F"}


def rename(code: str, names: dict) -> str:
    return re.sub(r"\b[A-Za-z_]\w*\b", lambda m: names.get(m.group(0), m.group(0)), code)


def reworded(code: str, exercise: str) -> str:
    """Independent lines reordered, comments and blank lines added, spacing changed."""
    if exercise in SWAPS:
        first, second = SWAPS[exercise]
        code = code.replace(first + second, second + first)
    lines = ["    # my own solution, worked out in the lab session"]
    for line in code.splitlines():
        lines.append(line.replace(" = ", "=").replace(", ", ",") + "  # step")
        lines.append("")
    return "\n".join(lines)


def class_answers() -> dict:
    answers = {s: dict(per) for s, per in INDEPENDENT.items()}
    answers["D"] = {ex: rename(code, RENAME_D) for ex, code in answers["A"].items()}
    answers["E"] = {ex: reworded(code, ex) for ex, code in answers["A"].items()}
    answers["F"] = {ex: rename(code, RENAME_F) for ex, code in answers["E"].items()}
    for per in answers.values():
        per["distance"] = "    return float(np.sqrt(((x - y) ** 2).sum()))"
    return answers


def _cell(exercise: str, body: str):
    signature, doc = SIGNATURES[exercise]
    cell = nbformat.v4.new_code_cell(f"{signature}\n{doc}\n{body}")
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": exercise, "locked": False,
                                 "schema_version": 3, "solution": True, "task": False}
    return cell


def write_course(root: Path, repo: Path) -> dict:
    """A course folder (the course's nbgrader_config.py) with the lab's source, its released
    version and the class."""
    (root / "nbgrader_config.py").write_bytes((repo / "nbgrader_config.py").read_bytes())
    template = "    # YOUR CODE HERE\n    raise NotImplementedError()"
    notebooks = {
        f"solutions/{LAB}": [_cell(ex, f"    ### BEGIN SOLUTION\n{REFERENCE[ex]}\n"
                                       f"    ### END SOLUTION") for ex in SIGNATURES],
        f"labs/{LAB}": [_cell(ex, template) for ex in SIGNATURES],
    }
    answers = class_answers()
    for student, per in answers.items():
        notebooks[f"submitted/{student}/{LAB}"] = [_cell(ex, per[ex]) for ex in SIGNATURES]
    for folder, cells in notebooks.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# A lab"), *cells]
        (root / folder).mkdir(parents=True)
        nbformat.write(nb, root / folder / f"{LAB}.ipynb")
    return answers


@pytest.fixture(scope="module")
def course(tmp_path_factory, repo) -> Path:
    root = tmp_path_factory.mktemp("similar")
    write_course(root, repo)
    return root


def test_planted_copies_rank_above_independent_answers(course):
    exercises = similarity.all_pairs(course, LAB)
    ranked = [ex for ex in exercises.values() if ex.ranked]
    assert {ex.grade_id for ex in ranked} == {"one_hot", "neighbours", "pca"}
    for ex in ranked:
        planted = [p.score for p in ex.pairs if {p.first, p.second} <= PLANTED]
        independent = [p.score for p in ex.pairs if not {p.first, p.second} <= PLANTED]
        assert len(planted) == 6 and len(independent) == 9, ex.grade_id
        assert min(planted) > max(independent), (ex.grade_id, sorted(planted),
                                                 sorted(independent))


def test_short_universal_answer_is_not_ranked(course):
    distance = similarity.all_pairs(course, LAB)["distance"]
    assert not distance.ranked and "short" in distance.reason and not distance.pairs


def test_template_lines_are_removed():
    template = SIGNATURES["pca"][0] + "\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    answer = SIGNATURES["pca"][0] + "\n    return X[:, :n_components]\n"
    assert similarity.strip_template(answer, template) == "    return X[:, :n_components]"


def test_page_flags_and_never_accuses(course, tmp_path):
    page = similarity.write_page(course, LAB, tmp_path / "similarity.html", top=3)
    text = page.read_text(encoding="utf-8")
    assert similarity.EXPLANATION in text
    assert not re.search(r"plagiar|cheat|guilty|dishonest", text, re.IGNORECASE)
    assert text.count("<div class='pair'>") == 3 * 3  # top 3 of the three ranked exercises
    assert "Not ranked" in text and "<mark>" in text


@pytest.mark.browser
def test_page_renders_in_chromium(course, repo):
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser-deps`")
    page_path = similarity.write_page(course, LAB)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(page_path.as_uri(), wait_until="load")
            artifacts = repo / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / f"similarity-{LAB}.png"), full_page=True)
            title = page.inner_text("h1")
            columns = page.eval_on_selector_all(
                "#ex-one_hot .pair:first-of-type pre",
                "els => els.map(e => e.getBoundingClientRect().left)")
            first_row = page.inner_text("#ex-one_hot table.pairs tbody tr:first-child")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        finally:
            browser.close()
    assert title == f"Similar answers · {LAB}"
    assert len(columns) == 2 and columns[0] < columns[1]  # side by side
    assert set(re.findall(r"\b[A-F]\b", first_row)) <= PLANTED
    assert overflow <= 0
