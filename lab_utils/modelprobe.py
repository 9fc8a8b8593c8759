"""Probing a student's Keras model by its behaviour, for the test cells of Lab 2.

Lab 2's statements leave the design free (``Sequential`` or functional API, layer names,
initialisers, how the ReLU is applied), so its tests look at what a model *does*: the loss
Keras computes, the penalty it adds, the layers it holds once nested models are flattened.
Building happens with Keras' advice warnings silenced: a test cell that writes to stderr
earns 0 points under nbgrader, and ``Dense(..., input_shape=(2,))`` is a valid design that
Keras warns about.
"""

from __future__ import annotations

import warnings

import numpy as np


def build_quietly(build, *args, **kwargs):
    """Call a model-building function with Python warnings silenced.

    Parameters
    ----------
    build : callable
        The student's function, e.g. ``build_mlp``.
    *args, **kwargs
        Its arguments.

    Returns
    -------
    Whatever ``build`` returns.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build(*args, **kwargs)


def flat_layers(model):
    """Yield the layers of ``model`` in order, the layers of nested models included.

    Parameters
    ----------
    model : keras.Model

    Yields
    ------
    keras.layers.Layer
    """
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from flat_layers(layer)
        else:
            yield layer


def compiled_loss(model, x, y) -> float:
    """The loss a compiled model trains with, on ``(x, y)``, outputs in inference mode.

    Uses ``model.compute_loss``, so it includes the penalties of ``model.losses``: call it
    on a model without regularisers to read the data term alone.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    x, y : array-like
        Inputs and targets (targets in the form the loss expects).

    Returns
    -------
    float
    """
    import keras

    y_pred = model(x, training=False)
    return float(keras.ops.convert_to_numpy(model.compute_loss(x=x, y=y, y_pred=y_pred)))


def kernel_penalty(model, biases: float = 1.0) -> tuple[float, float]:
    """The penalty Keras adds to the loss of ``model``, and the sum of its squared kernels.

    Every trainable weight named ``bias`` is first set to ``biases``, so that a penalty on
    the biases (zero when they are freshly initialised) shows in ``added``.

    Parameters
    ----------
    model : keras.Model
        A built model (its biases are overwritten).
    biases : float
        The value given to every bias.

    Returns
    -------
    (added, squares) : tuple of float
        ``added`` sums ``model.losses``; ``squares`` sums the squares of every trainable
        weight named ``kernel`` (the weight matrix of each ``Dense`` layer).  An L2 penalty
        of strength ``l2`` on every kernel gives ``added == l2 * squares``.
    """
    import keras

    for weight in model.trainable_weights:
        if weight.name == "bias":
            weight.assign(np.full(weight.shape, biases, dtype=weight.dtype))
    added = sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses)
    squares = sum(float(np.sum(np.square(keras.ops.convert_to_numpy(weight))))
                  for weight in model.trainable_weights if weight.name == "kernel")
    return added, squares
