"""Metrics against scikit-learn, the toy data's determinism, the feedback scrubber."""

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error

from lab_utils import metrics, toydata
from lab_utils.config import BENCH_FILE_ENV
from lab_utils.instructor import evaluation, nbgrader_ext


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y, p = rng.uniform(1, 5, 500), rng.uniform(1, 5, 500)
    assert np.isclose(evaluation.rmse(y, p), np.sqrt(mean_squared_error(y, p)))
    assert np.isclose(evaluation.mae(y, p), mean_absolute_error(y, p))
    assert type(evaluation.rmse(y, p)) is float


def test_neighbour_category_accuracy():
    categories = np.array([0, 0, 1, 1])
    clustered = np.array([[1, 0.1], [1, 0.2], [-1, 0.1], [-1, 0.3]])
    assert evaluation.neighbour_category_accuracy(clustered, categories) == 1.0
    crossed = np.array([[1, 0], [0, 1], [1, 0.01], [0.01, 1]])
    assert evaluation.neighbour_category_accuracy(crossed, categories) == 0.0


def test_toydata_is_deterministic_and_categorised():
    a = toydata.make_cooccurrence_data(num_sentences=200, seed=3)
    b = toydata.make_cooccurrence_data(num_sentences=200, seed=3)
    c = toydata.make_cooccurrence_data(num_sentences=200, seed=4)
    assert np.array_equal(a.left, b.left) and not np.array_equal(a.left, c.left)
    same = a.categories[a.left] == a.categories[a.right]
    assert same[a.label == 1].mean() > 0.7 > 0.3 > same[a.label == 0].mean()
    assert len(a.vocabulary) == 64 and a.label.mean() == 0.5


def test_scrub_traceback_drops_hidden_lines_only():
    hidden = {"### BEGIN HIDDEN TESTS", "secret = compute(42)"}
    entry = ("\x1b[0;32m      3\x1b[0m visible_call()\n"
             "\x1b[0;32m      4\x1b[0m ### BEGIN HIDDEN TESTS\n"
             "\x1b[0;32m----> 5\x1b[0m secret = compute(42)\n"
             "NameError: name 'compute' is not defined")
    scrubbed = nbgrader_ext.scrub_traceback(entry, hidden)
    assert "secret" not in scrubbed and "HIDDEN" not in scrubbed
    assert "visible_call()" in scrubbed and "NameError" in scrubbed


def test_record_metrics_writes_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(BENCH_FILE_ENV, raising=False)
    assert metrics.record_metrics("lab", {"m": {"x": np.float64(0.5)}}) == {"m": {"x": 0.5}}
    target = tmp_path / "bench.jsonl"
    monkeypatch.setenv(BENCH_FILE_ENV, str(target))
    metrics.record_metrics("lab", {"m": {"x": 1}})
    assert target.read_text().strip() == '{"lab": "lab", "metrics": {"m": {"x": 1.0}}}'
