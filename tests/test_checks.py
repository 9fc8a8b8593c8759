"""lab_utils.checks: failures raise with '<what>: expected <x>, got <y>. Hint: <concept>'."""

import re

import numpy as np
import pytest

from lab_utils import checks

SHAPE = re.compile(r"^.+: expected .+, got .+\. Hint: .+$", re.S)


def _message(func, *args, **kwargs):
    with pytest.raises(checks.CheckError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert SHAPE.match(message), message
    return message


def test_close_passes_and_fails_on_values():
    checks.check_close("x", [1.0, 2.0], [1.0, 2.0 + 1e-9], "h")
    message = _message(checks.check_close, "x", [1.0, 2.5], [1.0, 2.0], "tolerance")
    assert "expected 2.0, got 2.5" in message and "index (1,)" in message
    assert "(shape)" in _message(checks.check_close, "x", [1.0, 2.0, 3.0], [1.0, 2.0], "h")
    assert "None" in _message(checks.check_close, "x", None, 1.0, "h")


def test_equal_between_raises_type():
    checks.check_equal("n", 3, 3, "h")
    assert "expected 4, got 3" in _message(checks.check_equal, "n", 3, 4, "h")
    checks.check_between("acc", 0.95, 0.9, 1.0, "h")
    assert "[0.9, 1.0]" in _message(checks.check_between, "acc", 0.5, 0.9, 1.0, "h")
    assert "at least 0.9" in _message(checks.check_between, "acc", 0.5, 0.9, None, "h")
    checks.check_raises("f", lambda: 1 / 0, ZeroDivisionError, "h")
    assert "no exception" in _message(checks.check_raises, "f", lambda: 1, ValueError, "h")
    assert "a ndarray, got a list" in _message(checks.check_type, "v", [1], np.ndarray, "h")


def test_hidden_hides_expected_and_sources():
    with pytest.raises(checks.CheckError) as info:
        with checks.hidden("thing"):
            checks.check_close("secret", 1.0, 42.0, "concept")
    message = str(info.value)
    assert "42" not in message and "hidden reference" in message and "Hint: concept" in message
    with pytest.raises(checks.CheckError) as info:
        with checks.hidden("thing", "think about edge cases"):
            raise KeyError("boom")
    assert "KeyError" in str(info.value) and "edge cases" in str(info.value)
    rendered = info.value._render_traceback_()
    assert len(rendered) == 1 and "hidden(" not in rendered[0]
    # outside the block, values are revealed again
    assert "42" in _message(checks.check_close, "x", 1.0, 42.0, "h")


def test_partial_credit_is_a_plain_float(capsys):
    def bad():
        checks.check_equal("b", 1, 2, "h")

    score = checks.partial_credit(3, {"good": lambda: None, "bad": bad})
    assert type(score) is float and score == 1.5
    assert "[bad] b: expected 2, got 1" in capsys.readouterr().out


def test_check_model_structure():
    from lab_utils import setup_notebook

    setup_notebook(seed=0)
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(1)(keras.layers.BatchNormalization()(inputs))
    model = keras.Model(inputs, outputs)
    checks.check_model("m", model, "h", output_shape=(None, 1),
                       layer_types=["BatchNormalization", "Dense"],
                       trainable_params=(4 + 4) + (4 + 1),
                       non_trainable_params=8)
    assert "trainable parameters: expected 3" in _message(
        checks.check_model, "m", model, "h", trainable_params=3)
    assert "(in this order)" in _message(
        checks.check_model, "m", model, "h", layer_types=["Dense", "BatchNormalization"])
    assert "output shape" in _message(checks.check_model, "m", model, "h", output_shape=(None, 2))


def test_loss_name_accepts_every_spelling():
    from lab_utils import setup_notebook

    setup_notebook(seed=0)
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    for loss in ["mse", "mean_squared_error", keras.losses.mean_squared_error,
                 keras.losses.MeanSquaredError()]:
        model.compile(loss=loss)
        assert checks.loss_name(model) == "mean_squared_error", loss
        checks.check_loss("loss", model, "mse", "h")
    model.compile(loss="sparse_categorical_crossentropy")
    message = _message(checks.check_loss, "loss", model, "mse", "a rating is a number")
    assert "expected mean_squared_error, got sparse_categorical_crossentropy" in message


def test_call_turns_a_crash_into_a_check_message():
    def unfinished():
        raise NotImplementedError()

    with pytest.raises(checks.CheckError, match=r"^f\(\): expected your code, got "
                       r"NotImplementedError .*\. Hint: write your code"):
        checks.call("f()", unfinished, hint="h")
    with pytest.raises(checks.CheckError, match=r"got ZeroDivisionError: division by zero "
                       r"\(in <lambda>: .*\)\. Hint: h$"):
        checks.call("f(0)", lambda x: 1 / x, 0, hint="h")
    with pytest.raises(checks.CheckError, match="expected a function, got a int"):
        checks.call("f", 3, hint="h")
    assert checks.call("f(2, y=3)", lambda x, y: x * y, 2, y=3, hint="h") == 6
