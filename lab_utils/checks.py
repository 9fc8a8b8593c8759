"""Check functions for the labs' test cells (visible and hidden tests, Labs 1-4).

Every check raises :class:`CheckError` on failure -- it never just prints -- with a
message shaped::

    <what>: expected <x>, got <y>. Hint: <concept>

(:mod:`lab_utils.messages` owns that format and its parser) so that a student learns
*what* is wrong and *which idea* to revisit.  Checks compare
values against a reference, not only shapes.

Inside ``with hidden("..."):`` (hidden tests) the expected values are not revealed and
any exception raised by the student's code is reported as one line: the feedback an
instructor returns then never shows the hidden test's source.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from lab_utils import messages

_REVEAL = contextvars.ContextVar("lab_utils_checks_reveal", default=True)


class CheckError(AssertionError):
    """A failed check.  Rendered by IPython as its message alone (no source lines)."""

    def _render_traceback_(self):
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


def _short(value, limit: int = 120) -> str:
    if isinstance(value, np.ndarray) or _is_tensor(value):
        arr = np.asarray(value)
        if arr.size <= 8:
            text = np.array2string(arr, precision=4, separator=", ").replace("\n", "")
        else:
            text = f"array of shape {arr.shape}, dtype {arr.dtype}"
        return text
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_tensor(value) -> bool:
    return type(value).__module__.startswith(("tensorflow", "keras")) and hasattr(value, "numpy")


def fail(what: str, expected, got, hint: str) -> None:
    """Raise :class:`CheckError` with the standard message.

    ``expected`` and ``got`` are shown as given when they are strings, else abbreviated.
    In a hidden test the expected value is replaced by a neutral phrase.
    """
    exp = expected if isinstance(expected, str) else _short(expected)
    if not _REVEAL.get():
        exp = messages.HIDDEN_REFERENCE
    gotten = got if isinstance(got, str) else _short(got)
    raise CheckError(messages.format_failure(what, exp, gotten, hint))


def check_true(what: str, condition, expected: str, got, hint: str) -> None:
    """Fail unless ``condition`` is true; ``expected``/``got`` describe the situation."""
    if not bool(condition):
        fail(what, expected, got, hint)


def check_type(what: str, value, types, hint: str) -> None:
    """Check ``isinstance(value, types)``."""
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        fail(what, f"a {names}", f"a {type(value).__name__}", hint)


def check_shape(what: str, value, shape, hint: str) -> None:
    """Check the shape of an array-like (``None`` in ``shape`` matches any size)."""
    try:
        actual = tuple(np.shape(value))
    except Exception:  # ragged lists and the like
        fail(what, f"shape {tuple(shape)}", f"a {type(value).__name__} without a shape", hint)
    expected = tuple(shape)
    if len(actual) != len(expected) or any(
        e is not None and a != e for a, e in zip(actual, expected, strict=False)
    ):
        fail(f"{what} (shape)", f"shape {expected}", f"shape {actual}", hint)


def check_close(
    what: str, actual, expected, hint: str, *, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    """Check that ``actual`` equals ``expected`` elementwise within tolerances.

    Shapes must agree exactly (no broadcasting); NaN never matches.
    """
    expected_arr = np.asarray(expected, dtype=float)
    if actual is None:
        fail(what, expected_arr, "None (did the function forget to return?)", hint)
    try:
        actual_arr = np.asarray(actual, dtype=float)
    except (TypeError, ValueError):
        fail(what, expected_arr, f"a {type(actual).__name__} that is not numeric", hint)
    check_shape(what, actual_arr, expected_arr.shape, hint)
    close = np.isclose(actual_arr, expected_arr, rtol=rtol, atol=atol)
    if not np.all(close):
        if actual_arr.ndim == 0:
            fail(what, float(expected_arr), float(actual_arr), hint)
        index = tuple(int(i) for i in np.argwhere(~close)[0])
        fail(
            messages.where_differs(what, index, int((~close).sum()), close.size),
            float(expected_arr[index]),
            float(actual_arr[index]),
            hint,
        )


def check_equal(what: str, actual, expected, hint: str) -> None:
    """Check exact equality (arrays elementwise, with equal shapes)."""
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        check_shape(what, actual, np.shape(expected), hint)
        if not np.array_equal(np.asarray(actual), np.asarray(expected)):
            fail(what, expected, actual, hint)
    elif actual != expected:
        fail(what, expected, actual, hint)


def check_between(what: str, value, low, high, hint: str) -> None:
    """Check ``low <= value <= high`` (either bound may be None)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        fail(what, "a number", value, hint)
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"a value in [{low}, {high}]" if low is not None and high is not None else (
            f"at least {low}" if low is not None else f"at most {high}"
        )
        fail(what, bounds, round(number, 6), hint)


def check_raises(what: str, func, exception, hint: str, *args, **kwargs) -> None:
    """Check that ``func(*args, **kwargs)`` raises ``exception``."""
    try:
        func(*args, **kwargs)
    except exception:
        return
    except Exception as exc:  # a different exception
        fail(what, f"{exception.__name__} to be raised", f"{type(exc).__name__}: {exc}", hint)
    fail(what, f"{exception.__name__} to be raised", "no exception", hint)


def count_params(weights) -> int:
    """Total number of scalars in a list of Keras variables."""
    return int(sum(int(np.prod(w.shape)) for w in weights))


_LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                 "bce": "binary_crossentropy"}


def loss_name(model) -> str:
    """The canonical name of a compiled model's loss, however it was given (Labs 3 and 4).

    ``"mse"``, ``"mean_squared_error"``, ``keras.losses.mean_squared_error`` and
    ``keras.losses.MeanSquaredError()`` all give ``"mean_squared_error"``.
    """
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        name = loss
    else:
        name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or str(loss)
    return _LOSS_ALIASES.get(name, name)


def check_loss(what: str, model, expected: str, hint: str) -> None:
    """Check the loss a model was compiled with, by canonical name (see :func:`loss_name`)."""
    expected = _LOSS_ALIASES.get(expected, expected)
    actual = loss_name(model)
    if actual != expected:
        fail(what, expected, actual, hint)


def check_model(
    what: str,
    model,
    hint: str,
    *,
    output_shape=None,
    layer_types=None,
    trainable_params=None,
    non_trainable_params=None,
) -> None:
    """Check a built Keras model's structure.

    Parameters
    ----------
    model : keras.Model
    output_shape : tuple, optional
        Expected ``model.output_shape`` (``None`` for the batch dimension).
    layer_types : list of str, optional
        Class names that must appear, in this order, among the model's layers
        (other layers may sit in between).
    trainable_params, non_trainable_params : int, optional
        Expected parameter counts.
    """
    import keras

    check_type(what, model, keras.Model, "build it with keras.Model(inputs, outputs) or "
               "keras.Sequential([...])")
    if output_shape is not None:
        actual = model.output_shape
        if isinstance(actual, list) and len(actual) == 1:
            actual = actual[0]
        if tuple(actual) != tuple(output_shape):
            fail(f"{what} output shape", tuple(output_shape), tuple(actual), hint)
    if layer_types is not None:
        names = [type(layer).__name__ for layer in model.layers]
        position = 0
        for wanted in layer_types:
            try:
                position = names.index(wanted, position) + 1
            except ValueError:
                fail(f"{what} layers", f"{' -> '.join(layer_types)} (in this order)",
                     " -> ".join(names), hint)
    if trainable_params is not None:
        actual = count_params(model.trainable_weights)
        if actual != trainable_params:
            fail(f"{what} trainable parameters", trainable_params, actual, hint)
    if non_trainable_params is not None:
        actual = count_params(model.non_trainable_weights)
        if actual != non_trainable_params:
            fail(f"{what} non-trainable parameters", non_trainable_params, actual, hint)


def outputs(model, inputs) -> np.ndarray:
    """A model's outputs for a small batch, as a NumPy array (test cells of Labs 3 and 4).

    Calls the model directly in inference mode (``model(inputs, training=False)``): the
    numbers ``model.predict`` gives, without the function that ``predict`` traces for every
    new model (about 75 ms each here, and TensorFlow warns on stderr about retracing once a
    cell has built a few models -- which nbgrader scores as a failed cell).

    Parameters
    ----------
    model : keras.Model
    inputs : array or dict of arrays
        What ``model.predict`` would take, e.g. ``{"user_id": ..., "item_id": ...}``.
    """
    import keras

    result = model(inputs, training=False)
    if isinstance(result, (list, tuple)):
        return [np.asarray(keras.ops.convert_to_numpy(r)) for r in result]
    return np.asarray(keras.ops.convert_to_numpy(result))


@contextlib.contextmanager
def hidden(what: str, hint: str = "re-read the exercise statement and test edge cases"):
    """Run hidden tests: expected values are not revealed and no source is shown.

    Any exception from the student's code becomes a one-line :class:`CheckError`.
    """
    token = _REVEAL.set(False)
    try:
        yield
    except CheckError as exc:
        raise CheckError(messages.as_hidden(str(exc))) from None
    except Exception as exc:
        raise CheckError(messages.format_failure(
            what, "to run on other inputs", f"{type(exc).__name__}: {_short(str(exc), 200)}",
            hint, hidden=True)) from None
    finally:
        _REVEAL.reset(token)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(exc: BaseException) -> str:
    """`` (in <function>: `<line>`)`` for the innermost frame of ``exc``, if known."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    frame = frames[-1]
    line = _clip(frame.line or "", 80)
    return f" (in {frame.name}: `{line}`)" if line else f" (in {frame.name})"


@contextlib.contextmanager
def visible(what: str, hint: str):
    """Run visible tests: an exception from the student's code becomes a one-line message.

    A failed check passes through unchanged.  Any other exception -- an unfinished
    exercise (``NotImplementedError``), a name an earlier cell never defined
    (``NameError``), a list where an array was expected (``TypeError``) -- becomes a
    :class:`CheckError` shaped like every other failure, ``<what>: expected ..., got
    .... Hint: ...``, that says what is missing and where the student's code raised.
    """
    try:
        yield
    except CheckError:
        raise
    except NotImplementedError:
        raise CheckError(messages.format_failure(
            what, "your code", messages.NOT_DONE, "write your code where it says YOUR CODE "
            "HERE and delete the `raise NotImplementedError()` line")) from None
    except NameError as exc:
        raise CheckError(messages.format_failure(
            what, "the name to be defined", f"NameError: {exc}", "run (and fix) the cell "
            "that defines it before this test: Kernel -> Restart and run all")) from None
    except Exception as exc:
        raise CheckError(messages.format_failure(
            what, "to run on the test's inputs",
            f"{type(exc).__name__}: {_clip(str(exc), 160)}{_where(exc)}", hint)) from None


def partial_credit(points: float, parts: dict) -> float:
    """Run named checks and return the share of ``points`` earned, as a plain float.

    nbgrader reads partial credit from a test cell's last value and ignores a NumPy
    scalar, so the value is a built-in ``float``.  Failed parts are reported on stdout.

    Parameters
    ----------
    points : float
        The test cell's points.
    parts : dict
        Name -> callable that raises on failure.
    """
    passed = 0
    for name, run in parts.items():
        try:
            run()
        except Exception as exc:
            print(messages.format_part(name, str(exc)))
        else:
            passed += 1
    return float(points) * passed / len(parts)


def call(what: str, func, *args, hint: str, **kwargs):
    """Call a student's function in a test cell; an exception becomes a check message.

    Used by the test cells of Labs 3 and 4: :func:`visible` around one call, after checking that
    ``func`` is a function, so that an unfinished exercise (``NotImplementedError``) or a
    crash inside the student's code is reported as ``<what>: expected ..., got <the
    error>. Hint: ...`` rather than as a traceback.

    Parameters
    ----------
    what : str
        The call as the student would read it, e.g. ``"margin_loss(pos, neg)"``.
    func : callable
        The student's function.
    *args, **kwargs
        Its arguments.
    hint : str
        The idea to revisit.

    Returns
    -------
    What ``func`` returned.
    """
    if not callable(func):
        fail(what, "a function", f"a {type(func).__name__}", hint)
    with visible(what, hint):
        return func(*args, **kwargs)
