"""GS1 element strings: what a label's QR code holds and what a scanner types back."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from scarrx.pharmacy.gs1 import GS, element_string, parse_scan
from tests.refusals import refused

TODAY = date(2026, 12, 1)


def test_scan_with_parentheses_gives_lot_and_expiry():
    scan = parse_scan("(17)270103(10)L123", today=TODAY)
    assert (scan.lot, scan.expiry, scan.gs1) == ("L123", date(2027, 1, 3), True)


def test_raw_scan_with_group_separator_and_symbology_identifier():
    scan = parse_scan(f"]Q3010123456789012810L123{GS}17270103", today=TODAY)
    assert (scan.lot, scan.expiry) == ("L123", date(2027, 1, 3))


def test_day_00_means_the_last_day_of_the_month():
    assert parse_scan("(10)A1(17)280200", today=TODAY).expiry == date(2028, 2, 29)


def test_a_typed_lot_number_is_a_plain_lot():
    scan = parse_scan("  PTX-2207 \n", today=TODAY)
    assert (scan.lot, scan.expiry, scan.gs1) == ("PTX-2207", None, False)


def test_a_scan_without_a_lot_is_refused():
    assert "no lot number" in refused("scan", parse_scan, "(17)270103", today=TODAY)


def test_an_impossible_expiry_is_refused():
    assert "not a real date" in refused("scan", parse_scan, "(17)270231(10)A", today=TODAY)


def test_an_unknown_application_identifier_is_refused():
    assert "(99)" in refused("scan", parse_scan, "(99)X(10)A", today=TODAY)


def test_two_digit_years_fall_within_49_back_and_50_ahead():
    assert parse_scan("(17)761231(10)A", today=TODAY).expiry == date(2076, 12, 31)
    assert parse_scan("(17)771231(10)A", today=TODAY).expiry == date(1977, 12, 31)


lots = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@given(lot=lots, expiry=days)
def test_what_a_label_encodes_scans_back_to_the_same_lot_and_expiry(lot, expiry):
    scan = parse_scan(element_string(lot, expiry), today=TODAY)
    assert (scan.lot, scan.expiry) == (lot, expiry)


@given(lot=lots.filter(lambda t: "(" not in t and ")" not in t), expiry=days)
def test_the_printed_human_readable_form_scans_back_too(lot, expiry):
    scan = parse_scan(f"(17){expiry:%y%m%d}(10){lot}", today=TODAY)
    assert (scan.lot, scan.expiry) == (lot, expiry)
