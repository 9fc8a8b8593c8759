"""The one format of a check's failure message, and its parser (all labs).

Every check of :mod:`lab_utils.checks` fails with one line::

    [hidden test, ]<what>: expected <x>, got <y>. Hint: <concept>

:func:`format_failure` writes it (``checks`` calls it), :func:`parse` reads it back (the
class report, :mod:`lab_utils.instructor.classreport`, groups a class's failures by it), so
the two cannot drift apart; ``tests/test_messages.py`` checks the round trip.

A message round-trips when ``<what>`` holds no ``": expected "``, ``<x>`` no ``", got "``
and ``<y>`` no ``". Hint: "`` (the checks never produce such values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: What a hidden test puts before the message of a failed check.
HIDDEN_PREFIX = "hidden test, "
#: What a hidden test shows instead of the expected value.
HIDDEN_REFERENCE = "the hidden reference"
#: The ``got`` of an exercise still raising ``NotImplementedError`` (``checks.visible``).
NOT_DONE = "NotImplementedError (the exercise is not done yet)"

_MESSAGE = re.compile(
    rf"^(?P<hidden>{re.escape(HIDDEN_PREFIX)})?(?P<what>.*?): expected (?P<expected>.*), "
    r"got (?P<got>.*)\. Hint: (?P<hint>.*)$", re.DOTALL)
#: The part of ``<what>`` that :func:`where_differs` adds (changes from student to student).
_WHERE_DIFFERS = re.compile(r" \(at index \([^)]*\), \d+ of \d+ values differ\)")
#: A line that ``checks.partial_credit`` prints for a failed part: ``[<part>] <message>``.
_PART = re.compile(r"^\[(?P<part>[^\]]+)\] (?P<message>.*: expected .*)$")


@dataclass(frozen=True)
class Failure:
    """A parsed failure message."""

    what: str
    expected: str
    got: str
    hint: str
    hidden: bool = False

    def __str__(self) -> str:
        return format_failure(self.what, self.expected, self.got, self.hint, self.hidden)

    @property
    def check(self) -> str:
        """``<what>`` without the values that differ from student to student (with the
        hidden-test prefix): failures of the same check share it."""
        return (HIDDEN_PREFIX if self.hidden else "") + _WHERE_DIFFERS.sub("", self.what)


def format_failure(what: str, expected: str, got: str, hint: str, hidden: bool = False) -> str:
    """``[hidden test, ]<what>: expected <expected>, got <got>. Hint: <hint>``."""
    return f"{HIDDEN_PREFIX if hidden else ''}{what}: expected {expected}, got {got}. Hint: {hint}"


def as_hidden(message: str) -> str:
    """The message of a check that failed inside a hidden test."""
    return HIDDEN_PREFIX + message


def where_differs(what: str, index: tuple, differ: int, size: int) -> str:
    """``<what> (at index <index>, <differ> of <size> values differ)`` (``check_close``)."""
    return f"{what} (at index {index}, {differ} of {size} values differ)"


def parse(message: str) -> Failure | None:
    """The :class:`Failure` of a check's message, or None for any other text."""
    found = _MESSAGE.match(message)
    if not found:
        return None
    return Failure(found["what"], found["expected"], found["got"], found["hint"],
                   bool(found["hidden"]))


def format_part(part: str, message: str) -> str:
    """The line ``checks.partial_credit`` prints for a failed part of a test."""
    return f"[{part}] {message}"


def parse_part(line: str) -> tuple[str, str] | None:
    """(part, message) of a line written by :func:`format_part` for a check's failure."""
    found = _PART.match(line)
    return (found["part"], found["message"]) if found else None


def group(message: str) -> tuple[str, str]:
    """(check, hint) of a failure message: the same check and hint -> the same group.

    A check's message gives its :attr:`Failure.check` and its hint; any other message is
    its own check, without hint.
    """
    failure = parse(message)
    if failure is None:
        return message, ""
    return failure.check, failure.hint.strip()
