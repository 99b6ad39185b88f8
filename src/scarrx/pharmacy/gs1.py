"""GS1 element strings for lot and expiry: what a label's QR code holds, and what a
handheld scanner types back at the bench.

Pure functions of plain values: no Django. Source: GS1 General Specifications (application
identifiers (10) batch/lot, up to 20 characters; (17) expiry date, YYMMDD, where a day of
00 means the last day of the month; (01) GTIN, 14 digits; (11) production date; (21)
serial). A scanner in keyboard mode types the data either in the human-readable form with
parentheses, "(17)270103(10)L123", or raw, with the group separator (ASCII 29) ending a
variable-length field, optionally behind a symbology identifier such as "]Q3" or "]d2".
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from scarrx.values import InputError

__all__ = ["GS", "Scan", "element_string", "parse_scan"]

GS = "\x1d"
TYPED_SPACE = " \t\r\n"  # not str.strip(): Python counts the group separator as space
# Fixed-length identifiers and their data lengths; every other one listed is variable.
FIXED = {"01": 14, "11": 6, "17": 6}
VARIABLE = {"10": 20, "21": 20}
KNOWN = {**FIXED, **VARIABLE}
SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9]")
PARENS = re.compile(r"\((\d{2})\)([^()]*)")
LOT_CHARACTERS = re.compile(r"^[!-~]{1,20}$")  # GS1 character set 82, printable ASCII


@dataclass(frozen=True)
class Scan:
    lot: str
    expiry: dt.date | None
    gs1: bool  # False when the text was a plain lot number, typed or scanned


def _two_digit_year(yy: int, today: dt.date) -> int:
    """GS1 §7.12: the century that puts the year within 49 years back, 50 forward."""
    year = today.year // 100 * 100 + yy
    if year - today.year > 50:
        year -= 100
    elif today.year - year > 49:
        year += 100
    return year


def _date(value: str, today: dt.date, field: str) -> dt.date:
    if not re.fullmatch(r"\d{6}", value):
        raise InputError(field, f"an expiry date is six digits YYMMDD, not {value!r}")
    year = _two_digit_year(int(value[:2]), today)
    month, day = int(value[2:4]), int(value[4:])
    if not 1 <= month <= 12:
        raise InputError(field, f"{value} has no month {month}")
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InputError(field, f"{value} is not a real date") from None


def _raw_elements(text: str, field: str) -> dict[str, str]:
    elements: dict[str, str] = {}
    rest = text
    while rest:
        rest = rest.lstrip(GS)
        if not rest:
            break
        ai = rest[:2]
        if ai not in KNOWN:
            raise InputError(field, f"unknown GS1 application identifier ({ai})")
        rest = rest[2:]
        if ai in FIXED:
            value, rest = rest[: FIXED[ai]], rest[FIXED[ai] :]
        else:
            value, _, rest = rest.partition(GS)
        elements[ai] = value
    return elements


def _elements(text: str, field: str) -> dict[str, str] | None:
    """The element strings in a scan, or None when it is not GS1 data at all."""
    if text.startswith("("):
        found = PARENS.findall(text)
        if "".join(f"({ai}){value}" for ai, value in found) != text:
            raise InputError(field, "could not read the GS1 element strings in the scan")
        unknown = [ai for ai, _ in found if ai not in KNOWN]
        if unknown:
            raise InputError(field, f"unknown GS1 application identifier ({unknown[0]})")
        return dict(found)
    if GS in text:
        return _raw_elements(text, field)
    if text[:2] in FIXED:  # raw data whose last field is the lot, or a lot that looks so
        try:
            elements = _raw_elements(text, field)
        except InputError:
            return None
        return elements if "10" in elements else None
    return None


def parse_scan(text: object, *, today: dt.date, field: str = "scan") -> Scan:
    """The lot (and expiry, when given) in what a scanner or a person typed.

    GS1 data must carry a lot (10); anything else is read as a plain lot number, so a
    lot typed by hand works the same as one scanned.
    """
    if not isinstance(text, str) or not text.strip(TYPED_SPACE):
        raise InputError(field, "scan or type a lot number")
    text = SYMBOLOGY.sub("", text.strip(TYPED_SPACE))
    elements = _elements(text, field)
    if elements is None:
        if not LOT_CHARACTERS.fullmatch(text):
            raise InputError(field, f"{text!r} is not a lot number")
        return Scan(lot=text, expiry=None, gs1=False)
    lot = elements.get("10", "")
    if not LOT_CHARACTERS.fullmatch(lot):
        raise InputError(field, "the scanned label carries no lot number (10)")
    expiry = _date(elements["17"], today, field) if "17" in elements else None
    return Scan(lot=lot, expiry=expiry, gs1=True)


def element_string(lot: str, expiry: dt.date) -> str:
    """Raw GS1 data for a label's code: expiry first (fixed length), then the lot, which
    as the last field needs no separator."""
    if not LOT_CHARACTERS.fullmatch(lot or ""):
        raise InputError("lot", "a lot is 1 to 20 printable characters")
    return f"17{expiry:%y%m%d}10{lot}"
