"""The plain-value checks the pure pharmacy and treatment modules share."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from scarrx.values import (
    InputError,
    calendar_date,
    decimal_input,
    grams_text,
    items_of,
    number_text,
    positive_decimal,
    required_text,
    whole_number,
)


def test_input_error_names_the_field_and_is_a_value_error():
    error = InputError("grams", "must be more than 0 g; got 0 g")
    assert isinstance(error, ValueError)
    assert (error.field, error.message) == ("grams", "must be more than 0 g; got 0 g")
    assert str(error) == "grams: must be more than 0 g; got 0 g"


@pytest.mark.parametrize("value", [0.1, True, "30", None, Decimal("NaN"), Decimal("Infinity")])
def test_grams_must_be_an_exact_finite_number(value):
    with pytest.raises(InputError) as caught:
        decimal_input(value, "grams")
    assert caught.value.field == "grams"


def test_floats_are_refused_because_they_are_inexact():
    with pytest.raises(InputError, match="exact number"):
        decimal_input(0.1, "grams")


def test_positive_decimal_refuses_zero_and_says_the_unit():
    assert positive_decimal(30, "grams", "g") == Decimal(30)
    with pytest.raises(InputError, match="more than 0 g; got 0 g"):
        positive_decimal(Decimal("0.000"), "grams", "g")


def test_whole_numbers_within_bounds():
    assert whole_number(2, "applications_per_day", 1, 24) == 2
    for value in (0, 25, True, 2.0):
        with pytest.raises(InputError):
            whole_number(value, "applications_per_day", 1, 24)


def test_required_text_is_stripped_and_never_blank():
    assert required_text("  too dry  ", "reason") == "too dry"
    with pytest.raises(InputError, match="is required"):
        required_text(" ", "reason")


def test_a_calendar_date_is_not_an_instant():
    assert calendar_date(date(2026, 1, 1), "on") == date(2026, 1, 1)
    with pytest.raises(InputError):
        calendar_date(datetime(2026, 1, 1, tzinfo=UTC), "on")


def test_numbers_and_grams_as_written_on_a_record():
    assert [number_text(Decimal(v)) for v in ("1.00", "10", "0.050", "-0")] == [
        "1",
        "10",
        "0.05",
        "0",
    ]
    assert grams_text(Decimal("0.3")) == "0.300 g"
    assert grams_text(Decimal("0.0345")) == "0.035 g"


def test_a_list_of_items_names_the_wrong_item_by_index():
    assert items_of((date(2026, 1, 1),), "days", date, "a date") == [date(2026, 1, 1)]
    for value, field in [("abc", "days"), (None, "days"), ([date(2026, 1, 1), 3], "days[1]")]:
        with pytest.raises(InputError) as caught:
            items_of(value, "days", date, "a date")
        assert caught.value.field == field


def test_a_wall_clock_time_is_read_in_its_zone_first_of_two_and_none_if_skipped():
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from scarrx.values import wall_clock

    ny = ZoneInfo("America/New_York")
    skipped = datetime(2026, 3, 8, 2, 30)  # noqa: DTZ001 - a clock's reading, no zone
    assert wall_clock(skipped, ny) is None  # clocks went forward
    twice = wall_clock(datetime(2026, 11, 1, 1, 30), ny)  # noqa: DTZ001 - came twice
    assert twice is not None and twice.utcoffset() == timedelta(hours=-4)
    plain = wall_clock(datetime(2026, 7, 1, 8, 0), ny)  # noqa: DTZ001
    assert plain is not None and plain.astimezone(UTC) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    aware = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert wall_clock(aware, ny) is aware
