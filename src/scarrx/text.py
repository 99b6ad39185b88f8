"""Free text, checked one way by every service: which characters it may hold and how long
it may be, each problem named by its field.

The limit is declared once, on the model field (`max_length`), and `text_errors` reads it.
A `CharField` holds one line (a name, a phone number, a site note); a `TextField` (always
given a `max_length` here) holds several lines (an address, the assessment's notes).
Neither may hold control characters (NUL, which PostgreSQL cannot store; escape codes;
lone surrogates) or invisible formatting characters: a zero-width space makes a name look
like another, a right-to-left override makes text read other than it is stored. A
zero-width joiner or non-joiner between two visible characters is allowed: Persian and
the Indic scripts spell with them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from django.db import models

CONTROL = "Contains a control character that cannot be stored here."
LINE_BREAK = "Keep this to one line."
INVISIBLE = (
    "Contains an invisible formatting character (such as a zero-width space or a "
    "right-to-left override): type it again without."
)
JOINERS = "\u200c\u200d"  # zero-width non-joiner, zero-width joiner
LINE_BREAKS = "\n\r\u2028\u2029"


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    for i, char in enumerate(value):
        category = unicodedata.category(char)
        if char in LINE_BREAKS:
            if not multiline:
                return LINE_BREAK
        elif char == "\t" and multiline:
            continue
        elif category in ("Cc", "Cs"):
            return CONTROL
        elif category == "Cf" and not _joins(value, i):
            return INVISIBLE
    return None


def _joins(value: str, i: int) -> bool:
    """A joiner or non-joiner with a visible character on each side."""
    if value[i] not in JOINERS or i == 0 or i == len(value) - 1:
        return False
    return all(_visible(value[j]) for j in (i - 1, i + 1))


def _visible(char: str) -> bool:
    return unicodedata.category(char)[0] in "LMNPS"


def too_long(value: str, limit: int | None) -> str | None:
    if limit is None or len(value) <= limit:
        return None
    return f"Keep this to {limit:,} characters (it has {len(value):,})."


def text_errors(model: type[models.Model], values: Mapping[str, object], *, prefix: str = ""):
    """{prefix + field: [problem]} for the text values given for `model`'s fields: their
    characters, and their length against the field's max_length."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        field = model._meta.get_field(name)
        multiline = isinstance(field, models.TextField)
        problem = text_problem(value, multiline=multiline) or too_long(value, field.max_length)
        if problem:
            errors[prefix + name] = [problem]
    return errors


def has_letter(value: str) -> bool:
    """At least one letter, in any script: what a person's name needs."""
    return any(unicodedata.category(c).startswith("L") for c in value)
