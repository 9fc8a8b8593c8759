"""lab_utils.training (Lab 4's training plumbing): it trains what the lab asks, and only faster."""

import threading

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from lab_utils import training  # noqa: E402


def _models(num_users=6, num_items=9, dim=3):
    user = keras.Input(shape=(), dtype="int32", name="user_id")
    pos = keras.Input(shape=(), dtype="int32", name="pos_item_id")
    neg = keras.Input(shape=(), dtype="int32", name="neg_item_id")
    item = keras.Input(shape=(), dtype="int32", name="item_id")
    users = keras.layers.Embedding(num_users + 1, dim)
    items = keras.layers.Embedding(num_items + 1, dim)
    dot = keras.layers.Dot(axes=1)
    scores = keras.layers.Concatenate()([dot([users(user), items(pos)]),
                                         dot([users(user), items(neg)])])
    return (keras.Model([user, pos, neg], scores),
            keras.Model([user, item], dot([users(user), items(item)])))


def _loss(y_true, y_pred):
    return keras.ops.mean(keras.ops.relu(1.0 - y_pred[:, 0] + y_pred[:, 1]))


def _sample_epoch(pairs, num_items, rng, num_candidates=1, score_fn=None):
    order = rng.permutation(len(pairs))
    candidates = rng.integers(1, num_items + 1, size=(len(pairs), num_candidates))
    users = pairs[order, 0]
    if num_candidates > 1:
        scores = score_fn(np.repeat(users, num_candidates), candidates.ravel())
        best = np.asarray(scores).reshape(len(pairs), -1).argmax(axis=1)
        return users, pairs[order, 1], candidates[np.arange(len(pairs)), best]
    return users, pairs[order, 1], candidates[:, 0]


@pytest.fixture
def determinism():
    """Op determinism on, as setup_notebook leaves it; restored afterwards."""
    from tensorflow.python.framework import config

    was = config.is_op_determinism_enabled()
    config.enable_op_determinism()
    yield
    if not was:
        config.disable_op_determinism()


def test_train_triplets_learns_the_positives_and_reports_every_few_epochs(determinism):
    keras.utils.set_random_seed(0)
    triplet, match = _models()
    pairs = np.array([(u, u) for u in range(1, 7)] * 20)  # user u likes item u
    seen = []

    def validate(match_model):
        scores = match_model.predict({"user_id": np.repeat(np.arange(1, 7), 9),
                                      "item_id": np.tile(np.arange(1, 10), 6)}, verbose=0)
        top = scores.reshape(6, 9).argmax(axis=1) + 1
        seen.append(match_model is match)
        return float(np.mean(top == np.arange(1, 7)))

    curve = training.train_triplets(triplet, match, pairs, 30, sample_epoch=_sample_epoch,
                                    loss=_loss, num_items=9, num_candidates=2,
                                    learning_rate=0.05, cosine=True, validate=validate,
                                    every=10)
    assert sorted(curve) == [10, 20, 30] and all(seen)
    assert curve[30] == 1.0, curve  # every user's best item is their positive
    assert triplet.jit_compile  # XLA allowed although setup_notebook enables determinism
    assert float(keras.ops.convert_to_numpy(triplet.optimizer.learning_rate)) < 0.05 * 0.01
    # the match model predicts several batches per step now, and still the same scores
    assert match.steps_per_execution == training.PREDICT_STEPS_PER_EXECUTION > 1
    _, plain = _models()
    plain.set_weights(match.get_weights())
    pairs = {"user_id": np.repeat(np.arange(7), 10), "item_id": np.tile(np.arange(10), 7)}
    np.testing.assert_array_equal(match.predict(pairs, batch_size=4, verbose=0),
                                  plain.predict(pairs, batch_size=4, verbose=0))


def test_pair_scorer_scores_in_chunks_like_one_call(monkeypatch):
    keras.utils.set_random_seed(1)
    _, match = _models()
    users, items = np.repeat(np.arange(7), 10), np.tile(np.arange(10), 7)
    whole = match.predict({"user_id": users, "item_id": items}, verbose=0).ravel()
    monkeypatch.setattr(training, "SCORE_CHUNK", 16)
    np.testing.assert_allclose(training.pair_scorer(match)(users, items), whole, rtol=1e-5)


def test_fit_side_by_side_returns_results_in_order():
    assert training.fit_side_by_side(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]


def test_fit_side_by_side_starts_every_job_at_once():
    # three runs on two cores: none waits for another to end (no core idles at the tail)
    barrier = threading.Barrier(3, timeout=10)
    assert training.fit_side_by_side(*[lambda k=k: (barrier.wait(), k)[1] for k in range(3)]) \
        == [0, 1, 2]
