"""Measured figures written one way on every page and record: rounded once, from the
value measured, halves away from zero, with a true minus sign (−, U+2212) as the labels
use ("scar − reference"), so a figure reads the same wherever it is shown."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MINUS = "\u2212"
MISSING = "—"


def fixed(value, digits: int = 1) -> str | None:
    """`value` to `digits` places, or None when there is no number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
        if not number.is_finite():
            return None
        text = str(number.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]  # -0.04 rounds to 0.0, which has no sign
    return text


def metric_text(value, digits: int = 1) -> str:
    """-1.25 → "−1.3"; None (not measured) → "—"."""
    text = fixed(value, digits)
    return MISSING if text is None else text.replace("-", MINUS)


def signed_text(value, digits: int = 1) -> str:
    """A change: "+1.2", "−1.2" or "0.0"; None → "—"."""
    text = fixed(value, digits)
    if text is None:
        return MISSING
    return "+" + text if Decimal(text) > 0 else text.replace("-", MINUS)
