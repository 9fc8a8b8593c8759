"""Plumbing of Lab 3 (explicit ratings), out of the student's way: fast training, stacking.

Lab 3 teaches early stopping on a validation set and averaging models with weights fitted
on that set.  What only makes the training quicker, or only wires the ensemble together,
lives here:

- :func:`fit_quickly` -- Keras's ``fit`` running 64 batches per call of its compiled
  training step (``steps_per_execution``: far less Python between batches on a 2-core
  machine), timed, seeded, and skipped while nbgrader grades the notebook (no test uses the
  trained models, so grading does not wait for training);
- :func:`stack_models` -- the lab's stacked ensemble: a linear regression of the validation
  ratings on the models' validation predictions, optionally *count-aware* (each prediction
  also multiplied by the log number of training ratings of its user and of its item), the
  variant chosen by k-fold cross-validation within the validation set.

Nothing here changes what is computed: the figures are those of the same code written in
the notebook (Lab 3's u1.test RMSE of the ensemble, 0.9046, is unchanged).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from lab_utils.setup import is_grading

STEPS_PER_EXECUTION = 64  # batches per call of Keras's compiled training step


def fit_quickly(model, x, y, *, validation_data, epochs: int, batch_size: int, callbacks=(),
                seed: int = 0, metrics=("rmse",)):
    """``model.fit(x, y, ...)`` as fast as Keras goes on a CPU; nothing while grading (Lab 3).

    Seeds Keras (same run, same figures), runs :data:`STEPS_PER_EXECUTION` batches per call
    of the compiled training step, then sets it back to one batch (for ``predict``) and
    records the seconds per epoch.  While nbgrader executes the notebook
    (:func:`lab_utils.is_grading`) it trains nothing and returns a one-epoch history of NaN,
    so the cells after it still run.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    x, y
        Training inputs and targets, as for ``model.fit``.
    validation_data : tuple
        ``(x_val, y_val)``.
    epochs, batch_size : int
    callbacks : sequence of keras.callbacks.Callback
        E.g. early stopping.
    seed : int
        Seed of Keras's shuffling and dropout.
    metrics : sequence of str
        The compiled metrics' names: the keys of the NaN history returned while grading.

    Returns
    -------
    keras.callbacks.History
        With one more attribute, ``seconds_per_epoch`` (NaN while grading).
    """
    import keras

    if is_grading():
        history = keras.callbacks.History()
        names = ["loss", *metrics]
        history.history = {key: [float("nan")] for key in names + [f"val_{n}" for n in names]}
        history.seconds_per_epoch = float("nan")
        return history
    keras.utils.set_random_seed(seed)
    model.steps_per_execution = STEPS_PER_EXECUTION
    start = time.perf_counter()
    try:
        history = model.fit(x, y, validation_data=validation_data, epochs=epochs,
                            batch_size=batch_size, callbacks=list(callbacks), verbose=0)
    finally:
        model.steps_per_execution = 1
    history.seconds_per_epoch = (time.perf_counter() - start) / len(history.history["loss"])
    return history


@dataclass
class StackedEnsemble:
    """What :func:`stack_models` fitted (Lab 3).

    Attributes
    ----------
    val, test : numpy.ndarray
        The ensemble's predictions on the validation and the test ratings, clipped to the
        rating scale.
    count_aware : bool
        Whether the count-aware variant won the cross-validation.
    cv_score : dict
        ``{"plain": ..., "count-aware": ...}``: each variant's score (e.g. RMSE) on
        out-of-fold predictions within the validation set.
    weights : dict
        Member name -> the regression's weight of its prediction (the count-aware
        variant has more coefficients; these are the plain predictions' ones).
    """

    val: np.ndarray
    test: np.ndarray
    count_aware: bool
    cv_score: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)


def _log_counts(frame, reference) -> np.ndarray:
    """log(1 + number of ratings in ``reference``) of each row's user and item, (n, 2)."""
    return np.column_stack([
        np.log1p(frame[column].map(reference[column].value_counts()).fillna(0).to_numpy(float))
        for column in ("user_id", "item_id")])


def _features(predictions: np.ndarray, counts: np.ndarray, count_aware: bool) -> np.ndarray:
    if not count_aware:
        return predictions
    return np.column_stack([predictions, predictions * counts[:, :1],
                            predictions * counts[:, 1:], counts])


def stack_models(predictions: dict, val, test, train, *, score, folds: int = 5,
                 clip=(1.0, 5.0)) -> StackedEnsemble:
    """Stack rating models with a linear regression fitted on the validation set (Lab 3).

    Two variants are compared by ``folds``-fold cross-validation *within* the validation
    set (contiguous folds, no shuffling: deterministic): the plain one regresses the
    validation ratings on the members' predictions; the count-aware one also gets each
    prediction multiplied by ``log(1 + count)`` of its user and of its item in ``train`` and
    the two log counts themselves, so that it can trust a model more or less depending on
    how much the user and the item were seen in training.  The winner is refitted on the
    whole validation set; the test set is only predicted.

    Parameters
    ----------
    predictions : dict
        Member name -> ``{"val": array, "test": array}``, predictions on ``val`` and ``test``.
    val, test, train : pandas.DataFrame
        Ratings with ``user_id`` and ``item_id`` (``val`` also ``rating``).
    score : callable
        ``score(y_true, y_pred)``, lower is better: the student's own ``rmse``.
    folds : int
    clip : tuple
        The rating scale; predictions are clipped to it.

    Returns
    -------
    StackedEnsemble
    """
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_predict

    names = list(predictions)
    preds = {part: np.column_stack([np.asarray(predictions[name][part], dtype=float).ravel()
                                    for name in names]) for part in ("val", "test")}
    counts = {"val": _log_counts(val, train), "test": _log_counts(test, train)}
    y = val["rating"].to_numpy(dtype=float)
    cv_score = {}
    for label, aware in (("plain", False), ("count-aware", True)):
        out_of_fold = cross_val_predict(LinearRegression(),
                                        _features(preds["val"], counts["val"], aware), y,
                                        cv=folds)
        cv_score[label] = float(score(y, np.clip(out_of_fold, *clip)))
    count_aware = cv_score["count-aware"] < cv_score["plain"]
    stack = LinearRegression().fit(_features(preds["val"], counts["val"], count_aware), y)
    fitted = {part: np.clip(stack.predict(_features(preds[part], counts[part], count_aware)),
                            *clip) for part in ("val", "test")}
    weights = {name: float(w) for name, w in zip(names, stack.coef_[: len(names)], strict=True)}
    return StackedEnsemble(val=fitted["val"], test=fitted["test"], count_aware=count_aware,
                           cv_score=cv_score, weights=weights)
