"""Numbers on photo pages: a true minus sign (−, U+2212) for negatives, as the labels use
("scar − reference"), so a column of figures reads the same in every cell."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

MINUS = "\u2212"
MISSING = "—"


def _fixed(value, digits) -> str | None:
    """`value` to `digits` places, halves rounded away from zero as floatformat does."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
        text = str(number.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]  # -0.04 rounds to 0.0, which has no sign
    return text


@register.filter
def metric(value, digits=1):
    """-1.25 → "−1.2"; None (not measured) → "—"."""
    text = _fixed(value, digits)
    return MISSING if text is None else text.replace("-", MINUS)


@register.filter
def signed(value, digits=1):
    """A change: "+1.2", "−1.2" or "0.0"; None → "—"."""
    text = _fixed(value, digits)
    if text is None:
        return MISSING
    if float(text) > 0:
        return "+" + text
    return text.replace("-", MINUS)
