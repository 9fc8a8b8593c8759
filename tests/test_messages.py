"""One contract per message: :mod:`lab_utils.messages` formats what the checks raise and
parses it back for the class report (round trip, on generated texts)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab_utils import checks, messages

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
what_ = _text.filter(lambda s: ": expected " not in s)
expected_ = _text.filter(lambda s: ", got " not in s)
got_ = _text.filter(lambda s: ". Hint: " not in s)


@given(what_, expected_, got_, _text, st.booleans())
def test_format_then_parse_is_the_identity(what, expected, got, hint, hidden):
    message = messages.format_failure(what, expected, got, hint, hidden)
    failure = messages.parse(message)
    assert failure == messages.Failure(what, expected, got, hint, hidden)
    assert str(failure) == message


@given(what_, expected_, got_, _text)
def test_a_hidden_check_keeps_its_fields(what, expected, got, hint):
    failure = messages.parse(messages.as_hidden(messages.format_failure(what, expected, got,
                                                                        hint)))
    assert failure.hidden and (failure.what, failure.got, failure.hint) == (what, got, hint)


@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="]\n\r"),
               min_size=1, max_size=20), what_, expected_, got_, _text)
def test_partial_credit_lines_round_trip(part, what, expected, got, hint):
    message = messages.format_failure(what, expected, got, hint)
    if "\n" in message or "\r" in message:
        return  # a printed part is one line
    assert messages.parse_part(messages.format_part(part, message)) == (part, message)


@given(what_, st.tuples(st.integers(0, 99), st.integers(0, 99)), st.integers(1, 9))
def test_the_differing_values_do_not_split_a_group(what, index, differ):
    one = messages.format_failure(messages.where_differs(what, index, differ, 10), "1.0",
                                  "2.0", "h")
    other = messages.format_failure(what, "3.0", "4.0", "h")
    assert messages.group(one) == messages.group(other) == (what, "h")


def test_other_text_is_not_a_check_message():
    assert messages.parse("NameError: name 'x' is not defined") is None
    assert messages.group("KeyError: 'pig'") == ("KeyError: 'pig'", "")
    assert messages.parse_part("[a] plain text") is None


@pytest.mark.parametrize("run", [
    lambda: checks.check_close("f(x)", [1.0, 2.0], [1.0, 3.0], "revisit f"),
    lambda: checks.check_equal("g()", 1, 2, "read g"),
    lambda: checks.check_shape("h()", [[1, 2]], (2, 1), "transpose"),
])
def test_every_check_message_parses(run):
    with pytest.raises(checks.CheckError) as caught:
        run()
    failure = messages.parse(str(caught.value))
    assert failure is not None and not failure.hidden and failure.hint
    with pytest.raises(checks.CheckError) as caught, checks.hidden("other inputs"):
        run()
    failure = messages.parse(str(caught.value))
    assert failure.hidden and failure.expected.startswith(messages.HIDDEN_REFERENCE)


def test_unfinished_exercise_is_recognised():
    with pytest.raises(checks.CheckError) as caught, checks.visible("f()", "h"):
        raise NotImplementedError()
    assert messages.parse(str(caught.value)).got == messages.NOT_DONE
