"""Plain values for the pure pharmacy and treatment modules: the one error they raise for bad
input, the checks that raise it, and how grams and percentages are written on a record.

No Django here. ``InputError.field`` names the input at fault, as the caller spelled it
(``"grams"``, ``"lots[1].expiry_date"``), so a form or the API can attach the message to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

__all__ = [
    "InputError",
    "calendar_date",
    "decimal_input",
    "grams_text",
    "items_of",
    "number_text",
    "positive_decimal",
    "required_text",
    "whole_number",
]

DISPLAY_GRAMS = Decimal("0.001")
T = TypeVar("T")


class InputError(ValueError):
    """Bad input to a pure computation.

    ``field`` names the offending input; ``message`` is plain English for the pharmacist or
    patient. Subclasses ValueError, so callers that validate input treat it like any other
    refused value (a form error on a page, a 4xx in the API).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def decimal_input(value: object, field: str) -> Decimal:
    """Return ``value`` as a Decimal if it is a finite Decimal or int (not a bool).

    Floats are refused: 0.1 as a float is not 0.1, and grams on a record must be exact.
    """
    if isinstance(value, float):
        raise InputError(field, f"must be an exact number (a Decimal), not the float {value!r}")
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InputError(field, f"must be a number, not {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise InputError(field, f"must be a finite number, not {value}")
    return number


def positive_decimal(value: object, field: str, unit: str) -> Decimal:
    """A Decimal more than zero; ``unit`` ("g", "%") is used in the message."""
    number = decimal_input(value, field)
    if number <= 0:
        raise InputError(field, f"must be more than 0 {unit}; got {number_text(number)} {unit}")
    return number


def whole_number(value: object, field: str, low: int, high: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) within low..high, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(field, f"must be a whole number, not {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f"{low} or more" if high is None else f"from {low} to {high}"
        raise InputError(field, f"must be {allowed}; got {value}")
    return value


def required_text(value: object, field: str) -> str:
    """A non-blank string, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "is required")
    return value.strip()


def calendar_date(value: object, field: str) -> date:
    """A calendar date. A datetime is refused: it is an instant, and which day it falls on
    depends on a time zone the caller must choose."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InputError(field, f"must be a calendar date, not {value!r}")
    return value


def items_of(value: object, field: str, kind: type[T], what: str) -> list[T]:
    """A list of ``kind`` items: a sequence (not a string) whose every item is one.

    ``what`` says what an item is, for the message (``"a fill (date and days supply)"``);
    a wrong item is named by its index, ``fills[2]``.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InputError(field, f"must be a list, each item {what}")
    for index, item in enumerate(value):
        if not isinstance(item, kind):
            raise InputError(f"{field}[{index}]", f"must be {what}")
    return list(value)


def number_text(number: Decimal) -> str:
    """A Decimal written plainly: no exponent, no trailing zeros (``1.50`` → ``1.5``)."""
    text = f"{number.normalize():f}"
    return "0" if text == "-0" else text


def grams_text(grams: Decimal) -> str:
    """Grams as shown on a record: to 0.001 g, half up (``0.3`` → ``0.300 g``)."""
    return f"{grams.quantize(DISPLAY_GRAMS, rounding=ROUND_HALF_UP)} g"


def wall_clock(when: datetime, zone: tzinfo) -> datetime | None:
    """A clock's reading (no zone) as the instant it was in `zone`: of a time that came
    twice (clocks going back), the first; None for one that never came (clocks going
    forward, 2:30 on that night). A time that names its zone is returned as it is."""
    if when.tzinfo is not None:
        return when
    there = when.replace(tzinfo=zone)
    if there.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != when:
        return None
    return there
