"""Training plumbing of Lab 4 (triplet models on implicit feedback), out of the student's way.

Lab 4 trains triplet models with the students' own ``sample_epoch``, loss and evaluation, a new
sample of negatives at every epoch.  What only makes that fast and light lives here:

- :func:`train_triplets` compiles the model so that Keras runs 128 batches per call of its
  training step (``steps_per_execution``) as one XLA-compiled program (``jit_compile``): about
  three times, then another third, faster than one plain step per batch on two CPU cores; feeds
  each epoch's triplets with ``tf.data``; scores hard-negative candidates by direct calls of the
  match model, 65,536 pairs at a time (bounded memory, no ``predict`` loop); compiles the match
  model so that the lab's ``score_all`` (a ``predict`` of every user-item pair, at every
  validation) runs 16 batches per call: measured 0.3-0.4 s instead of 0.7 s per call;
- :func:`fit_side_by_side` trains independent runs at once, one thread each (TensorFlow
  releases Python's lock while it computes, so the models share the cores), with the threads
  sharing two ``malloc`` heaps and the freed memory handed back to the system before and after
  (:mod:`lab_utils.memory`).

Nothing here changes what is computed: Lab 4's figures are identical to those of the same loop
written in the notebook before it moved here (ensemble AUC 0.9357, NDCG@10 0.4268 on
``u1.test``).  That notebook ran in 77 s alone on an idle 2-core machine, peak memory below
1.5 GiB; on a loaded machine the moved version used the same CPU time (127 s against 132 s of
kernel CPU, one run each) and a peak of 1.39 GiB.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lab_utils.memory import limit_malloc_arenas, release_memory

STEPS_PER_EXECUTION = 128  # batches per call of Keras's compiled training step
SCORE_CHUNK = 65_536  # candidate pairs scored per direct call of the match model
PREDICT_STEPS_PER_EXECUTION = 16  # batches per call of the match model's predict step


def _allow_xla() -> None:
    """Let Keras compile with XLA: it refuses while TensorFlow's op determinism is on.

    :func:`lab_utils.setup_notebook` turns op determinism on (same grade on every run); XLA's
    compiled CPU programs are deterministic by themselves (two full runs of Lab 4 give the same
    figures), so the switch goes off for the training of Lab 4.
    """
    from tensorflow.python.framework import config

    if config.is_op_determinism_enabled():
        config.disable_op_determinism()


def compile_triplet_model(triplet_model, loss, learning_rate: float = 0.001) -> None:
    """Compile a Lab 4 triplet model with Adam, ``loss`` and the fast training step.

    Parameters
    ----------
    triplet_model : keras.Model
        Outputs ``[s(u, i+), s(u, i-)]`` per row.
    loss : callable
        ``loss(y_true, y_pred)``, e.g. the lab's ``triplet_loss`` (``y_true`` is ignored).
    learning_rate : float
        Adam's (initial) learning rate.
    """
    import keras

    _allow_xla()
    triplet_model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                          steps_per_execution=STEPS_PER_EXECUTION, jit_compile=True)


def pair_scorer(match_model):
    """``score_fn(user_ids, item_ids)`` for ``sample_epoch``: the match model's scores (Lab 4).

    Calls the model directly on 65,536 pairs at a time (no ``predict`` loop, bounded memory).
    """
    import keras

    def score_fn(user_ids, item_ids):
        user_ids = np.asarray(user_ids).astype("int32")
        item_ids = np.asarray(item_ids).astype("int32")
        return np.concatenate([keras.ops.convert_to_numpy(match_model(
            {"user_id": user_ids[k:k + SCORE_CHUNK], "item_id": item_ids[k:k + SCORE_CHUNK]}))
            .ravel() for k in range(0, len(user_ids), SCORE_CHUNK)])

    return score_fn


def train_triplets(triplet_model, match_model, pairs, epochs: int, *, sample_epoch, loss,
                   num_items: int, num_candidates: int = 1, learning_rate: float = 0.001,
                   cosine: bool = False, batch_size: int = 256, seed: int = 0,
                   validate=None, every: int = 10) -> dict:
    """Train a Lab 4 triplet model on freshly sampled triplets, one epoch at a time.

    Each epoch draws its triplets with the student's ``sample_epoch(pairs, num_items, rng,
    num_candidates, score_fn)`` (``score_fn`` scores candidates with the model being trained),
    then runs one epoch of ``fit`` on them in that order, ``batch_size`` triplets per step.

    Parameters
    ----------
    triplet_model, match_model : keras.Model
        Built by the lab's ``build_triplet_model`` (or ``build_deep_triplet_model``); the
        triplet model is (re)compiled here with Adam and ``loss``.
    pairs : array of shape (n, 2)
        The positive ``(user_id, item_id)`` pairs to train on.
    epochs : int
    sample_epoch : callable
        The lab's exercise 2.
    loss : callable
        The lab's ``triplet_loss``.
    num_items : int
        Item ids are ``1 .. num_items``.
    num_candidates : int
        1: uniform negatives; more: the best-scored of that many (hard negatives).
    learning_rate : float
        Adam's learning rate (the initial one with ``cosine``).
    cosine : bool
        Let the learning rate fall from ``learning_rate`` towards 0 along a half cosine over
        the ``epochs``.
    batch_size : int
    seed : int
        Seed of the generator that draws every epoch's triplets.
    validate : callable or None
        ``validate(match_model)`` -> anything (e.g. validation metrics), called every ``every``
        epochs and after the last one.
    every : int

    Returns
    -------
    dict
        ``{epoch: validate(match_model)}`` (empty without ``validate``).
    """
    import tensorflow as tf

    compile_triplet_model(triplet_model, loss, learning_rate)
    # the lab's score_all calls match_model.predict: batches run PREDICT_STEPS_PER_EXECUTION at
    # a time in Keras's compiled step (same scores, bit for bit; it never trains)
    match_model.compile(steps_per_execution=PREDICT_STEPS_PER_EXECUTION)
    # the schedule starts from the optimizer's float32 rate, as Keras holds it
    initial_rate = float(np.asarray(triplet_model.optimizer.learning_rate))
    epoch_rng = np.random.default_rng(seed)
    score_fn = pair_scorer(match_model)
    curve = {}
    for epoch in range(1, epochs + 1):
        if cosine:
            triplet_model.optimizer.learning_rate = (
                initial_rate * 0.5 * (1 + np.cos(np.pi * (epoch - 1) / epochs)))
        user_ids, pos_item_ids, neg_item_ids = sample_epoch(pairs, num_items, epoch_rng,
                                                            num_candidates, score_fn)
        triplets = {"user_id": user_ids, "pos_item_id": pos_item_ids,
                    "neg_item_id": neg_item_ids}
        batches = tf.data.Dataset.from_tensor_slices(
            ({name: np.asarray(ids).astype("int32") for name, ids in triplets.items()},
             np.zeros(len(user_ids), dtype="float32"))).batch(batch_size)
        triplet_model.fit(batches, epochs=1, shuffle=False, verbose=0)
        if validate is not None and (epoch % every == 0 or epoch == epochs):
            curve[epoch] = validate(match_model)
    return curve


def fit_side_by_side(*jobs) -> list:
    """Run independent jobs (functions of no argument) at once, one thread each; their results
    in order.

    Used by Lab 4 to train independent runs at once: TensorFlow releases Python's lock while it
    computes, so the runs share the cores.  All the jobs start together rather than two at a
    time: with three runs on two cores, two at a time leaves the third alone on one core at the
    end (measured on Lab 4's section 8b, three runs at once took 28.7 and 29.5 s against 31.6
    and 34.9 s two at a time, same figures, same peak memory; later runs at once took 30.9-32.1
    s, so the gain is about the size of a 2-core VM's run-to-run noise).  The threads share two
    ``malloc`` heaps, and the memory freed before and by them goes back to the system
    (:mod:`lab_utils.memory`): measured on Lab 4, a peak of 1.38-1.42 GiB instead of
    1.43-1.46 GiB at the same speed.

    Parameters
    ----------
    *jobs : callable
        E.g. ``functools.partial(train_triplets, triplet_model, match_model, ...)``.

    Returns
    -------
    list
        ``[job() for job in jobs]``, computed at once.
    """
    limit_malloc_arenas(2)
    release_memory()
    with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
        results = [future.result() for future in [pool.submit(job) for job in jobs]]
    release_memory()
    return results
